"""Benchmark: a day of GPS fixes of 100 grid workers through the patrols API, and their daily metrics.

Builds a scratch demo database (``wangge_bench_patrols``, 20,000 incidents, the demo's 75 grids and
worker accounts and its week of patrols; ``--reuse`` keeps it), generates ``--workers`` patrols of
``--hours`` hours with a fix every ``--every`` s (100 × 8 h × 5 s = 576,000 fixes): plausible walks
inside each worker's own grid with pauses and 3 m of GPS noise. The demo has 75 workers: patrol k
is walked by worker k mod 75 on day D − k div 75 (D is yesterday, Asia/Shanghai, from 08:00), so
with 100 patrols 25 workers also walked the day before. Then, in one run:

1. ingest. Ours: our server (``wangge serve``, waitress, ``--threads``) over HTTP; each worker
   logs in (bearer token), starts their patrol (``POST /api/v1/patrols``) and sends the fixes as
   the phone does, ``POST /api/v1/patrols/{id}/fixes`` in batches of ``--batch`` (120 = 10 min),
   from ``--clients`` concurrent client threads, batch by batch across all patrols. Fixes/s end
   to end. The peer (the floor): the same fixes written into ``gps_fixes`` (same indexes) by one
   PostgreSQL ``COPY``, committed, then deleted again.
2. daily metrics. Ours: ``POST /api/v1/patrols/{id}/stop`` for every patrol from
   ``--stop-clients`` threads: the track, distance, moving time, coverage, key places, time
   outside, flags and the repeat check against the worker's 7 earlier days (the demo's short
   patrols; ``--history 7`` first loads a week of such 8-hour patrols per worker by COPY, untimed,
   as a week in service would have). The peer: one
   all-PostGIS query for every patrol: ``ST_Length(ST_MakeLine(fixes)::geography)`` and
   ``ST_Area(grid ∩ ST_Buffer(track::geography, 30)) / ST_Area(grid)``.
3. checks, per patrol: our raw geodesic length (``spatial.patrols.track_metrics``'s
   ``raw_distance_m`` over the stored fixes) against PostGIS's within 1 %; our stored coverage
   against PostGIS's within 0.03; our stored (jitter-filtered) distance against the length of
   the generated noise-free walk, and PostGIS's naive length against it, for information.

Everything the bench added is deleted at the end (the database is left as found).

    python bench/patrol_ingest.py [--workers 100] [--hours 8] [--every 5] [--batch 120]
                                  [--clients 8] [--stop-clients 2] [--history 7] [--reuse]
                                  [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import json
import math
import os
import pstats
import queue
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import requests
import shapely
from dispatch_viewport import free_port, wait_up
from pyproj import Geod
from shapely import wkb
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from db import cluster, migrate
from db.demo import load_demo
from spatial import patrols as analysis
from workflow.clock import SHANGHAI

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DBNAME = "wangge_bench_patrols"
INCIDENTS = 20_000
PREFIX = "bench-patrol-"  # client_id of every patrol the bench makes
GEOD = Geod(ellps="WGS84")
DISTANCE_REL, COVERAGE_ABS = 0.01, 0.03


# ------------------------------------------------------------------------------------- database


def database(reuse: bool) -> str:
    server = cluster.up(echo=lambda _m: None)
    url = make_url(server).set(database=DBNAME).render_as_string(hide_password=False)
    if reuse:
        try:
            engine = create_engine(url)
            with engine.connect() as conn:
                workers = conn.execute(text("SELECT count(*) FROM accounts WHERE role = 'worker'")).scalar()
                conn.execute(text("SELECT 1 FROM checkpoints LIMIT 1"))  # migrated to 0007 or later
            engine.dispose()
            if workers:
                migrate.upgrade(url)
                return url
            print("reuse: no worker accounts; building", file=sys.stderr)
        except Exception as exc:  # noqa: BLE001 - no database yet
            print(f"reuse: {exc.__class__.__name__}; building", file=sys.stderr)
    cluster.drop_database(url)
    cluster.create_database(url)
    migrate.upgrade(url)
    engine = create_engine(url)
    load_demo(engine, incidents=INCIDENTS)
    engine.dispose()
    return url


def clean(engine) -> dict:
    """Delete every patrol (and its fixes) the bench made; the sequences back to where they were."""
    with engine.begin() as conn:
        ids = conn.execute(text("SELECT id FROM patrols WHERE client_id LIKE :p"), {"p": PREFIX + "%"}).scalars().all()
        fixes = conn.execute(text("DELETE FROM gps_fixes WHERE patrol_id = ANY(:i)"), {"i": ids}).rowcount
        conn.execute(text("DELETE FROM patrols WHERE id = ANY(:i)"), {"i": ids})
        for table in ("patrols", "gps_fixes"):
            conn.execute(text(f"SELECT setval('{table}_id_seq', GREATEST((SELECT max(id) FROM {table}), 1))"))  # noqa: S608
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE gps_fixes, patrols"))
    return {"patrols": len(ids), "fixes": fixes}


def workers_of(engine) -> list[SimpleNamespace]:
    """The demo's worker accounts with a person and a current grid, and their grid's geometry."""
    with engine.connect() as conn:
        rows = conn.execute(text("""
            SELECT a.id, a.username, a.role, a.scope_code, a.person_id, ga.grid_code, ST_AsBinary(g.geom) AS geom
              FROM accounts a
              JOIN grid_assignments ga ON ga.person_id = a.person_id AND ga.duty = 'worker' AND ga.valid_to IS NULL
              JOIN grids g ON g.code = ga.grid_code AND g.valid_to IS NULL
             WHERE a.role = 'worker' AND a.active
             ORDER BY a.username""")).all()
    seen, out = set(), []
    for r in rows:
        if r.id not in seen:
            seen.add(r.id)
            out.append(SimpleNamespace(id=r.id, username=r.username, role=r.role, scope_code=r.scope_code,
                                       person_id=r.person_id, grid_code=r.grid_code, grid=wkb.loads(bytes(r.geom))))
    return out


# ------------------------------------------------------------------------------------- the walks


def walk(grid, n: int, every: float, seed) -> tuple[np.ndarray, ...]:
    """A worker's day inside their grid: walking at 1.0–1.5 m/s (heading changes N(0, 0.3 rad) a
    fix, turning at 15 m from the edge), a pause of 1–10 min about every 15 min, GPS noise
    N(0, 3 m) on each axis. Returns the true path (lng, lat), the fixes (lng, lat) and accuracies."""
    rng = np.random.default_rng(seed)
    c = grid.representative_point()
    kx, ky = 111_320 * math.cos(math.radians(c.y)), 110_574.0
    local = shapely.transform(grid, lambda a: np.column_stack(((a[:, 0] - c.x) * kx, (a[:, 1] - c.y) * ky)))
    inner = local.buffer(-15.0)
    inner = local if inner.is_empty else inner
    shapely.prepare(inner)
    p = inner.representative_point()
    x, y = p.x, p.y
    xs, ys = np.empty(n), np.empty(n)
    heading, speed, pause = rng.uniform(0, 2 * math.pi), rng.uniform(1.0, 1.5), 0
    turns = rng.normal(0, 0.3, n)
    for i in range(n):
        xs[i], ys[i] = x, y
        if pause:
            pause -= 1
            continue
        if rng.random() < every / 900:
            pause = int(rng.uniform(60, 600) / every)
        heading += turns[i]
        for _ in range(20):
            nx, ny = x + speed * every * math.cos(heading), y + speed * every * math.sin(heading)
            if shapely.contains_xy(inner, nx, ny):
                x, y = nx, ny
                break
            heading += math.pi / 2 + rng.normal(0, 0.3)
    noise = rng.normal(0, 3.0, (2, n))
    lng, lat = c.x + xs / kx, c.y + ys / ky
    fix_lng = np.round(c.x + (xs + noise[0]) / kx, 7)
    fix_lat = np.round(c.y + (ys + noise[1]) / ky, 7)
    return lng, lat, fix_lng, fix_lat, rng.uniform(3, 15, n).round(1)


def plan(workers: list, count: int, hours: float, every: float, seed: int) -> list[dict]:
    n = int(hours * 3600 / every)
    day = (datetime.now(SHANGHAI) - timedelta(days=1)).date()
    patrols = []
    for k in range(count):
        worker = workers[k % len(workers)]
        back = k // len(workers)
        if back >= 13:
            raise SystemExit("too many patrols per worker: the API takes patrols of the last 14 days")
        start = datetime(day.year, day.month, day.day, 8, tzinfo=SHANGHAI) - timedelta(days=back)
        lng, lat, fx, fy, acc = walk(worker.grid, n, every, [seed, k])
        times = [start + timedelta(seconds=every * i) for i in range(n)]
        patrols.append({"k": k, "worker": worker, "start": start, "times": times, "lng": fx, "lat": fy,
                        "acc": acc, "true_m": float(GEOD.line_length(lng, lat)),
                        "client_id": f"{PREFIX}{k:04d}-{uuid.uuid4().hex[:8]}"})
    return patrols


def bodies(p: dict, batch: int) -> list[bytes]:
    """The phone's batches, JSON bytes (built before the clock starts)."""
    out = []
    iso = [t.isoformat() for t in p["times"]]
    for lo in range(0, len(iso), batch):
        fixes = [{"t": iso[i], "lng": float(p["lng"][i]), "lat": float(p["lat"][i]), "accuracy": float(p["acc"][i])}
                 for i in range(lo, min(lo + batch, len(iso)))]
        out.append(json.dumps({"fixes": fixes}).encode())
    return out


# ------------------------------------------------------------------------------------- peer: COPY


def _insert_patrols(cur, patrols: list[dict], suffix: str = "", ended: bool = False) -> list[int]:
    ids = []
    for p in patrols:
        cur.execute("INSERT INTO patrols (worker_id, grid_code, started_at, ended_at, client_id, source) "
                    "VALUES (%s, %s, %s, %s, %s, 'phone') RETURNING id",
                    (p["worker"].person_id, p["worker"].grid_code, p["start"], p["times"][-1] if ended else None,
                     p["client_id"] + suffix))
        ids.append(cur.fetchone()[0])
    return ids


def _copy_rows(ids: list[int], patrols: list[dict]) -> io.StringIO:
    buf = io.StringIO()
    for pid, p in zip(ids, patrols, strict=True):
        geoms = shapely.to_wkb(shapely.set_srid(shapely.points(p["lng"], p["lat"]), 4326), hex=True,
                               include_srid=True)
        w = p["worker"].person_id
        for t, g, a in zip(p["times"], geoms, p["acc"], strict=True):
            buf.write(f"{pid}\t{w}\t{t.isoformat()}\t{g}\t{a}\n")
    buf.seek(0)
    return buf


COPY_SQL = "COPY gps_fixes (patrol_id, worker_id, at, geom, accuracy_m) FROM STDIN"


def copy_peer(engine, patrols: list[dict]) -> dict:
    """The same fixes by one COPY into gps_fixes (patrol rows made first, untimed), committed; then
    deleted again (by :func:`clean`)."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        ids = _insert_patrols(cur, patrols, "-copy")
        raw.commit()
        buf = _copy_rows(ids, patrols)
        started = time.perf_counter()
        cur.copy_expert(COPY_SQL, buf)
        rows = cur.rowcount
        raw.commit()
        seconds = time.perf_counter() - started
    finally:
        raw.close()
    return {"fixes": rows, "seconds": round(seconds, 2), "fixes_per_s": round(rows / seconds)}


def history(engine, patrols: list[dict], days: int, args) -> dict:
    """``days`` earlier days of the same kind of patrol for every worker of the run (stopped, fixes
    by COPY, untimed), on the days D−1 … D−days the run leaves free: the repeat check of each
    day's metrics then compares with a full week of 8-hour tracks, as it would in service."""
    if not days:
        return {"patrols": 0, "fixes": 0}
    taken = {(p["worker"].id, p["start"].date()) for p in patrols}
    workers = list({p["worker"].id: p["worker"] for p in patrols}.values())
    day0 = max(p["start"] for p in patrols)
    n = int(args.hours * 3600 / args.every)
    made, fixes = 0, 0
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for back in range(1, days + 1):
            start = day0 - timedelta(days=back)
            batch = []
            for w in workers:
                if (w.id, start.date()) in taken:
                    continue
                _lng, _lat, fx, fy, acc = walk(w.grid, n, args.every, [args.seed, 10_000 * back + w.id])
                batch.append({"worker": w, "start": start, "lng": fx, "lat": fy, "acc": acc,
                              "times": [start + timedelta(seconds=args.every * i) for i in range(n)],
                              "client_id": f"{PREFIX}hist-{back}-{w.id}-{uuid.uuid4().hex[:8]}"})
            ids = _insert_patrols(cur, batch, ended=True)
            cur.copy_expert(COPY_SQL, _copy_rows(ids, batch))
            made, fixes = made + len(batch), fixes + cur.rowcount
            raw.commit()
    finally:
        raw.close()
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE gps_fixes, patrols"))
    return {"patrols": made, "fixes": fixes}


# ------------------------------------------------------------------------------------- ours: HTTP


def run_pool(jobs: list, clients: int, work) -> tuple[float, list]:
    """Run ``work(session, job)`` for every job from ``clients`` threads, each with its own
    keep-alive session; returns the wall time and the results in job order."""
    q: queue.Queue = queue.Queue()
    for i, job in enumerate(jobs):
        q.put((i, job))
    results: list = [None] * len(jobs)
    errors: list = []

    def client():
        s = requests.Session()
        while True:
            try:
                i, job = q.get_nowait()
            except queue.Empty:
                return
            try:
                results[i] = work(s, job)
            except Exception as exc:  # noqa: BLE001 - reported after the run
                errors.append(repr(exc))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} requests failed, e.g. {errors[0]}")
    return seconds, results


def pct(values: list[float]) -> dict:
    v = sorted(values)
    return {"p50_ms": round(statistics.median(v) * 1000, 1), "p95_ms": round(v[max(0, math.ceil(0.95 * len(v)) - 1)] * 1000, 1),
            "max_ms": round(v[-1] * 1000, 1)}


def ours(base: str, patrols: list[dict], args) -> dict:
    tokens = {}
    for w in {p["worker"].username for p in patrols}:
        r = requests.post(f"{base}/api/v1/auth/login", json={"username": w, "password": "demo"}, timeout=30)
        r.raise_for_status()
        tokens[w] = {"Authorization": f"Bearer {r.json()['token']}"}

    def start(s, p):
        t0 = time.perf_counter()
        r = s.post(f"{base}/api/v1/patrols", headers=tokens[p["worker"].username], timeout=600,
                   json={"client_id": p["client_id"], "started_at": p["start"].isoformat()})
        assert r.status_code == 201, r.text
        p["id"] = r.json()["id"]
        return time.perf_counter() - t0

    start_s, start_lat = run_pool(patrols, args.clients, start)
    batches = [bodies(p, args.batch) for p in patrols]
    jobs = [(p, b[j]) for j in range(max(map(len, batches))) for p, b in zip(patrols, batches, strict=True)
            if j < len(b)]

    def send(s, job):
        p, body = job
        t0 = time.perf_counter()
        r = s.post(f"{base}/api/v1/patrols/{p['id']}/fixes", data=body, timeout=600,
                   headers={**tokens[p["worker"].username], "Content-Type": "application/json"})
        assert r.status_code == 200, r.text[:500]
        answer = r.json()
        assert answer["duplicates"] == 0, answer
        return time.perf_counter() - t0, answer["added"]

    ingest_s, sent = run_pool(jobs, args.clients, send)
    fixes = sum(a for _t, a in sent)

    def stop(s, p):
        t0 = time.perf_counter()
        r = s.post(f"{base}/api/v1/patrols/{p['id']}/stop", json={}, timeout=3600,
                   headers=tokens[p["worker"].username])
        assert r.status_code == 200, r.text[:500]
        return time.perf_counter() - t0, r.json()

    stop_s, stopped = run_pool(patrols, args.stop_clients, stop)
    for p, (_t, answer) in zip(patrols, stopped, strict=True):
        p["answer"] = answer
    # the patrols whose worker has a patrol of this run (or of --history) on an earlier day
    earlier = {(p["worker"].id, p["start"]) for p in patrols}
    split = {True: [], False: []}
    for p, (t, _a) in zip(patrols, stopped, strict=True):
        longer = args.history > 0 or any(w == p["worker"].id and s < p["start"] for w, s in earlier)
        split[longer].append(t)
    return {
        "start": {"patrols": len(patrols), "seconds": round(start_s, 2), **pct(start_lat)},
        "ingest": {"fixes": fixes, "requests": len(jobs), "batch": args.batch, "clients": args.clients,
                   "seconds": round(ingest_s, 2), "fixes_per_s": round(fixes / ingest_s),
                   "requests_per_s": round(len(jobs) / ingest_s, 1), **pct([t for t, _a in sent])},
        "metrics": {"patrols": len(patrols), "clients": args.stop_clients, "seconds": round(stop_s, 2),
                    "per_patrol_s": round(stop_s / len(patrols), 3), **pct([t for t, _a in stopped]),
                    "with_an_earlier_day": {"patrols": len(split[True]), **(pct(split[True]) if split[True] else {})},
                    "without": {"patrols": len(split[False]), **(pct(split[False]) if split[False] else {})}},
    }


# ------------------------------------------------------------------------------------- peer: PostGIS


PEER_SQL = text("""
    WITH lines AS (
        SELECT f.patrol_id, ST_MakeLine(f.geom ORDER BY f.at) AS line
          FROM gps_fixes f WHERE f.patrol_id = ANY(:ids) GROUP BY f.patrol_id)
    SELECT l.patrol_id,
           ST_Length(l.line::geography) AS distance_m,
           ST_Area(ST_Intersection(g.geom, ST_Buffer(l.line::geography, 30)::geometry)::geography)
             / ST_Area(g.geom::geography) AS coverage
      FROM lines l
      JOIN patrols p ON p.id = l.patrol_id
      JOIN grids g ON g.code = p.grid_code AND g.valid_to IS NULL""")


def postgis_peer(engine, ids: list[int]) -> tuple[dict, dict]:
    with engine.connect() as conn:
        started = time.perf_counter()
        rows = conn.execute(PEER_SQL, {"ids": ids}).all()
        seconds = time.perf_counter() - started
    return ({"patrols": len(rows), "seconds": round(seconds, 2), "per_patrol_s": round(seconds / len(rows), 3)},
            {r.patrol_id: (r.distance_m, r.coverage) for r in rows})


def checks(engine, patrols: list[dict], peer: dict) -> dict:
    """Per patrol: our raw geodesic length vs PostGIS's (1 %), our coverage vs PostGIS's (0.03);
    our filtered distance and PostGIS's naive length against the noise-free walk (information)."""
    raw_rel, cov_abs, ours_true, peer_true = [], [], [], []
    with engine.connect() as conn:
        for p in patrols:
            rows = conn.execute(text("SELECT at, ST_X(geom), ST_Y(geom) FROM gps_fixes WHERE patrol_id = :p "
                                     "ORDER BY at"), {"p": p["id"]}).all()
            fixes = [analysis.Fix(t, x, y) for t, x, y in rows]
            raw = analysis.track_metrics(fixes, None)["raw_distance_m"]  # no grid: no buffer, fast
            stored = conn.execute(text("SELECT distance_m, coverage FROM patrols WHERE id = :p"),
                                  {"p": p["id"]}).one()
            pg_distance, pg_coverage = peer[p["id"]]
            raw_rel.append(abs(raw - pg_distance) / pg_distance)
            cov_abs.append(abs(stored.coverage - pg_coverage))
            ours_true.append(stored.distance_m / p["true_m"] - 1)
            peer_true.append(pg_distance / p["true_m"] - 1)
    flags: dict = {}
    for p in patrols:
        for f in p["answer"]["flags"]:
            flags[f["code"]] = flags.get(f["code"], 0) + 1
    return {
        "raw_distance_vs_postgis": {"max_rel": float(max(raw_rel)), "ok": max(raw_rel) <= DISTANCE_REL},
        "coverage_vs_postgis": {"max_abs": round(max(cov_abs), 6), "mean_abs": round(statistics.mean(cov_abs), 6),
                                "ok": max(cov_abs) <= COVERAGE_ABS},
        "ours_distance_vs_true_walk": {"min": round(min(ours_true), 4), "max": round(max(ours_true), 4),
                                       "mean": round(statistics.mean(ours_true), 4)},
        "postgis_length_vs_true_walk": {"min": round(min(peer_true), 4), "max": round(max(peer_true), 4),
                                        "mean": round(statistics.mean(peer_true), 4)},
        "coverage_mean": round(statistics.mean(p["answer"]["coverage"] for p in patrols), 3),
        "flags": flags,
    }


def profile(engine, patrol_id: int) -> list[str]:
    """cProfile of ``compute`` of one patrol, in-process, in a transaction rolled back."""
    from webmap.services import patrols as service

    with engine.connect() as conn:
        trans = conn.begin()
        db = Session(bind=conn, join_transaction_mode="create_savepoint")
        prof = cProfile.Profile()
        prof.enable()
        service.compute(db, patrol_id)
        prof.disable()
        db.close()
        trans.rollback()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(8)
    return [line for line in out.getvalue().splitlines() if line.strip()][:20]


# ------------------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=100, help="patrols (workers' days) to record")
    parser.add_argument("--hours", type=float, default=8.0, help="length of each patrol")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between fixes")
    parser.add_argument("--batch", type=int, default=120, help="fixes per request (the phone's upload)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients sending fixes")
    parser.add_argument("--stop-clients", type=int, default=2, help="concurrent clients stopping patrols")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads")
    parser.add_argument("--history", type=int, default=0, metavar="DAYS",
                        help="earlier days of such patrols per worker, loaded untimed (7: a week, as in service)")
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument("--reuse", action="store_true", help=f"keep the scratch database {DBNAME} if it is there")
    parser.add_argument("--profile", action="store_true", help="also profile compute() of one patrol in-process")
    args = parser.parse_args()
    if not 1 <= args.batch <= 5000:
        parser.error("--batch: 1–5000 (the API's maximum)")
    os.environ.setdefault("WANGGE_HOME", str(ROOT))
    load_before = os.getloadavg()

    url = database(args.reuse)
    engine = create_engine(url)
    leftover = clean(engine)  # an interrupted earlier run
    workers = workers_of(engine)
    t0 = time.perf_counter()
    patrols = plan(workers, args.workers, args.hours, args.every, args.seed)
    total = sum(len(p["times"]) for p in patrols)
    print(f"{len(patrols)} patrols by {len({p['worker'].id for p in patrols})} workers, {total:,} fixes "
          f"generated in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    results: dict = {
        "patrols": len(patrols), "distinct_workers": len({p["worker"].id for p in patrols}),
        "hours": args.hours, "every_s": args.every, "fixes": total, "machine_cores": os.cpu_count(),
        "day": patrols[0]["start"].date().isoformat(), "removed_before": leftover,
        "code_sha256": {f: hashlib.sha256((ROOT / f).read_bytes()).hexdigest()[:12]
                        for f in ("spatial/patrols.py", "webmap/services/patrols.py")},
    }
    proc = None
    try:
        print("peer: COPY …", file=sys.stderr)
        results["peer_copy"] = copy_peer(engine, patrols)
        clean(engine)
        if args.history:
            print(f"history: {args.history} earlier days by COPY …", file=sys.stderr)
        results["history"] = history(engine, patrols, args.history, args)

        port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench"}
        proc = subprocess.Popen([str(BIN / "wangge"), "serve", "--port", str(port), "--threads", str(args.threads)],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        wait_up(f"{base}/healthz")
        print("ours: start, fixes, stop over HTTP …", file=sys.stderr)
        results["ours"] = ours(base, patrols, args)
        proc.terminate()
        proc.wait(30)
        proc = None
        ids = [p["id"] for p in patrols]
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM gps_fixes WHERE patrol_id = ANY(:i)"), {"i": ids}).scalar()
        results["ours"]["ingest"]["stored"] = stored
        print("peer: PostGIS metrics …", file=sys.stderr)
        results["peer_postgis"], peer = postgis_peer(engine, ids)
        results["checks"] = checks(engine, patrols, peer)
        if args.profile:
            results["profile_compute"] = profile(engine, ids[0])
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
        results["removed_after"] = clean(engine)
        engine.dispose()
    results["load_average_before_after"] = [round(load_before[0], 2), round(os.getloadavg()[0], 2)]

    print(json.dumps(results, ensure_ascii=False, indent=1))
    o, c, g, k = results["ours"], results["peer_copy"], results["peer_postgis"], results["checks"]
    ing, met = o["ingest"], o["metrics"]
    print(f"\n{results['patrols']} patrols × {args.hours:g} h, a fix every {args.every:g} s = {total:,} fixes "
          f"({results['distinct_workers']} distinct workers); {os.cpu_count()} cores")
    print(f"{'':30} {'ours':>36} {'peer':>36}")
    print(f"{'ingest fixes/s':30} {ing['fixes_per_s']:>36,} {c['fixes_per_s']:>36,}")
    print(f"{'ingest time':30} {str(ing['seconds']) + ' s (HTTP, ' + str(args.clients) + ' clients)':>36} "
          f"{str(c['seconds']) + ' s (one COPY)':>36}")
    print(f"{'  per request p50 / p95 ms':30} {str(ing['p50_ms']) + ' / ' + str(ing['p95_ms']):>36} {'':>36}")
    print(f"{'daily metrics, all patrols':30} {str(met['seconds']) + ' s (stop, ' + str(args.stop_clients) + ' clients)':>36} "
          f"{str(g['seconds']) + ' s (one query)':>36}")
    print(f"{'  per patrol p50 / p95 ms':30} {str(met['p50_ms']) + ' / ' + str(met['p95_ms']):>36} "
          f"{str(round(g['per_patrol_s'] * 1000, 1)) + ' (mean)':>36}")
    for key, label in (("with_an_earlier_day", "  with an earlier day (run)"), ("without", "  without")):
        part = met[key]
        if part["patrols"]:
            print(f"{label:30} {str(part['patrols']) + ': ' + str(part['p50_ms']) + ' / ' + str(part['p95_ms']):>36}")
    print(f"checks: raw geodesic length vs PostGIS max {k['raw_distance_vs_postgis']['max_rel']:.2e} "
          f"({'ok' if k['raw_distance_vs_postgis']['ok'] else 'FAIL'}, ≤ 1 %); coverage vs PostGIS max "
          f"{k['coverage_vs_postgis']['max_abs']} ({'ok' if k['coverage_vs_postgis']['ok'] else 'FAIL'}, ≤ 0.03)")
    print(f"distance vs the noise-free walk: ours {k['ours_distance_vs_true_walk']['min']:+.1%} … "
          f"{k['ours_distance_vs_true_walk']['max']:+.1%}, PostGIS naive {k['postgis_length_vs_true_walk']['min']:+.1%} … "
          f"{k['postgis_length_vs_true_walk']['max']:+.1%}")
    return 0 if k["raw_distance_vs_postgis"]["ok"] and k["coverage_vs_postgis"]["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
