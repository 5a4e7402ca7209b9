"""The grid worker's phone pages: ``/m/`` reports an incident with photos and location, offline-safe;
``/m/patrol`` signs in and out (签到考勤) and records a patrol (巡查) from the phone's GPS."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask_login import current_user, login_required

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


@bp.route("/patrol")
@login_required
def patrol():
    """签到 / 签退 with the phone's position; 开始巡查 / 结束巡查 recording the GPS fixes, kept on the
    phone (IndexedDB) until the server has them; a GPX file as the fallback."""
    config = {
        "patrolsUrl": url_for("patrols.start"),  # + "/" + id + "/fixes" | "/stop"
        "gpxUrl": url_for("patrols.gpx"),
        "attendanceUrl": url_for("attendance.sign"),
        "reportUrl": url_for("mobile.report"),
        "batchSeconds": 30,  # a batch of fixes goes every 30 s, or at 60 fixes
        "batchFixes": 60,
        "maxBatch": 500,
        "username": current_user.username,
    }
    return render_template("mobile/patrol.html", config=config, synthetic=features.is_synthetic(database.session()))
