"""QGIS round trips of the grid cells through the command line, against PostGIS: ``wangge grids
export`` writes GeoPackage, GeoJSON and Shapefile that read back whole; ``wangge grids import``
turns an edited file into a checked draft plan, refuses one that breaks the tiling and keeps
nothing of it, and refuses malformed files. The commands commit, so every test deletes the plans it
made."""

from __future__ import annotations

import doctest
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.testing import assert_geometries_equal
from sqlalchemy import text

from spatial.tiling import as_multipolygon
from tests.conftest import ROOT
from webmap.commands import grids as grids_cli
from workflow.clock import SHANGHAI

WANGGE = str(Path(sys.executable).parent / "wangge")
FIELDS = {"code", "name", "village", "village_nm", "kind", "households", "residents", "version", "valid_from",
          "valid_to"}


def run(database_url, *args, cwd):
    return subprocess.run([WANGGE, "grids", *args], capture_output=True, text=True, timeout=300, cwd=cwd,
                          env={**os.environ, "WANGGE_HOME": str(ROOT), "DATABASE_URL": database_url})


@pytest.fixture
def current(engine) -> pd.DataFrame:
    """The current grids: code (index), name, village, households, residents, geom (WGS84)."""
    with engine.connect() as conn:
        rows = conn.execute(text("""
            SELECT g.code, g.name, v.code AS village, g.households, g.residents, ST_AsBinary(g.geom) AS wkb
              FROM grids g JOIN areas v ON v.id = g.village_id WHERE g.valid_to IS NULL ORDER BY g.code""")).all()
    frame = pd.DataFrame([r._asdict() for r in rows]).set_index("code")
    frame["geom"] = [shapely.from_wkb(bytes(w)) for w in frame.pop("wkb")]
    return frame


@pytest.fixture
def new_plans(engine):
    """The plans made since the test began (a function); deleted at its end, items and edits with them."""
    with engine.connect() as conn:
        before = conn.execute(text("SELECT coalesce(max(id), 0) FROM grid_plans")).scalar_one()

    def made() -> list:
        with engine.connect() as conn:
            return conn.execute(text("""
                SELECT p.id, p.title, p.source, p.status, a.username FROM grid_plans p
                  LEFT JOIN accounts a ON a.id = p.created_by WHERE p.id > :b ORDER BY p.id"""), {"b": before}).all()

    yield made
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM grid_plans WHERE id > :b"), {"b": before})


def plan_items(engine, plan_id) -> dict[str, dict]:
    with engine.connect() as conn:
        rows = conn.execute(text("""
            SELECT code, name, kind, households, residents, ST_AsBinary(geom) AS wkb, base_grid_id
              FROM grid_plan_items WHERE plan_id = :p ORDER BY code"""), {"p": plan_id}).all()
    return {r.code: {**r._asdict(), "geom": None if r.wkb is None else shapely.from_wkb(bytes(r.wkb))} for r in rows}


def export(database_url, tmp_path, name="grids.gpkg") -> gpd.GeoDataFrame:
    out = run(database_url, "export", name, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    return gpd.read_file(tmp_path / name, engine="pyogrio")


def write(frame: gpd.GeoDataFrame, path: Path) -> Path:
    options = {"encoding": "UTF-8"} if path.suffix == ".shp" else {"layer": "grids"}
    frame.to_file(path, engine="pyogrio", **options)
    return path


# ---------------------------------------------------------------- export


@pytest.mark.parametrize("name", ["grids.gpkg", "grids.geojson", "grids.json", "grids.shp"])
def test_export_writes_every_current_grid_with_chinese_names(database_url, tmp_path, current, name):
    out = run(database_url, "export", name, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert f"已导出 {len(current)} 个现行网格" in out.stdout and f"exported {len(current)} current grids" in out.stdout
    path = tmp_path / name
    if name.endswith(".gpkg"):
        assert [str(layer) for layer, _ in pyogrio.list_layers(path)] == ["grids"]
    if name.endswith(".shp"):
        assert path.with_suffix(".cpg").read_text().strip() == "UTF-8"
        assert path.with_suffix(".dbf").exists() and path.with_suffix(".prj").exists()
    # GDAL's GeoJSON reader would make the ISO times datetimes; they are text in the file
    frame = gpd.read_file(path, engine="pyogrio", **({"DATE_AS_STRING": "YES"} if "json" in name else {}))
    assert frame.crs.to_epsg() == 4326
    assert set(frame.columns) == FIELDS | {"geometry"}
    assert len(frame) == len(current) and frame["code"].is_unique
    assert frame["code"].str.fullmatch(r"\d{15}").all()
    frame = frame.set_index("code").loc[current.index]
    assert frame["name"].tolist() == current["name"].tolist()  # Chinese intact
    assert frame["name"].str.contains("网格").all() and frame["village_nm"].str.contains("[村区]").all()
    assert (frame["village"] == current["village"]).all() and (frame.index.str[:12] == frame["village"]).all()
    assert frame["households"].astype(int).tolist() == current["households"].tolist()
    assert frame["valid_from"].str.endswith("+08:00").all() and frame["valid_to"].isna().all()
    assert_geometries_equal(np.array([as_multipolygon(g) for g in frame.geometry]), np.array(current["geom"]),
                            tolerance=1e-9, normalize=True)


def test_export_replaces_an_existing_shapefile_and_its_stale_index(database_url, tmp_path, current):
    (tmp_path / "grids.qix").write_bytes(b"a stale QGIS spatial index")
    export(database_url, tmp_path, "grids.shp")
    again = export(database_url, tmp_path, "grids.shp")
    assert len(again) == len(current) and not (tmp_path / "grids.qix").exists()


def test_export_at_a_date_before_the_first_grids_writes_none(database_url, tmp_path):
    out = run(database_url, "export", "--at", "2020-01-01", "old.geojson", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "已导出 0 个" in out.stdout and "valid at 2020-01-01T00:00:00+08:00" in out.stdout
    assert len(gpd.read_file(tmp_path / "old.geojson")) == 0
    bad = run(database_url, "export", "--at", "yesterday", "x.gpkg", cwd=tmp_path)
    assert bad.returncode == 2 and "--at" in bad.stderr


def test_export_at_a_date_gives_the_versions_valid_then(db, tmp_path):
    """A renaming published from 2026-03-01 (in the test's rolled-back transaction)."""
    from webmap.services import plans
    from webmap.services.accounts import load_user

    planner = load_user(db, db.execute(text("SELECT id FROM accounts WHERE username = 'planner1'")).scalar_one())
    code, old_name = db.execute(text("SELECT code, name FROM grids WHERE valid_to IS NULL ORDER BY code")).first()
    count = db.execute(text("SELECT count(*) FROM grids WHERE valid_to IS NULL")).scalar_one()
    plan_id = plans.create(db, planner, "改名")
    plans.edit(db, planner, plan_id, {"op": "set", "version": 1, "code": code, "name": "新名网格"})
    plans.publish(db, planner, plan_id, 2, effective_at=datetime(2026, 3, 1, tzinfo=SHANGHAI),
                  now=datetime(2026, 11, 20, 9, 0, tzinfo=SHANGHAI))
    for raw, name, version in (("2026-02-28T23:59", old_name, 1), ("2026-03-01", "新名网格", 2), (None, "新名网格", 2)):
        path = tmp_path / f"{raw or 'now'}.gpkg".replace(":", "")
        grids_cli.write_grids(grids_cli.grids_frame(grids_cli.grids_at(db, grids_cli.parse_moment(raw))), path)
        frame = gpd.read_file(path, layer="grids").set_index("code")
        assert len(frame) == count and frame.index.is_unique
        assert (frame.loc[code, "name"], frame.loc[code, "version"]) == (name, version), raw
    old = gpd.read_file(tmp_path / "2026-02-28T2359.gpkg", layer="grids").set_index("code")
    assert old.loc[code, "valid_to"] == "2026-03-01T00:00:00+08:00"


# ---------------------------------------------------------------- import: nothing changed


@pytest.mark.parametrize("name", ["grids.gpkg", "grids.geojson", "grids.shp"])
def test_an_unchanged_export_imports_without_a_plan(database_url, tmp_path, new_plans, name):
    export(database_url, tmp_path, name)
    out = run(database_url, "import", name, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "文件与现行网格一致" in out.stdout and "matches the current grids" in out.stdout
    assert new_plans() == []


def test_another_crs_is_reprojected_and_no_crs_is_taken_as_wgs84(database_url, tmp_path, new_plans):
    frame = export(database_url, tmp_path)
    write(frame.to_crs(4547), tmp_path / "gauss_kruger.gpkg")  # CGCS2000 3-degree zone 39, metres
    out = run(database_url, "import", "gauss_kruger.gpkg", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "EPSG:4547" in out.stderr and "文件与现行网格一致" in out.stdout
    write(frame, tmp_path / "bare.shp")
    (tmp_path / "bare.prj").unlink()
    out = run(database_url, "import", "bare.shp", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "没有坐标系" in out.stderr and "no CRS" in out.stderr and "文件与现行网格一致" in out.stdout
    assert new_plans() == []


# ---------------------------------------------------------------- import: refused by the check


def shared_junction(frame: gpd.GeoDataFrame, engine) -> tuple[str, str, tuple[float, float]]:
    """Two grids of one village and a vertex they share inside the village (not on its outline)."""
    with engine.connect() as conn:
        outlines = {r.code: shapely.from_wkb(bytes(r.wkb)).boundary for r in conn.execute(text(
            "SELECT code, ST_AsBinary(geom) AS wkb FROM areas WHERE level = 'village'"))}
    users: dict[tuple, set] = {}
    for code, geom in zip(frame["code"], frame.geometry, strict=True):
        for xy in map(tuple, shapely.get_coordinates(geom)):
            users.setdefault(xy, set()).add(code)
    for xy, codes in sorted(users.items(), key=lambda kv: sorted(kv[1])):
        village = min(codes)[:12]
        mates = sorted(c for c in codes if c[:12] == village)
        if len(mates) >= 2 and outlines[village].distance(shapely.Point(xy)) > 1e-6:
            return mates[0], mates[1], xy
    raise AssertionError("no shared vertex inside a village")


def test_moving_a_shared_vertex_of_one_grid_is_refused_with_both_codes_and_the_place(
        database_url, engine, tmp_path, new_plans):
    frame = export(database_url, tmp_path, "grids.geojson")
    a, b, (x, y) = shared_junction(frame, engine)
    inside_b = frame.geometry[frame["code"] == b].iloc[0].representative_point()
    step = np.array([inside_b.x - x, inside_b.y - y])
    moved = np.array([x, y]) + step / np.hypot(*step) * 0.0002  # about 20 m into b; b is not adjusted
    i = frame.index[frame["code"] == a][0]
    frame.loc[i, "geometry"] = shapely.transform(
        frame.geometry[i], lambda c: np.where(np.all(c == (x, y), axis=1)[:, None], moved, c))
    write(frame, tmp_path / "moved.geojson")

    out = run(database_url, "import", "moved.geojson", cwd=tmp_path)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "1 changed" in out.stdout and a in out.stdout
    lines = [line for line in out.stdout.splitlines() if line.startswith("错误 error [overlap]")]
    both = [line for line in lines if a in line and b in line]
    assert both, out.stdout
    lng, lat = (float(v) for v in re.search(r"@ ([\d.]+), ([\d.]+)", both[0]).groups())
    overlap = frame.geometry[i].intersection(frame.geometry[frame["code"] == b].iloc[0])
    assert overlap.area > 0 and overlap.distance(shapely.Point(lng, lat)) < 1e-6  # the place is in the overlap
    assert "m²" in both[0] and "相互重叠" in both[0]
    assert "未保存" in out.stderr and "nothing saved" in out.stderr
    assert new_plans() == []


def test_retiring_a_grid_leaves_a_gap_and_is_refused(database_url, tmp_path, new_plans, current):
    frame = export(database_url, tmp_path)
    gone = current.index[0]
    write(frame[frame["code"] != gone], tmp_path / "fewer.gpkg")
    out = run(database_url, "import", "fewer.gpkg", cwd=tmp_path)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "1 retired" in out.stdout and "错误 error [gap]" in out.stdout and "未划入任何网格" in out.stdout
    assert new_plans() == []


# ---------------------------------------------------------------- import: drafts kept


def test_a_new_name_and_households_leave_a_draft_with_that_item(database_url, engine, tmp_path, new_plans, current):
    frame = export(database_url, tmp_path)
    code = current.index[1]
    i = frame.index[frame["code"] == code][0]
    frame.loc[i, ["name", "households"]] = ["渔港新村网格", 512]
    write(frame, tmp_path / "renamed.gpkg")
    out = run(database_url, "import", "renamed.gpkg", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 changed, 0 new, 0 retired" in out.stdout and "check: 0 errors" in out.stdout
    [plan] = new_plans()
    assert (plan.title, plan.source, plan.status, plan.username) == ("导入: renamed.gpkg", "import", "draft",
                                                                     "planner1")
    assert f"/planner?plan={plan.id}" in out.stdout
    items = plan_items(engine, plan.id)
    assert list(items) == [code]
    item = items[code]
    assert (item["name"], item["households"], item["residents"]) == ("渔港新村网格", 512, current.loc[code, "residents"])
    assert item["base_grid_id"] is not None
    assert_geometries_equal(item["geom"], current.loc[code, "geom"], normalize=True)  # the current one, exactly


def test_a_file_of_one_village_changes_only_that_village(database_url, engine, tmp_path, new_plans, current):
    frame = export(database_url, tmp_path)
    village = current["village"].iloc[-1]
    one = frame[frame["village"] == village].copy()
    one.loc[one.index[0], "kind"] = "dedicated"
    write(one, tmp_path / "one_village.geojson")
    out = run(database_url, "import", "one_village.geojson", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 changed, 0 new, 0 retired" in out.stdout
    [plan] = new_plans()
    assert {c: i["kind"] for c, i in plan_items(engine, plan.id).items()} == {one["code"].iloc[0]: "dedicated"}


def test_a_split_with_a_new_code_of_the_village_leaves_a_draft(database_url, engine, tmp_path, new_plans, current):
    frame = export(database_url, tmp_path, "grids.shp")
    code = current.index[0]
    i = frame.index[frame["code"] == code][0]
    whole = frame.geometry[i]
    x0, y0, x1, y1 = whole.bounds
    cut = whole.centroid.x
    west = whole.intersection(shapely.box(x0 - 1, y0 - 1, cut, y1 + 1))
    east = whole.intersection(shapely.box(cut, y0 - 1, x1 + 1, y1 + 1))
    with engine.connect() as conn:
        used = conn.execute(text("SELECT code FROM grids WHERE code LIKE :v UNION SELECT code FROM grid_plan_items "
                                 "WHERE code LIKE :v"), {"v": code[:12] + "%"}).scalars().all()
    new_code = f"{code[:12]}{max(int(c[12:]) for c in used) + 1:03d}"
    second = frame.loc[[i]].assign(code=new_code, geometry=[east])  # QGIS copies the attributes to the new part
    frame.loc[i, "geometry"] = west
    edited = gpd.GeoDataFrame(pd.concat([frame, second], ignore_index=True), crs=frame.crs)
    write(edited, tmp_path / "split.shp")

    out = run(database_url, "import", "split.shp", "--by", "admin", "--title", "拆分网格", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 changed, 1 new, 0 retired" in out.stdout and "check: 0 errors" in out.stdout
    [plan] = new_plans()
    assert (plan.title, plan.username, plan.status) == ("拆分网格", "admin", "draft")
    items = plan_items(engine, plan.id)
    assert set(items) == {code, new_code}
    assert items[new_code]["base_grid_id"] is None and items[code]["base_grid_id"] is not None
    assert items[new_code]["name"] == current.loc[code, "name"]
    # copied figures are shared out by area when the plan is published
    assert [items[c]["households"] for c in (code, new_code)] == [None, None]
    assert_geometries_equal(items[code]["geom"], as_multipolygon(west), tolerance=1e-9, normalize=True)
    assert_geometries_equal(items[new_code]["geom"], as_multipolygon(east), tolerance=1e-9, normalize=True)
    assert items[code]["geom"].union(items[new_code]["geom"]).symmetric_difference(whole).area < 1e-12


def test_a_dry_run_checks_and_keeps_nothing(database_url, tmp_path, new_plans, current):
    frame = export(database_url, tmp_path)
    frame.loc[0, "residents"] = 1234
    write(frame, tmp_path / "dry.gpkg")
    out = run(database_url, "import", "--dry-run", "dry.gpkg", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 changed" in out.stdout and "check: 0 errors" in out.stdout and "/planner?plan=" not in out.stdout
    assert "试运行" in out.stderr and "dry run" in out.stderr
    assert new_plans() == []


def test_an_account_that_may_not_plan_is_refused(database_url, tmp_path, new_plans):
    frame = export(database_url, tmp_path)
    frame.loc[0, "name"] = "改名网格"
    write(frame, tmp_path / "renamed.gpkg")
    out = run(database_url, "import", "--by", "worker001", "renamed.gpkg", cwd=tmp_path)
    assert out.returncode == 2 and "worker001" in out.stderr
    assert new_plans() == []


# ---------------------------------------------------------------- malformed files


def _no_code(f):
    f.loc[3, "code"] = None
    return f


def _short_code(f):
    f.loc[3, "code"] = "12011610320100"
    return f


def _twice(f):
    f.loc[5, "code"] = f.loc[6, "code"]
    return f


def _points(f):
    return f.set_geometry(f.geometry.representative_point())


def _bad_kind(f):
    f.loc[2, "kind"] = "综合"
    return f


MALFORMED = {
    "no_code": (_no_code, "没有网格编码", "draw new grids in the planner"),
    "short_code": (_short_code, "15 位数字", "12011610320100"),
    "duplicated": (_twice, "网格编码重复", "duplicated grid codes"),
    "points": (_points, "Polygon 或 MultiPolygon", "Point"),
    "bad_kind": (_bad_kind, "kind 应为", "comprehensive or dedicated"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_file_exits_2_naming_the_problem(database_url, tmp_path, new_plans, case):
    edit, zh, en = MALFORMED[case]
    frame = export(database_url, tmp_path, "grids.geojson")
    frame.loc[0, "name"] = "改名网格"  # a real change too: nothing of it may be saved
    write(edit(frame), tmp_path / "bad.geojson")
    out = run(database_url, "import", "bad.geojson", cwd=tmp_path)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "无法导入" in out.stderr and zh in out.stderr and en in out.stderr
    assert new_plans() == []


@pytest.mark.parametrize("case", ["unknown_type", "no_geometry_column", "not_a_geopackage", "missing"])
def test_an_unreadable_file_exits_2(database_url, tmp_path, new_plans, case):
    name, expected = {
        "unknown_type": ("grids.csv", "不支持的文件类型 .csv"),
        "no_geometry_column": ("table.gpkg", "没有几何列"),
        "not_a_geopackage": ("junk.gpkg", "无法打开"),
        "missing": ("missing.gpkg", "找不到文件"),
    }[case]
    if case == "unknown_type":
        (tmp_path / name).write_text("code\n120116103201001\n")
    elif case == "no_geometry_column":
        pyogrio.write_dataframe(pd.DataFrame({"code": ["120116103201001"]}), tmp_path / name, layer="grids")
    elif case == "not_a_geopackage":
        (tmp_path / name).write_bytes(b"not a geopackage")
    out = run(database_url, "import", name, cwd=tmp_path)
    assert out.returncode == 2 and expected in out.stderr, out.stderr
    assert new_plans() == []
    if case == "unknown_type":
        refused = run(database_url, "export", "grids.csv", cwd=tmp_path)
        assert refused.returncode == 2 and "不支持的文件类型" in refused.stderr and "unsupported" in refused.stderr


def test_the_docstring_examples_hold():
    assert doctest.testmod(grids_cli).failed == 0
