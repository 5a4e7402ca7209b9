"""The provisional holidays of a year the State Council has not announced yet, computed by the
national rules, checked against the years whose schedule ``chinese_calendar`` knows."""

from datetime import date, timedelta

import chinese_calendar
import pytest

from workflow.clock import WorkCalendar, provisional_holidays, year_is_known


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_rules_give_the_announced_holidays_of_known_years(year):
    assert year_is_known(year)
    computed = provisional_holidays(year)
    assert len(computed) == 13
    for day in computed:
        assert chinese_calendar.is_holiday(day), day
    # and every statutory day off of the announced schedule (not a weekend, not a swap) is computed
    day = date(year, 1, 1)
    while day.year == year:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
        if on_holiday and name and day.weekday() < 5 and day not in computed:
            # the announced schedule adds swapped days around the holidays: each is next to one
            assert any(abs((day - d).days) <= 8 for d in computed), day
        day += timedelta(days=1)


def test_an_unannounced_year_is_provisional_until_the_table_confirms_it():
    assert not year_is_known(2027)
    calendar = WorkCalendar()
    assert not calendar.is_workday(date(2027, 2, 8))  # 初三, a Monday
    assert not calendar.is_workday(date(2027, 9, 15))  # 中秋, a Wednesday
    assert calendar.is_workday(date(2027, 9, 16))
    assert calendar.is_provisional(date(2027, 9, 16)) and not calendar.is_provisional(date(2026, 9, 16))
    confirmed = WorkCalendar.with_table(holidays=[date(2027, 9, 15)], workdays=[date(2027, 9, 18)])
    assert not confirmed.is_provisional(date(2027, 9, 16))
    assert confirmed.is_workday(date(2027, 9, 18))  # a Saturday, worked by the notice's swap
