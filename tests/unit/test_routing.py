"""The STRtree router: the hard cases (shared edge, vertex, hole, just outside, far outside)."""

import numpy as np
import pytest
import shapely

from spatial.routing import locate_points

WEST = shapely.box(0, 0, 1, 1)
EAST = shapely.box(1, 0, 2, 1)
NORTH = shapely.box(0, 1, 2, 2)
DONUT = shapely.Polygon(shapely.box(3, 0, 6, 3).exterior.coords, [shapely.box(4, 1, 5, 2).exterior.coords])
POLYS = [EAST, NORTH, WEST, DONUT]
CODES = ["002", "003", "001", "004"]


@pytest.mark.parametrize(
    ("x", "y", "expected"),
    [
        (0.5, 0.5, "001"),  # inside
        (1.0, 0.5, "001"),  # shared edge WEST/EAST: lowest code
        (1.0, 1.0, "001"),  # vertex shared by three grids
        (1.5, 1.0, "002"),  # shared edge EAST/NORTH
        (4.5, 1.5, None),  # in the hole
        (4.0, 1.5, "004"),  # on the hole's rim: covered
        (2.0000001, 0.5, None),  # just outside
        (100.0, 100.0, None),  # far outside
    ],
)
def test_hard_cases(x, y, expected):
    idx = locate_points([x], [y], POLYS, CODES)[0]
    assert (CODES[idx] if idx >= 0 else None) == expected


def test_result_does_not_depend_on_input_order():
    xs, ys = np.array([1.0, 1.0, 0.2]), np.array([0.5, 1.0, 1.7])
    a = [CODES[i] for i in locate_points(xs, ys, POLYS, CODES)]
    reversed_polys, reversed_codes = POLYS[::-1], CODES[::-1]
    b = [reversed_codes[i] for i in locate_points(xs, ys, reversed_polys, reversed_codes)]
    assert a == b == ["001", "001", "003"]


def test_empty_inputs():
    assert locate_points([], [], POLYS, CODES).size == 0
    assert locate_points([0.5], [0.5], [], []).tolist() == [-1]
