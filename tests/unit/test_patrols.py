"""Patrol tracks: GPX reading, distance and time, coverage, checkpoints, time outside the grid, the
plausibility flags, repeated tracks and attendance — on a synthetic grid of 500 m × 400 m near the
town (lng 117.72, lat 39.32) and synthetic walks at 1.3 m/s, a fix every 5 s, ~3 m of GPS noise."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

import spatial.patrols as patrols
from spatial.patrols import (
    Fix,
    GpxError,
    PatrolError,
    attendance_check,
    compare_tracks,
    flag_repeat,
    local_metric_crs,
    parse_gpx,
    project_points,
    same_track,
    track_metrics,
    weekly_hours,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "patrols"
SHANGHAI = ZoneInfo("Asia/Shanghai")
GEOD = pyproj.Geod(ellps="WGS84")
CENTRE = (117.72, 39.32)
CRS_M = local_metric_crs(*CENTRE)
_TO_M = pyproj.Transformer.from_crs("EPSG:4326", CRS_M, always_xy=True)
_TO_LL = pyproj.Transformer.from_crs(CRS_M, "EPSG:4326", always_xy=True)
X0, Y0 = _TO_M.transform(*CENTRE)
GRID_M = shapely.box(X0 - 250, Y0 - 200, X0 + 250, Y0 + 200)  # 500 m × 400 m, UTM 50N
GRID = shapely.transform(GRID_M, lambda c: np.column_stack(_TO_LL.transform(c[:, 0], c[:, 1])))
T0 = datetime(2026, 5, 6, 0, 30, tzinfo=UTC)  # 08:30 in the town
# Streets through the grid, as offsets in metres from its centre: three east-west passes.
LAWN = [(-200, -150), (200, -150), (200, -50), (-200, -50), (-200, 50), (200, 50)]
WALK_SPEED = 1.3
NOISE = 2.0  # m per axis: a radial RMS of 2.8 m


def absolute(offsets) -> np.ndarray:
    return np.asarray(offsets, dtype=float) + [X0, Y0]


def to_lnglat(x, y) -> tuple[np.ndarray, np.ndarray]:
    lng, lat = _TO_LL.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return np.atleast_1d(lng), np.atleast_1d(lat)


def walk(offsets, *, start: datetime = T0, speed: float = WALK_SPEED, every: float = 5.0,
         noise: float = NOISE, seed: int = 0) -> list[Fix]:
    """Fixes every ``every`` s along the path at ``speed`` m/s, with Gaussian noise per axis."""
    pts = absolute(offsets)
    cum = np.r_[0.0, np.cumsum(np.hypot(*np.diff(pts, axis=0).T))]
    s = np.arange(0.0, cum[-1] + 1e-9, speed * every)
    x, y = np.interp(s, cum, pts[:, 0]), np.interp(s, cum, pts[:, 1])
    rng = np.random.default_rng(seed)
    x, y = x + rng.normal(0, noise, x.size), y + rng.normal(0, noise, y.size)
    lng, lat = to_lnglat(x, y)
    return [Fix(start + timedelta(seconds=every * i), float(a), float(b))
            for i, (a, b) in enumerate(zip(lng, lat, strict=True))]


def to_gpx(fixes) -> bytes:
    points = "\n".join(
        f'<trkpt lat="{f.lat:.8f}" lon="{f.lng:.8f}">'
        f"<time>{f.t.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%f')}Z</time></trkpt>"
        for f in fixes
    )
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="test" '
            f'xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>\n{points}\n'
            f"</trkseg></trk></gpx>").encode()


def geodesic_length(offsets) -> float:
    lng, lat = to_lnglat(*absolute(offsets).T)
    return float(GEOD.line_length(lng, lat))


def moved(fixes, *, days: float = 0, seconds: float = 0, noise: float = 0.0, seed: int = 9) -> list[Fix]:
    """The same fixes later in time, optionally with fresh noise (metres per axis)."""
    rng = np.random.default_rng(seed)
    x, y = project_points([f.lng for f in fixes], [f.lat for f in fixes], CRS_M)
    lng, lat = to_lnglat(x + rng.normal(0, noise, x.size), y + rng.normal(0, noise, y.size))
    dt = timedelta(days=days, seconds=seconds)
    return [Fix(f.t + dt, float(a), float(b)) for f, a, b in zip(fixes, lng, lat, strict=True)]


def codes(metrics) -> list[str]:
    return [f["code"] for f in metrics["flags"]]


@pytest.fixture(scope="module")
def noisy_walk() -> list[Fix]:
    """The lawnmower walk, written to GPX and read back."""
    return parse_gpx(to_gpx(walk(LAWN)))


# ---------------------------------------------------------------------------------------------
# GPX


def test_gpx_file_with_segments_extensions_and_offsets():
    fixes = parse_gpx((DATA / "two_segments.gpx").read_bytes())
    assert [f.t.isoformat() for f in fixes] == [
        "2026-05-06T00:30:00+00:00", "2026-05-06T00:30:05.500000+00:00",
        "2026-05-06T00:30:10+00:00", "2026-05-06T00:30:20+00:00",
    ]
    assert all(f.t.tzinfo is UTC for f in fixes)
    assert [(f.lng, f.lat) for f in fixes][:2] == [(117.72, 39.32), (117.72005, 39.32005)]
    assert [f.accuracy_m for f in fixes] == [None, 3.0, 4.5, None]  # "n/a" is no accuracy
    assert [f.speed_mps for f in fixes] == [None, None, 1.4, None]  # a negative speed is none


def test_gpx_round_trip_of_a_walk(noisy_walk):
    original = walk(LAWN)
    assert len(noisy_walk) == len(original)
    assert [f.t for f in noisy_walk] == [f.t for f in original]
    assert max(abs(a.lng - b.lng) + abs(a.lat - b.lat) for a, b in zip(noisy_walk, original, strict=True)) < 1e-8


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(-90, 90), st.floats(-180, 180), st.integers(0, 10**6)),
                min_size=1, max_size=30))
def test_gpx_round_trip_keeps_every_point_sorted_by_time(points):
    fixes = [Fix(T0 + timedelta(seconds=s), lng, lat) for lat, lng, s in points]
    parsed = parse_gpx(to_gpx(fixes))
    assert len(parsed) == len(fixes)
    assert [f.t for f in parsed] == sorted(f.t for f in fixes)
    expected = sorted(fixes, key=lambda f: f.t)  # the sort is stable on both sides
    assert all(abs(a.lng - b.lng) <= 1e-8 and abs(a.lat - b.lat) <= 1e-8
               for a, b in zip(parsed, expected, strict=True))


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE gpx [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<gpx><trk><trkseg><trkpt lat="39.32" lon="117.72"><time>2026-05-06T00:00:00Z</time>
<name>&lol9;</name></trkpt></trkseg></trk></gpx>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE gpx [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<gpx><trk><trkseg><trkpt lat="39.32" lon="117.72"><time>2026-05-06T00:00:00Z</time>
<name>&secret;</name></trkpt></trkseg></trk></gpx>"""
PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE gpx [<!ENTITY % remote SYSTEM "http://example.org/evil.dtd"> %remote;]>
<gpx/>"""


def _one(attrs: str = 'lat="39.32" lon="117.72"', time: str = "<time>2026-05-06T00:00:00Z</time>") -> bytes:
    return f"<gpx><trk><trkseg><trkpt {attrs}>{time}</trkpt></trkseg></trk></gpx>".encode()


@pytest.mark.parametrize(("data", "en"), [
    (b"<gpx><trk><trkseg><trkpt lat='1' lon='2'></trk></gpx>", "malformed XML"),
    (b"", "malformed XML"),
    (b"\xff\xfe\x00garbage", "malformed XML"),
    (b"<kml><Placemark/></kml>", "not a GPX file"),
    (_one(time=""), "track point 1 has no time"),
    (_one(time="<time>  </time>"), "unreadable time"),
    (_one(time="<time>yesterday</time>"), "unreadable time"),
    (_one(attrs='lat="91" lon="117.72"'), "latitude out of range"),
    (_one(attrs='lat="39.32" lon="-180.5"'), "longitude out of range"),
    (_one(attrs='lat="nan" lon="117.72"'), "latitude out of range"),
    (_one(attrs='lat="39,32" lon="117.72"'), "latitude is not a number"),
    (_one(attrs='lon="117.72"'), "has no latitude"),
    (b"<gpx><wpt lat='39.32' lon='117.72'><time>2026-05-06T00:00:00Z</time></wpt>"
     b"<rte><rtept lat='39.32' lon='117.72'/></rte></gpx>", "no track points"),
    (b"<gpx><trk><trkseg/></trk></gpx>", "no track points"),
    (BOMB, "declares XML entities"),
    (XXE, "declares XML entities"),
    (PARAMETER_ENTITY, "declares XML entities"),
])
def test_gpx_errors_are_bilingual(data, en):
    with pytest.raises(GpxError) as info:
        parse_gpx(data)
    assert en in info.value.en
    assert any("\u4e00" <= ch <= "\u9fff" for ch in info.value.zh), info.value.zh


def test_too_many_points(monkeypatch):
    monkeypatch.setattr(patrols, "MAX_FIXES", 10)
    assert len(parse_gpx(to_gpx(walk(LAWN)[:10]))) == 10
    with pytest.raises(GpxError, match="more than 10 track points") as info:
        parse_gpx(to_gpx(walk(LAWN)[:11]))
    assert "轨迹点超过" in info.value.zh


# ---------------------------------------------------------------------------------------------
# metric CRS


def test_utm_zone_of_the_town_and_its_metres():
    assert CRS_M.to_epsg() == 32650
    x, y = project_points([117.72, 117.72], [39.32, 39.33], CRS_M)
    geodesic = GEOD.inv(117.72, 39.32, 117.72, 39.33)[2]
    assert float(np.hypot(x[1] - x[0], y[1] - y[0])) == pytest.approx(geodesic, rel=1e-3)


# ---------------------------------------------------------------------------------------------
# distance, time, coverage, checkpoints, outside


@pytest.mark.parametrize("seed", range(5))
def test_distance_is_the_true_length_within_2_percent(seed):
    fixes = parse_gpx(to_gpx(walk(LAWN, seed=seed)))
    true = geodesic_length(LAWN)
    m = track_metrics(fixes, GRID)
    assert m["distance_m"] == pytest.approx(true, rel=0.02)
    # The plain sum over consecutive fixes counts the jitter too: what distance_m removes.
    assert m["raw_distance_m"] > 1.05 * true


def test_standing_still_is_neither_distance_nor_moving_time():
    hour = [Fix(T0 + timedelta(seconds=5 * i), *CENTRE) for i in range(720)]
    jitter = moved(hour, noise=NOISE, seed=4)  # an hour at one spot, ~3 m of jitter every 5 s
    m = track_metrics(jitter, GRID)
    assert m["raw_distance_m"] > 2000  # 720 steps of ~3.5 m of jitter
    assert m["distance_m"] < 30
    assert m["moving_s"] < 60
    assert m["duration_s"] == 3595.0


def test_durations_of_a_walk(noisy_walk):
    m = track_metrics(noisy_walk, GRID)
    expected = 5.0 * (len(noisy_walk) - 1)
    assert m["fixes"] == len(noisy_walk)
    assert m["duration_s"] == expected
    assert m["moving_s"] == pytest.approx(expected, rel=0.03)
    assert m["outside_s"] == 0.0
    assert m["flags"] == []


def test_a_stop_is_not_moving_time():
    first, second = walk(LAWN[:2], seed=1), walk(LAWN[1:3], seed=2)
    pause = [Fix(first[-1].t + timedelta(seconds=5 * (i + 1)), first[-1].lng, first[-1].lat)
             for i in range(36)]  # 3 minutes at one spot
    pause = moved(pause, noise=NOISE, seed=5)
    later = first[-1].t + timedelta(seconds=5 * 37)
    second = [Fix(f.t - second[0].t + later, f.lng, f.lat) for f in second]
    m = track_metrics(first + pause + second, GRID)
    walking = (len(first) - 1 + len(second) - 1) * 5.0
    assert m["duration_s"] == pytest.approx(walking + 5 * 37)
    assert m["moving_s"] == pytest.approx(walking, abs=30)


def test_coverage_is_the_share_of_the_grid_within_30_m_of_the_path(noisy_walk):
    expected = GRID_M.intersection(shapely.LineString(absolute(LAWN)).buffer(30)).area / GRID_M.area
    m = track_metrics(noisy_walk, GRID)
    assert 0.4 < expected < 0.7
    assert m["coverage"] == pytest.approx(expected, abs=0.03)
    wider = track_metrics(noisy_walk, GRID, coverage_buffer_m=60)["coverage"]
    assert wider > m["coverage"] + 0.1


def test_coverage_without_walking_in_the_grid():
    outside = walk([(400, -150), (400, 150)])
    m = track_metrics(outside, GRID)
    assert m["coverage"] == 0.0
    assert m["outside_s"] == m["duration_s"]
    assert track_metrics(outside, None)["coverage"] is None


def test_checkpoints_visited_and_missed(noisy_walk):
    def cp(name, dx, dy, radius):
        lng, lat = to_lnglat(X0 + dx, Y0 + dy)
        return (name, float(lng[0]), float(lat[0]), radius)

    checkpoints = [cp("东门", 0, -150, 20), cp("小学", 0, -35, 20), cp("水塔", 0, 150, 30),
                   cp("桥头", 230, -100, 20)]
    m = track_metrics(noisy_walk, GRID, checkpoints)
    assert m["checkpoints"] == {"visited": ["东门", "小学"], "required": 4, "missed": ["水塔", "桥头"]}


def test_checkpoint_between_two_fixes_is_visited():
    sparse = walk(LAWN[:2], every=60, noise=0)  # 78 m between fixes
    between = (sparse[1].lng + sparse[2].lng) / 2, (sparse[1].lat + sparse[2].lat) / 2
    m = track_metrics(sparse, GRID, [("路口", *between, 5.0)])
    assert m["checkpoints"]["visited"] == ["路口"]


def test_no_line_across_a_jump_visits_a_checkpoint(noisy_walk):
    fixes = list(noisy_walk)
    k = 100
    x, y = project_points(fixes[k].lng, fixes[k].lat, CRS_M)
    far = to_lnglat(x + 3000, y)
    fixes[k] = Fix(fixes[k].t, float(far[0][0]), float(far[1][0]))
    halfway = to_lnglat(x + 1500, y)
    m = track_metrics(fixes, GRID, [("半路", float(halfway[0][0]), float(halfway[1][0]), 50.0)])
    assert m["checkpoints"]["missed"] == ["半路"]


def test_time_outside_the_grid_is_the_detour():
    # Out through the east edge (x = +250) to +350 and back: 2 × 100 m at 1.3 m/s = 154 s outside;
    # the first 10 m beyond the edge count as inside (the boundary road), so 2 × 90 m = 138 s.
    detour = walk([(-200, -150), (200, -150), (350, -150), (200, -150), (200, -50)], seed=6)
    m = track_metrics(detour, GRID)
    assert m["outside_s"] == pytest.approx(2 * 90 / WALK_SPEED, abs=10)
    assert codes(m) == []


# ---------------------------------------------------------------------------------------------
# flags


def test_teleport_is_a_jump_not_a_speed(noisy_walk):
    fixes = list(noisy_walk)
    k = 100
    far = Fix(fixes[k].t, fixes[k].lng + 0.035, fixes[k].lat)  # ~3 km east
    fixes[k] = far
    m = track_metrics(fixes, GRID)
    assert codes(m) == ["jump"]
    flag = m["flags"][0]
    assert flag["at"] == far.t.isoformat()
    assert flag["detail"]["count"] == 1
    assert flag["detail"]["max_m"] == pytest.approx(3000, rel=0.05)
    assert flag["zh"] and flag["en"]
    # every fix still counts: the distance includes the teleport there and back
    assert m["distance_m"] > geodesic_length(LAWN) + 5800


def test_car_speed_is_flagged(noisy_walk):
    by_car = walk([(200, 50), (200, 2000)], start=noisy_walk[-1].t + timedelta(seconds=5),
                  speed=40 / 3.6, seed=7)[:25]  # two minutes at 40 km/h, 55 m between fixes
    m = track_metrics(noisy_walk + by_car, GRID)
    assert codes(m) == ["speed"]
    flag = m["flags"][0]
    assert len(by_car) == 25
    assert flag["at"] in (noisy_walk[-1].t.isoformat(), by_car[0].t.isoformat())
    assert 35 < flag["detail"]["max_kmh"] < 50
    assert flag["detail"]["duration_s"] >= 100


def test_a_short_burst_on_an_e_bike_is_not_a_speed():
    ride = walk([(-200, -150), (200, -150)], speed=6.0, seed=8)  # 21.6 km/h, legal for an e-bike
    assert codes(track_metrics(ride, GRID)) == []


def test_a_single_leg_above_60_kmh_is_a_speed():
    fixes = walk(LAWN, noise=0.5, seed=10)
    x, y = project_points([f.lng for f in fixes], [f.lat for f in fixes], CRS_M)
    k = 50  # from fix 50 on, the rest of the walk is 200 m further east, reached in 10 s
    lng, lat = to_lnglat(np.r_[x[:k], x[k:] + 200], y)
    shifted = [Fix(f.t, float(a), float(b)) for f, a, b in zip(fixes, lng, lat, strict=True)]
    m = track_metrics(shifted, None)
    assert codes(m) == ["speed"]
    assert m["flags"][0]["detail"]["max_kmh"] > 60


def test_machine_perfect_track_is_regular_and_a_real_one_is_not(noisy_walk):
    perfect = parse_gpx(to_gpx(walk(LAWN, noise=0)))
    m = track_metrics(perfect, GRID)
    assert codes(m) == ["regular"]
    flag = m["flags"][0]
    assert flag["detail"]["fixes"] == len(perfect)  # the corners do not hide it
    assert flag["detail"]["interval_s"] == 5.0
    assert flag["detail"]["step_m"] == pytest.approx(6.5, abs=0.05)
    assert "regular" not in codes(track_metrics(noisy_walk, GRID))
    assert codes(track_metrics(perfect[:49], GRID)) == []  # too short to judge
    standing = [Fix(T0 + timedelta(seconds=5 * i), *CENTRE) for i in range(100)]
    assert codes(track_metrics(standing, GRID)) == []


def test_long_gap_is_sparse(noisy_walk):
    k = 80
    gap = timedelta(minutes=15)
    fixes = noisy_walk[:k] + [Fix(f.t + gap, f.lng, f.lat) for f in noisy_walk[k:]]
    m = track_metrics(fixes, GRID)
    assert codes(m) == ["sparse"]
    assert m["flags"][0]["at"] == noisy_walk[k - 1].t.isoformat()
    assert m["flags"][0]["detail"] == {"count": 1, "longest_s": 905.0}
    assert m["moving_s"] < m["duration_s"] - 900


def test_fixes_are_sorted_not_dropped(noisy_walk):
    shuffled = list(noisy_walk)
    np.random.default_rng(0).shuffle(shuffled)
    a, b = track_metrics(shuffled, GRID), track_metrics(noisy_walk, GRID)
    assert a == b


@pytest.mark.parametrize("grid", [None, shapely.Polygon()])
def test_no_grid(noisy_walk, grid):
    m = track_metrics(noisy_walk, grid)
    assert m["coverage"] is None and m["outside_s"] is None
    assert m["distance_m"] == track_metrics(noisy_walk, GRID)["distance_m"]


@pytest.mark.parametrize("fixes", [[], walk(LAWN)[:1]])
def test_empty_and_single_fix(fixes):
    m = track_metrics(fixes, GRID, [("东门", *CENTRE, 10.0)])
    assert (m["distance_m"], m["duration_s"], m["moving_s"], m["outside_s"], m["flags"]) == (0.0, 0.0, 0.0, 0.0, [])
    assert m["checkpoints"]["required"] == 1


def test_bad_input_is_refused():
    with pytest.raises(PatrolError, match="no time zone") as info:
        track_metrics([Fix(datetime(2026, 5, 6, 8, 30), *CENTRE)], GRID)
    assert "时区" in info.value.zh
    with pytest.raises(PatrolError, match="not a polygon"):
        track_metrics(walk(LAWN), shapely.Point(CENTRE))
    with pytest.raises(PatrolError, match="out of range"):
        track_metrics([Fix(T0, 117.72, 95.0)], GRID)


# ---------------------------------------------------------------------------------------------
# repeated tracks


@pytest.fixture(scope="module")
def yesterday() -> list[Fix]:
    return walk(LAWN, start=T0 - timedelta(days=1), seed=11)


def test_yesterday_replayed_today_is_a_repeat(yesterday):
    replay = moved(yesterday, days=1, noise=1.0)
    flag = flag_repeat(replay, [walk(LAWN[::-1], start=T0 - timedelta(days=2), seed=12), yesterday])
    assert flag is not None
    assert flag["code"] == "repeat"
    assert flag["at"] == replay[0].t.isoformat()
    assert flag["detail"]["day"] == 1
    assert flag["detail"]["date"] == "2026-05-05"
    assert flag["detail"]["score"] > 0.95
    assert "2026-05-05" in flag["zh"] and "2026-05-05" in flag["en"]
    assert same_track(replay, yesterday)


def test_a_replay_a_few_minutes_later_is_still_a_repeat(yesterday):
    replay = moved(yesterday, days=3, seconds=170, noise=1.0)
    match = compare_tracks(replay, yesterday)
    assert (match.days, match.shift_s) == (3, 170.0)
    assert same_track(replay, yesterday)


@pytest.mark.parametrize("other", [
    pytest.param(lambda: walk(LAWN[::-1], seed=13), id="same streets, other direction"),
    pytest.param(lambda: walk(LAWN, start=T0 + timedelta(minutes=45), seed=14), id="45 min later"),
    pytest.param(lambda: walk(LAWN, speed=1.2, seed=15), id="same time, other pace"),
    pytest.param(lambda: walk([LAWN[2], LAWN[3], LAWN[0], LAWN[1], LAWN[5], LAWN[4]], seed=16),
                 id="same streets, other order"),
    pytest.param(lambda: walk([(-200, -150), (-200, 150), (200, 150)], seed=17), id="other streets"),
])
def test_a_different_walk_is_not_a_repeat(yesterday, other):
    today = other()
    assert flag_repeat(today, [yesterday]) is None
    assert not same_track(today, yesterday)


def test_same_streets_match_in_space_but_not_in_time(yesterday):
    backwards = walk(LAWN[::-1], seed=13)
    match = compare_tracks(backwards, yesterday)
    assert match.geometry > 0.95
    assert match.timing < 0.3


def test_the_same_path_at_the_same_pace_and_clock_time_is_a_repeat(yesterday):
    """The rule looks at geometry and timing only: a walk matching both to within 15 m at every
    moment is flagged even with fresh GPS noise (no one walks a kilometre twice like that)."""
    twin = walk(LAWN, seed=15)
    assert same_track(twin, yesterday)


def test_short_tracks_never_repeat():
    here = [Fix(T0 + timedelta(seconds=5 * i), *CENTRE) for i in range(100)]
    assert not same_track(moved(here, days=1), here)
    assert flag_repeat(moved(here, days=1), [here]) is None


# ---------------------------------------------------------------------------------------------
# attendance


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def test_weekly_hours_clip_to_the_week_and_cross_midnight():
    week = date(2026, 5, 4)  # a Monday
    sessions = [
        (local(2026, 4, 27, 8), local(2026, 4, 27, 17)),  # the week before: nothing
        (local(2026, 5, 3, 22), local(2026, 5, 4, 2)),  # Sunday night into the week: 2 h
        (local(2026, 5, 6, 23), local(2026, 5, 7, 7)),  # across midnight: 8 h
        (datetime(2026, 5, 8, 0, tzinfo=UTC), datetime(2026, 5, 8, 4, tzinfo=UTC)),  # 08–12 local: 4 h
        (local(2026, 5, 8, 11), local(2026, 5, 8, 12)),  # inside the last one: counted once
        (local(2026, 5, 10, 21), local(2026, 5, 11, 3)),  # into the next week: 3 h
        (local(2026, 5, 9, 8), None),  # still signed in: not counted
    ]
    assert weekly_hours(sessions, week) == pytest.approx(17.0)
    assert weekly_hours(sessions, date(2026, 5, 11)) == pytest.approx(3.0)
    assert weekly_hours(sessions, date(2026, 4, 27)) == pytest.approx(11.0)


def test_weekly_hours_refuses_bad_sessions():
    with pytest.raises(PatrolError, match="before sign-in") as info:
        weekly_hours([(local(2026, 5, 5, 12), local(2026, 5, 5, 8))], date(2026, 5, 4))
    assert "早于" in info.value.zh
    with pytest.raises(PatrolError, match="no time zone"):
        weekly_hours([(datetime(2026, 5, 5, 8), datetime(2026, 5, 5, 9))], date(2026, 5, 4))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 7 * 24 * 60), st.integers(0, 30 * 60)), max_size=12))
def test_weeks_add_up_to_the_sessions(raw):
    """Sessions kept apart (each starts after the last ends), some across midnight or a week's
    end: their hours, week by week, add up to their total."""
    start = local(2026, 5, 4)
    sessions, cursor = [], 0
    for gap, length in raw:
        s = start + timedelta(minutes=cursor + gap)
        sessions.append((s, s + timedelta(minutes=length)))
        cursor += gap + length
    total = sum((e - s).total_seconds() for s, e in sessions) / 3600
    hours = [weekly_hours(sessions, date(2026, 5, 4) + timedelta(weeks=w)) for w in range(18)]
    assert sum(hours) == pytest.approx(total, abs=1e-9)  # 12 × (7 d + 30 h) < 18 weeks
    assert all(0 <= h <= 168 for h in hours)


@pytest.mark.parametrize(("dx", "dy", "inside", "distance"), [
    (0, 0, True, 0.0),
    (250, 0, True, 0.0),  # on the east edge
    (300, 0, True, 50.0),
    (250 + 99, 0, True, 99.0),
    (250 + 101, 0, False, 101.0),
    (0, -500, False, 300.0),
    (550, 500, False, float(np.hypot(300, 300))),  # off a corner
])
def test_attendance_inside_or_near_the_grid(dx, dy, inside, distance):
    lng, lat = to_lnglat(X0 + dx, Y0 + dy)
    ok, metres = attendance_check(float(lng[0]), float(lat[0]), GRID)
    assert ok is inside
    assert metres == pytest.approx(distance, abs=0.05)


def test_attendance_with_a_multipolygon_and_bad_input():
    other = shapely.transform(GRID, lambda c: c + [0.02, 0.0])
    lng, lat = to_lnglat(X0 + 300, Y0)
    assert attendance_check(float(lng[0]), float(lat[0]), shapely.MultiPolygon([other, GRID]),
                            tolerance_m=40) == (False, pytest.approx(50.0, abs=0.05))
    with pytest.raises(PatrolError, match="no grid"):
        attendance_check(*CENTRE, shapely.Polygon())
    with pytest.raises(PatrolError, match="out of range") as info:
        attendance_check(117.72, 91.0, GRID)
    assert "坐标" in info.value.zh
