"""English names of the categories, for ``?lang=en``

A category's name and class are the town's words (暴露垃圾, 市容环境); the English pages show
``name_en`` / ``class_en`` where the town gave them, the Chinese otherwise.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 19:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("categories", sa.Column("name_en", sa.String(64)))
    op.add_column("categories", sa.Column("class_en", sa.String(64)))


def downgrade() -> None:
    op.drop_column("categories", "class_en")
    op.drop_column("categories", "name_en")
