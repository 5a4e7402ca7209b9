"""Benchmark: the dispatcher console's viewport requests at 1M incidents, next to tipg.

Builds a scratch database with ``--incidents`` (default 1,000,000) demo incidents (or reuses it
with ``--reuse``), serves our app under waitress and the peer, tipg (OGC API Features over the
same PostGIS table, FastAPI under uvicorn), each in a subprocess, and issues the requests the
page makes at town (zoom 12, the whole town), village (zoom 14) and grid (zoom 16) views, ``-n``
times each, sequentially. Prints p50/p95 latency and response bytes for:

- ours: ``GET /api/v1/map/cases?bbox&zoom`` — all cases, and open cases only (the console's
  default filter) — and ``GET /api/v1/map/list?bbox`` (the list beside the map);
- tipg: ``GET /collections/public.incidents/items?bbox&limit`` with its maximum limit (10,000).

    python bench/dispatch_viewport.py [--incidents 1000000] [--reuse] [-n 30]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from db import cluster, migrate
from db.demo import load_demo

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DBNAME = "wangge_bench_viewport"
OPEN = "待受理,已立案,立案派遣,处理中,待核查,督办,挂账"  # the console's default: every case not closed or void
TIPG_MAX = 10_000  # tipg's TIPG_MAX_FEATURES_PER_QUERY default
BUSIEST = {  # the centre of the cases of the busiest village and grid
    "village": "SELECT ST_X(ST_Centroid(ST_Collect(geom))), ST_Y(ST_Centroid(ST_Collect(geom))) "
               "FROM incidents WHERE village_code = (SELECT village_code FROM incidents "
               "WHERE village_code IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1)",
    "grid": "SELECT ST_X(ST_Centroid(ST_Collect(geom))), ST_Y(ST_Centroid(ST_Collect(geom))) "
            "FROM incidents WHERE grid_code = (SELECT grid_code FROM incidents "
            "WHERE grid_code IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1)",
}
TARGET_MS, TARGET_BYTES = 150, 500 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up")


def database(n: int, reuse: bool) -> str:
    server = cluster.up(echo=lambda _m: None)
    url = make_url(server).set(database=DBNAME).render_as_string(hide_password=False)
    engine = create_engine(url)
    if reuse:
        try:
            with engine.connect() as conn:
                have = conn.execute(text("SELECT count(*) FROM incidents")).scalar()
            if have == n:
                engine.dispose()
                return url
            print(f"reuse: {have} incidents, not {n}; rebuilding", file=sys.stderr)
        except Exception as exc:  # noqa: BLE001 - no database yet
            print(f"reuse: {exc.__class__.__name__}; building", file=sys.stderr)
        engine.dispose()
    cluster.drop_database(url)
    cluster.create_database(url)
    migrate.upgrade(url)
    engine = create_engine(url)
    started = time.perf_counter()
    load_demo(engine, incidents=n)
    print(f"loaded {n} incidents in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    engine.dispose()
    return url


def views(url: str) -> dict[str, tuple[tuple[float, float, float, float], int]]:
    """Town: the town's extent at zoom 12; village: a 1280×800-pixel view at zoom 14 on the
    busiest village; grid: the same at zoom 16 on its busiest grid."""
    engine = create_engine(url)
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE incidents"))
        town = conn.execute(text(
            "SELECT ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) FROM areas "
            "WHERE level = 'town'")).one()
        centres = {level: conn.execute(text(sql)).one() for level, sql in BUSIEST.items()}
    engine.dispose()

    def window(lng, lat, zoom):  # 1280 × 800 px of 256-px tiles
        half_w = 1280 / 2 * 360 / (256 * 2**zoom)
        half_h = half_w * 800 / 1280 * 0.77  # cos(39.3°): degrees of latitude are longer
        return (lng - half_w, lat - half_h, lng + half_w, lat + half_h)

    return {"town": (tuple(town), 12), "village": (window(*centres["village"], 14), 14),
            "grid": (window(*centres["grid"], 16), 16)}


def measure(session: requests.Session, url: str, params: dict, n: int) -> dict:
    session.get(url, params=params, timeout=120)  # warm
    ms, sizes, extra = [], [], {}
    for _ in range(n):
        started = time.perf_counter()
        response = session.get(url, params=params, timeout=120)
        ms.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        sizes.append(len(response.content))
    body = response.json()
    if "mode" in body:
        extra = {"mode": body["mode"], "total": body["total"], "features": len(body["features"]["features"])}
    elif "items" in body:
        extra = {"total": body["total"], "items": len(body["items"])}
    else:
        extra = {"numberMatched": body.get("numberMatched"), "features": len(body.get("features", []))}
    ms.sort()
    return {"p50_ms": round(statistics.median(ms), 1), "p95_ms": round(ms[max(0, int(0.95 * n) - 1)], 1),
            "bytes": max(sizes), **extra}


def start_servers(url: str, threads: int, env: dict | None = None) -> tuple[list, str, str]:
    """Our app (waitress) and tipg (uvicorn) on the same database, each in a subprocess: the
    processes and their base URLs."""
    u = make_url(url)
    plain = f"postgresql://{u.username}@{u.host}:{u.port}/{u.database}"
    ours_port, peer_port = free_port(), free_port()
    ours_env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", **(env or {})}
    peer_env = {**os.environ, "DATABASE_URL": plain, "TIPG_DB_SCHEMAS": '["public"]',
                "TIPG_DB_TABLES": '["public.incidents"]', "TIPG_MAX_FEATURES_PER_QUERY": str(TIPG_MAX)}
    procs = [
        subprocess.Popen([str(BIN / "wangge"), "serve", "--port", str(ours_port), "--threads", str(threads)],
                         env=ours_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([sys.executable, "-m", "uvicorn", "tipg.main:app", "--port", str(peer_port),
                          "--log-level", "warning"], env=peer_env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL),
    ]
    return procs, f"http://127.0.0.1:{ours_port}", f"http://127.0.0.1:{peer_port}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="keep the scratch database if it has N incidents")
    parser.add_argument("-n", type=int, default=30, help="requests per view and server")
    parser.add_argument("--threads", type=int, default=4, help="waitress threads")
    args = parser.parse_args()
    os.environ.setdefault("WANGGE_HOME", str(ROOT))
    url = database(args.incidents, args.reuse)
    plan = views(url)

    procs, ours, peer = start_servers(url, args.threads)
    results: dict = {"incidents": args.incidents, "requests_per_view": args.n, "machine_cores": os.cpu_count()}
    try:
        wait_up(f"{ours}/healthz")
        wait_up(f"{peer}/collections")
        s = requests.Session()
        token = s.post(f"{ours}/api/v1/auth/login", json={"username": "dispatcher1", "password": "demo"},
                       timeout=10).json()["token"]
        s.headers["Authorization"] = f"Bearer {token}"
        peer_s = requests.Session()
        for view, (bbox, zoom) in plan.items():
            box = ",".join(f"{v:.6f}" for v in bbox)
            results[view] = {
                "bbox": box, "zoom": zoom,
                "ours_cases_all": measure(s, f"{ours}/api/v1/map/cases", {"bbox": box, "zoom": zoom}, args.n),
                "ours_cases_open": measure(s, f"{ours}/api/v1/map/cases",
                                           {"bbox": box, "zoom": zoom, "state": OPEN}, args.n),
                "ours_list": measure(s, f"{ours}/api/v1/map/list", {"bbox": box}, args.n),
                "tipg_items": measure(peer_s, f"{peer}/collections/public.incidents/items",
                                      {"bbox": box, "limit": TIPG_MAX}, args.n),
            }
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)
    print(json.dumps(results, ensure_ascii=False, indent=1))
    print(f"\ntarget: p95 ≤ {TARGET_MS} ms and ≤ {TARGET_BYTES // 1024} KB per response")
    print(f"{'view':8} {'request':16} {'p50 ms':>8} {'p95 ms':>8} {'KB':>8}  detail")
    for view in plan:
        for key, r in results[view].items():
            if isinstance(r, dict):
                detail = {k: v for k, v in r.items() if k not in ("p50_ms", "p95_ms", "bytes")}
                ok = "ok" if r["p95_ms"] <= TARGET_MS and r["bytes"] <= TARGET_BYTES else "MISS"
                print(f"{view:8} {key:16} {r['p50_ms']:8.1f} {r['p95_ms']:8.1f} {r['bytes'] / 1024:8.1f}  "
                      f"{ok} {detail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
