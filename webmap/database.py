"""One SQLAlchemy engine per app; one session per request, closed at teardown."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from db.cluster import normalise_url


def init_app(app: Flask) -> None:
    # no pre-ping: it costs a round trip on every request; stale connections are recycled instead.
    # No JIT: compiling costs 50–70 ms on the map's aggregate queries, more than it ever saves on
    # queries that read an index or a small table.
    # every reader of the setting (the engine, the LISTEN connection) sees the psycopg2 form
    app.config["DATABASE_URL"] = normalise_url(app.config["DATABASE_URL"])
    engine = create_engine(app.config["DATABASE_URL"], pool_size=10, max_overflow=30, pool_recycle=1800,
                           connect_args={"options": "-c jit=off"})
    app.extensions["wangge.engine"] = engine
    app.extensions["wangge.sessionmaker"] = sessionmaker(bind=engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def session() -> Session:
    """The request's session (created on first use)."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["wangge.sessionmaker"]()
    return g.db_session


def _close_session(_exc=None) -> None:
    s = g.pop("db_session", None)
    if s is not None:
        s.close()
