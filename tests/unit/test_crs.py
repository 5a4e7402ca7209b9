"""Phone coordinates → WGS84: GCJ-02 / BD-09 round trips in metres, published vectors, validation."""

import math

import numpy as np
import pyproj
import pytest

from spatial.crs import (
    CRS_NAMES,
    CoordinateError,
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    in_china,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

GEOD = pyproj.Geod(ellps="WGS84")
TIANJIN = (117.745, 39.318)
PARIS = (2.3522, 48.8566)


def metres(lng1, lat1, lng2, lat2) -> np.ndarray:
    """Geodesic distance on the WGS84 ellipsoid, metres."""
    return np.asarray(GEOD.inv(lng1, lat1, lng2, lat2)[2])


@pytest.fixture(scope="module")
def china_grid():
    """A 1/4-degree lattice over China (lng 75–134, lat 18–53), plus points hugging lng 105,
    where the offset formula has a sqrt(|lng - 105|) kink."""
    lng, lat = np.meshgrid(np.linspace(75, 134, 237), np.linspace(18, 53, 141))
    near = 105.0 + np.concatenate([np.logspace(-13, -1, 60), -np.logspace(-13, -1, 60), [0.0]])
    lng = np.concatenate([lng.ravel(), near])
    lat = np.concatenate([lat.ravel(), np.full(near.size, 35.0)])
    assert in_china(lng, lat).all()
    return lng, lat


def test_gcj02_round_trip_is_exact(china_grid):
    lng, lat = china_grid
    gx, gy = wgs84_to_gcj02(lng, lat)
    shift = metres(lng, lat, gx, gy)
    assert shift.min() > 10 and shift.max() < 1000  # the offset really is applied everywhere
    wx, wy = gcj02_to_wgs84(gx, gy)
    error = metres(lng, lat, wx, wy)
    assert error.max() < 0.01  # brief: < 0.5 m; measured ~5e-7 m


def test_bd09_round_trip_is_exact(china_grid):
    lng, lat = china_grid
    bx, by = wgs84_to_bd09(lng, lat)
    wx, wy = bd09_to_wgs84(bx, by)
    assert metres(lng, lat, wx, wy).max() < 0.01
    # and the BD-09 leg on its own
    gx, gy = wgs84_to_gcj02(lng, lat)
    qx, qy = bd09_to_gcj02(*gcj02_to_bd09(gx, gy))
    assert metres(gx, gy, qx, qy).max() < 0.01


def test_iterated_inverse_beats_the_one_step_approximation(china_grid):
    lng, lat = china_grid
    gx, gy = wgs84_to_gcj02(lng, lat)
    # one step: subtract the shift evaluated at the GCJ-02 point itself
    sx, sy = wgs84_to_gcj02(gx, gy)
    one_step = metres(lng, lat, 2 * gx - sx, 2 * gy - sy)
    exact = metres(lng, lat, *gcj02_to_wgs84(gx, gy))
    assert one_step.max() > 0.5
    assert exact.max() < one_step.max() / 1000


def test_tianjin_offsets():
    gcj = wgs84_to_gcj02(*TIANJIN)
    bd = wgs84_to_bd09(*TIANJIN)
    gcj_shift = float(metres(*TIANJIN, *gcj))
    assert 100 < gcj_shift < 1000
    assert float(metres(*gcj, *bd)) > 100  # BD-09 moves it a further few hundred metres
    assert float(metres(*TIANJIN, *bd)) > gcj_shift


def test_scalars_in_scalars_out_arrays_keep_their_shape():
    lng, lat = wgs84_to_gcj02(*TIANJIN)
    assert type(lng) is float and type(lat) is float
    assert type(in_china(*TIANJIN)) is bool
    shape = (3, 4)
    xs, ys = np.full(shape, TIANJIN[0]), np.full(shape, TIANJIN[1])
    for convert in (wgs84_to_gcj02, gcj02_to_wgs84, gcj02_to_bd09, bd09_to_gcj02, bd09_to_wgs84,
                    wgs84_to_bd09):
        out_x, out_y = convert(xs, ys)
        assert out_x.shape == shape and out_y.shape == shape
    assert in_china(xs, ys).shape == shape


@pytest.mark.parametrize(
    ("lng", "lat"),
    [PARIS, (-74.006, 40.7128), (151.2093, -33.8688), (139.6917, 35.6895), (72.0, 30.0),
     (137.84, 30.0), (100.0, 0.8), (100.0, 55.83), (183.0, 45.0)],
)
def test_outside_china_is_unchanged(lng, lat):
    assert not in_china(lng, lat)
    assert wgs84_to_gcj02(lng, lat) == (lng, lat)
    assert gcj02_to_wgs84(lng, lat) == (lng, lat)


def test_outside_china_is_unchanged_in_bulk():
    xs = np.array([PARIS[0], TIANJIN[0], -120.0])
    ys = np.array([PARIS[1], TIANJIN[1], 37.0])
    gx, gy = wgs84_to_gcj02(xs, ys)
    assert (gx == xs).tolist() == [True, False, True]
    assert (gy == ys).tolist() == [True, False, True]


def test_in_china_extent_is_inclusive():
    assert in_china([72.004, 137.8347, 100.0, 100.0], [30.0, 30.0, 0.8293, 55.8271]).all()
    assert not in_china([72.0039, 137.8348, 100.0, 100.0], [30.0, 30.0, 0.8292, 55.8272]).any()


# Published vectors, computed independently of this module.
# eviltransform (github.com/googollee/eviltransform, python/test.py): wgs lat, lng → gcj lat, lng
EVILTRANSFORM = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]


@pytest.mark.parametrize(("wgs_lat", "wgs_lng", "gcj_lat", "gcj_lng"), EVILTRANSFORM)
def test_eviltransform_vectors(wgs_lat, wgs_lng, gcj_lat, gcj_lng):
    lng, lat = wgs84_to_gcj02(wgs_lng, wgs_lat)
    assert lng == pytest.approx(gcj_lng, abs=1e-6)
    assert lat == pytest.approx(gcj_lat, abs=1e-6)
    back = gcj02_to_wgs84(gcj_lng, gcj_lat)
    assert float(metres(wgs_lng, wgs_lat, *back)) < 0.05


def test_gcoord_vectors():
    # gcoord (github.com/hujiulong/gcoord, test/unit/crs/*.spec), checked there to 5 decimals
    assert wgs84_to_gcj02(123.0, 45.0) == pytest.approx((123.00607541, 45.00197815), abs=5e-6)
    assert gcj02_to_bd09(123.0, 45.0) == pytest.approx((123.00636499, 45.00636899), abs=5e-6)
    assert wgs84_to_bd09(123.0, 45.0) == pytest.approx((123.0124491, 45.0083293), abs=5e-6)
    assert gcj02_to_wgs84(123.0, 45.0) == pytest.approx((122.99395597, 44.99804071), abs=5e-6)


# --- to_wgs84: validation -----------------------------------------------------------------


@pytest.mark.parametrize("crs", ["wgs84", "WGS84", "cgcs2000", "CGCS2000", " wgs84 "])
def test_wgs84_and_cgcs2000_pass_through(crs):
    assert to_wgs84(*TIANJIN, crs) == TIANJIN


@pytest.mark.parametrize(("crs", "forward"), [("gcj02", wgs84_to_gcj02), ("GCJ02", wgs84_to_gcj02),
                                              ("bd09", wgs84_to_bd09), ("Bd09", wgs84_to_bd09)])
def test_offset_systems_are_converted_case_insensitively(crs, forward):
    lng, lat = to_wgs84(*forward(*TIANJIN), crs)
    assert type(lng) is float and type(lat) is float
    assert float(metres(*TIANJIN, lng, lat)) < 0.01


def test_integers_and_numpy_scalars_are_numbers():
    assert to_wgs84(117, 39, "wgs84") == (117.0, 39.0)
    assert to_wgs84(np.float64(117.5), np.int64(39), "wgs84") == (117.5, 39.0)


@pytest.mark.parametrize(
    ("lng", "lat", "crs", "field"),
    [
        (*TIANJIN, "epsg:3857", "location.crs"),
        (*TIANJIN, "", "location.crs"),
        (*TIANJIN, None, "location.crs"),
        (*TIANJIN, 4326, "location.crs"),
        (200.0, 39.318, "wgs84", "location.lng"),
        (-180.5, 39.318, "gcj02", "location.lng"),
        (117.745, -91.0, "wgs84", "location.lat"),
        (117.745, 90.5, "bd09", "location.lat"),
        (math.nan, 39.318, "wgs84", "location.lng"),
        (117.745, math.nan, "gcj02", "location.lat"),
        (math.inf, 39.318, "wgs84", "location.lng"),
        (117.745, -math.inf, "wgs84", "location.lat"),
        ("abc", 39.318, "wgs84", "location.lng"),
        (117.745, "39.318", "wgs84", "location.lat"),
        (None, 39.318, "wgs84", "location.lng"),
        (True, 39.318, "wgs84", "location.lng"),
        (117.745, False, "wgs84", "location.lat"),
        (np.bool_(True), 39.318, "wgs84", "location.lng"),
        (*PARIS, "wgs84", "location"),
        (*PARIS, "cgcs2000", "location"),
        (*PARIS, "gcj02", "location"),
        (*PARIS, "bd09", "location"),
        (0.0, 0.0, "wgs84", "location"),
    ],
)
def test_bad_reports_are_refused(lng, lat, crs, field):
    with pytest.raises(CoordinateError) as caught:
        to_wgs84(lng, lat, crs)
    err = caught.value
    assert isinstance(err, ValueError)
    assert err.field == field
    assert err.zh.strip() and err.en.strip()
    assert field in str(err)


def test_outside_china_message():
    with pytest.raises(CoordinateError) as caught:
        to_wgs84(*PARIS, "wgs84")
    assert caught.value.zh == "坐标不在中国境内"
    assert caught.value.en == "coordinates are outside China"


def test_crs_names():
    assert CRS_NAMES == ("wgs84", "cgcs2000", "gcj02", "bd09")
