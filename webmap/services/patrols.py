"""Patrols (巡查, seed 5-1): recording, GPX, metrics, flags and their review, key places.

- A phone starts a patrol (:func:`start`, idempotent on the phone's ``client_id``), sends its GPS
  fixes in batches (:func:`add_fixes`: a batch resent after hours offline adds nothing twice: one
  fix per patrol and instant) and stops it (:func:`stop`). A GPX file makes a whole patrol
  (:func:`import_gpx`, idempotent on the file's content).
- On stopping, :func:`compute` builds the track and its metrics with :mod:`spatial.patrols`:
  distance, duration, moving time, coverage of the worker's own grid within 30 m, the grid's key
  places visited (重点场所, :func:`set_checkpoint`), time outside the grid, and flags for
  implausible tracks (impossible speed, jumps, machine-perfect regularity, a copy of an earlier
  day's track). Flagged tracks are kept; the town reviews them (:func:`review`).
- Tracks are whereabouts (PIPL): the worker, their leader and the town see them
  (:func:`webmap.services.tracks.track_visible`); :func:`purge` enforces the retention.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, time, timedelta

import shapely
from shapely import wkb
from sqlalchemy import and_, func, select, text
from sqlalchemy.orm import Session

from db.models import Account, Patrol, Person
from spatial import patrols as analysis
from workflow import roles
from workflow.clock import SHANGHAI, format_iso, shanghai_now

from . import features
from .errors import ServiceError
from .tracks import TrackAccessDenied, may_see_tracks, track_visible

MAX_BATCH = 5000
PAGE = 500  # patrols per listing page
MAX_FIXES = 200_000  # a patrol: about 11 days of a fix every 5 s
EARLIER_DAYS = 7  # a track is compared with this many earlier days' tracks of the worker
DEFAULT_RETENTION_DAYS = 180
ROUND = 6


class PatrolError(ServiceError):
    """A refused request: ``status`` 400/403/404/409/422 and a reason in Chinese and English."""


def parse_day(raw: str | None) -> date | None:
    """``date=YYYY-MM-DD`` of a patrol listing; None when absent."""
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise PatrolError(400, "date: 应为 YYYY-MM-DD", "date: YYYY-MM-DD expected", field="date") from exc


def parse_page(args) -> tuple[int, int]:
    """``limit`` (≤ :data:`PAGE`) and ``offset`` of a patrol listing."""
    try:
        return features.parse_limit(args.get("limit"), PAGE, PAGE), features.parse_offset(args.get("offset"))
    except features.FeatureQueryError as exc:
        raise PatrolError(400, exc.zh, exc.en, field=exc.param) from exc


def _walker(db: Session, user) -> tuple[int, str | None]:
    """The person behind the account and the grid they work now (a patrol's own grid)."""
    row = db.execute(text("""
        SELECT a.person_id,
               (SELECT ga.grid_code FROM grid_assignments ga
                 WHERE ga.person_id = a.person_id AND ga.duty = 'worker' AND ga.valid_to IS NULL
                 ORDER BY ga.valid_from DESC, ga.id DESC LIMIT 1) AS grid_code
          FROM accounts a WHERE a.id = :u"""), {"u": user.id}).first()
    if row is None or row.person_id is None:
        raise PatrolError(403, "此账号没有对应的网格员, 不能记录巡查", "this account is no grid worker: no patrols")
    return row.person_id, row.grid_code


def _parse_time(raw, field: str) -> datetime:
    if isinstance(raw, datetime):
        value = raw
    else:
        try:
            value = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
        except ValueError as exc:
            raise PatrolError(400, f"{field}: 时间格式应为 ISO 8601 (含时区)", f"{field}: an ISO 8601 time "
                              "with an offset is required", field=field) from exc
    if value.tzinfo is None:
        raise PatrolError(400, f"{field}: 时间须带时区, 如 +08:00", f"{field}: the time needs an offset",
                          field=field)
    return value


def _client_id(raw, field: str = "client_id") -> str:
    if not (isinstance(raw, str) and 8 <= len(raw) <= 64 and raw.isascii() and raw.isprintable()):
        raise PatrolError(400, f"{field}: 应为 8–64 个字符的客户端编号 (如 UUID)",
                          f"{field}: an id of 8–64 characters (a UUID) is required", field=field)
    return raw


# ---------------------------------------------------------------- recording


def start(db: Session, user, payload: dict, now: datetime | None = None) -> dict:
    """Start a patrol of the signed-in worker in their grid; the same ``client_id`` again answers
    the same patrol (a start resent after a dropped connection)."""
    now = now or shanghai_now()
    payload = payload if isinstance(payload, dict) else {}
    client_id = _client_id(payload.get("client_id"))
    started = _parse_time(payload["started_at"], "started_at") if payload.get("started_at") else now
    if started > now + timedelta(minutes=5) or started < now - timedelta(days=14):
        raise PatrolError(400, "started_at: 开始时间不合理 (未来, 或早于两周前)",
                          "started_at: in the future or more than two weeks ago", field="started_at")
    person, grid = _walker(db, user)
    row = db.execute(text("""
        INSERT INTO patrols (worker_id, grid_code, started_at, client_id, source)
        VALUES (:w, :g, :t, :c, 'phone')
        ON CONFLICT (worker_id, client_id) DO NOTHING RETURNING id"""),
        {"w": person, "g": grid, "t": started, "c": client_id}).first()
    created = row is not None
    patrol_id = row.id if created else db.execute(text(
        "SELECT id FROM patrols WHERE worker_id = :w AND client_id = :c"), {"w": person, "c": client_id}).scalar_one()
    db.commit()
    return {**detail(db, user, patrol_id), "created": created}


def _own(db: Session, user, patrol_id: int):
    person, _grid = _walker(db, user)
    row = db.execute(text("SELECT id, worker_id, started_at, ended_at FROM patrols WHERE id = :p FOR UPDATE"),
                     {"p": patrol_id}).first()
    if row is None or row.worker_id != person:
        raise PatrolError(404, "没有这次巡查, 或不是您的巡查", "no such patrol of yours")
    return row


def _fix_rows(raw, started: datetime, now: datetime) -> list[dict]:
    if not isinstance(raw, list) or not raw or len(raw) > MAX_BATCH:
        raise PatrolError(400, f"fixes: 应为 1–{MAX_BATCH} 个定位点", f"fixes: 1–{MAX_BATCH} fixes", field="fixes")
    rows, errors = [], []
    for n, fix in enumerate(raw):
        try:
            if not isinstance(fix, dict):
                raise ValueError("not an object")
            t = _parse_time(fix.get("t"), f"fixes[{n}].t")
            lng, lat = float(fix["lng"]), float(fix["lat"])
            if not (73 <= lng <= 136 and 3 <= lat <= 54):
                raise ValueError("outside China")
            if not (started - timedelta(hours=1) <= t <= now + timedelta(minutes=5)):
                raise ValueError("time outside the patrol")
            accuracy = None if fix.get("accuracy") is None else float(fix["accuracy"])
            speed = None if fix.get("speed") is None else float(fix["speed"])
            if accuracy is not None and not 0 <= accuracy <= 10_000:
                raise ValueError("accuracy out of range")
        except (KeyError, TypeError, ValueError, PatrolError) as exc:
            errors.append({"index": n, "reason": str(getattr(exc, "en", exc))})
            continue
        rows.append({"t": t, "lng": lng, "lat": lat, "acc": accuracy, "speed": speed})
    if errors:  # all or nothing: the phone keeps the batch and can see what was wrong
        raise PatrolError(400, f"有 {len(errors)} 个定位点不合格, 本批未保存", f"{len(errors)} fixes refused; "
                          "nothing of this batch was saved", field="fixes", errors=errors[:50])
    return rows


def _insert_fixes(db: Session, patrol_id: int, worker_id: int, rows: list[dict]) -> int:
    """Insert fixes; one per patrol and instant (the rest are a resent batch). Returns how many
    were new."""
    if not rows:
        return 0
    payload = json.dumps([{"t": r["t"].isoformat(), "lng": r["lng"], "lat": r["lat"], "acc": r["acc"],
                           "speed": r["speed"]} for r in rows])
    return db.execute(text("""
        WITH f AS (
            SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb))
                   AS x(t timestamptz, lng float8, lat float8, acc float8, speed float8)
        ), ins AS (
            INSERT INTO gps_fixes (patrol_id, worker_id, at, geom, accuracy_m, speed_mps)
            SELECT DISTINCT ON (t) :p, :w, t, ST_SetSRID(ST_MakePoint(lng, lat), 4326), acc, speed FROM f
            ON CONFLICT (patrol_id, at) DO NOTHING RETURNING 1
        ) SELECT count(*) FROM ins"""), {"rows": payload, "p": patrol_id, "w": worker_id}).scalar_one()


def add_fixes(db: Session, user, patrol_id: int, payload: dict, now: datetime | None = None) -> dict:
    """A batch of fixes ``[{t, lng, lat, accuracy, speed}]`` (WGS84). A stopped patrol takes late
    batches too (a phone back online): its metrics are computed again when it is next read (once,
    not once per batch of a day's backlog)."""
    now = now or shanghai_now()
    patrol = _own(db, user, patrol_id)
    rows = _fix_rows((payload or {}).get("fixes") if isinstance(payload, dict) else None, patrol.started_at, now)
    total = db.execute(text("SELECT count(*) FROM gps_fixes WHERE patrol_id = :p"), {"p": patrol_id}).scalar_one()
    if total + len(rows) > MAX_FIXES:
        raise PatrolError(422, "这次巡查的定位点过多", "too many fixes for one patrol")
    added = _insert_fixes(db, patrol_id, patrol.worker_id, rows)
    if patrol.ended_at is not None and added:  # the metrics are stale: computed again when next read
        db.execute(text("UPDATE patrols SET distance_m = NULL WHERE id = :p"), {"p": patrol_id})
    db.commit()
    return {"patrol": patrol_id, "received": len(rows), "added": added, "duplicates": len(rows) - added,
            "total": total + added}


def stop(db: Session, user, patrol_id: int, payload: dict | None = None, now: datetime | None = None) -> dict:
    """Stop a patrol (``ended_at``, default the last fix or now) and compute its metrics; again:
    the same answer."""
    now = now or shanghai_now()
    patrol = _own(db, user, patrol_id)
    payload = payload if isinstance(payload, dict) else {}
    if patrol.ended_at is None:
        last = db.execute(text("SELECT max(at) FROM gps_fixes WHERE patrol_id = :p"), {"p": patrol_id}).scalar()
        ended = _parse_time(payload["ended_at"], "ended_at") if payload.get("ended_at") else (last or now)
        ended = max(ended, patrol.started_at, last or patrol.started_at)
        db.execute(text("UPDATE patrols SET ended_at = :e WHERE id = :p"), {"e": ended, "p": patrol_id})
        compute(db, patrol_id)
        db.commit()
    return detail(db, user, patrol_id)


def import_gpx(db: Session, user, data: bytes, worker: str | None = None) -> dict:
    """A GPX file as one patrol of ``worker`` (a username; default the signed-in account). The town
    may import for anyone in scope, a worker only for themselves. The same file again: the same
    patrol."""
    try:
        fixes = analysis.parse_gpx(data)
    except analysis.GpxError as exc:
        raise PatrolError(400, exc.zh, exc.en, field="file") from exc
    if worker and worker != user.username:
        if not roles.has_permission(user.role, "review_patrols"):
            raise PatrolError(403, "只能导入自己的轨迹", "you may import only your own tracks")
        account = db.execute(text("SELECT id, username, role, scope_code FROM accounts WHERE username = :u"),
                             {"u": worker}).first()
        if account is None:
            raise PatrolError(404, f"没有账号 {worker}", f"no account {worker}", field="worker")
        walker = account
    else:
        walker = user
    person, grid = _walker(db, walker)
    client_id = "gpx-" + hashlib.sha256(data).hexdigest()[:40]
    existing = db.execute(text("SELECT id FROM patrols WHERE worker_id = :w AND client_id = :c"),
                          {"w": person, "c": client_id}).scalar()
    if existing is not None:
        return {**detail(db, user, existing), "created": False}
    if len(fixes) > MAX_FIXES:
        raise PatrolError(422, "轨迹的定位点过多", "too many points in the track")
    patrol_id = db.execute(text("""
        INSERT INTO patrols (worker_id, grid_code, started_at, ended_at, client_id, source)
        VALUES (:w, :g, :s, :e, :c, 'gpx') RETURNING id"""),
        {"w": person, "g": grid, "s": fixes[0].t, "e": fixes[-1].t, "c": client_id}).scalar_one()
    for i in range(0, len(fixes), MAX_BATCH):
        _insert_fixes(db, patrol_id, person, [{"t": f.t, "lng": f.lng, "lat": f.lat, "acc": f.accuracy_m,
                                               "speed": f.speed_mps} for f in fixes[i:i + MAX_BATCH]])
    compute(db, patrol_id)
    db.commit()
    return {**detail(db, user, patrol_id), "created": True}


# ---------------------------------------------------------------- metrics


def _fixes_of(db: Session, patrol_id: int) -> list:
    rows = db.execute(text("SELECT at, ST_X(geom) AS lng, ST_Y(geom) AS lat, accuracy_m, speed_mps "
                           "FROM gps_fixes WHERE patrol_id = :p ORDER BY at"), {"p": patrol_id}).all()
    return [analysis.Fix(t=r.at, lng=r.lng, lat=r.lat, accuracy_m=r.accuracy_m, speed_mps=r.speed_mps) for r in rows]


def compute(db: Session, patrol_id: int) -> dict:
    """Build the track and compute the metrics and flags of a patrol (no commit)."""
    patrol = db.execute(text("SELECT id, worker_id, grid_code, started_at FROM patrols WHERE id = :p"),
                        {"p": patrol_id}).one()
    fixes = _fixes_of(db, patrol_id)
    grid = db.execute(text("SELECT ST_AsBinary(geom) FROM grids WHERE code = :g AND valid_from <= :t "
                           "AND (valid_to IS NULL OR valid_to > :t) ORDER BY valid_from DESC LIMIT 1"),
                      {"g": patrol.grid_code, "t": patrol.started_at}).scalar() if patrol.grid_code else None
    grid_geom = wkb.loads(bytes(grid)) if grid is not None else None
    places = [(r.name, r.lng, r.lat, r.radius_m) for r in db.execute(text(
        "SELECT name, ST_X(geom) AS lng, ST_Y(geom) AS lat, radius_m FROM checkpoints "
        "WHERE grid_code = :g AND active AND required ORDER BY id"), {"g": patrol.grid_code}).all()]
    metrics = analysis.track_metrics(fixes, grid_geom, places) if len(fixes) >= 2 else {
        "distance_m": 0.0, "duration_s": 0.0, "moving_s": 0.0, "coverage": 0.0 if grid_geom else None,
        "checkpoints": {"visited": [], "required": len(places), "missed": [p[0] for p in places]},
        "outside_s": 0.0, "flags": []}
    flags = list(metrics.get("flags") or [])
    if len(fixes) >= 2:
        earlier = []
        for (pid,) in db.execute(text("""
                SELECT id FROM patrols WHERE worker_id = :w AND id <> :p AND started_at < :t
                   AND started_at >= :since ORDER BY started_at DESC LIMIT 20"""),
                {"w": patrol.worker_id, "p": patrol_id, "t": patrol.started_at,
                 "since": patrol.started_at - timedelta(days=EARLIER_DAYS)}).all():
            earlier.append(_fixes_of(db, pid))
        repeat = analysis.flag_repeat(fixes, [e for e in earlier if len(e) >= 2])
        if repeat:
            flags.append(repeat)
    track = shapely.LineString([(f.lng, f.lat) for f in fixes]) if len(fixes) >= 2 else None
    db.execute(text("""
        UPDATE patrols SET track = ST_GeomFromWKB(:track, 4326), distance_m = :distance, duration_s = :duration,
               moving_s = :moving, coverage = :coverage, outside_s = :outside,
               checkpoints = CAST(:checkpoints AS jsonb), flags = CAST(:flags AS jsonb)
         WHERE id = :p"""), {
        "track": None if track is None else wkb.dumps(track), "distance": metrics["distance_m"],
        "duration": metrics["duration_s"], "moving": metrics["moving_s"], "coverage": metrics["coverage"],
        "outside": metrics["outside_s"], "checkpoints": json.dumps(metrics["checkpoints"], ensure_ascii=False),
        "flags": json.dumps(flags, ensure_ascii=False, default=str), "p": patrol_id})
    return {**metrics, "flags": flags}


# ---------------------------------------------------------------- reading


def _select():
    worker_account = (select(Account.username).where(Account.person_id == Patrol.worker_id, Account.role == "worker")
                      .order_by(Account.id).limit(1).scalar_subquery())
    return (select(Patrol.id, Patrol.worker_id, Person.name.label("worker"), worker_account.label("username"),
                   Patrol.grid_code, Patrol.started_at, Patrol.ended_at, Patrol.source, Patrol.distance_m,
                   Patrol.duration_s, Patrol.moving_s, Patrol.coverage, Patrol.checkpoints, Patrol.outside_s,
                   Patrol.flags, Patrol.review, Patrol.review_note, Patrol.reviewed_at, Patrol.synthetic)
            .join(Person, Person.id == Patrol.worker_id))


def _item(r) -> dict:
    return {
        "id": r.id, "worker": r.username, "worker_name": r.worker, "grid_code": r.grid_code,
        "started_at": format_iso(r.started_at), "ended_at": format_iso(r.ended_at), "source": r.source,
        "distance_m": None if r.distance_m is None else round(r.distance_m, 1),
        "duration_s": None if r.duration_s is None else round(r.duration_s),
        "moving_s": None if r.moving_s is None else round(r.moving_s),
        "coverage": None if r.coverage is None else round(r.coverage, 4),
        "checkpoints": r.checkpoints, "outside_s": None if r.outside_s is None else round(r.outside_s),
        "flags": r.flags or [], "review": r.review, "review_note": r.review_note,
        "reviewed_at": format_iso(r.reviewed_at), "synthetic": r.synthetic,
    }


def _visible(user):
    """The tracks this account may see (the rule of :func:`track_visible`); 403 for the roles that
    see none."""
    if not may_see_tracks(user):
        raise PatrolError(403, TrackAccessDenied.zh, TrackAccessDenied.en)
    return track_visible(user)


def refresh_stale(db: Session, condition) -> None:
    """Compute again the metrics that late fixes made stale (stopped patrols without a distance)."""
    stale = db.execute(select(Patrol.id).where(condition, Patrol.ended_at.is_not(None),
                                               Patrol.distance_m.is_(None))).scalars().all()
    for patrol_id in stale:
        compute(db, patrol_id)
    if stale:
        db.commit()


def detail(db: Session, user, patrol_id: int, with_fixes: bool = False) -> dict:
    refresh_stale(db, and_(Patrol.id == patrol_id, _visible(user)))
    row = db.execute(_select().where(Patrol.id == patrol_id, _visible(user))).first()
    if row is None:
        raise PatrolError(404, "没有这次巡查, 或您无权查看", "no such patrol within your rights")
    out = _item(row)
    if with_fixes:
        out["fixes"] = [{"t": format_iso(f.t), "lng": round(f.lng, ROUND), "lat": round(f.lat, ROUND)}
                        for f in _fixes_of(db, patrol_id)]
    return out


def list_patrols(db: Session, user, worker: str | None, day: date | None, village: str | None = None,
                 flagged: bool = False, limit: int = 500, offset: int = 0) -> list[dict]:
    """The patrols of a day (Asia/Shanghai) — of one worker (a username), a village, or all in
    the reader's scope — oldest first, a page of ``limit`` from ``offset``; ``flagged``: only those
    with flags not yet reviewed, newest first (the review queue)."""
    if village is not None and not (village.isascii() and village.isdigit() and len(village) in (9, 12, 15)):
        raise PatrolError(400, "village: 应为 9、12 或 15 位编码", "village: a 9-, 12- or 15-digit code",
                          field="village")
    query = _select().where(_visible(user))
    if worker:
        query = query.where(Patrol.worker_id == select(Account.person_id).where(Account.username == worker)
                            .scalar_subquery())
    if day:
        start = datetime.combine(day, time.min, SHANGHAI)
        query = query.where(Patrol.started_at >= start, Patrol.started_at < start + timedelta(days=1))
    if village:
        query = query.where(Patrol.grid_code.startswith(village, autoescape=True))
    if flagged:
        query = query.where(func.jsonb_array_length(Patrol.flags) > 0, Patrol.review.is_(None))
    order = (Patrol.started_at.desc(), Patrol.id.desc()) if flagged else (Patrol.started_at, Patrol.id)
    query = query.order_by(*order).limit(limit).offset(offset)
    rows = db.execute(query).all()
    if any(r.ended_at is not None and r.distance_m is None for r in rows):
        refresh_stale(db, Patrol.id.in_([r.id for r in rows]))
        rows = db.execute(query).all()
    return [_item(r) for r in rows]


def review(db: Session, user, patrol_id: int, verdict: str, note: str = "") -> dict:
    """The town's verdict on a flagged track: ``accepted`` (counts) or ``rejected`` (not a patrol)."""
    if not roles.has_permission(user.role, "review_patrols"):
        raise PatrolError(403, "只有镇综治中心可以审核轨迹", "only the town reviews tracks")
    if verdict not in ("accepted", "rejected"):
        raise PatrolError(400, "verdict: 应为 accepted (认可) 或 rejected (不认可)",
                          "verdict: accepted or rejected", field="verdict")
    detail(db, user, patrol_id)  # visible, or 404
    db.execute(text("UPDATE patrols SET review = :v, review_note = :n, reviewed_by = :u, reviewed_at = now() "
                    "WHERE id = :p"), {"v": verdict, "n": (note or "")[:1000], "u": user.id, "p": patrol_id})
    db.commit()
    return detail(db, user, patrol_id)


# ---------------------------------------------------------------- key places (重点场所)


def _may_edit_places(user, grid_code: str) -> None:
    """The town for its grids, a village's leader for the village's."""
    anywhere = roles.has_permission(user.role, "see_all_areas")
    if not (roles.has_permission(user.role, "edit_places") and (anywhere or grid_code.startswith(user.scope_code))):
        raise PatrolError(403, "无权编辑该网格的重点场所", "you may not edit this grid's key places")


def checkpoints(db: Session, grid_code: str) -> list[dict]:
    rows = db.execute(text("SELECT id, name, kind, ST_X(geom) AS lng, ST_Y(geom) AS lat, radius_m, required, active "
                           "FROM checkpoints WHERE grid_code = :g ORDER BY id"), {"g": grid_code}).all()
    return [{"id": r.id, "name": r.name, "kind": r.kind, "lng": round(r.lng, ROUND), "lat": round(r.lat, ROUND),
             "radius_m": r.radius_m, "required": r.required, "active": r.active} for r in rows]


def set_checkpoint(db: Session, user, grid_code: str, payload: dict, checkpoint_id: int | None = None) -> dict:
    """Add (or, with ``checkpoint_id``, change) a key place of a grid: ``{name, kind, lng, lat,
    radius_m, required, active}``."""
    _may_edit_places(user, grid_code)
    payload = payload if isinstance(payload, dict) else {}
    name = str(payload.get("name") or "").strip()
    try:
        lng, lat = float(payload["lng"]), float(payload["lat"])
        radius = float(payload.get("radius_m", 30))
    except (KeyError, TypeError, ValueError) as exc:
        raise PatrolError(400, "需要 lng, lat (WGS84) 和半径 radius_m", "lng, lat and radius_m are required",
                          field="lng") from exc
    if not 1 <= len(name) <= 100 or not 0 < radius <= 500:
        raise PatrolError(400, "名称应为 1–100 个字符, 半径 0–500 米", "name 1–100 characters, radius 0–500 m",
                          field="name")
    inside = db.execute(text("SELECT ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography, 50) "
                             "FROM grids WHERE code = :g AND valid_to IS NULL"), {"x": lng, "y": lat, "g": grid_code}).scalar()
    if not inside:
        raise PatrolError(422, f"该地点不在网格 {grid_code} 内", f"the place is not in grid {grid_code}", field="lng")
    values = {"g": grid_code, "n": name, "k": payload.get("kind"), "x": lng, "y": lat, "r": radius,
              "req": bool(payload.get("required", True)), "act": bool(payload.get("active", True))}
    if checkpoint_id is None:
        db.execute(text("INSERT INTO checkpoints (grid_code, name, kind, geom, radius_m, required, active) "
                        "VALUES (:g, :n, :k, ST_SetSRID(ST_MakePoint(:x, :y), 4326), :r, :req, :act)"), values)
    elif db.execute(text("UPDATE checkpoints SET name = :n, kind = :k, geom = ST_SetSRID(ST_MakePoint(:x, :y), 4326), "
                         "radius_m = :r, required = :req, active = :act, updated_at = now() "
                         "WHERE id = :id AND grid_code = :g"), {**values, "id": checkpoint_id}).rowcount == 0:
        raise PatrolError(404, "没有这个重点场所", "no such key place")
    db.commit()
    return {"grid_code": grid_code, "checkpoints": checkpoints(db, grid_code)}


# ---------------------------------------------------------------- retention


def retention_days(db: Session) -> int:
    """Days fixes and tracks are kept: the ``track_retention_days`` setting (the /admin page), else
    the WANGGE_TRACK_RETENTION_DAYS environment variable, else 180."""
    from . import settings  # (settings imports nothing of patrols: no circle, but keep it lazy)

    try:
        return max(int(settings.value(db, "track_retention_days")), 1)
    except (TypeError, ValueError):
        return DEFAULT_RETENTION_DAYS


def purge(db: Session, now: datetime | None = None, days: int | None = None) -> dict:
    """Forget whereabouts older than the retention: the fixes, the tracks' lines and the places of
    sign-ins. The patrols' metrics stay (they are no whereabouts). Commits."""
    now = now or shanghai_now()
    days = days or retention_days(db)
    before = now - timedelta(days=days)
    fixes = db.execute(text("DELETE FROM gps_fixes WHERE at < :b"), {"b": before}).rowcount
    tracks = db.execute(text("UPDATE patrols SET track = NULL WHERE started_at < :b AND track IS NOT NULL"),
                        {"b": before}).rowcount
    places = db.execute(text("UPDATE attendance SET geom = NULL WHERE at < :b AND geom IS NOT NULL"),
                        {"b": before}).rowcount
    db.commit()
    return {"retention_days": days, "before": format_iso(before), "fixes_deleted": fixes, "tracks_cleared": tracks,
            "sign_in_places_cleared": places}

