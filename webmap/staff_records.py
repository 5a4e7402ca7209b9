"""The town centre's own staff (本中心人员, seed 7-1), see :mod:`webmap.services.staff_records`:

- ``GET /api/v1/staff/members[?year=]``: the roster with the year's training hours and grade;
  ``GET /api/v1/staff/members.xlsx?year=`` the same as Excel, for the report upward.
- ``POST /api/v1/staff/members`` ``{person | name + phone, post, establishment, since}``;
  ``POST /api/v1/staff/members/<person_id>`` ``{post?, establishment?, since?, until?, note?}`` (change, end;
  the note goes to the audit log).
- ``GET /api/v1/staff/trainings[?person=&year=]`` (with the hours per person and year);
  ``POST /api/v1/staff/trainings`` ``{person, course, day, hours, certificate?, attachment?}``: a
  member of the staff or a grid worker.
- ``GET /api/v1/staff/appraisals?year=[&person=]``; ``POST /api/v1/staff/appraisals``
  ``{person, year, grade, note?}`` for 事业编制 members (201 new, 200 replacing the year's grade).
"""

from __future__ import annotations

import io

from flask import Blueprint, jsonify, request, send_file
from flask_login import current_user, login_required

from webmap import database, town
from webmap.auth import csrf_for_cookie_sessions
from webmap.params import json_body, record_id
from webmap.services import staff_records as records

bp = Blueprint("staff_records", __name__, url_prefix="/api/v1/staff")
bp.before_request(csrf_for_cookie_sessions)


@bp.get("/members")
@login_required
def members():
    year = records.year_arg(request.args.get("year"), required=True)
    return jsonify(records.members(database.session(), current_user, year))


@bp.get("/members.xlsx")
@login_required
def members_xlsx():
    year = records.year_arg(request.args.get("year"), required=True)
    roster = records.members(database.session(), current_user, year)
    book = records.workbook(roster, town.current().label("center_name", "zh"))
    return send_file(io.BytesIO(book), mimetype=records.XLSX_MIME, as_attachment=True,
                     download_name=f"staff_{year}.xlsx", max_age=0)


@bp.post("/members")
@login_required
def add_member():
    return jsonify(records.add_member(database.session(), current_user, json_body())), 201


@bp.post("/members/<person_id>")
@login_required
def change_member(person_id: str):
    number = record_id(person_id, "不是本中心人员", "not a member of the centre's staff")
    return jsonify(records.change_member(database.session(), current_user, number, json_body()))


@bp.get("/trainings")
@login_required
def trainings():
    return jsonify(records.trainings(database.session(), current_user, records.person_arg(request.args.get("person")),
                                     records.year_arg(request.args.get("year"))))


@bp.post("/trainings")
@login_required
def add_training():
    return jsonify(records.add_training(database.session(), current_user, json_body())), 201


@bp.get("/appraisals")
@login_required
def appraisals():
    person = records.person_arg(request.args.get("person"))
    year = records.year_arg(request.args.get("year"), required=person is None)
    return jsonify(records.appraisals(database.session(), current_user, year, person))


@bp.post("/appraisals")
@login_required
def record_appraisal():
    appraisal, created = records.record_appraisal(database.session(), current_user, json_body())
    return jsonify({**appraisal, "replaced": not created}), 201 if created else 200
