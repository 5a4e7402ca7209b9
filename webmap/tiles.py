"""The offline base map: ``/tiles/{z}/{x}/{y}.png`` from the archive of ``WANGGE_BASEMAP`` (an
MBTiles or PMTiles file of raster tiles), and the base layer every map page draws under the grids.

The setting is read per request (``app.config["BASEMAP"]``), so a test or an administrator's change
of the config takes effect without a restart. With a base map set, the pages draw it, with its
attribution; otherwise they draw ``WANGGE_TILE_URL`` (a tile server of the intranet) when set, and
nothing under the grids when neither is.

Tiles are public (grid boards are read by residents who do not sign in) and cached by browsers:
``Cache-Control: public, max-age=…`` and a strong ETag (a hash of the tile), 304 when it matches.
"""

from __future__ import annotations

import hashlib
import logging

from flask import Blueprint, Response, current_app, request

from webmap.services import tiles

bp = Blueprint("tiles", __name__)
log = logging.getLogger(__name__)

MAX_AGE = 7 * 24 * 3600  # a week: a base map changes when it is rebuilt, and the ETag tells then
TILE_PATH = "/tiles/{z}/{x}/{y}.png"


def _plain(status: int, zh: str, en: str) -> Response:
    return Response(f"{zh} / {en}\n", status=status, mimetype="text/plain")


def archive():
    """The configured archive, or None (none set, or the file cannot be read: logged once per call)."""
    path = current_app.config.get("BASEMAP") or ""
    if not path:
        return None
    try:
        return tiles.cached_archive(path)
    except tiles.TileError as exc:
        log.warning("%s", exc)
        return None


def page_config() -> dict:
    """The base layer's part of a map page's config: ``tileUrl`` (Leaflet's URL template, or ""),
    ``tileAttribution`` and ``tileMaxNativeZoom`` (beyond it Leaflet enlarges the last tiles)."""
    source = archive()
    if source is not None:
        info = source.info()
        return {"tileUrl": request.script_root + TILE_PATH, "tileAttribution": info["attribution"],
                "tileMinNativeZoom": info["minzoom"], "tileMaxNativeZoom": info["maxzoom"]}
    return {"tileUrl": current_app.config.get("TILE_URL") or "", "tileAttribution": "",
            "tileMinNativeZoom": 0, "tileMaxNativeZoom": 19}


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) <= 8 else None


@bp.route("/tiles/<z>/<x>/<name>")
def tile(z: str, x: str, name: str):
    y_text, _, ext = name.partition(".")
    zi, xi, yi = _int(z), _int(x), _int(y_text)
    if zi is None or xi is None or yi is None or ext not in tiles.CONTENT_TYPES or not tiles.valid_tile(zi, xi, yi):
        return _plain(400, "瓦片地址有误, 应为 /tiles/{z}/{x}/{y}.png", "bad tile address, want /tiles/{z}/{x}/{y}.png")
    source = archive()
    if source is None:
        return _plain(404, "未设置底图", "no base map set (WANGGE_BASEMAP)")
    data = source.tile(zi, xi, yi)
    if data is None:
        response = _plain(404, "无此瓦片", "no such tile")
        response.headers["Cache-Control"] = "public, max-age=3600"  # an hour: a rebuilt map may cover more
        return response
    response = Response(data, mimetype=tiles.CONTENT_TYPES[source.format])
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    response.set_etag(hashlib.blake2b(data, digest_size=12).hexdigest())
    return response.make_conditional(request)
