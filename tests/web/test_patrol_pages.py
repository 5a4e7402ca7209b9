"""The patrol pages in headless Chromium against the live server.

(a) A grid worker on the phone page /m/patrol signs in inside the grid, starts a patrol, walks
(the browser's geolocation moved step by step), loses the network for part of the walk, gets it
back, loses the answer to a batch, and stops: the server has exactly one patrol with every fix
once, and the page shows the distance. (b) A dispatcher on /patrols opens the daily report of a village and day, the worker's
row, the patrol, and plays it back: the marker moves with the time slider; the Excel exports open
with openpyxl. (c) A teleporting walk uploaded as GPX on the phone page is flagged; the town
rejects it in the review tab and it leaves the list. (d) A department account gets the 403 page.

These tests commit to the session's database: each makes its own data, for its own worker
(worker061–063, which no other test uses), on today's or yesterday's date.
"""

from __future__ import annotations

import io
import math
import uuid
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
import shapely
from openpyxl import load_workbook
from pyproj import Geod
from shapely import wkb
from sqlalchemy import text

from tests.conftest import ARTIFACTS, gpx, walk
from workflow.clock import SHANGHAI

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESK = {"viewport": {"width": 1500, "height": 950}}
WALKER, PLAYED, FLAGGED = "worker061", "worker063", "worker062"
GEOD = Geod(ellps="WGS84")


# ------------------------------------------------------------ helpers


def rows(engine, query: str, **params) -> list:
    """Committed rows, read apart from the live server's sessions."""
    with engine.connect() as conn:
        return conn.execute(text(query), params).all()


def grid_of(engine, username: str):
    """The worker's grid: its code and its geometry (WGS84)."""
    code, geom = rows(engine, """
        SELECT g.code, ST_AsBinary(g.geom) FROM accounts a JOIN grids g ON g.code = a.scope_code
         WHERE a.username = :u AND g.valid_to IS NULL""", u=username)[0]
    return code, wkb.loads(bytes(geom))


def straight_path(geom, n: int = 12, step_m: float = 20.0) -> list[tuple[float, float]]:
    """``n`` points ``step_m`` metres apart on a straight line well inside the grid, as (lng, lat)."""
    c = geom.representative_point()
    kx, ky = 111_320 * math.cos(math.radians(c.y)), 110_574
    inner = geom.buffer(-0.0002)
    for step in (step_m, step_m / 2):
        for angle in range(0, 360, 15):
            dx, dy = math.cos(math.radians(angle)), math.sin(math.radians(angle))
            points = [(c.x + dx * step * i / kx, c.y + dy * step * i / ky) for i in range(n)]
            if all(inner.contains(shapely.Point(p)) for p in points):
                return points
    raise AssertionError("no straight path inside the grid")


def api(app, username: str):
    """A Flask client signed in as ``username`` with a bearer token; it commits, like the live server."""
    client = app.test_client()
    response = client.post("/api/v1/auth/login", json={"username": username, "password": "demo"})
    assert response.status_code == 200, response.get_json()
    return client, {"Authorization": f"Bearer {response.get_json()['token']}"}


def watch(page) -> tuple[list[str], list[str]]:
    """The URLs the page requests and its uncaught errors."""
    seen, errors = [], []
    page.on("request", lambda r: seen.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    return seen, errors


def assert_local(seen: list[str], errors: list[str]) -> None:
    hosts = {urlsplit(u).hostname for u in seen if not u.startswith(("data:", "blob:"))}
    assert hosts == {"127.0.0.1"}, hosts
    assert not errors, errors


def login(page, live_server: str, username: str, path: str) -> None:
    page.goto(f"{live_server}/auth/login?next={path}")
    page.fill("#username", username)
    page.fill("#password", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}{path}")


def shanghai_day(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(SHANGHAI).date().isoformat()


# ------------------------------------------------------------ (a) the phone


def test_a_patrol_recorded_on_the_phone_through_an_outage_is_stored_once(browser, live_server, engine):
    _code, geom = grid_of(engine, WALKER)
    path = straight_path(geom)
    begun = datetime.now(SHANGHAI)
    context = browser.new_context(**PHONE, geolocation={"longitude": path[0][0], "latitude": path[0][1]},
                                  permissions=["geolocation"])
    page = context.new_page()
    seen, errors = watch(page)
    login(page, live_server, WALKER, "/m/patrol")
    page.wait_for_selector("body[data-recording='0']", state="attached")

    page.click("#sign-in")  # 签到 at the first point of the path, inside the grid
    page.wait_for_selector("#sign-result.ok", timeout=10_000)
    assert "签到成功" in page.inner_text("#sign-result") and "在网格内" in page.inner_text("#sign-result")
    page.wait_for_selector("#sign-today li.ok", timeout=10_000)

    page.click("#patrol-start")
    page.wait_for_selector("body[data-patrol-id]", state="attached", timeout=10_000)
    patrol_id = int(page.get_attribute("body", "data-patrol-id"))
    assert page.is_visible("#patrol-stop") and not page.is_visible("#patrol-start")

    def walk_to(points):
        for lng, lat in points:
            before = int(page.get_attribute("body", "data-fixes"))
            context.set_geolocation({"longitude": lng, "latitude": lat, "accuracy": 5})
            page.wait_for_function(f"Number(document.body.dataset.fixes) > {before}", timeout=5_000)
            page.wait_for_timeout(300)

    walk_to(path[1:4])
    page.click("#upload-now")
    page.wait_for_function("document.body.dataset.pendingFixes === '0'", timeout=10_000)
    sent_online = int(page.get_attribute("body", "data-fixes"))
    count = "SELECT count(*) FROM gps_fixes WHERE patrol_id = :p"
    assert rows(engine, count, p=patrol_id)[0][0] == sent_online

    # the network goes: the fixes wait on the phone
    context.set_offline(True)
    page.evaluate("window.dispatchEvent(new Event('offline'))")
    walk_to(path[4:8])
    page.click("#upload-now")  # tries, fails, keeps them
    page.wait_for_timeout(500)
    waiting = int(page.get_attribute("body", "data-pending-fixes"))
    assert waiting >= 4
    assert "离线" in page.inner_text("#net")
    assert "待上传" in page.inner_text(".mp-stats") and page.inner_text("#pending") == str(waiting)
    assert rows(engine, count, p=patrol_id)[0][0] == sent_online

    # it comes back: the waiting batch goes by itself
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_function("document.body.dataset.pendingFixes === '0'", timeout=10_000)
    walk_to(path[8:])
    assert "公里" in page.inner_text("#distance") and page.inner_text("#distance") != "0.00 公里"

    # a batch whose answer is lost on the way back: the server has it, the phone sends it again
    lost = []

    def lose_answer(route):
        route.fetch()  # reaches the server
        lost.append(route.request.url)
        route.abort()  # the phone never hears back

    page.route("**/api/v1/patrols/*/fixes", lose_answer)
    page.click("#upload-now")
    for _ in range(50):
        if lost:
            break
        page.wait_for_timeout(100)
    page.wait_for_timeout(300)  # the page takes the aborted answer as the network gone
    assert lost and int(page.get_attribute("body", "data-pending-fixes")) > 0
    assert rows(engine, count, p=patrol_id)[0][0] == int(page.get_attribute("body", "data-fixes"))
    page.unroute("**/api/v1/patrols/*/fixes")

    page.click("#patrol-stop")
    page.wait_for_selector("body[data-stopped]", state="attached", timeout=15_000)
    assert int(page.get_attribute("body", "data-stopped")) == patrol_id
    recorded = int(page.get_attribute("body", "data-fixes"))
    result = page.inner_text("#patrol-result")
    distance_m = float(page.get_attribute("#patrol-result", "data-distance"))
    assert distance_m == pytest.approx(GEOD.line_length(*zip(*path, strict=True)), rel=0.15)  # a straight line
    assert f"{distance_m / 1000:.2f} 公里" in result and "覆盖率" in result and "重点场所" in result
    assert page.is_visible("#patrol-start")

    # one patrol; every fix once; the path's points all there
    patrols = rows(engine, """
        SELECT p.id, p.ended_at FROM patrols p JOIN accounts a ON a.person_id = p.worker_id
         WHERE a.username = :u AND p.started_at >= :t""", u=WALKER, t=begun - timedelta(minutes=1))
    assert [p.id for p in patrols] == [patrol_id] and patrols[0].ended_at is not None
    fixes = rows(engine, "SELECT at, ST_X(geom) AS lng, ST_Y(geom) AS lat FROM gps_fixes WHERE patrol_id = :p",
                 p=patrol_id)
    assert len(fixes) == recorded == len({f.at for f in fixes})
    for lng, lat in path:
        assert any(abs(f.lng - lng) < 1e-6 and abs(f.lat - lat) < 1e-6 for f in fixes), (lng, lat)
    signs = rows(engine, """
        SELECT t.inside FROM attendance t JOIN accounts a ON a.id = t.account_id
         WHERE a.username = :u AND t.at >= :t""", u=WALKER, t=begun - timedelta(minutes=1))
    assert [s.inside for s in signs] == [True]
    assert_local(seen, errors)
    context.close()


# ------------------------------------------------------------ (b) the desk: reports and playback


@pytest.fixture
def played(app, engine):
    """PLAYED's patrol of ten minutes through a key place, started 45 minutes ago, after a sign-in;
    made through the API as the worker (and the town for the key place)."""
    code, geom = grid_of(engine, PLAYED)
    start = datetime.now(SHANGHAI).replace(microsecond=0) - timedelta(minutes=45)
    (lng, lat), points = walk(geom, start, seconds=600, every=5, seed=61)
    town, town_auth = api(app, "dispatcher1")
    place = f"测试幼儿园-{uuid.uuid4().hex[:6]}"
    response = town.post(f"/api/v1/grids/{code}/checkpoints", headers=town_auth,
                         json={"name": place, "lng": float(lng[len(lng) // 2]), "lat": float(lat[len(lat) // 2]),
                               "radius_m": 30})
    assert response.status_code == 201, response.get_json()
    worker, auth = api(app, PLAYED)
    response = worker.post("/api/v1/attendance", headers=auth, json={
        "kind": "in", "lng": points[0][1], "lat": points[0][2], "accuracy": 5,
        "at": (start - timedelta(minutes=5)).isoformat(), "client_id": str(uuid.uuid4())})
    assert response.status_code == 201, response.get_json()
    response = worker.post("/api/v1/patrols", headers=auth,
                           json={"client_id": str(uuid.uuid4()), "started_at": start.isoformat()})
    assert response.status_code == 201, response.get_json()
    patrol_id = response.get_json()["id"]
    response = worker.post(f"/api/v1/patrols/{patrol_id}/fixes", headers=auth, json={"fixes": [
        {"t": t.isoformat(), "lng": x, "lat": y, "accuracy": 5} for t, x, y in points]})
    assert response.status_code == 200 and response.get_json()["added"] == len(points), response.get_json()
    stopped = worker.post(f"/api/v1/patrols/{patrol_id}/stop", headers=auth, json={}).get_json()
    assert stopped["checkpoints"]["visited"] == [place], stopped
    return {"id": patrol_id, "code": code, "village": code[:12], "date": shanghai_day(stopped["started_at"]),
            "patrol": stopped, "place": place}


def workbook(page, live_server, selector):
    href = page.get_attribute(selector, "href")
    assert "format=xlsx" in href
    response = page.request.get(live_server + href)
    assert response.ok, response.status
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    return load_workbook(io.BytesIO(response.body()))


def test_b_the_daily_report_opens_a_patrol_for_playback(browser, live_server, played):
    context = browser.new_context(**DESK)
    page = context.new_page()
    seen, errors = watch(page)
    login(page, live_server, "dispatcher1", "/patrols")
    assert page.locator("header a[href='/patrols']").count() == 1  # 巡查 in the menu
    page.wait_for_selector("body[data-villages]", state="attached", timeout=15_000)
    page.select_option("#pt-village", played["village"])
    page.fill("#pt-date", played["date"])
    page.dispatch_event("#pt-date", "change")
    row = page.locator(f"#daily-table tbody tr[data-worker='{PLAYED}']")
    row.wait_for(timeout=15_000)
    page.wait_for_selector("body[data-daily='ready']", state="attached")
    cells = row.locator("td").all_inner_texts()
    assert cells[2] == "1"  # 巡查次数
    assert cells[3] == f"{played['patrol']['distance_m'] / 1000:.2f}"  # 里程(公里)
    assert cells[6] == "1/1"  # 重点场所
    assert cells[9].startswith("是")  # 签到
    headers = page.locator("#daily-table thead th").all_inner_texts()
    assert headers[:4] == ["网格员", "网格名称", "巡查次数", "里程(公里)"]

    # the worker's patrols of the day, then the playback
    row.click()
    item = page.locator(f"#daily-patrol-list li[data-id='{played['id']}']")
    item.wait_for(timeout=10_000)
    item.click()
    page.wait_for_selector(f"body[data-playback='{played['id']}']", state="attached", timeout=10_000)
    assert page.locator("path.pt-track").count() == 1
    page.wait_for_selector("path.pt-place.visited", state="attached", timeout=10_000)
    assert page.locator("#map path.leaflet-interactive, #map svg path").count() >= 3  # grid outline, place, track
    slider = page.locator("#pb-slider")
    assert int(slider.get_attribute("max")) == pytest.approx(600, abs=2)
    marker = page.locator(".pt-marker")
    first_box, first_time = marker.bounding_box(), page.inner_text("#pb-time")
    slider.fill("300")
    page.wait_for_function("document.getElementById('pb-slider').value === '300'")
    middle_box, middle_time = marker.bounding_box(), page.inner_text("#pb-time")
    assert (middle_box["x"], middle_box["y"]) != (first_box["x"], first_box["y"])
    start = datetime.fromisoformat(played["patrol"]["started_at"]).astimezone(SHANGHAI)
    assert first_time.endswith(start.strftime("%H:%M:%S"))
    assert middle_time.endswith((start + timedelta(seconds=300)).strftime("%H:%M:%S"))
    # play: the slider runs by itself, and the marker with it
    page.select_option("#pb-speed", "60")
    page.click("#pb-play")
    page.wait_for_function("Number(document.getElementById('pb-slider').value) > 330", timeout=5_000)
    page.click("#pb-play")
    assert page.inner_text("#pb-play") == "播放"
    assert marker.bounding_box() != middle_box
    assert "无异常标记" in page.inner_text("#pb-flags")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "patrols.png"))

    book = workbook(page, live_server, "#daily-xlsx")
    sheet = book["日走访"]
    values = [[c.value for c in r] for r in sheet.iter_rows(min_row=5)]
    mine = next(r for r in values if r[1] == PLAYED)
    assert mine[4] == 1 and mine[5] == pytest.approx(played["patrol"]["distance_m"] / 1000, abs=0.001)

    # 周分析: the hours against the 40-hour rule, the findings; 月汇总
    page.click("#tab-weekly")
    page.wait_for_selector("body[data-weekly='ready']", state="attached", timeout=15_000)
    week_row = page.locator("#weekly-table tbody tr", has_text=PLAYED)
    assert week_row.count() == 1
    assert page.locator("#weekly-findings li").count() >= 1
    below = week_row.locator("td.pt-below")  # a sign-in never closed counts 0 hours
    assert below.count() == 1 and "不足 40 小时" in below.inner_text()
    assert page.locator("#weekly-villages tbody tr").count() == 1
    assert "周分析报表" in workbook(page, live_server, "#weekly-xlsx").properties.title
    page.click("#tab-monthly")
    page.wait_for_selector("body[data-monthly='ready']", state="attached", timeout=15_000)
    assert page.locator("#monthly-table tbody tr", has_text=PLAYED).count() == 1
    assert {"网格员", "村汇总"} <= set(workbook(page, live_server, "#monthly-xlsx").sheetnames)
    assert_local(seen, errors)
    context.close()


# ------------------------------------------------------------ (c) the town reviews a flagged track


@pytest.fixture
def flagged(browser, live_server, engine):
    """FLAGGED's walk of yesterday with one fix 3.4 km away (a teleport, flagged 跳点), uploaded as
    a GPX file through the phone page's fallback form."""
    _code, geom = grid_of(engine, FLAGGED)
    start = datetime.now(SHANGHAI).replace(hour=10, minute=0, second=0, microsecond=0) - timedelta(days=1)
    _true, points = walk(geom, start, seconds=900, seed=62)
    t, x, y = points[len(points) // 2]
    points[len(points) // 2] = (t, x + 0.04, y)
    context = browser.new_context(**PHONE)
    page = context.new_page()
    seen, errors = watch(page)
    login(page, live_server, FLAGGED, "/m/patrol")
    page.set_input_files("#gpx-file", {"name": "walk.gpx", "mimeType": "application/gpx+xml", "buffer": gpx(points)})
    page.click("#gpx-form button[type=submit]")
    page.wait_for_selector("#gpx-result:not([hidden])", timeout=15_000)
    assert page.inner_text("#gpx-msg") == "GPX 轨迹已导入"
    assert "轨迹跳点" in page.inner_text("#gpx-result")  # the flag, in Chinese
    patrol_id = int(page.get_attribute("#gpx-result", "data-id"))
    assert_local(seen, errors)
    context.close()
    started, flags = rows(engine, "SELECT started_at, flags FROM patrols WHERE id = :p", p=patrol_id)[0]
    return {"id": patrol_id, "started_at": started, "jump_at": datetime.fromisoformat(
        next(f["at"] for f in flags if f["code"] == "jump"))}


def test_c_the_town_rejects_a_flagged_track(browser, live_server, engine, flagged):
    context = browser.new_context(**DESK)
    page = context.new_page()
    seen, errors = watch(page)
    login(page, live_server, "dispatcher2", "/patrols")
    page.click("#tab-review")
    item = page.locator(f"#review-list li[data-id='{flagged['id']}']")
    item.wait_for(timeout=15_000)
    assert "跳点" in item.inner_text()
    item.locator("button.pt-view").click()  # its track, with the flag on the slider
    page.wait_for_selector(f"body[data-playback='{flagged['id']}']", state="attached", timeout=10_000)
    flag = page.locator("#pb-flags button[data-code='jump']")
    assert "跳点" in flag.inner_text()
    flag.click()
    jump_at = flagged["jump_at"]
    assert int(page.input_value("#pb-slider")) == round((jump_at - flagged["started_at"]).total_seconds())
    assert page.inner_text("#pb-time").endswith(jump_at.astimezone(SHANGHAI).strftime("%H:%M:%S"))

    item.locator("input[name=note]").fill("定位漂移, 不计入")
    item.locator("button.pt-reject").click()
    item.wait_for(state="detached", timeout=10_000)
    assert f"已审核: {flagged['id']}" in page.inner_text("#review-msg")
    review = rows(engine, "SELECT review, review_note FROM patrols WHERE id = :p", p=flagged["id"])[0]
    assert tuple(review) == ("rejected", "定位漂移, 不计入")
    assert_local(seen, errors)
    context.close()


# ------------------------------------------------------------ (d) whereabouts are not for everyone


def test_d_a_department_gets_the_403_page(browser, live_server):
    context = browser.new_context(**DESK)
    page = context.new_page()
    seen, errors = watch(page)
    page.goto(f"{live_server}/auth/login")
    page.fill("#username", "dept_huanwei")
    page.fill("#password", "demo")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("header a[href='/patrols']").count() == 0  # no 巡查 in the menu
    response = page.goto(f"{live_server}/patrols")
    assert response.status == 403
    body = page.inner_text("main")
    assert "403" in body and "无权查看巡查轨迹" in body and "个人行踪信息" in body
    assert_local(seen, errors)
    context.close()
