"""Moving a case through its workflow: one action, one transaction, one appended event.

The rules are in ``workflow/cases.py`` (:func:`~workflow.cases.check` whether the action may be
taken now, :func:`~workflow.cases.transition` what it changes); this module loads the case, asks
the rules, writes the changes with an optimistic version check (two people acting at once:
exactly one wins, the other gets 409 with the case as it now is), and appends the event and the
live message (``services/events.py``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.models import CaseEvent, Department, Incident
from workflow import cases, roles
from workflow.clock import SHANGHAI, WorkCalendar
from workflow.deadlines import SYSTEM_EVENTS, SYSTEM_ROLE

from . import events, incidents, scope, uploads, workdays
from .errors import ConflictError, FieldError, InvalidInputError, NotFoundError, refused
from .intake import SHA256

# events that are not workflow actions: the report itself, the demo's, the deadline job's (zh, en)
OTHER_EVENTS = {"report": ("上报", "reported"), "demo_state": ("演示数据", "demo data"), **SYSTEM_EVENTS}
MAX_NOTE = 2000
MAX_PHOTOS = 9
MAX_EXTENSION_DAYS = 30


NOT_FOUND = ("没有这个事件,或不在您的管辖范围", "no such incident within your scope")
STALE = ("案件已被他人更新, 请查看最新状态后再操作", "the case changed since you read it; here it is as it now is")


def _case(row) -> cases.Case:
    return cases.Case(
        state=row.state, tier=row.tier, grid_code=row.grid_code, category_self_handle=row.cat_self_handle,
        department_id=row.department_id, reporter_id=row.reporter_id, extension_pending=row.extension_pending,
        dispatched_at=row.dispatched_at, deadline=row.deadline, time_limit=row.time_limit, time_unit=row.time_unit,
        return_count=row.return_count, rework_count=row.rework_count,
    )


def _actor(user) -> cases.Actor:
    return cases.Actor(id=user.id, role=user.role, scope_code=user.scope_code, department_id=user.department_id)


def allowed(row, user, now: datetime, calendar: WorkCalendar) -> list[dict]:
    """The actions this user may take at ``now``, with their labels and what each needs: exactly
    what :func:`act` accepts then (the return window included)."""
    names = cases.allowed_actions(_case(row), _actor(user), now=now, calendar=calendar)
    return [{"name": n, "label_zh": cases.ACTIONS[n].label_zh, "label_en": cases.ACTIONS[n].label_en,
             "needs": sorted(cases.ACTIONS[n].needs)} for n in names]


# who reports without an account (reporter_role of a report): no 职务 to show
OUTSIDERS = {"resident": ("居民", "a resident"), "open311": ("Open311 接入系统", "an Open311 client")}


def who(name: str | None, role: str | None, department: str | None) -> dict:
    """``who`` and ``who_en`` of an event: the person's name and 职务 (a department's account: its
    department), the title alone when no person is recorded, 系统 for the system's events, 居民 for
    a resident's report."""
    if role in OUTSIDERS:
        zh, en = OUTSIDERS[role]
        return {"who": zh, "who_en": en}
    role = None if role == SYSTEM_ROLE else role
    department = department if role == "department" else None
    return {"who": roles.who(name, role, department=department),
            "who_en": roles.who(name, role, department=department, lang="en")}


_TIMELINE = text("""
    SELECT e.at, e.action, e.role, e.from_state, e.to_state, e.note, e.data, p.name AS actor,
           d.name AS actor_department
      FROM case_events e
      LEFT JOIN accounts a ON a.id = e.actor_id
      LEFT JOIN people p ON p.id = a.person_id
      LEFT JOIN departments d ON d.id = a.department_id
     WHERE e.incident_id = :i
     ORDER BY e.at, e.id""")


def timeline(db: Session, incident_id: int) -> list[dict]:
    out = []
    for r in db.execute(_TIMELINE, {"i": incident_id}).all():
        action = cases.ACTIONS.get(r.action)
        zh, en = (action.label_zh, action.label_en) if action else OTHER_EVENTS.get(r.action, (r.action, r.action))
        out.append({
            "at": r.at.astimezone(SHANGHAI).isoformat(),
            "action": r.action, "label_zh": zh, "label_en": en,
            "role": r.role, "actor": r.actor, **who(r.actor, r.role, r.actor_department),
            "from_state": r.from_state, "to_state": r.to_state,
            "from_state_en": cases.STATE_EN.get(r.from_state), "to_state_en": cases.STATE_EN.get(r.to_state),
            "note": r.note, "photos": (r.data or {}).get("photos", []),
            **({"days": r.data["days"]} if r.action == "request_extension" and "days" in (r.data or {}) else {}),
        })
    return out


def extension_request(timeline_entries: list[dict], row) -> dict | None:
    """The pending request for more time (申请延期) — ``{days, note, at, who, who_en}`` — for the one
    who decides it; None when no request waits."""
    if not row.extension_pending:
        return None
    for entry in reversed(timeline_entries):
        if entry["action"] == "request_extension":
            return {"days": entry.get("days"), "note": entry["note"], "at": entry["at"],
                    "who": entry["who"], "who_en": entry["who_en"]}
    return None


def detail(db: Session, user, incident_id: int, photo_url, *, now: datetime | None = None,
           calendar: WorkCalendar | None = None) -> dict | None:
    """The incident as the API shows it, with its timeline, the pending extension request and the
    actions open to this user at ``now``."""
    row = db.execute(incidents.detail_select().where(Incident.id == incident_id,
                                                      scope.incident_visible(user))).first()
    if row is None:
        return None
    out = incidents.serialize_detail(row, user, photo_url)
    calendar = calendar or workdays.load_calendar(db)
    out["actions"] = allowed(row, user, (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI), calendar)
    # a deadline counted on a year whose holidays are provisional (not announced, not confirmed) says so
    out["deadline_provisional"] = bool(row.deadline is not None
                                       and calendar.is_provisional(row.deadline.astimezone(SHANGHAI).date()))
    out["timeline"] = timeline(db, incident_id)
    out["extension_request"] = extension_request(out["timeline"], row)
    return out


def _payload(db: Session, action: cases.Action, body: dict) -> tuple[dict, list[FieldError]]:
    errors: list[FieldError] = []
    out: dict = {}
    note = body.get("note")
    if note is not None and not isinstance(note, str):
        errors.append(FieldError("note", "说明应为文本", "note must be a string"))
        note = None
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        errors.append(FieldError("note", f"说明不能超过 {MAX_NOTE} 字", f"note must be at most {MAX_NOTE} characters"))
    elif "note" in action.needs and not note:
        errors.append(FieldError("note", f"「{action.label_zh}」需要填写说明或理由", f"{action.name} needs a note"))
    out["note"] = note or None

    photos = body.get("photos") or []
    if not isinstance(photos, list) or len(photos) > MAX_PHOTOS or not all(
            isinstance(p, str) and SHA256.fullmatch(p) for p in photos):
        errors.append(FieldError("photos", f"photos 应为最多 {MAX_PHOTOS} 个照片编号",
                                 f"photos must be at most {MAX_PHOTOS} attachment ids"))
        photos = []
    elif photos:
        found = uploads.stored(db, photos)
        for i, p in enumerate(photos):
            if p not in found:
                errors.append(FieldError(f"photos[{i}]", "照片未上传或编号错误", "no uploaded photo has this id"))
    if "photos" in action.needs and not photos:
        errors.append(FieldError("photos", f"「{action.label_zh}」需要现场照片", f"{action.name} needs photo evidence"))
    out["photos"] = list(dict.fromkeys(photos))

    if "department" in action.needs:
        code = body.get("department")
        dept = db.execute(select(Department.id, Department.name).where(Department.code == code)).first() \
            if isinstance(code, str) else None
        if dept is None or code == "zongzhi":
            errors.append(FieldError("department", "请选择要派遣的职能部门", "choose the department to dispatch to"))
        else:
            out["department_id"], out["department"] = dept.id, code
    if "satisfaction" in action.needs:
        value = body.get("satisfaction")
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            errors.append(FieldError("satisfaction", "满意度应为 1–5 的整数", "satisfaction must be an integer 1–5"))
        else:
            out["satisfaction"] = value
    if action.name == "request_extension":
        days = body.get("days")
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_EXTENSION_DAYS:
            errors.append(FieldError("days", f"延期天数应为 1–{MAX_EXTENSION_DAYS} 个工作日",
                                     f"days must be 1–{MAX_EXTENSION_DAYS} working days"))
        else:
            out["days"] = days
    return out, errors


def _requested_days(db: Session, incident_id: int) -> int:
    data = db.execute(
        select(CaseEvent.data).where(CaseEvent.incident_id == incident_id, CaseEvent.action == "request_extension")
        .order_by(CaseEvent.at.desc(), CaseEvent.id.desc()).limit(1)
    ).scalar()
    return int((data or {}).get("days", 0))


def _applied(db: Session, user, incident_id: int, key: str, photo_url) -> dict | None:
    """The case as it now is when the action of this idempotency key was already applied, else None."""
    done = db.execute(select(CaseEvent.incident_id)
                      .where(CaseEvent.data.op("?")(events.IDEMPOTENCY_KEY),  # the partial unique index
                             CaseEvent.data[events.IDEMPOTENCY_KEY].astext == key)).scalar()
    if done is None:
        return None
    if done != incident_id:
        raise InvalidInputError([FieldError("Idempotency-Key", "该幂等键已用于另一个案件的操作",
                                            "this Idempotency-Key was used for an action on another case")])
    return detail(db, user, incident_id, photo_url) or {"id": incident_id, "visible": False}


def act_once(db: Session, user, incident_id: int, name: str, body: dict, photo_url,
             idempotency_key: str | None) -> tuple[dict, bool]:
    """:func:`act`, once per idempotency key (a phone resends a queued action when it cannot know
    whether the first one arrived): ``(the case, replayed)``. A resent action is answered with the
    case as it now is, without a second event, even though its version is stale by then."""
    if idempotency_key is None:
        return act(db, user, incident_id, name, body, photo_url), False
    found = _applied(db, user, incident_id, idempotency_key, photo_url)
    if found is not None:
        return found, True
    try:
        return act(db, user, incident_id, name, body, photo_url, idempotency_key=idempotency_key), False
    except (ConflictError, IntegrityError):  # the same action, sent twice at once: the other one won
        db.rollback()
        found = _applied(db, user, incident_id, idempotency_key, photo_url)
        if found is None:
            raise
        return found, True


def act(db: Session, user, incident_id: int, name: str, body: dict, photo_url, *,
        calendar: WorkCalendar | None = None, now: datetime | None = None,
        idempotency_key: str | None = None) -> dict:
    """Take one action on a case. Raises NotFoundError, InvalidInputError (fields, or the rules'
    refusal on ``action``: 403 or 422) or ConflictError; commits on success and returns the case
    as it now is."""
    row = db.execute(incidents.detail_select().where(Incident.id == incident_id,
                                                      scope.incident_visible(user))).first()
    if row is None:
        raise NotFoundError(*NOT_FOUND)
    version = body.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise InvalidInputError([FieldError("version", "请提交案件的当前版本号 version", "send the case's current version")])
    if version != row.version:
        raise ConflictError(*STALE, detail(db, user, incident_id, photo_url))
    calendar = calendar or workdays.load_calendar(db)
    now = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI)
    before = _case(row)
    try:
        action = cases.check(name, before, _actor(user), now=now, calendar=calendar)
    except cases.TransitionError as exc:
        raise refused(exc.status, exc.zh, exc.en) from exc
    payload, errors = _payload(db, action, body)
    if errors:
        raise InvalidInputError(errors)

    done = cases.transition(
        before, action, now, calendar, department_id=payload.get("department_id"),
        satisfaction=payload.get("satisfaction"),
        extension_days=_requested_days(db, incident_id) if action.extends_deadline else 0)
    sets, after = done.changes, done.case
    updated = db.execute(
        Incident.__table__.update()
        .where(Incident.id == incident_id, Incident.version == version)
        .values(**sets, version=Incident.version + 1)
        .returning(Incident.version)
    ).scalar()
    if updated is None:  # someone else acted a moment ago
        db.rollback()
        raise ConflictError(*STALE, detail(db, user, incident_id, photo_url, now=now, calendar=calendar))
    to_state = after.state
    data = {k: v for k, v in payload.items() if k not in ("note", "department_id") and v not in (None, [])}
    if "deadline" in sets:
        data["deadline"] = sets["deadline"].isoformat()
    events.record_event(db, incident_id, action.name, at=now, actor_id=user.id, role=user.role,
                        from_state=row.state, to_state=to_state, note=payload["note"], data=data,
                        idempotency_key=idempotency_key)
    events.notify_cases(db, [incident_id], action.name, now)
    db.commit()
    # a department that returns a case no longer sees it: answer in brief
    return detail(db, user, incident_id, photo_url, now=now, calendar=calendar) or {
        "id": incident_id, "state": after.state, "version": updated, "visible": False}
