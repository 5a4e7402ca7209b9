"""Benchmark: incident intake under load, next to a bare Flask endpoint that inserts one row.

Both servers run under waitress on this machine against the same PostgreSQL database; the load
comes from other processes:
1. sustained throughput: ``wrk`` (Debian's) with many connections, each request a new report with
   its own Idempotency-Key (ours: validate, convert, route in PostGIS, insert incident and event,
   NOTIFY, answer the routed incident; the peer: insert one JSON row);
2. latency at a fixed 200 requests/s: ``bench/openloop.py``, an open-loop generator that measures
   from when each request was due.

    python bench/intake_load.py [--seconds 15] [--rate 200]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from db import cluster, migrate
from db.demo import load_demo

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

WRK_LUA = r"""
local bodies = {}
local n = 0
local thread_id = 0
local counter = 0
function setup(thread)
  n = n + 1
  thread:set("thread_id", n)
end
function init(args)
  local f = io.open(args[1], "r")
  for line in f:lines() do table.insert(bodies, line) end
  f:close()
end
function request()
  counter = counter + 1
  local body = bodies[(counter % #bodies) + 1]
  local headers = {}
  headers["Content-Type"] = "application/json"
  headers["Idempotency-Key"] = string.format("wrk-%d-%d-%d", thread_id, counter, os.time())
  if auth then headers["Authorization"] = auth end
  return wrk.format("POST", nil, headers, body)
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def run_wrk(url: str, bodies_file: str, seconds: int, connections: int, auth: str | None) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write((f'auth = "{auth}"\n' if auth else "") + WRK_LUA)
        script = f.name
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script, url, "--", bodies_file],
        capture_output=True, text=True, check=True,
    ).stdout
    os.unlink(script)

    def grab(pattern):
        m = re.search(pattern, out)
        return m.group(1) if m else None

    non2xx = grab(r"Non-2xx or 3xx responses: (\d+)")
    return {
        "requests_per_s": float(grab(r"Requests/sec:\s+([\d.]+)")),
        "p50": grab(r"50%\s+(\S+)"),
        "p99": grab(r"99%\s+(\S+)"),
        "non_2xx": int(non2xx) if non2xx else 0,
        "connections": connections,
    }


def run_openloop(url: str, bodies_file: str, rate: float, seconds: float, headers: list[str],
                 idempotency: bool) -> dict:
    cmd = [sys.executable, str(ROOT / "bench" / "openloop.py"), "--url", url, "--rate", str(rate),
           "--seconds", str(seconds), "--body-file", bodies_file]
    for h in headers:
        cmd += ["--header", h]
    if idempotency:
        cmd.append("--idempotency")
    return json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=16, help="waitress threads of each server")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("需要 wrk / wrk is needed: apt-get install -y wrk", file=sys.stderr)
        return 2
    os.environ.setdefault("WANGGE_HOME", str(ROOT))

    server = cluster.up(echo=lambda _m: None)
    url = make_url(server).set(database="wangge_bench_intake").render_as_string(hide_password=False)
    cluster.drop_database(url)
    cluster.create_database(url)
    migrate.upgrade(url)
    engine = create_engine(url)
    load_demo(engine, incidents=20_000)
    with engine.connect() as conn:
        points = conn.execute(text(
            "SELECT ST_X(p.geom), ST_Y(p.geom) FROM areas a, "
            "LATERAL ST_Dump(ST_GeneratePoints(a.geom, 500, 1)) p WHERE a.level = 'town'")).all()
    engine.dispose()
    bodies = [{"category": "SR01", "description": "压力测试 load test", "address": "振兴路",
               "location": {"lng": x, "lat": y, "crs": "wgs84"}} for x, y in points]
    bodies_file = tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False)
    bodies_file.write("\n".join(json.dumps(b, ensure_ascii=False) for b in bodies))
    bodies_file.close()
    list_file = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    json.dump(bodies, list_file, ensure_ascii=False)
    list_file.close()

    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench"}
    ours_port, bare_port = free_port(), free_port()
    procs = [
        subprocess.Popen([str(BIN / "wangge"), "serve", "--port", str(ours_port), "--threads", str(args.threads)],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([sys.executable, str(ROOT / "bench" / "bare_insert_app.py"), "--port", str(bare_port),
                          "--threads", str(args.threads)], env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL),
    ]
    try:
        ours = f"http://127.0.0.1:{ours_port}"
        bare = f"http://127.0.0.1:{bare_port}"
        wait_up(f"{ours}/healthz")
        wait_up(f"{bare}/ping")
        token = requests.post(f"{ours}/api/v1/auth/login", json={"username": "worker001", "password": "demo"},
                              timeout=10).json()["token"]
        auth = f"Bearer {token}"
        # warm up both (connection pools, caches)
        run_openloop(f"{ours}/api/v1/incidents", list_file.name, 50, 2, [f"Authorization: {auth}"], True)
        run_openloop(f"{bare}/insert", list_file.name, 50, 2, [], False)

        key = f"open_loop_{int(args.rate)}_rps"

        def settle():
            # let autovacuum and the checkpoint of the previous phase pass before measuring
            eng = create_engine(url)
            with eng.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("CHECKPOINT"))
            eng.dispose()
            time.sleep(2)

        # latency at a fixed rate first, on a quiet database; then the sustained throughput
        settle()
        ours_latency = run_openloop(f"{ours}/api/v1/incidents", list_file.name, args.rate, args.seconds,
                                    [f"Authorization: {auth}"], True)
        settle()
        bare_latency = run_openloop(f"{bare}/insert", list_file.name, args.rate, args.seconds, [], False)
        settle()
        ours_wrk = run_wrk(f"{ours}/api/v1/incidents", bodies_file.name, args.seconds, args.connections, auth)
        settle()
        bare_wrk = run_wrk(f"{bare}/insert", bodies_file.name, args.seconds, args.connections, None)
        result = {
            "benchmark": "incident intake under load", "machine_cores": os.cpu_count(),
            "waitress_threads": args.threads,
            "wangge_post_incidents": {"sustained_wrk": ours_wrk, key: ours_latency},
            "peer_bare_flask_insert": {"sustained_wrk": bare_wrk, key: bare_latency},
        }
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)
        os.unlink(bodies_file.name)
        os.unlink(list_file.name)
        cluster.drop_database(url)
    print(json.dumps(result, ensure_ascii=False, indent=1))
    ours_r = result["wangge_post_incidents"]
    bare_r = result["peer_bare_flask_insert"]
    share = ours_r["sustained_wrk"]["requests_per_s"] / bare_r["sustained_wrk"]["requests_per_s"]
    print(f"\nsustained: wangge POST /api/v1/incidents {ours_r['sustained_wrk']['requests_per_s']:.0f} req/s "
          f"vs bare insert {bare_r['sustained_wrk']['requests_per_s']:.0f} req/s = {share:.0%} "
          f"(target ≥ 50 %)")
    print(f"at {args.rate:.0f} req/s: wangge p50 {ours_r[key]['p50_ms']} ms, p99 {ours_r[key]['p99_ms']} ms "
          f"(target p99 < 25 ms), errors {ours_r[key]['errors']}; bare p50 {bare_r[key]['p50_ms']} ms, "
          f"p99 {bare_r[key]['p99_ms']} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
