"""Tasks from the town's leadership and the centre (seed 8-1) and the information-collection rule (seed 7-2 §3)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08 00:30:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
