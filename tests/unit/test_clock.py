"""Deadlines on the working-day clock, Asia/Shanghai."""

from datetime import date, datetime

import pytest

from workflow.clock import DEFAULT_CALENDAR, SHANGHAI, WorkCalendar


def at(*args):
    return datetime(*args, tzinfo=SHANGHAI)


def test_work_hours_skip_lunch_and_night():
    # Friday 2026-11-27 16:00 + 4 working hours: 1.5 h Friday, then Monday 08:30 + 2.5 h
    assert DEFAULT_CALENDAR.add(at(2026, 11, 27, 16, 0), 4, "work_hours") == at(2026, 11, 30, 11, 0)
    # 11:00 + 2 h: one hour before lunch, one after
    assert DEFAULT_CALENDAR.add(at(2026, 11, 24, 11, 0), 2, "work_hours") == at(2026, 11, 24, 14, 30)


def test_national_day_2026_is_skipped():
    # Wednesday 30 September 2026, 16:00: the holiday runs 1–7 October (with its adjusted workdays)
    deadline = DEFAULT_CALENDAR.add(at(2026, 9, 30, 16, 0), 1, "work_days")
    assert deadline.date() > date(2026, 10, 7)
    assert DEFAULT_CALENDAR.is_workday(deadline.date())


def test_adjusted_weekend_workday_counts():
    # 2026-01-04 is a Sunday made a workday (调休) for New Year 2026
    assert DEFAULT_CALENDAR.is_workday(date(2026, 1, 4))
    assert DEFAULT_CALENDAR.add(at(2026, 1, 3, 12, 0), 1, "work_days") == at(2026, 1, 4, 17, 30)


def test_years_the_package_does_not_know_fall_back_and_keep_new_year():
    # chinese_calendar stops at 2026: 1 January 2027 is still a holiday
    assert not DEFAULT_CALENDAR.is_workday(date(2027, 1, 1))
    assert DEFAULT_CALENDAR.add(at(2026, 12, 31, 16, 0), 1, "work_days") == at(2027, 1, 4, 17, 30)


def test_editable_table_overrides():
    cal = WorkCalendar.with_table(holidays=[date(2027, 2, 8)], workdays=[date(2027, 2, 6)])
    assert not cal.is_workday(date(2027, 2, 8))  # a Monday declared holiday
    assert cal.is_workday(date(2027, 2, 6))  # a Saturday declared workday


def test_calendar_units():
    start = at(2026, 11, 24, 9, 0)
    assert DEFAULT_CALENDAR.add(start, 2, "hours") == at(2026, 11, 24, 11, 0)
    assert DEFAULT_CALENDAR.add(start, 2, "days") == at(2026, 11, 26, 9, 0)


@pytest.mark.parametrize("bad", [(datetime(2026, 1, 1), 1, "hours"), (at(2026, 1, 1), -1, "hours"),
                                 (at(2026, 1, 1), 1, "fortnights")])
def test_bad_arguments(bad):
    with pytest.raises(ValueError):
        DEFAULT_CALENDAR.add(*bad)
