"""The PMTiles v3 reader, on archives written here after the specification (gzip directories, a leaf
directory, a run of equal tiles)."""

import gzip
import io
import json
import struct

import pytest
from PIL import Image

from webmap.services import pmtiles, tiles


def png(colour) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), colour).save(buffer, "PNG")
    return buffer.getvalue()


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def directory(entries) -> bytes:
    """entries: (tile_id, offset, length, run_length), sorted."""
    out, last = [varint(len(entries))], 0
    for tile_id, *_ in entries:
        out.append(varint(tile_id - last))
        last = tile_id
    out += [varint(e[3]) for e in entries] + [varint(e[2]) for e in entries] + [varint(e[1] + 1) for e in entries]
    return gzip.compress(b"".join(out))


def write(path, tiles_by_zxy: dict, *, leaf: bool = False, tile_type: int = 2, runs: dict | None = None):
    data, entries = b"", []
    for (z, x, y), blob in sorted(tiles_by_zxy.items(), key=lambda kv: pmtiles.zxy_to_tileid(*kv[0])):
        run = (runs or {}).get((z, x, y), 1)
        entries.append((pmtiles.zxy_to_tileid(z, x, y), len(data), len(blob), run))
        data += blob
    if leaf:
        leaf_dir = directory(entries)
        root, leaves = directory([(entries[0][0], 0, len(leaf_dir), 0)]), leaf_dir
    else:
        root, leaves = directory(entries), b""
    meta = gzip.compress(json.dumps({"name": "天地图 PMTiles", "attribution": "天地图 测试"}).encode())
    root_off = 127
    meta_off = root_off + len(root)
    leaf_off = meta_off + len(meta)
    data_off = leaf_off + len(leaves)
    zooms = [z for z, _x, _y in tiles_by_zxy]
    header = struct.pack("<7sB11QBBBBBBiiiiBii", b"PMTiles", 3, root_off, len(root), meta_off, len(meta), leaf_off,
                         len(leaves), data_off, len(data), len(entries), len(entries), len(entries), 1, 2, 1,
                         tile_type, min(zooms), max(zooms), 1176000000, 392000000, 1179000000, 394000000,
                         min(zooms), 1177450000, 393180000)
    path.write_bytes(header + root + meta + leaves + data)
    return path


def colour(data: bytes):
    return Image.open(io.BytesIO(data)).convert("RGB").getpixel((3, 3))


def test_tile_ids_follow_the_hilbert_curve_of_each_zoom():
    assert pmtiles.zxy_to_tileid(0, 0, 0) == 0
    assert [pmtiles.zxy_to_tileid(1, x, y) for x, y in ((0, 0), (0, 1), (1, 1), (1, 0))] == [1, 2, 3, 4]
    assert pmtiles.zxy_to_tileid(2, 0, 0) == 5
    assert pmtiles.zxy_to_tileid(3, 7, 0) == 21 + 63  # the end of zoom 3's curve
    ids = {pmtiles.zxy_to_tileid(4, x, y) for x in range(16) for y in range(16)}
    assert ids == set(range(85, 85 + 256))


@pytest.mark.parametrize("leaf", [False, True])
def test_tiles_by_xyz_address_missing_ones_none(tmp_path, leaf):
    path = write(tmp_path / "town.pmtiles", {(13, 6775, 3104): png("red"), (13, 6776, 3104): png("blue"),
                                             (14, 13551, 6209): png("green")}, leaf=leaf)
    archive = tiles.open_archive(path)
    assert colour(archive.tile(13, 6775, 3104)) == (255, 0, 0)
    assert colour(archive.tile(13, 6776, 3104)) == (0, 0, 255)
    assert colour(archive.tile(14, 13551, 6209)) == (0, 128, 0)
    assert archive.tile(13, 6777, 3104) is None
    assert archive.tile(12, 0, 0) is None and archive.tile(15, 0, 0) is None
    info = archive.info()
    assert (info["format"], info["minzoom"], info["maxzoom"]) == ("png", 13, 14)
    assert info["attribution"] == "天地图 测试" and info["bounds"] == [117.6, 39.2, 117.9, 39.4]


def test_a_run_of_equal_tiles_shares_one(tmp_path):
    path = write(tmp_path / "sea.pmtiles", {(2, 0, 0): png("navy")}, runs={(2, 0, 0): 3})
    archive = pmtiles.PMTiles.open(path)
    # zoom 2's curve starts in the north-west quadrant, transposed: (0,0), (1,0), (1,1), (0,1)
    ids = [pmtiles.zxy_to_tileid(2, x, y) for x, y in ((0, 0), (1, 0), (1, 1), (0, 1))]
    assert ids == [5, 6, 7, 8]
    assert archive.tile(2, 1, 0) == archive.tile(2, 1, 1) == archive.tile(2, 0, 0)
    assert colour(archive.tile(2, 1, 1)) == (0, 0, 128)
    assert archive.tile(2, 0, 1) is None


def test_vector_and_foreign_files_are_refused(tmp_path):
    with pytest.raises(tiles.TileError, match="不是栅格瓦片"):
        tiles.open_archive(write(tmp_path / "v.pmtiles", {(1, 0, 0): b"\x1a\x00"}, tile_type=1))
    junk = tmp_path / "j.pmtiles"
    junk.write_bytes(b"PK\x03\x04" + bytes(200))
    with pytest.raises(tiles.TileError, match="不是 PMTiles v3 文件"):
        tiles.open_archive(junk)
