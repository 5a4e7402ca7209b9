"""case workflow: tiers, the filed state, extension, rework and return counts, satisfaction;
the editable working-day table

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 23:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OLD_STATES = "state IN ('待受理', '立案派遣', '处理中', '待核查', '结案', '作废', '挂账', '督办')"
NEW_STATES = "state IN ('待受理', '已立案', '立案派遣', '处理中', '待核查', '结案', '作废', '挂账', '督办')"


def upgrade() -> None:
    op.add_column("incidents", sa.Column("tier", sa.String(length=8), server_default="village", nullable=False))
    op.add_column("incidents", sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("incidents", sa.Column("extension_pending", sa.Boolean(), server_default=sa.text("false"),
                                         nullable=False))
    op.add_column("incidents", sa.Column("rework_count", sa.Integer(), server_default="0", nullable=False))
    op.add_column("incidents", sa.Column("return_count", sa.Integer(), server_default="0", nullable=False))
    op.add_column("incidents", sa.Column("satisfaction", sa.Integer(), nullable=True))
    op.create_check_constraint("tier", "incidents", "tier IN ('village', 'town')")
    op.create_check_constraint("satisfaction", "incidents", "satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5")
    op.drop_constraint(op.f("ck_incidents_state"), "incidents", type_="check")
    op.create_check_constraint("state", "incidents", NEW_STATES)
    # what lies outside every grid, and what the town already filed, is the town's
    op.execute("UPDATE incidents SET tier = 'town' WHERE grid_code IS NULL OR state <> '待受理'")
    op.create_table(
        "holidays",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("note", sa.String(length=100), nullable=True),
        sa.CheckConstraint("kind IN ('holiday', 'workday')", name=op.f("ck_holidays_kind")),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_holidays")),
    )


def downgrade() -> None:
    op.drop_table("holidays")
    op.execute("UPDATE incidents SET state = '待受理' WHERE state = '已立案'")
    op.drop_constraint(op.f("ck_incidents_state"), "incidents", type_="check")
    op.create_check_constraint("state", "incidents", OLD_STATES)
    op.drop_constraint(op.f("ck_incidents_satisfaction"), "incidents", type_="check")
    op.drop_constraint(op.f("ck_incidents_tier"), "incidents", type_="check")
    for column in ("satisfaction", "return_count", "rework_count", "extension_pending", "dispatched_at", "tier"):
        op.drop_column("incidents", column)
