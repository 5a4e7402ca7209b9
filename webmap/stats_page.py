"""The statistics dashboard page (统计看板, seed 6-1) at ``/stats``: tiles with 环比 and 同比, a choropleth
of grids and villages, the trend, rankings and sources, drawn by js/stats.js from
``GET /api/v1/stats/dashboard`` (webmap/dashboard.py) with ECharts and Leaflet (both vendored). Read by
the roles of the dispatcher console (the drill-down opens it): the town, the district, a village's
leader (their village) and a department (their cases); the figures are scoped by the JSON."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user, login_required

from webmap import database, reports, tiles
from webmap.services import features

pages = Blueprint("stats_pages", __name__)

READ = "use_dispatch_console"  # who reads the dashboard (the nav's 统计 link: the same rule)


@pages.get("/stats")
@login_required
def page():
    if not current_user.can(READ):
        abort(403)
    root = request.script_root
    town_wide = current_user.role != "department" and len(current_user.scope_code or "") <= 9
    config = {
        "dashboardUrl": url_for("dashboard.get_dashboard"),
        "xlsxUrl": url_for("dashboard.get_dashboard_xlsx"),
        "villagesUrl": url_for("ogc.items", collection_id="villages", limit=1000),
        "gridsUrl": url_for("ogc.items", collection_id="grids", limit=5000),
        "dispatchUrl": url_for("pages.dispatch"),
        "hotlineUrl": root + "/hotline" if current_user.can("read_hotline") else None,
        "reportsUrl": url_for("report_pages.page") if current_user.role in reports.READERS else None,
        "villageFilter": town_wide,
        **tiles.page_config(),
    }
    return render_template("pages/stats.html", config=config, synthetic=features.is_synthetic(database.session()))
