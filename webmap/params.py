"""Request helpers shared by the JSON APIs: the body, paging, ids in URLs and moments in query
strings. Each raises the services' :class:`~webmap.services.errors.ServiceError` family, so a
view stays parse → call → render."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, request

from webmap import database
from webmap.services import features, settings
from webmap.services.errors import BadRequestError, NotFoundError

DEFAULT_PAGE, MAX_PAGE = 50, 500


def json_body() -> dict:
    """The request's JSON body; 400 (``param: body``) when it is not JSON or not valid JSON."""
    if not request.is_json:
        raise BadRequestError("请以 application/json 提交", "send the body as application/json", param="body")
    body = request.get_json(silent=True)
    if body is None:
        raise BadRequestError("请求体不是合法的 JSON", "the body is not valid JSON", param="body")
    return body


def page_args(default: int = DEFAULT_PAGE, maximum: int = MAX_PAGE) -> tuple[int, int]:
    """``limit`` (default when absent, capped at the maximum) and ``offset``; 400 when malformed."""
    return (features.parse_limit(request.args.get("limit"), default, maximum),
            features.parse_offset(request.args.get("offset")))


def record_id(raw: str, zh: str, en: str) -> int:
    """A numeric id from a URL; anything else is 404 with ``zh``/``en`` (a malformed id is simply
    not there, never a 500)."""
    if not raw.isdigit() or len(raw) > 18:
        raise NotFoundError(zh, en)
    return int(raw)


def moment_arg(name: str) -> datetime | None:
    """``since`` / ``until`` style parameters: an RFC 3339 time, or a date (``since``: its start,
    anything else: its end); None when absent; 400 with the reason when malformed."""
    raw = request.args.get(name)
    if not raw:
        return None
    interval = features.parse_moment(raw, name)
    return interval.start if name == "since" else interval.end


def near_boundary_m() -> float:
    """The near-boundary distance for this request's intake: the administrator's setting (/admin),
    else the app's (``NEAR_BOUNDARY_M``: WANGGE_NEAR_BOUNDARY_M at start-up)."""
    return settings.near_boundary_m(database.session(), default=current_app.config["NEAR_BOUNDARY_M"])
