"""The 100-point assessment (量化考核): ``GET/PUT /api/v1/assessment-plan`` (the plan in force; a new
version, manage_staff); ``GET /api/v1/assessments?month=YYYY-MM`` (or ``?year=YYYY``, ``&village=``)
and ``GET /api/v1/assessments.xlsx``; ``POST /api/v1/assessments/scores`` (a hand score with its
reason) and ``POST /api/v1/assessments/decisions`` (续聘/辞退/奖励/惩处); ``GET
/api/v1/assessments/history/<worker>``; the printable sheet ``/staff/assessments/<worker>/<period>``.
See :mod:`webmap.services.assessment`."""

from __future__ import annotations

import io

from flask import Blueprint, jsonify, render_template, request, send_file
from flask_login import current_user, login_required

from webmap import database
from webmap.auth import csrf_for_cookie_sessions
from webmap.params import json_body
from webmap.services import assessment

bp = Blueprint("assessment", __name__, url_prefix="/api/v1")
bp.before_request(csrf_for_cookie_sessions)
pages = Blueprint("assessment_pages", __name__)


@bp.get("/assessment-plan")
@login_required
def plan():
    return jsonify(assessment.plan_answer(database.session(), current_user))


@bp.put("/assessment-plan")
@login_required
def save_plan():
    return jsonify(assessment.save_plan(database.session(), current_user, json_body()))


def _table():
    db, args = database.session(), request.args
    if args.get("year") and not args.get("month"):
        return assessment.year_table(db, current_user, args.get("year"), args.get("village"))
    return assessment.month_table(db, current_user, args.get("month"), args.get("village"))


@bp.get("/assessments")
@login_required
def table():
    return jsonify(_table())


@bp.get("/assessments.xlsx")
@login_required
def table_xlsx():
    result = _table()
    return send_file(io.BytesIO(assessment.table_xlsx(result)), mimetype=assessment.XLSX_MIME, as_attachment=True,
                     download_name=f"assessment_{result['period']}.xlsx", max_age=0)


@bp.post("/assessments/scores")
@login_required
def score():
    return jsonify(assessment.set_score(database.session(), current_user, json_body())), 201


@bp.post("/assessments/decisions")
@login_required
def decide():
    return jsonify(assessment.decide(database.session(), current_user, json_body())), 201


@bp.get("/assessments/history/<worker>")
@login_required
def history(worker: str):
    return jsonify(assessment.history(database.session(), current_user, worker))


@pages.get("/staff/assessments/<worker>/<period>")
@login_required
def sheet(worker: str, period: str):
    """A worker's printable assessment sheet of a month or a year."""
    result = assessment.worker_sheet(database.session(), current_user, worker, period)
    return render_template("pages/assessment_sheet.html", sheet=result)
