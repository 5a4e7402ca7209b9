"""``wangge basemap build``: the demo town's own base map as a raster MBTiles file (zooms 11–13 here,
to stay fast), with the town's geometry drawn where the town is."""

import io
import sqlite3

import numpy as np
from click.testing import CliRunner
from PIL import Image

from db.demo_town import build_town
from webmap.cli import main
from webmap.services import basemap, tiles


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    x, y = basemap.world_xy(lon, lat)
    return int(float(x) * (1 << z) / 256), int(float(y) * (1 << z) / 256)


def test_build_writes_tiles_over_the_villages(tmp_path):
    path = tmp_path / "demo.mbtiles"
    result = CliRunner().invoke(main, ["basemap", "build", str(path), "--max-zoom", "13"])
    assert result.exit_code == 0, result.output
    assert "底图已生成 / base map built" in result.output

    archive = tiles.MBTiles.open(path)
    info = archive.info()
    assert (info["minzoom"], info["maxzoom"], info["format"]) == (11, 13, "png")
    assert "合成演示底图" in info["attribution"]
    assert sqlite3.connect(path).execute("SELECT DISTINCT zoom_level FROM tiles ORDER BY 1").fetchall() == [
        (11,), (12,), (13,)]

    town = build_town()
    settlement = town.settlements[0]
    x, y = tile_of(settlement["label"].x, settlement["label"].y, 13)
    image = Image.open(io.BytesIO(archive.tile(13, x, y))).convert("RGB")
    assert image.size == (256, 256)
    pixels = [tuple(p) for p in np.asarray(image).reshape(-1, 3).tolist()]
    dark = [p for p in pixels if sum(p) < 300]  # the village's name
    blocks = [p for p in pixels if p == basemap.BLOCK]
    assert len(set(pixels)) > 20 and len(dark) > 30 and blocks, "the tile over a village looks blank"

    # the corner tile of zoom 11 south-west of the town has its background, not the town's colour
    corner = Image.open(io.BytesIO(archive.tile(11, *tile_of(*town.outline.bounds[:2], 11)))).convert("RGB")
    assert corner.getpixel((0, 255)) == basemap.BACKGROUND


def test_the_same_seed_draws_the_same_map(tmp_path):
    town = build_town()
    a, b = basemap.Renderer(town), basemap.Renderer(build_town())
    z, x, y = a.tiles(range(12, 13))[len(a.tiles(range(12, 13))) // 2]
    assert a.render(z, x, y) == b.render(z, x, y)
    again = build_town()
    assert all(r["geom"].equals_exact(s["geom"], 0) for r, s in zip(town.roads, again.roads, strict=True))


def test_bad_arguments_are_refused_without_a_file(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["basemap", "build", str(tmp_path / "map.png")])
    assert result.exit_code == 1 and "须以 .mbtiles 结尾" in result.output
    result = runner.invoke(main, ["basemap", "build", str(tmp_path / "m.mbtiles"), "--min-zoom", "14",
                                  "--max-zoom", "12"])
    assert result.exit_code == 1 and "最小级别大于最大级别" in result.output
    result = runner.invoke(main, ["basemap", "build", str(tmp_path / "no" / "m.mbtiles")])
    assert result.exit_code == 1 and "目录不存在" in result.output
    assert list(tmp_path.iterdir()) == []


def test_serve_takes_the_setting_else_the_built_demo_map(tmp_path, monkeypatch):
    from webmap.cli import basemap_path

    monkeypatch.setenv("WANGGE_HOME", str(tmp_path))
    monkeypatch.delenv("WANGGE_BASEMAP", raising=False)
    assert basemap_path() == ""  # nothing built yet
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "basemap.mbtiles").write_bytes(b"")
    assert basemap_path() == str((tmp_path / "var" / "basemap.mbtiles").resolve())
    monkeypatch.setenv("WANGGE_BASEMAP", "/srv/town.pmtiles")
    assert basemap_path() == "/srv/town.pmtiles"
    monkeypatch.setenv("WANGGE_BASEMAP", "")
    assert basemap_path() == ""  # set empty: none
