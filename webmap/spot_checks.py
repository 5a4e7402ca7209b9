"""一月一抽查 and 执纪 through the API (seed 7-2):

- ``POST /api/v1/spot-checks`` ``{"month": "2026-11"}`` draws the month's samples (the district);
  ``GET /api/v1/spot-checks?month=…[&village=…][&mine=1]``; ``POST
  /api/v1/spot-checks/<id>/items/<item>`` ``{"result", "reason", "version"}``
  (:mod:`webmap.services.spot_checks`).
- ``GET /api/v1/discipline[?state=open]``; ``POST /api/v1/discipline/<id>/actions`` ``{"action":
  "correct" | "talk" | "decide_dismiss" | "decide_keep", "version", "note", "evidence"}``
  (:mod:`webmap.services.discipline`).
- ``GET /api/v1/notices``; ``POST /api/v1/notices/<id>/read`` (:mod:`webmap.services.notices`).
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_login import current_user, login_required

from webmap import database
from webmap.auth import csrf_for_cookie_sessions
from webmap.params import json_body, record_id
from webmap.services import discipline, notices, spot_checks

bp = Blueprint("spot_checks", __name__, url_prefix="/api/v1")
bp.before_request(csrf_for_cookie_sessions)


@bp.post("/spot-checks")
@login_required
def draw():
    return jsonify(spot_checks.draw(database.session(), current_user, json_body())), 201


@bp.get("/spot-checks")
@login_required
def listing():
    return jsonify(spot_checks.listing(database.session(), current_user, request.args))


@bp.post("/spot-checks/<check_id>/items/<item>")
@login_required
def record(check_id: str, item: str):
    number = record_id(check_id, "没有这次抽查", "no such spot check")
    item_no = record_id(item, "这次抽查没有这一项", "no such item in this spot check")
    return jsonify(spot_checks.record(database.session(), current_user, number, item_no, json_body()))


@bp.get("/discipline")
@login_required
def cases():
    return jsonify(discipline.listing(database.session(), current_user, request.args))


@bp.post("/discipline/<case_id>/actions")
@login_required
def act(case_id: str):
    number = record_id(case_id, "没有这个执纪案件", "no such discipline case")
    return jsonify(discipline.act(database.session(), current_user, number, json_body()))


@bp.get("/notices")
@login_required
def notice_list():
    return jsonify(notices.listing(database.session(), current_user))


@bp.post("/notices/<notice_id>/read")
@login_required
def notice_read(notice_id: str):
    number = record_id(notice_id, "没有这条通知", "no such notice")
    return jsonify(notices.mark_read(database.session(), current_user, number))
