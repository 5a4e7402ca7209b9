"""Hotspot analysis (热点分析): ``GET /api/v1/hotspots`` and the page ``/analysis``.

``GET /api/v1/hotspots?since&until&categories=A,B&method=gi|moran&resolution=6..9`` (default: the
last 12 months, all categories, Gi* on H3 cells of resolution 9) → a GeoJSON FeatureCollection of
the cells of the reader's area with cases or a class, each with ``count``, ``gi_z``, ``p_fdr`` and ``class`` (hot-99,
hot-95, hot-90, cold-…, none; with ``method=moran`` the class comes from local Moran's I — high-high
hot, low-low cold, by its permutation p-value — and ``moran_i``, ``moran_p``, ``moran_q`` are added);
``format=gpkg`` gives the same as a GeoPackage. ``GET
/api/v1/hotspots/top`` lists the hottest cells with the grids and villages they fall in; ``GET
/api/v1/hotspots/png`` draws the classed cells over the grids as a 1200×900 PNG. The page
``/analysis`` is for the roles with ``read_hotspots`` (:mod:`workflow.roles`); the others get a 403 page.
"""

from __future__ import annotations

import tempfile
from io import BytesIO
from pathlib import Path

from flask import Blueprint, jsonify, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from webmap import database, tiles
from webmap.params import moment_arg
from webmap.services import hotspots as service
from webmap.services.errors import ForbiddenError

bp = Blueprint("hotspots", __name__)


def _query() -> service.Query:
    return service.parse(request.args, moment_arg("since"), moment_arg("until"))


@bp.get("/api/v1/hotspots")
@login_required
def hotspots():
    q = _query()
    if (request.args.get("format") or "geojson") == "gpkg":
        frame = service.cells(database.session(), current_user, q)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "hotspots.gpkg"
            frame.to_file(path, layer="hotspots", driver="GPKG")
            data = path.read_bytes()
        return send_file(BytesIO(data), mimetype="application/geopackage+sqlite3", as_attachment=True,
                         download_name=f"hotspots_{q.since:%Y%m%d}_{q.until:%Y%m%d}.gpkg")
    return jsonify(service.hotspots(database.session(), current_user, q))


@bp.get("/api/v1/hotspots/top")
@login_required
def top():
    return jsonify({"items": service.top(database.session(), current_user, _query())})


@bp.get("/api/v1/hotspots/png")
@login_required
def png():
    q = _query()
    data = service.png(database.session(), current_user, q)
    return send_file(BytesIO(data), mimetype="image/png",
                     download_name=f"hotspots_{q.since:%Y%m%d}_{q.until:%Y%m%d}.png")


@bp.get("/analysis")
@login_required
def page():
    if not current_user.can("read_hotspots"):
        raise ForbiddenError("无权查看热点分析", "no access to the hotspot analysis")
    return render_template("pages/analysis.html", config={
        "hotspotsUrl": url_for("hotspots.hotspots"), "topUrl": url_for("hotspots.top"),
        "pngUrl": url_for("hotspots.png"),
        "categoriesUrl": url_for("api.list_categories"),
        "villagesUrl": url_for("ogc.items", collection_id="villages", limit=1000),
        "gridsUrl": url_for("ogc.items", collection_id="grids", limit=5000),
        "heatUrl": url_for("mapdata.heat"),
        **tiles.page_config(),
    })
