"""Reading incidents (cases) within the reader's scope."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import Category, Grid, Incident
from workflow.clock import SHANGHAI

from . import scope


def _iso(value):
    return value.astimezone(SHANGHAI).isoformat() if value else None


def list_incidents(db: Session, user, limit: int, offset: int = 0, state: str | None = None,
                   grid_code: str | None = None) -> tuple[list[dict], int]:
    """Newest first, within the reader's scope. No personal data in the listing."""
    where = [scope.incident_visible(user)]
    if state:
        where.append(Incident.state == state)
    if grid_code:
        where.append(Incident.grid_code == grid_code)
    total = db.execute(select(func.count()).select_from(Incident).where(*where)).scalar_one()
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
