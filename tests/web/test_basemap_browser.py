"""The offline base map in a real headless Chromium: with WANGGE_BASEMAP set, the town map and the
dispatcher console draw its tiles from /tiles/ under the grids, with its attribution, and no request
leaves 127.0.0.1."""

from urllib.parse import urlsplit

import pytest

from db.demo_town import build_town
from tests.conftest import ARTIFACTS
from webmap.services import basemap

TILES_DRAWN = """() => Array.from(document.querySelectorAll('img.leaflet-tile'))
    .filter((img) => new URL(img.src).pathname.startsWith('/tiles/') && img.complete && img.naturalWidth === 256)
    .length"""


@pytest.fixture(scope="module")
def demo_basemap(tmp_path_factory):
    path = tmp_path_factory.mktemp("basemap") / "demo.mbtiles"
    basemap.build(build_town(), str(path), range(11, 14))
    return path


@pytest.mark.parametrize("where", ["/", "/dispatch"])
def test_map_pages_draw_the_offline_base_map(page, live_server, app, demo_basemap, monkeypatch, where):
    monkeypatch.setitem(app.config, "BASEMAP", str(demo_basemap))
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.goto(f"{live_server}/auth/login")
    page.fill("#username", "dispatcher1")
    page.fill("#password", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/dispatch")
    page.goto(f"{live_server}{where}")
    page.wait_for_function(f"({TILES_DRAWN})() >= 4", timeout=20_000)

    assert page.evaluate(TILES_DRAWN) >= 4
    assert "合成演示底图" in page.locator(".leaflet-control-attribution").inner_text()
    # the tiles lie under the grids: the tile pane below the overlay pane
    z_tiles = page.evaluate("() => +getComputedStyle(document.querySelector('.leaflet-tile-pane')).zIndex")
    z_grids = page.evaluate("() => +getComputedStyle(document.querySelector('.leaflet-overlay-pane')).zIndex")
    assert z_tiles < z_grids
    hosts = {urlsplit(u).hostname for u in requests if not u.startswith(("data:", "blob:"))}
    assert hosts == {"127.0.0.1"}, f"requests left 127.0.0.1: {hosts}"
    assert not errors, errors
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"basemap{where.replace('/', '-')}.png"))
