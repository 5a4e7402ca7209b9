"""The dispatcher console's layers and live cues in headless Chromium: the heat map, today's patrol
tracks, grid labels by zoom, and a new case raising the badge, the tab title and a chime. No
request leaves 127.0.0.1 and the page raises no error."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import text

from tests.conftest import ARTIFACTS, report
from workflow.clock import SHANGHAI


@pytest.fixture
def watched(page):
    """The page, recording every request URL and every page error."""
    seen, errors = [], []
    page.on("request", lambda r: seen.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_viewport_size({"width": 1400, "height": 900})
    yield page, seen
    hosts = {urlsplit(u).hostname for u in seen if not u.startswith(("data:", "blob:"))}
    assert hosts == {"127.0.0.1"}, hosts
    assert not errors, errors


def open_console(page, live_server, username="dispatcher1"):
    page.goto(f"{live_server}/auth/login?next=/dispatch")
    page.fill("#username", username)
    page.fill("#password", "demo")
    page.click("button[type=submit]")
    page.wait_for_selector("body[data-map-ready='1']", timeout=20_000)


def overlay(page, name):
    """The checkbox of an overlay in the layers control, by its Chinese name."""
    return page.locator(".leaflet-control-layers-overlays label", has_text=name).locator("input")


def test_heat_map_is_fetched_and_drawn_only_when_on(watched, live_server):
    page, seen = watched
    open_console(page, live_server)
    assert page.locator("canvas.leaflet-heatmap-layer").count() == 0
    assert not [u for u in seen if "/api/v1/map/heat" in u]  # off by default: never fetched

    with page.expect_response(lambda r: "/api/v1/map/heat?" in r.url) as answer:
        overlay(page, "热力图").check()
    response = answer.value
    assert response.ok
    body = response.json()
    assert body["points"] and body["max"] >= 1
    query = urlsplit(response.url).query
    assert "bbox=" in query and "zoom=" in query and "state=" in query  # the view and the filters
    page.wait_for_selector("canvas.leaflet-heatmap-layer", state="attached")
    painted = page.wait_for_function("""() => {
        const c = document.querySelector('canvas.leaflet-heatmap-layer');
        if (!c || !c.width || !c.height) return 0;
        const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++;
        return n;
    }""", timeout=10_000).json_value()
    assert painted > 1000  # coloured pixels, not an empty canvas
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dispatch-heat.png"))

    # a filter change fetches it again, with that filter
    with page.expect_response(lambda r: "/api/v1/map/heat?" in r.url and "source=hotline_12345" in r.url):
        page.select_option("#f-source", "hotline_12345")

    overlay(page, "热力图").uncheck()
    assert page.locator("canvas.leaflet-heatmap-layer").count() == 0
    fetched = len([u for u in seen if "/api/v1/map/heat" in u])
    page.select_option("#f-source", "")
    page.wait_for_timeout(800)
    assert len([u for u in seen if "/api/v1/map/heat" in u]) == fetched  # off: no more requests


@pytest.fixture
def todays_patrol(engine):
    """A patrol of worker001 walking across their grid today (Asia/Shanghai), committed for the
    live server, deleted afterwards."""
    now = datetime.now(SHANGHAI)
    started = max(datetime.combine(now.date(), time.min, SHANGHAI), now - timedelta(minutes=40))
    with engine.begin() as conn:
        row = conn.execute(text("""
            WITH w AS (
                SELECT a.person_id, g.code, ST_PointOnSurface(g.geom) AS p
                  FROM accounts a JOIN grids g ON g.code = a.scope_code AND g.valid_to IS NULL
                 WHERE a.username = 'worker001')
            INSERT INTO patrols (worker_id, grid_code, started_at, ended_at, track, distance_m)
            SELECT person_id, code, :started, :started + interval '35 minutes',
                   ST_MakeLine(ST_Translate(p, -0.002, -0.001), ST_Translate(p, 0.002, 0.001)),
                   ST_Length(ST_MakeLine(ST_Translate(p, -0.002, -0.001), ST_Translate(p, 0.002, 0.001))::geography)
              FROM w
            RETURNING id, (SELECT name FROM people WHERE id = worker_id)"""), {"started": started}).one()
    yield row
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM patrols WHERE id = :i"), {"i": row[0]})


def test_todays_patrol_tracks_show_for_the_dispatcher(watched, live_server, todays_patrol):
    page, seen = watched
    _patrol_id, worker_name = todays_patrol
    open_console(page, live_server)
    assert page.locator("path.patrol").count() == 0  # off by default
    assert not [u for u in seen if "/api/v1/map/patrols" in u]

    with page.expect_response(lambda r: "/api/v1/map/patrols?" in r.url) as answer:
        overlay(page, "今日巡查轨迹").check()
    assert answer.value.ok
    ids = [f["id"] for f in answer.value.json()["features"]]
    assert todays_patrol[0] in ids
    page.wait_for_selector("path.patrol", state="attached", timeout=10_000)
    assert page.locator("path.patrol").count() == len(ids)

    # the tooltip: who, when, how far
    path = page.locator(f"path.patrol[data-id='{todays_patrol[0]}']")
    path.dispatch_event("mouseover")
    tip = page.locator(".leaflet-tooltip .patrol-tip")
    tip.wait_for(timeout=5_000)
    assert worker_name in tip.inner_text()
    assert "公里" in tip.inner_text() and "–" in tip.inner_text()


def test_patrol_layer_is_not_offered_to_a_department(watched, live_server):
    page, _seen = watched
    open_console(page, live_server, "dept_huanwei")
    assert overlay(page, "热力图").count() == 1
    assert overlay(page, "今日巡查轨迹").count() == 0


def test_grid_labels_follow_the_zoom(watched, live_server):
    page, _seen = watched
    open_console(page, live_server)
    assert overlay(page, "网格标注").is_checked()  # on by default
    assert overlay(page, "案件").is_checked()
    assert not overlay(page, "热力图").is_checked() and not overlay(page, "今日巡查轨迹").is_checked()
    assert page.locator(".grid-label").count() == 0  # the town view: no labels

    for _ in range(5):  # zoom in one step at a time until the labels appear (≥ 14)
        page.click(".leaflet-control-zoom-in")
        page.wait_for_timeout(600)
        if page.locator(".grid-label").count():
            break
    labels = page.locator(".grid-label")
    assert labels.count() > 0
    first = labels.first.inner_text()
    code = first.split()[-1]
    assert code.isdigit() and len(code) == 15 and "网格" in first
    assert labels.first.evaluate("e => getComputedStyle(e).pointerEvents") == "none"
    visible = page.locator(".grid-label-text").filter(visible=True)
    assert visible.count() > 0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dispatch-labels.png"))

    page.click(".leaflet-control-zoom-out")
    page.click(".leaflet-control-zoom-out")
    page.wait_for_function("document.querySelectorAll('.grid-label').length === 0", timeout=5_000)

    # turned off in the control: none even when zoomed in
    overlay(page, "网格标注").uncheck()
    page.click(".leaflet-control-zoom-in")
    page.click(".leaflet-control-zoom-in")
    page.wait_for_timeout(800)
    assert page.locator(".grid-label").count() == 0


def _token(live_server, username):
    r = requests.post(f"{live_server}/api/v1/auth/login", json={"username": username, "password": "demo"},
                      timeout=10)
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_new_case_raises_badge_title_and_chime(watched, live_server, engine):
    page, _seen = watched
    open_console(page, live_server)
    page.wait_for_selector("#live[data-state='on']", timeout=10_000)
    assert page.locator("#d-new").is_hidden()
    assert page.locator("#d-mute").get_attribute("aria-label") == "提示音"
    assert page.locator("#d-mute").inner_text() == "🔔"
    page.click("#d-count")  # a gesture: the browser lets the AudioContext start
    title = page.title()

    with engine.connect() as conn:
        _code, lng, lat = conn.execute(text("""
            SELECT g.code, ST_X(ST_PointOnSurface(g.geom)), ST_Y(ST_PointOnSurface(g.geom))
              FROM accounts a JOIN grids g ON g.code = a.scope_code AND g.valid_to IS NULL
             WHERE a.username = 'worker007'""")).one()
    created = requests.post(f"{live_server}/api/v1/incidents", json=report(lng, lat, description="调度台新案件提示"),
                            headers=_token(live_server, "worker007"), timeout=10)
    assert created.status_code == 201, created.text

    page.wait_for_function("Number(document.querySelector('#d-new').dataset.count) >= 1", timeout=5_000)
    page.wait_for_function("Number(document.body.dataset.chimes || 0) >= 1", timeout=5_000)
    badge = page.locator("#d-new")
    assert badge.is_visible() and badge.inner_text().startswith("新案件 ")
    n = int(badge.get_attribute("data-count"))
    assert page.title() == f"({n}) {title}"

    badge.click()  # seen: the counter and the title reset
    assert badge.is_hidden() and badge.get_attribute("data-count") == "0"
    assert page.title() == title

    # muted: the state survives a reload
    page.click("#d-mute")
    assert page.locator("#d-mute").inner_text() == "🔕"
    assert page.locator("#d-mute").get_attribute("aria-pressed") == "false"
    page.reload()
    page.wait_for_selector("body[data-map-ready='1']", timeout=20_000)
    assert page.locator("#d-mute").inner_text() == "🔕"
    page.click("#d-mute")  # back on, for the next test in this browser profile
    assert page.evaluate("localStorage.getItem('wangge.dispatch.muted')") == "0"
