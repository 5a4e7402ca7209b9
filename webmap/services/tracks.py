"""Today's patrol tracks (今日巡查轨迹) for the dispatcher console's map, bounded per viewport.

A track is where a person walked: personal whereabouts under the PIPL (个人信息保护法), so it
leaves the server only for the roles whose work needs it, and only for today:

- the town centre and town leaders (``dispatcher``, ``town_leader``) see the patrols of the grids
  of their town, the district and ``admin`` every patrol;
- a village's grid leader (``leader``) sees the patrols of their village's grids;
- a grid worker (``worker``) sees only their own patrols;
- everyone else (departments, planners, analysts) is refused: :class:`TrackAccessDenied`.

A patrol without a grid counts for the grids its walker currently works. Tracks are LINESTRINGs in
EPSG:4326, simplified for display by :data:`SIMPLIFY_M` metres on the ground.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, time, timedelta

from sqlalchemy import and_, func, or_, select, true
from sqlalchemy.orm import Session

from db.models import Account, GridAssignment, Patrol, Person
from workflow import roles
from workflow.clock import SHANGHAI, format_iso

from . import mapdata
from .errors import ForbiddenError

MAX_FEATURES = 500
SIMPLIFY_M = 3.0  # ground metres: below what a town-to-street map can show
PARAMS = {"bbox", "lang"}


class TrackAccessDenied(ForbiddenError):
    """This account may not see patrol tracks at all (403)."""

    zh = "无权查看巡查轨迹: 轨迹属于个人行踪信息, 仅限镇综治中心、镇领导、网格长和网格员本人查看"
    en = ("no access to patrol tracks: they are personal whereabouts, shown only to the town centre, "
          "town leaders, grid leaders and each grid worker for their own")

    def __init__(self):
        super().__init__(type(self).zh, type(self).en)


def may_see_tracks(user) -> bool:
    """Whether this account may see any patrol track (the page offers the layer only then)."""
    return bool(user is not None and getattr(user, "is_authenticated", False) and roles.has_permission(user.role, "see_tracks"))


def track_visible(user):
    """Which patrols this account may see, as a SQL condition; raises :class:`TrackAccessDenied`
    for the roles that see none."""
    if not may_see_tracks(user):
        raise TrackAccessDenied()
    if roles.has_permission(user.role, "see_all_areas"):
        return true()
    if user.role == "worker":
        person = select(Account.person_id).where(Account.id == user.id).scalar_subquery()
        return Patrol.worker_id == person  # an account without a person: NULL, so nothing
    area = user.scope_code  # a town (dispatcher, town_leader) or a village (leader)
    works_here = (select(GridAssignment.person_id)
                  .where(GridAssignment.grid_code.startswith(area, autoescape=True),
                         GridAssignment.valid_to.is_(None)))
    return or_(Patrol.grid_code.startswith(area, autoescape=True),
               and_(Patrol.grid_code.is_(None), Patrol.worker_id.in_(works_here)))


def parse_bbox(args: Mapping[str, str]) -> tuple[float, float, float, float]:
    """The required ``bbox=W,S,E,N`` (CRS84) of a patrols request. Raises :class:`~webmap.services.mapdata.MapParamsError`."""
    errors = mapdata.unknown_params(args, PARAMS)
    bbox = mapdata.bbox_param(args, errors)
    if errors:
        raise mapdata.MapParamsError(errors)
    return bbox


def _today(now: datetime) -> tuple[datetime, datetime]:
    """Midnight to midnight of ``now``'s day in Asia/Shanghai."""
    start = datetime.combine(now.astimezone(SHANGHAI).date(), time.min, SHANGHAI)
    return start, start + timedelta(days=1)


def _simplified():
    """The track simplified by :data:`SIMPLIFY_M` ground metres, back in EPSG:4326. Web Mercator
    stretches ground distances by 1 / cos(latitude), so the tolerance is stretched alike."""
    stretch = 1 / func.cos(func.radians(func.ST_Y(func.ST_Centroid(Patrol.track))))
    mercator = func.ST_Transform(Patrol.track, 3857)
    return func.ST_Transform(func.ST_SimplifyPreserveTopology(mercator, SIMPLIFY_M * stretch), 4326)


def todays_patrols(db: Session, user, bbox: tuple[float, float, float, float],
                   now: datetime | None = None) -> dict:
    """Today's patrols (started on ``now``'s day in Asia/Shanghai) whose track meets ``bbox``
    (CRS84 degrees), within what ``user`` may see: a GeoJSON FeatureCollection of LineStrings
    (coordinates to 6 decimals, about 0.1 m), newest first, at most :data:`MAX_FEATURES`.
    Properties: ``id``, ``worker`` (name), ``grid_code``, ``started_at``/``ended_at`` (ISO 8601,
    +08:00; ``ended_at`` null while walking), ``distance_m`` (metres on the ellipsoid)."""
    visible = track_visible(user)
    now = now or datetime.now(SHANGHAI)
    start, end = _today(now)
    env = func.ST_MakeEnvelope(*bbox, 4326)
    rows = db.execute(
        select(Patrol.id, Person.name, Patrol.grid_code, Patrol.started_at, Patrol.ended_at,
               Patrol.distance_m, func.ST_AsGeoJSON(_simplified(), 6).label("geojson"))
        .join(Person, Person.id == Patrol.worker_id)
        .where(visible, Patrol.started_at >= start, Patrol.started_at < end,
               Patrol.track.op("&&")(env), func.ST_Intersects(Patrol.track, env))
        .order_by(Patrol.started_at.desc(), Patrol.id.desc())
        .limit(MAX_FEATURES + 1)
    ).all()
    items = [
        {"type": "Feature", "id": r.id, "geometry": json.loads(r.geojson),
         "properties": {"id": r.id, "worker": r.name, "grid_code": r.grid_code,
                        "started_at": format_iso(r.started_at), "ended_at": format_iso(r.ended_at),
                        "distance_m": None if r.distance_m is None else round(r.distance_m, 1)}}
        for r in rows[:MAX_FEATURES]
    ]
    return {"type": "FeatureCollection", "date": start.date().isoformat(), "features": items,
            "numberReturned": len(items), "truncated": len(rows) > MAX_FEATURES}
