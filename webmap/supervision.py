"""Deadlines and supervision (督办) at ``/api/v1/supervision``.

- ``GET /api/v1/supervision``: the 督办清单, open cases in the reader's scope that are overdue (red)
  or due soon (yellow), most urgent first; ``status``, ``department``, ``village``, ``category``
  (``none``: no department, no village), ``limit``, ``offset``.
- ``GET /api/v1/supervision/orders``: the 12345 orders that are red or yellow (``status``,
  ``village``, ``department``).
- ``GET /api/v1/supervision/summary[.xlsx]``: the counts the town reports upward (open, red,
  yellow, supervised, parked, 12345 red and yellow), in all and per village, department, category.
- ``GET /supervision``: the desk page of all this, with 督办 for the roles that may.
- ``GET /api/v1/supervision/holidays[?year=Y]``: the editable working-day table.
- ``PUT /api/v1/supervision/holidays/<YYYY-MM-DD>`` ``{kind, note}``: declare one day;
  ``PUT /api/v1/supervision/holidays`` ``{items: [...], year?}``: several (or a year's schedule);
  ``DELETE /api/v1/supervision/holidays/<YYYY-MM-DD>``. Admin and dispatcher only.
"""

from __future__ import annotations

import io
from datetime import datetime

from flask import Blueprint, jsonify, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from webmap import database, town
from webmap.auth import csrf_for_cookie_sessions
from webmap.params import MAX_PAGE, page_args
from webmap.services import features, supervision, workdays
from webmap.services.errors import BadRequestError
from workflow.clock import shanghai_now

bp = Blueprint("supervision", __name__, url_prefix="/api/v1/supervision")
bp.before_request(csrf_for_cookie_sessions)
pages = Blueprint("supervision_pages", __name__)


def _now() -> datetime:
    return shanghai_now()  # a seam: the tests move this view's clock


def _json_body():
    # one message for both cases (not JSON, not valid JSON), as this API has always answered
    body = request.get_json(silent=True) if request.is_json else None
    if body is None:
        raise BadRequestError(
            "请以 application/json 提交合法的 JSON",
            "send valid JSON as application/json",
            param="body",
        )
    return body


@bp.get("")
@login_required
def supervision_list():
    """督办清单: ``?status=red|yellow|red,yellow&department=CODE&limit=&offset=``."""
    limit, offset = page_args()
    result = supervision.supervision_list(
        database.session(),
        current_user,
        now=_now(),
        limit=limit,
        offset=offset,
        filters=request.args,
    )
    return jsonify({**result, "max_limit": MAX_PAGE})


@bp.get("/orders")
@login_required
def order_list():
    """The 12345 orders to press on: ``?status=&village=&department=``."""
    return jsonify(supervision.order_list(database.session(), current_user, now=_now(), filters=request.args))


@bp.get("/summary")
@login_required
def summary():
    return jsonify(supervision.supervision_summary(database.session(), current_user, now=_now()))


@bp.get("/summary.xlsx")
@login_required
def summary_xlsx():
    result = supervision.supervision_summary(database.session(), current_user, now=_now())
    book = supervision.summary_workbook(result, town.current().label("center_name", "zh"))
    return send_file(io.BytesIO(book), mimetype=supervision.XLSX_MIME, as_attachment=True,
                     download_name=f"supervision_{result['now'][:10].replace('-', '')}.xlsx", max_age=0)


@pages.get("/supervision")
@login_required
def page():
    """The supervision desk: the counts, the groups, the lists of cases and orders, 督办."""
    supervision.check_reader(current_user)
    config = {
        "listUrl": url_for("supervision.supervision_list"),
        "ordersUrl": url_for("supervision.order_list"),
        "summaryUrl": url_for("supervision.summary"),
        "incidentUrl": url_for("api.list_incidents") + "/",  # + id + "/actions"
        "orderUrl": url_for("hotline.list_orders") + "/",  # + id + "/actions"
    }
    return render_template("pages/supervision.html", config=config,
                           synthetic=features.is_synthetic(database.session()))


@bp.get("/holidays")
@login_required
def list_holidays():
    year = workdays.parse_year(request.args.get("year"))
    return jsonify({"items": workdays.list_holidays(database.session(), year), "year": year})


@bp.put("/holidays")
@login_required
def put_holidays():
    return jsonify(workdays.put_holidays(database.session(), current_user, _json_body()))


@bp.put("/holidays/<day>")
@login_required
def put_holiday(day: str):
    entry, created = workdays.put_holiday(database.session(), current_user, day, _json_body())
    return jsonify(entry), 201 if created else 200


@bp.delete("/holidays/<day>")
@login_required
def delete_holiday(day: str):
    workdays.delete_holiday(database.session(), current_user, day)
    return "", 204
