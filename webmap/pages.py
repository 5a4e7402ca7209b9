"""Pages: the first map of the town, the dispatcher console and the desk of what awaits me (待办)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for
from flask_login import current_user, login_required

from webmap import database, tiles
from webmap.services import features, tracks
from workflow import cases

bp = Blueprint("pages", __name__)

# the console's state filter, in the order of the workflow, with the English names
FILTER_STATES = [(s, cases.STATE_EN[s]) for s in (
    cases.REPORTED, cases.FILED, cases.DISPATCHED, cases.HANDLING, cases.VERIFYING, cases.SUPERVISED, cases.PARKED,
    cases.CLOSED, cases.VOID)]


@bp.route("/")
@login_required
def index():
    config = {
        "villagesUrl": url_for("ogc.items", collection_id="villages", limit=1000),
        "gridsUrl": url_for("ogc.items", collection_id="grids", limit=5000),
        "incidentsUrl": url_for("api.list_incidents", limit=current_app.config["MAP_LATEST_INCIDENTS"]),
        **tiles.page_config(),
        "streamUrl": url_for("live.stream"),
        "user": {"username": current_user.username, "role": current_user.role},
    }
    return render_template("pages/map.html", map_config=config,
                           synthetic=features.is_synthetic(database.session()))


def _panel_urls() -> dict:
    """What the case panel (static/js/case_panel.js) asks the server for."""
    return {
        # the script appends a case's id (and "/actions")
        "incidentUrl": url_for("api.list_incidents") + "/",
        "categoriesUrl": url_for("api.list_categories"),
        "departmentsUrl": url_for("api.list_departments"),
        "attachmentsUrl": url_for("api.upload_attachment"),
    }


@bp.route("/dispatch")
@login_required
def dispatch():
    """The dispatcher console: the live map of cases, the list, the case panel."""
    config = {
        "villagesUrl": url_for("ogc.items", collection_id="villages", limit=1000),
        "gridsUrl": url_for("ogc.items", collection_id="grids", limit=5000),
        "casesUrl": url_for("mapdata.cases"),
        "listUrl": url_for("mapdata.case_list"),
        "heatUrl": url_for("mapdata.heat"),
        # personal whereabouts: the layer is offered only to the roles that may see tracks
        "patrolsUrl": url_for("mapdata.patrols") if tracks.may_see_tracks(current_user) else None,
        "searchUrl": url_for("mapdata.search"),
        "exportUrl": url_for("exports.cases"),  # 导出: the filters' cases as .xlsx (webmap/exports.py)
        **_panel_urls(),
        "streamUrl": url_for("live.stream"),
        **tiles.page_config(),
        "user": {"username": current_user.username, "role": current_user.role},
    }
    return render_template("pages/dispatch.html", config=config, states=FILTER_STATES,
                           synthetic=features.is_synthetic(database.session()))


@bp.route("/inbox")
@login_required
def inbox():
    """The desk of departments, leaders, the town and the district: what awaits me (待办), cases and
    12345 orders, with the case panel. The list is GET /api/v1/inbox; a server without it lists the
    open cases of the user's scope (GET /api/v1/map/list)."""
    root = request.script_root
    config = {
        "inboxUrl": root + "/api/v1/inbox",
        "listUrl": url_for("mapdata.case_list"),
        "hotlineUrl": root + "/hotline",  # the 12345 order desk; ?order=<id> opens one
        **_panel_urls(),
        "streamUrl": url_for("live.stream"),
        "user": {"username": current_user.username, "role": current_user.role},
    }
    return render_template("pages/inbox.html", config=config, synthetic=features.is_synthetic(database.session()))


@bp.route("/healthz")
def healthz():
    from sqlalchemy import text

    database.session().execute(text("SELECT 1"))
    return {"status": "ok"}
