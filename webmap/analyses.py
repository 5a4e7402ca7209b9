"""周分析 / 月汇总 / 民情分析会 (seed 5-1 ③④) through the API and on the desk
(:mod:`webmap.services.analyses`):

- ``POST /api/v1/analyses`` ``{"kind": "week"|"month", "period", "scope"}`` makes a record with its
  figures counted now; ``GET /api/v1/analyses[?kind=&scope=&period=]``; ``GET|PATCH
  /api/v1/analyses/<id>`` (``{"version", "opinion", "problems", "next_steps"}``); ``POST
  /api/v1/analyses/<id>/actions`` ``{"action": "recount"|"finalize", "version"}``; ``GET
  /api/v1/analyses/<id>.xlsx``.
- ``POST /api/v1/meetings`` ``{"scope", "held_on", "place", "participants", "agreed", "opinions"}``;
  ``GET /api/v1/meetings``; ``GET|PATCH /api/v1/meetings/<id>``; ``POST
  /api/v1/meetings/<id>/opinions/<n>/case`` ``{"category", "grid", "location", "description"}``
  (201 the case made now, 200 the case it already was); ``POST …/opinions/<n>/task``
  ``{"task_id"}``; ``GET /api/v1/meetings/<id>.xlsx``.
- Pages: ``/analyses`` (tabs 周分析 / 月汇总 / 民情分析会), the print views
  ``/analyses/<id>/print`` and ``/analyses/meetings/<id>/print``.
"""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    abort,
    jsonify,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required

from webmap import database, params
from webmap.auth import csrf_for_cookie_sessions
from webmap.params import json_body, record_id
from webmap.services import analyses, features
from workflow.clock import shanghai_now

bp = Blueprint("analyses", __name__, url_prefix="/api/v1")
bp.before_request(csrf_for_cookie_sessions)
pages = Blueprint("analyses_pages", __name__)

NO_ANALYSIS = ("没有这份分析", "no such analysis")
NO_MEETING = ("没有这次民情分析会", "no such meeting")
NO_OPINION = ("这次会议没有这条意见", "no such opinion in this meeting")


@bp.post("/analyses")
@login_required
def create():
    return jsonify(analyses.create_analysis(database.session(), current_user, json_body())), 201


@bp.get("/analyses")
@login_required
def listing():
    return jsonify(analyses.list_analyses(database.session(), current_user, request.args))


@bp.get("/analyses/<analysis_id>")
@login_required
def detail(analysis_id: str):
    return jsonify(analyses.get_analysis(database.session(), current_user, record_id(analysis_id, *NO_ANALYSIS)))


@bp.patch("/analyses/<analysis_id>")
@login_required
def update(analysis_id: str):
    number = record_id(analysis_id, *NO_ANALYSIS)
    return jsonify(analyses.update_analysis(database.session(), current_user, number, json_body()))


@bp.post("/analyses/<analysis_id>/actions")
@login_required
def act(analysis_id: str):
    number = record_id(analysis_id, *NO_ANALYSIS)
    return jsonify(analyses.act_on_analysis(database.session(), current_user, number, json_body()))


@bp.get("/analyses/<analysis_id>.xlsx")
@login_required
def analysis_xlsx(analysis_id: str):
    record = analyses.get_analysis(database.session(), current_user, record_id(analysis_id, *NO_ANALYSIS))
    name = f"analysis_{record['kind']}_{record['period']}_{record['scope']['code']}.xlsx"
    return send_file(io.BytesIO(analyses.analysis_xlsx(record)), mimetype=analyses.XLSX_MIME, as_attachment=True,
                     download_name=name, max_age=0)


@bp.post("/meetings")
@login_required
def meeting_create():
    return jsonify(analyses.create_meeting(database.session(), current_user, json_body())), 201


@bp.get("/meetings")
@login_required
def meetings():
    return jsonify(analyses.list_meetings(database.session(), current_user, request.args))


@bp.get("/meetings/<meeting_id>")
@login_required
def meeting(meeting_id: str):
    return jsonify(analyses.get_meeting(database.session(), current_user, record_id(meeting_id, *NO_MEETING)))


@bp.patch("/meetings/<meeting_id>")
@login_required
def meeting_update(meeting_id: str):
    number = record_id(meeting_id, *NO_MEETING)
    return jsonify(analyses.update_meeting(database.session(), current_user, number, json_body()))


@bp.post("/meetings/<meeting_id>/opinions/<n>/case")
@login_required
def opinion_case(meeting_id: str, n: str):
    number, opinion = record_id(meeting_id, *NO_MEETING), record_id(n, *NO_OPINION)
    answer, created = analyses.opinion_to_case(database.session(), current_user, number, opinion, json_body(),
                                               near_m=params.near_boundary_m())
    return jsonify(answer), 201 if created else 200


@bp.post("/meetings/<meeting_id>/opinions/<n>/task")
@login_required
def opinion_task(meeting_id: str, n: str):
    number, opinion = record_id(meeting_id, *NO_MEETING), record_id(n, *NO_OPINION)
    return jsonify(analyses.link_task(database.session(), current_user, number, opinion, json_body()))


@bp.get("/meetings/<meeting_id>.xlsx")
@login_required
def meeting_xlsx(meeting_id: str):
    record = analyses.get_meeting(database.session(), current_user, record_id(meeting_id, *NO_MEETING))
    return send_file(io.BytesIO(analyses.meeting_xlsx(record)), mimetype=analyses.XLSX_MIME, as_attachment=True,
                     download_name=f"meeting_{record['id']}_{record['held_on']}.xlsx", max_age=0)


# ---------------------------------------------------------------- pages


def _config() -> dict:
    now = shanghai_now()
    db = database.session()
    year, week, _ = now.isocalendar()
    town_code, town_name = analyses.town_of(db)
    return {
        "role": current_user.role,
        "scope": current_user.scope_code if current_user.role == "leader" else "town",
        "town": {"code": town_code, "name": town_name},
        "villages": analyses.village_choices(db, current_user),
        "grids": analyses.grid_choices(db, current_user),
        "canWrite": current_user.can("write_analyses"),
        "canReport": current_user.can("report"),
        "today": now.date().isoformat(),
        "week": f"{year:04d}-W{week:02d}",
        "month": f"{now:%Y-%m}",
        "analysesUrl": url_for("analyses.listing"),
        "meetingsUrl": url_for("analyses.meetings"),
        "categoriesUrl": url_for("api.list_categories"),
        "printUrl": url_for("analyses_pages.print_analysis", analysis_id="ID"),
        "meetingPrintUrl": url_for("analyses_pages.print_meeting", meeting_id="ID"),
        "caseUrl": "/inbox?case=ID",
        # → 任务: the tasks page, for the town's centre (a village's leader does not turn opinions into
        # tasks); the link carries the meeting and the opinion, and POST …/opinions/<n>/task records
        # the task made from it
        "tasksUrl": url_for("task_pages.page") if current_user.role != "leader" else None,
    }


@pages.get("/analyses")
@login_required
def page():
    """The desk of 周分析 / 月汇总 / 民情分析会; 403 for the roles that do not read them."""
    if not current_user.can("read_analyses"):
        abort(403)
    return render_template("pages/analyses.html", config=_config(), synthetic=features.is_synthetic(database.session()))


@pages.get("/analyses/<analysis_id>/print")
@login_required
def print_analysis(analysis_id: str):
    """An analysis as a printable sheet."""
    record = analyses.get_analysis(database.session(), current_user, record_id(analysis_id, *NO_ANALYSIS))
    return render_template("pages/analysis_sheet.html", a=record)


@pages.get("/analyses/meetings/<meeting_id>/print")
@login_required
def print_meeting(meeting_id: str):
    """A meeting's record as a printable sheet."""
    record = analyses.get_meeting(database.session(), current_user, record_id(meeting_id, *NO_MEETING))
    return render_template("pages/meeting_sheet.html", m=record)
