"""The grid worker's phone page ``/m/``: report an incident with photos and location, offline-safe."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask_login import login_required

from webmap import database
from webmap.services import features

bp = Blueprint("mobile", __name__, url_prefix="/m")


@bp.route("/")
@login_required
def report():
    config = {
        "categoriesUrl": url_for("api.list_categories"),
        "attachmentsUrl": url_for("api.upload_attachment"),
        "incidentsUrl": url_for("api.create_incident"),
        "gridsUrl": url_for("ogc.items", collection_id="grids", limit=5000),
        "maxPhotos": 9,
        "maxPhotoBytes": 10 * 1024 * 1024,
    }
    return render_template("mobile/report.html", config=config, synthetic=features.is_synthetic(database.session()))
