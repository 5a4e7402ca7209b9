"""Indicators (综合评价, seed 6-1): intake, filing, dispatch, handling, verification and
satisfaction per grid, village, department, category, source or month, within the reader's scope;
as JSON and as an Excel workbook.

The counting is one named query (``db/sql/stats_indicators.sql``); the definitions and the
arithmetic are pure (``workflow/indicators.py``); this module binds the two to a reader.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Holiday, Setting
from db.queries import query
from workflow import indicators as ind
from workflow import roles
from workflow.clock import SHANGHAI, WorkCalendar, format_iso

from .errors import FieldError, InvalidParametersError
from .incidents import SOURCE_LABELS

TIMEZONE = "Asia/Shanghai"
NO_KEY = {  # the group of cases that have no grid, village or department
    "grid": "网格外 outside every grid",
    "village": "网格外 outside every grid",
    "department": "未指定部门 no department",
}
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class SystemReader:
    """A reader that is no account: the command line, which reads the whole district."""

    role: str = "district"
    scope_code: str = ""
    id: int | None = None
    department_id: int | None = None
    is_authenticated: bool = True
    display_name: str = "命令行 command line"


WHOLE_DISTRICT = SystemReader()


def scope_params(user) -> dict:
    """The reader's scope as the query's parameters: the same rule as
    :func:`webmap.services.scope.incident_visible` (a test keeps the two in agreement)."""
    params = {"scope_all": False, "reporter_id": None, "department_id": None, "grid_prefix": None,
              "outside": False}
    if user is None or not getattr(user, "is_authenticated", False):
        return params
    if roles.has_permission(user.role, "see_all_areas"):
        return {**params, "scope_all": True}
    params["reporter_id"] = user.id
    if user.role == "department":
        return {**params, "department_id": user.department_id}
    return {**params, "grid_prefix": user.scope_code, "outside": len(user.scope_code) <= 9}


def work_calendar(db: Session) -> WorkCalendar:
    """The working-day calendar, corrected by the administrators' holiday table."""
    rows = db.execute(select(Holiday.day, Holiday.kind)).all()
    return WorkCalendar.with_table(holidays=[r.day for r in rows if r.kind == "holiday"],
                                   workdays=[r.day for r in rows if r.kind == "workday"])


def is_synthetic(db: Session) -> bool:
    """Whether this installation holds the generated demo town (settings key ``demo``)."""
    value = db.execute(select(Setting.value).where(Setting.key == "demo")).scalar()
    return bool(isinstance(value, dict) and value.get("synthetic"))


def _label(by: str, key: str | None, label: str | None) -> str:
    if key is None:
        return NO_KEY.get(by, "—")
    if by == "source":
        return SOURCE_LABELS.get(key, key)
    if by == "month":
        return ind.month_label(key)
    return label or key


PARAMS = {"by", "since", "until", "lang"}  # anything else is a typo that would silently widen the window


def parse_window(args, now: datetime) -> ind.Window:
    """The window of ``GET /api/v1/stats/indicators`` from its query arguments (see
    :func:`workflow.indicators.parse_window`); 400 with every problem, unknown parameters first."""
    errors = [FieldError(name, "不支持的参数", "unknown parameter") for name in sorted(set(args) - PARAMS)]
    try:
        window = ind.parse_window(args.get("by"), args.get("since"), args.get("until"), now)
    except ind.ParamError as exc:
        errors += [FieldError(e["field"], e["zh"], e["en"]) for e in exc.errors]
    if errors:
        raise InvalidParametersError(errors, lead=("统计参数有误", "bad statistics parameters"))
    return window


def indicators(db: Session, user, window: ind.Window, *, now: datetime | None = None) -> dict:
    """The indicators of the cases reported in the window that ``user`` may see, per group and in
    total: ``{by, since, until, period, synthetic, scope, indicators, rows, total}``."""
    now = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI)
    first = window.since.astimezone(SHANGHAI).date() - timedelta(days=1)
    last = max(window.until, now).astimezone(SHANGHAI).date() + timedelta(days=1)
    days, due = ind.filing_clock(work_calendar(db), first, last)
    rows = db.execute(query("stats_indicators"), {
        "by": window.by, "since": window.since, "until": window.until, "now": now, "tz": TIMEZONE,
        "filing_days": days, "filing_deadlines": due, **scope_params(user),
    }).mappings().all()
    out_rows, total = [], None
    for row in rows:
        values = ind.evaluate(row)
        if row["is_total"]:
            total = {"label": "合计 total", **values}
        else:
            out_rows.append({"key": row["key"], "label": _label(window.by, row["key"], row["label"]), **values})
    role_zh, role_en = roles.labels(user.role)
    zh, en = ind.GROUPS[window.by]
    return {
        "by": window.by,
        "by_label": {"zh": zh, "en": en},
        "since": format_iso(window.since),
        "until": format_iso(window.until),
        "period": window.period,
        "timezone": TIMEZONE,
        "cohort": "cases reported in [since, until), as they stand now / 按上报时间统计, 状态截至当前",
        "generated_at": format_iso(now),
        "synthetic": is_synthetic(db),
        "scope": {"role": user.role, "role_label": {"zh": role_zh, "en": role_en},
                  "code": user.scope_code or None, "department_id": user.department_id},
        "indicators": [{"key": i.key, "zh": i.zh, "en": i.en, "unit": i.unit,
                        "definition_zh": i.definition_zh, "definition_en": i.definition_en}
                       for i in ind.INDICATORS],
        "rows": out_rows,
        "total": total or {"label": "合计 total", **ind.evaluate({})},
    }


# ---------------------------------------------------------------- Excel

UNIT_SUFFIX = {"count": "", "percent": "(%)", "hours": ""}
BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
NOTE_FONT = Font(bold=True, color="C00000")


def _write_table(sheet, start_row: int, headers_zh: list, headers_en: list, body: list[list],
                 total: list, number_formats: list) -> None:
    for col, (zh, en) in enumerate(zip(headers_zh, headers_en, strict=True), start=1):
        for r, text in ((start_row, zh), (start_row + 1, en)):
            cell = sheet.cell(row=r, column=col, value=text)
            cell.font = BOLD if r == start_row else Font(italic=True, color="595959")
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    row_no = start_row + 2
    for values in [*body, total]:
        for col, value in enumerate(values, start=1):
            cell = sheet.cell(row=row_no, column=col, value=value)
            if number_formats[col - 1]:
                cell.number_format = number_formats[col - 1]
            if values is total:
                cell.font, cell.fill = BOLD, TOTAL_FILL
        row_no += 1
    sheet.freeze_panes = sheet.cell(row=start_row + 2, column=3)
    sheet.column_dimensions["A"].width = 18
    sheet.column_dimensions["B"].width = 26
    for col in range(3, len(headers_zh) + 1):
        sheet.column_dimensions[get_column_letter(col)].width = 13
    sheet.row_dimensions[start_row].height = 32


def _heading(sheet, report: dict, title: str) -> int:
    """Title, period, scope and the synthetic-data note; returns the first free row."""
    scope = report["scope"]
    lines = [
        (title, Font(bold=True, size=14)),
        (f"统计区间 period: {report['period']} ({report['timezone']}; 按上报时间 by report time, "
         f"状态截至 as of {report['generated_at'][:16].replace('T', ' ')})", None),
        (f"范围 scope: {scope['role_label']['zh']} {scope['role_label']['en']}"
         + (f" {scope['code']}" if scope["code"] else ""), None),
    ]
    if report["synthetic"]:
        lines.append(("合成演示数据 synthetic demo data: 非真实案件 not real cases", NOTE_FONT))
    for n, (text, font) in enumerate(lines, start=1):
        cell = sheet.cell(row=n, column=1, value=text)
        if font:
            cell.font = font
    return len(lines) + 2


# the table writer and the heading, shared with the monthly report (webmap.services.reports)
write_table = _write_table
heading = _heading


def workbook(report: dict) -> bytes:
    """The report of :func:`indicators` as an .xlsx: the indicators (with a totals row), their
    numerators and denominators, and what each one means."""
    book = Workbook()
    by_zh, by_en = report["by_label"]["zh"], report["by_label"]["en"]
    specs = ind.INDICATORS

    values = book.active
    values.title = "综合评价"
    start = _heading(values, report, f"综合评价统计 (按{by_zh}) indicators by {by_en}")
    _write_table(
        values, start,
        [f"{by_zh}编码", f"{by_zh}名称", *(s.zh + UNIT_SUFFIX[s.unit] for s in specs)],
        [f"{by_en} code", f"{by_en} name", *(s.en + (" %" if s.unit == "percent" else "") for s in specs)],
        [[r["key"], r["label"], *(r[s.key]["value"] for s in specs)] for r in report["rows"]],
        ["合计", "total", *(report["total"][s.key]["value"] for s in specs)],
        [None, None, *("0" if s.unit == "count" else "0.00" for s in specs)],
    )

    rates = [s for s in specs if s.denominator]
    counts = book.create_sheet("分子分母")
    start = _heading(counts, report, f"分子与分母 (按{by_zh}) numerators and denominators by {by_en}")

    def parts(item: dict) -> list:
        return [v for s in rates for v in (item[s.key]["numerator"], item[s.key]["denominator"])]

    _write_table(
        counts, start,
        [f"{by_zh}编码", f"{by_zh}名称", *(f"{s.zh}{h}" for s in rates for h in ("·分子", "·分母"))],
        [f"{by_en} code", f"{by_en} name", *(f"{s.en}: {h}" for s in rates for h in ("numerator", "denominator"))],
        [[r["key"], r["label"], *parts(r)] for r in report["rows"]],
        ["合计", "total", *parts(report["total"])],
        [None, None, *("0.00" if s.unit == "hours" and h == 0 else "0" for s in rates for h in (0, 1))],
    )

    write_notes(book.create_sheet("指标说明"), report,
                [(s.zh, s.en, s.unit, s.definition_zh, s.definition_en) for s in specs])
    return saved(book, f"综合评价 {report['period']}")


def write_notes(notes, report: dict, rows: list[tuple]) -> None:
    """The sheet of definitions: (zh, en, unit, definition_zh, definition_en) per indicator."""
    start = _heading(notes, report, "指标说明 definitions")
    for col, text in enumerate(("指标 indicator", "English", "单位 unit", "口径", "definition"), start=1):
        notes.cell(row=start, column=col, value=text).font = BOLD
    for n, row in enumerate(rows, start=start + 1):
        for col, text in enumerate(row, start=1):
            notes.cell(row=n, column=col, value=text).alignment = Alignment(wrap_text=True, vertical="top")
    for col, width in zip("ABCDE", (20, 24, 9, 60, 60), strict=True):
        notes.column_dimensions[col].width = width


def saved(book: Workbook, title: str) -> bytes:
    """The workbook's bytes, titled."""
    book.properties.title = title
    book.properties.creator = "网格 Wangge"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def workbook_name(report: dict) -> str:
    """An ASCII file name: ``indicators_village_20260101_20260630.xlsx``."""
    since = datetime.fromisoformat(report["since"])
    until = datetime.fromisoformat(report["until"]) - timedelta(microseconds=1)
    return f"indicators_{report['by']}_{since:%Y%m%d}_{until:%Y%m%d}.xlsx"
