"""The grid planner (网格规划): the page ``/planner`` and the plans API at ``/api/v1/plans``.

- ``GET /api/v1/plans`` the plans, drafts first; ``POST`` ``{"title", "note"}`` starts a draft.
- ``GET /api/v1/plans/{id}``: the plan with the proposed grids of the villages it touches, the
  check's problems (each with the grid codes, a place and an area), its edits and the other drafts
  that change the same grids.
- ``POST /api/v1/plans/{id}/edits`` ``{"op", "version", …}``: ``reshape {code, geometry}`` (the
  neighbours follow), ``split {code, line}``, ``merge {codes: [a, b]}``, ``create {village,
  geometry, name}``, ``transfer {from, to, geometry}``, ``propose_split {code, balance:
  cases|households, parts}``, ``set {code, name, kind, households, residents}``, ``revert
  {code}``, ``replace {items}``. A stale ``version`` gets 409 with the plan and the edits since.
- ``POST …/undo`` ``{"version"}``; ``GET …/impact``; ``POST …/publish`` ``{"version",
  "effective_at"}`` (a date or RFC 3339 time; later than now: scheduled); ``POST …/inverse`` (a
  draft undoing a published plan); ``POST …/discard`` ``{"version"}``.

Planners and administrators edit; dispatchers, town leaders and the district read. Geometry is
GeoJSON in WGS84. Same authentication and CSRF rule as ``/api/v1``.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_login import current_user, login_required

from webmap import database, params, tiles
from webmap.auth import csrf_for_cookie_sessions
from webmap.params import json_body
from webmap.services import plans as service

bp = Blueprint("planner", __name__)
api = Blueprint("plans", __name__, url_prefix="/api/v1/plans")
api.before_request(csrf_for_cookie_sessions)


def _version(body: dict):
    return body.get("version")


@bp.get("/planner")
@login_required
def page():
    return render_template("pages/planner.html", config={
        "plansUrl": url_for("plans.list_plans"),
        "villagesUrl": url_for("ogc.items", collection_id="villages", limit=1000),
        "gridsUrl": url_for("ogc.items", collection_id="grids", limit=5000),
        "workloadUrl": url_for("plans.workload"),
        "canEdit": current_user.can("plan_grids"),
        **tiles.page_config(),
    })


@api.get("")
@login_required
def list_plans():
    return jsonify({"items": service.list_plans(database.session(), current_user)})


@api.post("")
@login_required
def create_plan():
    body = json_body()
    db = database.session()
    plan_id = service.create(db, current_user, body.get("title"), body.get("note") or "")
    db.commit()
    response = jsonify(service.view(db, current_user, plan_id))
    response.status_code = 201
    response.headers["Location"] = url_for("plans.get_plan", plan_id=plan_id)
    return response


@api.get("/<int:plan_id>")
@login_required
def get_plan(plan_id: int):
    return jsonify(service.view(database.session(), current_user, plan_id))


@api.post("/<int:plan_id>/edits")
@login_required
def edit_plan(plan_id: int):
    return jsonify(service.edit(database.session(), current_user, plan_id, json_body()))


@api.post("/<int:plan_id>/undo")
@login_required
def undo(plan_id: int):
    return jsonify(service.undo(database.session(), current_user, plan_id, _version(json_body())))


@api.get("/<int:plan_id>/impact")
@login_required
def impact(plan_id: int):
    return jsonify(service.impact(database.session(), current_user, plan_id))


@api.post("/<int:plan_id>/publish")
@login_required
def publish(plan_id: int):
    body = json_body()
    return jsonify(service.publish(database.session(), current_user, plan_id, _version(body),
                                   effective_at=service.parse_effective_at(body.get("effective_at")),
                                   near_m=params.near_boundary_m()))


@api.post("/<int:plan_id>/inverse")
@login_required
def inverse(plan_id: int):
    response = jsonify(service.inverse(database.session(), current_user, plan_id))
    response.status_code = 201
    return response


@api.post("/<int:plan_id>/discard")
@login_required
def discard(plan_id: int):
    return jsonify(service.discard(database.session(), current_user, plan_id, _version(json_body())))


@api.get("/workload")
@login_required
def workload():
    args = request.args
    return jsonify(service.workload(database.session(), current_user, village=args.get("village") or None))
