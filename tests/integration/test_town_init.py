"""``wangge town init`` on empty, migrated databases, from real files written here with
GeoPandas/pyogrio: a Shapefile in the CGCS2000 3° Gauss–Krüger zone of Tianjin (EPSG:4548) with GBK
names and no ``.cpg``, a GeoPackage in WGS84, a GeoJSON drawn in GCJ-02; every problem of the check
refused with its reason, exit 1 and nothing written; an unreadable file exit 2; the staff list."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pytest
import shapely
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from werkzeug.security import check_password_hash

from db import demo_town as T
from db import migrate
from spatial.crs import wgs84_to_gcj02
from webmap.cli import main

TOWN = ["--code", "120116103", "--name", "杨家泊镇", "--district-code", "120116", "--district-name", "滨海新区"]


@pytest.fixture(scope="module")
def demo_geometry():
    return T.build_town(20261128)


@pytest.fixture
def empty_db(fresh_database, request):
    """A new, migrated, empty database for one test."""
    url = fresh_database(f"town_{request.node.name[-20:].lower().replace('[', '_').replace(']', '').replace('-', '_')}")
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="module")
def shared_empty_db(fresh_database):
    """An empty database for the refusals, which must leave it empty."""
    url = fresh_database("town_refusals")
    migrate.upgrade(url)
    return url


def run(url, *args):
    result = CliRunner().invoke(main, [*args], env={"DATABASE_URL": url}, catch_exceptions=False)
    return result


def rows(url, sql):
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).all()
    finally:
        engine.dispose()


def nothing_written(url):
    return rows(url, "SELECT (SELECT count(*) FROM areas) + (SELECT count(*) FROM grids) + "
                     "(SELECT count(*) FROM accounts) + (SELECT count(*) FROM towns) + "
                     "(SELECT count(*) FROM settings)")[0][0] == 0


def frame(features, crs="EPSG:4326", code="code", name="name"):
    return gpd.GeoDataFrame({code: [f[0] for f in features], name: [f[1] for f in features]},
                            geometry=[f[2] for f in features], crs=crs)


def gbk_shapefile(gdf, path: Path) -> Path:
    """A Shapefile as a Chinese ArcGIS writes it: GBK text, no .cpg, no code page in the .dbf."""
    gdf.to_file(path, encoding="GBK", engine="pyogrio")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    dbf = bytearray(path.with_suffix(".dbf").read_bytes())
    dbf[29] = 0  # language driver id: none
    path.with_suffix(".dbf").write_bytes(bytes(dbf))
    return path


# ---------------------------------------------------------------- a whole town


def test_gauss_kruger_shapefile_in_gbk_and_a_wgs84_geopackage_make_the_town(empty_db, demo_geometry, tmp_path):
    town = demo_geometry
    villages = frame([(v["code"], v["name"], v["geom"]) for v in town.villages], code="村编码", name="村名")
    gbk_shapefile(villages.to_crs(4548), tmp_path / "村界.shp")
    # the grids of the first village come without codes: they are numbered west→east, north→south
    first = town.villages[0]["code"]
    grids = frame([(None if g["village_code"] == first else g["code"], g["name"], g["geom"]) for g in town.grids],
                  code="网格编码", name="网格名称")
    grids.to_file(tmp_path / "grids.gpkg", layer="grids", engine="pyogrio")
    assert not (tmp_path / "村界.cpg").exists()

    result = run(empty_db, "town", "init", *TOWN, "--villages", str(tmp_path / "村界.shp"),
                 "--grids", str(tmp_path / "grids.gpkg"), "--case-prefix", "YJB")
    assert result.exit_code == 0, result.stderr
    assert "GB18030" in result.stderr and "EPSG:4548" in result.stderr
    assert result.stdout == ""  # no --people: no accounts to print

    names = dict(rows(empty_db, "SELECT code, name FROM areas WHERE level = 'village'"))
    assert names == {v["code"]: v["name"] for v in town.villages}  # 张庄村…, never mojibake
    stored = {code: shapely.from_wkb(bytes(wkb)) for code, wkb in
              rows(empty_db, "SELECT code, ST_AsBinary(geom) FROM areas WHERE level = 'village'")}
    for v in town.villages:  # through Gauss–Krüger metres and back (densified there): a few centimetres
        assert shapely.hausdorff_distance(stored[v["code"]], v["geom"]) < 1e-6
    assert rows(empty_db, "SELECT DISTINCT ST_SRID(geom) FROM grids") == [(4326,)]

    mine = [g for g in town.grids if g["village_code"] == first]
    got = dict(rows(empty_db, f"SELECT code, ST_AsBinary(geom) FROM grids WHERE code LIKE '{first}%'"))
    assert sorted(got) == [f"{first}{n:03d}" for n in range(1, len(mine) + 1)]
    centres = [shapely.from_wkb(bytes(got[f"{first}{n:03d}"])).representative_point() for n in (1, 2)]
    assert centres[0].y > centres[1].y or centres[0].x < centres[1].x  # the first is north, or west in its row
    assert rows(empty_db, "SELECT count(*) FROM grids")[0][0] == len(town.grids)

    record = rows(empty_db, "SELECT t.name, a.code, t.case_prefix, t.map_lng, t.map_lat, t.center_name "
                            "FROM towns t JOIN areas a ON a.id = t.area_id")[0]
    west, south, east, north = shapely.total_bounds([v["geom"] for v in town.villages])
    assert record[:3] == ("杨家泊镇", "120116103", "YJB")
    assert record[3] == pytest.approx((west + east) / 2) and record[4] == pytest.approx((south + north) / 2)
    assert record[5] == "杨家泊镇综合治理中心"
    assert rows(empty_db, "SELECT bool_or(synthetic) FROM areas")[0][0] is False
    assert rows(empty_db, "SELECT key, value->>'synthetic' FROM settings") == [("town", "false")]

    from webmap import create_app

    app = create_app({"DATABASE_URL": empty_db, "TESTING": True, "SECRET_KEY": "test"})
    try:  # a real town's pages carry no demo label
        board = app.test_client().get(f"/grids/{town.grids[-1]['code']}")
        assert board.status_code == 200 and town.grids[-1]["name"] in board.get_data(as_text=True)
        assert "合成演示数据" not in board.get_data(as_text=True)
    finally:
        app.extensions["wangge.engine"].dispose()

    demo = run(empty_db, "demo", "load", "--incidents", "0")
    assert demo.exit_code == 1 and "真实乡镇" in demo.stderr and "real town" in demo.stderr
    again = run(empty_db, "demo", "load", "--incidents", "0", "--replace")
    assert again.exit_code == 1
    quiet = run(empty_db, "demo", "load", "--incidents", "0", "--if-empty")  # make run: serve the town
    assert quiet.exit_code == 0 and "真实乡镇" in quiet.stdout
    assert rows(empty_db, "SELECT count(*) FROM areas WHERE synthetic")[0][0] == 0


def test_a_geojson_drawn_in_gcj02(empty_db, tmp_path):
    villages = [("120116103201", "一村", shapely.box(117.70, 39.30, 117.71, 39.31)),
                ("120116103202", "二村", shapely.box(117.71, 39.30, 117.72, 39.31))]
    grids = [("120116103201001", "一村一格", shapely.box(117.70, 39.30, 117.71, 39.305)),
             ("120116103201002", "一村二格", shapely.box(117.70, 39.305, 117.71, 39.31)),
             ("120116103202001", "二村一格", shapely.box(117.71, 39.30, 117.72, 39.31))]

    def on_amap(features):
        def shift(xy):
            lng, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
            return np.column_stack([lng, lat])
        return [(c, n, shapely.transform(shapely.segmentize(g, 0.001), shift)) for c, n, g in features]

    frame(on_amap(villages)).to_file(tmp_path / "villages.geojson", engine="pyogrio")
    frame(on_amap(grids)).to_file(tmp_path / "grids.geojson", engine="pyogrio")
    result = run(empty_db, "town", "init", *TOWN, "--villages", str(tmp_path / "villages.geojson"),
                 "--grids", str(tmp_path / "grids.geojson"), "--crs", "gcj02")
    assert result.exit_code == 0, result.stderr
    assert "GCJ-02" in result.stderr
    stored = dict(rows(empty_db, "SELECT code, ST_AsBinary(geom) FROM grids"))
    for code, _name, geom in grids:  # back on WGS84 within a millimetre (GCJ-02 is some 300 m off here)
        assert shapely.hausdorff_distance(shapely.from_wkb(bytes(stored[code])), geom) < 1e-8


@pytest.mark.parametrize("epsg", [4490, 4498, 4527, 4548, 32650])  # CGCS2000; 6°, 3° zones; UTM 50N
@pytest.mark.parametrize("suffix", [".shp", ".gpkg"])  # the CRS in a .prj, in the GeoPackage's SRS table
def test_any_stated_crs_is_read_back_to_wgs84(tmp_path, epsg, suffix):
    from pyproj import CRS

    from spatial.townfiles import read_layer

    square = shapely.box(117.70, 39.30, 117.71, 39.31)
    frame([("120116103201", "一村", square)]).to_crs(epsg).to_file(tmp_path / f"v{suffix}", engine="pyogrio")
    layer = read_layer(tmp_path / f"v{suffix}", "villages")
    assert layer.crs.startswith(f"EPSG:{epsg} {CRS.from_epsg(epsg).name}")
    got = layer.features[0].geom
    for corner in shapely.get_coordinates(square):  # every corner comes back within a centimetre
        assert shapely.Point(corner).distance(got) < 1e-7
    assert abs(got.area - square.area) / square.area < 1e-4


@pytest.mark.parametrize("cpg", ["UTF-8", "GBK", None])
def test_shapefile_text_is_read_as_its_cpg_says_or_as_detected(tmp_path, cpg):
    from spatial.townfiles import read_layer

    names = frame([("120116103201", "李家堡村", shapely.box(117.70, 39.30, 117.71, 39.31))], code="村编码", name="村名")
    names.to_file(tmp_path / "v.shp", encoding=cpg or "UTF-8", engine="pyogrio")
    if cpg is None:
        (tmp_path / "v.cpg").unlink()
    else:
        (tmp_path / "v.cpg").write_text(cpg)
    layer = read_layer(tmp_path / "v.shp", "villages")
    assert (layer.code_field, layer.name_field) == ("村编码", "村名")
    assert layer.features[0].name == "李家堡村"
    assert layer.encoding == (None if cpg else "UTF-8")


def test_grids_cut_from_a_gauss_kruger_village_still_tile_it_in_wgs84(empty_db, tmp_path):
    """A grid corner on the middle of a village's edge (a T-junction), straight in metres, would sit
    6 cm off that edge in degrees and leave a sliver of 64 m² over 2 km; the edges are densified in
    the file's CRS before reprojecting, so the stored grids still tile their village."""
    x, y = 560_000.0, 4_352_000.0  # near 117.7°E, 39.3°N in EPSG:4548, 60 km off its central meridian
    village = [("120116103201", "一村", shapely.box(x, y, x + 2000, y + 1000))]
    grids = [("120116103201001", "西格", shapely.box(x, y, x + 1000, y + 1000)),
             ("120116103201002", "东格", shapely.box(x + 1000, y, x + 2000, y + 1000))]
    frame(village, crs="EPSG:4548").to_file(tmp_path / "v.gpkg", engine="pyogrio")
    frame(grids, crs="EPSG:4548").to_file(tmp_path / "g.gpkg", engine="pyogrio")
    result = run(empty_db, "town", "init", *TOWN, "--villages", str(tmp_path / "v.gpkg"),
                 "--grids", str(tmp_path / "g.gpkg"))
    assert result.exit_code == 0, result.stderr
    (uncovered, beyond), = rows(empty_db, """
        WITH v AS (SELECT geom FROM areas WHERE level = 'village'), g AS (SELECT ST_Union(geom) AS geom FROM grids)
        SELECT ST_Area(ST_Transform(ST_Segmentize(ST_Difference(v.geom, g.geom), 1e-5), 32650)),
               ST_Area(ST_Transform(ST_Segmentize(ST_Difference(g.geom, v.geom), 1e-5), 32650)) FROM v, g""")
    assert uncovered < 0.1 and beyond < 0.1  # m², where 64 m² would be left without densifying


def test_slivers_narrower_than_10_cm_are_no_gaps(shared_empty_db, tmp_path):
    frame([V1]).to_file(tmp_path / "v.gpkg", engine="pyogrio")
    one_cm = 1.2e-7  # degrees of longitude here
    frame([("120116103201001", "西格", shapely.box(117.70, 39.30, 117.705 - one_cm, 39.31)), G2]).to_file(
        tmp_path / "g.gpkg", engine="pyogrio")
    result = run(shared_empty_db, "town", "init", *TOWN, "--villages", str(tmp_path / "v.gpkg"),
                 "--grids", str(tmp_path / "g.gpkg"), "--dry-run")
    assert result.exit_code == 0, result.stderr  # 1 cm × 1.1 km = 11 m², a sliver
    frame([("120116103201001", "西格", shapely.box(117.70, 39.30, 117.705 - 20 * one_cm, 39.31)), G2]).to_file(
        tmp_path / "g.gpkg", engine="pyogrio")
    result = run(shared_empty_db, "town", "init", *TOWN, "--villages", str(tmp_path / "v.gpkg"),
                 "--grids", str(tmp_path / "g.gpkg"), "--dry-run")
    assert result.exit_code == 1 and "[gap]" in result.stderr  # 20 cm: a gap


# ---------------------------------------------------------------- refusals: exit 1, nothing written

# the village has the grids' corners on its edges, so that they tile it in any CRS
V1 = ("120116103201", "一村", shapely.Polygon([(117.70, 39.30), (117.705, 39.30), (117.71, 39.30), (117.71, 39.31),
                                               (117.705, 39.31), (117.70, 39.31)]))
G1 = ("120116103201001", "西格", shapely.box(117.70, 39.30, 117.705, 39.31))
G2 = ("120116103201002", "东格", shapely.box(117.705, 39.30, 117.71, 39.31))
BOWTIE = shapely.Polygon([(117.705, 39.30), (117.71, 39.31), (117.71, 39.30), (117.705, 39.31)])

REFUSALS = {
    "invalid": ([V1], [G1, ("120116103201002", "东格", BOWTIE)], ["[invalid]", "Self-intersection", "网格 2"]),
    "outside": ([V1], [G1, ("120116103201002", "东格", shapely.box(117.705, 39.30, 117.7102, 39.31))],
                ["[outside]", "网格 2", "村/社区 1", "beyond"]),
    "overlap": ([V1], [shapely.box(117.70, 39.30, 117.706, 39.31), G2], ["[overlap]", "网格 1", "网格 2", "重叠"]),
    "gap": ([V1], [shapely.box(117.70, 39.30, 117.7049, 39.31), G2], ["[gap]", "空隙", "村/社区 1"]),
    "duplicate": ([V1], [G1, ("120116103201001", "东格", G2[2])], ["[duplicate_code]", "编码重复"]),
    "foreign grid": ([V1], [G1, ("120116103299002", "东格", G2[2])], ["[foreign_code]", "120116103201"]),
    "foreign village": ([("120116104201", "外村", V1[2])], [("120116104201001", "a", G1[2]), G2],
                        ["[foreign_code]", "本镇编码 120116103"]),
    "bad code": ([V1], [G1, ("12011610320100", "东格", G2[2])], ["[bad_code]", "15 位数字"]),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_each_problem_is_refused_with_its_reason_and_nothing_is_written(shared_empty_db, tmp_path, case):
    villages, grids, said = REFUSALS[case]
    grids = [g if isinstance(g, tuple) else (f"12011610320100{n}", f"格{n}", g) for n, g in enumerate(grids, 1)]
    frame(villages).to_file(tmp_path / "v.gpkg", engine="pyogrio")
    frame(grids).to_file(tmp_path / "g.gpkg", engine="pyogrio")
    result = run(shared_empty_db, "town", "init", *TOWN, "--villages", str(tmp_path / "v.gpkg"),
                 "--grids", str(tmp_path / "g.gpkg"))
    assert result.exit_code == 1, result.stderr
    for words in said:
        assert words in result.stderr
    assert "@ 117.7" in result.stderr  # the place, lng lat
    assert "未写入任何数据" in result.stderr
    assert nothing_written(shared_empty_db)


def test_a_good_pair_passes_the_dry_run_and_writes_nothing(shared_empty_db, tmp_path):
    frame([V1]).to_file(tmp_path / "v.gpkg", engine="pyogrio")
    frame([G1, G2]).to_file(tmp_path / "g.gpkg", engine="pyogrio")
    result = run(shared_empty_db, "town", "init", *TOWN, "--villages", str(tmp_path / "v.gpkg"),
                 "--grids", str(tmp_path / "g.gpkg"), "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "试运行" in result.stderr and "dry run" in result.stderr
    assert nothing_written(shared_empty_db)


def test_unreadable_files_and_files_without_a_crs_exit_2(shared_empty_db, tmp_path):
    frame([G1, G2]).to_file(tmp_path / "g.gpkg", engine="pyogrio")
    (tmp_path / "broken.shp").write_bytes(b"not a shapefile at all")
    result = run(shared_empty_db, "town", "init", *TOWN, "--villages", str(tmp_path / "broken.shp"),
                 "--grids", str(tmp_path / "g.gpkg"))
    assert result.exit_code == 2 and "无法读取" in result.stderr and "cannot read" in result.stderr

    frame([V1]).to_crs(4548).to_file(tmp_path / "noprj.shp", engine="pyogrio")
    (tmp_path / "noprj.prj").unlink()
    frame([G1, G2]).to_crs(4548).to_file(tmp_path / "gnoprj.shp", engine="pyogrio")
    (tmp_path / "gnoprj.prj").unlink()
    result = run(shared_empty_db, "town", "init", *TOWN, "--villages", str(tmp_path / "noprj.shp"),
                 "--grids", str(tmp_path / "gnoprj.shp"), "--dry-run")
    assert result.exit_code == 2 and "没有坐标系" in result.stderr and "--crs" in result.stderr
    result = run(shared_empty_db, "town", "init", *TOWN, "--villages", str(tmp_path / "noprj.shp"),
                 "--grids", str(tmp_path / "gnoprj.shp"), "--dry-run", "--crs", "EPSG:4548")
    assert result.exit_code == 0, result.stderr
    (tmp_path / "人员.xlsx").write_bytes(b"PK not really a workbook")
    result = run(shared_empty_db, "town", "init", *TOWN, "--villages", str(tmp_path / "noprj.shp"),
                 "--grids", str(tmp_path / "gnoprj.shp"), "--crs", "EPSG:4548", "--people", str(tmp_path / "人员.xlsx"))
    assert result.exit_code == 2 and "无法打开 Excel 文件" in result.stderr
    # the wrong CRS puts the town outside China: refused, not stored
    result = run(shared_empty_db, "town", "init", *TOWN, "--villages", str(tmp_path / "noprj.shp"),
                 "--grids", str(tmp_path / "gnoprj.shp"), "--dry-run", "--crs", "EPSG:32633")
    assert result.exit_code == 2 and "不在中国境内" in result.stderr
    assert nothing_written(shared_empty_db)


# ---------------------------------------------------------------- the staff list


def staff_sheet(path: Path, rows_):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["姓名", "手机", "角色", "网格编码", "村编码", "部门"])
    for row in rows_:
        sheet.append(list(row))
    book.save(path)
    return path


def test_the_staff_list_makes_accounts_and_assignments(empty_db, tmp_path):
    frame([V1]).to_file(tmp_path / "v.gpkg", engine="pyogrio")
    frame([G1, G2]).to_file(tmp_path / "g.gpkg", engine="pyogrio")
    sheet = staff_sheet(tmp_path / "人员.xlsx", [
        ("王芳", "13800000001", "网格员", "120116103201001", None, None),
        ("李强", "13800000002", "网格员", "120116103201002", None, None),
        ("张伟", "13800000003", "网格长", None, "120116103201", None),
        ("刘洋", "13800000004", "调度员", None, None, None),
        ("陈静", "13800000005", "部门", None, None, "镇综合执法大队"),
        ("赵磊", "13800000006", "管理员", None, None, None),
    ])
    result = run(empty_db, "town", "init", *TOWN, "--villages", str(tmp_path / "v.gpkg"),
                 "--grids", str(tmp_path / "g.gpkg"), "--people", str(sheet))
    assert result.exit_code == 0, result.stderr
    accounts = json.loads(result.stdout)
    assert [(a["username"], a["role"], a["scope"]) for a in accounts] == [
        ("13800000001", "worker", "120116103201001"), ("13800000002", "worker", "120116103201002"),
        ("13800000003", "leader", "120116103201"), ("13800000004", "dispatcher", "120116103"),
        ("13800000005", "department", "120116103"), ("13800000006", "admin", "120116"),
    ]
    assert len({a["password"] for a in accounts}) == 6 and all(len(a["password"]) >= 10 for a in accounts)
    hashes = dict(rows(empty_db, "SELECT username, password_hash FROM accounts"))
    assert all(check_password_hash(hashes[a["username"]], a["password"]) for a in accounts)
    duties = rows(empty_db, "SELECT a.grid_code, a.duty, p.name FROM grid_assignments a JOIN people p "
                            "ON p.id = a.person_id WHERE a.valid_to IS NULL ORDER BY 1, 2")
    assert duties == [("120116103201001", "leader", "张伟"), ("120116103201001", "worker", "王芳"),
                      ("120116103201002", "leader", "张伟"), ("120116103201002", "worker", "李强")]
    assert rows(empty_db, "SELECT d.name FROM accounts a JOIN departments d ON d.id = a.department_id") == [
        ("镇综合执法大队",)]
    assert rows(empty_db, "SELECT bool_and(must_change_password) FROM accounts")[0][0] is True

    # the first sign-in asks for a new password before any page; the one-time one then stops working
    from webmap import create_app

    app = create_app({"DATABASE_URL": empty_db, "TESTING": True, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False})
    try:
        web = app.test_client()
        worker = accounts[0]
        login = web.post("/auth/login", data={"username": worker["username"], "password": worker["password"]})
        assert login.status_code == 302 and "/auth/password" in login.headers["Location"]
        page = web.get("/m/cases")
        assert page.status_code == 302 and "/auth/password" in page.headers["Location"]
        ask = web.get("/auth/password")
        assert ask.status_code == 200 and "设置新密码" in ask.get_data(as_text=True)
        short = web.post("/auth/password", data={"current": worker["password"], "new": "short", "again": "short"})
        assert short.status_code == 400 and "至少 8 个字符" in short.get_data(as_text=True)
        done = web.post("/auth/password?next=/m/cases",
                        data={"current": worker["password"], "new": "我的新密码2026", "again": "我的新密码2026"})
        assert done.status_code == 302 and done.headers["Location"].endswith("/m/cases")
        assert web.get("/m/cases").status_code == 200
        web.post("/auth/logout")
        assert web.post("/auth/login", data={"username": worker["username"],
                                             "password": worker["password"]}).status_code == 401
        again = web.post("/auth/login", data={"username": worker["username"], "password": "我的新密码2026"})
        assert again.status_code == 302 and "/auth/password" not in again.headers["Location"]
    finally:
        app.extensions["wangge.engine"].dispose()
    assert rows(empty_db, f"SELECT must_change_password FROM accounts WHERE username = '{worker['username']}'") == [
        (False,)]


def test_a_bad_staff_row_is_refused_with_its_row(shared_empty_db, tmp_path):
    frame([V1]).to_file(tmp_path / "v.gpkg", engine="pyogrio")
    frame([G1, G2]).to_file(tmp_path / "g.gpkg", engine="pyogrio")
    sheet = staff_sheet(tmp_path / "人员.xlsx", [
        ("王芳", "13800000001", "网格员", "120116103201009", None, None),
        ("李强", "1380000", "网格员", "120116103201002", None, None),
        ("张伟", "13800000003", "村长", None, "120116103201", None),
    ])
    result = run(shared_empty_db, "town", "init", *TOWN, "--villages", str(tmp_path / "v.gpkg"),
                 "--grids", str(tmp_path / "g.gpkg"), "--people", str(sheet))
    assert result.exit_code == 1, result.stderr
    assert "人员名单第 2 行" in result.stderr and "120116103201009" in result.stderr
    assert "人员名单第 3 行" in result.stderr and "11 位" in result.stderr
    assert "人员名单第 4 行" in result.stderr and "村长" in result.stderr
    assert result.stdout == ""
    assert nothing_written(shared_empty_db)
