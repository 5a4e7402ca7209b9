"""Deadlines on the working-day clock, the editable working-day table, supervision (督办).

- :func:`load_calendar` builds the :class:`~workflow.clock.WorkCalendar` of this installation from
  the ``holidays`` table (the State Council schedule of years ``chinese_calendar`` does not know
  yet), cached per process for :data:`CACHE_SECONDS` and dropped at once when this process edits
  the table.
- ``holidays`` reads and edits that table (admin and dispatcher), with field-level reasons.
- :func:`supervision_list` is the 督办清单: open cases in the reader's scope that are due soon
  (yellow) or overdue (red), most urgent first.
- :func:`run_overdue_job` is what ``wangge jobs run`` does: mark cases that turned red with an
  ``overdue`` event (once per deadline), escalate long-overdue ones to 督办, tell live maps.

The rules (status, who is escalated) are pure, in ``workflow/deadlines.py``.
"""

from __future__ import annotations

import csv
import io
import re
import threading
import time as _time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import DateTime, and_, cast, delete, exists, func, not_, or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from db.models import CaseEvent, Category, Department, Grid, Holiday, Incident, Setting
from workflow import cases, roles
from workflow import deadlines as rules
from workflow.clock import SHANGHAI, WorkCalendar, format_iso

from . import events, scope
from .errors import FieldError, ForbiddenError, InvalidInputError, NotFoundError

# ---------------------------------------------------------------- the calendar of this installation

# Edits made by other processes (another app worker, `wangge jobs holidays-import`) show within
# this time; this process's own edits at once.
CACHE_SECONDS = 60.0
_cache: dict[str, tuple[float, int, WorkCalendar]] = {}
_cache_lock = threading.Lock()
_generation = 0


def _cache_key(db: Session) -> str:
    return db.get_bind().engine.url.render_as_string(hide_password=True)


def calendar_from_rows(rows: Iterable[tuple[date, str]]) -> WorkCalendar:
    """The calendar for rows ``(day, kind)`` of the working-day table."""
    rows = list(rows)
    return WorkCalendar.with_table(
        holidays=[d for d, k in rows if k == "holiday"],
        workdays=[d for d, k in rows if k == "workday"],
    )


def load_calendar(db: Session, *, fresh: bool = False) -> WorkCalendar:
    """The working-day calendar: ``chinese_calendar``, else weekends and the fixed-date holidays,
    overridden by the ``holidays`` table. Cached per process and database for
    :data:`CACHE_SECONDS`; ``fresh`` reads the table now (the job does)."""
    key = _cache_key(db)
    with _cache_lock:
        generation = _generation
        hit = _cache.get(key)
    if (
        not fresh
        and hit is not None
        and hit[1] == generation
        and _time.monotonic() - hit[0] < CACHE_SECONDS
    ):
        return hit[2]
    calendar = calendar_from_rows(db.execute(select(Holiday.day, Holiday.kind)).all())
    with _cache_lock:
        if _generation == generation:  # no edit since we started reading: safe to keep
            _cache[key] = (_time.monotonic(), generation, calendar)
    return calendar


def invalidate_calendar() -> None:
    """Forget the cached calendars (after an edit of the table, once it is committed)."""
    global _generation
    with _cache_lock:
        _generation += 1
        _cache.clear()


# ---------------------------------------------------------------- errors


class TableInputError(InvalidInputError):
    """Input the working-day table and the supervision list refuse (422, field by field)."""

    CODE, LEAD = "InputRejected", ("输入有误", "invalid input")


NO_SUCH_DAY = ("工作日表中没有这一天", "the working-day table has no entry for this day")


# ---------------------------------------------------------------- the working-day table

KINDS = {"holiday": ("休息日(放假)", "holiday"), "workday": ("工作日(调休上班)", "workday")}
KIND_ALIASES = {
    "holiday": "holiday",
    "休": "holiday",
    "假": "holiday",
    "休息": "holiday",
    "休息日": "holiday",
    "放假": "holiday",
    "节假日": "holiday",
    "workday": "workday",
    "班": "workday",
    "上班": "workday",
    "工作日": "workday",
    "调休上班": "workday",
}
MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_NOTE = 100
MAX_ITEMS = 400
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _parse_day(raw, name: str, errors: list[FieldError]) -> date | None:
    if not isinstance(raw, str) or not _DAY.fullmatch(raw.strip()):
        errors.append(
            FieldError(
                name,
                "日期应写作 YYYY-MM-DD, 如 2027-01-04",
                "the day must be YYYY-MM-DD, e.g. 2027-01-04",
            )
        )
        return None
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        errors.append(FieldError(name, f"没有这一天: {raw}", f"no such day: {raw}"))
        return None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        errors.append(
            FieldError(
                name,
                f"年份应在 {MIN_YEAR}–{MAX_YEAR} 之间",
                f"the year must be {MIN_YEAR}–{MAX_YEAR}",
            )
        )
        return None
    return day


def parse_day(raw) -> date:
    """A day from a URL (``YYYY-MM-DD``); :class:`TableInputError` with the reason otherwise."""
    errors: list[FieldError] = []
    day = _parse_day(raw, "day", errors)
    if errors:
        raise TableInputError(errors)
    return day


@dataclass(frozen=True)
class HolidayEntry:
    day: date
    kind: str
    note: str | None


def _parse_entry(
    item, prefix: str, errors: list[FieldError], day: date | None = None
) -> HolidayEntry | None:
    """One entry ``{day, kind, note}``; ``day`` when it comes from the URL instead."""
    if not isinstance(item, Mapping):
        errors.append(
            FieldError(
                prefix or "body",
                "应为 JSON 对象 {day, kind, note}",
                "must be a JSON object {day, kind, note}",
            )
        )
        return None
    before = len(errors)
    field_ = f"{prefix}." if prefix else ""
    if day is None:
        day = _parse_day(item.get("day"), f"{field_}day", errors)
    elif item.get("day") is not None and item.get("day") != day.isoformat():
        errors.append(
            FieldError(
                f"{field_}day",
                "请求体中的日期与网址中的不一致",
                "the day in the body differs from the one in the URL",
            )
        )
    raw_kind = item.get("kind")
    kind = KIND_ALIASES.get(raw_kind.strip().lower()) if isinstance(raw_kind, str) else None
    if kind is None:
        errors.append(
            FieldError(
                f"{field_}kind",
                "类型应为 holiday(放假)或 workday(调休上班)",
                "kind must be holiday or workday",
            )
        )
    note = item.get("note")
    if note is not None and not isinstance(note, str):
        errors.append(FieldError(f"{field_}note", "备注应为文本", "note must be a string"))
        note = None
    note = (note or "").strip() or None
    if note and len(note) > MAX_NOTE:
        errors.append(
            FieldError(
                f"{field_}note",
                f"备注不能超过 {MAX_NOTE} 字",
                f"note must be at most {MAX_NOTE} characters",
            )
        )
    if len(errors) > before:
        return None
    return HolidayEntry(day, kind, note)


def _serialize(day: date, kind: str, note: str | None) -> dict:
    base = WorkCalendar().is_workday(day)  # the package, else weekends and fixed-date holidays
    return {
        "day": day.isoformat(),
        "weekday": day.isoweekday(),
        "kind": kind,
        "kind_label": {"zh": KINDS[kind][0], "en": KINDS[kind][1]},
        "note": note,
        # the entry changes nothing: the day is already a working day / a rest day without it
        "redundant": base == (kind == "workday"),
    }


def _check_editor(user) -> None:
    if not roles.has_permission(user.role, "edit_calendar"):
        raise ForbiddenError(
            "只有管理员和镇综治中心调度员可以修改工作日表",
            "only an administrator or a town dispatcher may edit the working-day table",
        )


def list_holidays(db: Session, year: int | None = None) -> list[dict]:
    """The table's entries, by day; one year's when ``year`` is given."""
    query = select(Holiday.day, Holiday.kind, Holiday.note).order_by(Holiday.day)
    if year is not None:
        query = query.where(Holiday.day >= date(year, 1, 1), Holiday.day <= date(year, 12, 31))
    return [_serialize(*row) for row in db.execute(query).all()]


def parse_year(raw) -> int | None:
    if raw is None or raw == "":
        return None
    if (
        isinstance(raw, bool)
        or not (isinstance(raw, int) or (isinstance(raw, str) and raw.isdigit()))
        or not MIN_YEAR <= int(raw) <= MAX_YEAR
    ):
        raise TableInputError(
            [
                FieldError(
                    "year",
                    f"年份应为 {MIN_YEAR}–{MAX_YEAR} 的整数",
                    f"year must be an integer {MIN_YEAR}–{MAX_YEAR}",
                )
            ]
        )
    return int(raw)


def _upsert(db: Session, entries: list[HolidayEntry]) -> int:
    """Insert or update the entries; the number of days that were new."""
    if not entries:
        return 0
    days = [e.day for e in entries]
    known = set(db.execute(select(Holiday.day).where(Holiday.day.in_(days))).scalars())
    statement = insert(Holiday).values(
        [{"day": e.day, "kind": e.kind, "note": e.note} for e in entries]
    )
    db.execute(
        statement.on_conflict_do_update(
            index_elements=[Holiday.day],
            set_={"kind": statement.excluded.kind, "note": statement.excluded.note},
        )
    )
    return len(set(days) - known)


def put_holiday(db: Session, user, raw_day, body) -> tuple[dict, bool]:
    """Declare one day a holiday or a workday; commits. Returns the entry and whether it is new."""
    _check_editor(user)
    errors: list[FieldError] = []
    day = _parse_day(raw_day, "day", errors)
    entry = _parse_entry(body, "", errors, day=day) if day else None
    if errors:
        raise TableInputError(errors)
    created = _upsert(db, [entry]) == 1
    db.commit()
    invalidate_calendar()
    return _serialize(entry.day, entry.kind, entry.note), created


def put_holidays(db: Session, user, body) -> dict:
    """Several entries at once, all or nothing: ``{"items": [{day, kind, note}…]}``; with
    ``"year": Y`` the year's entries are replaced by the items (a published schedule). Commits."""
    _check_editor(user)
    if not isinstance(body, Mapping):
        raise TableInputError(
            [
                FieldError(
                    "body",
                    "请求体应为 JSON 对象 {items: [...]}",
                    "the body must be a JSON object {items: [...]}",
                )
            ]
        )
    errors: list[FieldError] = []
    year = None
    try:
        year = parse_year(body.get("year"))
    except InvalidInputError as exc:
        errors.extend(exc.errors)
    items = body.get("items")
    if not isinstance(items, list) or len(items) > MAX_ITEMS:
        errors.append(
            FieldError(
                "items",
                f"items 应为最多 {MAX_ITEMS} 条 {{day, kind, note}} 的列表",
                f"items must be a list of at most {MAX_ITEMS} {{day, kind, note}}",
            )
        )
        items = []
    entries: list[HolidayEntry] = []
    seen: set[date] = set()
    for i, item in enumerate(items):
        entry = _parse_entry(item, f"items[{i}]", errors)
        if entry is None:
            continue
        if entry.day in seen:
            errors.append(
                FieldError(f"items[{i}].day", f"{entry.day} 重复出现", f"{entry.day} appears twice")
            )
        elif year is not None and entry.day.year != year:
            errors.append(
                FieldError(
                    f"items[{i}].day",
                    f"{entry.day} 不在 {year} 年",
                    f"{entry.day} is not in {year}",
                )
            )
        seen.add(entry.day)
        entries.append(entry)
    if errors:
        raise TableInputError(errors)
    removed = 0
    if year is not None:  # the year's entries that the new schedule leaves out
        stale = [Holiday.day >= date(year, 1, 1), Holiday.day <= date(year, 12, 31)]
        if seen:
            stale.append(Holiday.day.not_in(sorted(seen)))
        removed = db.execute(delete(Holiday).where(*stale)).rowcount
    created = _upsert(db, entries)
    db.commit()
    invalidate_calendar()
    return {
        "saved": len(entries),
        "created": created,
        "removed": removed,
        "year": year,
        "items": [_serialize(e.day, e.kind, e.note) for e in sorted(entries, key=lambda e: e.day)],
    }


def delete_holiday(db: Session, user, raw_day) -> None:
    """Remove one day's entry (it follows the package or the weekend rule again); commits."""
    _check_editor(user)
    day = parse_day(raw_day)
    if db.execute(delete(Holiday).where(Holiday.day == day)).rowcount == 0:
        db.rollback()
        raise NotFoundError(*NO_SUCH_DAY)
    db.commit()
    invalidate_calendar()


class HolidayFileError(Exception):
    """A file that cannot be read at all."""

    def __init__(self, zh: str, en: str):
        super().__init__(en)
        self.zh, self.en = zh, en


_COLUMNS = {
    "day": "day",
    "date": "day",
    "日期": "day",
    "kind": "kind",
    "type": "kind",
    "类型": "kind",
    "note": "note",
    "备注": "note",
    "说明": "note",
    "名称": "note",
}


def read_holiday_csv(path: str | Path) -> list[dict]:
    """The rows of a CSV file (UTF-8 with or without BOM, or GB18030) with columns ``day``/日期,
    ``kind``/类型 (holiday/workday, 休/班), optional ``note``/备注."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise HolidayFileError(
            f"无法读取 {path}: {exc.strerror}", f"cannot read {path}: {exc.strerror}"
        ) from exc
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            content = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise HolidayFileError("文件编码应为 UTF-8 或 GB18030", "the file must be UTF-8 or GB18030")
    reader = csv.reader(io.StringIO(content))
    header = next(reader, None)
    names = [_COLUMNS.get((h or "").strip().lower()) for h in header or []]
    if "day" not in names or "kind" not in names:
        raise HolidayFileError(
            "第一行应为表头, 至少包含 day(日期)和 kind(类型)两列",
            "the first row must be a header with at least the columns day and kind",
        )
    rows = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        rows.append(
            {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(names) if name}
        )
    return rows


@dataclass
class ImportResult:
    rows: int = 0
    saved: int = 0
    created: int = 0
    errors: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "rows": self.rows,
            "saved": self.saved,
            "created": self.created,
            "errors": self.errors,
        }


def import_holidays(db: Session, rows: list[dict], *, dry_run: bool = False) -> ImportResult:
    """Check every row, then save them all, or nothing when one is bad. Row numbers count the
    header as row 1. Commits unless ``dry_run``."""
    result = ImportResult(rows=len(rows))
    entries: dict[date, HolidayEntry] = {}
    for n, row in enumerate(rows, start=2):
        errors: list[FieldError] = []
        entry = _parse_entry(row, "", errors)
        if entry is not None and entry.day in entries:
            errors.append(FieldError("day", f"{entry.day} 重复出现", f"{entry.day} appears twice"))
        result.errors.extend({"row": n, **e.as_dict()} for e in errors)
        if entry is not None and not errors:
            entries[entry.day] = entry
    if result.errors or dry_run:
        return result
    result.created = _upsert(db, list(entries.values()))
    result.saved = len(entries)
    db.commit()
    invalidate_calendar()
    return result


# ---------------------------------------------------------------- 督办清单: the supervision list

LISTED = (rules.RED, rules.YELLOW)


@dataclass(frozen=True)
class SupervisionFilter:
    statuses: tuple[str, ...] = LISTED
    department: str | None = None


def parse_filter(db: Session, args: Mapping) -> SupervisionFilter:
    """``status`` (red, yellow, or both comma-separated) and ``department`` (a code)."""
    errors: list[FieldError] = []
    raw = (args.get("status") or "").strip()
    statuses = LISTED
    if raw:
        asked = tuple(dict.fromkeys(s.strip() for s in raw.split(",") if s.strip()))
        if not asked or any(s not in LISTED for s in asked):
            errors.append(
                FieldError(
                    "status",
                    "status 应为 red(超期)、yellow(预警)或 red,yellow",
                    "status must be red, yellow or red,yellow",
                )
            )
        else:
            statuses = tuple(s for s in LISTED if s in asked)
    department = (args.get("department") or "").strip() or None
    if (
        department is not None
        and db.execute(select(Department.id).where(Department.code == department)).first() is None
    ):
        errors.append(
            FieldError(
                "department",
                f"没有代码为 {department} 的部门",
                f"no department has the code {department!r}",
            )
        )
    if errors:
        raise TableInputError(errors)
    return SupervisionFilter(statuses, department)


def _clock_conditions(user, f: SupervisionFilter) -> list:
    where = [
        scope.incident_visible(user),
        Incident.state.in_(rules.CLOCK_STATES),
        Incident.deadline.is_not(None),
    ]
    if f.department:
        where.append(
            Incident.department_id.in_(select(Department.id).where(Department.code == f.department))
        )
    return where


def _status_of(row, now: datetime, calendar: WorkCalendar) -> rules.DeadlineStatus:
    return rules.status(
        rules.clock_start(row.dispatched_at, row.reported_at),
        row.deadline,
        now,
        calendar=calendar,
        working=rules.measured_on_working_clock(row.time_unit),
    )


def supervision_list(
    db: Session,
    user,
    *,
    now: datetime,
    limit: int,
    offset: int = 0,
    filters: SupervisionFilter | Mapping = SupervisionFilter(),
    calendar: WorkCalendar | None = None,
) -> dict:
    """Open cases in the reader's scope that are red or yellow at ``now``: red first, the longest
    overdue first, then yellow, the nearest deadline first. ``filters`` may be the request's
    query arguments (see :func:`parse_filter`). Raises :class:`ForbiddenError`, :class:`TableInputError`."""
    if not roles.has_permission(user.role, "read_supervision"):
        raise ForbiddenError("此角色不能查看督办清单", "this role cannot read the supervision list")
    if not isinstance(filters, SupervisionFilter):
        filters = parse_filter(db, filters)
    calendar = calendar or load_calendar(db)
    where = _clock_conditions(user, filters)
    red_total = 0
    if rules.RED in filters.statuses:
        red_total = db.execute(
            select(func.count()).select_from(Incident).where(*where, Incident.deadline < now)
        ).scalar_one()
    yellow: list[tuple[datetime, int]] = []
    if rules.YELLOW in filters.statuses:
        # yellow needs the working-day clock: narrow rows of the cases not yet overdue
        rows = db.execute(
            select(
                Incident.id,
                Incident.deadline,
                Incident.dispatched_at,
                Incident.reported_at,
                Category.time_unit,
            )
            .join(Category, Category.id == Incident.category_id)
            .where(*where, Incident.deadline >= now)
        ).all()
        yellow = sorted(
            (r.deadline, r.id) for r in rows if _status_of(r, now, calendar).status == rules.YELLOW
        )

    page_ids: list[int] = []
    if offset < red_total:
        page_ids = list(
            db.execute(
                select(Incident.id)
                .where(*where, Incident.deadline < now)
                .order_by(Incident.deadline, Incident.id)
                .limit(limit)
                .offset(offset)
            ).scalars()
        )
    if len(page_ids) < limit:
        start = max(0, offset - red_total)
        page_ids += [i for _d, i in yellow[start : start + limit - len(page_ids)]]

    items = []
    if page_ids:
        found = {
            row.id: row
            for row in db.execute(
                select(
                    Incident.id,
                    Incident.case_no,
                    Incident.state,
                    Incident.tier,
                    Incident.deadline,
                    Incident.dispatched_at,
                    Incident.reported_at,
                    Incident.extension_pending,
                    Incident.version,
                    Incident.synthetic,
                    Incident.grid_code,
                    Incident.village_code,
                    Category.code.label("cat_code"),
                    Category.name.label("cat_name"),
                    Category.class_name.label("cat_class"),
                    Category.time_unit,
                    Grid.name.label("grid_name"),
                    Department.code.label("dept_code"),
                    Department.name.label("dept_name"),
                )
                .join(Category, Category.id == Incident.category_id)
                .outerjoin(Grid, Grid.id == Incident.grid_id)
                .outerjoin(Department, Department.id == Incident.department_id)
                .where(Incident.id.in_(page_ids))
            ).all()
        }
        items = [
            _list_item(found[i], _status_of(found[i], now, calendar))
            for i in page_ids
            if i in found
        ]
    return {
        "items": items,
        "total": red_total + len(yellow),
        "limit": limit,
        "offset": offset,
        "counts": {
            rules.RED: red_total if rules.RED in filters.statuses else None,
            rules.YELLOW: len(yellow) if rules.YELLOW in filters.statuses else None,
        },
        "now": now.astimezone(SHANGHAI).isoformat(),
        "yellow_share": rules.YELLOW_SHARE,
        "synthetic": any(i["synthetic"] for i in items),
    }


def _list_item(row, st: rules.DeadlineStatus) -> dict:
    return {
        "id": row.id,
        "case_no": row.case_no,
        "category": {"code": row.cat_code, "name": row.cat_name, "class": row.cat_class},
        "grid": {"code": row.grid_code, "name": row.grid_name} if row.grid_code else None,
        "village_code": row.village_code,
        "department": {"code": row.dept_code, "name": row.dept_name} if row.dept_code else None,
        "state": row.state,
        "tier": row.tier,
        "clock_started_at": format_iso(rules.clock_start(row.dispatched_at, row.reported_at)),
        "deadline": format_iso(row.deadline),
        "status": st.status,
        "status_label": {"zh": st.label_zh, "en": st.label_en},
        "clock": "work" if st.working else "wall",  # how the hours below are measured
        "used_share": round(st.share_used, 3),
        "remaining_hours": rules.hours(st.remaining),
        "overdue_by": {
            "hours": rules.hours(st.overdue_by),
            "wall_hours": rules.hours(st.overdue_wall),
        }
        if st.status == rules.RED
        else None,
        "extension_pending": row.extension_pending,
        "version": row.version,
        "synthetic": row.synthetic,
    }


# ---------------------------------------------------------------- the overdue job

# pg_try_advisory_lock key of the job: the bytes of "wangge" and 1
JOB_LOCK_KEY = 0x77616E6767650001
JOB_SETTING = "jobs.deadlines"
DEFAULT_SUPERVISE_AFTER = timedelta(hours=4)  # working hours overdue before 督办
MAX_LISTED = 100  # cases named in the summary


def _event_for_deadline(action: str):
    """An event ``action`` of this case recorded for its current deadline."""
    return exists().where(
        CaseEvent.incident_id == Incident.id,
        CaseEvent.action == action,
        cast(CaseEvent.data["deadline"].astext, DateTime(timezone=True)) == Incident.deadline,
    )


def _append(
    db: Session,
    row,
    action: str,
    from_state: str,
    to_state: str,
    note: str,
    data: dict,
    now: datetime,
) -> bool:
    deadline = format_iso(row.deadline)
    return events.record_event(
        db,
        row.id,
        action,
        at=now,
        role=rules.SYSTEM_ROLE,
        from_state=from_state,
        to_state=to_state,
        note=note,
        data={**data, "deadline": deadline},
        once_for_deadline=deadline,
    )


def _notify(db: Session, row, event: str) -> None:
    events.notify_cases(db, [row.id], event, status=rules.RED)


def _job_candidates(db: Session, now: datetime) -> list:
    """Red cases still missing an ``overdue`` event for their deadline, or that may be due for
    督办 and were not escalated for this deadline yet."""
    marked = _event_for_deadline(rules.OVERDUE)
    supervised = _event_for_deadline(rules.AUTO_SUPERVISE)
    return db.execute(
        select(
            Incident.id,
            Incident.case_no,
            Incident.state,
            Incident.version,
            Incident.deadline,
            Incident.dispatched_at,
            Incident.reported_at,
            Incident.extension_pending,
            Incident.tier,
            Incident.department_id,
            Category.time_unit,
            marked.label("marked"),
            supervised.label("supervised"),
        )
        .join(Category, Category.id == Incident.category_id)
        .where(
            Incident.state.in_(rules.CLOCK_STATES),
            Incident.deadline < now,
            or_(
                not_(marked),
                and_(
                    Incident.state.in_(rules.AUTO_SUPERVISE_STATES),
                    Incident.tier == "town",
                    Incident.department_id.is_not(None),
                    Incident.dispatched_at.is_not(None),
                    not_(supervised),
                ),
            ),
        )
        .order_by(Incident.deadline, Incident.id)
    ).all()


def _supervise(db: Session, row, st: rules.DeadlineStatus, now: datetime) -> int | None:
    """Escalate to 督办 if the case is still at the version read (a person acting meanwhile wins);
    the new version, or None."""
    version = db.execute(
        Incident.__table__.update()
        .where(Incident.id == row.id, Incident.version == row.version, Incident.state == row.state)
        .values(state=cases.SUPERVISED, version=Incident.version + 1)
        .returning(Incident.version)
    ).scalar()
    if version is None:
        return None
    hours_ = rules.hours(st.overdue_by)
    zh, en = ("个工作小时", "working hours") if st.working else ("小时", "hours")
    note = f"超期 {hours_} {zh}, 系统自动督办 / overdue by {hours_} {en}: supervised"
    _append(
        db,
        row,
        rules.AUTO_SUPERVISE,
        row.state,
        cases.SUPERVISED,
        note,
        {"overdue_hours": hours_},
        now,
    )
    return version


def run_overdue_job(
    db: Session,
    *,
    now: datetime,
    supervise_after: timedelta = DEFAULT_SUPERVISE_AFTER,
    dry_run: bool = False,
) -> dict:
    """One run of the deadline job. Each case is its own transaction (committed at once, so a
    person acting on it waits at most for one case). ``db`` must stay on one connection for the
    run (a session bound to a Connection): the advisory lock belongs to it."""
    started = _time.monotonic()
    now = now.astimezone(SHANGHAI)
    summary: dict = {
        "job": "deadlines",
        "now": now.isoformat(),
        "dry_run": dry_run,
        "ran": False,
        "supervise_after_hours": rules.hours(supervise_after),
    }
    if not db.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": JOB_LOCK_KEY}).scalar():
        db.rollback()
        summary["locked"] = True  # another run is at work: this one does nothing
        return summary
    try:
        previous = db.execute(select(Setting.value).where(Setting.key == JOB_SETTING)).scalar()
        calendar = load_calendar(db, fresh=True)
        counts = {
            "red_checked": 0,
            "overdue_marked": 0,
            "supervised": 0,
            "conflicts": 0,
            "notified": 0,
        }
        listed: list[dict] = []
        for row in _job_candidates(db, now):
            counts["red_checked"] += 1
            st = _status_of(row, now, calendar)
            if st.status != rules.RED:
                continue
            events = []
            if not row.marked and (
                dry_run
                or _append(
                    db,
                    row,
                    rules.OVERDUE,
                    row.state,
                    row.state,
                    "超期",
                    {
                        "overdue_hours": rules.hours(st.overdue_by),
                        "clock": "work" if st.working else "wall",
                    },
                    now,
                )
            ):
                counts["overdue_marked"] += 1
                events.append(rules.OVERDUE)
                if not dry_run:
                    _notify(db, row, rules.OVERDUE)
            if not row.supervised and rules.should_auto_supervise(
                row.state,
                st,
                supervise_after,
                dispatched=row.tier == "town"
                and row.department_id is not None
                and row.dispatched_at is not None,
                extension_pending=row.extension_pending,
            ):
                version = row.version + 1 if dry_run else _supervise(db, row, st, now)
                if version is None:
                    counts["conflicts"] += 1
                    events.append("conflict")
                else:
                    counts["supervised"] += 1
                    events.append(rules.AUTO_SUPERVISE)
                    if not dry_run:
                        _notify(db, row, rules.AUTO_SUPERVISE)
            if events and not dry_run:
                db.commit()
                counts["notified"] += sum(e != "conflict" for e in events)
            if events and len(listed) < MAX_LISTED:
                listed.append(
                    {
                        "id": row.id,
                        "case_no": row.case_no,
                        "events": events,
                        "overdue_hours": rules.hours(st.overdue_by),
                    }
                )
        summary.update(
            counts,
            ran=True,
            cases=listed,
            last_run=(previous or {}).get("now") if isinstance(previous, dict) else None,
        )
        if not dry_run:
            record = {k: summary[k] for k in ("now", *counts)}
            statement = insert(Setting).values(key=JOB_SETTING, value=record)
            db.execute(
                statement.on_conflict_do_update(
                    index_elements=[Setting.key], set_={"value": statement.excluded.value}
                )
            )
            db.commit()
    except BaseException:
        db.rollback()
        raise
    finally:
        db.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": JOB_LOCK_KEY})
        db.commit()
    summary["seconds"] = round(_time.monotonic() - started, 2)
    return summary
