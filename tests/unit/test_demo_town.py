"""The demo town's geometry, without a database: deterministic, tiled, numbered."""

import numpy as np
import shapely

from db.demo_town import build_town, to_local
from spatial.tiling import check_tiling


def test_same_seed_same_town_other_seed_other_town():
    a, b, c = build_town(7), build_town(7), build_town(8)
    assert [g["code"] for g in a.grids] == [g["code"] for g in b.grids]
    assert all(ga["geom"].equals_exact(gb["geom"], 0) for ga, gb in zip(a.grids, b.grids, strict=True))
    assert not a.grids[0]["geom"].equals(c.grids[0]["geom"])


def test_size_and_location_look_like_the_reference_town():
    town = build_town()
    assert len(town.villages) == 20
    assert 70 <= len(town.grids) <= 90
    lon, lat = town.outline.centroid.x, town.outline.centroid.y
    assert 117.6 < lon < 117.9 and 39.2 < lat < 39.45  # north of Binhai New Area
    local = shapely.transform(town.outline, lambda c: np.column_stack(to_local(c[:, 0], c[:, 1])))
    assert 80e6 < local.area < 130e6  # about 100 km²


def test_grids_tile_each_village_and_villages_tile_the_town():
    town = build_town()
    for village in town.villages:
        parts = [g["geom"] for g in town.grids if g["village_code"] == village["code"]]
        report = check_tiling(parts, village["geom"])
        assert report.overlap_area == 0, village["name"]
        assert report.gap_share < 1e-3, village["name"]
    assert check_tiling([v["geom"] for v in town.villages], town.outline).overlap_area == 0


def test_grid_numbering_runs_west_east_then_north_south():
    town = build_town()
    for village in town.villages[:5]:
        grids = [g for g in town.grids if g["village_code"] == village["code"]]
        assert [g["code"][-3:] for g in grids] == [f"{i:03d}" for i in range(1, len(grids) + 1)]
        assert all(g["code"].startswith(village["code"]) for g in grids)
        first, last = grids[0]["geom"].centroid, grids[-1]["geom"].centroid
        assert first.y > last.y - 0.007  # grid 001 sits in the northern row


def test_population_follows_the_rural_norm():
    town = build_town()
    for g in town.grids:
        if g["kind"] == "comprehensive":
            assert 150 <= g["households"] <= 480
            assert g["residents"] <= 2500
    assert sum(g["kind"] == "dedicated" for g in town.grids) >= 1


def test_backlog_times_run_backwards_on_the_working_clock():
    """An open demo case is placed so that its deadline status at ``until`` is the one drawn."""
    from datetime import datetime, timedelta

    from db.demo import TOWN_PATH, _open_times, _work_before
    from workflow import deadlines
    from workflow.clock import DEFAULT_CALENDAR as cal
    from workflow.clock import SHANGHAI

    until = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)  # a Monday morning: the weekend uses up nothing
    before = _work_before(cal, until, timedelta(hours=3))
    assert before == datetime(2026, 11, 20, 16, 0, tzinfo=SHANGHAI)  # 1.5 h on Monday, 1.5 h on Friday
    assert cal.work_between(before, until) == timedelta(hours=3)
    steps = list(TOWN_PATH[:4])  # dispatched and accepted: 处理中
    for u4, expected in ((0.1, deadlines.NORMAL), (0.9, deadlines.YELLOW), (0.99, deadlines.RED)):
        u = np.array([0.9, 0.5, 0.5, 0.5, u4, 0.5])
        reported, times = _open_times("处理中", steps, 4, "work_hours", until, u, cal)
        assert reported < times[0] < times[1] < times[2] < times[3] < until
        dispatched = times[2]
        status = deadlines.status(dispatched, cal.add(dispatched, 4, "work_hours"), until, calendar=cal)
        assert status.status == expected


def test_every_demo_category_has_an_english_name():
    from db import demo_town as T

    assert set(T.CATEGORY_EN) == {c[0] for c in T.CATEGORIES}
    assert all(klass.isascii() and name.isascii() and klass and name for klass, name in T.CATEGORY_EN.values())


def test_the_base_map_geography_leaves_the_town_as_it_was():
    """Roads, river and settlements come from a random stream of their own: the villages, grids,
    households and hotspots of the default seed are those the demo had before them (fingerprint
    taken before the geography was added)."""
    import hashlib

    town = build_town()
    h = hashlib.sha256()
    for v in town.villages:
        h.update(v["code"].encode() + v["name"].encode() + v["geom"].wkb)
    for g in town.grids:
        h.update(g["code"].encode() + g["name"].encode() + str(g["households"]).encode()
                 + str(g["residents"]).encode() + g["geom"].wkb)
    for s in town.hotspots:
        h.update(repr((s.name, s.x, s.y)).encode())
    assert h.hexdigest() == "d82acf4420ea0df87af9f43fb722cdafa62835c6be0801230899b85e841a098e"


def test_roads_river_and_settlements_lie_in_the_town():
    town = build_town()
    assert {r["kind"] for r in town.roads} == {"main", "village"} and len(town.rivers) == 1
    reach = town.outline.buffer(0.01)
    assert all(reach.contains(r["geom"]) for r in town.roads + town.rivers)
    assert [s["village_code"] for s in town.settlements] == [v["code"] for v in town.villages]
    for s, v in zip(town.settlements, town.villages, strict=True):
        assert v["geom"].contains(s["label"]) and len(s["blocks"].geoms) >= 3
        assert v["geom"].buffer(1e-6).contains(s["blocks"])
        assert not any(s["blocks"].intersects(r["geom"]) for r in town.rivers)
