"""Incident hotspots (热点): kernel density, H3 hexagon counts, Getis–Ord Gi*, local Moran's I and
emerging hot spots over time.

Pure analytics, no I/O: callers select the incidents (by category, period, area) and pass arrays;
running a function once per category is a dictionary comprehension over boolean masks. Points come
in WGS84 (EPSG:4326) longitude/latitude degrees (convert GCJ-02/BD-09 phone positions first with
:func:`spatial.crs.to_wgs84`); points with a non-finite or out-of-range coordinate are dropped.
Every GeoDataFrame returned is in EPSG:4326, one row per H3 cell (``h3``: the cell id as a string,
sorted) or per density cell. Distances and densities are computed in metres in the UTM zone of the
data (:func:`spatial.patrols.local_metric_crs`); densities are in cases per km².

The statistics, in one place:

* **Gi\\*** (Getis & Ord 1992; Ord & Getis 1995), the star form: a cell's own value is part of
  its neighbourhood. Neighbours are the cells within ``k_ring`` H3 steps (binary weights, self
  weight 1); cells missing from the frame count as absent, not as zero, so pass ``area=`` to
  :func:`hex_counts` to make the empty cells of the study area exist. The z-score is
  ``(Σ_j w_ij x_j − x̄ W_i) / (s √((n S1_i − W_i²)/(n − 1)))`` with ``x̄``, ``s`` the mean and
  population standard deviation of all ``n`` cells, ``W_i = Σ_j w_ij``, ``S1_i = Σ_j w_ij²``.
* **p-values** are two-sided, from the normal distribution (or from permutations when asked).
  Multiple testing is handled with Benjamini–Hochberg adjusted p-values over all cells
  (:func:`fdr_bh`, the same numbers as ``scipy.stats.false_discovery_control(p, method="bh")``;
  ``esda.fdr`` returns a single cut-off, and falls back to Bonferroni when nothing is rejected,
  so it is not used). Classes: ``hot-99``/``hot-95``/``hot-90`` when the adjusted p is below
  0.01/0.05/0.10 and z > 0, ``cold-…`` likewise with z < 0, else ``none``.
* **Mann–Kendall** trend test (:func:`mann_kendall`): S with the tie-corrected variance, the
  continuity-corrected z and its two-sided normal p-value.
* **Emerging hot spots** (:func:`emerging_hotspots`): Gi* per time slice against the mean and
  spread of the whole space-time cube, Mann–Kendall on each cell's z series, and a simplified
  form of ESRI's categories, spelled out in that function's docstring.

H3 binning is exact (the cells h3 itself gives) and, for many points, faster than one h3 call per
point: see :func:`hex_counts`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from typing import NamedTuple

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from h3.api import basic_int as h3i
from pyproj import CRS, Transformer
from scipy import ndimage, sparse, stats
from shapely.geometry import MultiPolygon, Polygon

from spatial.patrols import local_metric_crs

__all__ = [
    "EMERGING_CATEGORIES",
    "GI_CLASSES",
    "HotspotError",
    "KDESurface",
    "TrendTest",
    "emerging_hotspots",
    "fdr_bh",
    "getis_ord",
    "gi_star_numpy",
    "hex_counts",
    "kde",
    "local_moran",
    "mann_kendall",
    "ring_neighbours",
]

GI_CLASSES = ("hot-99", "hot-95", "hot-90", "none", "cold-90", "cold-95", "cold-99")
EMERGING_CATEGORIES = (
    "new", "consecutive", "intensifying", "persistent", "diminishing", "sporadic", "none",
)
_MORAN_QUADRANTS = {1: "HH", 2: "LH", 3: "LL", 4: "HL"}  # esda's q codes

# the KDE grid reaches this many bandwidths beyond the outermost points (mass lost < 0.02 %)
_KDE_PAD_BANDWIDTHS = 4.0
_MAX_GRID_CELLS = 25_000_000
# H3 uses a sphere of this radius (authalic), metres
_EARTH_RADIUS_M = 6371007.180918475
_M_PER_DEG = math.pi * _EARTH_RADIUS_M / 180.0
# fast H3 binning: squares of this share of the cell edge; used from this many points on, and only
# while squares are at most this share of the points (otherwise one h3 call per point is as fast)
_SNAP_EDGE_SHARE = 0.25
_SNAP_MIN_POINTS = 10_000
_SNAP_MAX_SQUARE_SHARE = 0.5
# a square counts as inside its cell when it clears every edge by this much more than its half
# diagonal: float noise, plus the gap between a cell edge (a great-circle arc) and the straight
# segment between its vertices in lon/lat, edge² (1 + tan|lat|) / (2 R), which is < 1 mm at
# resolution 9 in China and metres at resolution 5
_SNAP_MARGIN_M = 0.01
_TREND_MIN_SLICES = 3
_NS_PER_DAY = 86_400 * 10**9


class HotspotError(ValueError):
    """Input a hotspot analysis cannot use: mismatched arrays, a bad grid, too few time slices.

    >>> str(HotspotError("lng and lat differ in length"))
    'lng and lat differ in length'
    """


# ---------------------------------------------------------------------------------------------
# input helpers


def _points(lng, lat, weights=None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
    """Float arrays of the usable points (finite, in range), their weights, and the mask kept."""
    x = np.atleast_1d(np.asarray(lng, dtype=float)).ravel()
    y = np.atleast_1d(np.asarray(lat, dtype=float)).ravel()
    if x.shape != y.shape:
        raise HotspotError(f"lng and lat differ in length: {x.size} and {y.size}")
    keep = np.isfinite(x) & np.isfinite(y) & (np.abs(x) <= 180.0) & (np.abs(y) <= 90.0)
    w = None
    if weights is not None:
        w = np.atleast_1d(np.asarray(weights, dtype=float)).ravel()
        if w.shape != x.shape:
            raise HotspotError(f"weights and points differ in length: {w.size} and {x.size}")
        keep &= np.isfinite(w)
        w = w[keep]
    return x[keep], y[keep], w, keep


@lru_cache(maxsize=16)
def _transformers(epsg: int) -> tuple[Transformer, Transformer]:
    """WGS84 → the projected CRS, and back, both in x/y (lon/lat) order."""
    return (Transformer.from_crs("EPSG:4326", f"EPSG:{epsg}", always_xy=True),
            Transformer.from_crs(f"EPSG:{epsg}", "EPSG:4326", always_xy=True))


# ---------------------------------------------------------------------------------------------
# kernel density


@dataclass(frozen=True, eq=False)
class KDESurface:
    """A kernel density surface on a regular grid of a projected CRS (metres).

    Attributes
    ----------
    density : ndarray of shape (rows, cols)
        Cases (or weight units) per km². Row 0 is the northern row, column 0 the western one.
    crs : pyproj.CRS
        The projected CRS of the grid: the UTM zone of the data's centre.
    bounds : tuple of float
        ``(xmin, ymin, xmax, ymax)`` of the grid in ``crs``, metres; multiples of ``cell_m``.
    cell_m, bandwidth_m : float
        Cell side and Gaussian kernel standard deviation, metres.
    n_points : int
        Points that fell on the grid and were counted.
    """

    density: np.ndarray
    crs: CRS
    bounds: tuple[float, float, float, float]
    cell_m: float
    bandwidth_m: float
    n_points: int

    @property
    def shape(self) -> tuple[int, int]:
        return self.density.shape

    @property
    def transform(self) -> tuple[float, float, float, float, float, float]:
        """Affine coefficients ``(a, b, c, d, e, f)`` (the order of ``affine.Affine``, rasterio):
        ``x = a·col + b·row + c``, ``y = d·col + e·row + f`` for cell corners, in ``crs`` metres."""
        xmin, _, _, ymax = self.bounds
        return (self.cell_m, 0.0, xmin, 0.0, -self.cell_m, ymax)

    @property
    def bounds_wgs84(self) -> tuple[float, float, float, float]:
        """``(min_lng, min_lat, max_lng, max_lat)`` enclosing the grid, degrees."""
        back = _transformers(self.crs.to_epsg())[1]
        return tuple(float(v) for v in back.transform_bounds(*self.bounds, densify_pts=21))

    @property
    def cell_area_km2(self) -> float:
        return (self.cell_m / 1000.0) ** 2

    @property
    def total(self) -> float:
        """The integral of the density: the number (or weight) of cases the surface holds."""
        return float(self.density.sum() * self.cell_area_km2)

    def cell_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Centre x of each column and y of each row (north first), ``crs`` metres."""
        xmin, _, _, ymax = self.bounds
        rows, cols = self.shape
        return (xmin + (np.arange(cols) + 0.5) * self.cell_m,
                ymax - (np.arange(rows) + 0.5) * self.cell_m)

    def to_geodataframe(self, threshold: float | None = None) -> gpd.GeoDataFrame:
        """The cells as WGS84 polygons with columns ``row``, ``col``, ``density`` (cases per km²).

        Only cells whose density is above ``threshold`` when one is given (all cells otherwise).
        Each polygon is the projected square's four corners in WGS84.
        """
        if threshold is None:
            rows, cols = np.indices(self.shape).reshape(2, -1)
        else:
            rows, cols = np.nonzero(self.density > threshold)
        xmin, _, _, ymax = self.bounds
        x0 = xmin + cols * self.cell_m
        y1 = ymax - rows * self.cell_m
        xs = np.stack([x0, x0 + self.cell_m, x0 + self.cell_m, x0, x0], axis=1)
        ys = np.stack([y1 - self.cell_m, y1 - self.cell_m, y1, y1, y1 - self.cell_m], axis=1)
        lng, lat = _transformers(self.crs.to_epsg())[1].transform(xs.ravel(), ys.ravel())
        coords = np.stack([lng, lat], axis=1).reshape(-1, 5, 2)
        geoms = shapely.polygons(coords) if rows.size else np.array([], dtype=object)
        return gpd.GeoDataFrame(
            {"row": rows.astype(np.int64), "col": cols.astype(np.int64),
             "density": self.density[rows, cols]},
            geometry=geoms, crs="EPSG:4326",
        )

    def contours(self, levels: Iterable[float]) -> gpd.GeoDataFrame:
        """Areas where the density reaches each level: columns ``level``, ``area_km2``, geometry.

        One MultiPolygon per level (empty when nothing reaches it), in WGS84; each level's area
        contains the higher ones. Boundaries are interpolated between cell centres (``contourpy``,
        which matplotlib installs), so the outer half cell of the grid is never inside.
        ``area_km2`` is measured in the projected CRS.
        """
        import contourpy  # a matplotlib dependency; only needed here

        levels = sorted(float(v) for v in levels)
        x, y = self.cell_centres()
        z = self.density[::-1]  # contourpy wants y increasing
        gen = contourpy.contour_generator(x, y[::-1], z, fill_type=contourpy.FillType.OuterOffset)
        top = float(np.max(self.density, initial=0.0)) + 1.0
        back = _transformers(self.crs.to_epsg())[1]

        def to_wgs84(coords):
            return np.column_stack(back.transform(coords[:, 0], coords[:, 1]))

        geoms, areas = [], []
        for level in levels:
            polys = []
            if level < top - 1.0:
                for pts, offsets in zip(*gen.filled(level, top), strict=True):
                    rings = [pts[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)]
                    polys.append(Polygon(rings[0], rings[1:]))
            projected = MultiPolygon(polys)
            areas.append(projected.area / 1e6)
            geoms.append(shapely.transform(projected, to_wgs84))
        return gpd.GeoDataFrame({"level": levels, "area_km2": areas}, geometry=geoms,
                                crs="EPSG:4326")

    def peaks(self, n: int = 10, *, min_distance_m: float | None = None) -> gpd.GeoDataFrame:
        """The ``n`` highest local maxima, highest first: columns ``density``, geometry (points).

        A cell is a local maximum when no cell within ``min_distance_m`` (default: the bandwidth;
        a square window) is higher and its density is positive. Points are cell centres.
        """
        reach = self.bandwidth_m if min_distance_m is None else float(min_distance_m)
        size = 2 * max(1, math.ceil(reach / self.cell_m)) + 1
        top = ndimage.maximum_filter(self.density, size=size, mode="constant", cval=0.0)
        rows, cols = np.nonzero((self.density == top) & (self.density > 0))
        order = np.argsort(-self.density[rows, cols], kind="stable")[: max(0, int(n))]
        rows, cols = rows[order], cols[order]
        x, y = self.cell_centres()
        lng, lat = _transformers(self.crs.to_epsg())[1].transform(x[cols], y[rows])
        return gpd.GeoDataFrame({"density": self.density[rows, cols]},
                                geometry=gpd.points_from_xy(lng, lat), crs="EPSG:4326")


def kde(lng, lat, *, bandwidth_m: float = 200.0, cell_m: float = 50.0,
        bbox: Sequence[float] | None = None, weights=None) -> KDESurface:
    """Gaussian kernel density of points, in cases per km², on a grid of ``cell_m`` metre squares.

    Computed in the UTM zone of the centre of the data (or of ``bbox``): the points are counted in
    the grid's cells (each point at its cell, which widens the kernel from ``h`` to
    ``√(h² + cell²/12)``: 200.5 m for the defaults), then the counts are smoothed with a Gaussian
    filter of ``sigma = bandwidth_m / cell_m`` cells, truncated at 4 sigma and normalised. Time is
    O(points + cells), not O(points × cells). Keep the bandwidth at two cells or more, or the
    discrete kernel is coarse.

    Edges: without ``bbox`` the grid covers the points plus three bandwidths on every side, so the
    surface holds all but a fraction of a percent of the cases (``total``). With ``bbox``
    (``(min_lng, min_lat, max_lng, max_lat)``, degrees; the grid covers its projected envelope),
    points outside are ignored and the kernel mass that spills over the grid's edge is lost, not
    reflected back: densities near the edge of the grid are underestimated, as they would be by
    any estimate blind to what lies beyond. Grid corners are multiples of ``cell_m`` in the UTM
    zone, so surfaces of different periods over the same data line up.

    Parameters
    ----------
    lng, lat : array_like
        WGS84 degrees. Non-finite or out-of-range points are dropped.
    bandwidth_m, cell_m : float
        Kernel standard deviation and cell side, metres.
    bbox : sequence of 4 floats, optional
        The area of the grid, WGS84 degrees.
    weights : array_like, optional
        A weight per point (e.g. severity); the density is then in weight units per km².

    Examples
    --------
    >>> s = kde([117.72, 117.73], [39.32, 39.32], bandwidth_m=100, cell_m=25)
    >>> s.crs.to_epsg(), s.shape, round(s.total, 3)
    (32650, (33, 68), 2.0)
    >>> top = s.peaks(1).geometry[0]
    >>> round(top.x, 3), round(top.y, 3)
    (117.72, 39.32)
    >>> empty = kde([], [], bbox=(117.70, 39.30, 117.71, 39.31))
    >>> empty.total, empty.n_points
    (0.0, 0)
    >>> kde([], [])
    Traceback (most recent call last):
    ...
    spatial.hotspots.HotspotError: no points and no bbox: the grid's extent is unknown
    """
    if not (bandwidth_m > 0 and cell_m > 0):
        raise HotspotError(f"bandwidth_m and cell_m must be positive: {bandwidth_m}, {cell_m}")
    x, y, w, _ = _points(lng, lat, weights)
    if bbox is not None:
        min_lng, min_lat, max_lng, max_lat = (float(v) for v in bbox)
        if not (min_lng < max_lng and min_lat < max_lat):
            raise HotspotError(f"bbox must be (min_lng, min_lat, max_lng, max_lat): {tuple(bbox)}")
        crs = local_metric_crs((min_lng + max_lng) / 2, (min_lat + max_lat) / 2)
        forward = _transformers(crs.to_epsg())[0]
        lo_x, lo_y, hi_x, hi_y = forward.transform_bounds(min_lng, min_lat, max_lng, max_lat,
                                                          densify_pts=21)
    elif x.size:
        crs = local_metric_crs((x.min() + x.max()) / 2, (y.min() + y.max()) / 2)
        forward = _transformers(crs.to_epsg())[0]
    else:
        raise HotspotError("no points and no bbox: the grid's extent is unknown")
    px, py = forward.transform(x, y)
    if bbox is None:
        pad = _KDE_PAD_BANDWIDTHS * bandwidth_m
        lo_x, lo_y, hi_x, hi_y = px.min() - pad, py.min() - pad, px.max() + pad, py.max() + pad
    xmin, ymin = math.floor(lo_x / cell_m) * cell_m, math.floor(lo_y / cell_m) * cell_m
    cols = max(1, math.ceil((hi_x - xmin) / cell_m))
    rows = max(1, math.ceil((hi_y - ymin) / cell_m))
    if rows * cols > _MAX_GRID_CELLS:
        raise HotspotError(f"a grid of {rows} × {cols} cells is too large: use larger cells")
    ymax = ymin + rows * cell_m
    # counting by index arithmetic and bincount is numpy.histogram2d with equal bins, only faster
    c = np.floor((px - xmin) / cell_m).astype(np.int64)
    r = np.floor((ymax - py) / cell_m).astype(np.int64)
    on = (c >= 0) & (c < cols) & (r >= 0) & (r < rows)
    counts = np.bincount(r[on] * cols + c[on], weights=None if w is None else w[on],
                         minlength=rows * cols).reshape(rows, cols).astype(float)
    smooth = ndimage.gaussian_filter(counts, sigma=bandwidth_m / cell_m, mode="constant",
                                     cval=0.0, truncate=4.0)
    return KDESurface(
        density=smooth / (cell_m / 1000.0) ** 2,
        crs=crs,
        bounds=(float(xmin), float(ymin), float(xmin + cols * cell_m), float(ymax)),
        cell_m=float(cell_m),
        bandwidth_m=float(bandwidth_m),
        n_points=int(on.sum()),
    )


# ---------------------------------------------------------------------------------------------
# H3 cells


def _latlng_cells(lng: np.ndarray, lat: np.ndarray, resolution: int) -> np.ndarray:
    """One h3 call per point (the reference): cells as uint64."""
    return np.fromiter(
        (h3i.latlng_to_cell(b, a, resolution)
         for a, b in zip(lng.tolist(), lat.tolist(), strict=True)),
        dtype=np.uint64, count=lng.size,
    )


def _wrap(dlng):
    return (dlng + 180.0) % 360.0 - 180.0


class _CellShapes:
    """Boundaries of some H3 cells, ready for vectorised "is this point well inside?" tests.

    Vertices are kept relative to each cell's centre, in (lng, lat) degrees, padded to the longest
    ring by repeating the first vertex (pentagons have 5; cells across icosahedron edges up to 10).
    """

    def __init__(self, cells: np.ndarray):
        self.centres = np.array([h3i.cell_to_latlng(c) for c in cells.tolist()]).reshape(-1, 2)
        rings = [h3i.cell_to_boundary(c) for c in cells.tolist()]
        m = max(len(r) for r in rings)
        verts = np.empty((cells.size, m, 2))
        for i, ring in enumerate(rings):
            arr = np.asarray(ring)[:, ::-1]
            verts[i, : len(arr)] = arr
            verts[i, len(arr):] = arr[0]
        verts[:, :, 0] = _wrap(verts[:, :, 0] - self.centres[:, 1, None])
        verts[:, :, 1] -= self.centres[:, 0, None]
        self.verts = verts
        self.edges = np.roll(verts, -1, axis=1) - verts
        self.orientation = np.sign(np.sum(verts[:, :, 0] * self.edges[:, :, 1]
                                          - self.edges[:, :, 0] * verts[:, :, 1], axis=1))

    def clear_inside(self, lng, lat, cell, clearance_m) -> np.ndarray:
        """Whether each point lies in its ``cell`` (index) at least ``clearance_m`` from every edge.

        Tested in the plane (lng · cos lat, lat) scaled to metres around the point: an affine
        image of lon/lat, where the cell's edges are straight up to the margin the callers add.
        Passing every edge's half-plane proves the point inside even for a non-convex ring.
        """
        cos = np.cos(np.radians(lat))
        qx = _wrap(lng - self.centres[cell, 1]) * cos * _M_PER_DEG
        qy = (lat - self.centres[cell, 0]) * _M_PER_DEG
        orientation = self.orientation[cell]
        ok = np.isfinite(clearance_m) & (orientation != 0)
        for k in range(self.verts.shape[1]):
            vx = self.verts[cell, k, 0] * cos * _M_PER_DEG
            vy = self.verts[cell, k, 1] * _M_PER_DEG
            ex = self.edges[cell, k, 0] * cos * _M_PER_DEG
            ey = self.edges[cell, k, 1] * _M_PER_DEG
            length = np.hypot(ex, ey)
            cross = (ex * (qy - vy) - ey * (qx - vx)) * orientation
            ok &= (length == 0) | (cross >= clearance_m * length)
        return ok


def _squares(ix: np.ndarray, iy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Occupied squares (as ix, iy) and each point's index into them; a lookup table when dense."""
    ix0, iy0 = int(ix.min()), int(iy.min())
    nx, ny = int(ix.max()) - ix0 + 1, int(iy.max()) - iy0 + 1
    key = (ix - ix0) * ny + (iy - iy0)
    if nx * ny <= max(4 * ix.size, 1 << 22):  # counting beats sorting
        keys = np.flatnonzero(np.bincount(key, minlength=nx * ny))
        lookup = np.empty(nx * ny, dtype=np.int64)
        lookup[keys] = np.arange(keys.size)
        inverse = lookup[key]
    else:
        keys, inverse = np.unique(key, return_inverse=True)
    return keys // ny + ix0, keys % ny + iy0, inverse.ravel()


def _snapped_cells(lng: np.ndarray, lat: np.ndarray,
                   resolution: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Sorted cells and each point's index into them, with far fewer h3 calls than points.

    The points are snapped to squares a quarter of the cell edge wide (in degrees of latitude; a
    longitude degree is shorter, so squares are narrower there), and h3 is asked once per square
    centre. A square whose centre clears every edge of its cell by its half diagonal plus a
    margin lies wholly inside, and gives that cell to its points. A point of another square that
    itself clears the edges of the square's cell by the margin gets that cell; the rest (points
    within a square's width of a cell edge, outside the centre's cell: about 7 % of evenly
    spread points) get one h3 call each. So every point gets the cell h3 gives it. None when the
    points are so sparse that most squares hold one point: one call per point is then as fast.
    """
    edge_m = h3.average_hexagon_edge_length(resolution, "m")
    step = _SNAP_EDGE_SHARE * edge_m / _M_PER_DEG
    sq_ix, sq_iy, inverse = _squares(np.floor(lng / step).astype(np.int64),
                                     np.floor(lat / step).astype(np.int64))
    if sq_ix.size > _SNAP_MAX_SQUARE_SHARE * lng.size:
        return None
    sq_lng = (sq_ix + 0.5) * step
    sq_lat = np.clip((sq_iy + 0.5) * step, -90.0, 90.0)
    cells, sq_cell = np.unique(_latlng_cells(sq_lng, sq_lat, resolution), return_inverse=True)
    sq_cell = sq_cell.ravel()
    shapes = _CellShapes(cells)

    def margin(lat_deg):  # float noise plus the bulge of a great-circle edge in lon/lat
        with np.errstate(invalid="ignore", over="ignore"):
            return _SNAP_MARGIN_M + edge_m**2 * (1.0 + np.abs(np.tan(np.radians(lat_deg)))) / (
                2 * _EARTH_RADIUS_M)

    half_diagonal = 0.5 * step * _M_PER_DEG * np.hypot(np.cos(np.radians(sq_lat)), 1.0)
    whole = shapes.clear_inside(sq_lng, sq_lat, sq_cell, half_diagonal + margin(sq_lat))
    index = sq_cell[inverse]
    edge_points = np.flatnonzero(~whole[inverse])
    inside = shapes.clear_inside(lng[edge_points], lat[edge_points], index[edge_points],
                                 margin(lat[edge_points]))
    todo = edge_points[~inside]
    if todo.size:
        found, found_index = np.unique(_latlng_cells(lng[todo], lat[todo], resolution),
                                       return_inverse=True)
        merged = np.union1d(cells, found)
        index = np.searchsorted(merged, cells)[index]
        index[todo] = np.searchsorted(merged, found)[found_index.ravel()]
        cells = merged
    # a square's centre may lie in a cell none of its points are in
    used = np.bincount(index, minlength=cells.size) > 0
    if not used.all():
        index = (np.cumsum(used) - 1)[index]
        cells = cells[used]
    return cells, index


def _point_cells(lng: np.ndarray, lat: np.ndarray, resolution: int,
                 exact: bool) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique cells (uint64) of the points, and each point's index into them."""
    if lng.size == 0:
        return np.array([], dtype=np.uint64), np.array([], dtype=np.int64)
    if not exact and lng.size >= _SNAP_MIN_POINTS:
        snapped = _snapped_cells(lng, lat, resolution)
        if snapped is not None:
            return snapped
    cells, index = np.unique(_latlng_cells(lng, lat, resolution), return_inverse=True)
    return cells, index.ravel()


def _area_cells(area, resolution: int) -> np.ndarray:
    if area is None or area.is_empty:
        return np.array([], dtype=np.uint64)
    if not isinstance(area, Polygon | MultiPolygon):
        raise HotspotError(f"area must be a Polygon or MultiPolygon, not {area.geom_type}")
    return np.array(sorted(h3.str_to_int(c) for c in h3.geo_to_cells(area, resolution)),
                    dtype=np.uint64)


def _check_resolution(resolution: int) -> int:
    if not (isinstance(resolution, int | np.integer) and 0 <= resolution <= 15):
        raise HotspotError(f"H3 resolution must be an integer from 0 to 15: {resolution!r}")
    return int(resolution)


def _cell_polygons(cells: np.ndarray) -> np.ndarray:
    """WGS84 polygons of the cells (uint64), grouped by vertex count to build them in bulk."""
    rings = [h3i.cell_to_boundary(c) for c in cells.tolist()]
    out = np.empty(len(rings), dtype=object)
    sizes = np.array([len(r) for r in rings], dtype=np.int64)
    for size in np.unique(sizes):
        idx = np.flatnonzero(sizes == size)
        coords = np.array([rings[i] for i in idx])[:, :, ::-1]  # (lat, lng) → (lng, lat)
        out[idx] = shapely.polygons(np.concatenate([coords, coords[:, :1]], axis=1))
    return out


def _cell_frame(cells: np.ndarray, columns: dict) -> gpd.GeoDataFrame:
    data = {"h3": [h3.int_to_str(c) for c in cells.tolist()], **columns}
    return gpd.GeoDataFrame(data, geometry=_cell_polygons(cells), crs="EPSG:4326")


def _cell_ints(cells) -> np.ndarray:
    values = list(cells)
    try:
        ints = np.array([h3.str_to_int(c) if isinstance(c, str) else int(c) for c in values],
                        dtype=np.uint64)
    except (TypeError, ValueError) as exc:
        raise HotspotError(f"not H3 cell ids: {exc}") from None
    if ints.size:
        if not all(h3i.is_valid_cell(c) for c in ints.tolist()):
            raise HotspotError("not H3 cell ids")
        if len({h3i.get_resolution(c) for c in ints.tolist()}) > 1:
            raise HotspotError("the cells are of different H3 resolutions")
        if np.unique(ints).size != ints.size:
            raise HotspotError("the same H3 cell appears twice")
    return ints


def hex_counts(lng, lat, *, resolution: int = 9, weights=None, exact: bool = False,
               area: Polygon | MultiPolygon | None = None) -> gpd.GeoDataFrame:
    """Points counted per H3 cell: columns ``h3`` (string id), ``count``, geometry (WGS84 polygon).

    Only cells holding points are returned, unless ``area`` is given: then every cell whose centre
    lies in ``area`` (WGS84) is returned too, with count 0 when empty — which Gi* needs, so that
    the study area and its cold spots exist. Cells with points but centres outside ``area`` are
    kept. ``count`` is an integer, or the sum of ``weights`` when they are given. Cell edge at
    resolution 9 is about 200 m (area 0.1 km²); at 8, 530 m (0.74 km²).

    Binning: h3 takes about a microsecond per point from Python. From 10 000 points on, the
    points are first snapped to squares a quarter of the cell edge wide and h3 is asked once per
    square; points in squares on a cell edge are checked against the cell's boundary, and those
    it cannot place (about 7 % of evenly spread points) get one h3 call each. The cells are
    exactly those of ``exact=True`` (one h3 call per point, the reference). A million points over
    the town take about 0.7 s at resolution 9 (1.5–2 s with ``exact=True``), less when they pile
    up on addresses; when most squares would hold a single point (sparse points, fine
    resolutions) it makes one call per point anyway.

    Examples
    --------
    >>> gdf = hex_counts([117.72, 117.72001, 117.74], [39.32, 39.32001, 39.33])
    >>> gdf[["h3", "count"]].to_dict("records")
    [{'h3': '89318dca08bffff', 'count': 2}, {'h3': '89318dca50fffff', 'count': 1}]
    >>> gdf.crs.to_epsg(), gdf.geometry[0].geom_type
    (4326, 'Polygon')
    >>> area = shapely.box(117.715, 39.315, 117.725, 39.325)
    >>> filled = hex_counts([117.72], [39.32], area=area)
    >>> len(filled), int(filled["count"].sum()), int((filled["count"] == 0).sum())
    (16, 1, 15)
    >>> len(hex_counts([], [])), list(hex_counts([], []).columns)
    (0, ['h3', 'count', 'geometry'])
    """
    resolution = _check_resolution(resolution)
    x, y, w, _ = _points(lng, lat, weights)
    cells, index = _point_cells(x, y, resolution, exact)
    counts = np.bincount(index, weights=w, minlength=cells.size)
    if w is None:
        counts = counts.astype(np.int64)
    extra = np.setdiff1d(_area_cells(area, resolution), cells)
    if extra.size:
        cells = np.concatenate([cells, extra])
        counts = np.concatenate([counts, np.zeros(extra.size, dtype=counts.dtype)])
        order = np.argsort(cells)
        cells, counts = cells[order], counts[order]
    return _cell_frame(cells, {"count": counts})


def ring_neighbours(cells, k_ring: int = 1) -> sparse.csr_array:
    """Binary weights between H3 cells: 1 where two distinct cells are within ``k_ring`` grid steps.

    ``cells`` are H3 ids (strings or integers) of one resolution; the matrix (n × n, zero
    diagonal, symmetric) follows their order. Cells not listed are absent, so cells at the edge of
    the set have fewer neighbours.

    >>> centre = h3.latlng_to_cell(39.32, 117.72, 9)
    >>> cells = [centre, *h3.grid_ring(centre, 1)]
    >>> w = ring_neighbours(cells)
    >>> w.shape, int(w.sum()), float(w[0].sum()), float(w[1].sum())
    ((7, 7), 24, 6.0, 3.0)
    >>> ring_neighbours([]).shape
    (0, 0)
    """
    if int(k_ring) < 0:
        raise HotspotError(f"k_ring must be 0 or more: {k_ring}")
    ints = _cell_ints(cells)
    n = ints.size
    order = np.argsort(ints)
    sorted_ints = ints[order]
    disks = [h3i.grid_disk(c, int(k_ring)) for c in ints.tolist()]
    flat = np.fromiter(chain.from_iterable(disks), dtype=np.uint64)
    rows = np.repeat(np.arange(n), [len(d) for d in disks])
    pos = np.clip(np.searchsorted(sorted_ints, flat), 0, max(n - 1, 0))
    hit = (sorted_ints[pos] == flat) if n else np.zeros(0, dtype=bool)
    rows, cols = rows[hit], order[pos[hit]]
    off_diagonal = rows != cols
    rows, cols = rows[off_diagonal], cols[off_diagonal]
    return sparse.csr_array((np.ones(rows.size), (rows, cols)), shape=(n, n))


# ---------------------------------------------------------------------------------------------
# Gi*, FDR, local Moran


def fdr_bh(p) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (the false discovery rate of rejecting at each p).

    ``p_adj[i] = min over k ≥ rank(i) of p_(k) · n / k``, capped at 1; rejecting where
    ``p_adj < q`` keeps the expected share of false discoveries at most ``q`` (independent or
    positively dependent tests). Equal to ``scipy.stats.false_discovery_control(p, method="bh")``.

    >>> fdr_bh([0.01, 0.04, 0.03, 0.5]).round(4).tolist()
    [0.04, 0.0533, 0.0533, 0.5]
    >>> fdr_bh([]).tolist()
    []
    """
    p = np.asarray(p, dtype=float).ravel()
    n = p.size
    if n == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    scaled = p[order] * n / np.arange(1, n + 1)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def gi_star_numpy(values, neighbours, *, self_weight: float = 1.0,
                  pooled: bool = False) -> np.ndarray:
    """Getis–Ord Gi* z-scores (Ord & Getis 1995), vectorised; columns of ``values`` are separate.

    ``neighbours`` is an n × n weight matrix (scipy sparse or dense); its diagonal is replaced by
    ``self_weight`` (the star: each cell belongs to its own neighbourhood). With ``x̄`` and ``s``
    the mean and population standard deviation of each column, ``W_i = Σ_j w_ij`` and
    ``S1_i = Σ_j w_ij²``::

        z_i = (Σ_j w_ij x_j − x̄ W_i) / (s √((n S1_i − W_i²) / (n − 1)))

    which for binary weights is the z-score ``esda.G_Local(..., star=True, transform="B")``
    reports. With ``pooled``, the columns are slices of one population: ``x̄``, ``s`` and ``n``
    are taken over all values of all columns. Where the denominator is 0 (a constant column, or
    a neighbourhood of every cell), z is 0.

    >>> w = sparse.csr_array(np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=float))
    >>> gi_star_numpy([1.0, 2.0, 6.0], w).round(4).tolist()  # the middle sees all: z 0
    [-1.3887, 0.0, 0.9258]
    >>> gi_star_numpy(np.array([[1.0, 5.0], [2.0, 5.0], [6.0, 5.0]]), w).round(4).tolist()
    [[-1.3887, 0.0], [0.0, 0.0], [0.9258, 0.0]]
    >>> gi_star_numpy([], sparse.csr_array((0, 0))).tolist()
    []
    """
    x = np.asarray(values, dtype=float)
    one_column = x.ndim == 1
    if x.shape[0] == 0:
        return np.zeros(x.shape)
    x = x.reshape(x.shape[0], -1)
    n = x.shape[0]
    w = sparse.csr_array(neighbours, dtype=float)
    if w.shape != (n, n):
        raise HotspotError(f"weights are {w.shape}, values {n} long")
    w = (w - sparse.diags_array(w.diagonal()) + self_weight * sparse.eye_array(n)).tocsr()
    wi = np.asarray(w.sum(axis=1)).ravel()
    s1i = np.asarray(w.multiply(w).sum(axis=1)).ravel()
    if pooled:  # one population: every value of every column
        mean = np.full(x.shape[1], x.mean())
        sd = np.full(x.shape[1], x.std())
        n = x.size
    else:
        mean = x.mean(axis=0)
        sd = x.std(axis=0)
    numerator = w @ x - np.outer(wi, mean)
    room = n * s1i - wi**2  # 0 when the neighbourhood is every cell
    spread = np.sqrt(np.maximum(room, 0.0) / max(n - 1, 1))
    # relative tests: a constant column of floats can have a standard deviation of 1e-17
    defined = np.outer(room > 1e-12 * n * s1i, sd > 1e-12 * np.abs(x).max(axis=None))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(defined, numerator / np.outer(spread, sd), 0.0)
    return z[:, 0] if one_column else z


def _graph(w: sparse.csr_array):
    from libpysal.graph import Graph  # imported here: libpysal and esda take a second to import

    return Graph.from_sparse(w)


def _classes(z: np.ndarray, p_fdr: np.ndarray) -> np.ndarray:
    out = np.full(z.size, "none", dtype=object)
    for level, name in ((0.10, "90"), (0.05, "95"), (0.01, "99")):
        significant = p_fdr < level
        out[significant & (z > 0)] = f"hot-{name}"
        out[significant & (z < 0)] = f"cold-{name}"
    return out


@contextmanager
def _quiet_esda():
    """Silence esda's notice that its permutation p-value default will change (ours is pinned)."""
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.filterwarnings("ignore", message="The alternative hypothesis",
                                category=DeprecationWarning)
        yield


def getis_ord(cells: gpd.GeoDataFrame, value: str = "count", *, k_ring: int = 1,
              permutations: int = 0, alpha: float = 0.05, seed: int = 0) -> gpd.GeoDataFrame:
    """Getis–Ord Gi* hot and cold spots over H3 cells; a copy of ``cells`` with columns added.

    ``cells`` needs an ``h3`` column (as from :func:`hex_counts`) and the numeric column
    ``value``. Neighbours: the cells present within ``k_ring`` steps, binary weights, the cell
    itself included (``esda.G_Local(star=True, transform="B")``).

    Columns added: ``gi_z`` (the z-score), ``p`` (two-sided: from the normal distribution when
    ``permutations`` is 0, else twice esda's folded permutation p-value, capped at 1), ``p_fdr``
    (Benjamini–Hochberg over all cells, :func:`fdr_bh`), ``class`` (``hot-99`` … ``cold-99`` or
    ``none``, see :data:`GI_CLASSES`) and ``significant`` (``p_fdr < alpha``). Fewer than 3 cells,
    or a constant value, give z 0 and p 1; so does a permutation test of a cell with no neighbour.
    A permutation p is at least ``2 / (permutations + 1)``: to pass the FDR correction over
    thousands of cells it takes 9999 permutations or more (seconds per thousand cells).

    Examples
    --------
    >>> area = shapely.box(117.70, 39.30, 117.74, 39.33)
    >>> lng = np.r_[np.full(40, 117.72), np.linspace(117.70, 117.74, 30)]
    >>> lat = np.r_[np.full(40, 39.315), np.linspace(39.30, 39.33, 30)]
    >>> gi = getis_ord(hex_counts(lng, lat, area=area))
    >>> pile = gi[gi["h3"] == h3.latlng_to_cell(39.315, 117.72, 9)].iloc[0]
    >>> int(pile["count"]), pile["class"], bool(pile["significant"])
    (42, 'hot-99', True)
    >>> sorted(set(gi["class"]) - {"hot-99", "hot-95", "hot-90"})
    ['none']
    >>> getis_ord(hex_counts([], [])).columns.tolist()
    ['h3', 'count', 'geometry', 'gi_z', 'p', 'p_fdr', 'class', 'significant']
    """
    y = _values(cells, value)
    n = y.size
    w = ring_neighbours(cells["h3"], k_ring)
    z, p = np.zeros(n), np.ones(n)
    if n >= 3 and np.ptp(y) > 0:
        import esda

        with _quiet_esda():
            g = esda.G_Local(y, _graph(w), transform="B", star=True, permutations=int(permutations),
                             n_jobs=1, seed=seed)
        z = np.asarray(g.Zs, dtype=float)
        if permutations:
            p = np.minimum(1.0, 2.0 * np.asarray(g.p_sim, dtype=float))
            p[np.diff(w.indptr) == 0] = 1.0
        else:
            p = 2.0 * stats.norm.sf(np.abs(z))
        bad = ~np.isfinite(z)
        z[bad], p[bad] = 0.0, 1.0
    out = cells.copy()
    out["gi_z"] = z
    out["p"] = p
    out["p_fdr"] = fdr_bh(p)
    out["class"] = _classes(z, out["p_fdr"].to_numpy())
    out["significant"] = out["p_fdr"].to_numpy() < alpha
    return out


def _values(cells: gpd.GeoDataFrame, value: str) -> np.ndarray:
    if "h3" not in cells.columns or value not in cells.columns:
        raise HotspotError(f"cells need the columns 'h3' and {value!r}")
    y = cells[value].to_numpy(dtype=float)
    if not np.isfinite(y).all():
        raise HotspotError(f"column {value!r} has missing or infinite values")
    return y


def local_moran(cells: gpd.GeoDataFrame, value: str = "count", *, k_ring: int = 1,
                permutations: int = 999, seed: int = 0) -> gpd.GeoDataFrame:
    """Local Moran's I (Anselin 1995) over H3 cells; a copy of ``cells`` with columns added.

    Neighbours: the cells present within ``k_ring`` steps, row-standardised
    (``esda.Moran_Local(transformation="r")``). Columns: ``moran_i``; ``moran_p``, esda's pseudo
    p-value from ``permutations`` conditional permutations (the PySAL/GeoDa convention: the share
    as extreme in the observed direction, not doubled); ``moran_q``, the quadrant of the
    scatterplot — ``HH`` (high among high: a hot cluster), ``LH``, ``LL``, ``HL`` (high outlier
    among low). Read a quadrant only where ``moran_p`` is small. A cell with no neighbour, fewer
    than 3 cells, or a constant value give I 0, p 1 and quadrant ``none``.

    Examples
    --------
    >>> area = shapely.box(117.70, 39.30, 117.74, 39.33)
    >>> lng = np.r_[np.full(40, 117.72), np.full(20, 117.7215), np.linspace(117.70, 117.74, 30)]
    >>> lat = np.r_[np.full(40, 39.315), np.full(20, 39.3165), np.linspace(39.30, 39.33, 30)]
    >>> lm = local_moran(hex_counts(lng, lat, area=area), permutations=99)
    >>> row = lm[lm["h3"] == h3.latlng_to_cell(39.315, 117.72, 9)].iloc[0]
    >>> row["moran_q"], bool(row["moran_p"] <= 0.05)
    ('HH', True)
    >>> local_moran(hex_counts([], [])).columns.tolist()[-3:]
    ['moran_i', 'moran_p', 'moran_q']
    """
    y = _values(cells, value)
    n = y.size
    w = ring_neighbours(cells["h3"], k_ring)
    moran_i, moran_p = np.zeros(n), np.ones(n)
    quadrant = np.full(n, "none", dtype=object)
    if n >= 3 and np.ptp(y) > 0 and permutations > 0:
        import esda

        with _quiet_esda():
            lm = esda.Moran_Local(y, _graph(w), transformation="r", permutations=int(permutations),
                                  n_jobs=1, seed=seed)
        has_neighbours = np.diff(w.indptr) > 0
        moran_i = np.where(has_neighbours, lm.Is, 0.0)
        moran_p = np.where(has_neighbours, lm.p_sim, 1.0)
        quadrant = np.array([_MORAN_QUADRANTS[int(q)] for q in lm.q], dtype=object)
        quadrant[~has_neighbours] = "none"
    elif permutations <= 0:
        raise HotspotError("local_moran needs permutations > 0 for its p-values")
    out = cells.copy()
    out["moran_i"] = moran_i
    out["moran_p"] = moran_p
    out["moran_q"] = quadrant
    return out


# ---------------------------------------------------------------------------------------------
# trends over time


class TrendTest(NamedTuple):
    """A Mann–Kendall test: statistic S, its variance (tie-corrected), z and two-sided p."""

    s: float | np.ndarray
    var_s: float | np.ndarray
    z: float | np.ndarray
    p: float | np.ndarray


def mann_kendall(series) -> TrendTest:
    """Mann–Kendall trend test of a series in time order; rows of a 2-D array are separate series.

    ``S = Σ_{i<j} sign(x_j − x_i)``; ``Var(S) = [T(T−1)(2T+5) − Σ_g t_g(t_g−1)(2t_g+5)] / 18``
    over groups of ``t_g`` tied values; ``z = (S − sign S) / √Var(S)`` (continuity correction;
    0 when S or the variance is 0) and ``p = 2·(1 − Φ(|z|))``. The normal approximation is
    rough below about 10 values; with fewer than 3 there is no test (z 0, p 1).

    >>> t = mann_kendall([1, 2, 3, 4, 5])
    >>> t.s, round(t.var_s, 4), round(t.z, 4), round(t.p, 4)
    (10.0, 16.6667, 2.2045, 0.0275)
    >>> t = mann_kendall([1, 2, 2, 3])
    >>> t.s, round(t.var_s, 4), round(t.z, 4), round(t.p, 4)
    (5.0, 7.6667, 1.4446, 0.1486)
    >>> mann_kendall(np.array([[3, 2, 1], [1, 1, 1]])).s.tolist()
    [-3.0, 0.0]
    >>> mann_kendall([]).p
    1.0
    """
    x = np.asarray(series, dtype=float)
    one = x.ndim <= 1
    x = x.reshape(1, -1) if one else x
    rows, t = x.shape
    s = np.zeros(rows)
    for lag in range(1, t):
        s += np.sign(x[:, lag:] - x[:, :-lag]).sum(axis=1)
    ties = np.zeros(rows)
    for k in range(t):
        group = (x == x[:, k:k + 1]).sum(axis=1)
        ties += (group - 1) * (2 * group + 5)
    var = (t * (t - 1) * (2 * t + 5) - ties) / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where((var > 0) & (s != 0), (s - np.sign(s)) / np.sqrt(var), 0.0)
    if t < _TREND_MIN_SLICES:
        z = np.zeros(rows)
    p = 2.0 * stats.norm.sf(np.abs(z))
    if one:
        return TrendTest(float(s[0]), float(var[0]), float(z[0]), float(p[0]))
    return TrendTest(s, var, z, p)


def _instants(times) -> pd.DatetimeIndex:
    """As nanoseconds whatever the input's unit (times read from PostgreSQL come in µs)."""
    try:
        return pd.DatetimeIndex(pd.to_datetime(pd.Series(times), errors="raise")).as_unit("ns")
    except (TypeError, ValueError) as exc:
        raise HotspotError(f"times are not dates and times: {exc}") from None


def _instant(value, tz) -> pd.Timestamp:
    t = pd.Timestamp(value)
    if tz is not None and t.tzinfo is None:
        t = t.tz_localize(tz)
    elif tz is None and t.tzinfo is not None:
        raise HotspotError("start/end carry a time zone but the times do not")
    return t


def emerging_hotspots(lng, lat, times, *, resolution: int = 8, slice_days: int = 30,
                      start=None, end=None, area: Polygon | MultiPolygon | None = None,
                      k_ring: int = 1, alpha: float = 0.05, standardise: str = "cube",
                      exact: bool = False) -> gpd.GeoDataFrame:
    """Emerging hot spots: how each H3 cell's Gi* hot spot status developed over time slices.

    Time: slices of ``slice_days`` days (24 h each) that end at ``end`` (exclusive; default the
    midnight after the last incident) and go back to ``start`` (inclusive; default the midnight
    before the first one). Only whole slices are used: when the span is not a multiple of
    ``slice_days`` its oldest remainder is left out. ``times`` are datetimes (numpy, pandas or
    Python; time-zone aware or naive, not mixed); a naive ``start``/``end`` is read in the times'
    zone.

    Per slice, every cell (those with points in any slice, plus the cells of ``area``) gets Gi*
    as in :func:`getis_ord` — counts of that slice, neighbours within ``k_ring``, normal p-values,
    Benjamini–Hochberg over the cells of the slice — computed with :func:`gi_star_numpy` for all
    slices at once, against the mean and spread ``standardise`` names (below). A cell is *hot*
    in a slice when ``p_fdr < alpha`` and z > 0. The trend is the Mann–Kendall test
    (:func:`mann_kendall`) of the cell's Gi* z series; it is up (down) when ``trend_p < alpha``
    and ``trend_z`` > 0 (< 0).

    ``standardise`` says what each z is measured against. ``"cube"`` (the default, as ESRI's
    space-time cube): the mean and spread of all cells in all slices, so a cluster with a steady
    number of cases keeps a steady z, whatever other clusters do, and a rise across the whole town
    raises every z. ``"slice"``: each slice on its own (exactly :func:`getis_ord` per slice), so a
    z says how far a cell stands out from the town that month: a town-wide rise is no trend, but
    a steady cluster's z falls while another cluster grows.

    Categories (a simplified form of ESRI's emerging hot spot analysis; cold spots are not
    classified), with *frequent* meaning hot in at least 90 % of the slices (11 of 12), the
    first rule that holds:

    ``new``
        hot in the last slice and in no other.
    ``intensifying``
        frequent, hot in the last slice, trend up.
    ``diminishing``
        frequent, trend down.
    ``persistent``
        frequent otherwise (no significant trend; also ESRI's "historical" — frequent but not hot
        at the end — when its trend is not down).
    ``consecutive``
        hot in an unbroken run of 2 or more slices up to the last one, never before the run.
    ``sporadic``
        hot in the last slice and in some earlier ones, on and off.
    ``none``
        anything else, including cells hot only in earlier slices.

    Returns a GeoDataFrame (EPSG:4326) with columns ``h3``, ``slices_hot``, ``trend_z``,
    ``trend_p``, ``category``, geometry; ``.attrs["slices"]`` lists each slice's
    ``(start, end)``. ``exact`` is passed to the binning, as in :func:`hex_counts`. Cost: one
    binning of all points, then O(cells × slices).

    Examples
    --------
    >>> t0 = pd.Timestamp("2026-01-01")
    >>> days = np.arange(90)
    >>> lng = np.r_[np.full(90, 117.72), 117.70 + (days % 10) * 0.004]
    >>> lat = np.r_[np.full(90, 39.32), 39.30 + (days // 10) * 0.004]
    >>> times = np.r_[t0 + pd.to_timedelta(days, "D"), t0 + pd.to_timedelta(days, "D")]
    >>> eh = emerging_hotspots(lng, lat, times, slice_days=30)
    >>> len(eh.attrs["slices"]), eh.columns.tolist()
    (3, ['h3', 'slices_hot', 'trend_z', 'trend_p', 'category', 'geometry'])
    >>> emerging_hotspots([], [], [], start="2026-01-01", end="2026-03-02").shape
    (0, 6)
    """
    resolution = _check_resolution(resolution)
    if standardise not in ("cube", "slice"):
        raise HotspotError(f"standardise must be 'cube' or 'slice': {standardise!r}")
    if slice_days <= 0:
        raise HotspotError(f"slice_days must be positive: {slice_days}")
    x, y, _, keep = _points(lng, lat)
    stamps = _instants(times)
    if len(stamps) != keep.size:
        raise HotspotError(f"times and points differ in length: {len(stamps)} and {keep.size}")
    stamps = stamps[keep]
    valid = ~stamps.isna()
    x, y, stamps = x[valid], y[valid], stamps[valid]
    tz = stamps.tz
    if start is None or end is None:
        if len(stamps) == 0:
            raise HotspotError("no incidents: give start and end")
    first = (stamps.min().floor("D") if start is None else _instant(start, tz))
    stop = (stamps.max().floor("D") + pd.Timedelta(days=1) if end is None else _instant(end, tz))
    width = int(slice_days) * _NS_PER_DAY
    n_slices = (stop.value - first.value) // width
    if n_slices < 1:
        raise HotspotError(f"from {first} to {stop} there is no whole slice of {slice_days} days")
    origin = stop.value - n_slices * width
    ns = stamps.asi8
    inside = (ns >= origin) & (ns < stop.value)
    x, y, ns = x[inside], y[inside], ns[inside]
    slice_of = (ns - origin) // width

    cells, index = _point_cells(x, y, resolution, exact)
    extra = np.setdiff1d(_area_cells(area, resolution), cells)
    if extra.size:
        all_cells = np.concatenate([cells, extra])
        order = np.argsort(all_cells)
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        index, cells = rank[index], all_cells[order]
    n = cells.size
    counts = np.bincount(index * n_slices + slice_of, minlength=n * n_slices)
    counts = counts.reshape(n, n_slices).astype(float)

    z = (gi_star_numpy(counts, ring_neighbours(cells, k_ring), pooled=standardise == "cube")
         if n else np.zeros((0, n_slices)))
    p = 2.0 * stats.norm.sf(np.abs(z))
    p_fdr = np.column_stack([fdr_bh(p[:, k]) for k in range(n_slices)]) if n else p
    hot = (p_fdr < alpha) & (z > 0)
    trend = mann_kendall(z)
    category = _emerging_categories(hot, np.atleast_1d(trend.z), np.atleast_1d(trend.p), alpha)

    out = _cell_frame(cells, {
        "slices_hot": hot.sum(axis=1).astype(np.int64),
        "trend_z": np.atleast_1d(trend.z).astype(float),
        "trend_p": np.atleast_1d(trend.p).astype(float),
        "category": category,
    })
    edges = [pd.Timestamp(origin + k * width, tz="UTC") for k in range(n_slices + 1)]
    if tz is not None:
        edges = [e.tz_convert(tz) for e in edges]
    else:
        edges = [e.tz_localize(None) for e in edges]
    out.attrs["slices"] = list(zip(edges[:-1], edges[1:], strict=True))
    return out


def _emerging_categories(hot: np.ndarray, trend_z: np.ndarray, trend_p: np.ndarray,
                         alpha: float) -> np.ndarray:
    n, t = hot.shape
    count = hot.sum(axis=1)
    last = hot[:, -1] if t else np.zeros(n, dtype=bool)
    frequent = count >= math.ceil(0.9 * t)
    up = (trend_p < alpha) & (trend_z > 0)
    down = (trend_p < alpha) & (trend_z < 0)
    # length of the unbroken run of hot slices that ends with the last slice
    not_hot_before = np.where(~hot[:, ::-1], np.arange(t), t)
    run = not_hot_before.min(axis=1) if t else np.zeros(n, dtype=np.int64)
    rules = [
        ("new", last & (count == 1)),
        ("intensifying", frequent & last & up),
        ("diminishing", frequent & down),
        ("persistent", frequent),
        ("consecutive", last & (run >= 2) & (run == count)),
        ("sporadic", last & (count >= 2)),
    ]
    out = np.full(n, "none", dtype=object)
    todo = np.ones(n, dtype=bool)
    for name, rule in rules:
        hit = todo & rule
        out[hit] = name
        todo &= ~hit
    return out
