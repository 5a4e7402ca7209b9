"""12345 hotline work orders (便民专线工单) and their append-only events

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 10:00:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

STATES = "state IN ('待签收', '已签收', '已批示', '办理中', '待答复', '已答复', '已办结', '已退回')"
URGENCIES = "urgency IN ('life_property', 'utilities', 'normal')"
CHANNELS = "channel IN ('phone', 'web', 'wechat', 'app', 'weibo', 'email', 'other')"

# the function wangge_refuse_change() is migration 0001's
APPEND_ONLY = """
CREATE TRIGGER hotline_events_append_only BEFORE UPDATE OR DELETE ON hotline_events
    FOR EACH ROW EXECUTE FUNCTION wangge_refuse_change();
CREATE TRIGGER hotline_events_no_truncate BEFORE TRUNCATE ON hotline_events
    FOR EACH STATEMENT EXECUTE FUNCTION wangge_refuse_change();
"""


def _when(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "hotline_orders",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("order_no", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=16), server_default="phone", nullable=False),
        sa.Column("petitioner_name", sa.String(length=50), nullable=True),
        sa.Column("petitioner_phone", sa.String(length=32), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("lng", sa.Double(), nullable=True),
        sa.Column("lat", sa.Double(), nullable=True),
        sa.Column("incident_id", sa.BigInteger(), nullable=True),
        sa.Column("urgency", sa.String(length=16), server_default="normal", nullable=False),
        _when("dispatched_at", nullable=False),
        _when("accept_deadline", nullable=False),
        _when("reply_deadline", nullable=False),
        sa.Column("state", sa.String(length=8), server_default="待签收", nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("instruction", sa.Text(), nullable=True),
        sa.Column("draft", sa.Text(), nullable=True),
        sa.Column("reply", sa.Text(), nullable=True),
        _when("signed_at"),
        _when("assigned_at"),
        _when("drafted_at"),
        _when("replied_at"),
        _when("closed_at"),
        _when("returned_at"),
        _when("supervised_at"),
        sa.Column("return_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("supervise_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("imported_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint(STATES, name=op.f("ck_hotline_orders_state")),
        sa.CheckConstraint(URGENCIES, name=op.f("ck_hotline_orders_urgency")),
        sa.CheckConstraint(CHANNELS, name=op.f("ck_hotline_orders_channel")),
        sa.CheckConstraint("(lng IS NULL) = (lat IS NULL)", name=op.f("ck_hotline_orders_location_pair")),
        sa.CheckConstraint("lng IS NULL OR (lng BETWEEN -180 AND 180 AND lat BETWEEN -90 AND 90)",
                           name=op.f("ck_hotline_orders_location_range")),
        sa.CheckConstraint("accept_deadline > dispatched_at AND reply_deadline > dispatched_at",
                           name=op.f("ck_hotline_orders_deadlines")),
        sa.CheckConstraint("return_count >= 0 AND supervise_count >= 0", name=op.f("ck_hotline_orders_counts")),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"],
                                name=op.f("fk_hotline_orders_incident_id_incidents")),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"],
                                name=op.f("fk_hotline_orders_department_id_departments")),
        sa.ForeignKeyConstraint(["imported_by"], ["accounts.id"], name=op.f("fk_hotline_orders_imported_by_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotline_orders")),
        sa.UniqueConstraint("order_no", name=op.f("uq_hotline_orders_order_no")),
    )
    op.create_index(op.f("ix_hotline_orders_incident_id"), "hotline_orders", ["incident_id"], unique=False)
    op.create_index(op.f("ix_hotline_orders_department_id"), "hotline_orders", ["department_id"], unique=False)
    op.create_index("ix_hotline_orders_state", "hotline_orders", ["state"], unique=False)
    op.create_index("ix_hotline_orders_dispatched_at", "hotline_orders", ["dispatched_at"], unique=False)

    op.create_table(
        "hotline_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=8), nullable=True),
        sa.Column("to_state", sa.String(length=8), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["hotline_orders.id"],
                                name=op.f("fk_hotline_events_order_id_hotline_orders")),
        sa.ForeignKeyConstraint(["actor_id"], ["accounts.id"], name=op.f("fk_hotline_events_actor_id_accounts")),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"],
                                name=op.f("fk_hotline_events_department_id_departments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotline_events")),
    )
    op.create_index(op.f("ix_hotline_events_order_id"), "hotline_events", ["order_id"], unique=False)
    op.create_index(op.f("ix_hotline_events_department_id"), "hotline_events", ["department_id"], unique=False)
    op.execute(APPEND_ONLY)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS hotline_events_no_truncate ON hotline_events")
    op.execute("DROP TRIGGER IF EXISTS hotline_events_append_only ON hotline_events")
    op.drop_index(op.f("ix_hotline_events_department_id"), table_name="hotline_events")
    op.drop_index(op.f("ix_hotline_events_order_id"), table_name="hotline_events")
    op.drop_table("hotline_events")
    op.drop_index("ix_hotline_orders_dispatched_at", table_name="hotline_orders")
    op.drop_index("ix_hotline_orders_state", table_name="hotline_orders")
    op.drop_index(op.f("ix_hotline_orders_department_id"), table_name="hotline_orders")
    op.drop_index(op.f("ix_hotline_orders_incident_id"), table_name="hotline_orders")
    op.drop_table("hotline_orders")
