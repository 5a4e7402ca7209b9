"""Point → grid routing in bulk with a Shapely STRtree (the vectorised twin of the PostGIS query).

The rule matches the database: a grid covers the point (``ST_Covers``: boundary included);
where two grids cover it (a shared edge or vertex), the lowest code wins.
"""

from __future__ import annotations

import gc

import numpy as np
import shapely


def locate_points(xs, ys, polygons, codes) -> np.ndarray:
    """Index into ``polygons`` of the grid that covers each point, or -1.

    ``xs``/``ys`` and ``polygons`` share one CRS (EPSG:4326 lon/lat here). Ties on shared
    edges go to the smallest code, so the result does not depend on input order.

    >>> a, b = shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)
    >>> locate_points([0.5, 1.0, 1.5, 9.0], [0.5, 0.5, 0.5, 9.0], [b, a], ["002", "001"]).tolist()
    [1, 1, 0, -1]
    >>> locate_points([], [], [a], ["001"]).tolist()
    []
    """
    xs = np.asarray(xs, dtype=float)
    ys = np.asarray(ys, dtype=float)
    result = np.full(xs.size, -1, dtype=np.int64)
    if xs.size == 0 or len(polygons) == 0:
        return result
    polys = np.asarray(polygons, dtype=object)
    shapely.prepare(polys)
    tree = shapely.STRtree(polys)
    # A million short-lived Point objects make Python's cyclic GC run for nothing: pause it.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        points = shapely.points(xs, ys)
    finally:
        if gc_was_enabled:
            gc.enable()
    # Bounding boxes from the tree, then the exact test on prepared polygons with bare
    # coordinates: for a point, "intersects" is "covered by" (the boundary counts).
    pt_idx, poly_idx = tree.query(points)
    hit = shapely.intersects_xy(polys[poly_idx], xs[pt_idx], ys[pt_idx])
    pt_idx, poly_idx = pt_idx[hit], poly_idx[hit]
    if pt_idx.size == 0:
        return result
    # rank polygons by code; keep the lowest-ranked hit per point
    rank = np.argsort(np.argsort(np.asarray(codes)))
    order = np.lexsort((rank[poly_idx], pt_idx))
    pt_sorted, poly_sorted = pt_idx[order], poly_idx[order]
    first = np.ones(pt_sorted.size, dtype=bool)
    first[1:] = pt_sorted[1:] != pt_sorted[:-1]
    result[pt_sorted[first]] = poly_sorted[first]
    return result
