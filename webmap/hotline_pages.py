"""The 12345 desk page ``/hotline`` (便民专线工单台, seed 4-1): the list of orders with their
acceptance and reply countdowns, the import of the platform's Excel export, and the order panel
with every step open to the signed-in role.

The page is a shell with a JSON config; the data comes from ``/api/v1/hotline``. ``?order=<id>``
opens that order (the 待办 page links there). Roles that read no orders get a 403 page.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user, login_required

from webmap import database, tiles
from webmap.services import features
from webmap.services import hotline as service
from workflow import hotline as rules

bp = Blueprint("hotline_pages", __name__)


def _limits() -> list[dict]:
    """The acceptance limits of decree No. 39 by urgency, as the page's legend shows them."""
    return [{"code": code, "label_zh": zh, "label_en": en, "amount": amount, "unit": unit}
            for code, (zh, en, (amount, unit)) in rules.URGENCIES.items()]


@bp.get("/hotline")
@login_required
def page():
    """The desk: filters, import, the list with its countdowns, the order panel."""
    if not service.may_read(current_user):
        raise service.AccessDenied("此角色不能查看 12345 工单", "this role cannot read hotline orders")
    root = request.script_root
    config = {
        "ordersUrl": url_for("hotline.list_orders"),
        "orderUrl": f"{root}/api/v1/hotline/orders/",  # + id, + id/actions
        "importUrl": url_for("hotline.import_file") if service.may_import(current_user) else None,
        "departmentsUrl": url_for("api.list_departments"),
        "caseUrl": f"{root}/inbox?case=",  # + the linked case's id
        "streamUrl": url_for("live.stream"),
        **tiles.page_config(),
        "states": [{"zh": s, "en": rules.STATE_EN[s]} for s in rules.STATES],
        "limits": _limits(),
        "replyDays": rules.DEFAULT_REPLY_LIMIT[0],
        "order": request.args.get("order", ""),
        "user": {"username": current_user.username, "role": current_user.role},
    }
    return render_template("pages/hotline.html", config=config,
                           synthetic=features.is_synthetic(database.session()))
