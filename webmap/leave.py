"""Leave of the grid workers (请假/销假): ``POST /api/v1/leave`` ``{start, end, kind, reason}`` → the
leave with ``days`` (working days), ``approver_role`` and ``state``; ``GET /api/v1/leave`` (one's own,
a leader's village, the town's all); ``POST /api/v1/leave/<id>/actions`` ``{"action": "approve" |
"refuse" | "cancel" | "report_back", "version", "note"}``. See :mod:`webmap.services.leave`."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask_login import current_user, login_required

from webmap import database
from webmap.auth import csrf_for_cookie_sessions
from webmap.params import json_body, record_id
from webmap.services import leave

bp = Blueprint("leave", __name__, url_prefix="/api/v1/leave")
bp.before_request(csrf_for_cookie_sessions)


@bp.post("")
@login_required
def ask():
    return jsonify(leave.ask(database.session(), current_user, json_body())), 201


@bp.get("")
@login_required
def listing():
    return jsonify(leave.listing(database.session(), current_user))


@bp.post("/<leave_id>/actions")
@login_required
def act(leave_id: str):
    number = record_id(leave_id, "没有这条请假", "no such leave")
    return jsonify(leave.act(database.session(), current_user, number, json_body()))
