"""The one table of roles and permissions (workflow/roles.py): complete, and read everywhere."""

import re
from pathlib import Path

import pytest

from workflow import cases, hotline, roles

ROOT = Path(__file__).resolve().parents[2]

# Who held each permission before the table existed (the role sets of the services and the
# templates): the table must give every role exactly the same answers.
EXPECTED = {
    "report": {"worker", "leader", "dispatcher", "town_leader", "district", "admin"},
    "report_for_residents": {"dispatcher", "town_leader", "district", "admin"},
    "report_on_mobile": {"worker", "leader"},
    "use_dispatch_console": {"dispatcher", "town_leader", "district", "admin", "department", "leader"},
    "handle_cases": {"dispatcher", "admin"},
    "supervise_cases": {"dispatcher", "admin", "town_leader"},
    "return_visit": {"dispatcher", "admin", "leader"},
    "read_supervision": {"dispatcher", "town_leader", "district", "admin", "department", "leader"},
    "edit_calendar": {"admin", "dispatcher"},
    "see_all_areas": {"district", "admin"},
    "see_personal_data": {"dispatcher", "district", "admin"},
    "see_grid_personal_data": {"worker", "leader"},
    "see_tracks": {"dispatcher", "town_leader", "district", "admin", "leader", "worker"},
    "review_patrols": {"dispatcher", "town_leader", "district", "admin"},
    "edit_places": {"dispatcher", "town_leader", "district", "admin", "leader"},
    "sign_in": {"worker", "leader"},
    "plan_grids": {"planner", "admin"},
    "read_plans": {"planner", "admin", "district", "dispatcher", "town_leader"},
    "read_hotspots": {"dispatcher", "town_leader", "district", "admin", "analyst", "leader", "planner"},
    "read_hotline": {"dispatcher", "town_leader", "district", "admin", "analyst"},
    "import_hotline": {"dispatcher", "district", "admin"},
    "handle_hotline": {"dispatcher", "admin"},
    "administer": {"admin"},
    "read_audit": {"admin", "district"},
    "instruct_hotline": {"town_leader"},
    "answer_hotline": {"department"},
    "close_hotline": {"district"},
    "read_staff": {"leader", "dispatcher", "town_leader", "district", "admin"},
    "manage_staff": {"dispatcher", "admin"},
    "spot_check": {"district", "admin"},
    "record_visits": {"worker"},
    "read_visits": {"leader", "dispatcher", "town_leader", "district", "admin"},
    "edit_households": {"leader", "dispatcher", "admin"},
    "read_analyses": {"leader", "dispatcher", "town_leader", "district", "admin"},
    "write_analyses": {"leader", "dispatcher", "admin"},
    "read_office": {"dispatcher", "town_leader", "admin"},
    "manage_office": {"dispatcher", "admin"},
    "issue_tasks": {"town_leader", "dispatcher", "district", "admin", "department", "leader"},
    "read_all_tasks": {"town_leader", "dispatcher", "district", "admin"},
    "work_tasks": {"worker", "leader", "department"},
    "approve_info_collection": {"district"},
}


def test_the_roles_are_those_of_the_accounts_check_constraint():
    assert roles.ROLES == ("worker", "leader", "dispatcher", "town_leader", "department", "district",
                           "planner", "analyst", "admin")


@pytest.mark.parametrize("role", roles.ROLES)
def test_every_role_has_labels_in_both_languages(role):
    zh, en = roles.labels(role)
    assert re.search(r"[\u4e00-\u9fff]", zh) and re.fullmatch(r"[a-z ]+", en)
    assert roles.label(role, "zh") == zh and roles.label(role, "en") == en
    assert re.search(r"[\u4e00-\u9fff]", roles.short_label(role))


def test_an_unknown_role_is_its_own_label_and_holds_nothing():
    assert roles.labels("resident") == ("resident", "resident")
    assert roles.short_label("resident") == "resident"
    assert not any(roles.has_permission("resident", p) for p in roles.PERMISSIONS)
    assert not roles.has_permission(None, "report")


def test_an_unknown_permission_is_an_error_not_a_refusal():
    with pytest.raises(KeyError):
        roles.has_permission("admin", "see_everything")
    with pytest.raises(KeyError):
        roles.roles_with("see_everything")


@pytest.mark.parametrize("permission", sorted(EXPECTED))
def test_each_permission_is_held_by_the_same_roles_as_before(permission):
    assert roles.roles_with(permission) == EXPECTED[permission]


def test_every_permission_is_described_and_held():
    assert set(roles.PERMISSIONS) == set(EXPECTED)
    held = set().union(*(r.permissions for r in roles.TABLE.values()))
    assert held == set(roles.PERMISSIONS)
    for zh, en in roles.PERMISSIONS.values():
        assert zh and en


def test_each_permission_named_in_code_exists():
    """A typo in a permission name would silently refuse everyone: every name the code and the
    templates pass to has_permission, roles_with or current_user.can is in the table."""
    call = re.compile(r"""(?:has_permission\([^,()]+,\s*|roles_with\(|\.can\()["']([a-z_]+)["']""")
    named = set()
    for folder in ("webmap", "workflow", "db"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".html") and "vendor" not in path.parts:
                named |= set(call.findall(path.read_text(encoding="utf-8")))
    assert named, "no permission found: the pattern is out of date"
    assert named <= set(roles.PERMISSIONS), sorted(named - set(roles.PERMISSIONS))
    assert len(named) >= 15  # the services, the workflow and the navigation all read the table


def test_the_workflows_take_their_actors_from_the_table():
    assert cases.ACTIONS["dispatch"].roles == roles.roles_with("handle_cases")
    assert cases.ACTIONS["supervise"].roles == {"dispatcher", "admin", "town_leader"}
    assert hotline.ACTIONS["instruct"].roles == {"town_leader"}
    assert hotline.ACTIONS["close"].roles == {"district"}
