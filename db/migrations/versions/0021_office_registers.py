"""The centre's registers: certificates, seals and their use, bank accounts, the registration checklist (seed 3-1)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-08 00:30:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

# 用印登记 is append-only, as case events are (the function wangge_refuse_change() is migration 0001's)
APPEND_ONLY = """
CREATE TRIGGER office_seal_uses_append_only BEFORE UPDATE OR DELETE ON office_seal_uses
    FOR EACH ROW EXECUTE FUNCTION wangge_refuse_change();
CREATE TRIGGER office_seal_uses_no_truncate BEFORE TRUNCATE ON office_seal_uses
    FOR EACH STATEMENT EXECUTE FUNCTION wangge_refuse_change();
"""


def upgrade() -> None:
    op.create_table('office_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('bank', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('approval', sa.Text(), nullable=True),
    sa.Column('scans', postgresql.ARRAY(sa.String(length=64)), server_default='{}', nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('基本存款账户', '一般存款账户', '专用存款账户', '临时存款账户')", name=op.f('ck_office_accounts_kind')),
    sa.CheckConstraint("number ~ '^[0-9]{10,32}$'", name=op.f('ck_office_accounts_number')),
    sa.CheckConstraint('closed_on IS NULL OR closed_on >= opened_on', name=op.f('ck_office_accounts_dates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_office_accounts')),
    sa.UniqueConstraint('number', name='uq_office_accounts_number')
    )
    op.create_table('office_seals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('keeper', sa.String(length=50), nullable=False),
    sa.Column('since', sa.Date(), nullable=True),
    sa.Column('state', sa.String(length=8), server_default='在用', nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("state IN ('在用', '已停用')", name=op.f('ck_office_seals_state')),
    sa.CheckConstraint('length(trim(name)) > 0 AND length(trim(keeper)) > 0', name=op.f('ck_office_seals_named')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_office_seals'))
    )
    op.create_table('office_certificates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('number', sa.String(length=100), nullable=False),
    sa.Column('issuer', sa.String(length=100), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('state', sa.String(length=8), server_default='在用', nullable=False),
    sa.Column('scans', postgresql.ARRAY(sa.String(length=64)), server_default='{}', nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("state IN ('在用', '已注销')", name=op.f('ck_office_certificates_state')),
    sa.CheckConstraint('length(trim(name)) > 0', name=op.f('ck_office_certificates_name')),
    sa.CheckConstraint('valid_to IS NULL OR valid_to > valid_from', name=op.f('ck_office_certificates_validity')),
    sa.ForeignKeyConstraint(['created_by'], ['accounts.id'], name=op.f('fk_office_certificates_created_by_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_office_certificates'))
    )
    op.create_table('office_checklist',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=4), server_default='未备', nullable=False),
    sa.Column('day', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('scans', postgresql.ARRAY(sa.String(length=64)), server_default='{}', nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("code IN ('registration_form', 'representative_form', 'charter', 'funding_proof', 'capital_proof', 'premises_proof', 'licence_pledge', 'power_of_attorney')", name=op.f('ck_office_checklist_code')),
    sa.CheckConstraint("state = '未备' OR day IS NOT NULL", name=op.f('ck_office_checklist_ready_day')),
    sa.CheckConstraint("state IN ('未备', '已备')", name=op.f('ck_office_checklist_state')),
    sa.ForeignKeyConstraint(['updated_by'], ['accounts.id'], name=op.f('fk_office_checklist_updated_by_accounts')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_office_checklist'))
    )
    op.create_table('office_seal_uses',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('seal_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('document', sa.String(length=200), nullable=False),
    sa.Column('copies', sa.Integer(), server_default='1', nullable=False),
    sa.Column('approver', sa.String(length=50), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('copies BETWEEN 1 AND 1000', name=op.f('ck_office_seal_uses_copies')),
    sa.CheckConstraint('length(trim(document)) > 0 AND length(trim(approver)) > 0', name=op.f('ck_office_seal_uses_filled')),
    sa.ForeignKeyConstraint(['recorded_by'], ['accounts.id'], name=op.f('fk_office_seal_uses_recorded_by_accounts')),
    sa.ForeignKeyConstraint(['seal_id'], ['office_seals.id'], name=op.f('fk_office_seal_uses_seal_id_office_seals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_office_seal_uses'))
    )
    op.create_index('ix_office_seal_uses_seal', 'office_seal_uses', ['seal_id', 'day'], unique=False)
    op.create_table('office_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_by', sa.Integer(), nullable=True),
    sa.Column('done_reason', sa.String(length=16), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint("done_reason IS NULL OR done_reason IN ('acknowledged', 'renewed', 'superseded', 'cancelled')", name=op.f('ck_office_reminders_done_reason')),
    sa.CheckConstraint('(done_at IS NULL) = (done_reason IS NULL)', name=op.f('ck_office_reminders_done')),
    sa.CheckConstraint('days IN (60, 30)', name=op.f('ck_office_reminders_days')),
    sa.ForeignKeyConstraint(['certificate_id'], ['office_certificates.id'], name=op.f('fk_office_reminders_certificate_id_office_certificates')),
    sa.ForeignKeyConstraint(['done_by'], ['accounts.id'], name=op.f('fk_office_reminders_done_by_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_office_reminders')),
    sa.UniqueConstraint('certificate_id', 'valid_to', 'days', name='uq_office_reminders_stage')
    )
    op.create_index(op.f('ix_office_reminders_certificate_id'), 'office_reminders', ['certificate_id'], unique=False)
    op.create_index('ix_office_reminders_open', 'office_reminders', ['due_at'], unique=False, postgresql_where=sa.text('done_at IS NULL'))
    op.execute(APPEND_ONLY)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS office_seal_uses_no_truncate ON office_seal_uses")
    op.execute("DROP TRIGGER IF EXISTS office_seal_uses_append_only ON office_seal_uses")
    for table in ("office_reminders", "office_seal_uses", "office_checklist", "office_certificates", "office_seals",
                  "office_accounts"):
        op.drop_table(table)
