"""Tasks (交办任务, seed 8-1) and the information-collection rule (seed 7-2 §3). The rules are data in
:mod:`workflow.tasks`; this module persists them.

- :func:`create` (``issue_tasks``): a task with its assignees — grid workers by username, villages by
  code, departments by code — and a deadline on the working-day clock: a day (the end of its office
  hours; it must be a working day), a moment, or ``{"work_days": N}`` counted from now on the town's
  calendar (:func:`webmap.services.workdays.load_calendar`). The information-collection rule decides
  its first state (:func:`workflow.tasks.initial_state`): 待区审批, or refused with the seed's words.
- :func:`listing` / :func:`detail`: what the reader may see (:func:`visible`): the town's desk, the
  district and the administrator every task; an issuing body its own; an assignee what is given to
  it once it is open (a pending or refused task reaches no assignee).
- :func:`act`: ``acknowledge``, ``progress``, ``complete`` (an assignee, on its own row), ``return``,
  ``supervise``, ``close`` (the issuing body; ``assignee`` names the row), ``approve`` / ``refuse``
  (the district grid centre). 403 for the wrong actor, 409 on a stale ``version`` (the task's, which
  every step bumps), 422 for the wrong moment or a missing note.
- :func:`run_clock` (``wangge jobs run``): every assignee still owing an open task past its deadline
  is marked overdue and supervised once (超期自动督办).
- :func:`inbox_rows` / :func:`inbox_items`: the ``task`` kind of 待办 (:mod:`webmap.services.inbox`):
  an assignee's open rows, and the district's queue of 待区审批.

Every step is an append-only :class:`~db.models.TaskEvent`.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from sqlalchemy import and_, exists, false, func, literal, or_, select, true
from sqlalchemy.orm import Session

from db.models import Account, Area, Department, Person, Task, TaskAssignee, TaskEvent
from workflow import deadlines as clock_rules
from workflow import roles
from workflow import tasks as rules
from workflow.clock import SHANGHAI, WorkCalendar, format_iso

from . import uploads
from .errors import ConflictError, FieldError, ForbiddenError, InvalidInputError, NotFoundError
from .intake import text_field
from .workdays import load_calendar

SHA256 = re.compile(r"[0-9a-f]{64}")
LIST_LIMIT = 200


class TaskInputError(InvalidInputError):
    CODE = "TaskRejected"
    LEAD = ("任务未保存", "the task was not saved")


def _refusal(error: rules.TaskRuleError) -> InvalidInputError:
    """A refusal of the rules as the API answers it: the reason, on its field."""
    return TaskInputError([FieldError(error.field, error.zh, error.en)], status=error.status, zh=error.zh, en=error.en,
                          code="TaskRefused")


def _word(value) -> str | None:
    """A value compared with the rules' names: a string, else None (a list or an object is no name)."""
    return value if isinstance(value, str) else None


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI)


# ---------------------------------------------------------------- who the user is to a task


def body_of(user) -> str:
    """The issuing body the user acts for: the town's centre and leaders (``town``), the district,
    the administrator, a department (``department:<id>``), a village's grid body (``village:<code>``)."""
    if user.role in rules.TOWN_ROLES:
        return "town"
    if user.role == "department":
        return f"department:{user.department_id}"
    if user.role == "leader":
        return f"village:{user.scope_code}"
    return user.role


def _mine(user):
    """The assignee rows that are the user's (a worker's own, a leader's village's, a department's),
    as a condition on :class:`TaskAssignee`; None when the user is no assignee."""
    if not roles.has_permission(user.role, "work_tasks"):
        return None
    if user.role == "worker":
        return and_(TaskAssignee.kind == rules.WORKER, TaskAssignee.account_id == user.id)
    if user.role == "leader":
        return and_(TaskAssignee.kind == rules.VILLAGE, TaskAssignee.village_code == user.scope_code)
    if user.role == "department" and user.department_id is not None:
        return and_(TaskAssignee.kind == rules.DEPARTMENT, TaskAssignee.department_id == user.department_id)
    return None


def visible(user):
    """The tasks the user may read, as a condition on :class:`Task`; None for a role that reads none."""
    if roles.has_permission(user.role, "read_all_tasks"):
        return true()
    conditions = []
    if roles.has_permission(user.role, "issue_tasks"):
        conditions.append(Task.issuer_body == body_of(user))
    mine = _mine(user)
    if mine is not None:  # a pending or refused task reaches no assignee
        conditions.append(and_(Task.state.in_(rules.VISIBLE_TO_ASSIGNEES),
                               exists().where(TaskAssignee.task_id == Task.id, mine)))
    return or_(*conditions) if conditions else None


def _is_mine(user, a: TaskAssignee) -> bool:
    if user.role == "worker":
        return a.kind == rules.WORKER and a.account_id == user.id
    if user.role == "leader":
        return a.kind == rules.VILLAGE and a.village_code == user.scope_code
    if user.role == "department":
        return a.kind == rules.DEPARTMENT and a.department_id is not None and a.department_id == user.department_id
    return False


def _actors(user, task: Task, assignees: list[TaskAssignee]) -> set[str]:
    actors = set()
    if roles.has_permission(user.role, "issue_tasks") and task.issuer_body == body_of(user):
        actors.add(rules.ISSUER)
    if task.state in rules.VISIBLE_TO_ASSIGNEES and any(_is_mine(user, a) for a in assignees):
        actors.add(rules.ASSIGNEE)
    if roles.has_permission(user.role, "approve_info_collection"):
        actors.add(rules.DISTRICT)
    return actors


# ---------------------------------------------------------------- reading


def _labels(db: Session, assignees: list[TaskAssignee]) -> dict[int, dict]:
    """Each assignee's name as the table shows it: a worker's name and grid, a village's and a
    department's name."""
    accounts = {a.account_id for a in assignees if a.account_id}
    villages = {a.village_code for a in assignees if a.village_code}
    departments = {a.department_id for a in assignees if a.department_id}
    workers = {r.id: r for r in db.execute(
        select(Account.id, Account.username, Account.scope_code, Person.name)
        .outerjoin(Person, Person.id == Account.person_id).where(Account.id.in_(accounts)))} if accounts else {}
    areas = dict(db.execute(select(Area.code, Area.name).where(Area.code.in_(villages))).all()) if villages else {}
    depts = dict(db.execute(select(Department.id, Department.name).where(Department.id.in_(departments))).all()) \
        if departments else {}
    out = {}
    for a in assignees:
        if a.kind == rules.WORKER:
            w = workers.get(a.account_id)
            out[a.id] = {"name": (w.name or w.username) if w else a.code, "grid_code": w.scope_code if w else None}
        elif a.kind == rules.VILLAGE:
            out[a.id] = {"name": areas.get(a.village_code, a.village_code), "grid_code": None}
        else:
            out[a.id] = {"name": depts.get(a.department_id, a.code), "grid_code": None}
    return out


def _assignee(a: TaskAssignee, task: Task, label: dict, now: datetime, user) -> dict:
    return {
        "id": a.id, "kind": a.kind, "kind_zh": rules.ASSIGNEE_KINDS[a.kind][0], "code": a.code,
        "name": label["name"], "grid_code": label["grid_code"], "report_back": a.report_back,
        "state": a.state, "state_en": rules.ASSIGNEE_STATE_EN[a.state],
        "owes": rules.owes(a.state, a.report_back),
        "acknowledged_at": format_iso(a.acknowledged_at), "progress_at": format_iso(a.progress_at),
        "progress_note": a.progress_note, "completed_at": format_iso(a.completed_at),
        "completion_note": a.completion_note, "completion_attachments": list(a.completion_attachments or []),
        "return_count": a.return_count, "supervise_count": a.supervise_count,
        "supervised_at": format_iso(a.supervised_at), "overdue_at": format_iso(a.overdue_at),
        "overdue": rules.is_overdue(a.state, a.report_back, task.state, task.deadline, now),
        "mine": _is_mine(user, a),
    }


def _offered(user, task: Task, assignees: list[TaskAssignee], now: datetime) -> list[dict]:
    """The actions the user may take now: ``{action, assignee, label_zh, label_en}`` (``assignee``
    the row an assignee's or the issuer's step concerns, null for a step of the whole task)."""
    actors = _actors(user, task, assignees)
    out = []
    for action in rules.ACTIONS.values():
        if action.actor not in actors:
            continue
        if action.on_task:
            rows = [None]
        elif action.actor == rules.ASSIGNEE:
            rows = [a for a in assignees if _is_mine(user, a)]
        else:
            rows = assignees
        for a in rows:
            try:
                rules.check(action.name, actors, task.state, a.state if a else None,
                            overdue=bool(a) and rules.is_overdue(a.state, a.report_back, task.state, task.deadline, now))
            except rules.TaskRuleError:
                continue
            out.append({"action": action.name, "assignee": a.id if a else None, "label_zh": action.zh,
                        "label_en": action.en, "needs_note": action.needs_note})
    return out


def _people(db: Session, ids: set[int]) -> dict[int, dict]:
    """The accounts behind tasks and steps: username, name, role, and the label a timeline shows."""
    if not ids:
        return {}
    rows = db.execute(select(Account.id, Account.username, Account.role, Account.department_id, Person.name,
                             Department.name.label("department"))
                      .outerjoin(Person, Person.id == Account.person_id)
                      .outerjoin(Department, Department.id == Account.department_id)
                      .where(Account.id.in_(ids))).all()
    return {r.id: {"username": r.username, "name": r.name, "role": r.role,
                   "label": roles.who(r.name, r.role, department=r.department)} for r in rows}


def _serialize(task: Task, assignees: list[TaskAssignee], labels: dict, people: dict, user, now: datetime,
               events: list[TaskEvent] | None = None) -> dict:
    rows = [_assignee(a, task, labels[a.id], now, user) for a in assignees]
    answer = {
        "id": task.id, "number": f"T{task.id}", "title": task.title, "body": task.body, "kind": task.kind,
        "kind_zh": rules.KINDS[task.kind][0], "kind_en": rules.KINDS[task.kind][1],
        "source": task.source, "source_zh": rules.SOURCES[task.source][0] if task.source else None,
        "source_ref": task.source_ref, "state": task.state, "state_en": rules.STATE_EN[task.state],
        "version": task.version, "deadline": format_iso(task.deadline), "report_back": task.report_back,
        "attachments": list(task.attachments or []),
        "issuer": {**people.get(task.issuer_id, {}), "body": task.issuer_body},
        "created_at": format_iso(task.created_at), "opened_at": format_iso(task.opened_at),
        "approved_at": format_iso(task.approved_at),
        "approved_by": people.get(task.approved_by) if task.approved_by else None,
        "refusal": task.refusal, "closed_at": format_iso(task.closed_at),
        "reaches_workers": rules.reaches_workers(a.kind for a in assignees),
        "overdue": any(r["overdue"] for r in rows),
        "counts": {"total": len(rows), "acknowledged": sum(1 for a in assignees if a.acknowledged_at),
                   "completed": sum(1 for a in assignees if a.state == rules.DONE),
                   "owing": sum(1 for r in rows if r["owes"]), "overdue": sum(1 for r in rows if r["overdue"])},
        "assignees": rows,
        "mine": next((r["id"] for r in rows if r["mine"]), None),
        "actions": _offered(user, task, assignees, now),
    }
    if events is not None:
        answer["events"] = [{
            "at": format_iso(e.at), "action": e.action, "label_zh": rules.EVENT_LABELS.get(e.action, (e.action,))[0],
            "label_en": rules.EVENT_LABELS.get(e.action, (e.action, e.action))[1], "assignee": e.assignee_id,
            "by": people[e.actor_id]["label"] if e.actor_id in people else roles.who(None, None), "role": e.role, "from_state": e.from_state,
            "to_state": e.to_state, "note": e.note, "attachments": list(e.attachments or [])} for e in events]
    return answer


def _load(db: Session, tasks: list[Task], user, now: datetime, with_events: bool = False) -> list[dict]:
    if not tasks:
        return []
    ids = [t.id for t in tasks]
    assignees: dict[int, list[TaskAssignee]] = {}
    for a in db.execute(select(TaskAssignee).where(TaskAssignee.task_id.in_(ids))
                        .order_by(TaskAssignee.task_id, TaskAssignee.id)).scalars():
        assignees.setdefault(a.task_id, []).append(a)
    labels = _labels(db, [a for rows in assignees.values() for a in rows])
    events: dict[int, list[TaskEvent]] = {}
    if with_events:
        for e in db.execute(select(TaskEvent).where(TaskEvent.task_id.in_(ids))
                            .order_by(TaskEvent.at, TaskEvent.id)).scalars():
            events.setdefault(e.task_id, []).append(e)
    people = _people(db, {t.issuer_id for t in tasks} | {t.approved_by for t in tasks if t.approved_by}
                     | {e.actor_id for rows in events.values() for e in rows if e.actor_id})
    return [_serialize(t, assignees.get(t.id, []), labels, people, user, now,
                       events.get(t.id, []) if with_events else None) for t in tasks]


FILTERS = ("state", "kind", "mine", "issued", "pending", "overdue")


def listing(db: Session, user, args, now: datetime | None = None) -> dict:
    """``GET /api/v1/tasks``: the tasks the user may see, newest first (at most 200), with the
    filters ``state``, ``kind``, ``mine=1`` (given to me), ``issued=1`` (by my body), ``pending=1``
    (待区审批), ``overdue=1``."""
    where = visible(user)
    if where is None:
        raise ForbiddenError("此角色没有交办任务", "this role has no tasks")
    now = _now(now)
    errors = []
    state, kind = args.get("state") or None, args.get("kind") or None
    if state is not None and state not in rules.STATES:
        errors.append(FieldError("state", "状态应为 " + "、".join(rules.STATES), "state is one of " + ", ".join(rules.STATES)))
    if kind is not None and kind not in rules.KINDS:
        errors.append(FieldError("kind", "类型应为 general 或 info_collection", "kind is general or info_collection"))
    for flag in ("mine", "issued", "pending", "overdue"):
        if args.get(flag) not in (None, "", "0", "1"):
            errors.append(FieldError(flag, f"{flag} 应为 0 或 1", f"{flag} is 0 or 1"))
    if errors:
        raise InvalidInputError(errors, lead=("参数有误", "bad parameters"), status=400, code="BadRequestError")
    query = select(Task).where(where)
    if state:
        query = query.where(Task.state == state)
    if kind:
        query = query.where(Task.kind == kind)
    if args.get("pending") == "1":
        query = query.where(Task.state == rules.PENDING)
    if args.get("issued") == "1":
        query = query.where(Task.issuer_body == body_of(user))
    mine = _mine(user)
    if args.get("mine") == "1":
        query = query.where(false() if mine is None else and_(
            Task.state.in_(rules.VISIBLE_TO_ASSIGNEES), exists().where(TaskAssignee.task_id == Task.id, mine)))
    if args.get("overdue") == "1":
        query = query.where(Task.state == rules.OPEN, Task.deadline < now,
                            exists().where(TaskAssignee.task_id == Task.id, _owes()))
    tasks = db.execute(query.order_by(Task.created_at.desc(), Task.id.desc()).limit(LIST_LIMIT)).scalars().all()
    return {"items": _load(db, tasks, user, now), "limit": LIST_LIMIT}


def detail(db: Session, user, task_id: int, now: datetime | None = None) -> dict:
    """One task with its assignees and its events; 404 when the user may not see it."""
    task = _visible_task(db, user, task_id)
    return _load(db, [task], user, _now(now), with_events=True)[0]


def _visible_task(db: Session, user, task_id: int, lock: bool = False) -> Task:
    where = visible(user)
    query = select(Task).where(Task.id == task_id, where if where is not None else false())
    task = db.execute(query.with_for_update(of=Task) if lock else query).scalar_one_or_none()
    if task is None:
        raise NotFoundError("没有这个任务", "no such task")
    return task


def _owes():
    """:func:`workflow.tasks.owes` as a condition on :class:`TaskAssignee`."""
    return and_(TaskAssignee.state != rules.DONE,
                or_(TaskAssignee.report_back.is_(True), TaskAssignee.state == rules.NEW))


# ---------------------------------------------------------------- the assignees one may choose


def choices(db: Session, user) -> dict:
    """``GET /api/v1/tasks/assignees``: the villages, departments and grid workers the user may give a
    task to (a village's leader: the workers of the village)."""
    if not roles.has_permission(user.role, "issue_tasks") or not rules.may_issue(user.role):
        raise ForbiddenError("此角色不能交办任务", "this role does not issue tasks")
    kinds = rules.ISSUERS[user.role]
    out: dict[str, list] = {"villages": [], "departments": [], "workers": []}
    if rules.VILLAGE in kinds:
        out["villages"] = [{"code": c, "name": n} for c, n in db.execute(
            select(Area.code, Area.name).where(Area.level == "village").order_by(Area.code))]
    if rules.DEPARTMENT in kinds:
        out["departments"] = [{"code": c, "name": n} for c, n in db.execute(
            select(Department.code, Department.name).order_by(Department.id))]
    if rules.WORKER in kinds:
        query = (select(Account.username, Account.scope_code, Person.name).outerjoin(Person, Person.id == Account.person_id)
                 .where(Account.role == "worker", Account.active.is_(True)))
        if user.role == "leader":
            query = query.where(Account.scope_code.startswith(user.scope_code, autoescape=True))
        out["workers"] = [{"username": u, "grid_code": g, "village_code": g[:12], "name": n or u}
                          for u, g, n in db.execute(query.order_by(Account.scope_code, Account.username))]
    out["kinds"] = sorted(kinds)
    out["general_only"] = user.role in rules.GENERAL_ONLY
    return out


# ---------------------------------------------------------------- creating


def _attachments(db: Session, raw, field: str, errors: list) -> list[str]:
    """Attachment ids (SHA-256 of files uploaded with POST /api/v1/attachments)."""
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > rules.MAX_ATTACHMENTS or not all(isinstance(s, str) for s in raw):
        errors.append(FieldError(field, f"附件应为最多 {rules.MAX_ATTACHMENTS} 个附件编号的列表",
                                 f"{field} is a list of at most {rules.MAX_ATTACHMENTS} attachment ids"))
        return []
    wanted = [s for s in raw if SHA256.fullmatch(s)]
    found = uploads.stored(db, wanted, photos_only=False)
    for i, sha in enumerate(raw):
        if sha not in found:
            errors.append(FieldError(f"{field}[{i}]", "附件未上传或编号错误", "no uploaded attachment has this id"))
    return list(dict.fromkeys(raw))


def parse_deadline(raw, now: datetime, calendar: WorkCalendar, errors: list) -> datetime | None:
    """The deadline: ``YYYY-MM-DD`` (the end of that working day's office hours), an ISO moment, or
    ``{"work_days": N}`` (the end of the N-th working day from today, on the town's calendar)."""
    deadline = None
    if isinstance(raw, dict) and set(raw) == {"work_days"}:
        n = raw["work_days"]
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= rules.MAX_WORK_DAYS:
            errors.append(FieldError("deadline", f"工作日数应为 1 到 {rules.MAX_WORK_DAYS} 的整数",
                                     f"work_days is a whole number from 1 to {rules.MAX_WORK_DAYS}"))
            return None
        return calendar.add(now, n, "work_days")
    if isinstance(raw, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            day = None
        if day is not None:
            if not calendar.is_workday(day):
                nxt = rules.next_workday(day, calendar)
                errors.append(FieldError("deadline", f"{day:%Y-%m-%d} 不是工作日, 最近的工作日是 {nxt:%Y-%m-%d}",
                                         f"{day} is not a working day; the next one is {nxt}"))
                return None
            deadline = rules.end_of_workday(day)
    elif isinstance(raw, str):
        try:
            moment = datetime.fromisoformat(raw)
            deadline = moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)
        except ValueError:
            deadline = None
    if deadline is None:
        errors.append(FieldError("deadline", "截止时间应为日期 YYYY-MM-DD、ISO 时间或 {\"work_days\": N}",
                                 "the deadline is a day YYYY-MM-DD, an ISO moment or {\"work_days\": N}"))
        return None
    if deadline <= now:
        errors.append(FieldError("deadline", "截止时间应晚于现在", "the deadline must be in the future"))
        return None
    if deadline > now + timedelta(days=rules.MAX_DAYS_AHEAD):
        errors.append(FieldError("deadline", "截止时间最多两年之后", "the deadline is at most two years ahead"))
        return None
    return deadline


def _targets(db: Session, user, raw, default_report: bool, errors: list) -> list[TaskAssignee]:
    """The assignees as rows to add (not yet added); every bad one is a field error."""
    if not isinstance(raw, list) or not raw:
        errors.append(FieldError("assignees", "请至少选择一个承办对象 (村、部门或网格员)",
                                 "name at least one assignee (a village, a department or a grid worker)"))
        return []
    if len(raw) > rules.MAX_ASSIGNEES:
        errors.append(FieldError("assignees", f"承办对象最多 {rules.MAX_ASSIGNEES} 个",
                                 f"at most {rules.MAX_ASSIGNEES} assignees"))
        return []
    names = {"worker": [], "village": [], "department": []}
    for item in raw:
        if isinstance(item, dict) and _word(item.get("kind")) in rules.ASSIGNEE_KINDS:
            key = item.get("username") if item["kind"] == rules.WORKER else item.get("code")
            if isinstance(key, str):
                names[item["kind"]].append(key)
    workers = {r.username: r for r in db.execute(
        select(Account.id, Account.username, Account.role, Account.scope_code, Account.active)
        .where(Account.username.in_(names["worker"])))} if names["worker"] else {}
    villages = set(db.execute(select(Area.code).where(Area.level == "village", Area.code.in_(names["village"])))
                   .scalars()) if names["village"] else set()
    depts = dict(db.execute(select(Department.code, Department.id).where(Department.code.in_(names["department"])))
                 .all()) if names["department"] else {}
    out, seen = [], set()
    for i, item in enumerate(raw):
        field = f"assignees[{i}]"
        if not isinstance(item, dict) or _word(item.get("kind")) not in rules.ASSIGNEE_KINDS:
            errors.append(FieldError(f"{field}.kind", "承办对象类型应为 worker、village 或 department",
                                     "the kind is worker, village or department"))
            continue
        kind = item["kind"]
        report = item.get("report_back", default_report)
        if not isinstance(report, bool):
            errors.append(FieldError(f"{field}.report_back", "是否需反馈应为 true 或 false", "report_back is true or false"))
            continue
        if kind == rules.WORKER:
            username = item.get("username")
            w = workers.get(username) if isinstance(username, str) else None
            if w is None or not w.active or w.role != "worker":
                errors.append(FieldError(f"{field}.username", f"没有用户名为 {username} 的在岗网格员",
                                         f"no active grid worker {username}"))
                continue
            if user.role == "leader" and not w.scope_code.startswith(user.scope_code):
                errors.append(FieldError(f"{field}.username", f"{username} 不是本村 (社区) 的网格员",
                                         f"{username} is not a grid worker of your village"))
                continue
            row = TaskAssignee(kind=kind, code=username, account_id=w.id)
        elif kind == rules.VILLAGE:
            code = item.get("code")
            if _word(code) not in villages:
                errors.append(FieldError(f"{field}.code", f"没有编码为 {code} 的村 (社区)", f"no village {code}"))
                continue
            row = TaskAssignee(kind=kind, code=code, village_code=code)
        else:
            code = item.get("code")
            if _word(code) not in depts:
                errors.append(FieldError(f"{field}.code", f"没有编码为 {code} 的部门", f"no department {code}"))
                continue
            row = TaskAssignee(kind=kind, code=code, department_id=depts[code])
        if (kind, row.code) in seen:
            errors.append(FieldError(field, f"{row.code} 重复", f"{row.code} is named twice"))
            continue
        seen.add((kind, row.code))
        row.report_back, row.state = report, rules.NEW
        out.append(row)
    return out


def create(db: Session, user, body, now: datetime | None = None) -> dict:
    """``POST /api/v1/tasks``: 403 for a role that does not issue tasks or may not give this one
    (the information-collection rule, with the seed's words), 422 with every field's reason.
    Commits."""
    if not roles.has_permission(user.role, "issue_tasks") or not rules.may_issue(user.role):
        raise ForbiddenError("此角色不能交办任务", "this role does not issue tasks")
    now = _now(now)
    if not isinstance(body, dict):
        raise TaskInputError([FieldError("body", "请求体应为 JSON 对象", "the body must be a JSON object")], status=400)
    errors: list[FieldError] = []
    title = text_field(body.get("title"), "title", rules.TITLE_MAX, errors, "任务标题", required=True)
    text = text_field(body.get("body"), "body", rules.BODY_MAX, errors, "任务内容") or ""
    kind = _word(body.get("kind", rules.GENERAL))
    if kind not in rules.KINDS:
        errors.append(FieldError("kind", "任务类型应为 general (一般任务) 或 info_collection (信息采集)",
                                 "the kind is general or info_collection"))
    source = body.get("source")
    if source is not None and _word(source) not in rules.SOURCES:
        errors.append(FieldError("source", "任务来源应为 document、meeting 或 other", "source is document, meeting or other"))
    source_ref = text_field(body.get("source_ref"), "source_ref", rules.SOURCE_REF_MAX, errors, "文号或会议名称")
    report_back = body.get("report_back", True)
    if not isinstance(report_back, bool):
        errors.append(FieldError("report_back", "是否需反馈应为 true 或 false", "report_back is true or false"))
        report_back = True
    deadline = parse_deadline(body.get("deadline"), now, load_calendar(db), errors)
    attachments = _attachments(db, body.get("attachments"), "attachments", errors)
    assignees = _targets(db, user, body.get("assignees"), report_back, errors)
    if errors:
        raise TaskInputError(errors)
    try:
        state = rules.initial_state(kind, user.role, {a.kind for a in assignees})
    except rules.TaskRuleError as exc:
        raise _refusal(exc) from None
    task = Task(title=title, body=text, kind=kind, source=source, source_ref=source_ref, state=state,
                issuer_id=user.id, issuer_role=user.role, issuer_body=body_of(user), deadline=deadline,
                report_back=report_back, attachments=attachments, created_at=now,
                opened_at=now if state == rules.OPEN else None, version=1)
    if state == rules.OPEN and kind == rules.INFO and rules.reaches_workers(a.kind for a in assignees):
        task.approved_at, task.approved_by = now, user.id  # the district centre's own task
    db.add(task)
    db.flush()
    for a in assignees:
        a.task_id = task.id
        db.add(a)
    db.add(TaskEvent(task_id=task.id, at=now, actor_id=user.id, role=user.role, action="create", to_state=state,
                     note=title, attachments=attachments))
    db.commit()
    return _load(db, [task], user, now, with_events=True)[0]


# ---------------------------------------------------------------- acting


def act(db: Session, user, task_id: int, body, now: datetime | None = None) -> dict:
    """``POST /api/v1/tasks/<id>/actions`` ``{"action", "version", "note", "attachments",
    "assignee"}``: 404 when the user may not see the task, 403 for the wrong actor, 409 on a stale
    version, 422 when the task or the assignee is not where the action may be taken or the note is
    missing. Commits."""
    now = _now(now)
    task = _visible_task(db, user, task_id, lock=True)
    if not isinstance(body, dict):
        raise TaskInputError([FieldError("body", "请求体应为 JSON 对象", "the body must be a JSON object")], status=400)
    assignees = db.execute(select(TaskAssignee).where(TaskAssignee.task_id == task.id)
                           .order_by(TaskAssignee.id).with_for_update()).scalars().all()
    actors = _actors(user, task, assignees)
    try:
        action = rules.check_actor(_word(body.get("action")), actors)
    except rules.TaskRuleError as exc:
        raise _refusal(exc) from None
    if body.get("version") != task.version:
        raise ConflictError("任务已被他人更新, 请刷新", "the task changed since you read it",
                            current=_load(db, [task], user, now)[0])
    target = _target(user, action, assignees, body.get("assignee"))
    errors: list[FieldError] = []
    note = text_field(body.get("note"), "note", rules.NOTE_MAX, errors, "说明")
    attachments = _attachments(db, body.get("attachments"), "attachments", errors)
    try:
        rules.check(action.name, actors, task.state, target.state if target else None,
                    overdue=bool(target) and rules.is_overdue(target.state, target.report_back, task.state,
                                                              task.deadline, now))
    except rules.TaskRuleError as exc:
        raise _refusal(exc) from None
    if action.needs_note and not note:
        errors.append(FieldError("note", f"{action.zh}须写明说明" + ("(不批准的理由)" if action.name == "refuse" else ""),
                                 f"{action.en} needs a note"))
    if errors:
        raise TaskInputError(errors)
    values = {"now": now, "note": note, "attachments": attachments, "actor": user.id, "none": None}
    record = task if action.on_task else target
    for column, value in action.sets:
        setattr(record, column, values[value])
    if action.counts:
        setattr(record, action.counts, getattr(record, action.counts) + 1)
    before = task.state if action.on_task else target.state
    if action.on_task:
        task.state = action.task_to
    elif action.to_state:
        target.state = action.to_state
    task.version += 1
    db.add(TaskEvent(task_id=task.id, assignee_id=target.id if target else None, at=now, actor_id=user.id,
                     role=user.role, action=action.name, from_state=before,
                     to_state=task.state if action.on_task else target.state, note=note, attachments=attachments))
    db.commit()
    return _load(db, [task], user, now, with_events=True)[0]


def _target(user, action: rules.Action, assignees: list[TaskAssignee], raw) -> TaskAssignee | None:
    """The assignee row an action concerns: the user's own (an assignee's step), the one named by
    ``assignee`` (the issuer's), none (a step of the whole task)."""
    if action.on_task:
        return None
    if action.actor == rules.ASSIGNEE:
        mine = [a for a in assignees if _is_mine(user, a)]
        if raw is not None:
            mine = [a for a in mine if a.id == raw]
        if not mine:
            raise TaskInputError([FieldError("assignee", "这不是您承办的任务", "you are not this task's assignee")],
                                 status=403)
        return mine[0]
    found = next((a for a in assignees if isinstance(raw, int) and a.id == raw), None)
    if found is None:
        raise TaskInputError([FieldError("assignee", "请指明本任务的承办对象 (assignee 的编号)",
                                         "name one of this task's assignees (its id)")])
    return found


# ---------------------------------------------------------------- the deadline job


def run_clock(db: Session, now: datetime | None = None) -> int:
    """Mark every assignee that still owes an open task past its deadline as overdue and supervise
    it (超期自动督办), once (safe to run twice). Returns how many. Commits."""
    now = _now(now)
    rows = db.execute(select(TaskAssignee, Task).join(Task, Task.id == TaskAssignee.task_id)
                      .where(Task.state == rules.OPEN, Task.deadline < now, TaskAssignee.overdue_at.is_(None), _owes())
                      .order_by(Task.id, TaskAssignee.id).with_for_update(of=TaskAssignee, skip_locked=True)).all()
    bumped = set()
    for a, task in rows:
        a.overdue_at, a.supervised_at, a.supervise_count = now, now, a.supervise_count + 1
        db.add(TaskEvent(task_id=task.id, assignee_id=a.id, at=now, role=clock_rules.SYSTEM_ROLE,
                         action=rules.AUTO_SUPERVISE, from_state=a.state, to_state=a.state,
                         note=f"超过截止时间 {task.deadline.astimezone(SHANGHAI):%Y-%m-%d %H:%M} 未完成"))
        if task.id not in bumped:
            task.version += 1
            bumped.add(task.id)
    db.commit()
    return len(rows)


# ---------------------------------------------------------------- 待办


def inbox_rows(user, now: datetime, calendar: WorkCalendar):
    """What awaits the user (``SELECT kind, id, late, due, since``): an assignee, its rows that still
    owe an open task; the district grid centre, the tasks awaiting its approval; None otherwise."""
    late = (Task.deadline < now).label("late")
    since = func.coalesce(Task.opened_at, Task.created_at).label("since")
    head = (literal("task").label("kind"), Task.id.label("id"), late, Task.deadline.label("due"), since)
    if roles.has_permission(user.role, "approve_info_collection"):
        return select(*head).where(Task.state == rules.PENDING)
    mine = _mine(user)
    if mine is None:
        return None
    return (select(*head).select_from(Task).join(TaskAssignee, TaskAssignee.task_id == Task.id)
            .where(Task.state == rules.OPEN, mine, _owes()))


def inbox_items(db: Session, user, ids: list[int], now: datetime, calendar: WorkCalendar) -> dict:
    if not ids:
        return {}
    tasks = db.execute(select(Task).where(Task.id.in_(ids))).scalars().all()
    page = "/m/tasks" if user.role == "worker" else "/tasks"
    out = {}
    for item in _load(db, tasks, user, now):
        mine = next((a for a in item["assignees"] if a["mine"]), None)
        task = next(t for t in tasks if t.id == item["id"])
        status = clock_rules.status(task.opened_at or task.created_at, task.deadline, now, calendar=calendar).status
        out[item["id"]] = {
            "kind": "task", "id": item["id"], "number": item["number"],
            "title": f"{item['kind_zh']} · {item['title']}", "title_en": f"{item['kind_en']} · {item['title']}",
            "state": mine["state"] if mine else item["state"], "state_en": mine["state_en"] if mine else item["state_en"],
            "deadline": item["deadline"], "deadline_status": status,
            "actions": [{"name": a["action"], "label_zh": a["label_zh"], "label_en": a["label_en"]}
                        for a in item["actions"] if a["assignee"] in (None, mine and mine["id"])],
            "reported_at": item["opened_at"] or item["created_at"],
            "supervised": bool(mine and mine["supervise_count"]),
            "note": None, "page": f"{page}?task={item['id']}",
        }
    return out


# ---------------------------------------------------------------- attachments


def attachment_visible(user, sha: str):
    """A condition (for :func:`webmap.services.attachments.load_photo`) true when ``sha`` is attached
    to a task the user may see: its document, a completion or a step's attachments."""
    where = visible(user)
    if where is None:
        return false()
    return or_(exists().where(Task.attachments.contains([sha]), where),
               exists().where(TaskEvent.attachments.contains([sha]), TaskEvent.task_id == Task.id, where))
