"""The administrator's work on the town's people (seed 7-2: 网格员的配备与调整) and the audit log.

- :func:`assignments`: a village's grids with their current worker and leader, and the people who
  may take a grid (the worker accounts), for the /admin page.
- :func:`reassign`: a grid's worker changes from a date (today or earlier: the day the new one took
  over). The old assignment ends that day, the new one starts; the new worker's account covers the
  grid, the old worker's account is disabled unless they keep another grid; the open cases of the
  grid are now the new worker's (their ``worker_id``, a new version, a ``reassign`` event and a live
  message each). Closed cases keep who handled them. The board reads the current assignment, so it
  follows at once. Audited, all in one transaction.
- :func:`account_list`, :func:`create_account`, :func:`change_account`: the accounts (search,
  create with a one-time password, disable / enable, reset the password, change role and scope).
- :func:`audit` writes an :class:`~db.models.AuditEntry`; :func:`audit_entries` reads them, newest
  first, for the administrator and the district.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import chinese_calendar
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from db import town_init
from db.models import (
    Account,
    Area,
    AuditEntry,
    Category,
    CategoryLimitHistory,
    Department,
    Grid,
    GridAssignment,
    Holiday,
    Person,
)
from db.models import Town as TownRecord
from workflow import cases, clock, roles
from workflow.clock import SHANGHAI, format_iso
from workflow.deadlines import REASSIGN

from . import events, workdays
from .audit import audit
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


# ------------------------------------------------------------------ accounts
# The scope each role covers: its length of code (a grid, a village, the town, the district)
SCOPE_LEVEL = {"worker": 15, "leader": 12, "dispatcher": 9, "town_leader": 9, "department": 9, "planner": 9,
               "analyst": 9, "admin": 9, "district": 6}
USERNAME = re.compile(r"[A-Za-z0-9_.\-]{3,64}")
ACCOUNT_ACTIONS = ("disable", "enable", "reset_password", "change_role")


def _account_row(a: Account, p: Person | None, dept: Department | None) -> dict:
    return {"id": a.id, "username": a.username, "role": a.role, "role_label": list(roles.labels(a.role)),
            "scope": a.scope_code, "name": p.name if p else None, "phone": p.phone if p else None,
            "department": {"code": dept.code, "name": dept.name} if dept else None, "active": a.active,
            "must_change_password": a.must_change_password}


def account_list(db: Session, user, q: str | None, limit: int, offset: int) -> dict:
    """The accounts, searchable by username, name, phone or scope: ``{items, total, roles}``."""
    check_admin(user)
    query = (select(Account, Person, Department).outerjoin(Person, Person.id == Account.person_id)
             .outerjoin(Department, Department.id == Account.department_id))
    if q:
        like = f"%{q.strip()[:64]}%"
        query = query.where(Account.username.ilike(like) | Person.name.ilike(like) | Person.phone.ilike(like)
                            | Account.scope_code.startswith(q.strip()[:15], autoescape=True))
    total = db.execute(select(func.count()).select_from(query.subquery())).scalar()
    rows = db.execute(query.order_by(Account.role, Account.username).limit(limit).offset(offset)).all()
    return {"items": [_account_row(a, p, d) for a, p, d in rows], "total": total,
            "roles": [{"name": r, "label": list(roles.labels(r)), "scope_digits": SCOPE_LEVEL[r]} for r in roles.ROLES],
            "departments": [{"code": d.code, "name": d.name}
                            for d in db.execute(select(Department).order_by(Department.code)).scalars()]}


def _scope_exists(db: Session, role: str, scope: str) -> bool:
    if SCOPE_LEVEL[role] == 15:
        return db.execute(select(func.count()).select_from(Grid).where(Grid.code == scope, Grid.valid_to.is_(None))).scalar() > 0
    level = {12: "village", 9: "town", 6: "district"}[SCOPE_LEVEL[role]]
    return db.execute(select(func.count()).select_from(Area).where(Area.code == scope, Area.level == level)).scalar() > 0


def _check_role_scope(db: Session, body: dict, errors: list[FieldError]) -> tuple[str | None, str | None, int | None]:
    role, scope = body.get("role"), body.get("scope")
    if role not in SCOPE_LEVEL:
        errors.append(FieldError("role", "请选择角色", "choose a role"))
        return None, None, None
    if not isinstance(scope, str) or not scope.isdigit() or len(scope) != SCOPE_LEVEL[role]:
        errors.append(FieldError("scope", f"{roles.labels(role)[0]}的范围应为 {SCOPE_LEVEL[role]} 位编码",
                                 f"a {roles.labels(role)[1]}'s scope is a {SCOPE_LEVEL[role]}-digit code"))
        return role, None, None
    if not _scope_exists(db, role, scope):
        errors.append(FieldError("scope", "没有这个网格、村或乡镇编码", "no grid, village or town has this code"))
    department_id = None
    if role == "department":
        code = body.get("department")
        department_id = db.execute(select(Department.id).where(Department.code == code)).scalar() if isinstance(code, str) else None
        if department_id is None:
            errors.append(FieldError("department", "职能部门账号须选择部门", "a department's account needs its department"))
    return role, scope, department_id


def create_account(db: Session, user, body) -> dict:
    """A new account ``{username, role, scope, name, phone, department}`` with a one-time password
    (shown once: ``password`` in the answer; the pages ask for a new one at first sign-in). Commits."""
    check_admin(user)
    if not isinstance(body, dict):
        raise AdminInputError([FieldError("body", "请求体应为 JSON 对象", "the body must be a JSON object")])
    errors: list[FieldError] = []
    username = body.get("username")
    if not isinstance(username, str) or not USERNAME.fullmatch(username):
        errors.append(FieldError("username", "用户名为 3–64 位字母、数字或 _ . -", "3–64 letters, digits or _ . -"))
    elif db.execute(select(func.count()).select_from(Account).where(Account.username == username)).scalar():
        errors.append(FieldError("username", "用户名已被使用", "this username is taken"))
    role, scope, department_id = _check_role_scope(db, body, errors)
    name, phone = body.get("name"), body.get("phone")
    if not isinstance(name, str) or not name.strip() or len(name) > 50:
        errors.append(FieldError("name", "请填写姓名 (最多 50 字)", "give the person's name (at most 50 characters)"))
    if phone not in (None, "") and (not isinstance(phone, str) or not re.fullmatch(r"1\d{10}|0\d{2,3}-?\d{7,8}", phone)):
        errors.append(FieldError("phone", "手机号应为 11 位 (或带区号的座机)", "a mobile number of 11 digits (or a landline)"))
    if errors:
        raise AdminInputError(errors)
    person = Person(name=name.strip(), phone=phone or None)
    db.add(person)
    db.flush()
    password = town_init.one_time_password()
    account = Account(username=username, password_hash=generate_password_hash(password), role=role, scope_code=scope,
                      person_id=person.id, department_id=department_id, active=True, must_change_password=True)
    db.add(account)
    db.flush()
    row = _account_row(account, person, db.get(Department, department_id) if department_id else None)
    audit(db, user, "create_account", f"account:{username}", None,
          {k: row[k] for k in ("username", "role", "scope", "name")})
    db.commit()
    return {"account": row, "password": password}


def change_account(db: Session, user, account_id: int, body) -> dict:
    """``{"action": "disable" | "enable" | "reset_password" | "change_role", "role", "scope",
    "department"}``; a reset answers the one-time password once. Commits."""
    check_admin(user)
    account = db.get(Account, account_id)
    if account is None:
        raise NotFoundError("没有这个账号", "no such account")
    action = body.get("action") if isinstance(body, dict) else None
    if action not in ACCOUNT_ACTIONS:
        raise AdminInputError([FieldError("action", "操作应为 disable、enable、reset_password 或 change_role",
                                          "the action is disable, enable, reset_password or change_role")])
    if account.id == user.id and action in ("disable", "change_role"):
        raise AdminInputError([FieldError("action", "不能停用或改变自己的账号", "you cannot disable or change your own account")])
    before = {"role": account.role, "scope": account.scope_code, "active": account.active}
    answer: dict = {}
    if action in ("disable", "enable"):
        account.active = action == "enable"
    elif action == "reset_password":
        password = town_init.one_time_password()
        account.password_hash, account.must_change_password = generate_password_hash(password), True
        answer["password"] = password
    else:
        errors: list[FieldError] = []
        role, scope, department_id = _check_role_scope(db, body, errors)
        if errors:
            raise AdminInputError(errors)
        account.role, account.scope_code, account.department_id = role, scope, department_id
    db.flush()
    after = {"role": account.role, "scope": account.scope_code, "active": account.active}
    if action == "reset_password":
        after["password_reset"] = True  # never the password itself
    audit(db, user, action, f"account:{account.username}", before, after)
    person = db.get(Person, account.person_id) if account.person_id else None
    row = _account_row(account, person, db.get(Department, account.department_id) if account.department_id else None)
    db.commit()
    return {"account": row, **answer}


# ------------------------------------------------------------------ the holidays of a year
ANNOUNCED_NAMES = {"New Year's Day": "new_year", "Spring Festival": "spring", "Tomb-sweeping Day": "qingming",
                   "Labour Day": "labour", "Dragon Boat Festival": "dragon_boat", "Mid-autumn Festival": "mid_autumn",
                   "National Day": "national"}
CONFIRMED_NOTE = "按《全国年节及纪念日放假办法》确认 (未含调休)"


def holiday_year(db: Session, user, year: int) -> dict:
    """The rest days and swapped workdays of ``year``: ``{year, known, provisional, days: [{day,
    weekday, kind, name: [zh, en], source}]}``, ``source`` being ``announced`` (the State Council's
    schedule in chinese_calendar), ``rules`` (computed, provisional) or ``table`` (entered here)."""
    check_admin(user)
    days: dict[date, dict] = {}
    known = clock.year_is_known(year)
    if known:
        day = date(year, 1, 1)
        while day.year == year:
            on_holiday, name = chinese_calendar.get_holiday_detail(day)
            weekend = day.weekday() >= 5
            # a weekday off, or a weekend day worked (调休); a weekend inside a holiday is a rest day anyway
            if name and on_holiday != weekend:
                days[day] = {"kind": "holiday" if on_holiday else "workday", "key": ANNOUNCED_NAMES.get(name),
                             "source": "announced"}
            day += timedelta(days=1)
    else:
        for day, key in clock.provisional_holidays(year).items():
            days[day] = {"kind": "holiday", "key": key, "source": "rules"}
    table = db.execute(select(Holiday).where(Holiday.day >= date(year, 1, 1), Holiday.day <= date(year, 12, 31))).scalars()
    has_table = False
    for h in table:
        has_table = True
        days[h.day] = {"kind": h.kind, "key": days.get(h.day, {}).get("key"), "source": "table", "note": h.note}
    out = []
    for day in sorted(days):
        entry = days[day]
        name = clock.HOLIDAY_NAMES.get(entry["key"]) if entry["key"] else None
        out.append({"day": day.isoformat(), "weekday": day.isoweekday(), "kind": entry["kind"],
                    "name": list(name) if name else None, "source": entry["source"], "note": entry.get("note")})
    return {"year": year, "known": known, "provisional": not known and not has_table, "days": out}


def confirm_year(db: Session, user, year: int) -> dict:
    """The provisional holidays of an unannounced year, confirmed into the table as they are (the
    swaps of the State Council's notice are entered beside them). Commits; audited."""
    check_admin(user)
    if clock.year_is_known(year):
        raise AdminInputError([FieldError("year", f"{year} 年的放假安排已公布, 无需确认",
                                          f"the schedule of {year} is announced: nothing to confirm")])
    present = set(db.execute(select(Holiday.day).where(Holiday.day >= date(year, 1, 1),
                                                       Holiday.day <= date(year, 12, 31))).scalars())
    added = []
    for day, key in sorted(clock.provisional_holidays(year).items()):
        if day not in present:
            db.add(Holiday(day=day, kind="holiday", note=f"{clock.HOLIDAY_NAMES[key][0]} · {CONFIRMED_NOTE}"))
            added.append(day.isoformat())
    audit(db, user, "confirm_holidays", f"year:{year}", None, {"days": added})
    db.commit()
    workdays.invalidate_calendar()
    return {**holiday_year(db, user, year), "added": added}


# ------------------------------------------------------------------ categories and departments
UNIT_LABELS = {"work_hours": ("工作时", "working hours"), "work_days": ("工作日", "working days"),
               "hours": ("小时", "hours"), "days": ("自然日", "days")}
MAX_LIMIT = {"work_hours": 7.5 * 60, "work_days": 365, "hours": 24 * 365, "days": 365}


def categories(db: Session, user) -> dict:
    """``{"categories": [{code, kind, class, name, name_en, department, self_handle, time_limit,
    time_unit}], "departments": [{code, name, phone, categories}], "units"}``."""
    check_admin(user)
    depts = db.execute(select(Department).order_by(Department.code)).scalars().all()
    by_id = {d.id: d for d in depts}
    cats = db.execute(select(Category).order_by(Category.code)).scalars().all()
    handled: dict[int, list[str]] = {}
    for c in cats:
        if c.department_id:
            handled.setdefault(c.department_id, []).append(c.code)
    return {
        "categories": [{"code": c.code, "kind": c.kind, "class": c.class_name, "name": c.name, "name_en": c.name_en,
                        "department": by_id[c.department_id].code if c.department_id else None,
                        "self_handle": c.self_handle, "time_limit": c.time_limit, "time_unit": c.time_unit}
                       for c in cats],
        "departments": [{"code": d.code, "name": d.name, "phone": d.phone, "categories": handled.get(d.id, [])}
                        for d in depts],
        "units": [{"name": k, "label": list(v)} for k, v in UNIT_LABELS.items()],
    }


def update_category(db: Session, user, code: str, body, now: datetime | None = None) -> dict:
    """``{"time_limit", "time_unit", "department", "self_handle"}`` (each optional). A new limit
    applies to the cases reported from now; those reported before keep theirs. Commits; audited."""
    check_admin(user)
    category = db.execute(select(Category).where(Category.code == code)).scalar_one_or_none()
    if category is None:
        raise NotFoundError("没有这个类别", "no such category")
    if not isinstance(body, dict):
        raise AdminInputError([FieldError("body", "请求体应为 JSON 对象", "the body must be a JSON object")])
    now = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI)
    errors: list[FieldError] = []
    limit = body.get("time_limit", category.time_limit)
    unit = body.get("time_unit", category.time_unit)
    if unit not in UNIT_LABELS:
        errors.append(FieldError("time_unit", "时限单位应为工作时、工作日、小时或自然日",
                                 "the unit is work_hours, work_days, hours or days"))
    elif not isinstance(limit, int) or isinstance(limit, bool) or not 0 < limit <= MAX_LIMIT[unit]:
        errors.append(FieldError("time_limit", f"时限应为 1–{int(MAX_LIMIT[unit])} 的整数",
                                 f"the limit is a whole number 1–{int(MAX_LIMIT[unit])}"))
    department_id = category.department_id
    if "department" in body:
        dept = body["department"]
        department_id = (db.execute(select(Department.id).where(Department.code == dept)).scalar()
                         if isinstance(dept, str) else None)
        if dept is not None and department_id is None:
            errors.append(FieldError("department", "没有这个部门", "no such department"))
    self_handle = body.get("self_handle", category.self_handle)
    if not isinstance(self_handle, bool):
        errors.append(FieldError("self_handle", "应为 true 或 false", "true or false"))
    if errors:
        raise AdminInputError(errors)
    dept_code = lambda i: db.execute(select(Department.code).where(Department.id == i)).scalar() if i else None  # noqa: E731
    before = {"time_limit": category.time_limit, "time_unit": category.time_unit,
              "department": dept_code(category.department_id), "self_handle": category.self_handle}
    if (limit, unit) != (category.time_limit, category.time_unit):
        db.add(CategoryLimitHistory(category_id=category.id, time_limit=category.time_limit,
                                    time_unit=category.time_unit, valid_until=now))
    category.time_limit, category.time_unit = limit, unit
    category.department_id, category.self_handle = department_id, self_handle
    after = {"time_limit": limit, "time_unit": unit, "department": dept_code(department_id), "self_handle": self_handle}
    audit(db, user, "category", f"category:{code}", before, after, at=now)
    db.commit()
    return next(c for c in categories(db, user)["categories"] if c["code"] == code)


def update_department(db: Session, user, code: str, body) -> dict:
    """``{"name", "phone"}``; commits; audited."""
    check_admin(user)
    dept = db.execute(select(Department).where(Department.code == code)).scalar_one_or_none()
    if dept is None:
        raise NotFoundError("没有这个部门", "no such department")
    if not isinstance(body, dict):
        raise AdminInputError([FieldError("body", "请求体应为 JSON 对象", "the body must be a JSON object")])
    errors: list[FieldError] = []
    name, phone = body.get("name", dept.name), body.get("phone", dept.phone)
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        errors.append(FieldError("name", "请填写部门名称 (最多 100 字)", "give the department's name (at most 100 characters)"))
    if phone not in (None, "") and (not isinstance(phone, str) or not re.fullmatch(r"[0-9\-+ ]{5,32}", phone)):
        errors.append(FieldError("phone", "电话只含数字和 -", "a phone number: digits and -"))
    if errors:
        raise AdminInputError(errors)
    before = {"name": dept.name, "phone": dept.phone}
    dept.name, dept.phone = name.strip(), phone or None
    audit(db, user, "department", f"department:{code}", before, {"name": dept.name, "phone": dept.phone})
    db.commit()
    return {"code": dept.code, "name": dept.name, "phone": dept.phone}


# ------------------------------------------------------------------ the town's record
TOWN_FIELDS = {  # field: (zh, en, max length or None for numbers)
    "name": ("乡镇名称", "the town's name", 100), "name_en": ("英文名称", "the English name", 100),
    "center_name": ("中心名称", "the centre's name", 100), "center_name_en": ("中心英文名称", "the centre's English name", 200),
    "supervision_office": ("监督单位", "the supervision office", 100),
    "supervision_phone": ("监督电话", "the supervision phone", 20),
    "case_prefix": ("案卷号前缀", "the case-number prefix", 8),
    "map_lat": ("地图中心纬度", "the map centre's latitude", None), "map_lng": ("地图中心经度", "the map centre's longitude", None),
    "map_zoom": ("地图缩放级别", "the map's zoom", None),
}


def town_record(db: Session, user) -> dict:
    check_admin(user)
    record = db.execute(select(TownRecord).order_by(TownRecord.area_id).limit(1)).scalar_one_or_none()
    if record is None:
        raise NotFoundError("尚无乡镇记录 (请先运行 wangge town init)", "no town record yet (run wangge town init first)")
    return {f: getattr(record, f) for f in TOWN_FIELDS}


def update_town(db: Session, user, body) -> dict:
    """Some fields of the town's record; all or nothing; commits; audited. A new case-number prefix
    numbers the cases reported from then on."""
    current = town_record(db, user)
    if not isinstance(body, dict) or not body:
        raise AdminInputError([FieldError("body", "请给出要修改的内容", "give the fields to change")])
    errors: list[FieldError] = []
    for key, raw in body.items():
        spec = TOWN_FIELDS.get(key)
        if spec is None:
            errors.append(FieldError(key, "没有这一项", "no such field"))
            continue
        zh, en, length = spec
        if key == "case_prefix":
            ok = isinstance(raw, str) and re.fullmatch(r"[A-Z]{1,8}", raw)
            why = ("应为 1–8 个大写字母", "1–8 capital letters")
        elif key == "supervision_phone":
            ok = isinstance(raw, str) and re.fullmatch(r"[0-9\-]{3,20}", raw)
            why = ("只含数字和 -", "digits and - only")
        elif key in ("map_lat", "map_lng"):
            low, high = (3.0, 54.0) if key == "map_lat" else (73.0, 136.0)  # China
            ok = isinstance(raw, (int, float)) and not isinstance(raw, bool) and low <= raw <= high
            why = (f"应在 {low}–{high} 之间 (中国境内)", f"between {low} and {high} (in China)")
        elif key == "map_zoom":
            ok = isinstance(raw, int) and not isinstance(raw, bool) and 1 <= raw <= 19
            why = ("应为 1–19 的整数", "a whole number 1–19")
        elif key.endswith("_en"):
            ok = raw is None or (isinstance(raw, str) and len(raw) <= length)
            why = (f"最多 {length} 字", f"at most {length} characters")
        else:
            ok = isinstance(raw, str) and raw.strip() and len(raw) <= length
            why = (f"请填写, 最多 {length} 字", f"required, at most {length} characters")
        if not ok:
            errors.append(FieldError(key, f"{zh}{why[0]}", f"{en}: {why[1]}"))
    if errors:
        raise AdminInputError(errors)
    record = db.execute(select(TownRecord).order_by(TownRecord.area_id).limit(1)).scalar_one()
    for key, raw in body.items():
        setattr(record, key, raw.strip() if isinstance(raw, str) else raw)
    after = {f: getattr(record, f) for f in TOWN_FIELDS}
    audit(db, user, "town", "town", {k: current[k] for k in body}, {k: after[k] for k in body})
    db.commit()
    return after


def grid_history(db: Session, user, grid_code: str) -> dict:
    """Who held the grid, from when to when, newest first: ``{grid, items: [{duty, person, from, to}]}``."""
    check_admin(user)
    grid = db.execute(select(Grid.code, Grid.name).where(Grid.code == grid_code).order_by(Grid.valid_from.desc())
                      .limit(1)).first()
    if grid is None:
        raise NotFoundError("没有这个网格", "no such grid")
    rows = db.execute(select(GridAssignment, Person).join(Person, Person.id == GridAssignment.person_id)
                      .where(GridAssignment.grid_code == grid_code)
                      .order_by(GridAssignment.valid_from.desc(), GridAssignment.id.desc())).all()
    return {"grid": {"code": grid.code, "name": grid.name},
            "items": [{"duty": a.duty, "person": _person(p), "from": a.valid_from.isoformat(),
                       "to": a.valid_to.isoformat() if a.valid_to else None} for a, p in rows]}


CATEGORY_KINDS = {"event": ("事件", "event"), "component": ("部件", "component"), "governance": ("社会治理", "governance")}


def create_category(db: Session, user, body) -> dict:
    """A new category ``{code, kind, class, name, name_en, class_en, department, time_limit,
    time_unit, self_handle}``; commits; audited."""
    check_admin(user)
    if not isinstance(body, dict):
        raise AdminInputError([FieldError("body", "请求体应为 JSON 对象", "the body must be a JSON object")])
    errors: list[FieldError] = []
    code = body.get("code")
    if not isinstance(code, str) or not re.fullmatch(r"[A-Z]{2}\d{2,3}", code):
        errors.append(FieldError("code", "类别编码为两个大写字母加 2–3 位数字, 如 SR09", "two capitals and 2–3 digits, e.g. SR09"))
    elif db.execute(select(func.count()).select_from(Category).where(Category.code == code)).scalar():
        errors.append(FieldError("code", "类别编码已存在", "this category code exists"))
    if body.get("kind") not in CATEGORY_KINDS:
        errors.append(FieldError("kind", "类型应为事件、部件或社会治理", "the kind is event, component or governance"))
    for key, zh, length in (("class", "大类", 32), ("name", "小类名称", 64)):
        value = body.get(key)
        if not isinstance(value, str) or not value.strip() or len(value) > length:
            errors.append(FieldError(key, f"请填写{zh} (最多 {length} 字)", f"give the {key} (at most {length} characters)"))
    if errors:
        raise AdminInputError(errors)
    category = Category(code=code, kind=body["kind"], class_name=body["class"].strip(), name=body["name"].strip(),
                        name_en=(body.get("name_en") or None), class_en=(body.get("class_en") or None),
                        time_limit=1, time_unit="work_days")
    db.add(category)
    db.flush()
    audit(db, user, "create_category", f"category:{code}", None, {"code": code, "name": category.name})
    rest = {k: body[k] for k in ("time_limit", "time_unit", "department", "self_handle") if k in body}
    rest.setdefault("self_handle", False)
    try:
        return update_category(db, user, code, rest)  # checks and sets the limit and department; commits
    except AdminInputError:
        db.rollback()
        raise


def create_department(db: Session, user, body) -> dict:
    """A new department ``{code, name, phone, level}``; commits; audited."""
    check_admin(user)
    if not isinstance(body, dict):
        raise AdminInputError([FieldError("body", "请求体应为 JSON 对象", "the body must be a JSON object")])
    errors: list[FieldError] = []
    code = body.get("code")
    if not isinstance(code, str) or not re.fullmatch(r"[a-z][a-z0-9_]{1,31}", code):
        errors.append(FieldError("code", "部门编码为小写字母、数字或 _ (2–32 位), 如 wenlv",
                                 "lower-case letters, digits or _ (2–32), e.g. wenlv"))
    elif db.execute(select(func.count()).select_from(Department).where(Department.code == code)).scalar():
        errors.append(FieldError("code", "部门编码已存在", "this department code exists"))
    level = body.get("level", "town")
    if level not in ("town", "district"):
        errors.append(FieldError("level", "层级应为镇级或区级", "the level is town or district"))
    if errors:
        raise AdminInputError(errors)
    dept = Department(code=code, name="-", level=level)
    db.add(dept)
    db.flush()
    audit(db, user, "create_department", f"department:{code}", None, {"code": code})
    try:
        return update_department(db, user, code, {"name": body.get("name"), "phone": body.get("phone")})
    except AdminInputError:
        db.rollback()
        raise
