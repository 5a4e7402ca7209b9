"""待办 at ``/api/v1/inbox``: every case and 12345 order on which the signed-in user may act now,
most urgent first (``services/inbox.py``).

- ``GET /api/v1/inbox?kind=incident|hotline|…&limit=&offset=`` (the kinds: ``services/inbox.SOURCES``): ``{items, total, overdue, limit,
  offset}``; each item with the ``actions`` its detail offers and its detail's ``url``.
- ``?limit=0``: the counts only (``{total, overdue}``), for the header's badge.

Bearer tokens or the session cookie, as the rest of ``/api/v1``.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for
from flask_login import current_user, login_required

from webmap import database
from webmap.params import MAX_PAGE, page_args
from webmap.services import inbox as service
from workflow.clock import shanghai_now

bp = Blueprint("inbox", __name__, url_prefix="/api/v1")


# each kind's detail in the API, from the item
URLS = {
    "incident": lambda item: url_for("api.get_incident", incident_id=item["id"]),
    "hotline": lambda item: url_for("hotline.get_order", order_id=item["id"]),
    "analysis": lambda item: url_for("analyses.detail", analysis_id=item["id"]),
    "office": lambda item: url_for("office.reminder", reminder_id=item["id"]),
    "task": lambda item: url_for("tasks.detail", task_id=item["id"]),
}


@bp.get("/inbox")
@login_required
def inbox():
    kind = service.parse_kind(request.args.get("kind"))
    if request.args.get("limit") == "0":  # the badge: two counts
        return jsonify(service.counts(database.session(), current_user, now=shanghai_now(), kind=kind))
    limit, offset = page_args()
    answer = service.inbox(database.session(), current_user, now=shanghai_now(), limit=limit, offset=offset,
                           kind=kind)
    for item in answer["items"]:
        item["url"] = URLS[item["kind"]](item)
    return jsonify({**answer, "max_limit": MAX_PAGE})
