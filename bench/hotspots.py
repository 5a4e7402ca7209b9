"""Benchmark: hotspots at 1M cases — Gi* over H3 cells and a KDE surface, next to naive peers.

Uses (or builds) the 1M-case database of ``dispatch_viewport.py`` (``wangge_bench_viewport``),
loads the case positions once (binary COPY into numpy; timed, not part of the analysis) and the
town outline, then measures in one run, each ``-n`` times after one warm-up (p50, min, max; the
warm-up call is reported as ``first``: the very first Gi* call imports esda and libpysal):

Gi* over H3 cells, resolutions 9 and 8 (target < 3 s for 1M cases):

- ours, pure: ``spatial.hotspots.hex_counts(area=town)`` + ``getis_ord`` on all cases;
- ours, the API path in-process: ``webmap.services.hotspots.cells`` as a district reader (all
  cases, whole period): the SQL count on 20 m squares + ``hex_counts(weights=)`` +
  ``getis_ord``; and ``hotspots`` (the same plus the GeoJSON dict); then its steps one by one
  (``api_breakdown``: the same statement, ``np.array`` of the rows as the service does it, and
  of the rows made tuples first);
- ours over HTTP: ``GET /api/v1/hotspots`` (whole period) against ``wangge serve`` (waitress);
- peer, naive: one ``h3.latlng_to_cell`` per point in a Python loop, counts by pandas, the town's
  empty cells from ``h3.geo_to_cells``, cell polygons → ``libpysal.weights.Queen.from_dataframe``,
  ``esda.G_Local(star=True, transform="B")``, Benjamini–Hochberg by scipy. Its z-scores are
  compared with ours cell by cell.

KDE surface, Gaussian kernel of 200 m on 50 m cells (target < 2 s for 1M cases):

- ours: ``spatial.hotspots.kde`` on all cases;
- peer: ``scipy.stats.gaussian_kde`` with the same isotropic 200 m kernel in the same UTM zone.
  It costs O(points × cells), so it is timed (once each) on ``--kde-sample`` points over every
  cell of our 1M grid, and on all points over about ``--kde-cells`` cells of that grid; each is
  extrapolated to all points × all cells (linear in both). Agreement: our surface of the sample
  against gaussian_kde of the sample at every cell (Pearson r of the densities, > 0.99
  required), and our 1M surface against gaussian_kde of all points at the sampled cells.

    python bench/hotspots.py [--incidents 1000000] [--reuse] [-n 5] [--no-http]
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import h3
import numpy as np
import pandas as pd
import requests
from dispatch_viewport import BIN, database, free_port, wait_up
from scipy import stats
from shapely import wkb
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from db.models import Incident
from spatial import hotspots as analysis
from webmap.services import hotspots as service
from webmap.services import incidents

ROOT = Path(__file__).resolve().parents[1]
RESOLUTIONS = (9, 8)
BANDWIDTH_M, CELL_M = 200.0, 50.0
TARGET_GI_S, TARGET_KDE_S = 3.0, 2.0
SINCE = datetime(2000, 1, 1, tzinfo=UTC)  # the whole period: every case
UNTIL = datetime(2100, 1, 1, tzinfo=UTC)
# binary COPY: a 19-byte header, then per row a field count (int16) and each field's length
# (int32) and value (float8), all big-endian; a trailer of -1 (int16)
COPY_ROW = np.dtype([("fields", ">i2"), ("len_x", ">i4"), ("x", ">f8"), ("len_y", ">i4"), ("y", ">f8")])


def timed(fn: Callable, n: int) -> tuple[dict, object]:
    """One warm-up call (``first_s``), then ``n`` timed calls: p50, min, max seconds, and the
    last result. ``fn`` may return ``(result, parts)``, a dict of part timings to take p50s of."""
    def once():
        started = time.perf_counter()
        out = fn()
        return time.perf_counter() - started, out

    def split(out):
        if isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], dict):
            return out
        return out, None

    first, out = once()
    runs, parts = [], {}
    for _ in range(n):
        seconds, out = once()
        runs.append(seconds)
        for key, value in (split(out)[1] or {}).items():
            parts.setdefault(key, []).append(value)
    result = {"first_s": round(first, 3), "p50_s": round(statistics.median(runs), 3),
              "min_s": round(min(runs), 3), "max_s": round(max(runs), 3)}
    if parts:
        result["parts_p50_s"] = {k: round(statistics.median(v), 3) for k, v in parts.items()}
    return result, split(out)[0]


def load_points(url: str) -> tuple[np.ndarray, np.ndarray, object, float]:
    """Longitudes and latitudes of every case (binary COPY), the town outline, and the seconds."""
    engine = create_engine(url)
    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        buf = io.BytesIO()
        raw.cursor().copy_expert(
            "COPY (SELECT ST_X(geom), ST_Y(geom) FROM incidents) TO STDOUT (FORMAT binary)", buf)
        data = buf.getbuffer()
        offset = 19 + int.from_bytes(data[15:19], "big")
        rows = np.frombuffer(data, dtype=COPY_ROW, offset=offset,
                             count=(len(data) - offset - 2) // COPY_ROW.itemsize)
        if not ((rows["fields"] == 2).all() and (rows["len_x"] == 8).all() and (rows["len_y"] == 8).all()):
            raise RuntimeError("unexpected COPY rows")
        lng, lat = rows["x"].astype(float), rows["y"].astype(float)
        del rows, data
    finally:
        raw.close()
    seconds = time.perf_counter() - started
    with engine.connect() as conn:
        town = wkb.loads(bytes(conn.execute(text(
            "SELECT ST_AsBinary(ST_Union(geom)) FROM areas WHERE level = 'town'")).scalar()))
    engine.dispose()
    return lng, lat, town, seconds


# --------------------------------------------------------------------------------------- Gi*

def ours_gi(lng, lat, town, resolution):
    started = time.perf_counter()
    counted = analysis.hex_counts(lng, lat, resolution=resolution, area=town)
    middle = time.perf_counter()
    gi = analysis.getis_ord(counted)
    return gi, {"hex_counts": middle - started, "getis_ord": time.perf_counter() - middle}


def naive_gi(lng, lat, town, resolution):
    """What an analyst would write: one h3 call per point, Queen weights from the polygons, esda."""
    import esda
    import geopandas as gpd
    import libpysal
    import shapely

    started = time.perf_counter()
    ids = [h3.latlng_to_cell(y, x, resolution) for x, y in zip(lng.tolist(), lat.tolist(), strict=True)]
    counts = pd.Series(ids).value_counts()
    t_loop = time.perf_counter()
    empty = sorted(set(h3.geo_to_cells(town, resolution)) - set(counts.index))
    counts = pd.concat([counts, pd.Series(0, index=empty)]).sort_index()
    polygons = [shapely.Polygon([(b, a) for a, b in h3.cell_to_boundary(c)]) for c in counts.index]
    frame = gpd.GeoDataFrame({"h3": counts.index, "count": counts.to_numpy(dtype=float)},
                             geometry=polygons, crs="EPSG:4326")
    w = libpysal.weights.Queen.from_dataframe(frame, use_index=False, silence_warnings=True)
    t_weights = time.perf_counter()
    g = esda.G_Local(frame["count"].to_numpy(), w, transform="B", star=True, permutations=0)
    z = np.asarray(g.Zs, dtype=float)
    p_fdr = stats.false_discovery_control(2.0 * stats.norm.sf(np.abs(z)), method="bh")
    frame["gi_z"], frame["p_fdr"] = z, p_fdr
    done = time.perf_counter()
    return frame, {"h3_loop_and_counts": t_loop - started, "polygons_and_queen": t_weights - t_loop,
                   "g_local_and_fdr": done - t_weights}


def compare_gi(ours, peer) -> dict:
    a = ours.set_index("h3")
    b = peer.set_index("h3").reindex(a.index)
    both = b["gi_z"].notna()
    return {"cells_ours": len(a), "cells_peer": len(peer), "cells_in_both": int(both.sum()),
            "counts_equal": bool((a["count"][both].to_numpy() == b["count"][both].to_numpy()).all()),
            "max_abs_dz": round(float(np.abs(a["gi_z"][both] - b["gi_z"][both]).max()), 9),
            "hot_ours": int(a["class"].str.startswith("hot").sum()),
            "cold_ours": int(a["class"].str.startswith("cold").sum())}


def vs_pure(pure, other) -> dict:
    """How another frame's cells, counts and classes differ from ``pure``'s."""
    a, b = pure.set_index("h3"), other.set_index("h3")
    cells = a.index.union(b.index)
    ca, cb = a["count"].reindex(cells, fill_value=0), b["count"].reindex(cells, fill_value=0)
    both = a.index.intersection(b.index)
    return {"cells": len(b), "cells_pure": len(a), "cells_with_other_count": int((ca != cb).sum()),
            "cases_in_another_cell": int(np.abs(ca - cb).sum() // 2),
            "max_abs_dz": round(float(np.abs(a.loc[both, "gi_z"] - b.loc[both, "gi_z"]).max()), 6),
            "class_differs": int((a.loc[both, "class"] != b.loc[both, "class"]).sum())}


def api_user():
    return SimpleNamespace(role="district", scope_code="120116", id=-1, is_authenticated=True)


def api_cells(engine, resolution):
    with Session(engine) as db:
        return service.cells(db, api_user(), service.Query(since=SINCE, until=UNTIL, resolution=resolution))


def api_geojson(engine, resolution):
    with Session(engine) as db:
        return service.hotspots(db, api_user(), service.Query(since=SINCE, until=UNTIL, resolution=resolution))


def api_breakdown(engine, resolution):
    """The steps of ``service.cells`` timed one by one (its SQL statement, built as ``_squares``
    builds it), and the same path with the rows made tuples before ``np.array``."""
    user, q = api_user(), service.Query(since=SINCE, until=UNTIL, resolution=resolution)
    where = incidents.filter_conditions(user, since=q.since, until=q.until)
    x = func.round(func.ST_X(Incident.geom) / service.SQUARE_DEG)
    y = func.round(func.ST_Y(Incident.geom) / service.SQUARE_DEG)
    with Session(engine) as db:
        started = time.perf_counter()
        rows = db.execute(select(x.label("x"), y.label("y"), func.count().label("n")).where(*where)
                          .group_by(x, y)).all()
        t_sql = time.perf_counter()
        np.array(rows, dtype=float)  # what _squares does
        t_rows = time.perf_counter()
        arr = np.array([tuple(r) for r in rows], dtype=float)
        t_tuples = time.perf_counter()
        area = service._area(db, user)  # noqa: SLF001 - timed on its own
        t_area = time.perf_counter()
    counted = analysis.hex_counts(arr[:, 0] * service.SQUARE_DEG, arr[:, 1] * service.SQUARE_DEG,
                                  resolution=resolution, weights=arr[:, 2], area=area)
    t_hex = time.perf_counter()
    frame = analysis.getis_ord(counted, value="count")
    done = time.perf_counter()
    return (frame, len(rows)), {
        "sql_execute_and_fetch": t_sql - started, "np_array_of_rows": t_rows - t_sql,
        "np_array_of_tuples": t_tuples - t_rows, "area_sql": t_area - t_tuples,
        "hex_counts_weighted": t_hex - t_area, "getis_ord": done - t_hex,
        "path_with_tuples": (t_sql - started) + (done - t_rows)}


def http_hotspots(url: str, n: int, threads: int) -> dict:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench"}
    proc = subprocess.Popen([str(BIN / "wangge"), "serve", "--port", str(port), "--threads", str(threads)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    out = {}
    try:
        wait_up(f"{base}/healthz")
        s = requests.Session()
        token = s.post(f"{base}/api/v1/auth/login", json={"username": "district1", "password": "demo"},
                       timeout=10).json()["token"]
        s.headers["Authorization"] = f"Bearer {token}"
        for resolution in RESOLUTIONS:
            params = {"since": "2000-01-01", "until": "2099-12-31", "resolution": resolution}
            sizes = []

            def get(params=params, sizes=sizes):
                response = s.get(f"{base}/api/v1/hotspots", params=params, timeout=300)
                response.raise_for_status()
                sizes.append(len(response.content))
                return response.json()

            result, body = timed(get, n)
            out[resolution] = {**result, "bytes": max(sizes), "features": len(body["features"]),
                               "cases": body["cases"], "hot": body["hot"], "cold": body["cold"]}
    finally:
        proc.terminate()
        proc.wait(10)
    return out


# --------------------------------------------------------------------------------------- KDE

class FixedKDE(stats.gaussian_kde):
    """gaussian_kde with an isotropic kernel of standard deviation ``h`` (metres). Its public
    ``bw_method`` only scales the data's covariance; this overrides the (private) hook that sets
    the kernel covariance, as scipy 1.17 computes it."""

    def __init__(self, dataset, h: float):
        self._h = float(h)
        super().__init__(dataset)

    def _compute_covariance(self):
        self.factor = self._h
        self.covariance = np.eye(self.d) * self._h**2
        self.cho_cov = np.eye(self.d) * self._h
        self.log_det = 2 * np.log(np.diag(self.cho_cov * np.sqrt(2 * math.pi))).sum()


def peer_density(surface, px, py, rows, cols) -> np.ndarray:
    """gaussian_kde of the points (projected), at the centres of the cells (rows, cols) of
    ``surface``, in cases per km² like ours."""
    xc, yc = surface.cell_centres()
    estimate = FixedKDE(np.vstack([px, py]), BANDWIDTH_M)
    return estimate(np.vstack([xc[cols], yc[rows]])) * px.size * 1e6


def kde_bench(lng, lat, n: int, sample: int, n_cells: int, seed: int = 0) -> dict:
    result, surface = timed(lambda: analysis.kde(lng, lat, bandwidth_m=BANDWIDTH_M, cell_m=CELL_M), n)
    rows_all, cols_all = surface.shape
    total_cells = rows_all * cols_all
    out = {"ours": {**result, "grid": [rows_all, cols_all], "cells": total_cells,
                    "total": round(surface.total, 1), "n_points": surface.n_points}}
    rng = np.random.default_rng(seed)
    forward = analysis._transformers(surface.crs.to_epsg())[0]  # noqa: SLF001 - the same UTM zone
    px, py = forward.transform(lng, lat)

    # peer 1: a sample of points over every cell of our 1M grid
    pick = np.sort(rng.choice(lng.size, size=min(sample, lng.size), replace=False))
    r_idx, c_idx = np.indices(surface.shape).reshape(2, -1)
    started = time.perf_counter()
    peer_sample = peer_density(surface, px[pick], py[pick], r_idx, c_idx)
    t_sample = time.perf_counter() - started
    # our surface of the same sample: its grid corners are multiples of the cell in the same UTM
    # zone, so it is a window of the 1M grid
    mine = analysis.kde(lng[pick], lat[pick], bandwidth_m=BANDWIDTH_M, cell_m=CELL_M)
    if mine.crs != surface.crs:
        raise RuntimeError("the sample's surface is in another UTM zone")
    c0 = round((mine.bounds[0] - surface.bounds[0]) / CELL_M)
    r0 = round((surface.bounds[3] - mine.bounds[3]) / CELL_M)
    window = peer_sample.reshape(surface.shape)[r0:r0 + mine.shape[0], c0:c0 + mine.shape[1]]
    a, b = mine.density.ravel(), window.ravel()
    busy = b > 0.01 * b.max()
    agreement_sample = {
        "points": int(pick.size), "cells": int(a.size),
        "pearson_r": round(float(np.corrcoef(a, b)[0, 1]), 6),
        "pearson_r_cells_above_1pct_of_max": round(float(np.corrcoef(a[busy], b[busy])[0, 1]), 6),
        "peak_ours_per_km2": round(float(a.max()), 1), "peak_peer_per_km2": round(float(b.max()), 1),
        "median_rel_diff_cells_above_1pct": round(float(np.median(np.abs(a[busy] / b[busy] - 1))), 6),
        "total_ours": round(float(a.sum() * mine.cell_area_km2), 2),
        "total_peer_on_grid": round(float(b.sum() * mine.cell_area_km2), 2),
    }

    # peer 2: all points over a random sample of cells (half of them among the busiest 10 %)
    flat = surface.density.ravel()
    busiest = np.flatnonzero(flat >= np.quantile(flat, 0.9))
    chosen = np.unique(np.r_[rng.choice(busiest, n_cells // 2, replace=False),
                             rng.choice(flat.size, n_cells - n_cells // 2, replace=False)])
    started = time.perf_counter()
    peer_cells = peer_density(surface, px, py, chosen // cols_all, chosen % cols_all)
    t_cells = time.perf_counter() - started
    ours_cells = flat[chosen]
    big = peer_cells > 0.01 * flat.max()
    agreement_full = {
        "points": int(lng.size), "cells": int(chosen.size),
        "pearson_r": round(float(np.corrcoef(ours_cells, peer_cells)[0, 1]), 6),
        "max_rel_diff_cells_above_1pct_of_max": round(float(np.max(np.abs(ours_cells[big] / peer_cells[big] - 1))), 6),
    }
    pairs = lng.size * total_cells
    out["peer"] = {
        "sample_points_all_cells": {
            "points": int(pick.size), "cells": total_cells, "seconds": round(t_sample, 3),
            "extrapolated_1m_all_cells_s": round(t_sample * pairs / (pick.size * total_cells), 1)},
        "all_points_sample_cells": {
            "points": int(lng.size), "cells": int(chosen.size), "seconds": round(t_cells, 3),
            "extrapolated_1m_all_cells_s": round(t_cells * pairs / (lng.size * chosen.size), 1)},
    }
    out["agreement_sample"] = agreement_sample
    out["agreement_1m_at_sample_cells"] = agreement_full
    return out


# --------------------------------------------------------------------------------------- main

def print_table(results: dict) -> None:
    gi = results["gi"]
    print(f"\n{'what':44} {'ours p50 s':>10} {'first s':>8} {'peer p50 s':>10} {'target':>7}")
    for r in RESOLUTIONS:
        g = gi[f"res{r}"]
        naive = g["peer_naive"]
        peer = naive.get("extrapolated_all_points_s", naive["p50_s"])
        rows = [("pure: hex_counts + getis_ord", g["ours_pure"]),
                ("API: service.cells (SQL squares)", g["ours_api_cells"]),
                ("API: service.hotspots (+ GeoJSON)", g["ours_api_geojson"])]
        if "ours_http" in g:
            rows.append(("HTTP GET /api/v1/hotspots", g["ours_http"]))
        for label, res in rows:
            ok = "ok" if res["p50_s"] < TARGET_GI_S else "MISS"
            print(f"Gi* res {r} {label:36} {res['p50_s']:10.3f} {res['first_s']:8.3f} {peer:10.3f} "
                  f"{'< 3 s':>7}  {ok}")
        b = g["api_breakdown"]
        print(f"  API steps (p50 s): SQL + fetch {b['sql_execute_and_fetch']}, np.array(Row list) "
              f"{b['np_array_of_rows']} ({b['squares']} squares), np.array(tuples) {b['np_array_of_tuples']}, "
              f"hex_counts {b['hex_counts_weighted']}, getis_ord {b['getis_ord']}; "
              f"path with tuples {b['path_with_tuples']}")
        extra = f" (on {naive['points']} points, extrapolated)" if "points" in naive else ""
        print(f"  peer: naive h3 loop + Queen + esda.G_Local{extra}; steps {naive['parts_p50_s']}")
        print(f"  agreement ours/peer: {g['agreement']}")
        print(f"  API vs pure: {g['ours_api_cells']['vs_pure']}")
    k = results["kde"]
    p1, p2 = k["peer"]["sample_points_all_cells"], k["peer"]["all_points_sample_cells"]
    ok = "ok" if k["ours"]["p50_s"] < TARGET_KDE_S else "MISS"
    print(f"{'KDE 200 m on ' + str(k['ours']['cells']) + ' cells of 50 m':52} {k['ours']['p50_s']:10.3f} "
          f"{k['ours']['first_s']:8.3f} {p1['extrapolated_1m_all_cells_s']:10.1f} {'< 2 s':>7}  {ok}")
    print(f"  peer gaussian_kde, extrapolated: {p1['points']} points × {p1['cells']} cells took {p1['seconds']} s "
          f"→ {p1['extrapolated_1m_all_cells_s']} s; {p2['points']} points × {p2['cells']} cells took "
          f"{p2['seconds']} s → {p2['extrapolated_1m_all_cells_s']} s")
    r_ok = "ok" if k["agreement_sample"]["pearson_r"] > 0.99 else "MISS"
    print(f"  agreement: sample r = {k['agreement_sample']['pearson_r']} (> 0.99: {r_ok}); "
          f"1M at the sampled cells r = {k['agreement_1m_at_sample_cells']['pearson_r']}")
    print(f"load (not timed above): COPY of {results['load']['points']} points into numpy "
          f"{results['load']['copy_to_numpy_s']:.3f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="keep the scratch database if it has N incidents")
    parser.add_argument("-n", type=int, default=5, help="timed calls after the warm-up")
    parser.add_argument("--no-http", action="store_true", help="skip GET /api/v1/hotspots")
    parser.add_argument("--threads", type=int, default=4, help="waitress threads")
    parser.add_argument("--naive-points", type=int, default=0,
                        help="run the naive Gi* on this many points (default: all), extrapolating its loop")
    parser.add_argument("--kde-sample", type=int, default=10_000, help="points of the gaussian_kde sample")
    parser.add_argument("--kde-cells", type=int, default=400, help="grid cells for gaussian_kde on all points")
    args = parser.parse_args()
    os.environ.setdefault("WANGGE_HOME", str(ROOT))
    url = database(args.incidents, args.reuse)
    results: dict = {"date": datetime.now().date().isoformat(), "incidents": args.incidents, "repeats": args.n,
                     "machine_cores": os.cpu_count(), "load_avg_start": [round(v, 2) for v in os.getloadavg()]}

    lng, lat, town, load_s = load_points(url)
    results["load"] = {"points": int(lng.size), "copy_to_numpy_s": round(load_s, 3)}
    print(f"loaded {lng.size} points in {load_s:.2f} s", file=sys.stderr)

    gi = results["gi"] = {}
    ours_frames = {}
    for r in RESOLUTIONS:  # first: the first getis_ord call imports esda and libpysal
        res, ours_frames[r] = timed(lambda r=r: ours_gi(lng, lat, town, r), args.n)
        gi[f"res{r}"] = {"ours_pure": res}
        print(f"ours Gi* res {r}: {res}", file=sys.stderr)

    engine = create_engine(url, connect_args={"options": "-c jit=off"})  # as the app's engine
    for r in RESOLUTIONS:
        res, frame = timed(lambda r=r: api_cells(engine, r), args.n)
        gi[f"res{r}"]["ours_api_cells"] = {**res, "vs_pure": vs_pure(ours_frames[r], frame)}
        res, body = timed(lambda r=r: api_geojson(engine, r), args.n)
        gi[f"res{r}"]["ours_api_geojson"] = {**res, "features": len(body["features"]), "cases": body["cases"],
                                            "hot": body["hot"], "cold": body["cold"]}
        res, (fixed, squares) = timed(lambda r=r: api_breakdown(engine, r), args.n)
        gi[f"res{r}"]["api_breakdown"] = {"squares": squares, **res["parts_p50_s"],
                                          "same_as_service": vs_pure(frame, fixed)}
        print(f"ours API res {r}: {gi[f'res{r}']['ours_api_cells']} {gi[f'res{r}']['api_breakdown']}",
              file=sys.stderr)
    engine.dispose()

    if not args.no_http:
        for r, res in http_hotspots(url, args.n, args.threads).items():
            gi[f"res{r}"]["ours_http"] = res
            print(f"ours HTTP res {r}: {res}", file=sys.stderr)

    m = min(args.naive_points or lng.size, lng.size)
    for r in RESOLUTIONS:
        res, frame = timed(lambda r=r, m=m: naive_gi(lng[:m], lat[:m], town, r), args.n)
        if m < lng.size:  # the loop is linear in the points; the rest depends on the cells only
            loop = res["parts_p50_s"]["h3_loop_and_counts"]
            res["extrapolated_all_points_s"] = round(res["p50_s"] + loop * (lng.size / m - 1), 3)
            res["points"] = m
            mine = analysis.getis_ord(analysis.hex_counts(lng[:m], lat[:m], resolution=r, area=town))
        else:
            mine = ours_frames[r]
        gi[f"res{r}"]["peer_naive"] = res
        gi[f"res{r}"]["agreement"] = compare_gi(mine, frame)
        print(f"naive Gi* res {r}: {res} {gi[f'res{r}']['agreement']}", file=sys.stderr)

    results["kde"] = kde_bench(lng, lat, args.n, args.kde_sample, args.kde_cells)
    print(f"KDE: {results['kde']}", file=sys.stderr)
    results["load_avg_end"] = [round(v, 2) for v in os.getloadavg()]
    print(json.dumps(results, ensure_ascii=False, indent=1))
    print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
