"""Indicators (综合评价) as data: what each one counts, the window and grouping they are read over,
and the arithmetic that turns counts into rates. Nothing here knows about Flask or SQL; the
counting itself is one query in ``db/sql/stats_indicators.sql``.

Every indicator is read over the *cohort* of cases reported in a window ``[since, until)``
(Asia/Shanghai), as those cases stand now: a case reported in March and closed in April counts as
closed in March's row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from workflow.clock import SHANGHAI, WorkCalendar

# The groupings a reader may ask for (分组), in the order pages offer them.
GROUPS: dict[str, tuple[str, str]] = {
    "grid": ("网格", "grid"),
    "village": ("村/社区", "village"),
    "department": ("职能部门", "department"),
    "category": ("事件类别", "category"),
    "source": ("来源", "source"),
    "month": ("月份", "month"),
}
DEFAULT_MONTHS = 12  # the default window: this month and the 11 before it
MAX_YEARS = 3  # the longest window a reader may ask for
YEARS = (2000, 2100)  # dates outside these years are typos, not questions
FILING_WORK_DAYS = 1  # the town files a case within 1 working day of receiving it (Tianjin 12345 rule)


@dataclass(frozen=True)
class Indicator:
    """One indicator: ``unit`` is ``count``, ``percent`` or ``hours``. A count is its numerator and
    has no denominator; a rate is ``numerator / denominator`` (None when the denominator is 0)."""

    key: str
    zh: str
    en: str
    unit: str
    numerator: str
    denominator: str | None
    definition_zh: str
    definition_en: str


INDICATORS: tuple[Indicator, ...] = (
    Indicator("reported", "上报数", "reported", "count", "reported", None,
              "窗口内上报的案件数", "cases reported in the window"),
    Indicator("filed", "立案数", "filed", "count", "filed", None,
              "镇综治中心受理立案的案件(含村级上报后立案; 已派遣者视为已立案)",
              "cases the town filed (including those escalated by the village; a dispatched case counts "
              "as filed)"),
    Indicator("filed_on_time", "按期立案率", "filed on time", "percent", "filed_on_time", "filing_due",
              "镇综治中心收到案件(村级上报之时, 或直接上报之时)后 1 个工作日内立案的比例; 分母为已立案案件"
              "加上在镇待受理且已超过立案时限的案件",
              "share filed within 1 working day (to 17:30 of the next working day) of the town receiving "
              "the case (its escalation, or its report when reported straight to the town); the "
              "denominator is the filed cases plus those still waiting at the town past that limit"),
    Indicator("dispatched", "派遣数", "dispatched", "count", "dispatched", None,
              "派遣到职能部门的案件数(回退后再派遣只计一次)",
              "cases dispatched to a department (once, however often re-dispatched)"),
    Indicator("handled_on_time", "按期处置率", "handled on time", "percent", "handled_on_time",
              "handling_due",
              "已派遣案件中在处置时限(含批准的延期)前处理反馈或结案的比例; 处置中且未到期的案件、"
              "作废和挂账案件不计入",
              "share of dispatched cases fed back (the last feedback not sent back for rework) or "
              "closed by their deadline (approved extensions included); cases still in time, void "
              "and parked cases are left out"),
    Indicator("overdue", "超期数", "overdue", "count", "overdue", None,
              "未结案且已过处置时限, 或超过时限才结案的案件数(作废、挂账不计)",
              "cases open past their deadline now, plus cases closed after it (void and parked "
              "cases excluded)"),
    Indicator("closed", "结案数", "closed", "count", "closed", None, "已结案的案件数", "cases closed"),
    Indicator("closed_on_time", "按期结案率", "closed on time", "percent", "closed_on_time", "closing_due",
              "已结案案件中在时限前结案的比例", "share of closed cases closed by their deadline"),
    Indicator("self_handled", "就地处置数", "self-handled", "count", "self_handled", None,
              "网格员就地处置结案的案件数", "cases a grid worker handled on the spot"),
    Indicator("handling_hours", "平均处置时长(小时)", "mean handling time (hours)", "hours",
              "handling_hours", "closed",
              "已结案案件从派遣(未派遣的从上报)到结案的平均小时数(自然时间)",
              "mean hours (calendar time) from dispatch, or report when never dispatched, to closing, "
              "over closed cases"),
    Indicator("rework", "返工率", "rework", "percent", "reworked", "verified",
              "经过结案核查的案件中至少返工一次的比例", "share of verified cases sent back for rework at least once"),
    Indicator("return", "回退率", "return", "percent", "returned", "dispatched",
              "已派遣案件中至少被部门回退一次的比例", "share of dispatched cases returned as misrouted at least once"),
    Indicator("verification_pass", "核查通过率", "verification pass", "percent", "verify_pass",
              "verifications",
              "核查通过次数 / (通过 + 不通过次数)", "verify_pass / (verify_pass + verify_fail) events"),
    Indicator("satisfaction", "满意率", "satisfaction", "percent", "satisfied", "visited",
              "已回访案件中(最近一次)满意度 ≥ 4 的比例",
              "share of return-visited cases whose (latest) satisfaction is 4 or 5"),
)
INDICATOR_KEYS = tuple(i.key for i in INDICATORS)
COUNT_COLUMNS = tuple(dict.fromkeys(
    c for i in INDICATORS for c in (i.numerator, i.denominator) if c is not None))


class ParamError(ValueError):
    """Bad parameters: ``errors`` lists ``{"field", "zh", "en"}``, one per problem."""

    def __init__(self, errors: list[dict]):
        super().__init__("; ".join(e["en"] for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class Window:
    """What to count: cases reported in ``[since, until)``, grouped ``by``. Aware datetimes."""

    by: str
    since: datetime
    until: datetime

    @property
    def period(self) -> str:
        """The window as people write it: whole days as dates, the last day inclusive.

        >>> Window("month", datetime(2026, 1, 1, tzinfo=SHANGHAI), datetime(2026, 7, 1, tzinfo=SHANGHAI)).period
        '2026-01-01 至 2026-06-30'
        """
        since, until = self.since.astimezone(SHANGHAI), self.until.astimezone(SHANGHAI)
        if since.time() == time(0) and until.time() == time(0):
            return f"{since:%Y-%m-%d} 至 {until.date() - timedelta(days=1):%Y-%m-%d}"
        return f"{since:%Y-%m-%d %H:%M} 至 {until:%Y-%m-%d %H:%M}"


def _months_before(day: date, months: int) -> date:
    """The first day of the month ``months`` before ``day``'s month."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def _years_before(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - years, day=28)


def _parse_moment(field: str, raw: str) -> tuple[datetime | None, dict | None]:
    """A date (a whole day: ``since`` its start, ``until`` the start of the next day) or an
    ISO 8601 instant; without an offset it is Asia/Shanghai time."""
    text = raw.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            year = day.year
            moment = datetime.combine(day + timedelta(days=1 if field == "until" else 0), time(0), SHANGHAI)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
            moment = moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)
            year = moment.year
    except (ValueError, OverflowError):
        return None, {"field": field, "zh": f"{field} 应为日期 YYYY-MM-DD 或 ISO 8601 时间, 收到 {raw!r}",
                      "en": f"{field} must be a date YYYY-MM-DD or an ISO 8601 datetime, got {raw!r}"}
    if not YEARS[0] <= year <= YEARS[1]:
        return None, {"field": field, "zh": f"{field} 应在 {YEARS[0]}–{YEARS[1]} 年之间",
                      "en": f"{field} must lie between the years {YEARS[0]} and {YEARS[1]}"}
    return moment, None


def parse_window(by: str | None, since: str | None, until: str | None, now: datetime) -> Window:
    """The window a reader asked for, or :class:`ParamError` naming every bad parameter.

    ``by`` defaults to ``village``; ``until`` to ``now``; ``since`` to the first day of the month
    eleven months before ``until``'s (twelve calendar months, the last one running). At most
    three years.

    >>> now = datetime(2026, 11, 28, 9, 0, tzinfo=SHANGHAI)
    >>> w = parse_window(None, None, None, now)
    >>> (w.by, w.since.isoformat(), w.until == now)
    ('village', '2025-12-01T00:00:00+08:00', True)
    >>> parse_window("month", "2026-01-01", "2026-06-30", now).period
    '2026-01-01 至 2026-06-30'
    >>> parse_window("street", "2026-13-01", None, now)
    Traceback (most recent call last):
    ...
    workflow.indicators.ParamError: by must be one of grid, village, department, category, source, month; \
since must be a date YYYY-MM-DD or an ISO 8601 datetime, got '2026-13-01'
    """
    errors: list[dict] = []
    by = by or "village"
    if by not in GROUPS:
        names = ", ".join(GROUPS)
        errors.append({"field": "by", "zh": f"分组 by 应为 {names} 之一", "en": f"by must be one of {names}"})
    moments: dict[str, datetime | None] = {}
    for field, raw in (("since", since), ("until", until)):
        if raw is None or not raw.strip():
            moments[field] = None
            continue
        moments[field], error = _parse_moment(field, raw)
        if error:
            errors.append(error)
    if errors:
        raise ParamError(errors)
    end = moments["until"] or now
    start = moments["since"] or datetime.combine(
        _months_before(end.astimezone(SHANGHAI).date(), DEFAULT_MONTHS - 1), time(0), SHANGHAI)
    if start >= end:
        errors.append({"field": "until", "zh": "结束时间 until 应晚于开始时间 since",
                       "en": "until must be later than since"})
    elif start < _years_before(end, MAX_YEARS):
        errors.append({"field": "since", "zh": f"统计区间不能超过 {MAX_YEARS} 年",
                       "en": f"the window must not exceed {MAX_YEARS} years"})
    if errors:
        raise ParamError(errors)
    return Window(by, start, end)


def filing_clock(calendar: WorkCalendar, first: date, last: date) -> tuple[list[date], list[datetime]]:
    """For each day ``first``…``last``: the moment by which a case received that day is to be filed
    (the end of the next working day, Asia/Shanghai), as two parallel lists for SQL's ``unnest``.

    >>> days, due = filing_clock(WorkCalendar(), date(2026, 10, 30), date(2026, 10, 31))
    >>> [d.isoformat() for d in due]  # a Friday and a Saturday: both due on Monday
    ['2026-11-02T17:30:00+08:00', '2026-11-02T17:30:00+08:00']
    """
    if last < first:
        return [], []
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    due = [calendar.add(datetime.combine(d, time(0), SHANGHAI), FILING_WORK_DAYS, "work_days") for d in days]
    return days, due


def rate(numerator: float, denominator: float | None, unit: str = "percent") -> float | None:
    """The value of a rate: a percentage or a mean (2 decimals); None when nothing to divide by.

    >>> rate(2, 3), rate(3, 2, "hours"), rate(0, 0)
    (66.67, 1.5, None)
    """
    if not denominator:
        return None
    value = numerator / denominator
    return round(100 * value if unit == "percent" else value, 2)


def evaluate(counts: Mapping[str, float | int | None]) -> dict[str, dict]:
    """The indicators of one row of counts (the columns in :data:`COUNT_COLUMNS`; a missing or NULL
    count is 0): each ``{"value", "numerator", "denominator"}``.

    >>> evaluate({"reported": 4, "rework": 0})["reported"]
    {'value': 4, 'numerator': 4, 'denominator': None}
    >>> evaluate({"verify_pass": 2, "verifications": 3})["verification_pass"]
    {'value': 66.67, 'numerator': 2, 'denominator': 3}
    >>> evaluate({})["satisfaction"]
    {'value': None, 'numerator': 0, 'denominator': 0}
    """
    out: dict[str, dict] = {}
    for ind in INDICATORS:
        num = counts.get(ind.numerator) or 0
        if ind.unit == "count":
            out[ind.key] = {"value": int(num), "numerator": int(num), "denominator": None}
            continue
        den = int(counts.get(ind.denominator) or 0)
        value = rate(float(num), den, ind.unit)
        num = round(float(num), 2) if ind.unit == "hours" else int(num)
        out[ind.key] = {"value": value, "numerator": num, "denominator": den}
    return out


def month_label(key: str) -> str:
    """``2026-03`` → ``2026年3月``.

    >>> month_label("2026-03")
    '2026年3月'
    """
    year, month = key.split("-")
    return f"{int(year)}年{int(month)}月"


# ---------------------------------------------------------------- the dashboard (统计看板)
#
# The dashboard counts what *happened* in a window, not a cohort: a case reported on 30 September
# and closed on 9 October is reported in September and closed in October. Its counting is one
# query (``db/sql/stats_dashboard.sql``); these are its figures, each a count or
# ``numerator / denominator`` of that query's columns, and the cases behind each one as the
# dispatcher console's list filter (``GET /api/v1/incidents``: state, and the report window).

@dataclass(frozen=True)
class Figure(Indicator):
    """One figure of the dashboard, an indicator whose ``unit`` is ``count``, ``rate`` (a fraction
    0–1, None when the denominator is 0), ``hours`` (a mean over ``denominator``) or ``median`` (read
    as is). ``states``: the case states the drill-down lists (empty: every state)."""

    states: tuple[str, ...] = ()


DASHBOARD: tuple[Figure, ...] = (
    Figure("reported", "上报数", "reported", "count", "reported", None,
           "窗口内上报的案件数", "cases reported in the window"),
    Figure("filed", "立案数", "filed", "count", "filed", None,
           "窗口内镇综治中心立案(file 事件)的案件数", "cases the town filed in the window (a file event)"),
    Figure("closed", "结案数", "closed", "count", "closed", None,
           "窗口内结案的案件数(按结案时间)", "cases closed in the window (by the time they closed)", ("结案",)),
    Figure("overdue", "超期数", "overdue", "count", "overdue", None,
           "窗口结束时(或现在, 取早者)未结案且已过处置时限的案件数(作废、挂账不计)",
           "cases open past their deadline at the window's end, or now when earlier (void and parked "
           "cases excluded)"),
    Figure("closed_on_time_rate", "按期结案率", "closed on time", "rate", "closed_on_time", "closing_due",
           "窗口内结案且有时限的案件中, 在时限前结案的比例",
           "of the cases closed in the window that had a deadline, the share closed by it", ("结案",)),
    Figure("rework_rate", "返工率", "rework rate", "rate", "reworked", "verified",
           "窗口内经结案核查的案件中, 核查不通过(返工)至少一次的比例",
           "of the cases verified in the window, the share failed (sent back for rework) at least once"),
    Figure("return_rate", "回退率", "return rate", "rate", "returned", "dispatched",
           "窗口内派遣的案件中, 窗口内被部门回退的比例",
           "of the cases dispatched in the window, the share a department returned as misrouted in it"),
    Figure("satisfaction_rate", "满意率", "satisfaction", "rate", "satisfied", "visited",
           "窗口内结案且已回访的案件中, 满意度 ≥ 4 的比例",
           "of the cases closed in the window and visited, the share rated 4 or 5", ("结案",)),
    Figure("self_handled_share", "就地处置占比", "self-handled share", "rate", "self_handled", "closed",
           "窗口内网格员就地处置的案件数 / 窗口内结案数",
           "cases a grid worker handled on the spot in the window / cases closed in it"),
    Figure("handling_hours_mean", "平均处置时长(小时)", "mean handling time (hours)", "hours",
           "handling_hours", "closed",
           "窗口内结案的案件从派遣(未派遣的从上报)到结案的平均小时数(自然时间)",
           "mean hours (calendar time) from dispatch, or report when never dispatched, to closing, over "
           "the cases closed in the window", ("结案",)),
    Figure("handling_hours_median", "处置时长中位数(小时)", "median handling time (hours)", "median",
           "handling_hours_median", None, "同上, 中位数", "the same, the median", ("结案",)),
)
HOTLINE: tuple[Figure, ...] = (  # 12345 的"三率" and returns, over the orders dispatched in the window
    Figure("accepted_on_time_rate", "按时签收率", "accepted on time", "rate", "accepted_on_time", "accept_due",
           "窗口内派发的工单中(已签收/退回或签收时限已过), 在签收时限内签收或退回的比例",
           "of the orders dispatched in the window that were signed for or returned, or are past the "
           "sign-for limit, the share signed for or returned within it"),
    Figure("replied_on_time_rate", "按时答复率", "replied on time", "rate", "replied_on_time", "reply_due",
           "窗口内派发且未退回的工单中(已答复或答复时限已过), 在答复时限内答复的比例",
           "of the orders dispatched in the window and not returned that were replied or are past the "
           "reply limit, the share replied within it"),
    Figure("satisfaction_rate", "满意率", "satisfaction", "rate", "hotline_satisfied", "hotline_visited",
           "窗口内派发、其案件已回访的工单中, 满意度 ≥ 4 的比例",
           "of the orders dispatched in the window whose case was visited, the share rated 4 or 5"),
    Figure("returned", "退回数", "returned", "count", "hotline_returned", None,
           "窗口内派发的工单中被本镇退回过的件数", "orders dispatched in the window that the town returned"),
)
DASHBOARD_SPAN_DAYS = {"day": 62, "week": 190}  # a trend by day up to ~2 months, by week up to ~6, else by month


def evaluate_figures(counts: Mapping[str, float | int | None], figures=DASHBOARD) -> dict:
    """The figures of one row of counts: counts as integers, rates as fractions (4 decimals,
    None without a denominator), hours (2 decimals).

    >>> f = evaluate_figures({"reported": 4, "closed": 2, "closed_on_time": 1, "closing_due": 2,
    ...                       "handling_hours": 5, "handling_hours_median": 2.5})
    >>> f["reported"], f["closed_on_time_rate"], f["handling_hours_mean"], f["handling_hours_median"]
    (4, 0.5, 2.5, 2.5)
    >>> evaluate_figures({})["rework_rate"], evaluate_figures({})["handling_hours_median"]
    (None, None)
    """
    out: dict = {}
    for fig in figures:
        num = counts.get(fig.numerator)
        if fig.unit == "count":
            out[fig.key] = int(num or 0)
        elif fig.unit == "median":
            out[fig.key] = None if num is None else round(float(num), 2)
        else:
            den = counts.get(fig.denominator) or 0
            value = float(num or 0) / den if den else None
            out[fig.key] = None if value is None else round(value, 2 if fig.unit == "hours" else 4)
    return out


def trend_unit(since: datetime, until: datetime) -> str:
    """The trend's bucket for a window: by day up to 62 days, by week up to 190, else by month.

    >>> d = lambda m, day=1: datetime(2026, m, day, tzinfo=SHANGHAI)
    >>> trend_unit(d(9), d(10)), trend_unit(d(1), d(5)), trend_unit(d(1), d(12))
    ('day', 'week', 'month')
    """
    days = (until - since).total_seconds() / 86400
    return next((unit for unit, limit in DASHBOARD_SPAN_DAYS.items() if days <= limit), "month")


def comparison_windows(since: datetime, until: datetime) -> dict[str, tuple[datetime, datetime]]:
    """The previous period of the same length (环比) and the same period a year earlier (同比).
    A window of whole calendar months compares with the whole months before it.

    >>> d = lambda y, m, day=1: datetime(y, m, day, tzinfo=SHANGHAI)
    >>> w = comparison_windows(d(2026, 10), d(2026, 11))
    >>> [(a.date().isoformat(), b.date().isoformat()) for a, b in w.values()]
    [('2026-09-01', '2026-10-01'), ('2025-10-01', '2025-11-01')]
    >>> w = comparison_windows(d(2026, 10, 5), d(2026, 10, 12))
    >>> [(a.date().isoformat(), b.date().isoformat()) for a, b in w.values()]
    [('2026-09-28', '2026-10-05'), ('2025-10-05', '2025-10-12')]
    """
    s, u = since.astimezone(SHANGHAI), until.astimezone(SHANGHAI)
    whole_months = s.day == 1 and u.day == 1 and s.time() == time(0) and u.time() == time(0)
    if whole_months:
        months = (u.year * 12 + u.month) - (s.year * 12 + s.month)
        first = _months_before(s.date(), months)
        previous = (datetime.combine(first, time(0), SHANGHAI), since)
    else:
        previous = (since - (until - since), since)
    return {"previous": previous, "last_year": (_years_before(s, 1), _years_before(u, 1))}
