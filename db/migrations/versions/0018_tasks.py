"""Tasks from the town's leadership and the centre (seed 8-1) and the information-collection rule (seed 7-2 §3)

The tables of tasks (交办任务), their assignees (a grid worker, a village, a department, each with its
own state) and their append-only events; and the rule of seed 7-2 §3 in the database: an
information-collection task that reaches grid workers (naming a worker, or a village, whose grid
body hands it to its workers) is open only once an account of the district grid centre approved
it, and only the district centre, the town (镇领导, 镇综治中心) or a village's grid body may ask for
one. Constraint triggers on both tables check every INSERT and UPDATE, so no path around the
service (a script, a hand-written statement) can give a worker an unapproved task of the kind.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08 00:30:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# the function wangge_refuse_change() is migration 0001's
APPEND_ONLY = """
CREATE TRIGGER task_events_append_only BEFORE UPDATE OR DELETE ON task_events
    FOR EACH ROW EXECUTE FUNCTION wangge_refuse_change();
CREATE TRIGGER task_events_no_truncate BEFORE TRUNCATE ON task_events
    FOR EACH STATEMENT EXECUTE FUNCTION wangge_refuse_change();
"""

# After each row of tasks or task_assignees is written, the task it belongs to is checked as it now
# stands: an info_collection task with a worker or village assignee must come from one of the
# bodies, and be pending (待区审批), refused, or approved by a district account. The issuer's
# recorded role must be the issuing account's own when the task is written with it. The refusals
# quote the seed's words (workflow/tasks.py INFO_RULE_ZH).
INFO_RULE = """
CREATE FUNCTION wangge_task_info_rule() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    t tasks%ROWTYPE;
    task integer;
BEGIN
    IF TG_TABLE_NAME = 'tasks' THEN
        task := NEW.id;
        IF TG_OP = 'INSERT' OR NEW.issuer_id IS DISTINCT FROM OLD.issuer_id
                OR NEW.issuer_role IS DISTINCT FROM OLD.issuer_role THEN
            IF NOT EXISTS (SELECT 1 FROM accounts WHERE id = NEW.issuer_id AND role = NEW.issuer_role) THEN
                RAISE EXCEPTION 'task %: issuer_role % is not the role of account %', task, NEW.issuer_role,
                    NEW.issuer_id USING ERRCODE = 'check_violation';
            END IF;
        END IF;
    ELSE
        task := NEW.task_id;
    END IF;
    SELECT * INTO t FROM tasks WHERE id = task;
    IF t.kind <> 'info_collection' OR NOT EXISTS (
            SELECT 1 FROM task_assignees a WHERE a.task_id = task AND a.kind IN ('worker', 'village')) THEN
        RETURN NULL;
    END IF;
    IF t.issuer_role NOT IN ('district', 'town_leader', 'dispatcher', 'leader') THEN
        RAISE EXCEPTION '%: task % comes from a % account', '任何单位或组织非经区网格中心批准，不得向专职网格员下达信息采集任务及相关指令', task, t.issuer_role
            USING ERRCODE = 'check_violation';
    END IF;
    IF t.state IN ('待区审批', '已拒绝') THEN
        RETURN NULL;
    END IF;
    IF t.approved_at IS NULL OR NOT EXISTS (SELECT 1 FROM accounts WHERE id = t.approved_by AND role = 'district') THEN
        RAISE EXCEPTION '%: task % is % without the district grid centre''s approval', '任何单位或组织非经区网格中心批准，不得向专职网格员下达信息采集任务及相关指令', task, t.state
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER tasks_info_rule AFTER INSERT OR UPDATE ON tasks
    FOR EACH ROW EXECUTE FUNCTION wangge_task_info_rule();
CREATE CONSTRAINT TRIGGER task_assignees_info_rule AFTER INSERT OR UPDATE ON task_assignees
    FOR EACH ROW EXECUTE FUNCTION wangge_task_info_rule();
"""


def upgrade() -> None:
    op.create_table('tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), server_default='', nullable=False),
    sa.Column('kind', sa.String(length=16), server_default='general', nullable=False),
    sa.Column('source', sa.String(length=16), nullable=True),
    sa.Column('source_ref', sa.String(length=200), nullable=True),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('issuer_id', sa.Integer(), nullable=False),
    sa.Column('issuer_role', sa.String(length=16), nullable=False),
    sa.Column('issuer_body', sa.String(length=32), nullable=False),
    sa.Column('deadline', sa.DateTime(timezone=True), nullable=False),
    sa.Column('report_back', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('attachments', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approved_by', sa.Integer(), nullable=True),
    sa.Column('refusal', sa.Text(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.CheckConstraint("kind IN ('general', 'info_collection')", name=op.f('ck_tasks_kind')),
    sa.CheckConstraint("source IS NULL OR source IN ('document', 'meeting', 'other')", name=op.f('ck_tasks_source')),
    sa.CheckConstraint("state IN ('待区审批', '进行中', '已关闭', '已拒绝')", name=op.f('ck_tasks_state')),
    sa.CheckConstraint('deadline > created_at', name=op.f('ck_tasks_deadline')),
    sa.CheckConstraint('length(trim(title)) > 0', name=op.f('ck_tasks_title')),
    sa.ForeignKeyConstraint(['approved_by'], ['accounts.id'], name=op.f('fk_tasks_approved_by_accounts')),
    sa.ForeignKeyConstraint(['issuer_id'], ['accounts.id'], name=op.f('fk_tasks_issuer_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks'))
    )
    op.create_index('ix_tasks_issuer_body', 'tasks', ['issuer_body', sa.literal_column('created_at DESC')], unique=False)
    op.create_index('ix_tasks_state', 'tasks', ['state', 'deadline'], unique=False)
    op.create_table('task_assignees',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('village_code', sa.String(length=12), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('report_back', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('state', sa.String(length=8), server_default='待签收', nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('progress_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('progress_note', sa.Text(), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completion_note', sa.Text(), nullable=True),
    sa.Column('completion_attachments', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('return_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('overdue_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('supervise_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('supervised_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(kind = 'worker') = (account_id IS NOT NULL) AND (kind = 'village') = (village_code IS NOT NULL) AND (kind = 'department') = (department_id IS NOT NULL)", name=op.f('ck_task_assignees_target')),
    sa.CheckConstraint("kind IN ('worker', 'village', 'department')", name=op.f('ck_task_assignees_kind')),
    sa.CheckConstraint("state IN ('待签收', '已签收', '办理中', '已完成', '退回重办')", name=op.f('ck_task_assignees_state')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_task_assignees_account_id_accounts')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_task_assignees_department_id_departments')),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_assignees_task_id_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_assignees')),
    sa.UniqueConstraint('task_id', 'kind', 'code', name='uq_task_assignees_target')
    )
    op.create_index('ix_task_assignees_account', 'task_assignees', ['account_id'], unique=False, postgresql_where=sa.text('account_id IS NOT NULL'))
    op.create_index('ix_task_assignees_department', 'task_assignees', ['department_id'], unique=False, postgresql_where=sa.text('department_id IS NOT NULL'))
    op.create_index(op.f('ix_task_assignees_task_id'), 'task_assignees', ['task_id'], unique=False)
    op.create_index('ix_task_assignees_village', 'task_assignees', ['village_code'], unique=False, postgresql_where=sa.text('village_code IS NOT NULL'))
    op.create_table('task_events',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('assignee_id', sa.BigInteger(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=True),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('from_state', sa.String(length=8), nullable=True),
    sa.Column('to_state', sa.String(length=8), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('attachments', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['accounts.id'], name=op.f('fk_task_events_actor_id_accounts')),
    sa.ForeignKeyConstraint(['assignee_id'], ['task_assignees.id'], name=op.f('fk_task_events_assignee_id_task_assignees')),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_events_task_id_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_events'))
    )
    op.create_index(op.f('ix_task_events_task_id'), 'task_events', ['task_id'], unique=False)
    op.execute(APPEND_ONLY)
    op.execute(INFO_RULE)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS task_assignees_info_rule ON task_assignees")
    op.execute("DROP TRIGGER IF EXISTS tasks_info_rule ON tasks")
    op.execute("DROP FUNCTION IF EXISTS wangge_task_info_rule()")
    op.execute("DROP TRIGGER IF EXISTS task_events_no_truncate ON task_events")
    op.execute("DROP TRIGGER IF EXISTS task_events_append_only ON task_events")
    op.drop_index(op.f('ix_task_events_task_id'), table_name='task_events')
    op.drop_table('task_events')
    op.drop_index('ix_task_assignees_village', table_name='task_assignees', postgresql_where=sa.text('village_code IS NOT NULL'))
    op.drop_index(op.f('ix_task_assignees_task_id'), table_name='task_assignees')
    op.drop_index('ix_task_assignees_department', table_name='task_assignees', postgresql_where=sa.text('department_id IS NOT NULL'))
    op.drop_index('ix_task_assignees_account', table_name='task_assignees', postgresql_where=sa.text('account_id IS NOT NULL'))
    op.drop_table('task_assignees')
    op.drop_index('ix_tasks_state', table_name='tasks')
    op.drop_index('ix_tasks_issuer_body', table_name='tasks')
    op.drop_table('tasks')
