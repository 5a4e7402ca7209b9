"""JSON API under ``/api/v1``."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_login import current_user, login_required

from webmap import database
from webmap.errors import BadRequestError
from webmap.services import features, incidents
from webmap.services.accounts import ROLE_LABELS

bp = Blueprint("api", __name__, url_prefix="/api/v1")
DEFAULT_PAGE, MAX_PAGE = 50, 500


def _page_args() -> tuple[int, int]:
    try:
        limit = features.parse_limit(request.args.get("limit"), DEFAULT_PAGE, MAX_PAGE)
        offset = features.parse_offset(request.args.get("offset"))
    except features.FeatureQueryError as exc:
        raise BadRequestError(exc.zh, exc.en, param=exc.param) from exc
    return limit, offset


@bp.get("/me")
@login_required
def me():
    zh, en = ROLE_LABELS.get(current_user.role, (current_user.role, current_user.role))
    return jsonify({
        "username": current_user.username, "name": current_user.display_name,
        "role": current_user.role, "role_label": {"zh": zh, "en": en}, "scope": current_user.scope_code,
    })


@bp.get("/incidents")
@login_required
def list_incidents():
    limit, offset = _page_args()
    items, total = incidents.list_incidents(
        database.session(), current_user, limit=limit, offset=offset,
        state=request.args.get("state") or None, grid_code=request.args.get("grid") or None,
    )
    return jsonify({"items": items, "total": total, "limit": limit, "offset": offset,
                    "max_limit": MAX_PAGE, "synthetic": any(i["synthetic"] for i in items)})

