"""The demo town's own base map: its boundary, villages, roads, river and settlements with the
villages' names, drawn with Pillow into 256-pixel PNG tiles (Web Mercator, XYZ) for an MBTiles file.

Everything is projected once to world pixels at zoom 0 (0–256 both ways); a tile at zoom z is
that picture scaled by 2**z and shifted, so features and labels that cross tile edges continue
exactly on the next tile.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import numpy as np
import shapely
from PIL import Image, ImageDraw, ImageFont

from webmap.services.boards import CJK_FONT_FILES
from webmap.services.tiles import MBTilesWriter

TILE = 256
ZOOMS = range(11, 17)  # 11–16: the whole town to the houses of a village
ATTRIBUTION = "合成演示底图 Wangge demo base map (synthetic)"
EARTH_M_PER_PX0 = 40_075_016.686 / TILE  # metres per pixel at zoom 0 on the equator
SUPERSAMPLE = 2  # drawn at 512 px and reduced: Pillow draws without anti-aliasing

BACKGROUND = (236, 234, 228)
FARMLAND = (233, 240, 216)
BLOCK, BLOCK_EDGE = (221, 208, 192), (190, 172, 150)
WATER = (160, 196, 228)
ROAD_CASING, ROAD = (196, 186, 170), (255, 255, 255)
MAIN_CASING, MAIN = (214, 160, 70), (250, 214, 130)
VILLAGE_EDGE = (176, 158, 196)
TOWN_EDGE = (128, 96, 168)
LABEL, HALO = (60, 50, 40), (255, 255, 255)


def world_xy(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """EPSG:4326 degrees → Web Mercator world pixels at zoom 0 (x east, y south, 0–256)."""
    lon, lat = np.asarray(lon, float), np.clip(np.asarray(lat, float), -85.05112878, 85.05112878)
    x = (lon + 180.0) / 360.0 * TILE
    y = (1.0 - np.log(np.tan(np.radians(lat)) + 1.0 / np.cos(np.radians(lat))) / math.pi) / 2.0 * TILE
    return x, y


def tile_range(bounds: tuple[float, float, float, float], z: int) -> tuple[range, range]:
    """The XYZ columns and rows covering (west, south, east, north) at zoom ``z``."""
    west, south, east, north = bounds
    (x0, x1), (y0, y1) = world_xy([west, east], [north, south])
    n = 1 << z
    cols = range(max(0, int(x0 * n / TILE)), min(n - 1, int(x1 * n / TILE)) + 1)
    rows = range(max(0, int(y0 * n / TILE)), min(n - 1, int(y1 * n / TILE)) + 1)
    return cols, rows


def _rings(geom) -> list[np.ndarray]:
    """The exterior rings (polygons) or the lines of a geometry, in world pixels."""
    out = []
    for part in getattr(geom, "geoms", [geom]):
        coords = np.asarray(part.exterior.coords if part.geom_type == "Polygon" else part.coords)
        if len(coords) >= 2:
            out.append(np.column_stack(world_xy(coords[:, 0], coords[:, 1])))
    return out


@dataclass
class Shape:
    """One thing to draw: its parts in world pixels and their bounding box."""

    parts: list[np.ndarray]
    box: tuple[float, float, float, float]
    width_m: float = 0.0

    @classmethod
    def of(cls, geom, width_m: float = 0.0) -> Shape:
        parts = _rings(geom)
        allpts = np.vstack(parts) if parts else np.zeros((1, 2))
        return cls(parts, (*allpts.min(axis=0), *allpts.max(axis=0)), width_m)


def cjk_font_path(candidates=CJK_FONT_FILES) -> str | None:
    return next((path for path, _index in candidates if os.path.isfile(path)), None)


class Renderer:
    """Draws the tiles of a town (:class:`db.demo_town.Town`)."""

    def __init__(self, town, font_path: str | None = None):
        self.outline = Shape.of(town.outline)
        self.villages = [Shape.of(v["geom"]) for v in town.villages]
        self.blocks = [Shape.of(s["blocks"]) for s in town.settlements if not s["blocks"].is_empty]
        self.rivers = [Shape.of(r["geom"], r["width_m"]) for r in town.rivers]
        self.roads = [(r["kind"], Shape.of(r["geom"], 16.0 if r["kind"] == "main" else 7.0)) for r in town.roads]
        self.labels = [(s["name"], *map(float, world_xy(s["label"].x, s["label"].y)))
                       for s in town.settlements]
        self.lat = float(town.outline.centroid.y)
        self.bounds = tuple(shapely.buffer(town.outline, 0.01).bounds)
        self.font_path = font_path if font_path is not None else cjk_font_path()
        self._fonts: dict[int, ImageFont.ImageFont] = {}

    def font(self, size: int):
        if size not in self._fonts:
            self._fonts[size] = (ImageFont.truetype(self.font_path, size) if self.font_path
                                 else ImageFont.load_default(size))
        return self._fonts[size]

    def tiles(self, zooms=ZOOMS) -> list[tuple[int, int, int]]:
        out = []
        for z in zooms:
            cols, rows = tile_range(self.bounds, z)
            out.extend((z, x, y) for x in cols for y in rows)
        return out

    def render(self, z: int, x: int, y: int) -> bytes:
        k = SUPERSAMPLE
        scale = float(1 << z) * k  # world pixels → this drawing's pixels
        size = TILE * k
        ox, oy = x * size, y * size
        px_m = EARTH_M_PER_PX0 * math.cos(math.radians(self.lat)) / (1 << z)  # metres per tile pixel
        margin = 40.0 * k  # drawing pixels around the tile that may still reach into it

        def visible(shape: Shape) -> bool:
            x0, y0, x1, y1 = shape.box
            return not (x1 * scale < ox - margin or x0 * scale > ox + size + margin
                        or y1 * scale < oy - margin or y0 * scale > oy + size + margin)

        def pixels(part: np.ndarray) -> list[tuple[float, float]]:
            return list(map(tuple, part * scale - (ox, oy)))

        def px(width: float) -> int:  # a width in tile pixels, as drawing pixels
            return max(1, round(width * k))

        image = Image.new("RGB", (size, size), BACKGROUND)
        draw = ImageDraw.Draw(image)
        for part in self.outline.parts:
            draw.polygon(pixels(part), fill=FARMLAND)
        for shape in self.blocks:
            if visible(shape):
                for part in shape.parts:
                    draw.polygon(pixels(part), fill=BLOCK, outline=BLOCK_EDGE if z >= 15 else None,
                                 width=px(1))
        for shape in self.rivers:
            if visible(shape):
                for part in shape.parts:
                    draw.line(pixels(part), fill=WATER, width=px(max(2.0, shape.width_m / px_m)), joint="curve")
        for kinds, casing, fill in ((("village",), ROAD_CASING, ROAD), (("main",), MAIN_CASING, MAIN)):
            for kind, shape in self.roads:
                if kind not in kinds or not visible(shape):
                    continue
                width = max(1.0 if kind == "village" else 2.0, shape.width_m / px_m)
                for part in shape.parts:
                    points = pixels(part)
                    if z >= 13:
                        draw.line(points, fill=casing, width=px(width + 2), joint="curve")
                    draw.line(points, fill=fill if z >= 13 else casing, width=px(width), joint="curve")
        for shape in self.villages:
            if visible(shape):
                for part in shape.parts:
                    draw.line(pixels(part), fill=VILLAGE_EDGE, width=px(1 if z < 15 else 1.5))
        for part in self.outline.parts:
            draw.line(pixels(part), fill=TOWN_EDGE, width=px(2 if z < 14 else 3), joint="curve")
        if z >= 12:
            font = self.font({12: 11, 13: 13, 14: 15}.get(z, 17) * k)
            for name, wx, wy in self.labels:
                lx, ly = wx * scale - ox, wy * scale - oy
                if -120 * k < lx < size + 120 * k and -40 * k < ly < size + 40 * k:
                    draw.text((lx, ly), name, font=font, fill=LABEL, anchor="mm",
                              stroke_width=px(2), stroke_fill=HALO)
        if k > 1:
            image = image.resize((TILE, TILE), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        image.save(buffer, "PNG", compress_level=6)
        return buffer.getvalue()


def metadata(town, zooms=ZOOMS) -> dict:
    west, south, east, north = shapely.buffer(town.outline, 0.01).bounds
    centre = town.outline.centroid
    return {
        "name": "Wangge demo town base map", "format": "png", "type": "baselayer", "version": "1",
        "description": "合成演示底图 / the synthetic demo town's base map (wangge basemap build)",
        "attribution": ATTRIBUTION, "minzoom": min(zooms), "maxzoom": max(zooms),
        "bounds": f"{west:.6f},{south:.6f},{east:.6f},{north:.6f}",
        "center": f"{centre.x:.6f},{centre.y:.6f},{min(zooms) + 2}",
    }


def build(town, path: str, zooms=ZOOMS,
          progress: Callable[[list], AbstractContextManager[Iterable]] | None = None) -> int:
    """Render ``town`` into a new MBTiles file at ``path`` (replaced only when complete); the
    number of tiles. ``progress`` wraps the list of tiles in a context (``click.progressbar``)."""
    renderer = Renderer(town)
    todo = renderer.tiles(zooms)
    writer = MBTilesWriter(path, metadata(town, zooms))
    try:
        with (progress(todo) if progress else nullcontext(todo)) as items:
            for z, x, y in items:
                writer.add(z, x, y, renderer.render(z, x, y))
    except BaseException:
        writer.abort()
        raise
    writer.close()
    return len(todo)
