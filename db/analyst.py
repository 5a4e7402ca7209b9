"""For analysts' notebooks: cases and grids straight from PostGIS as GeoDataFrames (EPSG:4326).

    from db.analyst import connect, load_cases, load_grids
    db = connect()                       # DATABASE_URL, or the private cluster of this checkout
    cases = load_cases(db, since="2026-01-01", categories=["SR01"])
    grids = load_grids(db, at="2026-06-01")

    m = offline_map(grids, gi=gi, kde=surface, cases=cases)  # an interactive map that needs no network

No personal data: cases carry no reporter's name or phone. ``db`` is an SQLAlchemy engine or
connection (or a URL string).
"""

from __future__ import annotations

from datetime import date, datetime, time

import geopandas as gpd
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine

from db.cluster import normalise_url
from workflow.clock import SHANGHAI

CASE_COLUMNS = """
    i.id, i.case_no, i.state, i.source, c.code AS category, c.name AS category_name, c.class_name AS category_class, c.kind AS category_kind,
    i.grid_code, i.village_code, i.reported_at, i.dispatched_at, i.closed_at, i.deadline, i.satisfaction,
    i.rework_count, i.return_count, i.synthetic, i.geom
"""


def connect(url: str | None = None) -> Engine:
    """An engine on ``url``, else DATABASE_URL, else this checkout's private cluster (started)."""
    if url is None:
        import os

        url = os.environ.get("DATABASE_URL")
        if not url:
            from db import cluster

            url = cluster.up(echo=lambda _m: None)
    return create_engine(normalise_url(url))


def _moment(value, *, end: bool = False) -> datetime | None:
    """A date (its start; ``end``: its last instant), a datetime (naive: Asia/Shanghai) or an
    ISO string of either."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
    return datetime.combine(value, time.max if end else time.min, SHANGHAI)


def _bind(db):
    return create_engine(normalise_url(db)) if isinstance(db, str) else db


def load_cases(db: Engine | Connection | str, since=None, until=None, bbox=None, categories=None,
               states=None) -> gpd.GeoDataFrame:
    """Cases reported in [since, until] (dates count whole days, Asia/Shanghai), within ``bbox``
    (minLon, minLat, maxLon, maxLat), of the category codes given (and states), newest first."""
    where, params = ["true"], {}
    if since is not None:
        where.append("i.reported_at >= :since")
        params["since"] = _moment(since)
    if until is not None:
        where.append("i.reported_at <= :until")
        params["until"] = _moment(until, end=True)
    if bbox is not None:
        where.append("i.geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)")
        params.update(zip(("x0", "y0", "x1", "y1"), map(float, bbox), strict=True))
    if categories:
        where.append("c.code = ANY(:categories)")
        params["categories"] = list(categories)
    if states:
        where.append("i.state = ANY(:states)")
        params["states"] = list(states)
    sql = text(f"SELECT {CASE_COLUMNS} FROM incidents i JOIN categories c ON c.id = i.category_id "  # noqa: S608
               f"WHERE {' AND '.join(where)} ORDER BY i.reported_at DESC")
    frame = gpd.read_postgis(sql, _bind(db), geom_col="geom", params=params, crs="EPSG:4326")
    for column in ("reported_at", "dispatched_at", "closed_at", "deadline"):
        frame[column] = frame[column].dt.tz_convert("Asia/Shanghai")
    return frame


def load_grids(db: Engine | Connection | str, at=None) -> gpd.GeoDataFrame:
    """The grids as they were at ``at`` (default: now): code, name, village, kind, households,
    residents, version and validity, with the current worker and leader's names."""
    sql = text("""
        SELECT g.code, g.name, v.code AS village_code, v.name AS village_name, v.kind AS village_kind, g.kind,
               g.households, g.residents,
               g.version, g.valid_from, g.valid_to, w.name AS worker, l.name AS leader, g.geom
          FROM grids g JOIN areas v ON v.id = g.village_id
          LEFT JOIN LATERAL (SELECT p.name FROM grid_assignments a JOIN people p ON p.id = a.person_id
                              WHERE a.grid_code = g.code AND a.duty = 'worker' AND a.valid_to IS NULL
                              ORDER BY a.valid_from DESC LIMIT 1) w ON true
          LEFT JOIN LATERAL (SELECT p.name FROM grid_assignments a JOIN people p ON p.id = a.person_id
                              WHERE a.grid_code = g.code AND a.duty = 'leader' AND a.valid_to IS NULL
                              ORDER BY a.valid_from DESC LIMIT 1) l ON true
         WHERE g.valid_from <= :at AND (g.valid_to IS NULL OR g.valid_to > :at)
         ORDER BY g.code""")
    at = _moment(at) if at is not None else datetime.now(SHANGHAI)
    return gpd.read_postgis(sql, _bind(db), geom_col="geom", params={"at": at}, crs="EPSG:4326")


def offline_map(grids, **layers):
    """An interactive folium map that needs no network (its libraries inlined, tiles only from a
    local base map): see :func:`db.analyst_map.offline_map`."""
    from db.analyst_map import offline_map as build

    return build(grids, **layers)
