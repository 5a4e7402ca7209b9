"""Benchmark: batch point → grid routing, ours against PostGIS and geopandas, on the same data.

Data: N grids (default 2,000) that tile a ~48 km x 48 km square near lon 117.7, lat 39.3
(EPSG:4326), made by ``spatial.tiling.voronoi_coverage`` from random seeds (vertices snapped to
1e-7 degree), with 15-digit codes; M random points (default 1,000,000) uniform in the ~50 km x
50 km box around it, so a few percent fall outside every grid. Fixed numpy seed.

Compared, in one run on the same machine and data:

1. ours: ``spatial.routing.locate_points`` (Shapely 2 STRtree, ``covered_by``; a point on a
   shared edge or vertex goes to the lowest code). Timed from the coordinate arrays and the
   (unprepared) grid polygons to the array of grid indices: building the points, preparing the
   polygons, the tree and the tie-break are all inside the timing.
2. PostGIS: ``UPDATE points p SET grid_code = g.code FROM grids g WHERE ST_Covers(g.geom, p.geom)``
   on a scratch database of the project's cluster (GiST index on ``grids.geom``, both tables
   VACUUM ANALYZEd, CHECKPOINT before). The timing covers the statement and its COMMIT, so it
   includes writing the result into the table. UPDATE ... FROM takes an arbitrary grid for a point
   on a shared edge; the deterministic variant (lowest code, via a correlated ``min()``
   subquery) is timed too, on a freshly reloaded points table.
3. geopandas: ``geopandas.sjoin(points, grids, how="left", predicate=...)`` with "intersects"
   (boundary included: the same rule as ST_Covers) and "within" (boundary excluded), then one row
   per point (first match kept). Timed from the coordinate arrays (``points_from_xy``) to one
   grid per point, like ours; the sjoin alone is reported too.

All timings exclude data generation and loading (COPY into PostGIS, building the grid layer);
they cover the routing step only. For each method the output gives the wall time, points per
second, and the number of points whose grid differs from ours, with how many of those lie on a
grid boundary (the only place where the methods are expected to differ). The scratch database
is dropped at the end.

    python bench/routing.py --points 1000000 --grids 2000
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg2
import shapely
from sqlalchemy.engine import make_url

from db import cluster
from spatial.routing import locate_points
from spatial.tiling import check_tiling, voronoi_coverage

DATABASE = "wangge_bench_routing"
CENTRE = (117.7, 39.3)
BOX_KM = 50.0  # the points' box
MARGIN_KM = 1.0  # the grids' boundary is the box inset by this much
KM_PER_DEG_LAT = 110.574
TARGET_POINTS_PER_S = 1_000_000

ROUTE_JOIN = (
    "UPDATE points p SET grid_code = g.code FROM grids g WHERE ST_Covers(g.geom, p.geom)"
)
ROUTE_LOWEST = (
    "UPDATE points p SET grid_code = "
    "(SELECT min(g.code) FROM grids g WHERE ST_Covers(g.geom, p.geom))"
)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- data


def km_to_deg(km_x: float, km_y: float) -> tuple[float, float]:
    km_per_deg_lon = 111.320 * math.cos(math.radians(CENTRE[1]))
    return km_x / km_per_deg_lon, km_y / KM_PER_DEG_LAT


def make_data(n_grids: int, n_points: int, seed: int, vertex_points: int) -> dict:
    rng = np.random.default_rng(seed)
    half_x, half_y = km_to_deg(BOX_KM / 2, BOX_KM / 2)
    inset_x, inset_y = km_to_deg(MARGIN_KM, MARGIN_KM)
    box = (CENTRE[0] - half_x, CENTRE[1] - half_y, CENTRE[0] + half_x, CENTRE[1] + half_y)
    inner = [round(v, 7) for v in (box[0] + inset_x, box[1] + inset_y,
                                   box[2] - inset_x, box[3] - inset_y)]
    boundary = shapely.box(*inner)

    sx = rng.uniform(inner[0], inner[2], n_grids)
    sy = rng.uniform(inner[1], inner[3], n_grids)
    started = time.perf_counter()
    polygons = np.asarray(voronoi_coverage(sx, sy, boundary, precision=1e-7), dtype=object)
    tiling_seconds = time.perf_counter() - started
    codes = np.array([f"{i:015d}" for i in range(n_grids)])

    xs = rng.uniform(box[0], box[2], n_points)
    ys = rng.uniform(box[1], box[3], n_points)
    if vertex_points:
        # exact grid vertices (shared by two or three grids, or on the outer boundary)
        vertices = np.unique(shapely.get_coordinates(polygons), axis=0)
        pick = vertices[rng.integers(0, len(vertices), min(vertex_points, n_points))]
        xs[: len(pick)], ys[: len(pick)] = pick[:, 0], pick[:, 1]

    report = check_tiling(list(polygons), boundary)
    n_vertices = shapely.get_num_coordinates(polygons)
    sizes = {
        "grids": n_grids,
        "grid_vertices_total": int(n_vertices.sum()),
        "grid_vertices_mean": round(float(n_vertices.mean()), 1),
        "grid_mean_area_km2": round((BOX_KM - 2 * MARGIN_KM) ** 2 / n_grids, 3),
        "coverage_bounds_deg": inner,
        "coverage_km": f"{BOX_KM - 2 * MARGIN_KM:g} x {BOX_KM - 2 * MARGIN_KM:g}",
        "coverage_overlap_deg2": report.overlap_area,
        "coverage_gap_deg2": report.gap_area,
        "coverage_build_s": round(tiling_seconds, 2),
        "points": n_points,
        "points_bounds_deg": [round(v, 7) for v in box],
        "points_km": f"{BOX_KM:g} x {BOX_KM:g}",
        "points_on_grid_vertices": vertex_points and min(vertex_points, n_points),
        "seed": seed,
    }
    return {
        "polygons_wkb": shapely.to_wkb(polygons),
        "codes": codes,
        "xs": xs,
        "ys": ys,
        "sizes": sizes,
    }


def fresh_polygons(data: dict) -> np.ndarray:
    """New, unprepared polygon objects, so that no method profits from another's preparation."""
    return shapely.from_wkb(data["polygons_wkb"])


# ---------------------------------------------------------------- comparison


def compare(ours: np.ndarray, other: np.ndarray, data: dict, polygons: np.ndarray) -> dict:
    """Points whose grid differs from ours, and how many of them are on a grid's boundary."""
    differ = np.flatnonzero(ours != other)
    if differ.size == 0:
        return {"disagreements": 0, "on_grid_boundary": 0}
    points = shapely.points(data["xs"][differ], data["ys"][differ])
    on_boundary = np.zeros(differ.size, dtype=bool)
    for assigned in (ours[differ], other[differ]):
        has = assigned >= 0
        on_boundary[has] |= shapely.touches(polygons[assigned[has]], points[has])
    return {
        "disagreements": int(differ.size),
        "on_grid_boundary": int(on_boundary.sum()),
        "ours_unassigned": int((ours[differ] < 0).sum()),
        "other_unassigned": int((other[differ] < 0).sum()),
    }


def best(runs: list[float]) -> dict:
    return {"seconds": round(min(runs), 3), "runs_s": [round(r, 3) for r in runs]}


# ---------------------------------------------------------------- ours


def run_ours(data: dict, repeat: int) -> tuple[dict, np.ndarray]:
    runs, result = [], None
    for _ in range(repeat):
        polygons = fresh_polygons(data)
        started = time.perf_counter()
        result = locate_points(data["xs"], data["ys"], polygons, data["codes"])
        runs.append(time.perf_counter() - started)
    return best(runs), result


# ---------------------------------------------------------------- PostGIS


def scratch_database() -> str:
    server = cluster.up(echo=lambda _m: None)
    url = make_url(server).set(database=DATABASE).render_as_string(hide_password=False)
    cluster.drop_database(url)
    cluster.create_database(url)
    return url


def connect(url: str):
    u = make_url(url)
    params = {"host": u.host or "127.0.0.1", "port": u.port or 5432, "user": u.username,
              "dbname": u.database, "password": u.password}
    return psycopg2.connect(**{k: v for k, v in params.items() if v is not None})


def copy_in(conn, statement: str, lines) -> None:
    buffer = io.StringIO("".join(lines))
    with conn.cursor() as cur:
        cur.copy_expert(statement, buffer)
    conn.commit()


def ewkb_hex(geoms: np.ndarray) -> np.ndarray:
    return shapely.to_wkb(shapely.set_srid(geoms, 4326), hex=True, include_srid=True)


def maintain(conn, *statements: str) -> None:
    """Statements that cannot run in a transaction block (VACUUM, CHECKPOINT)."""
    conn.autocommit = True
    with conn.cursor() as cur:
        for statement in statements:
            cur.execute(statement)
    conn.autocommit = False


def load_points(conn, point_lines: list[str]) -> None:
    with conn.cursor() as cur:
        cur.execute("TRUNCATE points")
    conn.commit()
    copy_in(conn, "COPY points (id, geom) FROM STDIN", point_lines)
    maintain(conn, "VACUUM ANALYZE points", "CHECKPOINT")


def read_back(conn, n_points: int) -> np.ndarray:
    buffer = io.StringIO()
    with conn.cursor() as cur:
        cur.copy_expert("COPY (SELECT id, grid_code FROM points) TO STDOUT", buffer)
    buffer.seek(0)
    frame = pd.read_csv(buffer, sep="\t", header=None, names=["id", "code"],
                        dtype={"id": np.int64, "code": str}, na_values=["\\N"],
                        keep_default_na=False)
    result = np.full(n_points, -1, dtype=np.int64)
    assigned = frame["code"].notna().to_numpy()
    # codes are the zero-padded grid index
    result[frame["id"].to_numpy()[assigned]] = frame["code"].to_numpy()[assigned].astype(np.int64)
    return result


def timed_update(conn, statement: str) -> float:
    started = time.perf_counter()
    with conn.cursor() as cur:
        cur.execute(statement)
    conn.commit()
    return time.perf_counter() - started


def run_postgis(data: dict, repeat: int, lowest: bool) -> tuple[dict, dict]:
    url = scratch_database()
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            cur.execute("CREATE TABLE grids (code varchar(15) PRIMARY KEY, "
                        "geom geometry(Polygon, 4326) NOT NULL)")
            cur.execute("CREATE TABLE points (id integer PRIMARY KEY, "
                        "geom geometry(Point, 4326) NOT NULL, grid_code varchar(15))")
            cur.execute("SELECT version(), postgis_full_version()")
            pg_version, postgis_version = cur.fetchone()
        conn.commit()

        log("PostGIS: loading grids and points (COPY, untimed)")
        started = time.perf_counter()
        grid_hex = ewkb_hex(fresh_polygons(data))
        copy_in(conn, "COPY grids (code, geom) FROM STDIN",
                (f"{c}\t{h}\n" for c, h in zip(data["codes"], grid_hex, strict=True)))
        with conn.cursor() as cur:
            cur.execute("CREATE INDEX grids_geom_gist ON grids USING gist (geom)")
        conn.commit()
        maintain(conn, "VACUUM ANALYZE grids")
        point_hex = ewkb_hex(shapely.points(data["xs"], data["ys"]))
        point_lines = [f"{i}\t{h}\n" for i, h in enumerate(point_hex)]
        del point_hex
        load_points(conn, point_lines)
        load_seconds = time.perf_counter() - started

        with conn.cursor() as cur:
            cur.execute("EXPLAIN " + ROUTE_JOIN)
            plan = [row[0] for row in cur.fetchall()]

        variants = {"update_from": ROUTE_JOIN}
        if lowest:
            variants["update_lowest_code"] = ROUTE_LOWEST
        report = {
            "postgresql": pg_version.split(" on ")[0],
            "postgis": postgis_version.split('"')[1] if '"' in postgis_version else postgis_version,
            "load_grids_and_points_s_untimed": round(load_seconds, 1),
            "plan_update_from": plan,
        }
        results, fresh = {}, True
        for name, statement in variants.items():
            runs = []
            for attempt in range(repeat):
                if not fresh:
                    load_points(conn, point_lines)  # a fresh table: no dead rows from the last run
                fresh = False
                log(f"PostGIS: {name} run {attempt + 1}/{repeat}")
                runs.append(timed_update(conn, statement))
            results[name] = read_back(conn, len(data["xs"]))
            report[name] = {"sql": statement, **best(runs)}
        return report, results
    finally:
        conn.close()
        cluster.drop_database(url)
        log(f"dropped scratch database {DATABASE}")


# ---------------------------------------------------------------- geopandas


def run_geopandas(data: dict, repeat: int, predicate: str) -> tuple[dict, np.ndarray]:
    import geopandas as gpd

    grids = gpd.GeoDataFrame({"code": data["codes"]}, geometry=fresh_polygons(data), crs=4326)
    runs, sjoin_runs, result = [], [], None
    for _ in range(repeat):
        grids = grids.set_geometry(fresh_polygons(data), crs=4326)  # no prepared geometry or tree
        started = time.perf_counter()
        points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(data["xs"], data["ys"]), crs=4326)
        joined_from = time.perf_counter()
        joined = gpd.sjoin(points, grids, how="left", predicate=predicate)
        joined_to = time.perf_counter()
        joined = joined[~joined.index.duplicated(keep="first")]
        index_right = joined["index_right"].reindex(points.index)
        result = index_right.fillna(-1).to_numpy(dtype=np.int64)
        runs.append(time.perf_counter() - started)
        sjoin_runs.append(joined_to - joined_from)
    return {"call": f'geopandas.sjoin(points, grids, how="left", predicate="{predicate}")',
            **best(runs), "sjoin_alone_s": round(min(sjoin_runs), 3)}, result


# ---------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--grids", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs per method; the best is kept")
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--vertex-points", type=int, default=0,
                        help="replace the first K random points by exact grid vertices, to "
                             "exercise the tie rule (default 0: all points random)")
    parser.add_argument("--no-lowest", action="store_true",
                        help="skip the deterministic PostGIS variant")
    parser.add_argument("--no-within", action="store_true",
                        help="skip geopandas with predicate='within'")
    args = parser.parse_args()
    os.environ.setdefault("WANGGE_HOME", str(Path(__file__).resolve().parents[1]))
    n = args.points

    log(f"building {args.grids:,} grids and {n:,} points (untimed)")
    data = make_data(args.grids, n, args.seed, args.vertex_points)
    polygons = fresh_polygons(data)  # for classifying disagreements

    log("ours: locate_points")
    ours_report, ours = run_ours(data, args.repeat)
    ours_report["unassigned_points"] = int((ours < 0).sum())

    log("geopandas: sjoin intersects")
    methods = {}
    gp_report, gp = run_geopandas(data, args.repeat, "intersects")
    methods["geopandas_sjoin_intersects"] = (gp_report, gp)
    if not args.no_within:
        log("geopandas: sjoin within")
        methods["geopandas_sjoin_within"] = run_geopandas(data, args.repeat, "within")

    pg_report, pg_results = run_postgis(data, args.repeat, not args.no_lowest)
    for name, result in pg_results.items():
        methods[f"postgis_{name}"] = (pg_report.pop(name), result)

    def rate(seconds: float) -> int:
        return round(n / seconds)

    ours_report["points_per_s"] = rate(ours_report["seconds"])
    out = {
        "benchmark": "batch point -> grid routing",
        "timing": "routing step only; data generation and loading (COPY, grid layer) excluded",
        "machine_cores": os.cpu_count(),
        "versions": {"shapely": shapely.__version__, "geos": shapely.geos_version_string,
                     "geopandas": __import__("geopandas").__version__,
                     "postgresql": pg_report.pop("postgresql"),
                     "postgis": pg_report.pop("postgis")},
        "data": data["sizes"],
        "ours_locate_points": ours_report,
        "postgis_setup": pg_report,
    }
    for name, (report, result) in methods.items():
        report["points_per_s"] = rate(report["seconds"])
        if "sjoin_alone_s" in report:
            report["points_per_s_sjoin_alone"] = rate(report["sjoin_alone_s"])
        report["vs_ours"] = compare(ours, result, data, polygons)
        report["time_over_ours"] = round(report["seconds"] / ours_report["seconds"], 1)
        out[name] = report
    print(json.dumps(out, ensure_ascii=False, indent=1))

    print(f"\n{n:,} points, {args.grids:,} grids; wall time of the routing step only "
          f"(loading excluded), best of {args.repeat}")
    target = "meets" if ours_report["points_per_s"] >= TARGET_POINTS_PER_S else "MISSES"
    print(f"{'ours locate_points':34s} {ours_report['seconds']:8.3f} s "
          f"{ours_report['points_per_s']:>12,} points/s  (reference; {target} the "
          f"{TARGET_POINTS_PER_S:,}/s target)")
    for name, (report, _result) in methods.items():
        vs = report["vs_ours"]
        extra = (f"; sjoin alone {report['sjoin_alone_s']:.3f} s" if "sjoin_alone_s" in report
                 else "")
        print(f"{name:34s} {report['seconds']:8.3f} s {report['points_per_s']:>12,} points/s  "
              f"differs from ours on {vs['disagreements']:,} points "
              f"({vs['on_grid_boundary']:,} on a grid boundary); "
              f"time {report['time_over_ours']}x ours{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
