"""The demo town as loaded into PostGIS: tiled, coded, staffed, with a year of incidents."""

import json
import math
from datetime import date, timedelta

import pytest
from sqlalchemy import create_engine, text

from db.demo_town import TOWN_CODE
from tests.conftest import DEMO_INCIDENTS, DEMO_UNTIL
from webmap.services.attendance import RULE_HOURS, hours_between, local_midnight, pair_sessions
from workflow import cases, deadlines, hotline
from workflow.clock import DEFAULT_CALENDAR


def scalar(conn, sql, **params):
    return conn.execute(text(sql), params).scalar()


def test_grids_of_every_village_tile_it(connection):
    rows = connection.execute(text("""
        SELECT v.code,
               ST_Area(v.geom::geography) AS village_area,
               ST_Area(ST_Union(g.geom)::geography) AS union_area,
               (SELECT coalesce(sum(ST_Area(ST_Intersection(a.geom, b.geom)::geography)), 0)
                  FROM grids a JOIN grids b ON a.village_id = b.village_id AND a.id < b.id
                 WHERE a.village_id = v.id AND a.valid_to IS NULL AND b.valid_to IS NULL
                   AND ST_Intersects(a.geom, b.geom)) AS overlap,
               ST_Area(ST_Difference(ST_Union(g.geom), v.geom)::geography) AS outside
          FROM areas v JOIN grids g ON g.village_id = v.id AND g.valid_to IS NULL
         WHERE v.level = 'village'
         GROUP BY v.id
    """)).all()
    assert len(rows) == 20
    for code, village_area, union_area, overlap, outside in rows:
        assert overlap == 0, code
        assert (village_area - union_area) / village_area < 0.001, code
        assert outside < 1e-6 * village_area, code


def test_villages_nest_in_the_town(connection):
    assert scalar(connection, """
        SELECT bool_and(ST_CoveredBy(v.geom, t.geom)) FROM areas v, areas t
         WHERE v.level = 'village' AND t.level = 'town'""")
    assert scalar(connection, "SELECT count(*) FROM grids WHERE NOT starts_with(code, :t)", t=TOWN_CODE) == 0


def test_every_grid_has_a_current_worker_and_leader(connection):
    rows = connection.execute(text("""
        SELECT g.code, count(*) FILTER (WHERE a.duty = 'worker'), count(*) FILTER (WHERE a.duty = 'leader')
          FROM grids g LEFT JOIN grid_assignments a ON a.grid_code = g.code AND a.valid_to IS NULL
         GROUP BY g.code""")).all()
    assert rows and all(w == 1 and lead == 1 for _code, w, lead in rows)


def test_categories_carry_departments_and_time_limits(connection):
    rows = connection.execute(text("""
        SELECT c.class_name, c.name, d.name, c.time_limit, c.time_unit, c.self_handle
          FROM categories c JOIN departments d ON d.id = c.department_id""")).all()
    classes = {r[0] for r in rows}
    assert {"市容环境", "宣传广告", "施工管理", "街面秩序", "突发事件", "公用设施", "园林绿化",
            "矛盾纠纷", "安全隐患", "民生诉求", "停车秩序"} <= classes
    by_name = {r[1]: r for r in rows}
    assert by_name["暴露垃圾"][3:5] == (4, "work_hours")
    assert by_name["绿地维护"][3:5] == (5, "work_days")
    assert "交警" in by_name["违规停车"][2] and by_name["违规停车"][5] is True


def test_a_year_of_incidents_mixed_and_routed(connection):
    assert scalar(connection, "SELECT count(*) FROM incidents") == DEMO_INCIDENTS
    span = scalar(connection, "SELECT max(reported_at) - min(reported_at) FROM incidents")
    assert span > timedelta(days=350)
    assert scalar(connection, "SELECT max(reported_at) FROM incidents") <= DEMO_UNTIL
    assert scalar(connection, "SELECT count(DISTINCT category_id) FROM incidents") >= 20
    assert scalar(connection, "SELECT count(DISTINCT source) FROM incidents") == 4
    assert scalar(connection, "SELECT count(DISTINCT state) FROM incidents") >= 6
    # every stored grid is the one PostGIS routes the point to (ST_Covers, lowest code on an edge)
    assert scalar(connection, """
        SELECT count(*) FROM incidents i
         WHERE i.grid_code IS DISTINCT FROM (
               SELECT g.code FROM grids g WHERE g.valid_to IS NULL AND ST_Covers(g.geom, i.geom)
                ORDER BY g.code LIMIT 1)""") == 0
    assert scalar(connection, "SELECT count(*) FROM incidents WHERE deadline <= reported_at") == 0


def test_seasonality_summer_busier_than_winter(connection):
    summer = scalar(connection, """SELECT count(*) FROM incidents
        WHERE extract(month FROM reported_at AT TIME ZONE 'Asia/Shanghai') IN (6, 7, 8)""")
    winter = scalar(connection, """SELECT count(*) FROM incidents
        WHERE extract(month FROM reported_at AT TIME ZONE 'Asia/Shanghai') IN (12, 1, 2)""")
    assert summer > 1.3 * winter
    rainy_share = scalar(connection, """SELECT avg((extract(month FROM i.reported_at AT TIME ZONE 'Asia/Shanghai')
        BETWEEN 6 AND 9)::int) FROM incidents i JOIN categories c ON c.id = i.category_id WHERE c.name = '路面积水'""")
    assert rainy_share > 0.9  # standing water (路面积水) comes with the rainy season


def test_hotspots_are_real(connection):
    # The densest 1 km² cells hold far more incidents than an even spread would put there.
    counts = connection.execute(text("""
        SELECT count(*) FROM incidents
         GROUP BY ST_SnapToGrid(ST_Transform(geom, 4548), 1000)
         ORDER BY 1 DESC""")).scalars().all()
    town_km2 = scalar(connection, "SELECT ST_Area(geom::geography) / 1e6 FROM areas WHERE level = 'town'")
    even = DEMO_INCIDENTS / town_km2
    assert sum(c > 6 * even for c in counts[:5]) >= 3
    assert counts[-1] < 2 * even


def test_a_week_of_patrol_tracks(connection):
    workers = scalar(connection, "SELECT count(DISTINCT worker_id) FROM patrols")
    days = scalar(connection, """SELECT count(DISTINCT (started_at AT TIME ZONE 'Asia/Shanghai')::date) FROM patrols""")
    assert workers >= 70 and days == 8  # the week before, and today
    # tracks stay inside their own grid, and their length is that of a walk of an hour or two
    assert scalar(connection, """SELECT count(*) FROM patrols p JOIN grids g ON g.code = p.grid_code
        WHERE NOT ST_CoveredBy(p.track, g.geom)""") == 0
    lo, hi = connection.execute(text("SELECT min(distance_m), max(distance_m) FROM patrols")).one()
    assert 1000 < lo and hi < 15000
    assert scalar(connection, "SELECT count(*) FROM gps_fixes") > 50_000


def test_demo_is_labelled_synthetic(connection):
    demo = scalar(connection, "SELECT value FROM settings WHERE key = 'demo'")
    assert demo["synthetic"] is True
    for table in ("areas", "grids", "people", "incidents", "patrols"):
        assert scalar(connection, f"SELECT bool_and(synthetic) FROM {table}") is True  # noqa: S608


def test_population_near_the_norms(connection):
    avg, top = connection.execute(text(
        "SELECT avg(households), max(residents) FROM grids WHERE kind = 'comprehensive'")).one()
    assert 250 <= avg <= 350 and top <= 2500
    assert math.isfinite(float(avg))
    assert json  # the settings row is JSON (checked above)


# ---------------------------------------------------------------- the backlog a town's desks open on

@pytest.fixture(scope="module")
def backlog(demo_database):
    """A demo town of its own, so that the cases other tests act on do not change its backlog."""
    engine = create_engine(demo_database("backlog", incidents=DEMO_INCIDENTS))
    with engine.connect() as conn:
        yield conn
    engine.dispose()


def _open_cases(conn) -> list:
    return conn.execute(text("""
        SELECT i.id, i.state, i.tier, i.grid_code, c.self_handle, i.department_id, i.extension_pending,
               i.dispatched_at, i.reported_at, i.deadline, c.time_unit
          FROM incidents i JOIN categories c ON c.id = i.category_id
         WHERE i.state = ANY(:open)"""), {"open": list(cases.OPEN_STATES)}).all()


def test_open_cases_are_recent_in_every_state_and_few_overdue(backlog):
    rows = _open_cases(backlog)
    assert 80 <= len(rows) <= 0.15 * DEMO_INCIDENTS
    recent = sum(r.reported_at > DEMO_UNTIL - timedelta(days=30) for r in rows)
    assert recent >= 0.8 * len(rows)
    assert {r.state for r in rows} == set(cases.OPEN_STATES)
    assert sum(r.extension_pending for r in rows) >= 3
    statuses = [
        deadlines.status(deadlines.clock_start(r.dispatched_at, r.reported_at), r.deadline, DEMO_UNTIL,
                         working=deadlines.measured_on_working_clock(r.time_unit)).status
        for r in rows if r.state in deadlines.CLOCK_STATES]
    overdue = statuses.count(deadlines.RED)
    assert 0.02 * len(rows) <= overdue <= 0.09 * len(rows)  # a few overdue, the supervised among them
    assert statuses.count(deadlines.NORMAL) >= 0.7 * len(statuses)
    assert statuses.count(deadlines.YELLOW) >= 3
    # the year of history is closed: nothing older than a month waits but a few parked cases
    old = [r.state for r in rows if r.reported_at < DEMO_UNTIL - timedelta(days=30)]
    assert set(old) <= {cases.PARKED}
    waiting_visit = scalar(backlog, """SELECT count(*) FROM incidents i WHERE state = '结案' AND tier = 'town'
        AND closed_at > :t AND NOT EXISTS (SELECT 1 FROM case_events e WHERE e.incident_id = i.id
        AND e.action = 'return_visit')""", t=DEMO_UNTIL - timedelta(days=7))
    assert waiting_visit >= 5


def _orders(conn) -> list:
    return conn.execute(text("SELECT * FROM hotline_orders ORDER BY id")).all()


def test_every_account_has_something_to_do_now(backlog):
    """Each demo account that the rules let act at all finds cases or 12345 orders in its 待办
    (the return visit, open on every closed case, aside)."""
    open_cases = [cases.Case(state=r.state, tier=r.tier, grid_code=r.grid_code, category_self_handle=r.self_handle,
                             department_id=r.department_id, extension_pending=r.extension_pending)
                  for r in _open_cases(backlog)]
    orders = [hotline.Order(state=o.state, urgency=o.urgency, dispatched_at=o.dispatched_at,
                            accept_deadline=o.accept_deadline, reply_deadline=o.reply_deadline,
                            department_id=o.department_id, assigned_at=o.assigned_at, signed_at=o.signed_at,
                            replied_at=o.replied_at, returned_at=o.returned_at, draft=o.draft)
              for o in _orders(backlog)]
    acting = {r for a in cases.ACTIONS.values() for r in a.roles} | {
        r for a in hotline.ACTIONS.values() for r in a.roles}
    accounts = backlog.execute(text("SELECT id, username, role, scope_code, department_id FROM accounts")).all()
    idle = []
    for a in accounts:
        if a.role not in acting:
            continue
        actor = cases.Actor(a.id, a.role, a.scope_code, a.department_id)
        on_cases = sum(bool(set(cases.allowed_actions(c, actor)) - {"return_visit"}) for c in open_cases)
        desk = hotline.Actor(a.id, a.role, a.department_id)
        on_orders = sum(bool(hotline.allowed_actions(o, desk, DEMO_UNTIL, DEFAULT_CALENDAR)) for o in orders)
        if on_cases + on_orders < 1 or (a.role in ("worker", "dispatcher", "town_leader") and on_cases + on_orders < 2):
            idle.append((a.username, on_cases, on_orders))
    assert not idle
    assert {a.role for a in accounts} >= {"worker", "leader", "dispatcher", "town_leader", "department", "district"}


def test_events_name_who_acted(backlog):
    # every step a person took names their account; only the residents' and the platform's reports
    # and the center's own handling (it has no department account) name none
    anonymous = backlog.execute(text("""
        SELECT e.action, e.role, d.code, count(*) FROM case_events e JOIN incidents i ON i.id = e.incident_id
          JOIN departments d ON d.id = i.department_id
         WHERE e.actor_id IS NULL GROUP BY 1, 2, 3""")).all()
    assert anonymous
    for action, role, dept, _n in anonymous:
        assert action == "report" or (role == "department" and dept == "zongzhi"), (action, role, dept)
    assert scalar(backlog, """SELECT count(*) FROM case_events e JOIN accounts a ON a.id = e.actor_id
        WHERE a.role <> e.role""") == 0
    assert scalar(backlog, """SELECT count(*) FROM case_events e JOIN incidents i ON i.id = e.incident_id
        JOIN accounts a ON a.id = e.actor_id WHERE e.role = 'worker' AND a.scope_code <> i.grid_code""") == 0
    assert scalar(backlog, "SELECT count(*) FROM hotline_events WHERE actor_id IS NULL") == 0


def test_12345_orders_in_every_state_on_the_tianjin_clock(backlog):
    orders = _orders(backlog)
    assert 60 <= len(orders) <= 120
    assert {o.state for o in orders} == set(hotline.STATES)
    assert all(o.order_no.startswith("DEMO-") and "演示数据" in o.content for o in orders)
    for o in orders:
        assert o.dispatched_at < o.created_at <= o.updated_at <= DEMO_UNTIL
        assert o.accept_deadline == hotline.accept_deadline(o.dispatched_at, o.urgency, DEFAULT_CALENDAR)
        assert o.reply_deadline == hotline.default_reply_deadline(o.dispatched_at, DEFAULT_CALENDAR)
        assert (o.signed_at is None) == (o.state in (hotline.PENDING, hotline.RETURNED))
    pending = [o for o in orders if o.state == hotline.PENDING]
    running = [hotline.clocks(hotline.Order(o.state, o.urgency, o.dispatched_at, o.accept_deadline,
                                            o.reply_deadline), DEMO_UNTIL)["accept"].status for o in pending]
    assert running.count("normal") + running.count("yellow") >= len(pending) - 1 and "red" in running
    late = [o for o in orders if o.state in hotline.REPLY_OWED and o.reply_deadline < DEMO_UNTIL]
    assert 1 <= len(late) <= 0.1 * len(orders) and all(o.supervise_count == 1 for o in late if o.signed_at)
    # the located ones are cases of source 12345 in their grid, in a state that fits the order's
    linked = backlog.execute(text("""
        SELECT o.state, i.state AS case_state, i.source, i.description, o.order_no, i.raw_lng = o.lng
          FROM hotline_orders o JOIN incidents i ON i.id = o.incident_id""")).all()
    assert len(linked) >= 20
    for order_state, case_state, source, description, number, same_place in linked:
        assert source == "hotline_12345" and number in description and same_place
        assert (case_state == "结案") == (order_state in hotline.DONE_STATES)
    assert scalar(backlog, "SELECT count(*) FROM hotline_events WHERE data->>'via' = 'demo'") == len(orders)


def test_a_week_of_sign_ins_and_walks(backlog):
    monday = date(2026, 11, 16)  # the demo's week: DEMO_UNTIL is its Friday evening
    workers = backlog.execute(text("SELECT count(*) FROM accounts WHERE role = 'worker'")).scalar()
    marks = backlog.execute(text("""SELECT worker_id, kind, at FROM attendance
        WHERE at >= :lo AND at < :hi AND synthetic"""), {"lo": local_midnight(monday),
                                                        "hi": local_midnight(monday + timedelta(days=7))}).all()
    by_worker: dict = {}
    for worker, kind, at in marks:
        by_worker.setdefault(worker, []).append((kind, at))
    hours = sorted(hours_between(pair_sessions(m).sessions, monday, monday + timedelta(days=7))
                   for m in by_worker.values())
    assert len(hours) == workers
    assert sum(h >= RULE_HOURS for h in hours) >= 0.7 * workers  # most meet the 40-hour rule
    assert hours[0] < RULE_HOURS  # and someone was late, left early or absent
    assert scalar(backlog, "SELECT bool_and(inside) FROM attendance") is True
    # patrols are walked while on duty, and their moving time is most of their time
    lo, hi, moving = backlog.execute(text("""SELECT min(moving_s / duration_s), max(moving_s / duration_s),
        sum(moving_s) / 3600 FROM patrols""")).one()
    assert 0.5 < lo and hi <= 1 and moving > 100
    assert scalar(backlog, """SELECT count(*) FROM patrols p WHERE NOT EXISTS (
        SELECT 1 FROM attendance a WHERE a.worker_id = p.worker_id AND a.kind = 'in'
           AND a.at <= p.started_at AND a.at > p.started_at - interval '12 hours')""") == 0
