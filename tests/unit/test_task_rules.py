"""The rules of 交办任务 and the information-collection rule (workflow/tasks.py), without a database:
who may issue to whom, the first state each issuer's task starts in, and the steps' actors and
moments; and that they agree with the table of roles."""

import pytest

from workflow import roles
from workflow import tasks as rules

KINDS = ({"worker"}, {"village"}, {"department"}, {"village", "department"})


def test_the_issuers_are_the_roles_that_issue_tasks():
    assert set(rules.ISSUERS) == roles.roles_with("issue_tasks")
    assert roles.roles_with("approve_info_collection") == {rules.APPROVER}
    assert set(rules.INFO_BODIES) <= set(rules.ISSUERS)


@pytest.mark.parametrize("role", sorted(rules.ISSUERS))
@pytest.mark.parametrize("kinds", KINDS, ids=lambda k: "+".join(sorted(k)))
def test_the_first_state_of_every_issuer_and_kind(role, kinds):
    allowed = kinds <= rules.ISSUERS[role]
    reaches = bool(kinds & {"worker", "village"})
    for kind in ("general", "info_collection"):
        try:
            state = rules.initial_state(kind, role, kinds)
        except rules.TaskRuleError as e:
            assert e.status == 403
            if kind == "info_collection" and reaches and role not in rules.INFO_BODIES:
                assert e.zh == rules.INFO_RULE_ZH  # refused outright, with the seed's words
            else:
                assert not allowed or role in rules.GENERAL_ONLY
            continue
        assert allowed and not (kind == "info_collection" and role in rules.GENERAL_ONLY)
        expected = "待区审批" if kind == "info_collection" and reaches and role != "district" else "进行中"
        assert state == expected


def test_every_step_names_its_actor_and_moments():
    for action in rules.ACTIONS.values():
        assert action.actor in (rules.ISSUER, rules.ASSIGNEE, rules.DISTRICT)
        assert set(action.task_states) <= set(rules.STATES)
        assert set(action.from_states) <= set(rules.ASSIGNEE_STATES)
        assert action.on_task == (not action.from_states)
        with pytest.raises(rules.TaskRuleError) as wrong:
            rules.check(action.name, {"nobody"}, action.task_states[0])
        assert wrong.value.status == 403
    with pytest.raises(rules.TaskRuleError) as unknown:
        rules.check("delete", {rules.ISSUER}, rules.OPEN)
    assert unknown.value.status == 422


def test_what_an_assignee_owes():
    assert rules.owes("待签收", report_back=False) and not rules.owes("已签收", report_back=False)
    assert rules.owes("退回重办", report_back=True) and not rules.owes("已完成", report_back=True)
