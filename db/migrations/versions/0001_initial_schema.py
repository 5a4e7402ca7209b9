"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28 21:52:05.281079
"""
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


APPEND_ONLY = """
CREATE FUNCTION wangge_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused (案卷事件只可追加)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER case_events_append_only BEFORE UPDATE OR DELETE ON case_events
    FOR EACH ROW EXECUTE FUNCTION wangge_refuse_change();
CREATE TRIGGER case_events_no_truncate BEFORE TRUNCATE ON case_events
    FOR EACH STATEMENT EXECUTE FUNCTION wangge_refuse_change();
"""


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_geospatial_table('areas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('synthetic', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.CheckConstraint("kind IN ('district', 'town', 'village', 'community')", name=op.f('ck_areas_kind')),
    sa.CheckConstraint("level IN ('district', 'town', 'village')", name=op.f('ck_areas_level')),
    sa.CheckConstraint('ST_IsValid(geom)', name=op.f('ck_areas_geom_valid')),
    sa.CheckConstraint('ST_SRID(geom) = 4326', name=op.f('ck_areas_geom_srid')),
    sa.ForeignKeyConstraint(['parent_id'], ['areas.id'], name=op.f('fk_areas_parent_id_areas'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_areas')),
    sa.UniqueConstraint('code', name=op.f('uq_areas_code'))
    )
    op.create_geospatial_index('idx_areas_geom', 'areas', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_table('departments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('level', sa.String(length=16), server_default='town', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_departments')),
    sa.UniqueConstraint('code', name=op.f('uq_departments_code'))
    )
    op.create_table('people',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('gender', sa.String(length=1), nullable=True),
    sa.Column('photo', sa.String(length=200), nullable=True),
    sa.Column('synthetic', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_people'))
    )
    op.create_table('settings',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_settings'))
    )
    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('scope_code', sa.String(length=15), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("role IN ('worker', 'leader', 'dispatcher', 'town_leader', 'department', 'district', 'planner', 'analyst', 'admin')", name=op.f('ck_accounts_role')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_accounts_department_id_departments')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_accounts_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('username', name=op.f('uq_accounts_username'))
    )
    op.create_table('categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('class_name', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('self_handle', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('time_limit', sa.Integer(), nullable=False),
    sa.Column('time_unit', sa.String(length=16), nullable=False),
    sa.CheckConstraint("time_unit IN ('work_hours', 'work_days', 'hours', 'days')", name=op.f('ck_categories_time_unit')),
    sa.CheckConstraint('time_limit > 0', name=op.f('ck_categories_time_limit')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_categories_department_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_categories')),
    sa.UniqueConstraint('code', name=op.f('uq_categories_code'))
    )
    op.create_table('grid_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grid_code', sa.String(length=15), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('duty', sa.String(length=8), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.CheckConstraint("duty IN ('worker', 'leader')", name=op.f('ck_grid_assignments_duty')),
    sa.CheckConstraint('valid_to IS NULL OR valid_to >= valid_from', name=op.f('ck_grid_assignments_validity')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_grid_assignments_person_id_people'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_assignments'))
    )
    op.create_index('ix_grid_assignments_current', 'grid_assignments', ['grid_code', 'duty'], unique=False, postgresql_where=sa.text('valid_to IS NULL'))
    op.create_index(op.f('ix_grid_assignments_person_id'), 'grid_assignments', ['person_id'], unique=False)
    op.create_geospatial_table('grids',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=15), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), server_default='comprehensive', nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('households', sa.Integer(), server_default='0', nullable=False),
    sa.Column('residents', sa.Integer(), server_default='0', nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('valid_to', sa.DateTime(timezone=True), nullable=True),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('synthetic', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.CheckConstraint("code ~ '^[0-9]{15}$'", name=op.f('ck_grids_code_15_digits')),
    sa.CheckConstraint('ST_SRID(geom) = 4326', name=op.f('ck_grids_geom_srid')),
    sa.CheckConstraint("kind IN ('comprehensive', 'dedicated')", name=op.f('ck_grids_kind')),
    sa.CheckConstraint('ST_IsValid(geom) AND NOT ST_IsEmpty(geom)', name=op.f('ck_grids_geom_valid')),
    sa.CheckConstraint('households >= 0 AND residents >= 0', name=op.f('ck_grids_population')),
    sa.CheckConstraint('valid_to IS NULL OR valid_to > valid_from', name=op.f('ck_grids_validity')),
    sa.ForeignKeyConstraint(['village_id'], ['areas.id'], name=op.f('fk_grids_village_id_areas'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grids')),
    sa.UniqueConstraint('code', 'version', name='uq_grids_code_version')
    )
    op.create_geospatial_index('idx_grids_geom', 'grids', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_grids_code'), 'grids', ['code'], unique=False)
    op.create_index(op.f('ix_grids_village_id'), 'grids', ['village_id'], unique=False)
    op.create_index('uq_grids_current_code', 'grids', ['code'], unique=True, postgresql_where=sa.text('valid_to IS NULL'))
    op.create_geospatial_table('patrols',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('grid_code', sa.String(length=15), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('track', Geometry(geometry_type='LINESTRING', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('distance_m', sa.Double(), nullable=True),
    sa.Column('synthetic', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.CheckConstraint('ended_at IS NULL OR ended_at >= started_at', name=op.f('ck_patrols_time')),
    sa.ForeignKeyConstraint(['worker_id'], ['people.id'], name=op.f('fk_patrols_worker_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patrols'))
    )
    op.create_geospatial_index('idx_patrols_track', 'patrols', ['track'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_patrols_started_at'), 'patrols', ['started_at'], unique=False)
    op.create_index(op.f('ix_patrols_worker_id'), 'patrols', ['worker_id'], unique=False)
    op.create_geospatial_table('gps_fixes',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('patrol_id', sa.BigInteger(), nullable=True),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('accuracy_m', sa.Double(), nullable=True),
    sa.Column('speed_mps', sa.Double(), nullable=True),
    sa.ForeignKeyConstraint(['patrol_id'], ['patrols.id'], name=op.f('fk_gps_fixes_patrol_id_patrols')),
    sa.ForeignKeyConstraint(['worker_id'], ['people.id'], name=op.f('fk_gps_fixes_worker_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gps_fixes'))
    )
    op.create_index(op.f('ix_gps_fixes_patrol_id'), 'gps_fixes', ['patrol_id'], unique=False)
    op.create_index('ix_gps_fixes_worker_at', 'gps_fixes', ['worker_id', 'at'], unique=False)
    op.create_geospatial_table('incidents',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('case_no', sa.String(length=32), nullable=False),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('raw_lng', sa.Double(), nullable=False),
    sa.Column('raw_lat', sa.Double(), nullable=False),
    sa.Column('raw_crs', sa.String(length=8), server_default='wgs84', nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('grid_code', sa.String(length=15), nullable=True),
    sa.Column('village_code', sa.String(length=12), nullable=True),
    sa.Column('worker_id', sa.Integer(), nullable=True),
    sa.Column('leader_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('reporter_id', sa.Integer(), nullable=True),
    sa.Column('reporter_name', sa.String(length=50), nullable=True),
    sa.Column('reporter_phone', sa.String(length=32), nullable=True),
    sa.Column('state', sa.String(length=8), server_default='待受理', nullable=False),
    sa.Column('flags', postgresql.ARRAY(sa.String(length=32)), server_default='{}', nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deadline', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('idempotency_key', sa.String(length=128), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('synthetic', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.CheckConstraint("raw_crs IN ('wgs84', 'cgcs2000', 'gcj02', 'bd09')", name=op.f('ck_incidents_raw_crs')),
    sa.CheckConstraint("source IN ('grid_worker', 'resident', 'hotline_12345', 'patrol', 'import', 'open311')", name=op.f('ck_incidents_source')),
    sa.CheckConstraint("state IN ('待受理', '立案派遣', '处理中', '待核查', '结案', '作废', '挂账', '督办')", name=op.f('ck_incidents_state')),
    sa.CheckConstraint('ST_SRID(geom) = 4326', name=op.f('ck_incidents_geom_srid')),
    sa.CheckConstraint('raw_lng BETWEEN -180 AND 180 AND raw_lat BETWEEN -90 AND 90', name=op.f('ck_incidents_raw_range')),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_incidents_category_id_categories')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_incidents_department_id_departments')),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_incidents_grid_id_grids')),
    sa.ForeignKeyConstraint(['leader_id'], ['people.id'], name=op.f('fk_incidents_leader_id_people')),
    sa.ForeignKeyConstraint(['reporter_id'], ['accounts.id'], name=op.f('fk_incidents_reporter_id_accounts')),
    sa.ForeignKeyConstraint(['worker_id'], ['people.id'], name=op.f('fk_incidents_worker_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
    sa.UniqueConstraint('case_no', name=op.f('uq_incidents_case_no')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_incidents_idempotency_key'))
    )
    op.create_geospatial_index('idx_incidents_geom', 'incidents', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index('ix_incidents_grid_code', 'incidents', ['grid_code'], unique=False)
    op.create_index('ix_incidents_reported_at', 'incidents', ['reported_at'], unique=False)
    op.create_index('ix_incidents_state', 'incidents', ['state'], unique=False)
    op.create_table('case_events',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('incident_id', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('from_state', sa.String(length=8), nullable=True),
    sa.Column('to_state', sa.String(length=8), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['accounts.id'], name=op.f('fk_case_events_actor_id_accounts')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_case_events_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_events'))
    )
    op.create_index(op.f('ix_case_events_incident_id'), 'case_events', ['incident_id'], unique=False)
    op.execute(APPEND_ONLY)
    # ### end Alembic commands ###


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS case_events_no_truncate ON case_events")
    op.execute("DROP TRIGGER IF EXISTS case_events_append_only ON case_events")
    op.execute("DROP FUNCTION IF EXISTS wangge_refuse_change()")
    op.drop_index(op.f('ix_case_events_incident_id'), table_name='case_events')
    op.drop_table('case_events')
    op.drop_index('ix_incidents_state', table_name='incidents')
    op.drop_index('ix_incidents_reported_at', table_name='incidents')
    op.drop_index('ix_incidents_grid_code', table_name='incidents')
    op.drop_geospatial_index('idx_incidents_geom', table_name='incidents', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('incidents')
    op.drop_index('ix_gps_fixes_worker_at', table_name='gps_fixes')
    op.drop_index(op.f('ix_gps_fixes_patrol_id'), table_name='gps_fixes')
    op.drop_geospatial_table('gps_fixes')
    op.drop_index(op.f('ix_patrols_worker_id'), table_name='patrols')
    op.drop_index(op.f('ix_patrols_started_at'), table_name='patrols')
    op.drop_geospatial_index('idx_patrols_track', table_name='patrols', postgresql_using='gist', column_name='track')
    op.drop_geospatial_table('patrols')
    op.drop_index('uq_grids_current_code', table_name='grids', postgresql_where=sa.text('valid_to IS NULL'))
    op.drop_index(op.f('ix_grids_village_id'), table_name='grids')
    op.drop_index(op.f('ix_grids_code'), table_name='grids')
    op.drop_geospatial_index('idx_grids_geom', table_name='grids', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('grids')
    op.drop_index(op.f('ix_grid_assignments_person_id'), table_name='grid_assignments')
    op.drop_index('ix_grid_assignments_current', table_name='grid_assignments', postgresql_where=sa.text('valid_to IS NULL'))
    op.drop_table('grid_assignments')
    op.drop_table('categories')
    op.drop_table('accounts')
    op.drop_table('settings')
    op.drop_table('people')
    op.drop_table('departments')
    op.drop_geospatial_index('idx_areas_geom', table_name='areas', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('areas')
    # ### end Alembic commands ###
