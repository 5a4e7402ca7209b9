"""Reading incidents (cases) within the reader's scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from db.models import Area, Category, CategoryLimitHistory, Department, Grid, Incident, Person
from workflow.cases import STATE_EN
from workflow.clock import format_iso

from . import privacy, scope

SOURCE_LABELS = {
    "grid_worker": "网格员上报", "resident": "居民上报", "hotline_12345": "12345 热线",
    "patrol": "巡查发现", "import": "批量导入", "open311": "Open311",
}


@dataclass(frozen=True)
class IncidentFilter:
    state: str | None = None
    category: str | None = None
    grid_code: str | None = None
    village_code: str | None = None
    source: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    bbox: tuple[float, float, float, float] | None = None


def filter_conditions(user, *, states=(), category: str | None = None, grid_code: str | None = None,
                      village_code: str | None = None, source: str | None = None,
                      since: datetime | None = None, until: datetime | None = None, bbox=None) -> list:
    """The reader's scope and the usual filters of incident listings and maps, as SQL conditions.
    ``bbox`` is (minLon, minLat, maxLon, maxLat) in WGS84."""
    where = [scope.incident_visible(user)]
    if states:
        where.append(Incident.state.in_(states))
    if category:
        where.append(Incident.category_id.in_(select(Category.id).where(Category.code == category)))
    if grid_code:
        where.append(Incident.grid_code == grid_code)
    if village_code:
        where.append(Incident.village_code == village_code)
    if source:
        where.append(Incident.source == source)
    if since:
        where.append(Incident.reported_at >= since)
    if until:
        where.append(Incident.reported_at <= until)
    if bbox:
        envelope = func.ST_MakeEnvelope(*bbox, 4326)
        where.append(and_(Incident.geom.op("&&")(envelope), func.ST_Intersects(Incident.geom, envelope)))
    return where


def _conditions(user, f: IncidentFilter) -> list:
    return filter_conditions(user, states=(f.state,) if f.state else (), category=f.category,
                             grid_code=f.grid_code, village_code=f.village_code, source=f.source,
                             since=f.since, until=f.until, bbox=f.bbox)


def list_incidents(db: Session, user, limit: int, offset: int = 0,
                   filters: IncidentFilter = IncidentFilter()) -> tuple[list[dict], int]:
    """Newest first, within the reader's scope. No personal data in the listing."""
    where = _conditions(user, filters)
    total = db.execute(
        select(func.count()).select_from(Incident).join(Category, Category.id == Incident.category_id).where(*where)
    ).scalar_one()
    rows = db.execute(
        select(
            Incident, Category.code, Category.name, Category.class_name, Category.name_en, Category.class_en,
            Grid.name, func.ST_X(Incident.geom), func.ST_Y(Incident.geom),
        )
        .join(Category, Category.id == Incident.category_id)
        .outerjoin(Grid, Grid.id == Incident.grid_id)
        .where(*where)
        .order_by(Incident.reported_at.desc(), Incident.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    items = [
        {
            "id": inc.id,
            "case_no": inc.case_no,
            "category": {"code": code, "name": name, "class": klass, "name_en": name_en, "class_en": class_en},
            "state": inc.state,
            "state_en": STATE_EN.get(inc.state, inc.state),
            "source": inc.source,
            "grid": {"code": inc.grid_code, "name": grid_name} if inc.grid_code else None,
            "location": {"lng": lng, "lat": lat, "crs": "wgs84"},
            "flags": list(inc.flags or []),
            "reported_at": format_iso(inc.reported_at),
            "deadline": format_iso(inc.deadline),
            "closed_at": format_iso(inc.closed_at),
            "synthetic": inc.synthetic,
        }
        for inc, code, name, klass, name_en, class_en, grid_name, lng, lat in rows
    ]
    return items, total


def _person(name: str | None, phone: str | None) -> dict | None:
    return {"name": name, "phone": phone} if name else None


@cache
def case_limit():
    """``time_limit`` and ``time_unit`` of a case: the category's limit on the day it was reported
    (an older limit from category_limit_history when it changed since), else today's."""
    def older(column):
        return (select(column).where(CategoryLimitHistory.category_id == Incident.category_id,
                                     CategoryLimitHistory.valid_until > Incident.reported_at)
                .order_by(CategoryLimitHistory.valid_until).limit(1).scalar_subquery())
    return (func.coalesce(older(CategoryLimitHistory.time_limit), Category.time_limit).label("time_limit"),
            func.coalesce(older(CategoryLimitHistory.time_unit), Category.time_unit).label("time_unit"))


def detail_select():
    """The columns of one incident's detail (built once: building it costs more than running it)."""
    worker, leader = aliased(Person), aliased(Person)
    village, routes_to = aliased(Area), aliased(Department)
    return (
        select(
            Incident.id, Incident.case_no, Incident.description, Incident.address, Incident.raw_lng,
            Incident.raw_lat, Incident.raw_crs, Incident.source, Incident.state, Incident.deadline,
            Incident.reported_at, Incident.closed_at, Incident.flags, Incident.distance_m, Incident.photos,
            Incident.reporter_name, Incident.reporter_phone, Incident.version, Incident.synthetic,
            Incident.grid_code, Incident.department_id, Incident.tier, Incident.extension_pending,
            Incident.reporter_id, Incident.dispatched_at, Incident.rework_count, Incident.return_count,
            Incident.satisfaction,
            func.ST_X(Incident.geom).label("lng"), func.ST_Y(Incident.geom).label("lat"),
            Category.code.label("cat_code"), Category.name.label("cat_name"),
            Category.name_en.label("cat_name_en"), Category.class_en.label("cat_class_en"),
            Category.class_name.label("cat_class"), Category.kind.label("cat_kind"),
            *case_limit(), Category.self_handle.label("cat_self_handle"),
            routes_to.code.label("cat_dept_code"),
            Grid.name.label("grid_name"), Grid.version.label("grid_version"),
            village.code.label("village_code"), village.name.label("village_name"),
            worker.name.label("worker_name"), worker.phone.label("worker_phone"),
            leader.name.label("leader_name"), leader.phone.label("leader_phone"),
            Department.code.label("dept_code"), Department.name.label("dept_name"),
            Department.phone.label("dept_phone"),
        )
        .join(Category, Category.id == Incident.category_id)
        .outerjoin(routes_to, routes_to.id == Category.department_id)
        .outerjoin(Grid, Grid.id == Incident.grid_id)
        .outerjoin(village, village.code == Incident.village_code)
        .outerjoin(worker, worker.id == Incident.worker_id)
        .outerjoin(leader, leader.id == Incident.leader_id)
        .outerjoin(Department, Department.id == Incident.department_id)
    )


def get_incident(db: Session, user, incident_id: int, photo_url=lambda sha: f"/api/v1/attachments/{sha}") -> dict | None:
    """One incident with its routing, people and photos; None when absent or out of scope."""
    row = db.execute(detail_select().where(Incident.id == incident_id, scope.incident_visible(user))).first()
    return None if row is None else serialize_detail(row, user, photo_url)


def serialize_detail(row, user, photo_url=lambda sha: f"/api/v1/attachments/{sha}") -> dict:
    """The API's view of one incident from a row with the columns of :func:`detail_select`
    (a database row, or the values the intake service has just written)."""
    full = privacy.may_see_reporter(user, row)
    return {
        "id": row.id,
        "case_no": row.case_no,
        "category": {"code": row.cat_code, "name": row.cat_name, "class": row.cat_class, "kind": row.cat_kind,
                     "name_en": row.cat_name_en, "class_en": row.cat_class_en,
                     "department": row.cat_dept_code},  # the department it routes to (派遣 preselects it)
        "description": row.description,
        "address": row.address,
        "location": {"lng": row.lng, "lat": row.lat, "crs": "wgs84"},
        "reported_location": {"lng": row.raw_lng, "lat": row.raw_lat, "crs": row.raw_crs},
        "source": row.source,
        "source_label": SOURCE_LABELS.get(row.source, row.source),
        "state": row.state,
        "state_en": STATE_EN.get(row.state, row.state),
        "tier": row.tier,
        "dispatched_at": format_iso(row.dispatched_at),
        "extension_pending": row.extension_pending,
        "rework_count": row.rework_count,
        "return_count": row.return_count,
        "satisfaction": row.satisfaction,
        "grid": {"code": row.grid_code, "name": row.grid_name, "version": row.grid_version}
        if row.grid_code else None,
        "village": {"code": row.village_code, "name": row.village_name} if row.village_code else None,
        "worker": _person(row.worker_name, row.worker_phone),
        "leader": _person(row.leader_name, row.leader_phone),
        "department": {"code": row.dept_code, "name": row.dept_name, "phone": row.dept_phone}
        if row.dept_code else None,
        "deadline": format_iso(row.deadline),
        "time_limit": {"value": row.time_limit, "unit": row.time_unit},
        "reported_at": format_iso(row.reported_at),
        "closed_at": format_iso(row.closed_at),
        "flags": list(row.flags or []),
        "distance_m": row.distance_m,
        "photos": [{"id": sha, "url": photo_url(sha)} for sha in row.photos or []],
        "reporter": {
            "name": row.reporter_name if full else privacy.mask_name(row.reporter_name),
            "phone": row.reporter_phone if full else privacy.mask_phone(row.reporter_phone),
            "masked": not full,
        },
        "version": row.version,
        "synthetic": row.synthetic,
    }


def categories(db: Session) -> list[dict]:
    rows = db.execute(
        select(Category, Department.name).outerjoin(Department, Department.id == Category.department_id)
        .order_by(Category.kind, Category.class_name, Category.code)
    ).all()
    return [
        {"code": c.code, "kind": c.kind, "class": c.class_name, "name": c.name, "class_en": c.class_en,
         "name_en": c.name_en, "department": dept,
         "self_handle": c.self_handle, "time_limit": {"value": c.time_limit, "unit": c.time_unit}}
        for c, dept in rows
    ]


def departments(db: Session) -> list[dict]:
    rows = db.execute(select(Department.code, Department.name, Department.phone, Department.level)
                      .order_by(Department.id)).all()
    return [{"code": c, "name": n, "phone": p, "level": lvl} for c, n, p, lvl in rows]
