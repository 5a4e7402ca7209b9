"""Bounded map data for the dispatcher console (调度台): what the viewport shows, never a table.

- :func:`viewport` answers one map view: per-grid aggregates at town zoom (≤ 12), hexagon bins
  (``ST_HexagonGrid`` in EPSG:3857) at 13–15, single cases at ≥ 16 — and single cases at any
  zoom once the filtered viewport holds at most :data:`MAX_CASES`. Never more than
  :data:`MAX_FEATURES` features; the hexagon size grows with the viewport so that it stays so.
- :func:`case_list` is the list beside the map: the viewport's cases, most urgent first, one page,
  with the exact deadline status on the working-day clock.
- :func:`search` finds cases by case number, 12345 order number, address or description.

PostGIS does the set work; every query carries :func:`scope.incident_visible` of the reader.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from db.models import (
    CASE_STATES,
    SOURCES,
    CaseTally,
    Category,
    Department,
    Grid,
    HotlineOrder,
    Incident,
)
from workflow import cases, roles
from workflow import deadlines as rules
from workflow.clock import SHANGHAI, format_iso

from . import features, incidents, scope
from .errors import FieldError, InvalidParametersError
from .workdays import load_calendar

TOWN_MAX_ZOOM = 12  # ≤ 12: per-grid aggregates
CASES_MIN_ZOOM = 16  # ≥ 16: single cases (when they fit)
MAX_ZOOM = 22
MAX_CASES = 2000  # single cases per response: about 200 bytes each, so ≤ 500 KB
MAX_FEATURES = 5000
MAX_HEXES = 1500  # hexagons wanted per viewport at most; the size grows beyond it
HEX_PX = 40  # hexagon edge in screen pixels at the zoom
HEAT_PX = 8  # the heat map's hexagon edge in screen pixels
MERCATOR_M_PER_PX_Z0 = 156543.03392804097  # EPSG:3857 metres per 256-px tile pixel at zoom 0
LIST_DEFAULT, LIST_MAX = 50, 200
LIST_COUNT_CAP = 10_000
SEARCH_MAX = 20
SEARCH_MIN_CHARS = 2
PARAMS = {"bbox", "zoom", "state", "category", "village", "grid", "source", "since", "until",
          "overdue", "limit", "offset", "lang", "sort"}
# The list's orders: the most urgent first (the default), or the newest reported first.
SORTS = ("urgent", "newest")
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class MapFilter:
    states: tuple[str, ...] = ()
    category: str | None = None
    village_code: str | None = None
    grid_code: str | None = None
    source: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    overdue: bool = False
    bbox: tuple[float, float, float, float] | None = None


# ---------------------------------------------------------------- parsing


class MapParamsError(InvalidParametersError):
    """Map parameters that cannot be used (400, field by field)."""

    LEAD = ("地图参数有误", "bad map parameters")


def _digits(raw: str | None, n: int, name: str, errors: list[FieldError]) -> str | None:
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) == n):
        errors.append(FieldError(name, f"应为 {n} 位数字编码", f"must be a {n}-digit code"))
        return None
    return raw


def unknown_params(args: Mapping[str, str], known: set[str]) -> list[FieldError]:
    return [FieldError(name, "不支持的参数", "unknown parameter") for name in sorted(set(args) - known)]


def bbox_param(args: Mapping[str, str], errors: list[FieldError], *, required: bool = True):
    """``bbox=W,S,E,N`` (CRS84) of a map request, or None; a reason appended to ``errors``."""
    try:
        bbox = features.parse_bbox(args.get("bbox"))
    except features.FeatureQueryError as exc:
        errors.append(FieldError("bbox", exc.zh, exc.en))
        return None
    if bbox is None and required:
        errors.append(FieldError("bbox", "需要视野范围 bbox=西,南,东,北",
                                 "bbox=minLon,minLat,maxLon,maxLat is required"))
    return bbox


def parse_filter(args: Mapping[str, str], *, since: datetime | None = None,
                 until: datetime | None = None, bbox_required: bool = True) -> MapFilter:
    """The filters of a map request (``since``/``until`` already parsed by the view). Raises
    :class:`MapParamsError` with field-level reasons."""
    errors = unknown_params(args, PARAMS)
    bbox = bbox_param(args, errors, required=bbox_required)
    states = tuple(dict.fromkeys(s.strip() for s in (args.get("state") or "").split(",") if s.strip()))
    unknown = [s for s in states if s not in CASE_STATES]
    if unknown:
        errors.append(FieldError("state", f"未知状态: {', '.join(unknown)}; 可选: {', '.join(CASE_STATES)}",
                                 f"unknown state: {', '.join(unknown)}"))
    source = args.get("source") or None
    if source is not None and source not in SOURCES:
        errors.append(FieldError("source", f"未知来源; 可选: {', '.join(SOURCES)}",
                                 f"unknown source; one of {', '.join(SOURCES)}"))
    category = args.get("category") or None
    if category is not None and not (len(category) <= 16 and category.isascii() and category.isalnum()):
        errors.append(FieldError("category", "类别编码格式不正确", "malformed category code"))
    overdue = (args.get("overdue") or "").strip().lower()
    if overdue not in _TRUE | _FALSE:
        errors.append(FieldError("overdue", "overdue 应为 1 或 0", "overdue must be 1 or 0"))
    if since and until and since > until:
        errors.append(FieldError("since", "起始时间晚于结束时间", "since is after until"))
    village = _digits(args.get("village"), 12, "village", errors)
    grid = _digits(args.get("grid"), 15, "grid", errors)
    if errors:
        raise MapParamsError(errors)
    return MapFilter(states=states, category=category, village_code=village, grid_code=grid,
                     source=source, since=since, until=until, overdue=overdue in _TRUE, bbox=bbox)


def parse_sort(raw: str | None) -> str:
    """The list's order, ``urgent`` (default) or ``newest``; anything else is a 400."""
    if raw in (None, ""):
        return SORTS[0]
    if raw not in SORTS:
        raise MapParamsError([FieldError("sort", "排序应为 urgent (最紧急) 或 newest (最新)",
                                         "sort must be urgent or newest")])
    return raw


def parse_zoom(raw: str | None) -> int:
    try:
        zoom = int(raw or "")
    except ValueError:
        zoom = -1
    if not 0 <= zoom <= MAX_ZOOM:
        raise MapParamsError([FieldError("zoom", f"zoom 应为 0–{MAX_ZOOM} 的整数",
                                      f"zoom must be an integer 0–{MAX_ZOOM}")])
    return zoom


# ---------------------------------------------------------------- SQL pieces


def _envelope(bbox):
    return func.ST_MakeEnvelope(*bbox, 4326)


def _clock_start():
    return func.coalesce(Incident.dispatched_at, Incident.reported_at)


def _on_clock():
    return Incident.state.in_(rules.CLOCK_STATES)


def _red(now):
    return and_(_on_clock(), Incident.deadline < now)


def _yellow(now):
    """Approximation on the wall clock, for map colours and the list's order only: the working-day
    clock (:func:`workflow.deadlines.status`) is exact and is what the list shows."""
    start = _clock_start()
    return and_(_on_clock(), Incident.deadline >= now,
                func.extract("epoch", literal(now) - start)
                > rules.YELLOW_SHARE * func.extract("epoch", Incident.deadline - start))


def _status_sql(now):
    """normal / yellow / red on the wall clock (see :func:`_yellow`); NULL when off the clock."""
    return case((_red(now), rules.RED), (_yellow(now), rules.YELLOW), (_on_clock(), rules.NORMAL),
                else_=None)


def _conditions(user, f: MapFilter, now: datetime, *, spatial: bool = True) -> list:
    where = incidents.filter_conditions(
        user, states=f.states, category=f.category, grid_code=f.grid_code, village_code=f.village_code,
        source=f.source, since=f.since, until=f.until, bbox=f.bbox if spatial else None)
    if f.overdue:
        where.append(_red(now))
    return where


def filter_where(user, f: MapFilter, now: datetime) -> list:
    """The console's filters and the reader's scope as SQL conditions, for other readers of the
    console's selection (the export, :mod:`webmap.services.exports`)."""
    return _conditions(user, f, now)


def _round(value, digits: int = 6):
    return None if value is None else round(value, digits)


def _point(lng, lat, props: dict, fid=None) -> dict:
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [_round(lng), _round(lat)]},
               "properties": props}
    if fid is not None:
        feature["id"] = fid
    return feature


def _collection(items: list[dict]) -> dict:
    return {"type": "FeatureCollection", "features": items}


# ---------------------------------------------------------------- the viewport


def hex_size(zoom: int, bbox) -> float:
    """Hexagon edge in EPSG:3857 metres: :data:`HEX_PX` pixels at ``zoom``, larger when the
    viewport would otherwise hold more than :data:`MAX_HEXES` hexagons."""
    size = HEX_PX * MERCATOR_M_PER_PX_Z0 / 2**zoom

    def merc_y(lat):
        return 6378137.0 * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    width = (bbox[2] - bbox[0]) * 20037508.342789244 / 180
    height = merc_y(bbox[3]) - merc_y(bbox[1])
    hex_area = 1.5 * math.sqrt(3) * size * size
    if width * height / hex_area > MAX_HEXES:
        size = math.sqrt(width * height / (MAX_HEXES * 1.5 * math.sqrt(3)))
    return size


# Aggregates count "weighted rows": (key columns, n, open, red, yellow). They come either from the
# incidents themselves (one row per case), or — for town-wide readers and the filters the tally
# knows (state, village, grid) — from case_tally (n per 50 m cell and state) for n and open, plus
# the cases on the deadline clock for red and yellow (few, read from ix_incidents_clock alone).

TALLY_CELL_M = 50  # case_tally's cell edge in EPSG:3857 metres (migration 0005)
R_EARTH = 6378137.0
HALF_WORLD = 20037508.342789244


def _mercator_xy():
    """EPSG:3857 x, y of each case, by the formula (cheaper than ST_Transform per row)."""
    lng, lat = func.ST_X(Incident.geom), func.ST_Y(Incident.geom)
    x = lng * (HALF_WORLD / 180)
    y = func.ln(func.tan(func.radians(lat + 90) / 2)) * R_EARTH
    return x, y


MAX_MERCATOR_LAT = 85.05112878  # Web Mercator's edge: a bbox reaching the poles (lat ±90) is clamped to it


def _mercator(lng: float, lat: float) -> tuple[float, float]:
    lat = max(-MAX_MERCATOR_LAT, min(MAX_MERCATOR_LAT, lat))
    return lng * HALF_WORLD / 180, math.log(math.tan(math.radians(lat + 90) / 2)) * R_EARTH


def tally_applies(user, f: MapFilter) -> bool:
    """Whether case_tally can answer this reader and filter: a reader whose scope is an area (the
    district, the town, a village, a grid — not a department, whose scope is the cases sent to
    it), filtering by state, village or grid only. Aggregates then leave out the reader's own
    reports outside their area (they still show in the list and as single cases)."""
    area_scoped = (roles.has_permission(user.role, "see_all_areas")
                   or (user.role != "department" and bool(user.scope_code)))
    return area_scoped and not (f.category or f.source or f.since or f.until or f.overdue)


def _town_scope(column, user) -> list:
    """The reader's area on a grid code column (see :func:`tally_applies`); a town or district also
    owns the cases outside every grid (属地兜底)."""
    if roles.has_permission(user.role, "see_all_areas"):
        return []
    within = column.startswith(user.scope_code, autoescape=True)
    return [or_(within, column.is_(None))] if len(user.scope_code) <= 9 else [within]


def _tally_rows(user, f: MapFilter, key: str):
    """n and open per cell (``key="xy"``: cell centre x, y) or per grid (``key="grid"``)."""
    where = [CaseTally.n != 0, *_town_scope(CaseTally.grid_code, user)]
    if f.states:
        where.append(CaseTally.state.in_(f.states))
    if f.village_code:
        where.append(CaseTally.village_code == f.village_code)
    if f.grid_code:
        where.append(CaseTally.grid_code == f.grid_code)
    if key == "xy":
        (x0, y0), (x1, y1) = _mercator(*f.bbox[:2]), _mercator(*f.bbox[2:])
        where += [CaseTally.cx.between(math.floor(x0 / TALLY_CELL_M), math.floor(x1 / TALLY_CELL_M)),
                  CaseTally.cy.between(math.floor(y0 / TALLY_CELL_M), math.floor(y1 / TALLY_CELL_M))]
        half = TALLY_CELL_M // 2  # the cell's centre, in integers (no numeric arithmetic per row)
        keys = ((CaseTally.cx * TALLY_CELL_M + half).label("x"), (CaseTally.cy * TALLY_CELL_M + half).label("y"))
    else:
        where.append(CaseTally.grid_code.is_not(None))
        keys = (CaseTally.grid_code,)
    on_clock = CaseTally.state.in_(rules.CLOCK_STATES)
    return select(*keys, CaseTally.n.label("n"), case((on_clock, CaseTally.n), else_=0).label("open"),
                  literal(0).label("red"), literal(0).label("yellow")).where(*where)


def _clock_where(user, f: MapFilter, now: datetime, *, spatial: bool = True) -> list:
    """The conditions of the cases on the clock, for a town-wide reader (:func:`tally_applies`):
    the tally's scope and a bare bbox test (exact for points), so that ix_incidents_clock answers
    without reading the table."""
    where = [*_town_scope(Incident.grid_code, user), *_conditions(user, f, now, spatial=False)[1:], _on_clock()]
    if spatial:
        where.append(Incident.geom.op("&&")(_envelope(f.bbox)))
    return where


def _incident_rows(user, f: MapFilter, now: datetime, key: str, *, clock_only: bool = False):
    """One weighted row per matching case; ``clock_only``: only red and yellow, of the cases on
    the clock (the complement of :func:`_tally_rows`)."""
    where = _clock_where(user, f, now, spatial=key == "xy") if clock_only else _conditions(
        user, f, now, spatial=key == "xy")
    xy = _mercator_xy()
    if clock_only and key == "xy":  # binned where the tally puts the case: at its cell's centre
        xy = tuple(func.floor(v / TALLY_CELL_M) * TALLY_CELL_M + TALLY_CELL_M // 2 for v in xy)
    keys = (tuple(v.label(k) for k, v in zip("xy", xy, strict=True)) if key == "xy"
            else (Incident.grid_code,))
    if key == "grid":
        where.append(Incident.grid_code.is_not(None))
    red = case((_red(now), 1), else_=0)
    yellow = case((_yellow(now), 1), else_=0)
    if clock_only:
        return select(*keys, literal(0).label("n"), literal(0).label("open"), red.label("red"),
                      yellow.label("yellow")).where(*where, _on_clock())
    return select(*keys, literal(1).label("n"), case((_on_clock(), 1), else_=0).label("open"),
                  red.label("red"), yellow.label("yellow")).where(*where)


def _weighted(user, f: MapFilter, now: datetime, key: str):
    """The weighted rows of this view as one subquery with columns (x, y | grid_code), n, open,
    red, yellow."""
    if tally_applies(user, f):
        rows = union_all(_tally_rows(user, f, key), _incident_rows(user, f, now, key, clock_only=True))
    else:
        rows = _incident_rows(user, f, now, key)
    names = ("x", "y") if key == "xy" else ("grid_code",)
    return rows.subquery().alias("w"), names


def _sums(w):
    return (func.sum(w.c.n).label("n"), func.sum(w.c.open).label("open"),
            func.sum(w.c.red).label("overdue"), func.sum(w.c.yellow).label("yellow"))


def _grid_aggregates(db: Session, user, f: MapFilter, now: datetime) -> list[dict]:
    """One point per current grid in the viewport (on its surface) with the counts of the whole
    grid's matching cases. Cases outside every grid (属地兜底) are not in any grid's count."""
    sub, names = _weighted(user, f, now, "grid")
    w = sub.c
    per_grid = select(w[names[0]].label("grid_code"), *_sums(sub)).group_by(w[names[0]]).subquery()
    env = _envelope(f.bbox)
    surface = func.ST_PointOnSurface(Grid.geom)
    rows = db.execute(
        select(Grid.code, Grid.name, func.ST_X(surface).label("lng"), func.ST_Y(surface).label("lat"),
               per_grid.c.n, per_grid.c.open, per_grid.c.overdue, per_grid.c.yellow)
        .join(per_grid, per_grid.c.grid_code == Grid.code)
        .where(Grid.valid_to.is_(None), Grid.geom.op("&&")(env), func.ST_Intersects(Grid.geom, env),
               per_grid.c.n > 0)
        .order_by(Grid.code)
        .limit(MAX_FEATURES)
    ).all()
    return [
        _point(r.lng, r.lat, {"grid": r.code, "name": r.name, "total": int(r.n), "open": int(r.open),
                              "overdue": int(r.overdue), "yellow": int(r.yellow)}, fid=r.code)
        for r in rows
    ]


def _hex_aggregates(db: Session, user, f: MapFilter, now: datetime, zoom: int,
                    size: float | None = None) -> list[dict]:
    """Cases binned in flat-topped hexagons of edge ``s`` in EPSG:3857 (the tessellation of
    ``ST_HexagonGrid``), each bin a point at its centre (WGS84) with its counts. The bin is found
    by arithmetic (the nearer centre of the two rectangular lattices the hexagon centres form), so
    PostgreSQL only scans and groups: no polygon is built and no point-in-polygon test is run.
    From the tally, a 50 m cell falls in the bin of its centre (so a case within 36 m of a bin's
    edge may be counted in the neighbour)."""
    s = size or hex_size(zoom, f.bbox)
    dx, dy = 3 * s, math.sqrt(3) * s  # each lattice: columns 3s apart, rows √3·s apart
    pts, _ = _weighted(user, f, now, "xy")
    ax, ay = func.round(pts.c.x / dx) * dx, func.round(pts.c.y / dy) * dy
    bx = func.round((pts.c.x - dx / 2) / dx) * dx + dx / 2
    by = func.round((pts.c.y - dy / 2) / dy) * dy + dy / 2
    nearer_a = (func.power(pts.c.x - ax, 2) + func.power(pts.c.y - ay, 2)
                <= func.power(pts.c.x - bx, 2) + func.power(pts.c.y - by, 2))
    cx, cy = case((nearer_a, ax), else_=bx).label("cx"), case((nearer_a, ay), else_=by).label("cy")
    binned = select(cx, cy, pts.c.n, pts.c.open, pts.c.red, pts.c.yellow).subquery()
    rows = db.execute(
        select(binned.c.cx, binned.c.cy, *_sums(binned))
        .group_by(binned.c.cx, binned.c.cy)
        .having(func.sum(binned.c.n) > 0)
        .order_by(binned.c.cx, binned.c.cy)
        .limit(MAX_FEATURES)
    ).all()
    out = []
    for r in rows:
        lng = r.cx * 180 / HALF_WORLD
        lat = math.degrees(2 * math.atan(math.exp(r.cy / R_EARTH)) - math.pi / 2)
        out.append(_point(lng, lat, {"total": int(r.n), "open": int(r.open), "overdue": int(r.overdue),
                                     "yellow": int(r.yellow)}, fid=f"{round(r.cx)}:{round(r.cy)}"))
    return out


def _cases(db: Session, user, f: MapFilter, now: datetime, limit: int) -> list[dict]:
    rows = db.execute(
        select(Incident.id, Incident.case_no, Incident.state, _status_sql(now).label("status"),
               Category.name.label("category"), func.ST_X(Incident.geom).label("lng"),
               func.ST_Y(Incident.geom).label("lat"))
        .join(Category, Category.id == Incident.category_id)
        .where(*_conditions(user, f, now))
        .order_by(Incident.id)
        .limit(limit)
    ).all()
    return [
        _point(r.lng, r.lat, {"case_no": r.case_no, "state": r.state, "status": r.status,
                              "category": r.category}, fid=r.id)
        for r in rows
    ]


def viewport(db: Session, user, f: MapFilter, zoom: int, now: datetime | None = None) -> dict:
    """What the map shows for ``f.bbox`` at ``zoom``: ``mode`` grids, hexes or cases, ``total``
    (matching cases the features stand for) and a FeatureCollection. Single cases carry a status
    on the wall clock (``status``: red past the deadline, yellow past 75 % of the time); the list
    (:func:`case_list`) shows the exact status on the working-day clock."""
    now = now or datetime.now(SHANGHAI)

    def single_cases():
        items = _cases(db, user, f, now, MAX_CASES + 1)
        if len(items) <= MAX_CASES:
            return {"mode": "cases", "zoom": zoom, "total": len(items), "features": _collection(items)}
        return None

    # zoomed in without the tally: try the cases first, an index scan of a small bbox
    if zoom >= CASES_MIN_ZOOM and not tally_applies(user, f) and (found := single_cases()):
        return found
    if zoom <= TOWN_MAX_ZOOM:
        aggregates, mode = _grid_aggregates(db, user, f, now), "grids"
    else:
        aggregates, mode = _hex_aggregates(db, user, f, now, zoom), "hexes"
    total = sum(a["properties"]["total"] for a in aggregates)
    if total <= MAX_CASES and (found := single_cases()):  # few enough to show one by one
        return found
    body = {"mode": mode, "zoom": zoom, "total": total, "features": _collection(aggregates)}
    if mode == "hexes":
        body["hex_size_m"] = round(hex_size(zoom, f.bbox), 1)
    return body


def heat(db: Session, user, f: MapFilter, zoom: int, now: datetime | None = None) -> dict:
    """The heat-map layer of the filtered cases: the viewport's cases summed in small hexagons
    (:data:`HEAT_PX` pixels at ``zoom``, larger when the viewport would hold more than
    :data:`MAX_FEATURES`), each ``[lat, lng, weight]`` — bounded whatever the table holds."""
    now = now or datetime.now(SHANGHAI)
    size = max(HEAT_PX * MERCATOR_M_PER_PX_Z0 / 2**zoom, _min_heat_size(f.bbox))
    bins = _hex_aggregates(db, user, f, now, zoom, size=size)
    points = [[p["geometry"]["coordinates"][1], p["geometry"]["coordinates"][0], p["properties"]["total"]]
              for p in bins]
    return {"zoom": zoom, "cell_m": round(size, 1), "total": sum(p[2] for p in points),
            "max": max((p[2] for p in points), default=0), "points": points}


def _min_heat_size(bbox) -> float:
    """The edge that keeps the viewport at most :data:`MAX_FEATURES` hexagons."""
    width = (bbox[2] - bbox[0]) * HALF_WORLD / 180
    height = (bbox[3] - bbox[1]) * HALF_WORLD / 180 / math.cos(math.radians((bbox[1] + bbox[3]) / 2))
    return math.sqrt(abs(width * height) / (MAX_FEATURES * 1.5 * math.sqrt(3)))


# ---------------------------------------------------------------- the list beside the map


def _list_select(now):
    return (
        select(Incident.id, Incident.case_no, Incident.state, Incident.grid_code, Incident.address,
               Incident.reported_at, Incident.deadline, Incident.dispatched_at,
               Category.code.label("cat_code"), Category.name.label("cat_name"),
               Category.name_en.label("cat_name_en"), Category.time_unit,
               Grid.name.label("grid_name"), Department.name.label("dept_name"),
               func.ST_X(Incident.geom).label("lng"), func.ST_Y(Incident.geom).label("lat"))
        .join(Category, Category.id == Incident.category_id)
        .outerjoin(Grid, Grid.id == Incident.grid_id)
        .outerjoin(Department, Department.id == Incident.department_id)
    )


def _exact_status(row, now, calendar) -> dict | None:
    if row.state not in rules.CLOCK_STATES or row.deadline is None:
        return None
    s = rules.status(rules.clock_start(row.dispatched_at, row.reported_at), row.deadline, now,
                     calendar=calendar, working=rules.measured_on_working_clock(row.time_unit))
    return {"code": s.status, "zh": s.label_zh, "en": s.label_en,
            "remaining_h": rules.hours(s.remaining), "overdue_h": rules.hours(s.overdue_by)}


def _list_item(row, now, calendar) -> dict:
    return {
        "id": row.id, "case_no": row.case_no, "state": row.state,
        "state_en": cases.STATE_EN.get(row.state, row.state),
        "category": {"code": row.cat_code, "name": row.cat_name, "name_en": row.cat_name_en},
        "grid": {"code": row.grid_code, "name": row.grid_name} if row.grid_code else None,
        "department": row.dept_name, "address": row.address,
        "reported_at": format_iso(row.reported_at), "deadline": format_iso(row.deadline),
        "status": _exact_status(row, now, calendar),
        "location": {"lng": _round(row.lng), "lat": _round(row.lat), "crs": "wgs84"},
    }


def case_list(db: Session, user, f: MapFilter, limit: int, offset: int = 0,
              now: datetime | None = None, sort: str = "urgent") -> dict:
    """The viewport's cases, one page. ``sort="urgent"``: red (the longest overdue first), then
    yellow (the nearest deadline first), then the rest newest first; ``sort="newest"``: the newest
    reported first. The order uses the wall-clock approximation in SQL; each row's ``status`` is
    exact, on the working-day clock."""
    now = now or datetime.now(SHANGHAI)
    where = _conditions(user, f, now)
    urgent = or_(_red(now), _yellow(now))
    tally = tally_applies(user, f)
    if tally:  # the exact count from the tally; the urgent ones from ix_incidents_clock alone
        total = db.execute(select(func.coalesce(func.sum(_tally_rows(user, f, "xy").subquery().c.n), 0)))\
            .scalar_one()
        urgent_where = [*_clock_where(user, f, now), urgent]
    else:  # counted up to LIST_COUNT_CAP (a town view holds up to a million): "10000+"
        capped = select(literal(1)).select_from(Incident).where(*where).limit(LIST_COUNT_CAP + 1).subquery()
        total = db.execute(select(func.count()).select_from(capped)).scalar_one()
        urgent_where = [*where, urgent]
    n_urgent = db.execute(select(func.count()).select_from(Incident).where(*urgent_where)).scalar_one()
    rows = []
    if sort == "newest":  # ix_incidents_reported_at, read backwards
        rows += db.execute(
            _list_select(now).where(*where)
            .order_by(Incident.reported_at.desc(), Incident.id.desc())
            .limit(limit).offset(offset)
        ).all()
    elif offset < n_urgent:  # red then yellow: every red deadline is past, every yellow one is not,
        # so the deadline order is the order wanted (ix_incidents_clock, read forwards)
        rows += db.execute(
            _list_select(now).where(*urgent_where)
            .order_by(Incident.deadline, Incident.id)
            .limit(limit).offset(offset)
        ).all()
    if sort == "urgent" and len(rows) < limit:  # then the newest (ix_incidents_reported_at, read backwards)
        rows += db.execute(
            _list_select(now).where(*where, ~func.coalesce(urgent, False))
            .order_by(Incident.reported_at.desc(), Incident.id.desc())
            .limit(limit - len(rows)).offset(max(offset - n_urgent, 0))
        ).all()
    calendar = load_calendar(db)
    capped = not tally and total > LIST_COUNT_CAP
    return {"total": min(total, LIST_COUNT_CAP) if capped else int(total), "total_capped": capped,
            "urgent": n_urgent, "limit": limit, "offset": offset, "sort": sort,
            "items": [_list_item(r, now, calendar) for r in rows]}


# ---------------------------------------------------------------- search


def _like_escape(text_: str) -> str:
    return text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(db: Session, user, q: str, now: datetime | None = None) -> dict:
    """Up to :data:`SEARCH_MAX` cases within scope: the case with that case number or 12345 order
    number, else those whose address or description contains ``q`` (newest first; trigram
    indexes)."""
    now = now or datetime.now(SHANGHAI)
    q = (q or "").strip()
    if len(q) < SEARCH_MIN_CHARS or len(q) > 100:
        raise MapParamsError([FieldError("q", f"搜索词应为 {SEARCH_MIN_CHARS}–100 个字符",
                                      f"the search text must be {SEARCH_MIN_CHARS}–100 characters")])
    visible = scope.incident_visible(user)
    base = _list_select(now)
    found: dict[int, tuple] = {}

    def add(rows, how):
        for r in rows:
            found.setdefault(r.id, (r, how))

    add(db.execute(base.where(visible, Incident.case_no == q)).all(), "case_no")
    add(db.execute(base.join(HotlineOrder, HotlineOrder.incident_id == Incident.id)
                   .where(visible, HotlineOrder.order_no == q).limit(SEARCH_MAX)).all(), "order_no")
    if not found:  # a case or order number names its case: no text matches beside it
        pattern = f"%{_like_escape(q)}%"
        add(db.execute(
            base.where(visible, or_(Incident.address.ilike(pattern, escape="\\"),
                                    Incident.description.ilike(pattern, escape="\\")))
            .order_by(Incident.reported_at.desc(), Incident.id.desc())
            .limit(SEARCH_MAX)
        ).all(), "text")
    calendar = load_calendar(db)
    items = [{**_list_item(r, now, calendar), "matched_by": how} for r, how in list(found.values())[:SEARCH_MAX]]
    return {"q": q, "items": items}
