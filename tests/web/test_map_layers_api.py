"""The dispatcher console's extra layers through HTTP: the heat map (bounded, its weights the same
cases as /cases, bad parameters refused with reasons) and today's patrol tracks (personal
whereabouts: each role sees only what its work needs, today only, within the viewport, ≤ 500)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import text

from tests.conftest import bearer
from tests.web.test_mapdata import TOWN, dense_bbox
from webmap.services import tracks
from workflow.clock import SHANGHAI

HEAT_MAX = 5000


@pytest.fixture
def town(client):
    return bearer(client, "district1")  # sees every case


def heat(client, headers, **params):
    return client.get("/api/v1/map/heat", query_string=params, headers=headers)


# ---------------------------------------------------------------- heat


def test_heat_needs_sign_in(client):
    assert heat(client, {}, bbox=TOWN, zoom=13).status_code == 401
    assert client.get("/api/v1/map/patrols", query_string={"bbox": TOWN}).status_code == 401


@pytest.mark.parametrize("zoom", [10, 13, 14, 16, 18, 22])
def test_heat_is_bounded_at_every_zoom(client, town, zoom):
    body = heat(client, town, bbox=TOWN, zoom=zoom).get_json()
    assert 0 < len(body["points"]) <= HEAT_MAX
    assert body["zoom"] == zoom and body["cell_m"] > 0
    assert body["max"] == max(p[2] for p in body["points"])
    assert body["total"] == sum(p[2] for p in body["points"])
    for lat, lng, weight in body["points"]:
        assert 39.2 < lat < 39.45 and 117.55 < lng < 117.95 and weight >= 1


@pytest.mark.parametrize(("filters", "zoom"), [
    ({}, 13),
    ({}, 14),
    ({"state": "已立案,处理中"}, 14),
    ({"source": "hotline_12345"}, 15),
    ({"category": "SR01", "overdue": "1"}, 16),
    ({"since": "2026-10-01", "until": "2026-10-31"}, 14),
])
def test_heat_weights_add_up_to_the_cases_of_the_same_view(client, town, filters, zoom):
    cases = client.get("/api/v1/map/cases", query_string={"bbox": TOWN, "zoom": zoom, **filters},
                       headers=town).get_json()
    assert cases["mode"] in ("hexes", "cases")  # counted in the viewport, as the heat map is
    body = heat(client, town, bbox=TOWN, zoom=zoom, **filters).get_json()
    assert sum(p[2] for p in body["points"]) == cases["total"]


def test_heat_of_a_small_view_counts_only_that_view(client, town, connection):
    bbox = dense_bbox(connection)
    w, s, e, n = map(float, bbox.split(","))
    in_box = connection.execute(text("SELECT count(*) FROM incidents WHERE geom && ST_MakeEnvelope(:w, :s, :e, :n, "
                                     "4326)"), {"w": w, "s": s, "e": e, "n": n}).scalar()
    body = heat(client, town, bbox=bbox, zoom=17).get_json()
    assert in_box > 0 and sum(p[2] for p in body["points"]) == in_box
    margin = 2 * body["cell_m"] / 111_000  # a bin's centre may lie just beyond the edge
    assert all(s - margin <= lat <= n + margin and w - margin <= lng <= e + margin
               for lat, lng, _ in body["points"])


def test_heat_follows_scope(client):
    leader = bearer(client, "leader01")
    body = heat(client, leader, bbox=TOWN, zoom=14).get_json()
    cases = client.get("/api/v1/map/cases", query_string={"bbox": TOWN, "zoom": 14}, headers=leader).get_json()
    everything = heat(client, bearer(client, "district1"), bbox=TOWN, zoom=14).get_json()
    assert 0 < body["total"] == cases["total"] < everything["total"]


@pytest.mark.parametrize(("params", "field"), [
    ({"zoom": 14}, "bbox"),
    ({"bbox": "a,b,c,d", "zoom": 14}, "bbox"),
    ({"bbox": "117.6,39.25,117.9", "zoom": 14}, "bbox"),
    ({"bbox": "117.9,39.25,117.6,39.40", "zoom": 14}, "bbox"),
    ({"bbox": "117.6,39.25,117.9,95", "zoom": 14}, "bbox"),
    ({"bbox": TOWN}, "zoom"),
    ({"bbox": TOWN, "zoom": "x"}, "zoom"),
    ({"bbox": TOWN, "zoom": 99}, "zoom"),
    ({"bbox": TOWN, "zoom": -1}, "zoom"),
    ({"bbox": TOWN, "zoom": 14, "state": "没有"}, "state"),
    ({"bbox": TOWN, "zoom": 14, "x'; DROP TABLE incidents;--": "1"}, "x'; DROP TABLE incidents;--"),
])
def test_heat_refuses_bad_parameters_with_reasons(client, town, params, field):
    response = heat(client, town, **params)
    assert response.status_code == 400
    body = response.get_json()
    assert body["message_zh"] and body["message_en"]
    assert field in [e["field"] for e in body["errors"]]


# ---------------------------------------------------------------- patrol tracks


def shanghai_today(hour: int, minute: int = 0) -> datetime:
    """A moment of today in Asia/Shanghai (the server's "today" for the request)."""
    return datetime.combine(datetime.now(SHANGHAI).date(), time(hour, minute), SHANGHAI)


def account(connection, username):
    return connection.execute(text("SELECT person_id, scope_code FROM accounts WHERE username = :u"),
                              {"u": username}).one()


def add_patrol(connection, username, started: datetime, *, shift=(0.0, 0.0), grid=True, points=2) -> int:
    """A patrol of ``username``'s person: a line through their grid's inner point (shifted by
    ``shift`` degrees), zig-zagging over ``points`` vertices ~1 m apart after the first 100 m."""
    person_id, code = account(connection, username)
    return connection.execute(text("""
        WITH g AS (SELECT ST_Translate(ST_PointOnSurface(geom), :dx, :dy) AS p FROM grids
                    WHERE code = :code AND valid_to IS NULL),
             line AS (SELECT ST_MakeLine(ARRAY[p] || ARRAY(
                        SELECT ST_Translate(p, 0.001 + i * 0.00001, (i % 2) * 0.00001)
                          FROM generate_series(0, :n - 2) AS i)) AS track FROM g)
        INSERT INTO patrols (worker_id, grid_code, started_at, ended_at, track, distance_m)
        SELECT :w, :grid, :t, :t + interval '1 hour', track, ST_Length(track::geography) FROM line
        RETURNING id"""), {"dx": shift[0], "dy": shift[1], "code": code, "grid": code if grid else None,
                           "w": person_id, "t": started, "n": points}).scalar_one()


def patrols(client, headers, bbox=TOWN, **params):
    return client.get("/api/v1/map/patrols", query_string={"bbox": bbox, **params}, headers=headers)


def ids(response) -> set[int]:
    assert response.status_code == 200, response.get_json()
    return {f["id"] for f in response.get_json()["features"]}


@pytest.fixture
def today_patrols(connection):
    """Today's patrols of worker001 (village 1's first grid), of another worker of the same village,
    and of a worker of another village; and one of worker001 yesterday."""
    me = account(connection, "worker001")
    same_village, other_village = connection.execute(text("""
        SELECT (SELECT username FROM accounts WHERE role = 'worker' AND username <> 'worker001'
                   AND left(scope_code, 12) = left(:g, 12) ORDER BY username LIMIT 1),
               (SELECT username FROM accounts WHERE role = 'worker' AND left(scope_code, 12) <> left(:g, 12)
                 ORDER BY username LIMIT 1)"""), {"g": me.scope_code}).one()
    start = max(shanghai_today(0, 5), datetime.now(SHANGHAI) - timedelta(hours=2))
    return {
        "mine": add_patrol(connection, "worker001", start),
        "neighbour": add_patrol(connection, same_village, start),
        "elsewhere": add_patrol(connection, other_village, start),
        "yesterday": add_patrol(connection, "worker001", shanghai_today(0) - timedelta(minutes=1)),
        "village": me.scope_code[:12],
    }


def test_patrols_are_a_feature_collection_of_simplified_lines(client, connection, today_patrols):
    long = add_patrol(connection, "worker001", max(shanghai_today(0, 10), datetime.now(SHANGHAI)
                                                   - timedelta(hours=1)), points=200)
    body = patrols(client, bearer(client, "dispatcher1")).get_json()
    assert body["type"] == "FeatureCollection"
    assert body["date"] == datetime.now(SHANGHAI).date().isoformat()
    feature = next(f for f in body["features"] if f["id"] == long)
    assert feature["geometry"]["type"] == "LineString"
    coords = feature["geometry"]["coordinates"]
    assert 2 <= len(coords) < 20  # a 1 m zig-zag is below what the map shows
    assert all(round(c, 6) == c for pt in coords for c in pt)
    props = feature["properties"]
    assert set(props) == {"id", "worker", "grid_code", "started_at", "ended_at", "distance_m"}
    person_id, code = account(connection, "worker001")
    name = connection.execute(text("SELECT name FROM people WHERE id = :i"), {"i": person_id}).scalar()
    assert props["worker"] == name and props["grid_code"] == code and props["id"] == long
    assert props["started_at"].endswith("+08:00") and props["ended_at"].endswith("+08:00")
    assert props["distance_m"] > 100


def test_dispatcher_sees_the_whole_town_today_only(client, today_patrols):
    for username in ("dispatcher1", "townleader1", "district1", "admin"):
        seen = ids(patrols(client, bearer(client, username)))
        assert {today_patrols[k] for k in ("mine", "neighbour", "elsewhere")} <= seen, username
        assert today_patrols["yesterday"] not in seen, username


def test_worker_sees_only_their_own(client, connection, today_patrols):
    response = patrols(client, bearer(client, "worker001"))
    seen = ids(response)
    assert today_patrols["mine"] in seen
    assert not seen & {today_patrols[k] for k in ("neighbour", "elsewhere", "yesterday")}
    person_id, _code = account(connection, "worker001")
    name = connection.execute(text("SELECT name FROM people WHERE id = :i"), {"i": person_id}).scalar()
    assert {f["properties"]["worker"] for f in response.get_json()["features"]} == {name}


def test_village_leader_sees_their_village(client, connection, today_patrols):
    leader = connection.execute(text("SELECT username FROM accounts WHERE role = 'leader' AND scope_code = :v"),
                                {"v": today_patrols["village"]}).scalar_one()
    response = patrols(client, bearer(client, leader))
    seen = ids(response)
    assert {today_patrols["mine"], today_patrols["neighbour"]} <= seen
    assert today_patrols["elsewhere"] not in seen and today_patrols["yesterday"] not in seen
    assert all(f["properties"]["grid_code"].startswith(today_patrols["village"])
               for f in response.get_json()["features"])


def test_patrol_without_grid_counts_for_the_grid_its_worker_works(client, connection):
    start = max(shanghai_today(0, 5), datetime.now(SHANGHAI) - timedelta(hours=1))
    loose = add_patrol(connection, "worker001", start, grid=False)
    village = account(connection, "worker001").scope_code[:12]
    own_leader = connection.execute(text("SELECT username FROM accounts WHERE role = 'leader' AND scope_code = :v"),
                                    {"v": village}).scalar_one()
    other_leader = connection.execute(text("SELECT username FROM accounts WHERE role = 'leader' AND "
                                           "scope_code <> :v ORDER BY username LIMIT 1"), {"v": village}).scalar_one()
    assert loose in ids(patrols(client, bearer(client, own_leader)))
    assert loose in ids(patrols(client, bearer(client, "dispatcher1")))
    assert loose not in ids(patrols(client, bearer(client, other_leader)))


@pytest.mark.parametrize("username", ["dept_huanwei", "planner1", "analyst1"])
def test_other_roles_are_refused_with_a_reason(client, username, today_patrols):
    response = patrols(client, bearer(client, username))
    assert response.status_code == 403
    body = response.get_json()
    assert "轨迹" in body["message_zh"] and "patrol tracks" in body["message_en"]
    assert "features" not in body


def test_patrols_follow_the_bbox(client, connection, today_patrols):
    dispatcher = bearer(client, "dispatcher1")
    far = add_patrol(connection, "worker001", max(shanghai_today(0, 5), datetime.now(SHANGHAI)
                                                  - timedelta(hours=1)), shift=(0.5, 0.0))  # ~43 km east
    assert far in ids(patrols(client, dispatcher, bbox="117.0,39.0,118.5,39.6"))
    town = ids(patrols(client, dispatcher))
    assert far not in town and today_patrols["mine"] in town
    lng, lat = connection.execute(text("""
        SELECT ST_X(ST_StartPoint(track)), ST_Y(ST_StartPoint(track)) FROM patrols WHERE id = :i"""),
                                  {"i": today_patrols["mine"]}).one()
    around = ids(patrols(client, dispatcher, bbox=f"{lng - 0.0002},{lat - 0.0002},{lng + 0.0002},{lat + 0.0002}"))
    assert today_patrols["mine"] in around and today_patrols["elsewhere"] not in around
    assert not ids(patrols(client, dispatcher, bbox="100.0,20.0,100.1,20.1"))


@pytest.mark.parametrize(("params", "field"), [
    ({"bbox": ""}, "bbox"),
    ({"bbox": "1,2,3"}, "bbox"),
    ({"bbox": "117.6,39.25,abc,39.4"}, "bbox"),
    ({"bbox": TOWN, "grid": "120116"}, "grid"),
])
def test_patrols_refuse_bad_parameters(client, params, field):
    response = client.get("/api/v1/map/patrols", query_string=params, headers=bearer(client, "dispatcher1"))
    assert response.status_code == 400
    body = response.get_json()
    assert field in [e["field"] for e in body["errors"]] and body["message_zh"]


def test_patrols_are_capped_at_500(client, connection):
    person_id, code = account(connection, "worker001")
    start = max(shanghai_today(0, 5), datetime.now(SHANGHAI) - timedelta(hours=2))
    connection.execute(text("""
        INSERT INTO patrols (worker_id, grid_code, started_at, ended_at, track, distance_m)
        SELECT :w, :code, :t + i * interval '1 second', NULL,
               ST_MakeLine(ST_PointOnSurface(g.geom), ST_Translate(ST_PointOnSurface(g.geom), 0.0005, 0)), 43
          FROM grids g, generate_series(1, 520) AS i WHERE g.code = :code AND g.valid_to IS NULL"""),
                       {"w": person_id, "code": code, "t": start})
    body = patrols(client, bearer(client, "dispatcher1")).get_json()
    assert len(body["features"]) == tracks.MAX_FEATURES == body["numberReturned"] and body["truncated"]
    starts = [f["properties"]["started_at"] for f in body["features"]]
    assert starts == sorted(starts, reverse=True)  # the newest first
    assert any(f["properties"]["ended_at"] is None for f in body["features"])  # still walking


def test_today_is_the_day_in_shanghai(db):
    """At 07:30 Shanghai (23:30 UTC the day before) a patrol started at 00:10 Shanghai is today's
    and one at 23:50 Shanghai the day before is not."""
    from types import SimpleNamespace

    now = datetime(2026, 11, 20, 7, 30, tzinfo=SHANGHAI)
    _person_id, code = account(db.connection(), "worker001")
    made = {}
    for label, at in (("today", datetime(2026, 11, 20, 0, 10, tzinfo=SHANGHAI)),
                      ("yesterday", datetime(2026, 11, 19, 23, 50, tzinfo=SHANGHAI)),
                      ("tomorrow", datetime(2026, 11, 21, 0, 0, tzinfo=SHANGHAI))):
        made[label] = add_patrol(db.connection(), "worker001", at)
    admin = SimpleNamespace(is_authenticated=True, role="admin", scope_code="120116", id=0)
    bbox = tuple(map(float, TOWN.split(",")))
    seen = {f["id"] for f in tracks.todays_patrols(db, admin, bbox, now=now)["features"]}
    assert made["today"] in seen
    assert made["yesterday"] not in seen and made["tomorrow"] not in seen
    account_id = db.connection().execute(text("SELECT id FROM accounts WHERE username = 'worker001'")).scalar()
    worker = SimpleNamespace(is_authenticated=True, role="worker", scope_code=code, id=account_id)
    assert made["today"] in {f["id"] for f in tracks.todays_patrols(db, worker, bbox, now=now)["features"]}
    with pytest.raises(tracks.TrackAccessDenied):
        tracks.todays_patrols(db, SimpleNamespace(is_authenticated=True, role="department", scope_code=code[:9], id=0), bbox, now=now)
