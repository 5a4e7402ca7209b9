"""日走访 (daily household visits, issue 16 ③): a visit from the phone stored once per Idempotency-Key,
flagged when recorded more than 300 m outside the worker's grid, "problem found" making exactly one
linked incident; the coverage of each grid's households agreeing with a plain SQL count; the register
kept as a spreadsheet; the assessment's ``visit_coverage`` formula; and the two pages walked in the
browser (worker064 offline on the phone, dispatcher1 on the desk). Workers worker064 and worker065."""

from __future__ import annotations

import io
import uuid
from datetime import datetime

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from tests.conftest import JPEG, bearer, login, sql, user_named
from tests.web.desk import PHONE, hosts, signed_page
from webmap.services import visits as service
from workflow import assessment as rules
from workflow.clock import SHANGHAI


def _grid(connection, username: str) -> str:
    return connection.execute(text("SELECT scope_code FROM accounts WHERE username = :u"), {"u": username}).scalar()


def _household(connection, username: str, n: int = 0):
    """The n-th active address point of the worker's grid: (id, address, lng, lat)."""
    return connection.execute(text("""
        SELECT p.id, p.address, ST_X(p.geom), ST_Y(p.geom) FROM address_points p
          JOIN accounts a ON a.scope_code = p.grid_code
         WHERE a.username = :u AND p.active ORDER BY p.id OFFSET :n LIMIT 1"""), {"u": username, "n": n}).one()


def _outside(connection, grid: str, metres: float) -> tuple[float, float]:
    """A WGS84 point ``metres`` from the grid (a vertex of its buffer on the geography)."""
    return connection.execute(text("""
        SELECT ST_X(p), ST_Y(p) FROM (
            SELECT ST_PointN(ST_ExteriorRing(ST_GeometryN(ST_Buffer(geom::geography, :m)::geometry, 1)), 1) AS p
              FROM grids WHERE code = :g AND valid_to IS NULL) q"""), {"g": grid, "m": metres}).one()


def _key() -> str:
    return "visit-" + uuid.uuid4().hex


def _post(client, headers, body, key=None):
    return client.post("/api/v1/visits", json=body, headers={**headers, **({"Idempotency-Key": key} if key else {})})


def _body(point, lng=None, lat=None, **extra):
    return {"household": point[0], "location": {"lng": point[2] if lng is None else lng,
                                                "lat": point[3] if lat is None else lat, "crs": "wgs84"},
            "note": "老两口在家, 身体尚好", **extra}


# ---------------------------------------------------------------- the API


def test_a_visit_at_the_door_is_stored_once_however_often_it_is_sent(client, connection):
    headers = bearer(client, "worker064")
    point = _household(connection, "worker064")
    key = _key()
    first = _post(client, headers, _body(point), key)
    assert first.status_code == 201, first.get_json()
    visit = first.get_json()
    assert visit["flags"] == [] and visit["incident"] is None
    assert visit["household"] == {"id": point[0], "address": point[1], "households": visit["household"]["households"]}
    assert visit["grid_code"] == _grid(connection, "worker064") and visit["outside_m"] == 0
    again = _post(client, headers, _body(point, note="又发了一次"), key)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == visit["id"] and again.get_json()["note"] == visit["note"]
    account = user_named(connection, "worker064").id
    assert sql(connection, "SELECT count(*) FROM visits WHERE idempotency_key = :k", k=f"u{account}:{key}") == [(1,)]


@pytest.mark.parametrize(("metres", "flagged"), [(350, True), (250, False)])
def test_a_visit_more_than_300_m_outside_the_grid_is_flagged(client, connection, metres, flagged):
    headers = bearer(client, "worker065")
    point = _household(connection, "worker065")
    lng, lat = _outside(connection, _grid(connection, "worker065"), metres)
    r = _post(client, headers, _body(point, lng, lat), _key())
    assert r.status_code == 201, r.get_json()
    visit = r.get_json()
    assert ("outside_grid" in visit["flags"]) is flagged
    assert visit["outside_m"] == pytest.approx(metres, abs=5)
    assert "far_from_household" in visit["flags"]  # hundreds of metres from the door as well
    stored = sql(connection, "SELECT flags, outside_m FROM visits WHERE id = :i", i=visit["id"])[0]
    assert ("outside_grid" in stored[0]) is flagged
    if flagged:
        assert {"code": "outside_grid", "zh": "位置在本网格 300 米以外",
                "en": "recorded more than 300 m outside the worker's grid"} in visit["flag_labels"]


def test_a_position_in_gcj02_is_converted_before_it_is_checked(client, connection):
    from spatial.crs import wgs84_to_gcj02

    headers = bearer(client, "worker065")
    point = _household(connection, "worker065", 1)
    g_lng, g_lat = wgs84_to_gcj02(point[2], point[3])
    body = _body(point)
    body["location"] = {"lng": g_lng, "lat": g_lat, "crs": "gcj02"}
    visit = _post(client, headers, body, _key()).get_json()
    # the raw GCJ-02 position is hundreds of metres off; converted, the phone stood at the door
    assert visit["flags"] == ["converted_from_gcj02"] and visit["household_m"] < 2
    assert visit["raw"] == {"lng": g_lng, "lat": g_lat, "crs": "gcj02"}


def test_problem_found_makes_exactly_one_linked_incident_even_when_sent_twice(client, connection):
    headers = bearer(client, "worker065")
    account = user_named(connection, "worker065").id
    point = _household(connection, "worker065", 2)
    key = _key()
    body = _body(point, problem={"category": "SR01", "description": "院门外堆放生活垃圾"})
    before = sql(connection, "SELECT count(*) FROM incidents")[0][0]
    first = _post(client, headers, body, key)
    assert first.status_code == 201, first.get_json()
    second = _post(client, headers, body, key)
    assert second.status_code == 200
    incident = first.get_json()["incident"]
    assert incident["case_no"] and second.get_json()["incident"] == incident
    assert sql(connection, "SELECT count(*) FROM incidents")[0][0] == before + 1
    row = sql(connection, """SELECT i.source, i.reporter_id, i.address, i.description, i.grid_code, v.id
                               FROM incidents i JOIN visits v ON v.incident_id = i.id WHERE i.id = :i""",
              i=incident["id"])
    assert row == [("grid_worker", account, point[1], "院门外堆放生活垃圾", _grid(connection, "worker065"),
                    first.get_json()["id"])]
    assert sql(connection, "SELECT count(*) FROM incidents WHERE idempotency_key = :k",
               k=f"visit:u{account}:{key}") == [(1,)]
    # the case is the worker's like any report: it opens for them
    detail = client.get(f"/api/v1/incidents/{incident['id']}", headers=headers)
    assert detail.status_code == 200 and detail.get_json()["case_no"] == incident["case_no"]


def test_a_refused_visit_says_why_field_by_field_and_saves_nothing(client, connection):
    headers = bearer(client, "worker064")
    before = sql(connection, "SELECT count(*) FROM visits")[0][0], sql(connection, "SELECT count(*) FROM incidents")[0][0]
    bad = _post(client, headers, {"household": "x", "location": {"lng": 117.5, "lat": 39.1, "crs": "utm"},
                                  "photos": ["nope"], "problem": {"description": "没写类别"}}, _key())
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["errors"]} >= {"household", "location.crs", "photos[0]",
                                                            "problem.category"}
    other = _household(connection, "worker065")  # a door of another grid
    r = _post(client, headers, _body(other), _key())
    assert r.status_code == 422 and r.get_json()["errors"][0]["zh"] == "该门牌不在您的网格"
    mine = _household(connection, "worker064")
    r = _post(client, headers, _body(mine, problem={"category": "NOPE", "description": "x"}), _key())
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "problem.category"
    assert _post(client, headers, _body(mine), "short").status_code == 422  # a malformed key
    assert _post(client, bearer(client, "dispatcher1"), _body(mine), _key()).status_code == 403
    after = sql(connection, "SELECT count(*) FROM visits")[0][0], sql(connection, "SELECT count(*) FROM incidents")[0][0]
    assert after == before


def test_the_photos_of_a_visit_open_for_the_town(client, connection):
    headers = bearer(client, "worker064")
    photo = client.post("/api/v1/attachments", data={"file": (io.BytesIO(JPEG), "door.jpg")}, headers=headers,
                        content_type="multipart/form-data")
    assert photo.status_code == 201, photo.get_json()
    sha = photo.get_json()["id"]
    visit = _post(client, headers, _body(_household(connection, "worker064"), photos=[sha]), _key()).get_json()
    assert visit["photos"] == [sha]
    assert client.get(f"/api/v1/attachments/{sha}", headers=bearer(client, "dispatcher1")).status_code == 200
    assert client.get(f"/api/v1/attachments/{sha}", headers=bearer(client, "leader01")).status_code == 404


# ---------------------------------------------------------------- coverage


PLAIN_COVERAGE = """
    SELECT g.code,
           (SELECT coalesce(sum(households), 0) FROM address_points WHERE grid_code = g.code AND active),
           (SELECT coalesce(sum(p.households), 0) FROM address_points p
             WHERE p.grid_code = g.code AND p.active AND p.id IN (
                   SELECT address_id FROM visits WHERE visited_at >= :a AND visited_at < :b))
      FROM grids g WHERE g.valid_to IS NULL AND g.code LIKE :prefix ORDER BY g.code"""


def _month_span(month: str):
    y, m = map(int, month.split("-"))
    return (datetime(y, m, 1, tzinfo=SHANGHAI), datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=SHANGHAI))


def test_coverage_counts_each_household_once_and_agrees_with_a_plain_count(client, connection):
    headers = bearer(client, "worker064")
    grid = _grid(connection, "worker064")
    month = datetime.now(SHANGHAI).strftime("%Y-%m")
    a, b = _month_span(month)
    before = client.get("/api/v1/visits/coverage", query_string={"month": month}, headers=headers).get_json()
    assert [i["grid_code"] for i in before["items"]] == [grid]  # a worker reads their own grid
    one, two = _household(connection, "worker064", 3), _household(connection, "worker064", 4)
    seen = {r[0] for r in sql(connection, "SELECT address_id FROM visits WHERE visited_at >= :a AND visited_at < :b",
                              a=a, b=b)}
    gain = sum(n for i, n in sql(connection, "SELECT id, households FROM address_points WHERE id IN (:x, :y)",
                                 x=one[0], y=two[0]) if i not in seen)
    for point in (one, one, two):  # the first household visited twice
        assert _post(client, headers, _body(point), _key()).status_code == 201
    after = client.get("/api/v1/visits/coverage", query_string={"month": month}, headers=headers).get_json()
    row, old = after["items"][0], before["items"][0]
    assert row["visits"] == old["visits"] + 3
    assert row["visited_households"] == old["visited_households"] + gain  # each household once
    assert row["visited_addresses"] == old["visited_addresses"] + len({one[0], two[0]} - seen)

    # the town's whole table, this month and the demo's month, against the plain count
    town = bearer(client, "dispatcher1")
    for m in (month, "2026-11"):
        a, b = _month_span(m)
        answer = client.get("/api/v1/visits/coverage", query_string={"month": m}, headers=town).get_json()
        plain = sql(connection, PLAIN_COVERAGE, a=a, b=b, prefix="120116103%")
        assert [(i["grid_code"], i["households"], i["visited_households"]) for i in answer["items"]] == \
            [tuple(r) for r in plain]
        for i in answer["items"]:
            assert i["coverage"] == (round(i["visited_households"] / i["households"], 3) if i["households"] else None)
        assert answer["totals"]["households"] == sum(r[1] for r in plain)
    assert answer["totals"]["visited_households"] > 0  # the demo's workers visited in November


def test_who_reads_which_visits(client, connection):
    village = _grid(connection, "worker064")[:12]
    leader = bearer(client, "leader18")
    assert leader and sql(connection, "SELECT scope_code FROM accounts WHERE username = 'leader18'") == [(village,)]
    mine = client.get("/api/v1/visits/coverage", query_string={"month": "2026-11"}, headers=leader).get_json()
    assert mine["items"] and {i["village_code"] for i in mine["items"]} == {village}
    listing = client.get("/api/v1/visits", query_string={"month": "2026-11"}, headers=leader).get_json()
    assert listing["total"] > 0 and {v["grid_code"][:12] for v in listing["items"]} == {village}
    assert client.get("/api/v1/visits/coverage", query_string={"village": "120116103201"},
                      headers=leader).status_code == 403
    worker = bearer(client, "worker064")
    assert client.get("/api/v1/visits", query_string={"grid": _grid(connection, "worker065")},
                      headers=worker).status_code == 403
    assert client.get("/api/v1/visits", query_string={"month": "2026-13"}, headers=worker).status_code == 400
    assert client.get("/api/v1/visits/coverage", headers=bearer(client, "dept_huanwei")).status_code == 403
    # the phone's picker: the worker's own doors, nearest first
    point = _household(connection, "worker064", 5)
    near = client.get("/api/v1/households", query_string={"near": f"{point[2]},{point[3]}"}, headers=worker).get_json()
    assert near["items"][0]["id"] == point[0] and near["items"][0]["distance_m"] < 1
    distances = [i["distance_m"] for i in near["items"]]
    assert distances == sorted(distances)


# ---------------------------------------------------------------- the register as a spreadsheet


def _csv(rows) -> bytes:
    lines = ["地址,户数,经度,纬度,坐标系,停用"] + [",".join(str(c) for c in r) for r in rows]
    return "\n".join(lines).encode("utf-8")


def _upload(client, headers, data: bytes, name="register.csv"):
    return client.post("/api/v1/households/import", data={"file": (io.BytesIO(data), name)}, headers=headers,
                       content_type="multipart/form-data")


def test_the_village_keeps_its_register_as_a_spreadsheet_all_or_nothing(client, connection):
    leader = bearer(client, "leader18")
    grid = _grid(connection, "worker065")
    existing = _household(connection, "worker065", 6)
    inside = connection.execute(text("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM grids "
                                     "WHERE code = :g AND valid_to IS NULL"), {"g": grid}).one()
    elsewhere = connection.execute(text("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM grids "
                                        "WHERE code LIKE '120116103201%' AND valid_to IS NULL LIMIT 1")).one()
    count = sql(connection, "SELECT count(*) FROM address_points")[0][0]
    bad = _upload(client, leader, _csv([
        ["后沽村4组 新 1 号", 2, inside[0], inside[1], "wgs84", ""],
        ["", 1, inside[0], inside[1], "", ""],
        ["张庄村 1 号", 1, elsewhere[0], elsewhere[1], "", ""],
        ["后沽村4组 新 2 号", 0, inside[0], inside[1], "", ""],
    ]))
    assert bad.status_code == 422
    assert [e["field"] for e in bad.get_json()["errors"]] == ["row 3: 地址", "row 5: 户数", "row 4: 网格编码"]
    assert sql(connection, "SELECT count(*) FROM address_points")[0][0] == count  # nothing written

    good = _upload(client, leader, _csv([
        ["后沽村4组 新 1 号", 2, inside[0], inside[1], "wgs84", ""],
        [existing[1], 3, existing[2], existing[3], "wgs84", "是"],
    ]))
    assert good.status_code == 200, good.get_json()
    assert good.get_json() | {"grids": None} == {"rows": 2, "added": 1, "updated": 1, "retired": 1, "grids": None}
    assert sql(connection, "SELECT households, active FROM address_points WHERE id = :i", i=existing[0]) == [(3, False)]
    assert sql(connection, "SELECT grid_code, households FROM address_points WHERE address = '后沽村4组 新 1 号'") == \
        [(grid, 2)]

    # the export is the form the import reads: sent back unchanged, it adds nothing
    book = client.get("/api/v1/households.xlsx", query_string={"grid": grid}, headers=leader)
    assert book.status_code == 200 and book.mimetype == service.XLSX_MIME
    sheet = load_workbook(io.BytesIO(book.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == service.HEADERS and len(rows) - 1 == sql(
        connection, "SELECT count(*) FROM address_points WHERE grid_code = :g", g=grid)[0][0]
    again = _upload(client, leader, book.data, "households.xlsx")
    assert again.status_code == 200 and again.get_json()["added"] == 0 and again.get_json()["retired"] == 0
    assert _upload(client, bearer(client, "worker065"), _csv([])).status_code == 403
    assert _upload(client, leader, b"\x00\x01", "x.pdf").status_code == 400


def test_an_excel_without_the_position_columns_is_refused_whole(client):
    book = Workbook()
    book.active.append(["地址", "户数"])
    book.active.append(["后沽村4组 3 号", 1])
    out = io.BytesIO()
    book.save(out)
    r = _upload(client, bearer(client, "dispatcher1"), out.getvalue(), "r.xlsx")
    assert r.status_code == 400 and "经度" in r.get_json()["errors"][0]["zh"]


# ---------------------------------------------------------------- the assessment


def test_the_visit_coverage_formula():
    item = {"code": "visits", "name": "入户走访", "points": 10, "rule": {"formula": "visit_coverage",
                                                                      "params": {"target": 0.8}}, "inputs": ""}
    assert rules.score_item(item, {"households": 50, "households_visited": 20}) == 5.0  # 0.4 of 0.8
    assert rules.score_item(item, {"households": 50, "households_visited": 45}) == 10.0  # over the target
    assert rules.score_item(item, {"households": 0, "households_visited": 0}) == 0.0  # no register
    assert "visit_coverage" not in {i["rule"].get("formula") for i in rules.default_plan()["items"]}
    bad = rules.default_plan()
    bad["items"][0] = {**bad["items"][0], "rule": {"formula": "visit_coverage", "params": {"target": 2}}}
    assert [e[0] for e in rules.validate_plan(bad)] == ["items[0].rule.params.target"]


def test_the_town_adds_visit_coverage_to_its_plan_and_the_table_counts_the_month(client, connection):
    town = bearer(client, "dispatcher1")
    plan = client.get("/api/v1/assessment-plan", headers=town).get_json()
    assert "visit_coverage" in plan["formulas"]
    body = plan["plan"]
    satisfaction = next(i for i in body["items"] if i["code"] == "satisfaction")
    satisfaction["points"] -= 10
    body["items"].append({"code": "visits", "name": "入户走访", "name_en": "household visits", "points": 10,
                          "rule": {"formula": "visit_coverage", "params": {"target": 0.5}}, "inputs": "走访 (visits)"})
    saved = client.put("/api/v1/assessment-plan", json={**body, "note": "加入日走访"}, headers=town)
    assert saved.status_code == 200, saved.get_json()
    table = client.get("/api/v1/assessments", query_string={"month": "2026-11"}, headers=town).get_json()
    row = next(r for r in table["items"] if r["worker"]["username"] == "worker064")
    item = next(i for i in row["items"] if i["code"] == "visits")
    a, b = _month_span("2026-11")
    plain = dict((r[0], r[1:]) for r in sql(connection, PLAIN_COVERAGE, a=a, b=b, prefix=_grid(connection, "worker064")))
    households, visited = plain[_grid(connection, "worker064")]
    assert item["inputs"] == {"households": households, "households_visited": visited}
    assert item["score"] == round(10 * min(1, visited / households / 0.5), 2)


# ---------------------------------------------------------------- the pages


def _engine(database_url):
    return create_engine(database_url)


def test_a_visit_recorded_offline_on_the_phone_is_sent_once(browser, live_server, database_url):
    engine = _engine(database_url)
    with engine.connect() as conn:
        point = _household(conn, "worker064", 7)
    note = f"离线走访 {uuid.uuid4().hex[:8]}"
    device = {**PHONE, "geolocation": {"longitude": point[2], "latitude": point[3], "accuracy": 8},
              "permissions": ["geolocation"]}
    try:
        with signed_page(browser, live_server, "worker064", "/m/visits", "body[data-located='1']", device) as (page, seen, errors):
            page.wait_for_function("Number(document.body.dataset.households) > 0")
            first = page.locator("#mv-households li button").first
            assert point[1] in first.inner_text()  # the door the phone stands at comes first
            page.context.set_offline(True)
            page.evaluate("window.dispatchEvent(new Event('offline'))")
            first.click()
            page.fill("#mv-note", note)
            page.click("#mv-submit")
            page.wait_for_function("document.body.dataset.pending === '1'")
            assert "待发送 1 条" in page.locator("#mv-queue").inner_text()
            assert "已保存, 等待发送" in page.locator("#mv-status").inner_text()
            with engine.connect() as conn:
                assert conn.execute(text("SELECT count(*) FROM visits WHERE note = :n"), {"n": note}).scalar() == 0
            page.context.set_offline(False)
            page.evaluate("window.dispatchEvent(new Event('online'))")
            page.wait_for_function("document.body.dataset.pending === '0'", timeout=15_000)
            page.wait_for_function("document.querySelector('#mv-status').innerText.includes('已送达')")
            assert point[1] in page.locator("#mv-status").inner_text()
            page.evaluate("window.dispatchEvent(new Event('online'))")  # a second flush finds nothing to send
            page.wait_for_timeout(500)
            with engine.connect() as conn:
                rows = conn.execute(text("SELECT address_id, flags FROM visits WHERE note = :n"), {"n": note}).all()
            assert rows == [(point[0], [])]
            assert hosts(seen) <= {"127.0.0.1"} and not errors
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        engine.dispose()


def test_the_desk_shows_the_coverage_and_the_flagged_visit_with_its_case(browser, live_server, database_url):
    engine = _engine(database_url)
    note = f"桌面走访 {uuid.uuid4().hex[:8]}"
    with Session(engine) as db:
        grid = _grid(db, "worker065")
        point = _household(db, "worker065", 8)
        lng, lat = _outside(db, grid, 400)
        visit, _ = service.record(db, user_named(db, "worker065"), {
            "household": point[0], "location": {"lng": lng, "lat": lat, "crs": "wgs84"}, "note": note,
            "problem": {"category": "SR01", "description": "走访发现路边垃圾"}}, _key())
    assert "outside_grid" in visit["flags"]
    try:
        with signed_page(browser, live_server, "dispatcher1", "/visits", "body[data-coverage]") as (page, seen, errors):
            page.wait_for_selector("body[data-visits]", state="attached")
            row = page.locator(f"#vs-grids tr[data-grid='{grid}']")
            assert row.count() == 1
            assert "%" in row.locator("td").nth(5).inner_text()
            assert int(row.locator("td").nth(6).inner_text()) >= 1  # visits this month
            row.click()  # the grid's visits
            line = page.locator("#vs-visits tr", has_text=note)
            line.wait_for(timeout=10_000)
            assert "位置在本网格 300 米以外" in line.inner_text()
            assert visit["incident"]["case_no"] in line.inner_text()
            assert line.locator("a").get_attribute("href") == f"/inbox?case={visit['incident']['id']}"
            page.check("#vs-flagged")
            page.wait_for_function("[...document.querySelectorAll('#vs-visits tbody tr')].every(r => "
                                   "r.querySelector('.vs-flag'))")
            assert page.locator("#vs-summary").inner_text().startswith(datetime.now(SHANGHAI).strftime("%Y-%m"))
            assert page.locator("#vs-map path.leaflet-interactive").count() > 0
            assert hosts(seen) <= {"127.0.0.1"} and not errors
        with signed_page(browser, live_server, "dispatcher1", "/patrols", "body[data-daily]") as (page, seen, errors):
            page.click("#tab-monthly")
            page.wait_for_selector("body[data-monthly]", state="attached")
            head = page.locator("#monthly-table thead th").all_inner_texts()
            assert "入户走访覆盖率" in head
            assert not errors
    finally:
        engine.dispose()


def test_the_pages_open_for_their_roles(client):
    login(client, "worker064")
    page = client.get("/m/visits").get_data(as_text=True)
    assert "发现问题 → 上报" in page and "phone_queue.js" in page
    assert client.get("/visits").status_code == 403
    assert "Problem found → report it" in client.get("/m/visits?lang=en").get_data(as_text=True)
    client.post("/auth/logout")
    login(client, "leader18")
    assert client.get("/m/visits").status_code == 403
    html = client.get("/visits?lang=zh").get_data(as_text=True)
    assert "住户走访覆盖率" in html and 'id="vs-import"' in html
    client.post("/auth/logout")
    login(client, "townleader1")
    html = client.get("/visits").get_data(as_text=True)
    assert "住户走访覆盖率" in html and 'id="vs-import"' not in html  # reads, does not keep the register


def test_the_demo_town_registers_20_to_40_doors_in_every_grid_and_a_month_of_visits(connection):
    per_grid = sql(connection, """
        SELECT g.code, count(p.id), count(p.id) FILTER (WHERE ST_Covers(g.geom, p.geom))
          FROM grids g LEFT JOIN address_points p ON p.grid_code = g.code AND p.synthetic
         WHERE g.valid_to IS NULL GROUP BY g.code""")
    assert per_grid and all(20 <= n <= 40 and inside == n for _code, n, inside in per_grid)
    assert sql(connection, "SELECT count(DISTINCT address) = count(*) FROM address_points WHERE synthetic") == [(True,)]
    months = sql(connection, "SELECT DISTINCT to_char(visited_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') FROM visits "
                             "WHERE synthetic")
    assert months == [("2026-11",)]  # the demo's month (tests load it until 2026-11-20)
    assert sql(connection, "SELECT count(*) FROM visits v JOIN address_points p ON p.id = v.address_id "
                           "WHERE v.synthetic AND (v.grid_code <> p.grid_code OR v.household_m > 50)") == [(0,)]
