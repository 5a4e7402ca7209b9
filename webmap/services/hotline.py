"""12345 hotline work orders (便民专线工单, seed 4-1): import from the city/district platform, read
within the reader's rights, and move through the workflow of ``workflow/hotline.py``.

Import is idempotent on the platform's order number (工单编号): the same number again answers the
order already stored and writes nothing. A batch (a JSON list, an Excel file) is all or nothing:
every item is checked first, every reason is returned at once, and the orders, their linked
incidents (an order with a location becomes an incident of source ``hotline_12345`` through the
intake service, so it is routed to its grid and shows on the map) and their first events are
written in one transaction.

Each action is one transaction: load, ask the rules, write the new state with an optimistic
version check (a stale version gets :class:`ConflictError` with the order as it now is), append
the event to ``hotline_events`` (append-only in the database).

Who reads what: the desk, the town leaders, the district, administrators and analysts read every
order; a section reads the orders assigned to it now and those it once handled. The petitioner's
name and phone are shown in full only to the desk (dispatcher), the district, administrators and
the section the order is assigned to now; everyone else gets them masked.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, exists, false, func, or_, select, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session, aliased

from db.models import (
    Account,
    Area,
    Category,
    Department,
    Grid,
    HotlineEvent,
    HotlineOrder,
    Incident,
    Person,
)
from spatial.readers import Problem, ReadError, decode_text
from workflow import cases as case_rules
from workflow import hotline as rules
from workflow import roles
from workflow.clock import SHANGHAI, WORK_PERIODS, WorkCalendar, format_iso
from workflow.deadlines import SYSTEM_ROLE

from . import actions, events, intake, privacy
from .errors import (
    BadRequestError,
    ConflictError,
    FieldError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    refused,
)
from .imports import number_cell, parse_time
from .workdays import load_calendar

__all__ = ["ConflictError", "NotFoundError", "AccessDenied", "InvalidInputError", "ReadError", "import_orders", "list_orders",
           "detail", "act", "import_excel"]

MAX_CONTENT = 4000
MAX_TEXT = 4000
MAX_ADDRESS = 200
MAX_NAME = 50
MAX_BATCH = 500
ORDER_NO = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{3,39}")
FUTURE_TOLERANCE = timedelta(minutes=10)
EARLIEST = datetime(2000, 1, 1, tzinfo=SHANGHAI)
DEFAULT_CATEGORY = {rules.UTILITIES: "MS02"}  # 供水供暖诉求; everything else 其他事件
FALLBACK_CATEGORY = "QT01"
DATE_ONLY = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")
OFFICE_CLOSES = WORK_PERIODS[-1][1]  # a deadline given as a date ends when the office closes

# the Excel columns of the platform's export (Chinese headers; the API's field names work too)
EXCEL_COLUMNS = {
    "工单编号": "order_no", "渠道": "channel", "诉求人": "petitioner_name", "联系电话": "petitioner_phone",
    "诉求内容": "content", "地址": "address", "经度": "lng", "纬度": "lat", "紧急程度": "urgency",
    "派单时间": "dispatched_at", "答复期限": "reply_deadline", "坐标系": "crs", "事件类别": "category",
}
FIELD_ZH = {name: header for header, name in EXCEL_COLUMNS.items()}
REQUIRED_COLUMNS = ("order_no", "content", "dispatched_at")


class AccessDenied(ForbiddenError):
    """This account may not do this with hotline orders at all (403)."""


NOT_FOUND = ("没有这个工单,或您无权查看", "no such hotline order within your rights")
IMPORT_DENIED = ("只有镇综治中心、区网格中心和管理员可以导入 12345 工单",
                 "only the town desk, the district and administrators import hotline orders")
IMPORT_REFUSED = ("文件有误, 未导入任何工单", "the file has errors: no order was imported")
STALE = ("工单已被他人更新, 请查看最新状态后再操作", "the order changed since you read it; here it is as it now is")


# ---------------------------------------------------------------- the calendar


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI)


# ---------------------------------------------------------------- parsing an order


@dataclass(frozen=True)
class OrderInput:
    order_no: str
    channel: str
    petitioner_name: str | None
    petitioner_phone: str | None
    content: str
    address: str | None
    urgency: str
    dispatched_at: datetime
    reply_deadline: datetime | None
    report: intake.Report | None  # the linked incident's report, when the order has a location


def _str(value: Any) -> Any:
    """Spreadsheet cells as text where text is meant (``13812345678`` → ``'13812345678'``)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return value


def _text(payload: dict, name: str, limit: int, errors: list, zh: str, required: bool = False) -> str | None:
    return intake.text_field(_str(payload.get(name)), name, limit, errors, zh, required)


def _time(payload: dict, name: str, errors: list, zh: str, now: datetime, *, required: bool,
          deadline: bool = False) -> datetime | None:
    value = payload.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors.append(FieldError(name, f"缺少{zh}", f"{name} is required"))
        return None
    whole_day = deadline and (isinstance(value, date) and not isinstance(value, datetime)
                              or isinstance(value, str) and DATE_ONLY.fullmatch(value.strip()) is not None)
    try:
        when = parse_time(value, now)
    except (ValueError, OverflowError):
        errors.append(FieldError(name, f"{zh}格式不正确, 应为 YYYY-MM-DD HH:MM 或 ISO 8601",
                                 f"{name} must be YYYY-MM-DD HH:MM or ISO 8601"))
        return None
    if whole_day:  # a deadline given as a date ends when the office closes that day
        when = datetime.combine(when.date(), OFFICE_CLOSES, SHANGHAI)
    if when < EARLIEST:
        errors.append(FieldError(name, f"{zh}早于 2000 年", f"{name} is before 2000"))
        return None
    return when


def parse_order(payload: Any, now: datetime) -> tuple[OrderInput | None, list[FieldError]]:
    """One order from the platform, checked field by field (every reason at once)."""
    if not isinstance(payload, dict):
        return None, [FieldError("body", "工单应为 JSON 对象", "an order must be a JSON object")]
    errors: list[FieldError] = []
    order_no = _text(payload, "order_no", 40, errors, "工单编号", required=True)
    if order_no and not ORDER_NO.fullmatch(order_no):
        errors.append(FieldError("order_no", "工单编号应为 4–40 个字母、数字或 ._-",
                                 "order_no must be 4–40 letters, digits or ._-"))
    channel_raw = _text(payload, "channel", 16, errors, "渠道")
    channel = rules.channel_code(channel_raw)
    if channel is None:
        errors.append(FieldError("channel", f"未知的渠道 {channel_raw}; 可用: 电话、网站、微信、APP、微博、电子邮件、其他",
                                 f"unknown channel {channel_raw!r}: {', '.join(rules.CHANNELS)}"))
    name = _text(payload, "petitioner_name", MAX_NAME, errors, "诉求人姓名")
    phone = _text(payload, "petitioner_phone", 20, errors, "联系电话")
    if phone and not intake.PHONE.fullmatch(phone):
        errors.append(FieldError("petitioner_phone", "联系电话格式不正确", "petitioner_phone is not a phone number"))
    content = _text(payload, "content", MAX_CONTENT, errors, "诉求内容", required=True)
    address = _text(payload, "address", MAX_ADDRESS, errors, "地址")
    urgency_raw = _text(payload, "urgency", 16, errors, "紧急程度")
    urgency = rules.urgency_code(urgency_raw)
    if urgency is None:
        errors.append(FieldError("urgency", f"未知的紧急程度 {urgency_raw}; 可用: 生命财产、水电气热、一般",
                                 f"unknown urgency {urgency_raw!r}: {', '.join(rules.URGENCIES)}"))
    dispatched_at = _time(payload, "dispatched_at", errors, "派单时间", now, required=True)
    if dispatched_at and dispatched_at > now + FUTURE_TOLERANCE:
        errors.append(FieldError("dispatched_at", "派单时间晚于当前时间", "dispatched_at is in the future"))
        dispatched_at = None
    reply_deadline = _time(payload, "reply_deadline", errors, "答复期限", now, required=False, deadline=True)
    if dispatched_at and reply_deadline and reply_deadline <= dispatched_at:
        errors.append(FieldError("reply_deadline", "答复期限应晚于派单时间", "reply_deadline must be after dispatched_at"))

    report = None
    lng, lat = number_cell(payload.get("lng")), number_cell(payload.get("lat"))
    if (lng is None) != (lat is None):
        missing = "lat" if lat is None else "lng"
        errors.append(FieldError(missing, "经度和纬度应同时填写或同时不填", "give both lng and lat, or neither"))
    elif lng is not None:
        crs = _text(payload, "crs", 16, errors, "坐标系") or "wgs84"
        category = _text(payload, "category", 16, errors, "事件类别") \
            or DEFAULT_CATEGORY.get(urgency, FALLBACK_CATEGORY)
        try:
            report = intake.parse_report({
                "category": category, "description": f"12345 工单 {order_no}: {content or ''}"[:MAX_CONTENT],
                "address": address, "location": {"lng": lng, "lat": lat, "crs": crs},
            })
        except InvalidInputError as exc:
            rename = {"location.lng": "lng", "location.lat": "lat", "location.crs": "crs", "location": "lng"}
            errors.extend(FieldError(rename.get(e.field, e.field), e.zh, e.en) for e in exc.errors
                          if e.field not in ("description", "address", "category"))
    if errors:
        return None, errors
    return OrderInput(order_no, channel, name, phone, content, address, urgency, dispatched_at, reply_deadline,
                      report), []


# ---------------------------------------------------------------- import


@dataclass
class ImportResult:
    orders: list[tuple[int, bool]] = field(default_factory=list)  # (id, created now)

    @property
    def created(self) -> int:
        return sum(1 for _i, c in self.orders if c)

    @property
    def existing(self) -> int:
        return sum(1 for _i, c in self.orders if not c)


def _incident_key(order_no: str) -> str:
    return intake.check_idempotency_key(hashlib.sha256(order_no.encode("utf-8")).hexdigest(), "hotline")


def check_batch(db: Session, payloads: list, now: datetime) -> tuple[list[OrderInput | None], dict[int, list]]:
    """Parse every item; the errors by item index. Also refused: an order number twice in the
    batch, and an unknown category for the linked incident."""
    inputs: list[OrderInput | None] = []
    errors: dict[int, list[FieldError]] = {}
    seen: dict[str, int] = {}
    for i, payload in enumerate(payloads):
        item, problems = parse_order(payload, now)
        if item is not None and item.order_no in seen:
            problems = [FieldError("order_no", f"工单编号 {item.order_no} 与第 {seen[item.order_no] + 1} 项重复",
                                   f"order_no {item.order_no} repeats item {seen[item.order_no] + 1}")]
            item = None
        if item is not None:
            seen[item.order_no] = i
        inputs.append(item)
        if problems:
            errors[i] = problems
    codes = {x.report.category for x in inputs if x is not None and x.report is not None}
    if codes:
        known = set(db.execute(select(Category.code).where(Category.code.in_(codes))).scalars())
        for i, x in enumerate(inputs):
            if x is not None and x.report is not None and x.report.category not in known:
                errors.setdefault(i, []).append(FieldError(
                    "category", f"未知的事件类别 {x.report.category}", f"unknown category {x.report.category!r}"))
    return inputs, errors


def store(db: Session, inputs: list[OrderInput], *, actor_id: int | None, role: str, via: dict,
          now: datetime, calendar: WorkCalendar, near_m: float | None = None) -> ImportResult:
    """Write checked orders in one transaction; commits. Orders already stored are answered."""
    numbers = [x.order_no for x in inputs]
    stored = dict(db.execute(select(HotlineOrder.order_no, HotlineOrder.id)
                             .where(HotlineOrder.order_no.in_(numbers))).all()) if numbers else {}
    result = ImportResult()
    # intake commits each incident; on a session joined to this one's transaction as a savepoint
    # its commit releases the savepoint, so the batch still commits (or rolls back) as one
    incidents = Session(bind=db.connection(), join_transaction_mode="create_savepoint")
    try:
        for x in inputs:
            if x.order_no in stored:
                result.orders.append((stored[x.order_no], False))
                continue
            incident_id = None
            if x.report is not None:
                incident_id, _row = intake.report_incident(
                    incidents, x.report, source="hotline_12345", reporter_id=actor_id, reporter_role=role,
                    idempotency_key=_incident_key(x.order_no), near_m=near_m, calendar=calendar, now=now)
            reply_deadline = x.reply_deadline or rules.default_reply_deadline(x.dispatched_at, calendar)
            order_id = db.execute(
                pg_insert(HotlineOrder).values(
                    order_no=x.order_no, channel=x.channel, petitioner_name=x.petitioner_name,
                    petitioner_phone=x.petitioner_phone, content=x.content, address=x.address,
                    lng=x.report.lng if x.report else None, lat=x.report.lat if x.report else None,
                    incident_id=incident_id, urgency=x.urgency, dispatched_at=x.dispatched_at,
                    accept_deadline=rules.accept_deadline(x.dispatched_at, x.urgency, calendar),
                    reply_deadline=reply_deadline, state=rules.PENDING, imported_by=actor_id,
                    created_at=now, updated_at=now,
                ).on_conflict_do_nothing(index_elements=["order_no"]).returning(HotlineOrder.id)
            ).scalar()
            if order_id is None:  # imported a moment ago by someone else
                order_id = db.execute(select(HotlineOrder.id).where(HotlineOrder.order_no == x.order_no)).scalar_one()
                result.orders.append((order_id, False))
                continue
            data = {**via, "urgency": x.urgency, "dispatched_at": x.dispatched_at.isoformat()}
            if incident_id is not None:
                data["incident_id"] = incident_id
            _event(db, order_id, now, actor_id, role, "import", None, rules.PENDING, None, "自便民专线平台派单", data)
            events.notify(db, [events.order_message(  # a new 待办 for the desk: its badge refreshes live
                id=order_id, order_no=x.order_no, at=now, state=rules.PENDING, department_id=None, department=None,
                lng=x.report.lng if x.report else None, lat=x.report.lat if x.report else None,
                dispatched_at=x.dispatched_at, deadline=reply_deadline, version=1)])
            result.orders.append((order_id, True))
        incidents.close()
        db.commit()
    except BaseException:
        incidents.close()
        db.rollback()
        raise
    return result


def may_import(user) -> bool:
    return user is not None and roles.has_permission(user.role, "import_hotline")


@dataclass(frozen=True)
class ImportAnswer:
    batch: bool
    orders: list[tuple[int, bool]]  # (id, created now)
    detail: dict | None  # the order as it now is, for a single order

    @property
    def created(self) -> int:
        return sum(1 for _i, c in self.orders if c)


def import_orders(db: Session, user, body: Any, *, now: datetime | None = None,
                  calendar: WorkCalendar | None = None, near_m: float | None = None) -> ImportAnswer:
    """``POST /orders``: one order (an object) or a batch (a list). Answers the stored orders as
    (id, created) pairs, and for a single order its detail. Raises AccessDenied or InvalidInputError
    (fields named ``[i].field`` in a batch); nothing is saved unless everything is good."""
    if not may_import(user):
        raise AccessDenied(*IMPORT_DENIED)
    batch = isinstance(body, list)
    payloads = body if batch else [body]
    if not payloads or len(payloads) > MAX_BATCH:
        raise InvalidInputError([FieldError("body", f"应为 1–{MAX_BATCH} 个工单", f"send 1–{MAX_BATCH} orders")])
    now = _now(now)
    inputs, errors = check_batch(db, payloads, now)
    if errors:
        raise InvalidInputError([FieldError(f"[{i}].{e.field}" if batch else e.field, e.zh, e.en)
                           for i in sorted(errors) for e in errors[i]])
    calendar = calendar or load_calendar(db)
    result = store(db, inputs, actor_id=user.id, role=user.role, via={"via": "api"}, now=now,
                   calendar=calendar, near_m=near_m)
    shown = None if batch else detail(db, user, result.orders[0][0], now=now, calendar=calendar)
    return ImportAnswer(batch, result.orders, shown)


# ---------------------------------------------------------------- the Excel file


HEADER_SEARCH_ROWS = 10  # a platform export may open with a title row or two (often merged) above the header
MAX_ROWS = 50_000


def _sheet_rows(path: Path) -> list[tuple]:
    """Every row of the first sheet of an .xlsx (merged cells filled from their top-left cell),
    or of a CSV (UTF-8 or GB18030, as Chinese Excel writes it). Raises ReadError."""
    import csv
    import io
    import zipfile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            text_, _encoding = decode_text(path.read_bytes())
            return [tuple(r) for r in csv.reader(io.StringIO(text_, newline=""))]
        except csv.Error as exc:
            raise ReadError(f"CSV 格式错误: {exc}", f"malformed CSV: {exc}") from exc
    if suffix == ".xls":
        raise ReadError("旧版 Excel(.xls)无法读取, 请在 Excel 中另存为 .xlsx 后导入",
                        "an old Excel .xls file: save it as .xlsx and import that")
    if suffix not in (".xlsx", ".xlsm"):
        raise ReadError("请提供 Excel(.xlsx)或 CSV 文件", "expected an Excel .xlsx or a CSV file")
    try:
        book = openpyxl.load_workbook(path, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ReadError(f"无法打开 Excel 文件: {exc}", f"cannot open the Excel file: {exc}") from exc
    try:
        if not book.worksheets:
            raise ReadError("Excel 文件没有工作表", "the Excel file has no sheet")
        sheet = book.worksheets[0]
        for merged in list(sheet.merged_cells.ranges):
            value = sheet.cell(merged.min_row, merged.min_col).value
            sheet.unmerge_cells(str(merged))
            for row in sheet.iter_rows(min_row=merged.min_row, max_row=merged.max_row,
                                       min_col=merged.min_col, max_col=merged.max_col):
                for cell in row:
                    cell.value = value
        return list(sheet.iter_rows(min_row=1, values_only=True))
    except ReadError:
        raise
    except Exception as exc:  # a damaged sheet: openpyxl raises many kinds
        raise ReadError(f"无法读取 Excel 工作表: {exc}", f"cannot read the Excel sheet: {exc}") from exc
    finally:
        book.close()


def _column(header_cell: Any) -> str | None:
    """The API field a header cell names (its Chinese header, spaces and line breaks aside)."""
    key = re.sub(r"\s+", "", str(header_cell)) if header_cell is not None else ""
    return EXCEL_COLUMNS.get(key) or (key.lower() if key.lower() in FIELD_ZH else None)


def read_excel(path: Path) -> tuple[list[int], list[dict]]:
    """The rows of the platform's export (the first sheet of an .xlsx, or a CSV): sheet row
    numbers and records keyed by the API's field names. The header is the first row, among the
    first ten, that names 工单编号, so title rows above it are skipped; merged cells take the value
    of their top-left cell. Raises ReadError when the file cannot be read."""
    path = Path(path)
    sheet = _sheet_rows(path)
    if not any(any(v is not None and str(v).strip() for v in r) for r in sheet):
        raise ReadError("第一个工作表为空", "the first sheet is empty")
    start = next((i for i, r in enumerate(sheet[:HEADER_SEARCH_ROWS]) if "order_no" in map(_column, r)), None)
    if start is None:
        raise ReadError(f"前 {HEADER_SEARCH_ROWS} 行中没有含「工单编号」的表头行",
                        f"no header row naming 工单编号 (order_no) in the first {HEADER_SEARCH_ROWS} rows")
    columns: dict[str, int] = {}
    for i, h in enumerate(sheet[start]):
        name = _column(h)
        if name is None:
            continue
        if name in columns:
            raise ReadError(f"列「{FIELD_ZH[name]}」重复", f"column {FIELD_ZH[name]!r} appears twice")
        columns[name] = i
    missing = [FIELD_ZH[c] for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ReadError("缺少列: " + "、".join(missing),
                        "missing column: " + ", ".join(c for c in REQUIRED_COLUMNS if c not in columns))
    rows: list[int] = []
    records: list[dict] = []
    for row_no, cells in enumerate(sheet[start + 1:], start=start + 2):
        if not cells or all(v is None or (isinstance(v, str) and not v.strip()) for v in cells):
            continue
        record = {name: (cells[i] if i < len(cells) else None) for name, i in columns.items()}
        deadline = record.get("reply_deadline")
        if isinstance(deadline, datetime) and deadline.time() == time(0) and deadline.tzinfo is None:
            record["reply_deadline"] = deadline.date()  # a date cell: the whole day
        rows.append(row_no)
        records.append(record)
        if len(records) > MAX_ROWS:
            raise ReadError("文件超过 50000 行, 请分批导入", "more than 50,000 rows: import in parts")
    return rows, records


@dataclass
class ExcelSummary:
    rows: int = 0
    imported: int = 0
    existing: int = 0
    with_location: int = 0
    dry_run: bool = False
    errors: list[Problem] = field(default_factory=list)
    items: list[dict] = field(default_factory=list)  # per row: row, order_no, id (None in a dry run), created

    def as_dict(self) -> dict:
        out = {"rows": self.rows, "imported": self.imported, "existing": self.existing,
               "with_location": self.with_location}
        if self.dry_run:
            out["dry_run"] = True
        return out


def import_excel(db: Session, path, *, dry_run: bool = False, now: datetime | None = None,
                 calendar: WorkCalendar | None = None, near_m: float | None = None, user=None,
                 filename: str | None = None) -> ExcelSummary:
    """``wangge hotline import FILE.xlsx``, or the desk's upload (``user``): all rows or none. Row
    errors name the sheet row and the column (its Chinese header). Raises ReadError when the file
    cannot be read at all."""
    path = Path(path)
    rows, records = read_excel(path)
    now = _now(now)
    summary = ExcelSummary(rows=len(records), dry_run=dry_run)
    inputs, errors = check_batch(db, records, now)
    for i in sorted(errors):
        for e in errors[i]:
            summary.errors.append(Problem(rows[i], FIELD_ZH.get(e.field, e.field), e.zh, e.en))
    if summary.errors or not records:
        return summary
    summary.with_location = sum(1 for x in inputs if x.report is not None)
    numbers = [x.order_no for x in inputs]
    if dry_run:
        stored = dict(db.execute(select(HotlineOrder.order_no, HotlineOrder.id)
                                 .where(HotlineOrder.order_no.in_(numbers))).all())
        summary.items = [{"row": r, "order_no": n, "id": stored.get(n), "created": n not in stored}
                         for r, n in zip(rows, numbers, strict=True)]
        summary.existing = len(stored)
        summary.imported = len(inputs) - summary.existing
        return summary
    result = store(db, inputs, actor_id=user.id if user else None, role=user.role if user else "system",
                   via={"via": "excel", "file": filename or path.name},
                   now=now, calendar=calendar or load_calendar(db), near_m=near_m)
    summary.items = [{"row": r, "order_no": n, "id": i, "created": c}
                     for r, n, (i, c) in zip(rows, numbers, result.orders, strict=True)]
    summary.imported, summary.existing = result.created, result.existing
    return summary


def upload_excel(db: Session, user, path: Path, filename: str, *, dry_run: bool = False,
                 near_m: float | None = None) -> dict:
    """``path``: the uploaded file, saved with the suffix of its ``filename``. The desk's upload of the platform's export (``POST /api/v1/hotline/imports``): the answer
    per row (新建 / 已存在), or every row's reasons and nothing saved (InvalidInputError, 422); a
    file that cannot be read is refused as a whole (400)."""
    if not may_import(user):
        raise AccessDenied(*IMPORT_DENIED)
    try:
        summary = import_excel(db, path, dry_run=dry_run, near_m=near_m, user=user, filename=filename)
    except ReadError as exc:
        raise BadRequestError(exc.zh, exc.en, param="file") from exc
    if summary.errors:
        raise InvalidInputError([FieldError(f"row {e.row}: {e.field}", f"第 {e.row} 行「{e.field}」: {e.zh}",
                                            f"row {e.row}, {e.field}: {e.en}") for e in summary.errors],
                                lead=IMPORT_REFUSED, code="ImportRejected")
    if not summary.rows:
        raise BadRequestError("文件中没有工单行", "the file has no order rows", param="file")
    return {**summary.as_dict(), "items": summary.items}


# ---------------------------------------------------------------- reading


def may_read(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and (
        roles.has_permission(user.role, "read_hotline")
        or (user.role == "department" and user.department_id is not None))


def visible(user):
    """Which orders this account reads, as a SQL condition."""
    if not may_read(user):
        return false()
    if roles.has_permission(user.role, "read_hotline"):
        return true()
    once = exists().where(HotlineEvent.order_id == HotlineOrder.id,
                          HotlineEvent.department_id == user.department_id)
    return or_(HotlineOrder.department_id == user.department_id, once)


def may_see_petitioner(user, department_id: int | None) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if roles.has_permission(user.role, "see_personal_data"):  # and the assigned section
        return True
    return user.role == "department" and user.department_id is not None and user.department_id == department_id


def _overdue(now: datetime):
    return or_(and_(HotlineOrder.state == rules.PENDING, HotlineOrder.accept_deadline < now),
               and_(HotlineOrder.state.in_(rules.REPLY_OWED), HotlineOrder.reply_deadline < now))


def _select():
    incident_grid, village = aliased(Grid), aliased(Area)
    return (
        select(
            HotlineOrder,
            Department.code.label("dept_code"), Department.name.label("dept_name"),
            Incident.case_no, Incident.state.label("incident_state"), Incident.grid_code,
            Incident.flags.label("incident_flags"), incident_grid.name.label("grid_name"),
            Incident.village_code, village.name.label("village_name"),
        )
        .outerjoin(Department, Department.id == HotlineOrder.department_id)
        .outerjoin(Incident, Incident.id == HotlineOrder.incident_id)
        .outerjoin(incident_grid, incident_grid.id == Incident.grid_id)
        .outerjoin(village, village.code == Incident.village_code)
    )


def _order(o: HotlineOrder) -> rules.Order:
    return rules.Order(
        state=o.state, urgency=o.urgency, dispatched_at=o.dispatched_at, accept_deadline=o.accept_deadline,
        reply_deadline=o.reply_deadline, department_id=o.department_id, assigned_at=o.assigned_at,
        signed_at=o.signed_at, replied_at=o.replied_at, returned_at=o.returned_at, draft=o.draft,
        return_count=o.return_count, supervise_count=o.supervise_count,
    )


def _actor(user) -> rules.Actor:
    return rules.Actor(id=user.id, role=user.role, department_id=user.department_id)


def _label(table: dict, code: str) -> dict:
    zh, en = table[code][0], table[code][1]
    return {"code": code, "label_zh": zh, "label_en": en}


def _serialize(row, user, now: datetime, calendar: WorkCalendar) -> dict:
    o: HotlineOrder = row.HotlineOrder
    order = _order(o)
    full = may_see_petitioner(user, o.department_id)
    clocks = rules.clocks(order, now, calendar)
    return {
        "id": o.id,
        "order_no": o.order_no,
        "channel": _label(rules.CHANNELS, o.channel),
        "urgency": _label(rules.URGENCIES, o.urgency),
        "state": o.state,
        "state_en": rules.STATE_EN[o.state],
        "petitioner": {
            "name": o.petitioner_name if full else privacy.mask_name(o.petitioner_name),
            "phone": o.petitioner_phone if full else privacy.mask_phone(o.petitioner_phone),
            "masked": not full,
        },
        "content": o.content,
        "address": o.address,
        "location": {"lng": o.lng, "lat": o.lat, "crs": "wgs84"} if o.lng is not None else None,
        "incident": {
            "id": o.incident_id, "case_no": row.case_no, "state": row.incident_state,
            "grid": {"code": row.grid_code, "name": row.grid_name} if row.grid_code else None,
            "village": {"code": row.village_code, "name": row.village_name} if row.village_code else None,
            "flags": list(row.incident_flags or []),
        } if o.incident_id else None,
        "department": {"code": row.dept_code, "name": row.dept_name} if row.dept_code else None,
        "instruction": o.instruction,
        "draft": o.draft,
        "reply": o.reply,
        "dispatched_at": format_iso(o.dispatched_at),
        "signed_at": format_iso(o.signed_at),
        "assigned_at": format_iso(o.assigned_at),
        "drafted_at": format_iso(o.drafted_at),
        "replied_at": format_iso(o.replied_at),
        "closed_at": format_iso(o.closed_at),
        "returned_at": format_iso(o.returned_at),
        "deadlines": {
            "accept": clocks["accept"].as_dict(),
            "reply": clocks["reply"].as_dict(),
            "return": {"deadline": format_iso(rules.return_deadline(o.dispatched_at, calendar))},
        },
        "overdue": rules.overdue(order, now),
        "return_count": o.return_count,
        "supervise_count": o.supervise_count,
        "version": o.version,
    }


@dataclass(frozen=True)
class OrderFilter:
    state: str | None = None
    overdue: bool | None = None
    since: datetime | None = None  # dispatched at or after
    until: datetime | None = None
    order_no: str | None = None


def list_orders(db: Session, user, *, limit: int, offset: int = 0, filters: OrderFilter = OrderFilter(),
                now: datetime | None = None) -> tuple[list[dict], int]:
    """Newest dispatch first, within the reader's rights. Raises AccessDenied for roles that
    read no hotline orders, InvalidInputError for an unknown state."""
    if not may_read(user):
        raise AccessDenied("此角色不能查看 12345 工单", "this role cannot read hotline orders")
    now = _now(now)
    where = [visible(user)]
    if filters.state is not None:
        if filters.state not in rules.STATES:
            raise InvalidInputError([FieldError("state", f"未知的工单状态 {filters.state}; 可用: {'、'.join(rules.STATES)}",
                                          f"unknown state {filters.state!r}")])
        where.append(HotlineOrder.state == filters.state)
    if filters.overdue is not None:
        where.append(_overdue(now) if filters.overdue else ~_overdue(now))
    if filters.since is not None:
        where.append(HotlineOrder.dispatched_at >= filters.since)
    if filters.until is not None:
        where.append(HotlineOrder.dispatched_at <= filters.until)
    if filters.order_no:
        where.append(HotlineOrder.order_no == filters.order_no)
    total = db.execute(select(func.count()).select_from(HotlineOrder).where(*where)).scalar_one()
    rows = db.execute(_select().where(*where)
                      .order_by(HotlineOrder.dispatched_at.desc(), HotlineOrder.id.desc())
                      .limit(limit).offset(offset)).all()
    calendar = load_calendar(db)
    return [_serialize(r, user, now, calendar) for r in rows], total


def timeline(db: Session, order_id: int) -> list[dict]:
    actor_department = aliased(Department)
    rows = db.execute(
        select(HotlineEvent, Person.name.label("actor"), Department.code.label("dept_code"),
               Department.name.label("dept_name"), actor_department.name.label("actor_department"))
        .outerjoin(Account, Account.id == HotlineEvent.actor_id)
        .outerjoin(Person, Person.id == Account.person_id)
        .outerjoin(actor_department, actor_department.id == Account.department_id)
        .outerjoin(Department, Department.id == HotlineEvent.department_id)
        .where(HotlineEvent.order_id == order_id)
        .order_by(HotlineEvent.at, HotlineEvent.id)
    ).all()
    out = []
    for r in rows:
        e: HotlineEvent = r.HotlineEvent
        action = rules.ACTIONS.get(e.action)
        out.append({
            "at": format_iso(e.at), "action": e.action,
            "label_zh": action.label_zh if action else {"import": "派单导入"}.get(e.action, e.action),
            "label_en": action.label_en if action else {"import": "dispatched by the platform"}.get(e.action, e.action),
            "role": e.role, "actor": r.actor, **actions.who(r.actor, e.role, r.actor_department),
            "from_state": e.from_state, "to_state": e.to_state,
            "department": {"code": r.dept_code, "name": r.dept_name} if r.dept_code else None,
            "note": e.note, "data": e.data or {},
        })
    return out


def _load(db: Session, user, order_id: int):
    return db.execute(_select().where(HotlineOrder.id == order_id, visible(user))).first()


def allowed(o: HotlineOrder, user, now: datetime, calendar: WorkCalendar) -> list[dict]:
    """The actions this user may take on the order at ``now``, with their labels and needs."""
    names = rules.allowed_actions(_order(o), _actor(user), now, calendar)
    return [{"name": n, "label_zh": rules.ACTIONS[n].label_zh, "label_en": rules.ACTIONS[n].label_en,
             "needs": sorted(rules.ACTIONS[n].needs)} for n in names]


def _detail(db: Session, user, row, now: datetime, calendar: WorkCalendar) -> dict:
    out = _serialize(row, user, now, calendar)
    out["actions"] = allowed(row.HotlineOrder, user, now, calendar)
    out["timeline"] = timeline(db, row.HotlineOrder.id)
    return out


def detail(db: Session, user, order_id: int, *, now: datetime | None = None,
           calendar: WorkCalendar | None = None) -> dict | None:
    """One order with its deadlines, the actions open to this user, and its timeline; None when
    absent or not this user's to read."""
    if not may_read(user):
        raise AccessDenied("此角色不能查看 12345 工单", "this role cannot read hotline orders")
    row = _load(db, user, order_id)
    if row is None:
        return None
    return _detail(db, user, row, _now(now), calendar or load_calendar(db))


# ---------------------------------------------------------------- acting


def _event(db: Session, order_id: int, at: datetime, actor_id: int | None, role: str, action: str,
           from_state: str | None, to_state: str | None, department_id: int | None, note: str | None,
           data: dict) -> None:
    db.execute(HotlineEvent.__table__.insert().values(
        order_id=order_id, at=at, actor_id=actor_id, role=role, action=action, from_state=from_state,
        to_state=to_state, department_id=department_id, note=note, data=json.loads(json.dumps(data, default=str)),
    ))


def _payload(db: Session, action: rules.Action, body: dict) -> tuple[dict, list[FieldError]]:
    errors: list[FieldError] = []
    out: dict = {}
    value = body.get("text")
    if value is not None and not isinstance(value, str):
        errors.append(FieldError("text", "text 应为文本", "text must be a string"))
        value = None
    value = (value or "").strip()
    if len(value) > MAX_TEXT:
        errors.append(FieldError("text", f"内容不能超过 {MAX_TEXT} 字", f"text must be at most {MAX_TEXT} characters"))
    elif "text" in action.needs and not value:
        errors.append(FieldError("text", f"「{action.label_zh}」需要填写内容", f"{action.name} needs a text"))
    out["text"] = value or None
    if "department" in action.needs:
        code = body.get("department")
        dept = db.execute(select(Department.id, Department.code, Department.name)
                          .where(Department.code == code)).first() if isinstance(code, str) else None
        if dept is None or code == "zongzhi":
            errors.append(FieldError("department", "请选择要转派的业务科室", "choose the section to assign the order to"))
        else:
            out["department_id"], out["department"] = dept.id, dept.code
    return out, errors


def act(db: Session, user, order_id: int, name: str, body: dict, *, now: datetime | None = None,
        calendar: WorkCalendar | None = None) -> dict:
    """Take one action on an order. Raises AccessDenied, NotFoundError, InvalidInputError (fields,
    or the rules' refusal on ``action``: 403 or 422) or ConflictError; commits on success and returns the order as it now is
    (in brief, when the user can no longer read it)."""
    if not may_read(user):
        raise AccessDenied("此角色不能办理 12345 工单", "this role cannot act on hotline orders")
    now = _now(now)
    calendar = calendar or load_calendar(db)
    row = _load(db, user, order_id)
    if row is None:
        raise NotFoundError(*NOT_FOUND)
    o: HotlineOrder = row.HotlineOrder
    version = body.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise InvalidInputError([FieldError("version", "请提交工单的当前版本号 version", "send the order's current version")])
    if version != o.version:
        raise ConflictError(*STALE, _detail(db, user, row, now, calendar))
    before = _order(o)
    try:
        action = rules.check(name, before, _actor(user), now, calendar)
    except rules.TransitionError as exc:
        raise refused(exc.status, exc.zh, exc.en) from exc
    payload, errors = _payload(db, action, body)
    if errors:
        raise InvalidInputError(errors)
    changes = rules.transition(before, action, now, calendar, text=payload["text"],
                               department_id=payload.get("department_id"))
    updated = db.execute(
        HotlineOrder.__table__.update()
        .where(HotlineOrder.id == order_id, HotlineOrder.version == version)
        .values(**changes, updated_at=now, version=HotlineOrder.version + 1)
        .returning(HotlineOrder.version)
    ).scalar()
    if updated is None:  # someone else acted a moment ago
        db.rollback()
        current = _load(db, user, order_id)
        raise ConflictError(*STALE, _detail(db, user, current, now, calendar) if current else {"id": order_id})
    data: dict = {}
    if "department" in payload:
        data["department"] = payload["department"]
    if action.name == "sign":
        data["on_time"] = now <= o.accept_deadline
    if action.name == "supervise":
        data["reply_deadline"] = o.reply_deadline.isoformat()
    if action.name == "redispatch":
        data.update(accept_deadline=changes["accept_deadline"].isoformat(),
                    reply_deadline=changes["reply_deadline"].isoformat())
    settlement = settle_case(db, o.incident_id, now) if action.name == "close" and o.incident_id else None
    if settlement is not None:
        data["case"] = settlement.as_dict()
    department_id = payload.get("department_id") or (o.department_id if action.section_only else None)
    _event(db, order_id, now, user.id, user.role, action.name, o.state, changes.get("state", o.state),
           department_id, payload["text"], data)
    section = changes.get("department_id", o.department_id) or department_id  # a returning section is told too
    events.notify(db, [events.order_message(
        id=order_id, order_no=o.order_no, at=now, state=changes.get("state", o.state), department_id=section,
        department=payload.get("department"), lng=o.lng, lat=o.lat,
        dispatched_at=changes.get("dispatched_at", o.dispatched_at),
        deadline=changes.get("reply_deadline", o.reply_deadline), version=updated)])
    db.commit()
    db.expire_all()
    row = _load(db, user, order_id)
    if row is None:  # a section that returned the order reads it still (it once handled it)
        return {"id": order_id, "state": changes.get("state", o.state), "version": updated, "visible": False}
    answer = _detail(db, user, row, now, calendar)
    if settlement is not None:
        answer["case_settlement"] = settlement.as_dict()
    return answer


def settle_case(db: Session, incident_id: int, now: datetime) -> rules.Settlement:
    """Settle the case linked to an order being closed, in the caller's transaction: close it by
    the system event ``hotline_closed`` when the rules say so (``rules.settle_case``), else leave
    it; what was done, and why, either way."""
    case = db.execute(select(Incident.case_no, Incident.state).where(Incident.id == incident_id)
                      .with_for_update()).one()
    settlement = rules.settle_case(case.case_no, case.state)
    if settlement.close:
        db.execute(Incident.__table__.update().where(Incident.id == incident_id)
                   .values(state=case_rules.CLOSED, closed_at=now, version=Incident.version + 1))
        events.record_event(db, incident_id, rules.CASE_CLOSED_BY_ORDER, at=now, role=SYSTEM_ROLE,
                            from_state=case.state, to_state=case_rules.CLOSED, note=settlement.zh)
        events.notify_cases(db, [incident_id], rules.CASE_CLOSED_BY_ORDER, now)
    return settlement
