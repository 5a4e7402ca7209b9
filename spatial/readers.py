"""Reading incident points from the files people bring: CSV, Excel, GeoJSON and GeoPackage.

Files only, no database: :func:`read_points` returns the records with their columns renamed to
the canonical names below (``经度`` → ``lng`` …) and the raw cell values untouched (text, numbers,
datetimes or ``None``), each with the row number a user sees (CSV and Excel: the sheet row, the
header being row 1; GeoJSON and GeoPackage: the feature number from 1). A file that cannot be read
at all raises :class:`ReadError` (bilingual); a row that is wrong in itself becomes a
:class:`Problem` and the others are still read.

Columns (headers are matched case-insensitively; blanks, ``-`` and ``_`` are alike):

=============== ==========================================================================
``category``    category code (``SR01``) or sub-category name (``暴露垃圾``); required
``lng``         longitude; also ``lon``, ``long``, ``longitude``, ``x``, ``经度``; required
``lat``         latitude; also ``latitude``, ``y``, ``纬度``; required
``crs``         coordinate system of the row: wgs84, cgcs2000, gcj02, bd09 (also ``坐标系``)
``description`` also ``描述``, ``事件描述``
``address``     also ``地址``
``reported_at`` also ``上报时间``
``external_id`` the row's id in the system it comes from; also ``外部编号``
=============== ==========================================================================

GeoJSON and GeoPackage take ``lng``/``lat`` from the point geometry. Their coordinates are
WGS84 (a GeoJSON without a ``crs`` member is CRS84), CGCS2000 when the file says EPSG:4490, and
anything else is reprojected to EPSG:4326 with the file's own CRS.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

COLUMNS = ("category", "lng", "lat", "crs", "description", "address", "reported_at", "external_id")
REQUIRED = ("category", "lng", "lat")
ALIASES = {
    "category": ("category", "category_code", "类别", "事件类别", "类别代码"),
    "lng": ("lng", "lon", "long", "longitude", "x", "经度"),
    "lat": ("lat", "latitude", "y", "纬度"),
    "crs": ("crs", "坐标系"),
    "description": ("description", "描述", "事件描述"),
    "address": ("address", "地址"),
    "reported_at": ("reported_at", "上报时间"),
    "external_id": ("external_id", "外部编号"),
}
COLUMN_ZH = {
    "category": "事件类别", "lng": "经度", "lat": "纬度", "crs": "坐标系", "description": "描述",
    "address": "地址", "reported_at": "上报时间", "external_id": "外部编号",
}
KINDS = {
    ".csv": "csv", ".txt": "csv", ".tsv": "csv",
    ".xlsx": "xlsx", ".xlsm": "xlsx",
    ".geojson": "geojson", ".json": "geojson",
    ".gpkg": "gpkg",
}
_LOOKUP = {alias: name for name, aliases in ALIASES.items() for alias in aliases}


class ReadError(ValueError):
    """The file as a whole cannot be read (unknown type, unreadable, malformed, a missing column)."""

    def __init__(self, zh: str, en: str):
        super().__init__(en)
        self.zh = zh
        self.en = en


@dataclass(frozen=True)
class Problem:
    """One row that is wrong in itself; ``field`` is a canonical column name or ``row``."""

    row: int
    field: str
    zh: str
    en: str


@dataclass
class PointRows:
    """What a file holds: ``records[i]`` (canonical column → raw value) is at row ``rows[i]``."""

    kind: str
    rows: list[int] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # canonical name → the file's header
    encoding: str | None = None
    layer: str | None = None
    file_crs: str | None = None

    def __len__(self) -> int:
        return len(self.records)


def normalise_header(value: Any) -> str:
    """
    >>> normalise_header("\\ufeff Longitude "), normalise_header("External-ID"), normalise_header("经度")
    ('longitude', 'external_id', '经度')
    """
    text = "" if value is None else str(value)
    return text.replace("\ufeff", "").strip().lower().replace(" ", "_").replace("-", "_")


def map_columns(headers, required=REQUIRED, skip=()) -> dict[str, int]:
    """Canonical column name → position among ``headers``; unknown headers are ignored.

    >>> map_columns(["类别", "经度", "纬度", "备注"])
    {'category': 0, 'lng': 1, 'lat': 2}
    >>> try:
    ...     map_columns(["category", "lat"])
    ... except ReadError as err:
    ...     print(err.zh, "|", err.en)
    缺少列: lng(经度) | missing column: lng (aliases: lon, long, longitude, x, 经度)
    """
    found: dict[str, int] = {}
    for i, header in enumerate(headers):
        name = _LOOKUP.get(normalise_header(header))
        if name is None or name in skip:
            continue
        if name in found:
            raise ReadError(
                f"列 {headers[found[name]]!r} 和 {header!r} 都表示 {name}({COLUMN_ZH[name]}),请只保留一列",
                f"columns {headers[found[name]]!r} and {header!r} both mean {name}; keep one",
            )
        found[name] = i
    missing = [name for name in required if name not in found]
    if missing:
        raise ReadError(
            "缺少列: " + "、".join(f"{m}({COLUMN_ZH[m]})" for m in missing),
            "missing column: " + "; ".join(f"{m} (aliases: {', '.join(ALIASES[m][1:])})" for m in missing),
        )
    return found


def file_kind(path: Path) -> str:
    """``csv``, ``xlsx``, ``geojson`` or ``gpkg`` from the file name.

    >>> file_kind(Path("事件.CSV")), file_kind(Path("a.gpkg"))
    ('csv', 'gpkg')
    """
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise ReadError("不支持旧版 Excel(.xls),请另存为 .xlsx 或 CSV",
                        "old Excel files (.xls) are not supported: save as .xlsx or CSV")
    if suffix not in KINDS:
        raise ReadError(
            f"不支持的文件类型 {suffix or '(无扩展名)'}: 可导入 CSV、Excel(.xlsx)、GeoJSON、GeoPackage",
            f"unknown file type {suffix or '(no extension)'!r}: use CSV, Excel (.xlsx), GeoJSON or GeoPackage",
        )
    return KINDS[suffix]


def decode_text(data: bytes) -> tuple[str, str]:
    """Text of a CSV file and its encoding: UTF-8 (with or without BOM), UTF-16 with BOM, else
    GB18030 (what Chinese Excel writes as "CSV").

    >>> decode_text("经度".encode("gb18030")), decode_text(b"\\xef\\xbb\\xbflng")
    (('经度', 'gb18030'), ('lng', 'utf-8-sig'))
    """
    if data.startswith(b"\xef\xbb\xbf"):
        encodings = ("utf-8-sig",)
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ("utf-16",)
    else:
        if b"\x00" in data:
            raise ReadError("文件不是文本(含 NUL 字节),不是 CSV", "the file is not text (NUL bytes): not a CSV")
        encodings = ("utf-8", "gb18030")
    for encoding in encodings:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise ReadError("无法识别文件编码(应为 UTF-8 或 GB18030)",
                    "cannot decode the file: expected UTF-8 or GB18030")


def _read_csv(path: Path) -> PointRows:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReadError(f"无法读取文件: {exc.strerror}", f"cannot read the file: {exc.strerror}") from exc
    text, encoding = decode_text(data)
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first_line.count)
    if delimiter != "," and first_line.count(delimiter) == 0:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    out = PointRows(kind="csv", encoding=encoding)
    try:
        header = next(reader, None)
        if header is None or not any(h.strip() for h in header):
            raise ReadError("文件为空或缺少表头", "the file is empty or has no header row")
        columns = map_columns(header)
        out.headers = {name: header[i] for name, i in columns.items()}
        width = len(header)
        items = tuple(columns.items())
        for row_no, values in enumerate(reader, start=2):
            if not values or not any(v.strip() for v in values):
                continue
            if len(values) > width and any(v.strip() for v in values[width:]):
                out.problems.append(Problem(
                    row_no, "row", f"该行有 {len(values)} 列,表头只有 {width} 列(描述中的逗号请加引号)",
                    f"the row has {len(values)} fields, the header {width} (quote commas in text)"))
            n = len(values)
            out.rows.append(row_no)
            out.records.append({name: (values[i] if i < n else None) for name, i in items})
    except csv.Error as exc:
        raise ReadError(f"CSV 格式错误(第 {reader.line_num} 行附近): {exc}",
                        f"malformed CSV near line {reader.line_num}: {exc}") from exc
    return out


def _read_xlsx(path: Path) -> PointRows:
    import zipfile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ReadError(f"无法打开 Excel 文件: {exc}", f"cannot open the Excel file: {exc}") from exc
    out = PointRows(kind="xlsx")
    try:
        if not book.worksheets:
            raise ReadError("Excel 文件没有工作表", "the Excel file has no sheet")
        sheet = book.worksheets[0]
        out.layer = sheet.title
        rows = sheet.iter_rows(min_row=1, values_only=True)
        header = next(rows, None)
        if header is None or not any(h is not None and str(h).strip() for h in header):
            raise ReadError("第一个工作表为空或第 1 行不是表头", "the first sheet is empty or row 1 is not a header")
        header = [h if h is not None else "" for h in header]
        columns = map_columns(header)
        out.headers = {name: str(header[i]) for name, i in columns.items()}
        items = tuple(columns.items())
        for row_no, values in enumerate(rows, start=2):
            if not values or all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            n = len(values)
            out.rows.append(row_no)
            out.records.append({name: (values[i] if i < n else None) for name, i in items})
    except ReadError:
        raise
    except Exception as exc:  # a damaged sheet: openpyxl raises many kinds
        raise ReadError(f"无法读取 Excel 工作表: {exc}", f"cannot read the Excel sheet: {exc}") from exc
    finally:
        book.close()
    return out


def _check_geojson(path: Path) -> None:
    try:
        with path.open("rb") as f:
            doc = json.loads(f.read().decode("utf-8-sig"))
    except OSError as exc:
        raise ReadError(f"无法读取文件: {exc.strerror}", f"cannot read the file: {exc.strerror}") from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise ReadError(f"不是有效的 JSON: {exc}", f"not valid JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        kind = doc.get("type") if isinstance(doc, dict) else type(doc).__name__
        raise ReadError(f"GeoJSON 应为 FeatureCollection,而不是 {kind!r}",
                        f"the GeoJSON must be a FeatureCollection, not {kind!r}")
    if not isinstance(doc.get("features"), list):
        raise ReadError("GeoJSON 的 features 应为数组", "the GeoJSON's features must be an array")


def _scalar(value: Any) -> Any:
    """A pandas cell as a plain Python value (missing → None)."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
    except ImportError:  # pragma: no cover
        pass
    return value


def _read_geo(path: Path, kind: str, crs: str | None) -> PointRows:
    import pyogrio
    import shapely
    from pyproj import CRS

    out = PointRows(kind=kind)
    if kind == "geojson":
        _check_geojson(path)
    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:
        raise ReadError(f"无法打开 {kind} 文件: {exc}", f"cannot open the {kind} file: {exc}") from exc
    if len(layers) == 0:
        if kind == "geojson":
            return out
        raise ReadError("GeoPackage 中没有图层", "the GeoPackage has no layer")
    spatial_layers = [str(name) for name, geom_type in layers if geom_type]
    layer = spatial_layers[0] if spatial_layers else str(layers[0][0])
    out.layer = layer
    try:
        frame = pyogrio.read_dataframe(path, layer=layer, datetime_as_string=True, on_invalid="ignore")
    except Exception as exc:
        raise ReadError(f"无法读取图层 {layer}: {exc}", f"cannot read layer {layer!r}: {exc}") from exc
    headers = [c for c in frame.columns if c != frame.geometry.name]
    columns = map_columns(headers, required=("category",), skip=("lng", "lat"))
    out.headers = {name: str(headers[i]) for name, i in columns.items()}

    base = "wgs84"
    reprojected = False
    file_crs = frame.crs
    if file_crs is not None:
        out.file_crs = file_crs.to_string()
        if file_crs.equals(CRS.from_epsg(4326), ignore_axis_order=True):
            base = "wgs84"
        elif file_crs.equals(CRS.from_epsg(4490), ignore_axis_order=True):
            base = "cgcs2000"
        else:
            if crs in ("gcj02", "bd09"):
                raise ReadError(
                    f"文件的坐标系是 {file_crs.to_string()},不能再按 {crs} 解释",
                    f"the file's CRS is {file_crs.to_string()}; its coordinates cannot also be {crs}")
            try:
                frame = frame.to_crs(4326)
            except Exception as exc:
                raise ReadError(f"无法把 {file_crs.to_string()} 转换为 WGS84: {exc}",
                                f"cannot reproject {file_crs.to_string()} to WGS84: {exc}") from exc
            reprojected = True
    default_crs = crs if crs and not reprojected else base

    geoms = np.asarray(frame.geometry.values, dtype=object)
    n = len(geoms)
    types = shapely.get_type_id(geoms)  # -1 missing, 0 point, 4 multipoint
    single = (types == 4) & (shapely.get_num_geometries(geoms) == 1)
    points = np.where(single, shapely.get_geometry(geoms, 0), geoms)
    is_point = (types == 0) | single
    empty = shapely.is_empty(points) | (types < 0)
    ok = is_point & ~empty
    xs = np.full(n, np.nan)
    ys = np.full(n, np.nan)
    xs[ok] = shapely.get_x(points[ok])
    ys[ok] = shapely.get_y(points[ok])

    data = {name: frame[headers[i]].tolist() for name, i in columns.items()}
    for k in range(n):
        row_no = k + 1
        record = {name: _scalar(values[k]) for name, values in data.items()}
        if not ok[k]:
            if types[k] < 0 or empty[k]:
                out.problems.append(Problem(row_no, "geometry", "缺少点位(几何为空)", "the feature has no geometry"))
            else:
                out.problems.append(Problem(row_no, "geometry", "几何应为点(Point)",
                                            "the geometry must be a Point"))
        row_crs = record.get("crs")
        if row_crs is not None and str(row_crs).strip():
            if reprojected:
                out.problems.append(Problem(
                    row_no, "crs", f"文件坐标系为 {out.file_crs},已投影换算,不能再按 {row_crs} 解释",
                    f"the file's CRS is {out.file_crs} (reprojected); crs {row_crs!r} does not apply"))
        else:
            record["crs"] = default_crs
        record["lng"] = float(xs[k]) if ok[k] else None
        record["lat"] = float(ys[k]) if ok[k] else None
        out.rows.append(row_no)
        out.records.append(record)
    out.headers.setdefault("lng", "geometry")
    out.headers.setdefault("lat", "geometry")
    return out


def read_points(path, crs: str | None = None) -> PointRows:
    """Read a CSV, Excel (.xlsx, first sheet), GeoJSON (FeatureCollection) or GeoPackage (first
    layer with geometry) file of incident points.

    ``crs`` (wgs84, cgcs2000, gcj02, bd09) is the coordinate system the caller says the
    coordinates are in. Tabular files keep it out of the records (each row's own ``crs`` column
    wins; the caller applies the default). GeoJSON and GeoPackage records always carry ``crs``:
    the feature's own ``crs`` property, else ``crs``, else the file's (wgs84 or cgcs2000).
    """
    path = Path(path)
    kind = file_kind(path)
    if not path.is_file():
        raise ReadError(f"文件不存在: {path}", f"no such file: {path}")
    if kind == "csv":
        return _read_csv(path)
    if kind == "xlsx":
        return _read_xlsx(path)
    return _read_geo(path, kind, crs)
