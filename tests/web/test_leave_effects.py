"""What an approved leave changes (seed 7-2): its working days are excused in the week's attendance
and the 40-hour rule (8 hours less per day), and while it runs the grid's new cases go to the stand-in
the town's centre named (the village's 网格长), each with a case event; before and after, to the worker."""

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import text

from tests.conftest import report, user_named
from webmap.services import attendance, errors, intake
from webmap.services import leave as leaves
from workflow.clock import SHANGHAI

WORKER = "worker057"  # a grid no other test acts in
WEEK = date(2026, 11, 16)  # Monday to Friday are working days


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


@pytest.fixture
def who(db):
    worker = user_named(db, WORKER)
    person = db.execute(text("SELECT person_id FROM accounts WHERE id = :a"), {"a": worker.id}).scalar()
    leader = db.execute(text("SELECT username FROM accounts WHERE role = 'leader' AND scope_code = :v"),
                        {"v": worker.scope_code[:12]}).scalar()
    other = db.execute(text("SELECT username FROM accounts WHERE role = 'leader' AND scope_code <> :v "
                            "ORDER BY username LIMIT 1"), {"v": worker.scope_code[:12]}).scalar()
    return {"worker": worker, "person": person, "leader": user_named(db, leader), "other_leader": other,
            "town": user_named(db, "dispatcher1")}


def _sign_week(db, who, days):
    """The worker's sign-ins of the week replaced by 08:00–16:00 on ``days``."""
    db.execute(text("DELETE FROM attendance WHERE worker_id = :p AND at >= :lo AND at < :hi"),
               {"p": who["person"], "lo": at(WEEK, 0) - timedelta(days=1), "hi": at(WEEK, 0) + timedelta(days=8)})
    for day in days:
        for kind, hour in (("in", 8), ("out", 16)):
            db.execute(text("""
                INSERT INTO attendance (account_id, worker_id, kind, at, geom, grid_code, inside, distance_m, client_id)
                SELECT :a, :p, :k, :t, ST_PointOnSurface(g.geom), g.code, true, 0, :c
                  FROM grids g WHERE g.code = :g AND g.valid_to IS NULL"""),
                       {"a": who["worker"].id, "p": who["person"], "k": kind, "t": at(day, hour),
                        "g": who["worker"].scope_code, "c": f"leave-test-{day}-{kind}"})


def _row(db, who):
    week = attendance.weekly(db, who["town"], WEEK.isoformat(), who["worker"].scope_code[:12],
                             now=at(WEEK + timedelta(days=7)))
    return next(w for w in week["workers"] if w["worker"] == WORKER)


def test_approved_leave_is_excused_in_the_week_and_its_40_hours(db, who):
    _sign_week(db, who, [WEEK, WEEK + timedelta(days=1), WEEK + timedelta(days=4)])  # Mon, Tue, Fri: 24 h
    asked = leaves.ask(db, who["worker"], {"start": "2026-11-18", "end": "2026-11-19", "kind": "病假",
                                           "reason": "发烧"}, now=at(WEEK))
    pending = _row(db, who)  # asked, not yet approved: the days are still missing
    assert (pending["hours"], pending["required_hours"], pending["below_rule"]) == (24.0, 40, True)
    assert pending["missing_days"] == ["2026-11-18", "2026-11-19"] and pending["leave_days"] == []
    leaves.act(db, who["leader"], asked["id"], {"action": "approve", "version": asked["version"]}, now=at(WEEK))
    excused = _row(db, who)
    assert excused["leave_days"] == ["2026-11-18", "2026-11-19"] and excused["missing_days"] == []
    assert (excused["hours"], excused["required_hours"], excused["below_rule"]) == (24.0, 24, False)


def test_reporting_back_early_ends_the_excuse(db, who):
    _sign_week(db, who, [WEEK, WEEK + timedelta(days=3), WEEK + timedelta(days=4)])  # Mon, Thu, Fri
    asked = leaves.ask(db, who["worker"], {"start": "2026-11-17", "end": "2026-11-19", "kind": "事假",
                                           "reason": "家中有事"}, now=at(WEEK))
    approved = leaves.act(db, who["leader"], asked["id"], {"action": "approve", "version": 1}, now=at(WEEK))
    leaves.act(db, who["worker"], asked["id"], {"action": "report_back", "version": approved["version"]},
               now=at(WEEK + timedelta(days=2), 8))  # back on Wednesday morning, not signed in that day
    row = _row(db, who)
    assert row["leave_days"] == ["2026-11-17"] and row["missing_days"] == ["2026-11-18"]
    assert row["required_hours"] == 32


def _grid_point(db, grid_code):
    return db.execute(text("SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM grids "
                           "WHERE code = :g AND valid_to IS NULL"), {"g": grid_code}).one()


def _report(db, who, when, description):
    lng, lat = _grid_point(db, who["worker"].scope_code)
    case_id, _ = intake.report_incident(db, intake.parse_report(report(lng, lat, category="SR02",
                                                                       description=description)),
                                        source="resident", reporter_id=None, reporter_role="resident",
                                        idempotency_key=None, now=when)
    row = db.execute(text("SELECT worker_id FROM incidents WHERE id = :i"), {"i": case_id}).one()
    events = db.execute(text("SELECT action, note FROM case_events WHERE incident_id = :i ORDER BY id"),
                        {"i": case_id}).all()
    return row.worker_id, events


def test_new_cases_of_the_grid_go_to_the_stand_in_while_the_leave_runs(db, who):
    asked = leaves.ask(db, who["worker"], {"start": "2026-11-18", "end": "2026-11-19", "kind": "事假",
                                           "reason": "外出办事"}, now=at(WEEK))
    with pytest.raises(errors.ForbiddenError):  # the town names the stand-in, not the village
        leaves.act(db, who["leader"], asked["id"], {"action": "name_stand_in", "version": 1,
                                                    "stand_in": who["leader"].username}, now=at(WEEK))
    with pytest.raises(errors.InvalidInputError) as refused:  # another village's leader holds none of its cases
        leaves.act(db, who["town"], asked["id"], {"action": "name_stand_in", "version": 1,
                                                  "stand_in": who["other_leader"]}, now=at(WEEK))
    assert refused.value.errors[0].field == "stand_in"
    named = leaves.act(db, who["town"], asked["id"], {"action": "name_stand_in", "version": 1,
                                                      "stand_in": who["leader"].username}, now=at(WEEK))
    leader_person = db.execute(text("SELECT person_id FROM accounts WHERE id = :a"), {"a": who["leader"].id}).scalar()
    assert named["stand_in"]["id"] == leader_person
    leaves.act(db, who["leader"], asked["id"], {"action": "approve", "version": named["version"]}, now=at(WEEK))

    before, events = _report(db, who, at(WEEK + timedelta(days=1)), "顶岗测试: 请假前一天")
    assert before == who["person"] and [e.action for e in events] == ["report"]
    during, events = _report(db, who, at(WEEK + timedelta(days=2)), "顶岗测试: 请假当天")
    assert during == leader_person
    assert [e.action for e in events] == ["report", "stand_in"] and "顶岗" in events[1].note
    after, _ = _report(db, who, at(WEEK + timedelta(days=4)), "顶岗测试: 请假结束后")
    assert after == who["person"]



def test_the_towns_centre_names_the_stand_in_and_approves_a_long_leave_at_its_desk(browser, live_server, engine):
    from sqlalchemy.orm import Session

    from tests.web.desk import DESK, hosts, sign_in, watch
    from tests.web.phone import UNCOVERED

    with Session(engine) as session:
        worker = user_named(session, "worker075")
        first = datetime.now(SHANGHAI).date() + timedelta(days=50)
        while first.weekday() != 0:
            first += timedelta(days=1)
        asked = leaves.ask(session, worker, {"start": first.isoformat(), "end": (first + timedelta(days=11)).isoformat(),
                                             "kind": "婚假", "reason": "婚假 (桌面测试)"})
        leader = session.execute(text("SELECT a.username, p.name FROM accounts a JOIN people p ON p.id = a.person_id "
                                      "WHERE a.role = 'leader' AND a.scope_code = :v"),
                                 {"v": worker.scope_code[:12]}).one()
    assert asked["approver_role"] == "town" and asked["days"] > 3
    context = browser.new_context(viewport=DESK)
    page = context.new_page()
    try:
        seen, errors = watch(page)
        sign_in(page, live_server, "dispatcher1", next_="/staff")
        page.wait_for_url(f"{live_server}/staff")
        row = page.locator(f"#st-leave-table tr[data-id='{asked['id']}']")
        row.wait_for()  # 待我审批 is the first view: a long leave awaits the town
        assert "婚假 (桌面测试)" in row.inner_text() and "镇综治中心审批" in row.inner_text()
        assert page.evaluate(UNCOVERED) == []
        row.locator("select").select_option(leader.username)
        page.wait_for_selector("#st-leave-msg:has-text('指定顶岗')")
        row = page.locator(f"#st-leave-table tr[data-id='{asked['id']}']")
        page.wait_for_function(f"document.querySelector(\"#st-leave-table tr[data-id='{asked['id']}']\")"
                               f".innerText.includes('{leader.name}')")
        row.locator("button[data-action=approve]").click()
        page.wait_for_selector("#st-leave-msg:has-text('批准')")
        page.check("input[name=lv-show][value=open]")
        row = page.locator(f"#st-leave-table tr[data-id='{asked['id']}']")
        row.wait_for()
        assert "已批准" in row.inner_text() and leader.name in row.inner_text()
        assert hosts(seen) == {"127.0.0.1"} and not errors, errors
    finally:
        context.close()
    with engine.connect() as conn:
        state, stand_in = conn.execute(text("SELECT state, stand_in_id FROM leaves WHERE id = :i"), {"i": asked["id"]}).one()
        leader_person = conn.execute(text("SELECT person_id FROM accounts WHERE username = :u"), {"u": leader.username}).scalar()
    assert (state, stand_in) == ("已批准", leader_person)
