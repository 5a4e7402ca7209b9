"""Live updates: server-sent events fed by PostgreSQL LISTEN/NOTIFY.

Every change to a case (a report, a bulk import, a workflow action, the deadline job's overdue mark
and 督办, a re-routing after a grid plan is published) runs ``pg_notify('wangge_incidents', …)``
inside its transaction, through ``webmap/services/events.py``, so a message leaves only when the
change is committed. One listener thread per process holds a LISTEN connection and hands each
message to the subscribers whose scope covers it (a grid worker their grid, a leader their village,
the town everything in the town, a department what is sent to it).

The stream: one ``event: incident`` per changed case, ``id:`` its id, ``data:`` a JSON object with
the keys of ``events.MESSAGE_KEYS`` whoever sent it (``event`` says what happened: ``reported``,
an action name, ``overdue``, ``auto_supervise``, ``reroute``); a bulk import sends one per imported
case. Comment lines (``: …``) are the greeting and the heartbeat.
"""

from __future__ import annotations

import json
import queue
import select
import threading
import time
from collections.abc import Callable, Iterator

import psycopg2
from flask import Blueprint, Response, current_app
from flask_login import current_user, login_required

from db.cluster import connect_params
from webmap.services.events import NOTIFY_CHANNEL
from webmap.services.scope import event_visible

bp = Blueprint("live", __name__, url_prefix="/api/v1")
HEARTBEAT_S = 15.0


class Broker:
    """Fans NOTIFY messages out to subscriber queues; the LISTEN thread starts on first use."""

    def __init__(self, url: str):
        self.url = url
        self._subscribers: dict[int, tuple[queue.Queue, Callable[[dict], bool]]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop = threading.Event()

    def subscribe(self, accepts: Callable[[dict], bool]) -> tuple[int, queue.Queue]:
        self._start()
        q: queue.Queue = queue.Queue(maxsize=1000)
        with self._lock:
            token = id(q)
            self._subscribers[token] = (q, accepts)
        return token, q

    def unsubscribe(self, token: int) -> None:
        with self._lock:
            self._subscribers.pop(token, None)

    def wait_ready(self, timeout: float = 5.0) -> bool:
        return self._ready.wait(timeout)

    def stop(self) -> None:
        self._stop.set()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="wangge-listen", daemon=True)
                self._thread.start()

    def _connect(self):
        conn = psycopg2.connect(**connect_params(self.url))
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f"LISTEN {NOTIFY_CHANNEL}")  # a constant identifier, not user input
        return conn

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn = self._connect()
            except psycopg2.Error:
                time.sleep(1.0)
                continue
            self._ready.set()
            try:
                while not self._stop.is_set():
                    if select.select([conn], [], [], 1.0) == ([], [], []):
                        continue
                    conn.poll()
                    while conn.notifies:
                        self._dispatch(conn.notifies.pop(0).payload)
            except (psycopg2.Error, OSError):
                time.sleep(0.5)  # reconnect
            finally:
                self._ready.clear()
                conn.close()

    def _dispatch(self, payload: str) -> None:
        try:
            message = json.loads(payload)
        except ValueError:
            return
        with self._lock:
            targets = list(self._subscribers.values())
        for q, accepts in targets:
            if accepts(message):
                try:
                    q.put_nowait(message)
                except queue.Full:
                    pass  # a stalled client misses messages; it reloads the list on reconnect


def broker() -> Broker:
    app = current_app._get_current_object()
    if "wangge.broker" not in app.extensions:
        app.extensions["wangge.broker"] = Broker(app.config["DATABASE_URL"])
    return app.extensions["wangge.broker"]


def _events(b: Broker, user) -> Iterator[str]:
    token, q = b.subscribe(lambda message: event_visible(user, message))
    try:
        yield "retry: 3000\n: 已连接 connected\n\n"
        while True:
            try:
                message = q.get(timeout=HEARTBEAT_S)
            except queue.Empty:
                yield ": 心跳 heartbeat\n\n"
                continue
            yield f"event: incident\nid: {message.get('id')}\ndata: {json.dumps(message, ensure_ascii=False)}\n\n"
    finally:
        b.unsubscribe(token)


@bp.get("/stream")
@login_required
def stream():
    """``text/event-stream`` of new and changed incidents within the user's scope (no personal data)."""
    user = current_user._get_current_object()
    b = broker()
    # no stream_with_context: the request (and its database session) ends before streaming starts
    response = Response(_events(b, user), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: do not buffer
    return response
