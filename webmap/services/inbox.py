"""待办, what awaits the signed-in user: every case and 12345 order on which they may act now,
most urgent first (overdue first, then the nearest deadline, then the oldest).

Which items are the user's is decided in SQL, from the same tables the detail pages read
(``workflow/cases.ACTIONS``, ``workflow/hotline.ACTIONS``): for each action of the user's role, its
states, tier and conditions (a category that may be handled on the spot, a pending extension, the
1-working-day return window, an overdue order for 督办), within the user's territory
(:func:`workflow.cases.in_scope`) and what they may read. So the count (the header badge) is two
bounded ``count(*)`` queries, and each listed item carries exactly the ``actions`` its detail
offers (``services/actions.allowed``, ``services/hotline.allowed``). The return visit after closing
(回访) is not a 待办: it is offered on every closed case, and would bury the open work.

Each kind of 待办 is a :class:`Source` in :data:`SOURCES`: the rows that await the user as one
``SELECT kind, id, late, due, since`` (so that every kind is counted and ordered in SQL, in one
union), and the items of one page built from their ids. Cases and 12345 orders are the first two;
another part of the product (tasks, the centre's reminders) offers its own two functions, listed at
the end of this module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, false, func, literal, or_, select, true, union_all
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from db.models import CaseEvent, Category, HotlineEvent, HotlineOrder, Incident
from workflow import cases, roles
from workflow import deadlines as clock_rules
from workflow import hotline as order_rules
from workflow.clock import SHANGHAI, WorkCalendar, format_iso

from . import actions, analyses, hotline, incidents, office, scope, supervision
from . import tasks as task_service
from .errors import BadRequestError
from .workdays import load_calendar

NOT_AWAITING = frozenset({"return_visit"})  # offered on every closed case: not a 待办
TITLE_CHARS = 30


@dataclass(frozen=True)
class Source:
    """A kind of 待办. ``rows(user, now, calendar)``: a ``SELECT kind, id, late, due, since`` of what
    awaits the user (``late`` a boolean, ``due`` the deadline or NULL, ``since`` when it began), or
    ``None`` when nothing of this kind can await them; ``items(db, user, ids, now, calendar)``: the
    items of those ids, ``{id: item}``, each with at least ``kind``, ``id``, ``number``, ``title``,
    ``state``, ``deadline``, ``deadline_status``, ``actions``, ``reported_at``, ``supervised``, ``note``."""

    kind: str
    zh: str
    rows: Callable
    items: Callable


def parse_kind(raw: str | None) -> str | None:
    """The ``kind`` filter: one of :data:`SOURCES`, or None for all; 400 otherwise."""
    if raw is None or raw == "":
        return None
    if raw not in SOURCES:
        listed = "、".join(f"{k}({s.zh})" for k, s in SOURCES.items())
        raise BadRequestError(f"kind 应为 {listed} 之一", f"kind must be one of {', '.join(SOURCES)}", param="kind")
    return raw


# ---------------------------------------------------------------- which cases await the user


def _in_territory(user):
    """:func:`workflow.cases.in_scope` as a SQL condition."""
    if roles.has_permission(user.role, "see_all_areas"):
        return true()
    if user.role == "department":
        return Incident.department_id == user.department_id if user.department_id is not None else false()
    code = user.scope_code
    if len(code) == 15:
        return Incident.grid_code == code
    within = Incident.grid_code.startswith(code, autoescape=True)
    return or_(within, Incident.grid_code.is_(None)) if len(code) <= 9 else within


def _case_condition(action: cases.Action, since_returnable: datetime):
    """When :func:`workflow.cases.check` lets this action through, besides role and territory."""
    where = [Incident.state.in_(sorted(action.from_states))]
    if action.tier:
        where.append(Incident.tier == action.tier)
    if action.name == "self_handle":
        where.append(Category.self_handle.is_(True))
    if action.name in ("approve_extension", "refuse_extension"):
        where.append(Incident.extension_pending.is_(True))
    if action.name == "request_extension":
        where.append(Incident.extension_pending.is_(False))
    if action.name == "return":
        where.append(or_(Incident.dispatched_at.is_(None), Incident.dispatched_at >= since_returnable))
    return and_(*where)


def _cases_awaiting(user, now: datetime, calendar: WorkCalendar) -> list:
    mine = [a for a in cases.ACTIONS.values() if user.role in a.roles and a.name not in NOT_AWAITING]
    if not mine:
        return [false()]
    since = cases.returnable_since(now, calendar)
    states = [s for s in cases.STATES if any(s in a.from_states for a in mine)]  # the open cases' index
    return [Incident.state.in_(states), scope.incident_visible(user), _in_territory(user),
            or_(*(_case_condition(a, since) for a in mine))]


def _case_late(now: datetime):
    return and_(Incident.state.in_(clock_rules.CLOCK_STATES), Incident.deadline < now)


# ---------------------------------------------------------------- which orders await the user


def _order_deadline():
    """The deadline that runs: signing for a pending order, else the reply while it is owed."""
    return case((HotlineOrder.state == order_rules.PENDING, HotlineOrder.accept_deadline),
                (HotlineOrder.state.in_(order_rules.REPLY_OWED), HotlineOrder.reply_deadline))


def _order_late(now: datetime):
    """:func:`workflow.hotline.overdue` as a SQL condition."""
    return or_(and_(HotlineOrder.state == order_rules.PENDING, HotlineOrder.accept_deadline < now),
               and_(HotlineOrder.state.in_(order_rules.REPLY_OWED), HotlineOrder.reply_deadline < now))


def _order_condition(action: order_rules.Action, user, now: datetime, since_returnable: datetime):
    """When :func:`workflow.hotline.check` lets this action through, besides the role."""
    where = [HotlineOrder.state.in_(sorted(action.from_states))]
    if action.section_only:
        where.append(HotlineOrder.department_id == user.department_id if user.department_id is not None
                     else false())
    if action.name == "return_order":
        where.append(HotlineOrder.dispatched_at >= since_returnable)
    if action.name == "return_to_town":
        where.append(or_(HotlineOrder.assigned_at.is_(None), HotlineOrder.assigned_at >= since_returnable))
    if action.name == "supervise":
        where.append(_order_late(now))
    return and_(*where)


def _orders_awaiting(user, now: datetime, calendar: WorkCalendar) -> list:
    mine = [a for a in order_rules.ACTIONS.values() if user.role in a.roles]
    if not mine or not hotline.may_read(user):
        return [false()]
    since = cases.returnable_since(now, calendar)  # the same 1-working-day window (RETURN_LIMIT)
    return [hotline.visible(user), or_(*(_order_condition(a, user, now, since) for a in mine))]


# ---------------------------------------------------------------- the answer


def _awaiting(user, now: datetime, calendar: WorkCalendar, kind: str | None) -> list:
    """The sources' rows that may await the user, of one kind or all."""
    parts = [source.rows(user, now, calendar) for k, source in SOURCES.items() if kind in (None, k)]
    return [p for p in parts if p is not None]


def counts(db: Session, user, *, now: datetime, kind: str | None = None,
           calendar: WorkCalendar | None = None) -> dict:
    """``{total, overdue}`` of the user's 待办: one count over every kind's rows (one statement
    however many kinds there are), no row leaves the database."""
    calendar = calendar or load_calendar(db)
    parts = _awaiting(user, now, calendar, kind)
    if not parts:
        return {"total": 0, "overdue": 0}
    every = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    total, overdue = db.execute(select(func.count(), func.count().filter(every.c.late)).select_from(every)).one()
    return {"total": total, "overdue": overdue}


def _page(db: Session, user, now: datetime, calendar: WorkCalendar, kind: str | None,
          limit: int, offset: int) -> list[tuple[str, int]]:
    """(kind, id) of one page, most urgent first, every kind in one ordered query."""
    parts = _awaiting(user, now, calendar, kind)
    if not parts:
        return []
    every = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    rows = db.execute(select(every.c.kind, every.c.id)
                      .order_by(every.c.late.desc(), every.c.due.asc().nulls_last(), every.c.since, every.c.kind,
                                every.c.id)
                      .limit(limit).offset(offset)).all()
    return [(r.kind, r.id) for r in rows]


def _case_rows(user, now: datetime, calendar: WorkCalendar):
    return (select(literal("incident").label("kind"), Incident.id.label("id"), _case_late(now).label("late"),
                   case((Incident.state.in_(clock_rules.CLOCK_STATES), Incident.deadline)).label("due"),
                   Incident.reported_at.label("since"))
            .select_from(Incident).join(Category, Category.id == Incident.category_id)
            .where(*_cases_awaiting(user, now, calendar)))


def _order_rows(user, now: datetime, calendar: WorkCalendar):
    return (select(literal("hotline").label("kind"), HotlineOrder.id.label("id"), _order_late(now).label("late"),
                   _order_deadline().label("due"), HotlineOrder.dispatched_at.label("since"))
            .select_from(HotlineOrder).where(*_orders_awaiting(user, now, calendar)))


def _short(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= TITLE_CHARS else text[:TITLE_CHARS] + "…"


def _supervision_notes(db: Session, model, key, ids: list[int], names: tuple[str, ...]) -> dict[int, str | None]:
    """The note of the latest 督办 event of each of these cases or orders."""
    if not ids:
        return {}
    rows = db.execute(select(key, model.note).ext(distinct_on(key))
                      .where(key.in_(ids), model.action.in_(names))
                      .order_by(key, model.at.desc(), model.id.desc())).all()
    return {r[0]: r[1] for r in rows}


def _case_items(db: Session, user, ids: list[int], now: datetime, calendar: WorkCalendar) -> dict:
    if not ids:
        return {}
    rows = db.execute(incidents.detail_select().where(Incident.id.in_(ids))).all()
    supervised = [r.id for r in rows if r.state == cases.SUPERVISED]
    notes = _supervision_notes(db, CaseEvent, CaseEvent.incident_id, supervised,
                               ("supervise", clock_rules.AUTO_SUPERVISE))
    out = {}
    for r in rows:
        running = r.state in clock_rules.CLOCK_STATES and r.deadline is not None
        out[r.id] = {
            "kind": "incident", "id": r.id, "number": r.case_no,
            "title": " · ".join(p for p in (r.cat_name, _short(r.address or r.description)) if p),
            "title_en": " · ".join(p for p in (r.cat_name_en or r.cat_name, _short(r.address or r.description)) if p),
            "state": r.state, "state_en": cases.STATE_EN.get(r.state, r.state),
            "deadline": format_iso(r.deadline),
            "deadline_status": supervision.status_of(r, now, calendar).status if running else clock_rules.NORMAL,
            "actions": actions.allowed(r, user, now, calendar),
            "reported_at": format_iso(r.reported_at),
            "supervised": r.state == cases.SUPERVISED,
            "note": notes.get(r.id),
        }
    return out


def _order_status(o: HotlineOrder, now: datetime, calendar: WorkCalendar) -> tuple[datetime | None, str]:
    """The running deadline of an order and its status on the working clock (a limit in
    minutes, for an urgent order's signing, on the wall clock)."""
    if o.state == order_rules.PENDING:
        deadline = o.accept_deadline
        working = order_rules.URGENCIES[o.urgency][2][1] != "minutes"
    elif o.state in order_rules.REPLY_OWED:
        deadline, working = o.reply_deadline, True
    else:
        return None, clock_rules.NORMAL
    status = clock_rules.status(o.dispatched_at, deadline, now, calendar=calendar, working=working)
    return deadline, status.status


def _order_items(db: Session, user, ids: list[int], now: datetime, calendar: WorkCalendar) -> dict:
    if not ids:
        return {}
    orders = db.execute(select(HotlineOrder).where(HotlineOrder.id.in_(ids))).scalars().all()
    supervised = {o.id for o in orders if o.supervise_count and o.state not in order_rules.DONE_STATES}
    notes = _supervision_notes(db, HotlineEvent, HotlineEvent.order_id, sorted(supervised), ("supervise",))
    out = {}
    for o in orders:
        deadline, status = _order_status(o, now, calendar)
        out[o.id] = {
            "kind": "hotline", "id": o.id, "number": o.order_no,
            "title": " · ".join(p for p in ("12345", _short(o.content)) if p),
            "title_en": " · ".join(p for p in ("12345", _short(o.content)) if p),
            "state": o.state, "state_en": order_rules.STATE_EN.get(o.state),
            "deadline": format_iso(deadline), "deadline_status": status,
            "actions": hotline.allowed(o, user, now, calendar),
            "reported_at": format_iso(o.dispatched_at),
            "supervised": o.id in supervised,
            "note": notes.get(o.id),
        }
    return out


def inbox(db: Session, user, *, now: datetime | None = None, limit: int = 50, offset: int = 0,
          kind: str | None = None, calendar: WorkCalendar | None = None) -> dict:
    """``{items, total, overdue}``: one page of the user's 待办 (``limit`` 0: the counts only).
    Each item: ``kind``, ``id``, ``number``, ``title`` (``title_en``: with the category in English),
    ``state``, ``deadline``, ``deadline_status``, ``actions``, ``reported_at``, ``supervised``,
    ``note`` (the view adds ``url``)."""
    now = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI)
    calendar = calendar or load_calendar(db)
    answer = counts(db, user, now=now, kind=kind, calendar=calendar)
    items: list[dict] = []
    if limit > 0 and offset < answer["total"]:
        page = _page(db, user, now, calendar, kind, limit, offset)
        found = {k: source.items(db, user, [i for kk, i in page if kk == k], now, calendar)
                 for k, source in SOURCES.items() if any(kk == k for kk, _i in page)}
        items = [found[k][i] for k, i in page if i in found[k]]
    return {"items": items, **answer, "limit": limit, "offset": offset}


# every kind of 待办, in the order of the kind filter
SOURCES: dict[str, Source] = {s.kind: s for s in (
    Source("incident", "案件", _case_rows, _case_items),
    Source("hotline", "12345 工单", _order_rows, _order_items),
    Source("analysis", "周分析、月汇总待定稿", analyses.inbox_rows, analyses.inbox_items),
    Source("office", "证照到期提醒", office.inbox_rows, office.inbox_items),
    Source("task", "交办任务", task_service.inbox_rows, task_service.inbox_items),
)}
