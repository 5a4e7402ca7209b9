"""Unit-grid codes: 6-digit division + 3-digit town + 3-digit village + 3-digit grid (15 digits)."""

from __future__ import annotations

import re

import numpy as np

GRID_CODE = re.compile(r"[0-9]{15}")


def grid_code(division: str, town: str, village: str, seq: int) -> str:
    """Compose a 15-digit grid code.

    >>> grid_code("120116", "103", "201", 7)
    '120116103201007'
    """
    code = f"{division}{town}{village}{seq:03d}"
    if not GRID_CODE.fullmatch(code):
        raise ValueError(f"not a 15-digit grid code: {code!r}")
    return code


def split_grid_code(code: str) -> dict[str, str]:
    """The parts of a grid code; ValueError when it is not 15 digits.

    >>> split_grid_code("120116103201007")["village"]
    '120116103201'
    """
    if not isinstance(code, str) or not GRID_CODE.fullmatch(code):
        raise ValueError(f"not a 15-digit grid code: {code!r}")
    return {
        "division": code[:6],
        "town": code[:9],
        "village": code[:12],
        "seq": code[12:],
    }


def west_east_north_south(xs, ys, row_height: float) -> np.ndarray:
    """Order of features numbered west→east within rows, rows taken north→south.

    A row is a band of ``row_height`` (units of ``ys``) measured down from the northernmost
    feature. Returns the indices in numbering order.

    >>> west_east_north_south([0, 1, 0, 1], [1, 1, 0, 0], 0.5).tolist()
    [0, 1, 2, 3]
    >>> west_east_north_south([5, 1], [0, 0.1], 1.0).tolist()
    [1, 0]
    >>> west_east_north_south([], [], 1.0).tolist()
    []
    """
    xs = np.asarray(xs, dtype=float)
    ys = np.asarray(ys, dtype=float)
    if xs.size == 0:
        return np.array([], dtype=int)
    rows = np.floor((ys.max() - ys) / row_height)
    return np.lexsort((xs, rows))
