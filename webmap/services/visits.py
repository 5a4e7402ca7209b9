"""Daily visits (日走访, seed 5-1 ③; 入户走访, seed 7-2 §2) and the register of the grids' buildings and
households (门牌, :class:`db.models.AddressPoint`).

- :func:`record`: a grid worker's visit to a household of their grid from the phone, once per
  idempotency key (a resend answers the visit already stored). The position is converted to WGS84
  (:func:`spatial.crs.to_wgs84`) and checked in PostGIS against the worker's grid and the household's
  point (:func:`workflow.visits.flags_for`). "发现问题 → 上报": ``problem`` reports ONE incident through
  the intake service (:func:`webmap.services.intake.report_incident`, source ``grid_worker``, the
  worker as reporter) in the same transaction as the visit, with the key ``visit:<the visit's key>``.
- :func:`listing`, :func:`coverage`: the visits of a month and the share of each grid's households
  visited in it (each household once however often visited; ``db/sql/visit_coverage.sql``).
- :func:`households`: a grid's register (nearest first from a position), for the phone's picker.
- :func:`import_register` / :func:`register_xlsx`: the village's or the town's clerk keeps the
  register as a spreadsheet (CSV or Excel: 地址, 户数, 经度, 纬度, 坐标系, 停用): the export is the form
  to fill in, the import adds and updates rows by (grid, 地址), all or nothing.

Who reads what: a worker their own grid, a village's leader their village, the town's and the
district's roles with ``read_visits`` their area (:func:`visible`).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from sqlalchemy import and_, false, func, or_, select, text, true
from sqlalchemy.orm import Session

from db.models import AddressPoint, Category, Grid, Incident, Person, Visit
from db.queries import query
from spatial.crs import CoordinateError, to_wgs84
from workflow import roles
from workflow import visits as rules
from workflow.clock import SHANGHAI, format_iso

from . import intake, uploads
from .errors import (
    FieldError,
    ForbiddenError,
    InvalidInputError,
    InvalidParametersError,
)

MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
CODE = re.compile(r"\d{6}(\d{3}(\d{3}(\d{3})?)?)?")  # a district, town, village or grid code
DEFAULT_PAGE, MAX_PAGE = 100, 500
MAX_REGISTER = 2000  # address points in one answer (a grid holds about 300 households)
MAX_IMPORT_ROWS = 20_000
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# the register's spreadsheet: column → the headers it is known by
COLUMNS = {
    "grid_code": ("网格编码", "grid_code", "grid"),
    "address": ("地址", "门牌", "门牌地址", "address"),
    "households": ("户数", "households"),
    "lng": ("经度", "lng", "lon", "longitude"),
    "lat": ("纬度", "lat", "latitude"),
    "crs": ("坐标系", "crs"),
    "retired": ("停用", "retired"),
}
HEADERS = ("网格编码", "网格名称", "地址", "户数", "经度", "纬度", "坐标系", "停用")
YES = {"是", "y", "yes", "true", "1", "停用"}
NO = {"", "否", "n", "no", "false", "0"}


class VisitInputError(InvalidInputError):
    CODE = "VisitRejected"
    LEAD = ("走访未保存", "the visit was not saved")


class RegisterInputError(InvalidInputError):
    CODE = "RegisterRejected"
    LEAD = ("门牌登记未导入", "the register was not imported")


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI)


def _month(raw, now: datetime) -> tuple[date, datetime, datetime]:
    """``YYYY-MM`` (default: this month in Asia/Shanghai) → its first day and [start, end)."""
    if raw in (None, ""):
        first = now.date().replace(day=1)
    else:
        match = MONTH.fullmatch(raw) if isinstance(raw, str) else None
        if match is None:
            raise InvalidParametersError([FieldError("month", "月份应为 YYYY-MM, 如 2026-12",
                                                     "month must be YYYY-MM, e.g. 2026-12")])
        first = date(int(match.group(1)), int(match.group(2)), 1)
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, datetime.combine(first, time.min, SHANGHAI), datetime.combine(nxt, time.min, SHANGHAI)


# ---------------------------------------------------------------- scope


def _readable(user) -> None:
    if not (roles.has_permission(user.role, "record_visits") or roles.has_permission(user.role, "read_visits")):
        raise ForbiddenError("此角色不能查看走访", "this role does not read the visits")


def _prefix(user, asked: str | None, name: str = "grid") -> str:
    """The code prefix the user reads: the one asked (a grid, village or town code within the
    user's area) or the user's whole area (a worker: their grid)."""
    own = user.scope_code or ""
    if user.role == "department":
        raise ForbiddenError("此角色不能查看走访", "this role does not read the visits")
    if asked in (None, ""):
        return own
    if not isinstance(asked, str) or not CODE.fullmatch(asked):
        raise InvalidParametersError([FieldError(name, "应为 12 位村编码或 15 位网格编码",
                                                 "a village code of 12 digits or a grid code of 15")])
    if not (asked.startswith(own) or roles.has_permission(user.role, "see_all_areas")):
        raise ForbiddenError(f"{asked} 不在您的管辖范围内", f"{asked} is outside your area")
    return asked


def visible(user):
    """Which visits this account may read, as a SQL condition (a worker: their grid's and their own;
    a leader: their village's; the town's and the district's readers: their area)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return false()
    if roles.has_permission(user.role, "see_all_areas"):
        return true()
    if not (roles.has_permission(user.role, "record_visits") or roles.has_permission(user.role, "read_visits")):
        return Visit.account_id == user.id
    return or_(Visit.grid_code.startswith(user.scope_code or "", autoescape=True), Visit.account_id == user.id)


# ---------------------------------------------------------------- one visit


@dataclass(frozen=True)
class _Parsed:
    household: int
    lng: float
    lat: float
    raw_lng: float
    raw_lat: float
    crs: str
    accuracy_m: float | None
    note: str
    photos: tuple[str, ...]
    problem: tuple[str, str] | None  # (category, description)


def _parse(body) -> _Parsed:
    if not isinstance(body, dict):
        raise VisitInputError([FieldError("body", "请求体应为 JSON 对象", "the body must be a JSON object")])
    errors: list[FieldError] = []
    household = body.get("household")
    if isinstance(household, dict):
        household = household.get("id")
    if isinstance(household, str) and household.isdigit():
        household = int(household)
    if not isinstance(household, int) or isinstance(household, bool) or household <= 0:
        errors.append(FieldError("household", "请选择走访的门牌 (住户)", "household: the id of an address point"))
    lng, lat, raw_lng, raw_lat, crs, accuracy = intake.parse_location(body.get("location"), errors)
    note = intake.text_field(body.get("note"), "note", rules.MAX_NOTE, errors, "走访情况") or ""
    photos = body.get("photos") or []
    if not isinstance(photos, list) or len(photos) > rules.MAX_PHOTOS:
        errors.append(FieldError("photos", f"photos 应为至多 {rules.MAX_PHOTOS} 个照片编号的列表",
                                 f"photos: a list of at most {rules.MAX_PHOTOS} attachment ids"))
        photos = []
    for i, p in enumerate(photos):
        if not isinstance(p, str) or not intake.SHA256.fullmatch(p):
            errors.append(FieldError(f"photos[{i}]", "照片编号应为上传后返回的 64 位编号",
                                     "each photo must be the id returned by POST /api/v1/attachments"))
    problem = body.get("problem")
    found = None
    if problem is not None:
        if not isinstance(problem, dict):
            errors.append(FieldError("problem", "problem 应为 {category, description}",
                                     "problem must be {category, description}"))
        else:
            category = intake.text_field(problem.get("category"), "problem.category", 16, errors, "问题类别",
                                         required=True)
            description = intake.text_field(problem.get("description"), "problem.description",
                                            intake.MAX_DESCRIPTION, errors, "问题描述", required=True)
            found = (category, description)
    if errors:
        raise VisitInputError(errors)
    return _Parsed(household, lng, lat, raw_lng, raw_lat, crs, accuracy, note, tuple(dict.fromkeys(photos)), found)


def _check_refs(db: Session, user, parsed: _Parsed) -> AddressPoint:
    """The household (an active 门牌 of the worker's grid), the photos and the problem's category."""
    errors = []
    point = db.get(AddressPoint, parsed.household)
    if point is None or not point.active:
        errors.append(FieldError("household", "没有这个门牌 (或已停用)", "no such address point (or it is retired)"))
    elif point.grid_code != user.scope_code:
        errors.append(FieldError("household", "该门牌不在您的网格", "this address point is not in your grid"))
    if parsed.photos:
        stored = uploads.stored(db, parsed.photos)
        errors += [FieldError(f"photos[{i}]", "照片未上传或编号错误", "no uploaded photo has this id")
                   for i, p in enumerate(parsed.photos) if p not in stored]
    if parsed.problem and db.execute(select(Category.id).where(Category.code == parsed.problem[0])).first() is None:
        errors.append(FieldError("problem.category", f"未知的事件类别 {parsed.problem[0]}",
                                 f"unknown category {parsed.problem[0]!r}"))
    if errors:
        raise VisitInputError(errors)
    return point


def _existing(db: Session, key: str | None) -> Visit | None:
    if key is None:
        return None
    return db.execute(select(Visit).where(Visit.idempotency_key == key)).scalar_one_or_none()


def record(db: Session, user, body, idempotency_key: str | None, *, near_m: float | None = None,
           now: datetime | None = None) -> tuple[dict, bool]:
    """Store a visit (``record_visits``: a grid worker, to a household of their grid); commits. Returns
    the visit and whether it was created now (False: the key's visit, already stored)."""
    if not roles.has_permission(user.role, "record_visits"):
        raise ForbiddenError("只有专职网格员记录入户走访", "only grid workers record household visits")
    key = intake.check_idempotency_key(idempotency_key, f"u{user.id}")
    found = _existing(db, key)
    if found is not None:
        return _serialize_all(db, [found])[0], False
    parsed = _parse(body)
    point = _check_refs(db, user, parsed)
    now = _now(now)
    if key is not None:  # two sends of one key at once: the second waits, then finds the first
        db.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 19))"), {"k": key})
        found = _existing(db, key)
        if found is not None:
            db.rollback()
            return _serialize_all(db, [found])[0], False
    outside_m, household_m = db.execute(text("""
        SELECT (SELECT ST_Distance(g.geom::geography, p.geom::geography) FROM grids g
                 WHERE g.code = :grid AND g.valid_to IS NULL),
               ST_Distance(a.geom::geography, p.geom::geography)
          FROM address_points a, (SELECT ST_SetSRID(ST_MakePoint(:lng, :lat), 4326) AS geom) p
         WHERE a.id = :id"""), {"grid": user.scope_code, "lng": parsed.lng, "lat": parsed.lat,
                                "id": point.id}).one()
    flags = rules.flags_for(outside_m=outside_m, household_m=household_m, accuracy_m=parsed.accuracy_m,
                            crs=parsed.crs)
    incident_id = None
    if parsed.problem:
        report = intake.Report(category=parsed.problem[0], description=parsed.problem[1], lng=parsed.lng,
                               lat=parsed.lat, raw_lng=parsed.raw_lng, raw_lat=parsed.raw_lat, crs=parsed.crs,
                               address=point.address, photos=parsed.photos)
        incident_id, _row = intake.report_incident(
            db, report, source="grid_worker", reporter_id=user.id, reporter_role=user.role,
            idempotency_key=f"visit:{key}" if key else None, near_m=near_m, now=now, commit=False)
    person_id = db.execute(text("SELECT person_id FROM accounts WHERE id = :a"), {"a": user.id}).scalar()
    visit = Visit(address_id=point.id, grid_code=point.grid_code, account_id=user.id, worker_id=person_id,
                  visited_at=now, geom=f"SRID=4326;POINT({parsed.lng} {parsed.lat})", raw_lng=parsed.raw_lng,
                  raw_lat=parsed.raw_lat, raw_crs=parsed.crs, accuracy_m=parsed.accuracy_m,
                  outside_m=round(outside_m, 1) if outside_m is not None else None,
                  household_m=round(household_m, 1) if household_m is not None else None,
                  note=parsed.note, photos=list(parsed.photos), flags=flags, incident_id=incident_id,
                  idempotency_key=key)
    db.add(visit)
    db.commit()
    return _serialize_all(db, [visit])[0], True


def _serialize_all(db: Session, found: list[Visit]) -> list[dict]:
    if not found:
        return []
    points = {p.id: p for p in db.execute(select(AddressPoint).where(
        AddressPoint.id.in_({v.address_id for v in found}))).scalars()}
    people = {p.id: p.name for p in db.execute(select(Person).where(
        Person.id.in_({v.worker_id for v in found if v.worker_id}))).scalars()}
    cases = {r.id: r for r in db.execute(select(Incident.id, Incident.case_no, Incident.state).where(
        Incident.id.in_({v.incident_id for v in found if v.incident_id})))}
    grids = dict(db.execute(select(Grid.code, Grid.name).where(Grid.valid_to.is_(None),
                                                                Grid.code.in_({v.grid_code for v in found}))).all())
    xy = {r.id: (r.x, r.y) for r in db.execute(select(Visit.id, func.ST_X(Visit.geom).label("x"),
                                                      func.ST_Y(Visit.geom).label("y"))
                                               .where(Visit.id.in_([v.id for v in found])))}
    out = []
    for v in found:
        point, case = points.get(v.address_id), cases.get(v.incident_id)
        lng, lat = xy.get(v.id, (None, None))
        out.append({
            "id": v.id, "visited_at": format_iso(v.visited_at), "grid_code": v.grid_code,
            "grid_name": grids.get(v.grid_code),
            "household": {"id": v.address_id, "address": point.address if point else None,
                          "households": point.households if point else None},
            "worker": {"id": v.worker_id, "name": people.get(v.worker_id)},
            "location": {"lng": lng, "lat": lat, "crs": "wgs84"},
            "raw": {"lng": v.raw_lng, "lat": v.raw_lat, "crs": v.raw_crs}, "accuracy_m": v.accuracy_m,
            "outside_m": v.outside_m, "household_m": v.household_m, "note": v.note, "photos": list(v.photos or []),
            "flags": list(v.flags or []),
            "flag_labels": [{"code": f, "zh": rules.FLAGS.get(f, (f, f))[0], "en": rules.FLAGS.get(f, (f, f))[1]}
                            for f in v.flags or []],
            "incident": {"id": case.id, "case_no": case.case_no, "state": case.state} if case else None,
        })
    return out


# ---------------------------------------------------------------- reading


def listing(db: Session, user, args, now: datetime | None = None) -> dict:
    """``?grid=|village=&month=YYYY-MM&flagged=1&limit=&offset=``: the month's visits within scope,
    newest first."""
    _readable(user)
    first, a, b = _month(args.get("month"), _now(now))
    prefix = _prefix(user, args.get("grid") or args.get("village"))
    limit, offset = _page(args)
    where = and_(visible(user), Visit.visited_at >= a, Visit.visited_at < b,
                 Visit.grid_code.startswith(prefix, autoescape=True))
    if args.get("flagged") in ("1", "true"):
        where = and_(where, Visit.flags != [])
    total = db.execute(select(func.count()).select_from(Visit).where(where)).scalar()
    found = db.execute(select(Visit).where(where).order_by(Visit.visited_at.desc(), Visit.id.desc())
                       .limit(limit).offset(offset)).scalars().all()
    return {"month": f"{first:%Y-%m}", "scope": prefix, "items": _serialize_all(db, list(found)), "total": total,
            "limit": limit, "offset": offset, "max_limit": MAX_PAGE}


def _page(args) -> tuple[int, int]:
    errors = []
    values = {}
    for name, default in (("limit", DEFAULT_PAGE), ("offset", 0)):
        raw = args.get(name)
        if raw in (None, ""):
            values[name] = default
        elif not str(raw).isdigit() or (name == "limit" and int(raw) < 1):
            errors.append(FieldError(name, f"{name} 应为{'正' if name == 'limit' else '非负'}整数",
                                     f"{name} must be a {'positive' if name == 'limit' else 'non-negative'} integer"))
        else:
            values[name] = int(raw)
    if errors:
        raise InvalidParametersError(errors)
    return min(values["limit"], MAX_PAGE), values["offset"]


def grid_coverage(db: Session, a: datetime, b: datetime, prefix: str = "") -> list[dict]:
    """Each current grid under ``prefix`` with its households and those visited in [a, b)."""
    rows = db.execute(query("visit_coverage"), {"a": a, "b": b, "prefix": prefix}).mappings().all()
    return [{**r, "coverage": rules.coverage(r["visited_households"], r["households"])} for r in rows]


def coverage(db: Session, user, args, now: datetime | None = None) -> dict:
    """``?month=YYYY-MM&village=|grid=``: per grid of the user's area the share of its households
    visited in the month (a household once however often visited), and the totals."""
    _readable(user)
    first, a, b = _month(args.get("month"), _now(now))
    prefix = _prefix(user, args.get("grid") or args.get("village"))
    items = grid_coverage(db, a, b, prefix)
    keys = ("addresses", "households", "visited_addresses", "visited_households", "visits", "flagged")
    totals = {k: sum(i[k] for i in items) for k in keys}
    totals["coverage"] = rules.coverage(totals["visited_households"], totals["households"])
    return {"month": f"{first:%Y-%m}", "scope": prefix, "items": items, "totals": totals,
            "grids": len(items), "target": rules.COVERAGE_TARGET}


def households(db: Session, user, args, now: datetime | None = None) -> dict:
    """``?grid=&q=&near=lng,lat`` (WGS84): the register of a grid (a worker: their own), nearest first
    when ``near`` is given, with whether each was visited this month."""
    _readable(user)
    grid = args.get("grid") or (user.scope_code if len(user.scope_code or "") == 15 else None)
    if not grid:
        raise InvalidParametersError([FieldError("grid", "请指定 15 位网格编码", "grid: a grid code of 15 digits")])
    prefix = _prefix(user, grid)
    if len(prefix) != 15:
        raise InvalidParametersError([FieldError("grid", "请指定 15 位网格编码", "grid: a grid code of 15 digits")])
    _first, a, b = _month(None, _now(now))
    near = args.get("near")
    point = None
    if near:
        try:
            lng, lat = (float(x) for x in near.split(","))
            if not (-180 <= lng <= 180 and -90 <= lat <= 90):
                raise ValueError
            point = func.ST_SetSRID(func.ST_MakePoint(lng, lat), 4326)
        except ValueError:
            raise InvalidParametersError([FieldError("near", "near 应为 经度,纬度 (WGS84)",
                                                     "near must be lng,lat (WGS84)")]) from None
    last = (select(func.max(Visit.visited_at)).where(Visit.address_id == AddressPoint.id, Visit.visited_at >= a,
                                                     Visit.visited_at < b).scalar_subquery())
    distance = (func.ST_Distance(func.Geography(AddressPoint.geom), func.Geography(point)) if point is not None
                else None)
    columns = [AddressPoint.id, AddressPoint.address, AddressPoint.households, func.ST_X(AddressPoint.geom),
               func.ST_Y(AddressPoint.geom), last.label("last"), (distance if distance is not None else text("NULL"))]
    stmt = select(*columns).where(AddressPoint.grid_code == prefix, AddressPoint.active)
    q = args.get("q")
    if q:
        stmt = stmt.where(AddressPoint.address.contains(q[:50], autoescape=True))
    stmt = stmt.order_by(distance if distance is not None else AddressPoint.address, AddressPoint.id).limit(MAX_REGISTER)
    items = [{"id": r[0], "address": r[1], "households": r[2], "lng": r[3], "lat": r[4],
              "visited_at": format_iso(r[5]), "distance_m": round(r[6], 1) if r[6] is not None else None}
             for r in db.execute(stmt)]
    return {"grid": prefix, "items": items}


# ---------------------------------------------------------------- the register as a spreadsheet


def _editable_prefix(user) -> str:
    if not roles.has_permission(user.role, "edit_households"):
        raise ForbiddenError("只有村网格长和镇综治中心维护门牌登记", "only the village's leader and the town's centre keep the register")
    return "" if roles.has_permission(user.role, "see_all_areas") else (user.scope_code or "")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _rows(filename: str, data: bytes) -> list[dict]:
    """The spreadsheet's rows as {column: text}, with the sheet's row number (the header is row 1)."""
    suffix = Path(filename or "").suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            from openpyxl import load_workbook

            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
            table = [[_cell(c) for c in row] for row in sheet.iter_rows(values_only=True)]
        elif suffix in (".csv", ".txt", ""):
            for encoding in ("utf-8-sig", "gb18030"):
                try:
                    decoded = data.decode(encoding)
                    break
                except UnicodeDecodeError:
                    continue
            else:
                raise ValueError("encoding")
            table = [[c.strip() for c in row] for row in csv.reader(io.StringIO(decoded))]
        else:
            raise RegisterInputError([FieldError("file", "请上传 CSV 或 Excel (.xlsx) 文件",
                                                 "upload a CSV or an Excel (.xlsx) file")], status=400)
    except RegisterInputError:
        raise
    except Exception:  # a damaged file: openpyxl and csv raise many kinds
        raise RegisterInputError([FieldError("file", "文件无法读取", "the file cannot be read")], status=400) from None
    if not table:
        raise RegisterInputError([FieldError("file", "文件是空的", "the file is empty")], status=400)
    lookup = {alias.lower(): name for name, aliases in COLUMNS.items() for alias in aliases}
    index = {}
    for n, header in enumerate(table[0]):
        name = lookup.get(header.strip().lower())
        if name and name not in index:
            index[name] = n
    missing = [COLUMNS[c][0] for c in ("address", "lng", "lat") if c not in index]
    if missing:
        raise RegisterInputError([FieldError("file", f"缺少列: {'、'.join(missing)}",
                                             f"missing columns: {', '.join(missing)}")], status=400)
    if len(table) - 1 > MAX_IMPORT_ROWS:
        raise RegisterInputError([FieldError("file", f"一次最多导入 {MAX_IMPORT_ROWS} 行",
                                             f"at most {MAX_IMPORT_ROWS} rows at a time")], status=400)
    out = []
    for n, row in enumerate(table[1:], start=2):
        if not any(row):
            continue
        out.append({"row": n, **{name: (row[i] if i < len(row) else "") for name, i in index.items()}})
    return out


def import_register(db: Session, user, filename: str, data: bytes, now: datetime | None = None) -> dict:
    """Add and update address points from a spreadsheet (``edit_households``; a leader within their
    village), all or nothing: every bad row is listed (422) and nothing is written. A row is matched
    by (grid, 地址); its grid is the current grid that covers its point (网格编码, when given, must
    agree). Commits."""
    prefix = _editable_prefix(user)
    rows = _rows(filename, data)
    if not rows:
        raise RegisterInputError([FieldError("file", "文件中没有数据行", "the file has no rows")], status=400)
    errors: list[FieldError] = []
    parsed = []
    seen: dict[tuple[str, str], int] = {}
    for r in rows:
        where = f"第 {r['row']} 行"
        before = len(errors)
        address = r.get("address", "")
        if not address:
            errors.append(FieldError(f"row {r['row']}: 地址", f"{where}: 缺少地址", f"row {r['row']}: the address is missing"))
        elif len(address) > rules.MAX_ADDRESS:
            errors.append(FieldError(f"row {r['row']}: 地址", f"{where}: 地址最多 {rules.MAX_ADDRESS} 字",
                                     f"row {r['row']}: the address is at most {rules.MAX_ADDRESS} characters"))
        raw_households = r.get("households", "") or "1"
        households_n = int(raw_households) if raw_households.isdigit() else None
        if households_n is None or not 1 <= households_n <= rules.MAX_HOUSEHOLDS:
            errors.append(FieldError(f"row {r['row']}: 户数", f"{where}: 户数应为 1–{rules.MAX_HOUSEHOLDS} 的整数",
                                     f"row {r['row']}: households is a whole number 1–{rules.MAX_HOUSEHOLDS}"))
        try:
            lng, lat = to_wgs84(_number(r.get("lng")), _number(r.get("lat")), r.get("crs") or "wgs84")
        except CoordinateError as exc:
            errors.append(FieldError(f"row {r['row']}: {exc.field}", f"{where}: {exc.zh}", f"row {r['row']}: {exc.en}"))
            lng = lat = None
        retired = (r.get("retired") or "").strip().lower()
        if retired not in YES | NO:
            errors.append(FieldError(f"row {r['row']}: 停用", f"{where}: 停用应填 是 或 否", f"row {r['row']}: retired is 是 or 否"))
        if len(errors) == before:
            parsed.append({"row": r["row"], "address": address, "households": households_n, "lng": lng, "lat": lat,
                           "grid_code": r.get("grid_code") or None, "active": retired not in YES})
    located = _locate(db, [(p["lng"], p["lat"]) for p in parsed])
    for p, grid in zip(parsed, located, strict=True):
        where = f"第 {p['row']} 行"
        if grid is None:
            errors.append(FieldError(f"row {p['row']}: 经度", f"{where}: 位置不在任何网格内",
                                     f"row {p['row']}: the point lies in no grid"))
        elif p["grid_code"] and p["grid_code"] != grid:
            errors.append(FieldError(f"row {p['row']}: 网格编码", f"{where}: 位置在网格 {grid}, 与网格编码 {p['grid_code']} 不符",
                                     f"row {p['row']}: the point lies in grid {grid}, not {p['grid_code']}"))
        elif not grid.startswith(prefix):
            errors.append(FieldError(f"row {p['row']}: 网格编码", f"{where}: 网格 {grid} 不在您的管辖范围内",
                                     f"row {p['row']}: grid {grid} is outside your area"))
        elif (grid, p["address"]) in seen:
            errors.append(FieldError(f"row {p['row']}: 地址", f"{where}: 与第 {seen[grid, p['address']]} 行地址重复",
                                     f"row {p['row']}: the same address as row {seen[grid, p['address']]}"))
        else:
            seen[grid, p["address"]] = p["row"]
            p["grid_code"] = grid
    if errors:
        raise RegisterInputError(errors)
    now = _now(now)
    stored = {(a.grid_code, a.address): a for a in db.execute(select(AddressPoint).where(
        AddressPoint.grid_code.in_({p["grid_code"] for p in parsed}))).scalars()}
    added = updated = retired_n = 0
    for p in parsed:
        geom = f"SRID=4326;POINT({p['lng']} {p['lat']})"
        point = stored.get((p["grid_code"], p["address"]))
        if point is None:
            db.add(AddressPoint(grid_code=p["grid_code"], address=p["address"], households=p["households"], geom=geom,
                                active=p["active"], updated_by=user.id, updated_at=now))
            added += 1
        else:
            retired_n += point.active and not p["active"]
            point.households, point.geom, point.active = p["households"], geom, p["active"]
            point.updated_by, point.updated_at = user.id, now
            updated += 1
    db.commit()
    return {"rows": len(parsed), "added": added, "updated": updated, "retired": retired_n,
            "grids": sorted({p["grid_code"] for p in parsed})}


def _number(raw):
    try:
        return float(raw) if raw not in (None, "") else None
    except ValueError:
        return raw


def _locate(db: Session, points: list[tuple[float, float]]) -> list[str | None]:
    """The current grid covering each WGS84 point (the lowest code on a shared edge), in one query."""
    if not points:
        return []
    rows = db.execute(text("""
        SELECT p.n, (SELECT g.code FROM grids g
                      WHERE g.valid_to IS NULL AND ST_Covers(g.geom, ST_SetSRID(ST_MakePoint(p.lng, p.lat), 4326))
                      ORDER BY g.code LIMIT 1)
          FROM unnest(CAST(:lngs AS float8[]), CAST(:lats AS float8[])) WITH ORDINALITY AS p(lng, lat, n)"""),
        {"lngs": [x for x, _ in points], "lats": [y for _, y in points]}).all()
    found = dict(rows)
    return [found.get(n) for n in range(1, len(points) + 1)]


def register_xlsx(db: Session, user, args) -> bytes:
    """The register of the user's area (or ``village``/``grid``) as the spreadsheet the import reads."""
    _readable(user)
    prefix = _prefix(user, args.get("grid") or args.get("village"))
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "门牌登记"
    sheet.append(HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    rows = db.execute(select(AddressPoint.grid_code, Grid.name, AddressPoint.address, AddressPoint.households,
                             func.ST_X(AddressPoint.geom), func.ST_Y(AddressPoint.geom), AddressPoint.active)
                      .outerjoin(Grid, and_(Grid.code == AddressPoint.grid_code, Grid.valid_to.is_(None)))
                      .where(AddressPoint.grid_code.startswith(prefix, autoescape=True))
                      .order_by(AddressPoint.grid_code, AddressPoint.id))
    for code, name, address, n, lng, lat, active in rows:
        sheet.append([code, name, address, n, round(lng, 7), round(lat, 7), "wgs84", "" if active else "是"])
    for column, width in zip("ABCDEFGH", (18, 16, 28, 6, 13, 12, 8, 6), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
