"""Real clients that we did not write read the grids: OWSLib and GDAL's OAPIF driver."""

import shutil
import subprocess

import pytest


def test_owslib_reads_the_grids(live_server):
    from owslib.ogcapi.features import Features

    api = Features(f"{live_server}/ogc/")
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in api.conformance()["conformsTo"]
    ids = [c["id"] for c in api.collections()["collections"]]
    assert "grids" in ids
    items = api.collection_items("grids", limit=500)
    assert items["numberReturned"] >= 70
    codes = {f["properties"]["code"] for f in items["features"]}
    assert all(len(c) == 15 for c in codes)
    one = api.collection_item("grids", sorted(codes)[0])
    assert one["properties"]["worker"]


@pytest.fixture(scope="module")
def ogrinfo():
    path = shutil.which("ogrinfo")
    if not path:
        pytest.fail("GDAL's ogrinfo is not installed: make test installs gdal-bin")
    return path


def test_gdal_oapif_lists_layers_and_grids(live_server, ogrinfo):
    env = {"GDAL_HTTP_TIMEOUT": "30", "CPL_DEBUG": "OFF", "PATH": "/usr/bin:/bin"}
    layers = subprocess.run([ogrinfo, "-ro", "-q", f"OAPIF:{live_server}/ogc/"], capture_output=True,
                            text=True, timeout=120, env=env)
    assert layers.returncode == 0, layers.stderr
    assert "grids" in layers.stdout and "villages" in layers.stdout
    summary = subprocess.run([ogrinfo, "-ro", "-so", "-al", f"OAPIF:{live_server}/ogc/collections/grids"],
                             capture_output=True, text=True, timeout=120, env=env)
    assert summary.returncode == 0, summary.stderr
    count = int(summary.stdout.split("Feature Count:")[1].split()[0])
    assert count >= 70
    assert "Multi Polygon" in summary.stdout
    features = subprocess.run([ogrinfo, "-ro", "-al", "-q", f"OAPIF:{live_server}/ogc/collections/grids",
                               "-where", "code LIKE '%001'"], capture_output=True, text=True, timeout=120, env=env)
    assert features.returncode == 0, features.stderr
    assert features.stdout.count("OGRFeature") == 20  # grid 001 of each of the 20 villages
