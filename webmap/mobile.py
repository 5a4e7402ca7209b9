"""The grid worker's phone pages: ``/m/`` reports an incident with photos and location, offline-safe;
``/m/patrol`` signs in and out (签到考勤) and records a patrol (巡查) from the phone's GPS;
``/m/cases`` (and ``/m/cases/<id>``, the same page opened on one case) lists what awaits the worker
or leader and their grid's or village's cases, and takes the actions open to them, with photos,
queued on the phone when offline. ``/m/sw.js`` is the service worker (scope ``/m/``) that keeps
these pages, their scripts and the last synced data for a phone without signal, and
``/m/manifest.webmanifest`` makes them installable on the home screen (网格通)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from flask import Blueprint, current_app, g, jsonify, render_template, url_for
from flask_login import current_user, login_required

from webmap import database, tiles
from webmap.services import features
from workflow import leave as leave_rules
from workflow.clock import shanghai_now

bp = Blueprint("mobile", __name__, url_prefix="/m")

# The phone pages' own files, kept by the service worker (paths under static/)
PHONE_STATIC = (
    "css/app.css", "css/mobile.css", "css/patrols.css", "img/favicon.svg", "img/icon-192.png", "img/icon-512.png",
    "js/common.js", "js/phone_queue.js", "js/mobile.js", "js/mobile_patrol.js", "js/mobile_cases.js",
    "js/mobile_install.js", "vendor/leaflet/1.9.4/leaflet.css", "vendor/leaflet/1.9.4/leaflet.js",
    "js/mobile_visits.js",
)
SW_SOURCE = "js/mobile_sw.js"


def _grids_url() -> str:
    return url_for("ogc.items", collection_id="grids", limit=5000)


def _page(template: str, config: dict):
    return render_template(template, config=config, synthetic=features.is_synthetic(database.session()))


@bp.route("/")
@login_required
def report():
    config = {
        "categoriesUrl": url_for("api.list_categories"),
        "attachmentsUrl": url_for("api.upload_attachment"),
        "incidentsUrl": url_for("api.create_incident"),
        "gridsUrl": _grids_url(),
        "maxPhotos": 9,
        "maxPhotoBytes": 10 * 1024 * 1024,
        **tiles.page_config(),
        "username": current_user.username,  # the phone's outbox sends only this account's reports
    }
    return _page("mobile/report.html", config)


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
    return _page("mobile/patrol.html", config)


@bp.route("/leave")
@login_required
def leave():
    """请假: a worker asks for leave and reports back (销假); a village leader (and the town's centre)
    approves or refuses what awaits them."""
    config = {"leaveUrl": url_for("leave.ask"), "role": current_user.role, "today": shanghai_now().date().isoformat(),
              "kinds": list(leave_rules.KINDS), "leaderDays": leave_rules.LEADER_DAYS}
    return _page("mobile/leave.html", config)


@bp.route("/cases")
@bp.route("/cases/<int:incident_id>")
@login_required
def cases(incident_id: int | None = None):
    """待办 first, then the grid's (a leader: the village's) cases by state; a case opens as a card
    with its photos, map, deadline and timeline and the actions open to the user. The card reads
    the case's id from the address, so the page kept for ``/m/cases`` opens any case offline."""
    config = {
        "casesUrl": url_for("mobile.cases"),
        "inboxUrl": "/api/v1/inbox",  # helper A's 待办; the page falls back to the lists when it is absent
        "listUrl": url_for("mapdata.case_list"),
        "searchUrl": url_for("mapdata.search"),
        "incidentsUrl": url_for("api.list_incidents"),  # + "/" + id, + "/actions"
        "attachmentsUrl": url_for("api.upload_attachment"),
        "gridsUrl": _grids_url(),
        "reportUrl": url_for("mobile.report"),
        "patrolUrl": url_for("mobile.patrol"),
        "streamUrl": url_for("live.stream"),
        "maxPhotos": 9,
        "maxPhotoBytes": 10 * 1024 * 1024,
        "username": current_user.username,
        "role": current_user.role,
        "scope": current_user.scope_code,
        "lang": g.get("lang", "zh"),
        **tiles.page_config(),
    }
    return _page("mobile/cases.html", config)


def _precache() -> list[str]:
    pages = [url_for("mobile.report"), url_for("mobile.cases"), url_for("mobile.patrol"), url_for("visit_pages.phone")]
    data = [_grids_url(), url_for("api.list_categories"), url_for("mobile.manifest")]
    return pages + [url_for("static", filename=f) for f in PHONE_STATIC] + data


@bp.route("/sw.js")
def service_worker():
    """The service worker, served from ``/m/`` so that its scope is the phone pages. Its cache is
    named after the files it keeps, so a new release replaces the old copies."""
    static = Path(current_app.static_folder)
    source = (static / SW_SOURCE).read_text(encoding="utf-8")
    digest = hashlib.sha256(source.encode())
    for name in PHONE_STATIC:
        path = static / name
        digest.update(name.encode() + (str(path.stat().st_mtime_ns).encode() if path.exists() else b"-"))
    head = (f"const VERSION = {json.dumps(digest.hexdigest()[:12])};\n"
            f"const PRECACHE = {json.dumps(_precache())};\n")
    response = current_app.response_class(head + source, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = url_for("mobile.report")
    response.headers["Cache-Control"] = "no-cache"
    return response


def _icon(size: int) -> dict:
    return {"src": url_for("static", filename=f"img/icon-{size}.png"), "sizes": f"{size}x{size}",
            "type": "image/png", "purpose": "any maskable"}


@bp.route("/manifest.webmanifest")
def manifest():
    """The web app manifest: 网格通 on the home screen, opening on the cases."""
    response = jsonify({
        "name": "网格通 · 网格员", "short_name": "网格通", "lang": "zh-CN",
        "description": "网格员手机: 待办、案件、上报与巡查",
        "start_url": url_for("mobile.cases"), "scope": url_for("mobile.report"), "display": "standalone",
        "background_color": "#f4f6f8", "theme_color": "#1f4e79",
        "icons": [_icon(192), _icon(512)],
    })
    response.mimetype = "application/manifest+json"
    return response
