"""Leave of the grid workers (请假/销假, seed 7-2).

A worker asks for leave from a day to a day (inclusive) with a kind and a reason. Its length is
counted in working days on the town's clock (holidays and weekends do not count). Up to
:data:`workflow.leave.LEADER_DAYS` working days the leader (网格长) of the worker's village approves it, and the
town's centre sees it (it is filed there); longer, the town's centre (镇综治中心) approves it. The
worker may cancel it before it starts and reports back (销假) after it; an approved leave whose end has
passed without 销假 shows as ``back_overdue``. The town's centre names a stand-in (顶岗, action
``name_stand_in``): the grid leader (网格长) of the worker's village, who holds the village's cases
already; while the leave runs, the grid's new cases go to them (``db/sql/route_point.sql``), each
with a ``stand_in`` case event. Every step is a :class:`~db.models.LeaveEvent`.
``version`` guards the steps against stale pages (409).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from db.models import Account, Leave, LeaveEvent, Person
from workflow import roles
from workflow.clock import SHANGHAI, WorkCalendar, format_iso
from workflow.leave import APPROVED, BACK, CANCELLED, KINDS, PENDING, REFUSED, STATE_EN, approver

from .errors import ConflictError, FieldError, ForbiddenError, InvalidInputError, NotFoundError
from .workdays import load_calendar

MAX_DAYS_AHEAD = 366


class LeaveInputError(InvalidInputError):
    CODE = "LeaveRejected"
    LEAD = ("请假未保存", "the leave was not saved")


def working_days(calendar: WorkCalendar, start: date, end: date) -> int:
    """The working days from ``start`` to ``end``, both included."""
    days, day = 0, start
    while day <= end:
        days += calendar.is_workday(day)
        day += timedelta(days=1)
    return days


def _serialize(leave: Leave, person: Person | None, today: date, stand_in: Person | None = None) -> dict:
    return {"id": leave.id, "worker": {"id": leave.worker_id, "name": person.name if person else None},
            "stand_in": {"id": stand_in.id, "name": stand_in.name} if stand_in else None,
            "grid_code": leave.grid_code, "start": leave.start.isoformat(), "end": leave.end.isoformat(),
            "kind": leave.kind, "reason": leave.reason, "days": leave.days, "approver_role": leave.approver_role,
            "state": leave.state, "state_en": STATE_EN[leave.state], "version": leave.version,
            "created_at": format_iso(leave.created_at), "back_at": format_iso(leave.back_at),
            "back_overdue": leave.state == APPROVED and leave.end < today}


def _parse(body, today: date) -> tuple[date, date, str, str]:
    errors: list[FieldError] = []
    if not isinstance(body, dict):
        raise LeaveInputError([FieldError("body", "请求体应为 JSON 对象", "the body must be a JSON object")])
    dates = {}
    for key, zh in (("start", "开始日期"), ("end", "结束日期")):
        raw = body.get(key)
        try:
            dates[key] = date.fromisoformat(raw) if isinstance(raw, str) else None
        except ValueError:
            dates[key] = None
        if dates[key] is None:
            errors.append(FieldError(key, f"{zh}应为 YYYY-MM-DD", f"{key} must be YYYY-MM-DD"))
    start, end = dates.get("start"), dates.get("end")
    if start and end:
        if end < start:
            errors.append(FieldError("end", "结束日期不能早于开始日期", "the end is before the start"))
        if start < today - timedelta(days=7):
            errors.append(FieldError("start", "开始日期最多补请 7 天前", "a leave is asked at most 7 days late"))
        if end > today + timedelta(days=MAX_DAYS_AHEAD):
            errors.append(FieldError("end", "结束日期太远", "the end is too far ahead"))
    kind = body.get("kind")
    if kind not in KINDS:
        errors.append(FieldError("kind", "假别应为 " + "、".join(KINDS), "the kind is one of " + ", ".join(KINDS.values())))
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 500:
        errors.append(FieldError("reason", "请填写请假事由 (最多 500 字)", "give the reason (at most 500 characters)"))
    if errors:
        raise LeaveInputError(errors)
    return start, end, kind, reason.strip()


def ask(db: Session, user, body, now: datetime | None = None) -> dict:
    """A worker's request; the approver follows from its working days. Commits."""
    if user.role != "worker":
        raise ForbiddenError("只有专职网格员请假", "only grid workers ask for leave here")
    now = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI)
    start, end, kind, reason = _parse(body, now.date())
    account = db.get(Account, user.id)
    overlapping = db.execute(select(Leave.id).where(Leave.worker_id == account.person_id,
                                                    Leave.state.in_((PENDING, APPROVED)),
                                                    Leave.start <= end, Leave.end >= start)).first()
    if overlapping:
        raise LeaveInputError([FieldError("start", "与已有的请假时间重叠", "it overlaps a leave already asked")])
    days = working_days(load_calendar(db), start, end)
    if days == 0:
        raise LeaveInputError([FieldError("end", "这段时间没有工作日, 无需请假", "no working day in it: no leave needed")])
    leave = Leave(account_id=account.id, worker_id=account.person_id, grid_code=user.scope_code, start=start, end=end,
                  kind=kind, reason=reason, days=days, approver_role=approver(days),
                  state=PENDING, version=1, created_at=now)
    db.add(leave)
    db.flush()
    db.add(LeaveEvent(leave_id=leave.id, at=now, actor_id=user.id, role=user.role, action="ask", note=reason))
    db.commit()
    return _serialize(leave, db.get(Person, leave.worker_id), now.date())


def _in_scope(user):
    """Which leaves the user reads: their own (a worker), their village's (a leader), all (the town)."""
    if user.role == "worker":
        return Leave.account_id == user.id
    if user.role == "leader":
        return Leave.grid_code.startswith(user.scope_code, autoescape=True)
    if roles.has_permission(user.role, "handle_cases") or roles.has_permission(user.role, "see_all_areas"):
        return Leave.id.is_not(None)
    return None


def listing(db: Session, user, now: datetime | None = None) -> dict:
    """The leaves the user may read, newest first, and those awaiting them."""
    where = _in_scope(user)
    if where is None:
        raise ForbiddenError("此角色不能查看请假", "this role does not read leave")
    today = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI).date()
    stand_in = aliased(Person)
    rows = db.execute(select(Leave, Person, stand_in).join(Person, Person.id == Leave.worker_id)
                      .outerjoin(stand_in, stand_in.id == Leave.stand_in_id).where(where)
                      .order_by(Leave.start.desc(), Leave.id.desc()).limit(500)).all()
    items = [_serialize(leave, person, today, deputy) for leave, person, deputy in rows]
    naming = roles.has_permission(user.role, "handle_cases")
    return {"items": items, "awaiting_me": [i["id"] for i, (leave, _p, _s) in zip(items, rows, strict=True)
                                            if may_decide(user, leave)],
            "may_name_stand_in": naming,
            "stand_in_candidates": _candidates(db, {i["grid_code"][:12] for i in items}) if naming else {}}


def _candidates(db: Session, villages: set[str]) -> dict[str, list[dict]]:
    """The active grid leaders of each village, who may stand in for its workers."""
    out: dict[str, list[dict]] = {v: [] for v in sorted(villages)}
    if villages:
        for account, person in db.execute(
                select(Account, Person).join(Person, Person.id == Account.person_id)
                .where(Account.role == "leader", Account.active.is_(True), Account.scope_code.in_(villages))
                .order_by(Account.username)).all():
            out[account.scope_code].append({"username": account.username, "name": person.name})
    return out


def may_decide(user, leave: Leave) -> bool:
    if leave.state != PENDING:
        return False
    if leave.approver_role == "leader":
        return user.role == "leader" and leave.grid_code.startswith(user.scope_code)
    return roles.has_permission(user.role, "handle_cases")


ACTIONS = ("approve", "refuse", "cancel", "report_back", "name_stand_in")


def act(db: Session, user, leave_id: int, body, now: datetime | None = None) -> dict:
    """``{"action", "version", "note"}``: 403 for the wrong person, 409 on a stale version, 422 when
    the leave is not in a state for it. Commits."""
    now = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI)
    leave = db.execute(select(Leave).where(Leave.id == leave_id).with_for_update()).scalar_one_or_none()
    where = _in_scope(user)
    visible = leave is not None and where is not None and db.execute(
        select(Leave.id).where(Leave.id == leave_id, where)).first() is not None
    if not visible:
        raise NotFoundError("没有这条请假", "no such leave")
    if not isinstance(body, dict) or body.get("action") not in ACTIONS:
        raise LeaveInputError([FieldError("action", "操作应为 approve、refuse、cancel、report_back 或 name_stand_in",
                                          "the action is approve, refuse, cancel, report_back or name_stand_in")])
    action = body["action"]
    person = db.get(Person, leave.worker_id)
    if body.get("version") != leave.version:
        raise ConflictError("请假已被他人处理, 请刷新", "the leave changed since you read it",
                            current=_serialize(leave, person, now.date()))
    note = body.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > 500):
        raise LeaveInputError([FieldError("note", "说明最多 500 字", "the note is at most 500 characters")])
    if action in ("approve", "refuse"):
        if leave.state == PENDING and not may_decide(user, leave):
            who = "本村网格长" if leave.approver_role == "leader" else "镇综治中心"
            raise ForbiddenError(f"这条请假 ({leave.days} 个工作日) 由{who}审批",
                                 f"this leave ({leave.days} working days) is decided by "
                                 + ("the village's leader" if leave.approver_role == "leader" else "the town's centre"))
        if leave.state != PENDING:
            raise LeaveInputError([FieldError("action", f"请假已{leave.state}", f"the leave is {STATE_EN[leave.state]}")])
        if action == "refuse" and not (note or "").strip():
            raise LeaveInputError([FieldError("note", "不批准请说明理由", "say why it is refused")])
        leave.state = APPROVED if action == "approve" else REFUSED
    elif action == "name_stand_in":
        _name_stand_in(db, user, leave, body, now.date())
    else:
        if leave.account_id != user.id:
            raise ForbiddenError("只有请假人本人可以撤销或销假", "only the worker who asked may cancel or report back")
        if action == "cancel":
            if leave.state not in (PENDING, APPROVED) or (leave.state == APPROVED and leave.start <= now.date()):
                raise LeaveInputError([FieldError("action", "已开始或已结束的请假不能撤销", "a leave begun or ended cannot be cancelled")])
            leave.state = CANCELLED
        else:
            if leave.state != APPROVED or leave.start > now.date():
                raise LeaveInputError([FieldError("action", "只有已批准并已开始的请假可以销假",
                                                  "only an approved leave that has begun is reported back from")])
            leave.state, leave.back_at = BACK, now
    leave.version += 1
    if action == "name_stand_in":
        deputy = db.get(Person, leave.stand_in_id) if leave.stand_in_id else None
        note = (f"顶岗: {deputy.name}" if deputy else "取消顶岗") + (f" ({note})" if note else "")
    db.add(LeaveEvent(leave_id=leave.id, at=now, actor_id=user.id, role=user.role, action=action, note=note))
    db.commit()
    return _serialize(leave, person, now.date(), db.get(Person, leave.stand_in_id) if leave.stand_in_id else None)


def _name_stand_in(db: Session, user, leave: Leave, body: dict, today: date) -> None:
    """``stand_in``: the username of a grid leader (网格长) whose village holds the worker's grid, or
    null to name none. The town's centre only; a leave still to come or running."""
    if not roles.has_permission(user.role, "handle_cases"):
        raise ForbiddenError("顶岗人员由镇综治中心指定", "the town's centre names the stand-in")
    if leave.state not in (PENDING, APPROVED) or leave.end < today:
        raise LeaveInputError([FieldError("action", f"请假已{leave.state}, 不能指定顶岗",
                                          f"the leave is {STATE_EN[leave.state]}: no stand-in")])
    username = body.get("stand_in")
    if username is None:
        leave.stand_in_id = None
        return
    account = db.execute(select(Account).where(Account.username == username)).scalar_one_or_none() \
        if isinstance(username, str) else None
    if account is None or not account.active or account.person_id is None:
        raise LeaveInputError([FieldError("stand_in", "没有这个可用账号", "no such active account")])
    if account.role != "leader" or not leave.grid_code.startswith(account.scope_code or "-"):
        raise LeaveInputError([FieldError("stand_in", "顶岗人员应为本村 (社区) 的网格长",
                                          "the stand-in is a grid leader of the worker's village")])
    leave.stand_in_id = account.person_id

