"""Bulk import of incidents from a file (CSV, Excel, GeoJSON, GeoPackage): ``wangge incidents import``.

Every row is checked with the rules of the intake API (:func:`webmap.services.intake.parse_report`,
plus the category, the report time and the external id), converted to WGS84, routed in bulk with
the STRtree twin of ``db/sql/route_point.sql`` (:func:`spatial.nearby.route_points`: covering grid,
lowest code on shared edges, else the nearest grid within ``WANGGE_NEAR_BOUNDARY_M`` metres flagged
``near_boundary``, else no grid and ``outside_grids``), given its department and deadline from its category and its worker and
leader from the current grid assignments, and stored with a first ``report`` case event and a live
message per case (``services/events.py``, as every report sends) — all in one transaction, through
COPY.

All or nothing by default: one bad row and nothing is written (the summary lists every bad row).
With ``skip_bad`` the good rows are imported and the bad ones reported. A row with an
``external_id`` gets the idempotency key ``import:<sha256(external_id)>``, so importing the same
rows again creates nothing new (they count as duplicates).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from sqlalchemy import Engine, select, text

from db.models import SOURCES, Holiday
from spatial.crs import bd09_to_wgs84, gcj02_to_wgs84
from spatial.nearby import route_points
from spatial.readers import PointRows, Problem, ReadError, read_points
from workflow.clock import SHANGHAI, WorkCalendar

from . import events, settings, workdays
from .errors import InvalidInputError
from .intake import parse_report

MAX_EXTERNAL_ID = 200
FUTURE_TOLERANCE = timedelta(minutes=10)
EARLIEST = datetime(2000, 1, 1, tzinfo=SHANGHAI)
COPY_CHUNK = 20_000
ANALYZE_AFTER = 10_000  # imported rows
ERROR_COLUMNS = ("row", "field", "中文原因", "English reason")
# intake's field names → the import file's column names
_FIELD = {"location.lng": "lng", "location.lat": "lat", "location.crs": "crs", "location": "lng/lat"}
_CRS_ALIASES = {"epsg:4326": "wgs84", "4326": "wgs84", "crs84": "wgs84", "ogc:crs84": "wgs84",
                "epsg:4490": "cgcs2000", "4490": "cgcs2000"}
_DATE = re.compile(
    r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
    r"(?:[ T]+(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,6}))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?"
)

Progress = Callable[[str, int], Callable[[int], None]]


# A file that cannot be imported at all, and one row's problem: the reader's own types.
ImportFileError = ReadError
RowError = Problem


@dataclass
class ImportSummary:
    rows: int = 0
    imported: int = 0
    skipped: int = 0  # bad rows, not imported
    duplicates: int = 0  # rows whose external_id is already stored (or repeated in the file)
    outside_grids: int = 0  # of the imported
    near_boundary: int = 0  # of the imported
    dry_run: bool = False
    written: bool = False
    errors: list[RowError] = field(default_factory=list)

    @property
    def bad_rows(self) -> int:
        return len({e.row for e in self.errors})

    def as_dict(self) -> dict:
        out = {"imported": self.imported, "skipped": self.skipped, "duplicates": self.duplicates,
               "outside_grids": self.outside_grids, "near_boundary": self.near_boundary}
        if self.dry_run:
            out["dry_run"] = True
        return out


def read_file(path, crs: str | None = None) -> PointRows:
    """The records of an import file, or :class:`ImportFileError`."""
    return read_points(Path(path), crs)


def write_error_report(errors: list[RowError], out) -> None:
    """The row errors as CSV (row, field, 中文原因, English reason) on a text stream."""
    import csv

    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ERROR_COLUMNS)
    for e in errors:
        writer.writerow((e.row, e.field, e.zh, e.en))


# ---------------------------------------------------------------- cell values


def number_cell(value: Any) -> Any:
    """A coordinate cell as a float when it reads as one; other values go to the intake check."""
    if isinstance(value, str):
        s = value.strip()
        if not s:
            return None
        try:
            return float(s)
        except ValueError:
            return value
    return value


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def external_key(value: Any) -> str | None:
    """The external id as text, the same from CSV, Excel and GeoJSON (``1001``, ``1001.0`` → ``1001``).

    >>> external_key(1001.0), external_key(" A-7 "), external_key(""), external_key(None)
    ('1001', 'A-7', None, None)
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    s = _text(value).strip()
    return s or None


def idempotency_key(external_id: str) -> str:
    """``import:`` + the SHA-256 of the external id: the same rows make the same keys, whatever
    the file they come in.

    >>> idempotency_key("1001")[:15], len(idempotency_key("1001"))
    ('import:fe675fe7', 71)
    """
    return "import:" + hashlib.sha256(external_id.encode("utf-8")).hexdigest()


def _crs(value: Any, default: str) -> str:
    """A row's coordinate system name, as intake spells it when it is one of them.

    >>> _crs(" GCJ-02 ", "wgs84"), _crs(None, "bd09"), _crs(4490, "wgs84"), _crs("EPSG:3857", "wgs84")
    ('gcj02', 'bd09', 'cgcs2000', 'EPSG:3857')
    """
    if value is None:
        return default
    original = _text(value).strip()
    s = original.lower()
    if not s:
        return default
    if s in _CRS_ALIASES:
        return _CRS_ALIASES[s]
    compact = s.replace("-", "").replace("_", "").replace(" ", "")
    return compact if compact in ("wgs84", "cgcs2000", "gcj02", "bd09") else original


def parse_time(value: Any, now: datetime) -> datetime:
    """A report time: ISO 8601, or ``YYYY-MM-DD HH:MM[:SS]`` (also with ``/``) taken as Asia/Shanghai.

    >>> now = datetime(2026, 6, 1, tzinfo=SHANGHAI)
    >>> parse_time("2026-05-01 08:30", now).isoformat()
    '2026-05-01T08:30:00+08:00'
    >>> parse_time("2026-05-01T00:30:00Z", now).isoformat()
    '2026-05-01T08:30:00+08:00'
    >>> parse_time("2026/5/1 8:30:15", now).isoformat()
    '2026-05-01T08:30:15+08:00'
    >>> parse_time(None, now) == now
    True
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return now
    if isinstance(value, datetime):
        result = value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
    elif isinstance(value, date):
        result = datetime.combine(value, time(0), SHANGHAI)
    elif isinstance(value, str):
        s = value.strip()
        try:
            result = datetime.fromisoformat(s)
        except ValueError:
            m = _DATE.fullmatch(s)
            if not m:
                raise ValueError(s) from None
            y, mo, d, h, mi, sec, frac, tz = m.groups()
            iso = (f"{int(y):04d}-{int(mo):02d}-{int(d):02d}T{int(h or 0):02d}:{int(mi or 0):02d}:"
                   f"{int(sec or 0):02d}{('.' + frac.ljust(6, '0')) if frac else ''}{tz or ''}")
            result = datetime.fromisoformat(iso)
        if result.tzinfo is None:
            result = result.replace(tzinfo=SHANGHAI)
    else:
        raise ValueError(repr(value))
    return result.astimezone(SHANGHAI)


# ---------------------------------------------------------------- validation


@dataclass
class _Good:
    """The rows that passed, as columns."""

    rows: list[int] = field(default_factory=list)
    raw_lng: list[float] = field(default_factory=list)
    raw_lat: list[float] = field(default_factory=list)
    crs: list[str] = field(default_factory=list)
    category: list[str] = field(default_factory=list)
    description: list[str] = field(default_factory=list)
    address: list[str | None] = field(default_factory=list)
    reported_at: list[datetime] = field(default_factory=list)
    external_id: list[str | None] = field(default_factory=list)
    key: list[str | None] = field(default_factory=list)

    def take(self, keep: np.ndarray) -> _Good:
        out = _Good()
        idx = np.flatnonzero(keep)
        for name in self.__dataclass_fields__:
            values = getattr(self, name)
            setattr(out, name, [values[i] for i in idx])
        return out


def _categories(conn) -> tuple[dict, dict]:
    rows = conn.execute(text(
        "SELECT id, code, name, department_id, time_limit, time_unit FROM categories ORDER BY code"
    )).mappings().all()
    by_code = {r["code"]: dict(r) for r in rows}
    by_name: dict[str, str] = {}
    for r in rows:
        by_name.setdefault(r["name"], r["code"])
    return by_code, by_name


def _validate(table: PointRows, by_code: dict, by_name: dict, default_crs: str, now: datetime,
              update: Callable[[int], None]) -> tuple[_Good, list[RowError], int]:
    good = _Good()
    errors: list[RowError] = []
    problems: dict[int, list] = {}
    for p in table.problems:
        problems.setdefault(p.row, []).append(p)
    upper = {code.upper(): code for code in by_code}
    seen: dict[str, tuple[int, tuple]] = {}
    repeated = 0
    latest = now + FUTURE_TOLERANCE
    pending = 0
    for row_no, rec in zip(table.rows, table.records, strict=True):
        pending += 1
        if pending == 2000:
            update(pending)
            pending = 0
        row_errors = [RowError(row_no, p.field, p.zh, p.en) for p in problems.get(row_no, ())]
        no_geometry = any(e.field == "geometry" for e in row_errors)

        raw_category = rec.get("category")
        category_text = _text(raw_category).strip() if raw_category is not None else None
        code = None
        if category_text:
            code = upper.get(category_text.upper()) or by_name.get(category_text)
        crs = _crs(rec.get("crs"), default_crs)
        lng, lat = number_cell(rec.get("lng")), number_cell(rec.get("lat"))
        payload = {
            "category": code or category_text,
            "description": _text(rec.get("description")),
            "address": _text(rec.get("address")),
            # the vectorised conversion follows below; the checks are the same for every crs
            "location": {"lng": lng, "lat": lat, "crs": "wgs84" if crs in ("gcj02", "bd09") else crs},
        }
        report = None
        try:
            report = parse_report(payload)
        except InvalidInputError as exc:
            for e in exc.errors:
                name = _FIELD.get(e.field, e.field)
                if no_geometry and name in ("lng", "lat", "lng/lat"):
                    continue
                if name in ("lng", "lat") and (lng if name == "lng" else lat) is None:
                    row_errors.append(RowError(row_no, name, f"缺少{'经度' if name == 'lng' else '纬度'}",
                                               f"{name} is missing"))
                    continue
                row_errors.append(RowError(row_no, name, e.zh, e.en))
        if category_text and code is None and not any(e.field == "category" for e in row_errors):
            row_errors.append(RowError(row_no, "category", f"未知的事件类别 {category_text}",
                                       f"unknown category {category_text!r}"))
        try:
            reported_at = parse_time(rec.get("reported_at"), now)
            if reported_at > latest:
                row_errors.append(RowError(row_no, "reported_at", "上报时间晚于现在",
                                           "reported_at is in the future"))
            elif reported_at < EARLIEST:
                row_errors.append(RowError(row_no, "reported_at", "上报时间早于 2000 年",
                                           "reported_at is before 2000"))
        except (ValueError, OverflowError):
            reported_at = None
            row_errors.append(RowError(
                row_no, "reported_at", "上报时间应为 ISO 8601 或 YYYY-MM-DD HH:MM[:SS]",
                "reported_at must be ISO 8601 or YYYY-MM-DD HH:MM[:SS] (Asia/Shanghai)"))
        external_id = external_key(rec.get("external_id"))
        key = None
        if external_id is not None:
            if len(external_id) > MAX_EXTERNAL_ID:
                row_errors.append(RowError(row_no, "external_id", f"外部编号不能超过 {MAX_EXTERNAL_ID} 字",
                                           f"external_id must be at most {MAX_EXTERNAL_ID} characters"))
            else:
                key = idempotency_key(external_id)
        if row_errors or report is None:
            errors.extend(row_errors)
            continue
        if key is not None:
            content = (report.category, report.raw_lng, report.raw_lat, crs, report.description,
                       report.address, reported_at)
            if key in seen:
                first_row, first_content = seen[key]
                if first_content == content:
                    repeated += 1  # the same row twice: one incident
                else:
                    errors.append(RowError(
                        row_no, "external_id", f"外部编号 {external_id} 与第 {first_row} 行相同,但内容不同",
                        f"external_id {external_id!r} is also on row {first_row}, with other content"))
                continue
            seen[key] = (row_no, content)
        good.rows.append(row_no)
        good.raw_lng.append(report.raw_lng)
        good.raw_lat.append(report.raw_lat)
        good.crs.append(crs)
        good.category.append(report.category)
        good.description.append(report.description)
        good.address.append(report.address)
        good.reported_at.append(reported_at)
        good.external_id.append(external_id)
        good.key.append(key)
    if pending:
        update(pending)
    return good, errors, repeated


def _to_wgs84(good: _Good) -> tuple[np.ndarray, np.ndarray]:
    lng = np.asarray(good.raw_lng, dtype=float)
    lat = np.asarray(good.raw_lat, dtype=float)
    crs = np.asarray(good.crs, dtype=object)
    for name, convert in (("gcj02", gcj02_to_wgs84), ("bd09", bd09_to_wgs84)):
        m = crs == name
        if m.any():
            lng[m], lat[m] = convert(lng[m], lat[m])
    return lng, lat


# ---------------------------------------------------------------- routing


def load_grids(conn) -> dict:
    """The current grid versions (geometry via ST_AsBinary) with their village, worker and leader."""
    rows = conn.execute(text(
        "SELECT g.id, g.code, v.code AS village_code, ST_AsBinary(g.geom) AS wkb "
        "  FROM grids g JOIN areas v ON v.id = g.village_id "
        " WHERE g.valid_to IS NULL ORDER BY g.code"
    )).all()
    people = conn.execute(text(
        "SELECT DISTINCT ON (grid_code, duty) grid_code, duty, person_id FROM grid_assignments "
        " WHERE valid_to IS NULL ORDER BY grid_code, duty, valid_from DESC, id DESC"
    )).all()
    duty = {(r.grid_code, r.duty): r.person_id for r in people}
    return {
        "id": [r.id for r in rows],
        "code": [r.code for r in rows],
        "village_code": [r.village_code for r in rows],
        "worker_id": [duty.get((r.code, "worker")) for r in rows],
        "leader_id": [duty.get((r.code, "leader")) for r in rows],
        "geom": shapely.from_wkb([bytes(r.wkb) for r in rows]),
    }


# ---------------------------------------------------------------- writing


def _c(value: Any) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat()
    s = str(value)
    if "\\" in s or "\t" in s or "\n" in s or "\r" in s:
        s = s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return s


STAGING = (
    "CREATE TEMP TABLE import_staging ("
    " id bigint PRIMARY KEY, case_no text, lng float8, lat float8, raw_lng float8, raw_lat float8,"
    " raw_crs text, source text, category_id int, description text, address text, grid_id int,"
    " grid_code text, village_code text, worker_id int, leader_id int, department_id int, flags text[],"
    " reported_at timestamptz, deadline timestamptz, idempotency_key text, distance_m float8,"
    " event_data jsonb) ON COMMIT DROP"
)
STAGING_COLUMNS = (
    "id", "case_no", "lng", "lat", "raw_lng", "raw_lat", "raw_crs", "source", "category_id",
    "description", "address", "grid_id", "grid_code", "village_code", "worker_id", "leader_id",
    "department_id", "flags", "reported_at", "deadline", "idempotency_key", "distance_m", "event_data",
)
INSERT = """
WITH ins AS (
    INSERT INTO incidents (id, case_no, geom, raw_lng, raw_lat, raw_crs, source, category_id,
                           description, address, grid_id, grid_code, village_code, worker_id,
                           leader_id, department_id, state, flags, reported_at, deadline,
                           idempotency_key, distance_m, tier)
    SELECT id, case_no, ST_SetSRID(ST_MakePoint(lng, lat), 4326), raw_lng, raw_lat, raw_crs, source,
           category_id, description, address, grid_id, grid_code, village_code, worker_id,
           leader_id, department_id, '待受理', flags, reported_at, deadline, idempotency_key, distance_m,
           CASE WHEN grid_code IS NULL THEN 'town' ELSE 'village' END
      FROM import_staging
     WHERE id BETWEEN %(lo)s AND %(hi)s
     ORDER BY id
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id
)
INSERT INTO case_events (incident_id, at, actor_id, role, action, from_state, to_state, note, data)
SELECT s.id, s.reported_at, NULL, 'admin', 'report', NULL, '待受理', '批量导入', s.event_data
  FROM import_staging s JOIN ins USING (id)
 ORDER BY s.id
RETURNING incident_id
"""


def _existing_keys(conn, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    found = conn.execute(text("SELECT idempotency_key FROM incidents WHERE idempotency_key = ANY(:keys)"),
                         {"keys": keys}).scalars()
    return set(found)


# ---------------------------------------------------------------- the use case


def _no_progress(_stage: str, _total: int) -> Callable[[int], None]:
    return lambda _n: None


def import_rows(
    engine: Engine,
    table: PointRows,
    *,
    crs: str | None = None,
    skip_bad: bool = False,
    source: str = "import",
    dry_run: bool = False,
    file_name: str | None = None,
    progress: Progress | None = None,
    near_m: float | None = None,
    calendar: WorkCalendar | None = None,
    now: datetime | None = None,
) -> ImportSummary:
    """Validate, route and store the rows of an import file in one transaction (see the module).

    ``crs`` is the coordinate system of rows that do not name their own (default wgs84).
    ``near_m`` is the near-boundary distance in metres (None: the setting, :func:`webmap.services.settings.near_boundary_m`).
    ``progress(stage, total)`` returns a function called with the number of rows done.
    Nothing is written when a row is bad and ``skip_bad`` is false, or with ``dry_run``.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    progress = progress or _no_progress
    now = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI).replace(microsecond=0)
    summary = ImportSummary(rows=len(table), dry_run=dry_run)
    with engine.connect() as conn, conn.begin():
        if near_m is None:
            near_m = settings.near_boundary_m(conn)  # (a connection reads as a session does)
        if calendar is None:  # the administrators' holiday table applies to imports too
            calendar = workdays.calendar_from_rows(conn.execute(select(Holiday.day, Holiday.kind)).all())
        by_code, by_name = _categories(conn)
        good, errors, repeated = _validate(table, by_code, by_name, crs or "wgs84", now,
                                           progress("校验 validate", len(table)))
        errors.sort(key=lambda e: e.row)
        summary.errors = errors
        summary.skipped = summary.bad_rows
        summary.duplicates = repeated
        if errors and not skip_bad:
            return summary  # all or nothing: the transaction has written nothing

        keys = [k for k in good.key if k is not None]
        existing = _existing_keys(conn, keys)
        if existing:
            fresh = np.array([k is None or k not in existing for k in good.key], dtype=bool)
            summary.duplicates += int((~fresh).sum())
            good = good.take(fresh)
        n = len(good.rows)
        if n == 0:
            return summary

        lng, lat = _to_wgs84(good)
        grids = load_grids(conn)
        routed = route_points(lng, lat, grids["geom"], grids["code"], near_m=near_m)
        idx = routed.index
        outside = idx < 0
        near = routed.near
        if dry_run:
            summary.imported = n
            summary.outside_grids = int(outside.sum())
            summary.near_boundary = int(near.sum())
            return summary

        ids = sorted(conn.execute(text("SELECT nextval('incidents_id_seq') FROM generate_series(1, :n)"),
                                  {"n": n}).scalars())
        prefix = conn.execute(text("SELECT wangge_case_prefix()")).scalar()  # the town's, as intake's
        update = progress("暂存 stage", n)
        cursor = conn.connection.cursor()
        cursor.execute(STAGING)
        imported_at = now.isoformat()
        buf = io.StringIO()
        for i in range(n):
            g = int(idx[i])
            cat = by_code[good.category[i]]
            crs_i = good.crs[i]
            flags = []
            if g < 0:
                flags.append("outside_grids")
            elif near[i]:
                flags.append("near_boundary")
            if crs_i in ("gcj02", "bd09"):
                flags.append(f"converted_from_{crs_i}")
            reported = good.reported_at[i]
            event = {"photos": [], "flags": flags, "raw_crs": crs_i,
                     "import": {"file": file_name, "row": good.rows[i], "external_id": good.external_id[i],
                                "imported_at": imported_at}}
            values = (
                ids[i], f"{prefix}{reported:%Y%m%d}{ids[i]:07d}", float(lng[i]), float(lat[i]),
                float(good.raw_lng[i]), float(good.raw_lat[i]), crs_i, source, cat["id"],
                good.description[i], good.address[i],
                grids["id"][g] if g >= 0 else None, grids["code"][g] if g >= 0 else None,
                grids["village_code"][g] if g >= 0 else None,
                grids["worker_id"][g] if g >= 0 else None, grids["leader_id"][g] if g >= 0 else None,
                cat["department_id"], "{" + ",".join(flags) + "}", reported,
                calendar.add(reported, cat["time_limit"], cat["time_unit"]), good.key[i],
                round(float(routed.distance_m[i]), 1) if near[i] else None,
                json.dumps(event, ensure_ascii=False),
            )
            buf.write("\t".join(map(_c, values)))
            buf.write("\n")
            if (i + 1) % COPY_CHUNK == 0 or i == n - 1:
                buf.seek(0)
                cursor.copy_expert(f"COPY import_staging ({', '.join(STAGING_COLUMNS)}) FROM STDIN", buf)
                update(COPY_CHUNK if (i + 1) % COPY_CHUNK == 0 else n % COPY_CHUNK)
                buf = io.StringIO()
        update = progress("写入 write", n)
        inserted: set[int] = set()
        for lo in range(0, n, COPY_CHUNK):
            hi = min(lo + COPY_CHUNK, n)
            cursor.execute(INSERT, {"lo": ids[lo], "hi": ids[hi - 1]})
            landed_now = [row[0] for row in cursor.fetchall()]
            inserted.update(landed_now)
            events.notify_cases(conn, landed_now, "reported")  # live maps hear of imports as of reports
            update(hi - lo)
        cursor.close()
        landed = np.array([i in inserted for i in ids], dtype=bool)
        summary.duplicates += n - len(inserted)  # another import stored the same keys meanwhile
        summary.imported = len(inserted)
        summary.outside_grids = int((outside & landed).sum())
        summary.near_boundary = int((near & landed).sum())
        summary.written = summary.imported > 0
    if summary.imported >= ANALYZE_AFTER:
        # fresh statistics, or the planner keeps treating the tables as small until autovacuum runs
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE incidents, case_events"))
    return summary


def import_file(engine: Engine, path, *, crs: str | None = None, **options) -> ImportSummary:
    """Read ``path`` (:func:`read_file`) and import it (:func:`import_rows`)."""
    table = read_file(path, crs)
    return import_rows(engine, table, crs=crs, file_name=Path(path).name, **options)
