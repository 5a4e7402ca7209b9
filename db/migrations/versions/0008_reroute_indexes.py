"""Indexes for re-routing after a grid plan: open cases per grid, and open cases routed loosely

Publishing a plan re-routes the open cases of its grids and the open cases outside every grid (or
placed in the nearest one) that now fall in one of them. Without these indexes it read every case
of the changed grids (a third of a million at 1M cases) to keep the open ones.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 12:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

OPEN = "state IN ('待受理', '已立案', '立案派遣', '处理中', '待核查', '挂账', '督办')"


def upgrade() -> None:
    op.create_index("ix_incidents_open_grid", "incidents", ["grid_code"], postgresql_where=sa.text(OPEN))
    op.create_index("ix_incidents_open_loose", "incidents", ["geom"], postgresql_using="gist",
                    postgresql_where=sa.text(f"{OPEN} AND (grid_code IS NULL OR distance_m > 0)"))


def downgrade() -> None:
    op.drop_index("ix_incidents_open_loose", table_name="incidents")
    op.drop_index("ix_incidents_open_grid", table_name="incidents")
