"""Sign-in attendance (签到考勤) and the patrol reports (日走访、周分析、月汇总) at ``/api/v1``.

- ``POST /api/v1/attendance`` ``{"kind": "in"|"out", "lng", "lat", "accuracy", "at", "client_id"}``:
  sign the worker in or out (201; the same ``client_id`` again: 200 and the same record).
- ``GET /api/v1/attendance?worker=USERNAME&date=YYYY-MM-DD``: a worker's sign-ins of a day.
- ``GET /api/v1/attendance/weekly?week=YYYY-MM-DD&village=CODE``: the week (a Monday) against the
  40-hour rule.
- ``GET /api/v1/patrols/reports/daily?date=&village=``, ``…/weekly?week=&village=``,
  ``…/monthly?month=YYYY-MM&village=``: the reports; ``format=xlsx`` for the Excel workbook.

Sign-in places are whereabouts: only the worker, their leader and the town read them.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, jsonify, request
from flask_login import current_user, login_required

from webmap import database
from webmap.auth import csrf_for_cookie_sessions
from webmap.params import json_body
from webmap.services import attendance as service
from webmap.services import patrol_reports as reports
from webmap.services.patrols import PatrolError

bp = Blueprint("attendance", __name__, url_prefix="/api/v1")
bp.before_request(csrf_for_cookie_sessions)  # exempt from the form-wide check in webmap/__init__.py
COMMON = {"lang"}


def _args(allowed: set[str]) -> dict:
    """The query's parameters; an unknown one is a typo that would silently change the answer."""
    unknown = sorted(set(request.args) - allowed - COMMON)
    if unknown:
        errors = [{"field": name, "zh": "不支持的参数", "en": "unknown parameter"} for name in unknown]
        raise PatrolError(400, f"不支持的参数: {', '.join(unknown)}", f"unknown parameters: {', '.join(unknown)}",
                          field=unknown[0], errors=errors)
    return {k: (request.args.get(k) or None) for k in allowed}


def _day(raw: str | None) -> date | None:
    return reports.parse_day(raw) if raw else None


def _format(raw: str | None) -> str:
    if raw not in (None, "json", "xlsx"):
        raise PatrolError(400, "format: 应为 json 或 xlsx", "format: json or xlsx", field="format",
                          errors=[{"field": "format", "zh": "应为 json 或 xlsx", "en": "json or xlsx"}])
    return raw or "json"


def _render(report: dict, fmt: str):
    if fmt == "json":
        return jsonify(report)
    response = Response(reports.workbook(report), mimetype=reports.XLSX_MIME)
    response.headers["Content-Disposition"] = reports.content_disposition(report)
    response.headers["Cache-Control"] = "no-store"  # whereabouts: not kept by proxies
    return response


@bp.post("/attendance")
@login_required
def sign():
    answer = service.sign(database.session(), current_user, json_body())
    return jsonify(answer), 201 if answer["created"] else 200


@bp.get("/attendance")
@login_required
def day():
    args = _args({"worker", "date"})
    return jsonify(service.day(database.session(), current_user, args["worker"], _day(args["date"])))


@bp.get("/attendance/weekly")
@login_required
def weekly():
    args = _args({"week", "village"})
    return jsonify(service.weekly(database.session(), current_user, args["week"], args["village"]))


REPORTS = {  # kind → (the period parameter, the builder)
    "daily": ("date", reports.daily),  # 日走访
    "weekly": ("week", reports.weekly),  # 周分析
    "monthly": ("month", reports.monthly),  # 月汇总
}


@bp.get("/patrols/reports/<any(daily, weekly, monthly):kind>")
@login_required
def report(kind: str):
    period, build = REPORTS[kind]
    args = _args({period, "village", "format"})
    fmt = _format(args["format"])
    return _render(build(database.session(), current_user, args[period], args["village"]), fmt)
