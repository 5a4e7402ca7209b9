"""JSON API under ``/api/v1``: sign-in, categories, photos, incidents; described at ``/api/v1/openapi.json``.

Phones and scripts authenticate with a bearer token from ``POST /api/v1/auth/login``; pages use
their session cookie and send the CSRF token in ``X-CSRFToken`` with every write.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request, url_for
from flask_login import current_user, login_required, login_user

from webmap import database, params
from webmap.auth import csrf_for_cookie_sessions, issue_token
from webmap.openapi import api_document
from webmap.params import MAX_PAGE, json_body, moment_arg, page_args, record_id
from webmap.services import accounts, actions, attachments, audit, features, incidents, intake
from webmap.services.errors import (
    BadRequestError,
    FieldError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
)
from workflow import roles

bp = Blueprint("api", __name__, url_prefix="/api/v1")
FIELD_SOURCES = {"grid_worker", "patrol"}  # what grid staff report from the field
OFFICE_SOURCES = FIELD_SOURCES | {"hotline_12345", "resident"}  # permission report_for_residents


bp.before_request(csrf_for_cookie_sessions)


# ---------------------------------------------------------------- auth


@bp.post("/auth/login")
def login():
    body = json_body()
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise BadRequestError("需要用户名和密码", "username and password are required", param="username")
    user = accounts.authenticate(database.session(), username, password)
    if user is None:
        return jsonify({"code": "Unauthorized", "message_zh": "用户名或密码错误",
                        "message_en": "wrong username or password"}), 401
    login_user(user, remember=True)
    zh, en = user.role_label
    return jsonify({"token": issue_token(user), "token_type": "Bearer", "expires_in": accounts.TOKEN_DAYS * 86400,
                    "user": {"username": user.username, "name": user.display_name, "role": user.role,
                             "role_label": {"zh": zh, "en": en}, "scope": user.scope_code,
                             # a one-time password: the client sends its owner to /auth/password first
                             "must_change_password": user.must_change_password}})


@bp.get("/me")
@login_required
def me():
    zh, en = current_user.role_label
    return jsonify({
        "username": current_user.username, "name": current_user.display_name,
        "role": current_user.role, "role_label": {"zh": zh, "en": en}, "scope": current_user.scope_code,
        "must_change_password": current_user.must_change_password,
    })


# ---------------------------------------------------------------- categories and photos


@bp.get("/categories")
@login_required
def list_categories():
    return jsonify({"items": incidents.categories(database.session())})


@bp.post("/attachments")
@login_required
def upload_attachment():
    upload = request.files.get("file")
    if upload is None:
        raise BadRequestError("请以 multipart/form-data 的 file 字段上传照片", "send the photo as multipart field 'file'",
                              param="file")
    data = upload.read(attachments.MAX_BYTES + 1)
    # kind=document: a PDF or a photo of the page (a task's document, a register's scan)
    document = request.form.get("kind") == "document"
    stored = attachments.store_photo(database.session(), data, current_user.id, document=document)
    stored["url"] = url_for("api.get_attachment", sha=stored["id"])
    return jsonify(stored), 201


@bp.get("/attachments/<sha>")
@login_required
def get_attachment(sha: str):
    if not intake.SHA256.fullmatch(sha):
        raise NotFoundError("没有这张照片", "no such photo")
    photo = attachments.load_photo(database.session(), current_user, sha)
    if photo is None:
        raise NotFoundError("没有这张照片", "no such photo")
    response = current_app.response_class(photo.data, mimetype=photo.mime)
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    return response


# ---------------------------------------------------------------- incidents


def _source_for(role: str, requested) -> str:
    allowed = OFFICE_SOURCES if roles.has_permission(role, "report_for_residents") else FIELD_SOURCES
    source = requested or "grid_worker"
    if source not in allowed:
        raise InvalidInputError([FieldError("source", f"允许的来源: {', '.join(sorted(allowed))}",
                                            f"allowed sources: {', '.join(sorted(allowed))}")],
                                zh=f"此角色不能以来源 {source} 上报", en=f"this role cannot report with source {source!r}")
    return source


@bp.post("/incidents")
@login_required
def create_incident():
    if not current_user.can("report"):
        raise ForbiddenError("此角色不能上报事件", "this role cannot report incidents")
    body = json_body()
    key = intake.check_idempotency_key(request.headers.get("Idempotency-Key"), f"u{current_user.id}")
    report = intake.parse_report(body)
    source = _source_for(current_user.role, body.get("source") if isinstance(body, dict) else None)
    incident_id, written = intake.report_incident(
        database.session(), report, source=source, reporter_id=current_user.id,
        reporter_role=current_user.role, idempotency_key=key,
        near_m=params.near_boundary_m(),
    )
    created = written is not None
    detail = (incidents.serialize_detail(written, current_user, _photo_url) if created
              else incidents.get_incident(database.session(), current_user, incident_id, _photo_url))
    response = jsonify(detail)
    response.status_code = 201 if created else 200
    response.headers["Location"] = url_for("api.get_incident", incident_id=incident_id)
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _filters() -> incidents.IncidentFilter:
    bbox = features.parse_bbox(request.args.get("bbox"))
    return incidents.IncidentFilter(
        state=request.args.get("state") or None,
        category=request.args.get("category") or None,
        grid_code=request.args.get("grid") or None,
        village_code=request.args.get("village") or None,
        source=request.args.get("source") or None,
        since=moment_arg("since"),
        until=moment_arg("until"),
        bbox=bbox,
    )


@bp.get("/incidents")
@login_required
def list_incidents():
    limit, offset = page_args()
    items, total = incidents.list_incidents(database.session(), current_user, limit=limit, offset=offset,
                                            filters=_filters())
    return jsonify({"items": items, "total": total, "limit": limit, "offset": offset,
                    "max_limit": MAX_PAGE, "synthetic": any(i["synthetic"] for i in items)})


def _photo_url(sha: str) -> str:
    return url_for("api.get_attachment", sha=sha)


def _incident_id(raw: str) -> int:
    return record_id(raw, "没有这个事件", "no such incident")


@bp.get("/incidents/<incident_id>")
@login_required
def get_incident(incident_id: str):
    db = database.session()
    found = actions.detail(db, current_user, _incident_id(incident_id), _photo_url)
    if found is None:
        raise NotFoundError(*actions.NOT_FOUND)
    audit.personal_data_shown(db, current_user, "incident", [found], "reporter")
    return jsonify(found)


@bp.post("/incidents/<incident_id>/actions")
@login_required
def act_on_incident(incident_id: str):
    """One workflow action: ``{"action": NAME, "version": N, "note", "photos", "department",
    "satisfaction", "days"}``; answers the case as it now is. With an ``Idempotency-Key`` header
    the action is taken once: the same key again answers the case as it now is (200,
    ``Idempotent-Replayed: true``) and writes nothing."""
    body = json_body()
    if not isinstance(body, dict) or not isinstance(body.get("action"), str):
        raise BadRequestError("需要 action 字段", "the body needs an action", param="action")
    key = intake.check_idempotency_key(request.headers.get("Idempotency-Key"), f"u{current_user.id}")
    case, replayed = actions.act_once(database.session(), current_user, _incident_id(incident_id), body["action"],
                                      body, _photo_url, key)
    response = jsonify(case)
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.get("/departments")
@login_required
def list_departments():
    return jsonify({"items": incidents.departments(database.session())})


@bp.get("/openapi.json")
def openapi():
    return jsonify(api_document())
