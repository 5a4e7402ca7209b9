"""case_tally stays exact: after the demo load, through intake, workflow updates, bulk updates,
deletes and COPY; and the console's aggregates from it agree with counting the incidents."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import text

from tests.conftest import bearer, report
from webmap.services import mapdata

EXACT = """
    SELECT count(*) FROM (
        (SELECT grid_code, village_code, state, sum(n) FROM case_tally GROUP BY 1, 2, 3 HAVING sum(n) <> 0
         EXCEPT ALL
         SELECT grid_code, village_code, state, count(*) FROM incidents GROUP BY 1, 2, 3)
        UNION ALL
        (SELECT grid_code, village_code, state, count(*) FROM incidents GROUP BY 1, 2, 3
         EXCEPT ALL
         SELECT grid_code, village_code, state, sum(n) FROM case_tally GROUP BY 1, 2, 3 HAVING sum(n) <> 0)
    ) AS difference
"""
CELLS = """
    SELECT count(*) FROM (
        SELECT wangge_tally_cell_x(geom), wangge_tally_cell_y(geom), state, count(*) FROM incidents GROUP BY 1, 2, 3
        EXCEPT ALL
        SELECT cx, cy, state, sum(n) FROM case_tally GROUP BY 1, 2, 3 HAVING sum(n) <> 0
    ) AS missing
"""


def differences(connection) -> tuple[int, int]:
    return connection.execute(text(EXACT)).scalar_one(), connection.execute(text(CELLS)).scalar_one()


def test_the_demo_town_is_tallied_exactly(connection):
    assert connection.execute(text("SELECT sum(n) FROM case_tally")).scalar_one() == \
        connection.execute(text("SELECT count(*) FROM incidents")).scalar_one()
    assert differences(connection) == (0, 0)


def test_the_tally_follows_every_kind_of_change(connection):
    one = connection.execute(text("SELECT id FROM incidents WHERE state = '待受理' ORDER BY id LIMIT 1")).scalar_one()
    connection.execute(text("UPDATE incidents SET state = '已立案', version = version + 1 WHERE id = :i"), {"i": one})
    assert differences(connection) == (0, 0)
    # a statement that changes many rows, some of them back and forth between two keys
    connection.execute(text("UPDATE incidents SET state = CASE state WHEN '结案' THEN '挂账' ELSE '结案' END "
                            "WHERE id % 97 = 0 AND state IN ('结案', '挂账')"))
    assert differences(connection) == (0, 0)
    # re-routing moves cases between grids (what a published grid plan does)
    connection.execute(text("UPDATE incidents SET grid_code = NULL, village_code = NULL WHERE id % 101 = 0"))
    assert differences(connection) == (0, 0)
    # an update of columns the tally does not hold changes nothing
    before = connection.execute(text("SELECT sum(n), count(*) FROM case_tally")).one()
    connection.execute(text("UPDATE incidents SET satisfaction = 5 WHERE id % 13 = 0"))
    assert connection.execute(text("SELECT sum(n), count(*) FROM case_tally")).one() == before
    # moving a case to another place moves it to another cell
    connection.execute(text("UPDATE incidents SET geom = ST_Translate(geom, 0.01, 0) WHERE id = :i"), {"i": one})
    assert differences(connection) == (0, 0)


def test_copy_delete_and_intake_are_tallied(client, connection):
    columns = ("case_no", "geom", "raw_lng", "raw_lat", "source", "category_id", "state", "reported_at")
    buf = io.StringIO()
    category = connection.execute(text("SELECT id FROM categories ORDER BY id LIMIT 1")).scalar_one()
    for i in range(300):
        lng, lat = 117.70 + i * 1e-4, 39.30
        buf.write(f"TALLY{i:05d},SRID=4326;POINT({lng} {lat}),{lng},{lat},import,{category},待受理,"
                  "2026-11-20 10:00+08\n")
    buf.seek(0)
    raw = connection.connection.dbapi_connection
    with raw.cursor() as cur:
        cur.copy_expert(f"COPY incidents ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", buf)
    assert differences(connection) == (0, 0)
    connection.execute(text("DELETE FROM incidents WHERE case_no LIKE 'TALLY%' AND raw_lng < 117.715"))
    assert differences(connection) == (0, 0)

    lng, lat = connection.execute(text("""
        SELECT ST_X(ST_PointOnSurface(g.geom)), ST_Y(ST_PointOnSurface(g.geom))
          FROM accounts a JOIN grids g ON g.code = a.scope_code AND g.valid_to IS NULL
         WHERE a.username = 'worker001'""")).one()
    response = client.post("/api/v1/incidents", headers=bearer(client, "worker001"), json=report(lng, lat))
    assert response.status_code == 201, response.get_json()
    assert differences(connection) == (0, 0)


@pytest.mark.parametrize("zoom", [12, 13, 14, 15])
def test_aggregates_from_the_tally_agree_with_counting_incidents(client, monkeypatch, zoom):
    town = bearer(client, "district1")
    wide = "117.50,39.20,118.00,39.45"  # more than the town: every cell lies inside

    def view(**params):
        response = client.get("/api/v1/map/cases", headers=town, query_string={"bbox": wide, "zoom": zoom,
                                                                              **params})
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    modes = set()
    for params in ({}, {"state": "待受理,已立案,立案派遣,处理中,待核查,督办,挂账"}, {"state": "结案"}):
        tallied = view(**params)
        with monkeypatch.context() as m:
            m.setattr(mapdata, "tally_applies", lambda user, f: False)
            counted = view(**params)
        assert tallied["mode"] == counted["mode"]
        modes.add(tallied["mode"])
        assert tallied["total"] == counted["total"] > 0
        if tallied["mode"] == "cases":  # few enough: the same cases one by one
            assert {f["id"] for f in tallied["features"]["features"]} == \
                {f["id"] for f in counted["features"]["features"]}
            continue

        def sums(body):
            props = [f["properties"] for f in body["features"]["features"]]
            return tuple(sum(p[k] for p in props) for k in ("total", "open", "overdue", "yellow"))
        assert sums(tallied) == sums(counted)
        if zoom == 12:  # per grid: exactly the same numbers
            key = {f["id"]: f["properties"] for f in counted["features"]["features"]}
            assert {f["id"]: f["properties"] for f in tallied["features"]["features"]} == key
        else:  # per hexagon a 50 m cell goes where its centre lies: a case within 36 m of a
            # hexagon's edge may be counted next door, no more
            key = {f["id"]: f["properties"]["total"] for f in counted["features"]["features"]}
            got = {f["id"]: f["properties"]["total"] for f in tallied["features"]["features"]}
            moved = sum(abs(got.get(k, 0) - key.get(k, 0)) for k in key.keys() | got.keys()) / 2
            assert moved <= 0.1 * counted["total"], (moved, counted["total"])
    assert modes - {"cases"}, modes  # the aggregates were compared, not only single cases


def test_the_tally_is_not_used_where_it_cannot_answer(app):
    from types import SimpleNamespace

    town = SimpleNamespace(role="dispatcher", scope_code="120116103")
    village = SimpleNamespace(role="leader", scope_code="120116103201")
    department = SimpleNamespace(role="department", scope_code="120116103")
    assert mapdata.tally_applies(town, mapdata.MapFilter(states=("结案",)))
    assert mapdata.tally_applies(village, mapdata.MapFilter())
    assert not mapdata.tally_applies(department, mapdata.MapFilter())  # its scope: the cases sent to it
    for f in (mapdata.MapFilter(category="A01"), mapdata.MapFilter(source="resident"),
              mapdata.MapFilter(overdue=True)):
        assert not mapdata.tally_applies(town, f)


@pytest.mark.parametrize("username", ["leader01", "worker001"])
def test_a_village_or_grid_reader_gets_the_same_aggregates_from_the_tally(client, monkeypatch, username):
    headers = bearer(client, username)
    wide = "117.50,39.20,118.00,39.45"

    def view(zoom):
        response = client.get("/api/v1/map/cases", headers=headers, query_string={"bbox": wide, "zoom": zoom})
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    for zoom in (12, 14):
        tallied = view(zoom)
        with monkeypatch.context() as m:
            m.setattr(mapdata, "tally_applies", lambda user, f: False)
            counted = view(zoom)
        # a reader's own reports outside their area count only when counting the incidents
        assert 0 <= counted["total"] - tallied["total"] <= 5
        assert tallied["total"] > 0
