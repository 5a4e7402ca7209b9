"""12345 hotline orders (便民专线工单, seed 4-1) at ``/api/v1/hotline``.

- ``POST /orders``: import one order (an object) or a batch (a list) from the city/district
  platform; idempotent on the order number (工单编号). Desk, district and administrators.
- ``GET /orders``: filters ``state``, ``overdue`` (true/false), ``since``/``until`` (dispatch
  time, RFC 3339), ``order_no``; paged by ``limit``/``offset``.
- ``GET /orders/{id}``: the order with its deadlines, the actions open to the caller and its
  timeline.
- ``POST /orders/{id}/actions``: ``{"action", "version", "text", "department"}``.

Same authentication and CSRF rule as ``/api/v1``: bearer tokens, or the session cookie with
``X-CSRFToken`` on writes.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request, url_for
from flask_login import current_user, login_required

from webmap import database
from webmap.auth import csrf_for_cookie_sessions
from webmap.params import json_body, moment_arg, page_args, record_id
from webmap.services import hotline as service
from webmap.services.errors import BadRequestError, NotFoundError
from workflow import hotline as rules

bp = Blueprint("hotline", __name__, url_prefix="/api/v1/hotline")
bp.before_request(csrf_for_cookie_sessions)


def _order_id(raw: str) -> int:
    return record_id(raw, *service.NOT_FOUND)


@bp.post("/orders")
@login_required
def import_orders():
    answer = service.import_orders(database.session(), current_user, json_body(),
                                   near_m=current_app.config["NEAR_BOUNDARY_M"])
    if answer.batch:
        response = jsonify({
            "items": [{"id": i, "created": new, "url": url_for("hotline.get_order", order_id=i)}
                      for i, new in answer.orders],
            "created": answer.created, "existing": len(answer.orders) - answer.created,
        })
    else:
        response = jsonify(answer.detail)
        response.headers["Location"] = url_for("hotline.get_order", order_id=answer.orders[0][0])
        if not answer.created:
            response.headers["Idempotent-Replayed"] = "true"
    response.status_code = 201 if answer.created else 200
    return response


def _filters() -> service.OrderFilter:
    overdue = request.args.get("overdue")
    if overdue not in (None, "", "true", "false", "1", "0"):
        raise BadRequestError("overdue 应为 true 或 false", "overdue must be true or false", param="overdue")
    state = request.args.get("state") or None
    if state is not None and state not in rules.STATES:
        raise BadRequestError(f"未知的工单状态 {state}; 可用: {'、'.join(rules.STATES)}",
                              f"unknown state {state!r}", param="state")
    return service.OrderFilter(
        state=state,
        overdue=None if not overdue else overdue in ("true", "1"),
        since=moment_arg("since"), until=moment_arg("until"),
        order_no=request.args.get("order_no") or None,
    )


@bp.get("/orders")
@login_required
def list_orders():
    limit, offset = page_args()
    items, total = service.list_orders(database.session(), current_user, limit=limit, offset=offset,
                                       filters=_filters())
    return jsonify({"items": items, "total": total, "limit": limit, "offset": offset})


@bp.get("/orders/<order_id>")
@login_required
def get_order(order_id: str):
    found = service.detail(database.session(), current_user, _order_id(order_id))
    if found is None:
        raise NotFoundError(*service.NOT_FOUND)
    return jsonify(found)


@bp.post("/orders/<order_id>/actions")
@login_required
def act_on_order(order_id: str):
    """One workflow action: ``{"action": NAME, "version": N, "text", "department"}``; answers the
    order as it now is."""
    body = json_body()
    if not isinstance(body, dict) or not isinstance(body.get("action"), str):
        raise BadRequestError("需要 action 字段", "the body needs an action", param="action")
    return jsonify(service.act(database.session(), current_user, _order_id(order_id), body["action"], body))
