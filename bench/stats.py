"""Benchmark: the dashboard's JSON (统计看板) at 1M cases, beside a plain GROUP BY over the events.

Builds (or with ``--reuse`` reuses) a scratch database ``wangge_bench_stats`` by the migrations and
the demo load (``wangge demo load``, as bench/assessment.py does), then times
:func:`webmap.services.dashboard.dashboard` for the whole town for a year, for a month, and for one
village's month, ``-n`` runs each (p50, p95). The peer, in the same run: the same tiles of the
period asked for (not 环比/同比, rows or trend) as one plain GROUP BY over the case events joined
to their incidents, no index beyond the migrations'.

    python bench/stats.py [--incidents 1000000] [--reuse] [-n 10]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime

from scratch import demo_database
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from webmap.services import dashboard, stats
from workflow import indicators as ind
from workflow.clock import SHANGHAI

DBNAME = "wangge_bench_stats"
UNTIL = datetime(2026, 11, 20, 18, 0, tzinfo=SHANGHAI)
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=SHANGHAI)
TARGET_MS = 500
PEER = """
SELECT count(DISTINCT i.id) FILTER (WHERE i.reported_at >= :s AND i.reported_at < :u) AS reported,
       count(DISTINCT i.id) FILTER (WHERE e.action = 'file' AND e.at >= :s AND e.at < :u) AS filed,
       count(DISTINCT i.id) FILTER (WHERE i.closed_at >= :s AND i.closed_at < :u) AS closed,
       count(DISTINCT i.id) FILTER (WHERE i.closed_at >= :s AND i.closed_at < :u AND i.closed_at <= i.deadline)
           AS closed_on_time,
       count(DISTINCT i.id) FILTER (WHERE e.action = 'verify_fail' AND e.at >= :s AND e.at < :u) AS reworked,
       count(DISTINCT i.id) FILTER (WHERE e.action IN ('verify_pass', 'verify_fail') AND e.at >= :s AND e.at < :u)
           AS verified,
       count(DISTINCT i.id) FILTER (WHERE e.action = 'return' AND e.at >= :s AND e.at < :u) AS returned,
       count(DISTINCT i.id) FILTER (WHERE e.action = 'dispatch' AND e.at >= :s AND e.at < :u) AS dispatched,
       count(DISTINCT i.id) FILTER (WHERE e.action = 'self_handle' AND e.at >= :s AND e.at < :u) AS self_handled
  FROM incidents i JOIN case_events e ON e.incident_id = i.id
 WHERE (CAST(:village AS text) IS NULL OR i.village_code = :village)
"""


def timed(fn, runs: int) -> tuple[float, float]:
    fn()  # warm
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, round(0.95 * len(times)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("-n", type=int, default=10)
    args = parser.parse_args()
    engine = create_engine(demo_database(DBNAME, args.incidents, reuse=args.reuse, until=UNTIL))
    with Session(engine) as db:
        village = db.execute(text("SELECT village_code FROM incidents WHERE village_code IS NOT NULL "
                                  "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")).scalar()
        cases = [("town, a year", "2025-12-01", "2026-11-30", None),
                 ("town, a month", "2026-10-01", "2026-10-31", None),
                 (f"village {village}, a month", "2026-10-01", "2026-10-31", village)]
        print(f"{args.incidents:,} incidents; {args.n} runs each; target p95 < {TARGET_MS} ms")
        print("| what | ours p50 | ours p95 | peer p50 | peer p95 |")
        print("|---|---|---|---|---|")
        for label, since, until, v in cases:
            window = ind.parse_window("month", since, until, NOW)
            ours = timed(lambda w=window, v=v: dashboard.dashboard(db, stats.WHOLE_DISTRICT, w, v, now=NOW), args.n)
            peer = timed(lambda w=window, v=v: db.execute(text(PEER), {"s": w.since, "u": w.until, "village": v}).one(),
                         args.n)
            print(f"| {label} | {ours[0]:.0f} ms | **{ours[1]:.0f} ms** | {peer[0]:.0f} ms | {peer[1]:.0f} ms |",
                  flush=True)


if __name__ == "__main__":
    main()
