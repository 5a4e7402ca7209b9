"""Redrawing grids: every edit leaves a village that its grids still tile, or is refused with reasons."""

import re

import numpy as np
import pytest
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, MultiPolygon, Polygon

from spatial.planning import (
    PlanningError,
    merge,
    next_codes,
    order_west_east_north_south,
    propose_split,
    reshape,
    split,
    tiling_problems,
    transfer,
)
from spatial.tiling import voronoi_coverage

VILLAGE_CODE = "120116103201"
VILLAGE = shapely.box(0, 0, 300, 200)  # metres, a local transverse Mercator


def code(seq: int) -> str:
    return f"{VILLAGE_CODE}{seq:03d}"


def boxes() -> dict[str, Polygon]:
    """Six 100 m squares, numbered in reading order: 001 002 003 over 004 005 006."""
    return {code(1 + col + 3 * row): shapely.box(100 * col, 100 - 100 * row, 100 * col + 100, 200 - 100 * row)
            for row in range(2) for col in range(3)}


SEEDS_X = [40, 150, 260, 60, 170, 250]
SEEDS_Y = [150, 160, 140, 50, 40, 60]


def voronoi() -> dict[str, Polygon]:
    cells = voronoi_coverage(SEEDS_X, SEEDS_Y, VILLAGE, precision=1e-9)
    return {code(i + 1): c for i, c in enumerate(cells)}


def assert_tiles(grids, village=VILLAGE):
    """No problem of any kind beyond 1e-6 of the village's area."""
    tol = 1e-6 * village.area
    assert tiling_problems(village, grids, tol, tol) == []
    assert sum(g.area for g in grids.values()) == pytest.approx(village.area, rel=1e-6)


def assert_refusal(err: PlanningError, codes):
    assert re.search(r"[\u4e00-\u9fff]", err.zh), err.zh  # Chinese for the planner
    assert err.en and err.en.isascii(), err.en
    assert set(err.codes) == set(codes)


def moved_vertex(poly: Polygon, old, new) -> Polygon:
    coords = [new if np.allclose(c, old) else c for c in poly.exterior.coords]
    return Polygon(coords)


# --- the fixtures themselves --------------------------------------------------------------------


@pytest.mark.parametrize("make", [boxes, voronoi])
def test_fixture_villages_tile(make):
    assert_tiles(make())


# --- reshape ------------------------------------------------------------------------------------


def test_moving_a_shared_vertex_outward_shrinks_the_neighbour():
    village = shapely.box(0, 0, 20, 10)
    west, east = "001", "002"
    grids = {west: shapely.box(0, 0, 10, 10), east: shapely.box(10, 0, 20, 10)}
    new = moved_vertex(grids[west], (10, 10), (12, 10))  # into the east grid
    out = reshape(grids, west, new)
    assert set(out) == {west, east}
    assert out[west].area == pytest.approx(110)  # a trapezoid with sides 10 and 12
    assert out[east].area == pytest.approx(100 - 10)  # the 2 × 10 triangle went west
    assert_tiles({**grids, **out}, village)


def test_moving_a_shared_vertex_inward_grows_the_neighbour():
    village = shapely.box(0, 0, 20, 10)
    grids = {"001": shapely.box(0, 0, 10, 10), "002": shapely.box(10, 0, 20, 10)}
    out = reshape(grids, "001", moved_vertex(grids["001"], (10, 10), (8, 10)))
    assert out["002"].area == pytest.approx(110)
    assert out["002"].covers(shapely.Point(9.5, 9.9))
    assert_tiles({**grids, **out}, village)


def test_moving_an_inner_vertex_takes_from_each_grid_that_held_the_area():
    grids = boxes()  # the four squares 001 002 / 004 005 meet at (100, 100)
    nw = grids[code(1)]
    new = moved_vertex(nw, (100, 100), (110, 90))
    out = reshape(grids, code(1), new)
    assert set(out) == {code(1), code(2), code(4), code(5)}
    for other in (code(2), code(4), code(5)):
        assert out[other].area < grids[other].area
    assert out[code(1)].area == pytest.approx(new.area)
    assert_tiles({**grids, **out})


def test_lost_area_goes_to_the_neighbour_with_the_longest_shared_edge():
    grids = boxes()
    # 002 gives up a strip along its west edge (shared with 001: 100 m) that also touches 005 (10 m)
    new = shapely.box(110, 100, 200, 200)
    out = reshape(grids, code(2), new)
    assert out[code(1)].area == pytest.approx(10_000 + 1_000)
    assert code(5) not in out
    assert_tiles({**grids, **out})


def test_area_lost_at_the_village_edge_is_left_as_a_gap():
    grids = boxes()
    new = moved_vertex(grids[code(1)], (0, 200), (10, 190))  # the village corner moves in
    out = reshape(grids, code(1), new)
    assert set(out) == {code(1)}
    tol = 1e-6 * VILLAGE.area
    (gap,) = tiling_problems(VILLAGE, {**grids, **out}, tol, tol)
    assert gap["kind"] == "gap" and code(1) in gap["codes"]
    assert gap["area"] == pytest.approx(2 * 100 * 10 / 2)  # two thin triangles along the edges
    assert grids[code(1)].contains(shapely.Point(gap["x"], gap["y"]))
    assert not out[code(1)].intersects(shapely.Point(gap["x"], gap["y"]))


def test_reshape_returns_only_the_grids_that_changed():
    grids = boxes()
    out = reshape(grids, code(1), shapely.box(0, 100, 100, 200))  # the same square
    assert set(out) == {code(1)}
    assert isinstance(out[code(1)], MultiPolygon)


def test_swallowing_a_neighbour_is_refused_naming_it():
    grids = boxes()
    with pytest.raises(PlanningError) as exc:
        reshape(grids, code(1), shapely.box(0, 100, 200, 200))
    assert_refusal(exc.value, [code(1), code(2)])
    assert code(2) in exc.value.zh and code(2) in exc.value.en


@pytest.mark.parametrize("bad", [None, Polygon(), shapely.LineString([(0, 0), (1, 1)]),
                                 Polygon([(0, 100), (100, 200), (100, 100), (0, 200)])])
def test_reshape_refuses_empty_invalid_or_non_polygon_geometry(bad):
    with pytest.raises(PlanningError) as exc:
        reshape(boxes(), code(1), bad)
    assert_refusal(exc.value, [code(1)])


def test_reshape_of_an_unknown_grid_is_refused():
    with pytest.raises(PlanningError) as exc:
        reshape(boxes(), code(9), shapely.box(0, 0, 1, 1))
    assert_refusal(exc.value, [code(9)])


@settings(max_examples=60, deadline=None)
@given(cell=st.integers(0, 5), vertex=st.integers(0, 40),
       dx=st.floats(-15, 15), dy=st.floats(-15, 15))
def test_moving_any_inner_vertex_keeps_the_tiling(cell, vertex, dx, dy):
    grids = voronoi()
    c = code(cell + 1)
    ring = list(grids[c].exterior.coords)[:-1]
    old = ring[vertex % len(ring)]
    new_xy = (old[0] + dx, old[1] + dy)
    # an inner vertex, moved within the village: no area leaves the village or is lost at its edge
    assume(VILLAGE.exterior.distance(shapely.Point(old)) > 1)
    assume(VILLAGE.buffer(-1).contains(shapely.Point(new_xy)))
    new = moved_vertex(grids[c], old, new_xy)
    assume(new.is_valid)
    try:
        out = reshape(grids, c, new)
    except PlanningError as err:  # a small neighbour may be swallowed: then it must say which
        assert c in err.codes and len(err.codes) >= 2
        return
    assert out[c].area == pytest.approx(new.area)
    assert_tiles({**grids, **out})


# --- split --------------------------------------------------------------------------------------


def test_split_by_a_north_south_line_gives_west_then_east():
    grid = boxes()[code(5)]
    parts = split(grid, LineString([(130, -10), (160, 120)]))
    assert len(parts) == 2
    assert parts[0].centroid.x < parts[1].centroid.x
    assert shapely.symmetric_difference(shapely.union_all(parts), grid).area < 1e-9 * grid.area
    assert shapely.intersection(parts[0], parts[1]).area == 0


def test_split_by_an_east_west_line_gives_north_then_south():
    grid = boxes()[code(1)]
    parts = split(grid, LineString([(-5, 130), (105, 170)]))
    assert [p.centroid.y > 150 for p in parts] == [True, False]


def test_split_parts_tile_the_village_in_place_of_the_grid():
    grids = voronoi()
    cell = grids[code(2)]
    c = cell.centroid
    parts = split(cell, LineString([(c.x - 300, c.y - 100), (c.x + 300, c.y + 100)]))
    assert len(parts) == 2
    rest = {k: v for k, v in grids.items() if k != code(2)}
    assert_tiles({**rest, "a": parts[0], "b": parts[1]})


def test_a_line_crossing_a_u_twice_gives_three_parts():
    u_shape = Polygon([(0, 0), (30, 0), (30, 30), (20, 30), (20, 10), (10, 10), (10, 30), (0, 30)])
    parts = split(u_shape, LineString([(-1, 20), (31, 20)]))
    assert len(parts) == 3
    assert [round(p.centroid.x) for p in parts] == [5, 25, 15]  # the two arms (north row), the base


def test_a_line_stopping_just_short_is_extended_by_snap():
    grid = shapely.box(0, 0, 100, 100)
    line = LineString([(50, -10), (50, 99.9995)])
    with pytest.raises(PlanningError):
        split(grid, line)
    assert len(split(grid, line, snap=0.001)) == 2


@pytest.mark.parametrize("line", [
    LineString([(50, -10), (50, 50)]),  # stops inside
    LineString([(150, -10), (150, 110)]),  # misses the grid
    LineString([(-10, 0), (110, 0)]),  # runs along its edge
])
def test_a_line_that_does_not_cut_across_is_refused(line):
    with pytest.raises(PlanningError) as exc:
        split(shapely.box(0, 0, 100, 100), line)
    assert_refusal(exc.value, [])


# --- merge --------------------------------------------------------------------------------------


def test_merging_neighbours_gives_one_polygon_without_holes():
    grids = voronoi()
    merged = merge(grids[code(1)], grids[code(2)], codes=[code(1), code(2)])
    assert len(merged.geoms) == 1 and len(merged.geoms[0].interiors) == 0
    assert merged.is_valid
    rest = {k: v for k, v in grids.items() if k not in (code(1), code(2))}
    assert_tiles({**rest, code(1): merged})


def test_merge_leaves_no_hole_from_float_noise():
    a = shapely.box(0, 0, 1, 1)
    # b's west edge bulges a nanometre away from a: a plain union keeps a sliver hole
    b = Polygon([(1, 0), (1, 0.25), (1 + 1e-9, 0.5), (1, 0.75), (1, 1), (2, 1), (2, 0)])
    assert len(shapely.union(a, b).interiors) == 1
    merged = merge(a, b)
    assert len(merged.geoms) == 1 and len(merged.geoms[0].interiors) == 0
    assert merged.area == pytest.approx(2)


def test_merge_keeps_a_real_hole():
    ring = shapely.box(0, 0, 30, 30).difference(shapely.box(10, 10, 20, 20))
    west = ring.intersection(shapely.box(0, 0, 15, 30))
    east = ring.intersection(shapely.box(15, 0, 30, 30))
    merged = merge(west, east)
    assert len(merged.geoms) == 1 and len(merged.geoms[0].interiors) == 1


def test_merging_grids_that_do_not_touch_is_refused_with_both_codes():
    grids = boxes()
    with pytest.raises(PlanningError) as exc:
        merge(grids[code(1)], grids[code(3)], codes=[code(1), code(3)])
    assert_refusal(exc.value, [code(1), code(3)])
    assert code(1) in exc.value.en and code(3) in exc.value.zh


def test_merging_grids_that_touch_at_a_corner_is_refused():
    grids = boxes()
    with pytest.raises(PlanningError) as exc:
        merge(grids[code(1)], grids[code(5)], codes=[code(1), code(5)])
    assert_refusal(exc.value, [code(1), code(5)])
    assert "point" in exc.value.en


# --- transfer -----------------------------------------------------------------------------------


def test_transfer_moves_the_part_and_keeps_the_tiling():
    grids = boxes()
    lasso = shapely.box(80, 120, 150, 180)  # drawn over 001 and 002: only 001's part moves
    out = transfer(grids, code(1), code(2), lasso)
    assert set(out) == {code(1), code(2)}
    assert out[code(1)].area == pytest.approx(10_000 - 20 * 60)
    assert out[code(2)].area == pytest.approx(10_000 + 20 * 60)
    assert len(out[code(2)].geoms) == 1
    assert_tiles({**grids, **out})


def test_transfer_of_nothing_is_refused():
    with pytest.raises(PlanningError) as exc:
        transfer(boxes(), code(1), code(2), shapely.box(150, 150, 160, 160))
    assert_refusal(exc.value, [code(1), code(2)])


def test_transfer_to_a_grid_not_touching_the_part_is_refused():
    with pytest.raises(PlanningError) as exc:
        transfer(boxes(), code(1), code(3), shapely.box(80, 120, 100, 180))
    assert_refusal(exc.value, [code(1), code(3)])


def test_transfer_that_would_leave_the_receiver_in_two_pieces_is_refused():
    lasso = shapely.MultiPolygon([shapely.box(90, 120, 100, 180), shapely.box(10, 120, 20, 180)])
    with pytest.raises(PlanningError) as exc:
        transfer(boxes(), code(1), code(2), lasso)
    assert_refusal(exc.value, [code(1), code(2)])
    assert "connected" in exc.value.en


def test_transfer_that_would_empty_the_donor_is_refused():
    with pytest.raises(PlanningError) as exc:
        transfer(boxes(), code(1), code(2), shapely.box(-10, 90, 110, 210))
    assert_refusal(exc.value, [code(1), code(2)])


# --- order and codes ----------------------------------------------------------------------------


def test_reading_order_of_scrambled_squares():
    grids = boxes()
    scrambled = [code(5), code(3), code(1), code(6), code(4), code(2)]
    order = order_west_east_north_south([grids[c] for c in scrambled])
    assert [scrambled[i] for i in order] == [code(i) for i in range(1, 7)]


def test_reading_order_of_voronoi_cells_follows_their_seeds():
    cells = list(voronoi().values())[::-1]
    order = order_west_east_north_south(cells)
    assert [cells[i] for i in order] == list(voronoi().values())


def test_next_codes_skip_used_and_retired_codes():
    used = {code(1), code(2), code(4), code(7)}
    assert next_codes(VILLAGE_CODE, used, 4) == [code(3), code(5), code(6), code(8)]


def test_next_codes_refuse_when_the_village_runs_out():
    used = {code(i) for i in range(1, 1000) if i != 500}
    assert next_codes(VILLAGE_CODE, used, 1) == [code(500)]
    with pytest.raises(PlanningError) as exc:
        next_codes(VILLAGE_CODE, used, 2)
    assert_refusal(exc.value, [])


@pytest.mark.parametrize("bad", ["12011610320", "1201161032010", "12011610320x", None])
def test_next_codes_need_a_twelve_digit_village(bad):
    with pytest.raises(ValueError):
        next_codes(bad, set(), 1)


# --- propose_split ------------------------------------------------------------------------------

IRREGULAR = Polygon([(0, 0), (180, 20), (260, 90), (230, 160), (120, 140), (40, 170), (-20, 80)])


def clustered_points(n=1000, seed=7):
    rng = np.random.default_rng(seed)
    centres = np.array([[50, 60], [200, 80], [150, 130]])
    sizes = [600, 250, 150]
    pts = np.vstack([rng.normal(c, 15, size=(k, 2)) for c, k in zip(centres, sizes, strict=True)])
    return pts[shapely.contains_xy(IRREGULAR, pts[:, 0], pts[:, 1])]


def assert_parts_tile(parts, whole):
    union = shapely.union_all(parts)
    assert shapely.symmetric_difference(union, whole).area <= 1e-9 * whole.area
    for i in range(len(parts)):
        for j in range(i + 1, len(parts)):
            assert shapely.intersection(parts[i], parts[j]).area <= 1e-9 * whole.area


def counts(parts, pts):
    return np.array([shapely.contains_xy(p, pts[:, 0], pts[:, 1]).sum() for p in parts])


@pytest.mark.parametrize("parts", [2, 3])
def test_proposal_balances_clustered_points(parts):
    pts = clustered_points()
    assert len(pts) > 900
    proposal = propose_split(IRREGULAR, pts, parts=parts)
    assert len(proposal) == parts
    n = counts(proposal, pts)
    assert n.sum() == len(pts)
    assert np.all(np.abs(n - len(pts) / parts) <= 0.05 * len(pts) / parts), n
    assert_parts_tile(proposal, IRREGULAR)


def test_weights_move_the_cut():
    pts = clustered_points()
    weights = np.where(pts[:, 0] > 120, 3.0, 1.0)
    proposal = propose_split(IRREGULAR, pts, weights=weights)
    got = [weights[shapely.contains_xy(p, pts[:, 0], pts[:, 1])].sum() for p in proposal]
    assert got[0] == pytest.approx(got[1], rel=0.05)
    assert counts(proposal, pts).tolist() != counts(propose_split(IRREGULAR, pts), pts).tolist()


@pytest.mark.parametrize("parts", [2, 3, 4])
def test_proposal_without_points_balances_area(parts):
    proposal = propose_split(IRREGULAR, parts=parts)
    areas = np.array([p.area for p in proposal])
    assert np.all(np.abs(areas - IRREGULAR.area / parts) <= 0.01 * IRREGULAR.area / parts), areas
    assert_parts_tile(proposal, IRREGULAR)


def test_proposal_cuts_across_the_long_axis_in_reading_order():
    wide = propose_split(shapely.box(0, 0, 400, 100))
    assert [p.bounds for p in wide] == [(0, 0, 200, 100), (200, 0, 400, 100)]
    tall = propose_split(shapely.box(0, 0, 100, 400))
    assert tall[0].centroid.y > tall[1].centroid.y


def test_proposal_with_too_few_points_inside_falls_back_to_area():
    proposal = propose_split(shapely.box(0, 0, 400, 100), np.array([[500.0, 50.0], [10.0, 10.0]]))
    assert [p.area for p in proposal] == pytest.approx([20_000, 20_000], rel=1e-4)


def test_proposal_refuses_an_invalid_grid():
    with pytest.raises(PlanningError):
        propose_split(Polygon([(0, 0), (1, 1), (1, 0), (0, 1)]))


# --- tiling_problems ----------------------------------------------------------------------------

TOL = 1e-6 * VILLAGE.area


def test_a_planted_gap_is_found_with_its_place_area_and_neighbours():
    grids = boxes()
    grids[code(1)] = shapely.box(0, 100, 95, 200)
    (gap,) = tiling_problems(VILLAGE, grids, TOL, TOL)
    assert gap["kind"] == "gap"
    assert gap["area"] == pytest.approx(500)
    assert shapely.box(95, 100, 100, 200).contains(shapely.Point(gap["x"], gap["y"]))
    assert {code(1), code(2), code(4)} <= set(gap["codes"])
    assert code(3) not in gap["codes"]


def test_a_hole_in_a_grid_is_a_gap():
    grids = boxes()
    grids[code(2)] = grids[code(2)].difference(shapely.box(140, 140, 160, 160))
    (gap,) = tiling_problems(VILLAGE, grids, TOL, TOL)
    assert gap["codes"] == [code(2)] and gap["area"] == pytest.approx(400)
    assert 140 < gap["x"] < 160 and 140 < gap["y"] < 160


def test_a_gap_below_tolerance_is_not_reported():
    grids = boxes()
    grids[code(1)] = shapely.box(0, 100, 99.99, 200)  # 1 m² sliver
    assert tiling_problems(VILLAGE, grids, 2.0, 2.0) == []
    assert [p["kind"] for p in tiling_problems(VILLAGE, grids, 0.5, 0.5)] == ["gap"]


def test_a_planted_overlap_names_both_grids():
    grids = boxes()
    grids[code(1)] = shapely.box(0, 100, 110, 200)
    (overlap,) = tiling_problems(VILLAGE, grids, TOL, TOL)
    assert overlap["kind"] == "overlap"
    assert overlap["codes"] == [code(1), code(2)]
    assert overlap["area"] == pytest.approx(1000)
    assert 100 < overlap["x"] < 110


def test_a_bow_tie_is_invalid_with_its_reason():
    grids = boxes()
    grids[code(3)] = Polygon([(200, 100), (300, 200), (300, 100), (200, 200)])
    problems = tiling_problems(VILLAGE, grids, TOL, TOL)
    invalid = [p for p in problems if p["kind"] == "invalid"]
    assert len(invalid) == 1 and invalid[0]["codes"] == [code(3)]
    assert "self-intersection" in invalid[0]["reason"].lower()
    assert (invalid[0]["x"], invalid[0]["y"]) == pytest.approx((250, 150))
    # its repair (two triangles) is checked further: the missing triangles are gaps
    assert sum(p["area"] for p in problems if p["kind"] == "gap") == pytest.approx(5000)


def test_a_grid_sticking_out_of_the_village_is_reported():
    grids = boxes()
    grids[code(6)] = shapely.box(200, 0, 310, 100)
    (out,) = tiling_problems(VILLAGE, grids, TOL, TOL)
    assert out["kind"] == "outside_village" and out["codes"] == [code(6)]
    assert out["area"] == pytest.approx(1000) and out["x"] > 300


def test_an_empty_grid_is_reported():
    grids = boxes()
    grids[code(6)] = Polygon()
    kinds = [(p["kind"], p["codes"]) for p in tiling_problems(VILLAGE, grids, TOL, TOL)]
    assert kinds[0] == ("empty", [code(6)])
    assert ("gap", [code(2), code(3), code(5)]) in kinds  # 002 touches it at a corner


def test_a_missing_village_is_an_error():
    with pytest.raises(ValueError):
        tiling_problems(Polygon(), boxes(), TOL, TOL)
