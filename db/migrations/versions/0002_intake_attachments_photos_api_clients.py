"""intake: attachments, photos, api clients

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 22:08:37.197090
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_clients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('key_sha256', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_clients')),
    sa.UniqueConstraint('key_sha256', name=op.f('uq_api_clients_key_sha256'))
    )
    op.create_table('attachments',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('mime', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f('ck_attachments_sha256')),
    sa.CheckConstraint('size > 0', name=op.f('ck_attachments_size')),
    sa.ForeignKeyConstraint(['uploaded_by'], ['accounts.id'], name=op.f('fk_attachments_uploaded_by_accounts')),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_attachments'))
    )
    op.add_column('incidents', sa.Column('photos', postgresql.ARRAY(sa.String(length=64)), server_default='{}', nullable=False))
    op.add_column('incidents', sa.Column('distance_m', sa.Double(), nullable=True))


def downgrade() -> None:
    op.drop_column('incidents', 'distance_m')
    op.drop_column('incidents', 'photos')
    op.drop_table('attachments')
    op.drop_table('api_clients')
