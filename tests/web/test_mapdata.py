"""Map data for the dispatcher console: modes by zoom, counts against SQL, scope, filters, bounded
sizes, bad parameters, the list's order and exact status, search."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.conftest import bearer, sql
from webmap.services import mapdata
from workflow.deadlines import CLOCK_STATES

TOWN = "117.60,39.25,117.90,39.40"  # the whole demo town
CLOCK = "', '".join(CLOCK_STATES)
MAX_BYTES = 500 * 1024


@pytest.fixture
def town(client):
    return bearer(client, "district1")  # sees everything


def get(client, headers, path, **params):
    response = client.get(f"/api/v1/map/{path}", query_string=params, headers=headers)
    return response


def ok(client, headers, path, **params) -> dict:
    response = get(client, headers, path, **params)
    assert response.status_code == 200, response.get_json()
    assert len(response.data) <= MAX_BYTES, len(response.data)
    return response.get_json()


def dense_bbox(connection, half=0.0025):
    """A small bbox around the centre of the grid with the most cases."""
    lng, lat = connection.execute(text("""
        SELECT ST_X(ST_PointOnSurface(g.geom)), ST_Y(ST_PointOnSurface(g.geom)) FROM grids g
         WHERE g.valid_to IS NULL
           AND g.code = (SELECT grid_code FROM incidents GROUP BY 1 ORDER BY count(*) DESC LIMIT 1)""")).one()
    return f"{lng - half},{lat - half},{lng + half},{lat + half}"


def test_sign_in_required(client):
    assert client.get("/api/v1/map/cases", query_string={"bbox": TOWN, "zoom": 12}).status_code == 401


def test_town_zoom_gives_grid_aggregates_that_agree_with_sql(client, town, connection):
    body = ok(client, town, "cases", bbox=TOWN, zoom=12)
    assert body["mode"] == "grids"
    feats = body["features"]["features"]
    expected = {code: (n, o, od) for code, n, o, od in sql(connection, f"""
        SELECT grid_code, count(*), count(*) FILTER (WHERE state IN ('{CLOCK}')),
               count(*) FILTER (WHERE state IN ('{CLOCK}') AND deadline < now())
          FROM incidents WHERE grid_code IS NOT NULL GROUP BY 1""")}  # noqa: S608
    got = {f["properties"]["grid"]: (f["properties"]["total"], f["properties"]["open"],
                                     f["properties"]["overdue"]) for f in feats}
    assert got == expected
    assert body["total"] == sum(v[0] for v in expected.values())
    assert all(f["geometry"]["type"] == "Point" for f in feats)
    # each point lies in its grid
    code = feats[0]["properties"]["grid"]
    lng, lat = feats[0]["geometry"]["coordinates"]
    assert sql(connection, "SELECT ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326)) FROM grids "
               "WHERE code = :c AND valid_to IS NULL", x=lng, y=lat, c=code)[0][0]


def test_village_zoom_gives_hexagons_whose_counts_add_up(client, town, connection):
    body = ok(client, town, "cases", bbox=TOWN, zoom=14)
    assert body["mode"] == "hexes" and body["hex_size_m"] > 0
    feats = body["features"]["features"]
    assert 1 < len(feats) <= mapdata.MAX_FEATURES
    in_box = sql(connection, "SELECT count(*) FROM incidents WHERE geom && ST_MakeEnvelope(117.60, 39.25, "
                 "117.90, 39.40, 4326)")[0][0]
    assert body["total"] == sum(f["properties"]["total"] for f in feats) == in_box
    assert sum(f["properties"]["overdue"] for f in feats) <= sum(f["properties"]["open"] for f in feats)


def test_hexagon_size_grows_with_a_huge_viewport():
    small = mapdata.hex_size(14, (117.7, 39.3, 117.75, 39.33))
    assert small == pytest.approx(40 * 156543.03392804097 / 2**14)
    huge = mapdata.hex_size(14, (100.0, 20.0, 130.0, 50.0))
    assert huge > 100 * small


def test_grid_zoom_gives_single_cases_with_status(client, town, connection):
    bbox = dense_bbox(connection)
    body = ok(client, town, "cases", bbox=bbox, zoom=16)
    assert body["mode"] == "cases"
    feats = body["features"]["features"]
    x0, y0, x1, y1 = map(float, bbox.split(","))
    n = sql(connection, "SELECT count(*) FROM incidents WHERE ST_Intersects(geom, "
            "ST_MakeEnvelope(:a, :b, :c, :d, 4326))", a=x0, b=y0, c=x1, d=y1)[0][0]
    assert body["total"] == len(feats) == n > 0
    props = feats[0]["properties"]
    assert set(props) == {"case_no", "state", "status", "category"}
    # status: red past the deadline while on the clock; none once off the clock
    states = dict(sql(connection, "SELECT id, CASE WHEN state IN ('" + CLOCK + "') THEN "  # noqa: S608
                      "CASE WHEN deadline < now() THEN 'red' ELSE 'ok' END END FROM incidents"))
    for f in feats:
        expected = states[f["id"]]
        status = f["properties"]["status"]
        assert (status is None) == (expected is None)
        assert (status == "red") == (expected == "red")


def test_few_cases_are_shown_one_by_one_at_any_zoom(client, town, connection):
    grid = sql(connection, "SELECT grid_code FROM incidents GROUP BY 1 HAVING count(*) < 500 LIMIT 1")[0][0]
    body = ok(client, town, "cases", bbox=TOWN, zoom=10, grid=grid)
    assert body["mode"] == "cases"
    n = sql(connection, "SELECT count(*) FROM incidents WHERE grid_code = :g", g=grid)[0][0]
    assert body["total"] == len(body["features"]["features"]) == n


def test_too_many_cases_at_grid_zoom_fall_back_to_hexagons(client, town, monkeypatch):
    monkeypatch.setattr(mapdata, "MAX_CASES", 10)
    body = ok(client, town, "cases", bbox=TOWN, zoom=17)
    assert body["mode"] == "hexes"
    assert len(body["features"]["features"]) <= mapdata.MAX_FEATURES


def test_worker_sees_only_their_grid(client, worker_grid, connection):
    code, _, _ = worker_grid
    worker = bearer(client, "worker001")
    # besides their grid, a worker sees what they reported themselves (other tests may have)
    own = {g for (g,) in sql(connection, "SELECT DISTINCT i.grid_code FROM incidents i JOIN accounts a "
                                         "ON a.id = i.reporter_id WHERE a.username = 'worker001'")}
    for zoom in (12, 14, 16):
        body = ok(client, worker, "cases", bbox=TOWN, zoom=zoom)
        if body["mode"] == "grids":
            assert {f["properties"]["grid"] for f in body["features"]["features"]} <= {code} | own
    listing = ok(client, worker, "list", bbox=TOWN, limit=200)
    assert listing["items"]
    grids = {i["grid"]["code"] for i in listing["items"] if i["grid"]}
    assert code in grids and grids <= {code} | own


def test_filters_narrow_the_counts(client, town, connection):
    state = "处理中"
    body = ok(client, town, "cases", bbox=TOWN, zoom=12, state=f"{state},督办")
    n = sql(connection, "SELECT count(*) FROM incidents WHERE grid_code IS NOT NULL AND state IN ('处理中', '督办')")
    assert body["total"] == n[0][0]
    overdue = ok(client, town, "list", bbox=TOWN, overdue=1, limit=200)
    n_overdue = sql(connection, f"SELECT count(*) FROM incidents WHERE state IN ('{CLOCK}') "  # noqa: S608
                    "AND deadline < now()")[0][0]
    assert overdue["total"] == n_overdue
    assert all(i["status"]["code"] == "red" for i in overdue["items"])
    village = sql(connection, "SELECT village_code FROM incidents WHERE village_code IS NOT NULL LIMIT 1")[0][0]
    by_village = ok(client, town, "list", bbox=TOWN, village=village, limit=200)
    assert {i["grid"]["code"][:12] for i in by_village["items"]} == {village}
    cat, src = sql(connection, "SELECT c.code, i.source FROM incidents i JOIN categories c ON c.id = i.category_id "
                   "LIMIT 1")[0]
    both = ok(client, town, "list", bbox=TOWN, category=cat, source=src, since="2026-01-01", until="2026-12-31")
    n = sql(connection, "SELECT count(*) FROM incidents i JOIN categories c ON c.id = i.category_id "
            "WHERE c.code = :c AND i.source = :s AND reported_at >= '2026-01-01T00:00+08' "
            "AND reported_at < '2027-01-01T00:00+08'", c=cat, s=src)[0][0]
    assert both["total"] == n
    assert all(i["category"]["code"] == cat for i in both["items"])


@pytest.mark.parametrize(("path", "params", "field"), [
    ("cases", {"zoom": 12}, "bbox"),
    ("cases", {"bbox": TOWN}, "zoom"),
    ("cases", {"bbox": TOWN, "zoom": "abc"}, "zoom"),
    ("cases", {"bbox": TOWN, "zoom": 30}, "zoom"),
    ("cases", {"bbox": "1,2,3", "zoom": 12}, "bbox"),
    ("cases", {"bbox": "117.9,39.2,117.6,39.4", "zoom": 12}, "bbox"),
    ("cases", {"bbox": TOWN, "zoom": 12, "state": "open"}, "state"),
    ("cases", {"bbox": TOWN, "zoom": 12, "source": "fax"}, "source"),
    ("cases", {"bbox": TOWN, "zoom": 12, "grid": "12"}, "grid"),
    ("cases", {"bbox": TOWN, "zoom": 12, "village": "x" * 12}, "village"),
    ("cases", {"bbox": TOWN, "zoom": 12, "overdue": "maybe"}, "overdue"),
    ("cases", {"bbox": TOWN, "zoom": 12, "category": "a'b"}, "category"),
    ("cases", {"bbox": TOWN, "zoom": 12, "colour": "red"}, "colour"),
    ("cases", {"bbox": TOWN, "zoom": 12, "since": "yesterday"}, None),
    ("list", {"bbox": TOWN, "limit": 0}, None),
    ("list", {"bbox": TOWN, "offset": -1}, None),
    ("list", {"bbox": TOWN, "sort": "oldest"}, "sort"),
    ("search", {"q": "x"}, "q"),
])
def test_bad_parameters_get_400_with_the_field(client, town, path, params, field):
    response = get(client, town, path, **params)
    assert response.status_code == 400, response.get_json()
    body = response.get_json()
    assert body["message_zh"] and body["message_en"]
    if field:
        assert field in {e["field"] for e in body["errors"]}


def test_list_sorted_newest_first_pages_on(client, town):
    first = ok(client, town, "list", bbox=TOWN, sort="newest", limit=20)
    second = ok(client, town, "list", bbox=TOWN, sort="newest", limit=20, offset=20)
    times = [i["reported_at"] for i in first["items"] + second["items"]]
    assert len(times) == 40 and times == sorted(times, reverse=True)
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}
    # a case overdue for months does not lead the newest list as it leads the urgent one
    urgent = ok(client, town, "list", bbox=TOWN, limit=1)["items"][0]
    assert first["sort"] == "newest" and urgent["id"] != first["items"][0]["id"]


def test_list_is_bounded_and_most_urgent_first(client, town):
    default = ok(client, town, "list", bbox=TOWN)
    assert len(default["items"]) == mapdata.LIST_DEFAULT
    capped = ok(client, town, "list", bbox=TOWN, limit=10_000)
    assert len(capped["items"]) == mapdata.LIST_MAX
    items = capped["items"]
    rank = {"red": 0, "yellow": 1}
    ranks = [rank.get((i["status"] or {}).get("code"), 2) for i in items]
    # the SQL order is on the wall clock, the status on the working clock: red always leads
    reds = [r for r in ranks if r == 0]
    assert ranks[:len(reds)] == reds and reds
    first = items[0]
    assert {"case_no", "category", "state", "grid", "department", "deadline", "status", "location"} <= set(first)
    assert first["status"]["zh"] == "超期" and first["status"]["overdue_h"] >= 0
    # the tail (past the urgent ones) is newest first
    tail = ok(client, town, "list", bbox=TOWN, limit=50, offset=default["urgent"])["items"]
    assert [i["reported_at"] for i in tail] == sorted((i["reported_at"] for i in tail), reverse=True)
    # pages do not overlap
    page2 = ok(client, town, "list", bbox=TOWN, limit=50, offset=50)["items"]
    assert not {i["id"] for i in default["items"]} & {i["id"] for i in page2}


def test_search_by_case_number_address_and_order_number(client, town, connection):
    case_no, address = sql(connection, "SELECT case_no, address FROM incidents WHERE address IS NOT NULL "
                           "ORDER BY id LIMIT 1")[0]
    hit = ok(client, town, "search", q=case_no)["items"]
    assert hit[0]["case_no"] == case_no and hit[0]["matched_by"] == "case_no"
    by_address = ok(client, town, "search", q=address)["items"]
    assert 0 < len(by_address) <= mapdata.SEARCH_MAX
    assert all(address in (i["address"] or "") or i["matched_by"] != "text" for i in by_address)
    # % and _ are literal, not wildcards
    assert ok(client, town, "search", q="%%")["items"] == []
    assert ok(client, town, "search", q="__")["items"] == []
    # a 12345 order linked to a case
    incident_id = sql(connection, "SELECT id FROM incidents ORDER BY id DESC LIMIT 1")[0][0]
    connection.execute(text("""
        INSERT INTO hotline_orders (order_no, content, dispatched_at, accept_deadline, reply_deadline, incident_id)
        VALUES ('GD202611200001', '路灯不亮', now(), now() + interval '1 hour', now() + interval '1 day', :i)"""),
        {"i": incident_id})
    found = ok(client, town, "search", q="GD202611200001")["items"]
    assert [(i["id"], i["matched_by"]) for i in found] == [(incident_id, "order_no")]


def test_search_respects_scope(client, connection, worker_grid):
    code, _, _ = worker_grid
    outside = sql(connection, "SELECT case_no FROM incidents WHERE grid_code <> :g AND reporter_id IS NULL "
                  "LIMIT 1", g=code)[0][0]
    worker = bearer(client, "worker001")
    assert ok(client, worker, "search", q=outside)["items"] == []
    inside = sql(connection, "SELECT case_no FROM incidents WHERE grid_code = :g LIMIT 1", g=code)[0][0]
    assert ok(client, worker, "search", q=inside)["items"][0]["case_no"] == inside


def test_every_response_is_bounded(client, town, connection):
    for zoom in range(10, 19):
        body = ok(client, town, "cases", bbox=TOWN, zoom=zoom)
        assert len(body["features"]["features"]) <= mapdata.MAX_FEATURES
