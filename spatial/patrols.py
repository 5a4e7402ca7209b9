"""Patrol tracks (巡查轨迹) of grid workers: GPX reading, track metrics, plausibility flags, repeated
tracks and attendance (考勤).

Pure analytics, no I/O: the database and API layers store tracks and call these functions.

Coordinates come and go in WGS84 (EPSG:4326) longitude/latitude degrees (convert GCJ-02/BD-09 phone
positions first with :func:`spatial.crs.to_wgs84`). Metric work — buffers, areas, distances to a
polygon, resampling — is done in the UTM zone of the area (:func:`local_metric_crs`), where a metre
is a metre to within 0.1 %; track lengths are geodesic on the WGS84 ellipsoid. Times are
timezone-aware datetimes; durations are in seconds.

Rules, in one place (the constants below hold the numbers):

* An *interval* is the step between two consecutive fixes. It is a *jump* (跳点) when the fixes
  are more than 500 m apart at an implied speed above 60 km/h, or more than 1 km apart within
  30 s. It is *observed* when it is no jump and lasts at most 5 minutes; otherwise nobody knows
  where the worker went in between, and no line is drawn across it for coverage or checkpoints.
* Fixes are never dropped. Flags say what is suspect; the metrics still count every fix.

>>> t0 = datetime(2026, 5, 1, 0, 0, tzinfo=UTC)
>>> walk = [Fix(t0 + timedelta(seconds=10 * i), 117.72 + 0.00015 * i, 39.32) for i in range(30)]
>>> grid = shapely.box(117.719, 39.319, 117.725, 39.321)
>>> m = track_metrics(walk, grid, [("school gate", 117.7222, 39.3200, 20.0)])
>>> round(m["distance_m"]), m["duration_s"], m["moving_s"], m["checkpoints"]["visited"]
(375, 290.0, 290.0, ['school gate'])
>>> round(m["coverage"], 2), m["outside_s"], m["flags"]
(0.22, 0.0, [])
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from xml.parsers import expat
from zoneinfo import ZoneInfo

import numpy as np
import shapely
from pyproj import CRS, Geod, Transformer
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

from spatial.local import local_metres

__all__ = [
    "FLAG_CODES",
    "Fix",
    "GpxError",
    "PatrolError",
    "TrackMatch",
    "attendance_check",
    "compare_tracks",
    "flag_repeat",
    "local_metric_crs",
    "parse_gpx",
    "project_geometry",
    "project_points",
    "same_track",
    "track_metrics",
    "weekly_hours",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")  # attendance weeks are local weeks (no DST in China)
GEOD = Geod(ellps="WGS84")

MAX_FIXES = 200_000  # a day at one fix per 0.5 s; more is not a patrol
MAX_INTERVAL_S = 300.0  # longer intervals are not "observed": no line, no moving time
JITTER_M = 8.0  # distance: a fix counts once this far from the last counted one
SMOOTH_SPAN_S = 20.0  # distance: positions are averaged over 3 fixes that span at most this
SPEED_LEG_S = 10.0  # speeds are judged over legs of at least this long (GPS jitter over 1 s is huge)
EBIKE_MPS = 25 / 3.6  # GB 17761-2018: an e-bike (电动自行车) is limited to 25 km/h
CAR_MPS = 60 / 3.6  # no worker on foot or e-bike reaches this, even once
JUMP_M = 500.0  # with an implied speed above CAR_MPS
JUMP_FAST_M, JUMP_FAST_S = 1000.0, 30.0
REGULAR_FIXES = 50  # the regularity test looks at runs of this many fixes
REGULAR_CV = 0.02  # robust coefficient of variation below which a run is "machine-perfect"
REGULAR_MIN_STEP_M = 1.0  # standing still (steps of 0 m) is not machine regularity
SPARSE_GAP_S = 600.0
OUTSIDE_TOLERANCE_M = 10.0  # a worker on the boundary road is inside their grid
RESAMPLE_M = 10.0  # same_track compares tracks point for point every 10 m
REPEAT_MIN_LENGTH_M = 200.0  # shorter tracks (standing at the gate) say nothing about repetition

FLAG_CODES = ("speed", "jump", "regular", "sparse", "repeat")
_FLAG_TEXT = {
    "speed": ("速度超出步行或电动自行车可能达到的范围", "speed beyond what is possible on foot or by e-bike"),
    "jump": ("轨迹跳点：相邻两个定位点相距过远", "jump: consecutive fixes too far apart to be travelled"),
    "regular": ("定位间隔和步长过于规则，不像真实的 GPS 轨迹",
                "intervals and steps too regular for a real GPS track"),
    "sparse": ("巡查途中定位中断超过 10 分钟", "fixes missing for more than 10 minutes during the patrol"),
}


class PatrolError(ValueError):
    """Patrol data that cannot be used, with the reason in Chinese and English.

    Parameters
    ----------
    zh : str
        Message in Chinese, for the grid worker or the centre's staff.
    en : str
        Message in English, for logs and English-speaking users.

    Examples
    --------
    >>> err = PatrolError("签到时间缺少时区", "sign-in time has no time zone")
    >>> err.zh, err.en, str(err), isinstance(err, ValueError)
    ('签到时间缺少时区', 'sign-in time has no time zone', 'sign-in time has no time zone', True)
    """

    def __init__(self, zh: str, en: str):
        super().__init__(en)
        self.zh = zh
        self.en = en


class GpxError(PatrolError):
    """A GPX file that cannot be read (malformed, unsafe, no usable track points, too large).

    >>> isinstance(GpxError("无", "none"), PatrolError)
    True
    """


@dataclass(frozen=True, slots=True)
class Fix:
    """One position fix (定位点) of a track.

    ``t`` is timezone-aware; ``lng``/``lat`` are WGS84 degrees; ``accuracy_m`` is the horizontal
    accuracy the device reported, metres (``None`` when unknown); ``speed_mps`` the speed it
    reported, metres per second (``None`` when unknown). The metrics use positions and times only:
    reported speeds are often missing and as easy to fake as positions.
    """

    t: datetime
    lng: float
    lat: float
    accuracy_m: float | None = None
    speed_mps: float | None = None


# ---------------------------------------------------------------------------------------------
# GPX


_ACCURACY_TAGS = frozenset({"accuracy", "hacc", "horizontal_accuracy", "horizontalaccuracy"})


def parse_gpx(data: bytes | str) -> list[Fix]:
    """The track points of a GPX 1.0 or 1.1 file, sorted by time (stable: ties keep file order).

    All ``<trkpt>`` of all ``<trk>``/``<trkseg>`` are read into one list; route points
    (``<rtept>``, a planned route) and waypoints (``<wpt>``, marked places) are ignored, since they
    are not where the worker walked. Times are converted to UTC; a time without offset is UTC, as
    the GPX schema says. ``speed_mps`` comes from a ``<speed>`` element inside the point (GPX 1.0,
    or an extension such as Garmin's ``gpxtpx:speed``), ``accuracy_m`` from an element named
    ``accuracy``, ``hacc`` or ``horizontal_accuracy`` (extensions; ``hdop`` is not in metres and
    is not used); unreadable or negative values of these two become ``None``.

    The file is parsed with expat, without a DTD: any entity declaration is refused, so entity
    bombs ("billion laughs") and external entities (XXE) are never expanded.

    Raises
    ------
    GpxError
        Malformed XML or not a GPX file; an entity declaration; no track point; a point without
        time or with an unreadable time; a missing, non-numeric or out-of-range coordinate; more
        than ``MAX_FIXES`` (200,000) points.

    Examples
    --------
    >>> gpx = b'''<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>
    ...   <trkpt lat="39.3201" lon="117.7202"><time>2026-05-01T08:00:05+08:00</time></trkpt>
    ...   <trkpt lat="39.3200" lon="117.7200"><time>2026-05-01T00:00:00Z</time></trkpt>
    ... </trkseg></trk></gpx>'''
    >>> [(f.t.isoformat(), f.lng, f.lat) for f in parse_gpx(gpx)]
    [('2026-05-01T00:00:00+00:00', 117.72, 39.32), ('2026-05-01T00:00:05+00:00', 117.7202, 39.3201)]
    >>> parse_gpx(b"<gpx><trk><trkseg><trkpt lat='39.32' lon='117.72'/></trkseg></trk></gpx>")
    Traceback (most recent call last):
    ...
    spatial.patrols.GpxError: track point 1 has no time
    >>> parse_gpx(b"<gpx><wpt lat='39.32' lon='117.72'/></gpx>")
    Traceback (most recent call last):
    ...
    spatial.patrols.GpxError: the GPX file has no track points
    >>> parse_gpx(b'<!DOCTYPE gpx [<!ENTITY a "aaaa">]><gpx>&a;</gpx>')
    Traceback (most recent call last):
    ...
    spatial.patrols.GpxError: the GPX file declares XML entities; refused for safety
    >>> parse_gpx(b"<gpx><trk>")
    Traceback (most recent call last):
    ...
    spatial.patrols.GpxError: malformed XML: no element found: line 1, column 10
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    return _GpxReader().read(data)


class _GpxReader:
    """Streaming expat handlers: only ``trkpt`` and the few elements inside it are kept."""

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.fixes: list[Fix] = []
        self.count = 0
        self.point: dict | None = None
        self.point_depth = 0
        self.field: str | None = None
        self.text: list[str] = []

    def read(self, data: bytes) -> list[Fix]:
        parser = expat.ParserCreate(namespace_separator="}")
        parser.buffer_text = True
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.EntityDeclHandler = self._refuse_entities
        parser.UnparsedEntityDeclHandler = self._refuse_entities
        parser.ExternalEntityRefHandler = self._refuse_entities
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._chars
        try:
            parser.Parse(data, True)
        except expat.ExpatError as exc:
            raise GpxError(f"GPX 文件不是合法的 XML：{exc}", f"malformed XML: {exc}") from None
        if not self.fixes:
            raise GpxError("GPX 文件中没有轨迹点", "the GPX file has no track points")
        return sorted(self.fixes, key=lambda f: f.t)

    @staticmethod
    def _refuse_entities(*_args):
        raise GpxError("GPX 文件声明了 XML 实体，出于安全原因拒绝处理",
                       "the GPX file declares XML entities; refused for safety")

    def _start(self, name: str, attrs: dict) -> None:
        local = name.rsplit("}", 1)[-1]
        if not self.stack and local != "gpx":
            raise GpxError(f"不是 GPX 文件（根元素为 {local}）",
                           f"not a GPX file (the root element is {local})")
        parent = self.stack[-1] if self.stack else None
        self.stack.append(local)
        if self.point is None:
            if local == "trkpt" and parent == "trkseg":
                self.count += 1
                if self.count > MAX_FIXES:
                    raise GpxError(f"轨迹点超过 {MAX_FIXES} 个", f"more than {MAX_FIXES} track points")
                self.point = {"lat": attrs.get("lat"), "lon": attrs.get("lon"),
                              "time": None, "speed": None, "accuracy": None}
                self.point_depth = len(self.stack)
            return
        key = local.lower()
        if key == "time" and len(self.stack) == self.point_depth + 1:
            self.field = "time"
        elif key == "speed":
            self.field = "speed"
        elif key in _ACCURACY_TAGS:
            self.field = "accuracy"
        else:
            return
        self.text = []

    def _chars(self, data: str) -> None:
        if self.field is not None:
            self.text.append(data)

    def _end(self, _name: str) -> None:
        depth = len(self.stack)
        self.stack.pop()
        if self.point is None:
            return
        if self.field is not None:
            self.point[self.field] = "".join(self.text)
            self.field = None
        if depth == self.point_depth:
            self.fixes.append(_fix_from(self.point, self.count))
            self.point = None


def _fix_from(point: dict, n: int) -> Fix:
    lng = _coordinate(point["lon"], n, "经度", "longitude", 180.0)
    lat = _coordinate(point["lat"], n, "纬度", "latitude", 90.0)
    if point["time"] is None:
        raise GpxError(f"第 {n} 个轨迹点缺少时间", f"track point {n} has no time")
    text = point["time"].strip()
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise GpxError(f"第 {n} 个轨迹点的时间无法识别：{text}",
                       f"track point {n}: unreadable time {text!r}") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return Fix(t.astimezone(UTC), lng, lat, _optional_float(point["accuracy"]),
               _optional_float(point["speed"]))


def _coordinate(text: str | None, n: int, zh: str, en: str, limit: float) -> float:
    if text is None:
        raise GpxError(f"第 {n} 个轨迹点缺少{zh}", f"track point {n} has no {en}")
    try:
        value = float(text)
    except ValueError:
        raise GpxError(f"第 {n} 个轨迹点的{zh}不是数字：{text}",
                       f"track point {n}: {en} is not a number: {text!r}") from None
    if not math.isfinite(value) or abs(value) > limit:
        raise GpxError(f"第 {n} 个轨迹点的{zh}超出范围：{text}",
                       f"track point {n}: {en} out of range: {text}")
    return value


def _optional_float(text: str | None) -> float | None:
    try:
        value = float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) and value >= 0 else None


# ---------------------------------------------------------------------------------------------
# metric CRS


def local_metric_crs(lng: float, lat: float) -> CRS:
    """The WGS84 / UTM zone CRS (EPSG:326xx north, 327xx south) of a WGS84 point, metres: the CRS of
    :func:`spatial.local.local_metres`, after checking the point. A track or
    grid a few kilometres across stays well inside its zone's accuracy even when it straddles a
    zone border.

    >>> local_metric_crs(117.72, 39.32).to_epsg()
    32650
    >>> local_metric_crs(-70.6, -33.4).to_epsg(), local_metric_crs(180.0, 0.0).to_epsg()
    (32719, 32660)
    >>> local_metric_crs(float("nan"), 0.0)
    Traceback (most recent call last):
    ...
    spatial.patrols.PatrolError: coordinates out of range: nan, 0.0
    """
    _check_lnglat(lng, lat)
    return local_metres(lng, lat).crs


def _transformer(crs: CRS) -> Transformer:
    return _transformer_to(crs.srs)


@lru_cache(maxsize=16)
def _transformer_to(srs: str) -> Transformer:
    return Transformer.from_crs("EPSG:4326", srs, always_xy=True)


def project_points(lng, lat, crs: CRS) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 lng/lat degrees (scalars or arrays) → x/y float arrays in the metres of ``crs``.

    >>> crs = local_metric_crs(117.72, 39.32)
    >>> x, y = project_points([117.72, 117.73], [39.32, 39.32], crs)
    >>> round(float(x[1] - x[0]), 1)       # 861.7 m on the ellipsoid; UTM scale is ≈ 1.0004 here
    862.0
    >>> project_points([], [], crs)
    (array([], dtype=float64), array([], dtype=float64))
    """
    x, y = _transformer(crs).transform(np.asarray(lng, dtype=float), np.asarray(lat, dtype=float))
    return np.atleast_1d(np.asarray(x, dtype=float)), np.atleast_1d(np.asarray(y, dtype=float))


def project_geometry(geom, crs: CRS):
    """A WGS84 Shapely geometry in the metres of ``crs``; ``None`` stays ``None``.

    >>> crs = local_metric_crs(117.72, 39.32)
    >>> round(project_geometry(shapely.box(117.72, 39.32, 117.73, 39.33), crs).area / 1e6, 3)
    0.957
    >>> project_geometry(None, crs) is None, project_geometry(Polygon(), crs).is_empty
    (True, True)
    """
    if geom is None:
        return None
    transformer = _transformer(crs)

    def fn(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, fn)


def _check_lnglat(lng, lat) -> None:
    ok = (isinstance(lng, int | float | np.floating | np.integer)
          and isinstance(lat, int | float | np.floating | np.integer)
          and math.isfinite(lng) and math.isfinite(lat) and abs(lng) <= 180 and abs(lat) <= 90)
    if not ok:
        raise PatrolError(f"坐标超出范围：{lng}, {lat}", f"coordinates out of range: {lng}, {lat}")


# ---------------------------------------------------------------------------------------------
# track metrics


@dataclass(frozen=True)
class _Track:
    """A track as arrays, in time order: seconds since the epoch, degrees and UTM metres."""

    fixes: list[Fix]
    crs: CRS | None
    t: np.ndarray
    lng: np.ndarray
    lat: np.ndarray
    x: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.fixes)


def _track(fixes: Iterable[Fix], crs: CRS | None = None) -> _Track:
    ordered = sorted(fixes, key=lambda f: f.t)
    for i, f in enumerate(ordered):
        if f.t.tzinfo is None or f.t.utcoffset() is None:
            raise PatrolError(f"第 {i + 1} 个定位点的时间缺少时区",
                              f"fix {i + 1}: the time has no time zone")
        _check_lnglat(f.lng, f.lat)
    t = np.array([f.t.timestamp() for f in ordered], dtype=float)
    lng = np.array([f.lng for f in ordered], dtype=float)
    lat = np.array([f.lat for f in ordered], dtype=float)
    if crs is None and ordered:
        crs = local_metric_crs(float(lng[0]), float(lat[0]))
    x, y = project_points(lng, lat, crs) if ordered else (np.empty(0), np.empty(0))
    return _Track(ordered, crs, t, lng, lat, x, y)


def _steps(tr: _Track) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per interval: duration (s), geodesic length (m), implied speed (m/s; inf for a move in 0 s)."""
    if len(tr) < 2:
        return np.empty(0), np.empty(0), np.empty(0)
    dt = np.diff(tr.t)
    step = np.asarray(GEOD.inv(tr.lng[:-1], tr.lat[:-1], tr.lng[1:], tr.lat[1:])[2], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        speed = np.where(dt > 0, step / np.where(dt > 0, dt, 1.0), np.where(step > 0, np.inf, 0.0))
    return dt, step, speed


def _jumps(dt: np.ndarray, step: np.ndarray, speed: np.ndarray) -> np.ndarray:
    return ((step > JUMP_M) & (speed > CAR_MPS)) | ((step > JUMP_FAST_M) & (dt <= JUMP_FAST_S))


def _runs(breaks: np.ndarray, n: int) -> list[tuple[int, int]]:
    """Index ranges [first, last] of the fixes between the broken intervals."""
    cuts = np.flatnonzero(breaks)
    starts = np.r_[0, cuts + 1]
    ends = np.r_[cuts, n - 1]
    return [(int(a), int(b)) for a, b in zip(starts, ends, strict=True)] if n else []


def track_metrics(fixes: Sequence[Fix], grid_geom_wgs84, checkpoints: Sequence[tuple] = (), *,
                  coverage_buffer_m: float = 30.0, stop_speed_mps: float = 0.5) -> dict:
    """Distance, time, grid coverage, checkpoints, time outside the grid and flags of one patrol.

    ``fixes`` are sorted by time here (a stable sort; none is dropped). ``grid_geom_wgs84`` is the
    worker's grid (Polygon or MultiPolygon, WGS84; ``None`` or empty when there is none: then
    ``coverage`` and ``outside_s`` are ``None``). ``checkpoints`` are ``(name, lng, lat, radius_m)``
    (WGS84 degrees, metres). Metric work is done in the UTM zone of the grid (else of the first
    fix).

    Returns a dict:

    ``fixes``
        The number of fixes.
    ``distance_m``
        Distance walked, geodesic metres, with GPS jitter removed: within each observed run (see
        the module notes) positions are smoothed by a centred mean of 3 fixes (where these span at
        most 20 s: over longer steps jitter hardly matters and a mean cuts corners), and a fix
        counts once it lies at least ``JITTER_M`` (8 m) from the last counted fix (a run's first and last
        fixes always count). Jumps and gaps are included as straight lines: a teleport adds its
        distance, and the ``jump`` flag says why the total is suspect. Without this, 3 m of jitter
        every 5 s adds 10–25 % to a walk and kilometres to an hour standing still.
    ``raw_distance_m``
        The plain geodesic sum over all consecutive fixes, jitter included.
    ``duration_s``
        Last fix time − first fix time.
    ``moving_s``
        The sum of the intervals between consecutive counted fixes (as for ``distance_m``) that
        lie in one observed run, last at most 5 min (``MAX_INTERVAL_S``) and were covered at
        ``stop_speed_mps`` or faster. Stops are not moving time, whatever the jitter.
    ``coverage``
        Share (0–1) of the grid's area within ``coverage_buffer_m`` of the track: the area of
        grid ∩ buffer(track) over the grid's area, in UTM. The track here is the lines of the
        observed runs and the fixes themselves: no line is drawn across a jump or a gap.
    ``checkpoints``
        ``{"visited": [names], "required": n, "missed": [names]}``, names in the given order. A
        checkpoint is visited when a fix, or the line between two fixes of an observed run, comes
        within its radius.
    ``outside_s``
        Time outside the grid: the sum of the intervals (all of them, gaps included) whose
        midpoint lies outside the grid buffered by ``OUTSIDE_TOLERANCE_M`` (10 m). An interval
        crossing the boundary counts whole or not at all, which evens out over a detour.
    ``flags``
        Implausibilities, at most one dict per code, in the order of ``FLAG_CODES``:
        ``{"code", "zh", "en", "at", "detail"}`` with ``at`` the ISO time of the first occurrence
        (or ``None``) and ``detail`` numbers for display. The codes:

        - ``speed``: judged over *legs* of at least ``SPEED_LEG_S`` (10 s; consecutive fixes are
          joined until the leg lasts that long, jumps excepted), since jitter over 1 s fakes any
          speed. A leg faster than 60 km/h, or two consecutive legs faster than 25 km/h (the
          legal top speed of an e-bike). ``detail``: ``count`` (stretches), ``max_kmh``,
          ``duration_s``.
        - ``jump``: a jump interval (see the module notes); ``at`` is the time of the fix after
          the first jump. ``detail``: ``count``, ``max_m``.
        - ``regular``: ``REGULAR_FIXES`` (50) consecutive fixes whose intervals and step lengths
          both have a robust coefficient of variation (1.4826 × MAD / median) below
          ``REGULAR_CV`` (0.02), with a median step of at least 1 m. Real GPS jitters; a track
          generated along a route does not, and the robust measure ignores its few corners.
          ``detail``: ``fixes`` (in regular stretches), ``interval_s``, ``step_m``.
        - ``sparse``: an interval longer than 10 minutes. Informative. ``detail``: ``count``,
          ``longest_s``.

    Raises
    ------
    PatrolError
        A fix without time zone or with coordinates out of range; a grid that is not polygonal.

    Examples
    --------
    >>> t0 = datetime(2026, 5, 1, tzinfo=UTC)
    >>> grid = shapely.box(117.719, 39.319, 117.725, 39.321)
    >>> m = track_metrics([], grid, [("gate", 117.72, 39.32, 30.0)])
    >>> m["distance_m"], m["coverage"], m["outside_s"], m["checkpoints"]["missed"], m["flags"]
    (0.0, 0.0, 0.0, ['gate'], [])
    >>> jump = [Fix(t0, 117.72, 39.32), Fix(t0 + timedelta(seconds=5), 117.76, 39.32),
    ...         Fix(t0 + timedelta(seconds=10), 117.7201, 39.32)]
    >>> m = track_metrics(jump, None)
    >>> [f["code"] for f in m["flags"]], m["flags"][0]["at"], m["coverage"]
    (['jump'], '2026-05-01T00:00:05+00:00', None)
    """
    grid = grid_geom_wgs84
    has_grid = grid is not None and not grid.is_empty
    if has_grid and not isinstance(grid, Polygon | MultiPolygon):
        raise PatrolError(f"网格范围不是面（{grid.geom_type}）",
                          f"the grid is not a polygon ({grid.geom_type})")
    fixes = list(fixes)
    crs = None
    if has_grid:
        c = grid.centroid
        crs = local_metric_crs(float(c.x), float(c.y))
    tr = _track(fixes, crs)
    crs = tr.crs
    n = len(tr)
    dt, step, speed = _steps(tr)
    jump = _jumps(dt, step, speed)
    observed = ~jump & (dt <= MAX_INTERVAL_S)
    runs = _runs(~observed, n)
    distance, moving = _distance_moving(tr, runs, stop_speed_mps)

    coverage = outside = None
    if has_grid:
        grid_m = project_geometry(grid, crs)
        area = _corridor_area(tr, runs, coverage_buffer_m)
        coverage, outside = 0.0, 0.0
        if area is not None and grid_m.area > 0:
            coverage = min(1.0, float(shapely.intersection(grid_m, area).area / grid_m.area))
        if n >= 2:
            zone = grid_m.buffer(OUTSIDE_TOLERANCE_M)
            shapely.prepare(zone)
            inside = shapely.contains_xy(zone, (tr.x[:-1] + tr.x[1:]) / 2, (tr.y[:-1] + tr.y[1:]) / 2)
            outside = float(dt[~inside].sum())
    return {
        "fixes": n,
        "distance_m": distance,
        "raw_distance_m": float(step.sum()),
        "duration_s": float(tr.t[-1] - tr.t[0]) if n else 0.0,
        "moving_s": moving,
        "coverage": coverage,
        "checkpoints": _visits(checkpoints, _corridor(tr, runs), crs),
        "outside_s": outside,
        "flags": _flags(tr, dt, step, speed, jump),
    }


def _smooth(values: np.ndarray, t: np.ndarray, a: int, b: int) -> np.ndarray:
    """Centred mean of 3 over fixes a..b where the 3 fixes span at most ``SMOOTH_SPAN_S``.

    Jitter matters when steps are short; over longer intervals the steps dwarf it and a mean
    would only cut corners. The ends of the run stay as they are.
    """
    part = values[a:b + 1].astype(float)
    if part.size >= 3:
        mean = (values[a:b - 1] + values[a + 1:b] + values[a + 2:b + 1]) / 3.0
        close = (t[a + 2:b + 1] - t[a:b - 1]) <= SMOOTH_SPAN_S
        part[1:-1] = np.where(close, mean, part[1:-1])
    return part


def _distance_moving(tr: _Track, runs: list[tuple[int, int]], stop_speed: float) -> tuple[float, float]:
    lngs: list[float] = []
    lats: list[float] = []
    times: list[float] = []
    run_of: list[int] = []
    for r, (a, b) in enumerate(runs):
        sx, sy = _smooth(tr.x, tr.t, a, b), _smooth(tr.y, tr.t, a, b)
        slng, slat = _smooth(tr.lng, tr.t, a, b), _smooth(tr.lat, tr.t, a, b)
        keep = [0]
        ax, ay = sx[0], sy[0]
        for i in range(1, b - a + 1):
            if i == b - a or math.hypot(sx[i] - ax, sy[i] - ay) >= JITTER_M:
                keep.append(i)
                ax, ay = sx[i], sy[i]
        lngs.extend(slng[keep])
        lats.extend(slat[keep])
        times.extend(tr.t[a:b + 1][keep])
        run_of.extend([r] * len(keep))
    if len(lngs) < 2:
        return 0.0, 0.0
    lng, lat, t = np.array(lngs), np.array(lats), np.array(times)
    legs = np.asarray(GEOD.inv(lng[:-1], lat[:-1], lng[1:], lat[1:])[2], dtype=float)
    dt = np.diff(t)
    same_run = np.diff(np.array(run_of)) == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        fast = legs >= stop_speed * dt
    moving = same_run & (dt > 0) & (dt <= MAX_INTERVAL_S) & fast
    return float(legs.sum()), float(dt[moving].sum())


def _corridor(tr: _Track, runs: list[tuple[int, int]]):
    """The observed path in UTM: the lines of runs of 2+ fixes, and lone fixes as points."""
    if not len(tr):
        return None
    parts = []
    for a, b in runs:
        if b > a:
            parts.append(LineString(np.column_stack([tr.x[a:b + 1], tr.y[a:b + 1]])))
        else:
            parts.append(Point(tr.x[a], tr.y[a]))
    return shapely.GeometryCollection(parts) if len(parts) > 1 else parts[0]


def _corridor_area(tr: _Track, runs: list[tuple[int, int]], radius: float):
    """The area within ``radius`` of the observed path (UTM).

    Each segment is buffered on its own and the pieces are unioned: GEOS buffers a long line that
    crosses itself thousands of times (an hour of jitter at one spot) in minutes, the pieces in
    milliseconds, with the same result.
    """
    pieces = []
    for a, b in runs:
        if b > a:
            xy = np.column_stack([tr.x[a:b + 1], tr.y[a:b + 1]])
            pieces.append(shapely.linestrings(np.stack([xy[:-1], xy[1:]], axis=1)))
        else:
            pieces.append(np.array([Point(tr.x[a], tr.y[a])], dtype=object))
    if not pieces:
        return None
    return shapely.union_all(shapely.buffer(np.concatenate(pieces), radius))


def _visits(checkpoints: Sequence[tuple], corridor, crs: CRS | None) -> dict:
    visited, missed = [], []
    for name, lng, lat, radius in checkpoints:
        _check_lnglat(lng, lat)
        hit = False
        if corridor is not None and crs is not None:
            x, y = project_points(lng, lat, crs)
            hit = bool(shapely.dwithin(corridor, Point(x[0], y[0]), float(radius)))
        (visited if hit else missed).append(name)
    return {"visited": visited, "required": len(checkpoints), "missed": missed}


def _flag(code: str, at: datetime | None, detail: dict, zh: str | None = None,
          en: str | None = None) -> dict:
    default_zh, default_en = _FLAG_TEXT.get(code, ("", ""))
    return {"code": code, "zh": zh or default_zh, "en": en or default_en,
            "at": at.isoformat() if at is not None else None, "detail": detail}


def _events(mask: np.ndarray) -> list[tuple[int, int]]:
    """[first, last] index of each run of True in ``mask``."""
    if not mask.any():
        return []
    padded = np.r_[False, mask, False].astype(np.int8)
    edges = np.diff(padded)
    return list(zip(np.flatnonzero(edges == 1).tolist(), (np.flatnonzero(edges == -1) - 1).tolist(),
                    strict=True))


def _flags(tr: _Track, dt: np.ndarray, step: np.ndarray, speed: np.ndarray, jump: np.ndarray) -> list[dict]:
    flags = []
    speed_flag = _speed_flag(tr, jump)
    if speed_flag:
        flags.append(speed_flag)
    jumps = _events(jump)
    if jumps:
        flags.append(_flag("jump", tr.fixes[jumps[0][0] + 1].t,
                           {"count": len(jumps), "max_m": round(float(step[jump].max()), 1)}))
    regular = _regular_flag(tr, dt, step)
    if regular:
        flags.append(regular)
    gaps = np.flatnonzero(dt > SPARSE_GAP_S)
    if gaps.size:
        flags.append(_flag("sparse", tr.fixes[int(gaps[0])].t,
                           {"count": int(gaps.size), "longest_s": float(dt[gaps].max())}))
    return flags


def _speed_flag(tr: _Track, jump: np.ndarray) -> dict | None:
    starts: list[int] = []
    ends: list[int] = []
    for a, b in _runs(jump, len(tr)):
        i = a
        while i < b:
            j = int(np.searchsorted(tr.t[a:b + 1], tr.t[i] + SPEED_LEG_S, side="left")) + a
            if j > b:
                break  # a tail shorter than a leg is not judged
            starts.append(i)
            ends.append(j)
            i = j
    if not starts:
        return None
    s, e = np.array(starts), np.array(ends)
    dt = tr.t[e] - tr.t[s]
    dist = np.asarray(GEOD.inv(tr.lng[s], tr.lat[s], tr.lng[e], tr.lat[e])[2], dtype=float)
    v = dist / dt
    linked = np.r_[False, s[1:] == e[:-1]]  # leg k follows leg k-1 without a jump between
    fast = v > EBIKE_MPS
    sustained = fast & ((np.r_[linked[1:], False] & np.r_[fast[1:], False]) | (linked & np.r_[False, fast[:-1]]))
    bad = (v > CAR_MPS) | sustained
    events = _events(bad)
    if not events:
        return None
    return _flag("speed", tr.fixes[int(s[events[0][0]])].t, {
        "count": len(events),
        "max_kmh": round(float(v[bad].max() * 3.6), 1),
        "duration_s": float(dt[bad].sum()),
    })


def _robust_cv(windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    med = np.median(windows, axis=1)
    mad = np.median(np.abs(windows - med[:, None]), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return med, np.where(med > 0, 1.4826 * mad / med, np.inf)


def _regular_flag(tr: _Track, dt: np.ndarray, step: np.ndarray) -> dict | None:
    width = REGULAR_FIXES - 1  # intervals in a window
    if dt.size < width:
        return None
    dt_w = np.lib.stride_tricks.sliding_window_view(dt, width)
    step_w = np.lib.stride_tricks.sliding_window_view(step, width)
    regular = np.zeros(dt_w.shape[0], dtype=bool)
    medians = np.zeros((dt_w.shape[0], 2))
    chunk = 8192  # medians copy their windows: bound the memory
    for lo in range(0, dt_w.shape[0], chunk):
        med_dt, cv_dt = _robust_cv(dt_w[lo:lo + chunk])
        med_step, cv_step = _robust_cv(step_w[lo:lo + chunk])
        regular[lo:lo + chunk] = ((cv_dt < REGULAR_CV) & (cv_step < REGULAR_CV)
                                  & (med_step >= REGULAR_MIN_STEP_M))
        medians[lo:lo + chunk] = np.column_stack([med_dt, med_step])
    if not regular.any():
        return None
    cover = np.zeros(len(tr) + 1, dtype=int)
    starts = np.flatnonzero(regular)
    np.add.at(cover, starts, 1)
    np.add.at(cover, starts + REGULAR_FIXES, -1)
    first = int(starts[0])
    return _flag("regular", tr.fixes[first].t, {
        "fixes": int((np.cumsum(cover)[:-1] > 0).sum()),
        "interval_s": round(float(medians[first, 0]), 3),
        "step_m": round(float(medians[first, 1]), 2),
    })


# ---------------------------------------------------------------------------------------------
# repeated tracks


@dataclass(frozen=True)
class TrackMatch:
    """How closely track A repeats track B (:func:`compare_tracks`).

    ``geometry``: the smaller of the shares of A's resampled points within the tolerance of B's
    line and of B's within A's. ``timing``: the smaller of the shares of A's resampled points whose
    B position at the same clock time (B moved by ``days`` whole days and ``shift_s`` seconds) is
    within the tolerance, and the same from B to A. ``score`` is the smaller of the two, 0–1.
    """

    geometry: float
    timing: float
    days: int = 0
    shift_s: float = 0.0

    @property
    def score(self) -> float:
        return min(self.geometry, self.timing)


_NO_MATCH = TrackMatch(0.0, 0.0)


def compare_tracks(fixes_a: Sequence[Fix], fixes_b: Sequence[Fix], *, tolerance_m: float = 15.0,
                   max_shift_s: float = 300.0) -> TrackMatch:
    """How closely track A repeats track B point for point, in space and in clock time.

    Both tracks are projected to the UTM zone of A's first fix and resampled every ``RESAMPLE_M``
    (10 m) along their lines, each sample keeping its interpolated time. Space: the share of A's
    samples within ``tolerance_m`` of B's line and of B's within A's. Time: B is moved by the whole
    number of days between the two starts and by a shift of at most ``max_shift_s`` (searched
    every 5 s, then every second); for each sample of A, B's position at the same moment (linear
    between its fixes) must be within ``tolerance_m``, and likewise for B against A; the shift
    that maximises the smaller share is kept. A different walk through the same streets — another
    order, the other direction, another start time or another pace — keeps the space shares but
    fails the time test; a replayed file passes both. Tracks shorter than
    ``REPEAT_MIN_LENGTH_M`` (200 m) match nothing (score 0). Replays shifted by hours, or
    stretched in time, are not detected.

    >>> t0 = datetime(2026, 5, 1, 0, 0, tzinfo=UTC)
    >>> a = [Fix(t0 + timedelta(seconds=5 * i), 117.72 + 0.00008 * i, 39.32) for i in range(60)]
    >>> b = [Fix(f.t + timedelta(days=1), f.lng, f.lat) for f in a]
    >>> m = compare_tracks(b, a)
    >>> m.score, m.days, m.shift_s
    (1.0, 1, 0.0)
    >>> backwards = [Fix(f.t, g.lng, g.lat) for f, g in zip(a, reversed(a))]  # same street, other way
    >>> m = compare_tracks(backwards, a)
    >>> m.geometry, m.timing < 0.2
    (1.0, True)
    >>> compare_tracks([], a).score
    0.0
    """
    return _compare(fixes_a, fixes_b, tolerance_m, max_shift_s, stop_below=None)


def _resample(tr: _Track) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    d = np.r_[0.0, np.cumsum(np.hypot(np.diff(tr.x), np.diff(tr.y)))]
    keep = np.r_[True, np.diff(d) > 0]
    d, x, y, t = d[keep], tr.x[keep], tr.y[keep], tr.t[keep]
    s = np.r_[np.arange(0.0, d[-1], RESAMPLE_M), d[-1]]
    return np.interp(s, d, x), np.interp(s, d, y), np.interp(s, d, t), float(d[-1])


def _timing_share(sx, sy, st, other: _Track, offset: float, tol: float) -> float:
    """Share of samples whose position in ``other`` at ``st + offset`` is within ``tol``."""
    q = st + offset
    ox = np.interp(q, other.t, other.x)
    oy = np.interp(q, other.t, other.y)
    ok = (q >= other.t[0]) & (q <= other.t[-1]) & (np.hypot(ox - sx, oy - sy) <= tol)
    return float(ok.mean())


class _Prepared:
    """A track ready for comparisons: projected, resampled, its line prepared (GEOS then tests a
    point against an index of the segments, not against every one of thousands of them)."""

    def __init__(self, fixes, crs: CRS | None = None):
        self.track = _track(fixes, crs)
        self.x, self.y, self.t, self.length = _resample(self.track)
        self.line = LineString(np.column_stack([self.track.x, self.track.y]))
        shapely.prepare(self.line)

    @property
    def crs(self) -> CRS:
        return local_metric_crs(float(self.track.lng[0]), float(self.track.lat[0]))


def _compare(fixes_a, fixes_b, tol: float, max_shift: float, stop_below: float | None,
             prepared_a: _Prepared | None = None) -> TrackMatch:
    fixes_a, fixes_b = list(fixes_a), list(fixes_b)
    if len(fixes_a) < 2 or len(fixes_b) < 2:
        return _NO_MATCH
    pa = prepared_a or _Prepared(fixes_a)
    pb = _Prepared(fixes_b, pa.crs)
    a, b = pa.track, pb.track
    ax, ay, at, alen = pa.x, pa.y, pa.t, pa.length
    bx, by, bt, blen = pb.x, pb.y, pb.t, pb.length
    if min(alen, blen) < REPEAT_MIN_LENGTH_M:
        return _NO_MATCH
    line_a, line_b = pa.line, pb.line
    geometry = min(float(shapely.dwithin(line_b, shapely.points(ax, ay), tol).mean()),
                   float(shapely.dwithin(line_a, shapely.points(bx, by), tol).mean()))
    if stop_below is not None and geometry < stop_below:
        return TrackMatch(geometry, 0.0)
    days = round((a.t[0] - b.t[0]) / 86400.0)
    base = days * 86400.0  # a time of A ≈ the time of B + base + shift

    def timing(shift: float) -> float:
        return min(_timing_share(ax, ay, at, b, -(base + shift), tol),
                   _timing_share(bx, by, bt, a, base + shift, tol))

    coarse = np.arange(-max_shift, max_shift + 1e-9, 5.0) if max_shift > 0 else np.zeros(1)
    scores = [timing(s) for s in coarse]
    best = float(coarse[int(np.argmax(scores))])
    fine = [s for s in np.arange(best - 4.0, best + 4.5, 1.0) if abs(s) <= max_shift]
    scores = [timing(s) for s in fine]
    k = int(np.argmax(scores))
    return TrackMatch(geometry, scores[k], int(days), float(fine[k]) + 0.0)


def same_track(fixes_a: Sequence[Fix], fixes_b: Sequence[Fix], *, tolerance_m: float = 15.0,
               share: float = 0.9, max_shift_s: float = 300.0) -> bool:
    """Whether track A repeats track B: :func:`compare_tracks` score ≥ ``share``.

    >>> t0 = datetime(2026, 5, 1, 0, 0, tzinfo=UTC)
    >>> a = [Fix(t0 + timedelta(seconds=5 * i), 117.72 + 0.00008 * i, 39.32) for i in range(60)]
    >>> same_track([Fix(f.t + timedelta(days=2, minutes=2), f.lng, f.lat) for f in a], a)
    True
    >>> same_track([Fix(f.t + timedelta(hours=1), f.lng, f.lat) for f in a], a)
    False
    >>> same_track(a, [])
    False
    """
    return _compare(fixes_a, fixes_b, tolerance_m, max_shift_s, stop_below=share).score >= share


def flag_repeat(fixes: Sequence[Fix], earlier_days: Sequence[Sequence[Fix]], *,
                tolerance_m: float = 15.0, share: float = 0.9, max_shift_s: float = 300.0) -> dict | None:
    """A ``repeat`` flag when the track repeats one of ``earlier_days`` (:func:`same_track`), else None.

    The best-matching earlier track is reported: ``at`` is the start of this track; ``detail``
    has ``day`` (its index in ``earlier_days``), ``date`` (its first day in Asia/Shanghai),
    ``score``, ``days`` and ``shift_s`` (see :class:`TrackMatch`).

    >>> t0 = datetime(2026, 5, 1, 0, 0, tzinfo=UTC)
    >>> a = [Fix(t0 + timedelta(seconds=5 * i), 117.72 + 0.00008 * i, 39.32) for i in range(60)]
    >>> flag = flag_repeat([Fix(f.t + timedelta(days=1), f.lng, f.lat) for f in a], [[], a])
    >>> flag["code"], flag["en"], flag["detail"]["day"], flag["detail"]["date"]
    ('repeat', 'the track repeats the track of 2026-05-01', 1, '2026-05-01')
    >>> flag_repeat(a, []) is None
    True
    """
    best: tuple[float, int, TrackMatch] | None = None
    fixes = list(fixes)
    prepared = _Prepared(fixes) if len(fixes) >= 2 else None  # once, not once per earlier day
    for k, earlier in enumerate(earlier_days):
        match = _compare(fixes, earlier, tolerance_m, max_shift_s, stop_below=share, prepared_a=prepared)
        if match.score >= share and (best is None or match.score > best[0]):
            best = (match.score, k, match)
    if best is None:
        return None
    score, k, match = best
    day = min(f.t for f in earlier_days[k]).astimezone(SHANGHAI).date().isoformat()
    start = min(f.t for f in fixes)
    return _flag("repeat", start, {"day": k, "date": day, "score": round(score, 3),
                                   "days": match.days, "shift_s": match.shift_s},
                 zh=f"轨迹与 {day} 的轨迹重复", en=f"the track repeats the track of {day}")


# ---------------------------------------------------------------------------------------------
# attendance


def weekly_hours(sessions: Iterable[tuple[datetime, datetime | None]], week_start: date) -> float:
    """Hours signed in (签到 to 签退) during the 7 days from ``week_start`` 00:00 Asia/Shanghai.

    Sessions are clipped to the week; overlapping sessions count once; a session still open
    (``end`` is ``None``) is not counted — close it (e.g. at the current time) to count it.

    Raises
    ------
    PatrolError
        A time without time zone; a session ending before it starts.

    Examples
    --------
    >>> d = lambda *a: datetime(*a, tzinfo=SHANGHAI)
    >>> weekly_hours([(d(2026, 5, 3, 22), d(2026, 5, 4, 2)),    # Sunday night into Monday
    ...               (d(2026, 5, 4, 8), d(2026, 5, 4, 12)),
    ...               (d(2026, 5, 4, 11), d(2026, 5, 4, 13)),   # overlaps the last one
    ...               (d(2026, 5, 5, 8), None)], date(2026, 5, 4))
    7.0
    >>> weekly_hours([], date(2026, 5, 4))
    0.0
    """
    lo = datetime.combine(week_start, time(0), SHANGHAI).astimezone(UTC)
    hi = lo + timedelta(days=7)
    spans = []
    for start, end in sessions:
        if end is None:
            continue
        for moment in (start, end):
            if moment.tzinfo is None or moment.utcoffset() is None:
                raise PatrolError("签到或签退时间缺少时区", "a sign-in or sign-out time has no time zone")
        if end < start:
            raise PatrolError(f"签退时间 {end.isoformat()} 早于签到时间 {start.isoformat()}",
                              f"sign-out {end.isoformat()} is before sign-in {start.isoformat()}")
        s, e = max(start.astimezone(UTC), lo), min(end.astimezone(UTC), hi)
        if e > s:
            spans.append((s, e))
    total = timedelta()
    reach = None
    for s, e in sorted(spans):
        if reach is not None and s < reach:
            s = reach
        if e > s:
            total += e - s
        reach = e if reach is None else max(reach, e)
    return total.total_seconds() / 3600.0


def attendance_check(sign_lng: float, sign_lat: float, grid_geom,
                     tolerance_m: float = 100.0) -> tuple[bool, float]:
    """Whether a sign-in position is at the grid: ``(distance_m <= tolerance_m, distance_m)``.

    ``distance_m`` is the distance in metres from the WGS84 point to the grid (Polygon or
    MultiPolygon, WGS84), 0.0 inside or on the boundary, measured in the point's UTM zone.

    Raises
    ------
    PatrolError
        Coordinates out of range; no grid, or a grid that is not polygonal.

    Examples
    --------
    >>> grid = shapely.box(117.719, 39.319, 117.725, 39.321)
    >>> attendance_check(117.72, 39.32, grid)
    (True, 0.0)
    >>> inside, dist = attendance_check(117.72, 39.3225, grid)   # 1.5 mdeg north of the grid
    >>> inside, round(dist)
    (False, 166)
    >>> attendance_check(117.72, 39.32, None)
    Traceback (most recent call last):
    ...
    spatial.patrols.PatrolError: no grid to sign in at
    """
    _check_lnglat(sign_lng, sign_lat)
    if grid_geom is None or grid_geom.is_empty:
        raise PatrolError("没有可签到的网格", "no grid to sign in at")
    if not isinstance(grid_geom, Polygon | MultiPolygon):
        raise PatrolError(f"网格范围不是面（{grid_geom.geom_type}）",
                          f"the grid is not a polygon ({grid_geom.geom_type})")
    crs = local_metric_crs(sign_lng, sign_lat)
    x, y = project_points(sign_lng, sign_lat, crs)
    distance = float(shapely.distance(project_geometry(grid_geom, crs), Point(x[0], y[0])))
    return distance <= tolerance_m, distance
