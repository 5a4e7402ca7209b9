"""``wangge grids``: the grid cells (网格) to and from QGIS.

``export`` writes the grids current now, or valid at a date, to a GeoPackage, GeoJSON or
Shapefile in WGS84 (EPSG:4326) with the fields of :data:`FIELDS` (ten characters at most, for the
Shapefile). ``import`` reads such a file back after an edit and compares it with the current grids
of the villages it holds: a grid whose geometry (within :data:`TOLERANCE_DEG`) and attributes are
unchanged is skipped, a changed or new one becomes an item of one ``replace`` edit of a draft
redraw plan (改划方案, :mod:`webmap.services.plans`), and a current grid of those villages missing
from the file is retired. The plan's check decides: the draft is kept only when it finds no error.

The import runs in one database transaction, the service's commits being savepoints inside it;
a refused import or a dry run rolls it back, so it leaves no record at all (not even a discarded
plan).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import click

from spatial.tiling import as_multipolygon
from workflow.clock import SHANGHAI, format_iso

FORMATS = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".json": "GeoJSON", ".shp": "ESRI Shapefile"}
SHAPEFILE = "ESRI Shapefile"
LAYER = "grids"  # the GeoPackage layer (and the GeoJSON's name)
FIELDS = ("code", "name", "village", "village_nm", "kind", "households", "residents", "version",
          "valid_from", "valid_to")
KINDS = ("comprehensive", "dedicated")  # 综合网格, 专属网格
TOLERANCE_DEG = 1e-9  # about 0.1 mm: a vertex that moved less than this did not move
MAX_NAME = 100
MAX_FIGURE = 10**6  # households, residents: below this
SHAPEFILE_TEXT_BYTES = 254  # a .dbf text field holds this many bytes (85 Chinese characters)
# a Shapefile's own files, and QGIS's and ArcGIS's spatial indexes, which would be stale
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")
PLANNER_PATH = "/planner?plan={id}"
SEVERITY_ZH = {"error": "错误", "warning": "警告"}
MAX_LISTED = 10


class GridFileError(Exception):
    """A file that cannot be written or read as grids: the reasons in Chinese and English."""

    def __init__(self, zh: str, en: str):
        super().__init__(en)
        self.zh, self.en = zh, en


@click.group(name="grids")
def group() -> None:
    """网格 / grid cells to and from QGIS (GeoPackage, GeoJSON, Shapefile)."""


# ---------------------------------------------------------------- files


def file_format(path: Path) -> str:
    """The GDAL driver for ``path`` by its extension, or :class:`GridFileError`."""
    driver = FORMATS.get(path.suffix.lower())
    if driver is None:
        shown = path.suffix or "(无扩展名)"
        raise GridFileError(f"不支持的文件类型 {shown}, 应为 .gpkg、.geojson (.json) 或 .shp",
                            f"unsupported file type {path.suffix or '(none)'}: use .gpkg, .geojson (.json) or .shp")
    return driver


def parse_moment(raw: str | None) -> datetime | None:
    """``--at``: a date (YYYY-MM-DD: its 00:00 in Asia/Shanghai, as plans take effect) or an ISO
    8601 time (without an offset: Asia/Shanghai)."""
    if not raw:
        return None
    value = raw.strip()
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time.min, SHANGHAI)
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"应为 YYYY-MM-DD 或 ISO 时间, 而不是 {raw!r} / expected YYYY-MM-DD or an "
                                 "ISO 8601 time", param_hint="--at") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


def grids_frame(rows):
    """The grids as a GeoDataFrame of :data:`FIELDS` in EPSG:4326 (times as ISO text)."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    columns = {
        "code": pd.Series([r.code for r in rows], dtype=object),
        "name": pd.Series([r.name for r in rows], dtype=object),
        "village": pd.Series([r.village for r in rows], dtype=object),
        "village_nm": pd.Series([r.village_nm for r in rows], dtype=object),
        "kind": pd.Series([r.kind for r in rows], dtype=object),
        "households": pd.Series([r.households for r in rows], dtype="int32"),
        "residents": pd.Series([r.residents for r in rows], dtype="int32"),
        "version": pd.Series([r.version for r in rows], dtype="int32"),
        "valid_from": pd.Series([format_iso(r.valid_from) for r in rows], dtype=object),
        "valid_to": pd.Series([format_iso(r.valid_to) for r in rows], dtype=object),
    }
    geoms = [as_multipolygon(shapely.from_wkb(bytes(r.wkb))) for r in rows]
    return gpd.GeoDataFrame(columns, geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"), crs="EPSG:4326")


def too_long_for_shapefile(frame) -> list[str]:
    """Codes of the grids whose name or village name a Shapefile would cut (254 bytes of UTF-8)."""
    return [code for code, *names in zip(frame["code"], frame["name"], frame["village_nm"], strict=True)
            if any(len(str(n).encode("utf-8")) > SHAPEFILE_TEXT_BYTES for n in names)]


def write_grids(frame, path: Path) -> None:
    """Write ``frame`` to ``path`` (format by extension). The file is written beside, in a
    temporary folder, then moved in place: a reader never sees half a file, and an existing one is
    replaced whole (a Shapefile with its side files; a stale spatial index is removed)."""
    driver = file_format(path)
    folder = path.parent
    try:
        scratch = Path(tempfile.mkdtemp(prefix=".wangge-grids-", dir=folder))
    except OSError as exc:
        raise GridFileError(f"无法写入 {folder}: {exc.strerror}", f"cannot write to {folder}: {exc.strerror}") from exc
    try:
        options = {"encoding": "UTF-8"} if driver == SHAPEFILE else {"layer": LAYER}  # UTF-8: a .cpg says so
        with warnings.catch_warnings():  # a name cut by the Shapefile is reported by the command
            warnings.simplefilter("ignore", RuntimeWarning)
            frame.to_file(scratch / path.name, driver=driver, engine="pyogrio", geometry_type="MultiPolygon",
                          promote_to_multi=True, **options)
        made = {p.name for p in scratch.iterdir()}
        if driver == SHAPEFILE:
            for suffix in SHAPEFILE_PARTS:
                stale = path.with_suffix(suffix)
                if stale.name not in made:
                    stale.unlink(missing_ok=True)
        for name in sorted(made):
            os.replace(scratch / name, folder / name)
    except GridFileError:
        raise
    except Exception as exc:  # pyogrio's errors, a full disk, a read-only folder
        raise GridFileError(f"无法写入 {path}: {exc}", f"cannot write {path}: {exc}") from exc
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@dataclass(frozen=True)
class FileGrid:
    """One feature of an imported file: ``None`` attributes were left empty. WGS84 degrees."""

    row: int  # 1-based, in file order
    code: str
    village: str
    name: str | None
    kind: str | None
    households: int | None
    residents: int | None
    geom: object  # MultiPolygon


@dataclass
class GridFile:
    grids: list[FileGrid]
    layer: str
    notes: list[tuple[str, str]] = field(default_factory=list)  # (zh, en) said on stderr


def _cell(value):
    """A cell as a plain Python value; missing (None, NaN, NA, blank text) → None."""
    import numpy as np
    import pandas as pd

    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, str):
        return value.strip() or None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def _whole(value) -> int | None:
    """An integral number (``283``, ``283.0``, ``"283"``) as an int, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


def _listed(items: list[str]) -> str:
    shown = ", ".join(items[:MAX_LISTED])
    return shown + (f" … (+{len(items) - MAX_LISTED})" if len(items) > MAX_LISTED else "")


def _open_frame(path: Path):
    """The file's grid layer as a GeoDataFrame, and the layer's name."""
    import pyogrio

    if not path.is_file():
        raise GridFileError(f"找不到文件 {path}", f"no such file: {path}")
    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:
        raise GridFileError(f"无法打开 {path.name}: {exc}", f"cannot open {path.name}: {exc}") from exc
    if len(layers) == 0:
        raise GridFileError("文件中没有图层", "the file holds no layer")
    spatial = [str(name) for name, geometry_type in layers if geometry_type]
    if not spatial:
        raise GridFileError("文件没有几何列 (应为网格面图层)", "the file has no geometry column (grid polygons "
                            "expected)")
    if LAYER in spatial:
        layer = LAYER
    elif len(spatial) == 1:
        layer = spatial[0]
    else:
        raise GridFileError(f"文件有多个图层 ({'、'.join(spatial)}), 其中没有 {LAYER}",
                            f"the file has several layers ({', '.join(spatial)}) and none is named {LAYER}")
    try:
        frame = pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:
        raise GridFileError(f"无法读取图层 {layer}: {exc}", f"cannot read layer {layer}: {exc}") from exc
    if getattr(frame, "geometry", None) is None or not hasattr(frame, "crs"):
        raise GridFileError("文件没有几何列 (应为网格面图层)", "the file has no geometry column")
    return frame, layer


def _to_wgs84(frame, notes: list) -> object:
    from pyproj import CRS

    if frame.crs is None:
        notes.append(("文件没有坐标系, 按 WGS84 (EPSG:4326) 经纬度读取",
                      "the file has no CRS: its coordinates are taken as WGS84 (EPSG:4326) lon/lat"))
        return frame.set_crs(4326)
    if frame.crs.equals(CRS.from_epsg(4326), ignore_axis_order=True):
        return frame
    name = frame.crs.to_string()
    try:
        frame = frame.to_crs(4326)
    except Exception as exc:
        raise GridFileError(f"无法把 {name} 换算为 WGS84: {exc}", f"cannot reproject {name} to WGS84: {exc}") from exc
    notes.append((f"已从 {name} 换算为 WGS84 (EPSG:4326)", f"reprojected from {name} to WGS84 (EPSG:4326)"))
    return frame


def read_grids(path: Path) -> GridFile:
    """The grids of a file written by ``export`` (or edited from one), in WGS84, or
    :class:`GridFileError` naming every malformed feature: no code, a code that is not 15
    digits, a code twice, no geometry or one that is not a (Multi)Polygon, an unknown kind, a
    name over 100 characters, figures that are not whole numbers 0–999,999."""
    import shapely

    file_format(path)
    frame, layer = _open_frame(path)
    notes: list[tuple[str, str]] = []
    if len(frame) == 0:
        raise GridFileError("文件中没有网格", "the file holds no grids")
    columns = {str(c).lower(): c for c in frame.columns if c != frame.geometry.name}
    if "code" not in columns:
        raise GridFileError("文件缺少 code 字段 (15 位网格编码)", "the file has no code field (15-digit grid codes)")
    frame = _to_wgs84(frame, notes)

    def values(name):
        return [_cell(v) for v in frame[columns[name]]] if name in columns else [None] * len(frame)

    codes, names, kinds = values("code"), values("name"), values("kind")
    households, residents = values("households"), values("residents")
    geoms = list(frame.geometry.values)
    bad: dict[str, list[str]] = {}  # what is wrong → the features ("3" or "3 (code)")
    seen: dict[str, int] = {}
    grids = []
    for i in range(len(frame)):
        row = i + 1
        raw = codes[i]
        code = raw if isinstance(raw, str) else None if _whole(raw) is None else str(_whole(raw))
        where = f"{row} ({code})" if code else str(row)
        if raw is None:
            bad.setdefault("no_code", []).append(str(row))
        elif not (isinstance(code, str) and len(code) == 15 and code.isascii() and code.isdigit()):
            bad.setdefault("bad_code", []).append(f"{row} ({raw})")
        elif code in seen:
            bad.setdefault("twice", []).append(f"{seen[code]}, {row} ({code})")
        else:
            seen[code] = row
        geom = geoms[i]
        if geom is None or geom.is_empty:
            bad.setdefault("no_geometry", []).append(where)
        elif geom.geom_type not in ("Polygon", "MultiPolygon"):
            bad.setdefault("not_polygon", []).append(f"{where}: {geom.geom_type}")
        else:
            geom = as_multipolygon(shapely.force_2d(geom))
        kind = kinds[i]
        if kind is not None and kind not in KINDS:
            bad.setdefault("kind", []).append(f"{where}: {kind}")
        name = None if names[i] is None else str(names[i])
        if name is not None and len(name) > MAX_NAME:
            bad.setdefault("name", []).append(where)
        figures = []
        for value in (households[i], residents[i]):
            number = _whole(value)
            if value is not None and (number is None or not 0 <= number < MAX_FIGURE):
                bad.setdefault("figure", []).append(f"{where}: {value}")
            figures.append(number)
        if not bad:
            grids.append(FileGrid(row, code, code[:12], name, kind, *figures, geom))
    if bad:
        raise GridFileError(*_malformed(bad))
    return GridFile(grids, layer, notes)


_MALFORMED = {  # what → (zh, en), followed by the features
    "no_code": ("要素没有网格编码 code; 新网格请在规划页面绘制, 或填写本村/社区未用的新编码",
                "features without a grid code: draw new grids in the planner, or give each a new code of its "
                "village"),
    "bad_code": ("网格编码应为 15 位数字", "grid codes must be 15 digits"),
    "twice": ("网格编码重复", "duplicated grid codes"),
    "no_geometry": ("要素没有几何图形", "features without a geometry"),
    "not_polygon": ("几何应为面 (Polygon 或 MultiPolygon)", "geometries must be Polygon or MultiPolygon"),
    "kind": (f"kind 应为 {' 或 '.join(KINDS)}", f"kind must be {' or '.join(KINDS)}"),
    "name": (f"网格名称超过 {MAX_NAME} 个字符", f"grid names over {MAX_NAME} characters"),
    "figure": ("households/residents 应为 0–999999 的整数或空", "households/residents must be whole numbers "
               "0–999,999, or empty"),
}


def _malformed(bad: dict[str, list[str]]) -> tuple[str, str]:
    zh = [f"{_MALFORMED[k][0]}: 要素 {_listed(v)}" for k, v in bad.items()]
    en = [f"{_MALFORMED[k][1]}: feature {_listed(v)}" for k, v in bad.items()]
    return "; ".join(zh), "; ".join(en)


# ---------------------------------------------------------------- comparison


@dataclass(frozen=True)
class CurrentGrid:
    code: str
    village: str
    name: str
    kind: str
    households: int
    residents: int
    geom: object  # MultiPolygon, WGS84


@dataclass
class Changes:
    """What a file changes: the ``replace`` items and their codes by kind of change."""

    items: list[dict] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    unchanged: int = 0


def same_shape(a, b, tolerance: float = TOLERANCE_DEG) -> bool:
    """Whether two (Multi)Polygons have the same rings, vertex for vertex within ``tolerance``
    (in their units, here degrees), whatever the ring's start, orientation and part order.

    >>> from shapely import Polygon
    >>> square = Polygon([(0, 0), (1, 0), (1, 1), (0, 1)])
    >>> same_shape(square, Polygon([(1, 1), (1, 0), (0, 0), (0, 1)]))
    True
    >>> same_shape(square, Polygon([(0, 0), (1, 0), (1, 1), (0, 1.00001)]))
    False
    """
    import shapely

    a, b = (shapely.normalize(as_multipolygon(g)) for g in (a, b))
    return bool(shapely.equals_exact(a, b, tolerance))


def _figure(given: int | None, base: int | None, moved: bool) -> int | None:
    """The item's households or residents. An empty cell, or the old figure on a grid whose
    geometry changed, is None: shared out by area when the plan is published."""
    if given is None:
        return None if moved else base
    if moved and given == base:
        return None
    return given


def compare_grids(grids: list[FileGrid], current: dict[str, CurrentGrid]) -> Changes:
    """The changes the file's grids make to ``current`` (the current grids of the file's
    villages; WGS84). An unchanged geometry is replaced by the current one exactly. A new grid
    whose figures equal those of the grid it was cut from (they were copied by the split) has
    them shared out by area instead. Current grids of the file's villages missing from it retire."""
    from shapely.geometry import mapping

    out = Changes()
    villages = {g.village for g in grids}
    for g in grids:
        base = current.get(g.code)
        if base is None:
            inside = g.geom.representative_point()
            donors = [c for c in current.values() if c.village == g.village and c.geom.intersects(inside)]
            households, residents = (
                None if value is None or any(value == getattr(d, attr) for d in donors) else value
                for value, attr in ((g.households, "households"), (g.residents, "residents")))
            out.items.append({"code": g.code, "village": g.village, "name": g.name, "kind": g.kind or KINDS[0],
                              "households": households, "residents": residents, "geometry": mapping(g.geom)})
            out.new.append(g.code)
            continue
        moved = not same_shape(g.geom, base.geom)
        name, kind = g.name or base.name, g.kind or base.kind
        households = _figure(g.households, base.households, moved)
        residents = _figure(g.residents, base.residents, moved)
        if not moved and (name, kind, households, residents) == (base.name, base.kind, base.households,
                                                                  base.residents):
            out.unchanged += 1
            continue
        out.items.append({"code": g.code, "village": g.village, "name": name, "kind": kind, "households": households,
                          "residents": residents, "geometry": mapping(g.geom if moved else base.geom)})
        out.changed.append(g.code)
    in_file = {g.code for g in grids}
    for code, base in sorted(current.items()):
        if base.village in villages and code not in in_file:
            out.items.append({"code": code, "village": base.village, "geometry": None})
            out.retired.append(code)
    return out


# ---------------------------------------------------------------- database


def grids_at(db, at: datetime | None) -> list:
    """The grid versions current now (``at`` None) or valid at ``at`` (valid_from ≤ at <
    valid_to, or valid_to NULL), with their village, ordered by code."""
    from sqlalchemy import func, or_, select

    from db.models import Area, Grid

    q = (select(Grid.code, Grid.name, Area.code.label("village"), Area.name.label("village_nm"), Grid.kind,
                Grid.households, Grid.residents, Grid.version, Grid.valid_from, Grid.valid_to,
                func.ST_AsBinary(Grid.geom).label("wkb"))
         .join(Area, Area.id == Grid.village_id)
         .order_by(Grid.code))
    if at is None:
        return db.execute(q.where(Grid.valid_to.is_(None))).all()
    return db.execute(q.where(Grid.valid_from <= at, or_(Grid.valid_to.is_(None), Grid.valid_to > at))).all()


def current_grids(db, villages: set[str]) -> dict[str, CurrentGrid]:
    """The current grids of these villages (12-digit codes), or :class:`GridFileError` naming the
    codes that are no village of the town."""
    import shapely
    from sqlalchemy import func, select

    from db.models import Area, Grid

    known = set(db.execute(select(Area.code).where(Area.level == "village", Area.code.in_(sorted(villages))))
                .scalars())
    unknown = sorted(villages - known)
    if unknown:
        raise GridFileError(f"网格编码的前 12 位应为本镇的村/社区编码, 没有村/社区 {'、'.join(unknown)}",
                            f"a grid code begins with its village's 12-digit code; no village {', '.join(unknown)}")
    rows = db.execute(
        select(Grid.code, Area.code.label("village"), Grid.name, Grid.kind, Grid.households, Grid.residents,
               func.ST_AsBinary(Grid.geom).label("wkb"))
        .join(Area, Area.id == Grid.village_id)
        .where(Grid.valid_to.is_(None), Area.code.in_(sorted(villages)))).all()
    return {r.code: CurrentGrid(r.code, r.village, r.name, r.kind, r.households, r.residents,
                                as_multipolygon(shapely.from_wkb(bytes(r.wkb)))) for r in rows}


def planner_account(db, username: str | None):
    """The account the plan is drafted by (``--by``; default the first planner, else the first
    administrator), as :class:`webmap.services.accounts.CurrentUser`, or :class:`click.UsageError`."""
    from sqlalchemy import select

    from db.models import Account
    from webmap.services.accounts import load_user
    from workflow import roles

    q = select(Account.id, Account.role).where(Account.active)
    if username:
        row = db.execute(q.where(Account.username == username)).first()
        if row is None:
            raise click.UsageError(f"--by: 没有启用的账号 {username} / no active account {username}")
        if not roles.has_permission(row.role, "plan_grids"):
            raise click.UsageError(f"--by: {username} 不是网格规划员或管理员 / {username} is a {row.role}, "
                                   "not a planner or an administrator")
    else:
        row = db.execute(q.where(Account.role.in_(sorted(roles.roles_with("plan_grids"))))
                         .order_by(Account.role != "planner", Account.id).limit(1)).first()
        if row is None:
            raise click.UsageError("没有网格规划员或管理员账号, 请用 --by 指定 / no planner or administrator "
                                   "account: name one with --by")
    return load_user(db, row.id)


# ---------------------------------------------------------------- commands


def _refuse(path: Path, exc: GridFileError, code: int = 2):
    click.echo(f"无法导入 {path}: {exc.zh}\ncannot import {path}: {exc.en}", err=True)
    sys.exit(code)


def problem_line(p: dict) -> str:
    """One problem of the check on one line: severity, the reason (naming the grids), the place
    (lng, lat, WGS84) and the area in m²."""
    place = "—" if p["location"] is None else f"{p['location']['lng']:.7f}, {p['location']['lat']:.7f}"
    area = "" if p["area_m2"] is None else f"  {p['area_m2']:,.2f} m²"
    return (f"{SEVERITY_ZH.get(p['severity'], p['severity'])} {p['severity']} [{p['kind']}] {p['zh']} / {p['en']}"
            f"  @ {place}{area}")


@group.command("export")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--at", "at_raw", default=None, metavar="DATE",
              help="导出该时刻有效的网格 / the grids valid at this date (YYYY-MM-DD: its 00:00 Asia/Shanghai) "
                   "or ISO time [default: the current grids]")
def export(file: str, at_raw: str | None) -> None:
    """导出网格 / write the grids to FILE for QGIS: .gpkg (layer grids), .geojson/.json or .shp (UTF-8).

    WGS84 (EPSG:4326). Fields: code, name, village (12-digit code), village_nm, kind, households,
    residents, version, valid_from, valid_to (ISO times, Asia/Shanghai). An existing FILE is
    replaced. Exit status: 0 written, 1 the database or the file failed, 2 an unknown file type.
    """
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.orm import Session

    from webmap.commands.common import fail, make_engine, ready_url

    path = Path(file)
    try:
        driver = file_format(path)
    except GridFileError as exc:
        click.echo(f"无法导出 {path}: {exc.zh}\ncannot export {path}: {exc.en}", err=True)
        sys.exit(2)
    at = parse_moment(at_raw)
    engine = make_engine(ready_url())
    try:
        with Session(engine) as db:
            rows = grids_at(db, at)
    except SQLAlchemyError as exc:
        fail(f"读取网格失败 / cannot read the grids: {exc.__class__.__name__}: {exc}")
    finally:
        engine.dispose()
    frame = grids_frame(rows)
    try:
        write_grids(frame, path)
    except GridFileError as exc:
        fail(f"{exc.zh}\n{exc.en}")
    if driver == SHAPEFILE and (cut := too_long_for_shapefile(frame)):
        click.echo(f"注意: Shapefile 文本字段最多 {SHAPEFILE_TEXT_BYTES} 字节, 网格 {_listed(cut)} 的名称被截断, "
                   f"请改用 .gpkg\nnote: a Shapefile text field holds {SHAPEFILE_TEXT_BYTES} bytes; the names of "
                   f"grids {_listed(cut)} were cut: use .gpkg", err=True)
    when_zh, when_en = ("现行", "current grids") if at is None else (f"{format_iso(at)} 时有效的", f"grids valid at {format_iso(at)}")
    click.echo(f"已导出 {len(frame)} 个{when_zh}网格 → {path}\nexported {len(frame)} {when_en} to {path}")


@group.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--title", default=None, help="方案名称 / the plan's title [default: 导入: FILE's name]")
@click.option("--by", "username", default=None, metavar="USERNAME",
              help="起草方案的账号 / the account drafting the plan [default: the first planner, else admin]")
@click.option("--dry-run", is_flag=True, help="检查并打印, 不保存方案 / check and print, keep no plan")
def import_file(file: str, title: str | None, username: str | None, dry_run: bool) -> None:
    """导入网格 / compare an edited grid FILE (.gpkg, .geojson/.json, .shp) with the current grids
    and save the changes as a draft redraw plan (改划方案).

    Changed and new grids become the plan's items; current grids of the villages in FILE whose
    codes are missing from it are retired (villages not in FILE are left alone). New grids carry a
    new code of their village. The plan's check is printed, one problem a line; with an error
    nothing is saved. Another CRS is reprojected to WGS84; a file without one is taken as WGS84.
    Exit status: 0 the draft saved (or nothing changed, or a dry run without errors), 1 the check
    found errors (nothing saved), 2 the file is malformed or refused (nothing saved).
    """
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.orm import Session

    from webmap.commands.common import fail, make_engine, ready_url

    path = Path(file)
    try:
        grid_file = read_grids(path)
    except GridFileError as exc:
        _refuse(path, exc)
    for zh, en in grid_file.notes:
        click.echo(f"注意: {zh}\nnote: {en}", err=True)
    click.echo(f"读取 {len(grid_file.grids)} 个网格 (图层 {grid_file.layer}) / read {len(grid_file.grids)} grids "
               f"(layer {grid_file.layer})", err=True)
    engine = make_engine(ready_url())
    connection = engine.connect()
    outer = connection.begin()  # the service's commits are savepoints in it; rolled back unless kept
    db = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        keep = _import(db, path, grid_file, title or f"导入: {path.name}", username, dry_run)
        if keep:
            outer.commit()
    except SQLAlchemyError as exc:
        fail(f"导入失败, 未保存 / import failed, nothing saved: {exc.__class__.__name__}: {exc}")
    finally:
        db.close()
        if outer.is_active:
            outer.rollback()
        connection.close()
        engine.dispose()


def _import(db, path: Path, grid_file: GridFile, title: str, username: str | None, dry_run: bool) -> bool:
    """Compare, draft, check and print; True when the draft is to be kept; exits otherwise."""
    from webmap.services import plans

    user = planner_account(db, username)
    try:
        current = current_grids(db, {g.village for g in grid_file.grids})
    except GridFileError as exc:
        _refuse(path, exc)
    changes = compare_grids(grid_file.grids, current)
    if not changes.items:
        click.echo(f"文件与现行网格一致, 无需改划 ({changes.unchanged} 个网格)\n"
                   f"the file matches the current grids ({changes.unchanged} grids): no plan made")
        return False
    click.echo(f"改动 {len(changes.changed)} 个, 新增 {len(changes.new)} 个, 撤销 {len(changes.retired)} 个, "
               f"未变 {changes.unchanged} 个\n{len(changes.changed)} changed, {len(changes.new)} new, "
               f"{len(changes.retired)} retired, {changes.unchanged} unchanged")
    for zh, en, codes in (("改动", "changed", changes.changed), ("新增", "new", changes.new),
                          ("撤销", "retired", changes.retired)):
        if codes:
            click.echo(f"  {zh} {en}: {_listed(codes)}")
    try:
        plan_id = plans.create(db, user, title, note=f"wangge grids import {path.name}", source="import")
        view = plans.edit(db, user, plan_id, {"op": "replace", "version": 1, "items": changes.items})
    except plans.PlanError as exc:
        _refuse(path, GridFileError(exc.zh, exc.en), 2 if exc.status == 400 else 1)
    click.echo(f"检查: {view['errors']} 处错误, {view['warnings']} 处警告\n"
               f"check: {view['errors']} errors, {view['warnings']} warnings")
    for problem in view["problems"]:
        click.echo(problem_line(problem))
    if view["errors"]:
        click.echo(f"方案有 {view['errors']} 处错误, 未保存 / the check found {view['errors']} error(s): the draft "
                   "is refused, nothing saved", err=True)
        sys.exit(1)
    if dry_run:
        click.echo("试运行, 未保存方案 / dry run: no plan kept", err=True)
        return False
    url = PLANNER_PATH.format(id=plan_id)
    click.echo(f"已保存改划方案草稿 {plan_id} ({user.username}): {url}\nsaved draft plan {plan_id} "
               f"(by {user.username}): {url}")
    return True
