"""Benchmark: publishing a redraw plan (改划方案) at 1M incidents, next to a full re-route.

On the scratch database of ``bench/dispatch_viewport.py`` (``--incidents``, default 1,000,000 demo
incidents; ``--reuse`` keeps it), a planner's plan that changes exactly 5 grids, among the busiest
(cases per grid). A is the busiest grid of the town, B its busiest neighbour in the same village:

- ``reshape``: B takes a strip of A (``--strip-m``, default 30 m) along their shared edge (changes
  B and A);
- ``split``: A, so reshaped, is cut in two by a straight line through its centre, across its
  longer side (A and a new code);
- ``merge``: the busiest pair of neighbouring grids of another village (the one kept, the one
  retired).

Timed: ``webmap.services.plans.publish`` alone (the check, the new grid versions, the re-route of
the open cases the plan touches with their events, the plan's view), ``--repeat`` times (default
5; p50 and each run), each on a fresh copy of the plan in a savepoint rolled back afterwards; the
statements inside it are timed too. Building the plan (create and edits) is not timed. Its
commits are savepoint releases (no WAL flush), and the peer is not committed either.

The peer, timed once in the same run after a publication: a full re-route of every case, one
``UPDATE incidents i SET grid_id = g.id, grid_code = g.code FROM grids g WHERE g.valid_to IS NULL
AND ST_Covers(g.geom, i.geom)`` over all incidents (the statement-level tally trigger included, as
for any update of incidents). It also checks ours: the open cases whose grid it would change.

Verified after each publication: every open case inside a changed grid's new geometry is routed to
the current grid covering it (lowest code on an edge; a case that stays in its grid keeps the
version it was routed by), no open case is left in a retired grid, the closed and void cases were
not touched, one 'reroute' event per re-routed case.
Everything runs in one transaction on one connection, rolled back at the end: the database is left
as it was (checked: grid versions, plans, case events, incident versions before and after). The
rolled-back full re-route leaves a dead copy of every incident behind (the table doubles on disk),
so afterwards the table is compacted, ``VACUUM (FULL, ANALYZE) incidents`` (about 40 s, holding
an exclusive lock; ``--no-compact`` skips it; without the peer a plain ``VACUUM`` is run).

    python bench/plan_publish.py [--incidents 1000000] [--reuse] [--repeat 5] [--no-full] [--no-jit]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import shapely
from dispatch_viewport import database
from shapely import wkb
from shapely.geometry import LineString, mapping
from sqlalchemy import create_engine, event, text
from sqlalchemy.orm import Session

from db.queries import query
from webmap.services import plans
from workflow.cases import OPEN_STATES

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 2.0
OPEN = list(OPEN_STATES)
FULL_REROUTE = ("UPDATE incidents i SET grid_id = g.id, grid_code = g.code FROM grids g "
                "WHERE g.valid_to IS NULL AND ST_Covers(g.geom, i.geom)")
COUNTS = {  # what must be the same before and after the run
    "grid_versions": "SELECT count(*) FROM grids",
    "current_grids": "SELECT count(*) FROM grids WHERE valid_to IS NULL",
    "grid_plans": "SELECT count(*) FROM grid_plans",
    "case_events": "SELECT count(*) FROM case_events",
    "incident_versions": "SELECT sum(version) FROM incidents",
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def fingerprint(conn) -> dict:
    return {name: int(conn.execute(text(sql)).scalar()) for name, sql in COUNTS.items()}


# ---------------------------------------------------------------- the plan


def choose(conn) -> dict:
    """A: the busiest grid; B: its busiest neighbour in its village; the merged pair: the busiest
    pair of neighbouring grids of another village (by all their cases)."""
    cases = dict(conn.execute(text(
        "SELECT grid_code, count(*) FROM incidents WHERE grid_code IS NOT NULL GROUP BY 1")).all())
    pairs = conn.execute(text("""
        SELECT a.code, b.code, a.village_id FROM grids a JOIN grids b
            ON a.village_id = b.village_id AND a.code < b.code AND a.geom && b.geom
         WHERE a.valid_to IS NULL AND b.valid_to IS NULL
           AND ST_Length(ST_Intersection(ST_Boundary(a.geom), ST_Boundary(b.geom))::geography) > 100
    """)).all()
    a = max(cases, key=cases.get)
    village = next(v for x, y, v in pairs if a in (x, y))
    b = max((y if x == a else x for x, y, _ in pairs if a in (x, y)), key=lambda c: cases.get(c, 0))
    merge = max(((x, y) for x, y, v in pairs if v != village), key=lambda p: cases.get(p[0], 0) + cases.get(p[1], 0))
    return {"split": a, "reshape": b, "merge": list(merge)}


def grid_geom(conn, code: str):
    return wkb.loads(bytes(conn.execute(text(
        "SELECT ST_AsBinary(geom) FROM grids WHERE code = :c AND valid_to IS NULL"), {"c": code}).scalar()))


def local_of(conn, code: str) -> plans.Local:
    """The local metres the plan service uses for the village of ``code`` (its outline's centroid)."""
    outline = wkb.loads(bytes(conn.execute(text(
        "SELECT ST_AsBinary(v.geom) FROM grids g JOIN areas v ON v.id = g.village_id "
        "WHERE g.code = :c AND g.valid_to IS NULL"), {"c": code}).scalar()))
    c = outline.centroid
    return plans.Local(c.x, c.y)


def strip_reshape(conn, grow: str, give: str, width_m: float) -> dict:
    """The geometry of ``grow`` with a strip of ``give`` along their shared edge (GeoJSON)."""
    local = local_of(conn, grow)
    g, h = local.to_m(grid_geom(conn, grow)), local.to_m(grid_geom(conn, give))
    edge = g.boundary.intersection(h.boundary)
    new = g.union(h.intersection(edge.buffer(width_m)))
    return mapping(local.to_deg(new))


def cross_line(geom) -> dict:
    """A straight line through the centre of ``geom`` (degrees), across its longer side, its
    ends about 100 m outside it."""
    x0, y0, x1, y1 = geom.bounds
    c = geom.centroid
    pad = 0.001
    if (x1 - x0) * 0.77 >= (y1 - y0):  # wider than tall (cos 39.3°)
        line = LineString([(c.x, y0 - pad), (c.x, y1 + pad)])
    else:
        line = LineString([(x0 - pad, c.y), (x1 + pad, c.y)])
    return mapping(line)


def build_plan(db: Session, conn, user, picks: dict, strip_m: float) -> tuple[int, dict]:
    plan_id = plans.create(db, user, "bench: 5 grids")
    v = plans.view(db, user, plan_id)
    a, b = picks["split"], picks["reshape"]
    v = plans.edit(db, user, plan_id, {"op": "reshape", "version": v["version"], "code": b,
                                       "geometry": strip_reshape(conn, b, a, strip_m)})
    a_now = next(f for f in v["grids"]["features"] if f["id"] == a)
    v = plans.edit(db, user, plan_id, {"op": "split", "version": v["version"], "code": a,
                                       "line": cross_line(shapely.geometry.shape(a_now["geometry"]))})
    v = plans.edit(db, user, plan_id, {"op": "merge", "version": v["version"], "codes": picks["merge"]})
    return plan_id, v


# ---------------------------------------------------------------- statement timing


class Statements:
    """Wall time of each statement while ``on``, labelled."""

    def __init__(self, engine):
        self.on, self.rows = False, []
        # the named queries by how they begin (the statement sent has its parameters rendered)
        self.labels = {query(name).text[:24]: f"{label} ({name}.sql)"
                       for name, label in (("plan_reroute", "reroute"), ("plan_check", "check"))}
        event.listen(engine, "before_cursor_execute", self.before)
        event.listen(engine, "after_cursor_execute", self.after)

    def before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_t0"] = time.perf_counter()

    def after(self, conn, cursor, statement, parameters, context, executemany):
        if not self.on:
            return
        ms = (time.perf_counter() - conn.info.pop("bench_t0")) * 1000
        label = self.labels.get(statement[:24])
        if label is None:
            label = ("new grid versions" if "INSERT INTO grids" in statement
                     else "other (" + " ".join(statement.split()[:3])[:40] + ")")
        self.rows.append((label, ms))

    def take(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for label, ms in self.rows:
            out[label] = out.get(label, 0) + ms
        self.rows = []
        return out


# ---------------------------------------------------------------- checks


def closed_sum(conn) -> tuple:
    """Count, grid ids and versions of the closed and void cases."""
    return tuple(int(x or 0) for x in conn.execute(text(
        "SELECT count(*), sum(grid_id), sum(version) FROM incidents WHERE NOT (state = ANY(:open))"),
        {"open": OPEN}).one())


def verify(conn, plan_id: int, codes: list[str], closed_before: tuple, rerouted: int) -> dict:
    wrong = conn.execute(text("""
        WITH new AS (SELECT geom FROM grids WHERE plan_id = :p AND valid_to IS NULL)
        SELECT count(*) AS inside,
               count(*) FILTER (WHERE cover.code IS DISTINCT FROM i.grid_code) AS mismatches
          FROM incidents i
          LEFT JOIN LATERAL (SELECT g.id, g.code FROM grids g
                              WHERE g.valid_to IS NULL AND g.geom && i.geom AND ST_Covers(g.geom, i.geom)
                              ORDER BY g.code LIMIT 1) cover ON true
         WHERE i.state = ANY(:open)
           AND EXISTS (SELECT 1 FROM new n WHERE n.geom && i.geom AND ST_Covers(n.geom, i.geom))"""),
        {"p": plan_id, "open": OPEN}).one()
    superseded = conn.execute(text(  # open cases left in a grid that no longer exists
        "SELECT count(*) FROM incidents i WHERE i.state = ANY(:open) AND i.grid_code IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM grids g WHERE g.code = i.grid_code AND g.valid_to IS NULL)"),
        {"open": OPEN}).scalar()
    rewritten = conn.execute(text(
        "SELECT count(*) FROM incidents i JOIN grids g ON g.id = i.grid_id "
        "WHERE g.plan_id = :p AND i.state = ANY(:open)"), {"p": plan_id, "open": OPEN}).scalar()
    closed_on_new = conn.execute(text(
        "SELECT count(*) FROM incidents i JOIN grids g ON g.id = i.grid_id "
        "WHERE g.plan_id = :p AND NOT (i.state = ANY(:open))"), {"p": plan_id, "open": OPEN}).scalar()
    events = conn.execute(text(
        "SELECT count(*) FROM case_events e WHERE e.action = 'reroute' AND (e.data->>'plan')::int = :p "
        "AND e.incident_id IN (SELECT id FROM incidents WHERE grid_code = ANY(:codes))"),
        {"p": plan_id, "codes": codes}).scalar()
    closed_after = closed_sum(conn)
    out = {"open_cases_in_new_geometries": wrong.inside, "mismatches": wrong.mismatches,
           "open_cases_on_new_versions": rewritten,
           "open_in_retired_grid": superseded, "closed_on_new_version": closed_on_new,
           "closed_unchanged": closed_after == closed_before, "reroute_events": events,
           "events_match_rerouted": events == rerouted}
    out["ok"] = (wrong.mismatches == 0 and superseded == 0 and closed_on_new == 0
                 and out["closed_unchanged"] and out["events_match_rerouted"])
    return out


def full_reroute(conn) -> dict:
    """The peer, in a savepoint rolled back: time, rows, and the open cases it routes elsewhere
    than the publication did (and how many of those lie on the edge of two grids)."""
    sp = conn.begin_nested()
    try:
        conn.execute(text("CREATE TEMP TABLE bench_ours AS SELECT id, grid_code FROM incidents "
                          "WHERE state = ANY(:open)"), {"open": OPEN})
        started = time.perf_counter()
        rows = conn.execute(text(FULL_REROUTE)).rowcount
        seconds = time.perf_counter() - started
        differ = conn.execute(text("""
            SELECT count(*) AS n,
                   count(*) FILTER (WHERE (SELECT count(*) FROM grids g WHERE g.valid_to IS NULL
                                            AND g.geom && i.geom AND ST_Covers(g.geom, i.geom)) > 1) AS on_edge
              FROM bench_ours o JOIN incidents i ON i.id = o.id
             WHERE i.grid_code IS DISTINCT FROM o.grid_code""")).one()
    finally:
        sp.rollback()
    return {"seconds": round(seconds, 3), "rows_updated": rows, "open_cases_differing_from_ours": differ.n,
            "of_which_on_an_edge": differ.on_edge}


# ---------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="keep the scratch database if it has N incidents")
    parser.add_argument("--repeat", type=int, default=5, help="publications timed")
    parser.add_argument("--strip-m", type=float, default=30.0, help="width of the reshaped strip, metres")
    parser.add_argument("--no-full", action="store_true", help="skip the full re-route (the peer)")
    parser.add_argument("--no-compact", action="store_true", help="no VACUUM FULL of incidents afterwards")
    parser.add_argument("--no-jit", action="store_true",
                        help="SET LOCAL jit = off for the run (diagnosis: JIT compilation inside publish)")
    args = parser.parse_args()
    os.environ.setdefault("WANGGE_HOME", str(ROOT))
    url = database(args.incidents, args.reuse)
    engine = create_engine(url)
    timer = Statements(engine)
    results: dict = {"incidents": args.incidents, "repeat": args.repeat, "machine_cores": os.cpu_count(),
                     "jit": "off" if args.no_jit else "server default"}
    with engine.connect() as conn:
        before = fingerprint(conn)
        conn.commit()
        outer = conn.begin()
        try:
            if args.no_jit:
                conn.execute(text("SET LOCAL jit = off"))
            planner = conn.execute(text(
                "SELECT id, role, scope_code FROM accounts WHERE username = 'planner1'")).one()
            user = SimpleNamespace(id=planner.id, role=planner.role, scope_code=planner.scope_code)
            picks = choose(conn)
            results["picks"] = picks
            closed_before = closed_sum(conn)
            runs, full = [], None
            for rep in range(args.repeat):
                sp = conn.begin_nested()
                db = Session(bind=conn, join_transaction_mode="create_savepoint")
                try:
                    plan_id, v = build_plan(db, conn, user, picks, args.strip_m)
                    changes = {f["id"]: f["properties"]["change"] for f in v["grids"]["features"]
                               if f["properties"]["change"] != "unchanged"}
                    codes = sorted(changes)
                    touched = conn.execute(text(
                        "SELECT count(*), count(*) FILTER (WHERE state = ANY(:open)) FROM incidents "
                        "WHERE grid_code = ANY(:codes)"), {"codes": codes, "open": OPEN}).one()
                    if len(codes) != 5 or v["errors"]:
                        raise SystemExit(f"the plan changes {changes} with {v['errors']} errors: "
                                         f"{[p['en'] for p in v['problems']]}")
                    timer.take()
                    timer.on = True
                    started = time.perf_counter()
                    published = plans.publish(db, user, plan_id, v["version"])
                    seconds = time.perf_counter() - started
                    timer.on = False
                    run = {"seconds": round(seconds, 3), "rerouted": published["rerouted"],
                           "statements_ms": {k: round(ms, 1) for k, ms in
                                             sorted(timer.take().items(), key=lambda kv: -kv[1])}}
                    run["verify"] = verify(conn, plan_id, codes, closed_before, published["rerouted"])
                    log(f"run {rep + 1}: publish {seconds:.3f} s, {published['rerouted']} re-routed, "
                        f"verified {'ok' if run['verify']['ok'] else 'FAILED'}")
                    runs.append(run)
                    if rep == 0:
                        results["plan"] = {"changes": changes, "warnings": v["warnings"],
                                           "cases_in_changed_grids": touched[0],
                                           "open_cases_in_changed_grids": touched[1]}
                    if rep == args.repeat - 1 and not args.no_full:
                        log("full re-route of every case (the peer)…")
                        full = full_reroute(conn)
                        log(f"full re-route: {full['seconds']:.1f} s")
                finally:
                    db.close()
                    sp.rollback()
        finally:
            timer.on = False
            outer.rollback()
        after = fingerprint(conn)
        conn.rollback()
        if not args.no_compact:
            sql = "VACUUM (FULL, ANALYZE) incidents" if full else "VACUUM incidents"
            log(f"{sql}…")
            started = time.perf_counter()
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text(sql))
            log(f"{sql}: {time.perf_counter() - started:.0f} s")
    engine.dispose()

    p50 = statistics.median(r["seconds"] for r in runs)
    reroute_p50 = statistics.median(r["statements_ms"].get("reroute (plan_reroute.sql)", 0) for r in runs)
    results.update({"publish_p50_s": round(p50, 3), "reroute_statement_p50_ms": round(reroute_p50, 1),
                    "runs": runs, "full_reroute": full,
                    "database_unchanged": before == after, "before": before, "after": after})
    print(json.dumps(results, ensure_ascii=False, indent=1))
    plan = results["plan"]
    print(f"\ntarget: publishing a plan that changes 5 grids < {TARGET_S:g} s at {args.incidents:,} incidents")
    print(f"plan: {', '.join(f'{c} {k}' for c, k in plan['changes'].items())}; "
          f"{plan['cases_in_changed_grids']:,} cases in the changed grids, "
          f"{plan['open_cases_in_changed_grids']:,} of them open")
    print(f"{'what':52} {'seconds':>9}  detail")
    print(f"{'ours: plans.publish, p50 of ' + str(len(runs)):52} {p50:9.3f}  "
          f"re-routed {runs[0]['rerouted']:,} open cases to another grid, "
          f"{runs[0]['verify']['open_cases_on_new_versions']:,} written; runs {[r['seconds'] for r in runs]}")
    print(f"{'  of which the re-route statement, p50':52} {reroute_p50 / 1000:9.3f}")
    if full:
        print(f"{'peer: full re-route UPDATE of every case':52} {full['seconds']:9.3f}  "
              f"{full['rows_updated']:,} rows; {full['open_cases_differing_from_ours']} open cases "
              f"routed elsewhere than ours ({full['of_which_on_an_edge']} on an edge)")
        print(f"{'ratio peer / ours':52} {full['seconds'] / p50:9.1f}×")
    ok = all(r["verify"]["ok"] for r in runs)
    print(f"target {'met' if p50 < TARGET_S else 'MISSED'}: p50 {p50:.3f} s; verification "
          f"{'ok' if ok else 'FAILED'}; database {'unchanged' if before == after else 'CHANGED'}")
    return 0 if ok and before == after else 1


if __name__ == "__main__":
    sys.exit(main())
