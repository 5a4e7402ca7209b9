"""Live: a new incident reaches the grid leader and the town dispatchers within 2 seconds,
and only those whose scope covers it."""

import json
import queue
import threading
import time

import requests
from sqlalchemy import create_engine, text

from tests.conftest import login, report
from webmap import live

SECONDS = 2.0


def _token(live_server, username):
    r = requests.post(f"{live_server}/api/v1/auth/login", json={"username": username, "password": "demo"},
                      timeout=10)
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _listen(live_server, username, into: queue.Queue, ready: threading.Event, stop: threading.Event):
    headers = _token(live_server, username)
    with requests.get(f"{live_server}/api/v1/stream", headers=headers, stream=True, timeout=(5, 30)) as r:
        assert r.headers["Content-Type"].startswith("text/event-stream")
        event = None
        for line in r.iter_lines(decode_unicode=True):
            if line.startswith(": "):
                ready.set()
            elif line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "incident":
                into.put((time.monotonic(), json.loads(line[6:])))
            if stop.is_set():
                return


def _grid_of(database_url, username):
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("""
                SELECT g.code, ST_X(ST_PointOnSurface(g.geom)), ST_Y(ST_PointOnSurface(g.geom))
                  FROM accounts a JOIN grids g ON g.valid_to IS NULL AND starts_with(g.code, a.scope_code)
                 WHERE a.username = :u ORDER BY g.code LIMIT 1"""), {"u": username}).one()
    finally:
        engine.dispose()


def test_new_incident_reaches_leader_and_dispatcher_only(live_server, database_url):
    listeners = {name: (queue.Queue(), threading.Event()) for name in ("leader01", "dispatcher1", "leader02", "worker003")}
    stop = threading.Event()
    threads = [threading.Thread(target=_listen, args=(live_server, name, q, ready, stop), daemon=True)
               for name, (q, ready) in listeners.items()]
    for th in threads:
        th.start()
    for name, (_q, ready) in listeners.items():
        assert ready.wait(10), f"{name}: stream did not open"
    time.sleep(0.3)  # the LISTEN connection is up once the first stream is served

    code, lng, lat = _grid_of(database_url, "leader01")  # a grid of leader01's village
    sent = time.monotonic()
    created = requests.post(f"{live_server}/api/v1/incidents", json=report(lng, lat, description="实时推送测试"),
                            headers=_token(live_server, "worker001"), timeout=10)
    assert created.status_code == 201
    incident = created.json()

    for name in ("leader01", "dispatcher1"):
        q = listeners[name][0]
        arrived, message = q.get(timeout=SECONDS + 1)
        assert message["id"] == incident["id"] and message["grid_code"] == code
        assert arrived - sent < SECONDS, f"{name} waited {arrived - sent:.2f} s"
        assert "reporter_name" not in message and "reporter_phone" not in message
    time.sleep(0.5)
    for name in ("leader02", "worker003"):  # another village, another grid
        assert listeners[name][0].empty(), name
    stop.set()


def test_stream_needs_login(live_server):
    assert requests.get(f"{live_server}/api/v1/stream", timeout=5).status_code == 401


def test_streams_beyond_the_limit_are_refused_and_a_closed_one_frees_its_place(app, client, monkeypatch):
    monkeypatch.setitem(app.extensions, "wangge.live_slots", live._Slots())  # this test's count alone
    monkeypatch.setitem(app.config, "LIVE_STREAMS_MAX", 1)
    login(client, "dispatcher1")
    first = client.get("/api/v1/stream", buffered=False)
    assert first.status_code == 200
    refused = client.get("/api/v1/stream")
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "60"
    assert refused.get_json()["message_zh"] == "实时连接已满, 页面照常可用"
    assert client.get("/api/v1/inbox?limit=0").status_code == 200  # the rest of the server answers
    first.close()  # the page went away
    again = client.get("/api/v1/stream", buffered=False)
    assert again.status_code == 200
    again.close()
    assert app.extensions["wangge.live_slots"].open == 0


def test_map_page_shows_a_new_incident_live(page, live_server, database_url):
    page.goto(f"{live_server}/auth/login")
    page.fill("#username", "dispatcher2")
    page.fill("#password", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/dispatch")  # where the dispatcher's day starts; then the town map
    page.goto(f"{live_server}/")
    page.wait_for_selector("body[data-map-ready='1']", timeout=20_000)
    page.wait_for_selector("#live[data-state='on']", timeout=10_000)
    _code, lng, lat = _grid_of(database_url, "worker005")
    requests.post(f"{live_server}/api/v1/incidents", json=report(lng, lat, description="地图实时"),
                  headers=_token(live_server, "worker005"), timeout=10).raise_for_status()
    page.wait_for_selector("path.incident.new", timeout=int(SECONDS * 1000) + 500)
    assert "新事件 1 条" in page.locator("#live").inner_text()
