"""Grids that tile their village: generation of a coverage, and checks that it has no gap or overlap."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPoint, MultiPolygon, Polygon


@dataclass(frozen=True)
class TilingReport:
    """How far a set of parts is from tiling a whole, in the squared units of their CRS."""

    whole_area: float
    overlap_area: float
    gap_area: float
    outside_area: float

    @property
    def gap_share(self) -> float:
        return self.gap_area / self.whole_area if self.whole_area else 0.0


def voronoi_coverage(xs, ys, boundary: Polygon, precision: float = 0.0) -> list[Polygon]:
    """Voronoi cells of the seeds, clipped to ``boundary``, in seed order.

    Cells come from one diagram, so neighbours share their edges vertex for vertex. With
    ``precision`` > 0 every vertex is snapped to that grid, so that clip points computed
    separately for two neighbours coincide. Units are those of the inputs (any planar CRS).

    >>> sq = shapely.box(0, 0, 2, 1)
    >>> [round(c.area, 6) for c in voronoi_coverage([0.5, 1.5], [0.5, 0.5], sq)]
    [1.0, 1.0]
    >>> voronoi_coverage([], [], sq)
    []
    """
    xs = np.asarray(xs, dtype=float)
    ys = np.asarray(ys, dtype=float)
    if xs.size == 0:
        return []
    if xs.size == 1:
        return [boundary]
    seeds = shapely.points(xs, ys)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(MultiPoint(list(seeds)), extend_to=boundary.envelope.buffer(1))
    )
    # voronoi_polygons does not keep the seed order: match each cell to the seed it contains.
    tree = shapely.STRtree(cells)
    seed_idx, cell_idx = tree.query(seeds, predicate="within")
    order = np.full(xs.size, -1)
    order[seed_idx] = cell_idx
    clipped = shapely.intersection(cells[order], boundary)
    if precision > 0:
        clipped = shapely.set_precision(clipped, precision)
    return [_largest_polygon(c) for c in clipped]


def _largest_polygon(geom) -> Polygon:
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and not p.is_empty]
    if not parts:
        return Polygon()
    return max(parts, key=lambda p: p.area)


def check_tiling(parts, whole) -> TilingReport:
    """Overlap, gap and overflow areas of ``parts`` against ``whole`` (planar units squared).

    >>> a, b = shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)
    >>> r = check_tiling([a, b], shapely.box(0, 0, 2, 1))
    >>> (r.overlap_area, r.gap_area, r.outside_area)
    (0.0, 0.0, 0.0)
    >>> check_tiling([shapely.box(0, 0, 1.5, 1), b], shapely.box(0, 0, 2, 1)).overlap_area
    0.5
    """
    parts = [p for p in parts if p is not None and not p.is_empty]
    whole_area = float(whole.area)
    if not parts:
        return TilingReport(whole_area, 0.0, whole_area, 0.0)
    arr = np.array(parts, dtype=object)
    tree = shapely.STRtree(arr)
    left, right = tree.query(arr, predicate="intersects")
    keep = left < right
    overlaps = shapely.area(shapely.intersection(arr[left[keep]], arr[right[keep]]))
    union = shapely.union_all(arr)
    return TilingReport(
        whole_area=whole_area,
        overlap_area=float(np.sum(overlaps)),
        gap_area=float(shapely.difference(whole, union).area),
        outside_area=float(shapely.difference(union, whole).area),
    )


def as_multipolygon(geom) -> MultiPolygon:
    """Polygon or MultiPolygon → MultiPolygon (the type the grid and area columns hold)."""
    if isinstance(geom, MultiPolygon):
        return geom
    return MultiPolygon([geom])
