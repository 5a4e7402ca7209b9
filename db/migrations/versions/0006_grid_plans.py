"""Redraw plans (改划方案): plans, the grids they change, and their edit log

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 10:00:00
"""
import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "grid_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("status", sa.String(length=12), server_default="draft", nullable=False),
        sa.Column("source", sa.String(length=16), server_default="browser", nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.Column("inverse_of", sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('draft', 'scheduled', 'published', 'discarded')",
                           name=op.f("ck_grid_plans_status")),
        sa.ForeignKeyConstraint(["created_by"], ["accounts.id"], name=op.f("fk_grid_plans_created_by_accounts")),
        sa.ForeignKeyConstraint(["published_by"], ["accounts.id"],
                                name=op.f("fk_grid_plans_published_by_accounts")),
        sa.ForeignKeyConstraint(["inverse_of"], ["grid_plans.id"], name=op.f("fk_grid_plans_inverse_of_grid_plans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_plans")),
    )
    op.create_table(
        "grid_plan_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=15), nullable=False),
        sa.Column("village_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), server_default="comprehensive", nullable=False),
        sa.Column("households", sa.Integer(), nullable=True),
        sa.Column("residents", sa.Integer(), nullable=True),
        sa.Column("geom", geoalchemy2.types.Geometry(geometry_type="MULTIPOLYGON", srid=4326,
                                                     spatial_index=False), nullable=True),
        sa.Column("base_grid_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("code ~ '^[0-9]{15}$'", name=op.f("ck_grid_plan_items_code_15_digits")),
        sa.CheckConstraint("geom IS NULL OR ST_SRID(geom) = 4326", name=op.f("ck_grid_plan_items_geom_srid")),
        sa.CheckConstraint("kind IN ('comprehensive', 'dedicated')", name=op.f("ck_grid_plan_items_kind")),
        sa.ForeignKeyConstraint(["plan_id"], ["grid_plans.id"], ondelete="CASCADE",
                                name=op.f("fk_grid_plan_items_plan_id_grid_plans")),
        sa.ForeignKeyConstraint(["village_id"], ["areas.id"], ondelete="RESTRICT",
                                name=op.f("fk_grid_plan_items_village_id_areas")),
        sa.ForeignKeyConstraint(["base_grid_id"], ["grids.id"], name=op.f("fk_grid_plan_items_base_grid_id_grids")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_plan_items")),
        sa.UniqueConstraint("plan_id", "code", name="uq_grid_plan_items_plan_code"),
    )
    op.create_index(op.f("ix_grid_plan_items_plan_id"), "grid_plan_items", ["plan_id"])
    op.create_table(
        "grid_plan_edits",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("op", sa.String(length=16), nullable=False),
        sa.Column("codes", postgresql.ARRAY(sa.String(length=15)), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("undone", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["grid_plans.id"], ondelete="CASCADE",
                                name=op.f("fk_grid_plan_edits_plan_id_grid_plans")),
        sa.ForeignKeyConstraint(["actor_id"], ["accounts.id"], name=op.f("fk_grid_plan_edits_actor_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_plan_edits")),
    )
    op.create_index(op.f("ix_grid_plan_edits_plan_id"), "grid_plan_edits", ["plan_id"])


def downgrade() -> None:
    op.drop_table("grid_plan_edits")
    op.drop_table("grid_plan_items")
    op.drop_table("grid_plans")
