"""Deadline status on the working-day clock (no database): normal, yellow at 75 % of the working
time, red when overdue; across the 2026 National Day holiday and its adjusted Saturday (调休), a
weekend, and New Year 2027 (a year chinese_calendar does not know) with and without the table."""

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webmap.services.errors import InvalidInputError
from webmap.services.workdays import (
    HolidayFileError,
    calendar_from_rows,
    parse_day,
    read_holiday_csv,
)
from workflow import deadlines as rules
from workflow.clock import DEFAULT_CALENDAR, SHANGHAI, WORK_DAY, WorkCalendar


def at(*args):
    return datetime(*args, tzinfo=SHANGHAI)


H = timedelta(hours=1)


# ---------------------------------------------------------------- the clock's inverse


def test_work_between_counts_office_hours_of_working_days_only():
    # Friday 15:00 → Monday 10:00: 2.5 h on Friday, 1.5 h on Monday, nothing at the weekend
    assert DEFAULT_CALENDAR.work_between(at(2026, 11, 27, 15), at(2026, 11, 30, 10)) == 4 * H
    assert DEFAULT_CALENDAR.work_between(at(2026, 11, 30, 10), at(2026, 11, 27, 15)) == -4 * H
    assert DEFAULT_CALENDAR.work_between(at(2026, 11, 28, 9), at(2026, 11, 29, 17)) == timedelta()
    assert (
        DEFAULT_CALENDAR.work_between(at(2026, 11, 30, 0), at(2026, 12, 1, 0))
        == WORK_DAY
        == 7.5 * H
    )
    with pytest.raises(ValueError):
        DEFAULT_CALENDAR.work_between(datetime(2026, 1, 1), at(2026, 1, 2))


@settings(max_examples=150, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2026, 9, 1), max_value=datetime(2027, 3, 1)),
    hours=st.integers(min_value=0, max_value=60),
)
def test_work_between_is_the_inverse_of_adding_work_hours(start, hours):
    start = start.replace(tzinfo=SHANGHAI)
    deadline = DEFAULT_CALENDAR.add(start, hours, "work_hours")
    assert DEFAULT_CALENDAR.work_between(start, deadline) == timedelta(hours=hours)


@settings(max_examples=100, deadline=None)
@given(
    first=st.dates(min_value=date(2025, 6, 1), max_value=date(2027, 12, 31)),
    days=st.integers(min_value=0, max_value=800),
)
def test_counting_working_days_agrees_with_asking_each_day(first, days):
    table = WorkCalendar.with_table(holidays=[date(2027, 1, 4)], workdays=[date(2027, 2, 6)])
    last = first + timedelta(days=days)
    for calendar in (DEFAULT_CALENDAR, table):
        expected = sum(calendar.is_workday(first + timedelta(days=i)) for i in range(days))
        assert calendar.count_workdays(first, last) == expected


# ---------------------------------------------------------------- statuses


def test_a_weekend_does_not_turn_a_case_yellow():
    start = at(2026, 11, 27, 15, 0)  # Friday; 4 working hours → Monday 10:00
    deadline = DEFAULT_CALENDAR.add(start, 4, "work_hours")
    assert deadline == at(2026, 11, 30, 10, 0)
    # Monday 07:00: 95 % of the wall time is gone, 62.5 % of the working time
    early = rules.status(start, deadline, at(2026, 11, 30, 7, 0))
    assert early.status == rules.NORMAL and early.share_used == 0.625
    assert early.remaining == 1.5 * H and early.overdue_by == timedelta()
    assert rules.status(start, deadline, at(2026, 11, 29, 23, 0)).status == rules.NORMAL
    soon = rules.status(start, deadline, at(2026, 11, 30, 9, 30))  # 3.5 of 4 h: 87.5 %
    assert soon.status == rules.YELLOW and soon.remaining == 0.5 * H
    assert (
        rules.status(start, deadline, at(2026, 11, 30, 9, 30), yellow_share=0.9).status
        == rules.NORMAL
    )
    assert (
        rules.status(start, deadline, deadline).status == rules.YELLOW
    )  # at the deadline: not late yet
    late = rules.status(start, deadline, at(2026, 11, 30, 10, 1))
    assert late.status == rules.RED and late.overdue_by == timedelta(minutes=1)
    assert late.remaining == timedelta() and late.label_zh == "超期"


def test_exactly_75_percent_is_yellow():
    start = at(2026, 11, 30, 8, 30)  # Monday; 4 working hours: 3.5 before lunch → 14:00
    deadline = DEFAULT_CALENDAR.add(start, 4, "work_hours")
    assert rules.status(start, deadline, at(2026, 11, 30, 11, 29)).status == rules.NORMAL
    assert rules.status(start, deadline, at(2026, 11, 30, 11, 30)).status == rules.YELLOW


def test_national_day_2026_uses_up_no_working_time():
    # dispatched Wednesday 30 September 14:00, 1 working day: the holiday runs 1–7 October
    start = at(2026, 9, 30, 14, 0)
    deadline = DEFAULT_CALENDAR.add(start, 1, "work_days")
    assert deadline == at(2026, 10, 8, 17, 30)
    during = rules.status(start, deadline, at(2026, 10, 6, 12, 0))
    assert during.status == rules.NORMAL  # wall clock: 80 % gone; working clock: 3.5 of 11 h
    assert during.allowed == 11 * H and during.used == 3.5 * H and during.remaining == 7.5 * H
    assert (
        rules.status(start, deadline, at(2026, 10, 8, 13, 30)).status == rules.NORMAL
    )  # 7 of 11 h
    assert (
        rules.status(start, deadline, at(2026, 10, 8, 15, 0)).status == rules.YELLOW
    )  # 8.5 of 11 h
    late = rules.status(start, deadline, at(2026, 10, 9, 9, 0))
    assert late.status == rules.RED
    assert late.overdue_by == 0.5 * H and late.overdue_wall == timedelta(hours=15, minutes=30)


def test_the_adjusted_saturday_after_national_day_counts():
    # 3 working days from 30 September: 8 and 9 October, then Saturday 10 October (调休 workday)
    start = at(2026, 9, 30, 14, 0)
    deadline = DEFAULT_CALENDAR.add(start, 3, "work_days")
    assert deadline == at(2026, 10, 10, 17, 30) and deadline.weekday() == 5
    friday_evening = rules.status(start, deadline, at(2026, 10, 9, 20, 0))
    saturday_noon = rules.status(start, deadline, at(2026, 10, 10, 12, 0))
    assert friday_evening.used == 18.5 * H and friday_evening.status == rules.NORMAL  # 70 %
    assert (
        saturday_noon.used == 22 * H and saturday_noon.status == rules.YELLOW
    )  # the Saturday counts
    sunday = rules.status(start, deadline, at(2026, 10, 11, 10, 0))
    assert (
        sunday.status == rules.RED and sunday.overdue_by == timedelta()
    )  # late, but no office hours lost
    assert rules.status(start, deadline, at(2026, 10, 12, 9, 0)).overdue_by == 0.5 * H


def test_new_year_2027_with_the_fallback():
    # chinese_calendar stops at 2026: weekends and the fixed-date New Year's Day are the fallback
    start = at(2026, 12, 31, 16, 0)  # Thursday
    deadline = DEFAULT_CALENDAR.add(start, 4, "work_hours")
    assert deadline == at(2027, 1, 4, 11, 0)  # 1.5 h on 31 Dec; 1–3 Jan off; 2.5 h on Monday
    assert DEFAULT_CALENDAR.add(start, 1, "work_days") == at(2027, 1, 4, 17, 30)
    assert rules.status(start, deadline, at(2027, 1, 3, 18, 0)).status == rules.NORMAL  # 1.5 of 4 h
    assert rules.status(start, deadline, at(2027, 1, 4, 10, 0)).status == rules.YELLOW  # 3.5 of 4 h
    assert rules.status(start, deadline, at(2027, 1, 4, 11, 30)).status == rules.RED


def test_new_year_2027_once_the_table_says_4_january_is_a_holiday():
    table = WorkCalendar.with_table(holidays=[date(2027, 1, 4)])
    start = at(2026, 12, 31, 16, 0)
    deadline = table.add(start, 4, "work_hours")
    assert deadline == at(2027, 1, 5, 11, 0)
    assert table.add(start, 1, "work_days") == at(2027, 1, 5, 17, 30)
    # on the 4th nothing is used up: still 1.5 of 4 h
    assert (
        rules.status(start, deadline, at(2027, 1, 4, 16, 0), calendar=table).status == rules.NORMAL
    )
    assert (
        rules.status(start, deadline, at(2027, 1, 5, 10, 0), calendar=table).status == rules.YELLOW
    )
    # a deadline stored before the table knew it is measured with the table now: late on the 4th,
    # yet without a single working hour lost
    stale = rules.status(start, at(2027, 1, 4, 11, 0), at(2027, 1, 4, 16, 0), calendar=table)
    assert stale.status == rules.RED and stale.overdue_by == timedelta()
    # and an adjusted Saturday in the table is a working day like any other
    swap = WorkCalendar.with_table(holidays=[date(2027, 1, 4)], workdays=[date(2027, 1, 2)])
    assert swap.add(start, 4, "work_hours") == at(2027, 1, 2, 11, 0)


def test_calendar_from_table_rows():
    calendar = calendar_from_rows([(date(2027, 1, 4), "holiday"), (date(2027, 2, 6), "workday")])
    assert not calendar.is_workday(date(2027, 1, 4)) and calendar.is_workday(date(2027, 2, 6))
    assert calendar.is_workday(date(2027, 1, 5)) and not calendar.is_workday(date(2027, 1, 1))
    assert calendar_from_rows([]) == WorkCalendar()


def test_limits_in_calendar_time_are_measured_on_the_wall_clock():
    start = at(2026, 11, 28, 10, 0)  # a Saturday: a fire (1 hour) does not wait for Monday
    deadline = DEFAULT_CALENDAR.add(start, 1, "hours")
    assert not rules.measured_on_working_clock("hours") and rules.measured_on_working_clock(
        "work_days"
    )
    assert (
        rules.status(start, deadline, at(2026, 11, 28, 10, 30), working=False).status
        == rules.NORMAL
    )
    assert (
        rules.status(start, deadline, at(2026, 11, 28, 10, 50), working=False).status
        == rules.YELLOW
    )
    late = rules.status(start, deadline, at(2026, 11, 28, 12, 0), working=False)
    assert late.status == rules.RED and late.overdue_by == H and not late.working
    # on the working clock nothing would be allowed at all on a Saturday
    assert rules.status(start, deadline, at(2026, 11, 28, 10, 1)).share_used == 1.0


def test_clock_start_and_bad_arguments():
    reported, dispatched = at(2026, 11, 30, 9), at(2026, 11, 30, 10)
    assert rules.clock_start(dispatched, reported) == dispatched
    assert rules.clock_start(None, reported) == reported
    before = rules.status(dispatched, at(2026, 11, 30, 14), at(2026, 11, 30, 9))  # not started yet
    assert (
        before.status == rules.NORMAL
        and before.used == timedelta()
        and before.remaining == before.allowed
    )
    with pytest.raises(ValueError):
        rules.status(datetime(2026, 11, 30, 9), at(2026, 11, 30, 14), at(2026, 11, 30, 9))
    with pytest.raises(ValueError):
        rules.status(reported, dispatched, reported, yellow_share=0)


def test_who_is_escalated_to_supervision():
    start = at(2026, 11, 30, 8, 30)
    deadline = DEFAULT_CALENDAR.add(start, 2, "work_hours")  # 10:30
    late = rules.status(start, deadline, at(2026, 12, 1, 9, 0))  # 1.5 + 4 + 0.5 = 6 working hours
    assert late.overdue_by == 6 * H
    after = timedelta(hours=4)
    assert rules.should_auto_supervise("立案派遣", late, after, dispatched=True)
    assert rules.should_auto_supervise("处理中", late, after, dispatched=True)
    assert not rules.should_auto_supervise("处理中", late, timedelta(hours=6), dispatched=True)
    assert not rules.should_auto_supervise(
        "处理中", late, after, dispatched=False
    )  # the village's own
    assert not rules.should_auto_supervise(
        "处理中", late, after, dispatched=True, extension_pending=True
    )
    for state in ("待受理", "已立案", "督办", "待核查", "挂账"):
        assert not rules.should_auto_supervise(state, late, after, dispatched=True)
    soon = rules.status(start, deadline, at(2026, 11, 30, 10, 0))
    assert not rules.should_auto_supervise("处理中", soon, timedelta(), dispatched=True)
    assert set(rules.AUTO_SUPERVISE_STATES) <= set(rules.CLOCK_STATES)
    assert "待核查" not in rules.CLOCK_STATES and "挂账" not in rules.CLOCK_STATES


# ---------------------------------------------------------------- table input


@pytest.mark.parametrize(
    "raw", ["2027-02-30", "20270104", "2027-1-4", "", None, 20270104, "1999-12-31"]
)
def test_bad_days_are_refused_with_a_reason(raw):
    with pytest.raises(InvalidInputError) as info:
        parse_day(raw)
    assert info.value.errors[0].field == "day" and info.value.errors[0].zh


def test_holiday_csv_reading(tmp_path):
    good = tmp_path / "2027.csv"
    good.write_bytes(
        "日期,类型,备注\n2027-02-06,班,春节调休\n\n2027-02-08,休,春节\n".encode("gb18030")
    )
    assert read_holiday_csv(good) == [
        {"day": "2027-02-06", "kind": "班", "note": "春节调休"},
        {"day": "2027-02-08", "kind": "休", "note": "春节"},
    ]
    headless = tmp_path / "bad.csv"
    headless.write_text("2027-02-06,workday\n", encoding="utf-8")
    with pytest.raises(HolidayFileError):
        read_holiday_csv(headless)
    with pytest.raises(HolidayFileError):
        read_holiday_csv(tmp_path / "missing.csv")
