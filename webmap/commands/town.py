"""``wangge town``: a real town from its own files (``init``).

``init`` reads the villages and grids (:mod:`spatial.townfiles`), checks them in PostGIS and writes
the town, its record and (``--people``) its accounts (:mod:`db.town_init`), all or nothing. Notes,
problems and the summary go to stderr; stdout carries only the new accounts' JSON list, once.
Exit status: 0 done, 1 the check found problems (nothing written), 2 a file cannot be read.
"""

from __future__ import annotations

import json
import re
import sys

import click

from webmap.commands.common import fail, make_engine, ready_url

MAX_SHOWN = 200


@click.group(name="town")
def group() -> None:
    """乡镇 / a real town: set up from its own files."""


def _digits(n: int):
    def check(ctx, param, value):
        if value is not None and not re.fullmatch(f"[0-9]{{{n}}}", value):
            raise click.BadParameter(f"应为 {n} 位数字 / must be {n} digits")
        return value
    return check


def _say(zh: str, en: str) -> None:
    click.echo(f"{zh} / {en}", err=True)


@group.command("init")
@click.option("--code", required=True, callback=_digits(9), help="乡镇编码 / the town's 9-digit code")
@click.option("--name", required=True, help="乡镇名称 / the town's name, e.g. 某某镇")
@click.option("--district-code", required=True, callback=_digits(6), help="区县编码 / the district's 6-digit code")
@click.option("--district-name", required=True, help="区县名称 / the district's name, e.g. 滨海新区")
@click.option("--villages", "villages_path", required=True, type=click.Path(dir_okay=False),
              help="村/社区边界 / village boundaries: .shp, .gpkg or .geojson")
@click.option("--grids", "grids_path", required=True, type=click.Path(dir_okay=False),
              help="网格 / grid polygons: .shp, .gpkg or .geojson")
@click.option("--people", "people_path", type=click.Path(dir_okay=False),
              help="人员名单 / staff list, Excel: 姓名, 手机, 角色, 网格编码 or 村编码 or 部门")
@click.option("--crs", default=None, help="坐标系, 文件没有时 / the CRS of files without one (or overriding "
              "theirs): wgs84, cgcs2000, gcj02 (AMap), EPSG:n")
@click.option("--village-code-field", default=None, help="村编码字段 / the villages' code field [default: found]")
@click.option("--village-name-field", default=None, help="村名称字段 / the villages' name field [default: found]")
@click.option("--grid-code-field", default=None, help="网格编码字段 / the grids' code field [default: found]")
@click.option("--grid-name-field", default=None, help="网格名称字段 / the grids' name field [default: found]")
@click.option("--case-prefix", default="WG", show_default=True,
              help="案件编号前缀 / case-number prefix, 1-8 capital letters (e.g. YJB)")
@click.option("--supervision-office", default="", help="监督单位 / the supervision office (boards, receipts)")
@click.option("--supervision-phone", default="", help="监督电话 / the supervision phone")
@click.option("--dry-run", is_flag=True, help="只检查, 不写入 / check, write nothing")
def init(code: str, name: str, district_code: str, district_name: str, villages_path: str, grids_path: str,
         people_path: str | None, crs: str | None, village_code_field: str | None, village_name_field: str | None,
         grid_code_field: str | None, grid_name_field: str | None, case_prefix: str, supervision_office: str,
         supervision_phone: str, dry_run: bool) -> None:
    """初始化真实乡镇 / make an empty, migrated database a real town from its files.

    Villages: polygons with a 12-digit code and a name; grids: polygons with an optional 15-digit
    code and a name, each in the village that holds it. Any CRS the file states (.prj, GeoPackage
    SRS); stored in WGS84. Checks, all or nothing: invalid polygons, grids beyond their village
    (over 1 m), overlaps and gaps (over 1 m²), bad, duplicate or foreign codes. Missing grid codes
    are assigned west→east, north→south. With --people the new accounts are printed once on
    stdout as JSON [{username, role, scope, password}] (one-time passwords).
    Exit status: 0 done, 1 the check found problems (nothing written), 2 a file cannot be read.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from db import town_init
    from spatial.townfiles import TownFileError, read_layer, read_people

    if not code.startswith(district_code):
        raise click.BadParameter(f"乡镇编码应以区县编码 {district_code} 开头 / must begin with the district's code",
                                 param_hint="--code")
    if not re.fullmatch("[A-Z]{1,8}", case_prefix):
        raise click.BadParameter("应为 1-8 个大写字母 / 1-8 capital letters", param_hint="--case-prefix")
    try:
        villages = read_layer(villages_path, "villages", village_code_field, village_name_field, crs)
        grids = read_layer(grids_path, "grids", grid_code_field, grid_name_field, crs)
        people = read_people(people_path) if people_path else None
    except TownFileError as exc:
        click.echo(f"无法读取: {exc.zh}\ncannot read: {exc.en}", err=True)
        sys.exit(2)
    for layer in (villages, grids):
        for zh, en in layer.notes:
            _say(f"注意: {zh}", f"note: {en}")
        _say(f"读取 {layer.path.name}: {len(layer.features)} 个要素 (图层 {layer.layer}, 坐标系 {layer.crs}, "
             f"编码字段 {layer.code_field or '无'}, 名称字段 {layer.name_field or '无'})",
             f"read {len(layer.features)} features (layer {layer.layer}, CRS {layer.crs}, code field "
             f"{layer.code_field or 'none'}, name field {layer.name_field or 'none'})")
    spec = town_init.TownSpec(code=code, name=name, district_code=district_code, district_name=district_name,
                              case_prefix=case_prefix, supervision_office=supervision_office,
                              supervision_phone=supervision_phone)
    engine = make_engine(ready_url())
    try:
        outcome = town_init.init_town(engine, spec, villages, grids, people, dry_run=dry_run)
    except town_init.TownInitError as exc:
        fail(f"{exc.zh}, 未写入 / {exc.en}: nothing written")
    except SQLAlchemyError as exc:
        fail(f"初始化失败, 未写入 / town init failed, nothing written: {exc.__class__.__name__}: {exc}")
    finally:
        engine.dispose()
    if outcome.problems:
        for problem in outcome.problems[:MAX_SHOWN]:
            click.echo(problem.line(), err=True)
        more = len(outcome.problems) - MAX_SHOWN
        if more > 0:
            _say(f"… 另有 {more} 处", f"… and {more} more")
        _say(f"检查发现 {len(outcome.problems)} 处问题, 未写入任何数据",
             f"the check found {len(outcome.problems)} problem(s): nothing written")
        sys.exit(1)
    for row, assigned in outcome.assigned:
        _say(f"网格 {row} 没有编码, 编为 {assigned}", f"grid {row} had no code: it is {assigned}")
    if dry_run:
        _say(f"检查通过: {outcome.villages} 个村/社区, {outcome.grids} 个网格"
             + (f", {len(people)} 名人员" if people is not None else "") + "; 试运行, 未写入",
             f"check passed: {outcome.villages} villages, {outcome.grids} grids"
             + (f", {len(people)} people" if people is not None else "") + "; dry run: nothing written")
        return
    town = outcome.town
    _say(f"已初始化 {name} ({code}): {outcome.villages} 个村/社区, {outcome.grids} 个网格, {len(outcome.accounts)} 个账号; "
         f"地图中心 {town['map_lng']}, {town['map_lat']} (缩放 {town['map_zoom']}), 案件编号前缀 {case_prefix}",
         f"initialised {name} ({code}): {outcome.villages} villages, {outcome.grids} grids, "
         f"{len(outcome.accounts)} accounts; map centre {town['map_lng']}, {town['map_lat']} (zoom "
         f"{town['map_zoom']}), case prefix {case_prefix}")
    if people is not None:
        _say("新账号的一次性密码只显示这一次, 请妥善转交", "the new accounts' one-time passwords are shown this once only")
        click.echo(json.dumps(outcome.accounts, ensure_ascii=False, indent=1))
