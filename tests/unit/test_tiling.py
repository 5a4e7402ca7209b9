import numpy as np
import pytest
import shapely
from shapely.testing import assert_geometries_equal

from spatial.tiling import as_multipolygon, check_tiling, voronoi_coverage

SQUARE = shapely.box(0, 0, 10, 10)


def test_voronoi_cells_tile_the_boundary_exactly():
    rng = np.random.default_rng(1)
    xs, ys = rng.uniform(0, 10, 30), rng.uniform(0, 10, 30)
    cells = voronoi_coverage(xs, ys, SQUARE, precision=1e-9)
    report = check_tiling(cells, SQUARE)
    assert report.overlap_area == 0
    assert report.gap_area < 1e-12
    assert report.outside_area == 0


def test_cells_come_back_in_seed_order():
    cells = voronoi_coverage([1, 9], [5, 5], SQUARE)
    assert cells[0].contains(shapely.Point(1, 5))
    assert cells[1].contains(shapely.Point(9, 5))


def test_overlap_and_gap_are_measured():
    left = shapely.box(0, 0, 6, 10)  # overlaps the right half by 1 × 10
    right = shapely.box(5, 0, 10, 10)
    assert check_tiling([left, right], SQUARE).overlap_area == pytest.approx(10)
    holed = check_tiling([shapely.box(0, 0, 4, 10), right], SQUARE)
    assert holed.gap_area == pytest.approx(10)
    assert holed.gap_share == pytest.approx(0.1)


def test_no_parts_is_all_gap():
    assert check_tiling([], SQUARE).gap_share == 1.0


def test_as_multipolygon():
    assert_geometries_equal(as_multipolygon(SQUARE), shapely.MultiPolygon([SQUARE]))
    mp = shapely.MultiPolygon([SQUARE])
    assert as_multipolygon(mp) is mp
