"""Patrols through the API against PostGIS: a GPX walk through a grid gets the right distance,
coverage and key places; batches resent after being offline add nothing twice; a teleport and a
copy of yesterday's track are flagged (never dropped) and the town reviews them; who sees tracks."""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta

import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely import wkb

from tests.conftest import bearer, gpx, sql, upload, walk
from workflow.clock import SHANGHAI

GEOD = Geod(ellps="WGS84")


@pytest.fixture
def grid(connection):
    """worker001's grid: its code and geometry."""
    code, geom = sql(connection, """
        SELECT g.code, ST_AsBinary(g.geom) FROM accounts a JOIN grids g ON g.code = a.scope_code
         WHERE a.username = 'worker001' AND g.valid_to IS NULL""")[0]
    return code, wkb.loads(bytes(geom))


def test_a_gpx_walk_gets_distance_coverage_and_key_places(client, connection, grid):
    code, geom = grid
    worker = bearer(client, "worker001")
    start = datetime.now(SHANGHAI).replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=1)
    (lng, lat), points = walk(geom, start)
    # a key place on the path and one far from it
    on_path = (float(lng[len(lng) // 2]), float(lat[len(lat) // 2]))
    town = bearer(client, "dispatcher1")
    for name, (x, y) in (("幼儿园", on_path), ("加油站", geom.exterior.coords[0] if geom.geom_type == "Polygon"
                                                     else geom.geoms[0].exterior.coords[0])):
        response = client.post(f"/api/v1/grids/{code}/checkpoints", headers=town,
                               json={"name": name, "lng": x, "lat": y, "radius_m": 30})
        assert response.status_code == 201, response.get_json()

    response = upload(client, worker, gpx(points))
    assert response.status_code == 201, response.get_json()
    patrol = response.get_json()
    true_length = GEOD.line_length(lng, lat)
    assert patrol["distance_m"] == pytest.approx(true_length, rel=0.02)
    assert patrol["duration_s"] == pytest.approx(1800, abs=5)
    assert patrol["moving_s"] > 1500
    # coverage: the share of the grid within 30 m of the true path, computed apart in metres
    kx = 111_320 * math.cos(math.radians(geom.centroid.y))
    to_m = lambda g: shapely.transform(g, lambda c: np.column_stack((c[:, 0] * kx, c[:, 1] * 110_574)))  # noqa: E731
    corridor = to_m(shapely.LineString(np.column_stack((lng, lat)))).buffer(30)
    expected = corridor.intersection(to_m(geom)).area / to_m(geom).area
    assert patrol["coverage"] == pytest.approx(expected, abs=0.03)
    assert patrol["checkpoints"]["visited"] == ["幼儿园"] and patrol["checkpoints"]["missed"] == ["加油站"]
    assert patrol["outside_s"] < 60 and patrol["flags"] == []

    # the same file again: the same patrol, nothing new
    again = upload(client, worker, gpx(points))
    assert again.status_code == 200 and again.get_json()["id"] == patrol["id"]
    listed = client.get("/api/v1/patrols", headers=worker,
                        query_string={"worker": "worker001", "date": start.date().isoformat()}).get_json()
    assert isinstance(listed, list) and [p["id"] for p in listed].count(patrol["id"]) == 1
    assert {"distance_m", "duration_s", "moving_s", "coverage", "checkpoints", "outside_s", "flags"} <= set(listed[0])


def test_batches_resent_after_being_offline_are_stored_once(client, connection, grid):
    code, geom = grid
    worker = bearer(client, "worker001")
    start = datetime.now(SHANGHAI) - timedelta(hours=3)
    _true, points = walk(geom, start, seconds=600, seed=2)
    client_id = str(uuid.uuid4())
    first = client.post("/api/v1/patrols", headers=worker, json={"client_id": client_id, "started_at": start.isoformat()})
    assert first.status_code == 201
    again = client.post("/api/v1/patrols", headers=worker, json={"client_id": client_id, "started_at": start.isoformat()})
    assert again.status_code == 200 and again.get_json()["id"] == first.get_json()["id"]
    pid = first.get_json()["id"]
    fixes = [{"t": t.isoformat(), "lng": x, "lat": y, "accuracy": 5} for t, x, y in points]
    half = len(fixes) // 2
    assert client.post(f"/api/v1/patrols/{pid}/fixes", headers=worker, json={"fixes": fixes[:half]}).get_json()["added"] == half
    resent = client.post(f"/api/v1/patrols/{pid}/fixes", headers=worker, json={"fixes": fixes}).get_json()
    assert resent["added"] == len(fixes) - half and resent["duplicates"] == half
    stopped = client.post(f"/api/v1/patrols/{pid}/stop", headers=worker, json={}).get_json()
    assert stopped["ended_at"] and stopped["distance_m"] > 0
    assert sql(connection, "SELECT count(*) FROM gps_fixes WHERE patrol_id = :p", p=pid)[0][0] == len(fixes)
    # a late batch after the stop: kept, metrics again
    late = [{"t": (points[-1][0] + timedelta(seconds=5 * k)).isoformat(), "lng": points[-1][1], "lat": points[-1][2]}
            for k in range(1, 4)]
    assert client.post(f"/api/v1/patrols/{pid}/fixes", headers=worker, json={"fixes": late}).get_json()["added"] == 3
    again = client.get(f"/api/v1/patrols/{pid}", headers=worker).get_json()  # computed again on reading
    assert again["distance_m"] is not None and again["duration_s"] == pytest.approx(stopped["duration_s"] + 15, abs=1)
    # bad fixes: the whole batch refused with reasons
    bad = client.post(f"/api/v1/patrols/{pid}/fixes", headers=worker,
                      json={"fixes": [{"t": "yesterday", "lng": 117.7, "lat": 39.3}, {"t": start.isoformat(),
                                                                                       "lng": 2.3, "lat": 48.8}]})
    assert bad.status_code == 400 and len(bad.get_json()["errors"]) == 2


def test_a_teleport_and_a_copy_of_yesterday_are_flagged_and_reviewed(client, connection, grid):
    code, geom = grid
    worker = bearer(client, "worker001")
    yesterday = datetime.now(SHANGHAI).replace(hour=14, minute=0, second=0, microsecond=0) - timedelta(days=2)
    _true, points = walk(geom, yesterday, seconds=1200, seed=3)
    assert upload(client, worker, gpx(points)).status_code == 201
    copy = [(t + timedelta(days=1), x, y) for t, x, y in points]
    flagged = upload(client, worker, gpx(copy)).get_json()
    assert "repeat" in {f["code"] for f in flagged["flags"]}
    jump = list(points)
    t, x, y = jump[len(jump) // 2]
    jump[len(jump) // 2] = (t, x + 0.04, y)  # 3.4 km away for one fix
    teleport = upload(client, worker, gpx([(t + timedelta(days=3), x, y) for t, x, y in jump])).get_json()
    assert "jump" in {f["code"] for f in teleport["flags"]}
    assert teleport["distance_m"] > 0  # kept, not dropped

    town = bearer(client, "dispatcher1")
    queue = client.get("/api/v1/patrols", headers=town, query_string={"flagged": 1}).get_json()
    assert {flagged["id"], teleport["id"]} <= {p["id"] for p in queue}
    assert client.post(f"/api/v1/patrols/{teleport['id']}/review", headers=worker,
                       json={"verdict": "rejected"}).status_code == 403
    done = client.post(f"/api/v1/patrols/{teleport['id']}/review", headers=town,
                       json={"verdict": "rejected", "note": "定位漂移"}).get_json()
    assert done["review"] == "rejected"
    queue = client.get("/api/v1/patrols", headers=town, query_string={"flagged": 1}).get_json()
    assert teleport["id"] not in {p["id"] for p in queue}


def test_tracks_are_seen_by_the_worker_the_leader_and_the_town_only(client, connection, grid):
    code, geom = grid
    worker = bearer(client, "worker001")
    start = datetime.now(SHANGHAI) - timedelta(days=1, hours=2)
    _true, points = walk(geom, start, seconds=300, seed=4)
    patrol = upload(client, worker, gpx(points)).get_json()
    leader = sql(connection, "SELECT username FROM accounts WHERE role = 'leader' AND :c LIKE scope_code || '%' "
                             "LIMIT 1", c=code)[0][0]
    other_worker = sql(connection, "SELECT username FROM accounts WHERE role = 'worker' AND scope_code <> :c "
                                   "LIMIT 1", c=code)[0][0]
    other_leader = sql(connection, "SELECT username FROM accounts WHERE role = 'leader' AND NOT :c LIKE scope_code || '%' "
                                   "LIMIT 1", c=code)[0][0]
    for username, status in ((leader, 200), ("dispatcher1", 200), (other_worker, 404), (other_leader, 404)):
        response = client.get(f"/api/v1/patrols/{patrol['id']}", headers=bearer(client, username))
        assert response.status_code == status, username
    department = sql(connection, "SELECT username FROM accounts WHERE role = 'department' LIMIT 1")[0][0]
    assert client.get("/api/v1/patrols", headers=bearer(client, department)).status_code == 403
    playback = client.get(f"/api/v1/patrols/{patrol['id']}", headers=worker, query_string={"fixes": 1}).get_json()
    assert len(playback["fixes"]) == len(points)


def test_gpx_errors_are_clear(client):
    worker = bearer(client, "worker001")
    for data in (b"<gpx><trk>", b'<?xml version="1.0"?><gpx version="1.1"></gpx>',
                 b'<?xml version="1.0"?><!DOCTYPE g [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
                 b'<gpx>&b;</gpx>'):
        response = upload(client, worker, data)
        assert response.status_code == 400, response.get_json()
        assert response.get_json()["message_zh"] and response.get_json()["message_en"]


def test_retention_forgets_old_whereabouts_but_keeps_the_metrics(client, connection, db, grid):
    from webmap.services import patrols

    code, geom = grid
    worker = bearer(client, "worker001")
    old = datetime.now(SHANGHAI) - timedelta(days=400)
    _true, points = walk(geom, old, seconds=300, seed=5)
    patrol = upload(client, worker, gpx(points)).get_json()
    summary = patrols.purge(db, days=180)
    assert summary["fixes_deleted"] >= len(points)
    assert sql(connection, "SELECT count(*) FROM gps_fixes WHERE patrol_id = :p", p=patrol["id"])[0][0] == 0
    track, distance = sql(connection, "SELECT track, distance_m FROM patrols WHERE id = :p", p=patrol["id"])[0]
    assert track is None and distance == pytest.approx(patrol["distance_m"], abs=0.1)


@pytest.mark.parametrize(("path", "payload"), [
    ("/api/v1/patrols", {"client_id": "csrf-test-0001"}),
    ("/api/v1/attendance", {"kind": "in", "lng": 117.7, "lat": 39.3, "client_id": "csrf-test-0002"}),
    ("/api/v1/plans", {"title": "x"}),
])
def test_bearer_tokens_need_no_csrf_token_and_cookies_do(app, client, path, payload):
    """With CSRF on (as in production): a phone's or script's bearer token is not refused for the
    missing form token; a cookie session without X-CSRFToken is."""
    headers = bearer(client, "planner1" if "plans" in path else "worker001")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        with_token = client.post(path, json=payload, headers=headers)
        assert with_token.status_code in (200, 201), with_token.get_json()
        other = app.test_client()
        other.post("/api/v1/auth/login", json={"username": "planner1" if "plans" in path else "worker001",
                                               "password": "demo"})
        refused = other.post(path, json=payload)
        assert refused.status_code == 400 and "CSRF" in refused.get_json()["message_en"], refused.get_json()
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_the_review_queue_is_paged_newest_first_and_village_is_checked(client, connection, grid):
    code, geom = grid
    worker = bearer(client, "worker001")
    ids = []
    for day in (5, 4):  # two flagged patrols (a teleport each), on two days
        start = datetime.now(SHANGHAI).replace(hour=10, minute=0, second=0, microsecond=0) - timedelta(days=day)
        _true, points = walk(geom, start, seconds=600, seed=10 + day)
        t, x, y = points[len(points) // 2]
        points[len(points) // 2] = (t, x + 0.04, y)
        ids.append(upload(client, worker, gpx(points)).get_json()["id"])
    town = bearer(client, "dispatcher1")
    queue = client.get("/api/v1/patrols", headers=town, query_string={"flagged": 1, "limit": 1}).get_json()
    assert len(queue) == 1
    page2 = client.get("/api/v1/patrols", headers=town, query_string={"flagged": 1, "limit": 1, "offset": 1}).get_json()
    ours = [p["id"] for p in client.get("/api/v1/patrols", headers=town, query_string={"flagged": 1}).get_json()
            if p["id"] in ids]
    assert ours == [ids[1], ids[0]]  # the newer first
    assert queue[0]["id"] != page2[0]["id"]
    bad = client.get("/api/v1/patrols", headers=town, query_string={"village": "x"})
    assert bad.status_code == 400 and bad.get_json()["field"] == "village"
