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
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from flask import Blueprint, Response, current_app
from flask_login import current_user, login_required

from db.listen import Listener
from webmap.services.events import HOTLINE_EVENT, NOTIFY_CHANNEL
from webmap.services.scope import event_visible

bp = Blueprint("live", __name__, url_prefix="/api/v1")
HEARTBEAT_S = 15.0


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
    # no stream_with_context: the request (and its database session) ends before streaming starts
    response = Response(_events(b, user), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: do not buffer
    return response
