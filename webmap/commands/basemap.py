"""`wangge basemap`: the demo town's own offline base map, rendered into an MBTiles file."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from webmap.commands.common import fail

DEFAULT_SEED = 20261128  # the demo town's (wangge demo load --seed)


@click.group(name="basemap")
def group() -> None:
    """离线底图 / the offline base map (WANGGE_BASEMAP)."""


@group.command("build")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--seed", default=DEFAULT_SEED, show_default=True, help="演示镇的随机种子 / the demo town's seed")
@click.option("--min-zoom", default=11, show_default=True, type=click.IntRange(0, 18))
@click.option("--max-zoom", default=16, show_default=True, type=click.IntRange(0, 18))
def build(file: Path, seed: int, min_zoom: int, max_zoom: int) -> None:
    """把演示镇的边界、村庄、道路、河流和居民点绘制成栅格 MBTiles / render the demo town's boundary,
    villages, roads, river and settlements (with the villages' names) into a raster MBTiles FILE
    (PNG tiles, 256 px); serve it with WANGGE_BASEMAP=FILE."""
    from db.demo_town import build_town
    from webmap.services import basemap

    if file.suffix.lower() != ".mbtiles":
        fail(f"文件名须以 .mbtiles 结尾 / FILE must end in .mbtiles: {file}")
    if min_zoom > max_zoom:
        fail(f"最小级别大于最大级别 / --min-zoom {min_zoom} is above --max-zoom {max_zoom}")
    if not file.parent.is_dir():
        fail(f"目录不存在 / no such folder: {file.parent}")
    started = time.monotonic()
    town = build_town(seed)

    def progress(tiles):
        return click.progressbar(tiles, label=f"绘制瓦片 / rendering {len(tiles)} tiles", show_pos=True,
                                 file=sys.stderr)

    try:
        count = basemap.build(town, str(file), range(min_zoom, max_zoom + 1), progress=progress)
    except OSError as exc:
        fail(f"无法写入 / cannot write {file}: {exc}")
    seconds = time.monotonic() - started
    click.echo(f"底图已生成 / base map built: {file} ({count} 个瓦片 tiles, 级别 zooms {min_zoom}–{max_zoom}, "
               f"{file.stat().st_size / 1e6:.1f} MB, {seconds:.1f} s)")
