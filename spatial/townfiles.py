"""Reading a real town's own files for ``wangge town init``: its village boundaries and grids
(Shapefile, GeoPackage or GeoJSON, in whatever CRS the surveying bureau used) and its staff list
(Excel). Files only, no database: the checks that need PostGIS are in :mod:`db.town_init`.

Villages and grids come back as :class:`Layer` s of :class:`Feature` s in WGS84 (EPSG:4326), with
the code and the name found among the usual field spellings (:data:`CODE_FIELDS`,
:data:`NAME_FIELDS`) unless an option names them. A file that cannot be read as such a layer raises
:class:`TownFileError` (bilingual): no such file, an unknown type, no polygon layer, no CRS (and no
``--crs``), coordinates that fall outside China once reprojected (a wrong ``.prj``), a missing code
or name field, a geometry that is not a polygon.

A Shapefile's text is decoded as its ``.cpg`` says; without one the ``.dbf`` bytes are tried as
UTF-8 and else taken as GB18030 (what Chinese ArcGIS and QGIS installs write), so that names never
arrive as mojibake (GDAL alone would read them as ISO-8859-1).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spatial.crs import gcj02_to_wgs84
from spatial.tiling import as_multipolygon

FORMATS = {".shp": "ESRI Shapefile", ".gpkg": "GPKG", ".geojson": "GeoJSON", ".json": "GeoJSON"}
KIND_ZH = {"villages": "村/社区", "grids": "网格"}
KIND_EN = {"villages": "village", "grids": "grid"}
# the usual spellings of the code and name fields, the more specific first (a grid file may also
# carry its village's code: 网格编码 wins over 编码 there, and 村编码 is not a grid's code)
CODE_FIELDS = {
    "villages": ("村编码", "村代码", "村居编码", "社区编码", "村级编码", "行政区划代码", "区划代码", "village_code",
                 "villagecode", "cun_code", "xzqdm", "编码", "代码", "code", "dm", "bm"),
    "grids": ("网格编码", "网格代码", "网格编号", "grid_code", "gridcode", "wgbm", "编码", "代码", "code", "bm"),
}
NAME_FIELDS = {
    "villages": ("村名", "村名称", "村庄名称", "村居名称", "社区名称", "village_name", "village_nm", "xzqmc", "名称",
                 "name", "mc"),
    "grids": ("网格名称", "网格名", "grid_name", "gridname", "wgmc", "名称", "name", "mc"),
}
CRS_NAMES = {"wgs84": "EPSG:4326", "cgcs2000": "EPSG:4490", "gcj02": "gcj02"}
CHINA = (73.0, 3.0, 136.0, 54.0)  # lon/lat bounds: a layer reprojected outside them has a wrong CRS
MAX_NAME = 100
# Edges of projected files are cut into pieces of this length before reprojecting: a grid edge that
# ends on a village's longer edge (a T-junction) then stays on it within micrometres in WGS84,
# where the checks run, instead of centimetres off over a kilometre (a sliver gap of square metres).
DENSIFY_M = 50.0


class TownFileError(Exception):
    """A file that cannot be read as villages, grids or people: the reason in Chinese and English."""

    def __init__(self, zh: str, en: str):
        super().__init__(en)
        self.zh, self.en = zh, en


@dataclass(frozen=True)
class Feature:
    """One polygon of a file: ``row`` counts features from 1 in file order; WGS84 degrees. A code
    or name left empty is None (a code in a number field comes as its digits)."""

    row: int
    code: str | None
    name: str | None
    geom: object  # MultiPolygon, possibly invalid (the checks say why)

    def label(self, kind: str, lang: str = "zh") -> str:
        """``网格 3 (120116103201001 张庄一网格)``: the feature as problems name it."""
        words = " ".join(w for w in (self.code, self.name) if w)
        head = f"{KIND_ZH[kind]} {self.row}" if lang == "zh" else f"{KIND_EN[kind]} {self.row}"
        return f"{head} ({words})" if words else head


@dataclass
class Layer:
    kind: str  # villages, grids
    path: Path
    layer: str
    crs: str  # as the file said it, or as --crs named it
    code_field: str | None
    name_field: str | None
    features: list[Feature]
    encoding: str | None = None  # a Shapefile's, when detected
    notes: list[tuple[str, str]] = field(default_factory=list)  # (zh, en), said on stderr


def normalise(name) -> str:
    """
    >>> normalise(" Village_Code "), normalise("网格编码")
    ('village_code', '网格编码')
    """
    return str(name).replace("\ufeff", "").strip().lower().replace(" ", "_").replace("-", "_")


def pick_field(columns, kind: str, which: str, given: str | None) -> str | None:
    """The column holding the code (``which="code"``) or the name: the one ``given`` (refused when
    absent), else the first of the usual spellings present, else None.

    >>> pick_field(["FID", "村编码", "村名"], "villages", "code", None)
    '村编码'
    >>> pick_field(["code", "网格编码", "name"], "grids", "code", None)
    '网格编码'
    >>> pick_field(["OBJECTID"], "grids", "name", None) is None
    True
    """
    by_name = {normalise(c): c for c in columns}
    if given:
        if normalise(given) in by_name:
            return by_name[normalise(given)]
        raise TownFileError(f"字段 {given} 不在文件中 (有: {'、'.join(map(str, columns)) or '无'})",
                            f"no field {given} in the file (it has: {', '.join(map(str, columns)) or 'none'})")
    for alias in (CODE_FIELDS if which == "code" else NAME_FIELDS)[kind]:
        if alias in by_name:
            return by_name[alias]
    return None


def shapefile_encoding(path: Path) -> str | None:
    """The text encoding of a Shapefile without ``.cpg``: ``UTF-8`` when its field names and records
    decode as such, else ``GB18030`` (a superset of GBK). None when a ``.cpg`` says it (GDAL reads it)."""
    if any(path.with_suffix(s).exists() for s in (".cpg", ".CPG")):
        return None
    dbf = next((p for p in (path.with_suffix(".dbf"), path.with_suffix(".DBF")) if p.exists()), None)
    if dbf is None:
        return None
    data = dbf.read_bytes()
    if len(data) < 32:
        return None
    header_len, record_len = struct.unpack("<HH", data[8:12])
    names = []
    for start in range(32, min(header_len, len(data)) - 31, 32):
        if data[start] == 0x0D:
            break
        names.append(data[start:start + 11].split(b"\x00", 1)[0])
    text = b" ".join(names) + data[header_len:]
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        return "GB18030"
    return "UTF-8"


def parse_crs(value: str | None):
    """``--crs``: wgs84, cgcs2000, gcj02, EPSG:n or n → ``"gcj02"`` or a :class:`pyproj.CRS`; None
    when not given. ValueError with a bilingual message when unknown.

    >>> parse_crs("gcj02"), parse_crs("4548").to_epsg(), parse_crs("CGCS2000").to_epsg()
    ('gcj02', 4548, 4490)
    """
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    if not value:
        return None
    key = value.strip().lower()
    named = CRS_NAMES.get(key)
    if named == "gcj02":
        return "gcj02"
    try:
        return CRS.from_user_input(named or (f"EPSG:{key}" if key.isdigit() else value.strip()))
    except CRSError as exc:
        raise ValueError(f"未知坐标系 {value} (可用 wgs84、cgcs2000、gcj02 或 EPSG:编号) / unknown CRS {value} "
                         "(use wgs84, cgcs2000, gcj02 or EPSG:n)") from exc


def _open(path: Path, kind: str):
    import pyogrio

    if not path.is_file():
        raise TownFileError(f"找不到文件 {path}", f"no such file: {path}")
    if path.suffix.lower() not in FORMATS:
        raise TownFileError(f"不支持的文件类型 {path.suffix or '(无扩展名)'}, 应为 .shp、.gpkg 或 .geojson",
                            f"unsupported file type {path.suffix or '(none)'}: use .shp, .gpkg or .geojson")
    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:
        raise TownFileError(f"无法打开 {path.name}: {exc}", f"cannot open {path.name}: {exc}") from exc
    spatial = [str(name) for name, geometry_type in layers if geometry_type]
    if not spatial:
        raise TownFileError(f"{path.name} 中没有面图层", f"{path.name} holds no polygon layer")
    if len(spatial) == 1:
        layer = spatial[0]
    elif kind in spatial:
        layer = kind
    else:
        raise TownFileError(f"{path.name} 有多个图层 ({'、'.join(spatial)}), 其中没有 {kind}",
                            f"{path.name} has several layers ({', '.join(spatial)}) and none is named {kind}")
    encoding = shapefile_encoding(path) if FORMATS[path.suffix.lower()] == "ESRI Shapefile" else None
    try:
        frame = pyogrio.read_dataframe(path, layer=layer, encoding=encoding, on_invalid="ignore")
    except Exception as exc:
        raise TownFileError(f"无法读取 {path.name} 的图层 {layer}: {exc}",
                            f"cannot read layer {layer} of {path.name}: {exc}") from exc
    return frame, layer, encoding


def _gcj02_geometries(geoms):
    import shapely

    def convert(xy):
        lng, lat = gcj02_to_wgs84(xy[:, 0], xy[:, 1])
        return np.column_stack([lng, lat])

    return [None if g is None else shapely.transform(g, convert) for g in geoms]


def _metres_per_unit(crs) -> float:
    """How many of the CRS's axis units make a metre (1 for metres, 3.28 for US feet)."""
    factor = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
    return 1.0 / factor if factor else 1.0


def _reproject(frame, crs_option, path: Path, notes: list) -> tuple[list, str]:
    """The frame's geometries in WGS84 and the name of the CRS they were in."""
    from pyproj import CRS

    own = frame.crs
    if crs_option is None and own is None:
        raise TownFileError(f"{path.name} 没有坐标系 (缺少 .prj), 请用 --crs 指定, 如 --crs EPSG:4548 或 --crs wgs84",
                            f"{path.name} has no CRS (no .prj): name one with --crs, e.g. --crs EPSG:4548 or "
                            "--crs wgs84")
    if crs_option == "gcj02":
        if own is not None and not own.is_geographic:
            raise TownFileError(f"--crs gcj02 是经纬度, 而 {path.name} 是投影坐标 {own.name}",
                                f"--crs gcj02 means lon/lat, but {path.name} is in the projected {own.name}")
        notes.append((f"{path.name}: 按 GCJ-02 (高德/腾讯) 经纬度换算为 WGS84",
                      f"{path.name}: GCJ-02 (AMap/Tencent) lon/lat converted to WGS84"))
        return _gcj02_geometries(list(frame.geometry.values)), "GCJ-02"
    if crs_option is not None:
        if own is None:
            frame = frame.set_crs(crs_option)
        elif not own.equals(crs_option, ignore_axis_order=True):
            notes.append((f"{path.name}: 文件自带坐标系 {own.name}, 未用 --crs {crs_option.name}",
                          f"{path.name} states its CRS, {own.name}: --crs {crs_option.name} is not used for it"))
    source = frame.crs
    name = source.name if source.to_epsg() is None else f"EPSG:{source.to_epsg()} {source.name}"
    if not source.equals(CRS.from_epsg(4326), ignore_axis_order=True):
        if source.is_projected:  # a straight edge in metres is a curve in degrees: keep shared edges shared
            frame = frame.set_geometry(frame.geometry.segmentize(DENSIFY_M * _metres_per_unit(source)))
        try:
            frame = frame.to_crs(4326)
        except Exception as exc:
            raise TownFileError(f"无法把 {name} 换算为 WGS84: {exc}", f"cannot reproject {name} to WGS84: {exc}") from exc
        notes.append((f"{path.name}: 已从 {name} 换算为 WGS84", f"{path.name}: reprojected from {name} to WGS84"))
    return list(frame.geometry.values), name


def _text(value) -> str | None:
    """A cell as text: numbers of a code field as their digits; empty → None.

    >>> _text(120116103201.0), _text(" 张庄 "), _text(float("nan")), _text("")
    ('120116103201', '张庄', None, None)
    """
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if value != value:  # NaN
            return None
        if value.is_integer():
            return str(int(value))
    if isinstance(value, bool):
        return str(value)
    text = str(value).strip()
    return text or None


def read_layer(path, kind: str, code_field: str | None = None, name_field: str | None = None,
               crs: str | None = None) -> Layer:
    """The villages (``kind="villages"``) or grids of ``path`` in WGS84, or :class:`TownFileError`.

    Villages need a code and a name field; grids may lack either (codes are then assigned, names
    made from the village's). ``crs`` (``--crs``) names the CRS of a file without one (a file's
    own CRS wins); ``gcj02`` reads the lon/lat of a geographic file as drawn on AMap and converts
    them."""
    import shapely

    path = Path(path)
    try:
        crs_option = parse_crs(crs)
    except ValueError as exc:
        zh, _, en = str(exc).partition(" / ")
        raise TownFileError(zh, en) from exc
    frame, layer, encoding = _open(path, kind)
    notes: list[tuple[str, str]] = []
    if encoding:
        notes.append((f"{path.name}: 没有 .cpg, 文字编码识别为 {encoding}",
                      f"{path.name}: no .cpg, text read as {encoding}"))
    if len(frame) == 0:
        raise TownFileError(f"{path.name} 中没有{KIND_ZH[kind]}", f"{path.name} holds no {KIND_EN[kind]}s")
    columns = [c for c in frame.columns if c != frame.geometry.name]
    code_col = pick_field(columns, kind, "code", code_field)
    name_col = pick_field(columns, kind, "name", name_field)
    if kind == "villages":
        for col, zh, en, aliases in ((code_col, "编码", "code", CODE_FIELDS), (name_col, "名称", "name", NAME_FIELDS)):
            if col is None:
                raise TownFileError(
                    f"{path.name} 缺少村/社区{zh}字段 (可用 {'、'.join(aliases[kind][:6])}…, 或用 --village-{en}-field 指定; "
                    f"文件有: {'、'.join(map(str, columns)) or '无'})",
                    f"{path.name} has no village {en} field (any of {', '.join(aliases[kind])}, or name it with "
                    f"--village-{en}-field; the file has: {', '.join(map(str, columns)) or 'none'})")
    geoms, crs_name = _reproject(frame, crs_option, path, notes)
    bad_type = []
    features = []
    for i, geom in enumerate(geoms):
        row = i + 1
        if geom is None or geom.is_empty:
            bad_type.append(f"{row}: (空 empty)")
            continue
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            bad_type.append(f"{row}: {geom.geom_type}")
            continue
        code = _text(frame[code_col].iloc[i]) if code_col else None
        name = _text(frame[name_col].iloc[i]) if name_col else None
        features.append(Feature(row, code, name, as_multipolygon(shapely.force_2d(geom))))
    if bad_type:
        shown = ", ".join(bad_type[:10]) + (f" … (+{len(bad_type) - 10})" if len(bad_type) > 10 else "")
        raise TownFileError(f"{path.name}: 要素应为面 (Polygon/MultiPolygon): 要素 {shown}",
                            f"{path.name}: features must be polygons (Polygon/MultiPolygon): feature {shown}")
    bounds = shapely.total_bounds([f.geom for f in features])
    west, south, east, north = CHINA
    if not (west <= bounds[0] and bounds[2] <= east and south <= bounds[1] and bounds[3] <= north):
        raise TownFileError(
            f"{path.name} 换算后的坐标 ({bounds[0]:.4f}, {bounds[1]:.4f} – {bounds[2]:.4f}, {bounds[3]:.4f}) 不在中国境内: "
            f"坐标系 ({crs_name}) 不对? 请用 --crs 指定",
            f"{path.name}'s coordinates ({bounds[0]:.4f}, {bounds[1]:.4f} – {bounds[2]:.4f}, {bounds[3]:.4f}) fall "
            f"outside China once reprojected: is its CRS ({crs_name}) wrong? Name the right one with --crs")
    return Layer(kind, path, layer, crs_name, None if code_col is None else str(code_col),
                 None if name_col is None else str(name_col), features, encoding, notes)


# ---------------------------------------------------------------- the staff list


PEOPLE_COLUMNS = {  # canonical → the usual headers
    "name": ("姓名", "name"),
    "phone": ("手机", "手机号", "手机号码", "电话", "联系电话", "phone", "mobile"),
    "role": ("角色", "岗位", "role"),
    "grid": ("网格编码", "网格", "grid", "grid_code"),
    "village": ("村编码", "村/社区编码", "village", "village_code"),
    "department": ("部门", "单位", "department"),
}
ROLE_NAMES = {  # what a sheet writes → the account's role
    "网格员": "worker", "专职网格员": "worker", "worker": "worker",
    "网格长": "leader", "leader": "leader",
    "调度员": "dispatcher", "镇综治中心调度员": "dispatcher", "dispatcher": "dispatcher",
    "镇领导": "town_leader", "town_leader": "town_leader",
    "部门": "department", "职能部门": "department", "department": "department",
    "区网格中心": "district", "district": "district",
    "规划员": "planner", "网格规划员": "planner", "planner": "planner",
    "分析员": "analyst", "数据分析员": "analyst", "analyst": "analyst",
    "管理员": "admin", "系统管理员": "admin", "admin": "admin",
}
PHONE = re.compile(r"1[3-9][0-9]{9}")


@dataclass(frozen=True)
class PersonRow:
    row: int  # the sheet's row (the header is row 1)
    name: str | None
    phone: str | None
    role: str | None  # as written
    grid: str | None
    village: str | None
    department: str | None


def read_people(path) -> list[PersonRow]:
    """The rows of the first sheet of an Excel staff list, or :class:`TownFileError` when the file
    cannot be opened or lacks the 姓名, 手机 or 角色 column. The cells are checked by the caller."""
    import zipfile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    path = Path(path)
    if not path.is_file():
        raise TownFileError(f"找不到文件 {path}", f"no such file: {path}")
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise TownFileError(f"人员名单应为 Excel (.xlsx), 而不是 {path.suffix or '(无扩展名)'}",
                            f"the staff list must be Excel (.xlsx), not {path.suffix or '(none)'}")
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise TownFileError(f"无法打开 Excel 文件 {path.name}: {exc}", f"cannot open the Excel file {path.name}: {exc}") \
            from exc
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = [normalise(h) if h is not None else "" for h in next(rows, ())]
        lookup = {alias: canon for canon, aliases in PEOPLE_COLUMNS.items() for alias in aliases}
        where = {}
        for i, h in enumerate(header):
            if h in lookup and lookup[h] not in where:
                where[lookup[h]] = i
        missing = [PEOPLE_COLUMNS[c][0] for c in ("name", "phone", "role") if c not in where]
        if missing:
            raise TownFileError(f"{path.name} 第 1 行缺少列: {'、'.join(missing)}",
                                f"{path.name}: row 1 lacks the column(s) {', '.join(missing)}")
        out = []
        for row_no, values in enumerate(rows, start=2):
            cells = {c: _text(values[i]) if i < len(values) else None for c, i in where.items()}
            if not any(cells.values()):
                continue
            out.append(PersonRow(row_no, cells.get("name"), cells.get("phone"), cells.get("role"), cells.get("grid"),
                                 cells.get("village"), cells.get("department")))
    except TownFileError:
        raise
    except Exception as exc:  # a damaged sheet
        raise TownFileError(f"无法读取 Excel 工作表: {exc}", f"cannot read the Excel sheet: {exc}") from exc
    finally:
        book.close()
    return out
