"""The working-day clock: deadlines in working hours and working days, Asia/Shanghai.

Working days follow the State Council schedule (public holidays, and the weekend days that become
workdays, 调休) from ``chinese_calendar``. For years the package does not know yet it raises
``NotImplementedError``; then the statutory holidays of the national rules are computed
(:func:`provisional_holidays`: the lunar ones from the lunar calendar, ``lunar_python``) and shown as
**provisional** (暂定) until the administrator confirms them or enters the State Council's notice
with its 调休 in the editable table of extra holidays and extra workdays, which overrides all. The
weekend swaps of such a year are unknown until then. Deadlines are computed once and stored with the
case.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar
from lunar_python import Lunar

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The statutory holidays (国务院《全国年节及纪念日放假办法》, 2024 revision, from 2025): New Year's
# Day 1 day, the Spring Festival 4 days from its eve, Qingming 1, Labour Day 2 (1-2 May), the Dragon
# Boat Festival 1, Mid-Autumn 1, National Day 3 (1-3 October).
HOLIDAY_NAMES = {"new_year": ("元旦", "New Year's Day"), "spring": ("春节", "Spring Festival"),
                 "qingming": ("清明节", "Qingming"), "labour": ("劳动节", "Labour Day"),
                 "dragon_boat": ("端午节", "Dragon Boat Festival"), "mid_autumn": ("中秋节", "Mid-Autumn Festival"),
                 "national": ("国庆节", "National Day")}


@lru_cache(maxsize=64)
def provisional_holidays(year: int) -> dict[date, str]:
    """The statutory holidays of ``year`` by the national rules, without the 调休 swaps the State
    Council announces each year: ``{day: key of HOLIDAY_NAMES}``.

    >>> h = provisional_holidays(2027)
    >>> [d.isoformat() for d, k in sorted(h.items()) if k == "spring"]
    ['2027-02-05', '2027-02-06', '2027-02-07', '2027-02-08']
    >>> sorted(d.isoformat() for d, k in h.items() if k in ("qingming", "dragon_boat", "mid_autumn"))
    ['2027-04-05', '2027-06-09', '2027-09-15']
    >>> len(h), len(provisional_holidays(2028))  # 2028: Mid-Autumn on 3 October adds the 4th
    (13, 13)
    """
    def solar(lunar_month: int, lunar_day: int) -> date:
        s = Lunar.fromYmd(year, lunar_month, lunar_day).getSolar()
        return date(s.getYear(), s.getMonth(), s.getDay())

    days: dict[date, str] = {}

    def put(day: date, key: str) -> None:
        while day in days:  # two holidays on one day (中秋 on 国庆, 2028): the second takes the next day
            day += timedelta(days=1)
        days[day] = key

    for day, key in ((date(year, 1, 1), "new_year"), (date(year, 5, 1), "labour"), (date(year, 5, 2), "labour"),
                     (date(year, 10, 1), "national"), (date(year, 10, 2), "national"), (date(year, 10, 3), "national")):
        put(day, key)
    new_year = solar(1, 1)
    for k in range(-1, 3):  # 除夕 to 初三
        put(new_year + timedelta(days=k), "spring")
    qingming = Lunar.fromYmd(year, 1, 1).getJieQiTable()["清明"]
    put(date(qingming.getYear(), qingming.getMonth(), qingming.getDay()), "qingming")
    put(solar(5, 5), "dragon_boat")
    put(solar(8, 15), "mid_autumn")
    return {d: k for d, k in days.items() if d.year == year}


def year_is_known(year: int) -> bool:
    """Whether ``chinese_calendar`` holds the State Council's schedule of ``year``."""
    return _statutory_workday(date(year, 6, 30)) is not None


# Office hours of a town government: morning and afternoon.
WORK_PERIODS = ((time(8, 30), time(12, 0)), (time(13, 30), time(17, 30)))
# The working time of one working day (7.5 hours).
WORK_DAY = sum((datetime.combine(date.min, end) - datetime.combine(date.min, begin)
                for begin, end in WORK_PERIODS), timedelta())


def shanghai_now() -> datetime:
    """The current moment, aware, in Asia/Shanghai."""
    return datetime.now(SHANGHAI)


def format_iso(value: datetime | None, timespec: str = "auto") -> str | None:
    """An aware moment as the API writes it: ISO 8601 in Asia/Shanghai (``+08:00``); None stays None.

    >>> from datetime import timezone
    >>> format_iso(datetime(2026, 3, 1, 1, 2, 3, 450000, tzinfo=timezone.utc))
    '2026-03-01T09:02:03.450000+08:00'
    >>> format_iso(datetime(2026, 3, 1, 1, 2, 3, 450000, tzinfo=timezone.utc), timespec="seconds")
    '2026-03-01T09:02:03+08:00'
    >>> format_iso(None) is None
    True
    """
    return value.astimezone(SHANGHAI).isoformat(timespec=timespec) if value is not None else None


@lru_cache(maxsize=4096)
def _statutory_workday(day: date) -> bool | None:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return None


@dataclass(frozen=True)
class WorkCalendar:
    """Which days are working days. ``holidays``/``workdays`` override the package and weekends."""

    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def with_table(cls, holidays: Iterable[date] = (),
                   workdays: Iterable[date] = ()) -> WorkCalendar:
        return cls(frozenset(holidays), frozenset(workdays))

    def is_workday(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        known = _statutory_workday(day)
        if known is not None:
            return known
        return day.weekday() < 5 and day not in provisional_holidays(day.year)

    def is_provisional(self, day: date) -> bool:
        """Whether ``day``'s year has no known schedule: its holidays are the computed, provisional
        ones (the table's entries for the year confirm it: an administrator entered or confirmed them)."""
        if year_is_known(day.year):
            return False
        return not any(d.year == day.year for d in self.holidays | self.workdays)

    def add(self, start: datetime, amount: int, unit: str) -> datetime:
        """The deadline ``amount`` ``unit`` after ``start`` (an aware datetime), in Asia/Shanghai.

        Units: ``hours``/``days`` (calendar time), ``work_hours`` (office hours of working days),
        ``work_days`` (the end of the N-th working day after the day of ``start``).
        """
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        if amount < 0:
            raise ValueError("amount must not be negative")
        local = start.astimezone(SHANGHAI)
        if unit == "hours":
            return local + timedelta(hours=amount)
        if unit == "days":
            return local + timedelta(days=amount)
        if unit == "work_days":
            return self._add_work_days(local, amount)
        if unit == "work_hours":
            return self._add_work_hours(local, timedelta(hours=amount))
        raise ValueError(f"unknown time unit: {unit!r}")

    def work_between(self, start: datetime, end: datetime) -> timedelta:
        """The working time (office hours of working days) from ``start`` to ``end``, two aware
        datetimes; negative when ``end`` comes first. A weekend or a holiday adds nothing.

        It is the inverse of ``add(start, n, "work_hours")``: ``work_between(start, add(start, n,
        "work_hours")) == timedelta(hours=n)``.
        """
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("start and end must be timezone-aware")
        if end < start:
            return -self.work_between(end, start)
        a, b = start.astimezone(SHANGHAI), end.astimezone(SHANGHAI)
        first, last = a.date(), b.date()
        if first == last:
            return self._work_on(first, a, b)
        total = self._work_on(first, a, b) + self._work_on(last, a, b)
        return total + WORK_DAY * self.count_workdays(first + timedelta(days=1), last)

    def count_workdays(self, first: date, last: date) -> int:
        """The number of working days from ``first`` up to, not including, ``last``."""
        total = 0
        while first < last:
            new_year = date(first.year + 1, 1, 1)
            stop = min(last, new_year)
            prefix = _workday_prefix(self, first.year)
            jan1 = date(first.year, 1, 1)
            total += prefix[(stop - jan1).days] - prefix[(first - jan1).days]
            first = stop
        return total

    def _work_on(self, day: date, a: datetime, b: datetime) -> timedelta:
        """The office hours of ``day`` that lie between ``a`` and ``b``."""
        total = timedelta()
        if not self.is_workday(day):
            return total
        for begin, finish in WORK_PERIODS:
            lo = max(a, datetime.combine(day, begin, SHANGHAI))
            hi = min(b, datetime.combine(day, finish, SHANGHAI))
            if hi > lo:
                total += hi - lo
        return total

    def _add_work_days(self, local: datetime, days: int) -> datetime:
        day = local.date()
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_workday(day):
                counted += 1
        return datetime.combine(day, WORK_PERIODS[-1][1], SHANGHAI)

    def _add_work_hours(self, local: datetime, left: timedelta) -> datetime:
        day = local.date()
        cursor = local
        for _ in range(3660):  # ten years of days: a bound, never reached by real limits
            if self.is_workday(day):
                for begin, end in WORK_PERIODS:
                    p_begin = datetime.combine(day, begin, SHANGHAI)
                    p_end = datetime.combine(day, end, SHANGHAI)
                    start = max(cursor, p_begin)
                    if start >= p_end:
                        continue
                    if start + left <= p_end:
                        return start + left
                    left -= p_end - start
            day += timedelta(days=1)
            cursor = datetime.combine(day, time(0), SHANGHAI)
        raise ValueError("work-hour limit too large")


@lru_cache(maxsize=512)
def _workday_prefix(calendar: WorkCalendar, year: int) -> tuple[int, ...]:
    """``prefix[i]``: the working days among the first ``i`` days of ``year``."""
    jan1 = date(year, 1, 1)
    prefix = [0]
    for i in range((date(year + 1, 1, 1) - jan1).days):
        prefix.append(prefix[-1] + calendar.is_workday(jan1 + timedelta(days=i)))
    return tuple(prefix)


DEFAULT_CALENDAR = WorkCalendar()
