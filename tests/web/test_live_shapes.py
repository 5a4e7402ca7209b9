"""Live messages have one shape whoever sends them: a subscriber to the stream gets the same keys
from a report, a bulk import, a workflow action, the deadline job and a re-routing after a plan is
published; and every SQL writer of case events fills the same columns. In a database of its own:
everything here commits."""

from __future__ import annotations

import csv
import queue
import re
import threading
import time
from datetime import datetime
from importlib.resources import files

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from tests.conftest import report, serve
from tests.web.test_live import _listen
from webmap.services import events, imports
from webmap.services.overdue import run_overdue_job
from webmap.services.scope import event_visible
from workflow.clock import SHANGHAI


def test_every_sql_writer_of_case_events_fills_the_same_columns():
    texts = {
        "insert_incident.sql": (files("db") / "sql" / "insert_incident.sql").read_text(encoding="utf-8"),
        "plan_reroute.sql": (files("db") / "sql" / "plan_reroute.sql").read_text(encoding="utf-8"),
        "imports.INSERT": imports.INSERT,
        "events.record_event": events._INSERT_EVENT.text,
        "events.record_event once": events._INSERT_EVENT_ONCE.text,
    }
    for name, sql in texts.items():
        columns = re.findall(r"INSERT INTO case_events\s*\(([^)]*)\)", sql)
        assert columns, name
        assert [tuple(c.strip() for c in cols.split(",")) for cols in columns] == [events.EVENT_COLUMNS], name


@pytest.fixture(scope="module")
def live_url(demo_database):
    return demo_database("live", incidents=300, seed=11)


@pytest.fixture(scope="module")
def server(live_url):
    from webmap import create_app

    app = create_app({"DATABASE_URL": live_url, "TESTING": True, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False})
    with serve(app, threads=8) as url:
        yield url, app
        if "wangge.broker" in app.extensions:
            app.extensions["wangge.broker"].stop()
    app.extensions["wangge.engine"].dispose()


def _token(base, username):
    r = requests.post(f"{base}/api/v1/auth/login", json={"username": username, "password": "demo"}, timeout=10)
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _wait_for(into: queue.Queue, got: list[dict], event: str, seconds: float = 10.0) -> dict:
    """The first message of ``event``, keeping every message read meanwhile in ``got``."""
    for m in got:
        if m["event"] == event:
            return m
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            _arrived, m = into.get(timeout=max(end - time.monotonic(), 0.01))
        except queue.Empty:
            break
        got.append(m)
        if m["event"] == event:
            return m
    raise AssertionError(f"no {event!r} message; got {sorted({m['event'] for m in got})}")


class _User:
    is_authenticated = True

    def __init__(self, role, scope_code, department_id=None, id=0):
        self.role, self.scope_code, self.department_id, self.id = role, scope_code, department_id, id


def test_report_import_action_job_and_reroute_send_one_shape(server, live_url, tmp_path):
    base, app = server
    engine = create_engine(live_url)
    with engine.connect() as conn:
        (worker_grid, lng, lat), = conn.execute(text("""
            SELECT g.code, ST_X(ST_PointOnSurface(g.geom)), ST_Y(ST_PointOnSurface(g.geom))
              FROM accounts a JOIN grids g ON g.code = a.scope_code AND g.valid_to IS NULL
             WHERE a.username = 'worker001'""")).all()
        (neighbour, n_lng, n_lat), = conn.execute(text("""
            SELECT b.code, ST_X(ST_PointOnSurface(b.geom)), ST_Y(ST_PointOnSurface(b.geom))
              FROM grids a JOIN grids b ON a.village_id = b.village_id AND a.code <> b.code
             WHERE a.code = :g AND a.valid_to IS NULL AND b.valid_to IS NULL
               AND ST_Length(ST_Intersection(ST_Boundary(a.geom), ST_Boundary(b.geom))::geography) > 200
             ORDER BY b.code LIMIT 1"""), {"g": worker_grid}).all()

    into: queue.Queue = queue.Queue()
    ready, stop = threading.Event(), threading.Event()
    listener = threading.Thread(target=_listen, args=(base, "admin", into, ready, stop), daemon=True)
    listener.start()
    assert ready.wait(10), "stream did not open"
    assert app.extensions["wangge.broker"].wait_ready(5)
    got: list[dict] = []
    try:
        # a report, in each of the two grids to be merged
        worker = _token(base, "worker001")
        created = requests.post(f"{base}/api/v1/incidents", json=report(lng, lat), headers=worker, timeout=10)
        assert created.status_code == 201, created.text
        case = created.json()
        other = requests.post(f"{base}/api/v1/incidents", json=report(n_lng, n_lat), headers=worker, timeout=10)
        assert other.status_code == 201, other.text
        reported = _wait_for(into, got, "reported")
        assert reported["id"] in (case["id"], other.json()["id"]) and reported["case_no"]

        # a bulk import: one message per imported case
        path = tmp_path / "rows.csv"
        with open(path, "w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows([("category", "lng", "lat", "description", "reported_at"),
                                     ("SR01", lng, lat, "导入实时 1", "2026-11-30 09:00"),
                                     ("SR01", n_lng, n_lat, "导入实时 2", "2026-11-30 09:05")])
        summary = imports.import_file(engine, path)
        assert summary.imported == 2
        with engine.connect() as conn:
            imported = set(conn.execute(text("SELECT id FROM incidents WHERE description LIKE '导入实时%'")).scalars())
        deadline = time.monotonic() + 10
        while not imported <= {m["id"] for m in got if m["event"] == "reported"} and time.monotonic() < deadline:
            try:
                got.append(into.get(timeout=0.5)[1])
            except queue.Empty:
                pass
        assert imported <= {m["id"] for m in got if m["event"] == "reported"}

        # a workflow action
        version = requests.get(f"{base}/api/v1/incidents/{case['id']}", headers=worker, timeout=10).json()["version"]
        acted = requests.post(f"{base}/api/v1/incidents/{case['id']}/actions", headers=worker, timeout=10,
                              json={"action": "escalate", "version": version, "note": "需镇里处理"})
        assert acted.status_code == 200, acted.text
        escalated = _wait_for(into, got, "escalate")
        assert escalated["id"] == case["id"] and escalated["version"] == version + 1

        # the deadline job (a session on one connection: its advisory lock belongs to it)
        with engine.connect() as conn:
            job = run_overdue_job(Session(bind=conn), now=datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI))
        assert job["ran"] and job["overdue_marked"] > 0
        overdue = _wait_for(into, got, "overdue")
        assert overdue["status"] == "red"

        # re-routing: merging the two grids moves the open cases of the retired one
        planner = _token(base, "planner1")
        plan = requests.post(f"{base}/api/v1/plans", json={"title": "实时合并"}, headers=planner, timeout=10).json()
        plan = requests.post(f"{base}/api/v1/plans/{plan['id']}/edits", headers=planner, timeout=30,
                             json={"version": plan["version"], "op": "merge", "codes": [worker_grid, neighbour]}).json()
        published = requests.post(f"{base}/api/v1/plans/{plan['id']}/publish", json={"version": plan["version"]},
                                  headers=planner, timeout=60)
        assert published.status_code == 200, published.text
        assert published.json()["rerouted"] > 0
        rerouted = _wait_for(into, got, "reroute")
        assert rerouted["grid_code"] in (worker_grid, neighbour)
    finally:
        stop.set()
        engine.dispose()

    assert {"reported", "escalate", "overdue", "reroute"} <= {m["event"] for m in got}
    for m in got:
        assert tuple(sorted(m)) == tuple(sorted(events.MESSAGE_KEYS)), m["event"]
        assert "reporter_name" not in m and "reporter_phone" not in m
        # the scope rule reads every writer's message alike
        town = _User("dispatcher", m["grid_code"][:9] if m["grid_code"] else "120116103")
        assert event_visible(town, m), m["event"]
        department = _User("department", "120116", department_id=m["department_id"])
        assert event_visible(department, m) == (m["dispatched"] and m["department_id"] is not None), m["event"]
