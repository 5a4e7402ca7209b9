"""A LISTEN client: one thread per process holds a PostgreSQL connection listening on a channel and
hands each NOTIFY payload (JSON) to the subscribers that accept it.

PostgreSQL delivers a NOTIFY when the transaction that sent it commits, so a subscriber never sees a
change that was rolled back. A lost connection is re-opened; a stalled subscriber's queue is bounded
and drops what does not fit (it reloads its list when it reconnects).
"""

from __future__ import annotations

import json
import queue
import select
import threading
import time
from collections.abc import Callable, Iterator

import psycopg2
from psycopg2 import sql

from db.cluster import connect_params

QUEUE_SIZE = 1000  # messages waiting for one subscriber


class Listener:
    """Fans NOTIFY messages of ``channel`` out to subscriber queues; the LISTEN thread starts on
    first use."""

    def __init__(self, url: str, channel: str):
        self.url, self.channel = url, channel
        self._subscribers: dict[int, tuple[queue.Queue, Callable[[dict], bool]]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop = threading.Event()

    def subscribe(self, accepts: Callable[[dict], bool]) -> tuple[int, queue.Queue]:
        self._start()
        q: queue.Queue = queue.Queue(maxsize=QUEUE_SIZE)
        with self._lock:
            token = id(q)
            self._subscribers[token] = (q, accepts)
        return token, q

    def unsubscribe(self, token: int) -> None:
        with self._lock:
            self._subscribers.pop(token, None)

    def messages(self, accepts: Callable[[dict], bool], heartbeat_s: float) -> Iterator[dict | None]:
        """The accepted messages as they come, and None after every ``heartbeat_s`` seconds of
        silence; unsubscribes when the consumer stops iterating."""
        token, q = self.subscribe(accepts)
        try:
            while True:
                try:
                    yield q.get(timeout=heartbeat_s)
                except queue.Empty:
                    yield None
        finally:
            self.unsubscribe(token)

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
            cur.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
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
