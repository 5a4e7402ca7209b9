"""The time limits a category had before: a case keeps the limit of the day it was reported

When the administrator changes a category's time limit, the old one is kept here with the moment
it stopped applying (``valid_until``); a case reported before that moment is dispatched with it.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 12:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "category_limit_history",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("category_id", sa.Integer, sa.ForeignKey("categories.id", ondelete="CASCADE"), nullable=False),
        sa.Column("time_limit", sa.Integer, nullable=False),
        sa.Column("time_unit", sa.String(16), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_category_limit_history_category", "category_limit_history", ["category_id", "valid_until"])


def downgrade() -> None:
    op.drop_table("category_limit_history")
