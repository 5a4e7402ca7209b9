"""日走访 (daily household visits, seed 5-1 ③) through the API and its pages
(:mod:`webmap.services.visits`):

- ``POST /api/v1/visits`` with an ``Idempotency-Key`` and ``{"location": {"lng", "lat", "crs"},
  "household", "note", "photos", "problem": {"category", "description"}}`` → the visit with ``flags``
  and ``incident`` (201; 200 with ``Idempotent-Replayed`` when the key's visit is already stored);
  ``GET /api/v1/visits?grid=|village=&month=&flagged=``; ``GET /api/v1/visits/coverage?month=&village=``.
- ``GET /api/v1/households?grid=&q=&near=lng,lat`` (the register, nearest first);
  ``GET /api/v1/households.xlsx`` (the register as the spreadsheet to fill in);
  ``POST /api/v1/households/import`` (multipart ``file``: CSV or Excel, all or nothing).
- Pages: ``/m/visits`` on the worker's phone (offline-safe), ``/visits`` on the desk.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, render_template, request, url_for
from flask_login import current_user, login_required

from webmap import database, params, tiles
from webmap.auth import csrf_for_cookie_sessions
from webmap.services import features
from webmap.services import visits as service
from webmap.services.errors import BadRequestError
from workflow import visits as rules
from workflow.clock import shanghai_now

bp = Blueprint("visits", __name__, url_prefix="/api/v1")
bp.before_request(csrf_for_cookie_sessions)
pages = Blueprint("visit_pages", __name__)
MAX_IMPORT_BYTES = 5 * 1024 * 1024


@bp.post("/visits")
@login_required
def record():
    visit, created = service.record(database.session(), current_user, params.json_body(),
                                    request.headers.get("Idempotency-Key"), near_m=params.near_boundary_m())
    response = jsonify(visit)
    response.status_code = 201 if created else 200
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.get("/visits")
@login_required
def listing():
    return jsonify(service.listing(database.session(), current_user, request.args))


@bp.get("/visits/coverage")
@login_required
def coverage():
    return jsonify(service.coverage(database.session(), current_user, request.args))


@bp.get("/households")
@login_required
def households():
    return jsonify(service.households(database.session(), current_user, request.args))


@bp.get("/households.xlsx")
@login_required
def households_xlsx():
    data = service.register_xlsx(database.session(), current_user, request.args)
    response = current_app.response_class(data, mimetype=service.XLSX_MIME)
    response.headers["Content-Disposition"] = "attachment; filename=households.xlsx"
    return response


@bp.post("/households/import")
@login_required
def households_import():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise BadRequestError("请以 multipart/form-data 的 file 字段上传 CSV 或 Excel", "send the file as multipart field 'file'",
                              param="file")
    data = upload.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise BadRequestError("文件不能超过 5 MB", "the file is at most 5 MB", param="file")
    return jsonify(service.import_register(database.session(), current_user, upload.filename, data))


def _config() -> dict:
    now = shanghai_now()
    return {
        "role": current_user.role, "username": current_user.username, "scope": current_user.scope_code or "",
        "today": now.date().isoformat(), "month": f"{now.year:04d}-{now.month:02d}",
        "visitsUrl": url_for("visits.listing"), "coverageUrl": url_for("visits.coverage"),
        "householdsUrl": url_for("visits.households"), "householdsXlsxUrl": url_for("visits.households_xlsx"),
        "importUrl": url_for("visits.households_import"), "attachmentsUrl": url_for("api.upload_attachment"),
        "categoriesUrl": url_for("api.list_categories"), "casesUrl": "/inbox?case=",
        "gridsUrl": url_for("ogc.items", collection_id="grids", limit=5000),
        "villagesUrl": url_for("ogc.items", collection_id="villages", limit=1000),
        "canEdit": current_user.can("edit_households"), "maxPhotos": rules.MAX_PHOTOS,
        "maxPhotoBytes": 10 * 1024 * 1024, "target": rules.COVERAGE_TARGET,
        **tiles.page_config(),
    }


@pages.get("/visits")
@login_required
def page():
    """The desk: coverage per grid this month (table and map), the visits with their flags and cases,
    the register's spreadsheet (export, import)."""
    if not current_user.can("read_visits"):
        abort(403)
    return render_template("pages/visits.html", config=_config(), synthetic=features.is_synthetic(database.session()))


@pages.get("/m/visits")
@login_required
def phone():
    """The worker's phone: pick the household (nearest first), note, photos, 发现问题 → 上报; queued on
    the phone and sent once when the network is back."""
    if not current_user.can("record_visits"):
        abort(403)
    return render_template("mobile/visits.html", config=_config(), synthetic=features.is_synthetic(database.session()))
