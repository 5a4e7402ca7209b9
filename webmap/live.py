"""Live updates: server-sent events fed by PostgreSQL LISTEN/NOTIFY.

Every change to a case (a report, a bulk import, a workflow action, the deadline job's overdue mark
and 督办, a re-routing after a grid plan is published) runs ``pg_notify('wangge_incidents', …)``
inside its transaction, through ``webmap/services/events.py``, so a message leaves only when the
change is committed. One listener thread per process (``db/listen.py``) holds a LISTEN connection and hands each
message to the subscribers whose scope covers it (a grid worker their grid, a leader their village,
the town everything in the town, a department what is sent to it).

The stream: one ``event: incident`` per changed case, ``id:`` its id, ``data:`` a JSON object with
the keys of ``events.MESSAGE_KEYS`` whoever sent it (``event`` says what happened: ``reported``,
an action name, ``overdue``, ``auto_supervise``, ``reroute``); a bulk import sends one per imported
case. A 12345 order that changes comes as ``event: hotline`` with the same keys (``id`` and
``case_no`` the order's id and number), to the order's readers. Comment lines (``: …``) are the
greeting and the heartbeat.

Each open stream holds one of the server's threads (waitress) until the page goes and the next
heartbeat finds it gone. So that pages and the API always have threads left, at most
``LIVE_STREAMS_MAX`` streams are open at once (``wangge serve`` sets it to its threads less 8);
one more is answered 503 with ``Retry-After``, and its page goes on without live updates (the
header's 待办 count is then read every minute).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

from flask import Blueprint, Response, current_app, jsonify
from flask_login import current_user, login_required

from db.listen import Listener
from webmap.services.events import HOTLINE_EVENT, NOTIFY_CHANNEL
from webmap.services.scope import event_visible

bp = Blueprint("live", __name__, url_prefix="/api/v1")
HEARTBEAT_S = 15.0
STREAMS_MAX = 24  # the default of LIVE_STREAMS_MAX: waitress's 32 threads less 8 for pages and the API
RETRY_AFTER_S = 60


class _Slots:
    """How many streams are open in this process, against the limit."""

    def __init__(self):
        self.lock, self.open = threading.Lock(), 0

    def take(self, limit: int) -> bool:
        with self.lock:
            if self.open >= limit:
                return False
            self.open += 1
            return True

    def give_back(self) -> None:
        with self.lock:
            self.open -= 1


def _slots() -> _Slots:
    app = current_app._get_current_object()
    return app.extensions.setdefault("wangge.live_slots", _Slots())


def broker() -> Listener:
    """This app's listener on the live channel (one per process, started on first use)."""
    app = current_app._get_current_object()
    if "wangge.broker" not in app.extensions:
        app.extensions["wangge.broker"] = Listener(app.config["DATABASE_URL"], NOTIFY_CHANNEL)
    return app.extensions["wangge.broker"]


def _events(b: Listener, user) -> Iterator[str]:
    yield "retry: 3000\n: 已连接 connected\n\n"
    for message in b.messages(lambda message: event_visible(user, message), HEARTBEAT_S):
        if message is None:
            yield ": 心跳 heartbeat\n\n"
        else:
            kind = "hotline" if message.get("event") == HOTLINE_EVENT else "incident"
            yield f"event: {kind}\nid: {message.get('id')}\ndata: {json.dumps(message, ensure_ascii=False)}\n\n"


@bp.get("/stream")
@login_required
def stream():
    """``text/event-stream`` of new and changed incidents within the user's scope (no personal data)."""
    user = current_user._get_current_object()
    b = broker()
    slots = _slots()
    if not slots.take(current_app.config.get("LIVE_STREAMS_MAX", STREAMS_MAX)):
        zh, en = "实时连接已满, 页面照常可用", "too many live connections: the page works without live updates"
        busy = jsonify(code="Service Unavailable", description=f"{zh} / {en}", message_zh=zh, message_en=en)
        busy.status_code = 503
        busy.headers["Retry-After"] = str(RETRY_AFTER_S)
        return busy
    # no stream_with_context: the request (and its database session) ends before streaming starts
    response = Response(_events(b, user), mimetype="text/event-stream")
    response.call_on_close(slots.give_back)  # when the server is done with it: the page went away
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: do not buffer
    return response
