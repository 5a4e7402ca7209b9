"""The working-day clock: deadlines in working hours and working days, Asia/Shanghai.

Working days follow the State Council schedule (public holidays, and the weekend days that become
workdays, 调休) from ``chinese_calendar``. For years the package does not know yet it raises
``NotImplementedError``; then weekends count as rest days, corrected by an editable table of extra
holidays and extra workdays. Deadlines are computed once and stored with the case.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Statutory holidays on fixed solar dates (国务院《全国年节及纪念日放假办法》, 2024 revision):
# New Year's Day, Labour Day (1-2 May), National Day (1-3 October). Lunar holidays and the 调休
# swaps of unknown years come from the editable table.
FIXED_HOLIDAYS = ((1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3))
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
        return day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS

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
