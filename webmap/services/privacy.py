"""Residents' personal data (names, phones): in full only for the roles that handle the case."""

from __future__ import annotations

from workflow import roles


def mask_name(name: str | None) -> str | None:
    """``张三丰`` → ``张**``: the surname stays, the rest is hidden.

    >>> mask_name("张三丰"), mask_name("李"), mask_name(None)
    ('张**', '*', None)
    """
    if not name:
        return name
    return name[0] + "*" * (len(name) - 1) if len(name) > 1 else "*"


def mask_phone(phone: str | None) -> str | None:
    """``13812345678`` → ``138****5678``.

    >>> mask_phone("13812345678"), mask_phone("12345"), mask_phone(None)
    ('138****5678', '*****', None)
    """
    if not phone:
        return phone
    digits = phone.strip()
    if len(digits) < 8:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def may_see_reporter(user, incident) -> bool:
    """The town center and the district handle every case; the department a case is sent to, and
    the grid's own worker and leader, handle theirs. Everyone else sees masked data."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if roles.has_permission(user.role, "see_personal_data"):
        return True
    if user.role == "department":
        return user.department_id is not None and user.department_id == incident.department_id
    if roles.has_permission(user.role, "see_grid_personal_data"):
        return bool(incident.grid_code) and incident.grid_code.startswith(user.scope_code)
    return False
