"""The dashboard's JSON (统计看板) at ``GET /api/v1/stats/dashboard?since&until&village&category``:
every figure of the /stats page, within the reader's scope (see :mod:`webmap.services.dashboard`).
``since`` / ``until``: dates (whole days, Asia/Shanghai) or ISO 8601 instants, as the indicators'."""

from datetime import datetime

from flask import Blueprint, jsonify, request
from flask_login import current_user, login_required

from webmap import database
from webmap.auth import csrf_for_cookie_sessions
from webmap.services import dashboard as service
from workflow.clock import SHANGHAI

bp = Blueprint("dashboard", __name__, url_prefix="/api/v1/stats")
bp.before_request(csrf_for_cookie_sessions)


@bp.get("/dashboard")
@login_required
def get_dashboard():
    window, village, category = service.parse_window(request.args, datetime.now(SHANGHAI))
    return jsonify(service.dashboard(database.session(), current_user, window, village, category))
