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

from db.models import (
    Area,
    CaseEvent,
    Category,
    Department,
    Grid,
    HotlineEvent,
    Incident,
)
from workflow import cases, roles
from workflow import deadlines as rules
from workflow import hotline as orders
from workflow.clock import SHANGHAI, WorkCalendar, format_iso

from . import hotline, scope
from .errors import FieldError, ForbiddenError
from .workdays import TableInputError, load_calendar

# ---------------------------------------------------------------- 督办清单: the supervision list


def check_reader(user) -> None:
    """:class:`ForbiddenError` unless this user's role reads the supervision list."""
    if not roles.has_permission(user.role, "read_supervision"):
        raise ForbiddenError("此角色不能查看督办清单", "this role cannot read the supervision list")

LISTED = (rules.RED, rules.YELLOW)


NONE = "none"  # a filter value: the cases with no village (outside every grid) or no department yet


@dataclass(frozen=True)
class SupervisionFilter:
    statuses: tuple[str, ...] = LISTED
    department: str | None = None  # a code, or NONE: not yet dispatched
    village: str | None = None  # a village's code, or NONE: outside every grid
    category: str | None = None  # a category's code


def _known(db: Session, column, value: str | None, errors: list[FieldError], field: str,
           zh: str, en: str, *, none_ok: bool = True) -> None:
    if value is None or (none_ok and value == NONE):
        return
    if db.execute(select(column).where(column == value)).first() is None:
        errors.append(FieldError(field, f"没有代码为 {value} 的{zh}", f"no {en} has the code {value!r}"))


def parse_filter(db: Session, args: Mapping) -> SupervisionFilter:
    """``status`` (red, yellow, or both comma-separated), ``department``, ``village`` and
    ``category`` (codes; ``none`` for no department or no village)."""
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
    department, village, category = ((args.get(k) or "").strip() or None for k in ("department", "village", "category"))
    _known(db, Department.code, department, errors, "department", "部门", "department")
    _known(db, Area.code, village, errors, "village", "村/社区", "village")
    _known(db, Category.code, category, errors, "category", "类别", "category", none_ok=False)
    if errors:
        raise TableInputError(errors)
    return SupervisionFilter(statuses, department, village, category)


def _clock_conditions(user, f: SupervisionFilter) -> list:
    where = [
        scope.incident_visible(user),
        Incident.state.in_(rules.CLOCK_STATES),
        Incident.deadline.is_not(None),
    ]
    if f.department == NONE:
        where.append(Incident.department_id.is_(None))
    elif f.department:
        where.append(
            Incident.department_id.in_(select(Department.id).where(Department.code == f.department))
        )
    if f.village == NONE:
        where.append(Incident.village_code.is_(None))
    elif f.village:
        where.append(Incident.village_code == f.village)
    if f.category:
        where.append(Incident.category_id.in_(select(Category.id).where(Category.code == f.category)))
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
    check_reader(user)
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
                    Category.name_en.label("cat_name_en"),
                    Category.class_en.label("cat_class_en"),
                    Category.time_unit,
                    Grid.name.label("grid_name"),
                    Department.code.label("dept_code"),
                    Department.name.label("dept_name"),
                    Incident.department_id,
                    Area.name.label("village_name"),
                )
                .join(Category, Category.id == Incident.category_id)
                .outerjoin(Grid, Grid.id == Incident.grid_id)
                .outerjoin(Department, Department.id == Incident.department_id)
                .outerjoin(Area, Area.code == Incident.village_code)
                .where(Incident.id.in_(page_ids))
            ).all()
        }
        pressed = last_supervision(db, page_ids)
        actor = cases.Actor(id=user.id, role=user.role, scope_code=user.scope_code or "",
                            department_id=user.department_id)
        items = [
            {
                **_list_item(found[i], status_of(found[i], now, calendar)),
                "village": {"code": found[i].village_code, "name": found[i].village_name}
                if found[i].village_code else None,
                "supervision": pressed.get(i),
                "can_supervise": may_supervise(found[i], actor),
            }
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
        "category": {"code": row.cat_code, "name": row.cat_name, "class": row.cat_class,
                     "name_en": row.cat_name_en, "class_en": row.cat_class_en},
        "grid": {"code": row.grid_code, "name": row.grid_name} if row.grid_code else None,
        "village_code": row.village_code,
        "department": {"code": row.dept_code, "name": row.dept_name} if row.dept_code else None,
        "state": row.state,
        "state_en": cases.STATE_EN.get(row.state, row.state),
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


def may_supervise(row, actor: cases.Actor) -> bool:
    """Whether ``actor`` may press (督办) on this case now, by the workflow's rules."""
    case = cases.Case(state=row.state, tier=row.tier, grid_code=row.grid_code, category_self_handle=False,
                      department_id=row.department_id)
    try:
        cases.check("supervise", case, actor)
    except cases.TransitionError:
        return False
    return True


def _latest_supervision(db: Session, event, key, ids: list[int]) -> dict[int, dict]:
    """The latest 督办 event of each record (when, the note, how many times) by id: ``event`` is
    the events table (CaseEvent, HotlineEvent), ``key`` its column naming the record."""
    if not ids:
        return {}
    rows = db.execute(
        select(key.label("record"), event.at, event.note,
               func.count().over(partition_by=key).label("times"),
               func.row_number().over(partition_by=key, order_by=(event.at.desc(), event.id.desc())).label("n"))
        .where(key.in_(ids), event.action == "supervise")
    ).all()
    return {r.record: {"at": format_iso(r.at), "note": r.note, "count": r.times} for r in rows if r.n == 1}


def last_supervision(db: Session, incident_ids: list[int]) -> dict[int, dict]:
    """The latest 督办 of each case (when, the note, how many times), by case id."""
    return _latest_supervision(db, CaseEvent, CaseEvent.incident_id, incident_ids)


# ---------------------------------------------------------------- 12345 orders to press on

ORDER_LIMIT = 500  # open orders read for the list and the counts: a town has tens, not thousands


def _order_status(item: dict) -> str | None:
    """red when overdue, yellow when the running clock (签收 while pending, else 答复) is yellow."""
    if item["overdue"]:
        return rules.RED
    running = item["deadlines"]["accept" if item["state"] == orders.PENDING else "reply"]
    return rules.YELLOW if running["status"] == rules.YELLOW else None


def open_orders(db: Session, user, *, now: datetime) -> list[dict]:
    """The reader's open 12345 orders that are red or yellow, red first, then by deadline; [] for a
    role that reads no orders. Each: the order's own fields the list needs, ``status``, the
    running ``deadline``, the last 督办 and whether this user may press on it."""
    if not hotline.may_read(user):
        return []
    found = []
    for state in orders.REPLY_OWED:
        items, _total = hotline.list_orders(db, user, limit=ORDER_LIMIT, now=now,
                                            filters=hotline.OrderFilter(state=state))
        for item in items:
            status = _order_status(item)
            if status is not None:
                found.append((status, item))
    pressed = _latest_supervision(db, HotlineEvent, HotlineEvent.order_id, [item["id"] for _s, item in found])
    supervise = orders.ACTIONS["supervise"]
    out = []
    for status, item in found:
        running = item["deadlines"]["accept" if item["state"] == orders.PENDING else "reply"]
        incident = item["incident"] or {}
        out.append({
            "kind": "hotline",
            "id": item["id"],
            "order_no": item["order_no"],
            "state": item["state"],
            "state_en": orders.STATE_EN.get(item["state"], item["state"]),
            "content": item["content"],
            "urgency": item["urgency"],
            "village": incident.get("village"),
            "department": item["department"],
            "incident": {"id": incident["id"], "case_no": incident["case_no"]} if incident else None,
            "deadline": running["deadline"],
            "clock": "accept" if item["state"] == orders.PENDING else "reply",
            "status": status,
            "version": item["version"],
            "supervise_count": item["supervise_count"],
            "supervision": pressed.get(item["id"]),
            # the rule's own data: the desk presses on an overdue order in these states
            "can_supervise": user.role in supervise.roles and item["state"] in supervise.from_states
            and status == rules.RED,
        })
    out.sort(key=lambda o: (o["status"] != rules.RED, o["deadline"]))
    return out


def order_list(db: Session, user, *, now: datetime, filters: Mapping) -> dict:
    """The 12345 orders to press on: ``status`` (red, yellow), ``village``, ``department`` (codes,
    ``none`` for none) filter them. Raises :class:`ForbiddenError`, :class:`TableInputError`."""
    check_reader(user)
    f = parse_filter(db, filters)
    items = [o for o in open_orders(db, user, now=now) if o["status"] in f.statuses
             and _matches(o["village"], f.village) and _matches(o["department"], f.department)]
    return {"items": items, "total": len(items), "now": now.astimezone(SHANGHAI).isoformat(),
            "counts": {s: sum(o["status"] == s for o in items) for s in LISTED}}


def _matches(group: dict | None, wanted: str | None) -> bool:
    if wanted is None:
        return True
    return group is None if wanted == NONE else group is not None and group["code"] == wanted


# ---------------------------------------------------------------- the counts the town reports upward

GROUPINGS = ("village", "department", "category")
COUNTS = ("open", rules.RED, rules.YELLOW, "supervised", "parked", "orders_red", "orders_yellow")


def supervision_summary(db: Session, user, *, now: datetime, calendar: WorkCalendar | None = None) -> dict:
    """What the town reports upward, in the reader's scope: open cases, how many are overdue (red),
    due soon (yellow), supervised (督办) and parked (挂账), and the red and yellow 12345 orders; in
    all and per village, department and category. A group with no code (outside every grid, not
    yet dispatched) has the code ``none``. Raises :class:`ForbiddenError`."""
    check_reader(user)
    calendar = calendar or load_calendar(db)
    rows = db.execute(
        select(Incident.state, Incident.deadline, Incident.dispatched_at, Incident.reported_at,
               Incident.village_code, Area.name.label("village_name"), Category.time_unit,
               Category.code.label("cat_code"), Category.name.label("cat_name"),
               Category.class_name.label("cat_class"),
               Department.code.label("dept_code"), Department.name.label("dept_name"))
        .join(Category, Category.id == Incident.category_id)
        .outerjoin(Department, Department.id == Incident.department_id)
        .outerjoin(Area, Area.code == Incident.village_code)
        .where(scope.incident_visible(user), Incident.state.in_(cases.OPEN_STATES))
    ).all()
    total = dict.fromkeys(COUNTS, 0)
    groups: dict[str, dict[str, dict]] = {g: {} for g in GROUPINGS}

    def add(keys: dict[str, tuple[str, str]], counted: list[str]) -> None:
        for grouping, (code, name) in keys.items():
            entry = groups[grouping].setdefault(code, {"code": code, "name": name, **dict.fromkeys(COUNTS, 0)})
            for c in counted:
                entry[c] += 1
        for c in counted:
            total[c] += 1

    for r in rows:
        counted = ["open"]
        if r.state in rules.CLOCK_STATES and r.deadline is not None:
            status = status_of(r, now, calendar).status
            if status in LISTED:
                counted.append(status)
        if r.state == cases.SUPERVISED:
            counted.append("supervised")
        elif r.state == cases.PARKED:
            counted.append("parked")
        add({"village": (r.village_code or NONE, r.village_name or ""),
             "department": (r.dept_code or NONE, r.dept_name or ""),
             "category": (r.cat_code, f"{r.cat_class} · {r.cat_name}")}, counted)
    for o in open_orders(db, user, now=now):
        keys = {"village": ((o["village"] or {}).get("code") or NONE, (o["village"] or {}).get("name") or ""),
                "department": ((o["department"] or {}).get("code") or NONE, (o["department"] or {}).get("name") or ""),
                "category": ("12345", "12345")}
        add(keys, ["orders_" + o["status"]])

    def ordered(entries: dict[str, dict]) -> list[dict]:
        return sorted(entries.values(), key=lambda e: (-e[rules.RED] - e["orders_red"], -e[rules.YELLOW],
                                                       e["code"] == NONE, e["code"]))

    return {
        "now": now.astimezone(SHANGHAI).isoformat(),
        "total": total,
        "by": {g: ordered(groups[g]) for g in GROUPINGS},
        "orders": hotline.may_read(user),
    }


# ---------------------------------------------------------------- the summary as a workbook

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GROUP_LABELS = {"village": ("村/社区", "village"), "department": ("承办部门", "department"),
                "category": ("类别", "category")}
SHEET_NAMES = {"village": "按村社区", "department": "按部门", "category": "按类别"}  # no "/" in a sheet's name
COUNT_LABELS = {"open": ("未办结", "open"), rules.RED: ("超期", "overdue"), rules.YELLOW: ("临期", "due soon"),
                "supervised": ("督办", "supervised"), "parked": ("挂账", "parked"),
                "orders_red": ("12345 超期", "12345 overdue"), "orders_yellow": ("12345 临期", "12345 due soon")}
NONE_LABELS = {"village": "网格外", "department": "未派遣", "category": ""}


def summary_workbook(summary: dict, town_name: str) -> bytes:
    """:func:`supervision_summary` as an .xlsx: one sheet per grouping, headers in Chinese and
    English, a totals row."""
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Font

    bold = Font(bold=True)
    book = Workbook()
    book.remove(book.active)
    for grouping in GROUPINGS:
        zh, en = GROUP_LABELS[grouping]
        sheet = book.create_sheet(SHEET_NAMES[grouping])
        sheet.append([f"{town_name} 督办统计 (按{zh}) supervision counts by {en}, {summary['now'][:16]}"])
        sheet["A1"].font = bold
        sheet.append([f"{zh}编码", f"{zh}名称", *(COUNT_LABELS[c][0] for c in COUNTS)])
        sheet.append([f"{en} code", f"{en} name", *(COUNT_LABELS[c][1] for c in COUNTS)])
        for entry in summary["by"][grouping]:
            name = entry["name"] or NONE_LABELS[grouping]
            sheet.append([entry["code"], name, *(entry[c] for c in COUNTS)])
        sheet.append(["合计 total", "", *(summary["total"][c] for c in COUNTS)])
        for cell in (*sheet[2], *sheet[sheet.max_row]):
            cell.font = bold
        sheet.column_dimensions["A"].width = 16
        sheet.column_dimensions["B"].width = 28
    book.properties.title = f"督办统计 {summary['now'][:10]}"
    book.properties.creator = "网格 Wangge"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
