"""/tiles/{z}/{x}/{y}.png from WANGGE_BASEMAP (app.config["BASEMAP"], read per request), and the map
pages' base layer."""

import re

import pytest

from db.demo_town import build_town
from tests.conftest import login
from webmap.services import basemap, tiles


@pytest.fixture(scope="session")
def demo_basemap(tmp_path_factory):
    """The demo town's base map at zooms 11–13 (a few seconds)."""
    path = tmp_path_factory.mktemp("basemap") / "demo.mbtiles"
    basemap.build(build_town(), str(path), range(11, 14))
    return path


@pytest.fixture
def with_basemap(app, demo_basemap, monkeypatch):
    monkeypatch.setitem(app.config, "BASEMAP", str(demo_basemap))
    return tiles.MBTiles.open(demo_basemap)


def a_tile(archive) -> tuple[int, int, int]:
    z, x, row = archive._connection().execute(
        "SELECT zoom_level, tile_column, tile_row FROM tiles WHERE zoom_level = 13 LIMIT 1").fetchone()
    return z, x, tiles.tms_row(z, row)


def test_a_tile_is_a_png_cached_by_the_browser(client, with_basemap):
    z, x, y = a_tile(with_basemap)
    response = client.get(f"/tiles/{z}/{x}/{y}.png")  # no login: grid boards are public
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.data.startswith(b"\x89PNG")
    assert re.fullmatch(r"public, max-age=\d{5,}", response.headers["Cache-Control"])
    etag = response.headers["ETag"]
    again = client.get(f"/tiles/{z}/{x}/{y}.png", headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.data


def test_missing_tiles_404_and_bad_addresses_400(client, with_basemap):
    assert client.get("/tiles/13/0/0.png").status_code == 404  # in the world, not in the file
    assert client.get("/tiles/9/0/0.png").status_code == 404
    for bad in ("/tiles/a/1/1.png", "/tiles/3/8/0.png", "/tiles/3/0/8.png", "/tiles/1/0/0.gif",
                "/tiles/-1/0/0.png", "/tiles/99/0/0.png", "/tiles/1/0/0"):
        response = client.get(bad)
        assert response.status_code == 400, bad
        assert "瓦片地址有误" in response.get_data(as_text=True)


def test_without_a_base_map_no_tiles_and_pages_draw_none(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "BASEMAP", "")
    monkeypatch.setitem(app.config, "TILE_URL", "")
    assert client.get("/tiles/13/6776/3104.png").status_code == 404
    login(client, "dispatcher1")
    assert '"tileUrl": ""' in client.get("/dispatch").get_data(as_text=True)


def test_every_map_page_takes_the_base_map(client, with_basemap, monkeypatch, app):
    monkeypatch.setitem(app.config, "TILE_URL", "http://tiles.example.invalid/{z}/{x}/{y}.png")  # the base map wins
    login(client, "admin")
    pages = ["/", "/dispatch", "/planner", "/analysis", "/patrols", "/hotline", "/m/", "/m/cases"]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        html = response.get_data(as_text=True)
        assert '"tileUrl": "/tiles/{z}/{x}/{y}.png"' in html, page
        assert "合成演示底图" in html, page  # the attribution


def test_a_grid_board_draws_the_base_map_within_its_policy(client, with_basemap, connection):
    from sqlalchemy import text

    code = connection.execute(text("SELECT code FROM grids WHERE valid_to IS NULL LIMIT 1")).scalar()
    response = client.get(f"/grids/{code}")
    assert response.status_code == 200
    assert '"tileUrl": "/tiles/{z}/{x}/{y}.png"' in response.get_data(as_text=True)
    assert "img-src 'self' data:;" in response.headers["Content-Security-Policy"]  # same origin: nothing opened up
