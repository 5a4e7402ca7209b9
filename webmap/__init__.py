"""Wangge web app: ``create_app()`` builds it; nothing connects or reads config at import time."""

from __future__ import annotations

from flask import Flask
from flask_wtf import CSRFProtect

from webmap.config import Settings

csrf = CSRFProtect()


def create_app(config: dict | None = None) -> Flask:
    from webmap import (
        admin,
        analyses,
        api,
        assessment,
        attendance,
        auth,
        boards,
        compress,
        dashboard,
        database,
        errors,
        exports,
        hotline,
        hotline_pages,
        hotspots,
        i18n,
        inbox,
        leave,
        live,
        mapdata,
        mobile,
        office,
        ogc,
        open311,
        pages,
        patrol_pages,
        patrols,
        planner,
        reports,
        spot_checks,
        staff,
        staff_records,
        stats,
        stats_page,
        supervision,
        tasks,
        tiles,
        town,
        visits,
    )
    from webmap.folium_local import localize_folium

    app = Flask(__name__)
    app.config.from_mapping(Settings().as_flask())
    if config:
        app.config.update(config)
    app.json.ensure_ascii = False
    if app.config.get("PROXY_FIX"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    database.init_app(app)
    csrf.init_app(app)
    i18n.init_app(app)
    town.init_app(app)
    auth.init_app(app)
    errors.init_app(app)
    compress.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(live.bp)
    app.register_blueprint(inbox.bp)
    app.register_blueprint(hotline.bp)
    app.register_blueprint(stats.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(supervision.bp)
    app.register_blueprint(supervision.pages)
    app.register_blueprint(mapdata.bp)
    app.register_blueprint(ogc.bp)
    app.register_blueprint(mobile.bp)
    app.register_blueprint(open311.bp)
    app.register_blueprint(boards.bp)
    app.register_blueprint(planner.bp)
    app.register_blueprint(planner.api)
    app.register_blueprint(patrols.bp)
    app.register_blueprint(hotspots.bp)
    app.register_blueprint(attendance.bp)
    app.register_blueprint(patrol_pages.bp)
    app.register_blueprint(hotline_pages.bp)
    app.register_blueprint(tiles.bp)
    app.register_blueprint(admin.api)
    app.register_blueprint(leave.bp)
    app.register_blueprint(spot_checks.bp)
    app.register_blueprint(staff_records.bp)
    app.register_blueprint(admin.pages)
    app.register_blueprint(staff.pages)
    app.register_blueprint(assessment.bp)
    app.register_blueprint(assessment.pages)
    app.register_blueprint(visits.bp)
    app.register_blueprint(visits.pages)
    app.register_blueprint(analyses.bp)
    app.register_blueprint(analyses.pages)
    app.register_blueprint(office.bp)
    app.register_blueprint(office.pages)
    app.register_blueprint(tasks.bp)
    app.register_blueprint(tasks.pages)
    app.register_blueprint(reports.pages)  # 月报 at /stats/reports
    app.register_blueprint(exports.bp)
    app.register_blueprint(stats_page.pages)  # 统计看板 at /stats
    # read-only APIs that tools call without a form: no CSRF token to carry
    csrf.exempt(ogc.bp)
    # the JSON API checks X-CSRFToken itself, for cookie sessions only (tokens carry no cookie)
    csrf.exempt(api.bp)
    # JSON APIs: the same X-CSRFToken rule as api (phones and scripts send bearer tokens)
    for bp in (hotline.bp, stats.bp, supervision.bp, planner.api, patrols.bp, attendance.bp, admin.api, leave.bp,
               spot_checks.bp, staff_records.bp, assessment.bp, visits.bp, office.bp):
        csrf.exempt(bp)
    csrf.exempt(analyses.bp)  # 周分析 / 月汇总 / 民情分析会: the same X-CSRFToken rule
    csrf.exempt(tasks.bp)  # 交办任务: the same X-CSRFToken rule
    csrf.exempt(dashboard.bp)  # 统计看板: the same X-CSRFToken rule
    csrf.exempt(exports.bp)  # 导出: the same X-CSRFToken rule
    csrf.exempt(open311.bp)  # machine clients with an api_key
    localize_folium(app.static_url_path)

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    return app
