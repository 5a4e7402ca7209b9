"""The hotspot analysis page ``/analysis`` (热点分析) in headless Chromium, and its PNG export
``GET /api/v1/hotspots/png`` through the Flask client: the analysis of the demo town's year draws
its hot cells, ranks them with their grids, narrows with a category, exports GeoJSON, GeoPackage
and PNG; a grid worker is refused; no request leaves 127.0.0.1."""

from __future__ import annotations

import json
import re
import struct
from urllib.parse import urlsplit

import pytest

from tests.conftest import ARTIFACTS, bearer, login

SINCE = "2025-11-20"  # the demo town's year of cases ends on 2026-11-20
UNTIL = "2026-11-20"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SUMMARY = re.compile(r"([\d,]+) 件案件, ([\d,]+) 个热点单元, ([\d,]+) 个冷点单元")
HOT_PATHS = "path.cell.hot-99, path.cell.hot-95, path.cell.hot-90"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk."""
    assert data[:8] == PNG_MAGIC and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def summary(page) -> tuple[int, int, int]:
    found = SUMMARY.search(page.locator("#a-summary").inner_text())
    assert found, page.locator("#a-summary").inner_text()
    return tuple(int(g.replace(",", "")) for g in found.groups())


def sign_in(page, live_server, username, next_path="/analysis"):
    page.goto(f"{live_server}/auth/login?next={next_path}")
    page.fill("#username", username)
    page.fill("#password", "demo")
    with page.expect_navigation():
        page.click("button[type=submit]")


def analyse(page, runs_before: int):
    page.click("#a-run")
    page.wait_for_function(f"Number(document.body.dataset.runs || 0) > {runs_before} && !document.body.dataset.loading",
                           timeout=30_000)


def test_analyse_rank_narrow_and_export(page, live_server, tmp_path):
    import geopandas as gpd

    requests_seen, errors = [], []
    page.on("request", lambda r: requests_seen.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_viewport_size({"width": 1400, "height": 900})
    sign_in(page, live_server, "dispatcher1")
    page.wait_for_selector("body[data-map-ready='1'][data-runs='1']", timeout=30_000)  # the default run
    assert page.locator("nav a", has_text="热点分析").count() == 1
    assert page.input_value("#a-resolution") == "9" and page.input_value("#a-method") == "gi"

    page.fill("#a-since", SINCE)
    page.fill("#a-until", UNTIL)
    analyse(page, 1)
    cases, hot, cold = summary(page)
    assert cases > 1000 and hot > 0
    # the hot cells are drawn in the legend's colours, one path per hot cell of the summary
    assert page.locator(HOT_PATHS).count() == hot
    assert page.locator("path.cell.hot-99").first.get_attribute("fill") == "#b2182b"
    legend = page.locator("#a-legend").inner_text()
    assert all(w in legend for w in ("热点 99%", "热点 95%", "热点 90%", "冷点 99%", "不显著", "经FDR校正"))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "analysis.png"))

    # the ranking names the grids (15-digit codes) and villages; a click zooms to the cell
    rows = page.locator("#a-top tbody tr[data-h3]")
    assert rows.count() > 0
    first = rows.first.inner_text()
    assert re.search(r"\b\d{15}\b", first) and ("村" in first or "社区" in first), first
    assert rows.first.locator("td").nth(1).inner_text().startswith("热点")
    zoom = float(page.evaluate("document.body.dataset.zoom"))
    rows.first.click()
    page.wait_for_function(f"Number(document.body.dataset.zoom) > {zoom}", timeout=10_000)
    page.wait_for_selector(".leaflet-popup-content")
    popup = page.locator(".leaflet-popup-content").inner_text()
    assert "经FDR校正" in popup and "热点" in popup and "案件数" in popup

    # the heat map layer, fetched when switched on
    page.locator(".leaflet-control-layers label", has_text="热力图").locator("input").check()
    page.wait_for_function("Number(document.body.dataset.heatPoints || 0) > 0", timeout=10_000)

    # exports: the answer itself as GeoJSON, the GeoPackage and the PNG from the server
    with page.expect_download() as download:
        page.click("#a-geojson")
    body = json.loads(download.value.path().read_text(encoding="utf-8"))
    assert body["type"] == "FeatureCollection" and body["cases"] == cases and body["hot"] == hot
    assert len(body["features"]) == page.locator("path.cell").count()
    assert download.value.suggested_filename == "hotspots_20251120_20261120.geojson"

    gpkg = page.request.get(live_server + page.get_attribute("#a-gpkg", "href"))
    assert gpkg.ok and gpkg.headers["content-type"] == "application/geopackage+sqlite3"
    (tmp_path / "h.gpkg").write_bytes(gpkg.body())
    frame = gpd.read_file(tmp_path / "h.gpkg", layer="hotspots")
    assert len(frame) > 0 and {"h3", "count", "gi_z", "p_fdr", "class"} <= set(frame.columns)
    assert (frame["class"].str.startswith("hot")).sum() == hot

    png = page.request.get(live_server + page.get_attribute("#a-png", "href"))
    assert png.ok and png.headers["content-type"] == "image/png"
    assert png_size(png.body()) == (1200, 900)

    # one category: fewer cases, named in the detail line
    page.select_option("#a-categories", ["JM01"])
    analyse(page, 2)
    fewer, _hot, _cold = summary(page)
    assert 0 < fewer < cases
    assert "JM01" not in page.locator("#a-detail").inner_text()  # the name, not the code
    assert "至" in page.locator("#a-detail").inner_text()

    hosts = {urlsplit(u).hostname for u in requests_seen if not u.startswith(("data:", "blob:"))}
    assert hosts == {"127.0.0.1"}, hosts
    assert not errors, errors


def test_local_moran_colours_its_clusters(page, live_server):
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, live_server, "dispatcher1")
    page.wait_for_selector("body[data-runs='1']", timeout=30_000)
    page.fill("#a-since", SINCE)
    page.fill("#a-until", UNTIL)
    page.select_option("#a-method", "moran")
    analyse(page, 1)
    _cases, hot, _cold = summary(page)
    assert hot > 0 and page.locator(HOT_PATHS).count() == hot
    assert page.locator("#a-legend li[data-class='hl']").is_visible()
    assert "未经FDR校正" in page.locator("#a-legend-note").inner_text()
    assert page.locator("#a-top tbody tr[data-h3]").count() > 0  # the ranking stays Gi*'s
    assert not errors, errors


def test_a_grid_worker_is_refused(page, live_server):
    sign_in(page, live_server, "worker001", next_path="/")
    assert page.locator("nav a", has_text="热点分析").count() == 0
    response = page.goto(f"{live_server}/analysis")
    assert response.status == 403
    assert "无权查看热点分析" in page.locator("main").inner_text()


# ---------------------------------------------------------------- Flask client


def test_png_export(client):
    response = client.get("/api/v1/hotspots/png", headers=bearer(client, "dispatcher1"),
                          query_string={"since": SINCE, "until": UNTIL, "categories": "JM01,SR01", "resolution": 8})
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert png_size(response.data) == (1200, 900)
    assert 20_000 < len(response.data) < 2_000_000


def test_png_for_local_moran(client):
    response = client.get("/api/v1/hotspots/png", headers=bearer(client, "dispatcher1"),
                          query_string={"since": SINCE, "until": UNTIL, "method": "moran"})
    assert response.status_code == 200 and png_size(response.data) == (1200, 900)


def test_png_is_refused_to_a_grid_worker(client):
    response = client.get("/api/v1/hotspots/png", headers=bearer(client, "worker001"),
                          query_string={"since": SINCE, "until": UNTIL})
    assert response.status_code == 403 and response.get_json()["message_zh"]


@pytest.mark.parametrize("params", [{"method": "kde"}, {"resolution": 12}, {"categories": "A;B"},
                                    {"since": "2026-06-01", "until": "2026-01-01"}, {"since": "yesterday"},
                                    {"colour": "red"}])
def test_png_bad_parameters_get_reasons(client, params):
    response = client.get("/api/v1/hotspots/png", headers=bearer(client, "dispatcher1"), query_string=params)
    assert response.status_code == 400 and response.get_json()["message_zh"]


def test_the_page_and_its_menu_link(client):
    login(client, "dispatcher1")
    page = client.get("/analysis")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'href="/analysis"' in html and "/api/v1/hotspots/png" in html and "导出 GeoPackage" in html
    english = client.get("/analysis?lang=en").get_data(as_text=True)
    assert "Hotspot 99%<" in english and "Export GeoPackage" in english and "Hotspot analysis" in english
    client.post("/auth/logout")
    login(client, "worker001")
    refused = client.get("/analysis?lang=zh")  # the English choice above is remembered
    assert refused.status_code == 403
    html = refused.get_data(as_text=True)
    assert "无权查看热点分析" in html and 'href="/analysis"' not in html  # a clear refusal, no menu link
