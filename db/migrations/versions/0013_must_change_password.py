"""Accounts that must choose a new password at their next sign-in

``wangge town init --people`` gives every new account a one-time password; the account keeps
``must_change_password`` until its owner has chosen their own on the page the sign-in leads to.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 12:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("must_change_password", sa.Boolean(), nullable=False,
                                        server_default=sa.text("false")))


def downgrade() -> None:
    op.drop_column("accounts", "must_change_password")
