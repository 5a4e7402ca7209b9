"""Redraw plans through the API against PostGIS: edits keep the village tiled, invalid drafts are
refused with reasons naming the grids and the place, publishing re-routes exactly the open cases
the plan touches, stale versions and overlapping plans get 409, undo and the inverse plan."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
import shapely
from shapely.geometry import mapping, shape

from tests.conftest import bearer, sql
from webmap.services import plans as service
from workflow.cases import OPEN_STATES
from workflow.clock import SHANGHAI

OPEN = list(OPEN_STATES)


@pytest.fixture
def planner(client):
    return bearer(client, "planner1")


@pytest.fixture
def pair(connection):
    """Two grids of one village sharing a long edge; the second has open cases."""
    return sql(connection, """
        SELECT a.code, b.code FROM grids a JOIN grids b
          ON a.village_id = b.village_id AND a.code <> b.code AND a.valid_to IS NULL AND b.valid_to IS NULL
         WHERE ST_Length(ST_Intersection(ST_Boundary(a.geom), ST_Boundary(b.geom))::geography) > 200
           AND (SELECT count(*) FROM incidents i WHERE i.grid_code = b.code AND i.state = ANY(:open)) > 0
           AND (SELECT count(*) FROM incidents i WHERE i.grid_code = b.code AND i.state = '结案') > 0
         ORDER BY a.code, b.code LIMIT 1""", open=OPEN)[0]


def grid_geom(connection, code):
    return shape(json.loads(sql(connection, "SELECT ST_AsGeoJSON(geom) FROM grids WHERE code = :c "
                                "AND valid_to IS NULL", c=code)[0][0]))


def new_plan(client, headers, title="测试方案") -> dict:
    response = client.post("/api/v1/plans", json={"title": title}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def edit(client, headers, plan, expect=200, **payload) -> dict:
    response = client.post(f"/api/v1/plans/{plan['id']}/edits", json={"version": plan["version"], **payload},
                           headers=headers)
    assert response.status_code == expect, response.get_json()
    return response.get_json()


def errors(plan) -> list[dict]:
    return [p for p in plan["problems"] if p["severity"] == "error"]


def features(plan) -> dict[str, dict]:
    return {f["id"]: f for f in plan["grids"]["features"]}


def test_only_planners_edit_and_the_town_reads(client, planner):
    plan = new_plan(client, planner)
    worker = bearer(client, "worker001")
    assert client.post("/api/v1/plans", json={"title": "x"}, headers=worker).status_code == 403
    assert client.get(f"/api/v1/plans/{plan['id']}", headers=worker).status_code == 403
    dispatcher = bearer(client, "dispatcher1")
    assert client.get(f"/api/v1/plans/{plan['id']}", headers=dispatcher).status_code == 200
    refused = client.post(f"/api/v1/plans/{plan['id']}/edits", json={"version": 1, "op": "set"}, headers=dispatcher)
    assert refused.status_code == 403 and "规划" in refused.get_json()["message_zh"]
    assert client.get("/api/v1/plans/999999", headers=planner).status_code == 404
    assert client.post("/api/v1/plans", json={"title": ""}, headers=planner).status_code == 400


def test_split_by_a_line_gives_two_tiling_grids_with_the_next_code(client, planner, connection, pair):
    code = pair[0]
    grid = grid_geom(connection, code)
    x = grid.centroid.x
    line = {"type": "LineString", "coordinates": [[x, grid.bounds[1] - 0.01], [x, grid.bounds[3] + 0.01]]}
    plan = edit(client, planner, new_plan(client, planner), op="split", code=code, line=line)
    assert plan["codes"][0] == code and len(plan["codes"]) >= 2
    new_code = plan["codes"][1]
    used = {r[0] for r in sql(connection, "SELECT code FROM grids WHERE code LIKE :v", v=code[:12] + "%")}
    assert new_code[:12] == code[:12] and new_code not in used
    assert int(new_code[-3:]) > max(int(c[-3:]) for c in used)
    assert errors(plan) == [], plan["problems"]
    west, east = (shape(features(plan)[c]["geometry"]) for c in plan["codes"][:2])
    assert west.centroid.x < east.centroid.x  # the west part keeps the code
    assert west.union(east).symmetric_difference(grid).area < 1e-9

    impact = client.get(f"/api/v1/plans/{plan['id']}/impact", headers=planner).get_json()
    rows = {g["code"]: g for g in impact["grids"]}
    assert rows[new_code]["change"] == "new" and rows[code]["change"] == "changed"
    before = rows[code]["households"]["before"]
    after = rows[code]["households"]["after"] + rows[new_code]["households"]["after"]
    assert abs(after - before) <= 1  # shared out by area
    # areas on the ellipsoid: the parts' edges follow great circles, not the planar cut, by 1e-5
    assert rows[code]["area_m2"]["after"] + rows[new_code]["area_m2"]["after"] == \
        pytest.approx(rows[code]["area_m2"]["before"], rel=1e-4)


def test_moving_a_shared_edge_moves_the_neighbour_with_it(client, planner, connection, pair):
    a, b = pair
    ga, gb = grid_geom(connection, a), grid_geom(connection, b)
    grown = ga.union(gb.intersection(ga.buffer(0.0008)))  # a takes a strip of b along their edge
    plan = edit(client, planner, new_plan(client, planner), op="reshape", code=a, geometry=mapping(grown))
    assert {a, b} <= set(plan["codes"])
    assert errors(plan) == [], plan["problems"]
    new_b = shape(features(plan)[b]["geometry"])
    assert new_b.area < gb.area and features(plan)[b]["properties"]["change"] == "changed"
    assert shape(features(plan)[a]["geometry"]).intersection(new_b).area < 1e-12


def test_an_invalid_draft_names_the_grid_the_reason_and_the_place(client, planner, connection, pair):
    code = pair[0]
    x0, y0, x1, y1 = grid_geom(connection, code).bounds
    bowtie = {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y1], [x1, y0], [x0, y1], [x0, y0]]]}
    plan = edit(client, planner, new_plan(client, planner), op="replace",
                items=[{"code": code, "geometry": bowtie}])
    invalid = [p for p in errors(plan) if p["kind"] == "invalid"]
    assert invalid and invalid[0]["codes"] == [code] and "Self-intersection" in invalid[0]["zh"]
    assert invalid[0]["location"]["lng"] == pytest.approx((x0 + x1) / 2, abs=1e-6)
    refused = client.post(f"/api/v1/plans/{plan['id']}/publish", json={"version": plan["version"]}, headers=planner)
    assert refused.status_code == 422
    assert any(code in p["zh"] for p in refused.get_json()["problems"])


def test_a_gap_and_an_overlap_are_reported_with_codes_area_and_place(client, planner, connection, pair):
    a, b = pair
    ga = grid_geom(connection, a)
    shrunk = ga.buffer(-0.0003)  # about 30 m in from every side: a gap round it
    plan = edit(client, planner, new_plan(client, planner), op="replace",
                items=[{"code": a, "geometry": mapping(shrunk)}])
    gaps = [p for p in errors(plan) if p["kind"] == "gap"]
    assert gaps and a in gaps[0]["codes"] and gaps[0]["area_m2"] > 1000
    place = shapely.Point(gaps[0]["location"]["lng"], gaps[0]["location"]["lat"])
    assert ga.covers(place) and not shrunk.contains(place)
    plan = edit(client, planner, plan, op="replace",
                items=[{"code": a, "geometry": mapping(ga.union(grid_geom(connection, b).buffer(-0.0005)))}])
    overlaps = [p for p in errors(plan) if p["kind"] == "overlap"]
    assert overlaps and set(overlaps[0]["codes"]) == {a, b} and overlaps[0]["area_m2"] > 100


def test_publishing_a_merge_reroutes_exactly_the_open_cases_and_keeps_closed_ones(client, planner, connection, pair):
    a, b = pair
    plan = edit(client, planner, new_plan(client, planner, "合并两网格"), op="merge", codes=[a, b])
    kept = a if a in [c for c, f in features(plan).items() if f["properties"]["change"] == "changed"] else b
    gone = b if kept == a else a
    assert features(plan)[gone]["properties"]["change"] == "retired"
    assert errors(plan) == [], plan["problems"]
    open_gone = {r[0] for r in sql(connection, "SELECT id FROM incidents WHERE grid_code = :g AND state = ANY(:o)",
                                   g=gone, o=OPEN)}
    closed_before = dict(sql(connection, "SELECT id, grid_id FROM incidents WHERE grid_code IN (:a, :b) "
                                         "AND state = '结案'", a=a, b=b))
    impact = client.get(f"/api/v1/plans/{plan['id']}/impact", headers=planner).get_json()
    assert impact["open_cases_moved"] == len(open_gone)
    assert {w["grid"] for w in impact["workers"]} >= {gone}

    response = client.post(f"/api/v1/plans/{plan['id']}/publish", json={"version": plan["version"]}, headers=planner)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "published" and response.get_json()["rerouted"] == len(open_gone)
    moved = sql(connection, "SELECT i.id, i.grid_code, g.valid_to IS NULL FROM incidents i JOIN grids g "
                            "ON g.id = i.grid_id WHERE i.id = ANY(:ids)", ids=list(open_gone))
    assert all(code == kept and current for _id, code, current in moved)
    events = sql(connection, "SELECT incident_id, data FROM case_events WHERE action = 'reroute' "
                             "AND incident_id = ANY(:ids)", ids=list(open_gone))
    assert len(events) == len(open_gone) and all(d["from_grid"] == gone and d["to_grid"] == kept for _i, d in events)
    # closed cases keep the version they were routed by
    assert dict(sql(connection, "SELECT id, grid_id FROM incidents WHERE id = ANY(:ids)",
                    ids=list(closed_before))) == closed_before
    assert sql(connection, "SELECT count(*) FROM grids WHERE code = :g AND valid_to IS NULL", g=gone)[0][0] == 0
    versions = sql(connection, "SELECT version, valid_to IS NULL, plan_id FROM grids WHERE code = :k ORDER BY version",
                   k=kept)
    assert versions[-1][1] and versions[-1][2] == plan["id"] and not versions[-2][1]

    # undo by the inverse plan: both grids as they were, the cases back where they were
    inverse = client.post(f"/api/v1/plans/{plan['id']}/inverse", headers=planner).get_json()
    assert inverse["inverse_of"] == plan["id"] and errors(inverse) == [], inverse["problems"]
    response = client.post(f"/api/v1/plans/{inverse['id']}/publish", json={"version": inverse["version"]},
                           headers=planner)
    assert response.status_code == 200, response.get_json()
    back = sql(connection, "SELECT grid_code, worker_id, leader_id FROM incidents WHERE id = ANY(:ids)",
               ids=list(open_gone))
    assert {code for code, _w, _l in back} == {gone}
    # with the grid's own worker and leader again
    people = dict(sql(connection, "SELECT duty, person_id FROM grid_assignments WHERE grid_code = :g "
                                  "AND valid_to IS NULL", g=gone))
    assert {(w, leader) for _c, w, leader in back} == {(people["worker"], people["leader"])}


def test_a_stale_version_gets_409_with_what_changed(client, planner, connection, pair):
    plan = new_plan(client, planner)
    first = edit(client, planner, plan, op="set", code=pair[0], name="新名字一")
    stale = client.post(f"/api/v1/plans/{plan['id']}/edits", json={"version": plan["version"], "op": "set",
                                                                    "code": pair[0], "name": "新名字二"},
                        headers=planner)
    assert stale.status_code == 409
    body = stale.get_json()
    assert body["current"]["version"] == first["version"]
    assert body["changes"][0]["op"] == "set" and body["changes"][0]["codes"] == [pair[0]]


def test_two_plans_on_one_grid_the_second_gets_a_conflict(client, planner, connection, pair):
    a, b = pair
    one = edit(client, planner, new_plan(client, planner, "方案一"), op="set", code=a, name="方案一的名字")
    two = edit(client, planner, new_plan(client, planner, "方案二"), op="set", code=a, name="方案二的名字")
    assert [o["id"] for o in two["others"]] == [one["id"]]  # told while editing
    assert client.post(f"/api/v1/plans/{one['id']}/publish", json={"version": one["version"]},
                       headers=planner).status_code == 200
    refused = client.post(f"/api/v1/plans/{two['id']}/publish", json={"version": two["version"]}, headers=planner)
    assert refused.status_code == 409
    body = refused.get_json()
    assert body["problems"][0]["codes"] == [a] and "方案一" in body["problems"][0]["zh"]


def test_undo_puts_the_grids_back(client, planner, connection, pair):
    a, b = pair
    plan = edit(client, planner, new_plan(client, planner), op="merge", codes=[a, b])
    assert len([f for f in features(plan).values() if f["properties"]["change"] != "unchanged"]) == 2
    response = client.post(f"/api/v1/plans/{plan['id']}/undo", json={"version": plan["version"]}, headers=planner)
    assert response.status_code == 200, response.get_json()
    undone = response.get_json()
    assert all(f["properties"]["change"] == "unchanged" for f in features(undone).values())
    assert undone["edits"][0]["undone"]
    again = client.post(f"/api/v1/plans/{plan['id']}/undo", json={"version": undone["version"]}, headers=planner)
    assert again.status_code == 422  # nothing left to undo


def test_a_future_date_schedules_and_the_job_publishes(client, planner, connection, db, pair):
    plan = edit(client, planner, new_plan(client, planner), op="set", code=pair[0], name="明日生效")
    tomorrow = (datetime.now(SHANGHAI) + timedelta(days=1)).date().isoformat()
    response = client.post(f"/api/v1/plans/{plan['id']}/publish", json={"version": plan["version"],
                                                                         "effective_at": tomorrow}, headers=planner)
    assert response.status_code == 200 and response.get_json()["status"] == "scheduled"
    assert sql(connection, "SELECT name FROM grids WHERE code = :c AND valid_to IS NULL", c=pair[0])[0][0] != "明日生效"
    assert service.publish_due(db, now=datetime.now(SHANGHAI)) == []
    done = service.publish_due(db, now=datetime.now(SHANGHAI) + timedelta(days=2))
    assert done and done[0]["published"]
    assert sql(connection, "SELECT name FROM grids WHERE code = :c AND valid_to IS NULL", c=pair[0])[0][0] == "明日生效"


def test_ogc_serves_grids_as_they_were_at_a_date(client, planner, connection, pair):
    a, b = pair
    plan = edit(client, planner, new_plan(client, planner), op="merge", codes=[a, b])
    before = datetime.now(SHANGHAI)
    assert client.post(f"/api/v1/plans/{plan['id']}/publish", json={"version": plan["version"]},
                       headers=planner).status_code == 200
    then = client.get("/ogc/collections/grids/items", query_string={
        "datetime": before.isoformat(), "limit": 1000}).get_json()
    now = client.get("/ogc/collections/grids/items", query_string={"limit": 1000}).get_json()
    then_codes = {f["properties"]["code"] for f in then["features"]}
    now_codes = {f["properties"]["code"] for f in now["features"]}
    assert {a, b} <= then_codes and len(now_codes & {a, b}) == 1


@pytest.mark.parametrize(("payload", "field"), [
    ({"op": "nope"}, "op"),
    ({"op": "reshape", "code": "12"}, "code"),
    ({"op": "reshape", "code": "120116103201001", "geometry": {"type": "Point", "coordinates": [1, 2]}}, "geometry"),
    ({"op": "split", "code": "120116103201001", "line": {"type": "LineString", "coordinates": [[2.3, 48.8],
                                                                                              [2.4, 48.9]]}}, "line"),
    ({"op": "merge", "codes": ["120116103201001"]}, "codes"),
])
def test_bad_edits_are_refused_with_the_field(client, planner, payload, field):
    plan = new_plan(client, planner)
    response = client.post(f"/api/v1/plans/{plan['id']}/edits", json={"version": plan["version"], **payload},
                           headers=planner)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["field"] == field


def test_workload_flags_grids_far_above_the_norms(client, planner, connection):
    body = client.get("/api/v1/plans/workload", headers=planner).get_json()
    grids = body["grids"]
    assert len(grids) == sql(connection, "SELECT count(*) FROM grids WHERE valid_to IS NULL")[0][0]
    busiest = max(grids, key=lambda g: g["cases_per_month"])
    assert busiest["cases_per_month"] > 2 * body["median_cases_per_month"]  # the demo's planted hotspots
    assert any(o["norm"] == "cases" for o in busiest["over"])
    assert all("households" in g and "patrol_hours_30d" in g for g in grids)


def test_a_split_proposal_balances_the_cases(client, planner, connection, pair):
    code = pair[1]
    plan = edit(client, planner, new_plan(client, planner), op="propose_split", code=code, balance="cases")
    assert errors(plan) == [], plan["problems"]
    parts = [shape(features(plan)[c]["geometry"]) for c in plan["codes"]]
    since = datetime.now(SHANGHAI) - timedelta(days=365)
    counts = [sql(connection, "SELECT count(*) FROM incidents WHERE grid_code = :g AND reported_at >= :s "
                              "AND ST_Covers(ST_GeomFromText(:w, 4326), geom)", g=code, s=since, w=p.wkt)[0][0]
              for p in parts]
    assert len(parts) == 2 and min(counts) >= 0.4 * sum(counts)


def test_retiring_every_grid_of_a_village_is_a_gap(client, planner, connection, pair):
    codes = [r[0] for r in sql(connection, "SELECT code FROM grids WHERE valid_to IS NULL AND village_id = "
                                           "(SELECT village_id FROM grids WHERE code = :c AND valid_to IS NULL)",
                               c=pair[0])]
    plan = edit(client, planner, new_plan(client, planner), op="replace",
                items=[{"code": c, "geometry": None} for c in codes])
    gaps = [p for p in errors(plan) if p["kind"] == "gap"]
    assert gaps and gaps[0]["area_m2"] > 100_000


def test_replace_refuses_bad_items_and_drops_no_op_ones(client, planner, connection, pair):
    plan = new_plan(client, planner)
    for items, field in (([{"code": pair[0], "households": -5}], "items[0].households"),
                         ([{"code": pair[0], "households": True}], "items[0].households"),
                         (["abc"], "items"),
                         ([{"code": pair[0]}, {"code": pair[0]}], "items")):
        response = client.post(f"/api/v1/plans/{plan['id']}/edits", headers=planner,
                               json={"version": plan["version"], "op": "replace", "items": items})
        assert response.status_code == 400 and response.get_json()["field"] == field, response.get_json()
    name, kind, households, residents, geojson = sql(connection, """
        SELECT name, kind, households, residents, ST_AsGeoJSON(geom) FROM grids
         WHERE code = :c AND valid_to IS NULL""", c=pair[0])[0]
    same = edit(client, planner, plan, op="replace", items=[{
        "code": pair[0], "name": name, "kind": kind, "households": households, "residents": residents,
        "geometry": json.loads(geojson)}])
    assert all(f["properties"]["change"] == "unchanged" for f in features(same).values())


def test_workload_of_one_village_is_judged_against_the_whole_town(client, planner):
    town = client.get("/api/v1/plans/workload", headers=planner).get_json()
    village = town["grids"][0]["village"]["code"]
    one = client.get("/api/v1/plans/workload", headers=planner, query_string={"village": village}).get_json()
    assert one["median_cases_per_month"] == town["median_cases_per_month"]
    assert [g for g in town["grids"] if g["village"]["code"] == village] == one["grids"]


def test_an_edit_that_changes_nothing_is_refused(client, planner, connection, pair):
    geojson = sql(connection, "SELECT ST_AsGeoJSON(geom) FROM grids WHERE code = :c AND valid_to IS NULL", c=pair[0])
    plan = new_plan(client, planner)
    response = client.post(f"/api/v1/plans/{plan['id']}/edits", headers=planner, json={
        "version": plan["version"], "op": "reshape", "code": pair[0], "geometry": json.loads(geojson[0][0])})
    assert response.status_code == 422 and "没有改变" in response.get_json()["message_zh"]
    assert client.get(f"/api/v1/plans/{plan['id']}", headers=planner).get_json()["version"] == plan["version"]


def test_a_published_split_moves_open_cases_to_the_new_grid_with_the_old_grids_people(client, planner, connection,
                                                                                       pair):
    code = pair[1]  # the grid with open cases
    grid = grid_geom(connection, code)
    x = grid.centroid.x
    line = {"type": "LineString", "coordinates": [[x, grid.bounds[1] - 0.01], [x, grid.bounds[3] + 0.01]]}
    plan = edit(client, planner, new_plan(client, planner), op="split", code=code, line=line)
    new_code = plan["codes"][1]
    east = shape(features(plan)[new_code]["geometry"])
    expected = {i for i, lng, lat in sql(connection, "SELECT id, ST_X(geom), ST_Y(geom) FROM incidents "
                                                     "WHERE grid_code = :g AND state = ANY(:o)", g=code, o=OPEN)
                if east.covers(shapely.Point(lng, lat))}
    people = dict(sql(connection, "SELECT duty, person_id FROM grid_assignments WHERE grid_code = :g "
                                  "AND valid_to IS NULL", g=code))
    response = client.post(f"/api/v1/plans/{plan['id']}/publish", json={"version": plan["version"]}, headers=planner)
    assert response.status_code == 200, response.get_json()
    moved = sql(connection, "SELECT id, worker_id, leader_id FROM incidents WHERE grid_code = :g AND state = ANY(:o)",
                g=new_code, o=OPEN)
    assert {i for i, _w, _l in moved} == expected  # exactly the open cases in the new part
    assert all((w, leader) == (people["worker"], people["leader"]) for _i, w, leader in moved)
