"""队伍管理, the pages of managing the grid workers (seed 7-2, 7-1, 5-1 ⑤): ``/staff`` on the desk of
the town's centre, the town's leaders, the village leaders and the district's grid centre (leave to
approve, the monthly spot checks, the discipline cases with their clocks, the assessment table and
rankings, the centre's own staff), and ``/m/staff`` on a worker's phone (their own assessment,
spot checks, notices and discipline). Each tab is a partial template under ``pages/staff/`` with its
own script ``static/js/staff_<tab>.js``; the data come from the APIs of each part."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, url_for
from flask_login import current_user, login_required

from webmap import database
from webmap.services import features
from workflow import leave as leave_rules
from workflow import staff as staff_rules
from workflow.clock import shanghai_now

pages = Blueprint("staff", __name__)

# the desk's tabs, in order; a tab's partial is pages/staff/_<name>.html, its script js/staff_<name>.js
TABS = ("leave", "spot", "discipline", "assessment", "people")
# the scripts a tab has beyond its own
MORE_SCRIPTS = {"assessment": ("staff_assessment_plan",)}


def _config() -> dict:
    now = shanghai_now()
    return {
        "role": current_user.role,
        "username": current_user.username,
        "scope": current_user.scope_code,
        "today": now.date().isoformat(),
        "month": f"{now.year:04d}-{now.month:02d}",
        "year": now.year,
        "canManage": current_user.can("manage_staff"),
        "canSpotCheck": current_user.can("spot_check"),
        "leaveUrl": url_for("leave.ask"),
        "leaveKinds": list(leave_rules.KINDS),
        "leaderDays": leave_rules.LEADER_DAYS,
        "spotChecksUrl": url_for("spot_checks.listing"),
        "disciplineUrl": url_for("spot_checks.cases"),
        "noticesUrl": url_for("spot_checks.notice_list"),
        "staffMembersUrl": url_for("staff_records.members"),
        "staffMembersXlsxUrl": url_for("staff_records.members_xlsx"),
        "staffTrainingsUrl": url_for("staff_records.trainings"),
        "staffAppraisalsUrl": url_for("staff_records.appraisals"),
        "attachmentsUrl": url_for("api.upload_attachment"),
        "assessmentsUrl": url_for("assessment.table"),
        "assessmentXlsxUrl": url_for("assessment.table_xlsx"),
        "assessmentScoresUrl": url_for("assessment.score"),
        "assessmentPlanUrl": url_for("assessment.plan"),
        "assessmentDecisionsUrl": url_for("assessment.decide"),
        "assessmentHistoryUrl": url_for("assessment.history", worker="WORKER"),
        "assessmentSheetUrl": url_for("assessment_pages.sheet", worker="WORKER", period="PERIOD"),
        "decisions": list(staff_rules.DECISIONS),
    }


@pages.get("/staff")
@login_required
def page():
    """The desk of 队伍管理; 403 for the roles that do not manage workers (a worker: /m/staff)."""
    if not current_user.can("read_staff"):
        abort(403)
    return render_template("pages/staff.html", config=_config(), tabs=TABS, more_scripts=MORE_SCRIPTS,
                           synthetic=features.is_synthetic(database.session()))


@pages.get("/m/staff")
@login_required
def phone():
    """A worker's own 我的考核 on the phone: their assessment, spot checks, notices, discipline."""
    if current_user.role != "worker":
        abort(403)
    return render_template("mobile/staff.html", config=_config(), synthetic=features.is_synthetic(database.session()))
