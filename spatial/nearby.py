"""Bulk point → grid routing with the near-boundary rule of the database query.

``db/sql/route_point.sql`` routes one point: the current grid that covers it (lowest code on a
shared edge or vertex), else the nearest grid within ``near_m`` metres (geography distance, ties to
the lowest code), else none. :func:`route_points` does the same for many points at once:
:func:`spatial.routing.locate_points` (STRtree) for the covering grid, then, for the points left
over, an STRtree ``dwithin`` query in local metres (:func:`spatial.local.local_metres`, the UTM
zone of the grids: scale within 4 parts in 10 000). Distances agree with PostGIS's geography
distances to about two centimetres at 50 m (the grid edges are straight in degrees, PostGIS
measures to geodesic edges), so only a point that close to the ``near_m`` ring can be classed
differently.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely

from spatial.local import local_metres
from spatial.routing import locate_points


@dataclass(frozen=True)
class Routing:
    """Per point: ``index`` into the polygons (-1: none), whether it was routed by the near rule,
    and the distance in metres to that grid (0.0 when covered, NaN when no grid)."""

    index: np.ndarray
    near: np.ndarray
    distance_m: np.ndarray


def degrees_covering(metres: float, lat: float) -> float:
    """A margin in degrees of EPSG:4326 that surely covers ``metres`` metres in every direction at
    latitude ``lat`` (degrees): for the bounding-box pre-filter (``&&``, ``ST_Expand``) in front of
    a test in metres. 1.5 × the east–west length, which is the longer one in degrees.

    >>> round(degrees_covering(50.0, 39.3), 6), round(degrees_covering(50.0, 0.0), 6)
    (0.000871, 0.000674)
    >>> degrees_covering(0.0, 39.3)
    0.0
    """
    return metres / (111_320.0 * max(math.cos(math.radians(lat)), 0.01)) * 1.5


def route_points(xs, ys, polygons, codes, near_m: float) -> Routing:
    """Route WGS84 points to grids: covered (lowest code wins), else nearest within ``near_m`` m
    (the setting ``WANGGE_NEAR_BOUNDARY_M``, passed in by the caller).

    >>> a = shapely.box(117.700, 39.300, 117.701, 39.301)     # about 86 m × 111 m
    >>> b = shapely.box(117.701, 39.300, 117.702, 39.301)
    >>> r = route_points([117.7005, 117.701, 117.7030, 117.7021, 118.0],
    ...                  [39.3005, 39.3005, 39.3005, 39.3005, 39.3], [b, a], ["002", "001"], near_m=50.0)
    >>> r.index.tolist(), r.near.tolist()
    ([1, 1, -1, 0, -1], [False, False, False, True, False])
    >>> round(float(r.distance_m[3]), 1), bool(np.isnan(r.distance_m[2]))
    (8.6, True)
    """
    xs = np.asarray(xs, dtype=float)
    ys = np.asarray(ys, dtype=float)
    codes = np.asarray(codes, dtype=object)
    index = locate_points(xs, ys, polygons, codes)
    near = np.zeros(xs.size, dtype=bool)
    distance = np.where(index >= 0, 0.0, np.nan)
    todo = np.flatnonzero((index < 0) & np.isfinite(xs) & np.isfinite(ys))
    if todo.size == 0 or len(polygons) == 0 or near_m <= 0:
        return Routing(index, near, distance)
    polys = np.asarray(polygons, dtype=object)
    minx, miny, maxx, maxy = shapely.total_bounds(polys)
    local = local_metres((minx + maxx) / 2.0, (miny + maxy) / 2.0)
    local_polys = local.to_m(polys)
    px, py = local.forward.transform(xs[todo], ys[todo])
    points = shapely.points(px, py)
    tree = shapely.STRtree(local_polys)
    pt_idx, poly_idx = tree.query(points, predicate="dwithin", distance=near_m)
    if pt_idx.size == 0:
        return Routing(index, near, distance)
    dist = shapely.distance(points[pt_idx], local_polys[poly_idx])
    keep = dist <= near_m
    pt_idx, poly_idx, dist = pt_idx[keep], poly_idx[keep], dist[keep]
    # nearest first, then the lowest code (ORDER BY distance_m, g.code)
    rank = np.argsort(np.argsort(codes.astype(str)))
    order = np.lexsort((rank[poly_idx], dist, pt_idx))
    pt_sorted = pt_idx[order]
    first = np.ones(pt_sorted.size, dtype=bool)
    first[1:] = pt_sorted[1:] != pt_sorted[:-1]
    chosen = todo[pt_sorted[first]]
    index[chosen] = poly_idx[order][first]
    near[chosen] = True
    distance[chosen] = dist[order][first]
    return Routing(index, near, distance)
