"""Sign-in attendance (签到考勤, seed 7-2) through the API against PostGIS: where a sign-in lies
against the worker's grid, resent sign-ins stored once, field-level refusals, and the week against
the 40-hour rule (pairs of in/out, missing working days, holidays from the table), and who reads."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta

import pytest
from pyproj import Geod
from sqlalchemy import text

from tests.conftest import bearer, sql
from webmap.services import accounts, attendance
from workflow.clock import SHANGHAI

GEOD = Geod(ellps="WGS84")
WEEK = date(2026, 6, 8)  # a Monday; 8–12 June 2026 are working days, the 13th and 14th a weekend


def east_of_grid(connection, code: str, metres: float) -> tuple[float, float]:
    """A point ``metres`` due east of the grid's easternmost vertex: that far from the grid."""
    x, y = sql(connection, """
        SELECT ST_X(p), ST_Y(p) FROM (SELECT (ST_DumpPoints(geom)).geom AS p FROM grids
                                       WHERE code = :c AND valid_to IS NULL) d
         ORDER BY ST_X(p) DESC LIMIT 1""", c=code)[0]
    lng, lat, _back = GEOD.fwd(x, y, 90, metres)
    return lng, lat


def sign_in(client, headers, lng, lat, kind="in", **extra):
    return client.post("/api/v1/attendance", headers=headers,
                       json={"kind": kind, "lng": lng, "lat": lat, "client_id": str(uuid.uuid4()), **extra})


def village_workers(connection, username: str = "worker001") -> list[str]:
    """worker001 and the other workers of its village, by username."""
    village = sql(connection, "SELECT left(scope_code, 12) FROM accounts WHERE username = :u", u=username)[0][0]
    return [r[0] for r in sql(connection, "SELECT username FROM accounts WHERE role = 'worker' "
                                          "AND starts_with(scope_code, :v) ORDER BY username", v=village)]


def leader_of(connection, username: str) -> str:
    return sql(connection, """SELECT l.username FROM accounts l, accounts w WHERE w.username = :u
                               AND l.role = 'leader' AND starts_with(w.scope_code, l.scope_code)
                               ORDER BY l.username LIMIT 1""", u=username)[0][0]


def history(db, username: str, marks, inside_at: tuple[float, float]):
    """Sign-ins in the past through the service (the API refuses those older than two days)."""
    account_id = db.execute(text("SELECT id FROM accounts WHERE username = :u"), {"u": username}).scalar_one()
    user = accounts.load_user(db, account_id)
    for kind, moment, *where in marks:
        lng, lat = where[0] if where else inside_at
        answer = attendance.sign(db, user, {"kind": kind, "lng": lng, "lat": lat, "at": moment.isoformat(),
                                            "client_id": str(uuid.uuid4())}, now=moment + timedelta(minutes=1))
        assert answer["created"]


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), SHANGHAI)


def workday(day: date):
    return [("in", at(day, 8)), ("out", at(day, 16, 30))]  # 8 h 30 min


def point_in_grid(connection, username: str) -> tuple[float, float]:
    return tuple(sql(connection, """SELECT ST_X(ST_PointOnSurface(g.geom)), ST_Y(ST_PointOnSurface(g.geom))
                                     FROM accounts a JOIN grids g ON g.code = a.scope_code AND g.valid_to IS NULL
                                    WHERE a.username = :u""", u=username)[0])


# ---------------------------------------------------------------- signing in


def test_a_sign_in_inside_the_grid_is_inside_at_distance_zero(client, connection, worker_grid):
    code, lng, lat = worker_grid
    worker = bearer(client, "worker001")
    response = sign_in(client, worker, lng, lat, accuracy=8)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["inside"] is True and body["distance_m"] == 0 and body["grid_code"] == code
    assert body["kind"] == "in" and body["created"] is True and body["worker"] == "worker001"
    assert body["accuracy_m"] == 8 and body["tolerance_m"] == 100
    moment = datetime.fromisoformat(body["at"])
    assert abs(moment - datetime.now(SHANGHAI)) < timedelta(minutes=1)  # default: now
    stored = sql(connection, "SELECT inside, distance_m, grid_code, ST_X(geom), ST_Y(geom) FROM attendance "
                             "WHERE id = :i", i=body["id"])[0]
    assert stored[:3] == (True, 0.0, code) and stored[3] == pytest.approx(lng) and stored[4] == pytest.approx(lat)


@pytest.mark.parametrize(("metres", "inside"), [(300, False), (60, True)])
def test_a_sign_in_outside_the_grid_gives_the_distance(client, connection, worker_grid, metres, inside):
    code, _lng, _lat = worker_grid
    lng, lat = east_of_grid(connection, code, metres)
    response = sign_in(client, bearer(client, "worker001"), lng, lat, kind="out")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["inside"] is inside  # the tolerance is 100 m
    assert body["distance_m"] == pytest.approx(metres, abs=2)


def test_the_tolerance_comes_from_the_environment(client, connection, worker_grid, monkeypatch):
    code, _lng, _lat = worker_grid
    monkeypatch.setenv("WANGGE_ATTENDANCE_TOLERANCE_M", "500")
    body = sign_in(client, bearer(client, "worker001"), *east_of_grid(connection, code, 300)).get_json()
    assert body["inside"] is True and body["tolerance_m"] == 500


def test_the_same_client_id_twice_is_one_sign_in(client, connection, worker_grid):
    _code, lng, lat = worker_grid
    worker = bearer(client, "worker001")
    payload = {"kind": "in", "lng": lng, "lat": lat, "client_id": str(uuid.uuid4())}
    first = client.post("/api/v1/attendance", headers=worker, json=payload)
    again = client.post("/api/v1/attendance", headers=worker, json=payload)
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json() == {**first.get_json(), "created": False}
    assert sql(connection, "SELECT count(*) FROM attendance WHERE client_id = :c", c=payload["client_id"])[0][0] == 1


@pytest.mark.parametrize(("payload", "fields"), [
    ({"kind": "sideways", "lng": "117.7", "lat": 200, "client_id": "short", "at": "yesterday"},
     {"kind", "lng", "lat", "client_id", "at"}),
    ({"kind": "in", "lng": 117.7, "lat": 39.3, "client_id": "x" * 65}, {"client_id"}),
    ({"kind": "in", "lng": 2.35, "lat": 48.85, "client_id": "paris-0001"}, {"lng"}),
    ({"kind": "in", "lng": 117.7, "lat": 39.3, "client_id": "abcdefgh", "at": "2026-06-01T08:00:00"}, {"at"}),
    ({"kind": "in", "lng": 117.7, "lat": 39.3, "client_id": "abcdefgh", "accuracy": -3}, {"accuracy"}),
    ({"kind": "in", "lng": True, "lat": None, "client_id": "abcdefgh"}, {"lng", "lat"}),
    ({"kind": "in", "lng": 117.7, "lat": 39.3, "client_id": "abcdefgh' OR 1=1 --"}, None),
])
def test_bad_input_is_400_with_the_fields(client, connection, payload, fields):
    before = sql(connection, "SELECT count(*) FROM attendance")[0][0]
    response = client.post("/api/v1/attendance", headers=bearer(client, "worker001"), json=payload)
    if fields is None:  # a strange but valid id: stored as text, nothing else
        assert response.status_code == 201, response.get_json()
        return
    assert response.status_code == 400, response.get_json()
    body = response.get_json()
    assert {e["field"] for e in body["errors"]} == fields
    assert all(e["zh"] and e["en"] for e in body["errors"]) and body["message_zh"] and body["message_en"]
    assert sql(connection, "SELECT count(*) FROM attendance")[0][0] == before


def test_times_in_the_future_or_older_than_two_days_are_refused(client, worker_grid):
    _code, lng, lat = worker_grid
    worker = bearer(client, "worker001")
    now = datetime.now(SHANGHAI)
    for moment in (now + timedelta(hours=1), now - timedelta(days=3)):
        response = sign_in(client, worker, lng, lat, at=moment.isoformat())
        assert response.status_code == 400 and response.get_json()["errors"][0]["field"] == "at"
    accepted = sign_in(client, worker, lng, lat, at=(now - timedelta(days=1)).isoformat())
    assert accepted.status_code == 201


def test_bodies_that_are_no_object_are_400(client):
    worker = bearer(client, "worker001")
    assert client.post("/api/v1/attendance", headers=worker, json=[1, 2]).status_code == 400
    assert client.post("/api/v1/attendance", headers=worker, data="kind=in").status_code == 400


def test_who_may_sign_in(client, connection, worker_grid):
    _code, lng, lat = worker_grid
    department = sql(connection, "SELECT username FROM accounts WHERE role = 'department' LIMIT 1")[0][0]
    refused = sign_in(client, bearer(client, department), lng, lat)
    assert refused.status_code == 403 and refused.get_json()["message_zh"]
    # a leader with no grid of their own to work: a clear 422
    no_grid = sign_in(client, bearer(client, leader_of(connection, "worker001")), lng, lat)
    assert no_grid.status_code == 422 and "grid" in no_grid.get_json()["message_en"]
    # a worker whose assignment ended
    connection.execute(text("UPDATE grid_assignments SET valid_to = current_date WHERE duty = 'worker' AND "
                            "person_id = (SELECT person_id FROM accounts WHERE username = 'worker001')"))
    assert sign_in(client, bearer(client, "worker001"), lng, lat).status_code == 422


def test_a_day_of_sign_ins(client, connection, db, worker_grid):
    _code, lng, lat = worker_grid
    day = WEEK + timedelta(days=1)
    history(db, "worker001", [("in", at(day, 8)), ("out", at(day, 12)), ("in", at(day, 13)),
                              ("out", at(day, 17, 30))], (lng, lat))
    worker = bearer(client, "worker001")
    body = client.get("/api/v1/attendance", headers=worker, query_string={"date": day.isoformat()}).get_json()
    assert body["worker"] == "worker001" and body["date"] == day.isoformat() and body["hours"] == 8.5
    assert [r["kind"] for r in body["records"]] == ["in", "out", "in", "out"]
    assert body["records"][0]["at"] == at(day, 8).isoformat() and body["records"][0]["inside"] is True
    others = [u for u in village_workers(connection) if u != "worker001"]
    assert client.get("/api/v1/attendance", headers=bearer(client, others[0]),
                      query_string={"worker": "worker001", "date": day.isoformat()}).status_code == 403
    leader = bearer(client, leader_of(connection, "worker001"))
    assert client.get("/api/v1/attendance", headers=leader,
                      query_string={"worker": "worker001", "date": day.isoformat()}).get_json()["hours"] == 8.5
    assert client.get("/api/v1/attendance", headers=leader, query_string={"date": "9 June"}).status_code == 400
    assert client.get("/api/v1/attendance", headers=leader, query_string={"worker": "nobody"}).status_code == 404


# ---------------------------------------------------------------- the week against the 40-hour rule


def weekly(client, headers, **query):
    return client.get("/api/v1/attendance/weekly", headers=headers,
                      query_string={"week": WEEK.isoformat(), **query})


def test_five_days_of_eight_and_a_half_hours_keep_the_rule(client, connection, db):
    inside = point_in_grid(connection, "worker001")
    history(db, "worker001", [m for d in range(5) for m in workday(WEEK + timedelta(days=d))], inside)
    body = weekly(client, bearer(client, "worker001")).get_json()
    assert (body["week_start"], body["week_end"], body["rule_hours"]) == ("2026-06-08", "2026-06-14", 40)
    assert len(body["workers"]) == 1  # a worker reads only their own week
    me = body["workers"][0]
    assert me["worker"] == "worker001" and me["worker_name"]
    assert me["hours"] == 42.5 and me["below_rule"] is False and me["days_signed"] == 5
    assert me["missing_days"] == [] and me["outside"] == 0 and me["open_sessions"] == 0


def test_four_days_fall_below_the_rule_and_the_missing_day_is_named(client, connection, db):
    name = village_workers(connection)[1]
    inside = point_in_grid(connection, name)
    marks = [m for d in range(4) for m in workday(WEEK + timedelta(days=d))]
    marks.append(("in", at(WEEK + timedelta(days=5), 9), east_of_grid(connection, sql(
        connection, "SELECT scope_code FROM accounts WHERE username = :u", u=name)[0][0], 400)))  # Saturday, never closed
    history(db, name, marks, inside)
    leader = bearer(client, leader_of(connection, name))
    rows = {w["worker"]: w for w in weekly(client, leader).get_json()["workers"]}
    me = rows[name]
    assert me["hours"] == 34.0 and me["below_rule"] is True
    assert me["missing_days"] == ["2026-06-12"]  # Friday; the weekend is no working day
    assert me["open_sessions"] == 1 and me["outside"] == 1 and me["days_signed"] == 5
    # nobody else signed in: every working day missing, 0 hours
    others = [w for u, w in rows.items() if u != name]
    assert others and all(w["hours"] == 0 and len(w["missing_days"]) == 5 and w["below_rule"] for w in others)


def test_a_holiday_from_the_table_is_no_missing_day(client, connection, db):
    name = village_workers(connection)[1]
    history(db, name, [m for d in range(4) for m in workday(WEEK + timedelta(days=d))], point_in_grid(connection, name))
    connection.execute(text("INSERT INTO holidays (day, kind, note) VALUES ('2026-06-12', 'holiday', '测试假日')"))
    me = {w["worker"]: w for w in weekly(client, bearer(client, "dispatcher1")).get_json()["workers"]}[name]
    assert me["missing_days"] == [] and me["below_rule"] is True


def test_a_statutory_holiday_is_no_missing_day(client, connection, db):
    # 4–5 May 2026 are Labour Day holidays; Saturday 9 May is a working day (调休)
    inside = point_in_grid(connection, "worker001")
    history(db, "worker001", [m for d in (2, 3, 4) for m in workday(date(2026, 5, 4) + timedelta(days=d))], inside)
    body = client.get("/api/v1/attendance/weekly", headers=bearer(client, "worker001"),
                      query_string={"week": "2026-05-04"}).get_json()
    assert body["workers"][0]["missing_days"] == ["2026-05-09"]


def test_a_session_over_midnight_is_clipped_to_the_week(client, connection, db):
    inside = point_in_grid(connection, "worker001")
    history(db, "worker001", [("in", at(WEEK - timedelta(days=1), 22)), ("out", at(WEEK, 2)),
                              ("in", at(WEEK + timedelta(days=6), 20)), ("out", at(WEEK + timedelta(days=7), 1))],
            inside)
    me = weekly(client, bearer(client, "worker001")).get_json()["workers"][0]
    assert me["hours"] == 6.0 and me["open_sessions"] == 0  # 2 h on Monday, 4 h on Sunday night


def test_who_reads_the_week(client, connection):
    name = village_workers(connection)[0]
    department = sql(connection, "SELECT username FROM accounts WHERE role = 'department' LIMIT 1")[0][0]
    refused = weekly(client, bearer(client, department))
    assert refused.status_code == 403 and refused.get_json()["message_zh"]
    for role in ("planner1", "analyst1"):
        assert weekly(client, bearer(client, role)).status_code == 403
    village = sql(connection, "SELECT left(scope_code, 12) FROM accounts WHERE username = :u", u=name)[0][0]
    leader = bearer(client, leader_of(connection, name))
    mine = weekly(client, leader).get_json()["workers"]
    assert {w["worker"] for w in mine} == set(village_workers(connection))
    assert all(w["grid_code"].startswith(village) for w in mine)
    other = sql(connection, "SELECT code FROM areas WHERE level = 'village' AND code <> :v LIMIT 1", v=village)[0][0]
    assert weekly(client, leader, village=other).status_code == 403
    town = weekly(client, bearer(client, "dispatcher1"), village=village).get_json()["workers"]
    assert {w["worker"] for w in town} == set(village_workers(connection))
    assert len(weekly(client, bearer(client, "dispatcher1")).get_json()["workers"]) > len(town)


@pytest.mark.parametrize(("query", "status"), [
    ({"week": "2026-06-09"}, 400), ({"week": "next week"}, 400), ({"village": "1201' OR '1'='1"}, 400),
    ({"village": "120116103299"}, 404), ({"weak": "2026-06-08"}, 400),
])
def test_bad_weeks_and_villages(client, query, status):
    response = client.get("/api/v1/attendance/weekly", headers=bearer(client, "dispatcher1"),
                          query_string={"week": WEEK.isoformat(), **query})
    assert response.status_code == status, response.get_json()
    assert response.get_json()["message_en"]
