"""Case events (案卷日志) and live messages: the one writer of both.

Every change to a case appends one row to ``case_events`` (:data:`EVENT_COLUMNS`) and sends one
live message on :data:`NOTIFY_CHANNEL` (``pg_notify``, delivered at commit; ``webmap/live.py`` turns
it into server-sent events). A message has the same keys whoever sends it (:data:`MESSAGE_KEYS`,
built by :func:`live_message`), so a reader such as :func:`webmap.services.scope.event_visible` can
rely on every one of them:

- ``id``, ``case_no``; ``event``: what happened (``reported``, a workflow action such as
  ``dispatch``, ``overdue`` / ``auto_supervise`` from the deadline job, ``reroute`` after a plan is
  published); ``at``: when;
- the case as it now is: ``state``, ``grid_code``, ``village_code``, ``department_id`` and
  ``department`` (its code), ``dispatched`` (sent to that department by the town: only then does the
  department see it), ``reporter_id``, ``category`` (its name), ``lng``/``lat`` (WGS84 degrees),
  ``reported_at``, ``deadline``, ``version``, ``flags``;
- ``status``: the deadline status when the deadline job sends it (``red``), else null.

A 12345 order that changes sends a message of the same keys with ``event`` "hotline"
(:func:`order_message`); the stream sends it as its own event type.

No personal data: no names, no phone numbers.

The set-based writers keep their one statement: ``db/sql/insert_incident.sql`` (a report, its first
event and its message, built here), ``db/sql/plan_reroute.sql`` and the bulk import insert the
same :data:`EVENT_COLUMNS`, and their messages are sent by :func:`notify_cases` in the same
transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import BigInteger, any_, func, literal, select, text
from sqlalchemy.dialects.postgresql import ARRAY

from db.models import Category, Department, Incident
from workflow.clock import format_iso

NOTIFY_CHANNEL = "wangge_incidents"
IDEMPOTENCY_KEY = "idempotency_key"  # the key in an event's data of the client's action that wrote it
EVENT_COLUMNS = ("incident_id", "at", "actor_id", "role", "action", "from_state", "to_state", "note", "data")
MESSAGE_KEYS = (
    "id", "case_no", "event", "at", "state", "grid_code", "village_code", "department_id", "department",
    "dispatched", "reporter_id", "category", "lng", "lat", "reported_at", "deadline", "version", "flags",
    "status",
)

_INSERT_EVENT = text(
    "INSERT INTO case_events (incident_id, at, actor_id, role, action, from_state, to_state, note, data) "
    "VALUES (:i, :at, :actor, :role, :action, :from_state, :to_state, :note, CAST(:data AS jsonb)) RETURNING id")
# the deadline job marks a case once per deadline: a second run, or a second job, adds nothing
_INSERT_EVENT_ONCE = text("""
    INSERT INTO case_events (incident_id, at, actor_id, role, action, from_state, to_state, note, data)
    SELECT :i, :at, :actor, :role, :action, :from_state, :to_state, :note, CAST(:data AS jsonb)
     WHERE NOT EXISTS (
           SELECT 1 FROM case_events
            WHERE incident_id = :i AND action = :action
              AND CAST(data->>'deadline' AS timestamptz) = CAST(:deadline AS timestamptz))
    RETURNING id""")
_NOTIFY = text("SELECT pg_notify(:channel, m.payload) FROM unnest(CAST(:messages AS text[])) "
               "WITH ORDINALITY AS m(payload, n) ORDER BY m.n")


def record_event(db, incident_id: int, action: str, *, at: datetime, role: str | None,
                 actor_id: int | None = None, from_state: str | None, to_state: str | None,
                 note: str | None = None, data: dict | None = None,
                 once_for_deadline: str | None = None, idempotency_key: str | None = None) -> bool:
    """Append one case event; True when it was written. With ``once_for_deadline`` (an ISO
    timestamp) it is written only if the case has no ``action`` event for that deadline yet.
    ``idempotency_key``: the client's key of the action, kept in ``data`` and unique among events
    (a second event with it violates ``uq_case_events_idempotency_key``)."""
    if idempotency_key is not None:
        data = {**(data or {}), IDEMPOTENCY_KEY: idempotency_key}
    params = {"i": incident_id, "at": at, "actor": actor_id, "role": role, "action": action,
              "from_state": from_state, "to_state": to_state, "note": note,
              "data": json.dumps(data or {}, ensure_ascii=False)}
    if once_for_deadline is None:
        return db.execute(_INSERT_EVENT, params).first() is not None
    return db.execute(_INSERT_EVENT_ONCE, {**params, "deadline": once_for_deadline}).first() is not None


def live_message(*, id: int | None, case_no: str | None, event: str, at: datetime, state: str,
                 grid_code: str | None, village_code: str | None, department_id: int | None,
                 department: str | None, dispatched_at: datetime | None, reporter_id: int | None,
                 category: str, lng: float, lat: float, reported_at: datetime, deadline: datetime | None,
                 version: int, flags: Sequence[str] | None, status: str | None = None) -> dict:
    """The live message of one case (the keys of :data:`MESSAGE_KEYS`, see the module).

    >>> from datetime import datetime
    >>> t = datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)
    >>> m = live_message(id=7, case_no="WG202612010000007", event="reported", at=t, state="待受理",
    ...                  grid_code=None, village_code=None, department_id=4, department="huanwei",
    ...                  dispatched_at=None, reporter_id=None, category="暴露垃圾", lng=117.7, lat=39.3,
    ...                  reported_at=t, deadline=None, version=1, flags=["outside_grids"])
    >>> tuple(m) == MESSAGE_KEYS, m["dispatched"], m["at"]
    (True, False, '2026-12-01T09:00:00+08:00')
    """
    return {
        "id": id, "case_no": case_no, "event": event, "at": format_iso(at), "state": state,
        "grid_code": grid_code, "village_code": village_code,
        "department_id": department_id, "department": department,
        "dispatched": dispatched_at is not None and department_id is not None,
        "reporter_id": reporter_id, "category": category, "lng": lng, "lat": lat,
        "reported_at": format_iso(reported_at), "deadline": format_iso(deadline), "version": version,
        "flags": list(flags or []), "status": status,
    }


HOTLINE_EVENT = "hotline"  # a 12345 order changed: sent as the server-sent event type "hotline"


def order_message(*, id: int, order_no: str, at: datetime, state: str, department_id: int | None,
                  department: str | None, lng: float | None, lat: float | None, dispatched_at: datetime,
                  deadline: datetime | None, version: int) -> dict:
    """The live message of a 12345 order that changed (so the 待办 badges refresh): the keys of
    :data:`MESSAGE_KEYS`, ``event`` "hotline", ``id``/``case_no`` the order's id and number, no
    grid (orders are the desk's, the town leaders' and the district's, and their section's:
    ``department_id``, ``dispatched`` when one is assigned), no personal data."""
    return live_message(id=id, case_no=order_no, event=HOTLINE_EVENT, at=at, state=state, grid_code=None,
                        village_code=None, department_id=department_id, department=department,
                        dispatched_at=dispatched_at if department_id is not None else None, reporter_id=None,
                        category="12345", lng=lng, lat=lat, reported_at=dispatched_at, deadline=deadline,
                        version=version, flags=[])


def _message_rows():
    return (
        select(
            Incident.id, Incident.case_no, Incident.state, Incident.grid_code, Incident.village_code,
            Incident.department_id, Department.code.label("department"), Incident.dispatched_at,
            Incident.reporter_id, Category.name.label("category"),
            func.ST_X(Incident.geom).label("lng"), func.ST_Y(Incident.geom).label("lat"),
            Incident.reported_at, Incident.deadline, Incident.version, Incident.flags,
        )
        .join(Category, Category.id == Incident.category_id)
        .outerjoin(Department, Department.id == Incident.department_id)
    )


def notify(db, messages: Iterable[dict]) -> int:
    """Send live messages (delivered when the transaction commits, in this order); how many."""
    payloads = [json.dumps(m, ensure_ascii=False) for m in messages]
    if payloads:
        db.execute(_NOTIFY, {"channel": NOTIFY_CHANNEL, "messages": payloads})
    return len(payloads)


def notify_cases(db, incident_ids: Sequence[int], event: str, at: datetime | None = None, *,
                 status: str | None = None) -> int:
    """Send the live message of each of these cases as it now stands in this transaction, for
    ``event`` at ``at`` (None: when each was reported); how many were sent."""
    if not incident_ids:
        return 0
    rows = db.execute(_message_rows().where(Incident.id == any_(literal(list(incident_ids), ARRAY(BigInteger))))
                      .order_by(Incident.id)).all()
    return notify(db, (live_message(event=event, at=at or r.reported_at, status=status, **r._mapping)
                       for r in rows))
