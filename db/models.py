"""Records of Wangge as SQLAlchemy 2 / GeoAlchemy2 models. Geometry is EPSG:4326 in columns named ``geom``.

The schema itself is built by the Alembic migrations in ``db/migrations``; these classes describe it
to the ORM and to ``alembic revision --autogenerate``.
"""

from __future__ import annotations

from datetime import date, datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from workflow import cases, hotline, leave, office, staff
from workflow.roles import ROLES  # the accounts' check constraint lists them in the table's order

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

AREA_LEVELS = ("district", "town", "village")
AREA_KINDS = ("district", "town", "village", "community")
GRID_KINDS = ("comprehensive", "dedicated")  # 综合网格, 专属网格
DUTIES = ("worker", "leader")
CRS_NAMES = ("wgs84", "cgcs2000", "gcj02", "bd09")
SOURCES = ("grid_worker", "resident", "hotline_12345", "patrol", "import", "open311")
TIME_UNITS = ("work_hours", "work_days", "hours", "days")
CASE_STATES = cases.STATES
TIERS = cases.TIERS
OPEN_SQL = f"({', '.join(repr(s) for s in cases.OPEN_STATES)})"  # ('待受理', '已立案', …): into raw SQL
PLAN_STATUSES = ("draft", "scheduled", "published", "discarded")  # 草稿, 待生效, 已发布, 已作废


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Area(Base):
    """District → town → village/community, each a MultiPolygon."""

    __tablename__ = "areas"
    __table_args__ = (
        CheckConstraint(_in("level", AREA_LEVELS), name="level"),
        CheckConstraint(_in("kind", AREA_KINDS), name="kind"),
        CheckConstraint("ST_IsValid(geom)", name="geom_valid"),
        CheckConstraint("ST_SRID(geom) = 4326", name="geom_srid"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="RESTRICT"))
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))

    parent: Mapped[Area | None] = relationship(remote_side="Area.id")


class Town(Base):
    """What the town shows of itself, kept with the town's area (its code and boundary): the name in
    page headers, the governance centre (镇综合治理中心) that owns the town's queue, the supervision
    office and phone (监督电话) of boards and receipts, the case-number prefix and the map's first view."""

    __tablename__ = "towns"
    __table_args__ = (
        CheckConstraint("case_prefix ~ '^[A-Z]{1,8}$'", name="case_prefix"),
        CheckConstraint("map_lat BETWEEN -90 AND 90 AND map_lng BETWEEN -180 AND 180", name="map_center"),
        CheckConstraint("map_zoom BETWEEN 1 AND 19", name="map_zoom"),
    )

    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(100))
    center_name: Mapped[str] = mapped_column(String(100))
    center_name_en: Mapped[str | None] = mapped_column(String(200))
    supervision_office: Mapped[str] = mapped_column(String(100))
    supervision_phone: Mapped[str] = mapped_column(String(20))
    case_prefix: Mapped[str] = mapped_column(String(8))
    map_lat: Mapped[float] = mapped_column(Double)
    map_lng: Mapped[float] = mapped_column(Double)
    map_zoom: Mapped[int] = mapped_column(Integer, server_default=text("12"))

    area: Mapped[Area] = relationship()


class Grid(Base):
    """One version of a unit grid. The current version of a code has ``valid_to IS NULL``."""

    __tablename__ = "grids"
    __table_args__ = (
        UniqueConstraint("code", "version", name="uq_grids_code_version"),
        CheckConstraint("code ~ '^[0-9]{15}$'", name="code_15_digits"),
        CheckConstraint(_in("kind", GRID_KINDS), name="kind"),
        CheckConstraint("ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name="geom_valid"),
        CheckConstraint("ST_SRID(geom) = 4326", name="geom_srid"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="validity"),
        CheckConstraint("households >= 0 AND residents >= 0", name="population"),
        Index(
            "uq_grids_current_code",
            "code",
            unique=True,
            postgresql_where=text("valid_to IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(15), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16), server_default="comprehensive")
    village_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="RESTRICT"), index=True)
    households: Mapped[int] = mapped_column(Integer, server_default="0")
    residents: Mapped[int] = mapped_column(Integer, server_default="0")
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=False)
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    plan_id: Mapped[int | None] = mapped_column(Integer)
    synthetic: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))

    village: Mapped[Area] = relationship()


class GridPlan(Base):
    """A redraw plan (改划方案): the grids it changes (:class:`GridPlanItem`), checked by the
    server, published with an effective date into new grid versions. ``version`` grows with every
    edit, so that a stale edit gets 409."""

    __tablename__ = "grid_plans"
    __table_args__ = (CheckConstraint(_in("status", PLAN_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, server_default="")
    status: Mapped[str] = mapped_column(String(12), server_default="draft")
    source: Mapped[str] = mapped_column(String(16), server_default="browser")  # browser, import, inverse
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    effective_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    inverse_of: Mapped[int | None] = mapped_column(ForeignKey("grid_plans.id"))


class GridPlanItem(Base):
    """One grid as the plan would have it: its whole new geometry (NULL: the code is retired),
    name and population; ``base_grid_id`` is the version the change started from (NULL: a new
    grid), so that publishing over a grid another plan changed meanwhile is refused."""

    __tablename__ = "grid_plan_items"
    __table_args__ = (
        UniqueConstraint("plan_id", "code", name="uq_grid_plan_items_plan_code"),
        CheckConstraint("code ~ '^[0-9]{15}$'", name="code_15_digits"),
        CheckConstraint("geom IS NULL OR ST_SRID(geom) = 4326", name="geom_srid"),
        CheckConstraint(_in("kind", GRID_KINDS), name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("grid_plans.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(15))
    village_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16), server_default="comprehensive")
    households: Mapped[int | None] = mapped_column(Integer)  # NULL: shared out by area on publishing
    residents: Mapped[int | None] = mapped_column(Integer)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=True)
    base_grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))


class GridPlanEdit(Base):
    """The edit log of a plan: what each edit did and the items as they were before it (for undo
    and for telling a second planner what changed)."""

    __tablename__ = "grid_plan_edits"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("grid_plans.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)  # the plan's version this edit made
    op: Mapped[str] = mapped_column(String(16))
    codes: Mapped[list[str]] = mapped_column(ARRAY(String(15)))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    before: Mapped[dict] = mapped_column(JSONB, server_default="{}")  # code → item as it was, or null
    undone: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(16), server_default="town")


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(32))
    gender: Mapped[str | None] = mapped_column(String(1))
    photo: Mapped[str | None] = mapped_column(String(200))
    synthetic: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class Account(Base):
    """A login. ``scope_code`` is the grid, village, town or district code the account covers."""

    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    scope_code: Mapped[str] = mapped_column(String(15))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # a one-time password (wangge town init): the pages ask for a new one first (migration 0013)
    must_change_password: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))

    person: Mapped[Person | None] = relationship()
    department: Mapped[Department | None] = relationship()


class GridAssignment(Base):
    """Who is the worker (网格员) or leader (网格长) of a grid, from when to when."""

    __tablename__ = "grid_assignments"
    __table_args__ = (
        CheckConstraint(_in("duty", DUTIES), name="duty"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="validity"),
        Index("ix_grid_assignments_current", "grid_code", "duty", postgresql_where=text("valid_to IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grid_code: Mapped[str] = mapped_column(String(15))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"), index=True)
    duty: Mapped[str] = mapped_column(String(8))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)

    person: Mapped[Person] = relationship()


class Category(Base):
    """Event / component / social-governance category with its department and time limit."""

    __tablename__ = "categories"
    __table_args__ = (
        CheckConstraint(_in("time_unit", TIME_UNITS), name="time_unit"),
        CheckConstraint("time_limit > 0", name="time_limit"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # event, component, governance
    class_name: Mapped[str] = mapped_column(String(32))  # 市容环境 …
    name: Mapped[str] = mapped_column(String(64))  # sub-category
    name_en: Mapped[str | None] = mapped_column(String(64))  # for ?lang=en; the Chinese when absent
    class_en: Mapped[str | None] = mapped_column(String(64))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    self_handle: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    time_limit: Mapped[int] = mapped_column(Integer)
    time_unit: Mapped[str] = mapped_column(String(16))

    department: Mapped[Department | None] = relationship()


class CategoryLimitHistory(Base):
    """A time limit a category had until ``valid_until``: the limit of the cases reported before."""

    __tablename__ = "category_limit_history"
    __table_args__ = (Index("ix_category_limit_history_category", "category_id", "valid_until"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"))
    time_limit: Mapped[int] = mapped_column(Integer)
    time_unit: Mapped[str] = mapped_column(String(16))
    valid_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Incident(Base):
    """A reported incident, which becomes a case (案卷) once filed."""

    __tablename__ = "incidents"
    __table_args__ = (
        CheckConstraint(_in("raw_crs", CRS_NAMES), name="raw_crs"),
        CheckConstraint(_in("source", SOURCES), name="source"),
        CheckConstraint(_in("state", CASE_STATES), name="state"),
        CheckConstraint("ST_SRID(geom) = 4326", name="geom_srid"),
        CheckConstraint("raw_lng BETWEEN -180 AND 180 AND raw_lat BETWEEN -90 AND 90", name="raw_range"),
        CheckConstraint(_in("tier", TIERS), name="tier"),
        CheckConstraint("satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5", name="satisfaction"),
        Index("ix_incidents_reported_at", "reported_at"),
        Index("ix_incidents_category_reported", "category_id", "reported_at"),  # category (and period) filters
        Index("ix_incidents_grid_code", "grid_code"),
        # the few states off the clock that filters ask for (migration 0005 says why not all)
        Index("ix_incidents_state", "state", postgresql_where=text("state IN ('待核查', '挂账', '作废')")),
        # the console's search: substrings of the address and the description (pg_trgm)
        Index("ix_incidents_address_trgm", "address", postgresql_using="gin",
              postgresql_ops={"address": "gin_trgm_ops"}),
        Index("ix_incidents_description_trgm", "description", postgresql_using="gin",
              postgresql_ops={"description": "gin_trgm_ops"}),
        # the cases on the deadline clock (workflow.deadlines.CLOCK_STATES), red/yellow from the index
        Index("ix_incidents_clock", "deadline", postgresql_where=text(
            "state IN ('待受理', '已立案', '立案派遣', '处理中', '督办')"),
            postgresql_include=["state", "reported_at", "dispatched_at", "grid_code", "village_code",
                                "category_id", "source", "geom"]),
        # what a published grid plan re-routes: the open cases of a grid, and the open cases routed
        # to no grid or to the nearest one (they may fall in a grid the plan grew)
        Index("ix_incidents_open_grid", "grid_code", postgresql_where=text(f"state IN {OPEN_SQL}")),
        Index("ix_incidents_open_loose", "geom", postgresql_using="gist", postgresql_where=text(
            f"state IN {OPEN_SQL} AND (grid_code IS NULL OR distance_m > 0)")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_no: Mapped[str] = mapped_column(String(32), unique=True)
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=False)
    raw_lng: Mapped[float] = mapped_column(Double)
    raw_lat: Mapped[float] = mapped_column(Double)
    raw_crs: Mapped[str] = mapped_column(String(8), server_default="wgs84")
    source: Mapped[str] = mapped_column(String(16))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    description: Mapped[str] = mapped_column(Text, server_default="")
    address: Mapped[str | None] = mapped_column(String(200))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))  # the version it was routed by
    grid_code: Mapped[str | None] = mapped_column(String(15))
    village_code: Mapped[str | None] = mapped_column(String(12))
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    reporter_name: Mapped[str | None] = mapped_column(String(50))  # personal data: masked
    reporter_phone: Mapped[str | None] = mapped_column(String(32))  # personal data: masked
    state: Mapped[str] = mapped_column(String(8), server_default="待受理")
    flags: Mapped[list[str]] = mapped_column(ARRAY(String(32)), server_default="{}")
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    photos: Mapped[list[str]] = mapped_column(ARRAY(String(64)), server_default="{}")  # attachment hashes
    distance_m: Mapped[float | None] = mapped_column(Double)  # to the grid, when routed near_boundary
    tier: Mapped[str] = mapped_column(String(8), server_default="village")  # who holds it now
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    extension_pending: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    rework_count: Mapped[int] = mapped_column(Integer, server_default="0")  # 返工
    return_count: Mapped[int] = mapped_column(Integer, server_default="0")  # 回退
    satisfaction: Mapped[int | None] = mapped_column(Integer)  # 回访: 1 (very unhappy) … 5
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    synthetic: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))

    category: Mapped[Category] = relationship()


class CaseTally(Base):
    """Counts of incidents per 50 m cell (EPSG:3857 ``floor(x / 50)``, ``floor(y / 50)``), grid
    and state, kept exact by statement triggers on ``incidents`` (migration 0005): what the
    dispatcher console's aggregates read instead of the whole table."""

    __tablename__ = "case_tally"
    __table_args__ = (
        Index("uq_case_tally_key", "cx", "cy", "grid_code", "village_code", "state", unique=True,
              postgresql_nulls_not_distinct=True),
        Index("ix_case_tally_grid_code", "grid_code"),
    )
    __mapper_args__ = {"primary_key": ["cx", "cy", "grid_code", "village_code", "state"]}

    cx: Mapped[int] = mapped_column(Integer)
    cy: Mapped[int] = mapped_column(Integer)
    grid_code: Mapped[str | None] = mapped_column(String(15))
    village_code: Mapped[str | None] = mapped_column(String(12))
    state: Mapped[str] = mapped_column(String(8))
    n: Mapped[int] = mapped_column(Integer)


class CaseEvent(Base):
    """Append-only history of a case; the database refuses UPDATE, DELETE and TRUNCATE."""

    __tablename__ = "case_events"
    __table_args__ = (
        # the client's key of the action that wrote it: a phone's queued action is applied once
        Index("uq_case_events_idempotency_key", text("(data ->> 'idempotency_key')"), unique=True,
              postgresql_where=text("data ? 'idempotency_key'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(8))
    to_state: Mapped[str | None] = mapped_column(String(8))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSONB, server_default="{}")


PATROL_SOURCES = ("phone", "gpx", "demo")
PATROL_REVIEWS = ("accepted", "rejected")  # the town's verdict on a flagged track


class Patrol(Base):
    """One patrol (巡查) of a grid worker, with its track and, once stopped, its metrics and the
    flags of an implausible track (never dropped: the town reviews them)."""

    __tablename__ = "patrols"
    __table_args__ = (
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="time"),
        CheckConstraint(_in("source", PATROL_SOURCES), name="source"),
        CheckConstraint(f"review IS NULL OR {_in('review', PATROL_REVIEWS)}", name="review"),
        UniqueConstraint("worker_id", "client_id", name="uq_patrols_worker_client"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    grid_code: Mapped[str | None] = mapped_column(String(15))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    track = mapped_column(Geometry("LINESTRING", srid=4326, spatial_index=True))
    distance_m: Mapped[float | None] = mapped_column(Double)
    synthetic: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    client_id: Mapped[str | None] = mapped_column(String(64))  # the phone's id: a resent start is one patrol
    source: Mapped[str] = mapped_column(String(8), server_default="phone")
    duration_s: Mapped[float | None] = mapped_column(Double)
    moving_s: Mapped[float | None] = mapped_column(Double)
    coverage: Mapped[float | None] = mapped_column(Double)  # 0–1 of the own grid within 30 m of the track
    outside_s: Mapped[float | None] = mapped_column(Double)
    checkpoints: Mapped[dict | None] = mapped_column(JSONB)  # {visited, required, missed}
    flags: Mapped[list] = mapped_column(JSONB, server_default="[]")
    review: Mapped[str | None] = mapped_column(String(12))
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    review_note: Mapped[str | None] = mapped_column(Text)


class GpsFix(Base):
    __tablename__ = "gps_fixes"
    __table_args__ = (
        Index("ix_gps_fixes_worker_at", "worker_id", "at"),
        # a batch resent after hours offline adds nothing twice
        Index("uq_gps_fixes_patrol_at", "patrol_id", "at", unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    patrol_id: Mapped[int | None] = mapped_column(ForeignKey("patrols.id"), index=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=False)
    accuracy_m: Mapped[float | None] = mapped_column(Double)
    speed_mps: Mapped[float | None] = mapped_column(Double)


class Checkpoint(Base):
    """A key place (重点场所) a grid's patrols must visit: within ``radius_m`` of the point."""

    __tablename__ = "checkpoints"
    __table_args__ = (
        CheckConstraint("grid_code ~ '^[0-9]{15}$'", name="grid_code_15_digits"),
        CheckConstraint("radius_m > 0 AND radius_m <= 500", name="radius"),
        CheckConstraint("ST_SRID(geom) = 4326", name="geom_srid"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grid_code: Mapped[str] = mapped_column(String(15), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str | None] = mapped_column(String(32))  # e.g. 学校, 加油站, 养老院
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=False)
    radius_m: Mapped[float] = mapped_column(Double, server_default="30")
    required: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Attendance(Base):
    """A sign-in or sign-out (签到/签退) from the phone, with where it was made and whether that
    lies in the worker's grid (within a tolerance)."""

    __tablename__ = "attendance"
    __table_args__ = (
        CheckConstraint("kind IN ('in', 'out')", name="kind"),
        UniqueConstraint("account_id", "client_id", name="uq_attendance_account_client"),
        Index("ix_attendance_worker_at", "worker_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    kind: Mapped[str] = mapped_column(String(4))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=True)
    accuracy_m: Mapped[float | None] = mapped_column(Double)
    grid_code: Mapped[str | None] = mapped_column(String(15))
    inside: Mapped[bool | None] = mapped_column(Boolean)
    distance_m: Mapped[float | None] = mapped_column(Double)
    client_id: Mapped[str | None] = mapped_column(String(64))
    synthetic: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class Holiday(Base):
    """The editable working-day table: a day declared a holiday or a workday (调休), overriding
    the package's calendar and the weekend rule, for years the package does not know yet."""

    __tablename__ = "holidays"
    __table_args__ = (CheckConstraint("kind IN ('holiday', 'workday')", name="kind"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    note: Mapped[str | None] = mapped_column(String(100))


class Attachment(Base):
    """A photo or file, stored once by its SHA-256 content hash."""

    __tablename__ = "attachments"
    __table_args__ = (
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256"),
        CheckConstraint("size > 0", name="size"),
    )

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    mime: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ApiClient(Base):
    """A system allowed to post Open311 requests; only the SHA-256 of its key is kept."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Setting(Base):
    """Small key/value facts about this installation (e.g. that the data is synthetic)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict] = mapped_column(JSONB)


class AuditEntry(Base):
    """One administrative change: who (the account and its username, kept if the account goes), when,
    what (``action`` on ``target``, e.g. ``reassign`` on ``grid:120116103214003``), before and after."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", text("at DESC")),
        Index("ix_audit_log_target", "target", text("at DESC")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict | None] = mapped_column(JSONB)
    after: Mapped[dict | None] = mapped_column(JSONB)
    note: Mapped[str | None] = mapped_column(Text)


LEAVE_STATES = leave.STATES


class Leave(Base):
    """A grid worker's leave (请假): from ``start`` to ``end`` (dates, inclusive), ``days`` working
    days, approved by ``approver_role`` (the village's leader up to 3 days, else the town's centre)."""

    __tablename__ = "leaves"
    __table_args__ = (
        CheckConstraint('"end" >= start', name="period"),
        CheckConstraint(_in("state", LEAVE_STATES), name="state"),
        Index("ix_leaves_worker", "worker_id", "start"),
        Index("ix_leaves_grid", "grid_code", "start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    grid_code: Mapped[str] = mapped_column(String(15))
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text)
    days: Mapped[int] = mapped_column(Integer)
    approver_role: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(8), server_default="待审批")
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    back_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # who the town names to take the grid's new cases during the leave (顶岗), if anyone
    stand_in_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))


class LeaveEvent(Base):
    """One step of a leave: asked, approved, refused, cancelled, back at work."""

    __tablename__ = "leave_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    leave_id: Mapped[int] = mapped_column(ForeignKey("leaves.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)


class Notice(Base):
    """A notice (通知/通报) to a person (``person_id``) or to a village or grid (``scope_code``): a spot
    check's result, a criticism, a talk, a dismissal proposed. ``ref`` names what it is about
    (``spot_check:12``, ``discipline:3``); ``read_at`` is when the addressee opened it."""

    __tablename__ = "notices"
    __table_args__ = (
        CheckConstraint("person_id IS NOT NULL OR scope_code IS NOT NULL", name="addressee"),
        Index("ix_notices_person", "person_id", text("at DESC")),
        Index("ix_notices_scope", "scope_code", text("at DESC")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    kind: Mapped[str] = mapped_column(String(24))
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    scope_code: Mapped[str | None] = mapped_column(String(15))
    ref: Mapped[str | None] = mapped_column(String(40))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SpotCheck(Base):
    """The monthly spot check (一月一抽查) of one worker by the district's grid centre: ``month`` is the
    month's first day, ``seed`` what the sample was drawn from (the month and the worker), so drawing
    again gives the same items."""

    __tablename__ = "spot_checks"
    __table_args__ = (
        UniqueConstraint("month", "worker_id", name="uq_spot_checks_month_worker"),
        CheckConstraint("extract(day FROM month) = 1", name="month"),
        CheckConstraint(_in("state", staff.SPOT_STATES), name="state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[date] = mapped_column(Date)
    worker_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    grid_code: Mapped[str] = mapped_column(String(15), index=True)
    seed: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(8), server_default="待检查")
    drawn_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    drawn_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))


class SpotCheckItem(Base):
    """One sampled record of a spot check (a report, a patrol or a sign-in: ``kind`` and ``ref_id``)
    and the checker's verdict: ``pass`` / ``fail`` with a reason, or none yet."""

    __tablename__ = "spot_check_items"
    __table_args__ = (
        UniqueConstraint("spot_check_id", "item", name="uq_spot_check_items_item"),
        CheckConstraint(_in("kind", staff.SPOT_ITEM_KINDS), name="kind"),
        CheckConstraint("result IS NULL OR " + _in("result", staff.SPOT_RESULTS), name="result"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    spot_check_id: Mapped[int] = mapped_column(ForeignKey("spot_checks.id", ondelete="CASCADE"))
    item: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(12))
    ref_id: Mapped[int] = mapped_column(BigInteger)
    result: Mapped[str | None] = mapped_column(String(4))
    reason: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    checked_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))


class DisciplineCase(Base):
    """A worker on the discipline ladder (执纪): 通报批评 → 诫勉谈话 → 建议辞退 → the town's decision,
    ``due`` the day the next step falls unless corrected. ``loses_merit_year``: the year the talk
    took away 评优."""

    __tablename__ = "discipline_cases"
    __table_args__ = (
        CheckConstraint(_in("step", staff.DISCIPLINE_STEPS), name="step"),
        Index("ix_discipline_cases_due", "due", postgresql_where=text(_in("step", staff.DISCIPLINE_OPEN))),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    grid_code: Mapped[str] = mapped_column(String(15))
    spot_check_id: Mapped[int | None] = mapped_column(ForeignKey("spot_checks.id"))
    finding: Mapped[str] = mapped_column(Text)
    step: Mapped[str] = mapped_column(String(8))
    step_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due: Mapped[date | None] = mapped_column(Date)
    loses_merit_year: Mapped[int | None] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))


class DisciplineEvent(Base):
    """One step of a discipline case, append-only: who (``actor_id``; none for the clock job), what
    (``action``), the step it led to, the note and the evidence (attachment hashes)."""

    __tablename__ = "discipline_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("discipline_cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    action: Mapped[str] = mapped_column(String(24))
    step: Mapped[str] = mapped_column(String(8))
    note: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[list] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))


class AssessmentPlan(Base):
    """A version of the town's assessment plan (考核方案): items, rules, weights, grade bands, bonus
    cap, pay tiers, as JSON. The newest is in force; the older ones stay for the record."""

    __tablename__ = "assessment_plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    body: Mapped[dict] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    note: Mapped[str | None] = mapped_column(Text)


class AssessmentScore(Base):
    """A score set by hand for one item of one worker's assessment of a ``period`` (``2026-11`` or
    ``2026``), with its reason (required)."""

    __tablename__ = "assessment_scores"
    __table_args__ = (
        UniqueConstraint("period", "worker_id", "item_code", name="uq_assessment_scores_item"),
        CheckConstraint("length(trim(reason)) > 0", name="reason"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    period: Mapped[str] = mapped_column(String(7))
    worker_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    item_code: Mapped[str] = mapped_column(String(32))
    score: Mapped[float] = mapped_column(Double)
    reason: Mapped[str] = mapped_column(Text)
    set_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AssessmentDecision(Base):
    """What a year's assessment grounded for a worker (续聘, 辞退, 奖励, 惩处), with the total and grade
    it rested on: the history of a worker's annual results."""

    __tablename__ = "assessment_decisions"
    __table_args__ = (
        CheckConstraint(_in("grade", staff.GRADES), name="grade"),
        CheckConstraint(_in("decision", staff.DECISIONS), name="decision"),
        Index("ix_assessment_decisions_worker", "worker_id", "year"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    worker_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    total: Mapped[float] = mapped_column(Double)
    grade: Mapped[str] = mapped_column(String(4))
    decision: Mapped[str] = mapped_column(String(4))
    note: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class StaffMember(Base):
    """A member of the town centre's own staff (seed 7-1): post and kind of employment, from when."""

    __tablename__ = "staff_members"
    __table_args__ = (CheckConstraint(_in("establishment", staff.ESTABLISHMENTS), name="establishment"),)

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    post: Mapped[str] = mapped_column(String(50))
    establishment: Mapped[str] = mapped_column(String(8))
    since: Mapped[date | None] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date)


class StaffTraining(Base):
    """A training a staff member (or a grid worker) took: course, day, hours, certificate."""

    __tablename__ = "staff_trainings"
    __table_args__ = (CheckConstraint("hours > 0 AND hours <= 1000", name="hours"),
                      Index("ix_staff_trainings_person", "person_id", "day"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    course: Mapped[str] = mapped_column(String(200))
    day: Mapped[date] = mapped_column(Date)
    hours: Mapped[float] = mapped_column(Double)
    certificate: Mapped[str | None] = mapped_column(String(100))
    attachment: Mapped[str | None] = mapped_column(ForeignKey("attachments.sha256"))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class StaffAppraisal(Base):
    """The annual assessment of a 事业编制 staff member by the town's party committee and government
    (镇党委、镇政府年度考核), in the same three grades."""

    __tablename__ = "staff_appraisals"
    __table_args__ = (
        UniqueConstraint("person_id", "year", name="uq_staff_appraisals_year"),
        CheckConstraint(_in("grade", staff.GRADES), name="grade"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    year: Mapped[int] = mapped_column(Integer)
    grade: Mapped[str] = mapped_column(String(4))
    appraiser: Mapped[str] = mapped_column(String(50), server_default="镇党委、镇政府")
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


HOTLINE_STATES = hotline.STATES
HOTLINE_URGENCIES = ("life_property", "utilities", "normal")
HOTLINE_CHANNELS = ("phone", "web", "wechat", "app", "weibo", "email", "other")


class HotlineOrder(Base):
    """A 12345 hotline work order (便民专线工单) dispatched to the town by the city/district
    platform. The petitioner's name and phone are personal data: masked outside the roles that
    handle the order. Deadlines are computed once (decree No. 39) and stored."""

    __tablename__ = "hotline_orders"
    __table_args__ = (
        CheckConstraint(_in("state", HOTLINE_STATES), name="state"),
        CheckConstraint(_in("urgency", HOTLINE_URGENCIES), name="urgency"),
        CheckConstraint(_in("channel", HOTLINE_CHANNELS), name="channel"),
        CheckConstraint("(lng IS NULL) = (lat IS NULL)", name="location_pair"),
        CheckConstraint("lng IS NULL OR (lng BETWEEN -180 AND 180 AND lat BETWEEN -90 AND 90)",
                        name="location_range"),
        CheckConstraint("accept_deadline > dispatched_at AND reply_deadline > dispatched_at", name="deadlines"),
        CheckConstraint("return_count >= 0 AND supervise_count >= 0", name="counts"),
        Index("ix_hotline_orders_state", "state"),
        Index("ix_hotline_orders_dispatched_at", "dispatched_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    order_no: Mapped[str] = mapped_column(String(40), unique=True)  # the platform's 工单编号
    channel: Mapped[str] = mapped_column(String(16), server_default="phone")
    petitioner_name: Mapped[str | None] = mapped_column(String(50))  # personal data: masked
    petitioner_phone: Mapped[str | None] = mapped_column(String(32))  # personal data: masked
    content: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(200))
    lng: Mapped[float | None] = mapped_column(Double)  # WGS84
    lat: Mapped[float | None] = mapped_column(Double)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    urgency: Mapped[str] = mapped_column(String(16), server_default="normal")
    dispatched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accept_deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reply_deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(8), server_default="待签收")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    instruction: Mapped[str | None] = mapped_column(Text)  # 领导批示
    draft: Mapped[str | None] = mapped_column(Text)  # the section's draft reply
    reply: Mapped[str | None] = mapped_column(Text)  # the reply sent to the petitioner
    signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    drafted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    replied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    returned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    supervised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    return_count: Mapped[int] = mapped_column(Integer, server_default="0")  # 退回
    supervise_count: Mapped[int] = mapped_column(Integer, server_default="0")  # 督办
    imported_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    version: Mapped[int] = mapped_column(Integer, server_default="1")


class HotlineEvent(Base):
    """Append-only history of a hotline order; the database refuses UPDATE, DELETE and TRUNCATE.
    ``department_id`` is the section an event concerns (assigned to, drafting, returning)."""

    __tablename__ = "hotline_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("hotline_orders.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(8))
    to_state: Mapped[str | None] = mapped_column(String(8))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSONB, server_default="{}")


# ---------------------------------------------------------------- daily visits (日走访, issue 16 ③)
VISIT_CRS = CRS_NAMES


class AddressPoint(Base):
    """One 门牌 of a grid's register of buildings and households (张庄村 3 排 12 号): its point, the
    grid it lies in (routed when it was registered) and how many households live behind it. No
    resident's name: a visit needs the door, not the person. A retired point (``active`` false) stays
    for the visits that name it."""

    __tablename__ = "address_points"
    __table_args__ = (
        UniqueConstraint("grid_code", "address", name="uq_address_points_grid_address"),
        CheckConstraint("grid_code ~ '^[0-9]{15}$'", name="grid_code_15_digits"),
        CheckConstraint("households BETWEEN 1 AND 500", name="households"),
        CheckConstraint("ST_SRID(geom) = 4326", name="geom_srid"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grid_code: Mapped[str] = mapped_column(String(15), index=True)
    address: Mapped[str] = mapped_column(String(200))
    households: Mapped[int] = mapped_column(Integer, server_default="1")
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    synthetic: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Visit(Base):
    """A grid worker's visit to a household (入户走访): when, where the phone was (WGS84, with the
    coordinates as sent), what was found, photos, the flags of a doubtful position, and the case it
    reported when a problem was found. ``idempotency_key`` makes a phone's resend one visit."""

    __tablename__ = "visits"
    __table_args__ = (
        CheckConstraint(_in("raw_crs", VISIT_CRS), name="raw_crs"),
        CheckConstraint("ST_SRID(geom) = 4326", name="geom_srid"),
        Index("ix_visits_grid_visited", "grid_code", "visited_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    address_id: Mapped[int] = mapped_column(ForeignKey("address_points.id"), index=True)
    grid_code: Mapped[str] = mapped_column(String(15))  # the household's grid
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    visited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=False)
    raw_lng: Mapped[float] = mapped_column(Double)
    raw_lat: Mapped[float] = mapped_column(Double)
    raw_crs: Mapped[str] = mapped_column(String(8))
    accuracy_m: Mapped[float | None] = mapped_column(Double)
    outside_m: Mapped[float | None] = mapped_column(Double)  # metres outside the worker's grid (0 inside)
    household_m: Mapped[float | None] = mapped_column(Double)  # metres from the household's point
    note: Mapped[str] = mapped_column(Text, server_default="")
    photos: Mapped[list[str]] = mapped_column(ARRAY(String(64)), server_default="{}")  # attachment hashes
    flags: Mapped[list[str]] = mapped_column(ARRAY(String(32)), server_default="{}")
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
# ---------------------------------------------------------------- 周分析 / 月汇总 / 民情分析会 (seed 5-1 ③④, issue 16 item 4)

from workflow import analyses  # noqa: E402  (imported here: this part's section stays in one place)


class Analysis(Base):
    """A weekly analysis (周分析) or monthly summary (月汇总) of a village or the town: the period
    (``period_start`` a Monday or a month's first day, ``period_end`` its last day), the figures
    counted from the data when it was made or counted again (``figures``, frozen: later changes to
    the cases do not change them), and the hand-written 分析意见 / 问题与措施 / 下步工作. 草稿 → 已定稿;
    a finalised record is read-only. One per kind, period and scope."""

    __tablename__ = "analyses"
    __table_args__ = (
        UniqueConstraint("kind", "period_start", "scope_code", name="uq_analyses_period_scope"),
        CheckConstraint(_in("kind", analyses.KINDS), name="kind"),
        CheckConstraint(_in("state", analyses.STATES), name="state"),
        CheckConstraint(_in("scope_kind", analyses.SCOPE_KINDS), name="scope_kind"),
        CheckConstraint("(kind = 'week' AND extract(isodow FROM period_start) = 1 AND period_end = period_start + 6)"
                        " OR (kind = 'month' AND extract(day FROM period_start) = 1"
                        " AND period_end = (period_start + interval '1 month' - interval '1 day')::date)",
                        name="period"),
        CheckConstraint("(state = '已定稿') = (finalized_at IS NOT NULL)", name="finalized"),
        Index("ix_analyses_scope", "scope_code", "period_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    scope_kind: Mapped[str] = mapped_column(String(8))
    scope_code: Mapped[str] = mapped_column(String(12))
    state: Mapped[str] = mapped_column(String(8), server_default="草稿")
    figures: Mapped[dict] = mapped_column(JSONB)
    counted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    opinion: Mapped[str] = mapped_column(Text, server_default="")  # 分析意见
    problems: Mapped[str] = mapped_column(Text, server_default="")  # 问题与措施
    next_steps: Mapped[str] = mapped_column(Text, server_default="")  # 下步工作
    created_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finalized_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    finalized_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))


class Meeting(Base):
    """A residents' opinion meeting (民情分析会) of a village or the town: when, where, who took part
    (names and posts as text, no phones), what was agreed; its opinions are :class:`MeetingOpinion`."""

    __tablename__ = "meetings"
    __table_args__ = (
        CheckConstraint(_in("scope_kind", analyses.SCOPE_KINDS), name="scope_kind"),
        Index("ix_meetings_scope", "scope_code", "held_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope_kind: Mapped[str] = mapped_column(String(8))
    scope_code: Mapped[str] = mapped_column(String(12))
    held_on: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(200))
    participants: Mapped[str] = mapped_column(Text, server_default="")
    agreed: Mapped[str] = mapped_column(Text, server_default="")  # 议定事项
    created_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))


class MeetingOpinion(Base):
    """One opinion raised at a meeting (``n``: its number in the meeting), and what became of it:
    the case it was turned into (``incident_id``, through the intake pipe) and, once tasks exist
    (migration 0018), the task (``task_id``; no foreign key here, so this part does not depend on
    that one)."""

    __tablename__ = "meeting_opinions"
    __table_args__ = (
        UniqueConstraint("meeting_id", "n", name="uq_meeting_opinions_n"),
        CheckConstraint("n >= 1", name="n"),
        CheckConstraint("length(trim(body)) > 0", name="body"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    n: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    grid_code: Mapped[str | None] = mapped_column(String(15))  # the grid it concerns, if said
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(BigInteger)  # → 任务 (migration 0018's tasks)
    linked_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    linked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# ---------------------------------------------------------------- the centre's registers (seed 3-1; issue 16, part 5)
# 证照、印章 (with the append-only 用印登记), 银行账户, the legal-person registration checklist (运行要件) and
# the reminders of a certificate's expiry; the rules are workflow/office.py


class OfficeCertificate(Base):
    """A certificate of the centre (事业单位法人证书 and others): number, issuer, valid from/to (no
    valid_to: 长期有效), scans. Renewing it is a new valid_to on the same record (the audit log keeps
    the old one); a cancelled one (已注销) stays in the register without reminders."""

    __tablename__ = "office_certificates"
    __table_args__ = (
        CheckConstraint(_in("state", office.CERTIFICATE_STATES), name="state"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="validity"),
        CheckConstraint("length(trim(name)) > 0", name="name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    number: Mapped[str] = mapped_column(String(100))
    issuer: Mapped[str] = mapped_column(String(100))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(8), server_default="在用")
    scans: Mapped[list[str]] = mapped_column(ARRAY(String(64)), server_default="{}")
    note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class OfficeSeal(Base):
    """A seal of the centre (公章 and others) and who keeps it (保管人)."""

    __tablename__ = "office_seals"
    __table_args__ = (
        CheckConstraint(_in("state", office.SEAL_STATES), name="state"),
        CheckConstraint("length(trim(name)) > 0 AND length(trim(keeper)) > 0", name="named"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    keeper: Mapped[str] = mapped_column(String(50))
    since: Mapped[date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(8), server_default="在用")
    note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class OfficeSealUse(Base):
    """One use of a seal (用印登记): the day, the document sealed, copies, who approved it.
    Append-only: the database refuses UPDATE, DELETE and TRUNCATE."""

    __tablename__ = "office_seal_uses"
    __table_args__ = (
        CheckConstraint("copies BETWEEN 1 AND 1000", name="copies"),
        CheckConstraint("length(trim(document)) > 0 AND length(trim(approver)) > 0", name="filled"),
        Index("ix_office_seal_uses_seal", "seal_id", "day"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    seal_id: Mapped[int] = mapped_column(ForeignKey("office_seals.id"))
    day: Mapped[date] = mapped_column(Date)
    document: Mapped[str] = mapped_column(String(200))
    copies: Mapped[int] = mapped_column(Integer, server_default="1")
    approver: Mapped[str] = mapped_column(String(50))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class OfficeAccount(Base):
    """A bank account of the centre: its kind, bank, name, number (digits; shown masked, unmasked to
    the centre's office with an audit entry), opened and closed, and the approvals (text and scans)."""

    __tablename__ = "office_accounts"
    __table_args__ = (
        CheckConstraint(_in("kind", office.ACCOUNT_KINDS), name="kind"),
        CheckConstraint("number ~ '^[0-9]{10,32}$'", name="number"),
        CheckConstraint("closed_on IS NULL OR closed_on >= opened_on", name="dates"),
        UniqueConstraint("number", name="uq_office_accounts_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    bank: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(100))
    number: Mapped[str] = mapped_column(String(32))
    opened_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    approval: Mapped[str | None] = mapped_column(Text)
    scans: Mapped[list[str]] = mapped_column(ARRAY(String(64)), server_default="{}")
    note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class OfficeChecklistItem(Base):
    """One document of the legal-person registration checklist (workflow.office.CHECKLIST): 未备 or
    已备 (with the day), a note, scans. A document without a row is 未备 at version 0."""

    __tablename__ = "office_checklist"
    __table_args__ = (
        CheckConstraint(_in("code", office.CHECKLIST_CODES), name="code"),
        CheckConstraint(_in("state", office.CHECKLIST_STATES), name="state"),
        CheckConstraint("state = '未备' OR day IS NOT NULL", name="ready_day"),
    )

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[str] = mapped_column(String(4), server_default="未备")
    day: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    scans: Mapped[list[str]] = mapped_column(ARRAY(String(64)), server_default="{}")
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class OfficeReminder(Base):
    """A reminder that a certificate expires (60 and 30 calendar days before, workflow.office), made
    once per certificate, expiry date and stage by the job; in the 待办 of the centre's office until
    done (acknowledged, the certificate renewed or cancelled, a later stage made)."""

    __tablename__ = "office_reminders"
    __table_args__ = (
        UniqueConstraint("certificate_id", "valid_to", "days", name="uq_office_reminders_stage"),
        CheckConstraint(f"days IN ({', '.join(str(d) for d in office.REMINDER_DAYS)})", name="days"),
        CheckConstraint("done_reason IS NULL OR " + _in("done_reason", office.REMINDER_DONE), name="done_reason"),
        CheckConstraint("(done_at IS NULL) = (done_reason IS NULL)", name="done"),
        Index("ix_office_reminders_open", "due_at", postgresql_where=text("done_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("office_certificates.id"), index=True)
    valid_to: Mapped[date] = mapped_column(Date)
    days: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # the first moment it is no longer valid
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    done_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    done_reason: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)


# ---------------------------------------------------------------- 交办任务 (seed 8-1) and the
# information-collection rule (seed 7-2 §3): tasks, their assignees and their events (migration 0018)

from workflow import tasks as task_rules  # noqa: E402  (this part's rules, imported with its section)


class Task(Base):
    """A task (交办任务) from the town's leadership, the centre, the district, a department or a village's
    grid body: ``issuer_body`` names the issuing body (``town``, ``district``, ``admin``,
    ``department:<id>``, ``village:<code>``), whose accounts read and act on it as its issuer.
    ``deadline`` is computed once on the working-day clock and stored. An ``info_collection`` task
    that reaches grid workers is ``待区审批`` until the district approves it (``approved_by``); the
    database refuses any other way (trigger ``wangge_task_info_rule``)."""

    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint(_in("kind", tuple(task_rules.KINDS)), name="kind"),
        CheckConstraint(_in("state", task_rules.STATES), name="state"),
        CheckConstraint("source IS NULL OR " + _in("source", tuple(task_rules.SOURCES)), name="source"),
        CheckConstraint("length(trim(title)) > 0", name="title"),
        CheckConstraint("deadline > created_at", name="deadline"),
        Index("ix_tasks_state", "state", "deadline"),
        Index("ix_tasks_issuer_body", "issuer_body", text("created_at DESC")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, server_default="")
    kind: Mapped[str] = mapped_column(String(16), server_default="general")
    source: Mapped[str | None] = mapped_column(String(16))  # 镇下发文件, 会议布置, 其他
    source_ref: Mapped[str | None] = mapped_column(String(200))  # the document's number, the meeting
    state: Mapped[str] = mapped_column(String(8))
    issuer_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    issuer_role: Mapped[str] = mapped_column(String(16))
    issuer_body: Mapped[str] = mapped_column(String(32))
    deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    report_back: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    attachments: Mapped[list] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # when it reached the assignees
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    refusal: Mapped[str | None] = mapped_column(Text)  # the district's reason
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))


class TaskAssignee(Base):
    """One assignee of a task: a grid worker (``account_id``), a village (``village_code``) or a
    department (``department_id``); ``code`` is how the API names it (the username, the village's
    code, the department's code). Its own state, times, last progress and completion."""

    __tablename__ = "task_assignees"
    __table_args__ = (
        UniqueConstraint("task_id", "kind", "code", name="uq_task_assignees_target"),
        CheckConstraint(_in("kind", tuple(task_rules.ASSIGNEE_KINDS)), name="kind"),
        CheckConstraint(_in("state", task_rules.ASSIGNEE_STATES), name="state"),
        CheckConstraint("(kind = 'worker') = (account_id IS NOT NULL) AND (kind = 'village') = (village_code IS NOT NULL)"
                        " AND (kind = 'department') = (department_id IS NOT NULL)", name="target"),
        Index("ix_task_assignees_account", "account_id", postgresql_where=text("account_id IS NOT NULL")),
        Index("ix_task_assignees_village", "village_code", postgresql_where=text("village_code IS NOT NULL")),
        Index("ix_task_assignees_department", "department_id", postgresql_where=text("department_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    code: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    village_code: Mapped[str | None] = mapped_column(String(12))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    report_back: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    state: Mapped[str] = mapped_column(String(8), server_default="待签收")
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    progress_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    progress_note: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completion_note: Mapped[str | None] = mapped_column(Text)
    completion_attachments: Mapped[list] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    return_count: Mapped[int] = mapped_column(Integer, server_default="0")
    overdue_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # marked by the deadline job
    supervise_count: Mapped[int] = mapped_column(Integer, server_default="0")
    supervised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TaskEvent(Base):
    """Append-only history of a task (the database refuses UPDATE, DELETE and TRUNCATE): who, when,
    what, on which assignee, the states, the note and the attachments."""

    __tablename__ = "task_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("task_assignees.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(8))
    to_state: Mapped[str | None] = mapped_column(String(8))
    note: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[list] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
