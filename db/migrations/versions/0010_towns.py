"""The town's record (towns): what the pages, boards, posters, receipts and case numbers say of it

Until now the town's name, its governance centre, the supervision office and phone, the case-number
prefix and the map's first view were literals in templates, SQL and JavaScript. They become one row
per town, keyed by the town's area (which keeps its code and boundary).

``wangge_case_prefix()`` is the prefix every writer of a case number uses (the intake statement, the
bulk import): the town's, or ``WG`` (网格) while the database has no town. A database that already
holds the demo town gets the demo town's record here, as ``wangge demo load`` writes it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 13:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

CASE_PREFIX_FUNCTION = """
CREATE FUNCTION wangge_case_prefix() RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN COALESCE((SELECT case_prefix FROM towns ORDER BY area_id LIMIT 1), 'WG')
"""

BACKFILL_DEMO = """
INSERT INTO towns (area_id, name, name_en, center_name, center_name_en, supervision_office,
                   supervision_phone, case_prefix, map_lat, map_lng, map_zoom)
SELECT id, :name, :name_en, :center_name, :center_name_en, :supervision_office,
       :supervision_phone, :case_prefix, :map_lat, :map_lng, :map_zoom
  FROM areas WHERE code = :code AND level = 'town'
"""


def upgrade() -> None:
    op.create_table(
        "towns",
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=True),
        sa.Column("center_name", sa.String(length=100), nullable=False),
        sa.Column("center_name_en", sa.String(length=200), nullable=True),
        sa.Column("supervision_office", sa.String(length=100), nullable=False),
        sa.Column("supervision_phone", sa.String(length=20), nullable=False),
        sa.Column("case_prefix", sa.String(length=8), nullable=False),
        sa.Column("map_lat", sa.Double(), nullable=False),
        sa.Column("map_lng", sa.Double(), nullable=False),
        sa.Column("map_zoom", sa.Integer(), server_default=sa.text("12"), nullable=False),
        sa.CheckConstraint("case_prefix ~ '^[A-Z]{1,8}$'", name=op.f("ck_towns_case_prefix")),
        sa.CheckConstraint("map_lat BETWEEN -90 AND 90 AND map_lng BETWEEN -180 AND 180",
                           name=op.f("ck_towns_map_center")),
        sa.CheckConstraint("map_zoom BETWEEN 1 AND 19", name=op.f("ck_towns_map_zoom")),
        sa.ForeignKeyConstraint(["area_id"], ["areas.id"], name=op.f("fk_towns_area_id_areas"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("area_id", name=op.f("pk_towns")),
    )
    op.execute(CASE_PREFIX_FUNCTION)
    from db import demo_town

    op.get_bind().execute(sa.text(BACKFILL_DEMO), {"code": demo_town.TOWN_CODE, **demo_town.TOWN_RECORD})


def downgrade() -> None:
    op.execute("DROP FUNCTION wangge_case_prefix()")
    op.drop_table("towns")
