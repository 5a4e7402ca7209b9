"""The MBTiles reader and writer of the offline base map, on files made here with sqlite3 itself."""

import io
import sqlite3

import pytest
from PIL import Image

from webmap.services import tiles


def png(colour) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), colour).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def mbtiles(tmp_path):
    """A file as offline tile tools write it: TMS rows, HTML in the attribution."""
    path = tmp_path / "town.mbtiles"
    conn = sqlite3.connect(path)
    conn.executescript("""CREATE TABLE metadata (name TEXT, value TEXT);
        CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);""")
    conn.executemany("INSERT INTO metadata VALUES (?, ?)", [
        ("name", "天地图 测试"), ("format", "png"), ("minzoom", "2"), ("maxzoom", "3"),
        ("bounds", "117.6,39.2,117.9,39.4"), ("attribution", '&copy; <a href="http://www.tianditu.gov.cn">天地图</a>')])
    # z=2, x=1: TMS row 0 is the southernmost row, XYZ row 3
    conn.execute("INSERT INTO tiles VALUES (2, 1, 0, ?)", (png("red"),))
    conn.execute("INSERT INTO tiles VALUES (2, 1, 3, ?)", (png("blue"),))
    conn.commit()
    conn.close()
    return path


def colour(data: bytes):
    return Image.open(io.BytesIO(data)).convert("RGB").getpixel((5, 5))


def test_rows_are_flipped_from_tms(mbtiles):
    archive = tiles.MBTiles.open(mbtiles)
    assert colour(archive.tile(2, 1, 3)) == (255, 0, 0)  # TMS row 0 is XYZ row 3
    assert colour(archive.tile(2, 1, 0)) == (0, 0, 255)
    assert tiles.tms_row(2, 3) == 0 and tiles.tms_row(16, 0) == 65535


def test_a_missing_or_impossible_tile_is_none(mbtiles):
    archive = tiles.MBTiles.open(mbtiles)
    assert archive.tile(2, 0, 0) is None
    assert archive.tile(2, 4, 0) is None  # beyond the world at zoom 2
    assert archive.tile(-1, 0, 0) is None


def test_metadata_attribution_as_text_zooms_and_bounds(mbtiles):
    info = tiles.MBTiles.open(mbtiles).info()
    assert info["name"] == "天地图 测试"
    assert info["attribution"] == "© 天地图"
    assert (info["minzoom"], info["maxzoom"], info["format"]) == (2, 3, "png")
    assert info["bounds"] == [117.6, 39.2, 117.9, 39.4]


def test_the_file_is_opened_read_only(mbtiles):
    archive = tiles.MBTiles.open(mbtiles)
    archive.tile(2, 1, 3)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        archive._connection().execute("DELETE FROM tiles")


def test_files_that_are_not_raster_mbtiles_are_refused(tmp_path):
    with pytest.raises(tiles.TileError, match="不存在 / base map file not found"):
        tiles.open_archive(tmp_path / "none.mbtiles")
    junk = tmp_path / "junk.mbtiles"
    junk.write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(tiles.TileError, match="不是 MBTiles 文件 / not an MBTiles file"):
        tiles.open_archive(junk)
    vector = tmp_path / "vector.mbtiles"
    conn = sqlite3.connect(vector)
    conn.executescript("""CREATE TABLE metadata (name TEXT, value TEXT); INSERT INTO metadata VALUES ('format', 'pbf');
        CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);""")
    conn.close()
    with pytest.raises(tiles.TileError, match="不是栅格瓦片"):
        tiles.open_archive(vector)
    with pytest.raises(tiles.TileError, match=".mbtiles 或 .pmtiles"):
        tiles.open_archive(tmp_path / "map.tif")


def test_the_writer_stores_tms_rows_and_replaces_the_file_only_when_done(tmp_path):
    path = tmp_path / "out.mbtiles"
    writer = tiles.MBTilesWriter(path, {"name": "x", "format": "png", "minzoom": 5, "maxzoom": 5})
    writer.add(5, 3, 1, png("green"))
    assert not path.exists()
    writer.close()
    rows = sqlite3.connect(path).execute("SELECT zoom_level, tile_column, tile_row FROM tiles").fetchall()
    assert rows == [(5, 3, 30)]
    assert colour(tiles.MBTiles.open(path).tile(5, 3, 1)) == (0, 128, 0)
