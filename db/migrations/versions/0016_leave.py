"""Leave of the grid workers (请假/销假, seed 7-2): the request, its approver, its state and history

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 12:50:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

STATES = ("待审批", "已批准", "已拒绝", "已撤销", "已销假")


def upgrade() -> None:
    op.create_table(
        "leaves",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("worker_id", sa.Integer, sa.ForeignKey("people.id"), nullable=False),
        sa.Column("grid_code", sa.String(15), nullable=False),
        sa.Column("start", sa.Date, nullable=False),
        sa.Column("end", sa.Date, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("days", sa.Integer, nullable=False),
        sa.Column("approver_role", sa.String(16), nullable=False),
        sa.Column("state", sa.String(8), nullable=False, server_default="待审批"),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.Column("back_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint('"end" >= start', name=op.f("ck_leaves_period")),
        sa.CheckConstraint("state IN (" + ", ".join(f"'{s}'" for s in STATES) + ")", name=op.f("ck_leaves_state")),
    )
    op.create_index("ix_leaves_worker", "leaves", ["worker_id", "start"])
    op.create_index("ix_leaves_grid", "leaves", ["grid_code", "start"])
    op.create_table(
        "leave_events",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("leave_id", sa.Integer, sa.ForeignKey("leaves.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.Column("actor_id", sa.Integer, sa.ForeignKey("accounts.id")),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("note", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("leave_events")
    op.drop_table("leaves")
