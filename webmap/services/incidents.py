"""Reading incidents (cases) within the reader's scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from db.models import Area, Category, Department, Grid, Incident, Person
from workflow.clock import SHANGHAI

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


def _iso(value):
    return value.astimezone(SHANGHAI).isoformat() if value else None


def _conditions(user, f: IncidentFilter) -> list:
    where = [scope.incident_visible(user)]
    if f.state:
        where.append(Incident.state == f.state)
    if f.category:
        where.append(Category.code == f.category)
    if f.grid_code:
        where.append(Incident.grid_code == f.grid_code)
    if f.village_code:
        where.append(Incident.village_code == f.village_code)
    if f.source:
        where.append(Incident.source == f.source)
    if f.since:
        where.append(Incident.reported_at >= f.since)
    if f.until:
        where.append(Incident.reported_at <= f.until)
    if f.bbox:
        envelope = func.ST_MakeEnvelope(*f.bbox, 4326)
        where.append(and_(Incident.geom.op("&&")(envelope), func.ST_Intersects(Incident.geom, envelope)))
    return where


def list_incidents(db: Session, user, limit: int, offset: int = 0,
                   filters: IncidentFilter = IncidentFilter()) -> tuple[list[dict], int]:
    """Newest first, within the reader's scope. No personal data in the listing."""
    where = _conditions(user, filters)
    total = db.execute(
        select(func.count()).select_from(Incident).join(Category, Category.id == Incident.category_id).where(*where)
    ).scalar_one()
    rows = db.execute(
        select(
            Incident, Category.code, Category.name, Category.class_name, Grid.name,
            func.ST_X(Incident.geom), func.ST_Y(Incident.geom),
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
            "category": {"code": code, "name": name, "class": klass},
            "state": inc.state,
            "source": inc.source,
            "grid": {"code": inc.grid_code, "name": grid_name} if inc.grid_code else None,
            "location": {"lng": lng, "lat": lat, "crs": "wgs84"},
            "flags": list(inc.flags or []),
            "reported_at": _iso(inc.reported_at),
            "deadline": _iso(inc.deadline),
            "closed_at": _iso(inc.closed_at),
            "synthetic": inc.synthetic,
        }
        for inc, code, name, klass, grid_name, lng, lat in rows
    ]
    return items, total


def _person(p: Person | None) -> dict | None:
    return {"name": p.name, "phone": p.phone} if p else None


def get_incident(db: Session, user, incident_id: int, photo_url=lambda sha: f"/api/v1/attachments/{sha}") -> dict | None:
    """One incident with its routing, people and photos; None when absent or out of scope."""
    worker, leader = aliased(Person), aliased(Person)
    village = aliased(Area)
    row = db.execute(
        select(Incident, Category, Grid, village, worker, leader, Department,
               func.ST_X(Incident.geom), func.ST_Y(Incident.geom))
        .join(Category, Category.id == Incident.category_id)
        .outerjoin(Grid, Grid.id == Incident.grid_id)
        .outerjoin(village, village.code == Incident.village_code)
        .outerjoin(worker, worker.id == Incident.worker_id)
        .outerjoin(leader, leader.id == Incident.leader_id)
        .outerjoin(Department, Department.id == Incident.department_id)
        .where(Incident.id == incident_id, scope.incident_visible(user))
    ).first()
    if row is None:
        return None
    inc, cat, grid, vil, w, lead, dept, lng, lat = row
    full = privacy.may_see_reporter(user, inc)
    return {
        "id": inc.id,
        "case_no": inc.case_no,
        "category": {"code": cat.code, "name": cat.name, "class": cat.class_name, "kind": cat.kind},
        "description": inc.description,
        "address": inc.address,
        "location": {"lng": lng, "lat": lat, "crs": "wgs84"},
        "reported_location": {"lng": inc.raw_lng, "lat": inc.raw_lat, "crs": inc.raw_crs},
        "source": inc.source,
        "source_label": SOURCE_LABELS.get(inc.source, inc.source),
        "state": inc.state,
        "grid": {"code": grid.code, "name": grid.name, "version": grid.version} if grid else None,
        "village": {"code": vil.code, "name": vil.name} if vil else None,
        "worker": _person(w),
        "leader": _person(lead),
        "department": {"code": dept.code, "name": dept.name, "phone": dept.phone} if dept else None,
        "deadline": _iso(inc.deadline),
        "time_limit": {"value": cat.time_limit, "unit": cat.time_unit},
        "reported_at": _iso(inc.reported_at),
        "closed_at": _iso(inc.closed_at),
        "flags": list(inc.flags or []),
        "distance_m": inc.distance_m,
        "photos": [{"id": sha, "url": photo_url(sha)} for sha in inc.photos or []],
        "reporter": {
            "name": inc.reporter_name if full else privacy.mask_name(inc.reporter_name),
            "phone": inc.reporter_phone if full else privacy.mask_phone(inc.reporter_phone),
            "masked": not full,
        },
        "version": inc.version,
        "synthetic": inc.synthetic,
    }


def categories(db: Session) -> list[dict]:
    rows = db.execute(
        select(Category, Department.name).outerjoin(Department, Department.id == Category.department_id)
        .order_by(Category.kind, Category.class_name, Category.code)
    ).all()
    return [
        {"code": c.code, "kind": c.kind, "class": c.class_name, "name": c.name, "department": dept,
         "self_handle": c.self_handle, "time_limit": {"value": c.time_limit, "unit": c.time_unit}}
        for c, dept in rows
    ]
