"""Hotspot analysis on a synthetic town around (117.72, 39.32), 20 km × 15 km: uniform background
incidents plus four planted Gaussian clusters (σ = 150 m)."""

import math
import time

import esda
import h3
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from hypothesis import given, settings
from hypothesis import strategies as st
from libpysal.graph import Graph
from scipy import stats

from spatial import hotspots
from spatial.hotspots import (
    HotspotError,
    emerging_hotspots,
    fdr_bh,
    getis_ord,
    gi_star_numpy,
    hex_counts,
    kde,
    local_moran,
    mann_kendall,
    ring_neighbours,
)

LNG0, LAT0 = 117.72, 39.32
M_PER_DEG_LAT = 111_320.0
M_PER_DEG_LNG = M_PER_DEG_LAT * math.cos(math.radians(LAT0))
HALF_W, HALF_H = 10_000.0, 7_500.0  # metres
TOWN = shapely.box(LNG0 - HALF_W / M_PER_DEG_LNG, LAT0 - HALF_H / M_PER_DEG_LAT,
                   LNG0 + HALF_W / M_PER_DEG_LNG, LAT0 + HALF_H / M_PER_DEG_LAT)
# planted cluster centres, metres east and north of the town centre
CENTRES = {"A": (-6000.0, 3000.0), "B": (5000.0, 3500.0),
           "C": (-4000.0, -4000.0), "D": (5500.0, -3000.0)}
SIGMA_M = 150.0


def to_lnglat(x_m, y_m):
    return LNG0 + np.asarray(x_m) / M_PER_DEG_LNG, LAT0 + np.asarray(y_m) / M_PER_DEG_LAT


def metres_between(lng1, lat1, lng2, lat2):
    return np.hypot((np.asarray(lng1) - lng2) * M_PER_DEG_LNG,
                    (np.asarray(lat1) - lat2) * M_PER_DEG_LAT)


def uniform_town(rng, n):
    return to_lnglat(rng.uniform(-HALF_W, HALF_W, n), rng.uniform(-HALF_H, HALF_H, n))


def cluster(rng, name, n):
    cx, cy = CENTRES[name]
    return to_lnglat(cx + rng.normal(0, SIGMA_M, n), cy + rng.normal(0, SIGMA_M, n))


def centre_lnglat(name):
    lng, lat = to_lnglat(*CENTRES[name])
    return float(lng), float(lat)


def centre_cell(name, resolution):
    lng, lat = centre_lnglat(name)
    return h3.latlng_to_cell(lat, lng, resolution)


@pytest.fixture(scope="module")
def planted():
    """20 000 background incidents and 500 in each planted cluster."""
    rng = np.random.default_rng(7)
    parts = [uniform_town(rng, 20_000)] + [cluster(rng, name, 500) for name in CENTRES]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


@pytest.fixture(scope="module")
def planted_cells(planted):
    return hex_counts(*planted, resolution=9, area=TOWN)


def distance_to_clusters(cells):
    """Metres from each cell's centre to the nearest planted cluster centre."""
    lat, lng = np.array([h3.cell_to_latlng(c) for c in cells]).T
    return np.min([metres_between(lng, lat, *centre_lnglat(n)) for n in CENTRES], axis=0)


def row_of(frame, cell):
    rows = frame[frame["h3"] == cell]
    assert len(rows) == 1
    return rows.iloc[0]


# ---------------------------------------------------------------------------------------------
# kernel density


def test_kde_maxima_are_at_the_planted_clusters(planted):
    surface = kde(*planted)
    peaks = surface.peaks(4, min_distance_m=1000)
    assert len(peaks) == 4
    for name in CENTRES:
        lng, lat = centre_lnglat(name)
        assert metres_between(peaks.geometry.x, peaks.geometry.y, lng, lat).min() < 300, name
    assert surface.crs.to_epsg() == 32650
    min_lng, min_lat, max_lng, max_lat = surface.bounds_wgs84
    assert shapely.box(min_lng, min_lat, max_lng, max_lat).contains(TOWN)
    a, b, c, d, e, f = surface.transform
    xs, ys = surface.cell_centres()
    assert (a * 0.5 + c, e * 0.5 + f) == pytest.approx((xs[0], ys[0]))
    assert (a * 10.5 + c, e * 7.5 + f) == pytest.approx((xs[10], ys[7]))
    background = 20_000 / (2 * HALF_W * 2 * HALF_H / 1e6)  # cases per km²
    assert peaks["density"].min() > 10 * background


def test_kde_integrates_to_the_number_of_points(planted):
    surface = kde(*planted)
    assert surface.n_points == planted[0].size
    assert surface.total == pytest.approx(planted[0].size, rel=0.01)
    weights = np.full(planted[0].size, 2.5)
    assert kde(*planted, weights=weights).total == pytest.approx(2.5 * planted[0].size, rel=0.01)


def test_kde_density_is_in_cases_per_square_kilometre():
    # one point: the peak of a Gaussian of σ = 200 m is 1 / (2π σ²) = 3.98 per km²
    surface = kde([117.72], [39.32], bandwidth_m=200, cell_m=20)
    assert surface.density.max() == pytest.approx(1 / (2 * math.pi * 0.2**2), rel=0.02)
    assert surface.total == pytest.approx(1.0, abs=1e-3)


def test_kde_bbox_cuts_the_grid_and_leaves_the_interior_alone(planted):
    free = kde(*planted)
    west = (TOWN.bounds[0], TOWN.bounds[1], LNG0, TOWN.bounds[3])
    cut = kde(*planted, bbox=west)
    # only the points inside count, and mass spilling over the cut edge is lost
    inside = planted[0] <= LNG0
    assert inside.sum() <= cut.n_points <= inside.sum() + 100  # the envelope is a little wider
    assert cut.total < cut.n_points
    # grids line up (corners on multiples of the cell): far from the cut the two surfaces agree
    col = round((cut.bounds[0] - free.bounds[0]) / free.cell_m)
    row = round((free.bounds[3] - cut.bounds[3]) / free.cell_m)
    a, b = centre_lnglat("A")
    x, y = hotspots._transformers(32650)[0].transform(a, b)
    r, c = int((cut.bounds[3] - y) // cut.cell_m), int((x - cut.bounds[0]) // cut.cell_m)
    assert cut.density[r, c] == pytest.approx(free.density[r + row, c + col], rel=1e-9)


def test_kde_cells_and_contours_are_wgs84_polygons(planted):
    surface = kde(*planted, cell_m=100)
    cells = surface.to_geodataframe(threshold=200)
    assert cells.crs.to_epsg() == 4326
    assert len(cells) > 0 and (cells["density"] > 200).all()
    assert len(surface.to_geodataframe()) == surface.density.size
    assert cells.to_crs(32650).area.to_numpy() == pytest.approx(100 * 100, rel=1e-6)
    rings = surface.contours([50, 400])
    assert rings["level"].tolist() == [50, 400]
    low, high = rings.geometry
    assert low.buffer(1e-9).contains(high)
    assert rings["area_km2"].iloc[0] > rings["area_km2"].iloc[1] > 0
    for name in CENTRES:
        assert high.contains(shapely.Point(*centre_lnglat(name))), name
    assert surface.contours([1e9]).geometry.iloc[0].is_empty


@pytest.mark.parametrize("args, kwargs", [
    (([], []), {}),
    (([117.72], [39.32]), {"bandwidth_m": 0}),
    (([117.72], [39.32]), {"bbox": (117.8, 39.3, 117.7, 39.4)}),
    (([117.72, 117.73], [39.32]), {}),
])
def test_kde_rejects_what_it_cannot_grid(args, kwargs):
    with pytest.raises(HotspotError):
        kde(*args, **kwargs)


def test_kde_drops_unusable_points():
    surface = kde([117.72, np.nan, 117.73, 500.0], [39.32, 39.32, np.inf, 39.32])
    assert surface.n_points == 1


# ---------------------------------------------------------------------------------------------
# H3 counts


@pytest.fixture(scope="module")
def dense():
    """200 000 incidents: half background, half in the clusters."""
    rng = np.random.default_rng(11)
    parts = [uniform_town(rng, 100_000)] + [cluster(rng, name, 25_000) for name in CENTRES]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


@pytest.mark.parametrize("resolution", [7, 8, 9])
def test_fast_binning_gives_the_cells_of_one_h3_call_per_point(dense, resolution, monkeypatch):
    calls = []
    reference = hotspots._latlng_cells

    def counting(lng, lat, res):
        calls.append(lng.size)
        return reference(lng, lat, res)

    monkeypatch.setattr(hotspots, "_latlng_cells", counting)
    fast = hex_counts(*dense, resolution=resolution)
    asked = sum(calls)
    exact = hex_counts(*dense, resolution=resolution, exact=True)
    assert_geodataframe_equal(fast, exact)
    assert fast["count"].sum() == dense[0].size
    assert asked < 0.6 * dense[0].size  # the squares did save h3 calls


@settings(max_examples=30, deadline=None)
@given(
    lat=st.floats(-89.0, 89.0),
    lng=st.floats(-180.0, 179.999),
    resolution=st.integers(2, 11),
    seed=st.integers(0, 2**32 - 1),
)
def test_fast_binning_is_exact_anywhere_on_earth(lat, lng, resolution, seed):
    rng = np.random.default_rng(seed)
    reach = 3 * h3.average_hexagon_edge_length(resolution, "m")
    dy = rng.uniform(-reach, reach, 12_000) / M_PER_DEG_LAT
    cos = max(math.cos(math.radians(lat)), 0.02)
    dx = rng.uniform(-reach, reach, 12_000) / (M_PER_DEG_LAT * cos)
    lats = np.clip(lat + dy, -90, 90)
    lngs = (lng + dx + 180.0) % 360.0 - 180.0
    assert_geodataframe_equal(hex_counts(lngs, lats, resolution=resolution),
                              hex_counts(lngs, lats, resolution=resolution, exact=True))


@pytest.mark.parametrize("lat, lng", [
    (64.7, 10.5),  # a resolution-3 pentagon (base cell 38's centre)
    (-16.5, 179.999),  # the antimeridian, Fiji
    (89.95, 0.0),  # the pole
])
def test_fast_binning_at_awkward_places(lat, lng):
    rng = np.random.default_rng(3)
    lats = np.clip(lat + rng.normal(0, 0.05, 15_000), -90, 90)
    lngs = (lng + rng.normal(0, 0.05, 15_000) + 180.0) % 360.0 - 180.0
    for resolution in (5, 7):
        assert_geodataframe_equal(hex_counts(lngs, lats, resolution=resolution),
                                  hex_counts(lngs, lats, resolution=resolution, exact=True))


def test_pentagon_case_is_a_pentagon():
    cell = h3.latlng_to_cell(64.7, 10.5, 3)
    assert h3.is_pentagon(cell)


def test_area_fills_the_study_area_with_empty_cells(planted, planted_cells):
    expected = set(h3.geo_to_cells(TOWN, 9))
    present = set(planted_cells["h3"])
    assert expected <= present
    assert planted_cells["count"].sum() == planted[0].size
    assert (planted_cells["count"] == 0).sum() > 0
    occupied = set(hex_counts(*planted, resolution=9)["h3"])
    assert present == expected | occupied  # cells with points outside the area are kept
    assert planted_cells["h3"].is_monotonic_increasing


def test_counts_geometry_and_weights():
    lng, lat = [117.72, 117.72001, 117.74], [39.32, 39.32001, 39.33]
    gdf = hex_counts(lng, lat, weights=[1.5, 2.0, 4.0])
    assert gdf["count"].tolist() == [3.5, 4.0]
    assert gdf.crs.to_epsg() == 4326
    cell = h3.latlng_to_cell(39.32, 117.72, 9)
    assert gdf.geometry[0].contains(shapely.Point(117.72, 39.32))
    assert gdf.geometry[0].area == pytest.approx(shapely.Polygon(
        [(b, a) for a, b in h3.cell_to_boundary(cell)]).area)


def test_counts_drop_unusable_points_and_take_empty_input():
    gdf = hex_counts([117.72, np.nan, 117.72], [39.32, 39.32, 95.0])
    assert gdf["count"].tolist() == [1]
    empty = hex_counts([], [])
    assert len(empty) == 0 and empty.crs.to_epsg() == 4326
    with pytest.raises(HotspotError):
        hex_counts([1.0], [1.0], resolution=16)
    with pytest.raises(HotspotError):
        hex_counts([1.0, 2.0], [1.0])


# ---------------------------------------------------------------------------------------------
# neighbours, Gi*, FDR


def test_ring_neighbours():
    centre = h3.latlng_to_cell(LAT0, LNG0, 9)
    cells = sorted(h3.grid_disk(centre, 3))
    i = cells.index(centre)
    one, two = ring_neighbours(cells, 1), ring_neighbours(cells, 2)
    assert one[i].sum() == 6 and two[i].sum() == 18
    assert (one != one.T).nnz == 0 and one.diagonal().sum() == 0
    edge = cells.index(h3.grid_ring(centre, 3)[0])
    assert one[edge].sum() < 6  # cells not listed are absent
    with pytest.raises(HotspotError):
        ring_neighbours([centre, centre])
    with pytest.raises(HotspotError):
        ring_neighbours([centre, h3.cell_to_parent(centre, 8)])


PATCH = sorted(h3.grid_disk(h3.latlng_to_cell(LAT0, LNG0, 9), 4))  # 61 cells


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.floats(0, 1000, allow_nan=False), min_size=len(PATCH), max_size=len(PATCH)),
    drop=st.sets(st.integers(0, len(PATCH) - 1), max_size=15),
    k_ring=st.integers(1, 2),
)
def test_gi_star_numpy_agrees_with_esda(values, drop, k_ring):
    keep = [i for i in range(len(PATCH)) if i not in drop]
    cells = [PATCH[i] for i in keep]
    y = np.array([values[i] for i in keep])
    if np.ptp(y) < 1e-6 * max(np.abs(y).max(), 1.0):
        return  # constant values: esda divides by zero
    w = ring_neighbours(cells, k_ring)
    expected = esda.G_Local(y, Graph.from_sparse(w), transform="B", star=True, permutations=0).Zs
    mine = gi_star_numpy(y, w)
    finite = np.isfinite(expected)  # esda gives nan where a neighbourhood is every cell
    np.testing.assert_allclose(mine[finite], expected[finite], rtol=1e-6, atol=1e-6)
    assert (mine[~finite] == 0).all()


def test_gi_star_numpy_columns_are_separate_runs():
    w = ring_neighbours(PATCH)
    rng = np.random.default_rng(0)
    values = rng.poisson(5, (len(PATCH), 3)).astype(float)
    together = gi_star_numpy(values, w)
    for k in range(3):
        np.testing.assert_allclose(together[:, k], gi_star_numpy(values[:, k], w))
    # pooled: one population, so equal columns give equal z whatever the other columns hold
    doubled = np.column_stack([values[:, 0], values[:, 0], 2 * values[:, 0]])
    pooled = gi_star_numpy(doubled, w, pooled=True)
    np.testing.assert_allclose(pooled[:, 0], pooled[:, 1])
    assert np.abs(pooled[:, 2]).max() > np.abs(pooled[:, 0]).max()


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=200))
def test_fdr_bh_is_scipys_benjamini_hochberg(p):
    np.testing.assert_allclose(fdr_bh(p), stats.false_discovery_control(p, method="bh"), rtol=1e-12)


def test_getis_ord_puts_the_planted_clusters_in_hot_spots(planted_cells):
    gi = getis_ord(planted_cells)
    for name in CENTRES:
        row = row_of(gi, centre_cell(name, 9))
        assert row["class"] in ("hot-99", "hot-95"), name
        assert row["gi_z"] > 3
    assert set(gi["class"]) <= set(hotspots.GI_CLASSES)
    # the class follows from p_fdr and the sign of z
    for level, suffix in ((0.01, "99"), (0.05, "95"), (0.10, "90")):
        hot = (gi["p_fdr"] < level) & (gi["gi_z"] > 0)
        assert gi.loc[hot, "class"].str.startswith("hot-").all()
        assert (gi.loc[hot, "class"].str[4:].astype(int) >= int(suffix)).all()
    assert (gi.loc[gi["p_fdr"] >= 0.10, "class"] == "none").all()
    assert (gi["significant"] == (gi["p_fdr"] < 0.05)).all()
    np.testing.assert_allclose(gi["p"], 2 * stats.norm.sf(np.abs(gi["gi_z"])))
    # the study area's empty cells far from the clusters are not hot
    far = gi[(gi["count"] == 0) & (gi["gi_z"] < 0)]
    assert len(far) > 0 and not far["class"].str.startswith("hot").any()


def test_getis_ord_on_points_without_structure_stays_within_chance():
    hot_fdr, hot_raw = [], []
    for seed in range(20):
        rng = np.random.default_rng(1000 + seed)
        gi = getis_ord(hex_counts(*uniform_town(rng, 20_000), resolution=9, area=TOWN))
        positive = gi["gi_z"] > 0
        hot_fdr.append(((gi["p_fdr"] < 0.05) & positive).mean())
        hot_raw.append(((gi["p"] < 0.05) & positive).mean())
    assert np.mean(hot_fdr) <= 0.005  # well under the 2.5 % chance allows one tail
    assert 0.01 < np.mean(hot_raw) < 0.045  # the uncorrected two-sided p-values are calibrated


def test_getis_ord_with_permutations(planted_cells):
    gi = getis_ord(planted_cells, permutations=999, seed=1)
    for name in CENTRES:
        row = row_of(gi, centre_cell(name, 9))
        assert row["gi_z"] > 3 and row["p"] <= 0.004, name
    assert (gi["p"] >= 2 / 1000).all() and (gi["p"] <= 1).all()


def test_getis_ord_degenerate_inputs():
    cells = hex_counts([117.72] * 3 + [117.74], [39.32] * 3 + [39.33])
    flat = cells.assign(count=5)
    gi = getis_ord(flat)
    assert (gi["gi_z"] == 0).all() and (gi["p"] == 1).all() and (gi["class"] == "none").all()
    assert (getis_ord(cells)["class"] == "none").all()  # two cells: no test
    with pytest.raises(HotspotError):
        getis_ord(cells.drop(columns="h3"))
    with pytest.raises(HotspotError):
        getis_ord(cells, value="cases")


# ---------------------------------------------------------------------------------------------
# local Moran


def test_local_moran_finds_high_high_at_the_clusters(planted_cells):
    lm = local_moran(planted_cells, permutations=999, seed=0)
    for name in CENTRES:
        row = row_of(lm, centre_cell(name, 9))
        assert row["moran_q"] == "HH" and row["moran_p"] <= 0.01 and row["moran_i"] > 0, name
    assert set(lm["moran_q"]) <= {"HH", "LH", "LL", "HL", "none"}
    significant_hh = lm[(lm["moran_q"] == "HH") & (lm["moran_p"] <= 0.01)]
    assert np.median(distance_to_clusters(significant_hh["h3"])) < 1000  # not scattered


def test_local_moran_leaves_an_isolated_cell_alone(planted_cells):
    far = h3.latlng_to_cell(LAT0 + 1.0, LNG0 + 1.0, 9)
    island = hex_counts([LNG0 + 1.0] * 50, [LAT0 + 1.0] * 50)
    cells = pd.concat([planted_cells, island], ignore_index=True)
    lm = local_moran(cells, permutations=99)
    row = row_of(lm, far)
    assert (row["moran_i"], row["moran_p"], row["moran_q"]) == (0.0, 1.0, "none")
    with pytest.raises(HotspotError):
        local_moran(planted_cells, permutations=0)


# ---------------------------------------------------------------------------------------------
# Mann–Kendall


def test_mann_kendall_known_examples():
    t = mann_kendall([1, 2, 3, 4, 5])  # S = 10, Var = 5·4·15/18
    assert (t.s, t.var_s) == (10.0, pytest.approx(50 / 3))
    assert t.z == pytest.approx(9 / math.sqrt(50 / 3)) and t.p == pytest.approx(0.02749, abs=1e-5)
    # one tie of two: Var = (4·3·13 − 2·1·9) / 18 = 138 / 18
    t = mann_kendall([1, 2, 2, 3])
    assert (t.s, t.var_s) == (5.0, pytest.approx(138 / 18))
    assert t.z == pytest.approx(4 / math.sqrt(138 / 18))
    down = mann_kendall([5, 3, 4, 1, 2, 0, -1])  # S = −17
    assert down.s == -17 and down.z < 0
    assert mann_kendall([2, 2, 2, 2]).p == 1.0
    assert mann_kendall([1, 2]).p == 1.0  # too short to test


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-5, 5), min_size=3, max_size=30))
def test_mann_kendall_sign_agrees_with_kendalls_tau(series):
    t = mann_kendall(series)
    tau = stats.kendalltau(np.arange(len(series)), series).statistic
    if np.isnan(tau):
        assert t.s == 0
    else:
        assert np.sign(t.s) == np.sign(tau)
    assert 0 <= t.p <= 1


def test_mann_kendall_rows_are_separate_series():
    rng = np.random.default_rng(2)
    rows = rng.normal(size=(5, 12)).round(1)
    together = mann_kendall(rows)
    for i, row in enumerate(rows):
        single = mann_kendall(row)
        assert together.s[i] == single.s and together.var_s[i] == single.var_s
        assert together.z[i] == single.z


# ---------------------------------------------------------------------------------------------
# emerging hot spots

START = pd.Timestamp("2025-01-06")


def monthly_incidents(seed, rates_by_cluster, *, background=2000, months=12):
    """Incidents in ``months`` slices of 30 days: uniform background plus clusters at set counts."""
    rng = np.random.default_rng(seed)
    lng, lat, month = [], [], []
    for m in range(months):
        parts = [uniform_town(rng, background)]
        parts += [cluster(rng, name, int(round(rates[m])))
                  for name, rates in rates_by_cluster.items()]
        for part in parts:
            lng.append(part[0])
            lat.append(part[1])
            month.append(np.full(part[0].size, m))
    month = np.concatenate(month)
    times = START + pd.to_timedelta(month * 30 + rng.uniform(0, 30, month.size), unit="D")
    return np.concatenate(lng), np.concatenate(lat), times


def test_emerging_hotspot_categories():
    twelve = np.ones(12)
    lng, lat, times = monthly_incidents(0, {
        "A": np.linspace(120, 300, 12),  # grows
        "B": 200 * twelve,  # steady
        "C": np.r_[np.zeros(11), 200],  # appears in the last month
        "D": np.linspace(300, 120, 12),  # fades
    })
    eh = emerging_hotspots(lng, lat, times, resolution=8, slice_days=30, start=START,
                           end=START + pd.Timedelta(days=360), area=TOWN)
    assert eh.columns.tolist() == ["h3", "slices_hot", "trend_z", "trend_p", "category", "geometry"]
    assert len(eh.attrs["slices"]) == 12 and eh.crs.to_epsg() == 4326
    got = {name: row_of(eh, centre_cell(name, 8)) for name in CENTRES}
    assert got["A"]["category"] == "intensifying" and got["A"]["trend_z"] > 0
    assert got["B"]["category"] == "persistent" and got["B"]["slices_hot"] == 12
    assert got["C"]["category"] == "new" and got["C"]["slices_hot"] == 1
    assert got["D"]["category"] == "diminishing" and got["D"]["trend_z"] < 0
    # away from the clusters, (almost) nothing
    away = eh[distance_to_clusters(eh["h3"]) > 2500]
    assert (away["category"] == "none").mean() > 0.97


def test_standardising_per_slice_ignores_a_town_wide_rise():
    growth = np.linspace(1.0, 2.5, 12)  # everything, background included, grows alike
    lng, lat, times = monthly_incidents(4, {"B": 150 * growth}, background=0)
    rng = np.random.default_rng(5)
    for m, factor in enumerate(growth):
        more = uniform_town(rng, int(1500 * factor))
        lng, lat = np.r_[lng, more[0]], np.r_[lat, more[1]]
        days = m * 30 + rng.uniform(0, 30, more[0].size)
        times = times.append(pd.DatetimeIndex(START + pd.to_timedelta(days, unit="D")))
    kwargs = dict(resolution=8, start=START, end=START + pd.Timedelta(days=360), area=TOWN)
    cube = row_of(emerging_hotspots(lng, lat, times, **kwargs), centre_cell("B", 8))
    per_slice = row_of(emerging_hotspots(lng, lat, times, standardise="slice", **kwargs),
                       centre_cell("B", 8))
    assert cube["category"] == "intensifying"
    assert per_slice["category"] == "persistent"


@pytest.mark.parametrize("pattern, trend_z, category", [
    ("...........H", 0.0, "new"),
    (".........HHH", 3.0, "consecutive"),
    ("..H......HHH", 3.0, "sporadic"),
    ("H.H.H.H.H..H", 0.0, "sporadic"),
    ("HHHHHHHHHHHH", 0.0, "persistent"),
    ("HHHHHHHHHHH.", 0.0, "persistent"),  # ESRI's "historical"
    (".HHHHHHHHHHH", 3.0, "intensifying"),
    ("HHHHHHHHHHHH", -3.0, "diminishing"),
    ("HHHHHHHHHH..", 0.0, "none"),
    ("HHHHHHHHHH.H", 0.0, "persistent"),  # 11 of 12 is 90 %
    ("HHHHHHHHH..H", 0.0, "sporadic"),
    ("............", 0.0, "none"),
])
def test_emerging_category_rules(pattern, trend_z, category):
    hot = np.array([[c == "H" for c in pattern]])
    p = 2 * stats.norm.sf(abs(trend_z))
    got = hotspots._emerging_categories(hot, np.array([trend_z]), np.array([p]), 0.05)
    assert got[0] == category


def test_emerging_slices_take_whole_periods_back_from_the_end():
    tz = "Asia/Shanghai"
    times = pd.DatetimeIndex(["2026-01-01 08:00", "2026-02-15 12:00", "2026-03-30 23:00"])
    times = times.tz_localize(tz)
    eh = emerging_hotspots([117.72] * 3, [39.32] * 3, times, slice_days=30)
    # 1 Jan to the midnight after 30 Mar is 89 days: two whole slices, the oldest 29 days left out
    slices = eh.attrs["slices"]
    assert [(a.isoformat(), b.isoformat()) for a, b in slices] == [
        ("2026-01-30T00:00:00+08:00", "2026-03-01T00:00:00+08:00"),
        ("2026-03-01T00:00:00+08:00", "2026-03-31T00:00:00+08:00"),
    ]
    eh = emerging_hotspots([117.72] * 3, [39.32] * 3, times, slice_days=30,
                           start="2026-01-01", end="2026-04-01")
    assert len(eh.attrs["slices"]) == 3  # 90 days
    with pytest.raises(HotspotError):
        emerging_hotspots([117.72], [39.32], times[:1], slice_days=30)  # less than one slice
    with pytest.raises(HotspotError):
        emerging_hotspots([117.72, 117.73], [39.32, 39.32], times, slice_days=30)
    with pytest.raises(HotspotError):
        emerging_hotspots([117.72] * 3, [39.32] * 3, times, standardise="month")


# ---------------------------------------------------------------------------------------------
# timings, not asserted: python tests/unit/test_hotspots.py


def _report_timings(n=1_000_000):
    rng = np.random.default_rng(0)
    lng, lat = uniform_town(rng, n)
    kde(lng[:1000], lat[:1000])
    getis_ord(hex_counts(lng[:1000], lat[:1000], area=TOWN))  # imports esda
    address = rng.integers(0, 20_000, n)
    cases = [("uniform", (lng, lat)), ("on 20 000 addresses", (lng[address], lat[address]))]
    for label, (x, y) in cases:
        t0 = time.perf_counter()
        kde(x, y)
        t1 = time.perf_counter()
        cells = hex_counts(x, y, resolution=9, area=TOWN)
        t2 = time.perf_counter()
        getis_ord(cells)
        t3 = time.perf_counter()
        hex_counts(x, y, resolution=9, area=TOWN, exact=True)
        t4 = time.perf_counter()
        print(f"{n:,} points {label}: kde {t1 - t0:.2f} s; hex_counts r9 {t2 - t1:.2f} s "
              f"({len(cells)} cells; exact=True {t4 - t3:.2f} s); getis_ord {t3 - t2:.2f} s")


if __name__ == "__main__":
    _report_timings()


def test_emerging_hotspots_take_times_in_any_time_unit():
    """Times read from PostgreSQL arrive as datetime64[us, tz]: the slices must not care."""
    t0 = pd.Timestamp("2026-01-01", tz="Asia/Shanghai")
    days = np.arange(120)
    lng = np.r_[np.full(120, 117.72), 117.70 + (days % 10) * 0.004]
    lat = np.r_[np.full(120, 39.32), 39.30 + (days // 10) * 0.004]
    times = pd.Series(np.r_[t0 + pd.to_timedelta(days, "D"), t0 + pd.to_timedelta(days, "D")])
    in_ns = hotspots.emerging_hotspots(lng, lat, times.dt.as_unit("ns"), slice_days=30)
    in_us = hotspots.emerging_hotspots(lng, lat, times.dt.as_unit("us"), slice_days=30)
    assert len(in_us) == len(in_ns) > 0
    assert (in_us.slices_hot.to_numpy() == in_ns.slices_hot.to_numpy()).all()
