"""Test fixtures. One database per session, built by the migrations and loaded with a small demo
town; each test that writes runs inside a transaction that is rolled back."""

from __future__ import annotations

import math
import os
import shutil
import socket
import tempfile
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import shapely
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from workflow.clock import SHANGHAI

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
DEMO_SEED = 20261128
DEMO_INCIDENTS = 4000
DEMO_UNTIL = datetime(2026, 11, 20, 18, 0, tzinfo=SHANGHAI)
# the monthly reports `wangge jobs run` writes go to a folder of the session, not the checkout's var/
os.environ.setdefault("WANGGE_REPORTS_DIR", tempfile.mkdtemp(prefix="wangge-test-reports-"))
os.environ.setdefault("WANGGE_EXPORTS_DIR", tempfile.mkdtemp(prefix="wangge-test-exports-"))  # and the exports


def pytest_collection_modifyitems(items):
    for item in items:
        level = Path(str(item.fspath)).parent.name
        if level in ("unit", "integration", "web"):
            item.add_marker(getattr(pytest.mark, level))


@pytest.fixture(scope="session")
def server_url() -> str:
    """The PostgreSQL server: DATABASE_URL's, or the private cluster under var/ (started here)."""
    from db import cluster

    os.environ.setdefault("WANGGE_HOME", str(ROOT))
    return cluster.up(echo=lambda _m: None)


def _fresh_database(server_url: str, name: str) -> str:
    from db import cluster

    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    cluster.drop_database(url)
    cluster.create_database(url)
    return url


@pytest.fixture(scope="session")
def fresh_database(server_url):
    """Factory of empty databases on the test server, dropped at the end of the session."""
    from db import cluster

    made = []

    def make(suffix: str) -> str:
        url = _fresh_database(server_url, f"wangge_test_{suffix}_{os.getpid()}")
        made.append(url)
        return url

    yield make
    for url in made:
        cluster.drop_database(url)


@pytest.fixture(scope="session")
def demo_database(fresh_database):
    """Factory of databases of their own (for tests that commit), built by the migrations and
    loaded with a demo town of ``incidents`` cases."""
    from db import migrate
    from db.demo import load_demo

    def make(suffix: str, *, incidents: int, seed: int = DEMO_SEED) -> str:
        url = fresh_database(suffix)
        migrate.upgrade(url)
        engine = create_engine(url)
        load_demo(engine, incidents=incidents, seed=seed, until=DEMO_UNTIL)
        engine.dispose()
        return url

    return make


@pytest.fixture(scope="session")
def database_url(demo_database) -> str:
    """A database built by the migrations and loaded with a small demo town."""
    return demo_database("main", incidents=DEMO_INCIDENTS)


@pytest.fixture(scope="session")
def engine(database_url):
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine):
    """A connection inside a transaction that is rolled back after the test."""
    conn = engine.connect()
    trans = conn.begin()
    yield conn
    trans.rollback()
    conn.close()


@pytest.fixture
def db(connection) -> Session:
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    yield session
    session.close()


@pytest.fixture(scope="session")
def app(database_url):
    from webmap import create_app

    app = create_app({"DATABASE_URL": database_url, "TESTING": True, "SECRET_KEY": "test",
                      "WTF_CSRF_ENABLED": False})
    yield app
    app.extensions["wangge.engine"].dispose()


@pytest.fixture
def client(app, connection):
    """A Flask test client whose requests share the test's rolled-back transaction."""
    original = app.extensions["wangge.sessionmaker"]
    app.extensions["wangge.sessionmaker"] = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield app.test_client()
    finally:
        app.extensions["wangge.sessionmaker"] = original


def user_named(db, username: str):
    """The signed-in user object of an account, as the services take it."""
    from webmap.services import accounts

    account_id = db.execute(text("SELECT id FROM accounts WHERE username = :u"), {"u": username}).scalar()
    return accounts.load_user(db, account_id)


def login(client, username: str, password: str = "demo"):
    return client.post("/auth/login", data={"username": username, "password": password})


# ---------------------------------------------------------------- helpers the test modules share
# Plain functions, imported as ``from tests.conftest import bearer, report, sql``.

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4


def bearer(client, username: str, password: str = "demo") -> dict:
    """The Authorization header of USERNAME's API token."""
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


class Tokens:
    """A few people at their desks: ``headers(username)`` is each one's Authorization header,
    asked for once. Test modules subclass it with what their people do."""

    def __init__(self, client):
        self.client = client
        self.tokens = {}

    def headers(self, who: str) -> dict:
        if who not in self.tokens:
            self.tokens[who] = bearer(self.client, who)
        return self.tokens[who]


def served_bearer(base_url: str, username: str, password: str = "demo") -> dict:
    """The Authorization header of USERNAME's API token from a served app (``live_server``)."""
    import requests

    r = requests.post(f"{base_url}/api/v1/auth/login", json={"username": username, "password": password}, timeout=10)
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['token']}"}


def report(lng, lat, crs="wgs84", **extra) -> dict:
    """The JSON body of an incident report (exposed garbage) at LNG, LAT."""
    return {"category": "SR01", "description": "路边有暴露垃圾", "location": {"lng": lng, "lat": lat, "crs": crs},
            "address": "振兴路 12 号", **extra}


def sql(connection, query, **params) -> list:
    """All rows of QUERY with bound PARAMS."""
    return connection.execute(text(query), params).all()


def count(connection, table: str = "incidents") -> int:
    """The number of rows in TABLE (a name from the test itself, never from input)."""
    return connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()  # noqa: S608


@contextmanager
def serve(app, threads: int = 32):
    """The app served by waitress on a free localhost port, with as many threads as ``wangge serve``
    (each open page holds one for its live stream until the stream's next heartbeat finds the page
    gone); yields its base URL."""
    from waitress.server import create_server

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = create_server(app, host="127.0.0.1", port=port, threads=threads)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()


@pytest.fixture(scope="session")
def live_server(app):
    """The app served on localhost, for real clients (OWSLib, GDAL, Chromium)."""
    with serve(app) as url:
        yield url


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("Debian's chromium is not installed: make test installs it (scripts/install-system-deps.sh test)")
    return path


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, chromium_path):
    """pytest-playwright drives Debian's chromium: `playwright install` cannot download here."""
    return {
        **browser_type_launch_args,
        "executable_path": chromium_path,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"],
    }


# ---------------------------------------------------------------- a patrol's walk and its GPX upload


def walk(grid_geom, start: datetime, seconds: int = 1800, every: int = 5, speed: float = 1.3, seed: int = 1):
    """A walk at ``speed`` m/s inside the grid, a fix every ``every`` s with about 3 m of GPS
    noise: the true path (lng, lat arrays) and the noisy fixes."""
    rng = np.random.default_rng(seed)
    c = grid_geom.representative_point()
    kx = 111_320 * math.cos(math.radians(c.y))
    x, y, heading = 0.0, 0.0, rng.uniform(0, 2 * math.pi)
    xs, ys = [x], [y]
    for _ in range(seconds // every):
        for _turn in range(20):
            heading += rng.normal(0, 0.3)
            nx, ny = x + speed * every * math.cos(heading), y + speed * every * math.sin(heading)
            if grid_geom.buffer(-0.0002).contains(shapely.Point(c.x + nx / kx, c.y + ny / 110_574)):
                break
            heading += math.pi / 2
        else:
            nx, ny = x, y
        x, y = nx, ny
        xs.append(x)
        ys.append(y)
    lng, lat = c.x + np.array(xs) / kx, c.y + np.array(ys) / 110_574
    noisy_lng = lng + rng.normal(0, 3, len(lng)) / kx
    noisy_lat = lat + rng.normal(0, 3, len(lat)) / 110_574
    times = [start + timedelta(seconds=every * i) for i in range(len(lng))]
    return (lng, lat), list(zip(times, noisy_lng, noisy_lat, strict=True))


def gpx(points) -> bytes:
    body = "".join(f'<trkpt lat="{lat:.7f}" lon="{lng:.7f}"><time>{t.isoformat()}</time></trkpt>'
                   for t, lng, lat in points)
    return (f'<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="test" '
            f'xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>{body}</trkseg></trk></gpx>').encode()


def upload(client, headers, data: bytes, **query):
    return client.post("/api/v1/patrols/gpx", data=data, headers={**headers, "Content-Type": "application/gpx+xml"},
                       query_string=query)
