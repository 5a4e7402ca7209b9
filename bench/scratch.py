"""The scratch database a benchmark runs on: ``dbname`` on the server of ``DATABASE_URL`` (else the
private cluster), built by the migrations and the demo load with ``n`` incidents, or with ``reuse``
kept when it already holds exactly ``n``. Imported by the benchmarks run as ``python bench/<name>.py``
(their folder is on the path)."""

from __future__ import annotations

import os
import sys
import time
from datetime import datetime

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from db import cluster, migrate
from db.demo import load_demo


def demo_database(dbname: str, n: int, *, reuse: bool, until: datetime) -> str:
    """The scratch database's URL, loaded with ``n`` demo incidents up to ``until``."""
    server = os.environ.get("DATABASE_URL") or cluster.up(echo=lambda _m: None)
    url = make_url(server).set(database=dbname).render_as_string(hide_password=False)
    if reuse:
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                if conn.execute(text("SELECT count(*) FROM incidents")).scalar() == n:
                    engine.dispose()
                    return url
        except Exception:  # noqa: BLE001 - no database yet
            pass
        engine.dispose()
    cluster.drop_database(url)
    cluster.create_database(url)
    migrate.upgrade(url)
    engine = create_engine(url)
    started = time.perf_counter()
    load_demo(engine, incidents=n, until=until)
    print(f"loaded {n:,} incidents in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    engine.dispose()
    return url
