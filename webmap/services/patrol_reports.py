"""Patrol reports (seed 5-1 "日走访、周分析、月汇总"): daily visits, weekly analysis, monthly
summary of the grid workers in the reader's scope, as JSON and as Excel workbooks.

The figures come from the stored patrol metrics (:mod:`webmap.services.patrols`), the sign-ins
(:mod:`webmap.services.attendance`) and the cases the workers reported (``incidents.reporter_id``,
source ``grid_worker``). Days are Asia/Shanghai days; a patrol belongs to the day it started.

Counting rule: a patrol the town rejected on review (``review = 'rejected'``) counts nowhere but in
``rejected``; a flagged patrol not yet reviewed counts and is marked (``unreviewed_flagged``).

Who reads: the same as sign-ins and tracks (whereabouts): the worker their own rows, a village's
leader the village, the town its town, the district everything; other roles get 403.
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from urllib.parse import quote

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import and_, text
from sqlalchemy.orm import Session

from db.models import Patrol
from workflow.clock import SHANGHAI, shanghai_now

from . import attendance, patrols
from .attendance import Worker, local_day, local_midnight
from .patrols import PatrolError

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LOW_COVERAGE = 0.5  # a grid covered less than this in a week is named in the findings
NOTE_ZH = "口径: 审核不通过的轨迹不计入; 有异常标记但未审核的轨迹计入并单列 (待审核异常)"
NOTE_EN = ("patrols rejected on review are excluded; flagged patrols not yet reviewed count and are "
           "marked (unreviewed_flagged)")


def _field_error(name: str, zh: str, en: str) -> PatrolError:
    return PatrolError(400, f"{name}: {zh}", f"{name}: {en}", field=name,
                       errors=[{"field": name, "zh": zh, "en": en}])


def parse_day(raw: str | date | None, now: datetime | None = None) -> date:
    """A day as YYYY-MM-DD; default today (Asia/Shanghai)."""
    if raw in (None, ""):
        return local_day(now or shanghai_now())
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw))
    except ValueError as exc:
        raise _field_error("date", "应为 YYYY-MM-DD", "YYYY-MM-DD expected") from exc


def parse_month(raw: str | None, now: datetime | None = None) -> date:
    """The first day of a month given as YYYY-MM; default this month."""
    if raw in (None, ""):
        return local_day(now or shanghai_now()).replace(day=1)
    match = re.fullmatch(r"(\d{4})-(\d{2})", str(raw))
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise _field_error("month", "应为 YYYY-MM, 如 2026-06", "YYYY-MM expected, e.g. 2026-06")
    return date(int(match.group(1)), int(match.group(2)), 1)


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def _previous_month(first: date) -> date:
    return (first - timedelta(days=1)).replace(day=1)


# ---------------------------------------------------------------- data


def _patrols(db: Session, persons: Sequence[int], first: date, end: date) -> dict[int, list]:
    """The patrols these people started in the days ``first`` up to ``end``, per person."""
    out: dict[int, list] = {p: [] for p in persons}
    if persons:
        patrols.refresh_stale(db, and_(Patrol.worker_id.in_(list(persons)),  # late fixes: metrics again
                                       Patrol.started_at >= local_midnight(first),
                                       Patrol.started_at < local_midnight(end)))
        for r in db.execute(text("""
                SELECT id, worker_id, grid_code, started_at, distance_m, moving_s, coverage, checkpoints,
                       flags, review
                  FROM patrols WHERE worker_id = ANY(:ids) AND started_at >= :lo AND started_at < :hi
                 ORDER BY worker_id, started_at, id"""),
                {"ids": list(persons), "lo": local_midnight(first), "hi": local_midnight(end)}).all():
            out[r.worker_id].append(r)
    return out


def _cases(db: Session, persons: Sequence[int], first: date, end: date) -> dict[int, int]:
    """The cases each person reported as a grid worker (any of their accounts) in the span."""
    out = dict.fromkeys(persons, 0)
    if persons:
        for r in db.execute(text("""
                SELECT a.person_id, count(*) AS n FROM incidents i JOIN accounts a ON a.id = i.reporter_id
                 WHERE a.person_id = ANY(:ids) AND i.source = 'grid_worker'
                   AND i.reported_at >= :lo AND i.reported_at < :hi
                 GROUP BY a.person_id"""),
                {"ids": list(persons), "lo": local_midnight(first), "hi": local_midnight(end)}).all():
            out[r.person_id] = r.n
    return out


def _required_places(db: Session, grids: Sequence[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    if grids:
        for r in db.execute(text("SELECT grid_code, name FROM checkpoints WHERE grid_code = ANY(:g) "
                                 "AND active AND required ORDER BY id"), {"g": list(grids)}).all():
            out[r.grid_code].append(r.name)
    return out


def patrol_stats(rows: Sequence) -> dict:
    """The figures of a worker's patrols (rejected ones only counted as ``rejected``). Key places
    are the union over each day's patrols: a place visited on any patrol of the day is visited."""
    kept = [r for r in rows if r.review != "rejected"]
    days: dict[date, dict] = defaultdict(lambda: {"visited": set(), "missed": set(), "required": 0})
    for r in kept:
        cp = r.checkpoints if isinstance(r.checkpoints, dict) else {}
        d = days[local_day(r.started_at)]
        d["visited"].update(cp.get("visited") or [])
        d["missed"].update(cp.get("missed") or [])
        d["required"] = max(d["required"], int(cp.get("required") or 0))
    visited_names = set().union(*(d["visited"] for d in days.values())) if days else set()
    missed_names = set().union(*(d["missed"] - d["visited"] for d in days.values())) if days else set()
    coverages = [r.coverage for r in kept if r.coverage is not None]
    flags = [f for r in kept for f in (r.flags or [])]
    visited = sum(len(d["visited"]) for d in days.values())
    required = sum(d["required"] for d in days.values())
    return {
        "patrols": len(kept),
        "days_patrolled": len(days),
        "distance_km": round(sum(r.distance_m or 0.0 for r in kept) / 1000, 3),
        "moving_hours": round(sum(r.moving_s or 0.0 for r in kept) / 3600, 2),
        "best_coverage": round(max(coverages), 4) if coverages else None,
        "mean_coverage": round(sum(coverages) / len(coverages), 4) if coverages else None,
        "places_visited": visited,
        "places_required": required,
        "place_visit_rate": round(visited / required, 4) if required else None,
        "visited_places": sorted(visited_names),
        "missed_places": sorted(missed_names - visited_names),
        "flags": len(flags),
        "flag_codes": sorted({str(f.get("code")) for f in flags if isinstance(f, dict)}),
        "flagged": sum(1 for r in kept if r.flags),
        "unreviewed_flagged": sum(1 for r in kept if r.flags and r.review is None),
        "rejected": len(rows) - len(kept),
        "_coverage_sum": sum(coverages),
        "_coverage_n": len(coverages),
    }


def _public(item: dict) -> dict:
    return {k: v for k, v in item.items() if not k.startswith("_")}


def _worker_head(w: Worker) -> dict:
    return {"worker": w.username, "worker_name": w.name, "grid_code": w.grid_code, "grid_name": w.grid_name,
            "village_code": w.village_code, "village_name": w.village_name}


SUMMED = ("patrols", "days_patrolled", "distance_km", "moving_hours", "places_visited", "places_required",
          "flagged", "unreviewed_flagged", "rejected", "attendance_hours", "cases", "flags")


def _combine(items: Sequence[dict]) -> dict:
    """Totals of worker rows: sums, patrol-weighted mean coverage, the pooled key-place rate."""
    out = {"workers": len(items)}
    for key in SUMMED:
        if any(key in i for i in items):
            out[key] = round(sum(i.get(key) or 0 for i in items), 3)
    n = sum(i.get("_coverage_n", 0) for i in items)
    out["mean_coverage"] = round(sum(i.get("_coverage_sum", 0.0) for i in items) / n, 4) if n else None
    required = out.get("places_required") or 0
    out["place_visit_rate"] = round(out.get("places_visited", 0) / required, 4) if required else None
    if any("below_rule" in i for i in items):
        out["below_rule"] = sum(1 for i in items if i.get("below_rule"))
    if any("signed_in" in i for i in items):
        out["signed_in"] = sum(1 for i in items if i.get("signed_in"))
    return out


def _villages(workers: Sequence[Worker], items: Sequence[dict]) -> list[dict]:
    groups: dict[str, list[dict]] = defaultdict(list)
    names: dict[str, str | None] = {}
    for w, item in zip(workers, items, strict=True):
        groups[w.village_code].append(item)
        names[w.village_code] = w.village_name
    return [{"village_code": code, "village_name": names[code], **_combine(groups[code])}
            for code in sorted(groups)]


def _header(db: Session, user, kind: str, village: str | None, now: datetime) -> tuple[attendance.Scope, dict]:
    scope = attendance.reader_scope(db, user, village)
    attendance.check_village_exists(db, attendance.parse_village(village))
    zh, en = TITLES[kind]
    return scope, {"report": kind, "title": zh, "title_en": en, "village": attendance.parse_village(village),
                   "scope_name": attendance.scope_name(db, user, scope), "timezone": attendance.TIMEZONE,
                   "generated_at": now.astimezone(SHANGHAI).isoformat(timespec="seconds"),
                   "note": {"zh": NOTE_ZH, "en": NOTE_EN}}


TITLES = {"daily": ("日走访报表", "daily visits"), "weekly": ("周分析报表", "weekly analysis"),
          "monthly": ("月汇总报表", "monthly summary")}


# ---------------------------------------------------------------- the three reports


def daily(db: Session, user, day: date | str | None, village: str | None = None,
          now: datetime | None = None) -> dict:
    """日走访: each worker's patrols of the day: ``patrols``, ``distance_km``, ``moving_hours``,
    ``best_coverage`` (0–1), ``places_visited``/``places_required`` (``visited_places``,
    ``missed_places``), ``flags``/``flag_codes``, ``unreviewed_flagged``, ``rejected``, ``cases``
    reported, ``signed_in`` (a sign-in that day) and ``attendance_hours``; ``totals``."""
    now = now or shanghai_now()
    day = parse_day(day, now)
    scope, head = _header(db, user, "daily", village, now)
    end = day + timedelta(days=1)
    workers = attendance.roster(db, scope, day, day)
    rows, calendar = _worker_rows(db, workers, day, end, now)
    items = [{**base, "signed_in": signed["days_signed"] > 0, "attendance_hours": signed["hours"]}
             for base, signed in rows]
    return {**head, "period": day.isoformat(), "date": day.isoformat(), "workday": calendar.is_workday(day),
            "workers": [_public(i) for i in items], "totals": _combine(items)}


def _week_items(db: Session, workers: Sequence[Worker], first: date, end: date, now: datetime) -> list[dict]:
    persons = [w.person_id for w in workers]
    patrols, cases = _patrols(db, persons, first, end), _cases(db, persons, first, end)
    signs = attendance.week_attendance(db, workers, first, attendance.work_calendar(db), local_day(now))
    return [{**_worker_head(w), **patrol_stats(patrols[w.person_id]), "cases": cases[w.person_id],
             "attendance_hours": signs[w.person_id]["hours"], "below_rule": signs[w.person_id]["below_rule"],
             "days_signed": signs[w.person_id]["days_signed"],
             "missing_days": signs[w.person_id]["missing_days"],
             "leave_days": signs[w.person_id]["leave_days"], "required_hours": signs[w.person_id]["required_hours"],
             "open_sessions": signs[w.person_id]["open_sessions"]} for w in workers]


def _findings(db: Session, workers: Sequence[Worker], items: Sequence[dict]) -> list[dict]:
    """A few plain sentences on what needs attention this week."""
    found = []
    below = [i for i in items if i["below_rule"]]
    if below:
        names_zh = "、".join(f"{i['worker_name']} ({i['attendance_hours']:g} 小时)" for i in below[:20])
        names_en = ", ".join(f"{i['worker'] or i['worker_name']} ({i['attendance_hours']:g} h)" for i in below[:20])
        more = f" 等 {len(below)} 人" if len(below) > 20 else ""
        found.append({"code": "below_rule",
                      "zh": f"{len(below)} 名网格员本周签到在岗不足 {attendance.RULE_HOURS} 小时: {names_zh}{more}",
                      "en": f"{len(below)} workers signed in for less than {attendance.RULE_HOURS} hours: {names_en}"})
    idle = [i for i in items if i["patrols"] == 0]
    if idle:
        found.append({"code": "no_patrol",
                      "zh": f"{len(idle)} 个网格本周没有巡查记录: " + "、".join(
                          f"{i['grid_name'] or i['grid_code']} ({i['worker_name']})" for i in idle[:20]),
                      "en": f"{len(idle)} grids have no patrol this week: " + ", ".join(
                          i["grid_code"] for i in idle[:20])})
    low = [i for i in items if i["mean_coverage"] is not None and i["mean_coverage"] < LOW_COVERAGE]
    if low:
        found.append({"code": "low_coverage",
                      "zh": f"{len(low)} 个网格本周平均覆盖率低于 {LOW_COVERAGE:.0%}: " + "、".join(
                          f"{i['grid_name'] or i['grid_code']} ({i['mean_coverage']:.0%})" for i in low[:20]),
                      "en": f"{len(low)} grids were covered less than {LOW_COVERAGE:.0%} on average: " + ", ".join(
                          f"{i['grid_code']} ({i['mean_coverage']:.0%})" for i in low[:20])})
    required = _required_places(db, sorted({w.grid_code for w in workers}))
    never = []
    for w, i in zip(workers, items, strict=True):
        missed = [p for p in required.get(w.grid_code, []) if p not in set(i["visited_places"])]
        if missed:
            never.append((w, missed))
    if never:
        found.append({"code": "places_never_visited",
                      "zh": "本周未到访的重点场所: " + "; ".join(
                          f"{w.grid_name or w.grid_code}: {'、'.join(m)}" for w, m in never[:20]),
                      "en": "key places not visited this week: " + "; ".join(
                          f"{w.grid_code}: {', '.join(m)}" for w, m in never[:20])})
    pending = sum(i["unreviewed_flagged"] for i in items)
    if pending:
        found.append({"code": "unreviewed_flags",
                      "zh": f"{pending} 条巡查轨迹有异常标记, 尚待镇综治中心审核 (已暂计入统计)",
                      "en": f"{pending} flagged patrols await the town's review (counted meanwhile)"})
    if not found:
        found.append({"code": "none", "zh": "本周各网格巡查与签到均正常", "en": "nothing to report this week"})
    return found


def weekly(db: Session, user, week_start: date | str | None, village: str | None = None,
           now: datetime | None = None) -> dict:
    """周分析: per worker ``days_patrolled``, ``patrols``, ``distance_km``, ``moving_hours``,
    ``mean_coverage``, ``place_visit_rate``, ``flagged``/``unreviewed_flagged``/``rejected``,
    ``attendance_hours`` and ``below_rule`` (< 40 h), ``cases``; per-village totals
    (``villages``), ``totals`` and ``findings`` (``{code, zh, en}``)."""
    now = now or shanghai_now()
    first = attendance.parse_week(week_start, now)
    scope, head = _header(db, user, "weekly", village, now)
    end = first + timedelta(days=7)
    workers = attendance.roster(db, scope, first, end - timedelta(days=1))
    items = _week_items(db, workers, first, end, now)
    return {**head, "period": f"{first.isoformat()} – {(end - timedelta(days=1)).isoformat()}",
            "week_start": first.isoformat(), "week_end": (end - timedelta(days=1)).isoformat(),
            "rule_hours": attendance.RULE_HOURS, "workers": [_public(i) for i in items],
            "villages": _villages(workers, items), "totals": _combine(items),
            "findings": _findings(db, workers, items)}


TREND_KEYS = ("patrols", "days_patrolled", "distance_km", "moving_hours", "mean_coverage", "attendance_hours",
              "cases")


def _worker_rows(db: Session, workers: Sequence[Worker], first: date, end: date, now: datetime):
    """Per worker over the days ``first`` up to ``end``: their head, patrol figures and cases, with
    the summary of their sign-ins; and the working-day calendar."""
    persons = [w.person_id for w in workers]
    patrols, cases = _patrols(db, persons, first, end), _cases(db, persons, first, end)
    signs = attendance.attendance_rows(db, persons, local_midnight(first) - attendance.MAX_SESSION,
                                       local_midnight(end) + attendance.MAX_SESSION)
    calendar = attendance.work_calendar(db)
    leave = attendance.leave_days(db, persons, first, end)
    rows = [({**_worker_head(w), **patrol_stats(patrols[w.person_id]), "cases": cases[w.person_id]},
             attendance.summarize(signs[w.person_id], first, end, calendar, local_day(now), leave[w.person_id]))
            for w in workers]
    return rows, calendar


def _month_items(db: Session, workers: Sequence[Worker], first: date, end: date, now: datetime) -> list[dict]:
    rows, _calendar = _worker_rows(db, workers, first, end, now)
    return [{**base, "attendance_hours": signed["hours"], "days_signed": signed["days_signed"],
             "days_missing": len(signed["missing_days"]), "outside": signed["outside"]} for base, signed in rows]


def _trend(current: dict, previous: dict) -> dict:
    change = {}
    for key in TREND_KEYS:
        a, b = current.get(key), previous.get(key)
        change[key] = None if a is None or b is None else round(a - b, 4 if key == "mean_coverage" else 3)
    return {"previous": {k: previous.get(k) for k in TREND_KEYS}, "change": change}


def _averages(item: dict, per: int) -> dict:
    if not per:
        return {"avg_distance_km": None, "avg_moving_hours": None, "avg_attendance_hours": None}
    return {"avg_distance_km": round(item["distance_km"] / per, 3),
            "avg_moving_hours": round(item["moving_hours"] / per, 2),
            "avg_attendance_hours": round(item["attendance_hours"] / per, 2)}


def monthly(db: Session, user, month: str | None, village: str | None = None,
            now: datetime | None = None) -> dict:
    """月汇总: per worker and per village the month's totals, averages (a worker's per day patrolled,
    a village's per worker) and the trend against the previous month (``previous``, ``change``
    = this month minus the previous)."""
    now = now or shanghai_now()
    first = parse_month(month, now)
    scope, head = _header(db, user, "monthly", village, now)
    end, before = _next_month(first), _previous_month(first)
    workers = attendance.roster(db, scope, first, end - timedelta(days=1))
    items = _month_items(db, workers, first, end, now)
    earlier = _month_items(db, workers, before, first, now)
    calendar = attendance.work_calendar(db)
    rows = []
    for item, prev in zip(items, earlier, strict=True):
        averages = _averages(item, item["days_patrolled"])
        averages["avg_attendance_hours"] = (round(item["attendance_hours"] / item["days_signed"], 2)
                                            if item["days_signed"] else None)
        rows.append({**_public(item), **averages, **_trend(item, prev)})
    villages = []
    for current, prev in zip(_villages(workers, items), _villages(workers, earlier), strict=True):
        villages.append({**current, **_averages(current, current["workers"]), **_trend(current, prev)})
    totals, prev_totals = _combine(items), _combine(earlier)
    return {**head, "period": f"{first:%Y-%m}", "month": f"{first:%Y-%m}", "previous_month": f"{before:%Y-%m}",
            "working_days": calendar.count_workdays(first, end), "workers": rows, "villages": villages,
            "totals": {**totals, **_averages(totals, totals["workers"]), **_trend(totals, prev_totals)}}


# ---------------------------------------------------------------- Excel

BOLD = Font(bold=True)
TITLE_FONT = Font(bold=True, size=14)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
MARK_FONT = Font(color="C00000")
FORMATS = {"int": "0", "km": "0.00", "h": "0.00", "pct": "0.0%", "num": "0.00"}

# (Chinese header, key, format, width). Formats: text, int, km, h, pct, num, bool (是/否), list
WORKER_HEAD = [("网格员", "worker_name", "text", 10), ("账号", "worker", "text", 12),
               ("网格编码", "grid_code", "text", 17), ("网格名称", "grid_name", "text", 16)]
DAILY_COLUMNS = WORKER_HEAD + [
    ("巡查次数", "patrols", "int", 9), ("里程(公里)", "distance_km", "km", 10),
    ("移动时长(小时)", "moving_hours", "h", 12), ("最高覆盖率", "best_coverage", "pct", 10),
    ("到访重点场所", "places_visited", "int", 11), ("应到重点场所", "places_required", "int", 11),
    ("未到场所", "missed_places", "list", 18), ("异常标记数", "flags", "int", 10),
    ("异常类型", "flag_codes", "list", 14), ("待审核异常", "unreviewed_flagged", "int", 10),
    ("审核不通过", "rejected", "int", 10), ("上报案件", "cases", "int", 9),
    ("是否签到", "signed_in", "bool", 9), ("在岗时长(小时)", "attendance_hours", "h", 12)]
WEEKLY_COLUMNS = WORKER_HEAD + [
    ("巡查天数", "days_patrolled", "int", 9), ("巡查次数", "patrols", "int", 9),
    ("里程(公里)", "distance_km", "km", 10), ("移动时长(小时)", "moving_hours", "h", 12),
    ("平均覆盖率", "mean_coverage", "pct", 10), ("重点场所到访率", "place_visit_rate", "pct", 12),
    ("异常轨迹", "flagged", "int", 9), ("待审核异常", "unreviewed_flagged", "int", 10),
    ("审核不通过", "rejected", "int", 10), ("签到在岗(小时)", "attendance_hours", "h", 12),
    ("不足40小时", "below_rule", "bool", 10), ("缺勤工作日", "missing_days", "list", 22),
    ("请假工作日", "leave_days", "list", 22), ("应在岗(小时)", "required_hours", "int", 11),
    ("上报案件", "cases", "int", 9)]
VILLAGE_HEAD = [("村编码", "village_code", "text", 14), ("村名称", "village_name", "text", 12),
                ("网格员人数", "workers", "int", 10)]
WEEKLY_VILLAGE_COLUMNS = VILLAGE_HEAD + [
    ("巡查次数", "patrols", "int", 9), ("里程(公里)", "distance_km", "km", 10),
    ("移动时长(小时)", "moving_hours", "h", 12), ("平均覆盖率", "mean_coverage", "pct", 10),
    ("重点场所到访率", "place_visit_rate", "pct", 12), ("异常轨迹", "flagged", "int", 9),
    ("审核不通过", "rejected", "int", 10), ("签到在岗(小时)", "attendance_hours", "h", 12),
    ("不足40小时人数", "below_rule", "int", 13), ("上报案件", "cases", "int", 9)]
TREND_COLUMNS = [  # against the previous month
    ("上月巡查次数", "previous.patrols", "int", 11), ("巡查次数环比", "change.patrols", "int", 11),
    ("上月里程(公里)", "previous.distance_km", "km", 12), ("里程环比(公里)", "change.distance_km", "km", 12),
    ("上月在岗(小时)", "previous.attendance_hours", "h", 12),
    ("在岗环比(小时)", "change.attendance_hours", "h", 12),
    ("上月上报案件", "previous.cases", "int", 11), ("案件环比", "change.cases", "int", 9)]
MONTHLY_COLUMNS = WORKER_HEAD + [
    ("巡查天数", "days_patrolled", "int", 9), ("巡查次数", "patrols", "int", 9),
    ("里程(公里)", "distance_km", "km", 10), ("移动时长(小时)", "moving_hours", "h", 12),
    ("日均里程(公里)", "avg_distance_km", "km", 12), ("日均移动(小时)", "avg_moving_hours", "h", 12),
    ("平均覆盖率", "mean_coverage", "pct", 10), ("重点场所到访率", "place_visit_rate", "pct", 12),
    ("异常轨迹", "flagged", "int", 9), ("待审核异常", "unreviewed_flagged", "int", 10),
    ("审核不通过", "rejected", "int", 10), ("签到在岗(小时)", "attendance_hours", "h", 12),
    ("签到天数", "days_signed", "int", 9), ("缺勤工作日数", "days_missing", "int", 11),
    ("上报案件", "cases", "int", 9),
] + TREND_COLUMNS
MONTHLY_VILLAGE_COLUMNS = VILLAGE_HEAD + [
    ("巡查天数", "days_patrolled", "int", 9), ("巡查次数", "patrols", "int", 9),
    ("里程(公里)", "distance_km", "km", 10), ("移动时长(小时)", "moving_hours", "h", 12),
    ("人均里程(公里)", "avg_distance_km", "km", 12), ("人均移动(小时)", "avg_moving_hours", "h", 12),
    ("人均在岗(小时)", "avg_attendance_hours", "h", 12), ("平均覆盖率", "mean_coverage", "pct", 10),
    ("重点场所到访率", "place_visit_rate", "pct", 12), ("异常轨迹", "flagged", "int", 9),
    ("审核不通过", "rejected", "int", 10), ("签到在岗(小时)", "attendance_hours", "h", 12),
    ("上报案件", "cases", "int", 9),
] + TREND_COLUMNS


def _value(item: dict, key: str, fmt: str):
    value = item
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if fmt == "bool":
        return None if value is None else ("是" if value else "否")
    if fmt == "list":
        return "、".join(str(v) for v in value) if value else None
    return value


def _sheet(book: Workbook, name: str, report: dict, subtitle: str, columns: list, rows: Sequence[dict],
           total: dict | None, first: bool = False) -> None:
    """A sheet: a title row naming the report, period and area; a note; Chinese headers; the rows
    (numbers as numbers); a totals row; widths set, headers frozen."""
    sheet = book.active if first else book.create_sheet()
    sheet.title = name
    title = f"{report['title']} {report['period']} {report['scope_name']}".strip()
    sheet.cell(row=1, column=1, value=title).font = TITLE_FONT
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(columns))
    sheet.cell(row=2, column=1, value=f"{subtitle}  时区 {report['timezone']}; 生成于 "
                                      f"{report['generated_at'][:16].replace('T', ' ')}; {NOTE_ZH}")
    header_row = 4
    for col, (header, _key, _fmt, width) in enumerate(columns, start=1):
        cell = sheet.cell(row=header_row, column=col, value=header)
        cell.font, cell.fill = BOLD, HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        sheet.column_dimensions[get_column_letter(col)].width = width
    sheet.row_dimensions[header_row].height = 30
    row_no = header_row + 1
    for item in [*rows, *([total] if total is not None else [])]:
        for col, (_header, key, fmt, _width) in enumerate(columns, start=1):
            cell = sheet.cell(row=row_no, column=col, value=_value(item, key, fmt))
            if fmt in FORMATS:
                cell.number_format = FORMATS[fmt]
            if item is total:
                cell.font, cell.fill = BOLD, TOTAL_FILL
            elif key == "unreviewed_flagged" and item.get(key):
                cell.font = MARK_FONT
        row_no += 1
    if total is not None:
        sheet.cell(row=row_no - 1, column=1, value="合计").font = BOLD
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=3)


def workbook(report: dict) -> bytes:
    """The report as an .xlsx: the workers' sheet (with a totals row), per-village totals and the
    findings (weekly), the villages with their trend (monthly)."""
    book = Workbook()
    kind = report["report"]
    if kind == "daily":
        _sheet(book, "日走访", report, f"日期 {report['date']}", DAILY_COLUMNS, report["workers"],
               report["totals"], first=True)
    elif kind == "weekly":
        _sheet(book, "周分析", report, f"周 {report['week_start']} 至 {report['week_end']}", WEEKLY_COLUMNS,
               report["workers"], report["totals"], first=True)
        _sheet(book, "村汇总", report, "各村合计", WEEKLY_VILLAGE_COLUMNS, report["villages"], report["totals"])
        findings = book.create_sheet("发现")
        findings.cell(row=1, column=1, value=f"{report['title']} {report['period']} {report['scope_name']} "
                                              "主要发现").font = TITLE_FONT
        findings.cell(row=3, column=1, value="发现").font = BOLD
        findings.cell(row=3, column=2, value="finding").font = BOLD
        for n, f in enumerate(report["findings"], start=4):
            findings.cell(row=n, column=1, value=f["zh"]).alignment = Alignment(wrap_text=True, vertical="top")
            findings.cell(row=n, column=2, value=f["en"]).alignment = Alignment(wrap_text=True, vertical="top")
        findings.column_dimensions["A"].width = 80
        findings.column_dimensions["B"].width = 70
    else:
        _sheet(book, "网格员", report, f"月份 {report['month']} (对比 {report['previous_month']})",
               MONTHLY_COLUMNS, report["workers"], report["totals"], first=True)
        _sheet(book, "村汇总", report, f"月份 {report['month']} (对比 {report['previous_month']})",
               MONTHLY_VILLAGE_COLUMNS, report["villages"], report["totals"])
    book.properties.title = f"{report['title']} {report['period']}"
    book.properties.creator = "网格 Wangge"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def workbook_names(report: dict) -> tuple[str, str]:
    """The file name: an ASCII fallback (``patrols_weekly_2026-06-08_120116103201.xlsx``) and the
    Chinese one (``周分析报表_2026-06-08_张庄村.xlsx``)."""
    period = {"daily": report.get("date"), "weekly": report.get("week_start"),
              "monthly": report.get("month")}[report["report"]]
    area = report["village"] or "all"
    ascii_name = f"patrols_{report['report']}_{period}_{area}.xlsx"
    zh_name = f"{report['title']}_{period}_{report['scope_name'] or area}.xlsx"
    return ascii_name, re.sub(r'[\\/:*?"<>|\s]+', "_", zh_name)


def content_disposition(report: dict) -> str:
    """``attachment`` with the ASCII fallback ``filename`` and the UTF-8 ``filename*`` (RFC 6266)."""
    ascii_name, zh_name = workbook_names(report)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(zh_name, safe='')}"
