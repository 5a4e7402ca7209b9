"""Run the Alembic migrations programmatically (the CLI and the tests both build schemas this way)."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from geoalchemy2 import alembic_helpers

from db.cluster import normalise_url


def include_object(obj, name, type_, reflected, compare_to):
    """What autogenerate compares: our tables, not PostGIS's own."""
    if type_ == "table" and name == "spatial_ref_sys":
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("db") / "migrations"))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("postgresql://")).get_current_head()


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def current(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
