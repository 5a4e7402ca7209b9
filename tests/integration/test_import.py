"""``wangge incidents import`` as a user runs it, against a fresh migrated database with the demo town
(no demo incidents): CSV (UTF-8 with BOM, GB18030), Excel, GeoJSON, GeoPackage; coordinates in
WGS84, GCJ-02, BD-09 and a projected CRS; all or nothing, --skip-bad, --dry-run, re-import without
duplicates, malformed files, and a larger file with its progress bar. Every stored incident is
routed as the API routes the same point (``intake.route_point``)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from spatial.crs import wgs84_to_bd09, wgs84_to_gcj02
from tests.conftest import DEMO_SEED, DEMO_UNTIL, ROOT
from tests.integration.test_routing_agreement import postgis_route_all
from webmap.services.intake import route_point
from workflow.clock import DEFAULT_CALENDAR, SHANGHAI

WANGGE = str(Path(sys.executable).parent / "wangge")
LARGE_ROWS = int(os.environ.get("WANGGE_IMPORT_ROWS", "20000"))


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def import_url(fresh_database) -> str:
    from db import migrate
    from db.demo import load_demo

    url = fresh_database("import")
    migrate.upgrade(url)
    engine = create_engine(url)
    load_demo(engine, incidents=0, seed=DEMO_SEED, until=DEMO_UNTIL)
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def import_engine(import_url):
    engine = create_engine(import_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def grid_points(import_engine) -> list[tuple[str, float, float]]:
    """(code, lng, lat) of a point inside each of 12 grids, spread over the town."""
    with import_engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT code, ST_X(p), ST_Y(p) FROM (SELECT code, ST_PointOnSurface(geom) AS p FROM grids "
            " WHERE valid_to IS NULL ORDER BY code) g"
        )).all()
    picked = rows[:: max(1, len(rows) // 12)][:12]
    return [(r[0], r[1], r[2]) for r in picked]


@pytest.fixture
def tag() -> str:
    """A marker unique to the test: in every description and external id it writes."""
    return f"t{uuid.uuid4().hex[:10]}"


def run_import(url: str, *args, env: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "WANGGE_HOME": str(ROOT), "DATABASE_URL": url, **(env or {})}
    return subprocess.run([WANGGE, "incidents", "import", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=900)


def summary_of(out: subprocess.CompletedProcess) -> dict:
    return json.loads(out.stdout.strip().splitlines()[-1])


def stored(engine, tag: str) -> list:
    with engine.connect() as conn:
        return conn.execute(text("""
            SELECT i.id, i.case_no, i.description, ST_X(i.geom) AS lng, ST_Y(i.geom) AS lat, i.raw_lng, i.raw_lat,
                   i.raw_crs, i.source, i.state, i.grid_id, i.grid_code, i.village_code, i.worker_id, i.leader_id,
                   i.department_id, i.flags, i.reported_at, i.deadline, i.idempotency_key, i.distance_m,
                   c.code AS category, c.department_id AS category_department, c.time_limit, c.time_unit,
                   (SELECT count(*) FROM case_events e WHERE e.incident_id = i.id AND e.action = 'report'
                       AND e.to_state = '待受理') AS report_events,
                   (SELECT e.data FROM case_events e WHERE e.incident_id = i.id ORDER BY e.id LIMIT 1) AS event_data
              FROM incidents i JOIN categories c ON c.id = i.category_id
             WHERE i.description LIKE :tag
             ORDER BY i.id
        """), {"tag": f"{tag}%"}).all()


def count(engine, tag: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM incidents WHERE description LIKE :t"),
                            {"t": f"{tag}%"}).scalar_one()


def assert_routed_like_the_api(engine, rows) -> None:
    """Grid, village, worker, leader and flags as intake.route_point gives them for the stored point."""
    with Session(engine) as session:
        for r in rows:
            api = route_point(session, r.lng, r.lat)
            assert r.grid_code == (api["grid_code"] if api else None), r.description
            assert r.grid_id == (api["grid_id"] if api else None)
            assert r.village_code == (api["village_code"] if api else None)
            assert r.worker_id == (api["worker_id"] if api else None)
            assert r.leader_id == (api["leader_id"] if api else None)
            assert ("outside_grids" in r.flags) == (api is None)
            assert ("near_boundary" in r.flags) == bool(api and api["how"] == "near")


def assert_filed_like_intake(rows, source: str = "import") -> None:
    for r in rows:
        assert r.state == "待受理" and r.source == source
        assert r.department_id == r.category_department
        assert r.deadline == DEFAULT_CALENDAR.add(r.reported_at, r.time_limit, r.time_unit)
        assert r.report_events == 1
        assert r.case_no == f"YJB{r.reported_at.astimezone(SHANGHAI):%Y%m%d}{r.id:07d}"


def write_csv(path: Path, header, rows, encoding="utf-8-sig") -> Path:
    with open(path, "w", encoding=encoding, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


HEADER = ("category", "lng", "lat", "description", "address", "reported_at", "external_id")


# ---------------------------------------------------------------- formats


def test_csv_utf8_with_bom(import_url, import_engine, grid_points, tmp_path, tag):
    rows = [("SR01", x, y, f"{tag} 暴露垃圾 {i}", f"某路{i}号", "2026-05-06 09:15", f"{tag}-{i}")
            for i, (_code, x, y) in enumerate(grid_points)]
    out = run_import(import_url, write_csv(tmp_path / "events.csv", HEADER, rows))
    assert out.returncode == 0, out.stderr
    assert summary_of(out) == {"imported": len(rows), "skipped": 0, "duplicates": 0,
                               "outside_grids": 0, "near_boundary": 0}
    got = stored(import_engine, tag)
    assert [r.grid_code for r in got] == [code for code, _x, _y in grid_points]
    assert all(r.raw_crs == "wgs84" and r.flags == [] for r in got)
    assert got[0].reported_at == datetime(2026, 5, 6, 9, 15, tzinfo=SHANGHAI)
    assert got[0].idempotency_key.startswith("import:") and len(got[0].idempotency_key) == 71
    assert got[0].event_data["import"]["row"] == 2 and got[0].event_data["import"]["file"] == "events.csv"
    assert_routed_like_the_api(import_engine, got)
    assert_filed_like_intake(got)


def test_csv_gb18030_with_chinese_headers_names_and_a_gcj02_row(import_url, import_engine, grid_points,
                                                                   tmp_path, tag):
    code, x, y = grid_points[3]
    gx, gy = wgs84_to_gcj02(x, y)
    rows = [
        ("暴露垃圾", x, y, "", f"{tag} 垃圾", "2026-05-06 10:00:00", f"{tag}-1"),
        ("违规停车", gx, gy, "GCJ02", f"{tag} 高德坐标", "2026/5/6 10:05", f"{tag}-2"),
    ]
    header = ("类别", "经度", "纬度", "坐标系", "描述", "上报时间", "外部编号")
    path = write_csv(tmp_path / "导出.csv", header, rows, encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    out = run_import(import_url, path)
    assert out.returncode == 0, out.stderr
    assert summary_of(out)["imported"] == 2
    plain, gcj = stored(import_engine, tag)
    assert (plain.category, gcj.category) == ("SR01", "TC01")
    assert gcj.grid_code == code and gcj.raw_crs == "gcj02" and gcj.flags == ["converted_from_gcj02"]
    assert (gcj.raw_lng, gcj.raw_lat) == pytest.approx((gx, gy), abs=1e-12)
    assert (gcj.lng, gcj.lat) == pytest.approx((x, y), abs=1e-8)
    assert gcj.reported_at == datetime(2026, 5, 6, 10, 5, tzinfo=SHANGHAI)
    assert_routed_like_the_api(import_engine, [plain, gcj])


def test_a_gcj02_point_lands_in_its_grid_not_where_its_raw_numbers_point(import_url, import_engine,
                                                                           grid_points, tmp_path, tag):
    """Taken as WGS84, the GCJ-02 numbers fall ~500 m away, in another grid; converted, in the right one."""
    with Session(import_engine) as session:
        for code, x, y in grid_points:
            gx, gy = wgs84_to_gcj02(x, y)
            unconverted = route_point(session, gx, gy)
            if unconverted is None or unconverted["grid_code"] != code:
                break
        else:
            pytest.fail("no demo grid where the GCJ-02 shift changes the grid")
    bx, by = wgs84_to_bd09(x, y)
    header = ("category", "lng", "lat", "description", "external_id")
    path = write_csv(tmp_path / "phones.csv", header,
                     [("SR01", gx, gy, f"{tag} amap", f"{tag}-g")])
    out = run_import(import_url, path, "--crs", "gcj02")
    assert out.returncode == 0, out.stderr
    path = write_csv(tmp_path / "baidu.csv", header, [("SR01", bx, by, f"{tag} baidu", f"{tag}-b")])
    out = run_import(import_url, path, "--crs", "BD09")
    assert out.returncode == 0, out.stderr
    got = stored(import_engine, tag)
    assert [r.grid_code for r in got] == [code, code]
    assert [r.raw_crs for r in got] == ["gcj02", "bd09"]
    assert_routed_like_the_api(import_engine, got)


def test_excel_first_sheet(import_url, import_engine, grid_points, tmp_path, tag):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "事件"
    sheet.append(["Category", "Longitude", "Latitude", "Description", "Reported_At", "External_ID"])
    for i, (_code, x, y) in enumerate(grid_points[:5]):
        sheet.append(["JM01", x, y, f"{tag} 占道 {i}", datetime(2026, 5, 7, 8, 40 + i), 1000 + i])
    sheet.append([None, None, None, None, None, None])  # a blank row at the end is ignored
    other = book.create_sheet("说明")
    other.append(["not", "incidents"])
    path = tmp_path / "events.xlsx"
    book.save(path)
    out = run_import(import_url, path)
    assert out.returncode == 0, out.stderr
    assert summary_of(out)["imported"] == 5
    got = stored(import_engine, tag)
    assert [r.grid_code for r in got] == [c for c, _x, _y in grid_points[:5]]
    assert got[4].reported_at == datetime(2026, 5, 7, 8, 44, tzinfo=SHANGHAI)
    assert got[0].event_data["import"]["external_id"] == "1000"
    assert_routed_like_the_api(import_engine, got)
    assert_filed_like_intake(got)


@pytest.mark.parametrize("kind", ["geojson", "gpkg", "gpkg-epsg4548"])
def test_geojson_and_geopackage(import_url, import_engine, grid_points, tmp_path, tag, kind):
    import geopandas as gpd
    import shapely

    pts = grid_points[:6]
    frame = gpd.GeoDataFrame(
        {"category": ["DL02", "道路破损", "DL02", "AQ01", "AQ01", "QT01"],
         "description": [f"{tag} {kind} {i}" for i in range(len(pts))],
         "reported_at": ["2026-05-08T10:00:00+08:00"] * len(pts),
         "external_id": [f"{tag}-{kind}-{i}" for i in range(len(pts))]},
        geometry=shapely.points([x for _c, x, _y in pts], [y for _c, _x, y in pts]), crs="EPSG:4326",
    )
    if kind == "geojson":
        path = tmp_path / "events.geojson"
        frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    elif kind == "gpkg":
        path = tmp_path / "events.gpkg"
        frame.to_file(path, driver="GPKG", layer="incidents", engine="pyogrio")
    else:
        path = tmp_path / "projected.gpkg"
        frame.to_crs(4548).to_file(path, driver="GPKG", layer="incidents", engine="pyogrio")
    out = run_import(import_url, path)
    assert out.returncode == 0, out.stderr
    assert summary_of(out)["imported"] == len(pts)
    got = stored(import_engine, tag)
    assert [r.grid_code for r in got] == [c for c, _x, _y in pts]
    assert [r.category for r in got] == ["DL02", "DL02", "DL02", "AQ01", "AQ01", "QT01"]
    for r, (_c, x, y) in zip(got, pts, strict=True):
        assert (r.lng, r.lat) == pytest.approx((x, y), abs=1e-7)
        assert r.raw_crs == "wgs84"
    assert got[0].event_data["import"]["row"] == 1  # GeoJSON/GeoPackage rows are feature numbers
    assert_routed_like_the_api(import_engine, got)


def test_geojson_features_without_points_and_with_their_own_crs(import_url, import_engine, grid_points,
                                                                 tmp_path, tag):
    code, x, y = grid_points[2]
    gx, gy = wgs84_to_gcj02(x, y)

    def feature(geometry, **props):
        return {"type": "Feature", "geometry": geometry,
                "properties": {"category": "SR01", "description": f"{tag} {props.get('n')}", **props}}

    doc = {"type": "FeatureCollection", "features": [
        feature(None, n=1),
        feature({"type": "LineString", "coordinates": [[x, y], [x + 0.001, y]]}, n=2),
        feature({"type": "Point", "coordinates": [gx, gy]}, n=3, crs="gcj02", external_id=f"{tag}-3"),
    ]}
    path = tmp_path / "mixed.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    out = run_import(import_url, path)
    assert out.returncode == 1 and count(import_engine, tag) == 0
    assert "1,geometry,缺少点位" in out.stderr and "2,geometry,几何应为点" in out.stderr
    assert "1,lng" not in out.stderr
    out = run_import(import_url, path, "--skip-bad")
    assert out.returncode == 0, out.stderr
    (got,) = stored(import_engine, tag)
    assert got.grid_code == code and got.raw_crs == "gcj02" and got.flags == ["converted_from_gcj02"]


# ---------------------------------------------------------------- near and outside the grids


def north_of_the_grids(engine, metres: list[float]) -> list:
    """(lng, lat) of points ``metres`` due north of the northernmost grid vertex."""
    with engine.connect() as conn:
        return conn.execute(text(
            "WITH v AS (SELECT (ST_DumpPoints(geom)).geom AS p FROM grids WHERE valid_to IS NULL), "
            "top AS (SELECT p FROM v ORDER BY ST_Y(p) DESC LIMIT 1) "
            "SELECT ST_X(ST_Project(p::geography, m, 0)::geometry), ST_Y(ST_Project(p::geography, m, 0)::geometry) "
            "  FROM top, unnest(CAST(:metres AS float8[])) WITH ORDINALITY AS u(m, k) ORDER BY k"
        ), {"metres": metres}).all()


def test_near_boundary_and_outside_grids(import_url, import_engine, tmp_path, tag):
    (nx, ny), (fx, fy) = north_of_the_grids(import_engine, [10.0, 5000.0])
    rows = [("SR01", nx, ny, f"{tag} 10 m outside", "", "", f"{tag}-near"),
            ("SR01", fx, fy, f"{tag} 5 km outside", "", "", f"{tag}-far")]
    out = run_import(import_url, write_csv(tmp_path / "edge.csv", HEADER, rows))
    assert out.returncode == 0, out.stderr
    s = summary_of(out)
    assert (s["imported"], s["near_boundary"], s["outside_grids"]) == (2, 1, 1)
    near, far = stored(import_engine, tag)
    assert near.flags == ["near_boundary"] and near.grid_code and 9.5 < near.distance_m <= 10.01
    assert far.flags == ["outside_grids"] and far.grid_code is None and far.worker_id is None
    assert_routed_like_the_api(import_engine, [near, far])


def test_the_near_boundary_setting_reaches_the_import(import_url, import_engine, tmp_path, tag):
    """WANGGE_NEAR_BOUNDARY_M=200: a case 120 m outside every grid is routed near, one 250 m out is not."""
    points = north_of_the_grids(import_engine, [120.0, 250.0])
    rows = [("SR01", x, y, f"{tag} {m} m outside", "", "", f"{tag}-{m}") for (x, y), m in zip(points, (120, 250), strict=True)]
    out = run_import(import_url, write_csv(tmp_path / "setting.csv", HEADER, rows),
                     env={"WANGGE_NEAR_BOUNDARY_M": "200"})
    assert out.returncode == 0, out.stderr
    s = summary_of(out)
    assert (s["imported"], s["near_boundary"], s["outside_grids"]) == (2, 1, 1)
    near, far = stored(import_engine, tag)
    assert near.flags == ["near_boundary"] and near.grid_code and 119 < near.distance_m <= 120.1
    assert far.flags == ["outside_grids"] and far.grid_code is None


# ---------------------------------------------------------------- bad rows


def _file_with_bad_rows(tmp_path, grid_points, tag) -> Path:
    (_c0, x0, y0), (_c1, x1, y1) = grid_points[0], grid_points[1]
    rows = [
        ("SR01", x0, y0, f"{tag} good 1", "", "2026-05-09 08:00", f"{tag}-1"),   # row 2
        ("SR02", x1, y1, f"{tag} good 2", "", "", f"{tag}-2"),                   # row 3
        ("SR01", "东经117", y0, f"{tag} bad lng", "", "", f"{tag}-3"),           # row 4
        ("ZZ99", x0, y0, f"{tag} unknown category", "", "", f"{tag}-4"),        # row 5
        ("SR01", 2.35, 48.86, f"{tag} Paris", "", "", f"{tag}-5"),              # row 6
        ("SR01", x0, y0, f"{tag} " + "长" * 4001, "", "", f"{tag}-6"),          # row 7
        ("SR01", x0, y0, f"{tag} bad time", "", "yesterday", f"{tag}-7"),        # row 8
        ("SR01", x0, "", f"{tag} no lat", "", "", f"{tag}-8"),                   # row 9
        ("XC01", x1, y1, f"{tag} good 3", "", "", f"{tag}-9"),                   # row 10
    ]
    path = write_csv(tmp_path / "mixed.csv", HEADER, rows)
    with open(path, "a", encoding="utf-8", newline="") as f:
        f.write(f"SR01,{x0},{y0},{tag} trailing comma,,,{tag}-10,\n")  # row 11: an empty extra field is fine
        f.write(f'SR01,{x0},{y0},"{tag} quoted, comma",,,{tag}-11\n')  # row 12: fine
    return path


EXPECTED_BAD = {(4, "lng"), (5, "category"), (6, "lng/lat"), (7, "description"), (8, "reported_at"), (9, "lat")}


def test_one_bad_row_and_nothing_is_written(import_url, import_engine, grid_points, tmp_path, tag):
    path = _file_with_bad_rows(tmp_path, grid_points, tag)
    out = run_import(import_url, path)
    assert out.returncode == 1
    assert count(import_engine, tag) == 0
    assert summary_of(out)["imported"] == 0 and summary_of(out)["skipped"] == 6
    assert "未导入任何数据" in out.stderr and "nothing imported" in out.stderr
    assert "4,lng,经度必须是数字,longitude must be a number" in out.stderr
    assert "5,category,未知的事件类别 ZZ99" in out.stderr

    report = tmp_path / "errors.csv"
    out = run_import(import_url, path, "--errors", report)
    assert out.returncode == 1 and count(import_engine, tag) == 0
    with open(report, encoding="utf-8-sig", newline="") as f:
        lines = list(csv.DictReader(f))
    assert list(lines[0]) == ["row", "field", "中文原因", "English reason"]
    assert {(int(r["row"]), r["field"]) for r in lines} == EXPECTED_BAD
    assert next(r for r in lines if r["row"] == "6")["English reason"] == "coordinates are outside China"
    assert "坐标不在中国境内" in {r["中文原因"] for r in lines}

    # a single bad row is enough
    one_bad = write_csv(tmp_path / "one_bad.csv", HEADER, [
        ("SR01", grid_points[0][1], grid_points[0][2], f"{tag} fine", "", "", f"{tag}-ok"),
        ("SR01", grid_points[0][1], 95.0, f"{tag} lat 95", "", "", f"{tag}-bad"),
    ])
    out = run_import(import_url, one_bad)
    assert out.returncode == 1 and count(import_engine, tag) == 0
    assert "3,lat,纬度必须在 -90 到 90 之间" in out.stderr


def test_skip_bad_imports_the_rest(import_url, import_engine, grid_points, tmp_path, tag):
    path = _file_with_bad_rows(tmp_path, grid_points, tag)
    report = tmp_path / "errors.csv"
    out = run_import(import_url, path, "--skip-bad", "--errors", report)
    assert out.returncode == 0, out.stderr
    s = summary_of(out)
    assert (s["imported"], s["skipped"]) == (5, 6)
    assert "跳过 6 行" in out.stderr and "skipped 6 bad rows" in out.stderr
    got = stored(import_engine, tag)
    assert sorted(r.event_data["import"]["row"] for r in got) == [2, 3, 10, 11, 12]
    assert any(r.description.endswith("quoted, comma") for r in got)
    assert_routed_like_the_api(import_engine, got)
    with open(report, encoding="utf-8-sig", newline="") as f:
        assert {(int(r["row"]), r["field"]) for r in csv.DictReader(f)} == EXPECTED_BAD

    everything_bad = write_csv(tmp_path / "all_bad.csv", HEADER, [("ZZ99", 117.7, 39.3, f"{tag} x", "", "", "")])
    out = run_import(import_url, everything_bad, "--skip-bad")
    assert out.returncode == 1 and summary_of(out)["imported"] == 0


def test_many_bad_rows_on_stderr_are_cut_at_50(import_url, import_engine, tmp_path, tag):
    rows = [("ZZ99", 117.7, 39.3, f"{tag} {i}", "", "", "") for i in range(60)]
    out = run_import(import_url, write_csv(tmp_path / "many.csv", HEADER, rows))
    assert out.returncode == 1 and count(import_engine, tag) == 0
    assert "51,category" in out.stderr and "62,category" not in out.stderr
    assert "另有 10 条" in out.stderr and "and 10 more" in out.stderr


# ---------------------------------------------------------------- idempotency, dry run


def test_reimport_creates_no_duplicates(import_url, import_engine, grid_points, tmp_path, tag):
    import openpyxl

    rows = [("MD01", x, y, f"{tag} 纠纷 {i}", "", "2026-05-10 14:00", f"{tag}-{i}")
            for i, (_c, x, y) in enumerate(grid_points[:4])]
    path = write_csv(tmp_path / "first.csv", HEADER, rows)
    assert summary_of(run_import(import_url, path))["imported"] == 4
    again = run_import(import_url, path)
    assert again.returncode == 0, again.stderr
    assert summary_of(again) == {"imported": 0, "skipped": 0, "duplicates": 4, "outside_grids": 0,
                                 "near_boundary": 0}
    # the same rows in another file type, plus one new one: only the new one lands
    book = openpyxl.Workbook()
    book.active.append(list(HEADER))
    for row in rows:
        book.active.append(list(row))
    _c, x, y = grid_points[5]
    book.active.append(["MD01", x, y, f"{tag} 纠纷 new", "", "2026-05-10 15:00", f"{tag}-new"])
    book.save(tmp_path / "again.xlsx")
    out = run_import(import_url, tmp_path / "again.xlsx")
    assert out.returncode == 0, out.stderr
    assert (summary_of(out)["imported"], summary_of(out)["duplicates"]) == (1, 4)
    # a row repeated within one file is one incident; the same id with other content is an error
    twice = write_csv(tmp_path / "twice.csv", HEADER, [rows[0], rows[0]])
    assert summary_of(run_import(import_url, twice))["duplicates"] == 2
    clash = write_csv(tmp_path / "clash.csv", HEADER, [
        ("MD01", x, y, f"{tag} a", "", "", f"{tag}-clash"), ("MD01", x, y, f"{tag} b", "", "", f"{tag}-clash")])
    out = run_import(import_url, clash)
    assert out.returncode == 1 and "3,external_id" in out.stderr
    assert count(import_engine, tag) == 5


def test_dry_run_writes_nothing(import_url, import_engine, grid_points, tmp_path, tag):
    rows = [("SR01", x, y, f"{tag} dry {i}", "", "", f"{tag}-{i}") for i, (_c, x, y) in enumerate(grid_points)]
    out = run_import(import_url, write_csv(tmp_path / "dry.csv", HEADER, rows), "--dry-run")
    assert out.returncode == 0, out.stderr
    assert summary_of(out) == {"imported": len(rows), "skipped": 0, "duplicates": 0, "outside_grids": 0,
                               "near_boundary": 0, "dry_run": True}
    assert count(import_engine, tag) == 0


def test_source_option(import_url, import_engine, grid_points, tmp_path, tag):
    _c, x, y = grid_points[0]
    path = write_csv(tmp_path / "hotline.csv", HEADER, [("MS02", x, y, f"{tag} 12345", "", "", f"{tag}-h")])
    out = run_import(import_url, path, "--source", "hotline_12345")
    assert out.returncode == 0, out.stderr
    assert_filed_like_intake(stored(import_engine, tag), source="hotline_12345")
    out = run_import(import_url, path, "--source", "fax")
    assert out.returncode == 2 and "--source" in out.stderr


# ---------------------------------------------------------------- malformed files


MALFORMED = {
    "broken.csv": (b'category,lng,lat\nSR01,"117.7,39.3\n', "CSV"),
    "no_lng.csv": (b"category,lat,description\nSR01,39.3,x\n", "lng"),
    "empty.csv": (b"", "empty"),
    "binary.csv": (b"category,lng,lat\n\x00\x01\x02", "not text"),
    "feature.geojson": (json.dumps({"type": "Feature", "properties": {"category": "SR01"},
                                    "geometry": {"type": "Point", "coordinates": [117.7, 39.3]}}).encode(),
                        "FeatureCollection"),
    "not_json.geojson": (b"{'type': 'FeatureCollection'", "JSON"),
    "old.xls": (b"\xd0\xcf\x11\xe0 old excel", ".xls"),
    "text.xlsx": (b"category,lng,lat\n", "Excel"),
    "random.gpkg": (b"not a geopackage at all", "gpkg"),
    "report.docx": (b"PK\x03\x04", "unknown file type"),
    "missing.csv": (None, "no such file"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_file_exits_2(import_url, tmp_path, name):
    content, reason = MALFORMED[name]
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    out = run_import(import_url, path)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "无法导入" in out.stderr and "cannot import" in out.stderr
    assert reason.lower() in out.stderr.lower()
    assert "Traceback" not in out.stderr


# ---------------------------------------------------------------- a larger file


def test_larger_file_shows_progress(import_url, import_engine, grid_points, tmp_path, tag):
    rng = np.random.default_rng(7)
    with import_engine.connect() as conn:
        minx, miny, maxx, maxy = conn.execute(text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            "(SELECT ST_Extent(geom)::geometry AS e FROM grids WHERE valid_to IS NULL) x")).one()
    n = LARGE_ROWS
    xs = rng.uniform(minx - 0.002, maxx + 0.002, n)
    ys = rng.uniform(miny - 0.002, maxy + 0.002, n)
    gcj = np.arange(n) % 4 == 0
    gx, gy = wgs84_to_gcj02(xs[gcj], ys[gcj])
    raw_x, raw_y = xs.copy(), ys.copy()
    raw_x[gcj], raw_y[gcj] = gx, gy
    codes = ["SR01", "SR02", "JM01", "TC01", "暴露垃圾", "DL02", "AQ01"]
    path = tmp_path / "large.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(["category", "lon", "latitude", "crs", "description", "reported_at", "external_id"])
        for i in range(n):
            w.writerow([codes[i % len(codes)], f"{raw_x[i]:.8f}", f"{raw_y[i]:.8f}", "gcj02" if gcj[i] else "",
                        f"{tag} 批量 {i}", f"2026-{1 + i % 10:02d}-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}",
                        f"{tag}-{i}"])
    started = time.monotonic()
    out = run_import(import_url, path)
    seconds = time.monotonic() - started
    assert out.returncode == 0, out.stderr[-2000:]
    s = summary_of(out)
    assert s["imported"] == n and s["outside_grids"] > 0
    print(f"\nimported {n} rows in {seconds:.1f} s: {n / seconds:,.0f} rows/s "
          f"(outside {s['outside_grids']}, near {s['near_boundary']})")
    assert "校验 validate" in out.stderr and "写入 write" in out.stderr and "100%" in out.stderr
    # every stored point routed as PostGIS's route_point.sql routes it (one LATERAL query)
    got = stored(import_engine, tag)
    assert len(got) == n
    with import_engine.connect() as conn:
        sql = postgis_route_all(conn, [r.lng for r in got], [r.lat for r in got])
    assert [r.grid_code for r in got] == [g for g, _how, _d in sql]
    assert [("near_boundary" in r.flags) for r in got] == [how == "near" for _g, how, _d in sql]
    assert sum("converted_from_gcj02" in r.flags for r in got) == int(gcj.sum())


def test_docstring_examples_of_the_import_service():
    import doctest

    import webmap.services.imports

    result = doctest.testmod(webmap.services.imports, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted >= 8
