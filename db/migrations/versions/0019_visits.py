"""The grid's buildings and households and the daily visits (日走访, seed 5-1 ③)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 00:30:00
"""
import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def _point() -> geoalchemy2.types.Geometry:
    return geoalchemy2.types.Geometry(geometry_type="POINT", srid=4326, spatial_index=False)


def upgrade() -> None:
    op.create_table(
        "address_points",  # 门牌: the register of a grid's buildings and households
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("households", sa.Integer(), server_default="1", nullable=False),
        sa.Column("geom", _point(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("synthetic", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("grid_code ~ '^[0-9]{15}$'", name=op.f("ck_address_points_grid_code_15_digits")),
        sa.CheckConstraint("ST_SRID(geom) = 4326", name=op.f("ck_address_points_geom_srid")),
        sa.CheckConstraint("households BETWEEN 1 AND 500", name=op.f("ck_address_points_households")),
        sa.ForeignKeyConstraint(["updated_by"], ["accounts.id"], name=op.f("fk_address_points_updated_by_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_address_points")),
        sa.UniqueConstraint("grid_code", "address", name="uq_address_points_grid_address"),
    )
    op.create_index("idx_address_points_geom", "address_points", ["geom"], postgresql_using="gist")
    op.create_index(op.f("ix_address_points_grid_code"), "address_points", ["grid_code"])
    op.create_table(
        "visits",  # 入户走访
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("address_id", sa.Integer(), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=True),
        sa.Column("visited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("geom", _point(), nullable=False),
        sa.Column("raw_lng", sa.Double(), nullable=False),
        sa.Column("raw_lat", sa.Double(), nullable=False),
        sa.Column("raw_crs", sa.String(length=8), nullable=False),
        sa.Column("accuracy_m", sa.Double(), nullable=True),
        sa.Column("outside_m", sa.Double(), nullable=True),
        sa.Column("household_m", sa.Double(), nullable=True),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("photos", postgresql.ARRAY(sa.String(length=64)), server_default="{}", nullable=False),
        sa.Column("flags", postgresql.ARRAY(sa.String(length=32)), server_default="{}", nullable=False),
        sa.Column("incident_id", sa.BigInteger(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=128), nullable=True),
        sa.Column("synthetic", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.CheckConstraint("raw_crs IN ('wgs84', 'cgcs2000', 'gcj02', 'bd09')", name=op.f("ck_visits_raw_crs")),
        sa.CheckConstraint("ST_SRID(geom) = 4326", name=op.f("ck_visits_geom_srid")),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_visits_account_id_accounts")),
        sa.ForeignKeyConstraint(["address_id"], ["address_points.id"], name=op.f("fk_visits_address_id_address_points")),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], name=op.f("fk_visits_incident_id_incidents")),
        sa.ForeignKeyConstraint(["worker_id"], ["people.id"], name=op.f("fk_visits_worker_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_visits_idempotency_key")),
        sa.UniqueConstraint("incident_id", name=op.f("uq_visits_incident_id")),
    )
    op.create_index(op.f("ix_visits_address_id"), "visits", ["address_id"])
    op.create_index("ix_visits_grid_visited", "visits", ["grid_code", "visited_at"])
    op.create_index(op.f("ix_visits_worker_id"), "visits", ["worker_id"])


def downgrade() -> None:
    op.drop_table("visits")
    op.drop_table("address_points")
