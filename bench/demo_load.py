"""Benchmark: build a database of N incidents and print the load time and the database size.

The peer, measured in the same run on the same machine: the same generated incidents written into
the same migrated table (same indexes and constraints) by ``geopandas.GeoDataFrame.to_postgis``,
how an analyst would load them; on a sample when N is large, reported as rows per second.

    python bench/demo_load.py --incidents 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from tqdm import tqdm

from db import cluster, demo_town, migrate
from db import demo as demo_mod
from workflow.clock import DEFAULT_CALENDAR, SHANGHAI

UNTIL = datetime(2026, 11, 20, 18, 0, tzinfo=SHANGHAI)


def scratch_database(name: str) -> str:
    server = cluster.up(echo=lambda _m: None)
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    cluster.drop_database(url)
    cluster.create_database(url)
    return url


def size_report(engine) -> dict:
    with engine.connect() as conn:
        db_bytes = conn.execute(text("SELECT pg_database_size(current_database())")).scalar()
        tables = conn.execute(text("""
            SELECT c.relname, pg_total_relation_size(c.oid), pg_relation_size(c.oid), pg_indexes_size(c.oid)
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relkind = 'r'
             ORDER BY 2 DESC LIMIT 5""")).all()
    return {
        "database_mb": round(db_bytes / 2**20, 1),
        "tables_mb": {name: {"total": round(t / 2**20, 1), "heap": round(h / 2**20, 1), "indexes": round(i / 2**20, 1)}
                      for name, t, h, i in tables},
    }


def run_ours(n: int, seed: int) -> dict:
    url = scratch_database("wangge_bench")
    migrate.upgrade(url)
    engine = create_engine(url)
    started = time.perf_counter()
    with tqdm(total=n, unit="件", desc="wangge demo load", file=sys.stderr) as bar:
        counts = demo_mod.load_demo(engine, incidents=n, seed=seed, until=UNTIL, progress=bar.update)
    seconds = time.perf_counter() - started
    report = {"seconds": round(seconds, 1), "incidents_per_s": round(n / seconds), "counts": counts,
              **size_report(engine)}
    engine.dispose()
    return report


def _context(engine) -> dict:
    """The ids the incident generator needs, read back from a database holding the reference data."""
    with engine.connect() as conn:
        def mapping(sql):
            return dict(conn.execute(text(sql)).all())

        return {
            "category_id": mapping("SELECT code, id FROM categories"),
            "grid_id": mapping("SELECT code, id FROM grids WHERE valid_to IS NULL"),
            "department": mapping("SELECT code, id FROM departments"),
            "worker": mapping("SELECT grid_code, person_id FROM grid_assignments WHERE duty = 'worker'"),
            "leader": mapping("SELECT grid_code, person_id FROM grid_assignments WHERE duty = 'leader'"),
            "deadline": lambda reported, limit, unit: DEFAULT_CALENDAR.add(reported, limit, unit),
            "calendar": DEFAULT_CALENDAR, "orders": [],
            "account": demo_mod.account_ids(conn.execute(text(
                "SELECT id, role, scope_code, department_id FROM accounts")).all(),
                mapping("SELECT code, id FROM departments")),
        }


def run_peer(n: int, seed: int) -> dict:
    """The same incidents into the same migrated table through geopandas.to_postgis."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    url = scratch_database("wangge_bench_peer")
    migrate.upgrade(url)
    engine = create_engine(url)
    demo_mod.load_demo(engine, incidents=0, seed=seed, until=UNTIL)  # villages, grids, people, categories
    ctx = _context(engine)
    town = demo_town.build_town(seed)
    started = time.perf_counter()
    rows = []
    for chunk, _events in demo_mod._incident_chunks(town, n, seed, UNTIL, ctx):
        rows.extend(chunk)
    generated = time.perf_counter()
    frame = pd.DataFrame(rows, columns=demo_mod.INCIDENT_COLUMNS)
    frame["geom"] = shapely.from_wkb(frame["geom"].to_numpy())
    for column in ("satisfaction", "rework_count", "return_count"):  # integers with gaps stay integers
        frame[column] = frame[column].astype("Int64")
    for column in ("reported_at", "deadline", "closed_at", "dispatched_at"):
        frame[column] = pd.to_datetime(frame[column], format="ISO8601", utc=True)
    gdf = gpd.GeoDataFrame(frame, geometry="geom", crs=4326)
    written_from = time.perf_counter()
    with tqdm(total=1, desc="peer geopandas.to_postgis", file=sys.stderr):
        gdf.to_postgis("incidents", engine, if_exists="append", index=False, chunksize=10_000)
    finished = time.perf_counter()
    engine.dispose()
    return {
        "rows": n,
        "generate_seconds": round(generated - started, 1),
        "write_seconds": round(finished - written_from, 1),
        "incidents_per_s_write": round(n / (finished - written_from)),
        "incidents_per_s_generate_and_write": round(n / (generated - started + finished - written_from)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--peer-incidents", type=int, default=200_000,
                        help="rows the peer writes (it is slow; at most --incidents)")
    parser.add_argument("--seed", type=int, default=20261128)
    args = parser.parse_args()
    os.environ.setdefault("WANGGE_HOME", str(Path(__file__).resolve().parents[1]))

    ours = run_ours(args.incidents, args.seed)
    peer = run_peer(min(args.peer_incidents, args.incidents), args.seed)
    print(json.dumps({"benchmark": "demo load", "machine_cores": os.cpu_count(), "wangge": ours,
                      "peer_geopandas_to_postgis": peer}, ensure_ascii=False, indent=1))
    print(f"\nwangge demo load: {args.incidents:,} incidents (+ events, grids, people, patrols) in "
          f"{ours['seconds']} s = {ours['incidents_per_s']:,} incidents/s; database {ours['database_mb']} MB")
    print(f"peer geopandas.to_postgis into the same table: {peer['rows']:,} incidents (no events, no patrols): "
          f"generate {peer['generate_seconds']} s + write {peer['write_seconds']} s = "
          f"{peer['incidents_per_s_generate_and_write']:,} incidents/s ({peer['incidents_per_s_write']:,}/s writing alone)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
