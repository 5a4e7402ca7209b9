"""Every DATABASE_URL form a new user would paste works: the one PostgreSQL's tools print
(``postgresql://``), Heroku's ``postgres://``, SQLAlchemy's ``postgresql+psycopg2://`` and a unix
socket given as ``?host=/dir``. SQLAlchemy 2.1 maps a bare ``postgresql://`` to psycopg 3, which is
not installed: without normalising, the first form fails with ``No module named 'psycopg'``."""

import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from db import cluster, migrate
from tests.conftest import ROOT

WANGGE = str(Path(sys.executable).parent / "wangge")


def _tcp_forms(url: str) -> dict[str, str]:
    u = make_url(url)
    who = u.username + (f":{u.password}" if u.password else "")
    rest = f"{who}@{u.host}:{u.port}/{u.database}"
    return {"postgresql": f"postgresql://{rest}", "postgres": f"postgres://{rest}",
            "postgresql+psycopg2": f"postgresql+psycopg2://{rest}"}


def _socket_dir(url: str) -> Path | None:
    """The directory of the server's unix socket, as the server reports it (the private cluster's
    ``var/pg/run`` when the tests run on it); None when no socket of its port is there to reach."""
    u = make_url(url)
    with create_engine(url).connect() as conn:
        dirs = conn.execute(text("SHOW unix_socket_directories")).scalar()
    candidates = [Path(d.strip()) for d in dirs.split(",") if d.strip()] + [cluster.default_cluster().socket_dir]
    for d in candidates:
        if (d / f".s.PGSQL.{u.port}").exists():
            return d
    return None


@pytest.fixture(scope="module")
def forms(database_url) -> dict[str, str]:
    """The test database under each URL form."""
    found = _tcp_forms(database_url)
    u = make_url(database_url)
    sockets = _socket_dir(database_url)
    if sockets is not None and u.host in ("127.0.0.1", "localhost", "::1"):
        found["unix socket"] = f"postgresql:///{u.database}?host={sockets}&port={u.port}&user={u.username}"
    return found


@pytest.mark.parametrize("form", ["postgresql", "postgres", "postgresql+psycopg2", "unix socket"])
def test_every_url_form_reaches_the_database(forms, form):
    if form not in forms:
        pytest.skip("no unix socket of the test server on this machine (DATABASE_URL points elsewhere)")
    url = forms[form]
    assert cluster.normalise_url(url).startswith("postgresql+psycopg2://")
    engine = create_engine(cluster.normalise_url(url))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
            assert conn.execute(text("SELECT count(*) FROM areas WHERE level = 'town'")).scalar() == 1
    finally:
        engine.dispose()
    # the raw psycopg2 paths: CREATE/DROP DATABASE, the LISTEN connection of the live feed
    conn = psycopg2.connect(**cluster.connect_params(url))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT current_database()")
            assert cur.fetchone()[0] == make_url(forms["postgresql"]).database
    finally:
        conn.close()
    assert migrate.current(url) == migrate.head()


@pytest.mark.parametrize("form", ["postgresql", "postgres", "unix socket"])
def test_the_app_and_the_cli_take_every_url_form(forms, form, monkeypatch):
    if form not in forms:
        pytest.skip("no unix socket of the test server on this machine (DATABASE_URL points elsewhere)")
    url = forms[form]
    monkeypatch.setenv("DATABASE_URL", url)
    from webmap import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "test"})
    try:
        assert app.config["DATABASE_URL"] == cluster.normalise_url(url)
        response = app.test_client().get("/auth/login")
        assert response.status_code == 200
    finally:
        app.extensions["wangge.engine"].dispose()
    status = subprocess.run([WANGGE, "db", "status"], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "WANGGE_HOME": str(ROOT), "DATABASE_URL": url})
    assert status.returncode == 0, status.stderr
    assert f'"revision": "{migrate.head()}"' in status.stdout
    up = subprocess.run([WANGGE, "db", "up"], capture_output=True, text=True, timeout=120,
                        env={**os.environ, "WANGGE_HOME": str(ROOT), "DATABASE_URL": url})
    assert up.returncode == 0, up.stderr


def test_normalising_keeps_everything_after_the_scheme():
    assert cluster.normalise_url("postgresql://u:p%40ss@h:5433/db?sslmode=require") == \
        "postgresql+psycopg2://u:p%40ss@h:5433/db?sslmode=require"
    assert cluster.normalise_url("POSTGRES://h/db") == "postgresql+psycopg2://h/db"
    assert cluster.normalise_url("sqlite://") == "sqlite://"
    params = cluster.connect_params("postgres://u:p%40ss@h:5433/db?sslmode=require", "postgres")
    assert params == {"host": "h", "port": 5433, "user": "u", "password": "p@ss", "dbname": "postgres",
                      "sslmode": "require"}
    params = cluster.connect_params("postgresql:///wangge?host=/var/run/postgresql&port=5433&user=w")
    assert params == {"host": "/var/run/postgresql", "port": "5433", "user": "w", "dbname": "wangge"}
