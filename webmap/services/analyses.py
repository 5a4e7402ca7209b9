"""周分析 / 月汇总 and 民情分析会 (seed 5-1 ③④): the records a village's leader and the town's centre
keep of their weekly analyses, monthly summaries and residents' opinion meetings.

Analyses (:func:`create_analysis`, :func:`update_analysis`, :func:`act_on_analysis`): one per
kind (``week``: Monday–Sunday, ``month``), period and scope (a village, or the town). Made with the
figures of the period counted from the data (:func:`count_figures`: the cases per category, per
grid, the hotspots, the overdue cases, the patrols and the visits) and frozen with it as JSON, so
later changes to the cases leave it as it was; ``recount`` (重新统计) counts them again while it is
a 草稿. The leader (or the centre) writes 分析意见 / 问题与措施 / 下步工作 and finalises it (已定稿): then
nothing of it changes. Rules and periods: :mod:`workflow.analyses`.

Meetings (:func:`create_meeting`, :func:`update_meeting`): date, place, participants (text, no
phones), what was agreed, and the opinions raised; :func:`opinion_to_case` turns an opinion into
a case through the intake pipe (:func:`webmap.services.intake.report_incident`), once: the
opinion stores the incident, the case's description says which meeting it came from, and its
idempotency key (``meeting<id>:opinion<n>``) makes a second request answer the same case.
:func:`link_task` records the task an opinion became, when tasks exist (migration 0018).

Who: ``write_analyses`` (the leader for their village, the centre and the administrator for the
town and any village); ``read_analyses`` reads (a leader their village's only). Stale versions are
409; finalised records refuse every change (422).
"""

from __future__ import annotations

import dataclasses
import io
import re
from datetime import date, datetime, timedelta

from sqlalchemy import BigInteger, DateTime, case, cast, func, literal, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.models import (
    Account,
    Analysis,
    Area,
    Category,
    Grid,
    Incident,
    Meeting,
    MeetingOpinion,
    Person,
    Town,
)
from db.queries import query
from workflow import analyses as rules
from workflow import roles
from workflow.clock import SHANGHAI, format_iso

from . import intake
from .errors import ConflictError, FieldError, ForbiddenError, InvalidInputError, NotFoundError

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_LISTED = 200
PHONE_LIKE = re.compile(r"(?<!\d)(?:1[3-9]\d{9}|\d{3,4}-?\d{7,8})(?!\d)")  # a mobile or a fixed line
# 日走访 (migration 0019, another part): the visits and the households (门牌) visited in a period;
# counted only once a visits table with these columns exists
VISIT_COUNT = text("SELECT count(*) AS visits, count(DISTINCT address_id) AS households FROM visits "
                   "WHERE visited_at >= :lo AND visited_at < :hi AND starts_with(grid_code, :prefix)")


class AnalysisInputError(InvalidInputError):
    CODE = "AnalysisRejected"
    LEAD = ("分析未保存", "the analysis was not saved")


class MeetingInputError(InvalidInputError):
    CODE = "MeetingRejected"
    LEAD = ("民情分析会记录未保存", "the meeting was not saved")


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), SHANGHAI)


# ---------------------------------------------------------------- scope: a village or the town


@dataclasses.dataclass(frozen=True)
class Scope:
    kind: str  # village | town
    code: str
    name: str

    def as_dict(self) -> dict:
        return {"kind": self.kind, "code": self.code, "name": self.name}


def town_of(db: Session) -> tuple[str, str]:
    row = db.execute(select(Area.code, Town.name).join(Town, Town.area_id == Area.id).order_by(Area.code)).first()
    if row is None:
        row = db.execute(select(Area.code, Area.name).where(Area.level == "town").order_by(Area.code)).first()
    return (row.code, row.name) if row else ("", "")


def _scope(db: Session, code: str) -> Scope | None:
    """The scope a stored code names."""
    town_code, town_name = town_of(db)
    if code == town_code:
        return Scope("town", code, town_name)
    name = db.execute(select(Area.name).where(Area.code == code, Area.level == "village")).scalar()
    return Scope("village", code, name) if name is not None else None


def parse_scope(db: Session, user, raw, field: str = "scope") -> Scope:
    """``"town"``, the town's code or a village's 12-digit code; absent: a leader's village, else
    the town. 422 when it names no village of the town."""
    town_code, _ = town_of(db)
    if raw in (None, ""):
        raw = user.scope_code if user.role == "leader" else town_code
    if raw == "town":
        raw = town_code
    scope = _scope(db, raw) if isinstance(raw, str) and raw.isdigit() and len(raw) in rules.SCOPE_LENGTHS else None
    if scope is None or (scope.kind == "village" and not scope.code.startswith(town_code)):
        raise AnalysisInputError([FieldError(field, "应为 town 或本镇的 12 位村编码", "town, or a village code of 12 digits")])
    return scope


def _may_read(user, code: str) -> bool:
    if not roles.has_permission(user.role, "read_analyses"):
        return False
    return user.role != "leader" or code == user.scope_code


def _may_write(user, code: str) -> bool:
    if not roles.has_permission(user.role, "write_analyses"):
        return False
    return user.role != "leader" or code == user.scope_code


def _check_write(user, scope: Scope) -> None:
    if not roles.has_permission(user.role, "write_analyses"):
        raise ForbiddenError("此角色不能编写分析或记录民情分析会", "this role does not write analyses or meetings")
    if not _may_write(user, scope.code):
        raise ForbiddenError(f"{scope.name} 不在您的管辖范围内", f"{scope.code} is outside your area")


def _check_read(user) -> None:
    if not roles.has_permission(user.role, "read_analyses"):
        raise ForbiddenError("此角色不能查看周分析、月汇总和民情分析会", "this role does not read analyses and meetings")


def _readable_codes(user):
    """A condition on a scope code column: what the user reads (a leader: their village)."""
    return None if user.role != "leader" else user.scope_code


def _people(db: Session, ids) -> dict[int, dict]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    rows = db.execute(select(Account.id, Account.username, Account.role, Person.name)
                      .outerjoin(Person, Person.id == Account.person_id).where(Account.id.in_(ids))).all()
    return {r.id: {"username": r.username, "name": r.name or r.username, "role": r.role,
                   "who": roles.who(r.name, r.role)} for r in rows}


# ---------------------------------------------------------------- the figures


def _visits(db: Session, prefix: str, lo: datetime, hi: datetime) -> dict:
    """The visits of the period and the households they reached (日走访)."""
    row = db.execute(VISIT_COUNT, {"lo": lo, "hi": hi, "prefix": prefix}).one()
    return {"count": row.visits, "households": row.households}


def count_figures(db: Session, scope: Scope, kind: str, start: date, now: datetime | None = None) -> dict:
    """The figures of a period and scope, as they are now (the JSON an analysis freezes): the
    cases reported in the period (``cases``: reported, closed, open, void, overdue; the previous
    period's ``previous_reported``), ``by_category`` and ``by_grid`` (most first), ``hotspots``
    (the grid–category pairs with most cases, 2 or more), ``overdue`` (up to
    :data:`workflow.analyses.OVERDUE_LISTED` by number), ``patrols`` (count, hours, km, workers;
    patrols rejected on review left out) and ``visits``. Overdue is judged at ``now``."""
    now = _now(now)
    first, last = rules.period_of(kind, start)
    lo, hi = _midnight(first), _midnight(last + timedelta(days=1))
    village = scope.code if scope.kind == "village" else None
    town = scope.code if scope.kind == "town" else None
    params = {"lo": lo, "hi": hi, "village": village, "town": town, "now": now}
    rows = db.execute(query("analysis_cases"), params).all()
    categories = {c.code: c for c in db.execute(select(Category.code, Category.name, Category.class_name))}
    grid_names = dict(db.execute(select(Grid.code, Grid.name).where(
        Grid.valid_to.is_(None), Grid.code.startswith(scope.code, autoescape=True))).all())

    def counts(r) -> dict:
        return {"reported": r.reported, "closed": r.closed, "open": r.open, "void": r.void, "overdue": r.overdue}

    def category(code):
        c = categories.get(code)
        return {"code": code, "name": c.name if c else code, "class": c.class_name if c else None}

    def grid(code):
        return {"code": code, "name": grid_names.get(code) if code else "网格外 (属地兜底)"}

    total = next((counts(r) for r in rows if not r.has_grid and not r.has_category),
                 {"reported": 0, "closed": 0, "open": 0, "void": 0, "overdue": 0})
    order = lambda item: (-item["reported"], item["code"] or "")  # noqa: E731
    by_category = sorted(({**category(r.category), **counts(r)} for r in rows if r.has_category and not r.has_grid),
                         key=order)
    by_grid = sorted(({**grid(r.grid_code), **counts(r)} for r in rows if r.has_grid and not r.has_category),
                     key=order)
    pairs = sorted((r for r in rows if r.has_grid and r.has_category and r.reported >= 2),
                   key=lambda r: (-r.reported, r.grid_code or "", r.category))[:rules.TOP_N]
    hotspots = [{"grid": grid(r.grid_code), "category": category(r.category), "reported": r.reported} for r in pairs]

    previous = rules.period_of(kind, first - timedelta(days=1))[0]
    before = db.execute(query("analysis_cases"), {**params, "lo": _midnight(previous), "hi": lo}).all()
    total["previous_reported"] = next((r.reported for r in before if not r.has_grid and not r.has_category), 0)

    where = [Incident.reported_at >= lo, Incident.reported_at < hi, Incident.state.notin_(("作废", "挂账")),
             Incident.deadline.is_not(None),
             (Incident.closed_at > Incident.deadline) | (Incident.closed_at.is_(None) & (Incident.deadline < now))]
    if village:
        where.append(Incident.village_code == village)
    else:
        where.append(Incident.village_code.startswith(town, autoescape=True) | Incident.village_code.is_(None))
    overdue = [{"id": r.id, "case_no": r.case_no, "category": categories[r.code].name if r.code in categories else r.code,
                "grid_code": r.grid_code, "state": r.state, "deadline": format_iso(r.deadline),
                "closed_at": format_iso(r.closed_at)}
               for r in db.execute(select(Incident.id, Incident.case_no, Category.code, Incident.grid_code, Incident.state,
                                          Incident.deadline, Incident.closed_at)
                                   .join(Category, Category.id == Incident.category_id).where(*where)
                                   .order_by(Incident.deadline, Incident.id).limit(rules.OVERDUE_LISTED))]

    patrols = db.execute(text("""
        SELECT count(*) AS n, count(DISTINCT worker_id) AS workers,
               coalesce(sum(coalesce(duration_s, extract(epoch FROM ended_at - started_at))), 0) / 3600.0 AS hours,
               coalesce(sum(distance_m), 0) / 1000.0 AS km
          FROM patrols
         WHERE started_at >= :lo AND started_at < :hi AND starts_with(grid_code, :prefix)
           AND review IS DISTINCT FROM 'rejected'"""), {"lo": lo, "hi": hi, "prefix": scope.code}).one()
    return {
        "period": {"kind": kind, "key": rules.period_key(kind, first), "start": first.isoformat(),
                   "end": last.isoformat(), "label": rules.period_label(kind, first)},
        "scope": scope.as_dict(),
        "counted_at": format_iso(now, "seconds"),
        "cases": total,
        "by_category": by_category,
        "by_grid": by_grid,
        "hotspots": hotspots,
        "overdue": overdue,
        "patrols": {"count": patrols.n, "workers": patrols.workers, "hours": round(float(patrols.hours), 1),
                    "distance_km": round(float(patrols.km), 1)},
        "visits": _visits(db, scope.code, lo, hi),
    }


# ---------------------------------------------------------------- analyses


def _serialize_analysis(db: Session, a: Analysis, user, people: dict | None = None) -> dict:
    people = people if people is not None else _people(db, (a.created_by, a.updated_by, a.finalized_by))
    scope = a.figures.get("scope") or {"kind": a.scope_kind, "code": a.scope_code, "name": None}
    zh, en = rules.KIND_LABELS[a.kind]
    return {
        "id": a.id, "kind": a.kind, "kind_zh": zh, "kind_en": en,
        "period": rules.period_key(a.kind, a.period_start), "period_start": a.period_start.isoformat(),
        "period_end": a.period_end.isoformat(), "label": rules.period_label(a.kind, a.period_start),
        "label_en": rules.period_label(a.kind, a.period_start, "en"),
        "scope": scope, "state": a.state, "state_en": rules.STATES_EN[a.state],
        "figures": a.figures, "counted_at": format_iso(a.counted_at, "seconds"),
        "opinion": a.opinion, "problems": a.problems, "next_steps": a.next_steps,
        "created_by": people.get(a.created_by), "created_at": format_iso(a.created_at, "seconds"),
        "updated_by": people.get(a.updated_by), "updated_at": format_iso(a.updated_at, "seconds"),
        "finalized_by": people.get(a.finalized_by), "finalized_at": format_iso(a.finalized_at, "seconds"),
        "version": a.version,
        "actions": list(rules.allowed(a.state)) if _may_write(user, a.scope_code) else [],
    }


def _parse_kind(raw, errors: list) -> str | None:
    if raw not in rules.KINDS:
        errors.append(FieldError("kind", "应为 week (周分析) 或 month (月汇总)", "week or month"))
        return None
    return raw


def _texts(body: dict, errors: list) -> dict:
    out = {}
    for name, (zh, _en) in rules.TEXT_FIELDS.items():
        if name in body:
            value = body[name]
            if value is None:
                value = ""
            if not isinstance(value, str):
                errors.append(FieldError(name, f"{zh}应为文本", f"{name} must be text"))
            elif len(value) > rules.TEXT_MAX:
                errors.append(FieldError(name, f"{zh}最多 {rules.TEXT_MAX} 字", f"{name}: at most {rules.TEXT_MAX} characters"))
            else:
                out[name] = value.strip()
    return out


def create_analysis(db: Session, user, body, now: datetime | None = None) -> dict:
    """``{"kind": "week"|"month", "period": "2026-W47"|"2026-11-18"|"2026-11", "scope": "town"|village
    code, "opinion", "problems", "next_steps"}`` → the new record, counted now. 409 (with
    ``current``) when the period's record of that scope exists. Commits."""
    now = _now(now)
    if not roles.has_permission(user.role, "write_analyses"):
        raise ForbiddenError("此角色不能编写周分析或月汇总", "this role does not write analyses")
    if not isinstance(body, dict):
        raise AnalysisInputError([FieldError("body", "请求体应为 JSON 对象", "the body must be a JSON object")], status=400)
    errors: list[FieldError] = []
    kind = _parse_kind(body.get("kind"), errors)
    start = rules.parse_period(kind, body.get("period")) if kind else None
    if kind and body.get("period") in (None, ""):
        start = rules.period_of(kind, now.date())[0]
    elif kind and start is None:
        errors.append(FieldError("period", "周应为 YYYY-Www 或该周任一日 YYYY-MM-DD, 月应为 YYYY-MM",
                                 "a week as YYYY-Www or a day in it, a month as YYYY-MM"))
    if start is not None and start > now.date():
        errors.append(FieldError("period", "该期尚未开始", "the period has not begun"))
    texts = _texts(body, errors)
    try:
        scope = parse_scope(db, user, body.get("scope"))
    except AnalysisInputError as exc:
        errors += exc.errors
        scope = None
    if errors:
        raise AnalysisInputError(errors)
    _check_write(user, scope)
    existing = db.execute(select(Analysis).where(Analysis.kind == kind, Analysis.period_start == start,
                                                 Analysis.scope_code == scope.code)).scalar_one_or_none()
    if existing is not None:
        raise ConflictError(f"{scope.name} {rules.period_label(kind, start)} 的{rules.KIND_LABELS[kind][0]}已存在",
                            f"this period's {rules.KIND_LABELS[kind][1]} of {scope.code} exists",
                            current=_serialize_analysis(db, existing, user))
    record = Analysis(kind=kind, period_start=start, period_end=rules.period_of(kind, start)[1], scope_kind=scope.kind,
                      scope_code=scope.code, state=rules.DRAFT, figures=count_figures(db, scope, kind, start, now),
                      counted_at=now, created_by=user.id, created_at=now, updated_by=user.id, updated_at=now,
                      version=1, **{k: texts.get(k, "") for k in rules.TEXT_FIELDS})
    db.add(record)
    try:
        db.flush()
    except IntegrityError:  # made at the same moment by someone else
        db.rollback()
        existing = db.execute(select(Analysis).where(Analysis.kind == kind, Analysis.period_start == start,
                                                     Analysis.scope_code == scope.code)).scalar_one()
        raise ConflictError("本期分析刚被他人建立", "someone made this period's record just now",
                            current=_serialize_analysis(db, existing, user)) from None
    db.commit()
    return _serialize_analysis(db, record, user)


def _load(db: Session, user, model, record_id: int, lock: bool, missing: tuple[str, str]):
    """An analysis or a meeting the user reads (else 404); ``lock``: for update, and read afresh
    (another request may have changed it since this session read it)."""
    _check_read(user)
    q = select(model).where(model.id == record_id)
    if lock:
        q = q.with_for_update().execution_options(populate_existing=True)
    record = db.execute(q).scalar_one_or_none()
    if record is None or not _may_read(user, record.scope_code):
        raise NotFoundError(*missing)
    return record


def _load_analysis(db: Session, user, analysis_id: int, lock: bool = False) -> Analysis:
    return _load(db, user, Analysis, analysis_id, lock, ("没有这份分析", "no such analysis"))


def get_analysis(db: Session, user, analysis_id: int) -> dict:
    return _serialize_analysis(db, _load_analysis(db, user, analysis_id), user)


def list_analyses(db: Session, user, args) -> dict:
    """``?kind=week|month&scope=…&period=…``: the records the user reads, newest period first."""
    _check_read(user)
    errors: list[FieldError] = []
    q = select(Analysis)
    kind = args.get("kind") or None
    if kind is not None:
        kind = _parse_kind(kind, errors)
        q = q.where(Analysis.kind == kind)
    if args.get("scope"):
        try:
            q = q.where(Analysis.scope_code == parse_scope(db, user, args.get("scope")).code)
        except AnalysisInputError as exc:
            errors += exc.errors
    if args.get("period") and kind:
        start = rules.parse_period(kind, args.get("period"))
        if start is None:
            errors.append(FieldError("period", "期别格式不正确", "a period as YYYY-Www or YYYY-MM"))
        q = q.where(Analysis.period_start == start)
    if errors:
        raise AnalysisInputError(errors, status=400)
    own = _readable_codes(user)
    if own is not None:
        q = q.where(Analysis.scope_code == own)
    records = db.execute(q.order_by(Analysis.period_start.desc(), Analysis.kind, Analysis.scope_code)
                         .limit(MAX_LISTED)).scalars().all()
    people = _people(db, {i for r in records for i in (r.created_by, r.updated_by, r.finalized_by)})
    items = []
    for r in records:
        full = _serialize_analysis(db, r, user, people)
        full["cases"] = r.figures.get("cases")
        del full["figures"]
        items.append(full)
    return {"items": items}


def _fresh(db: Session, user, record: Analysis, body) -> None:
    if not isinstance(body, dict):
        raise AnalysisInputError([FieldError("body", "请求体应为 JSON 对象", "the body must be a JSON object")], status=400)
    if not _may_write(user, record.scope_code):
        raise ForbiddenError("您不能修改这份分析", "you may not change this analysis")
    if body.get("version") != record.version:
        raise ConflictError("分析已被他人更新, 请刷新", "the analysis changed since you read it",
                            current=_serialize_analysis(db, record, user))


def _still_draft(record: Analysis, field: str = "state") -> None:
    if record.state != rules.DRAFT:
        raise AnalysisInputError([FieldError(field, "已定稿, 不能再修改", "finalised: it can no longer change")])


def update_analysis(db: Session, user, analysis_id: int, body, now: datetime | None = None) -> dict:
    """``{"version", "opinion", "problems", "next_steps"}`` (any of the three): the hand-written
    fields of a 草稿. Commits."""
    now = _now(now)
    record = _load_analysis(db, user, analysis_id, lock=True)
    _fresh(db, user, record, body)
    _still_draft(record)
    errors: list[FieldError] = []
    texts = _texts(body, errors)
    if errors:
        raise AnalysisInputError(errors)
    for name, value in texts.items():
        setattr(record, name, value)
    record.updated_by, record.updated_at, record.version = user.id, now, record.version + 1
    db.commit()
    return _serialize_analysis(db, record, user)


def act_on_analysis(db: Session, user, analysis_id: int, body, now: datetime | None = None) -> dict:
    """``{"action": "recount" | "finalize", "version"}``: 重新统计 (the figures counted again) or
    定稿 (all three hand-written fields needed; read-only afterwards). Commits."""
    now = _now(now)
    record = _load_analysis(db, user, analysis_id, lock=True)
    _fresh(db, user, record, body)
    action = body.get("action")
    if action not in ("recount", "finalize"):
        raise AnalysisInputError([FieldError("action", "操作应为 recount (重新统计) 或 finalize (定稿)",
                                             "the action is recount or finalize")])
    _still_draft(record, "action")
    if action == "recount":
        scope = _scope(db, record.scope_code) or Scope(record.scope_kind, record.scope_code, "")
        record.figures = count_figures(db, scope, record.kind, record.period_start, now)
        record.counted_at = now
    else:
        missing = [FieldError(name, f"定稿前请填写{zh}", f"{en} is needed to finalise")
                   for name, (zh, en) in rules.TEXT_FIELDS.items() if not (getattr(record, name) or "").strip()]
        if missing:
            raise AnalysisInputError(missing)
        record.state, record.finalized_by, record.finalized_at = rules.FINAL, user.id, now
    record.updated_by, record.updated_at, record.version = user.id, now, record.version + 1
    db.commit()
    return _serialize_analysis(db, record, user)


# ---------------------------------------------------------------- meetings


def _grids_of(db: Session, scope: Scope) -> dict[str, str]:
    return dict(db.execute(select(Grid.code, Grid.name).where(
        Grid.valid_to.is_(None), Grid.code.startswith(scope.code, autoescape=True)).order_by(Grid.code)).all())


def village_choices(db: Session, user) -> list[dict]:
    """The villages the user may write or read records of (a leader: their own)."""
    town_code, _ = town_of(db)
    q = select(Area.code, Area.name).where(Area.level == "village", Area.code.startswith(town_code, autoescape=True))
    if user.role == "leader":
        q = q.where(Area.code == user.scope_code)
    return [{"code": c, "name": n} for c, n in db.execute(q.order_by(Area.code)).all()]


def grid_choices(db: Session, user) -> list[dict]:
    """The current grids the user may name in an opinion (a leader's village's, the town's all)."""
    town_code, _ = town_of(db)
    prefix = user.scope_code if user.role == "leader" else town_code
    return [{"code": c, "name": n} for c, n in _grids_of(db, Scope("town", prefix, "")).items()]


def _serialize_meeting(db: Session, m: Meeting, user, opinions: list[MeetingOpinion] | None = None) -> dict:
    if opinions is None:
        opinions = db.execute(select(MeetingOpinion).where(MeetingOpinion.meeting_id == m.id)
                              .order_by(MeetingOpinion.n)).scalars().all()
    cases = {r.id: r for r in db.execute(select(Incident.id, Incident.case_no, Incident.state).where(
        Incident.id.in_([o.incident_id for o in opinions if o.incident_id]))).all()} if any(
        o.incident_id for o in opinions) else {}
    scope = _scope(db, m.scope_code)
    grids = _grids_of(db, scope) if scope else {}
    people = _people(db, (m.created_by, m.updated_by))
    writable = _may_write(user, m.scope_code)
    return {
        "id": m.id, "scope": scope.as_dict() if scope else {"kind": m.scope_kind, "code": m.scope_code, "name": None},
        "held_on": m.held_on.isoformat(), "place": m.place, "participants": m.participants, "agreed": m.agreed,
        "opinions": [{
            "n": o.n, "body": o.body, "grid_code": o.grid_code, "grid_name": grids.get(o.grid_code),
            "incident": ({"id": o.incident_id, "case_no": cases[o.incident_id].case_no,
                          "state": cases[o.incident_id].state} if o.incident_id in cases else None),
            "task": {"id": o.task_id} if o.task_id else None,
            "linked_at": format_iso(o.linked_at, "seconds"),
        } for o in opinions],
        "created_by": people.get(m.created_by), "created_at": format_iso(m.created_at, "seconds"),
        "updated_by": people.get(m.updated_by), "updated_at": format_iso(m.updated_at, "seconds"),
        "version": m.version, "can_edit": writable,
        "can_report": writable and roles.has_permission(user.role, "report"),
    }


def _meeting_fields(db: Session, body: dict, scope: Scope, now: datetime, errors: list, partial: bool) -> dict:
    out = {}
    if not partial or "held_on" in body:
        raw = body.get("held_on")
        try:
            held = date.fromisoformat(raw) if isinstance(raw, str) else None
        except ValueError:
            held = None
        if held is None:
            errors.append(FieldError("held_on", "会议日期应为 YYYY-MM-DD", "held_on as YYYY-MM-DD"))
        elif held > now.date():
            errors.append(FieldError("held_on", "会议日期不能晚于今天", "held_on cannot be after today"))
        else:
            out["held_on"] = held
    if not partial or "place" in body:
        place = intake.text_field(body.get("place"), "place", rules.PLACE_MAX, errors, "会议地点", required=True)
        if place:
            out["place"] = place
    for name, limit, zh in (("participants", rules.PARTICIPANTS_MAX, "参会人员"), ("agreed", rules.AGREED_MAX, "议定事项")):
        if not partial or name in body:
            value = intake.text_field(body.get(name), name, limit, errors, zh) or ""
            if name == "participants" and PHONE_LIKE.search(value):
                errors.append(FieldError(name, "参会人员只写姓名和职务, 不写电话", "participants: names and posts only, no phones"))
            out[name] = value
    return out


def _opinion_items(db: Session, raw, scope: Scope, errors: list) -> list[dict] | None:
    """The opinions of a request: a list of text or ``{"n", "body", "grid"}``."""
    if raw is None:
        return None
    if not isinstance(raw, list) or len(raw) > rules.OPINIONS_MAX:
        errors.append(FieldError("opinions", f"意见应为列表, 最多 {rules.OPINIONS_MAX} 条",
                                 f"opinions: a list of at most {rules.OPINIONS_MAX}"))
        return None
    grids = _grids_of(db, scope)
    out = []
    for i, item in enumerate(raw):
        item = {"body": item} if isinstance(item, str) else item
        if not isinstance(item, dict):
            errors.append(FieldError(f"opinions[{i}]", "每条意见应为文本或 {body, grid}", "each opinion: text or {body, grid}"))
            continue
        body = intake.text_field(item.get("body"), f"opinions[{i}].body", rules.OPINION_MAX, errors, "意见内容", required=True)
        grid = item.get("grid") or item.get("grid_code") or None
        if grid is not None and grid not in grids:
            errors.append(FieldError(f"opinions[{i}].grid", f"{grid} 不是{scope.name}的网格", f"{grid} is no grid of {scope.code}"))
        n = item.get("n")
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            errors.append(FieldError(f"opinions[{i}].n", "意见编号应为正整数", "n is a positive integer"))
        if body:
            out.append({"n": n, "body": body, "grid_code": grid})
    return out


def create_meeting(db: Session, user, body, now: datetime | None = None) -> dict:
    """``{"scope", "held_on", "place", "participants", "agreed", "opinions": [text | {body, grid}]}``
    → the meeting. Commits."""
    now = _now(now)
    if not roles.has_permission(user.role, "write_analyses"):
        raise ForbiddenError("此角色不能记录民情分析会", "this role does not record meetings")
    if not isinstance(body, dict):
        raise MeetingInputError([FieldError("body", "请求体应为 JSON 对象", "the body must be a JSON object")], status=400)
    errors: list[FieldError] = []
    try:
        scope = parse_scope(db, user, body.get("scope"))
    except AnalysisInputError as exc:
        raise MeetingInputError(exc.errors) from None
    _check_write(user, scope)
    fields = _meeting_fields(db, body, scope, now, errors, partial=False)
    opinions = _opinion_items(db, body.get("opinions", []), scope, errors) or []
    if errors:
        raise MeetingInputError(errors)
    meeting = Meeting(scope_kind=scope.kind, scope_code=scope.code, created_by=user.id, created_at=now,
                      updated_by=user.id, updated_at=now, version=1, **fields)
    db.add(meeting)
    db.flush()
    for n, o in enumerate(opinions, start=1):
        db.add(MeetingOpinion(meeting_id=meeting.id, n=n, body=o["body"], grid_code=o["grid_code"]))
    db.commit()
    return _serialize_meeting(db, meeting, user)


def _load_meeting(db: Session, user, meeting_id: int, lock: bool = False) -> Meeting:
    return _load(db, user, Meeting, meeting_id, lock, ("没有这次民情分析会", "no such meeting"))


def get_meeting(db: Session, user, meeting_id: int) -> dict:
    return _serialize_meeting(db, _load_meeting(db, user, meeting_id), user)


def list_meetings(db: Session, user, args) -> dict:
    """``?scope=…``: the meetings the user reads, newest first."""
    _check_read(user)
    q = select(Meeting)
    if args.get("scope"):
        try:
            q = q.where(Meeting.scope_code == parse_scope(db, user, args.get("scope")).code)
        except AnalysisInputError as exc:
            raise MeetingInputError(exc.errors, status=400) from None
    own = _readable_codes(user)
    if own is not None:
        q = q.where(Meeting.scope_code == own)
    meetings = db.execute(q.order_by(Meeting.held_on.desc(), Meeting.id.desc()).limit(MAX_LISTED)).scalars().all()
    opinions: dict[int, list] = {}
    if meetings:
        for o in db.execute(select(MeetingOpinion).where(MeetingOpinion.meeting_id.in_([m.id for m in meetings]))
                            .order_by(MeetingOpinion.meeting_id, MeetingOpinion.n)).scalars():
            opinions.setdefault(o.meeting_id, []).append(o)
    return {"items": [_serialize_meeting(db, m, user, opinions.get(m.id, [])) for m in meetings]}


def _fresh_meeting(db: Session, user, meeting: Meeting, body) -> None:
    if not isinstance(body, dict):
        raise MeetingInputError([FieldError("body", "请求体应为 JSON 对象", "the body must be a JSON object")], status=400)
    if not _may_write(user, meeting.scope_code):
        raise ForbiddenError("您不能修改这次民情分析会的记录", "you may not change this meeting")
    if body.get("version") != meeting.version:
        raise ConflictError("记录已被他人更新, 请刷新", "the meeting changed since you read it",
                            current=_serialize_meeting(db, meeting, user))


def update_meeting(db: Session, user, meeting_id: int, body, now: datetime | None = None) -> dict:
    """``{"version", "held_on", "place", "participants", "agreed", "opinions"}`` (any): the
    opinions, when given, are the whole list: ``{"n", "body", "grid"}`` keeps (and edits) opinion
    ``n``, one without ``n`` is added; an opinion left out is removed. An opinion that became a
    case or a task stays as it was (422 when changed or left out). Commits."""
    now = _now(now)
    meeting = _load_meeting(db, user, meeting_id, lock=True)
    _fresh_meeting(db, user, meeting, body)
    scope = _scope(db, meeting.scope_code)
    errors: list[FieldError] = []
    fields = _meeting_fields(db, body, scope, now, errors, partial=True)
    items = _opinion_items(db, body.get("opinions"), scope, errors)
    current = {o.n: o for o in db.execute(select(MeetingOpinion).where(MeetingOpinion.meeting_id == meeting.id)).scalars()}
    if items is not None:
        named = [i["n"] for i in items if i["n"] is not None]
        for n in named:
            if n not in current:
                errors.append(FieldError("opinions", f"没有第 {n} 条意见", f"no opinion {n}"))
        for n, o in current.items():
            linked = o.incident_id is not None or o.task_id is not None
            mine = next((i for i in items if i["n"] == n), None)
            if linked and (mine is None or mine["body"] != o.body or mine["grid_code"] != o.grid_code):
                errors.append(FieldError("opinions", f"第 {n} 条意见已转为案件或任务, 不能修改或删除",
                                         f"opinion {n} became a case or a task: it stays as it is"))
    if errors:
        raise MeetingInputError(errors)
    for name, value in fields.items():
        setattr(meeting, name, value)
    if items is not None:
        kept = {i["n"] for i in items if i["n"] is not None}
        for n, o in current.items():
            if n not in kept:
                db.delete(o)
        top = max(current, default=0)
        for i in items:
            if i["n"] is None:
                top += 1
                db.add(MeetingOpinion(meeting_id=meeting.id, n=top, body=i["body"], grid_code=i["grid_code"]))
            else:
                current[i["n"]].body, current[i["n"]].grid_code = i["body"], i["grid_code"]
    meeting.updated_by, meeting.updated_at, meeting.version = user.id, now, meeting.version + 1
    db.commit()
    return _serialize_meeting(db, meeting, user)


def _opinion(db: Session, meeting: Meeting, n: int) -> MeetingOpinion:
    opinion = db.execute(select(MeetingOpinion).where(MeetingOpinion.meeting_id == meeting.id, MeetingOpinion.n == n)
                         .execution_options(populate_existing=True)).scalar_one_or_none()
    if opinion is None:
        raise NotFoundError("这次会议没有这条意见", "no such opinion in this meeting")
    return opinion


def _point_of(db: Session, geom_column, where) -> tuple[float, float] | None:
    surface = func.ST_PointOnSurface(geom_column)
    row = db.execute(select(func.ST_X(surface), func.ST_Y(surface)).where(*where)).first()
    return (row[0], row[1]) if row and row[0] is not None else None


def opinion_to_case(db: Session, user, meeting_id: int, n: int, body, near_m: float | None = None,
                    now: datetime | None = None) -> tuple[dict, bool]:
    """``{"category", "grid", "location": {lng, lat, crs}, "description"}`` (all but the category
    optional): opinion ``n`` becomes a case through the intake pipe, reported by the user. Without
    a location the case is placed on the grid named (or the opinion's, else the village's own
    point: ``location_grid_point``). Returns the meeting and whether the case was made now (an
    opinion already a case answers that case). Commits."""
    now = _now(now)
    meeting = _load_meeting(db, user, meeting_id)
    if not isinstance(body, dict):
        raise MeetingInputError([FieldError("body", "请求体应为 JSON 对象", "the body must be a JSON object")], status=400)
    if not _may_write(user, meeting.scope_code) or not roles.has_permission(user.role, "report"):
        raise ForbiddenError("您不能把这次会议的意见转为案件", "you may not turn this meeting's opinions into cases")
    opinion = _opinion(db, meeting, n)
    if opinion.incident_id is not None:
        return _serialize_meeting(db, meeting, user), False
    scope = _scope(db, meeting.scope_code)
    errors: list[FieldError] = []
    grid = body.get("grid") or opinion.grid_code
    flags = [rules.OPINION_CASE_FLAG]
    location = body.get("location")
    if location is None:
        if grid is not None:
            if grid not in _grids_of(db, scope):
                errors.append(FieldError("grid", f"{grid} 不是{scope.name}的网格", f"{grid} is no grid of {scope.code}"))
            point = _point_of(db, Grid.geom, (Grid.code == grid, Grid.valid_to.is_(None)))
        elif scope.kind == "village":
            point = _point_of(db, Area.geom, (Area.code == scope.code,))
        else:
            point = None
            errors.append(FieldError("grid", "请选择该意见涉及的网格, 或给出位置", "name the grid the opinion concerns, or a location"))
        if point is not None:
            location = {"lng": point[0], "lat": point[1], "crs": "wgs84"}
            flags.append("location_grid_point")
    description = body.get("description")
    if description in (None, ""):
        description = f"【民情分析会 {meeting.held_on:%Y-%m-%d} {meeting.place}】{opinion.body}"
    if errors:
        raise MeetingInputError(errors)
    report = intake.parse_report({"category": body.get("category"), "description": description, "location": location})
    report = dataclasses.replace(report, flags=tuple(flags))
    incident_id, _written = intake.report_incident(
        db, report, source=rules.OPINION_CASE_SOURCE, reporter_id=user.id, reporter_role=user.role,
        idempotency_key=f"meeting{meeting.id}:opinion{opinion.n}", near_m=near_m, now=now)
    meeting = _load_meeting(db, user, meeting_id, lock=True)
    opinion = _opinion(db, meeting, n)
    created = opinion.incident_id is None
    if created:
        opinion.incident_id, opinion.linked_by, opinion.linked_at = incident_id, user.id, now
        meeting.version += 1
        db.commit()
    return _serialize_meeting(db, meeting, user), created


def link_task(db: Session, user, meeting_id: int, n: int, body, now: datetime | None = None) -> dict:
    """``{"task_id"}``: the task opinion ``n`` became. Commits."""
    now = _now(now)
    meeting = _load_meeting(db, user, meeting_id, lock=True)
    if not _may_write(user, meeting.scope_code):
        raise ForbiddenError("您不能修改这次民情分析会的记录", "you may not change this meeting")
    opinion = _opinion(db, meeting, n)
    task_id = body.get("task_id") if isinstance(body, dict) else None
    if isinstance(task_id, bool) or not isinstance(task_id, int) or not db.execute(
            text("SELECT EXISTS (SELECT 1 FROM tasks WHERE id = :i)"), {"i": task_id}).scalar():
        raise MeetingInputError([FieldError("task_id", "没有这个任务", "no such task")])
    if opinion.task_id is not None and opinion.task_id != task_id:
        raise MeetingInputError([FieldError("task_id", "这条意见已转为另一个任务", "this opinion became another task")])
    opinion.task_id, opinion.linked_by, opinion.linked_at = task_id, user.id, now
    meeting.version += 1
    db.commit()
    return _serialize_meeting(db, meeting, user)


# ---------------------------------------------------------------- 待办: drafts of ended periods


def _due():
    """The moment a draft's 待办 turns red: midnight after its period's end plus FINALIZE_DAYS."""
    days = case((Analysis.kind == "week", rules.FINALIZE_DAYS["week"]), else_=rules.FINALIZE_DAYS["month"])
    return func.timezone(SHANGHAI.key, cast(Analysis.period_end + 1 + days, DateTime()))


def inbox_rows(user, now: datetime, calendar):
    """The drafts awaiting the user (webmap.services.inbox.Source): a leader's village's, the town's
    for the centre, of periods that have ended."""
    if not roles.has_permission(user.role, "write_analyses"):
        return None
    mine = Analysis.scope_code == user.scope_code if user.role == "leader" else Analysis.scope_kind == "town"
    due = _due()
    return (select(literal("analysis").label("kind"), cast(Analysis.id, BigInteger).label("id"),
                   (due < now).label("late"), due.label("due"), Analysis.created_at.label("since"))
            .where(mine, Analysis.state == rules.DRAFT, Analysis.period_end < now.astimezone(SHANGHAI).date()))


def inbox_items(db: Session, user, ids: list[int], now: datetime, calendar) -> dict:
    if not ids:
        return {}
    rows = db.execute(select(Analysis, _due().label("due")).where(Analysis.id.in_(ids))).all()
    out = {}
    for a, due in rows:
        scope = a.figures.get("scope") or {}
        zh, en = rules.KIND_LABELS[a.kind]
        out[a.id] = {
            "kind": "analysis", "id": a.id, "number": rules.period_key(a.kind, a.period_start),
            "title": f"{zh} · {scope.get('name') or a.scope_code} · {rules.period_label(a.kind, a.period_start)}",
            "title_en": f"{en} · {scope.get('name') or a.scope_code} · {rules.period_label(a.kind, a.period_start, 'en')}",
            "state": a.state, "state_en": rules.STATES_EN[a.state], "deadline": format_iso(due),
            "deadline_status": "red" if due < now else "normal", "actions": ["finalize"],
            "reported_at": format_iso(a.created_at), "supervised": False, "note": None,
            "page": f"/analyses?tab={a.kind}&open={a.id}",
        }
    return out


# ---------------------------------------------------------------- Excel


def _book():
    from openpyxl import Workbook
    from openpyxl.styles import Font

    return Workbook(), Font(bold=True)


def _table(sheet, bold, head: list, rows: list[list]) -> None:
    sheet.append(head)
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for row in rows:
        sheet.append(row)
    sheet.append([])


def analysis_xlsx(record: dict) -> bytes:
    """An analysis as .xlsx: a sheet of its head, hand-written fields and totals, then the tables
    of its figures (per category, per grid, hotspots, overdue)."""
    book, bold = _book()
    f = record["figures"]
    sheet = book.active
    sheet.title = record["kind_zh"]
    sheet.append([f"{record['scope']['name']} {record['label']} {record['kind_zh']}"])
    sheet["A1"].font = bold
    for label, value in (("状态", record["state"]), ("统计时间", record["counted_at"]),
                         ("上报案件", f["cases"]["reported"]), ("已结案", f["cases"]["closed"]),
                         ("未结案", f["cases"]["open"]), ("作废", f["cases"]["void"]), ("超期", f["cases"]["overdue"]),
                         ("上期上报", f["cases"].get("previous_reported")),
                         ("巡查次数", f["patrols"]["count"]), ("巡查时长(小时)", f["patrols"]["hours"]),
                         ("巡查里程(公里)", f["patrols"]["distance_km"]), ("走访次数", f["visits"]["count"]),
                         ("走访户数", f["visits"]["households"]),
                         *((zh, record[name]) for name, (zh, _en) in rules.TEXT_FIELDS.items())):
        sheet.append([label, value])
    sheet.column_dimensions["A"].width, sheet.column_dimensions["B"].width = 18, 80
    counts = ["上报", "已结案", "未结案", "作废", "超期"]
    keys = ["reported", "closed", "open", "void", "overdue"]
    _table(book.create_sheet("按类别"), bold, ["类别编码", "大类", "类别", *counts],
           [[c["code"], c["class"], c["name"], *(c[k] for k in keys)] for c in f["by_category"]])
    _table(book.create_sheet("按网格"), bold, ["网格编码", "网格", *counts],
           [[g["code"], g["name"], *(g[k] for k in keys)] for g in f["by_grid"]])
    _table(book.create_sheet("热点"), bold, ["网格编码", "网格", "类别", "案件数"],
           [[h["grid"]["code"], h["grid"]["name"], h["category"]["name"], h["reported"]] for h in f["hotspots"]])
    _table(book.create_sheet("超期案件"), bold, ["案件编号", "类别", "网格", "状态", "时限", "结案时间"],
           [[o["case_no"], o["category"], o["grid_code"], o["state"], o["deadline"], o["closed_at"]] for o in f["overdue"]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def meeting_xlsx(meeting: dict) -> bytes:
    """A meeting as .xlsx: its head and what was agreed, then one row per opinion with its case."""
    book, bold = _book()
    sheet = book.active
    sheet.title = "民情分析会"
    sheet.append([f"{meeting['scope']['name']} 民情分析会 {meeting['held_on']}"])
    sheet["A1"].font = bold
    for label, value in (("日期", meeting["held_on"]), ("地点", meeting["place"]), ("参会人员", meeting["participants"]),
                         ("议定事项", meeting["agreed"])):
        sheet.append([label, value])
    sheet.append([])
    _table(sheet, bold, ["序号", "意见", "网格", "转为案件", "案件状态", "任务"],
           [[o["n"], o["body"], o["grid_name"] or o["grid_code"], o["incident"]["case_no"] if o["incident"] else None,
             o["incident"]["state"] if o["incident"] else None, o["task"]["id"] if o["task"] else None]
            for o in meeting["opinions"]])
    sheet.column_dimensions["A"].width, sheet.column_dimensions["B"].width = 12, 70
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
