"""The grid planner in headless Chromium: a planner starts a plan, splits a grid by drawing a line
across it with Geoman, merges two neighbours, undoes, sees the check's error after an edit that
leaves a gap (made through the API, which also makes the page's version stale: 409), has the
publication refused with the Chinese reason and opens the impact preview. Readers get no tools.
No request leaves 127.0.0.1. The live server commits: the test makes its own plan, publishes
nothing and discards the plan at the end."""

from urllib.parse import urlsplit

import pytest
from shapely.geometry import LineString, mapping, shape
from sqlalchemy import text

from tests.conftest import ARTIFACTS


@pytest.fixture
def grids(connection):
    """Three current grids of one village: ``split``, a convex one, and ``a``, ``b``, two others
    sharing a long edge."""
    return connection.execute(text("""
        SELECT a.code AS a, b.code AS b, s.code AS split
          FROM grids a JOIN grids b ON a.village_id = b.village_id AND a.code < b.code
          JOIN grids s ON s.village_id = a.village_id AND s.code NOT IN (a.code, b.code)
         WHERE a.valid_to IS NULL AND b.valid_to IS NULL AND s.valid_to IS NULL
           AND ST_Length(ST_Intersection(ST_Boundary(a.geom), ST_Boundary(b.geom))::geography) > 500
           AND ST_NumGeometries(s.geom) = 1 AND ST_Area(s.geom) / ST_Area(ST_ConvexHull(s.geom)) > 0.98
         ORDER BY a.code, b.code, ST_Area(s.geom) DESC LIMIT 1""")).one()._asdict()


def sign_in(page, live_server, username):
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{live_server}/auth/login?next=/planner")
    page.fill("#username", username)
    page.fill("#password", "demo")
    page.click("button[type=submit]")
    page.wait_for_selector("body[data-map-ready='1']", timeout=20_000)


class Screen:
    """Map coordinates (WGS84) to page pixels through the page's Leaflet map."""

    def __init__(self, page):
        self.page = page

    def fit(self, geom, padding=80):
        x0, y0, x1, y1 = geom.bounds
        self.page.evaluate("([s, w, n, e, pad]) => plannerMap.fitBounds([[s, w], [n, e]], "
                           "{padding: [pad, pad], animate: false})", [y0, x0, y1, x1, padding])
        self.box = self.page.locator("#map").bounding_box()

    def at(self, lng, lat, dy=0):
        x, y = self.page.evaluate("([lat, lng]) => { const p = plannerMap.latLngToContainerPoint([lat, lng]); "
                                  "return [p.x, p.y]; }", [lat, lng])
        return self.box["x"] + x, self.box["y"] + y + dy


def plan_grids(page, live_server, plan_id) -> dict:
    plan = page.request.get(f"{live_server}/api/v1/plans/{plan_id}").json()
    return {f["id"]: f for f in plan["grids"]["features"]}


def wait_version(page, version):
    page.wait_for_selector(f"body[data-version='{version}']:not([data-busy])", timeout=15_000)


def test_a_planner_splits_merges_undoes_and_is_refused_publication(page, live_server, grids):
    requests_seen, errors = [], []
    page.on("request", lambda r: requests_seen.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, live_server, "planner1")
    split, a, b = grids["split"], grids["a"], grids["b"]
    screen = Screen(page)

    page.once("dialog", lambda d: d.accept("浏览器测试: 切分与合并"))
    page.click("#p-new")
    wait_version(page, 1)
    plan_id = int(page.evaluate("document.body.dataset.plan"))
    assert "浏览器测试: 切分与合并" in page.locator("#p-list li.active").inner_text()
    try:
        page.select_option("#p-village", split[:12])
        page.wait_for_selector(f"#p-workload tr[data-code='{split}']")

        # split: a north–south line through the grid's middle, drawn with Geoman, ends 15 px outside it
        geom = shape(page.request.get(f"{live_server}/ogc/collections/grids/items/{split}").json()["geometry"])
        x = (geom.bounds[0] + geom.bounds[2]) / 2
        _, south, _, north = LineString([(x, geom.bounds[1] - 1), (x, geom.bounds[3] + 1)]).intersection(geom).bounds
        screen.fit(geom)
        page.click("#p-tools [data-tool=split]")
        top, bottom = screen.at(x, north, dy=-15), screen.at(x, south, dy=15)
        page.mouse.click(*top)
        page.mouse.click(*bottom)
        page.mouse.click(*bottom)  # the last vertex again: the line is finished
        wait_version(page, 2)
        assert page.locator(".p-label-text").count() >= 2
        new = page.locator(".p-label-text.c-new")
        assert new.count() == 1 and "新" in new.inner_text()
        new_code = new.get_attribute("data-code")
        assert new_code[:12] == split[:12] and new_code != split
        assert page.locator(f".p-label-text.c-changed[data-code='{split}']").count() == 1
        assert "切分" in page.locator("#p-message").inner_text()
        assert page.locator("path.pg.c-new").count() == 1  # the new grid drawn in green

        # merge: click the two neighbours
        features = plan_grids(page, live_server, plan_id)
        ga, gb = shape(features[a]["geometry"]), shape(features[b]["geometry"])
        screen.fit(ga.union(gb))
        page.click("#p-tools [data-tool=merge]")
        page.mouse.click(*screen.at(*ga.representative_point().coords[0]))
        page.mouse.click(*screen.at(*gb.representative_point().coords[0]))
        wait_version(page, 3)
        assert "合并" in page.locator("#p-message").inner_text()
        assert page.locator(".p-label-text.c-retired").count() == 1
        assert page.locator("path.pg.c-retired").count() == 1

        # undo: the two grids are back as they are now
        page.click("#p-undo")
        wait_version(page, 4)
        assert page.locator(".p-label-text.c-retired").count() == 0
        assert page.locator(f".p-label-text.c-unchanged[data-code='{a}']").count() == 1
        assert page.locator(".p-label-text.c-new").count() == 1  # the split stays

        # someone else (the API) shrinks grid a: a gap round it; the page's version is now stale
        csrf = page.get_attribute("meta[name=csrf-token]", "content")
        shrunk = ga.buffer(-0.0003)  # about 30 m in from every side
        answer = page.request.post(f"{live_server}/api/v1/plans/{plan_id}/edits", headers={"X-CSRFToken": csrf},
                                   data={"op": "replace", "version": 4, "items": [{"code": a, "geometry": mapping(shrunk)}]})
        assert answer.status == 200 and answer.json()["errors"] >= 1
        page.click("#p-undo")  # 409: the page reloads the plan and says what changed
        wait_version(page, 5)
        message = page.locator("#p-message").inner_text()
        assert "方案已被他人修改" in message and "整体替换" in message
        gap = page.locator("#p-problems li.sev-error[data-kind='gap']")
        assert gap.count() >= 1 and a in gap.first.inner_text() and "未划入任何网格" in gap.first.inner_text()
        assert "错误" in page.locator("#p-summary").inner_text()
        assert page.locator("path.problem.error").count() >= 1
        gap.first.click()
        page.wait_for_function("plannerMap.getZoom() >= 17", timeout=5_000)  # zoomed to the gap

        # publication refused, in Chinese, naming the grid
        page.click("#p-publish button[type=submit]")
        page.wait_for_function("document.querySelector('#p-message').innerText.includes('不能发布')", timeout=15_000)
        assert a in page.locator("#p-message").inner_text()
        assert page.evaluate("document.body.dataset.status") == "draft"

        # impact preview: every changed grid with its figures before → after
        page.click("#p-impact")
        page.wait_for_selector("#p-impact-table")
        rows = page.locator("#p-impact-table tbody tr")
        assert {rows.nth(i).get_attribute("data-code") for i in range(rows.count())} == {split, new_code, a}
        impact = page.locator("#p-impact-box").inner_text()
        assert "→" in impact and "改变网格的未办结案件" in impact
        assert page.locator(f"#p-impact-table tr[data-code='{new_code}']").inner_text().count("新") >= 1

        page.evaluate("plannerMap.setZoom(14, {animate: false})")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "planner.png"))
    finally:  # leave no draft behind for the other tests
        version = page.request.get(f"{live_server}/api/v1/plans/{plan_id}").json()["version"]
        csrf = page.get_attribute("meta[name=csrf-token]", "content")
        page.request.post(f"{live_server}/api/v1/plans/{plan_id}/discard", headers={"X-CSRFToken": csrf},
                          data={"version": version})

    hosts = {urlsplit(u).hostname for u in requests_seen if not u.startswith(("data:", "blob:"))}
    assert hosts == {"127.0.0.1"}, hosts
    assert not errors, errors


@pytest.mark.parametrize(("username", "notice"), [("worker001", "无权查看改划方案"), ("dispatcher1", "")])
def test_readers_get_no_edit_tools(page, live_server, username, notice):
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, live_server, username)
    page.wait_for_function("!document.body.dataset.busy")
    assert page.locator("#p-new").count() == 0
    assert page.locator("#p-tools, #p-publish, #p-inverse, [data-tool]").count() == 0
    listed = page.locator("#p-list-msg").inner_text()
    assert notice in listed if notice else "无权" not in listed  # dispatchers read the plans
    csrf = page.get_attribute("meta[name=csrf-token]", "content")
    refused = page.request.post(f"{live_server}/api/v1/plans", headers={"X-CSRFToken": csrf}, data={"title": "x"})
    assert refused.status == 403 and "规划" in refused.json()["message_zh"]
    assert not errors, errors


def test_a_planner_moves_a_shared_edge_and_the_neighbour_follows(page, live_server, grids):
    """编辑边界: drag the middle of the edge the grid shares with its neighbour into the neighbour
    with Geoman, 完成: the server takes that area from the neighbour, so no gap and no overlap."""
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, live_server, "planner1")
    a, b = grids["a"], grids["b"]
    screen = Screen(page)
    page.once("dialog", lambda d: d.accept("浏览器测试: 移动边界"))
    page.click("#p-new")
    wait_version(page, 1)
    plan_id = int(page.evaluate("document.body.dataset.plan"))
    try:
        ga = shape(page.request.get(f"{live_server}/ogc/collections/grids/items/{a}").json()["geometry"])
        gb = shape(page.request.get(f"{live_server}/ogc/collections/grids/items/{b}").json()["geometry"])
        # the middle of the edge a shares with b: Geoman's middle marker there, dragged, bends it
        ring = ga.geoms[0].exterior.coords[:-1]
        on_b = [gb.boundary.distance(shape({"type": "Point", "coordinates": c})) < 1e-9 for c in ring]
        k = next(i for i in range(len(ring)) if on_b[i] and on_b[(i + 1) % len(ring)])
        (x1, y1), (x2, y2) = ring[k], ring[(k + 1) % len(ring)]
        vx, vy = (x1 + x2) / 2, (y1 + y2) / 2
        page.select_option("#p-village", a[:12])
        screen.fit(ga.union(gb), padding=60)
        page.click("#p-tools [data-tool=reshape]")
        page.mouse.click(*screen.at(*ga.representative_point().coords[0]))
        page.wait_for_selector(".marker-icon", timeout=5_000)
        start = screen.at(vx, vy)
        inside_b = gb.representative_point()
        end = screen.at(vx + (inside_b.x - vx) * 0.4, vy + (inside_b.y - vy) * 0.4)  # beyond any snapping
        page.mouse.move(*start)
        page.mouse.down()
        page.mouse.move((start[0] + end[0]) / 2, (start[1] + end[1]) / 2, steps=5)
        page.mouse.move(*end, steps=5)
        page.mouse.up()
        page.click("#p-finish")
        wait_version(page, 2)
        grids_now = plan_grids(page, live_server, plan_id)
        assert grids_now[a]["properties"]["change"] == "changed" and grids_now[b]["properties"]["change"] == "changed"
        new_a, new_b = shape(grids_now[a]["geometry"]), shape(grids_now[b]["geometry"])
        assert new_a.area > ga.area and new_b.area < gb.area  # a grew into b, b gave it up
        assert new_a.intersection(new_b).area < 1e-12
        assert abs(new_a.union(new_b).area - ga.union(gb).area) < 1e-12  # no gap opened
        plan = page.request.get(f"{live_server}/api/v1/plans/{plan_id}").json()
        assert [p for p in plan["problems"] if p["severity"] == "error"] == []
    finally:
        version = page.request.get(f"{live_server}/api/v1/plans/{plan_id}").json()["version"]
        csrf = page.get_attribute("meta[name=csrf-token]", "content")
        page.request.post(f"{live_server}/api/v1/plans/{plan_id}/discard", headers={"X-CSRFToken": csrf},
                          data={"version": version})
    assert not errors, errors
