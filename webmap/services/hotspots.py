"""Hotspots of the cases for the map and the analysis page: Getis-Ord Gi* on H3 cells.

The cases of the period, categories and the reader's scope are counted in PostGIS on 20 m squares
(one row per square, not per case: a million cases become about 230,000 rows), the
squares go to their H3 cells (:func:`spatial.hotspots.hex_counts`), the cells of the reader's area
with no case are added as zeros, and :func:`spatial.hotspots.getis_ord` classes each cell hot or
cold at 99/95/90 % after the false-discovery-rate correction. Also the kernel density surface for
the heat map (:func:`density`). Only counts leave the server: no case, no person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import shapely
from shapely import wkb
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from db.models import Area, Category, Grid, Incident
from spatial import hotspots as analysis
from workflow import roles
from workflow.clock import SHANGHAI

from . import incidents
from .errors import ServiceError

METHODS = ("gi", "moran")
RESOLUTIONS = range(6, 10)  # H3 res 6 (36 km²) … 9 (0.1 km²)
SQUARE_DEG = 2e-4  # the squares the cases are counted on first, about 20 m
MAX_CATEGORIES = 50
MORAN_PERMUTATIONS = 999


class HotspotError(ServiceError):
    """A refusal of the hotspot analysis (see :class:`ServiceError`)."""


@dataclass(frozen=True)
class Query:
    since: datetime
    until: datetime
    categories: tuple[str, ...] = ()
    method: str = "gi"
    resolution: int = 9


def parse(args, since: datetime | None, until: datetime | None, now: datetime | None = None) -> Query:
    """The request's period (default: the last 12 months), categories (comma list of codes),
    method (``gi`` or ``moran``) and H3 resolution (6–9, default 9: cells of 0.1 km², the scale of
    a market or a crossroads). 400 with the reasons."""
    now = now or datetime.now(SHANGHAI)
    errors = []
    unknown = sorted(set(args) - {"since", "until", "categories", "method", "resolution", "lang", "format"})
    if unknown:
        errors.append(f"不支持的参数 {', '.join(unknown)} / unknown parameters")
    method = args.get("method") or "gi"
    if method not in METHODS:
        errors.append(f"method 应为 {' 或 '.join(METHODS)} / method must be one of {', '.join(METHODS)}")
    try:
        resolution = int(args.get("resolution") or 9)
    except ValueError:
        resolution = -1
    if resolution not in RESOLUTIONS:
        errors.append("resolution 应为 6–9 / resolution must be 6–9")
    categories = tuple(c for c in (args.get("categories") or "").split(",") if c)
    if len(categories) > MAX_CATEGORIES or not all(c.isascii() and c.isalnum() and len(c) <= 16 for c in categories):
        errors.append("categories 应为类别编码, 逗号分隔 / categories: comma-separated category codes")
    until = until or now
    since = since or until - timedelta(days=365)
    if since >= until:
        errors.append("since 应早于 until / since must be before until")
    if errors:
        raise HotspotError(400, "; ".join(e.split(" / ")[0] for e in errors), "; ".join(e.split(" / ")[-1] for e in errors))
    return Query(since=since, until=until, categories=categories, method=method, resolution=resolution)


def _may_read(user) -> None:
    if not roles.has_permission(user.role, "read_hotspots"):
        raise HotspotError(403, "无权查看热点分析", "no access to the hotspot analysis")


def _squares(db: Session, user, q: Query):
    """(lng, lat, n) of the cases counted on :data:`SQUARE_DEG` squares, in the reader's scope."""
    where = incidents.filter_conditions(user, since=q.since, until=q.until)
    if q.categories:
        where.append(Incident.category_id.in_(select(Category.id).where(Category.code.in_(q.categories))))
    x = func.round(func.ST_X(Incident.geom) / SQUARE_DEG)
    y = func.round(func.ST_Y(Incident.geom) / SQUARE_DEG)
    db.execute(text("SET LOCAL work_mem = '64MB'"))  # the grouping of a million cases stays in memory
    rows = db.execute(select(x.label("x"), y.label("y"), func.count().label("n")).where(*where)
                      .group_by(x, y)).all()
    if not rows:
        return np.empty(0), np.empty(0), np.empty(0)
    # as tuples: numpy probing Row objects for array attributes costs 16 µs a row
    arr = np.array([tuple(r) for r in rows], dtype=float)
    return arr[:, 0] * SQUARE_DEG, arr[:, 1] * SQUARE_DEG, arr[:, 2]


def _area(db: Session, user):
    """The reader's area: their village, else the town (or every town of the district)."""
    code = user.scope_code or ""
    if user.role == "leader" and len(code) >= 12:
        geom = db.execute(select(func.ST_AsBinary(Area.geom)).where(Area.code == code[:12])).scalar()
    else:
        geom = db.execute(select(func.ST_AsBinary(func.ST_Union(Area.geom))).where(Area.level == "town")).scalar()
    return wkb.loads(bytes(geom)) if geom is not None else None


def cells(db: Session, user, q: Query):
    """The H3 cells of the reader's area with their counts and hot/cold classes (a GeoDataFrame)."""
    _may_read(user)
    lng, lat, n = _squares(db, user, q)
    counted = analysis.hex_counts(lng, lat, resolution=q.resolution, weights=n, area=_area(db, user))
    if len(counted) < 3:
        return counted.assign(gi_z=np.nan, p=np.nan, p_fdr=np.nan, **{"class": "none"})
    frame = analysis.getis_ord(counted, value="count")
    if q.method == "moran":  # the class from local Moran's I: high-high hot, low-low cold
        frame = analysis.local_moran(frame, value="count", permutations=MORAN_PERMUTATIONS)
        frame["class"] = _moran_classes(frame["moran_q"].to_numpy(), frame["moran_p"].to_numpy())
    return frame


def _moran_classes(quadrant: np.ndarray, p: np.ndarray) -> np.ndarray:
    """HH → hot, LL → cold, at 99/95/90 % of the permutation pseudo p-value (the GeoDa
    convention: 999 permutations cannot pass a false-discovery-rate cut over thousands of cells,
    so ``gi_z`` and ``p_fdr`` stay those of Gi*); outliers (HL, LH): none."""
    out = np.full(len(quadrant), "none", dtype=object)
    for level, cut in (("90", 0.10), ("95", 0.05), ("99", 0.01)):
        out[(quadrant == "HH") & (p < cut)] = f"hot-{level}"
        out[(quadrant == "LL") & (p < cut)] = f"cold-{level}"
    return out


def hotspots(db: Session, user, q: Query) -> dict:
    """``GET /api/v1/hotspots``: a GeoJSON FeatureCollection of H3 cells with ``count``, ``gi_z``,
    ``p_fdr`` and ``class`` (hot-99 … cold-90, none)."""
    frame = cells(db, user, q)
    # the empty cells count in the statistics; sent are those with cases or a class
    keep = (frame["count"] > 0) | (frame["class"] != "none") if "class" in frame else frame["count"] > 0
    frame = frame[keep]
    features = []
    columns = [c for c in frame.columns if c not in ("geometry", "significant", "p")]
    for row, geom in zip(frame[columns].itertuples(index=False), frame.geometry, strict=True):
        props = {}
        for key, value in zip(columns, row, strict=True):
            if key == "count":
                props[key] = int(value)
            elif isinstance(value, (float, np.floating)):
                props[key] = None if np.isnan(value) else round(float(value), 6)
            elif isinstance(value, (np.integer,)):
                props[key] = int(value)
            else:
                props[key] = value
        coords = [[round(x, 6), round(y, 6)] for x, y in geom.exterior.coords]
        features.append({"type": "Feature", "id": props.get("h3"), "properties": props,
                         "geometry": {"type": "Polygon", "coordinates": [coords]}})
    hot = sum(1 for f in features if str(f["properties"].get("class", "")).startswith("hot"))
    cold = sum(1 for f in features if str(f["properties"].get("class", "")).startswith("cold"))
    return {"type": "FeatureCollection", "features": features,
            "period": {"since": q.since.isoformat(), "until": q.until.isoformat()},
            "categories": list(q.categories), "method": q.method, "resolution": q.resolution,
            "cases": int(sum(f["properties"].get("count", 0) or 0 for f in features)),
            "hot": hot, "cold": cold}


def top(db: Session, user, q: Query, limit: int = 20) -> list[dict]:
    """The hottest cells with the grids and villages they fall in, most significant first."""
    frame = cells(db, user, q)
    if "gi_z" not in frame:
        return []
    frame = frame[frame["class"].astype(str).str.startswith("hot")].sort_values("gi_z", ascending=False).head(limit)
    out = []
    for row in frame.to_dict("records"):
        grids = db.execute(text("""
            SELECT g.code, g.name, v.name AS village FROM grids g JOIN areas v ON v.id = g.village_id
             WHERE g.valid_to IS NULL AND ST_Intersects(g.geom, ST_GeomFromWKB(:w, 4326))
             ORDER BY ST_Area(ST_Intersection(g.geom, ST_GeomFromWKB(:w, 4326))) DESC"""),
            {"w": row["geometry"].wkb}).all()
        c = row["geometry"].centroid
        out.append({"h3": row["h3"], "count": int(row["count"]), "gi_z": round(float(row["gi_z"]), 3),
                    "p_fdr": round(float(row["p_fdr"]), 6), "class": row["class"],
                    "centre": {"lng": round(c.x, 6), "lat": round(c.y, 6)},
                    "grids": [{"code": g.code, "name": g.name, "village": g.village} for g in grids]})
    return out


def png(db: Session, user, q: Query) -> bytes:
    """``GET /api/v1/hotspots/png``: the classed cells of :func:`cells` over the grid and village
    outlines of the reader's area, a 1200×900 PNG titled with the period, the categories and the
    method (matplotlib, Agg canvas, no pyplot state). Coordinates are WGS84 degrees, the x axis
    shrunk by cos(latitude) so that the town is not stretched. Colours and Chinese class names are
    those of the page's legend (``static/js/analysis.js``); Local Moran's I cells are classed by
    quadrant and permutation p (HH → 热点, LL → 冷点, HL/LH → 异常值; not FDR-corrected)."""
    from io import BytesIO
    from math import cos, radians

    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PolyCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    colours = {"hot-99": "#b2182b", "hot-95": "#ef8a62", "hot-90": "#fddbc7", "cold-99": "#2166ac",
               "cold-95": "#67a9cf", "cold-90": "#d1e5f0", "hl": "#7b3294", "lh": "#5aae61", "none": "#e5e5e5"}
    names = {"hot-99": "热点 99%", "hot-95": "热点 95%", "hot-90": "热点 90%", "cold-99": "冷点 99%",
             "cold-95": "冷点 95%", "cold-90": "冷点 90%", "hl": "高值异常 (高-低)", "lh": "低值异常 (低-高)",
             "none": "不显著"}
    frame = cells(db, user, q)
    if q.method == "moran" and "moran_q" in frame:
        def moran_class(quadrant: str, p: float) -> str:
            if quadrant in ("HL", "LH"):
                return quadrant.lower() if p < 0.05 else "none"
            level = next((name for cut, name in ((0.01, "99"), (0.05, "95"), (0.10, "90")) if p < cut), None)
            prefix = {"HH": "hot-", "LL": "cold-"}.get(quadrant)
            return prefix + level if prefix and level else "none"

        frame = frame.assign(**{"class": [moran_class(a, float(b)) for a, b in zip(frame["moran_q"], frame["moran_p"],
                                                                                   strict=True)]})
    frame = frame[(frame["count"] > 0) | (frame["class"] != "none")]

    area = _area(db, user)
    grid_geoms = select(func.ST_AsBinary(Grid.geom)).where(Grid.valid_to.is_(None))
    village_geoms = select(func.ST_AsBinary(Area.geom)).where(Area.level == "village")
    if area is not None:  # the outlines whose inner point lies in the reader's area
        inside = func.ST_GeomFromWKB(area.wkb, 4326)
        grid_geoms = grid_geoms.where(func.ST_Intersects(func.ST_PointOnSurface(Grid.geom), inside))
        village_geoms = village_geoms.where(func.ST_Intersects(func.ST_PointOnSurface(Area.geom), inside))
    outlines = {name: [np.asarray(part.exterior.coords) for (raw,) in db.execute(stmt) if raw is not None
                       for part in shapely.get_parts(wkb.loads(bytes(raw)))]
                for name, stmt in (("grid", grid_geoms), ("village", village_geoms))}

    matplotlib.rcParams["font.sans-serif"] = ["WenQuanYi Zen Hei", "DejaVu Sans"]
    matplotlib.rcParams["axes.unicode_minus"] = False
    fig = Figure(figsize=(12, 9), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.02, 0.03, 0.96, 0.84))
    drawn = [c for c in ("none", "cold-90", "cold-95", "cold-99", "lh", "hl", "hot-90", "hot-95", "hot-99")
             if (frame["class"] == c).any()]
    for c in drawn:  # the significant cells last, on top
        part = frame[frame["class"] == c]
        ax.add_collection(PolyCollection([np.asarray(g.exterior.coords) for g in part.geometry],
                                         facecolors=colours[c], edgecolors="#ffffff" if c != "none" else "#cccccc",
                                         linewidths=0.3, alpha=0.9 if c != "none" else 0.6, zorder=2))
    ax.add_collection(PolyCollection(outlines["grid"], facecolors="none", edgecolors="#5b7fa3",
                                     linewidths=0.5, zorder=3))
    ax.add_collection(PolyCollection(outlines["village"], facecolors="none", edgecolors="#1f4e79",
                                     linewidths=1.4, zorder=4))
    if area is not None:
        west, south, east, north = area.bounds
    elif len(frame):
        west, south, east, north = frame.total_bounds
    else:
        west, south, east, north = 117.6, 39.2, 117.9, 39.4  # nothing to draw: the demo town's box
    pad = 0.02 * max(east - west, north - south)
    ax.set_xlim(west - pad, east + pad)
    ax.set_ylim(south - pad, north + pad)
    ax.set_aspect(1 / cos(radians((south + north) / 2)))
    ax.set_axis_off()

    shown = ["hot-99", "hot-95", "hot-90", "cold-99", "cold-95", "cold-90"]
    if q.method == "moran":
        shown += ["hl", "lh"]
    handles = [Patch(facecolor=colours[c], edgecolor="#999999", label=names[c]) for c in [*shown, "none"]]
    handles.append(Patch(facecolor="none", edgecolor="#5b7fa3", label="网格"))
    ax.legend(handles=handles, loc="lower right", fontsize=10, framealpha=0.92,
              title="局部 Moran's I (p 未经FDR校正)" if q.method == "moran" else "Gi* (p 经FDR校正)")

    if q.categories:
        labels = db.execute(select(Category.name).where(Category.code.in_(q.categories))
                            .order_by(Category.code)).scalars().all()
        kinds = "、".join(labels[:5]) + (f" 等 {len(labels)} 类" if len(labels) > 5 else "")
    else:
        kinds = "全部类别"
    method = "局部 Moran's I" if q.method == "moran" else "Getis-Ord Gi*"
    since, until = q.since.astimezone(SHANGHAI).date(), q.until.astimezone(SHANGHAI).date()
    hot = int(frame["class"].astype(str).str.startswith("hot").sum())
    cold = int(frame["class"].astype(str).str.startswith("cold").sum())
    fig.suptitle(f"案件热点分析 · {since:%Y-%m-%d} 至 {until:%Y-%m-%d}", fontsize=18, y=0.975)
    fig.text(0.5, 0.905, f"类别: {kinds} · {method} · H3 第 {q.resolution} 级 · "
             f"{int(frame['count'].sum())} 件案件, {hot} 个热点单元, {cold} 个冷点单元",
             ha="center", fontsize=12, color="#444444")
    out = BytesIO()
    fig.savefig(out, format="png", dpi=100)
    return out.getvalue()
