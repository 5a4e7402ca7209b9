"""Sign-in attendance (签到考勤, seed 7-2: "每周在岗时间不少于 40 小时").

- A grid worker's phone signs in and out (:func:`sign`): where it was made, whether that lies in
  the worker's current grid within a tolerance (``WANGGE_ATTENDANCE_TOLERANCE_M``, default 100 m,
  measured on the WGS84 ellipsoid by PostGIS), idempotent on the phone's ``client_id``.
- :func:`day` lists a worker's sign-ins of a day; :func:`weekly` checks the week against the
  40-hour rule: hours from in/out pairs, the working days (holidays table included) without a
  sign-in, sign-ins outside the grid, and sign-ins never closed. A working day of approved leave
  (请假, :mod:`workflow.leave`) is excused: it is no missing day, and it lowers the week's 40 hours by
  8 (:func:`workflow.leave.required_hours`).
- Sign-in places are whereabouts, like patrol tracks: the worker, their village's leader and the
  town see them (:func:`reader_scope`, the rule of :func:`webmap.services.tracks.track_visible`);
  :func:`webmap.services.patrols.purge` forgets the places after the retention.

The roster, scope and hour helpers here are shared with :mod:`webmap.services.patrol_reports`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from spatial import patrols as analysis
from workflow import leave as leave_rules
from workflow import roles
from workflow.clock import SHANGHAI, WorkCalendar, format_iso, shanghai_now

from .patrols import PatrolError
from .tracks import may_see_tracks
from .workdays import load_calendar

RULE_HOURS = leave_rules.WEEK_HOURS  # 每周在岗不少于 40 小时 (seed 7-2)
DEFAULT_TOLERANCE_M = 100.0
MAX_AGE = timedelta(days=2)  # a sign-in sent later than this is refused (no back-dating)
CLOCK_SKEW = timedelta(minutes=5)  # a phone's clock a little ahead is no "future"
MAX_SESSION = timedelta(hours=16)  # an "in" whose next "out" comes later was never closed
TIMEZONE = "Asia/Shanghai"
CHINA = ((73.0, 136.0), (3.0, 54.0))  # lng, lat bounds of a plausible fix (WGS84)

ACCESS_ZH = ("无权查看签到考勤: 签到位置属于个人行踪信息, 仅限镇综治中心、镇领导、网格长和网格员本人查看")
ACCESS_EN = ("no access to attendance: sign-in places are personal whereabouts, shown only to the town "
             "centre, town leaders, grid leaders and each grid worker for their own")


def tolerance_m() -> float:
    """Metres a sign-in may lie outside the grid and still count as inside:
    ``WANGGE_ATTENDANCE_TOLERANCE_M`` (0–5,000), else 100."""
    try:
        value = float(os.environ.get("WANGGE_ATTENDANCE_TOLERANCE_M", DEFAULT_TOLERANCE_M))
    except ValueError:
        return DEFAULT_TOLERANCE_M
    return value if math.isfinite(value) and 0 <= value <= 5000 else DEFAULT_TOLERANCE_M


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, SHANGHAI)


def local_day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def work_calendar(db: Session) -> WorkCalendar:
    """The working days: ``chinese_calendar`` corrected by the editable ``holidays`` table (read
    now, not cached: a report must see today's edits of the table)."""
    return load_calendar(db, fresh=True)


# ---------------------------------------------------------------- who may read whom


@dataclass(frozen=True)
class Scope:
    """What a reader sees: the workers whose grid code starts with ``prefix`` ('' for all), or
    only the person ``person_id`` (a grid worker reading their own)."""

    prefix: str
    person_id: int | None = None


def _person_of(db: Session, account_id: int) -> int | None:
    return db.execute(text("SELECT person_id FROM accounts WHERE id = :a"), {"a": account_id}).scalar()


def parse_village(raw: str | None) -> str | None:
    """A village (or town, or grid) code: 6–15 digits; ``None``/empty for none. 400 otherwise."""
    if raw is None or raw == "":
        return None
    if not (isinstance(raw, str) and raw.isascii() and raw.isdigit() and 6 <= len(raw) <= 15):
        raise PatrolError(400, "village: 应为村 (社区) 编码, 12 位数字", "village: a village code of 12 digits",
                          field="village", errors=[{"field": "village", "zh": "应为 12 位数字的村编码",
                                                    "en": "a village code of 12 digits"}])
    return raw


def reader_scope(db: Session, user, village: str | None = None) -> Scope:
    """The reader's scope, narrowed to ``village``. 403 for the roles that see no whereabouts
    (departments, planners, analysts) and for a village outside the reader's own."""
    if not may_see_tracks(user):
        raise PatrolError(403, ACCESS_ZH, ACCESS_EN)
    village = parse_village(village)
    if user.role == "worker":
        person = _person_of(db, user.id)
        if person is None:
            raise PatrolError(403, "此账号没有对应的网格员", "this account is no grid worker")
        return Scope(village or "", person)
    if roles.has_permission(user.role, "see_all_areas"):
        return Scope(village or "")
    own = user.scope_code or ""
    if village is None or own.startswith(village):
        return Scope(own)
    if village.startswith(own):
        return Scope(village)
    raise PatrolError(403, f"{village} 不在您的管辖范围内", f"{village} is outside your area", field="village")


@dataclass(frozen=True)
class Worker:
    person_id: int
    username: str | None
    name: str
    grid_code: str
    grid_name: str | None
    village_code: str
    village_name: str | None


def roster(db: Session, scope: Scope, first: date, last: date, username: str | None = None) -> list[Worker]:
    """The grid workers (duty ``worker``) of the scope with an assignment overlapping the days
    ``first``–``last``, each with the grid they held last in that span; by grid code."""
    rows = db.execute(text("""
        SELECT DISTINCT ON (ga.person_id) ga.person_id, ga.grid_code, p.name,
               (SELECT a.username FROM accounts a WHERE a.person_id = ga.person_id
                 ORDER BY (a.role = 'worker') DESC, a.id LIMIT 1) AS username,
               (SELECT g.name FROM grids g WHERE g.code = ga.grid_code
                 ORDER BY g.valid_to IS NULL DESC, g.valid_from DESC LIMIT 1) AS grid_name,
               (SELECT ar.name FROM areas ar WHERE ar.code = left(ga.grid_code, 12)) AS village_name
          FROM grid_assignments ga JOIN people p ON p.id = ga.person_id
         WHERE ga.duty = 'worker' AND ga.valid_from <= :last
           AND (ga.valid_to IS NULL OR ga.valid_to >= :first)
           AND starts_with(ga.grid_code, :prefix)
           AND (CAST(:person AS integer) IS NULL OR ga.person_id = :person)
           AND (CAST(:username AS text) IS NULL OR EXISTS (
                SELECT 1 FROM accounts a WHERE a.person_id = ga.person_id AND a.username = :username))
         ORDER BY ga.person_id, ga.valid_to IS NULL DESC, ga.valid_from DESC, ga.id DESC"""),
        {"first": first, "last": last, "prefix": scope.prefix, "person": scope.person_id,
         "username": username}).all()
    workers = [Worker(r.person_id, r.username, r.name, r.grid_code, r.grid_name, r.grid_code[:12],
                      r.village_name) for r in rows]
    return sorted(workers, key=lambda w: (w.grid_code, w.username or "", w.person_id))


def scope_name(db: Session, user, scope: Scope) -> str:
    """A name for the title of a report: the village, town or grid, or 全区 (the district)."""
    if scope.person_id is not None and not scope.prefix:
        return db.execute(text("SELECT name FROM people WHERE id = :p"), {"p": scope.person_id}).scalar() or ""
    if not scope.prefix:
        return "全区"
    name = db.execute(text("SELECT name FROM areas WHERE code = :c"), {"c": scope.prefix}).scalar()
    if name is None:
        name = db.execute(text("SELECT name FROM grids WHERE code = :c ORDER BY valid_to IS NULL DESC, "
                               "valid_from DESC LIMIT 1"), {"c": scope.prefix}).scalar()
    return name or scope.prefix


def check_village_exists(db: Session, village: str | None) -> None:
    """404 for a well-formed code that names no area and no grid."""
    if village is None:
        return
    known = db.execute(text("SELECT EXISTS (SELECT 1 FROM areas WHERE code = :c) "
                            "OR EXISTS (SELECT 1 FROM grids WHERE code = :c)"), {"c": village}).scalar()
    if not known:
        raise PatrolError(404, f"没有编码为 {village} 的村或网格", f"no village or grid {village}", field="village")


# ---------------------------------------------------------------- hours from in/out pairs


@dataclass(frozen=True)
class Pairing:
    """Sign-ins paired into sessions: ``sessions`` (in, out); ``open_ins``: an "in" with no "out"
    before the next "in" or within :data:`MAX_SESSION`; ``stray_outs``: an "out" without an "in"."""

    sessions: list[tuple[datetime, datetime]]
    open_ins: list[datetime]
    stray_outs: list[datetime]


def pair_sessions(marks: Iterable[tuple[str, datetime]]) -> Pairing:
    """Pair ``(kind, at)`` marks in time order: an "in" with the next "out"."""
    sessions, open_ins, stray = [], [], []
    pending = None
    for kind, at in sorted(marks, key=lambda m: m[1]):
        if kind == "in":
            if pending is not None:
                open_ins.append(pending)
            pending = at
        elif pending is None:
            stray.append(at)
        elif at - pending > MAX_SESSION:
            open_ins.append(pending)
            stray.append(at)
            pending = None
        else:
            sessions.append((pending, at))
            pending = None
    if pending is not None:
        open_ins.append(pending)
    return Pairing(sessions, open_ins, stray)


def hours_between(sessions: Sequence[tuple[datetime, datetime]], first: date, end: date) -> float:
    """Hours of the sessions within the days ``first`` up to, not including, ``end`` (Asia/
    Shanghai), overlaps counted once: the sessions clipped to the span, then
    :func:`spatial.patrols.weekly_hours` week by week."""
    lo, hi = local_midnight(first), local_midnight(end)
    clipped = [(max(s, lo), min(e, hi)) for s, e in sessions if min(e, hi) > max(s, lo)]
    if not clipped:
        return 0.0
    monday = first - timedelta(days=first.weekday())
    total = 0.0
    while monday < end:
        total += analysis.weekly_hours(clipped, monday)
        monday += timedelta(days=7)
    return total


def attendance_rows(db: Session, persons: Sequence[int], lo: datetime, hi: datetime) -> dict[int, list]:
    """The sign-ins of these people from ``lo`` to ``hi``, per person, oldest first."""
    out: dict[int, list] = {p: [] for p in persons}
    if not persons:
        return out
    for r in db.execute(text("""
            SELECT id, worker_id, kind, at, inside FROM attendance
             WHERE worker_id = ANY(:ids) AND at >= :lo AND at < :hi ORDER BY worker_id, at, id"""),
            {"ids": list(persons), "lo": lo, "hi": hi}).all():
        out[r.worker_id].append(r)
    return out


def leave_days(db: Session, persons: Sequence[int], first: date, end: date) -> dict[int, set[date]]:
    """The days from ``first`` up to ``end`` (exclusive) each person was on leave that excuses them
    (approved, or reported back from: :data:`workflow.leave.EXCUSED`); a worker who reported back
    early is on leave until the day before their 销假."""
    out: dict[int, set[date]] = {p: set() for p in persons}
    if not persons:
        return out
    for r in db.execute(text("""
            SELECT worker_id, start, "end", back_at FROM leaves
             WHERE worker_id = ANY(:ids) AND state = ANY(:states) AND start < :end AND "end" >= :first"""),
            {"ids": list(persons), "states": list(leave_rules.EXCUSED), "first": first, "end": end}).all():
        last = r.end
        if r.back_at is not None and local_day(r.back_at) <= last:
            last = local_day(r.back_at) - timedelta(days=1)
        day = max(r.start, first)
        while day <= last and day < end:
            out[r.worker_id].add(day)
            day += timedelta(days=1)
    return out


def summarize(rows: Sequence, first: date, end: date, calendar: WorkCalendar, today: date,
              on_leave: Iterable[date] = ()) -> dict:
    """The attendance of one worker over the days ``first`` up to ``end`` (exclusive), from their
    sign-in rows of a wider span (a session may start the evening before): hours, days signed in,
    working days up to yesterday without a sign-in (those ``on_leave`` excused), the working days on
    leave, the hours the 40-hour rule asks after them, sign-ins outside the grid, unmatched ones."""
    lo, hi = local_midnight(first), local_midnight(end)
    pairing = pair_sessions((r.kind, r.at) for r in rows)
    inside_span = [r for r in rows if lo <= r.at < hi]
    signed_days = {local_day(r.at) for r in inside_span if r.kind == "in"}
    excused = sorted(d for d in set(on_leave) if first <= d < end and calendar.is_workday(d))
    missing, day = [], first
    while day < min(end, today):
        if calendar.is_workday(day) and day not in signed_days and day not in excused:
            missing.append(day.isoformat())
        day += timedelta(days=1)
    hours = round(hours_between(pairing.sessions, first, end), 2)
    required = leave_rules.required_hours(len(excused))
    return {
        "hours": hours,
        "days_signed": len(signed_days),
        "missing_days": missing,
        "leave_days": [d.isoformat() for d in excused],
        "required_hours": required,
        "outside": sum(1 for r in inside_span if r.inside is False),
        "open_sessions": sum(1 for t in pairing.open_ins if lo <= t < hi),
        "unmatched_out": sum(1 for t in pairing.stray_outs if lo <= t < hi),
        "below_rule": hours < required,
    }


# ---------------------------------------------------------------- signing in


def _field(name: str, zh: str, en: str) -> dict:
    return {"field": name, "zh": zh, "en": en}


def _number(raw) -> float | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    value = float(raw)
    return value if math.isfinite(value) else None


def _parse_sign(payload, now: datetime) -> dict:
    """The checked fields of a sign-in, or 400 with every bad field (zh + en)."""
    if not isinstance(payload, dict):
        raise PatrolError(400, "请求体应为 JSON 对象", "the body must be a JSON object", field="body",
                          errors=[_field("body", "应为 JSON 对象", "a JSON object is required")])
    errors = []
    kind = payload.get("kind")
    if kind not in ("in", "out"):
        errors.append(_field("kind", "应为 in (签到) 或 out (签退)", "in (sign in) or out (sign out)"))
    lng, lat = _number(payload.get("lng")), _number(payload.get("lat"))
    if lng is None or not CHINA[0][0] <= lng <= CHINA[0][1]:
        errors.append(_field("lng", "经度应为 73–136 之间的数 (WGS84)", "a longitude from 73 to 136 (WGS84)"))
    if lat is None or not CHINA[1][0] <= lat <= CHINA[1][1]:
        errors.append(_field("lat", "纬度应为 3–54 之间的数 (WGS84)", "a latitude from 3 to 54 (WGS84)"))
    accuracy = None
    if payload.get("accuracy") is not None:
        accuracy = _number(payload.get("accuracy"))
        if accuracy is None or not 0 <= accuracy <= 10_000:
            errors.append(_field("accuracy", "定位精度应为 0–10000 米", "accuracy: 0 to 10,000 metres"))
            accuracy = None
    at = now
    if payload.get("at") not in (None, ""):
        raw = payload.get("at")
        try:
            at = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
        except ValueError:
            at = None
            errors.append(_field("at", "时间应为 ISO 8601 格式并带时区, 如 2026-06-01T08:30:00+08:00",
                                 "an ISO 8601 time with an offset, e.g. 2026-06-01T08:30:00+08:00"))
        if at is not None and (at.tzinfo is None or at.utcoffset() is None):
            errors.append(_field("at", "时间须带时区, 如 +08:00", "the time needs an offset, e.g. +08:00"))
            at = None
        if at is not None and at > now + CLOCK_SKEW:
            errors.append(_field("at", "签到时间不能晚于现在", "the time is in the future"))
        elif at is not None and at < now - MAX_AGE:
            errors.append(_field("at", "签到时间不能早于两天前", "the time is more than two days ago"))
    client_id = payload.get("client_id")
    if not (isinstance(client_id, str) and 8 <= len(client_id) <= 64 and client_id.isascii()
            and client_id.isprintable()):
        errors.append(_field("client_id", "应为 8–64 个字符的客户端编号 (如 UUID)",
                             "an id of 8–64 ASCII characters (a UUID) is required"))
    if errors:
        zh = "; ".join(f"{e['field']}: {e['zh']}" for e in errors)
        en = "; ".join(f"{e['field']}: {e['en']}" for e in errors)
        raise PatrolError(400, f"签到数据有误: {zh}", f"bad sign-in: {en}", field=errors[0]["field"],
                          errors=errors)
    return {"kind": kind, "lng": lng, "lat": lat, "accuracy": accuracy, "at": at, "client_id": client_id}


_RECORD = """
    SELECT t.id, t.kind, t.at, ST_X(t.geom) AS lng, ST_Y(t.geom) AS lat, t.accuracy_m, t.grid_code,
           t.inside, t.distance_m, t.client_id, p.name AS worker_name
      FROM attendance t JOIN people p ON p.id = t.worker_id"""


def _record(r) -> dict:
    return {
        "id": r.id, "kind": r.kind, "at": format_iso(r.at),
        "lng": None if r.lng is None else round(r.lng, 6), "lat": None if r.lat is None else round(r.lat, 6),
        "accuracy_m": r.accuracy_m, "grid_code": r.grid_code, "inside": r.inside,
        "distance_m": None if r.distance_m is None else round(r.distance_m, 1),
    }


def sign(db: Session, user, payload, now: datetime | None = None) -> dict:
    """Sign the worker behind ``user`` in or out: ``{kind, lng, lat, accuracy?, at?, client_id}``
    (WGS84 degrees; ``at`` ISO 8601 with an offset, default now, at most two days ago). The same
    ``client_id`` again answers the stored sign-in (``created: false``). Commits.

    The answer: the record (``id, kind, at, lng, lat, accuracy_m, grid_code, inside,
    distance_m``) with ``worker``, ``worker_name``, ``tolerance_m`` and ``created``. ``distance_m``
    is metres on the WGS84 ellipsoid to the grid's current polygon, 0 inside; ``inside`` is
    ``distance_m <= tolerance_m``."""
    now = now or shanghai_now()
    if not roles.has_permission(user.role, "sign_in"):  # a leader only where they also work a grid
        raise PatrolError(403, "只有网格员签到", "only grid workers sign in")
    values = _parse_sign(payload, now)
    person = _person_of(db, user.id)
    if person is None:
        raise PatrolError(403, "此账号没有对应的网格员, 不能签到", "this account is no grid worker: no sign-in")
    tolerance = tolerance_m()
    extra = {"worker": user.username, "tolerance_m": tolerance}
    existing = db.execute(text(_RECORD + " WHERE t.account_id = :a AND t.client_id = :c"),
                          {"a": user.id, "c": values["client_id"]}).first()
    if existing is not None:
        return {**_record(existing), "worker_name": existing.worker_name, **extra, "created": False}
    grid = db.execute(text("""
        SELECT ga.grid_code,
               (SELECT ST_Distance(g.geom::geography, ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography)
                  FROM grids g WHERE g.code = ga.grid_code AND g.valid_to IS NULL) AS distance
          FROM grid_assignments ga
         WHERE ga.person_id = :p AND ga.duty = 'worker' AND ga.valid_to IS NULL
         ORDER BY ga.valid_from DESC, ga.id DESC LIMIT 1"""),
        {"p": person, "x": values["lng"], "y": values["lat"]}).first()
    if grid is None:
        raise PatrolError(422, "您当前没有负责的网格, 不能签到", "you are assigned no grid now: no sign-in")
    if grid.distance is None:
        raise PatrolError(422, f"网格 {grid.grid_code} 没有现行边界, 不能签到",
                          f"grid {grid.grid_code} has no current boundary: no sign-in")
    distance = float(grid.distance)
    row = db.execute(text("""
        INSERT INTO attendance (account_id, worker_id, kind, at, geom, accuracy_m, grid_code, inside,
                                distance_m, client_id)
        VALUES (:a, :w, :k, :t, ST_SetSRID(ST_MakePoint(:x, :y), 4326), :acc, :g, :inside, :d, :c)
        ON CONFLICT (account_id, client_id) DO NOTHING RETURNING id"""),
        {"a": user.id, "w": person, "k": values["kind"], "t": values["at"], "x": values["lng"],
         "y": values["lat"], "acc": values["accuracy"], "g": grid.grid_code, "inside": distance <= tolerance,
         "d": distance, "c": values["client_id"]}).first()
    created = row is not None  # else a resend raced us: answer what it stored
    db.commit()
    stored = db.execute(text(_RECORD + " WHERE t.account_id = :a AND t.client_id = :c"),
                        {"a": user.id, "c": values["client_id"]}).one()
    return {**_record(stored), "worker_name": stored.worker_name, **extra, "created": created}


# ---------------------------------------------------------------- reading


def _worker_of(db: Session, user, scope: Scope, worker: str | None, first: date, last: date) -> Worker:
    if not worker:
        if user.role != "worker":
            raise PatrolError(400, "worker: 请指定网格员账号", "worker: name a grid worker's username",
                              field="worker", errors=[_field("worker", "请指定网格员账号", "a username is required")])
        worker = user.username
    elif scope.person_id is not None and worker != user.username:
        raise PatrolError(403, "只能查看自己的签到记录", "you may read only your own sign-ins", field="worker")
    found = roster(db, scope, first, last, username=worker)
    if not found:
        raise PatrolError(404, f"您的范围内没有网格员 {worker}", f"no grid worker {worker} within your rights",
                          field="worker")
    return found[0]


def day(db: Session, user, worker: str | None, on: date | None = None, now: datetime | None = None) -> dict:
    """A worker's sign-ins of a day (Asia/Shanghai; default today): ``{worker, worker_name,
    grid_code, date, hours, records: [...]}`` (``hours``: from in/out pairs, clipped to the day)."""
    now = now or shanghai_now()
    on = on or local_day(now)
    scope = reader_scope(db, user)
    w = _worker_of(db, user, scope, worker, on, on)
    lo, hi = local_midnight(on), local_midnight(on + timedelta(days=1))
    records = db.execute(text(_RECORD + " WHERE t.worker_id = :w AND t.at >= :lo AND t.at < :hi "
                                        "ORDER BY t.at, t.id"), {"w": w.person_id, "lo": lo, "hi": hi}).all()
    wider = attendance_rows(db, [w.person_id], lo - MAX_SESSION, hi + MAX_SESSION)[w.person_id]
    pairing = pair_sessions((r.kind, r.at) for r in wider)
    return {"worker": w.username, "worker_name": w.name, "grid_code": w.grid_code, "date": on.isoformat(),
            "timezone": TIMEZONE, "hours": round(hours_between(pairing.sessions, on, on + timedelta(days=1)), 2),
            "records": [_record(r) for r in records]}


def parse_week(raw: str | date | None, now: datetime | None = None) -> date:
    """A week's Monday (YYYY-MM-DD); default this week's. 400 for another weekday or bad text."""
    if raw in (None, ""):
        today = local_day(now or shanghai_now())
        return today - timedelta(days=today.weekday())
    if isinstance(raw, date):
        value = raw
    else:
        try:
            value = date.fromisoformat(str(raw))
        except ValueError as exc:
            raise PatrolError(400, "week: 应为周一的日期 YYYY-MM-DD", "week: a Monday as YYYY-MM-DD",
                              field="week", errors=[_field("week", "应为 YYYY-MM-DD", "YYYY-MM-DD expected")]) from exc
    if value.weekday() != 0:
        raise PatrolError(400, f"week: {value.isoformat()} 不是周一", f"week: {value.isoformat()} is no Monday",
                          field="week", errors=[_field("week", "应为周一", "a Monday is required")])
    return value


def week_attendance(db: Session, workers: Sequence[Worker], week_start: date, calendar: WorkCalendar,
                    today: date) -> dict[int, dict]:
    """:func:`summarize` of each worker for the week from ``week_start``: person id → summary."""
    first, end = week_start, week_start + timedelta(days=7)
    persons = [w.person_id for w in workers]
    rows = attendance_rows(db, persons, local_midnight(first) - MAX_SESSION, local_midnight(end) + MAX_SESSION)
    leave = leave_days(db, persons, first, end)
    return {w.person_id: summarize(rows[w.person_id], first, end, calendar, today, leave[w.person_id])
            for w in workers}


def weekly(db: Session, user, week_start: date | str | None, village: str | None = None,
           now: datetime | None = None) -> dict:
    """The week's attendance of every worker in the reader's scope (or of ``village``) against the
    40-hour rule: ``{week_start, week_end, rule_hours, timezone, village, workers: [{worker,
    worker_name, grid_code, hours, days_signed, missing_days, leave_days, required_hours, outside,
    open_sessions, unmatched_out, below_rule}]}`` (``below_rule``: fewer hours than
    ``required_hours``, the 40 less 8 for each working day of approved leave). Hours come from in/out pairs clipped to the week; an unmatched
    "in" counts 0 and is reported in ``open_sessions``; ``missing_days`` are the working days up
    to yesterday (holidays table included) without a sign-in."""
    now = now or shanghai_now()
    week_start = parse_week(week_start, now)
    scope = reader_scope(db, user, village)
    check_village_exists(db, parse_village(village))
    week_end = week_start + timedelta(days=6)
    workers = roster(db, scope, week_start, week_end)
    summaries = week_attendance(db, workers, week_start, work_calendar(db), local_day(now))
    return {
        "week_start": week_start.isoformat(), "week_end": week_end.isoformat(), "rule_hours": RULE_HOURS,
        "timezone": TIMEZONE, "village": parse_village(village),
        "workers": [{"worker": w.username, "worker_name": w.name, "grid_code": w.grid_code,
                     **summaries[w.person_id]} for w in workers],
    }
