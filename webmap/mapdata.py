"""Map data for the dispatcher console (调度台), bounded per viewport, at ``/api/v1/map``.

- ``GET /cases?bbox=…&zoom=Z&…filters``: ``{"mode": "grids"|"hexes"|"cases", "total", "features"}``
  — per-grid aggregates at zoom ≤ 12, hexagon bins at 13–15, single cases at ≥ 16 or whenever the
  filtered viewport holds at most 2,000 cases; never more than 5,000 features.
- ``GET /heat?bbox=…&zoom=Z&…filters``: the heat-map layer, ``{"points": [[lat, lng, weight], …],
  "max", "cell_m"}`` — cases summed in hexagons of a few pixels, at most 5,000 points.
- ``GET /list?bbox=…&…filters&limit&offset&sort``: the viewport's cases, one page (≤ 200), most
  urgent first (``sort=urgent``, the default) or newest first (``sort=newest``).
- ``GET /search?q=``: up to 20 cases by case number, 12345 order number, address or description.
- ``GET /patrols?bbox=…``: today's patrol tracks (Asia/Shanghai) meeting the viewport, a GeoJSON
  FeatureCollection of LineStrings (≤ 500); personal whereabouts, so only for the roles that need
  them (403 for the others, see :mod:`webmap.services.tracks`).

Filters: ``state`` (comma list), ``category``, ``village``, ``grid``, ``source``, ``since``,
``until``, ``overdue=1``. Sign-in required; everything within the reader's scope.
"""

from flask import Blueprint, jsonify, request
from flask_login import current_user, login_required

from webmap import database
from webmap.auth import csrf_for_cookie_sessions
from webmap.params import moment_arg, page_args
from webmap.services import mapdata, tracks

bp = Blueprint("mapdata", __name__, url_prefix="/api/v1/map")
bp.before_request(csrf_for_cookie_sessions)  # read-only today; any later write is covered


def _filter(bbox_required: bool = True) -> mapdata.MapFilter:
    return mapdata.parse_filter(request.args, since=moment_arg("since"), until=moment_arg("until"),
                                bbox_required=bbox_required)


def _zoom() -> int:
    return mapdata.parse_zoom(request.args.get("zoom"))


@bp.get("/cases")
@login_required
def cases():
    f, zoom = _filter(), _zoom()
    return jsonify(mapdata.viewport(database.session(), current_user, f, zoom))


@bp.get("/heat")
@login_required
def heat():
    f, zoom = _filter(), _zoom()
    return jsonify(mapdata.heat(database.session(), current_user, f, zoom))


@bp.get("/list")
@login_required
def case_list():
    f = _filter()
    limit, offset = page_args(mapdata.LIST_DEFAULT, mapdata.LIST_MAX)
    sort = mapdata.parse_sort(request.args.get("sort"))
    return jsonify(mapdata.case_list(database.session(), current_user, f, limit, offset, sort=sort))


@bp.get("/search")
@login_required
def search():
    return jsonify(mapdata.search(database.session(), current_user, request.args.get("q", "")))


@bp.get("/patrols")
@login_required
def patrols():
    if not tracks.may_see_tracks(current_user):  # refused before any parameter is looked at
        raise tracks.TrackAccessDenied()
    bbox = tracks.parse_bbox(request.args)
    response = jsonify(tracks.todays_patrols(database.session(), current_user, bbox))
    response.headers["Cache-Control"] = "private, no-store"  # personal whereabouts
    return response
