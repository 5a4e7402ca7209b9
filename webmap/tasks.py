"""交办任务 (seed 8-1) and the information-collection rule (seed 7-2 §3) through the API and the pages
(:mod:`webmap.services.tasks`):

- ``POST /api/v1/tasks`` ``{"title", "body", "kind": "general" | "info_collection", "deadline",
  "attachments", "assignees": [{"kind": "worker" | "village" | "department", "username" | "code",
  "report_back"}], "report_back", "source", "source_ref"}`` → the task with ``id``, ``version``,
  ``state`` (201); ``GET /api/v1/tasks`` → ``{"items": [...]}``, the tasks the caller may see
  (``?state, kind, mine, issued, pending, overdue``); ``GET /api/v1/tasks/<id>`` with its events;
  ``GET /api/v1/tasks/assignees``, the villages, departments and workers the caller may choose.
- ``POST /api/v1/tasks/<id>/actions`` ``{"action", "version", "note", "attachments", "assignee"}``:
  acknowledge, progress, complete, return, supervise, close, approve, refuse.
- Pages: ``/tasks`` on the desk (issuers, assignees, the district's 待区审批 queue) and ``/m/tasks``
  on a grid worker's phone.
"""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from webmap import database
from webmap.auth import csrf_for_cookie_sessions
from webmap.params import json_body, record_id
from webmap.services import features
from webmap.services import tasks as service
from workflow import tasks as rules
from workflow.clock import shanghai_now

bp = Blueprint("tasks", __name__, url_prefix="/api/v1/tasks")
bp.before_request(csrf_for_cookie_sessions)
pages = Blueprint("task_pages", __name__)

NO_TASK = ("没有这个任务", "no such task")


@bp.post("")
@login_required
def create():
    return jsonify(service.create(database.session(), current_user, json_body())), 201


@bp.get("")
@login_required
def listing():
    return jsonify(service.listing(database.session(), current_user, request.args))


@bp.get("/assignees")
@login_required
def assignees():
    return jsonify(service.choices(database.session(), current_user))


@bp.get("/<task_id>")
@login_required
def detail(task_id: str):
    return jsonify(service.detail(database.session(), current_user, record_id(task_id, *NO_TASK)))


@bp.post("/<task_id>/actions")
@login_required
def act(task_id: str):
    return jsonify(service.act(database.session(), current_user, record_id(task_id, *NO_TASK), json_body()))


def _config() -> dict:
    return {
        "tasksUrl": url_for("tasks.listing"),  # + "/" + id, + "/actions"
        "meetingOpinionTaskUrl": url_for("analyses.opinion_task", meeting_id="MEETING", n="OPINION"),
        "assigneesUrl": url_for("tasks.assignees"),
        "attachmentsUrl": url_for("api.upload_attachment"),
        "role": current_user.role,
        "username": current_user.username,
        "canIssue": current_user.can("issue_tasks") and rules.may_issue(current_user.role),
        "canApprove": current_user.can("approve_info_collection"),
        "today": shanghai_now().date().isoformat(),
        "task": request.args.get("task", ""),
        "states": [{"zh": s, "en": rules.STATE_EN[s]} for s in rules.STATES],
        "kinds": [{"code": k, "zh": zh, "en": en} for k, (zh, en) in rules.KINDS.items()],
        "sources": [{"code": k, "zh": zh, "en": en} for k, (zh, en) in rules.SOURCES.items()],
        "infoRule": rules.INFO_RULE_ZH,
        "maxAttachments": rules.MAX_ATTACHMENTS,
    }


@pages.get("/tasks")
@login_required
def page():
    """The desk: the list with its filters, the create form, a task's per-assignee table and its
    steps; the district's 待区审批 queue. A grid worker is sent to /m/tasks; 403 for a role with no tasks."""
    if current_user.role == "worker":
        return redirect(url_for("task_pages.phone", **request.args))
    if service.visible(current_user) is None:
        abort(403)
    return render_template("pages/tasks.html", config=_config(), synthetic=features.is_synthetic(database.session()))


@pages.get("/m/tasks")
@login_required
def phone():
    """A grid worker's tasks on the phone: acknowledge, report progress, complete with a photo."""
    if not current_user.can("work_tasks"):
        abort(403)
    return render_template("mobile/tasks.html", config=_config(), synthetic=features.is_synthetic(database.session()))
