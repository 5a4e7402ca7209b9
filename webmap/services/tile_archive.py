"""What the tile archives share (MBTiles in :mod:`webmap.services.tiles`, PMTiles in
:mod:`webmap.services.pmtiles`): their refusal, the raster formats and what a page needs to draw one."""

from __future__ import annotations

import html
import re

CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}
MAX_ZOOM = 24


class TileError(ValueError):
    """The archive cannot be read, or is not a raster tile archive; the message says why (中文 / English)."""


def valid_tile(z: int, x: int, y: int) -> bool:
    return 0 <= z <= MAX_ZOOM and 0 <= x < (1 << z) and 0 <= y < (1 << z)


def plain_text(html_or_text: str) -> str:
    """An attribution as text: MBTiles attributions are often HTML (links, ``&copy;``)."""
    return html.unescape(re.sub(r"<[^>]*>", "", str(html_or_text or ""))).strip()


def layer_info(metadata: dict) -> dict:
    """What a page needs to draw the archive: attribution, zoom range, bounds (west, south, east, north)."""
    def number(key, cast, default):
        try:
            return cast(metadata[key])
        except (KeyError, TypeError, ValueError):
            return default

    bounds = metadata.get("bounds")
    if isinstance(bounds, str):
        try:
            bounds = [float(v) for v in bounds.split(",")]
        except ValueError:
            bounds = None
    return {
        "name": metadata.get("name", ""),
        "attribution": plain_text(metadata.get("attribution", "")),
        "format": metadata.get("format", "png"),
        "minzoom": number("minzoom", int, 0),
        "maxzoom": number("maxzoom", int, 19),
        "bounds": bounds if bounds and len(bounds) == 4 else None,
    }
