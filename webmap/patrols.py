"""Patrols (巡查) at ``/api/v1/patrols`` and the grids' key places.

- ``POST /api/v1/patrols`` ``{"client_id", "started_at"}``: start a patrol of the signed-in
  worker (201; the same ``client_id`` again: 200 and the same patrol).
- ``POST /api/v1/patrols/{id}/fixes`` ``{"fixes": [{"t", "lng", "lat", "accuracy", "speed"}]}``
  (≤ 5,000, WGS84, times with an offset): idempotent — resent fixes are counted as duplicates.
- ``POST /api/v1/patrols/{id}/stop`` ``{"ended_at"}``: the patrol with its metrics and flags.
- ``POST /api/v1/patrols/gpx``: a GPX file (multipart field ``file``, or the body as
  ``application/gpx+xml``) as one patrol; ``worker=USERNAME`` for the town.
- ``GET /api/v1/patrols?worker=USERNAME&date=YYYY-MM-DD`` (also ``village``, ``flagged=1`` — the
  review queue, newest first —, ``limit`` ≤ 500, ``offset``): a JSON list, one object per patrol: ``distance_m``, ``duration_s``, ``moving_s``, ``coverage``,
  ``checkpoints``, ``outside_s``, ``flags``, ``review``.
- ``GET /api/v1/patrols/{id}`` (``fixes=1``: with its fixes, for playback);
  ``POST /api/v1/patrols/{id}/review`` ``{"verdict": "accepted"|"rejected", "note"}`` (the town).
- ``GET|POST /api/v1/grids/{code}/checkpoints``, ``PUT …/checkpoints/{id}``: key places (重点场所).

Tracks are whereabouts: only the worker, their leader and the town see them.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_login import current_user, login_required

from webmap import database
from webmap.auth import csrf_for_cookie_sessions
from webmap.params import json_body
from webmap.services import patrols as service

bp = Blueprint("patrols", __name__, url_prefix="/api/v1")
bp.before_request(csrf_for_cookie_sessions)
MAX_GPX_BYTES = 20 * 1024 * 1024


@bp.post("/patrols")
@login_required
def start():
    answer = service.start(database.session(), current_user, json_body())
    return jsonify(answer), 201 if answer["created"] else 200


@bp.post("/patrols/<int:patrol_id>/fixes")
@login_required
def fixes(patrol_id: int):
    return jsonify(service.add_fixes(database.session(), current_user, patrol_id, json_body()))


@bp.post("/patrols/<int:patrol_id>/stop")
@login_required
def stop(patrol_id: int):
    body = request.get_json(silent=True) if request.data else {}
    return jsonify(service.stop(database.session(), current_user, patrol_id, body or {}))


@bp.post("/patrols/gpx")
@login_required
def gpx():
    if request.content_length and request.content_length > MAX_GPX_BYTES:
        raise service.PatrolError(413, "GPX 文件超过 20 MB", "the GPX file is larger than 20 MB", field="file")
    upload = request.files.get("file")
    data = upload.read(MAX_GPX_BYTES + 1) if upload else request.get_data(cache=False)[:MAX_GPX_BYTES + 1]
    if not data:
        raise service.PatrolError(400, "请上传 GPX 文件 (字段 file)", "send a GPX file (field file)", field="file")
    if len(data) > MAX_GPX_BYTES:
        raise service.PatrolError(413, "GPX 文件超过 20 MB", "the GPX file is larger than 20 MB", field="file")
    worker = request.args.get("worker") or request.form.get("worker") or None
    answer = service.import_gpx(database.session(), current_user, data, worker)
    return jsonify(answer), 201 if answer["created"] else 200


@bp.get("/patrols")
@login_required
def list_patrols():
    args = request.args
    flagged = (args.get("flagged") or "").lower() in ("1", "true", "yes")
    limit, offset = service.parse_page(args)
    return jsonify(service.list_patrols(database.session(), current_user, args.get("worker") or None,
                                        service.parse_day(args.get("date")), village=args.get("village") or None,
                                        flagged=flagged, limit=limit, offset=offset))


@bp.get("/patrols/<int:patrol_id>")
@login_required
def get_patrol(patrol_id: int):
    with_fixes = (request.args.get("fixes") or "").lower() in ("1", "true", "yes")
    return jsonify(service.detail(database.session(), current_user, patrol_id, with_fixes=with_fixes))


@bp.post("/patrols/<int:patrol_id>/review")
@login_required
def review(patrol_id: int):
    body = json_body()
    return jsonify(service.review(database.session(), current_user, patrol_id, body.get("verdict"),
                                  body.get("note") or ""))


def _grid(code: str) -> str:
    if not (len(code) == 15 and code.isdigit()):
        raise service.PatrolError(404, "网格编码应为 15 位数字", "a grid code has 15 digits")
    return code


@bp.get("/grids/<code>/checkpoints")
@login_required
def list_checkpoints(code: str):
    return jsonify({"grid_code": code, "checkpoints": service.checkpoints(database.session(), _grid(code))})


@bp.post("/grids/<code>/checkpoints")
@login_required
def add_checkpoint(code: str):
    return jsonify(service.set_checkpoint(database.session(), current_user, _grid(code), json_body())), 201


@bp.put("/grids/<code>/checkpoints/<int:checkpoint_id>")
@login_required
def change_checkpoint(code: str, checkpoint_id: int):
    return jsonify(service.set_checkpoint(database.session(), current_user, _grid(code), json_body(),
                                          checkpoint_id))
