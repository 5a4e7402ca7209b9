"""The rules of the weekly analyses, monthly summaries and residents' opinion meetings (seed 5-1 ③④:
周分析、月汇总, 民情分析会), as data and small functions: the kinds of record and their periods
(a week is Monday–Sunday, a month its calendar days, both Asia/Shanghai days), the states and the
actions each allows, the hand-written fields and their limits. The database's check constraints
list these tuples (``db/models.py``); :mod:`webmap.services.analyses` reads the rest here.

>>> from datetime import date
>>> period_of("week", date(2026, 11, 19))
(datetime.date(2026, 11, 16), datetime.date(2026, 11, 22))
>>> period_of("month", date(2026, 2, 10))
(datetime.date(2026, 2, 1), datetime.date(2026, 2, 28))
>>> parse_period("week", "2026-W47"), parse_period("week", "2026-11-18"), parse_period("month", "2026-12")
(datetime.date(2026, 11, 16), datetime.date(2026, 11, 16), datetime.date(2026, 12, 1))
>>> parse_period("month", "2026-13") is None, parse_period("week", "") is None, parse_period("week", None) is None
(True, True, True)
>>> period_label("week", date(2026, 11, 16)), period_label("month", date(2026, 11, 1))
('2026年第47周 (11-16 至 11-22)', '2026年11月')
>>> allowed("草稿"), allowed("已定稿")
(('edit', 'recount', 'finalize'), ())
"""

from __future__ import annotations

import re
from datetime import date, timedelta

# 周分析 (a week, Monday–Sunday) and 月汇总 (a calendar month)
KINDS = ("week", "month")
KIND_LABELS = {"week": ("周分析", "weekly analysis"), "month": ("月汇总", "monthly summary")}

# 草稿 → 已定稿; a finalised record is read-only (its figures and its text stand as written)
DRAFT, FINAL = "草稿", "已定稿"
STATES = (DRAFT, FINAL)
STATES_EN = {DRAFT: "draft", FINAL: "finalised"}
# the actions of each state: edit the hand-written fields, count the figures again (重新统计), finalise
ACTIONS = {DRAFT: ("edit", "recount", "finalize"), FINAL: ()}

# a 草稿 whose period has ended awaits its writer in 待办 (the village's leader for a village, the
# town's centre for the town), red after these calendar days past the period's end
FINALIZE_DAYS = {"week": 3, "month": 5}

# 分析意见, 问题与措施, 下步工作: written by hand, all three needed to finalise
TEXT_FIELDS = {"opinion": ("分析意见", "analysis"), "problems": ("问题与措施", "problems and measures"),
               "next_steps": ("下步工作", "next steps")}
TEXT_MAX = 4000

# a record's scope: a village (its 12-digit code) or the town (its 9-digit code)
SCOPE_KINDS = ("village", "town")
SCOPE_LENGTHS = {12: "village", 9: "town"}

# what the prefilled figures name: the top grids, categories and (grid, category) hotspots, and
# the overdue cases listed by number
TOP_N = 5
OVERDUE_LISTED = 20

# 民情分析会: the meeting's fields and the opinions raised at it
PLACE_MAX = 200
PARTICIPANTS_MAX = 2000  # names and posts as text; no phones (a phone number in it is refused)
AGREED_MAX = 4000
OPINION_MAX = 1000
OPINIONS_MAX = 50
# an opinion turned into a case goes through the intake pipe as the village's own report (the
# leader's or the centre's account is the reporter), flagged so the case shows where it came from
OPINION_CASE_SOURCE = "grid_worker"
OPINION_CASE_FLAG = "from_meeting"

WEEK = re.compile(r"(\d{4})-W(\d{2})")
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
MONTH = re.compile(r"(\d{4})-(\d{2})")


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def period_of(kind: str, day: date) -> tuple[date, date]:
    """The period of ``kind`` holding ``day``: its first and last day (inclusive)."""
    if kind == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    start = day.replace(day=1)
    return start, _next_month(start) - timedelta(days=1)


def parse_period(kind: str, raw) -> date | None:
    """A period's first day from ``YYYY-Www`` (ISO week) or any ``YYYY-MM-DD`` in the week, or
    ``YYYY-MM`` for a month; None when ``raw`` is none of these."""
    if not isinstance(raw, str):
        return None
    try:
        if kind == "week":
            match = WEEK.fullmatch(raw)
            if match:
                return date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
            if DAY.fullmatch(raw):
                return period_of("week", date.fromisoformat(raw))[0]
            return None
        match = MONTH.fullmatch(raw)
        if match and 1 <= int(match.group(2)) <= 12:
            return date(int(match.group(1)), int(match.group(2)), 1)
    except ValueError:
        return None
    return None


def period_key(kind: str, start: date) -> str:
    """``2026-W47`` or ``2026-11``: the period as the API names it."""
    if kind == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{start:%Y-%m}"


def period_label(kind: str, start: date, lang: str = "zh") -> str:
    """The period as a title shows it."""
    end = period_of(kind, start)[1]
    if kind == "week":
        year, week, _ = start.isocalendar()
        if lang == "en":
            return f"week {week} of {year} ({start:%m-%d} to {end:%m-%d})"
        return f"{year}年第{week}周 ({start:%m-%d} 至 {end:%m-%d})"
    return f"{start:%Y-%m}" if lang == "en" else f"{start.year}年{start.month}月"


def allowed(state: str) -> tuple[str, ...]:
    """The actions a record in ``state`` allows."""
    return ACTIONS.get(state, ())
