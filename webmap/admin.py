"""The administrator's pages and API (/admin, /api/v1/admin): the grids' workers and the audit log.

- ``GET /api/v1/admin/assignments?village=CODE``: the village's grids with their worker (since when)
  and leader, and the people with a worker's account.
- ``POST /api/v1/admin/assignments`` ``{"grid_code", "person_id", "start", "note"}``: the grid's
  worker from ``start`` (today or earlier); the open cases follow. 422 with reasons, 403 for others.
- ``GET /api/v1/admin/accounts?q=&limit=&offset=``: the accounts, searchable; ``POST`` creates one
  (``{username, role, scope, name, phone, department}``) and answers its one-time password once;
  ``POST /api/v1/admin/accounts/<id>`` ``{"action": "disable" | "enable" | "reset_password" |
  "change_role", "role", "scope", "department"}``.
- ``GET /api/v1/admin/holidays?year=``: the year's days off and swapped workdays, whether announced,
  computed by the rules (provisional) or entered; ``POST /api/v1/admin/holidays/confirm {"year"}``
  confirms a provisional year's holidays into the table.
- ``GET /api/v1/admin/categories``: the categories with their limits and departments, and the
  departments; ``POST /api/v1/admin/categories/<code>`` ``{time_limit, time_unit, department,
  self_handle}`` (a new limit applies to cases reported from now), ``POST
  /api/v1/admin/departments/<code>`` ``{name, phone}``.
- ``GET,POST /api/v1/admin/settings`` ``{key: value}``: the settings with their ranges
  (:mod:`webmap.services.settings`), all or nothing.
- ``GET,POST /api/v1/admin/town``: the town's record (names, supervision office and phone, the
  case-number prefix, the map's first view), all or nothing.
- ``GET /api/v1/admin/audit?target=&limit=&offset=``: the audit log, newest first (the administrator
  and the district).
"""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_login import current_user, login_required

from webmap import database
from webmap.auth import csrf_for_cookie_sessions
from webmap.params import json_body, page_args, record_id
from webmap.services import admin, features, settings, workdays
from webmap.services.errors import BadRequestError
from workflow.clock import shanghai_now

api = Blueprint("admin_api", __name__, url_prefix="/api/v1/admin")
api.before_request(csrf_for_cookie_sessions)
pages = Blueprint("admin", __name__)


@api.get("/assignments")
@login_required
def assignments():
    return jsonify(admin.assignments(database.session(), current_user, request.args.get("village")))


@api.post("/assignments")
@login_required
def reassign():
    return jsonify(admin.reassign(database.session(), current_user, json_body()))


@api.get("/assignments/<grid_code>")
@login_required
def grid_history(grid_code: str):
    return jsonify(admin.grid_history(database.session(), current_user, grid_code))


@api.get("/accounts")
@login_required
def accounts():
    limit, offset = page_args()
    return jsonify(admin.account_list(database.session(), current_user, request.args.get("q"), limit, offset))


@api.post("/accounts")
@login_required
def create_account():
    return jsonify(admin.create_account(database.session(), current_user, json_body())), 201


@api.post("/accounts/<account_id>")
@login_required
def change_account(account_id: str):
    number = record_id(account_id, "没有这个账号", "no such account")
    return jsonify(admin.change_account(database.session(), current_user, number, json_body()))


@api.get("/holidays")
@login_required
def holidays():
    year = workdays.parse_year(request.args.get("year")) or shanghai_now().year
    return jsonify(admin.holiday_year(database.session(), current_user, year))


@api.post("/holidays/confirm")
@login_required
def confirm_holidays():
    body = json_body()
    year = workdays.parse_year(body.get("year") if isinstance(body, dict) else None)
    if year is None:
        raise BadRequestError("请给出年份", "give the year", param="year")
    return jsonify(admin.confirm_year(database.session(), current_user, year))


@api.get("/categories")
@login_required
def categories():
    return jsonify(admin.categories(database.session(), current_user))


@api.post("/categories")
@login_required
def create_category():
    return jsonify(admin.create_category(database.session(), current_user, json_body())), 201


@api.post("/departments")
@login_required
def create_department():
    return jsonify(admin.create_department(database.session(), current_user, json_body())), 201


@api.post("/categories/<code>")
@login_required
def update_category(code: str):
    return jsonify(admin.update_category(database.session(), current_user, code, json_body()))


@api.post("/departments/<code>")
@login_required
def update_department(code: str):
    return jsonify(admin.update_department(database.session(), current_user, code, json_body()))


@api.get("/settings")
@login_required
def settings_list():
    admin.check_admin(current_user)
    return jsonify({"items": settings.listing(database.session())})


@api.post("/settings")
@login_required
def settings_update():
    return jsonify({"items": settings.update(database.session(), current_user, json_body())})


@api.get("/town")
@login_required
def town_record():
    return jsonify(admin.town_record(database.session(), current_user))


@api.post("/town")
@login_required
def update_town():
    return jsonify(admin.update_town(database.session(), current_user, json_body()))


@api.get("/audit")
@login_required
def audit():
    limit, offset = page_args()
    return jsonify(admin.audit_entries(database.session(), current_user, limit, offset, request.args.get("target")))


@pages.get("/admin")
@login_required
def page():
    """The administrator's desk: 网格员配备 (who holds each grid, and the change) and 审计日志."""
    admin.check_audit_reader(current_user)
    config = {
        "assignmentsUrl": url_for("admin_api.assignments"),
        "auditUrl": url_for("admin_api.audit"),
        "accountsUrl": url_for("admin_api.accounts"),
        "holidaysUrl": url_for("admin_api.holidays"),
        "settingsUrl": url_for("admin_api.settings_list"),
        "townUrl": url_for("admin_api.town_record"),
        "categoriesUrl": url_for("admin_api.categories"),
        "departmentsUrl": url_for("admin_api.update_department", code="_")[:-1],  # + code
        "confirmUrl": url_for("admin_api.confirm_holidays"),
        "dayUrl": url_for("supervision.list_holidays") + "/",  # + YYYY-MM-DD: PUT {kind, note}, DELETE
        "year": shanghai_now().year,
        "boardUrl": "/grids/",  # + code
        "canEdit": current_user.can("administer"),
    }
    return render_template("pages/admin.html", config=config, synthetic=features.is_synthetic(database.session()))
