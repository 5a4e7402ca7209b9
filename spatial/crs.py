"""Phone coordinates → WGS84 (EPSG:4326): the GCJ-02 and BD-09 offsets used by Chinese map apps.

Phones in China report positions in one of four systems:

``wgs84``
    GPS, EPSG:4326 longitude/latitude in degrees. What the grids are stored in.
``cgcs2000``
    China Geodetic Coordinate System 2000. Differs from WGS84 by a few centimetres, far below
    phone accuracy, so it is taken as WGS84 unchanged.
``gcj02``
    The obfuscated "Mars coordinates" of the national surveying bureau (AMap/Gaode, Tencent, Apple
    Maps in China): WGS84 plus a smooth pseudo-random shift of a few hundred metres, computed on
    the Krasovsky ellipsoid (a = 6378245.0 m, e² = 0.00669342162296594323). Outside a rough
    bounding box of China (:func:`in_china`) the shift is zero.
``bd09``
    Baidu's coordinates: GCJ-02 with a further rotation and scaling about the origin
    (x_pi = pi * 3000 / 180), another few hundred metres.

The forward transforms (WGS84 → GCJ-02, GCJ-02 → BD-09) are closed formulas; their inverses are
solved by fixed-point iteration to well under a millimetre (the one-step inverse often quoted is
off by 1–2 m). Everything here is pure numpy: inputs are longitudes and latitudes in degrees,
Python floats or arrays (broadcast against each other), and outputs have the same shape — Python
floats for scalar input, float arrays otherwise.

>>> lng, lat = wgs84_to_gcj02(117.745, 39.318)
>>> round(lng, 6), round(lat, 6)
(117.751341, 39.319108)
>>> back = gcj02_to_wgs84(lng, lat)
>>> round(back[0], 9), round(back[1], 9)
(117.745, 39.318)
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = [
    "CRS_NAMES",
    "CoordinateError",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_china",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

CRS_NAMES = ("wgs84", "cgcs2000", "gcj02", "bd09")

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 algorithm
_A = 6378245.0
_EE = 0.00669342162296594323
# BD-09 rotation constant
_X_PI = math.pi * 3000.0 / 180.0
# the rough extent of China the GCJ-02 algorithm tests before shifting, degrees
_LNG_MIN, _LNG_MAX = 72.004, 137.8347
_LAT_MIN, _LAT_MAX = 0.8293, 55.8271
# inverse iterations stop when no point moves by more than this (degrees; ~1e-6 m)
_TOLERANCE_DEG = 1e-11
_MAX_ITERATIONS = 30


class CoordinateError(ValueError):
    """A reported coordinate that cannot be used, with the offending field and bilingual messages.

    Parameters
    ----------
    field : str
        The request field at fault: ``"location.lng"``, ``"location.lat"``, ``"location.crs"``
        or ``"location"`` (the point as a whole).
    zh : str
        Message in Chinese, for the user.
    en : str
        Message in English, for logs and English-speaking users.

    Examples
    --------
    >>> err = CoordinateError("location.crs", "未知的坐标系", "unknown coordinate system")
    >>> err.field, err.zh, err.en
    ('location.crs', '未知的坐标系', 'unknown coordinate system')
    >>> str(err)
    'location.crs: unknown coordinate system'
    >>> isinstance(err, ValueError)
    True
    """

    def __init__(self, field: str, zh: str, en: str):
        super().__init__(f"{field}: {en}")
        self.field = field
        self.zh = zh
        self.en = en


# ---------------------------------------------------------------------------------------------
# helpers


def _arrays(lng, lat):
    """Float arrays of lng/lat broadcast together, and whether both inputs were scalars."""
    x = np.asarray(lng, dtype=float)
    y = np.asarray(lat, dtype=float)
    scalar = x.ndim == 0 and y.ndim == 0
    x, y = np.broadcast_arrays(x, y)
    return x, y, scalar


def _result(x, y, scalar):
    if scalar:
        return float(x), float(y)
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def _in_china(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    # NaN compares False, so NaN points are "outside" and pass through unchanged
    return (x >= _LNG_MIN) & (x <= _LNG_MAX) & (y >= _LAT_MIN) & (y <= _LAT_MAX)


def _gcj02_delta(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The GCJ-02 shift (d_lng, d_lat) in degrees at WGS84 lng ``x``, lat ``y`` (no extent test)."""
    u = x - 105.0
    v = y - 35.0
    upi = u * math.pi
    vpi = v * math.pi
    # the shared high-frequency term
    wobble = 20.0 * np.sin(6.0 * upi) + 20.0 * np.sin(2.0 * upi)
    # pseudo-random shift in "metres" along each axis
    east = (
        300.0 + u + 2.0 * v + 0.1 * u * u + 0.1 * u * v + 0.1 * np.sqrt(np.abs(u))
        + (wobble
           + 20.0 * np.sin(upi) + 40.0 * np.sin(upi / 3.0)
           + 150.0 * np.sin(upi / 12.0) + 300.0 * np.sin(upi / 30.0)) * 2.0 / 3.0
    )
    north = (
        -100.0 + 2.0 * u + 3.0 * v + 0.2 * v * v + 0.1 * u * v + 0.2 * np.sqrt(np.abs(u))
        + (wobble
           + 20.0 * np.sin(vpi) + 40.0 * np.sin(vpi / 3.0)
           + 160.0 * np.sin(vpi / 12.0) + 320.0 * np.sin(vpi / 30.0)) * 2.0 / 3.0
    )
    # metres → degrees on the Krasovsky ellipsoid: meridian and prime-vertical radii
    phi = np.radians(y)
    w2 = 1.0 - _EE * np.sin(phi) ** 2
    w = np.sqrt(w2)
    meridian = _A * (1.0 - _EE) / (w2 * w)
    prime_vertical = _A / w
    d_lat = north * 180.0 / (meridian * math.pi)
    d_lng = east * 180.0 / (prime_vertical * np.cos(phi) * math.pi)
    return d_lng, d_lat


def _bd09_forward(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.hypot(x, y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _largest_step(dx: np.ndarray, dy: np.ndarray, mask: np.ndarray) -> float:
    step = np.maximum(np.abs(dx), np.abs(dy))[mask]
    step = step[np.isfinite(step)]
    return float(step.max()) if step.size else 0.0


# ---------------------------------------------------------------------------------------------
# public API


def in_china(lng, lat):
    """Whether points fall in the rough extent of China used by the GCJ-02 algorithm.

    The extent is the algorithm's own bounding box, lng 72.004–137.8347 and lat 0.8293–55.8271
    (inclusive), which also takes in neighbouring countries; outside it GCJ-02 applies no shift.

    Parameters
    ----------
    lng, lat : float or array_like
        Longitude and latitude in degrees (WGS84 or GCJ-02; the box is far coarser than their
        difference).

    Returns
    -------
    bool or ndarray of bool
        A Python bool for scalar input, else a boolean array of the broadcast shape. NaN is
        outside.

    Examples
    --------
    >>> in_china(117.745, 39.318)          # Tianjin
    True
    >>> in_china(2.3522, 48.8566)          # Paris
    False
    >>> in_china(72.004, 0.8293)           # the corner itself is inside
    True
    >>> in_china([72.0039, 137.8348, 100.0], [30.0, 30.0, float("nan")]).tolist()
    [False, False, False]
    """
    x, y, scalar = _arrays(lng, lat)
    inside = _in_china(x, y)
    return bool(inside) if scalar else inside


def wgs84_to_gcj02(lng, lat):
    """WGS84 (EPSG:4326) → GCJ-02 ("Mars coordinates"), degrees in and out.

    Points outside :func:`in_china` are returned unchanged, as the algorithm specifies.

    Parameters
    ----------
    lng, lat : float or array_like
        WGS84 longitude and latitude, degrees.

    Returns
    -------
    (lng, lat) : tuple of float or of ndarray
        GCJ-02 longitude and latitude, degrees, in the broadcast shape of the inputs.

    Examples
    --------
    >>> lng, lat = wgs84_to_gcj02(121.5272106, 31.1774276)     # Shanghai, eviltransform vector
    >>> round(lng, 6), round(lat, 6)
    (121.531542, 31.175304)
    >>> wgs84_to_gcj02(2.3522, 48.8566)                        # Paris: no shift outside China
    (2.3522, 48.8566)
    >>> lng, lat = wgs84_to_gcj02([105.0, 183.0], [35.0, 45.0])
    >>> lng.round(6).tolist(), lat.round(6).tolist()
    ([105.003286, 183.0], [34.999099, 45.0])
    """
    x, y, scalar = _arrays(lng, lat)
    with np.errstate(invalid="ignore"):
        d_lng, d_lat = _gcj02_delta(x, y)
    inside = _in_china(x, y)
    return _result(np.where(inside, x + d_lng, x), np.where(inside, y + d_lat, y), scalar)


def gcj02_to_wgs84(lng, lat):
    """GCJ-02 → WGS84 (EPSG:4326), degrees in and out, exact to well under a millimetre.

    Solves ``wgs84_to_gcj02(w) == g`` by fixed-point iteration ``w ← g − shift(w)``, which
    contracts by a factor of about 1/300 a step (3–5 steps). Points outside :func:`in_china`
    (tested on the GCJ-02 input) are returned unchanged.

    Parameters
    ----------
    lng, lat : float or array_like
        GCJ-02 longitude and latitude, degrees.

    Returns
    -------
    (lng, lat) : tuple of float or of ndarray
        WGS84 longitude and latitude, degrees, in the broadcast shape of the inputs.

    Examples
    --------
    >>> lng, lat = gcj02_to_wgs84(121.531541859215, 31.17530398364597)
    >>> round(lng, 7), round(lat, 7)
    (121.5272106, 31.1774276)
    >>> gcj02_to_wgs84(183.0, 45.0)                            # outside China: unchanged
    (183.0, 45.0)
    >>> lng, lat = gcj02_to_wgs84(np.array([[105.0]]), np.array([[35.0]]))
    >>> lng.shape
    (1, 1)
    >>> gcj02_to_wgs84(float("nan"), 30.0)
    (nan, 30.0)
    """
    gx, gy, scalar = _arrays(lng, lat)
    inside = _in_china(gx, gy)
    with np.errstate(invalid="ignore"):
        d_lng, d_lat = _gcj02_delta(gx, gy)
        wx, wy = gx - d_lng, gy - d_lat  # the classic one-step estimate (1–2 m off)
        for _ in range(_MAX_ITERATIONS):
            d_lng, d_lat = _gcj02_delta(wx, wy)
            nx, ny = gx - d_lng, gy - d_lat
            step = _largest_step(nx - wx, ny - wy, inside)
            wx, wy = nx, ny
            if step < _TOLERANCE_DEG:
                break
    return _result(np.where(inside, wx, gx), np.where(inside, wy, gy), scalar)


def gcj02_to_bd09(lng, lat):
    """GCJ-02 → BD-09 (Baidu), degrees in and out.

    The BD-09 formula is applied everywhere, in China or not.

    Parameters
    ----------
    lng, lat : float or array_like
        GCJ-02 longitude and latitude, degrees.

    Returns
    -------
    (lng, lat) : tuple of float or of ndarray
        BD-09 longitude and latitude, degrees, in the broadcast shape of the inputs.

    Examples
    --------
    >>> lng, lat = gcj02_to_bd09(123.0, 45.0)                 # gcoord: 123.00636499, 45.00636899
    >>> round(lng, 7), round(lat, 7)
    (123.006365, 45.006369)
    >>> lng, lat = gcj02_to_bd09([0.0], [0.0])                # the origin moves by the offset only
    >>> lng.round(6).tolist(), lat.round(6).tolist()
    ([0.0065], [0.006])
    """
    x, y, scalar = _arrays(lng, lat)
    with np.errstate(invalid="ignore"):
        bx, by = _bd09_forward(x, y)
    return _result(bx, by, scalar)


def bd09_to_gcj02(lng, lat):
    """BD-09 (Baidu) → GCJ-02, degrees in and out, exact to well under a millimetre.

    Starts from the usual closed-form approximation and refines it by fixed-point iteration on
    :func:`gcj02_to_bd09` until the round trip closes.

    Parameters
    ----------
    lng, lat : float or array_like
        BD-09 longitude and latitude, degrees.

    Returns
    -------
    (lng, lat) : tuple of float or of ndarray
        GCJ-02 longitude and latitude, degrees, in the broadcast shape of the inputs.

    Examples
    --------
    >>> lng, lat = bd09_to_gcj02(123.00636499, 45.00636899)
    >>> round(lng, 7), round(lat, 7)
    (123.0, 45.0)
    >>> lng, lat = bd09_to_gcj02(0.0065, 0.006)
    >>> abs(lng) < 1e-12 and abs(lat) < 1e-12
    True
    """
    bx, by, scalar = _arrays(lng, lat)
    finite = np.isfinite(bx) & np.isfinite(by)
    with np.errstate(invalid="ignore"):
        x = bx - 0.0065
        y = by - 0.006
        z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
        theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
        gx, gy = z * np.cos(theta), z * np.sin(theta)  # closed-form estimate
        for _ in range(_MAX_ITERATIONS):
            fx, fy = _bd09_forward(gx, gy)
            dx, dy = bx - fx, by - fy
            gx, gy = gx + dx, gy + dy
            if _largest_step(dx, dy, finite) < _TOLERANCE_DEG:
                break
    return _result(gx, gy, scalar)


def wgs84_to_bd09(lng, lat):
    """WGS84 (EPSG:4326) → BD-09 (Baidu), degrees in and out: GCJ-02 then BD-09.

    Examples
    --------
    >>> lng, lat = wgs84_to_bd09(123.0, 45.0)                 # gcoord test vector
    >>> round(lng, 6), round(lat, 6)
    (123.012449, 45.008329)
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lng, lat))


def bd09_to_wgs84(lng, lat):
    """BD-09 (Baidu) → WGS84 (EPSG:4326), degrees in and out: GCJ-02 then WGS84, both exact.

    Parameters
    ----------
    lng, lat : float or array_like
        BD-09 longitude and latitude, degrees.

    Returns
    -------
    (lng, lat) : tuple of float or of ndarray
        WGS84 longitude and latitude, degrees, in the broadcast shape of the inputs.

    Examples
    --------
    >>> lng, lat = bd09_to_wgs84(*wgs84_to_bd09(117.745, 39.318))
    >>> round(lng, 9), round(lat, 9)
    (117.745, 39.318)
    >>> lng, lat = bd09_to_wgs84([117.757, 200.0], [39.3256, 0.0])
    >>> lng.shape, lat.shape
    ((2,), (2,))
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lng, lat))


def _number(value, field: str, zh_name: str, en_name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise CoordinateError(field, f"{zh_name}必须是数字", f"{en_name} must be a number")
    number = float(value)
    if not math.isfinite(number):
        raise CoordinateError(
            field, f"{zh_name}必须是有限的数字", f"{en_name} must be a finite number"
        )
    return number


def to_wgs84(lng, lat, crs) -> tuple[float, float]:
    """Validate one reported point and convert it to WGS84 (EPSG:4326) degrees.

    Parameters
    ----------
    lng, lat : int or float
        The reported longitude and latitude in degrees, in the system ``crs``. Booleans, strings,
        NaN and infinities are refused.
    crs : str
        One of :data:`CRS_NAMES`, case-insensitive (surrounding blanks ignored). ``"cgcs2000"`` is
        taken as WGS84 (they agree to a few centimetres).

    Returns
    -------
    (lng, lat) : tuple of float
        WGS84 longitude and latitude, degrees.

    Raises
    ------
    CoordinateError
        ``field`` ``"location.crs"`` for a missing or unknown ``crs``; ``"location.lng"`` /
        ``"location.lat"`` for a non-number, NaN, infinity or a value out of range
        ([-180, 180] / [-90, 90]); ``"location"`` for a point outside :func:`in_china`, whatever
        its ``crs`` (the product serves one Chinese town).

    Examples
    --------
    >>> to_wgs84(117.745, 39.318, "WGS84")
    (117.745, 39.318)
    >>> lng, lat = to_wgs84(117.751341, 39.319108, "GCJ02")
    >>> round(lng, 5), round(lat, 5)
    (117.745, 39.318)
    >>> to_wgs84(117, 39, "cgcs2000")
    (117.0, 39.0)
    >>> try:
    ...     to_wgs84(2.3522, 48.8566, "wgs84")                # Paris
    ... except CoordinateError as err:
    ...     print(err.field, err.zh, err.en, sep=" | ")
    location | 坐标不在中国境内 | coordinates are outside China
    >>> try:
    ...     to_wgs84(117.745, 39.318, "epsg:3857")
    ... except CoordinateError as err:
    ...     print(err.field, err.zh)
    location.crs 未知的坐标系：'epsg:3857'
    >>> try:
    ...     to_wgs84(True, 39.318, "wgs84")
    ... except CoordinateError as err:
    ...     print(err.field, err.en)
    location.lng longitude must be a number
    """
    if not isinstance(crs, str) or not crs.strip():
        raise CoordinateError(
            "location.crs",
            "缺少坐标系，应为 " + "、".join(CRS_NAMES) + " 之一",
            "coordinate system is missing; expected one of " + ", ".join(CRS_NAMES),
        )
    name = crs.strip().lower()
    if name not in CRS_NAMES:
        raise CoordinateError(
            "location.crs",
            f"未知的坐标系：{crs!r}",
            f"unknown coordinate system {crs!r}; expected one of " + ", ".join(CRS_NAMES),
        )
    x = _number(lng, "location.lng", "经度", "longitude")
    y = _number(lat, "location.lat", "纬度", "latitude")
    if not -180.0 <= x <= 180.0:
        raise CoordinateError(
            "location.lng", "经度必须在 -180 到 180 之间", "longitude must be between -180 and 180"
        )
    if not -90.0 <= y <= 90.0:
        raise CoordinateError(
            "location.lat", "纬度必须在 -90 到 90 之间", "latitude must be between -90 and 90"
        )
    if not in_china(x, y):
        raise CoordinateError("location", "坐标不在中国境内", "coordinates are outside China")
    if name == "gcj02":
        return gcj02_to_wgs84(x, y)
    if name == "bd09":
        return bd09_to_wgs84(x, y)
    return x, y
