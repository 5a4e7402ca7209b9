"""12345 hotline orders (便民专线工单, seed 4-1) at ``/api/v1/hotline``.

- ``POST /orders``: import one order (an object) or a batch (a list) from the city/district
  platform; idempotent on the order number (工单编号). Desk, district and administrators.
- ``GET /orders``: filters ``state``, ``overdue`` (true/false), ``since``/``until`` (dispatch
  time, RFC 3339), ``order_no``; paged by ``limit``/``offset``.
- ``GET /orders/{id}``: the order with its deadlines, the actions open to the caller and its
  timeline.
- ``POST /orders/{id}/actions``: ``{"action", "version", "text", "department"}``.
- ``POST /imports``: the platform's Excel export (multipart field ``file``: .xlsx, or CSV in UTF-8
  or GB18030; ``dry_run=true`` only checks), all rows or none; answers each row as created or
  existing. Desk, district and administrators.

Same authentication and CSRF rule as ``/api/v1``: bearer tokens, or the session cookie with
``X-CSRFToken`` on writes.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Blueprint, jsonify, request, url_for
from flask_login import current_user, login_required

from webmap import database, params
from webmap.auth import csrf_for_cookie_sessions
from webmap.params import json_body, moment_arg, page_args, record_id
from webmap.services import audit
from webmap.services import hotline as service
from webmap.services.errors import BadRequestError, NotFoundError
from workflow import hotline as rules

bp = Blueprint("hotline", __name__, url_prefix="/api/v1/hotline")
bp.before_request(csrf_for_cookie_sessions)


MAX_IMPORT_BYTES = 10 * 1024 * 1024


def _order_id(raw: str) -> int:
    return record_id(raw, *service.NOT_FOUND)


@bp.post("/orders")
@login_required
def import_orders():
    answer = service.import_orders(database.session(), current_user, json_body(),
                                   near_m=params.near_boundary_m())
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
    db = database.session()
    items, total = service.list_orders(db, current_user, limit=limit, offset=offset, filters=_filters())
    audit.personal_data_shown(db, current_user, "hotline_order", items, "petitioner")
    return jsonify({"items": items, "total": total, "limit": limit, "offset": offset})


@bp.get("/orders/<order_id>")
@login_required
def get_order(order_id: str):
    db = database.session()
    found = service.detail(db, current_user, _order_id(order_id))
    if found is None:
        raise NotFoundError(*service.NOT_FOUND)
    audit.personal_data_shown(db, current_user, "hotline_order", [found], "petitioner")
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


@bp.post("/imports")
@login_required
def import_file():
    """The platform's Excel export uploaded at the desk (``/hotline``); ``dry_run=true`` checks only."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise BadRequestError("请选择平台导出的 Excel 文件(multipart 字段 file)",
                              "send the platform's Excel export as multipart field 'file'", param="file")
    data = upload.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise BadRequestError("文件超过 10 MB, 请分批导入", "the file is larger than 10 MB: import in parts", param="file")
    dry_run = request.form.get("dry_run", request.args.get("dry_run", "")) in ("true", "1", "on")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("upload" + Path(upload.filename).suffix.lower()[:8])
        path.write_bytes(data)
        answer = service.upload_excel(database.session(), current_user, path, Path(upload.filename).name,
                                      dry_run=dry_run, near_m=params.near_boundary_m())
    for item in answer["items"]:
        if item["id"] is not None:
            item["url"] = url_for("hotline.get_order", order_id=item["id"])
    status = 200 if dry_run or not answer["imported"] else 201
    return jsonify(answer), status
