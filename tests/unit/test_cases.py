"""The case workflow rules (workflow/cases.py): roles, scope, tiers and states; and a property
test over random sequences of actions by random actors."""

import dataclasses
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow import cases
from workflow.clock import DEFAULT_CALENDAR, SHANGHAI

GRID = "120116103201001"
WORKER = cases.Actor(1, "worker", GRID)
OTHER_WORKER = cases.Actor(2, "worker", "120116103202001")
LEADER = cases.Actor(3, "leader", GRID[:12])
DISPATCHER = cases.Actor(4, "dispatcher", GRID[:9])
TRAFFIC = cases.Actor(5, "department", GRID[:9], department_id=2)
SANITATION = cases.Actor(6, "department", GRID[:9], department_id=4)
ANALYST = cases.Actor(7, "analyst", GRID[:9])
TOWN_LEADER = cases.Actor(8, "town_leader", GRID[:9])
ACTORS = [WORKER, OTHER_WORKER, LEADER, DISPATCHER, TRAFFIC, SANITATION, ANALYST, TOWN_LEADER]


def case(state=cases.REPORTED, tier="village", self_handle=False, department_id=None, pending=False):
    return cases.Case(state=state, tier=tier, grid_code=GRID, category_self_handle=self_handle,
                      department_id=department_id, extension_pending=pending)


def test_a_fresh_report_offers_the_village_its_choices():
    assert cases.allowed_actions(case(self_handle=True), WORKER) == ["self_handle", "escalate"]
    assert cases.allowed_actions(case(), WORKER) == ["escalate"]
    assert cases.allowed_actions(case(), LEADER) == ["escalate", "village_handle"]
    assert cases.allowed_actions(case(), DISPATCHER) == ["void"]  # held by the village
    assert cases.allowed_actions(case(), ANALYST) == []


def test_town_files_and_dispatches_what_is_escalated():
    escalated = cases.apply(case(), cases.check("escalate", case(), WORKER))
    assert escalated.tier == "town" and escalated.state == cases.REPORTED
    assert cases.allowed_actions(escalated, DISPATCHER) == ["file", "void"]
    filed = cases.apply(escalated, cases.check("file", escalated, DISPATCHER))
    assert "dispatch" in cases.allowed_actions(filed, DISPATCHER)
    assert cases.ACTIONS["dispatch"].starts_clock


@pytest.mark.parametrize(("name", "the_case", "actor", "status"), [
    ("dispatch", case(cases.FILED, "town"), WORKER, 403),  # a worker cannot dispatch
    ("file", case(), DISPATCHER, 422),  # the village holds it
    ("self_handle", case(self_handle=False), WORKER, 422),  # the category does not allow it
    ("self_handle", case(self_handle=True), OTHER_WORKER, 403),  # another grid
    ("accept", case(cases.DISPATCHED, "town", department_id=4), TRAFFIC, 403),  # sent to sanitation
    ("verify_pass", case(cases.HANDLING, "town"), WORKER, 422),  # nothing to verify yet
    ("approve_extension", case(cases.HANDLING, "town", department_id=4), DISPATCHER, 422),  # none pending
    ("request_extension", case(cases.HANDLING, "town", department_id=4, pending=True), SANITATION, 422),
    ("fly", case(), DISPATCHER, 422),
])
def test_refusals_say_why(name, the_case, actor, status):
    with pytest.raises(cases.TransitionError) as refused:
        cases.check(name, the_case, actor)
    assert refused.value.status == status
    assert refused.value.zh and refused.value.en


def test_department_return_window_is_one_working_day():
    friday = datetime(2026, 11, 27, 16, 0, tzinfo=SHANGHAI)
    assert cases.return_deadline(friday, DEFAULT_CALENDAR) == datetime(2026, 11, 30, 17, 30, tzinfo=SHANGHAI)


def test_every_action_is_well_formed():
    for action in cases.ACTIONS.values():
        assert action.from_states <= set(cases.STATES)
        assert action.to_state is None or action.to_state in cases.STATES
        assert action.roles and action.label_zh and action.label_en
    # nothing leaves a closed or void case but the return visit
    leaving_closed = [a.name for a in cases.ACTIONS.values() if cases.CLOSED in a.from_states]
    assert leaving_closed == ["return_visit"]
    assert not [a for a in cases.ACTIONS.values() if cases.VOID in a.from_states]


@settings(max_examples=300, deadline=None)
@given(st.booleans(), st.lists(st.tuples(st.sampled_from(list(cases.ACTIONS) + ["bogus"]),
                                         st.sampled_from(ACTORS)), max_size=40))
def test_random_sequences_never_leave_the_table(self_handle, steps):
    current = case(self_handle=self_handle, department_id=None)
    history = []
    for name, actor in steps:
        try:
            action = cases.check(name, current, actor)
        except cases.TransitionError as refused:
            assert refused.status in (403, 422)
            continue
        assert current.state in action.from_states and actor.role in action.roles
        if action.starts_clock:
            current = dataclasses.replace(current, department_id=SANITATION.department_id)
        after = cases.apply(current, action)
        assert after.state in cases.STATES and after.tier in cases.TIERS
        assert after.state == (action.to_state or current.state)
        history.append((current.state, name, after.state))
        current = after
    # every recorded step is one the table allows
    for before, name, _after in history:
        assert before in cases.ACTIONS[name].from_states


# ---------------------------------------------------------------- transition(): the side effects

MONDAY_9 = datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)


def test_dispatch_starts_the_clock_at_the_chosen_department():
    filed = dataclasses.replace(case(cases.FILED, "town", department_id=4), time_limit=2, time_unit="work_hours")
    done = cases.transition(filed, cases.check("dispatch", filed, DISPATCHER), MONDAY_9, DEFAULT_CALENDAR,
                            department_id=2)
    assert done.changes == {"state": cases.DISPATCHED, "department_id": 2, "dispatched_at": MONDAY_9,
                            "deadline": DEFAULT_CALENDAR.add(MONDAY_9, 2, "work_hours")}
    assert done.case.department_id == 2 and done.case.dispatched_at == MONDAY_9
    assert done.case.deadline == done.changes["deadline"]


def test_return_counts_and_clears_the_department_within_its_window():
    sent = dataclasses.replace(case(cases.DISPATCHED, "town", department_id=2), dispatched_at=MONDAY_9,
                               return_count=1)
    action = cases.check("return", sent, TRAFFIC, now=MONDAY_9.replace(hour=15), calendar=DEFAULT_CALENDAR)
    done = cases.transition(sent, action, MONDAY_9.replace(hour=15), DEFAULT_CALENDAR)
    assert done.changes == {"state": cases.FILED, "department_id": None, "return_count": 2}
    assert done.case.department_id is None and done.case.return_count == 2
    with pytest.raises(cases.TransitionError) as late:  # Tuesday 17:30 was the last moment
        cases.check("return", sent, TRAFFIC, now=datetime(2026, 12, 1, 17, 31, tzinfo=SHANGHAI),
                    calendar=DEFAULT_CALENDAR)
    assert late.value.status == 422
    cases.check("return", sent, TRAFFIC)  # without a clock: offered, as the action list shows it


def test_rework_extension_closing_and_satisfaction():
    verifying = dataclasses.replace(case(cases.VERIFYING, "town", department_id=4), rework_count=0)
    assert cases.transition(verifying, cases.ACTIONS["verify_fail"], MONDAY_9, DEFAULT_CALENDAR).changes == {
        "state": cases.HANDLING, "rework_count": 1}
    assert cases.transition(verifying, cases.ACTIONS["verify_pass"], MONDAY_9, DEFAULT_CALENDAR).changes == {
        "state": cases.CLOSED, "closed_at": MONDAY_9}

    handling = dataclasses.replace(case(cases.HANDLING, "town", department_id=4), deadline=MONDAY_9)
    asked = cases.transition(handling, cases.ACTIONS["request_extension"], MONDAY_9, DEFAULT_CALENDAR)
    assert asked.changes == {"extension_pending": True} and asked.case.extension_pending
    approved = cases.transition(asked.case, cases.ACTIONS["approve_extension"], MONDAY_9, DEFAULT_CALENDAR,
                                extension_days=3)
    assert approved.changes == {"extension_pending": False,
                                "deadline": DEFAULT_CALENDAR.add(MONDAY_9, 3, "work_days")}
    refused = cases.transition(asked.case, cases.ACTIONS["refuse_extension"], MONDAY_9, DEFAULT_CALENDAR)
    assert refused.changes == {"extension_pending": False}

    closed = case(cases.CLOSED, "town")
    assert cases.transition(closed, cases.ACTIONS["return_visit"], MONDAY_9, DEFAULT_CALENDAR,
                            satisfaction=4).changes == {"satisfaction": 4}


def test_every_state_has_its_english_name():
    assert set(cases.STATE_EN) == set(cases.STATES)
    assert len(set(cases.STATE_EN.values())) == len(cases.STATES)


def test_allowed_actions_with_the_clock_close_the_return_window():
    friday = datetime(2026, 11, 27, 16, 0, tzinfo=SHANGHAI)
    sent = cases.Case(state=cases.DISPATCHED, tier="town", grid_code=None, category_self_handle=False,
                      department_id=4, dispatched_at=friday)
    dept = cases.Actor(id=9, role="department", scope_code="120116103", department_id=4)
    monday_evening = datetime(2026, 11, 30, 17, 30, tzinfo=SHANGHAI)
    assert cases.allowed_actions(sent, dept) == ["accept", "return"]
    assert cases.allowed_actions(sent, dept, now=monday_evening, calendar=DEFAULT_CALENDAR) == ["accept", "return"]
    late = monday_evening + timedelta(minutes=1)
    assert cases.allowed_actions(sent, dept, now=late, calendar=DEFAULT_CALENDAR) == ["accept"]
