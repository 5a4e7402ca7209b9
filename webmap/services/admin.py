"""The administrator's work on the town's people (seed 7-2: 网格员的配备与调整) and the audit log.

- :func:`assignments`: a village's grids with their current worker and leader, and the people who
  may take a grid (the worker accounts), for the /admin page.
- :func:`reassign`: a grid's worker changes from a date (today or earlier: the day the new one took
  over). The old assignment ends that day, the new one starts; the new worker's account covers the
  grid, the old worker's account is disabled unless they keep another grid; the open cases of the
  grid are now the new worker's (their ``worker_id``, a new version, a ``reassign`` event and a live
  message each). Closed cases keep who handled them. The board reads the current assignment, so it
  follows at once. Audited, all in one transaction.
- :func:`audit` writes an :class:`~db.models.AuditEntry`; :func:`audit_entries` reads them, newest
  first, for the administrator and the district.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from db.models import Account, Area, AuditEntry, Grid, GridAssignment, Person
from workflow import cases, roles
from workflow.clock import SHANGHAI, format_iso
from workflow.deadlines import REASSIGN

from . import events
from .errors import FieldError, ForbiddenError, InvalidInputError, NotFoundError

MAX_BACKDATE_DAYS = 92  # a change recorded late: up to a quarter back


class AdminInputError(InvalidInputError):
    CODE = "AdminInputRejected"
    LEAD = ("调整未保存", "the change was not saved")


def check_admin(user) -> None:
    if not roles.has_permission(getattr(user, "role", None), "administer"):
        raise ForbiddenError("只有系统管理员可以调整账号与网格员", "only the administrator may change accounts and assignments")


def check_audit_reader(user) -> None:
    if not roles.has_permission(getattr(user, "role", None), "read_audit"):
        raise ForbiddenError("只有系统管理员和区网格中心可以查看审计日志",
                             "only the administrator and the district may read the audit log")


def audit(db: Session, user, action: str, target: str, before: dict | None, after: dict | None,
          note: str | None = None, at: datetime | None = None) -> None:
    """One entry of the audit log, in the caller's transaction."""
    db.add(AuditEntry(at=at or datetime.now(SHANGHAI), actor_id=getattr(user, "id", None),
                      actor=getattr(user, "username", None) or "system", role=getattr(user, "role", None) or "system",
                      action=action, target=target, before=before, after=after, note=note))


def _person(p: Person | None) -> dict | None:
    return {"id": p.id, "name": p.name} if p else None


def villages(db: Session) -> list[dict]:
    rows = db.execute(select(Area.code, Area.name).where(Area.level == "village").order_by(Area.code)).all()
    return [{"code": r.code, "name": r.name} for r in rows]


def assignments(db: Session, user, village: str | None) -> dict:
    """``{"villages", "grids": [{code, name, worker, leader, since}], "workers": [{id, name,
    username, grid}]}`` for ``village`` (its code; the first village when absent)."""
    check_admin(user)
    all_villages = villages(db)
    codes = {v["code"] for v in all_villages}
    if village and village not in codes:
        raise NotFoundError("没有这个村/社区", "no such village")
    village = village or (all_villages[0]["code"] if all_villages else None)
    current = _current_assignments(db, village)
    grids = db.execute(select(Grid.code, Grid.name).where(Grid.valid_to.is_(None), Grid.code.startswith(village or "-"))
                       .order_by(Grid.code)).all()
    out = []
    for g in grids:
        worker = current.get((g.code, "worker"))
        leader = current.get((g.code, "leader"))
        out.append({"code": g.code, "name": g.name,
                    "worker": _person(worker[0]) if worker else None, "since": worker[1].isoformat() if worker else None,
                    "leader": _person(leader[0]) if leader else None})
    return {"village": village, "villages": all_villages, "grids": out, "workers": _workers(db)}


def _current_assignments(db: Session, prefix: str | None) -> dict:
    rows = db.execute(select(GridAssignment, Person).join(Person, Person.id == GridAssignment.person_id)
                      .where(GridAssignment.valid_to.is_(None), GridAssignment.grid_code.startswith(prefix or "-"))
                      .order_by(GridAssignment.valid_from, GridAssignment.id)).all()
    return {(a.grid_code, a.duty): (p, a.valid_from) for a, p in rows}  # the latest wins


def _workers(db: Session) -> list[dict]:
    """The people with a grid worker's account, and the grid each holds now (if any)."""
    held = (select(GridAssignment.grid_code).where(GridAssignment.person_id == Person.id,
                                                   GridAssignment.duty == "worker", GridAssignment.valid_to.is_(None))
            .order_by(GridAssignment.valid_from.desc()).limit(1).scalar_subquery())
    rows = db.execute(select(Person.id, Person.name, Account.username, Account.active, held.label("grid"))
                      .join(Account, Account.person_id == Person.id).where(Account.role == "worker")
                      .order_by(Account.username)).all()
    return [{"id": r.id, "name": r.name, "username": r.username, "active": r.active, "grid": r.grid} for r in rows]


def _parse_reassign(body, today: date) -> tuple[str, int, date, str | None]:
    errors: list[FieldError] = []
    if not isinstance(body, dict):
        raise AdminInputError([FieldError("body", "请求体应为 JSON 对象", "the body must be a JSON object")])
    grid_code = body.get("grid_code")
    if not isinstance(grid_code, str) or not grid_code.isdigit() or len(grid_code) != 15:
        errors.append(FieldError("grid_code", "请给出 15 位网格编码", "give the 15-digit grid code"))
    person_id = body.get("person_id")
    if not isinstance(person_id, int) or isinstance(person_id, bool):
        errors.append(FieldError("person_id", "请选择接任的网格员", "choose the worker who takes the grid"))
    start = None
    raw = body.get("start", today.isoformat())
    try:
        start = date.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        start = None
    if start is None:
        errors.append(FieldError("start", "生效日期应为 YYYY-MM-DD", "the start date must be YYYY-MM-DD"))
    elif start > today:
        errors.append(FieldError("start", "生效日期不能晚于今天 (接任当天登记)",
                                 "the start date cannot be after today (record it on the day of the handover)"))
    elif start < today - timedelta(days=MAX_BACKDATE_DAYS):
        errors.append(FieldError("start", f"生效日期最多追溯 {MAX_BACKDATE_DAYS} 天",
                                 f"the start date goes back at most {MAX_BACKDATE_DAYS} days"))
    note = body.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > 500):
        errors.append(FieldError("note", "说明最多 500 字", "the note is at most 500 characters"))
    if errors:
        raise AdminInputError(errors)
    return grid_code, person_id, start, (note or "").strip() or None


def reassign(db: Session, user, body, now: datetime | None = None) -> dict:
    """The grid's worker from ``start``: ``{"grid_code", "person_id", "start": "YYYY-MM-DD", "note"}``.
    Returns ``{grid, worker, previous, start, cases}`` (the open cases that followed). Commits."""
    check_admin(user)
    now = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI)
    grid_code, person_id, start, note = _parse_reassign(body, now.date())
    grid = db.execute(select(Grid).where(Grid.code == grid_code, Grid.valid_to.is_(None))).scalar_one_or_none()
    if grid is None:
        raise AdminInputError([FieldError("grid_code", "没有这个现行网格", "no current grid has this code")])
    row = db.execute(select(Person, Account).join(Account, Account.person_id == Person.id)
                     .where(Person.id == person_id, Account.role == "worker")).first()
    if row is None:
        raise AdminInputError([FieldError("person_id", "这个人没有网格员账号", "this person has no grid worker's account")])
    person, account = row
    # the grid's current worker, locked with the grid's assignments so that two changes queue up
    current = db.execute(select(GridAssignment).where(GridAssignment.grid_code == grid_code,
                                                      GridAssignment.duty == "worker", GridAssignment.valid_to.is_(None))
                         .order_by(GridAssignment.valid_from.desc(), GridAssignment.id.desc())
                         .with_for_update()).scalars().all()
    if current and current[0].person_id == person_id:
        raise AdminInputError([FieldError("person_id", f"{person.name} 已是这个网格的网格员",
                                          f"{person.name} is already this grid's worker")])
    if any(a.valid_from > start for a in current):
        raise AdminInputError([FieldError("start", "生效日期早于现任网格员的任职日期",
                                          "the start date is before the current worker took the grid")])
    previous = db.get(Person, current[0].person_id) if current else None
    for a in current:
        a.valid_to = start
    # a worker holds one grid: the one the new worker leaves is left without a worker, and says so
    left = db.execute(select(GridAssignment).where(GridAssignment.person_id == person_id, GridAssignment.duty == "worker",
                                                   GridAssignment.valid_to.is_(None))).scalars().all()
    for a in left:
        a.valid_to = max(a.valid_from, start)
    db.add(GridAssignment(grid_code=grid_code, person_id=person_id, duty="worker", valid_from=start))
    before_account = {"username": account.username, "scope": account.scope_code, "active": account.active}
    account.scope_code, account.active = grid_code, True
    disabled = []
    if previous is not None:
        still = db.execute(select(func.count()).select_from(GridAssignment).where(
            GridAssignment.person_id == previous.id, GridAssignment.duty == "worker", GridAssignment.valid_to.is_(None),
            GridAssignment.grid_code != grid_code)).scalar()
        if not still:
            for old in db.execute(select(Account).where(Account.person_id == previous.id, Account.role == "worker",
                                                        Account.active.is_(True))).scalars():
                old.active = False
                disabled.append(old.username)
    db.flush()
    moved = _move_open_cases(db, user, grid_code, previous, person, now, note)
    after = {"worker": _person(person), "start": start.isoformat(), "account": account.username,
             "left_grids": [a.grid_code for a in left], "disabled_accounts": disabled, "open_cases": len(moved)}
    audit(db, user, REASSIGN, f"grid:{grid_code}",
          {"worker": _person(previous), "account": before_account}, after, note, at=now)
    events.notify_cases(db, moved, REASSIGN, now)
    db.commit()
    return {"grid": {"code": grid.code, "name": grid.name}, "worker": _person(person), "previous": _person(previous),
            "start": start.isoformat(), "left_grids": after["left_grids"], "disabled_accounts": disabled,
            "cases": len(moved), "at": format_iso(now)}


def _move_open_cases(db: Session, user, grid_code: str, previous: Person | None, person: Person,
                     now: datetime, note: str | None) -> list[int]:
    rows = db.execute(text("""
        UPDATE incidents SET worker_id = :w, version = version + 1
         WHERE grid_code = :g AND state = ANY(:open) AND worker_id IS DISTINCT FROM :w
        RETURNING id, state"""), {"w": person.id, "g": grid_code, "open": list(cases.OPEN_STATES)}).all()
    data = {"worker_from": _person(previous), "worker_to": _person(person)}
    text_note = f"网格员调整: {previous.name if previous else '空缺'} → {person.name}" + (f" ({note})" if note else "")
    for r in rows:
        events.record_event(db, r.id, REASSIGN, at=now, role=user.role, actor_id=user.id, from_state=r.state,
                            to_state=r.state, note=text_note, data=data)
    return [r.id for r in rows]


def audit_entries(db: Session, user, limit: int, offset: int, target: str | None = None) -> dict:
    check_audit_reader(user)
    query = select(AuditEntry)
    count = select(func.count()).select_from(AuditEntry)
    if target:
        query, count = query.where(AuditEntry.target == target), count.where(AuditEntry.target == target)
    rows = db.execute(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit).offset(offset)).scalars()
    return {"items": [{"id": e.id, "at": format_iso(e.at), "actor": e.actor, "role": e.role,
                       "role_label": list(roles.labels(e.role)) if e.role in roles.ROLES else [e.role, e.role],
                       "action": e.action, "target": e.target, "before": e.before, "after": e.after, "note": e.note}
                      for e in rows],
            "total": db.execute(count).scalar()}
