"""Benchmark: the dispatcher console page in headless Chromium at 1M incidents, next to a generic
OGC API Features client on tipg.

Reuses bench/dispatch_viewport.py's scratch database (``--reuse`` keeps it when it has N
incidents) and starts our app (waitress) and tipg (uvicorn) on it. One Chromium (Debian's, through
playwright), one browser context logged in once as dispatcher1; each run opens a new page with the
HTTP cache off (tipg answers ``max-age=3600``: a browser would otherwise reuse its items):

- ours: ``/dispatch`` — time from ``page.goto`` to ``body[data-map-ready='1']`` (the first open
  cases or aggregates and the list drawn, the console's default filter), then a zoom of 1.5
  levels, town → village (zoom 12.5 → 14: one 120-px wheel over the map centre), until the new
  view is drawn (``data-loading`` gone; Leaflet's 40 ms wheel debounce and 250 ms zoom animation
  included);
- the peer: a minimal Leaflet page (our vendored Leaflet, served from our app; its map the size of
  ours) doing what a generic OGC API Features client does: ``GET {tipg}/collections/
  public.incidents/items?bbox=<town>&limit=10000`` (tipg's maximum) drawn as ``L.geoJSON`` circle
  markers, refetched for the map's bbox after the same zoom. It shows at most 10,000 of the
  points, of any state; ours shows every open case, aggregated per grid or hex bin when zoomed out.

Both pages run alternately in the same run, ``-n`` times each after one discarded warm-up load.
Counted from Chromium's network events: requests (ours include the live stream), decoded bytes
and bytes on the wire (tipg compresses its answers, we do not).

    python bench/dispatch_page.py [--incidents 1000000] [--reuse] [-n 10]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# bench/ is sys.path[0] when this file is run
from dispatch_viewport import ROOT, TIPG_MAX, database, start_servers, wait_up
from playwright.sync_api import sync_playwright
from sqlalchemy import create_engine, text

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync", "--disable-quic"]  # as tests/conftest.py
VIEWPORT = {"width": 1280, "height": 800}
READY = "body[data-map-ready='1']:not([data-loading])"
WHEEL_PX = 120  # Leaflet 1.9.4: a 120-px wheel zooms in by 1.5 levels (zoomSnap 0.5): 12.5 → 14

PEER_HTML = """<!doctype html><html><head><meta charset="utf-8"><title>OGC API Features client</title>
<link rel="stylesheet" href="{ours}/static/vendor/leaflet/1.9.4/leaflet.css">
<script src="{ours}/static/vendor/leaflet/1.9.4/leaflet.js"></script>
<style>body {{ margin: 0 }} #map {{ position: absolute; {box} }}</style></head>
<body><div id="map"></div><script>
const items = "{tipg}/collections/public.incidents/items?limit={limit}&bbox=";
const map = L.map("map", {{ zoomSnap: 0.5 }});  // as the console, so that both show the same views
const layer = L.geoJSON(null, {{ pointToLayer: (f, ll) => L.circleMarker(ll, {{ radius: 4, weight: 1 }}) }})
  .addTo(map);
let seq = 0;
async function show(bbox) {{
  const mine = ++seq;
  document.body.dataset.loading = "1";
  const fc = await (await fetch(items + bbox)).json();
  if (mine !== seq) return;
  layer.clearLayers();
  layer.addData(fc);
  document.body.dataset.features = String(fc.features.length);
  document.body.dataset.mapReady = "1";
  delete document.body.dataset.loading;
}}
map.fitBounds([[{s}, {w}], [{n}, {e}]]);
show("{bbox}");
map.on("moveend", () => {{ if (seq) show(map.getBounds().toBBoxString()); }});
</script></body></html>"""


def serve_html(html: str) -> tuple[ThreadingHTTPServer, str]:
    class Page(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            if self.path != "/":
                self.send_error(404)  # favicon.ico
                return
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def town_bbox(url: str) -> tuple[float, float, float, float]:
    engine = create_engine(url)
    with engine.connect() as conn:
        box = conn.execute(text("SELECT ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) "
                                "FROM areas WHERE level = 'town'")).one()
    engine.dispose()
    return tuple(box)


def zoom_of(urls: list[str], key: str) -> str | None:
    """The zoom (ours) or bbox asked for by the last data request."""
    for url in reversed(urls):
        query = parse_qs(urlsplit(url).query)
        if key in query and ("/map/cases" in url or "/items" in url):
            return query[key][0]
    return None


def one_run(context, url: str) -> dict:
    """One page: load, then zoom in. Counted from Chromium's network events (CDP): requests,
    decoded body bytes (``response.body()`` cannot return tipg's 11 MB) and bytes on the wire."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})  # tipg says max-age=3600
    urls: list[str] = []
    got = {"bytes": 0, "wire_bytes": 0}
    cdp.on("Network.requestWillBeSent",
           lambda e: None if e["request"]["url"].startswith("data:") else urls.append(e["request"]["url"]))
    cdp.on("Network.dataReceived", lambda e: got.__setitem__("bytes", got["bytes"] + e["dataLength"]))
    cdp.on("Network.loadingFinished",
           lambda e: got.__setitem__("wire_bytes", got["wire_bytes"] + e["encodedDataLength"]))

    def step(ms: float, key: str) -> dict:
        out = {"ms": ms, "requests": len(urls), **got, key: zoom_of(urls, key)}
        urls.clear()
        got.update(bytes=0, wire_bytes=0)
        return out

    started = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.wait_for_selector(READY, state="attached", timeout=180_000)
    load = step((time.perf_counter() - started) * 1000, "zoom")
    box = page.locator("#map").bounding_box()
    page.evaluate("delete document.body.dataset.mapReady")
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    started = time.perf_counter()
    page.mouse.wheel(0, -WHEEL_PX)
    page.wait_for_selector(READY, state="attached", timeout=180_000)
    village = step((time.perf_counter() - started) * 1000, "bbox")
    village["markers"], village["shown"] = page.evaluate(
        "[document.querySelectorAll('.agg, path.leaflet-interactive').length, "
        "document.getElementById('d-count')?.textContent || document.body.dataset.features]")
    page.close()
    return {"load": load, "village": village, "box": box}


def summary(runs: list[dict], step: str) -> dict:
    ms = sorted(r[step]["ms"] for r in runs)
    most = {k: max(r[step][k] for r in runs) for k in ("requests", "bytes", "wire_bytes")}
    return {"p50_ms": round(statistics.median(ms), 1), "p95_ms": round(ms[max(0, int(0.95 * len(ms)) - 1)], 1),
            **{k: v for k, v in runs[-1][step].items() if k != "ms"}, **most}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="keep the scratch database if it has N incidents")
    parser.add_argument("-n", type=int, default=10, help="page loads per page")
    parser.add_argument("--threads", type=int, default=32,
                        help="waitress threads (each page's live stream holds one until its next heartbeat)")
    args = parser.parse_args()
    os.environ.setdefault("WANGGE_HOME", str(ROOT))
    url = database(args.incidents, args.reuse)
    w, s, e, n = town_bbox(url)

    procs, ours, tipg = start_servers(url, args.threads, env={"WANGGE_TILE_URL": ""})  # no tiles
    results: dict = {"incidents": args.incidents, "runs_per_page": args.n, "machine_cores": os.cpu_count(),
                     "same_run": True, "town_bbox": [w, s, e, n]}
    html_server = None
    try:
        wait_up(f"{ours}/healthz")
        wait_up(f"{tipg}/collections")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            context = browser.new_context(viewport=VIEWPORT)
            login = context.new_page()
            login.goto(f"{ours}/auth/login?next=/dispatch")
            login.fill("#username", "dispatcher1")
            login.fill("#password", "demo")
            login.click("button[type=submit]")
            login.wait_for_selector(READY, timeout=180_000)
            login.close()
            b = one_run(context, f"{ours}/dispatch")["box"]  # warm-up; its map box sizes the peer's
            html = PEER_HTML.format(ours=ours, tipg=tipg, limit=TIPG_MAX, s=s, w=w, n=n, e=e,
                                    bbox=f"{w:.6f},{s:.6f},{e:.6f},{n:.6f}",
                                    box=f"left: {b['x']}px; top: {b['y']}px; width: {b['width']}px; "
                                        f"height: {b['height']}px")
            html_server, peer_url = serve_html(html)
            one_run(context, peer_url)  # warm-up
            runs: dict[str, list] = {"ours": [], "peer": []}
            for _ in range(args.n):
                runs["ours"].append(one_run(context, f"{ours}/dispatch"))
                runs["peer"].append(one_run(context, peer_url))
            browser.close()
        for name in runs:
            results[name] = {step: summary(runs[name], step) for step in ("load", "village")}
    finally:
        if html_server:
            html_server.shutdown()
        for p in procs:
            p.terminate()
            p.wait(10)
    print(json.dumps(results, ensure_ascii=False, indent=1))
    print(f"\n{args.incidents:,} incidents; both pages measured alternately in the same run, same Chromium, "
          f"{args.n} loads each, HTTP cache off (p50 / p95 ms; KB decoded / on the wire, the most of a run)")
    print("ours: every open case, aggregated per grid or hex bin when zoomed out; "
          f"peer: tipg items, at most {TIPG_MAX:,} of the points (its maximum)")
    print(f"{'page':5} {'metric':8} {'p50':>8} {'p95':>8} {'KB':>9} {'wire KB':>9} {'requests':>8}")
    for name in ("ours", "peer"):
        for step in ("load", "village"):
            r = results[name][step]
            print(f"{name:5} {step:8} {r['p50_ms']:8.1f} {r['p95_ms']:8.1f} {r['bytes'] / 1024:9.1f} "
                  f"{r['wire_bytes'] / 1024:9.1f} {r['requests']:8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
