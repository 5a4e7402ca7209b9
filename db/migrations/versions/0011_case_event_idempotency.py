"""An idempotency key on case events: a phone's queued action is applied once

A grid worker's phone keeps an action (就地处置 with its photos, 核查通过…) while offline and sends it
when the network is back, perhaps twice (the answer was lost on the way). Each action carries the
phone's ``Idempotency-Key``; the event it wrote keeps that key in its ``data`` (every writer of
events fills the same columns), unique, so a resent action finds the event instead of writing a
second one, and is answered with the case as it now is.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 18:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("uq_case_events_idempotency_key", "case_events", [sa.text("(data ->> 'idempotency_key')")],
                    unique=True, postgresql_where=sa.text("data ? 'idempotency_key'"))


def downgrade() -> None:
    op.drop_index("uq_case_events_idempotency_key", table_name="case_events")
