"""Local metres: the one planar CRS in metres for work around a WGS84 point.

Buffers, distances, areas and resampling in metres are done in the WGS84 / UTM zone of the area
(EPSG:326xx north, 327xx south): a scale error of at most 4 parts in 10 000 inside a zone, a few
centimetres over a town. Standard 6° zones only (the Norway and Svalbard exceptions do not matter
in China).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer


@dataclass(frozen=True)
class LocalMetres:
    """The projected CRS and the transformers to it (``forward``) and back (``inverse``), x/y order."""

    crs: CRS
    forward: Transformer
    inverse: Transformer

    def to_m(self, geoms):
        """WGS84 (EPSG:4326) geometries → the same geometries in metres of :attr:`crs`."""
        return _transform(geoms, self.forward)

    def to_deg(self, geoms):
        """Geometries in metres of :attr:`crs` → WGS84 (EPSG:4326) degrees."""
        return _transform(geoms, self.inverse)


def local_metres(lng: float, lat: float) -> LocalMetres:
    """The local metric CRS of a WGS84 point (degrees): its WGS84 / UTM zone, metres.

    >>> m = local_metres(117.72, 39.32)
    >>> m.crs.to_epsg(), local_metres(-70.6, -33.4).crs.to_epsg(), local_metres(180.0, 0.0).crs.to_epsg()
    (32650, 32719, 32660)
    >>> a, b = m.to_m(shapely.points([[117.72, 39.32], [117.72, 39.33]]))
    >>> round(float(a.distance(b)), 0)  # 1110.9 m on the ellipsoid, scale 0.9996 near the zone centre
    1110.0
    >>> m.to_deg(m.to_m(shapely.Point(117.72, 39.32))).equals_exact(shapely.Point(117.72, 39.32), 1e-9)
    True
    """
    zone = min(int((float(lng) + 180.0) // 6.0) + 1, 60)
    return _zone(32600 + zone if lat >= 0 else 32700 + zone)


@lru_cache(maxsize=16)
def _zone(epsg: int) -> LocalMetres:
    crs = CRS.from_epsg(epsg)
    return LocalMetres(crs, Transformer.from_crs("EPSG:4326", crs, always_xy=True),
                       Transformer.from_crs(crs, "EPSG:4326", always_xy=True))


def _transform(geoms, transformer: Transformer):
    def fn(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms if isinstance(geoms, shapely.Geometry) else np.asarray(geoms, dtype=object), fn)
