"""The audit log: every administrative change (who, when, what, before and after)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 12:00:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.Column("actor_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="SET NULL")),
        sa.Column("actor", sa.String(64), nullable=False),  # the username, kept if the account goes
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.String(64), nullable=False),  # e.g. grid:120116103214003
        sa.Column("before", JSONB),
        sa.Column("after", JSONB),
        sa.Column("note", sa.Text),
    )
    op.create_index("ix_audit_log_at", "audit_log", [sa.text("at DESC")])
    op.create_index("ix_audit_log_target", "audit_log", ["target", sa.text("at DESC")])


def downgrade() -> None:
    op.drop_table("audit_log")
