"""The 100-point assessment of the grid workers (量化考核), computed from the data the product holds.

- :func:`current_plan` / :func:`save_plan`: the plan in force (the newest ``assessment_plans`` row,
  else :func:`workflow.assessment.default_plan`) and a new version, validated field by field, audited.
- :func:`month_table` / :func:`year_table`: every worker's items (formula and raw counts), total,
  grade, rank in the village and the town, pay tier. The raw counts are **set-based**: one grouped
  query per input over all the town's workers (:func:`raw_counts`), never a query per worker; the
  arithmetic is :mod:`workflow.assessment`. A leader reads their village, a worker their own, the
  town and the district all; the ranks are always among the whole town.
- :func:`set_score` (a hand score with its reason), :func:`decide` (续聘/辞退/奖励/惩处 on a year's
  result) and :func:`history` (a worker's decisions and computed years), audited.
- :func:`table_xlsx`: the month's table as an Excel workbook.

What each input counts (the month ``[first day, next month)`` in Asia/Shanghai):

- attendance: the working days of the month (the town's calendar) up to yesterday, and today if signed
  in, less the days covered by a leave 已批准 or 已销假 (excused: neither due nor missed); a day is
  signed when the worker has a sign-in (``kind = 'in'``) on it.
- reports: the worker's incidents (``worker_id``) reported in the month from the worker's phone
  (sources ``grid_worker`` and ``patrol``); ``void`` those of them now 作废.
- closed: the worker's incidents 结案 with ``closed_at`` in the month; ``on_time`` those closed by their
  deadline; ``verified`` those with a ``verify_pass`` event (verified on site); ``visited`` those with a
  return-visit satisfaction, ``satisfaction_sum`` its sum.
- patrols: the worker's ended patrols started in the month, not rejected by the town: count, hours of
  ``duration_s``, ``measured`` those with a ``coverage`` and its mean.
- spot check: the items of the worker's spot check of the month, ``checked`` (a result) and ``passed``.
- visits (日走访, formula ``visit_coverage``): ``households`` registered in the worker's grid (active
  address points) and ``households_visited`` of them in the month, each once however often visited
  (:func:`webmap.services.visits.grid_coverage`, the numbers of the /visits page).
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from db.models import Account, AssessmentDecision, AssessmentPlan, AssessmentScore, Person
from workflow import assessment as rules
from workflow import roles
from workflow.clock import SHANGHAI, format_iso
from workflow.staff import DECISIONS

from . import visits
from .audit import audit
from .errors import FieldError, ForbiddenError, InvalidInputError, NotFoundError
from .workdays import load_calendar

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
YEAR_RE = re.compile(r"^\d{4}$")
EXCUSED_STATES = ("已批准", "已销假")


class AssessmentInputError(InvalidInputError):
    CODE = "AssessmentRejected"
    LEAD = ("考核数据未保存", "the assessment data was not saved")


def _now(now):
    return (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI)


# ---------------------------------------------------------------- the plan


def current_plan(db: Session) -> dict:
    """The plan in force and its version: ``{plan, id, created_at, default}``."""
    row = db.execute(select(AssessmentPlan).order_by(AssessmentPlan.id.desc()).limit(1)).scalar_one_or_none()
    if row is None:
        return {"plan": rules.default_plan(), "id": None, "created_at": None, "default": True}
    return {"plan": row.body, "id": row.id, "created_at": format_iso(row.created_at), "default": False}


def plan_answer(db: Session, user) -> dict:
    if not roles.has_permission(user.role, "read_staff") and user.role != "worker":
        raise ForbiddenError("此角色不能查看考核方案", "this role does not read the assessment plan")
    answer = current_plan(db)
    answer["formulas"] = {f.name: {"zh": f.zh, "en": f.en, "inputs": list(f.inputs),
                                   "params": {k: {"default": v[0], "min": v[1], "max": v[2]} for k, v in f.params.items()}}
                          for f in rules.FORMULAS.values()}
    answer["counts"] = {k: {"zh": zh, "en": en} for k, (zh, en, _i) in rules.COUNTS.items()}
    return answer


def save_plan(db: Session, user, body, now: datetime | None = None) -> dict:
    """A new version of the plan (manage_staff), every bad field at once (422); audited. Commits."""
    if not roles.has_permission(user.role, "manage_staff"):
        raise ForbiddenError("只有镇综治中心可以修改考核方案", "only the town's centre edits the assessment plan")
    plan = body.get("plan", body) if isinstance(body, dict) else body
    errors = rules.validate_plan(plan)
    if errors:
        raise AssessmentInputError([FieldError(f, zh, en) for f, zh, en in errors])
    note = body.get("note") if isinstance(body, dict) else None
    keep = {k: plan[k] for k in ("items", "annual", "bands", "bonus_cap", "pay_tiers")}
    before = current_plan(db)
    row = AssessmentPlan(body=keep, created_at=_now(now), created_by=user.id,
                         note=note if isinstance(note, str) else None)
    db.add(row)
    db.flush()
    audit(db, user, "assessment_plan", f"assessment_plan:{row.id}", before["plan"], keep, row.note, at=_now(now))
    db.commit()
    return plan_answer(db, user)


# ---------------------------------------------------------------- periods and the workers


def parse_month(raw: str | None, field: str = "month") -> date:
    m = MONTH_RE.match(raw or "")
    if not m:
        raise AssessmentInputError([FieldError(field, "月份应为 YYYY-MM", f"{field} must be YYYY-MM")])
    return date(int(m.group(1)), int(m.group(2)), 1)


def _next_month(first: date) -> date:
    return date(first.year + (first.month == 12), first.month % 12 + 1, 1)


def workers(db: Session) -> list[dict]:
    """The town's grid workers (active worker accounts with a person), with their grid and village."""
    rows = db.execute(text("""
        SELECT a.id, a.username, a.person_id, a.scope_code, p.name, g.name, v.name
          FROM accounts a JOIN people p ON p.id = a.person_id
          LEFT JOIN grids g ON g.code = a.scope_code AND g.valid_to IS NULL
          LEFT JOIN areas v ON v.code = left(a.scope_code, 12)
         WHERE a.role = 'worker' AND a.active ORDER BY a.username""")).all()
    return [{"account_id": r[0], "username": r[1], "id": r[2], "grid": r[3], "name": r[4], "grid_name": r[5],
             "village": r[3][:12], "village_name": r[6]} for r in rows]


def visible(user, worker: dict) -> bool:
    """A worker reads their own, a leader their village, the town's and district's roles all."""
    if user.role == "worker":
        return worker["account_id"] == user.id
    if user.role == "leader":
        return worker["grid"].startswith(user.scope_code)
    return roles.has_permission(user.role, "read_staff")


def _readable(user) -> None:
    if user.role not in ("worker", "leader") and not roles.has_permission(user.role, "read_staff"):
        raise ForbiddenError("此角色不能查看考核", "this role does not read assessments")


# ---------------------------------------------------------------- the raw counts, set-based


def raw_counts(db: Session, first: date, today: date, ids: list[int]) -> dict[int, dict]:
    """Every input of every worker ``ids`` for the month of ``first``: one grouped query per input."""
    nxt = _next_month(first)
    a = datetime.combine(first, datetime.min.time(), SHANGHAI)
    b = datetime.combine(nxt, datetime.min.time(), SHANGHAI)
    p = {"a": a, "b": b, "ids": ids, "first": first, "last": nxt - timedelta(days=1)}
    raw: dict[int, dict] = {i: defaultdict(int) for i in ids}

    # attendance: the days signed in, the days on leave, against the calendar's working days
    calendar = load_calendar(db)
    signed = defaultdict(set)
    for wid, day in db.execute(text("""
            SELECT worker_id, (at AT TIME ZONE 'Asia/Shanghai')::date FROM attendance
             WHERE kind = 'in' AND at >= :a AND at < :b AND worker_id = ANY(:ids) GROUP BY 1, 2"""), p):
        signed[wid].add(day)
    excused = defaultdict(set)
    for wid, start, end in db.execute(text("""
            SELECT worker_id, start, "end" FROM leaves
             WHERE state IN ('已批准', '已销假') AND start <= :last AND "end" >= :first AND worker_id = ANY(:ids)"""), p):
        day = max(start, first)
        while day <= min(end, p["last"]):
            excused[wid].add(day)
            day += timedelta(days=1)
    workdays = []
    day = first
    while day < nxt and day <= today:
        if calendar.is_workday(day):
            workdays.append(day)
        day += timedelta(days=1)
    for wid in ids:
        r, s, e = raw[wid], signed.get(wid, set()), excused.get(wid, set())
        due = [d for d in workdays if d not in e and (d < today or d in s)]
        r["due_days"] = len(due)
        r["leave_days"] = sum(1 for d in workdays if d in e)
        r["signed_days"] = sum(1 for d in due if d in s)
        r["absent_days"] = r["due_days"] - r["signed_days"]

    for wid, n, void in db.execute(text("""
            SELECT worker_id, count(*), count(*) FILTER (WHERE state = '作废') FROM incidents
             WHERE reported_at >= :a AND reported_at < :b AND source IN ('grid_worker', 'patrol')
               AND worker_id = ANY(:ids) GROUP BY 1"""), p):
        raw[wid].update(reports=n, void=void, valid=n - void)

    for wid, n, on_time, visited, ssum, verified in db.execute(text("""
            SELECT i.worker_id, count(*), count(*) FILTER (WHERE i.deadline IS NULL OR i.closed_at <= i.deadline),
                   count(i.satisfaction), coalesce(sum(i.satisfaction), 0),
                   count(*) FILTER (WHERE EXISTS (SELECT 1 FROM case_events e
                                                   WHERE e.incident_id = i.id AND e.action = 'verify_pass'))
              FROM incidents i
             WHERE i.state = '结案' AND i.closed_at >= :a AND i.closed_at < :b AND i.worker_id = ANY(:ids)
             GROUP BY 1"""), p):
        raw[wid].update(closed=n, on_time=on_time, late=n - on_time, visited=visited,
                        satisfaction_sum=int(ssum), verified=verified)

    for wid, n, hours, measured, coverage in db.execute(text("""
            SELECT worker_id, count(*), coalesce(sum(duration_s), 0) / 3600.0, count(coverage), avg(coverage)
              FROM patrols
             WHERE started_at >= :a AND started_at < :b AND ended_at IS NOT NULL
               AND review IS DISTINCT FROM 'rejected' AND worker_id = ANY(:ids) GROUP BY 1"""), p):
        raw[wid].update(patrols=n, hours=round(float(hours), 2), measured=measured,
                        coverage=round(float(coverage), 3) if coverage is not None else 0)

    for wid, checked, passed in db.execute(text("""
            SELECT s.worker_id, count(i.result), count(*) FILTER (WHERE i.result = 'pass')
              FROM spot_checks s JOIN spot_check_items i ON i.spot_check_id = s.id
             WHERE s.month = :first AND s.worker_id = ANY(:ids) GROUP BY 1"""), p):
        raw[wid].update(checked=checked, passed=passed)

    grids = {g["grid_code"]: g for g in visits.grid_coverage(db, a, b)}
    for wid, grid in db.execute(text("""
            SELECT person_id, scope_code FROM accounts
             WHERE role = 'worker' AND active AND person_id = ANY(:ids)"""), p):
        if grid in grids:
            raw[wid].update(households=grids[grid]["households"], households_visited=grids[grid]["visited_households"])
    return {wid: dict(r) for wid, r in raw.items()}


def hand_scores(db: Session, period: str) -> dict[int, dict[str, dict]]:
    out: dict[int, dict[str, dict]] = defaultdict(dict)
    for wid, code, score, reason, at, who in db.execute(text("""
            SELECT s.worker_id, s.item_code, s.score, s.reason, s.set_at, a.username
              FROM assessment_scores s LEFT JOIN accounts a ON a.id = s.set_by WHERE s.period = :p"""), {"p": period}):
        out[wid][code] = {"score": score, "reason": reason, "set_at": format_iso(at), "set_by": who}
    return out


def _rank(rows: list[dict]) -> None:
    """Competition ranks (1, 2, 2, 4) by total, in the village and in the town."""
    def ranks(group):
        ordered = sorted(group, key=lambda r: -r["total"])
        for n, r in enumerate(ordered):
            yield r, (n + 1 if n == 0 or r["total"] != ordered[n - 1]["total"] else None)

    last = None
    for r, k in ranks(rows):
        last = k or last
        r["rank_in_town"] = last
    villages = defaultdict(list)
    for r in rows:
        villages[r["worker"]["village"]].append(r)
    for group in villages.values():
        last = None
        for r, k in ranks(group):
            last = k or last
            r["rank_in_village"] = last


def _worker_json(w: dict) -> dict:
    return {"id": w["id"], "username": w["username"], "name": w["name"], "village": w["village"],
            "village_name": w["village_name"]}


def _month_rows(db: Session, plan: dict, first: date, today: date, everyone: list[dict]) -> list[dict]:
    raw = raw_counts(db, first, today, [w["id"] for w in everyone])
    hand = hand_scores(db, f"{first.year:04d}-{first.month:02d}")
    rows = []
    for w in everyone:
        result = rules.month_result(plan, raw[w["id"]], hand.get(w["id"], {}))
        rows.append({"worker": _worker_json(w), "grid": w["grid"], "grid_name": w["grid_name"], **result})
    _rank(rows)
    return rows


def _scope(user, everyone: list[dict], village: str | None) -> list[dict]:
    return [w for w in everyone if visible(user, w) and (not village or w["grid"].startswith(village))]


def month_table(db: Session, user, month: str | None, village: str | None = None,
                now: datetime | None = None) -> dict:
    """The month's table of the workers the user may read (ranks among the whole town)."""
    _readable(user)
    first = parse_month(month)
    today = _now(now).date()
    if first > today:
        raise AssessmentInputError([FieldError("month", "不能考核未来的月份", "a month to come is not assessed")])
    plan = current_plan(db)["plan"]
    everyone = workers(db)
    rows = _month_rows(db, plan, first, today, everyone)
    keep = {w["id"] for w in _scope(user, everyone, village)}
    period = f"{first.year:04d}-{first.month:02d}"
    return {"period": period, "kind": "month", "items": [r for r in rows if r["worker"]["id"] in keep],
            "plan_items": [{"code": i["code"], "name": i["name"], "points": i["points"]} for i in plan["items"]],
            "bonus_cap": plan["bonus_cap"]}


def _year_rows(db: Session, plan: dict, year: int, today: date, everyone: list[dict]) -> list[dict]:
    last = 12 if year < today.year else today.month
    months = defaultdict(list)
    for m in range(1, last + 1):
        for r in _month_rows(db, plan, date(year, m, 1), today, everyone):
            months[r["worker"]["id"]].append(r["total"])
    hand = hand_scores(db, f"{year:04d}")
    lost = {wid for (wid,) in db.execute(text(
        "SELECT DISTINCT worker_id FROM discipline_cases WHERE loses_merit_year = :y"), {"y": year})}
    rows = []
    for w in everyone:
        survey = hand.get(w["id"], {}).get(plan["annual"]["survey_item"]["code"])
        result = rules.year_result(plan, months[w["id"]], survey["score"] if survey else None, w["id"] in lost)
        rows.append({"worker": _worker_json(w), "grid": w["grid"], "grid_name": w["grid_name"], **result,
                     "months": months[w["id"]], "survey": survey, "loses_merit": w["id"] in lost})
    _rank(rows)
    return rows


def year_table(db: Session, user, year: str | None, village: str | None = None, now: datetime | None = None) -> dict:
    """The year's result per worker: the months' mean weighed with the annual survey."""
    _readable(user)
    today = _now(now).date()
    if not YEAR_RE.match(year or "") or not 2000 <= int(year) <= today.year:
        raise AssessmentInputError([FieldError("year", "年份应为 YYYY, 不晚于今年", "year is YYYY, not after this year")])
    plan = current_plan(db)["plan"]
    everyone = workers(db)
    rows = _year_rows(db, plan, int(year), today, everyone)
    keep = {w["id"] for w in _scope(user, everyone, village)}
    return {"period": year, "kind": "year", "items": [r for r in rows if r["worker"]["id"] in keep],
            "weights": {"months": plan["annual"]["months"], "survey": plan["annual"]["survey"]},
            "survey_item": {k: plan["annual"]["survey_item"].get(k) for k in ("code", "name", "name_en", "points")}}


def _find_worker(db: Session, user, ref) -> dict:
    for w in workers(db):
        if ref in (w["id"], w["username"], str(w["id"])):
            if not visible(user, w):
                break
            return w
    raise NotFoundError("没有这名网格员", "no such grid worker")


def worker_sheet(db: Session, user, ref: str, period: str, now: datetime | None = None) -> dict:
    """One worker's result of a month or a year (the printable sheet)."""
    w = _find_worker(db, user, ref)
    table = (month_table(db, user, period, now=now) if MONTH_RE.match(period or "")
             else year_table(db, user, period, now=now))
    for row in table["items"]:
        if row["worker"]["id"] == w["id"]:
            return {"period": table["period"], "kind": table["kind"], **row}
    raise NotFoundError("没有这名网格员", "no such grid worker")


# ---------------------------------------------------------------- hand scores and decisions


def _worker_or_refuse(db: Session, user, ref, errors: list[FieldError]) -> dict:
    """The worker named, or every field error at once (422)."""
    try:
        w = _find_worker(db, user, ref)
    except NotFoundError:
        errors.append(FieldError("worker", "没有这名网格员", "no such grid worker"))
    if errors:
        raise AssessmentInputError(errors)
    return w


def set_score(db: Session, user, body, now: datetime | None = None) -> dict:
    """``{period, worker, item, score, reason}``: a score by hand (manage_staff), 0 – the item's points,
    a reason required; replaces an earlier one; audited. Commits."""
    if not roles.has_permission(user.role, "manage_staff"):
        raise ForbiddenError("只有镇综治中心可以手工评分", "only the town's centre sets scores by hand")
    if not isinstance(body, dict):
        raise AssessmentInputError([FieldError("body", "请求体应为 JSON 对象", "the body must be a JSON object")])
    plan = current_plan(db)["plan"]
    errors = []
    period = body.get("period")
    items = None
    if isinstance(period, str) and MONTH_RE.match(period):
        items = {i["code"]: i["points"] for i in plan["items"]} | {"bonus": plan["bonus_cap"]}
    elif isinstance(period, str) and YEAR_RE.match(period):
        items = {plan["annual"]["survey_item"]["code"]: plan["annual"]["survey_item"]["points"]}
    else:
        errors.append(FieldError("period", "期间应为 YYYY-MM 或 YYYY", "period is YYYY-MM or YYYY"))
    code = body.get("item")
    if items is not None and code not in items:
        errors.append(FieldError("item", f"考核项应为 {', '.join(items)} 之一", f"item is one of {', '.join(items)}"))
    score = body.get("score")
    if not isinstance(score, int | float) or isinstance(score, bool):
        errors.append(FieldError("score", "分数应为数字", "score must be a number"))
    elif items is not None and code in items and not 0 <= score <= items[code]:
        errors.append(FieldError("score", f"分数应在 0–{items[code]:g} 之间", f"score is 0–{items[code]:g}"))
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        errors.append(FieldError("reason", "手工评分须说明理由", "a score set by hand needs a reason"))
    elif len(reason) > 500:
        errors.append(FieldError("reason", "理由最多 500 字", "the reason is at most 500 characters"))
    w = _worker_or_refuse(db, user, body.get("worker"), errors)
    when = _now(now)
    row = db.execute(select(AssessmentScore).where(AssessmentScore.period == period, AssessmentScore.worker_id == w["id"],
                                                   AssessmentScore.item_code == code).with_for_update()).scalar_one_or_none()
    before = {"score": row.score, "reason": row.reason} if row else None
    if row is None:
        row = AssessmentScore(period=period, worker_id=w["id"], item_code=code)
        db.add(row)
    row.score, row.reason, row.set_by, row.set_at = float(score), reason.strip(), user.id, when
    audit(db, user, "assessment_score", f"assessment:{w['username']}:{period}:{code}", before,
          {"score": float(score), "reason": reason.strip()}, reason.strip(), at=when)
    db.commit()
    return {"period": period, "worker": _worker_json(w), "item": code, "score": float(score), "reason": reason.strip(),
            "set_at": format_iso(when), "set_by": user.username}


def decide(db: Session, user, body, now: datetime | None = None) -> dict:
    """``{worker, year, decision, note}``: the town's decision on a year's result, with the total and
    grade it rests on (computed now). manage_staff; audited. Commits."""
    if not roles.has_permission(user.role, "manage_staff"):
        raise ForbiddenError("只有镇综治中心可以记录年度决定", "only the town's centre records annual decisions")
    if not isinstance(body, dict):
        raise AssessmentInputError([FieldError("body", "请求体应为 JSON 对象", "the body must be a JSON object")])
    today = _now(now).date()
    errors = []
    year = body.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= today.year:
        errors.append(FieldError("year", "年份应为不晚于今年的整数", "year is a whole year, not after this one"))
    if body.get("decision") not in DECISIONS:
        errors.append(FieldError("decision", f"决定应为 {'、'.join(DECISIONS)} 之一", "decision is 续聘, 辞退, 奖励 or 惩处"))
    note = body.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > 1000):
        errors.append(FieldError("note", "说明最多 1000 字", "the note is at most 1000 characters"))
    w = _worker_or_refuse(db, user, body.get("worker"), errors)
    result = worker_sheet(db, user, w["username"], str(year), now=now)
    row = AssessmentDecision(year=year, worker_id=w["id"], total=result["total"], grade=result["grade"],
                             decision=body["decision"], note=note, decided_by=user.id, decided_at=_now(now))
    db.add(row)
    db.flush()
    after = {"year": year, "total": row.total, "grade": row.grade, "decision": row.decision}
    audit(db, user, "assessment_decision", f"assessment:{w['username']}:{year}", None, after, note, at=_now(now))
    db.commit()
    return {"id": row.id, "worker": _worker_json(w), **after, "note": note, "decided_at": format_iso(row.decided_at),
            "decided_by": user.username}


def history(db: Session, user, ref: str, now: datetime | None = None) -> dict:
    """A worker's annual results: the decisions recorded, and the computed total and grade of this
    year and the last."""
    w = _find_worker(db, user, ref)
    today = _now(now).date()
    decisions = [{"id": d.id, "year": d.year, "total": d.total, "grade": d.grade, "decision": d.decision,
                  "note": d.note, "decided_at": format_iso(d.decided_at), "decided_by": who}
                 for d, who in db.execute(select(AssessmentDecision, Account.username)
                                          .outerjoin(Account, Account.id == AssessmentDecision.decided_by)
                                          .where(AssessmentDecision.worker_id == w["id"])
                                          .order_by(AssessmentDecision.year.desc(), AssessmentDecision.id.desc()))]
    years = []
    for y in (today.year, today.year - 1):
        sheet = worker_sheet(db, user, w["username"], str(y), now=now)
        years.append({"year": y, "total": sheet["total"], "grade": sheet["grade"], "why": sheet["why"],
                      "months": len(sheet["months"])})
    person = db.get(Person, w["id"])
    return {"worker": _worker_json(w) | {"name": person.name}, "decisions": decisions, "years": years}


# ---------------------------------------------------------------- Excel


def table_xlsx(table: dict) -> bytes:
    """The month's (or year's) table as .xlsx: one row per worker, one column per item."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = f"考核 {table['period']}"
    codes = [i["code"] for i in table.get("plan_items", [])]
    names = [f"{i['name']} ({i['points']:g})" for i in table.get("plan_items", [])]
    head = ["网格员", "账号", "网格", "村/社区", *names, *(["加分"] if table["kind"] == "month" else []),
            "总分", "等次", "村内排名", "全镇排名", "绩效档次", "绩效金额"]
    sheet.append(head)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for r in table["items"]:
        scores = {i["code"]: i["score"] for i in r.get("items", [])}
        row = [r["worker"]["name"], r["worker"]["username"], r["grid"], r["worker"]["village_name"]]
        row += [scores.get(c) for c in codes]
        if table["kind"] == "month":
            row.append(scores.get("bonus", 0))
        row += [r["total"], r["grade"], r["rank_in_village"], r["rank_in_town"], r["pay_tier"]["tier"],
                r["pay_tier"]["amount"]]
        sheet.append(row)
    sheet.freeze_panes = "E2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
