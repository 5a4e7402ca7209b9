"""The patrol desk page ``/patrols`` (巡查): the reports of seed 5-1 (日走访、周分析、月汇总) with the
sign-in hours of seed 7-2, the playback of a patrol's track and the town's review of flagged tracks.

The page is a shell with a JSON config; the data comes from ``/api/v1/patrols`` and
``/api/v1/patrols/reports``. Tracks are personal whereabouts: only the roles of
:func:`webmap.services.tracks.may_see_tracks` open the page, the others get a 403 page.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user, login_required

from webmap import database, tiles
from webmap.services import features, tracks
from workflow.clock import SHANGHAI

bp = Blueprint("patrol_pages", __name__)


@bp.get("/patrols")
@login_required
def page():
    """The desk page: village and date, the three reports, playback, the review queue."""
    if not tracks.may_see_tracks(current_user):
        raise tracks.TrackAccessDenied()
    root = request.script_root
    config = {
        "villagesUrl": url_for("ogc.items", collection_id="villages", limit=1000),
        "gridsUrl": url_for("ogc.items", collection_id="grids", limit=5000),
        "reportUrls": {kind: url_for("attendance.report", kind=kind) for kind in ("daily", "weekly", "monthly")},
        "patrolsUrl": url_for("patrols.list_patrols"),
        "patrolUrl": f"{root}/api/v1/patrols/",  # + id, + id/review
        "checkpointsUrl": f"{root}/api/v1/grids/",  # + code/checkpoints
        "visitCoverageUrl": url_for("visits.coverage"),  # 日走访: the month's households visited per grid
        **tiles.page_config(),
        "today": datetime.now(SHANGHAI).date().isoformat(),
        "canReview": current_user.can("review_patrols"),
        "user": {"username": current_user.username, "role": current_user.role,
                 "scope": current_user.scope_code or ""},
    }
    return render_template("pages/patrols.html", config=config,
                           synthetic=features.is_synthetic(database.session()))
