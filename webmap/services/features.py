"""Feature collections for OGC API – Features and the map: villages, grids, incidents.

Geometry leaves as GeoJSON in CRS84 (lon, lat), built by PostGIS. Every query is bounded by a limit;
filters are SQLAlchemy Core expressions with bound parameters.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from geoalchemy2 import functions as gf
from sqlalchemy import Numeric, Select, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from db.models import Area, Category, Department, Grid, GridAssignment, Incident, Person, Setting
from workflow.clock import SHANGHAI, format_iso

from . import scope as scopes
from .errors import BadRequestError

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


class FeatureQueryError(BadRequestError):
    """A malformed bbox, datetime, limit or offset (400). ``param`` names it."""

    def __init__(self, param: str, zh: str, en: str):
        super().__init__(zh, en, param=param)

    @property
    def param(self) -> str:
        return self.details["param"]


@dataclass(frozen=True)
class Interval:
    start: datetime | None
    end: datetime | None
    instant: bool


@dataclass(frozen=True)
class Collection:
    id: str
    title_zh: str
    title_en: str
    description: str
    public: bool
    temporal: bool
    build: Callable[..., Select]  # (user, interval) → select with geojson, fid, props
    item_filter: Callable[[str], Any]  # fid → where clause, or raises FeatureQueryError


# ---------------------------------------------------------------- parsing


def parse_bbox(raw: str | None) -> tuple[float, float, float, float] | None:
    """``minLon,minLat,maxLon,maxLat`` (or six numbers with heights) in CRS84."""
    if raw is None or raw == "":
        return None
    parts = raw.split(",")
    try:
        nums = [float(p) for p in parts]
    except ValueError as exc:
        raise FeatureQueryError("bbox", "bbox 必须是逗号分隔的数字", "bbox must be comma-separated numbers") from exc
    if len(nums) == 6:
        nums = [nums[0], nums[1], nums[3], nums[4]]
    if len(nums) != 4:
        raise FeatureQueryError("bbox", "bbox 需要 4 个或 6 个数字", "bbox needs 4 or 6 numbers")
    minx, miny, maxx, maxy = nums
    if not all(map(lambda v: v == v and abs(v) != float("inf"), nums)):
        raise FeatureQueryError("bbox", "bbox 含非法数字", "bbox has a non-finite number")
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90):
        raise FeatureQueryError("bbox", "bbox 超出经纬度范围", "bbox is outside longitude/latitude range")
    if miny > maxy:
        raise FeatureQueryError("bbox", "bbox 的南边界大于北边界", "bbox minimum latitude exceeds maximum")
    if minx > maxx:
        raise FeatureQueryError("bbox", "不支持跨越 180° 经线的 bbox", "bbox crossing the antimeridian is not supported")
    return minx, miny, maxx, maxy


def parse_limit(raw: str | None, default: int, maximum: int) -> int:
    """Page size: default when absent; above the maximum it is capped, not refused."""
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise FeatureQueryError("limit", "limit 必须是正整数", "limit must be a positive integer") from exc
    if value < 1:
        raise FeatureQueryError("limit", "limit 必须是正整数", "limit must be a positive integer")
    return min(value, maximum)


def parse_offset(raw: str | None) -> int:
    if raw is None or raw == "":
        return 0
    try:
        value = int(raw)
    except ValueError as exc:
        raise FeatureQueryError("offset", "offset 必须是非负整数", "offset must be a non-negative integer") from exc
    if value < 0:
        raise FeatureQueryError("offset", "offset 必须是非负整数", "offset must be a non-negative integer")
    return value


def _parse_instant(raw: str, end_of_day: bool) -> datetime:
    text_ = raw.strip()
    try:
        if len(text_) == 10:
            d = date.fromisoformat(text_)
            return datetime.combine(d, time.max if end_of_day else time.min, SHANGHAI)
        value = datetime.fromisoformat(text_.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise FeatureQueryError(
            "datetime", f"无法解析时间 {raw!r} (RFC 3339)", f"cannot parse datetime {raw!r} (RFC 3339)"
        ) from exc
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


def parse_datetime(raw: str | None) -> Interval | None:
    """An RFC 3339 instant or interval (``a/b``, ``../b``, ``a/..``); dates are whole days."""
    if raw is None or raw == "":
        return None
    if "/" in raw:
        a, _, b = raw.partition("/")
        start = None if a in ("", "..") else _parse_instant(a, end_of_day=False)
        end = None if b in ("", "..") else _parse_instant(b, end_of_day=True)
        if start and end and start > end:
            raise FeatureQueryError("datetime", "时间区间的起点晚于终点", "interval start is after its end")
        return Interval(start, end, instant=False)
    if len(raw.strip()) == 10:
        return Interval(_parse_instant(raw, False), _parse_instant(raw, True), instant=False)
    moment = _parse_instant(raw, end_of_day=False)
    return Interval(moment, moment, instant=True)


def parse_moment(raw: str | None, name: str) -> Interval | None:
    """:func:`parse_datetime` for the parameter ``name`` (``since``, ``until`` …): a malformed
    value is a :class:`FeatureQueryError` on ``name`` whose reason starts with the name."""
    try:
        return parse_datetime(raw)
    except FeatureQueryError as exc:
        raise FeatureQueryError(name, f"{name}: {exc.zh}", f"{name}: {exc.en}") from exc


# ---------------------------------------------------------------- collections


def _geojson(column):
    return gf.ST_AsGeoJSON(column, 7).label("geojson")


def _villages(user, interval: Interval | None) -> Select:
    grid_stats = (
        select(
            Grid.village_id,
            func.count().label("grid_count"),
            func.sum(Grid.households).label("households"),
            func.sum(Grid.residents).label("residents"),
        )
        .where(Grid.valid_to.is_(None))
        .group_by(Grid.village_id)
        .subquery()
    )
    return (
        select(
            Area.code.label("fid"),
            _geojson(Area.geom),
            Area.code,
            Area.name,
            Area.kind,
            func.coalesce(grid_stats.c.grid_count, 0).label("grid_count"),
            func.coalesce(grid_stats.c.households, 0).label("households"),
            func.coalesce(grid_stats.c.residents, 0).label("residents"),
            func.round(func.cast(func.ST_Area(func.Geography(Area.geom)) / 1e6, Numeric), 3).label("area_km2"),
            Area.synthetic,
        )
        .outerjoin(grid_stats, grid_stats.c.village_id == Area.id)
        .where(Area.level == "village")
        .order_by(Area.code)
    )


def _grids(user, interval: Interval | None) -> Select:
    village = aliased(Area)
    worker_ga, worker = aliased(GridAssignment), aliased(Person)
    leader_ga, leader = aliased(GridAssignment), aliased(Person)
    q = (
        select(
            Grid.code.label("fid"),
            _geojson(Grid.geom),
            Grid.code,
            Grid.name,
            Grid.kind,
            village.code.label("village_code"),
            village.name.label("village_name"),
            Grid.households,
            Grid.residents,
            func.round(func.cast(func.ST_Area(func.Geography(Grid.geom)) / 1e6, Numeric), 3).label("area_km2"),
            worker.name.label("worker"),
            worker.phone.label("worker_phone"),
            leader.name.label("leader"),
            leader.phone.label("leader_phone"),
            Grid.version,
            Grid.valid_from,
            Grid.valid_to,
            Grid.synthetic,
        )
        .join(village, village.id == Grid.village_id)
        .outerjoin(
            worker_ga,
            and_(worker_ga.grid_code == Grid.code, worker_ga.duty == "worker", worker_ga.valid_to.is_(None)),
        )
        .outerjoin(worker, worker.id == worker_ga.person_id)
        .outerjoin(
            leader_ga,
            and_(leader_ga.grid_code == Grid.code, leader_ga.duty == "leader", leader_ga.valid_to.is_(None)),
        )
        .outerjoin(leader, leader.id == leader_ga.person_id)
        .order_by(Grid.code, Grid.version)
    )
    if interval is None:
        return q.where(Grid.valid_to.is_(None))
    # versions valid at some moment of the interval (or at the instant)
    conds = []
    if interval.end is not None:
        conds.append(Grid.valid_from <= interval.end)
    if interval.start is not None:
        conds.append(or_(Grid.valid_to.is_(None), Grid.valid_to > interval.start))
    return q.where(and_(*conds)) if conds else q


def _incidents(user, interval: Interval | None) -> Select:
    q = (
        select(
            Incident.id.label("fid"),
            _geojson(Incident.geom),
            Incident.id,
            Incident.case_no,
            Category.code.label("category_code"),
            Category.class_name.label("category_class"),
            Category.name.label("category"),
            Incident.state,
            Incident.source,
            Incident.grid_code,
            Incident.village_code,
            Department.name.label("department"),
            Incident.reported_at,
            Incident.deadline,
            Incident.closed_at,
            Incident.flags,
            Incident.synthetic,
        )
        .join(Category, Category.id == Incident.category_id)
        .outerjoin(Department, Department.id == Incident.department_id)
        .where(scopes.incident_visible(user))
        .order_by(Incident.id)
    )
    if interval is not None:
        if interval.start is not None:
            q = q.where(Incident.reported_at >= interval.start)
        if interval.end is not None:
            q = q.where(Incident.reported_at <= interval.end)
    return q


def _code_filter(column, digits: int):
    def make(fid: str):
        if not (isinstance(fid, str) and fid.isdigit() and len(fid) == digits):
            raise FeatureQueryError("featureId", "要素编号格式不正确", "malformed feature id")
        return column == fid

    return make


def _int_filter(column):
    def make(fid: str):
        if not (fid.isdigit() and len(fid) <= 18):
            raise FeatureQueryError("featureId", "要素编号格式不正确", "malformed feature id")
        return column == int(fid)

    return make


COLLECTIONS: dict[str, Collection] = {
    c.id: c
    for c in (
        Collection("villages", "村/社区", "Villages and communities",
                   "行政村与社区边界 (合成演示数据时已标注) / village and community boundaries",
                   public=True, temporal=False, build=_villages, item_filter=_code_filter(Area.code, 12)),
        Collection("grids", "网格", "Unit grids",
                   "单元网格 (15 位编码), 含网格员与网格长 / unit grids with their worker and leader; "
                   "datetime selects the versions valid then",
                   public=True, temporal=True, build=_grids, item_filter=_code_filter(Grid.code, 15)),
        Collection("incidents", "事件", "Incidents",
                   "上报事件 (不含居民个人信息; 需登录) / reported incidents without personal data; sign-in required",
                   public=False, temporal=True, build=_incidents, item_filter=_int_filter(Incident.id)),
    )
}


# ---------------------------------------------------------------- queries


def _bbox_filter(collection_id: str, bbox):
    column = {"villages": Area.geom, "grids": Grid.geom, "incidents": Incident.geom}[collection_id]
    envelope = func.ST_MakeEnvelope(*bbox, 4326)
    return and_(column.op("&&")(envelope), func.ST_Intersects(column, envelope))


def _feature(row, skip=("fid", "geojson")) -> dict:
    props = {}
    for key, value in row._mapping.items():
        if key in skip:
            continue
        if isinstance(value, datetime):
            value = format_iso(value)
        elif hasattr(value, "as_integer_ratio") and not isinstance(value, (int, float)):
            value = float(value)  # Decimal
        props[key] = value
    return {
        "type": "Feature",
        "id": row.fid,
        "geometry": json.loads(row.geojson) if row.geojson else None,
        "properties": props,
    }


def query_items(db: Session, collection: Collection, user, bbox=None, interval=None,
                limit: int = 100, offset: int = 0) -> tuple[list[dict], int]:
    """One page of features and the number matched."""
    q = collection.build(user, interval)
    if bbox is not None:
        q = q.where(_bbox_filter(collection.id, bbox))
    matched = db.execute(select(func.count()).select_from(q.order_by(None).subquery())).scalar_one()
    rows = db.execute(q.limit(limit).offset(offset)).all()
    return [_feature(r) for r in rows], matched


def get_item(db: Session, collection: Collection, user, fid: str) -> dict | None:
    """One feature by id; for grids, the newest version of the code. None for a malformed id too
    (it is simply not there, as tipg's ``_coerce_id`` has it)."""
    try:
        where = collection.item_filter(fid)
    except FeatureQueryError:
        return None
    every_version = Interval(None, None, False) if collection.temporal and collection.id == "grids" else None
    rows = db.execute(collection.build(user, every_version).where(where)).all()
    return _feature(rows[-1]) if rows else None


def extent(db: Session, collection: Collection, user) -> dict:
    """Spatial extent (CRS84 bbox) and, where it applies, the temporal interval."""
    geom = {"villages": Area.geom, "grids": Grid.geom, "incidents": Incident.geom}[collection.id]
    box = db.execute(
        select(func.ST_XMin(func.ST_Extent(geom)), func.ST_YMin(func.ST_Extent(geom)),
               func.ST_XMax(func.ST_Extent(geom)), func.ST_YMax(func.ST_Extent(geom)))
        .select_from({"villages": Area, "grids": Grid, "incidents": Incident}[collection.id])
        .where({"villages": Area.level == "village", "grids": Grid.valid_to.is_(None),
                "incidents": scopes.incident_visible(user)}[collection.id])
    ).one()
    result: dict[str, Any] = {"spatial": {"bbox": [[float(v) if v is not None else None for v in box]], "crs": CRS84}}
    if collection.temporal:
        column = {"grids": Grid.valid_from, "incidents": Incident.reported_at}[collection.id]
        lo, hi = db.execute(select(func.min(column), func.max(column))).one()
        # grids stay valid until redrawn: their interval is open-ended
        end = None if collection.id == "grids" else format_iso(hi)
        result["temporal"] = {"interval": [[format_iso(lo), end]],
                              "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
    return result


def is_synthetic(db: Session) -> bool:
    row = db.get(Setting, "demo")
    return bool(row and row.value.get("synthetic"))
