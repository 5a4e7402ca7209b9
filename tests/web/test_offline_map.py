"""The analysts' offline map (issue 17 item 4): db.analyst.offline_map's page, opened from a file in
Chromium with the network recorded, asks for nothing beyond the file itself; with a local base map
set, tiles come only from it; a click on a hot cell lists its cases."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import h3
import pytest

from db.analyst import load_cases, load_grids, offline_map
from spatial import hotspots
from tests.web.desk import watch

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082")


@pytest.fixture(scope="module")
def layers(engine):
    cases, grids = load_cases(engine), load_grids(engine)
    lng, lat = cases.geometry.x.to_numpy(), cases.geometry.y.to_numpy()
    gi = hotspots.getis_ord(hotspots.hex_counts(lng, lat, resolution=9, area=grids.dissolve().geometry.iloc[0]))
    return {"grids": grids, "gi": gi, "kde": hotspots.kde(lng, lat, bandwidth_m=300, cell_m=50), "cases": cases}


def _open(browser, path):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    seen, errors = watch(page)
    page.goto(path.as_uri())
    page.wait_for_selector("path.leaflet-interactive", state="attached", timeout=20_000)
    return page, seen, errors


def test_the_offline_map_fetches_nothing_and_lists_a_cells_cases(browser, tmp_path, layers):
    m = offline_map(layers["grids"], gi=layers["gi"], kde=layers["kde"], cases=layers["cases"])
    path = tmp_path / "map.html"
    m.save(str(path))
    page_text = path.read_text(encoding="utf-8")
    assert "<script src=" not in page_text and 'rel="stylesheet"' not in page_text
    page, seen, errors = _open(browser, path)
    try:
        assert page.evaluate("typeof L") == "object" and not errors
        assert page.locator("img.leaflet-image-layer").count() == 1  # the KDE surface
        assert page.locator(".leaflet-tile").count() == 0  # no base map unless one is given
        # the hottest cell, clicked at its centre, lists its newest case
        gi, cases = layers["gi"], layers["cases"]
        hottest = gi.sort_values("gi_z", ascending=False).iloc[0]
        mine = cases[[h3.latlng_to_cell(y, x, 9) == hottest["h3"] for x, y in zip(cases.geometry.x, cases.geometry.y,
                                                                                   strict=True)]]
        newest = mine.sort_values("reported_at").iloc[-1].case_no
        lat, lng = h3.cell_to_latlng(hottest["h3"])
        name = m.get_name()
        page.evaluate(f"{name}.setView([{lat}, {lng}], 16)")
        page.wait_for_timeout(300)
        point = page.evaluate(f"(() => {{ const p = {name}.latLngToContainerPoint([{lat}, {lng}]); "
                              f"const r = document.getElementById('{name}').getBoundingClientRect(); "
                              "return [r.left + p.x, r.top + p.y]; })()")
        page.mouse.click(*point)
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for(timeout=5_000)
        assert newest in popup.inner_text() and hottest["h3"] in popup.inner_text()
        assert {u.split(":", 1)[0] for u in seen} <= {"file", "data", "blob"}, sorted(set(seen))[:5]
    finally:
        page.close()


class _Tiles(BaseHTTPRequestHandler):
    asked: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        type(self).asked.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(PNG)))
        self.end_headers()
        self.wfile.write(PNG)

    def log_message(self, *_args):
        pass


def test_with_a_local_base_map_tiles_come_only_from_it(browser, tmp_path, layers):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Tiles)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        m = offline_map(layers["grids"], basemap_url=base + "/tiles/{z}/{x}/{y}.png")
        path = tmp_path / "tiles.html"
        m.save(str(path))
        page, seen, errors = _open(browser, path)
        try:
            page.wait_for_selector(".leaflet-tile-loaded", timeout=10_000)
            assert not errors
            remote = [u for u in seen if not u.startswith(("file:", "data:", "blob:"))]
            assert remote and all(u.startswith(base + "/tiles/") for u in remote), remote[:5]
            assert _Tiles.asked and all(p.startswith("/tiles/") for p in _Tiles.asked)
        finally:
            page.close()
    finally:
        server.shutdown()
