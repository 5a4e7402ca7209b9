"""The dashboard's JSON (统计看板) at ``GET /api/v1/stats/dashboard?since&until&village&category``:
every figure of the /stats page, within the reader's scope (see :mod:`webmap.services.dashboard`).
``since`` / ``until``: dates (whole days, Asia/Shanghai) or ISO 8601 instants, as the indicators'.
``GET /api/v1/stats/dashboard.xlsx`` with the same parameters: the same figures as an Excel workbook."""

import io
from datetime import datetime

from flask import Blueprint, jsonify, request, send_file
from flask_login import current_user, login_required

from webmap import database
from webmap.auth import csrf_for_cookie_sessions
from webmap.services import dashboard as service
from webmap.services.stats import XLSX_MIME
from workflow.clock import SHANGHAI

bp = Blueprint("dashboard", __name__, url_prefix="/api/v1/stats")
bp.before_request(csrf_for_cookie_sessions)


def _report() -> dict:
    window, village, category = service.parse_window(request.args, datetime.now(SHANGHAI))
    return service.dashboard(database.session(), current_user, window, village, category)


@bp.get("/dashboard")
@login_required
def get_dashboard():
    return jsonify(_report())


@bp.get("/dashboard.xlsx")
@login_required
def get_dashboard_xlsx():
    report = _report()
    return send_file(io.BytesIO(service.workbook(report)), mimetype=XLSX_MIME, as_attachment=True,
                     download_name=service.workbook_name(report), max_age=0)
