"""Daily visits (日走访, seed 5-1 ③; 入户走访, seed 7-2 §2) as data: the distances that flag a visit,
the flags' labels, the limits of a visit's and an address point's fields, and the coverage of a
grid's households in a month. Nothing here reads SQL; the distances come from PostGIS
(``webmap/services/visits.py``), in metres on the geography.

>>> flags_for(outside_m=0, household_m=12.0, accuracy_m=8, crs="wgs84")
[]
>>> flags_for(outside_m=301.0, household_m=None, accuracy_m=None, crs="gcj02")
['outside_grid', 'converted_from_gcj02']
>>> flags_for(outside_m=299.9, household_m=150.0, accuracy_m=200, crs="wgs84")  # the fix is that vague
[]
>>> flags_for(outside_m=None, household_m=150.0, accuracy_m=None, crs="bd09")
['far_from_household', 'converted_from_bd09']
>>> coverage(12, 30), coverage(0, 30), coverage(5, 0)
(0.4, 0.0, None)
"""

from __future__ import annotations

OUTSIDE_GRID_M = 300.0  # a visit recorded farther than this outside the worker's grid is flagged
FAR_FROM_HOUSEHOLD_M = 100.0  # … and farther than this (or the fix's accuracy) from the household's 门牌

FLAGS: dict[str, tuple[str, str]] = {
    "outside_grid": ("位置在本网格 300 米以外", "recorded more than 300 m outside the worker's grid"),
    "far_from_household": ("位置距门牌 100 米以上", "recorded more than 100 m from the household's address"),
    "converted_from_gcj02": ("坐标由 GCJ-02 转换", "converted from GCJ-02"),
    "converted_from_bd09": ("坐标由 BD-09 转换", "converted from BD-09"),
}

MAX_NOTE = 2000  # 走访情况
MAX_ADDRESS = 200  # 门牌地址: 张庄村 3 排 12 号
MAX_HOUSEHOLDS = 500  # the households behind one 门牌 (a courtyard, a block of flats)
MAX_PHOTOS = 9
COVERAGE_TARGET = 0.8  # the assessment's default target (workflow.assessment "visit_coverage")


def flags_for(*, outside_m: float | None, household_m: float | None, accuracy_m: float | None,
              crs: str) -> list[str]:
    """The flags of a visit: ``outside_m`` is the distance in metres from the position to the
    worker's grid (0 inside; None: no grid), ``household_m`` the distance to the household's point,
    ``accuracy_m`` the phone's own estimate (a fix vaguer than the limit proves nothing), ``crs``
    the system the position came in."""
    flags = []
    if outside_m is not None and outside_m > OUTSIDE_GRID_M:
        flags.append("outside_grid")
    if household_m is not None and household_m > max(FAR_FROM_HOUSEHOLD_M, accuracy_m or 0.0):
        flags.append("far_from_household")
    if crs in ("gcj02", "bd09"):
        flags.append(f"converted_from_{crs}")
    return flags


def coverage(visited: int, households: int) -> float | None:
    """The share of a grid's households visited (each counted once however often visited), 3
    decimals; None when the register holds no household of the grid."""
    if not households:
        return None
    return round(min(1.0, visited / households), 3)
