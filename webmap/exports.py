"""Case exports at ``/api/v1/exports`` (the dispatcher console's 导出 button).

- ``POST /cases`` with the console's filters as JSON (``state``, ``category``, ``village``, ``grid``,
  ``source``, ``since``, ``until``, ``overdue``, optional ``bbox``): up to 10,000 cases
  (``EXPORT_SYNC_MAX``) the workbook is written at once: **201** ``{job, state: "完成", done, total,
  url, status_url}`` with ``Location`` the file; beyond, **202** ``{job, state: "排队", status_url,
  …}`` and a thread of the app writes it.
- ``GET /<job>``: ``{job, state: 排队|进行中|完成|失败, state_en, done, total, url}`` (``url`` once 完成).
- ``GET /<job>/file``: the .xlsx. Both only for the account that asked, or one of the same role,
  scope and department; 404 for anyone else.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, jsonify, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import Session

from webmap import database
from webmap.auth import csrf_for_cookie_sessions
from webmap.params import json_body
from webmap.services import exports

bp = Blueprint("exports", __name__, url_prefix="/api/v1/exports")
bp.before_request(csrf_for_cookie_sessions)


def _directory() -> Path:
    return Path(current_app.config["EXPORTS_DIR"])


def _thread_session(app) -> Session:
    """The export thread's own session on the app's engine (a request's session is not shared
    across threads)."""
    return Session(app.extensions["wangge.engine"], expire_on_commit=False)


def _answer(record: dict) -> dict:
    job = record["job"]
    done = record["state"] == exports.DONE
    return {"job": job, "kind": record["kind"], "state": record["state"],
            "state_en": exports.STATE_EN[record["state"]], "done": record["done"], "total": record["total"],
            "created": record["created"], "filters": record["filters"],
            "status_url": url_for("exports.status", job=job),
            "url": url_for("exports.file", job=job) if done else None,
            "error": record.get("error")}


@bp.post("/cases")
@login_required
def cases():
    app = current_app._get_current_object()
    record = exports.start_case_export(
        database.session(), current_user, json_body(), directory=_directory(),
        sync_max=app.config["EXPORT_SYNC_MAX"], session_factory=lambda: _thread_session(app),
        app_key=id(app))
    answer = _answer(record)
    response = jsonify(answer)
    response.status_code = 201 if record["state"] == exports.DONE else 202
    response.headers["Location"] = answer["url"] or answer["status_url"]
    return response


@bp.get("/<job>")
@login_required
def status(job: str):
    response = jsonify(_answer(exports.job_status(_directory(), current_user, job)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<job>/file")
@login_required
def file(job: str):
    path, name = exports.job_file(_directory(), current_user, job)
    return send_file(path, mimetype=exports.XLSX_MIME, as_attachment=True, download_name=name, max_age=0)
