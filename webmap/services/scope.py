"""Spatial scope of an account, as SQL conditions. Codes nest: a grid code starts with its
village's code, which starts with its town's, which starts with the district's."""

from __future__ import annotations

from sqlalchemy import and_, false, or_, true

from db.models import Incident
from workflow import roles


def incident_visible(user):
    """Which incidents this account may read: its grid, village or town; a department those sent
    to it; the district everything; everyone what they reported themselves. Anonymous: none."""
    if user is None or not getattr(user, "is_authenticated", False):
        return false()
    if roles.has_permission(user.role, "see_all_areas"):
        return true()
    own = Incident.reporter_id == user.id
    if user.role == "department":  # only once the town has dispatched it
        return or_(and_(Incident.department_id == user.department_id, Incident.dispatched_at.is_not(None)), own)
    scope = user.scope_code
    if len(scope) == 15:
        return or_(Incident.grid_code == scope, own)
    within = Incident.grid_code.startswith(scope, autoescape=True)
    if len(scope) <= 9:  # the town also owns what falls outside every grid (属地兜底)
        return or_(within, Incident.grid_code.is_(None), own)
    return or_(within, own)


def event_visible(user, message: dict) -> bool:
    """The same rule as :func:`incident_visible`, for a live message (a dict, not a row)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if message.get("event") == "hotline":  # a 12345 order: its readers (services/hotline.may_read)
        return roles.has_permission(user.role, "read_hotline") or (
            user.role == "department" and user.department_id is not None
            and message.get("department_id") == user.department_id)
    if roles.has_permission(user.role, "see_all_areas") or message.get("reporter_id") == user.id:
        return True
    if user.role == "department":
        return bool(message.get("dispatched")) and message.get("department_id") == user.department_id
    grid = message.get("grid_code")
    scope = user.scope_code
    if grid is None:
        return len(scope) <= 9
    return grid == scope if len(scope) == 15 else grid.startswith(scope)
