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
from webmap.api import TransitionRefused, _json_body, _page_args, _report_error
from webmap.auth import csrf_for_cookie_sessions
from webmap.errors import BadRequestError, ForbiddenError, NotFoundError
from webmap.params import moment_arg
from webmap.services import hotline as service
from webmap.services import intake
from workflow import hotline as rules

bp = Blueprint("hotline", __name__, url_prefix="/api/v1/hotline")
bp.before_request(csrf_for_cookie_sessions)

NOT_FOUND = ("没有这个工单,或您无权查看", "no such hotline order within your rights")


def _order_id(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 18:
        raise NotFoundError(*NOT_FOUND)
    return int(raw)


def _denied(exc: service.AccessDenied) -> ForbiddenError:
    return ForbiddenError(exc.zh, exc.en)


@bp.post("/orders")
@login_required
def import_orders():
    body = _json_body()
    try:
        answer = service.import_orders(database.session(), current_user, body,
                                       near_m=current_app.config["NEAR_BOUNDARY_M"])
    except service.AccessDenied as exc:
        raise _denied(exc) from exc
    except intake.ReportError as exc:
        raise _report_error(exc) from exc
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
    limit, offset = _page_args()
    filters = _filters()
    try:
        items, total = service.list_orders(database.session(), current_user, limit=limit, offset=offset,
                                           filters=filters)
    except service.AccessDenied as exc:
        raise _denied(exc) from exc
    return jsonify({"items": items, "total": total, "limit": limit, "offset": offset})


@bp.get("/orders/<order_id>")
@login_required
def get_order(order_id: str):
    try:
        found = service.detail(database.session(), current_user, _order_id(order_id))
    except service.AccessDenied as exc:
        raise _denied(exc) from exc
    if found is None:
        raise NotFoundError(*NOT_FOUND)
    return jsonify(found)


@bp.post("/orders/<order_id>/actions")
@login_required
def act_on_order(order_id: str):
    """One workflow action: ``{"action": NAME, "version": N, "text", "department"}``; answers the
    order as it now is."""
    body = _json_body()
    if not isinstance(body, dict) or not isinstance(body.get("action"), str):
        raise BadRequestError("需要 action 字段", "the body needs an action", param="action")
    try:
        result = service.act(database.session(), current_user, _order_id(order_id), body["action"], body)
    except service.AccessDenied as exc:
        raise _denied(exc) from exc
    except service.NotFound as exc:
        raise NotFoundError(*NOT_FOUND) from exc
    except service.ConflictError as exc:
        return jsonify({"code": "Conflict", "message_zh": "工单已被他人更新, 请查看最新状态后再操作",
                        "message_en": "the order changed since you read it; here it is as it now is",
                        "current": exc.current}), 409
    except rules.TransitionError as exc:
        raise TransitionRefused(exc) from exc
    except intake.ReportError as exc:
        raise _report_error(exc) from exc
    return jsonify(result)
