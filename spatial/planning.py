"""Redrawing the grids (网格) of a village so that they still tile it: reshape, split, merge, transfer.

Every function works in the planar CRS it is given (callers project WGS84 lon/lat to metres first,
e.g. with a local transverse Mercator): lengths, tolerances and areas are in those units and their
squares. Geometries are Shapely Polygons or MultiPolygons; every grid geometry returned is a
MultiPolygon (:func:`spatial.tiling.as_multipolygon`), the type the grid column holds. Grids come as
``{code: geometry}``. An edit that cannot be made raises :class:`PlanningError`.

Float noise: pieces thinner than about ``tol`` (area ≤ ``tol`` × perimeter) are treated as noise,
neither moved nor kept as holes. The server checks the result again in PostGIS, which is the authority;
:func:`tiling_problems` is the same check in Shapely, for notebooks and imports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import shapely
from shapely.geometry import GeometryCollection, LineString, MultiPolygon, Point, Polygon
from shapely.geometry.polygon import orient
from shapely.ops import split as _split_op
from shapely.validation import explain_validity

from spatial.codes import grid_code
from spatial.tiling import as_multipolygon

DEFAULT_TOL = 1e-6  # units of the CRS: 1 µm when metres

# Two boundaries "share an edge" when they run together for more than this many ``tol``: a touch
# at a point, once the boundaries are snapped together within ``tol``, leaves at most a stub of ``tol``.
_EDGE_FACTOR = 4.0
_VILLAGE_CODE = re.compile(r"[0-9]{12}")
_LOCATION = re.compile(r"\[(\S+) (\S+)\]")


class PlanningError(ValueError):
    """An edit of the grids that cannot be made, with the reason in Chinese and English.

    Parameters
    ----------
    zh : str
        Message in Chinese, for the planner.
    en : str
        Message in English, for logs and English-speaking users.
    codes : iterable of str
        The grid codes concerned (may be empty).

    Examples
    --------
    >>> err = PlanningError("网格不相邻", "grids are not neighbours", ["001", "002"])
    >>> err.zh, err.en, err.codes
    ('网格不相邻', 'grids are not neighbours', ('001', '002'))
    >>> str(err), isinstance(err, ValueError)
    ('grids are not neighbours', True)
    >>> PlanningError("无", "none").codes
    ()
    """

    def __init__(self, zh: str, en: str, codes: Iterable[str] = ()):
        super().__init__(en)
        self.zh = zh
        self.en = en
        self.codes = tuple(codes)


# ---------------------------------------------------------------------------------------------
# edits


def reshape(grids: Mapping[str, Polygon | MultiPolygon], code: str, new_geom,
            *, tol: float = DEFAULT_TOL) -> dict[str, MultiPolygon]:
    """Give grid ``code`` the geometry ``new_geom``; its neighbours follow so that no gap or overlap appears.

    Area the grid gains is taken from whichever grids held it (each becomes ``old − new_geom``).
    Area it loses (``old − new_geom``) is handed out piece by piece: each connected piece goes to the
    grid sharing the longest boundary with it (boundaries within ``tol`` count as shared; ties go to
    the lowest code). A lost piece that touches no other grid (at the village edge, or a new hole)
    stays unassigned, and the caller's check (:func:`tiling_problems`) reports it as a gap; likewise
    area ``new_geom`` takes from outside the village is reported as ``outside_village``.
    Overlaps and lost pieces thinner than about ``tol`` are float noise and left alone, so a grid
    that ``new_geom`` merely touches is not returned. The grids are assumed valid.

    Planar CRS; ``tol`` in its units (default 1e-6). Returns only the grids that changed, ``code``
    first, each as a MultiPolygon.

    Raises
    ------
    PlanningError
        ``code`` unknown; ``new_geom`` missing, empty, invalid or not polygonal; a grid would be
        swallowed completely (its ``codes`` name ``code`` and the grids swallowed).

    Examples
    --------
    >>> grids = {"001": shapely.box(0, 0, 1, 1), "002": shapely.box(1, 0, 2, 1)}
    >>> out = reshape(grids, "001", shapely.box(0, 0, 1.5, 1))  # 001 grows east
    >>> {c: round(g.area, 6) for c, g in out.items()}
    {'001': 1.5, '002': 0.5}
    >>> out = reshape(grids, "001", shapely.box(0, 0, 0.5, 1))  # 001 shrinks: 002 takes the strip
    >>> {c: round(g.area, 6) for c, g in out.items()}
    {'001': 0.5, '002': 1.5}
    >>> reshape(grids, "001", shapely.box(0, 0, 2, 1))
    Traceback (most recent call last):
    ...
    spatial.planning.PlanningError: grid 001 would swallow grid 002 completely
    >>> reshape(grids, "001", Polygon())
    Traceback (most recent call last):
    ...
    spatial.planning.PlanningError: the new geometry of grid 001 is empty
    """
    if code not in grids:
        raise PlanningError(f"没有网格 {code}", f"no grid {code}", [code])
    new = _require_polygonal(new_geom, f"网格 {code} 的新范围", f"the new geometry of grid {code}",
                             [code])
    others = {c: as_multipolygon(g) for c, g in grids.items() if c != code and _present(g)}
    changed: dict[str, MultiPolygon] = {}
    swallowed = []
    for other, g in others.items():
        if not shapely.intersects(g, new):
            continue
        taken = _polygons(shapely.intersection(g, new))
        if all(_is_sliver(p, tol) for p in taken):
            continue  # they only touch, or differ by float noise
        rest = _clean(shapely.difference(g, new), tol)
        if rest.is_empty:
            swallowed.append(other)
        changed[other] = rest
    if swallowed:
        names = "、".join(swallowed)
        raise PlanningError(
            f"网格 {code} 的新范围将完全吞并网格 {names}",
            f"grid {code} would swallow grid {', '.join(swallowed)} completely",
            [code, *swallowed],
        )
    current = {**others, **changed}
    old = as_multipolygon(grids[code]) if _present(grids[code]) else MultiPolygon()
    lost = [p for p in _polygons(shapely.difference(old, new)) if not _is_sliver(p, tol)]
    for piece in lost:
        receiver = _longest_shared(piece, current, tol)
        if receiver is None:
            continue  # at the village edge: left for the caller's check to report as a gap
        current[receiver] = changed[receiver] = _join(current[receiver], piece, tol)
    return {code: as_multipolygon(new), **{c: changed[c] for c in sorted(changed)}}


def split(geom, line, *, snap: float = 0.0) -> list[MultiPolygon]:
    """Cut a grid in parts along a drawn line that crosses it completely.

    Both ends of ``line`` must lie outside the grid or on its boundary. An end that stops inside,
    short of the boundary, is extended by ``snap`` along the line's direction (default 0: not at
    all). A line crossing the grid several times gives more than two parts. Planar CRS, ``snap`` in
    its units. Returns the parts as MultiPolygons in west→east, north→south order
    (:func:`order_west_east_north_south`).

    Raises
    ------
    PlanningError
        The grid is empty or invalid; the line is not a LineString, stops inside the grid or does
        not cut it into at least two parts.

    Examples
    --------
    >>> parts = split(shapely.box(0, 0, 2, 1), LineString([(1, -1), (1, 2)]))
    >>> [p.bounds for p in parts]
    [(0.0, 0.0, 1.0, 1.0), (1.0, 0.0, 2.0, 1.0)]
    >>> [p.bounds for p in split(shapely.box(0, 0, 2, 1), LineString([(-1, 0.5), (3, 0.5)]))]
    [(0.0, 0.5, 2.0, 1.0), (0.0, 0.0, 2.0, 0.5)]
    >>> len(split(shapely.box(0, 0, 2, 1), LineString([(1, -1), (1, 1 - 1e-7)]), snap=1e-6))
    2
    >>> split(shapely.box(0, 0, 2, 1), LineString([(1, -1), (1, 0.5)]))
    Traceback (most recent call last):
    ...
    spatial.planning.PlanningError: the line must cross the grid completely: an end lies inside it
    >>> split(shapely.box(0, 0, 2, 1), LineString([(3, -1), (3, 2)]))
    Traceback (most recent call last):
    ...
    spatial.planning.PlanningError: the line does not cut the grid into two or more parts
    >>> split(None, LineString([(1, -1), (1, 2)]))
    Traceback (most recent call last):
    ...
    spatial.planning.PlanningError: the grid to split is empty
    """
    grid = _require_polygonal(geom, "要分割的网格", "the grid to split")
    if not isinstance(line, LineString) or line.is_empty or line.length == 0:
        raise PlanningError("分割线应为一条线", "the cut must be a line (LineString)")
    if snap > 0:
        line = _extend_ends(line, grid, snap)
    coords = np.asarray(line.coords)
    if shapely.contains_xy(grid, coords[[0, -1], 0], coords[[0, -1], 1]).any():
        raise PlanningError("分割线必须完整穿过网格：端点落在网格内",
                            "the line must cross the grid completely: an end lies inside it")
    pieces = _polygons(_split_op(grid, line))
    if len(pieces) <= len(grid.geoms):
        raise PlanningError("分割线没有把网格分成两块以上",
                            "the line does not cut the grid into two or more parts")
    return [as_multipolygon(pieces[i]) for i in order_west_east_north_south(pieces)]


def merge(a, b, *, codes: Sequence[str] = (), tol: float = DEFAULT_TOL) -> MultiPolygon:
    """Union of two grids that share an edge, without seams, slivers or noise holes.

    The boundaries must run together (within ``tol``) over more than a few ``tol``: grids that touch
    at a point only, or not at all, are refused. Each grid is snapped to the other (``tol``) before
    the union, so that a vertex off the other's edge by float noise leaves no sliver hole; real holes
    stay. When the inputs tile, the result is one polygon (a MultiPolygon of one part). ``codes``
    (the two grid codes) only serve the error. Planar CRS, ``tol`` in its units.

    Raises
    ------
    PlanningError
        A grid is empty or invalid, or the two share no edge; ``codes`` as given.

    Examples
    --------
    >>> m = merge(shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1))
    >>> len(m.geoms), m.area, len(m.geoms[0].interiors)
    (1, 2.0, 0)
    >>> merge(shapely.box(0, 0, 1, 1), shapely.box(1, 1, 2, 2), codes=["001", "005"])
    Traceback (most recent call last):
    ...
    spatial.planning.PlanningError: grids 001 and 005 only touch at a point: they cannot be merged
    >>> merge(shapely.box(0, 0, 1, 1), shapely.box(3, 0, 4, 1))
    Traceback (most recent call last):
    ...
    spatial.planning.PlanningError: the grids do not touch: they cannot be merged
    >>> merge(shapely.box(0, 0, 1, 1), None, codes=["001", "002"])
    Traceback (most recent call last):
    ...
    spatial.planning.PlanningError: grid 002 is empty
    """
    ca, cb = (*codes, "", "")[:2]
    ga = _require_polygonal(a, f"网格 {ca}".strip(), f"grid {ca}".strip(), codes)
    gb = _require_polygonal(b, f"网格 {cb}".strip(), f"grid {cb}".strip(), codes)
    if not _shares_edge(ga, gb, tol):
        touch = shapely.distance(ga, gb) <= tol
        zh, en = ("只在一点相接", "only touch at a point") if touch else ("不相邻", "do not touch")
        zh_names, en_names = (f"网格 {ca} 与 {cb} ", f"grids {ca} and {cb}") if codes else ("两个网格", "the grids")
        raise PlanningError(f"{zh_names}{zh}，不能合并", f"{en_names} {en}: they cannot be merged", codes)
    return _join(ga, gb, tol)


def transfer(grids: Mapping[str, Polygon | MultiPolygon], from_code: str, to_code: str, area,
             *, tol: float = DEFAULT_TOL) -> dict[str, MultiPolygon]:
    """Move the part ``area ∩ grids[from_code]`` to the neighbouring grid ``to_code``.

    Only the donor's part of ``area`` moves; the rest of ``area`` is ignored. The receiver must share
    an edge with the part, and must not gain a separate piece (it keeps its number of parts, one
    for an ordinary grid). The donor may be left in several pieces. Planar CRS, ``tol`` in its
    units. Returns ``{from_code: donor, to_code: receiver}`` as MultiPolygons.

    Raises
    ------
    PlanningError
        Unknown or equal codes; ``area`` misses the donor; the receiver does not touch the part or
        would be left in more pieces; the donor would be left empty.

    Examples
    --------
    >>> grids = {"001": shapely.box(0, 0, 2, 1), "002": shapely.box(2, 0, 3, 1)}
    >>> out = transfer(grids, "001", "002", shapely.box(1.5, -1, 5, 2))
    >>> {c: (g.bounds, g.area) for c, g in out.items()}
    {'001': ((0.0, 0.0, 1.5, 1.0), 1.5), '002': ((1.5, 0.0, 3.0, 1.0), 1.5)}
    >>> transfer(grids, "001", "002", shapely.box(0, 0, 0.5, 1))
    Traceback (most recent call last):
    ...
    spatial.planning.PlanningError: grid 002 does not touch the part of grid 001 to move
    >>> transfer(grids, "001", "002", shapely.box(5, 5, 6, 6))
    Traceback (most recent call last):
    ...
    spatial.planning.PlanningError: the area to move does not overlap grid 001
    """
    for c in (from_code, to_code):
        if c not in grids or not _present(grids[c]):
            raise PlanningError(f"没有网格 {c}", f"no grid {c}", [c])
    if from_code == to_code:
        raise PlanningError("移出与移入的网格相同", "the donor and the receiver are the same grid",
                            [from_code])
    codes = [from_code, to_code]
    donor = as_multipolygon(grids[from_code])
    receiver = as_multipolygon(grids[to_code])
    zone = _require_polygonal(area, "要移交的范围", "the area to move", codes)
    part = _clean(shapely.intersection(donor, zone), tol)
    if part.is_empty:
        raise PlanningError(f"要移交的范围与网格 {from_code} 不重叠",
                            f"the area to move does not overlap grid {from_code}", codes)
    if not _shares_edge(part, receiver, tol):
        raise PlanningError(f"网格 {to_code} 与网格 {from_code} 要移交的部分不相邻",
                            f"grid {to_code} does not touch the part of grid {from_code} to move", codes)
    rest = _clean(shapely.difference(donor, zone), tol)
    if rest.is_empty:
        raise PlanningError(f"移交后网格 {from_code} 将为空",
                            f"grid {from_code} would be left empty", codes)
    gained = _join(receiver, part, tol)
    if len(gained.geoms) > len(receiver.geoms):
        raise PlanningError(f"移交后网格 {to_code} 将不连通：部分范围与其不相邻",
                            f"grid {to_code} would not be connected: part of the area does not touch it",
                            codes)
    return {from_code: rest, to_code: gained}


# ---------------------------------------------------------------------------------------------
# order and codes


def order_west_east_north_south(geoms: Sequence, row_height: float | None = None) -> list[int]:
    """Indices of ``geoms`` in reading order: rows north→south, west→east within a row.

    Each geometry is placed at its representative point. Rows are bands of ``row_height`` (units of
    the CRS) centred on the northernmost point's latitude and taken downwards, so that points of
    rows of equal-height cells fall mid-band (where :func:`spatial.codes.west_east_north_south`
    bins from a band edge, which such rows sit exactly on). The default row height is the median
    height of the geometries' bounding boxes; when that is 0 (points), each latitude is a row.
    Ties in a row go north first, then input order. Empty geometries and None come last.

    Examples
    --------
    >>> cells = [shapely.box(1, 0, 2, 1), shapely.box(0, 0, 1, 1), shapely.box(0, 1, 2, 2)]
    >>> order_west_east_north_south(cells)
    [2, 1, 0]
    >>> order_west_east_north_south([shapely.box(0, 0, 1, 1), shapely.box(0, 1, 1, 2)])
    [1, 0]
    >>> order_west_east_north_south([Point(5, 0), None, Point(1, 0.1)], row_height=1.0)
    [2, 0, 1]
    >>> order_west_east_north_south([])
    []
    """
    items = list(geoms)
    n = len(items)
    if n == 0:
        return []
    if row_height is not None and not row_height > 0:
        raise ValueError(f"row_height must be positive: {row_height!r}")
    present = np.array([_present(g) for g in items], dtype=bool)
    xs = np.zeros(n)
    ys = np.zeros(n)
    heights = np.zeros(n)
    for i in np.flatnonzero(present):
        p = items[i].representative_point()
        xs[i], ys[i] = p.x, p.y
        minx, miny, maxx, maxy = items[i].bounds
        heights[i] = maxy - miny
    if row_height is None:
        row_height = float(np.median(heights[present])) if present.any() else 0.0
    top = ys[present].max() if present.any() else 0.0
    if row_height > 0:
        rows = np.floor((top - ys) / row_height + 0.5)
    else:
        rows = -ys
    rows[~present] = np.inf
    order = np.lexsort((np.arange(n), -ys, xs, rows))
    return [int(i) for i in order]


def next_codes(village_code: str, used: Iterable[str], n: int) -> list[str]:
    """The next ``n`` free 15-digit grid codes of a village, ascending.

    The grid part is the last three digits, 001–999. A code in ``used`` (live or retired: codes are
    never reused) is skipped. Gaps are filled first: the lowest free numbers are returned.

    Raises
    ------
    ValueError
        ``village_code`` is not 12 digits, or ``n`` is negative.
    PlanningError
        The village has fewer than ``n`` free codes.

    Examples
    --------
    >>> next_codes("120116103201", {"120116103201001", "120116103201003"}, 3)
    ['120116103201002', '120116103201004', '120116103201005']
    >>> next_codes("120116103201", set(), 0)
    []
    >>> next_codes("120116103201", {f"120116103201{i:03d}" for i in range(1, 999)}, 2)
    Traceback (most recent call last):
    ...
    spatial.planning.PlanningError: village 120116103201 has only 1 free grid code(s), 2 needed
    """
    if not isinstance(village_code, str) or not _VILLAGE_CODE.fullmatch(village_code):
        raise ValueError(f"not a 12-digit village code: {village_code!r}")
    if n < 0:
        raise ValueError(f"n must not be negative: {n!r}")
    if n == 0:
        return []
    taken = set(used)
    division, town, village = village_code[:6], village_code[6:9], village_code[9:12]
    free = []
    for seq in range(1, 1000):
        code = grid_code(division, town, village, seq)
        if code not in taken:
            free.append(code)
            if len(free) == n:
                return free
    if len(free) < n:
        raise PlanningError(
            f"村 {village_code} 只剩 {len(free)} 个网格编码可用，需要 {n} 个",
            f"village {village_code} has only {len(free)} free grid code(s), {n} needed",
        )
    return free


# ---------------------------------------------------------------------------------------------
# proposals


def propose_split(geom, points=None, weights=None, parts: int = 2) -> list[MultiPolygon]:
    """A proposal to split a grid into ``parts`` that balance its cases, or its area.

    The grid is cut by straight lines perpendicular to its principal axis, extended beyond it. With
    ``points`` (an (N, 2) array of case locations, optionally ``weights``), the axis is the first
    principal component of the points inside the grid and the cuts lie at their weighted quantiles
    (the median for two parts), midway between neighbouring points. Without points (or with fewer
    than ``parts`` of positive weight inside the grid), the axis is that of the grid's area (its
    second moments) and the cuts are found by bisection so that the parts' areas are equal (to
    1e-6 relative; area stands in for households where their density is uniform). A part of a
    concave grid may be in several pieces. Planar CRS.

    Returns ``parts`` MultiPolygons in west→east, north→south order; together they tile ``geom``.

    Raises
    ------
    PlanningError
        The grid is empty or invalid, or the cuts leave a part empty.
    ValueError
        ``parts`` < 1; ``points`` not (N, 2); ``weights`` of another length or negative.

    Examples
    --------
    >>> halves = propose_split(shapely.box(0, 0, 4, 1))
    >>> [tuple(round(v, 6) for v in h.bounds) for h in halves]
    [(0.0, 0.0, 2.0, 1.0), (2.0, 0.0, 4.0, 1.0)]
    >>> pts = [[0.5, 0.5], [1.5, 0.5], [2.5, 0.5], [3.4, 0.5], [3.6, 0.5], [3.8, 0.5]]
    >>> [round(h.area, 6) for h in propose_split(shapely.box(0, 0, 4, 1), pts)]  # cut at x = 2.95
    [2.95, 1.05]
    >>> len(propose_split(shapely.box(0, 0, 4, 1), parts=1))
    1
    >>> propose_split(Polygon())
    Traceback (most recent call last):
    ...
    spatial.planning.PlanningError: the grid to split is empty
    """
    if parts < 1:
        raise ValueError(f"parts must be at least 1: {parts!r}")
    grid = _require_polygonal(geom, "要分割的网格", "the grid to split")
    if parts == 1:
        return [grid]
    xy, w = _points_inside(grid, points, weights)
    if xy.shape[0] >= parts and np.count_nonzero(w) >= parts:
        centre, axis = _principal_axis(xy, w)
        s = (xy - centre) @ axis
        cuts = _weighted_cuts(s, w, parts)
    else:
        centre, axis = _area_axis(grid)
        cuts = _area_cuts(grid, centre, axis, parts)
    pieces = _cut_across(grid, centre, axis, cuts)
    if any(p.is_empty for p in pieces):
        raise PlanningError(f"无法把网格分成 {parts} 块", f"the grid cannot be cut into {parts} parts")
    return [pieces[i] for i in order_west_east_north_south(pieces)]


# ---------------------------------------------------------------------------------------------
# checks


def tiling_problems(village_geom, grids: Mapping[str, object], gap_tolerance: float,
                    overlap_tolerance: float) -> list[dict]:
    """Why ``grids`` do not tile ``village_geom``: the Shapely twin of the server's PostGIS check.

    Each problem is a dict ``{"kind", "codes", "x", "y", "area", "reason"}``; ``kind`` is one of

    - ``"empty"``: a grid without geometry (``x``/``y`` None, ``area`` 0);
    - ``"invalid"``: not a valid polygon; ``reason`` from :func:`shapely.validation.explain_validity`,
      ``x``/``y`` the location it names; the grid's valid repair (``make_valid``) is checked further;
    - ``"outside_village"``: area of a grid outside the village larger than ``gap_tolerance``;
    - ``"overlap"``: two grids (``codes`` both) whose intersection is larger than ``overlap_tolerance``;
    - ``"gap"``: a connected piece of the village covered by no grid, larger than ``gap_tolerance``,
      with ``codes`` the grids it touches.

    ``x``/``y`` is a point inside the problem area (its representative point), ``area`` in units of
    the planar CRS squared, ``reason`` a short English explanation. Problems come per grid (empty,
    invalid) by code, then outside by code, overlaps by code pair, gaps by decreasing area.

    Raises
    ------
    ValueError
        ``village_geom`` is missing, empty, invalid or not polygonal.

    Examples
    --------
    >>> village = shapely.box(0, 0, 3, 1)
    >>> tiling_problems(village, {"001": shapely.box(0, 0, 1, 1), "002": shapely.box(1, 0, 3, 1)}, 0, 0)
    []
    >>> [p["kind"] for p in tiling_problems(village, {"001": shapely.box(0, 0, 1.5, 1),
    ...                                               "002": shapely.box(1, 0, 2, 1), "003": None}, 0, 0)]
    ['empty', 'overlap', 'gap']
    >>> gap = tiling_problems(village, {"001": shapely.box(0, 0, 2, 1)}, 0, 0)[0]
    >>> gap["kind"], gap["codes"], gap["area"], 2 < gap["x"] < 3
    ('gap', ['001'], 1.0, True)
    """
    if not _present(village_geom) or not village_geom.is_valid or not _is_polygonal(village_geom):
        raise ValueError("the village boundary must be a valid, non-empty (Multi)Polygon")
    problems: list[dict] = []
    usable: dict[str, MultiPolygon] = {}
    for code in sorted(grids):
        g = grids[code]
        if not _present(g):
            problems.append(_problem("empty", [code], None, 0.0, "the grid has no geometry"))
            continue
        if not _is_polygonal(g):
            problems.append(_problem("invalid", [code], g.representative_point(), 0.0,
                                     f"not a polygon: {g.geom_type}"))
            continue
        if not g.is_valid:
            reason = explain_validity(g)
            repaired = MultiPolygon(_polygons(shapely.make_valid(g)))
            problems.append(_problem("invalid", [code], _validity_location(reason, repaired),
                                     float(repaired.area), reason))
            g = repaired
            if g.is_empty:
                continue
        usable[code] = as_multipolygon(g)
    codes = list(usable)
    geoms = np.array([usable[c] for c in codes], dtype=object)
    for code, g in usable.items():
        outside = MultiPolygon(_polygons(shapely.difference(g, village_geom)))
        if outside.area > gap_tolerance:
            problems.append(_problem("outside_village", [code], outside.representative_point(),
                                     float(outside.area), f"{outside.area:.6g} lies outside the village"))
    if geoms.size:
        tree = shapely.STRtree(geoms)
        left, right = tree.query(geoms, predicate="intersects")
        keep = left < right
        for i, j in zip(left[keep], right[keep], strict=True):
            common = MultiPolygon(_polygons(shapely.intersection(geoms[i], geoms[j])))
            if common.area > overlap_tolerance:
                problems.append(_problem("overlap", sorted([codes[i], codes[j]]),
                                         common.representative_point(), float(common.area),
                                         f"{common.area:.6g} is in both grids"))
        covered = shapely.union_all(geoms)
    else:
        covered = Polygon()
    minx, miny, maxx, maxy = village_geom.bounds
    near = 1e-9 * max(maxx - minx, maxy - miny, 1.0)
    gaps = [p for p in _polygons(shapely.difference(village_geom, covered)) if p.area > gap_tolerance]
    for piece in sorted(gaps, key=lambda p: -p.area):
        touching = []
        if geoms.size:
            x0, y0, x1, y1 = piece.bounds
            idx = tree.query(shapely.box(x0 - near, y0 - near, x1 + near, y1 + near))
            touching = sorted(codes[k] for k in idx if shapely.distance(geoms[k], piece) <= near)
        problems.append(_problem("gap", touching, piece.representative_point(), float(piece.area),
                                 f"{piece.area:.6g} of the village is in no grid"))
    problems.sort(key=lambda p: _KIND_ORDER[p["kind"]])  # stable: keeps the order within a kind
    return problems


_KIND_ORDER = {"empty": 0, "invalid": 0, "outside_village": 1, "overlap": 2, "gap": 3}


# ---------------------------------------------------------------------------------------------
# helpers


def _present(geom) -> bool:
    return geom is not None and not geom.is_empty


def _is_polygonal(geom) -> bool:
    return isinstance(geom, Polygon | MultiPolygon)


def _require_polygonal(geom, zh_name: str, en_name: str, codes: Iterable[str] = ()) -> MultiPolygon:
    """``geom`` as a MultiPolygon, or PlanningError saying what is wrong with it."""
    if not _present(geom):
        raise PlanningError(f"{zh_name}为空", f"{en_name} is empty", codes)
    if not _is_polygonal(geom):
        raise PlanningError(f"{zh_name}不是面", f"{en_name} is not a polygon ({geom.geom_type})", codes)
    if not geom.is_valid:
        why = explain_validity(geom)
        raise PlanningError(f"{zh_name}无效：{why}", f"{en_name} is invalid: {why}", codes)
    return as_multipolygon(geom)


def _polygons(geom) -> list[Polygon]:
    """The non-empty polygons in any geometry (results of overlays mix in lines and points)."""
    out: list[Polygon] = []
    if geom is None:
        return out
    for part in shapely.get_parts(geom):
        if isinstance(part, Polygon):
            if not part.is_empty:
                out.append(part)
        elif isinstance(part, MultiPolygon | GeometryCollection):
            out.extend(_polygons(part))
    return out


def _is_sliver(poly: Polygon, tol: float) -> bool:
    """Thinner than about ``tol``: float noise, not a shape anyone drew."""
    return poly.area <= tol * poly.length


def _clean(geom, tol: float) -> MultiPolygon:
    """Valid MultiPolygon without sliver parts or sliver holes."""
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    out = []
    for p in _polygons(geom):
        if _is_sliver(p, tol):
            continue
        holes = [r for r in p.interiors if not _is_sliver(Polygon(r), tol)]
        out.append(p if len(holes) == len(p.interiors) else Polygon(p.exterior, holes))
    return MultiPolygon(out)


def _has_noise(geom, tol: float) -> bool:
    """Whether :func:`_clean` would drop anything."""
    return any(_is_sliver(p, tol) or any(_is_sliver(Polygon(r), tol) for r in p.interiors)
               for p in _polygons(geom))


def _join(a, b, tol: float) -> MultiPolygon:
    """Union of two geometries sharing an edge, without noise along the seam.

    The plain union when it joins them cleanly (exact when the seam's vertices coincide); else the
    union of the two snapped together within ``tol``, which moves vertices by at most ``tol``.
    """
    plain = shapely.union(a, b)
    if plain.is_valid and not _has_noise(plain, tol):
        joined = _clean(plain, tol)
        if len(joined.geoms) < len(_polygons(a)) + len(_polygons(b)):
            return joined
    a2 = shapely.snap(a, b, tol)
    b2 = shapely.snap(b, a2, tol)
    if not a2.is_valid or not b2.is_valid:  # snapping may fold a narrow spot: fall back
        a2, b2 = a, b
    return _clean(shapely.union(a2, b2), tol)


def _shared_length(a, b, tol: float) -> float:
    """Length along which the boundaries of ``a`` and ``b`` run within ``tol`` of each other.

    The boundaries are snapped to each other (vertices to vertices, and each one's vertices into the
    other's segments), so that edges off by float noise become identical. Not a buffer of ``tol``:
    at projected coordinates of 10⁶ m, GEOS buffers of 10⁻⁶ m lose pieces.
    """
    la, lb = a.boundary, b.boundary
    if tol > 0:
        la = shapely.snap(la, lb, tol)
        lb = shapely.snap(lb, la, tol)
    return float(shapely.intersection(la, lb).length)


def _shares_edge(a, b, tol: float) -> bool:
    return _shared_length(a, b, tol) > _EDGE_FACTOR * max(tol, 1e-12)


def _longest_shared(piece, grids: Mapping[str, MultiPolygon], tol: float) -> str | None:
    """Code of the grid sharing the longest edge with ``piece`` (ties: lowest code), or None."""
    best, best_len = None, _EDGE_FACTOR * max(tol, 1e-12)
    for code in sorted(grids):
        g = grids[code]
        if shapely.distance(g, piece) > tol:
            continue
        length = _shared_length(piece, g, tol)
        if length > best_len:
            best, best_len = code, length
    return best


def _extend_ends(line: LineString, grid, snap: float) -> LineString:
    """Lengthen by ``snap`` each end of ``line`` that stops inside ``grid``."""
    coords = np.asarray(line.coords, dtype=float)[:, :2]
    for end, inward in ((0, coords[1:]), (-1, coords[-2::-1])):
        p = coords[end]
        if not grid.contains(Point(p)):
            continue
        away = p - inward  # from the other vertices towards this end
        dist = np.linalg.norm(away, axis=1)
        k = np.flatnonzero(dist > 0)
        if k.size:
            coords[end] = p + snap * away[k[0]] / dist[k[0]]
    return LineString(coords)


def _problem(kind: str, codes: list[str], point, area: float, reason: str) -> dict:
    x = y = None
    if point is not None and not point.is_empty:
        x, y = float(point.x), float(point.y)
    return {"kind": kind, "codes": codes, "x": x, "y": y, "area": area, "reason": reason}


def _validity_location(reason: str, repaired) -> Point | None:
    """The location GEOS names in ``explain_validity`` (``Self-intersection[x y]``), else a point of the repair."""
    m = _LOCATION.search(reason)
    if m:
        try:
            return Point(float(m.group(1)), float(m.group(2)))
        except ValueError:
            pass
    return repaired.representative_point() if not repaired.is_empty else None


def _points_inside(grid, points, weights) -> tuple[np.ndarray, np.ndarray]:
    """Points covered by ``grid`` and their weights (all 1 when ``weights`` is None)."""
    if points is None:
        return np.empty((0, 2)), np.empty(0)
    xy = np.asarray(points, dtype=float)
    if xy.size == 0:
        xy = xy.reshape(0, 2)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"points must be an (N, 2) array, not {xy.shape}")
    w = np.ones(len(xy)) if weights is None else np.asarray(weights, dtype=float).ravel()
    if w.shape[0] != xy.shape[0]:
        raise ValueError(f"{w.shape[0]} weights for {xy.shape[0]} points")
    if (w < 0).any() or not np.isfinite(w).all():
        raise ValueError("weights must be finite and not negative")
    inside = shapely.intersects_xy(grid, xy[:, 0], xy[:, 1]) if len(xy) else np.zeros(0, bool)
    keep = inside & (w > 0)
    return xy[keep], w[keep]


def _principal_axis(xy: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean and unit first principal direction of the points."""
    centre = np.average(xy, axis=0, weights=w)
    d = xy - centre
    cov = (d * w[:, None]).T @ d / w.sum()
    return centre, _major(cov)


def _area_axis(grid: MultiPolygon) -> tuple[np.ndarray, np.ndarray]:
    """Centroid and unit principal direction of the grid's area (exact second moments)."""
    minx, miny, maxx, maxy = grid.bounds
    origin = np.array([(minx + maxx) / 2, (miny + maxy) / 2])  # keeps squares of metres small
    a = sx = sy = sxx = syy = sxy = 0.0
    for poly in grid.geoms:
        poly = orient(poly, sign=1.0)  # shell anticlockwise, holes clockwise: holes subtract
        for ring in (poly.exterior, *poly.interiors):
            c = np.asarray(ring.coords) - origin
            x0, y0, x1, y1 = c[:-1, 0], c[:-1, 1], c[1:, 0], c[1:, 1]
            cross = x0 * y1 - x1 * y0
            a += cross.sum() / 2
            sx += ((x0 + x1) * cross).sum() / 6
            sy += ((y0 + y1) * cross).sum() / 6
            sxx += ((x0 * x0 + x0 * x1 + x1 * x1) * cross).sum() / 12
            syy += ((y0 * y0 + y0 * y1 + y1 * y1) * cross).sum() / 12
            sxy += ((x0 * y1 + 2 * x0 * y0 + 2 * x1 * y1 + x1 * y0) * cross).sum() / 24
    cx, cy = sx / a, sy / a
    cov = np.array([[sxx / a - cx * cx, sxy / a - cx * cy], [sxy / a - cx * cy, syy / a - cy * cy]])
    return origin + np.array([cx, cy]), _major(cov)


def _major(cov: np.ndarray) -> np.ndarray:
    """Unit eigenvector of the largest eigenvalue, pointing east (or north when due north-south)."""
    _, vecs = np.linalg.eigh(cov)
    axis = vecs[:, -1]
    if axis[0] < -1e-12 or (abs(axis[0]) <= 1e-12 and axis[1] < 0):
        axis = -axis
    return axis


def _weighted_cuts(s: np.ndarray, w: np.ndarray, parts: int) -> np.ndarray:
    """Cut positions along the axis at the weighted quantiles k/parts, midway between points."""
    order = np.argsort(s, kind="stable")
    s, w = s[order], w[order]
    before = np.cumsum(w)[:-1]  # weight up to and including point j: a cut just after j
    cuts = []
    for k in range(1, parts):
        j = int(np.argmin(np.abs(before - w.sum() * k / parts)))
        cuts.append((s[j] + s[j + 1]) / 2)
    return np.asarray(cuts)


def _area_cuts(grid: MultiPolygon, centre: np.ndarray, axis: np.ndarray, parts: int) -> np.ndarray:
    """Cut positions along the axis leaving k/parts of the area behind each, found by bisection."""
    s = (shapely.get_coordinates(grid) - centre) @ axis
    reach = _reach(grid, centre)
    total = grid.area
    cuts = []
    for k in range(1, parts):
        target = total * k / parts
        lo, hi = float(s.min()), float(s.max())
        for _ in range(200):
            mid = (lo + hi) / 2
            got = shapely.intersection(grid, _band(centre, axis, -reach, mid, reach)).area
            if abs(got - target) <= 1e-7 * total:
                break
            lo, hi = (mid, hi) if got < target else (lo, mid)
        cuts.append(mid)
    return np.asarray(cuts)


def _reach(grid, centre: np.ndarray) -> float:
    """A distance from ``centre`` beyond every point of ``grid``."""
    minx, miny, maxx, maxy = grid.bounds
    corners = np.array([[minx, miny], [maxx, maxy], [minx, maxy], [maxx, miny]])
    return 2.0 * float(np.max(np.linalg.norm(corners - centre, axis=1))) + 1.0


def _band(centre, axis, lo: float, hi: float, reach: float) -> Polygon:
    """The rectangle ``lo ≤ s ≤ hi`` along ``axis``, ``reach`` wide on each side of it."""
    normal = np.array([-axis[1], axis[0]])
    pts = [centre + lo * axis - reach * normal, centre + hi * axis - reach * normal,
           centre + hi * axis + reach * normal, centre + lo * axis + reach * normal]
    return Polygon(pts)


def _cut_across(grid: MultiPolygon, centre, axis, cuts: np.ndarray) -> list[MultiPolygon]:
    """The grid cut by lines across ``axis`` at ``cuts``, pieces grouped by the band they fall in."""
    reach = _reach(grid, centre)
    normal = np.array([-axis[1], axis[0]])
    lines = shapely.MultiLineString(
        [[centre + t * axis - reach * normal, centre + t * axis + reach * normal] for t in cuts]
    )
    pieces = _polygons(_split_op(grid, lines))
    bins: list[list[Polygon]] = [[] for _ in range(len(cuts) + 1)]
    for piece in pieces:
        p = piece.representative_point()
        bins[int(np.searchsorted(cuts, (np.array([p.x, p.y]) - centre) @ axis))].append(piece)
    return [MultiPolygon(_polygons(shapely.union_all(b))) if b else MultiPolygon() for b in bins]
