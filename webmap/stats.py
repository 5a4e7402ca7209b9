"""Indicators (综合评价) at ``/api/v1/stats``: JSON and Excel, within the reader's scope.

``GET /api/v1/stats/indicators?by=village&since=2026-01-01&until=2026-06-30`` and the same with
``indicators.xlsx``. ``by``: grid, village, department, category, source or month; ``since`` and
``until``: dates (whole days, Asia/Shanghai) or ISO 8601 instants; default the last 12 months;
at most 3 years.
"""

import io
from datetime import datetime

from flask import Blueprint, jsonify, request, send_file
from flask_login import current_user, login_required

from webmap import database
from webmap.auth import csrf_for_cookie_sessions
from webmap.services import stats
from workflow.clock import SHANGHAI

bp = Blueprint("stats", __name__, url_prefix="/api/v1/stats")
bp.before_request(csrf_for_cookie_sessions)


def _window():
    return stats.parse_window(request.args, datetime.now(SHANGHAI))


@bp.get("/indicators")
@login_required
def get_indicators():
    return jsonify(stats.indicators(database.session(), current_user, _window()))


@bp.get("/indicators.xlsx")
@login_required
def get_indicators_xlsx():
    report = stats.indicators(database.session(), current_user, _window())
    return send_file(io.BytesIO(stats.workbook(report)), mimetype=stats.XLSX_MIME, as_attachment=True,
                     download_name=stats.workbook_name(report), max_age=0)
