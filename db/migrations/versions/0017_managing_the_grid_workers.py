"""Managing the grid workers and the centre's staff (seed 7-2, 7-1, 5-1 ⑤): notices, the monthly
spot checks and their items, the discipline ladder's cases and events, the assessment plan, hand
scores and annual decisions, the centre's staff with their trainings and annual appraisals, and the
stand-in of a leave

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 14:55:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notices',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('scope_code', sa.String(length=15), nullable=True),
    sa.Column('ref', sa.String(length=40), nullable=True),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('person_id IS NOT NULL OR scope_code IS NOT NULL', name=op.f('ck_notices_addressee')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_notices_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notices'))
    )
    op.create_index('ix_notices_person', 'notices', ['person_id', sa.literal_column('at DESC')], unique=False)
    op.create_index('ix_notices_scope', 'notices', ['scope_code', sa.literal_column('at DESC')], unique=False)
    op.create_table('staff_members',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('post', sa.String(length=50), nullable=False),
    sa.Column('establishment', sa.String(length=8), nullable=False),
    sa.Column('since', sa.Date(), nullable=True),
    sa.Column('until', sa.Date(), nullable=True),
    sa.CheckConstraint("establishment IN ('事业编制', '聘用', '借调', '其他')", name=op.f('ck_staff_members_establishment')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_staff_members_person_id_people')),
    sa.PrimaryKeyConstraint('person_id', name=op.f('pk_staff_members'))
    )
    op.create_table('assessment_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('total', sa.Double(), nullable=False),
    sa.Column('grade', sa.String(length=4), nullable=False),
    sa.Column('decision', sa.String(length=4), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("decision IN ('续聘', '辞退', '奖励', '惩处')", name=op.f('ck_assessment_decisions_decision')),
    sa.CheckConstraint("grade IN ('优秀', '合格', '不合格')", name=op.f('ck_assessment_decisions_grade')),
    sa.ForeignKeyConstraint(['decided_by'], ['accounts.id'], name=op.f('fk_assessment_decisions_decided_by_accounts')),
    sa.ForeignKeyConstraint(['worker_id'], ['people.id'], name=op.f('fk_assessment_decisions_worker_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_decisions'))
    )
    op.create_index('ix_assessment_decisions_worker', 'assessment_decisions', ['worker_id', 'year'], unique=False)
    op.create_table('assessment_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('body', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['accounts.id'], name=op.f('fk_assessment_plans_created_by_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_plans'))
    )
    op.create_table('assessment_scores',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=32), nullable=False),
    sa.Column('score', sa.Double(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('set_by', sa.Integer(), nullable=True),
    sa.Column('set_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('length(trim(reason)) > 0', name=op.f('ck_assessment_scores_reason')),
    sa.ForeignKeyConstraint(['set_by'], ['accounts.id'], name=op.f('fk_assessment_scores_set_by_accounts')),
    sa.ForeignKeyConstraint(['worker_id'], ['people.id'], name=op.f('fk_assessment_scores_worker_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_scores')),
    sa.UniqueConstraint('period', 'worker_id', 'item_code', name='uq_assessment_scores_item')
    )
    op.create_table('spot_checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('grid_code', sa.String(length=15), nullable=False),
    sa.Column('seed', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=8), server_default='待检查', nullable=False),
    sa.Column('drawn_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('drawn_by', sa.Integer(), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.CheckConstraint("state IN ('待检查', '已完成')", name=op.f('ck_spot_checks_state')),
    sa.CheckConstraint('extract(day FROM month) = 1', name=op.f('ck_spot_checks_month')),
    sa.ForeignKeyConstraint(['drawn_by'], ['accounts.id'], name=op.f('fk_spot_checks_drawn_by_accounts')),
    sa.ForeignKeyConstraint(['worker_id'], ['people.id'], name=op.f('fk_spot_checks_worker_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_spot_checks')),
    sa.UniqueConstraint('month', 'worker_id', name='uq_spot_checks_month_worker')
    )
    op.create_index(op.f('ix_spot_checks_grid_code'), 'spot_checks', ['grid_code'], unique=False)
    op.create_table('staff_appraisals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('grade', sa.String(length=4), nullable=False),
    sa.Column('appraiser', sa.String(length=50), server_default='镇党委、镇政府', nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("grade IN ('优秀', '合格', '不合格')", name=op.f('ck_staff_appraisals_grade')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_staff_appraisals_person_id_people')),
    sa.ForeignKeyConstraint(['recorded_by'], ['accounts.id'], name=op.f('fk_staff_appraisals_recorded_by_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_appraisals')),
    sa.UniqueConstraint('person_id', 'year', name='uq_staff_appraisals_year')
    )
    op.create_table('discipline_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('grid_code', sa.String(length=15), nullable=False),
    sa.Column('spot_check_id', sa.Integer(), nullable=True),
    sa.Column('finding', sa.Text(), nullable=False),
    sa.Column('step', sa.String(length=8), nullable=False),
    sa.Column('step_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due', sa.Date(), nullable=True),
    sa.Column('loses_merit_year', sa.Integer(), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.CheckConstraint("step IN ('通报批评', '诫勉谈话', '建议辞退', '已辞退', '已纠正', '留用')", name=op.f('ck_discipline_cases_step')),
    sa.ForeignKeyConstraint(['spot_check_id'], ['spot_checks.id'], name=op.f('fk_discipline_cases_spot_check_id_spot_checks')),
    sa.ForeignKeyConstraint(['worker_id'], ['people.id'], name=op.f('fk_discipline_cases_worker_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_discipline_cases'))
    )
    op.create_index('ix_discipline_cases_due', 'discipline_cases', ['due'], unique=False, postgresql_where=sa.text("step IN ('通报批评', '诫勉谈话', '建议辞退')"))
    op.create_index(op.f('ix_discipline_cases_worker_id'), 'discipline_cases', ['worker_id'], unique=False)
    op.create_table('spot_check_items',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('spot_check_id', sa.Integer(), nullable=False),
    sa.Column('item', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('ref_id', sa.BigInteger(), nullable=False),
    sa.Column('result', sa.String(length=4), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('checked_by', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('report', 'patrol', 'sign_in')", name=op.f('ck_spot_check_items_kind')),
    sa.CheckConstraint("result IS NULL OR result IN ('pass', 'fail')", name=op.f('ck_spot_check_items_result')),
    sa.ForeignKeyConstraint(['checked_by'], ['accounts.id'], name=op.f('fk_spot_check_items_checked_by_accounts')),
    sa.ForeignKeyConstraint(['spot_check_id'], ['spot_checks.id'], name=op.f('fk_spot_check_items_spot_check_id_spot_checks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_spot_check_items')),
    sa.UniqueConstraint('spot_check_id', 'item', name='uq_spot_check_items_item')
    )
    op.create_table('staff_trainings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('course', sa.String(length=200), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('hours', sa.Double(), nullable=False),
    sa.Column('certificate', sa.String(length=100), nullable=True),
    sa.Column('attachment', sa.String(length=64), nullable=True),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('hours > 0 AND hours <= 1000', name=op.f('ck_staff_trainings_hours')),
    sa.ForeignKeyConstraint(['attachment'], ['attachments.sha256'], name=op.f('fk_staff_trainings_attachment_attachments')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_staff_trainings_person_id_people')),
    sa.ForeignKeyConstraint(['recorded_by'], ['accounts.id'], name=op.f('fk_staff_trainings_recorded_by_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_trainings'))
    )
    op.create_index('ix_staff_trainings_person', 'staff_trainings', ['person_id', 'day'], unique=False)
    op.create_table('discipline_events',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=24), nullable=False),
    sa.Column('step', sa.String(length=8), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('evidence', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['accounts.id'], name=op.f('fk_discipline_events_actor_id_accounts')),
    sa.ForeignKeyConstraint(['case_id'], ['discipline_cases.id'], name=op.f('fk_discipline_events_case_id_discipline_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_discipline_events'))
    )
    op.create_index(op.f('ix_discipline_events_case_id'), 'discipline_events', ['case_id'], unique=False)
    op.add_column('leaves', sa.Column('stand_in_id', sa.Integer(), nullable=True))
    op.create_foreign_key(op.f('fk_leaves_stand_in_id_people'), 'leaves', 'people', ['stand_in_id'], ['id'])


def downgrade() -> None:
    op.drop_constraint(op.f("fk_leaves_stand_in_id_people"), "leaves", type_="foreignkey")
    op.drop_column("leaves", "stand_in_id")
    for table in ("discipline_events", "staff_trainings", "spot_check_items", "discipline_cases", "staff_appraisals",
                  "spot_checks", "assessment_scores", "assessment_plans", "assessment_decisions", "staff_members",
                  "notices"):
        op.drop_table(table)
