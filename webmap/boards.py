"""Public grid boards (上岗公示, seed 5-1) at ``/grids/<code>``: no login.

- ``GET /grids/<code>``: the grid, its leader and worker (name, photo, phone, duties), the
  supervision phone, a QR code of the page, and a form for residents to report a problem;
- ``GET /grids/<code>/poster.pdf``: the same as an A4 poster to print and put up;
- ``POST /grids/<code>/report``: the resident's report with up to 3 photos, routed like any
  incident (source ``resident``), rate-limited per client address;
- ``GET /grids/<code>/lookup?no=<case number>``: a resident's case by the receipt's number, its
  state and public timeline (no personal data, staff by their 职务 only);
- ``GET /grids/<code>/photo/<person_id>``: the stored photo of a person on this board.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError

from webmap import database, params, tiles, town
from webmap.errors import http_error_page
from webmap.services import attachments, boards, features, incidents
from webmap.services.errors import FieldError, InvalidInputError, NotFoundError

bp = Blueprint("boards", __name__, url_prefix="/grids")

# Per client address. Memory storage unless RATELIMIT_STORAGE_URI says otherwise (with several
# server processes, point it at a shared store such as Redis so the limit is not per process).
limiter = Limiter(get_remote_address, key_prefix="wangge-board")


def _attach_limiter(state) -> None:
    state.app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    limiter.init_app(state.app)


bp.record_once(_attach_limiter)


LOOKUP_LIMITS = "30 per minute;300 per day"  # per client: numbers are not to be guessed in bulk


def _report_limits() -> str:
    return current_app.config["BOARD_REPORT_RATE_LIMIT"]  # default in Settings (WANGGE_BOARD_RATE_LIMIT)


# ---------------------------------------------------------------- helpers


def _board(code: str) -> boards.Board:
    return boards.find_board(database.session(), code)


def _page_url(code: str) -> str:
    """The board's absolute URL, for the QR code: PUBLIC_BASE_URL when set (the address residents
    reach), else the one this request came in on."""
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    if base:
        return base + url_for("boards.board", code=code)
    return url_for("boards.board", code=code, _external=True)


def _photo_url(board: boards.Board, member: boards.Member) -> str | None:
    if member.photo_sha:
        return url_for("boards.photo", code=board.code, person_id=member.person_id, v=member.photo_sha[:12])
    return member.photo_path


def _message(error: FieldError) -> str:
    return error.en if g.get("lang") == "en" else error.zh


def _slot(field: str) -> str:
    """Where a field's error shows in the form."""
    if field.startswith("location"):
        return "location"
    if field in ("category", "description", "address", "reporter_name", "reporter_phone", "photos"):
        return field
    return "form"


def _csp() -> str:
    img = "'self' data:"
    tile_url = tiles.page_config()["tileUrl"]  # the base map (same origin) or TILE_URL
    if urlsplit(tile_url).netloc:
        img += " *"  # a tile server elsewhere on the intranet
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src " + img + "; "
            "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def _private(response, status: int):
    response = current_app.make_response((response, status))
    # a fresh form key and CSRF token per page, and personal data after a post: never cached
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = _csp()
    return response


def _render_board(board: boards.Board, *, form: dict | None = None, errors: list | None = None,
                  status: int = 200):
    db = database.session()
    form = dict(form or {})
    if not boards.FORM_KEY.fullmatch(form.get("form_key", "")):
        form["form_key"] = secrets.token_urlsafe(24)  # one report per form, even if sent twice
    by_slot: dict[str, list[str]] = {}
    for e in errors or []:
        by_slot.setdefault(_slot(e.field), []).append(_message(e))
    page_url = _page_url(board.code)
    config = {
        "grid": board.geometry,
        "village": board.village_geometry,
        "point": {"lng": board.point[0], "lat": board.point[1]},
        "picked": boards.picked_point(form),
        **tiles.page_config(),
    }
    roles = [
        {"key": "leader", "title": gettext("网格长"), "members": board.leaders, "duties": boards.LEADER_DUTIES},
        {"key": "worker", "title": gettext("网格员"), "members": board.workers, "duties": boards.WORKER_DUTIES},
    ]
    html = render_template(
        "boards/board.html",
        board=board, roles=roles, sup=boards.supervision(db), page_url=page_url,
        qr=boards.qr_svg(page_url, gettext("扫码打开本网格公示页")),
        photo_url=lambda m: _photo_url(board, m), tel=boards.tel,
        kind=gettext(boards.GRID_KINDS.get(board.kind, board.kind)),
        categories=boards.category_groups(incidents.categories(db)),
        form=form, errors=by_slot, all_errors=[m for msgs in by_slot.values() for m in msgs],
        map_config=config, synthetic=features.is_synthetic(db),
    )
    return _private(html, status)


# ---------------------------------------------------------------- routes


@bp.get("/<code>")
def board(code: str):
    return _render_board(_board(code))


@bp.get("/<code>/poster.pdf")
def poster(code: str):
    db = database.session()
    b = _board(code)
    pdf = boards.poster_pdf(b, boards.supervision(db), _page_url(code), photos=boards.poster_photos(db, b),
                            center_name=town.current().label("center_name", g.lang),
                            gettext=gettext, synthetic=features.is_synthetic(db))
    response = current_app.response_class(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="grid-{b.code}.pdf"'
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/<code>/photo/<int:person_id>")
def photo(code: str, person_id: int):
    attachment = boards.member_photo(database.session(), code, person_id)
    if attachment is None:
        abort(404)
    response = current_app.response_class(attachment.data, mimetype=attachment.mime)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


# three photos of 10 MB each and the form around them (the app's limit is one photo's)
REPORT_MAX_CONTENT = boards.MAX_BOARD_PHOTOS * attachments.MAX_BYTES + 256 * 1024


def _csrf():
    return current_app.extensions["csrf"]  # the app's CSRFProtect (webmap imports this module, not back)


# The report's CSRF token is checked in the view, once the request may be as large as three photos
# (the app-wide check reads the form first, under the limit of one).
bp.record_once(lambda state: state.app.extensions["csrf"].exempt("webmap.boards.report"))


@bp.post("/<code>/report")
@limiter.limit(_report_limits, methods=["POST"])
def report(code: str):
    request.max_content_length = REPORT_MAX_CONTENT
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        _csrf().protect()
    b = _board(code)
    form = {k: request.form.get(k, "") for k in boards.FORM_FIELDS}
    # each file read up to one byte over the limit: enough to refuse it
    photos = [f.read(attachments.MAX_BYTES + 1) for f in request.files.getlist("photos") if f.filename]
    try:
        receipt = boards.submit_report(database.session(), b, form, secret=current_app.config["SECRET_KEY"],
                                       near_m=params.near_boundary_m(), photos=photos)
    except InvalidInputError as exc:  # the form again, each reason next to its field
        return _render_board(b, form=form, errors=exc.errors, status=422)
    html = render_template("boards/receipt.html", board=b, receipt=receipt, sup=boards.supervision(database.session()),
                           tel=boards.tel, synthetic=features.is_synthetic(database.session()))
    return _private(html, 201 if receipt.created else 200)


@bp.get("/<code>/lookup")
@limiter.limit(LOOKUP_LIMITS)
def lookup(code: str):
    """A resident looks up their case by the number on the receipt: its state and public timeline."""
    b = _board(code)
    number = request.args.get("no", "").strip()
    case, error, status = None, None, 200
    if number:
        try:
            case = boards.public_case(database.session(), number)
        except (InvalidInputError, NotFoundError) as exc:
            reason = exc.errors[0] if getattr(exc, "errors", None) else exc  # the field's own words
            error, status = (reason.en if g.get("lang") == "en" else reason.zh), exc.status
    html = render_template("boards/lookup.html", board=b, case=case, number=number, error=error,
                           synthetic=features.is_synthetic(database.session()))
    return _private(html, status)


@bp.get("/<code>/report")
def report_form(code: str):
    """The form lives on the board (a language switch on the receipt lands here)."""
    b = _board(code)
    lang = request.args.get("lang")
    return redirect(url_for("boards.board", code=b.code, **({"lang": lang} if lang in ("zh", "en") else {}),
                            _anchor="report"))


# ---------------------------------------------------------------- errors on the board


@bp.errorhandler(429)
def too_many(exc):
    """Over the rate limit: the form again, with what was typed and a reason in Chinese (the
    board itself shows the grid worker's phone)."""
    code = (request.view_args or {}).get("code", "")
    b = boards.board_or_none(database.session(), code)
    if b is None or request.method != "POST":
        html = render_template("boards/limited.html", board=b, tel=boards.tel,
                               synthetic=features.is_synthetic(database.session()))
        response = _private(html, 429)
    else:
        request.max_content_length = REPORT_MAX_CONTENT  # the limiter answers before the view sets it
        form = {k: request.form.get(k, "") for k in boards.FORM_FIELDS}
        limited = FieldError("form", "提交过于频繁, 请稍后再试; 如有急事, 请直接拨打上方网格员的电话",
                                    "too many reports from your network: try again later, or call the grid worker")
        response = _render_board(b, form=form, errors=[limited], status=429)
    response.headers["Retry-After"] = "60"
    return response


@bp.errorhandler(CSRFError)
def csrf_failed(exc):
    """A board form whose security token is missing or stale: shown again with its content."""
    code = (request.view_args or {}).get("code", "")
    if request.endpoint != "boards.report":
        return http_error_page(400, exc.description)
    b = _board(code)
    form = {k: request.form.get(k, "") for k in boards.FORM_FIELDS}
    stale = FieldError("form", "页面已过期或安全校验未通过, 请确认内容后重新提交",
                              "the page has expired or failed its security check; check it and send it again")
    return _render_board(b, form=form, errors=[stale], status=400)
