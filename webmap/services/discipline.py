"""The discipline ladder (执纪, seed 7-2) of the grid workers, driven by its clock.

A finding of 工作不力 (a spot check below the pass threshold) opens a case at 通报批评 on day D:
a record, an event, notices to the worker and the village. Not corrected by ``due``, the clock
(:func:`run_clock`, called by ``wangge jobs run``) steps it up once: 诫勉谈话 (a talk to hold; the
worker loses 评优 for that year, ``loses_merit_year``), then, not corrected again, 建议辞退
(proposed to the town), which waits for the town's decision (manage_staff): 已辞退 (the grid needs
a new worker: the notice points to /admin 网格员配备) or 留用. 已纠正 closes an open case, with
evidence (attachment hashes) and a note, by the town's centre or the district.

The clock counts :data:`workflow.staff.DISCIPLINE_DAYS` **calendar days** (自然日) from the day of a
step (:data:`workflow.staff.DISCIPLINE_DAY_KIND`; ``"working"`` would count the town's working days
instead). Every step, by a person or by the clock (``actor_id`` none), is an append-only
:class:`~db.models.DisciplineEvent`; ``version`` guards the persons' steps against stale pages.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Account, DisciplineCase, DisciplineEvent, Person
from workflow import roles, staff
from workflow.clock import SHANGHAI, WorkCalendar, format_iso

from . import notices, uploads
from .errors import ConflictError, FieldError, ForbiddenError, InvalidInputError, NotFoundError
from .workdays import load_calendar

ACTIONS = ("correct", "talk", "decide_dismiss", "decide_keep")
STAFFING_URL = "/admin"  # its first tab: 网格员配备


class DisciplineInputError(InvalidInputError):
    CODE = "DisciplineRejected"
    LEAD = ("执纪操作未保存", "the discipline step was not saved")


def due_after(day: date, calendar: WorkCalendar | None = None, kind: str = staff.DISCIPLINE_DAY_KIND,
              days: int = staff.DISCIPLINE_DAYS) -> date:
    """The day the next step falls: ``days`` calendar days after ``day``, or (``kind="working"``)
    the ``days``-th working day after it."""
    if kind == "calendar":
        return day + timedelta(days=days)
    calendar = calendar or WorkCalendar()
    count = 0
    while count < days:
        day += timedelta(days=1)
        count += calendar.is_workday(day)
    return day


def _due(db: Session, day: date) -> date:
    return due_after(day, load_calendar(db) if staff.DISCIPLINE_DAY_KIND == "working" else None)


def _notify(db: Session, case: DisciplineCase, title: str, body: str, at: datetime) -> None:
    notices.send(db, kind="discipline", title=title, body=body, ref=f"discipline:{case.id}", at=at,
                 person_id=case.worker_id, village=case.grid_code[:12])


def open_case(db: Session, *, worker_id: int, grid_code: str, finding: str, now: datetime,
              spot_check_id: int | None = None, actor_id: int | None = None) -> DisciplineCase:
    """通报批评 on ``now``'s day (no commit)."""
    now = now.astimezone(SHANGHAI)
    case = DisciplineCase(worker_id=worker_id, grid_code=grid_code, spot_check_id=spot_check_id, finding=finding,
                          step="通报批评", step_at=now, due=_due(db, now.date()), opened_at=now, version=1)
    db.add(case)
    db.flush()
    db.add(DisciplineEvent(case_id=case.id, at=now, actor_id=actor_id, action="criticise", step=case.step, note=finding))
    _notify(db, case, "通报批评", f"{finding}。请于 {case.due:%Y-%m-%d} 前整改, 逾期未纠正将诫勉谈话。", now)
    return case


def _step_up(db: Session, case: DisciplineCase, now: datetime, actor_id: int | None, action: str, note: str | None) -> None:
    case.step = staff.DISCIPLINE_NEXT[case.step]
    case.step_at = now
    if case.step == "诫勉谈话":
        case.loses_merit_year = now.year
        case.due = _due(db, now.date())
        body = (f"通报批评后未纠正, 进行诫勉谈话; 取消 {now.year} 年度评优资格。"
                f"请于 {case.due:%Y-%m-%d} 前纠正, 逾期将建议辞退。")
    else:
        case.due = None
        body = "诫勉谈话后仍未纠正, 已建议镇综治中心辞退, 待镇里决定。"
    case.version += 1
    db.add(DisciplineEvent(case_id=case.id, at=now, actor_id=actor_id, action=action, step=case.step, note=note))
    _notify(db, case, case.step, body, now)


def run_clock(db: Session, now: datetime | None = None) -> int:
    """Step up, once, every open case whose due day has come (safe to run twice). Commits."""
    now = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI)
    cases = db.execute(select(DisciplineCase).where(DisciplineCase.step.in_(tuple(staff.DISCIPLINE_NEXT)),
                                                    DisciplineCase.due <= now.date())
                       .order_by(DisciplineCase.id).with_for_update(skip_locked=True)).scalars().all()
    for case in cases:
        _step_up(db, case, now, None, "clock", f"{staff.DISCIPLINE_DAYS} 天内未纠正")
    db.commit()
    return len(cases)


def _where(db: Session, user):
    if user.role == "worker":
        return DisciplineCase.worker_id == db.get(Account, user.id).person_id
    if not roles.has_permission(user.role, "read_staff"):
        return None
    if user.role == "leader":
        return DisciplineCase.grid_code.startswith(user.scope_code or "-", autoescape=True)
    return DisciplineCase.id.is_not(None)


def _serialize(case: DisciplineCase, person: Person | None, events: list[DisciplineEvent], today: date) -> dict:
    return {
        "id": case.id, "worker": {"id": case.worker_id, "name": person.name if person else None},
        "grid_code": case.grid_code, "village_code": case.grid_code[:12], "spot_check_id": case.spot_check_id,
        "finding": case.finding, "step": case.step, "step_en": staff.DISCIPLINE_STEPS_EN[case.step],
        "open": case.step in staff.DISCIPLINE_OPEN, "step_at": format_iso(case.step_at),
        "clock": {"due": case.due.isoformat() if case.due else None, "next_step": staff.DISCIPLINE_NEXT.get(case.step),
                  "days_left": (case.due - today).days if case.due else None, "day_kind": staff.DISCIPLINE_DAY_KIND},
        "loses_merit_year": case.loses_merit_year, "opened_at": format_iso(case.opened_at),
        "closed_at": format_iso(case.closed_at), "version": case.version,
        "events": [{"at": format_iso(e.at), "actor_id": e.actor_id, "action": e.action, "step": e.step, "note": e.note,
                    "evidence": e.evidence} for e in events],
    }


def _load(db: Session, cases: list[DisciplineCase], today: date) -> list[dict]:
    if not cases:
        return []
    ids = [c.id for c in cases]
    events: dict[int, list] = {}
    for e in db.execute(select(DisciplineEvent).where(DisciplineEvent.case_id.in_(ids))
                        .order_by(DisciplineEvent.at, DisciplineEvent.id)).scalars():
        events.setdefault(e.case_id, []).append(e)
    people = {p.id: p for p in db.execute(select(Person).where(Person.id.in_({c.worker_id for c in cases}))).scalars()}
    return [_serialize(c, people.get(c.worker_id), events.get(c.id, []), today) for c in cases]


def listing(db: Session, user, args, now: datetime | None = None) -> dict:
    """``?state=open`` for the open cases only; within the reader's scope."""
    where = _where(db, user)
    if where is None:
        raise ForbiddenError("此角色不能查看执纪", "this role does not read discipline cases")
    query = select(DisciplineCase).where(where)
    state = args.get("state")
    if state == "open":
        query = query.where(DisciplineCase.step.in_(staff.DISCIPLINE_OPEN))
    elif state:
        raise DisciplineInputError([FieldError("state", "state 只能为 open", "state is open or absent")], status=400)
    today = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI).date()
    cases = db.execute(query.order_by(DisciplineCase.opened_at.desc(), DisciplineCase.id.desc()).limit(500)).scalars().all()
    return {"items": _load(db, cases, today), "day_kind": staff.DISCIPLINE_DAY_KIND, "days": staff.DISCIPLINE_DAYS}


def act(db: Session, user, case_id: int, body, now: datetime | None = None) -> dict:
    """``{"action", "version", "note", "evidence"}``: 403 for the wrong role, 409 on a stale version,
    422 for a step the case is not at. Commits."""
    now = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI)
    where = _where(db, user)
    case = None if where is None else db.execute(
        select(DisciplineCase).where(DisciplineCase.id == case_id, where).with_for_update()).scalar_one_or_none()
    if case is None:
        raise NotFoundError("没有这个执纪案件", "no such discipline case")
    if not isinstance(body, dict) or body.get("action") not in ACTIONS:
        raise DisciplineInputError([FieldError("action", "操作应为 " + "、".join(ACTIONS), "the action is one of " + ", ".join(ACTIONS))])
    action = body["action"]
    manage = roles.has_permission(user.role, "manage_staff")
    if not (manage or (action == "correct" and roles.has_permission(user.role, "spot_check"))):
        raise ForbiddenError("只有镇综治中心 (纠正也可由区网格中心) 办理执纪", "only the town's centre (or, for a correction, the district) acts on a case")
    note, evidence = body.get("note"), body.get("evidence") or []
    errors = []
    if note is not None and (not isinstance(note, str) or len(note) > 1000):
        errors.append(FieldError("note", "说明最多 1000 字", "the note is at most 1000 characters"))
    if not isinstance(evidence, list) or not all(isinstance(e, str) for e in evidence):
        errors.append(FieldError("evidence", "证据应为附件编号列表", "evidence is a list of attachment ids"))
    elif evidence:
        found = uploads.stored(db, evidence, photos_only=False)
        errors += [FieldError(f"evidence[{i}]", "附件未上传或编号错误", "no uploaded attachment has this id")
                   for i, e in enumerate(evidence) if e not in found]
    note = (note or "").strip() or None
    if action == "correct" and not (note or evidence):
        errors.append(FieldError("note", "纠正须附证据或说明", "a correction needs evidence or a note"))
    if action in ("decide_dismiss", "decide_keep") and not note:
        errors.append(FieldError("note", "请写明决定的理由", "give the decision's reason"))
    if errors:
        raise DisciplineInputError(errors)
    if body.get("version") != case.version:
        raise ConflictError("执纪案件已被他人更新, 请刷新", "the case changed since you read it",
                            current=_load(db, [case], now.date())[0])
    allowed = {"correct": staff.DISCIPLINE_OPEN, "talk": ("通报批评", "诫勉谈话"),
               "decide_dismiss": ("建议辞退",), "decide_keep": ("建议辞退",)}[action]
    if case.step not in allowed:
        raise DisciplineInputError([FieldError("action", f"案件在「{case.step}」, 不能 {action}",
                                               f"the case is at {staff.DISCIPLINE_STEPS_EN[case.step]}: no {action}")])
    if action == "talk" and case.step == "通报批评":
        _step_up(db, case, now, user.id, "talk", note)  # the talk held before the clock came
    elif action == "talk":  # the talk held: the 10 days run from it
        case.due, case.step_at = max(case.due or now.date(), _due(db, now.date())), now
        case.version += 1
        db.add(DisciplineEvent(case_id=case.id, at=now, actor_id=user.id, action="talk", step=case.step, note=note))
        _notify(db, case, "诫勉谈话", f"已进行诫勉谈话。请于 {case.due:%Y-%m-%d} 前纠正。", now)
    else:
        case.step = {"correct": "已纠正", "decide_dismiss": "已辞退", "decide_keep": "留用"}[action]
        case.step_at, case.due, case.closed_at = now, None, now
        case.version += 1
        db.add(DisciplineEvent(case_id=case.id, at=now, actor_id=user.id, action=action, step=case.step, note=note,
                               evidence=list(evidence)))
        body_text = {"已纠正": f"已纠正: {note or '见证据'}", "留用": f"镇综治中心决定留用: {note}",
                     "已辞退": f"镇综治中心决定辞退: {note}。该网格需配备新的网格员, 请到 {STAFFING_URL} 网格员配备。"}[case.step]
        _notify(db, case, case.step, body_text, now)
    db.commit()
    return _load(db, [case], now.date())[0]
