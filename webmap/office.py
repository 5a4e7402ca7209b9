"""办公室台账, the centre's registers (seed 3-1): the page ``/office`` (tabs 证照 / 印章 / 银行账户 /
法人登记要件) and its API under ``/api/v1/office`` (:mod:`webmap.services.office`):

- ``GET|POST /certificates``, ``POST /certificates/<id>`` ``{…, version}`` (a new ``valid_to``: renewed);
- ``GET|POST /seals``, ``POST /seals/<id>``; ``GET|POST /seals/<id>/uses`` (用印登记: appended only);
- ``GET|POST /accounts``, ``POST /accounts/<id>``; ``GET /accounts/<id>/number`` (the whole number:
  the centre only, audited);
- ``GET /checklist``, ``POST /checklist/<code>`` ``{state, day, note, scans, version}``;
- ``GET /reminders[?open=1]``, ``GET /reminders/<id>``, ``POST /reminders/<id>/acknowledge``.

Bearer tokens or the session cookie (with ``X-CSRFToken``), as the rest of ``/api/v1``.
"""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, render_template, request, url_for
from flask_login import current_user, login_required

from webmap import database
from webmap.auth import csrf_for_cookie_sessions
from webmap.params import json_body, record_id
from webmap.services import features
from webmap.services import office as service
from workflow import office as rules
from workflow.clock import shanghai_now

bp = Blueprint("office", __name__, url_prefix="/api/v1/office")
bp.before_request(csrf_for_cookie_sessions)
pages = Blueprint("office_pages", __name__)


def _body() -> dict:
    """The JSON body; an empty POST (a button with nothing to say) is ``{}``."""
    return json_body() if request.content_length else {}


@bp.get("/certificates")
@login_required
def certificates():
    return jsonify(service.certificates(database.session(), current_user))


@bp.post("/certificates")
@login_required
def add_certificate():
    return jsonify(service.add_certificate(database.session(), current_user, json_body())), 201


@bp.post("/certificates/<certificate_id>")
@login_required
def change_certificate(certificate_id: str):
    number = record_id(certificate_id, "没有这个证照", "no such certificate")
    return jsonify(service.change_certificate(database.session(), current_user, number, json_body()))


@bp.get("/seals")
@login_required
def seals():
    return jsonify(service.seals(database.session(), current_user))


@bp.post("/seals")
@login_required
def add_seal():
    return jsonify(service.add_seal(database.session(), current_user, json_body())), 201


@bp.post("/seals/<seal_id>")
@login_required
def change_seal(seal_id: str):
    number = record_id(seal_id, "没有这枚印章", "no such seal")
    return jsonify(service.change_seal(database.session(), current_user, number, json_body()))


@bp.get("/seals/<seal_id>/uses")
@login_required
def seal_uses(seal_id: str):
    number = record_id(seal_id, "没有这枚印章", "no such seal")
    return jsonify(service.seal_uses(database.session(), current_user, number))


@bp.post("/seals/<seal_id>/uses")
@login_required
def add_seal_use(seal_id: str):
    number = record_id(seal_id, "没有这枚印章", "no such seal")
    return jsonify(service.add_seal_use(database.session(), current_user, number, json_body())), 201


@bp.get("/accounts")
@login_required
def accounts():
    return jsonify(service.accounts(database.session(), current_user))


@bp.post("/accounts")
@login_required
def add_account():
    return jsonify(service.add_account(database.session(), current_user, json_body())), 201


@bp.post("/accounts/<account_id>")
@login_required
def change_account(account_id: str):
    number = record_id(account_id, "没有这个银行账户", "no such bank account")
    return jsonify(service.change_account(database.session(), current_user, number, json_body()))


@bp.get("/accounts/<account_id>/number")
@login_required
def account_number(account_id: str):
    number = record_id(account_id, "没有这个银行账户", "no such bank account")
    answer = jsonify(service.account_number(database.session(), current_user, number))
    answer.headers["Cache-Control"] = "no-store"
    return answer


@bp.get("/checklist")
@login_required
def checklist():
    return jsonify(service.checklist(database.session(), current_user))


@bp.post("/checklist/<code>")
@login_required
def record_checklist(code: str):
    return jsonify(service.record_checklist(database.session(), current_user, code, json_body()))


@bp.get("/reminders")
@login_required
def reminders():
    return jsonify(service.reminders(database.session(), current_user, open_only=request.args.get("open") == "1"))


@bp.get("/reminders/<reminder_id>")
@login_required
def reminder(reminder_id: str):
    number = record_id(reminder_id, "没有这条提醒", "no such reminder")
    return jsonify(service.reminder(database.session(), current_user, number))


@bp.post("/reminders/<reminder_id>/acknowledge")
@login_required
def acknowledge(reminder_id: str):
    number = record_id(reminder_id, "没有这条提醒", "no such reminder")
    return jsonify(service.acknowledge(database.session(), current_user, number, _body()))


# the page's tabs, in order
TABS = ("certificates", "seals", "accounts", "checklist")


@pages.get("/office")
@login_required
def page():
    """办公室台账: the centre's office keeps it, the town's leaders read it; 403 for the others."""
    if not current_user.can("read_office"):
        abort(403)
    now = shanghai_now()
    config = {
        "today": now.date().isoformat(), "canManage": current_user.can("manage_office"),
        "certificatesUrl": url_for("office.certificates"), "sealsUrl": url_for("office.seals"),
        "accountsUrl": url_for("office.accounts"), "checklistUrl": url_for("office.checklist"),
        "remindersUrl": url_for("office.reminders"), "attachmentsUrl": url_for("api.upload_attachment"),
        "certificateNames": list(rules.CERTIFICATE_NAMES), "sealNames": list(rules.SEAL_NAMES),
        "accountKinds": list(rules.ACCOUNT_KINDS), "reminderDays": list(rules.REMINDER_DAYS),
        "red": rules.DAYS_RED, "amber": rules.DAYS_AMBER,
    }
    return render_template("pages/office.html", config=config, tabs=TABS,
                           synthetic=features.is_synthetic(database.session()))
