"""Patrols (巡查) with their metrics and flags, key places (重点场所), attendance (签到)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 11:00:00
"""
import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

PATROL_COLUMNS = [
    sa.Column("client_id", sa.String(length=64), nullable=True),
    sa.Column("source", sa.String(length=8), server_default="phone", nullable=False),
    sa.Column("duration_s", sa.Double(), nullable=True),
    sa.Column("moving_s", sa.Double(), nullable=True),
    sa.Column("coverage", sa.Double(), nullable=True),
    sa.Column("outside_s", sa.Double(), nullable=True),
    sa.Column("checkpoints", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column("flags", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False),
    sa.Column("review", sa.String(length=12), nullable=True),
    sa.Column("reviewed_by", sa.Integer(), nullable=True),
    sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("review_note", sa.Text(), nullable=True),
]


def upgrade() -> None:
    for column in PATROL_COLUMNS:
        op.add_column("patrols", column)
    op.execute("UPDATE patrols SET source = 'demo' WHERE synthetic")
    op.create_check_constraint(op.f("ck_patrols_source"), "patrols", "source IN ('phone', 'gpx', 'demo')")
    op.create_check_constraint(op.f("ck_patrols_review"), "patrols",
                               "review IS NULL OR review IN ('accepted', 'rejected')")
    op.create_unique_constraint("uq_patrols_worker_client", "patrols", ["worker_id", "client_id"])
    op.create_foreign_key(op.f("fk_patrols_reviewed_by_accounts"), "patrols", "accounts", ["reviewed_by"], ["id"])
    op.create_index("uq_gps_fixes_patrol_at", "gps_fixes", ["patrol_id", "at"], unique=True)

    op.create_table(
        "checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=True),
        sa.Column("geom", geoalchemy2.types.Geometry(geometry_type="POINT", srid=4326, spatial_index=False),
                  nullable=False),
        sa.Column("radius_m", sa.Double(), server_default="30", nullable=False),
        sa.Column("required", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("grid_code ~ '^[0-9]{15}$'", name=op.f("ck_checkpoints_grid_code_15_digits")),
        sa.CheckConstraint("radius_m > 0 AND radius_m <= 500", name=op.f("ck_checkpoints_radius")),
        sa.CheckConstraint("ST_SRID(geom) = 4326", name=op.f("ck_checkpoints_geom_srid")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkpoints")),
    )
    op.create_index(op.f("ix_checkpoints_grid_code"), "checkpoints", ["grid_code"])

    op.create_table(
        "attendance",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=4), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("geom", geoalchemy2.types.Geometry(geometry_type="POINT", srid=4326, spatial_index=False),
                  nullable=True),
        sa.Column("accuracy_m", sa.Double(), nullable=True),
        sa.Column("grid_code", sa.String(length=15), nullable=True),
        sa.Column("inside", sa.Boolean(), nullable=True),
        sa.Column("distance_m", sa.Double(), nullable=True),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column("synthetic", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.CheckConstraint("kind IN ('in', 'out')", name=op.f("ck_attendance_kind")),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_attendance_account_id_accounts")),
        sa.ForeignKeyConstraint(["worker_id"], ["people.id"], name=op.f("fk_attendance_worker_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance")),
        sa.UniqueConstraint("account_id", "client_id", name="uq_attendance_account_client"),
    )
    op.create_index("ix_attendance_worker_at", "attendance", ["worker_id", "at"])


def downgrade() -> None:
    op.drop_table("attendance")
    op.drop_table("checkpoints")
    op.drop_index("uq_gps_fixes_patrol_at", table_name="gps_fixes")
    op.drop_constraint(op.f("fk_patrols_reviewed_by_accounts"), "patrols", type_="foreignkey")
    op.drop_constraint("uq_patrols_worker_client", "patrols", type_="unique")
    op.drop_constraint(op.f("ck_patrols_review"), "patrols", type_="check")
    op.drop_constraint(op.f("ck_patrols_source"), "patrols", type_="check")
    for column in reversed(PATROL_COLUMNS):
        op.drop_column("patrols", column.name)
