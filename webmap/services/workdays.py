"""The working-day calendar of this installation, and the table an administrator edits.

- :func:`load_calendar` builds the :class:`~workflow.clock.WorkCalendar` of this installation from
  the ``holidays`` table (the State Council schedule of years ``chinese_calendar`` does not know
  yet), cached per process for :data:`CACHE_SECONDS` and dropped at once when this process edits
  the table.
- ``holidays`` reads and edits that table (admin and dispatcher), with field-level reasons, and
  :func:`import_holidays` loads it from a CSV file (``wangge jobs holidays``).

The clock itself (working hours, adding hours and days) is pure, in ``workflow/clock.py``.
"""

from __future__ import annotations

import csv
import io
import re
import threading
import time as _time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from db.models import Holiday
from workflow import roles
from workflow.clock import WorkCalendar

from .audit import audit
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
    before = db.execute(select(Holiday.kind, Holiday.note).where(Holiday.day == entry.day)).first()
    created = _upsert(db, [entry]) == 1
    audit(db, user, "holiday", f"day:{entry.day.isoformat()}",
          {"kind": before.kind, "note": before.note} if before else None, {"kind": entry.kind, "note": entry.note})
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
    audit(db, user, "holidays", f"year:{year}" if year else "holidays", {"removed": removed},
          {"days": [{"day": e.day.isoformat(), "kind": e.kind, "note": e.note} for e in entries]})
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
    before = db.execute(select(Holiday.kind, Holiday.note).where(Holiday.day == day)).first()
    if db.execute(delete(Holiday).where(Holiday.day == day)).rowcount == 0:
        db.rollback()
        raise NotFoundError(*NO_SUCH_DAY)
    audit(db, user, "holiday", f"day:{day.isoformat()}", {"kind": before.kind, "note": before.note}, None)
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
