"""The monthly reports (月报) at ``/stats/reports``: the reports written (by ``wangge jobs run`` on the 3rd
working day of a month, by ``wangge reports monthly`` or by the centre here), newest first, each PDF and
Excel file downloadable; ``POST /stats/reports`` ``{"month": "YYYY-MM"}`` (the centre: handle_cases) writes
one now. Read by the town's leaders, the centre and the district; not by a village's leader (the report
is the whole town's: every village's figures and the town's ranking of the grid workers).

The folder is the record (no table): ``REPORTS_DIR`` of the app's config, else ``WANGGE_REPORTS_DIR``,
else ``var/reports``.
"""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required

from webmap import database
from webmap.params import json_body
from webmap.services import features, reports
from webmap.services.errors import FieldError, ForbiddenError, InvalidParametersError
from workflow.clock import shanghai_now

pages = Blueprint("report_pages", __name__)

READERS = ("dispatcher", "town_leader", "district", "admin")


def folder() -> Path:
    return Path(current_app.config.get("REPORTS_DIR") or reports.reports_dir())


def _readable() -> None:
    if current_user.role not in READERS:
        abort(403)


def _listing() -> list[dict]:
    return [{**r, "pdfUrl": r["pdf"] and url_for("report_pages.download", name=r["pdf"]),
             "xlsxUrl": r["xlsx"] and url_for("report_pages.download", name=r["xlsx"])} for r in reports.written(folder())]


@pages.get("/stats/reports")
@login_required
def page():
    _readable()
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"reports": _listing()})
    now = shanghai_now()
    config = {"canWrite": current_user.can("handle_cases"), "month": f"{now:%Y-%m}",
              "listUrl": url_for("report_pages.page"), "reports": _listing()}
    return render_template("pages/reports.html", config=config, synthetic=features.is_synthetic(database.session()))


@pages.post("/stats/reports")
@login_required
def write():
    if not current_user.can("handle_cases"):
        raise ForbiddenError("只有镇综治中心可以生成月报", "only the town's centre writes the monthly report")
    body = json_body()
    first = reports.parse_request_month(body.get("month") if isinstance(body, dict) else None, shanghai_now())
    try:
        done = reports.write(database.session(), first, folder())
    except reports.ReportError as exc:
        raise InvalidParametersError([FieldError("month", exc.zh, exc.en)], lead=("月报未生成", "the report was not written")) from exc
    return jsonify({"month": done["month"], "reported": done["reported"], "seconds": done["seconds"],
                    "reports": _listing()}), 201


@pages.get("/stats/reports/<name>")
@login_required
def download(name: str):
    _readable()
    path = reports.file_in(folder(), name)
    if path is None:
        abort(404)
    mime = reports.PDF_MIME if name.endswith(".pdf") else reports.XLSX_MIME
    return send_file(path, mimetype=mime, as_attachment=name.endswith(".xlsx"), download_name=name, max_age=0)
