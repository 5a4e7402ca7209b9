"""Open311 GeoReport v2 use cases: categories as services, incidents as service requests, and new
requests from machine clients (an ``api_key``) through the ordinary intake.

What leaves here for the public: the category, the case state, the place, the grid, the
responsible department and the times. Never the reporter's name, phone or e-mail.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import ApiClient, CaseEvent, Category, Department, Grid, Incident
from workflow.clock import SHANGHAI, format_iso

from . import intake
from .errors import InvalidInputError, ServiceError

CLOSED_STATES = ("结案", "作废")
MAX_REQUESTS = 1000
MAX_SPAN = timedelta(days=90)
MAX_IDS = 1000
IDEMPOTENCY_PREFIX = "o311"
UNITS = {
    "work_hours": ("工作小时", "working hours"),
    "work_days": ("工作日", "working days"),
    "hours": ("小时", "hours"),
    "days": ("天", "days"),
}
KINDS = {"event": "事件", "component": "部件", "governance": "社会治理"}
PRIVATE_KIND = "governance"
# intake's field names → the Open311 field a client sent
FIELDS = {
    "category": "service_code",
    "description": "description",
    "address": "address_string",
    "location": "lat/long",
    "location.lng": "long",
    "location.lat": "lat",
    "location.crs": "lat/long",
    "reporter_name": "last_name/first_name",
    "reporter_phone": "phone",
    "body": "body",
}


@dataclass(frozen=True)
class Problem:
    """One Open311 error: the field at fault and why, in Chinese and English."""

    field: str | None
    zh: str
    en: str

    def description(self) -> str:
        text = f"{self.zh} / {self.en}"
        return f"{self.field}: {text}" if self.field else text


class Open311Error(ServiceError):
    """An Open311 error answer: ``status`` (400, 403, 404) and its problems."""

    def __init__(self, status: int, problems: list[Problem]):
        super().__init__(status, "; ".join(p.zh for p in problems), "; ".join(p.en for p in problems))
        self.args = ("; ".join(p.description() for p in problems),)
        self.problems = problems

    @classmethod
    def of(cls, exc: ServiceError) -> Open311Error:
        """Any refusal of the services as an Open311 answer: one problem on its ``param``."""
        if isinstance(exc, Open311Error):
            return exc
        return cls(exc.status, [Problem(exc.details.get("param"), exc.zh, exc.en)])

    def as_list(self) -> list[dict]:
        return [{"code": self.status, "description": p.description()} for p in self.problems]


def _bad(problems: list[Problem]) -> Open311Error:
    return Open311Error(400, problems)


def _limit_text(limit: int, unit: str) -> tuple[str, str]:
    zh, en = UNITS.get(unit, (unit, unit))
    return f"{limit} {zh}", f"{limit} {en}"


def notice(department: str | None, limit: int, unit: str) -> str:
    """What will happen to a request: who handles it and within what time."""
    zh, en = _limit_text(limit, unit)
    who = department or "镇综合治理中心"
    return f"由{who}办理,时限 {zh} / handled by {who} within {en}"


# ---------------------------------------------------------------- services


def services(db: Session) -> list[dict]:
    """Every category as an Open311 service (no extra attributes: ``metadata`` is false)."""
    rows = db.execute(
        select(Category, Department.name)
        .outerjoin(Department, Department.id == Category.department_id)
        .order_by(Category.kind, Category.class_name, Category.code)
    ).all()
    out = []
    for cat, dept in rows:
        limit_zh, _ = _limit_text(cat.time_limit, cat.time_unit)
        keywords = [KINDS.get(cat.kind, cat.kind), cat.class_name, cat.name]
        if dept:
            keywords.append(dept)
        if cat.self_handle:
            keywords.append("可现场处置")
        out.append({
            "service_code": cat.code,
            "service_name": cat.name,
            "description": " · ".join([cat.class_name, cat.name, dept or "镇综合治理中心", limit_zh]),
            "metadata": False,
            "type": "realtime",
            "keywords": ", ".join(keywords),
            "group": cat.class_name,
        })
    return out


def service_definition(db: Session, service_code: str) -> dict | None:
    """The definition of one service; our services ask for no extra attributes."""
    code = db.execute(select(Category.code).where(Category.code == service_code)).scalar()
    return {"service_code": code, "attributes": []} if code else None


# ---------------------------------------------------------------- requests: reading


@dataclass(frozen=True)
class RequestQuery:
    ids: tuple[int, ...] | None = None
    service_codes: tuple[str, ...] | None = None
    statuses: tuple[str, ...] | None = None
    start: datetime | None = None
    end: datetime | None = None
    limit: int = MAX_REQUESTS


def _parse_when(name: str, raw: str, end_of_day: bool) -> datetime:
    text = raw.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day, time.max if end_of_day else time.min, SHANGHAI)
        value = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError as exc:
        raise _bad([Problem(name, f"无法解析时间 {raw!r},应为 ISO 8601,如 2026-06-01T08:00:00+08:00",
                            f"cannot parse {raw!r}; use ISO 8601, e.g. 2026-06-01T08:00:00+08:00")]) from exc
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


def _csv(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


def parse_query(args: Mapping[str, str], now: datetime | None = None) -> RequestQuery:
    """Filters of ``GET requests``. ``service_request_id`` overrides all others (as the spec says);
    otherwise the window is at most 90 days and defaults to the last 90 days."""
    limit = MAX_REQUESTS
    raw_limit = args.get("limit")
    if raw_limit:
        if not raw_limit.isdigit() or int(raw_limit) < 1:
            raise _bad([Problem("limit", "limit 应为正整数", "limit must be a positive integer")])
        limit = min(int(raw_limit), MAX_REQUESTS)

    ids = _csv(args.get("service_request_id"))
    if ids:
        if len(ids) > MAX_IDS:
            raise _bad([Problem("service_request_id", f"一次最多查询 {MAX_IDS} 个编号",
                                f"at most {MAX_IDS} ids at once")])
        bad = [i for i in ids if not (i.isdigit() and len(i) <= 18)]
        if bad:
            raise _bad([Problem("service_request_id", f"编号应为数字: {bad[0]!r}",
                                f"ids must be numbers: {bad[0]!r}")])
        return RequestQuery(ids=tuple(dict.fromkeys(int(i) for i in ids)), limit=limit)

    problems = []
    statuses = tuple(s.lower() for s in _csv(args.get("status"))) or None
    if statuses and not set(statuses) <= {"open", "closed"}:
        problems.append(Problem("status", "status 只能是 open 或 closed", "status must be open or closed"))
    codes = tuple(_csv(args.get("service_code"))) or None

    now = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI)
    start = end = None
    for name, end_of_day in (("start_date", False), ("end_date", True)):
        raw = args.get(name)
        if raw:
            try:
                value = _parse_when(name, raw, end_of_day)
            except Open311Error as exc:
                problems.extend(exc.problems)
                continue
            if name == "start_date":
                start = value
            else:
                end = value
    if problems:
        raise _bad(problems)
    if start is None and end is None:
        start, end = now - MAX_SPAN, now
    elif start is None:
        start = end - MAX_SPAN
    elif end is None:
        end = start + MAX_SPAN
    if start > end:
        raise _bad([Problem("start_date", "start_date 晚于 end_date", "start_date is after end_date")])
    if end - start > MAX_SPAN:
        raise _bad([Problem("start_date/end_date", "时间范围不能超过 90 天",
                            "the date range may not span more than 90 days")])
    return RequestQuery(service_codes=codes, statuses=statuses, start=start, end=end, limit=limit)


def _request_rows(db: Session, where: Iterable, limit: int) -> list[dict]:
    # Social-governance cases (disputes, welfare, hazards at someone's home) are about people, not
    # public places: they stay out of the public feed. They can still be posted.
    where = [*where, Category.kind != PRIVATE_KIND]
    updated = (
        select(func.max(CaseEvent.at)).where(CaseEvent.incident_id == Incident.id)
        .correlate(Incident).scalar_subquery()
    )
    rows = db.execute(
        select(
            Incident, Category.code, Category.name, Category.time_limit, Category.time_unit,
            Department.name, Grid.code, Grid.name,
            func.ST_X(Incident.geom), func.ST_Y(Incident.geom), updated,
        )
        .join(Category, Category.id == Incident.category_id)
        .outerjoin(Department, Department.id == Incident.department_id)
        .outerjoin(Grid, Grid.id == Incident.grid_id)
        .where(*where)
        .order_by(Incident.reported_at.desc(), Incident.id.desc())
        .limit(limit)
    ).all()
    return [
        {
            "service_request_id": str(inc.id),
            "status": "closed" if inc.state in CLOSED_STATES else "open",
            "status_notes": inc.state,
            "service_name": name,
            "service_code": code,
            "description": inc.description,
            "agency_responsible": dept,
            "service_notice": notice(dept, limit_value, unit),
            "requested_datetime": format_iso(inc.reported_at, timespec="seconds"),
            "updated_datetime": format_iso(max(filter(None, (changed, inc.reported_at, inc.closed_at))), timespec="seconds"),
            "expected_datetime": format_iso(inc.deadline, timespec="seconds"),
            "address": inc.address,
            "lat": lat,
            "long": lng,
            "media_url": None,
            "grid_code": grid_code,
            "grid_name": grid_name,
        }
        for inc, code, name, limit_value, unit, dept, grid_code, grid_name, lng, lat, changed in rows
    ]


def list_requests(db: Session, query: RequestQuery) -> list[dict]:
    """Service requests matching the query, newest first, at most ``query.limit`` of them."""
    where = []
    if query.ids is not None:
        where.append(Incident.id.in_(query.ids))
    else:
        if query.service_codes:
            where.append(Category.code.in_(query.service_codes))
        if query.statuses and set(query.statuses) != {"open", "closed"}:
            closed = Incident.state.in_(CLOSED_STATES)
            where.append(closed if "closed" in query.statuses else ~closed)
        if query.start is not None:
            where.append(Incident.reported_at >= query.start)
        if query.end is not None:
            where.append(Incident.reported_at <= query.end)
    return _request_rows(db, where, min(query.limit, MAX_REQUESTS))


def get_request(db: Session, request_id: str) -> dict | None:
    """One service request by its id (digits); None when malformed or absent."""
    if not (request_id.isdigit() and len(request_id) <= 18):
        return None
    rows = _request_rows(db, [Incident.id == int(request_id)], 1)
    return rows[0] if rows else None


# ---------------------------------------------------------------- requests: posting


def authenticate(db: Session, api_key) -> ApiClient:
    """The active API client holding this key, or a 403."""
    if not isinstance(api_key, str) or not api_key.strip():
        raise Open311Error(403, [Problem("api_key", "缺少 api_key", "api_key is required")])
    digest = hashlib.sha256(api_key.strip().encode("utf-8")).hexdigest()
    client = db.execute(select(ApiClient).where(ApiClient.key_sha256 == digest)).scalar()
    if client is None:
        raise Open311Error(403, [Problem("api_key", "api_key 无效", "invalid api_key")])
    if not client.active:
        raise Open311Error(403, [Problem("api_key", "api_key 已停用", "this api_key has been revoked")])
    return client


def _field(fields: Mapping, name: str):
    value = fields.get(name)
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _coordinate(fields: Mapping, name: str, zh: str, problems: list[Problem]) -> float | None:
    value = _field(fields, name)
    if value is None:
        problems.append(Problem(name, f"缺少{zh} {name} (WGS84 度)", f"{name} is required (WGS84 degrees)"))
        return None
    try:
        if isinstance(value, bool):
            raise TypeError
        number = float(value)
    except (TypeError, ValueError):
        problems.append(Problem(name, f"{zh}应为数字(度)", f"{name} must be a number of degrees"))
        return None
    if not math.isfinite(number):
        problems.append(Problem(name, f"{zh}应为有限数字", f"{name} must be a finite number"))
        return None
    return number


def _text(fields: Mapping, name: str, problems: list[Problem]) -> str | None:
    value = _field(fields, name)
    if value is None:
        return None
    if not isinstance(value, str):
        problems.append(Problem(name, f"{name} 应为文本", f"{name} must be text"))
        return None
    return value


def _payload(fields: Mapping) -> tuple[dict, list[Problem]]:
    """The intake payload for an Open311 POST, and the problems only Open311 fields can have."""
    problems: list[Problem] = []
    code = _text(fields, "service_code", problems)
    if code is None and not any(p.field == "service_code" for p in problems):
        problems.append(Problem("service_code", "缺少服务类型 service_code", "service_code is required"))
    elif code is not None and len(code) > 16:
        problems.append(Problem("service_code", f"未知的服务类型 {code[:20]}", "unknown service_code"))
        code = None

    lat = _coordinate(fields, "lat", "纬度", problems)
    lng = _coordinate(fields, "long", "经度", problems)

    last, first = _text(fields, "last_name", problems), _text(fields, "first_name", problems)
    name = "".join(p for p in (last, first) if p) or None
    if name and len(name) > intake.MAX_NAME:
        problems.append(Problem("last_name/first_name", f"姓名不能超过 {intake.MAX_NAME} 字",
                                f"last_name and first_name together must be at most {intake.MAX_NAME} characters"))
        name = None
    phone = _text(fields, "phone", problems)
    if phone and not (len(phone) <= 20 and intake.PHONE.fullmatch(phone)):
        problems.append(Problem("phone", "电话号码格式不正确", "phone is not a phone number"))
        phone = None
    # email, device_id, account_id, media_url, attribute[…]: accepted and not kept

    payload = {
        "category": code or "-",  # a placeholder keeps intake checking the other fields
        "description": _field(fields, "description"),
        "address": _field(fields, "address_string"),
        "reporter_name": name,
        "reporter_phone": phone,
    }
    if lat is not None and lng is not None:
        payload["location"] = {"lng": lng, "lat": lat, "crs": "wgs84"}
    return payload, problems


def _intake_problems(exc: InvalidInputError, skip_location: bool) -> list[Problem]:
    out = []
    for e in exc.errors:
        if skip_location and e.field == "location":
            continue  # already said: lat/long missing or not numbers
        out.append(Problem(FIELDS.get(e.field, e.field), e.zh, e.en))
    return out


def _idempotency_key(client: ApiClient, raw: str | None) -> str | None:
    try:
        return intake.check_idempotency_key(raw, f"{IDEMPOTENCY_PREFIX}-{client.id}")
    except InvalidInputError as exc:
        raise _bad(_intake_problems(exc, False)) from exc


def create_request(db: Session, fields, idempotency_key: str | None, *,
                   near_m: float) -> tuple[dict, bool]:
    """Store an Open311 POST as a routed incident. Returns ``(answer, created)``; nothing is saved
    on any error (403 for the key, 400 for the rest, every field's reason at once)."""
    if not isinstance(fields, Mapping):
        raise _bad([Problem("body", "请求体应为表单或 JSON 对象", "the body must be a form or a JSON object")])
    client = authenticate(db, fields.get("api_key"))
    key = _idempotency_key(client, idempotency_key)
    payload, problems = _payload(fields)
    try:
        report = intake.parse_report(payload)
    except InvalidInputError as exc:
        problems += _intake_problems(exc, skip_location="location" not in payload)
        report = None
    if problems or report is None:
        raise _bad(problems)
    try:
        incident_id, created = intake.report_incident(
            db, report, source="open311", reporter_id=None, reporter_role="open311",
            idempotency_key=key, near_m=near_m,
        )
    except InvalidInputError as exc:
        db.rollback()
        unknown = [Problem("service_code", f"未知的服务类型 {report.category}",
                           f"unknown service_code {report.category!r}")
                   if e.field == "category" else Problem(FIELDS.get(e.field, e.field), e.zh, e.en)
                   for e in exc.errors]
        raise _bad(unknown) from exc
    stored = get_request(db, str(incident_id))
    answer = {
        "service_request_id": str(incident_id),
        "service_notice": _posted_notice(stored),
        "account_id": None,
    }
    return answer, created


def _posted_notice(stored: dict | None) -> str:
    if stored is None:
        return "已受理 / received"
    where_zh = f"已派往网格 {stored['grid_name']}({stored['grid_code']})" if stored["grid_code"] else \
        "不在任何网格内,由镇综治中心兜底"
    where_en = f"routed to grid {stored['grid_code']}" if stored["grid_code"] else \
        "outside every grid: the town center takes it"
    zh, en = stored["service_notice"].split(" / ", 1)
    return f"已受理,{where_zh};{zh} / received, {where_en}; {en}"
