"""The dashboard's JSON (统计看板): every tile recomputed from the raw tables (incidents,
case_events, hotline_orders) by plain SQL written here, not by the service; the case reported on
30 September and closed on 9 October; the 环比 / 同比 windows; scopes; bad dates; OpenAPI."""

from datetime import datetime

import pytest
from sqlalchemy import text

from tests.conftest import bearer, user_named
from tests.web.test_stats import grid, photo  # noqa: F401 - fixtures
from webmap.services import actions, intake
from workflow.clock import SHANGHAI

SEPTEMBER = {"since": "2026-09-01", "until": "2026-09-30"}
OCTOBER = {"since": "2026-10-01", "until": "2026-10-31"}

# Each tile as plain SQL over the raw tables, for cases in [:s, :u), judged at :a.
RAW = """
WITH k AS (SELECT i.*, c.code AS cat FROM incidents i JOIN categories c ON c.id = i.category_id
            WHERE (CAST(:village AS text) IS NULL OR i.village_code = :village)),
ev AS (SELECT e.incident_id, e.action FROM case_events e WHERE e.at >= :s AND e.at < :u)
SELECT
  (SELECT count(*) FROM k WHERE reported_at >= :s AND reported_at < :u) AS reported,
  (SELECT count(DISTINCT ev.incident_id) FROM ev JOIN k ON k.id = ev.incident_id WHERE action = 'file') AS filed,
  (SELECT count(*) FROM k WHERE closed_at >= :s AND closed_at < :u) AS closed,
  (SELECT count(*) FROM k WHERE state NOT IN ('作废', '挂账') AND deadline < :a AND reported_at < :a
      AND (closed_at IS NULL OR closed_at > :a)) AS overdue,
  (SELECT avg((closed_at <= deadline)::int) FROM k
    WHERE closed_at >= :s AND closed_at < :u AND deadline IS NOT NULL) AS closed_on_time_rate,
  (SELECT avg(f::int) FROM (SELECT bool_or(action = 'verify_fail') AS f FROM ev JOIN k ON k.id = ev.incident_id
    WHERE action IN ('verify_pass', 'verify_fail') GROUP BY incident_id) v) AS rework_rate,
  (SELECT count(DISTINCT ev.incident_id) FILTER (WHERE action = 'return')::float
          / NULLIF(count(DISTINCT ev.incident_id) FILTER (WHERE action = 'dispatch'), 0)
     FROM ev JOIN k ON k.id = ev.incident_id) AS return_rate,
  (SELECT avg((satisfaction >= 4)::int) FROM k
    WHERE closed_at >= :s AND closed_at < :u AND satisfaction IS NOT NULL) AS satisfaction_rate,
  (SELECT count(DISTINCT ev.incident_id) FROM ev JOIN k ON k.id = ev.incident_id WHERE action = 'self_handle')::float
     / NULLIF((SELECT count(*) FROM k WHERE closed_at >= :s AND closed_at < :u), 0) AS self_handled_share,
  (SELECT avg(GREATEST(EXTRACT(EPOCH FROM closed_at - COALESCE(dispatched_at, reported_at)) / 3600, 0))
     FROM k WHERE closed_at >= :s AND closed_at < :u) AS handling_hours_mean,
  (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY GREATEST(EXTRACT(EPOCH FROM closed_at
          - COALESCE(dispatched_at, reported_at)) / 3600, 0))
     FROM k WHERE closed_at >= :s AND closed_at < :u) AS handling_hours_median
"""
HOTLINE = """
SELECT avg((COALESCE(signed_at, returned_at) <= accept_deadline)::int)
         FILTER (WHERE COALESCE(signed_at, returned_at) IS NOT NULL OR accept_deadline < :a) AS accepted,
       avg((replied_at <= reply_deadline)::int)
         FILTER (WHERE state <> '已退回' AND (replied_at IS NOT NULL OR reply_deadline < :a)) AS replied,
       count(*) FILTER (WHERE return_count > 0) AS returned
  FROM hotline_orders WHERE dispatched_at >= :s AND dispatched_at < :u
"""
DAY = {"2026-09-01": datetime(2026, 9, 1, tzinfo=SHANGHAI), "2026-10-01": datetime(2026, 10, 1, tzinfo=SHANGHAI),
       "2026-11-01": datetime(2026, 11, 1, tzinfo=SHANGHAI)}


def _get(client, who="dispatcher1", status=200, **params):
    r = client.get("/api/v1/stats/dashboard", query_string=params, headers=bearer(client, who))
    assert r.status_code == status, r.get_json()
    return r.get_json()


def _raw(connection, since, until, village=None):
    a = min(until, datetime.now(SHANGHAI))
    row = connection.execute(text(RAW), {"s": since, "u": until, "a": a, "village": village}).mappings().one()
    hot = connection.execute(text(HOTLINE), {"s": since, "u": until, "a": a}).mappings().one()
    return dict(row), dict(hot)


def _close(value, expected, places):
    if expected is None:
        assert value is None
    else:
        assert value == pytest.approx(float(expected), abs=10 ** -places), (value, expected)


def _check_tiles(tiles, raw, hot):
    counts = ("reported", "filed", "closed", "overdue")
    assert {k: tiles[k] for k in counts} == {k: raw[k] for k in counts}
    for key in ("closed_on_time_rate", "rework_rate", "return_rate", "satisfaction_rate", "self_handled_share"):
        _close(tiles[key], raw[key], 4)
        assert tiles[key] is None or 0 <= tiles[key] <= 1
    _close(tiles["handling_hours_mean"], raw["handling_hours_mean"], 2)
    _close(tiles["handling_hours_median"], raw["handling_hours_median"], 2)
    _close(tiles["hotline"]["accepted_on_time_rate"], hot["accepted"], 4)
    _close(tiles["hotline"]["replied_on_time_rate"], hot["replied"], 4)
    assert tiles["hotline"]["returned"] == hot["returned"]


def test_every_tile_matches_plain_sql_with_previous_and_last_year(client, connection):
    body = _get(client, **OCTOBER)
    assert body["period"]["since"] == "2026-10-01T00:00:00+08:00"
    assert body["previous_period"]["since"] == "2026-09-01T00:00:00+08:00"
    assert body["previous_period"]["until"] == "2026-10-01T00:00:00+08:00"
    assert body["last_year_period"]["since"] == "2025-10-01T00:00:00+08:00"
    assert body["tiles"]["reported"] > 100  # the demo town's month is not empty
    _check_tiles(body["tiles"], *_raw(connection, DAY["2026-10-01"], DAY["2026-11-01"]))
    _check_tiles(body["previous"], *_raw(connection, DAY["2026-09-01"], DAY["2026-10-01"]))
    ly = (datetime(2025, 10, 1, tzinfo=SHANGHAI), datetime(2025, 11, 1, tzinfo=SHANGHAI))
    _check_tiles(body["last_year"], *_raw(connection, *ly))
    # the rows add up to the tiles (cases inside grids), the trend is by day, rankings ranked
    inside = connection.execute(text("SELECT count(*) FROM incidents WHERE reported_at >= :s AND reported_at < :u "
                                     "AND grid_code IS NOT NULL"), {"s": DAY["2026-10-01"], "u": DAY["2026-11-01"]}).scalar()
    assert sum(g["reported"] for g in body["by_grid"]) == inside == sum(v["reported"] for v in body["by_village"])
    assert body["trend"]["unit"] == "day" and len(body["trend"]["points"]) == 31
    assert sum(p["reported"] for p in body["trend"]["points"]) == body["tiles"]["reported"]
    assert sum(p["closed"] for p in body["trend"]["points"]) == body["tiles"]["closed"]
    assert sum(s["reported"] for s in body["sources"]) == body["tiles"]["reported"]
    assert sum(c["reported"] for c in body["categories"]) == body["tiles"]["reported"]
    ranked = [c["reported"] for c in body["categories"]]
    assert ranked == sorted(ranked, reverse=True)
    assert 0 < len(body["workers"]) <= 20 and body["workers"][0]["username"].startswith("worker")
    assert body["departments"] and all(set(d) >= {"code", "name", "dispatched", "closed_on_time_rate"}
                                       for d in body["departments"])
    # drill-down: the list API accepts the query string and finds the cases reported in the month
    first = body["by_grid"][0]
    r = client.get(f"/api/v1/incidents?{first['cases']}&limit=1", headers=bearer(client, "dispatcher1"))
    assert r.status_code == 200 and r.get_json()["total"] == first["reported"]
    r = client.get(f"/api/v1/incidents?{body['tiles']['cases']['reported']}&limit=1",
                   headers=bearer(client, "dispatcher1"))
    assert r.get_json()["total"] == body["tiles"]["reported"]


def test_case_of_30_september_closed_9_october(client, db, grid, photo):  # noqa: F811
    before_sep, before_oct = _get(client, **SEPTEMBER)["tiles"], _get(client, **OCTOBER)["tiles"]
    code, lng, lat = grid
    worker, dispatcher = user_named(db, "worker001"), user_named(db, "dispatcher1")
    dept = user_named(db, "dept_huanwei")
    reported = datetime(2026, 9, 30, 21, 30, tzinfo=SHANGHAI)  # 13:30 UTC: still 30 September in Shanghai
    case, _ = intake.report_incident(
        db, intake.parse_report({"category": "SR02", "description": "井盖破损", "address": "振兴路",
                                 "location": {"lng": lng, "lat": lat, "crs": "wgs84"}}),
        source="grid_worker", reporter_id=worker.id, reporter_role="worker", idempotency_key=None, now=reported)
    steps = [(worker, "escalate", {"note": "上报"}, datetime(2026, 9, 30, 22, 0)),
             (dispatcher, "file", {}, datetime(2026, 10, 8, 9, 0)),
             (dispatcher, "dispatch", {"department": "huanwei"}, datetime(2026, 10, 8, 9, 5)),
             (dept, "accept", {}, datetime(2026, 10, 8, 10, 0)),
             (dept, "feedback", {"note": "已更换", "photos": [photo]}, datetime(2026, 10, 9, 11, 0)),
             (worker, "verify_pass", {"photos": [photo]}, datetime(2026, 10, 9, 7, 30, 0))]
    for who, name, body, at in steps:
        at = at.replace(tzinfo=SHANGHAI) if at.hour != 7 else datetime(2026, 10, 9, 15, 30, tzinfo=SHANGHAI)
        version = db.execute(text("SELECT version FROM incidents WHERE id = :i"), {"i": case}).scalar()
        actions.act(db, who, case, name, {"version": version, **body}, lambda sha: sha, now=at)
    closed = db.execute(text("SELECT closed_at FROM incidents WHERE id = :i"), {"i": case}).scalar()
    assert closed.astimezone(SHANGHAI).date().isoformat() == "2026-10-09"
    sep, octo = _get(client, **SEPTEMBER)["tiles"], _get(client, **OCTOBER)["tiles"]
    assert (sep["reported"], sep["closed"]) == (before_sep["reported"] + 1, before_sep["closed"])
    assert (octo["reported"], octo["closed"]) == (before_oct["reported"], before_oct["closed"] + 1)
    assert (sep["filed"], octo["filed"]) == (before_sep["filed"], before_oct["filed"] + 1)


def test_scopes(client, connection):
    town = _get(client, "townleader1", **OCTOBER)
    leader = _get(client, "leader01", **OCTOBER)
    village = connection.execute(text("SELECT left(scope_code, 12) FROM accounts WHERE username = 'leader01'")).scalar()
    assert {v["code"] for v in leader["by_village"]} == {village}
    assert 0 < leader["tiles"]["reported"] < town["tiles"]["reported"]
    raw, _ = _raw(connection, DAY["2026-10-01"], DAY["2026-11-01"], village)
    assert leader["tiles"]["reported"] == raw["reported"] and leader["tiles"]["closed"] == raw["closed"]
    assert _get(client, "district1", **OCTOBER)["tiles"] == town["tiles"]
    filtered = _get(client, "townleader1", village=village, **OCTOBER)
    assert filtered["tiles"]["reported"] == leader["tiles"]["reported"]
    dept = _get(client, "dept_huanwei", **OCTOBER)
    assert dept["tiles"]["reported"] < town["tiles"]["reported"]


@pytest.mark.parametrize(("params", "field"), [
    ({"since": "2026-10-31", "until": "2026-10-01"}, "until"),
    ({"since": "2022-01-01", "until": "2026-10-01"}, "since"),
    ({"since": "2026-13-01"}, "since"),
    ({"sinse": "2026-10-01"}, "sinse"),
])
def test_bad_dates_are_400_in_both_languages(client, params, field):
    body = _get(client, status=400, **params)
    error = next(e for e in body["errors"] if e["field"] == field)
    assert error["zh"] and error["en"] and error["zh"] != error["en"]


def test_openapi_lists_the_route(client):
    assert "/stats/dashboard" in client.get("/api/v1/openapi.json").get_json()["paths"]
