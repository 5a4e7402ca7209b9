"""PMTiles v3 archives of raster tiles, read-only (https://github.com/protomaps/PMTiles, spec/v3).

A 127-byte header; directories of entries (tile id on the Hilbert curve of its zoom, offset, length,
run length) compressed as the header says (gzip or none here), a root directory and leaf
directories; the tiles themselves, uncompressed for raster tiles. Entries with run length 0 point to
a leaf directory. The file is read with ``os.pread`` from one descriptor: safe across threads.
"""

from __future__ import annotations

import gzip
import json
import os
import struct
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from webmap.services.tile_archive import TileError, layer_info, valid_tile

MAGIC = b"PMTiles"
HEADER_LEN = 127
TILE_TYPES = {2: "png", 3: "jpg", 4: "webp"}  # 1 is vector (MVT), 5 AVIF: not drawn by the pages
COMPRESSION_NONE, COMPRESSION_GZIP = 1, 2
HEADER = struct.Struct("<7sB11QBBBBBBiiiiBii")


def zxy_to_tileid(z: int, x: int, y: int) -> int:
    """The tile's id: the tiles of all lower zooms, then its place on the Hilbert curve of zoom z."""
    acc = ((1 << (2 * z)) - 1) // 3
    d, s = 0, (1 << z) >> 1
    while s > 0:
        rx, ry = int(x & s > 0), int(y & s > 0)
        d += s * s * ((3 * rx) ^ ry)
        if ry == 0:
            if rx == 1:
                x, y = s - 1 - x, s - 1 - y
            x, y = y, x
        s >>= 1
    return acc + d


def _varints(data: bytes, pos: int, n: int) -> tuple[list[int], int]:
    out = []
    for _ in range(n):
        value = shift = 0
        while True:
            if pos >= len(data):
                raise TileError("PMTiles 目录已损坏 / a PMTiles directory is cut short")
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        out.append(value)
    return out, pos


def parse_directory(data: bytes) -> list[tuple[int, int, int, int]]:
    """Entries (tile_id, offset, length, run_length), sorted by tile id."""
    (n,), pos = _varints(data, 0, 1)
    deltas, pos = _varints(data, pos, n)
    runs, pos = _varints(data, pos, n)
    lengths, pos = _varints(data, pos, n)
    raw_offsets, pos = _varints(data, pos, n)
    entries, tile_id = [], 0
    for i in range(n):
        tile_id += deltas[i]
        if raw_offsets[i] == 0 and i > 0:
            offset = entries[-1][1] + entries[-1][2]
        else:
            offset = raw_offsets[i] - 1
        entries.append((tile_id, offset, lengths[i], runs[i]))
    return entries


def _find(entries, tile_id: int):
    lo, hi = 0, len(entries) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        if entries[mid][0] < tile_id:
            lo = mid + 1
        elif entries[mid][0] > tile_id:
            hi = mid - 1
        else:
            return entries[mid]
    if hi >= 0:  # the entry before: a run of equal tiles, or a leaf directory (run length 0)
        entry = entries[hi]
        if entry[3] == 0 or tile_id - entry[0] < entry[3]:
            return entry
    return None


@dataclass
class PMTiles:
    path: Path
    fd: int
    header: dict
    metadata: dict = field(default_factory=dict)

    @classmethod
    def open(cls, path: str | os.PathLike) -> PMTiles:
        path = Path(path).resolve()
        if not path.is_file():
            raise TileError(f"底图文件不存在 / base map file not found: {path}")
        fd = os.open(path, os.O_RDONLY)
        head = os.pread(fd, HEADER_LEN, 0)
        if len(head) < HEADER_LEN or head[:7] != MAGIC or head[7] != 3:
            os.close(fd)
            raise TileError(f"不是 PMTiles v3 文件 / not a PMTiles v3 file: {path}")
        v = HEADER.unpack(head)
        keys = ("root_offset", "root_length", "metadata_offset", "metadata_length", "leaf_offset", "leaf_length",
                "data_offset", "data_length", "addressed", "entries", "contents")
        header = dict(zip(keys, v[2:13], strict=True))
        header.update(clustered=v[13], internal_compression=v[14], tile_compression=v[15], tile_type=v[16],
                      min_zoom=v[17], max_zoom=v[18], bounds=[v[19] / 1e7, v[20] / 1e7, v[21] / 1e7, v[22] / 1e7])
        if header["tile_type"] not in TILE_TYPES:
            os.close(fd)
            raise TileError(f"不是栅格瓦片 (tile type {header['tile_type']}) / not raster tiles: {path}")
        if header["internal_compression"] not in (COMPRESSION_NONE, COMPRESSION_GZIP) or header[
                "tile_compression"] not in (0, COMPRESSION_NONE):
            os.close(fd)
            raise TileError(f"不支持的 PMTiles 压缩方式 / unsupported PMTiles compression: {path}")
        archive = cls(path, fd, header)
        try:
            raw = archive._read(header["metadata_offset"], header["metadata_length"])
            meta = json.loads(archive._inflate(raw) or b"{}") if header["metadata_length"] else {}
        except (ValueError, OSError) as exc:
            raise TileError(f"PMTiles 元数据无法读取 / unreadable PMTiles metadata: {path} ({exc})") from exc
        archive.metadata = {
            **{k: v for k, v in meta.items() if isinstance(v, str | int | float)},
            "format": TILE_TYPES[header["tile_type"]], "minzoom": header["min_zoom"], "maxzoom": header["max_zoom"],
            "bounds": header["bounds"],
        }
        archive._directory = lru_cache(maxsize=256)(archive._load_directory)
        return archive

    @property
    def format(self) -> str:
        return self.metadata["format"]

    def _read(self, offset: int, length: int) -> bytes:
        return os.pread(self.fd, length, offset)

    def _inflate(self, data: bytes) -> bytes:
        return gzip.decompress(data) if self.header["internal_compression"] == COMPRESSION_GZIP else data

    def _load_directory(self, offset: int, length: int):
        return parse_directory(self._inflate(self._read(offset, length)))

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        if not valid_tile(z, x, y) or not self.header["min_zoom"] <= z <= self.header["max_zoom"]:
            return None
        tile_id = zxy_to_tileid(z, x, y)
        offset, length = self.header["root_offset"], self.header["root_length"]
        for _depth in range(4):  # the root and at most three levels of leaves
            entry = _find(self._directory(offset, length), tile_id)
            if entry is None:
                return None
            if entry[3] > 0:
                return self._read(self.header["data_offset"] + entry[1], entry[2])
            offset, length = self.header["leaf_offset"] + entry[1], entry[2]
        return None

    def info(self) -> dict:
        return layer_info(self.metadata)
