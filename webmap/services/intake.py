"""Incident intake (seed 1-1): validate a report, convert its coordinates to WGS84, route it to
grid → worker → leader → village in PostGIS, give it its department and deadline, store it with its
first case event — all in one transaction. A resent report with the same idempotency key answers
the incident already stored and creates nothing."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Category, Department, Incident
from db.queries import query
from spatial.crs import CoordinateError, to_wgs84
from spatial.nearby import degrees_covering
from workflow import cases
from workflow.clock import SHANGHAI, WorkCalendar
from workflow.deadlines import STAND_IN, SYSTEM_ROLE

from . import events, settings, uploads
from .errors import FieldError, InvalidInputError
from .events import NOTIFY_CHANNEL, live_message
from .workdays import load_calendar

MAX_DESCRIPTION = 4000
MAX_ADDRESS = 200
MAX_PHOTOS = 9
MAX_NAME = 50
SHA256 = re.compile(r"[0-9a-f]{64}")
PHONE = re.compile(r"[0-9+\- ]{5,20}")
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9._:\-]{8,100}")




@dataclass(frozen=True)
class Report:
    category: str
    description: str
    lng: float  # WGS84
    lat: float
    raw_lng: float
    raw_lat: float
    crs: str
    address: str | None = None
    photos: tuple[str, ...] = ()
    reporter_name: str | None = None
    reporter_phone: str | None = None
    flags: tuple[str, ...] = field(default=())


def check_idempotency_key(key: str | None, namespace: str) -> str | None:
    """The stored form of a client's idempotency key: ``namespace:key``. Each client (an account,
    an Open311 client, the importer) has its own namespace, so no client can take another's key."""
    if key is None or key == "":
        return None
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise InvalidInputError([FieldError("Idempotency-Key", "幂等键应为 8–100 个字母、数字或 ._:-",
                                      "Idempotency-Key must be 8–100 letters, digits or ._:-")])
    return f"{namespace}:{key}"


def _text(payload: dict, name: str, limit: int, errors: list, zh: str, required: bool = False) -> str | None:
    return text_field(payload.get(name), name, limit, errors, zh, required)


def text_field(value, name: str, limit: int, errors: list, zh: str, required: bool = False) -> str | None:
    """A trimmed text value of at most ``limit`` characters, or None; problems go to ``errors``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors.append(FieldError(name, f"缺少{zh}", f"{name} is required"))
        return None
    if not isinstance(value, str):
        errors.append(FieldError(name, f"{zh}应为文本", f"{name} must be a string"))
        return None
    value = value.strip()
    if len(value) > limit:
        errors.append(FieldError(name, f"{zh}不能超过 {limit} 字", f"{name} must be at most {limit} characters"))
        return None
    return value


def parse_location(location, errors: list) -> tuple:
    """``{lng, lat, crs, accuracy_m}`` → ``(lng, lat)`` in WGS84, the raw ``(lng, lat)``, the CRS's
    name and the accuracy in metres (None when not given); each is None when refused, the reasons
    go to ``errors``. Shared by every entry that takes a phone's position (reports, visits)."""
    lng = lat = raw_lng = raw_lat = crs = accuracy = None
    if not isinstance(location, dict):
        errors.append(FieldError("location", "缺少位置 {lng, lat, crs}", "location {lng, lat, crs} is required"))
        return lng, lat, raw_lng, raw_lat, crs, accuracy
    crs = location.get("crs")
    try:
        lng, lat = to_wgs84(location.get("lng"), location.get("lat"), crs)
        raw_lng, raw_lat = float(location["lng"]), float(location["lat"])
        crs = crs.strip().lower()
    except CoordinateError as exc:
        errors.append(FieldError(exc.field, exc.zh, exc.en))
    accuracy = location.get("accuracy_m")
    if accuracy is not None and (isinstance(accuracy, bool) or not isinstance(accuracy, (int, float))
                                 or not math.isfinite(accuracy) or accuracy < 0):
        errors.append(FieldError("location.accuracy_m", "定位精度应为非负数(米)",
                                 "location.accuracy_m must be a non-negative number of metres"))
        accuracy = None
    return lng, lat, raw_lng, raw_lat, crs, float(accuracy) if accuracy is not None else None


def parse_report(payload: Any) -> Report:
    """Check a report's fields (all of them, so every reason is returned at once)."""
    if not isinstance(payload, dict):
        raise InvalidInputError([FieldError("body", "请求体应为 JSON 对象", "the body must be a JSON object")])
    errors: list[FieldError] = []
    category = _text(payload, "category", 16, errors, "事件类别", required=True)
    description = _text(payload, "description", MAX_DESCRIPTION, errors, "事件描述") or ""
    address = _text(payload, "address", MAX_ADDRESS, errors, "地址")
    reporter_name = _text(payload, "reporter_name", MAX_NAME, errors, "报告人姓名")
    reporter_phone = _text(payload, "reporter_phone", 20, errors, "报告人电话")
    if reporter_phone and not PHONE.fullmatch(reporter_phone):
        errors.append(FieldError("reporter_phone", "电话号码格式不正确", "reporter_phone is not a phone number"))

    lng, lat, raw_lng, raw_lat, crs, _accuracy = parse_location(payload.get("location"), errors)

    photos = payload.get("photos", [])
    if photos is None:
        photos = []
    if not isinstance(photos, list):
        errors.append(FieldError("photos", "photos 应为照片编号的列表", "photos must be a list of attachment ids"))
        photos = []
    elif len(photos) > MAX_PHOTOS:
        errors.append(FieldError("photos", f"照片最多 {MAX_PHOTOS} 张", f"at most {MAX_PHOTOS} photos"))
    else:
        for i, p in enumerate(photos):
            if not isinstance(p, str) or not SHA256.fullmatch(p):
                errors.append(FieldError(f"photos[{i}]", "照片编号应为上传后返回的 64 位编号",
                                         "each photo must be the id returned by POST /api/v1/attachments"))
    if errors:
        raise InvalidInputError(errors)
    return Report(
        category=category, description=description, lng=lng, lat=lat, raw_lng=raw_lng, raw_lat=raw_lat,
        crs=crs, address=address, photos=tuple(dict.fromkeys(photos)),
        reporter_name=reporter_name, reporter_phone=reporter_phone,
    )


def route_point(db: Session, lng: float, lat: float, near_m: float | None = None,
                today: date | None = None) -> dict | None:
    """The grid for a WGS84 point (see ``db/sql/route_point.sql``), or None outside every grid.
    ``near_m``: the near-boundary distance in metres (None: the setting, :func:`webmap.services.settings.near_boundary_m`);
    ``today`` (default: today in Asia/Shanghai): a grid worker on leave then, with a stand-in named,
    hands the case to the stand-in (``stand_in_leave_id``, ``absent_worker_*``)."""
    if near_m is None:
        near_m = settings.near_boundary_m(db)
    near_deg = degrees_covering(near_m, lat)  # for the index pre-filter
    today = today or datetime.now(SHANGHAI).date()
    row = db.execute(query("route_point"), {"lng": lng, "lat": lat, "near_m": near_m, "near_deg": near_deg,
                                            "today": today})
    row = row.mappings().first()
    return dict(row) if row else None


def _existing(db: Session, key: str) -> int | None:
    return db.execute(select(Incident.id).where(Incident.idempotency_key == key)).scalar()


def _category(db: Session, code: str):
    return db.execute(
        select(Category.id, Category.code, Category.name, Category.class_name, Category.name_en, Category.class_en,
               Category.kind, Category.self_handle,
               Category.time_limit, Category.time_unit, Category.department_id,
               Department.code.label("department_code"), Department.name.label("department_name"),
               Department.phone.label("department_phone"))
        .outerjoin(Department, Department.id == Category.department_id)
        .where(Category.code == code)
    ).first()


def _note_stand_in(db: Session, incident_id: int, route: dict, now: datetime) -> None:
    """The case event of a new case that went to the stand-in of a worker on leave."""
    note = (f"网格员 {route['absent_worker_name']} 请假 ({route['leave_start']:%m-%d}–{route['leave_end']:%m-%d}), "
            f"由 {route['worker_name']} 顶岗负责")
    events.record_event(db, incident_id, STAND_IN, at=now, role=SYSTEM_ROLE, from_state=cases.REPORTED,
                        to_state=cases.REPORTED, note=note,
                        data={"leave_id": route["stand_in_leave_id"], "absent_worker_id": route["absent_worker_id"],
                              "stand_in_id": route["worker_id"]})


def report_incident(
    db: Session,
    report: Report,
    *,
    source: str,
    reporter_id: int | None,
    reporter_role: str,
    idempotency_key: str | None,
    near_m: float | None = None,
    calendar: WorkCalendar | None = None,
    now: datetime | None = None,
    commit: bool = True,
) -> tuple[int, SimpleNamespace | None]:
    """Store a report as a routed incident; commits (``commit=False``: the caller's transaction
    goes on, and commits it with its own records, e.g. the visit that found the problem). Returns the
    incident id and, when it was created now, its detail row (the columns of
    ``incidents.detail_select``); None when the idempotency key was already stored.

    Four round trips: the category, the route, one statement that inserts the incident and its
    first event and notifies live listeners (``db/sql/insert_incident.sql``), and the commit.
    """
    category = _category(db, report.category)
    errors = []
    if category is None:
        errors.append(FieldError("category", f"未知的事件类别 {report.category}", f"unknown category {report.category!r}"))
    if report.photos:
        found = uploads.stored(db, report.photos)
        for i, p in enumerate(report.photos):
            if p not in found:
                errors.append(FieldError(f"photos[{i}]", "照片未上传或编号错误", "no uploaded photo has this id"))
    if errors:
        raise InvalidInputError(errors)

    now = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI)
    route = route_point(db, report.lng, report.lat, near_m, now.date())
    flags = list(report.flags)
    if route is None:
        flags.append("outside_grids")  # 属地兜底: the town center's unassigned queue
    elif route["how"] == "near":
        flags.append("near_boundary")
    if report.crs in ("gcj02", "bd09"):
        flags.append(f"converted_from_{report.crs}")
    if calendar is None:
        calendar = load_calendar(db)
    deadline = calendar.add(now, category.time_limit, category.time_unit)
    route = route or {}
    # what live listeners get (the statement fills in the id and the case number)
    message = live_message(
        id=None, case_no=None, event="reported", at=now, state="待受理", grid_code=route.get("grid_code"),
        village_code=route.get("village_code"), department_id=category.department_id,
        department=category.department_code, dispatched_at=None, reporter_id=reporter_id,
        category=category.name, lng=report.lng, lat=report.lat, reported_at=now, deadline=deadline,
        version=1, flags=flags)
    row = db.execute(query("insert_incident"), {
        "day": f"{now:%Y%m%d}",
        "lng": report.lng, "lat": report.lat,
        "raw_lng": report.raw_lng, "raw_lat": report.raw_lat, "raw_crs": report.crs,
        "source": source, "category_id": category.id,
        "description": report.description, "address": report.address,
        "grid_id": route.get("grid_id"), "grid_code": route.get("grid_code"),
        "village_code": route.get("village_code"),
        "worker_id": route.get("worker_id"), "leader_id": route.get("leader_id"),
        "department_id": category.department_id,
        "reporter_id": reporter_id, "reporter_role": reporter_role,
        "reporter_name": report.reporter_name, "reporter_phone": report.reporter_phone,
        "flags": flags, "reported_at": now, "deadline": deadline,
        "idempotency_key": idempotency_key, "photos": list(report.photos),
        "distance_m": round(route["distance_m"], 1) if route.get("how") == "near" else None,
        "event_data": json.dumps({"photos": list(report.photos), "flags": flags, "raw_crs": report.crs}),
        "channel": NOTIFY_CHANNEL,
        "message": json.dumps(message, ensure_ascii=False),
    }).first()
    if row is None:  # the same idempotency key is already stored: answer that incident
        if commit:
            db.rollback()
        return _existing(db, idempotency_key), None
    if route.get("stand_in_leave_id") is not None:
        _note_stand_in(db, row.id, route, now)
    if commit:
        db.commit()
    return row.id, SimpleNamespace(
        id=row.id, case_no=row.case_no, description=report.description, address=report.address,
        raw_lng=report.raw_lng, raw_lat=report.raw_lat, raw_crs=report.crs, source=source, state="待受理",
        deadline=deadline, reported_at=now, closed_at=None, flags=flags,
        distance_m=round(route["distance_m"], 1) if route.get("how") == "near" else None,
        photos=list(report.photos), reporter_name=report.reporter_name, reporter_phone=report.reporter_phone,
        version=1, synthetic=False, grid_code=route.get("grid_code"), department_id=category.department_id,
        tier="village" if route.get("grid_code") else "town", extension_pending=False,
        reporter_id=reporter_id, dispatched_at=None, rework_count=0, return_count=0, satisfaction=None,
        cat_self_handle=category.self_handle,
        lng=report.lng, lat=report.lat, cat_code=category.code, cat_name=category.name,
        cat_dept_code=category.department_code,
        cat_class=category.class_name, cat_name_en=category.name_en,
        cat_class_en=category.class_en, cat_kind=category.kind, time_limit=category.time_limit,
        time_unit=category.time_unit, grid_name=route.get("grid_name"), grid_version=route.get("grid_version"),
        village_code=route.get("village_code"), village_name=route.get("village_name"),
        worker_name=route.get("worker_name"), worker_phone=route.get("worker_phone"),
        leader_name=route.get("leader_name"), leader_phone=route.get("leader_phone"),
        dept_code=category.department_code, dept_name=category.department_name,
        dept_phone=category.department_phone,
    )
