"""督办清单, the supervision list: open cases in the reader's scope that are due soon (yellow) or
overdue (red), most urgent first. The rules (status, who is escalated) are pure, in
``workflow/deadlines.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import Category, Department, Grid, Incident
from workflow import deadlines as rules
from workflow import roles
from workflow.clock import SHANGHAI, WorkCalendar, format_iso

from . import scope
from .errors import FieldError, ForbiddenError
from .workdays import TableInputError, load_calendar

# ---------------------------------------------------------------- 督办清单: the supervision list

LISTED = (rules.RED, rules.YELLOW)


@dataclass(frozen=True)
class SupervisionFilter:
    statuses: tuple[str, ...] = LISTED
    department: str | None = None


def parse_filter(db: Session, args: Mapping) -> SupervisionFilter:
    """``status`` (red, yellow, or both comma-separated) and ``department`` (a code)."""
    errors: list[FieldError] = []
    raw = (args.get("status") or "").strip()
    statuses = LISTED
    if raw:
        asked = tuple(dict.fromkeys(s.strip() for s in raw.split(",") if s.strip()))
        if not asked or any(s not in LISTED for s in asked):
            errors.append(
                FieldError(
                    "status",
                    "status 应为 red(超期)、yellow(预警)或 red,yellow",
                    "status must be red, yellow or red,yellow",
                )
            )
        else:
            statuses = tuple(s for s in LISTED if s in asked)
    department = (args.get("department") or "").strip() or None
    if (
        department is not None
        and db.execute(select(Department.id).where(Department.code == department)).first() is None
    ):
        errors.append(
            FieldError(
                "department",
                f"没有代码为 {department} 的部门",
                f"no department has the code {department!r}",
            )
        )
    if errors:
        raise TableInputError(errors)
    return SupervisionFilter(statuses, department)


def _clock_conditions(user, f: SupervisionFilter) -> list:
    where = [
        scope.incident_visible(user),
        Incident.state.in_(rules.CLOCK_STATES),
        Incident.deadline.is_not(None),
    ]
    if f.department:
        where.append(
            Incident.department_id.in_(select(Department.id).where(Department.code == f.department))
        )
    return where


def status_of(row, now: datetime, calendar: WorkCalendar) -> rules.DeadlineStatus:
    return rules.status(
        rules.clock_start(row.dispatched_at, row.reported_at),
        row.deadline,
        now,
        calendar=calendar,
        working=rules.measured_on_working_clock(row.time_unit),
    )


def supervision_list(
    db: Session,
    user,
    *,
    now: datetime,
    limit: int,
    offset: int = 0,
    filters: SupervisionFilter | Mapping = SupervisionFilter(),
    calendar: WorkCalendar | None = None,
) -> dict:
    """Open cases in the reader's scope that are red or yellow at ``now``: red first, the longest
    overdue first, then yellow, the nearest deadline first. ``filters`` may be the request's
    query arguments (see :func:`parse_filter`). Raises :class:`ForbiddenError`, :class:`TableInputError`."""
    if not roles.has_permission(user.role, "read_supervision"):
        raise ForbiddenError("此角色不能查看督办清单", "this role cannot read the supervision list")
    if not isinstance(filters, SupervisionFilter):
        filters = parse_filter(db, filters)
    calendar = calendar or load_calendar(db)
    where = _clock_conditions(user, filters)
    red_total = 0
    if rules.RED in filters.statuses:
        red_total = db.execute(
            select(func.count()).select_from(Incident).where(*where, Incident.deadline < now)
        ).scalar_one()
    yellow: list[tuple[datetime, int]] = []
    if rules.YELLOW in filters.statuses:
        # yellow needs the working-day clock: narrow rows of the cases not yet overdue
        rows = db.execute(
            select(
                Incident.id,
                Incident.deadline,
                Incident.dispatched_at,
                Incident.reported_at,
                Category.time_unit,
            )
            .join(Category, Category.id == Incident.category_id)
            .where(*where, Incident.deadline >= now)
        ).all()
        yellow = sorted(
            (r.deadline, r.id) for r in rows if status_of(r, now, calendar).status == rules.YELLOW
        )

    page_ids: list[int] = []
    if offset < red_total:
        page_ids = list(
            db.execute(
                select(Incident.id)
                .where(*where, Incident.deadline < now)
                .order_by(Incident.deadline, Incident.id)
                .limit(limit)
                .offset(offset)
            ).scalars()
        )
    if len(page_ids) < limit:
        start = max(0, offset - red_total)
        page_ids += [i for _d, i in yellow[start : start + limit - len(page_ids)]]

    items = []
    if page_ids:
        found = {
            row.id: row
            for row in db.execute(
                select(
                    Incident.id,
                    Incident.case_no,
                    Incident.state,
                    Incident.tier,
                    Incident.deadline,
                    Incident.dispatched_at,
                    Incident.reported_at,
                    Incident.extension_pending,
                    Incident.version,
                    Incident.synthetic,
                    Incident.grid_code,
                    Incident.village_code,
                    Category.code.label("cat_code"),
                    Category.name.label("cat_name"),
                    Category.class_name.label("cat_class"),
                    Category.time_unit,
                    Grid.name.label("grid_name"),
                    Department.code.label("dept_code"),
                    Department.name.label("dept_name"),
                )
                .join(Category, Category.id == Incident.category_id)
                .outerjoin(Grid, Grid.id == Incident.grid_id)
                .outerjoin(Department, Department.id == Incident.department_id)
                .where(Incident.id.in_(page_ids))
            ).all()
        }
        items = [
            _list_item(found[i], status_of(found[i], now, calendar))
            for i in page_ids
            if i in found
        ]
    return {
        "items": items,
        "total": red_total + len(yellow),
        "limit": limit,
        "offset": offset,
        "counts": {
            rules.RED: red_total if rules.RED in filters.statuses else None,
            rules.YELLOW: len(yellow) if rules.YELLOW in filters.statuses else None,
        },
        "now": now.astimezone(SHANGHAI).isoformat(),
        "yellow_share": rules.YELLOW_SHARE,
        "synthetic": any(i["synthetic"] for i in items),
    }


def _list_item(row, st: rules.DeadlineStatus) -> dict:
    return {
        "id": row.id,
        "case_no": row.case_no,
        "category": {"code": row.cat_code, "name": row.cat_name, "class": row.cat_class},
        "grid": {"code": row.grid_code, "name": row.grid_name} if row.grid_code else None,
        "village_code": row.village_code,
        "department": {"code": row.dept_code, "name": row.dept_name} if row.dept_code else None,
        "state": row.state,
        "tier": row.tier,
        "clock_started_at": format_iso(rules.clock_start(row.dispatched_at, row.reported_at)),
        "deadline": format_iso(row.deadline),
        "status": st.status,
        "status_label": {"zh": st.label_zh, "en": st.label_en},
        "clock": "work" if st.working else "wall",  # how the hours below are measured
        "used_share": round(st.share_used, 3),
        "remaining_hours": rules.hours(st.remaining),
        "overdue_by": {
            "hours": rules.hours(st.overdue_by),
            "wall_hours": rules.hours(st.overdue_wall),
        }
        if st.status == rules.RED
        else None,
        "extension_pending": row.extension_pending,
        "version": row.version,
        "synthetic": row.synthetic,
    }
