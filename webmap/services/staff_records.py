"""The town centre's own staff (本中心人员, seed 7-1): who works at the centre (post, establishment
事业编制/聘用/借调/其他, since, until), their training records (course, day, hours, certificate and a
scanned certificate) and the annual assessment of the 事业编制 staff by the town's party committee and
government (镇党委、镇政府年度考核) in the same three grades as the workers'.

Training records are also kept for the grid workers: a training's person is a member of the centre's
staff or a person who holds a grid worker's account. The roster of a year carries each member's
training hours of the year and their grade.

Read by the town's desk and the district (:data:`workflow.staff.STAFF_READERS`): not by a village's
leader (these are the town centre's own staff) nor a worker. Written by ``manage_staff`` (the
dispatchers, the administrator). Every write is audited in its transaction. An appraisal is one per
person and year: recording it again replaces the grade, and the audit log keeps the old one.
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import extract, select
from sqlalchemy.orm import Session

from db.models import Account, Attachment, Person, StaffAppraisal, StaffMember, StaffTraining
from workflow import roles
from workflow import staff as rules
from workflow.clock import SHANGHAI, format_iso

from .audit import audit
from .errors import (
    FieldError,
    ForbiddenError,
    InvalidInputError,
    InvalidParametersError,
    NotFoundError,
)

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHA256 = re.compile(r"[0-9a-f]{64}")
PHONE = re.compile(r"[0-9+\- ]{5,20}")
FIRST_YEAR = 2000
NOTE_MAX = 500


class StaffInputError(InvalidInputError):
    CODE = "StaffRecordRejected"
    LEAD = ("人员记录未保存", "the staff record was not saved")

    def __init__(self, errors: list[FieldError], **kw):
        kw.setdefault("status", 400)
        super().__init__(errors, **kw)


def _today(now: datetime | None) -> date:
    return (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI).date()


def check_reader(user) -> None:
    if user.role not in rules.STAFF_READERS:
        raise ForbiddenError("本中心人员只有镇综治中心、镇领导和区网格中心可以查看",
                             "the centre's own staff are read by the town's centre, its leaders and the district")


def check_manager(user) -> None:
    if not roles.has_permission(user.role, "manage_staff"):
        raise ForbiddenError("只有镇综治中心 (调度员、管理员) 可以登记本中心人员、培训和考核",
                             "only the town's centre (dispatchers, the administrator) records staff, trainings and grades")


# ------------------------------------------------------------------ parsing

def _body(body) -> dict:
    if not isinstance(body, dict):
        raise StaffInputError([FieldError("body", "请求体应为 JSON 对象", "the body must be a JSON object")])
    return body


def _text(body: dict, key: str, zh: str, limit: int, errors: list, required: bool = True) -> str | None:
    raw = body.get(key)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if required:
            errors.append(FieldError(key, f"请填写{zh}", f"{key} is required"))
        return None
    if not isinstance(raw, str) or len(raw.strip()) > limit:
        errors.append(FieldError(key, f"{zh}应为文字, 最多 {limit} 字", f"{key} is text of at most {limit} characters"))
        return None
    return raw.strip()


def _day(raw, key: str, zh: str, errors: list) -> date | None:
    try:
        return date.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        pass
    errors.append(FieldError(key, f"{zh}应为 YYYY-MM-DD", f"{key} must be YYYY-MM-DD"))
    return None


def _person_id(raw, errors: list, key: str = "person") -> int | None:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw <= 0:
        if isinstance(raw, str) and raw.isdigit():
            return int(raw)
        errors.append(FieldError(key, "请选择人员", "person must be a person's id"))
        return None
    return raw


def _year(raw, today: date, errors: list, key: str = "year") -> int | None:
    if isinstance(raw, str) and raw.isdigit():
        raw = int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int) or not FIRST_YEAR <= raw <= today.year:
        errors.append(FieldError(key, f"年度应为 {FIRST_YEAR}–{today.year} 年", f"year is {FIRST_YEAR}–{today.year}"))
        return None
    return raw


def year_arg(raw: str | None, now: datetime | None = None, required: bool = False) -> int | None:
    """A query's ``year``: the current year when left out (or None where not required)."""
    today = _today(now)
    if raw in (None, ""):
        return today.year if required else None
    errors: list[FieldError] = []
    year = _year(raw, today, errors)
    if errors:
        raise InvalidParametersError(errors)
    return year


def person_arg(raw: str | None) -> int | None:
    if raw in (None, ""):
        return None
    if not raw.isdigit() or int(raw) <= 0:
        raise InvalidParametersError([FieldError("person", "人员应为编号", "person is a person's id")])
    return int(raw)


# ------------------------------------------------------------------ members

def _active_in(member: StaffMember, year: int) -> bool:
    return ((member.since is None or member.since <= date(year, 12, 31))
            and (member.until is None or member.until >= date(year, 1, 1)))


def _member_dict(member: StaffMember, person: Person, username: str | None, today: date) -> dict:
    return {"person": {"id": person.id, "name": person.name, "phone": person.phone}, "username": username,
            "post": member.post, "establishment": member.establishment,
            "establishment_en": rules.ESTABLISHMENTS_EN[member.establishment],
            "since": member.since.isoformat() if member.since else None,
            "until": member.until.isoformat() if member.until else None,
            "active": member.until is None or member.until >= today,
            "appraised": member.establishment == rules.APPRAISED}


def _usernames(db: Session, person_ids) -> dict[int, str]:
    rows = db.execute(select(Account.person_id, Account.username).where(Account.person_id.in_(list(person_ids)))
                      .order_by(Account.id)).all()
    names: dict[int, str] = {}
    for pid, username in rows:
        names.setdefault(pid, username)
    return names


def _hours(db: Session, year: int, person_ids=None) -> dict[int, tuple[float, int]]:
    query = select(StaffTraining.person_id, StaffTraining.hours).where(extract("year", StaffTraining.day) == year)
    if person_ids is not None:
        query = query.where(StaffTraining.person_id.in_(list(person_ids)))
    totals: dict[int, list] = defaultdict(lambda: [0.0, 0])
    for pid, hours in db.execute(query):
        totals[pid][0] += hours
        totals[pid][1] += 1
    return {pid: (round(h, 2), n) for pid, (h, n) in totals.items()}


def members(db: Session, user, year: int | None = None, now: datetime | None = None) -> dict:
    """The roster: every member (present and past, present first), with the year's training hours
    and the year's grade."""
    check_reader(user)
    today = _today(now)
    year = year or today.year
    rows = db.execute(select(StaffMember, Person).join(Person, Person.id == StaffMember.person_id)
                      .order_by(StaffMember.until.is_not(None), StaffMember.since, Person.id)).all()
    ids = [p.id for _m, p in rows]
    names = _usernames(db, ids)
    hours = _hours(db, year, ids)
    grades = {a.person_id: a for a in db.scalars(select(StaffAppraisal).where(StaffAppraisal.year == year,
                                                                            StaffAppraisal.person_id.in_(ids)))}
    items = []
    for member, person in rows:
        item = _member_dict(member, person, names.get(person.id), today)
        h, n = hours.get(person.id, (0.0, 0))
        grade = grades.get(person.id)
        item.update(in_year=_active_in(member, year), hours=h, trainings=n,
                    grade=grade.grade if grade else None, grade_en=rules.GRADES_EN.get(grade.grade) if grade else None)
        items.append(item)
    return {"year": year, "items": items, "establishments": list(rules.ESTABLISHMENTS), "grades": list(rules.GRADES),
            "posts": list(rules.POSTS),
            "appraised": rules.APPRAISED, "appraiser": rules.APPRAISER, "can_manage": roles.has_permission(user.role, "manage_staff")}


def _member_fields(body: dict, errors: list, partial: bool) -> dict:
    fields = {}
    if not partial or "post" in body:
        fields["post"] = _text(body, "post", "岗位", rules.POST_MAX, errors)
    if not partial or "establishment" in body:
        if body.get("establishment") not in rules.ESTABLISHMENTS:
            errors.append(FieldError("establishment", "编制应为 " + "、".join(rules.ESTABLISHMENTS),
                                     "establishment is one of " + ", ".join(rules.ESTABLISHMENTS_EN.values())))
        fields["establishment"] = body.get("establishment")
    for key, zh in (("since", "到岗日期"), ("until", "离岗日期")):
        if key in body:
            fields[key] = None if body[key] in (None, "") else _day(body[key], key, zh, errors)
    return fields


def _check_span(since: date | None, until: date | None, today: date, errors: list) -> None:
    if since and since > today:
        errors.append(FieldError("since", "到岗日期不能晚于今天", "since is not in the future"))
    if since and until and until < since:
        errors.append(FieldError("until", "离岗日期不能早于到岗日期", "until is before since"))


def add_member(db: Session, user, body, now: datetime | None = None) -> dict:
    """A member of the centre's staff: an existing person (``person``) or a new one (``name`` +
    ``phone``), with post, establishment and since (today when left out). Commits."""
    check_manager(user)
    body, today, errors = _body(body), _today(now), []
    fields = _member_fields(body, errors, partial=False)
    fields.setdefault("since", today)
    person = None
    if body.get("person") not in (None, ""):
        pid = _person_id(body.get("person"), errors)
        person = db.get(Person, pid) if pid else None
        if pid and person is None:
            errors.append(FieldError("person", "没有这个人员", "no such person"))
        elif person is not None:
            existing = db.get(StaffMember, person.id)
            if existing is not None and existing.until is None:
                errors.append(FieldError("person", "此人已是本中心人员", "already a member of the centre's staff"))
    else:
        name = _text(body, "name", "姓名", 50, errors)
        phone = _text(body, "phone", "手机", 20, errors)
        if phone and not PHONE.fullmatch(phone):
            errors.append(FieldError("phone", "手机号码格式不对", "phone is digits"))
    _check_span(fields["since"], None, today, errors)
    if errors:
        raise StaffInputError(errors)
    if person is None:
        person = Person(name=name, phone=phone)
        db.add(person)
        db.flush()
    member = db.get(StaffMember, person.id)
    before = _audited(member) if member is not None else None
    if member is None:
        member = StaffMember(person_id=person.id)
        db.add(member)
    member.post, member.establishment, member.since, member.until = (fields["post"], fields["establishment"],
                                                                     fields["since"], None)
    db.flush()
    audit(db, user, "staff_member_add", f"staff_member:{person.id}", before, _audited(member))
    db.commit()
    return _member_dict(member, person, _usernames(db, [person.id]).get(person.id), today)


def _audited(member: StaffMember) -> dict:
    return {"post": member.post, "establishment": member.establishment,
            "since": member.since.isoformat() if member.since else None,
            "until": member.until.isoformat() if member.until else None}


def change_member(db: Session, user, person_id: int, body, now: datetime | None = None) -> dict:
    """Change a member's post, establishment, since, or end their time (``until``); ``note`` (why)
    goes to the audit log. Commits."""
    check_manager(user)
    member = db.get(StaffMember, person_id)
    if member is None:
        raise NotFoundError("不是本中心人员", "not a member of the centre's staff")
    body, today, errors = _body(body), _today(now), []
    fields = _member_fields(body, errors, partial=True)
    note = _text(body, "note", "说明", NOTE_MAX, errors, required=False)
    if not fields and not errors:
        errors.append(FieldError("body", "没有要修改的内容 (post, establishment, since, until)",
                                 "nothing to change (post, establishment, since, until)"))
    _check_span(fields.get("since", member.since), fields.get("until", member.until), today, errors)
    if errors:
        raise StaffInputError(errors)
    before = _audited(member)
    for key, value in fields.items():
        setattr(member, key, value)
    audit(db, user, "staff_member_change", f"staff_member:{person_id}", before, _audited(member), note)
    db.commit()
    person = db.get(Person, person_id)
    return _member_dict(member, person, _usernames(db, [person_id]).get(person_id), today)


# ------------------------------------------------------------------ trainings

def _training_dict(t: StaffTraining, person: Person) -> dict:
    return {"id": t.id, "person": {"id": person.id, "name": person.name}, "course": t.course,
            "day": t.day.isoformat(), "hours": t.hours, "certificate": t.certificate, "attachment": t.attachment,
            "recorded_at": format_iso(t.recorded_at)}


def trainings(db: Session, user, person: int | None = None, year: int | None = None) -> dict:
    """Training records, newest first (of a person, of a year), and the hours per person and year."""
    check_reader(user)
    query = select(StaffTraining, Person).join(Person, Person.id == StaffTraining.person_id)
    if person is not None:
        query = query.where(StaffTraining.person_id == person)
    if year is not None:
        query = query.where(extract("year", StaffTraining.day) == year)
    rows = db.execute(query.order_by(StaffTraining.day.desc(), StaffTraining.id.desc()).limit(2000)).all()
    totals: dict[tuple[int, int], dict] = {}
    for t, p in rows:
        key = (p.id, t.day.year)
        total = totals.setdefault(key, {"person": {"id": p.id, "name": p.name}, "year": t.day.year, "hours": 0.0,
                                        "count": 0})
        total["hours"] = round(total["hours"] + t.hours, 2)
        total["count"] += 1
    return {"items": [_training_dict(t, p) for t, p in rows],
            "totals": sorted(totals.values(), key=lambda x: (-x["year"], x["person"]["id"]))}


def _trainable(db: Session, person_id: int) -> bool:
    """A member of the centre's staff (present or past) or a grid worker."""
    if db.get(StaffMember, person_id) is not None:
        return True
    return db.execute(select(Account.id).where(Account.person_id == person_id, Account.role == "worker")).first() is not None


def add_training(db: Session, user, body, now: datetime | None = None) -> dict:
    """A training record ``{person, course, day, hours, certificate?, attachment?}``. Commits."""
    check_manager(user)
    body, today, errors = _body(body), _today(now), []
    pid = _person_id(body.get("person"), errors)
    if pid is not None and (db.get(Person, pid) is None or not _trainable(db, pid)):
        errors.append(FieldError("person", "只能登记本中心人员或网格员的培训", "the person is not on the centre's staff nor a grid worker"))
    course = _text(body, "course", "课程名称", rules.COURSE_MAX, errors)
    day = _day(body.get("day"), "day", "培训日期", errors)
    if day and day > today:
        errors.append(FieldError("day", "培训日期不能晚于今天", "the day is not in the future"))
    elif day and day.year < FIRST_YEAR:
        errors.append(FieldError("day", f"培训日期应在 {FIRST_YEAR} 年以后", f"the day is after {FIRST_YEAR}"))
    hours = body.get("hours")
    if isinstance(hours, str):
        try:
            hours = float(hours)
        except ValueError:
            hours = None
    if isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 < hours <= rules.TRAINING_MAX_HOURS:
        errors.append(FieldError("hours", f"学时应大于 0, 不超过 {rules.TRAINING_MAX_HOURS}",
                                 f"hours are more than 0 and at most {rules.TRAINING_MAX_HOURS}"))
        hours = None
    certificate = _text(body, "certificate", "证书编号", rules.CERTIFICATE_MAX, errors, required=False)
    attachment = body.get("attachment") or None
    if attachment is not None and (not isinstance(attachment, str) or not SHA256.fullmatch(attachment)
                                   or db.get(Attachment, attachment) is None):
        errors.append(FieldError("attachment", "证书扫描件未上传或已失效, 请重新上传",
                                 "attachment is the id of an uploaded scan"))
    if errors:
        raise StaffInputError(errors)
    record = StaffTraining(person_id=pid, course=course, day=day, hours=float(hours), certificate=certificate,
                           attachment=attachment, recorded_by=user.id, recorded_at=now or datetime.now(SHANGHAI))
    db.add(record)
    db.flush()
    after = {"person": pid, "course": course, "day": day.isoformat(), "hours": record.hours,
             "certificate": certificate, "attachment": attachment}
    audit(db, user, "staff_training_add", f"staff_training:{record.id}", None, after)
    db.commit()
    return _training_dict(record, db.get(Person, pid))


# ------------------------------------------------------------------ appraisals

def _appraisal_dict(a: StaffAppraisal, person: Person) -> dict:
    return {"id": a.id, "person": {"id": person.id, "name": person.name}, "year": a.year, "grade": a.grade,
            "grade_en": rules.GRADES_EN[a.grade], "appraiser": a.appraiser, "note": a.note,
            "recorded_at": format_iso(a.recorded_at)}


def appraisals(db: Session, user, year: int | None = None, person: int | None = None) -> dict:
    """The annual grades of a year (and/or of a person, every year), newest first."""
    check_reader(user)
    query = select(StaffAppraisal, Person).join(Person, Person.id == StaffAppraisal.person_id)
    if year is not None:
        query = query.where(StaffAppraisal.year == year)
    if person is not None:
        query = query.where(StaffAppraisal.person_id == person)
    rows = db.execute(query.order_by(StaffAppraisal.year.desc(), Person.id)).all()
    return {"year": year, "items": [_appraisal_dict(a, p) for a, p in rows], "grades": list(rules.GRADES)}


def record_appraisal(db: Session, user, body, now: datetime | None = None) -> tuple[dict, bool]:
    """The year's grade of a 事业编制 member ``{person, year, grade, note?}``; the second of a year
    replaces the first (the audit log keeps it). Returns (the appraisal, created). Commits."""
    check_manager(user)
    body, today, errors = _body(body), _today(now), []
    pid = _person_id(body.get("person"), errors)
    year = _year(body.get("year"), today, errors)
    grade = body.get("grade")
    if grade not in rules.GRADES:
        errors.append(FieldError("grade", "等次应为 " + "、".join(rules.GRADES), "grade is one of " + ", ".join(rules.GRADES)))
    note = _text(body, "note", "说明", NOTE_MAX, errors, required=False)
    member = db.get(StaffMember, pid) if pid else None
    if pid and member is None:
        errors.append(FieldError("person", "不是本中心人员", "not a member of the centre's staff"))
    elif member is not None and member.establishment != rules.APPRAISED:
        errors.append(FieldError("person", f"镇党委、镇政府年度考核只考核{rules.APPRAISED}人员, 此人为{member.establishment}",
                                 f"only {rules.ESTABLISHMENTS_EN[rules.APPRAISED]} are appraised; this member is "
                                 f"{rules.ESTABLISHMENTS_EN[member.establishment]}"))
    elif member is not None and year and not _active_in(member, year):
        errors.append(FieldError("year", "此人该年度不在本中心", "the member was not on the staff that year"))
    if errors:
        raise StaffInputError(errors)
    existing = db.scalars(select(StaffAppraisal).where(StaffAppraisal.person_id == pid, StaffAppraisal.year == year)).first()
    before = None if existing is None else {"grade": existing.grade, "note": existing.note,
                                            "recorded_by": existing.recorded_by, "recorded_at": format_iso(existing.recorded_at)}
    record = existing or StaffAppraisal(person_id=pid, year=year, appraiser=rules.APPRAISER)
    record.grade, record.note = grade, note
    record.recorded_by, record.recorded_at = user.id, now or datetime.now(SHANGHAI)
    if existing is None:
        db.add(record)
    db.flush()
    audit(db, user, "staff_appraisal_change" if existing else "staff_appraisal_add", f"staff_appraisal:{record.id}",
          before, {"person": pid, "year": year, "grade": grade, "note": note})
    db.commit()
    return _appraisal_dict(record, db.get(Person, pid)), existing is None


# ------------------------------------------------------------------ the year's roster as Excel

COLUMNS = (("姓名", "name"), ("岗位", "post"), ("编制", "establishment"), ("到岗", "since"), ("离岗", "until"),
           ("培训次数", "trainings"), ("培训学时", "hours"), ("年度考核", "grade"))


def workbook(roster: dict, centre: str = "") -> bytes:
    """The roster of a year (those on the staff that year) as an .xlsx for the report upward."""
    book = Workbook()
    sheet = book.active
    sheet.title = f"{roster['year']}年度"
    sheet.append([f"{centre}本中心人员 {roster['year']} 年度培训与考核"])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([zh for zh, _k in COLUMNS])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for item in roster["items"]:
        if not item["in_year"]:
            continue
        values = {**item, "name": item["person"]["name"],
                  "grade": item["grade"] or ("未考核" if item["appraised"] else "—")}
        sheet.append([values[k] for _zh, k in COLUMNS])
    for letter, width in zip("ABCDEFGH", (12, 22, 10, 12, 12, 10, 10, 10), strict=True):
        sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
