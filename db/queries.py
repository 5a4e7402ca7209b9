"""Named SQL queries from ``db/sql/*.sql``, loaded once and run with bound parameters."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from sqlalchemy import TextClause, text


@cache
def query(name: str) -> TextClause:
    """The query in ``db/sql/{name}.sql`` as a SQLAlchemy text clause."""
    if not name.replace("_", "").isalnum():
        raise ValueError(f"bad query name {name!r}")
    return text((files("db") / "sql" / f"{name}.sql").read_text(encoding="utf-8"))
