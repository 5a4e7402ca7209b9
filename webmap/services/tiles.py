"""Raster tile archives for the offline base map: MBTiles (SQLite) read and written; PMTiles v3 is read
by :mod:`webmap.services.pmtiles`.

MBTiles (https://github.com/mapbox/mbtiles-spec, 1.3): a table ``tiles(zoom_level, tile_column,
tile_row, tile_data)`` whose rows count from the south (TMS): the XYZ row ``y`` that Leaflet asks for
is ``2**z - 1 - y`` there; a table ``metadata(name, value)`` with name, format, attribution, bounds,
minzoom, maxzoom. The file is opened read-only (``file:…?mode=ro``), one connection per thread.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from webmap.services.tile_archive import CONTENT_TYPES, TileError, layer_info, valid_tile

__all__ = ["CONTENT_TYPES", "MBTiles", "MBTilesWriter", "TileError", "cached_archive", "layer_info", "open_archive",
           "tms_row", "valid_tile"]


def tms_row(z: int, y: int) -> int:
    """An XYZ row (counted from the north) as an MBTiles row (TMS, counted from the south), and back."""
    return (1 << z) - 1 - y


def _ro_uri(path: Path) -> str:
    return "file:" + quote(str(path)) + "?mode=ro"


@dataclass
class MBTiles:
    """A raster MBTiles file, read-only. ``tile(z, x, y)`` takes XYZ rows; ``None`` for a missing tile."""

    path: Path
    metadata: dict = field(default_factory=dict)
    _local: threading.local = field(default_factory=threading.local, repr=False)

    @classmethod
    def open(cls, path: str | os.PathLike) -> MBTiles:
        path = Path(path).resolve()
        if not path.is_file():
            raise TileError(f"底图文件不存在 / base map file not found: {path}")
        archive = cls(path)
        try:
            rows = archive._connection().execute("SELECT name, value FROM metadata").fetchall()
            archive._connection().execute("SELECT 1 FROM tiles LIMIT 1").fetchall()
        except sqlite3.DatabaseError as exc:
            raise TileError(f"不是 MBTiles 文件 / not an MBTiles file: {path} ({exc})") from exc
        archive.metadata = {str(k): v for k, v in rows}
        fmt = str(archive.metadata.get("format", "png")).lower()
        if fmt not in CONTENT_TYPES:
            raise TileError(f"不是栅格瓦片 (format={fmt}) / not raster tiles (format={fmt}): {path}")
        archive.metadata["format"] = fmt
        return archive

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(_ro_uri(self.path), uri=True)
            self._local.conn = conn
        return conn

    @property
    def format(self) -> str:
        return self.metadata.get("format", "png")

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        if not valid_tile(z, x, y):
            return None
        row = self._connection().execute(
            "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
            (z, x, tms_row(z, y))).fetchone()
        return bytes(row[0]) if row else None

    def info(self) -> dict:
        return layer_info(self.metadata)


def open_archive(path: str | os.PathLike):
    """An MBTiles or PMTiles archive by its suffix."""
    suffix = Path(path).suffix.lower()
    if suffix == ".pmtiles":
        from webmap.services.pmtiles import PMTiles

        return PMTiles.open(path)
    if suffix in (".mbtiles", ".sqlite", ".db"):
        return MBTiles.open(path)
    raise TileError(f"底图须为 .mbtiles 或 .pmtiles / the base map must be .mbtiles or .pmtiles: {path}")


_cache: dict[tuple[str, float], object] = {}
_cache_lock = threading.Lock()


def cached_archive(path: str):
    """The archive at ``path``, opened once per file version (path and modification time)."""
    try:
        mtime = os.stat(path).st_mtime
    except OSError as exc:
        raise TileError(f"底图文件不存在 / base map file not found: {path}") from exc
    key = (str(path), mtime)
    with _cache_lock:
        archive = _cache.get(key)
        if archive is None:
            archive = open_archive(path)
            for old in [k for k in _cache if k[0] == key[0]]:
                del _cache[old]
            _cache[key] = archive
    return archive


# ---------------------------------------------------------------- writing


class MBTilesWriter:
    """Writes a new raster MBTiles file (replacing one at ``path`` only when ``close()`` succeeds)."""

    def __init__(self, path: str | os.PathLike, metadata: dict):
        self.path = Path(path)
        self.tmp = self.path.with_name(self.path.name + ".part")
        self.tmp.unlink(missing_ok=True)
        self.conn = sqlite3.connect(self.tmp)
        self.conn.executescript("""
            CREATE TABLE metadata (name TEXT, value TEXT);
            CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);
            CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);
        """)
        self.conn.executemany("INSERT INTO metadata VALUES (?, ?)",
                              [(k, v if isinstance(v, str) else json.dumps(v) if isinstance(v, dict) else str(v))
                               for k, v in metadata.items()])

    def add(self, z: int, x: int, y: int, data: bytes) -> None:
        """A tile by its XYZ address."""
        self.conn.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (z, x, tms_row(z, y), data))

    def close(self) -> None:
        self.conn.commit()
        self.conn.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        self.conn.close()
        self.tmp.unlink(missing_ok=True)
