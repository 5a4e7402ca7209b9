"""Spatial scope of an account, as SQL conditions. Codes nest: a grid code starts with its
village's code, which starts with its town's, which starts with the district's."""

from __future__ import annotations

from sqlalchemy import false, or_, true

from db.models import Incident

ALL_SEEING = {"district", "admin"}


def incident_visible(user):
    """Which incidents this account may read: its grid, village or town; a department those sent
    to it; the district everything. Anonymous users see none."""
    if user is None or not getattr(user, "is_authenticated", False):
        return false()
    if user.role in ALL_SEEING:
        return true()
    if user.role == "department":
        return Incident.department_id == user.department_id
    scope = user.scope_code
    if len(scope) == 15:
        return Incident.grid_code == scope
    within = Incident.grid_code.startswith(scope, autoescape=True)
    if len(scope) <= 9:  # the town also owns what falls outside every grid (属地兜底)
        return or_(within, Incident.grid_code.is_(None))
    return within
