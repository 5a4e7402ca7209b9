"""Weekly analyses, monthly summaries and residents' opinion meetings (seed 5-1 ③④): the analyses
with their frozen figures and hand-written fields, the meetings and the opinions raised at them
(each with the case it became and, once tasks exist, its task)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08 00:30:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('analyses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('scope_kind', sa.String(length=8), nullable=False),
    sa.Column('scope_code', sa.String(length=12), nullable=False),
    sa.Column('state', sa.String(length=8), server_default='草稿', nullable=False),
    sa.Column('figures', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('counted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('opinion', sa.Text(), server_default='', nullable=False),
    sa.Column('problems', sa.Text(), server_default='', nullable=False),
    sa.Column('next_steps', sa.Text(), server_default='', nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('finalized_by', sa.Integer(), nullable=True),
    sa.Column('finalized_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.CheckConstraint("(kind = 'week' AND extract(isodow FROM period_start) = 1 AND period_end = period_start + 6) OR (kind = 'month' AND extract(day FROM period_start) = 1 AND period_end = (period_start + interval '1 month' - interval '1 day')::date)", name=op.f('ck_analyses_period')),
    sa.CheckConstraint("(state = '已定稿') = (finalized_at IS NOT NULL)", name=op.f('ck_analyses_finalized')),
    sa.CheckConstraint("kind IN ('week', 'month')", name=op.f('ck_analyses_kind')),
    sa.CheckConstraint("scope_kind IN ('village', 'town')", name=op.f('ck_analyses_scope_kind')),
    sa.CheckConstraint("state IN ('草稿', '已定稿')", name=op.f('ck_analyses_state')),
    sa.ForeignKeyConstraint(['created_by'], ['accounts.id'], name=op.f('fk_analyses_created_by_accounts')),
    sa.ForeignKeyConstraint(['finalized_by'], ['accounts.id'], name=op.f('fk_analyses_finalized_by_accounts')),
    sa.ForeignKeyConstraint(['updated_by'], ['accounts.id'], name=op.f('fk_analyses_updated_by_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analyses')),
    sa.UniqueConstraint('kind', 'period_start', 'scope_code', name='uq_analyses_period_scope')
    )
    op.create_index('ix_analyses_scope', 'analyses', ['scope_code', 'period_start'], unique=False)
    op.create_table('meetings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope_kind', sa.String(length=8), nullable=False),
    sa.Column('scope_code', sa.String(length=12), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('participants', sa.Text(), server_default='', nullable=False),
    sa.Column('agreed', sa.Text(), server_default='', nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.CheckConstraint("scope_kind IN ('village', 'town')", name=op.f('ck_meetings_scope_kind')),
    sa.ForeignKeyConstraint(['created_by'], ['accounts.id'], name=op.f('fk_meetings_created_by_accounts')),
    sa.ForeignKeyConstraint(['updated_by'], ['accounts.id'], name=op.f('fk_meetings_updated_by_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meetings'))
    )
    op.create_index('ix_meetings_scope', 'meetings', ['scope_code', 'held_on'], unique=False)
    op.create_table('meeting_opinions',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('grid_code', sa.String(length=15), nullable=True),
    sa.Column('incident_id', sa.BigInteger(), nullable=True),
    sa.Column('task_id', sa.BigInteger(), nullable=True),
    sa.Column('linked_by', sa.Integer(), nullable=True),
    sa.Column('linked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('length(trim(body)) > 0', name=op.f('ck_meeting_opinions_body')),
    sa.CheckConstraint('n >= 1', name=op.f('ck_meeting_opinions_n')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_meeting_opinions_incident_id_incidents')),
    sa.ForeignKeyConstraint(['linked_by'], ['accounts.id'], name=op.f('fk_meeting_opinions_linked_by_accounts')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_meeting_opinions_meeting_id_meetings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_opinions')),
    sa.UniqueConstraint('meeting_id', 'n', name='uq_meeting_opinions_n')
    )
    op.create_index(op.f('ix_meeting_opinions_incident_id'), 'meeting_opinions', ['incident_id'], unique=False)


def downgrade() -> None:
    for table in ("meeting_opinions", "meetings", "analyses"):
        op.drop_table(table)
