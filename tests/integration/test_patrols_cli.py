"""``wangge patrols``: a GPX file imported as worker001's patrol prints its metrics; the same file
again is "already there"; a bad file exits 1 and an unknown worker 2; purge forgets old whereabouts
and keeps the metrics. The commands commit: every patrol made here is deleted afterwards."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner
from shapely import wkb
from sqlalchemy import text

from tests.conftest import DEMO_UNTIL, gpx, walk
from webmap.commands.patrols import group
from workflow.clock import SHANGHAI


def invoke(database_url, *args):
    return CliRunner().invoke(group, list(args), env={"DATABASE_URL": database_url}, catch_exceptions=False)


@pytest.fixture
def made(engine):
    """worker001's grid geometry; the patrols made during the test are deleted afterwards."""
    with engine.connect() as conn:
        last = conn.execute(text("SELECT coalesce(max(id), 0) FROM patrols")).scalar_one()
        geom = conn.execute(text("""
            SELECT ST_AsBinary(g.geom) FROM accounts a JOIN grids g ON g.code = a.scope_code
             WHERE a.username = 'worker001' AND g.valid_to IS NULL""")).scalar_one()
    yield wkb.loads(bytes(geom))
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM gps_fixes WHERE patrol_id > :i"), {"i": last})
        conn.execute(text("DELETE FROM patrols WHERE id > :i"), {"i": last})


def gpx_file(tmp_path, geom, start, name="walk.gpx", seed=21, seconds=900):
    _true, points = walk(geom, start, seconds=seconds, seed=seed)
    path = tmp_path / name
    path.write_bytes(gpx(points))
    return path


def test_import_prints_the_metrics_and_again_is_already_there(database_url, engine, tmp_path, made):
    start = datetime.now(SHANGHAI).replace(hour=10, minute=0, second=0, microsecond=0) - timedelta(days=3)
    path = gpx_file(tmp_path, made, start)
    first = invoke(database_url, "import", str(path), "--worker", "worker001")
    assert first.exit_code == 0, first.output
    out = first.stdout
    assert "已导入巡查" in out and "imported patrol" in out
    for label in ("里程 distance:", "km", "移动 moving:", "网格覆盖率 coverage:", "%", "重点场所 key places:",
                  "异常标记 flags: 无 none"):
        assert label in out, label
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["created"] is True and summary["worker"] == "worker001" and summary["flags"] == []
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT distance_m, coverage, source FROM patrols WHERE id = :i"),
                              {"i": summary["id"]}).one()
    assert stored.source == "gpx" and stored.distance_m == pytest.approx(summary["distance_m"], abs=0.1)
    assert f"{stored.distance_m / 1000:.2f} km" in out and f"{summary['coverage']:.1%}" in out

    again = invoke(database_url, "import", str(path), "--worker", "worker001")
    assert again.exit_code == 0, again.output
    assert "already there" in again.stdout and "已存在" in again.stdout
    assert json.loads(again.stdout.strip().splitlines()[-1])["id"] == summary["id"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM patrols WHERE client_id = (SELECT client_id FROM patrols "
                                 "WHERE id = :i)"), {"i": summary["id"]}).scalar_one() == 1


def test_the_town_imports_for_a_worker_and_another_worker_may_not(database_url, tmp_path, made):
    start = datetime.now(SHANGHAI).replace(hour=15, minute=0, second=0, microsecond=0) - timedelta(days=4)
    path = gpx_file(tmp_path, made, start, seed=22)
    refused = invoke(database_url, "import", str(path), "--worker", "worker001", "--as", "worker002")
    assert refused.exit_code == 1 and "only your own" in refused.stderr
    town = invoke(database_url, "import", str(path), "--worker", "worker001", "--as", "dispatcher1")
    assert town.exit_code == 0, town.output
    assert json.loads(town.stdout.strip().splitlines()[-1])["worker"] == "worker001"


@pytest.mark.parametrize("content", [b"<gpx><trk>", b'<?xml version="1.0"?><gpx version="1.1"></gpx>',
                                     b"not a gpx at all", None])
def test_a_bad_file_exits_1_with_the_reason(database_url, engine, tmp_path, made, content):
    path = tmp_path / "bad.gpx"
    if content is not None:
        path.write_bytes(content)
    with engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM patrols")).scalar_one()
    result = invoke(database_url, "import", str(path), "--worker", "worker001")
    assert result.exit_code == 1, result.output
    assert "无法" in result.stderr and "cannot" in result.stderr and str(path) in result.stderr
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM patrols")).scalar_one() == before


def test_an_unknown_worker_exits_2(database_url, engine, tmp_path, made):
    path = gpx_file(tmp_path, made, datetime.now(SHANGHAI) - timedelta(days=5))
    result = invoke(database_url, "import", str(path), "--worker", "nobody999")
    assert result.exit_code == 2 and "nobody999" in result.stderr
    with engine.connect() as conn:
        department = conn.execute(text("SELECT username FROM accounts WHERE role = 'department' LIMIT 1")).scalar_one()
    not_a_worker = invoke(database_url, "import", str(path), "--worker", department)
    assert not_a_worker.exit_code == 2 and "no grid worker" in not_a_worker.stderr
    unknown_importer = invoke(database_url, "import", str(path), "--worker", "worker001", "--as", "nobody999")
    assert unknown_importer.exit_code == 2


def test_purge_forgets_old_fixes_and_tracks_but_keeps_the_metrics(database_url, engine, tmp_path, made):
    # older than the retention used here, which stays clear of the demo town's patrols
    days = (datetime.now(SHANGHAI) - DEMO_UNTIL).days + 200
    old = datetime.now(SHANGHAI) - timedelta(days=days + 100)
    imported = invoke(database_url, "import", str(gpx_file(tmp_path, made, old, seed=23)), "--worker", "worker001")
    assert imported.exit_code == 0, imported.output
    patrol = json.loads(imported.stdout.strip().splitlines()[-1])
    result = invoke(database_url, "purge", "--days", str(days))
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["retention_days"] == days and summary["fixes_deleted"] >= 100 and summary["tracks_cleared"] >= 1
    assert "删除定位点" in result.stderr and "fixes deleted" in result.stderr
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM gps_fixes WHERE patrol_id = :i"),
                            {"i": patrol["id"]}).scalar_one() == 0
        track, distance = conn.execute(text("SELECT track, distance_m FROM patrols WHERE id = :i"),
                                       {"i": patrol["id"]}).one()
    assert track is None and distance == pytest.approx(patrol["distance_m"], abs=0.1)
    assert invoke(database_url, "purge", "--days", "0").exit_code == 2  # click refuses: at least 1
