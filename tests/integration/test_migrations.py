"""The schema is built by the migrations, matches the models, and goes down and up again."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from db import migrate
from db.migrate import include_object
from db.models import Base

TABLES = {"areas", "grids", "people", "accounts", "grid_assignments", "departments", "categories",
          "incidents", "case_events", "patrols", "gps_fixes", "settings"}


def test_upgrade_downgrade_upgrade(fresh_database):
    url = fresh_database("migrations")
    migrate.upgrade(url)
    engine = create_engine(url)
    try:
        assert TABLES <= set(inspect(engine).get_table_names())
        migrate.downgrade(url, "base")
        assert not TABLES & set(inspect(engine).get_table_names())
        migrate.upgrade(url)
        assert migrate.current(url) == migrate.head()
        with engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"include_object": include_object}), Base.metadata
            )
        assert diff == [], f"models and migrations disagree: {diff}"
        with engine.connect() as conn:
            indexes = conn.execute(text(
                "SELECT indexname FROM pg_indexes WHERE indexdef ILIKE '%USING gist%'"
            )).scalars().all()
        assert {"idx_grids_geom", "idx_areas_geom", "idx_incidents_geom", "idx_patrols_track"} <= set(indexes)
    finally:
        engine.dispose()


def test_a_database_holding_the_demo_town_gets_its_town_record(fresh_database):
    """Upgrading a database loaded before migration 0010: the demo town keeps its name, prefix and view."""
    from db import demo_town

    url = fresh_database("towns_backfill")
    migrate.upgrade(url, "0009")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO areas (code, name, level, kind) VALUES (:c, :n, 'town', 'town')"),
                         {"c": demo_town.TOWN_CODE, "n": demo_town.TOWN_NAME})
        migrate.upgrade(url)
        with engine.connect() as conn:
            row = conn.execute(text("SELECT t.* FROM towns t JOIN areas a ON a.id = t.area_id")).mappings().one()
            assert {k: row[k] for k in demo_town.TOWN_RECORD} == demo_town.TOWN_RECORD
            assert conn.execute(text("SELECT wangge_case_prefix()")).scalar() == demo_town.CASE_PREFIX
    finally:
        engine.dispose()
