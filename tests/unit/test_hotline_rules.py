"""The 12345 hotline order rules (workflow/hotline.py): the seed 4-1 path, who may do what from
which state, the time limits of decree No. 39 on the working-day clock, deadline colours."""

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow import hotline as h
from workflow.clock import DEFAULT_CALENDAR, SHANGHAI, WorkCalendar

CAL = DEFAULT_CALENDAR
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)  # a Monday morning
DESK = h.Actor(1, "dispatcher")
LEADER = h.Actor(2, "town_leader")
SHEHUI = h.Actor(3, "department", department_id=10)
JIANSHE = h.Actor(4, "department", department_id=11)
DISTRICT = h.Actor(5, "district")
ANALYST = h.Actor(6, "analyst")
WORKER = h.Actor(7, "worker")
ADMIN = h.Actor(8, "admin")
ACTORS = [DESK, LEADER, SHEHUI, JIANSHE, DISTRICT, ANALYST, WORKER, ADMIN]


def order(state=h.PENDING, urgency=h.NORMAL, dispatched_at=T0, department_id=None, assigned_at=None, **extra):
    return h.Order(state=state, urgency=urgency, dispatched_at=dispatched_at,
                   accept_deadline=h.accept_deadline(dispatched_at, urgency, CAL),
                   reply_deadline=h.default_reply_deadline(dispatched_at, CAL),
                   department_id=department_id, assigned_at=assigned_at, **extra)


def step(o, name, actor, now, **kw):
    action = h.check(name, o, actor, now, CAL)
    changes = h.transition(o, action, now, CAL, **kw)
    fields = {k: v for k, v in changes.items() if k in h.Order.__dataclass_fields__}
    return h.Order(**{**o.__dict__, **fields}), changes


def test_the_seed_path_from_dispatch_to_close():
    o = order()
    now = T0 + timedelta(minutes=5)
    assert h.allowed_actions(o, DESK, now, CAL) == ["sign", "return_order"]
    assert h.allowed_actions(o, LEADER, now, CAL) == []
    o, changes = step(o, "sign", DESK, now)
    assert o.state == h.SIGNED and changes["signed_at"] == now
    assert h.allowed_actions(o, LEADER, now, CAL) == ["instruct"]
    o, changes = step(o, "instruct", LEADER, now, text="请社会事务办阅办")
    assert o.state == h.INSTRUCTED and changes["instruction"] == "请社会事务办阅办"
    o, changes = step(o, "assign", DESK, now, department_id=10)
    assert o.state == h.HANDLING and o.department_id == 10 and changes["assigned_at"] == now
    assert h.allowed_actions(o, SHEHUI, now, CAL) == ["draft_reply", "return_to_town"]
    assert h.allowed_actions(o, JIANSHE, now, CAL) == []
    o, changes = step(o, "draft_reply", SHEHUI, now, text="已核实, 将于本周内解决")
    assert o.state == h.DRAFTED and o.draft == "已核实, 将于本周内解决"
    o, changes = step(o, "reply", DESK, now)
    assert o.state == h.REPLIED and changes["reply"] == "已核实, 将于本周内解决"  # the draft, unless edited
    assert h.allowed_actions(o, DESK, now, CAL) == []
    assert h.allowed_actions(o, DISTRICT, now, CAL) == ["close"]
    o, changes = step(o, "close", DISTRICT, now)
    assert o.state == h.CLOSED and changes["closed_at"] == now
    assert all(h.allowed_actions(o, a, now, CAL) == [] for a in ACTORS)


def test_return_and_redispatch_restart_the_clocks():
    o, changes = step(order(h.SIGNED), "return_order", DESK, T0 + timedelta(hours=1), text="属开发区管辖")
    assert o.state == h.RETURNED and changes["return_count"] == 1
    later = T0 + timedelta(days=3)
    o, changes = step(o, "redispatch", DISTRICT, later)
    assert o.state == h.PENDING and changes["dispatched_at"] == later and changes["signed_at"] is None
    assert changes["accept_deadline"] == h.accept_deadline(later, h.NORMAL, CAL)
    assert changes["reply_deadline"] == h.default_reply_deadline(later, CAL)


def test_a_section_returns_what_is_not_its_own_to_the_town():
    o = order(h.HANDLING, department_id=10, assigned_at=T0)
    o, changes = step(o, "return_to_town", SHEHUI, T0 + timedelta(hours=2), text="属规划建设办职责")
    assert o.state == h.INSTRUCTED and o.department_id is None and changes["assigned_at"] is None
    assert h.allowed_actions(o, DESK, T0 + timedelta(hours=2), CAL) == ["return_order", "assign"]


@pytest.mark.parametrize(("name", "the_order", "actor", "status"), [
    ("sign", order(), LEADER, 403),
    ("sign", order(), SHEHUI, 403),
    ("sign", order(), ANALYST, 403),
    ("instruct", order(h.SIGNED), DESK, 403),  # instructions are the leaders' alone
    ("assign", order(h.INSTRUCTED), LEADER, 403),
    ("draft_reply", order(h.HANDLING, department_id=10, assigned_at=T0), JIANSHE, 403),  # not theirs
    ("draft_reply", order(h.HANDLING, department_id=10, assigned_at=T0), DESK, 403),
    ("reply", order(h.DRAFTED, department_id=10), SHEHUI, 403),
    ("close", order(h.REPLIED), DESK, 403),  # only the district closes
    ("close", order(h.REPLIED), ADMIN, 403),
    ("redispatch", order(h.RETURNED), DESK, 403),
    ("return_to_town", order(h.HANDLING, department_id=10, assigned_at=T0), DESK, 403),
    ("supervise", order(h.HANDLING, department_id=10), SHEHUI, 403),
    ("instruct", order(), LEADER, 422),  # not signed for yet
    ("assign", order(h.SIGNED), DESK, 422),  # no instruction yet
    ("reply", order(h.HANDLING, department_id=10), DESK, 422),  # no draft yet
    ("close", order(h.DRAFTED), DISTRICT, 422),  # not replied yet
    ("redispatch", order(h.SIGNED), DISTRICT, 422),
    ("sign", order(h.CLOSED), DESK, 422),
    ("supervise", order(h.HANDLING, department_id=10), DESK, 422),  # not overdue
    ("fly", order(), DESK, 422),
])
def test_refusals_say_why(name, the_order, actor, status):
    with pytest.raises(h.TransitionError) as refused:
        h.check(name, the_order, actor, T0 + timedelta(minutes=1), CAL)
    assert refused.value.status == status and refused.value.zh and refused.value.en


def test_returns_only_within_one_working_day():
    friday_evening = datetime(2026, 11, 27, 18, 0, tzinfo=SHANGHAI)
    o = order(h.SIGNED, dispatched_at=friday_evening)
    monday_afternoon = datetime(2026, 11, 30, 17, 0, tzinfo=SHANGHAI)
    assert "return_order" in h.allowed_actions(o, DESK, monday_afternoon, CAL)  # the weekend does not count
    with pytest.raises(h.TransitionError) as refused:
        h.check("return_order", o, DESK, monday_afternoon + timedelta(hours=1), CAL)
    assert refused.value.status == 422 and "1 个工作日" in refused.value.zh
    handling = order(h.HANDLING, department_id=10, assigned_at=friday_evening)
    with pytest.raises(h.TransitionError):
        h.check("return_to_town", handling, SHEHUI, datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI), CAL)


@pytest.mark.parametrize(("urgency", "dispatched", "deadline"), [
    # decree No. 39: 15 minutes for life and property, 30 for water/electricity/gas/heating
    (h.LIFE_PROPERTY, datetime(2026, 11, 27, 18, 0), datetime(2026, 11, 27, 18, 15)),
    (h.UTILITIES, datetime(2026, 11, 27, 18, 0), datetime(2026, 11, 27, 18, 30)),
    (h.UTILITIES, datetime(2026, 9, 30, 23, 50), datetime(2026, 10, 1, 0, 20)),  # minutes run on holidays
    # otherwise 1 working day: Friday evening → Monday; a Monday → Tuesday
    (h.NORMAL, datetime(2026, 11, 27, 18, 0), datetime(2026, 11, 30, 17, 30)),
    (h.NORMAL, datetime(2026, 11, 30, 9, 0), datetime(2026, 12, 1, 17, 30)),
    # before Mid-Autumn (Fri 25 Sep 2026) and National Day (1–7 Oct 2026)
    (h.NORMAL, datetime(2026, 9, 24, 18, 0), datetime(2026, 9, 28, 17, 30)),
    (h.NORMAL, datetime(2026, 9, 30, 18, 0), datetime(2026, 10, 8, 17, 30)),
    # a Saturday that is a workday (调休, 20 Sep 2026) counts
    (h.NORMAL, datetime(2026, 9, 19, 10, 0), datetime(2026, 9, 20, 17, 30)),
])
def test_acceptance_deadlines(urgency, dispatched, deadline):
    got = h.accept_deadline(dispatched.replace(tzinfo=SHANGHAI), urgency, CAL)
    assert got == deadline.replace(tzinfo=SHANGHAI)


def test_the_editable_holiday_table_moves_the_working_day_deadline():
    # 2027 is beyond the package's data: weekends, the provisional statutory holidays, and the table
    thursday = datetime(2027, 3, 4, 18, 0, tzinfo=SHANGHAI)
    plain = WorkCalendar()
    table = WorkCalendar.with_table(holidays=[datetime(2027, 3, 5).date()])
    assert h.accept_deadline(thursday, h.NORMAL, plain).date().isoformat() == "2027-03-05"
    assert h.accept_deadline(thursday, h.NORMAL, table).date().isoformat() == "2027-03-08"
    # the Spring Festival's eve (5 Feb) to 初三 (8 Feb) are holidays by the rules, provisionally
    assert h.accept_deadline(datetime(2027, 2, 4, 18, 0, tzinfo=SHANGHAI), h.NORMAL, plain).date().isoformat() \
        == "2027-02-09"


def test_deadline_colours():
    o = order(urgency=h.LIFE_PROPERTY)
    assert h.clocks(o, T0 + timedelta(minutes=5))["accept"].status == "normal"
    assert h.clocks(o, T0 + timedelta(minutes=12))["accept"].status == "yellow"  # 80 % used
    assert h.clocks(o, T0 + timedelta(minutes=16))["accept"].status == "red"
    assert h.overdue(o, T0 + timedelta(minutes=16)) and not h.overdue(o, T0 + timedelta(minutes=14))
    signed = h.Order(**{**o.__dict__, "state": h.SIGNED, "signed_at": T0 + timedelta(minutes=20)})
    accept = h.clocks(signed, T0 + timedelta(hours=1))["accept"]
    assert accept.status == "done" and accept.on_time is False
    assert h.clocks(signed, T0 + timedelta(hours=1))["reply"].status == "normal"
    returned = h.Order(**{**o.__dict__, "state": h.RETURNED})
    assert {c.status for c in h.clocks(returned, T0 + timedelta(days=30)).values()} == {"stopped"}
    assert not h.overdue(returned, T0 + timedelta(days=30))


def test_supervise_presses_only_on_an_overdue_order():
    o = order(h.HANDLING, department_id=10, assigned_at=T0)
    late = o.reply_deadline + timedelta(minutes=1)
    assert "supervise" in h.allowed_actions(o, DESK, late, CAL)
    o2, changes = step(o, "supervise", DESK, late, text="请加快办理")
    assert o2.state == h.HANDLING and changes["supervise_count"] == 1


def test_labels_of_the_platform():
    assert h.urgency_code("紧急") == h.LIFE_PROPERTY and h.urgency_code("供暖") == h.UTILITIES
    assert h.channel_code("网站") == "web" and h.channel_code("电话") == "phone"
    assert set(h.URGENCIES) == {"life_property", "utilities", "normal"}
    with pytest.raises(ValueError):
        h.accept_deadline(T0, "urgent", CAL)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(list(h.ACTIONS)), st.sampled_from(ACTORS)), max_size=25),
       st.integers(min_value=0, max_value=60 * 24 * 10))
def test_any_sequence_keeps_the_order_consistent(moves, minutes):
    """Whatever people try, the order stays in a known state, only its section acts as the
    section, and only the district closes."""
    o = order()
    now = T0 + timedelta(minutes=minutes)
    for name, actor in moves:
        try:
            action = h.check(name, o, actor, now, CAL)
        except h.TransitionError as refused:
            assert refused.status in (403, 422)
            continue
        if action.section_only:
            assert actor.department_id == o.department_id
        if action.to_state == h.CLOSED:
            assert actor.role == "district" and o.state == h.REPLIED
        o, _ = step(o, name, actor, now, text="x", department_id=10 if name == "assign" else None)
        assert o.state in h.STATES
        assert (o.department_id is not None) == (o.state in (h.HANDLING, h.DRAFTED, h.REPLIED, h.CLOSED))


# ---------------------------------------------------------------- the working clock (yellow warning)


def test_a_friday_evening_order_does_not_turn_yellow_over_the_weekend():
    friday_evening = datetime(2026, 11, 27, 18, 0, tzinfo=SHANGHAI)
    o = order(dispatched_at=friday_evening)  # sign for it by Monday 17:30
    assert o.accept_deadline == datetime(2026, 11, 30, 17, 30, tzinfo=SHANGHAI)
    monday_early = datetime(2026, 11, 30, 8, 0, tzinfo=SHANGHAI)  # 87 % of the wall-clock time gone
    accept = h.clocks(o, monday_early, CAL)["accept"]
    assert accept.status == "normal" and accept.used == 0 and accept.working
    afternoon = h.clocks(o, datetime(2026, 11, 30, 16, 0, tzinfo=SHANGHAI), CAL)["accept"]
    assert afternoon.status == "yellow" and afternoon.used == pytest.approx(6 / 7.5)
    late = h.clocks(o, datetime(2026, 11, 30, 17, 31, tzinfo=SHANGHAI), CAL)["accept"]
    assert late.status == "red"
    # the reply's five working days: after the weekend only Monday's hours count
    reply = h.clocks(o, datetime(2026, 12, 1, 8, 30, tzinfo=SHANGHAI), CAL)["reply"]
    assert reply.status == "normal" and reply.used == pytest.approx(7.5 / 37.5)


def test_a_holiday_uses_up_nothing_of_the_time():
    # 2027: beyond the package's data, so the National Day holiday comes from the editable table
    national_day = WorkCalendar.with_table(holidays=[datetime(2027, 10, d).date() for d in range(1, 8)])
    eve = datetime(2027, 9, 30, 16, 0, tzinfo=SHANGHAI)  # the Thursday before the holiday
    o = h.Order(state=h.PENDING, urgency=h.NORMAL, dispatched_at=eve,
                accept_deadline=h.accept_deadline(eve, h.NORMAL, national_day),
                reply_deadline=h.default_reply_deadline(eve, national_day))
    assert o.accept_deadline == datetime(2027, 10, 8, 17, 30, tzinfo=SHANGHAI)
    back = datetime(2027, 10, 8, 9, 0, tzinfo=SHANGHAI)  # 96 % of the wall-clock time gone
    accept = h.clocks(o, back, national_day)["accept"]
    assert accept.status == "normal" and accept.used == pytest.approx(2 / 9)
    assert h.clocks(o, datetime(2027, 10, 8, 16, 0, tzinfo=SHANGHAI), national_day)["accept"].status == "yellow"
    # without the table, the 7th is an ordinary Thursday of 2027: the deadline came and went
    assert h.clocks(o, back, WorkCalendar())["accept"].status == "yellow"


def test_an_urgent_order_runs_on_the_wall_clock_even_at_night():
    friday_evening = datetime(2026, 11, 27, 18, 0, tzinfo=SHANGHAI)
    o = order(urgency=h.LIFE_PROPERTY, dispatched_at=friday_evening)
    accept = h.clocks(o, friday_evening + timedelta(minutes=12), CAL)["accept"]
    assert accept.status == "yellow" and not accept.working
    assert h.clocks(o, friday_evening + timedelta(minutes=16), CAL)["accept"].status == "red"


def test_closing_an_order_settles_its_case_only_when_nobody_handles_it():
    from workflow import cases
    closes = {s: h.settle_case("WG1", s).close for s in cases.STATES}
    assert {s for s, c in closes.items() if c} == {cases.REPORTED, cases.FILED}
    held = h.settle_case("WG1", cases.HANDLING)
    assert "处理中" in held.zh and "still" in held.en and held.as_dict()["closed"] is False
    assert "无需处理" in h.settle_case("WG1", cases.CLOSED).zh
