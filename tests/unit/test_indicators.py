"""The pure side of the indicators: windows, the filing clock, rates and their edge cases."""

from datetime import UTC, date, datetime, timedelta

import pytest

from workflow import indicators as ind
from workflow.clock import SHANGHAI, WorkCalendar

NOW = datetime(2026, 11, 28, 9, 30, tzinfo=SHANGHAI)


def fields(exc_info) -> list[str]:
    return [e["field"] for e in exc_info.value.errors]


def test_default_window_is_twelve_calendar_months_to_now():
    w = ind.parse_window(None, None, None, NOW)
    assert w.by == "village" and w.until == NOW
    assert w.since == datetime(2025, 12, 1, tzinfo=SHANGHAI)


def test_default_window_across_a_year_boundary():
    w = ind.parse_window("month", None, "2026-01-15", NOW)
    assert w.since == datetime(2025, 2, 1, tzinfo=SHANGHAI)
    assert w.until == datetime(2026, 1, 16, tzinfo=SHANGHAI)  # the day given is included


def test_dates_are_whole_days_in_shanghai():
    w = ind.parse_window("grid", "2026-01-01", "2026-06-30", NOW)
    assert w.since == datetime(2026, 1, 1, tzinfo=SHANGHAI)
    assert w.until == datetime(2026, 7, 1, tzinfo=SHANGHAI)
    assert w.since.utcoffset() == timedelta(hours=8)
    assert w.period == "2026-01-01 至 2026-06-30"


@pytest.mark.parametrize(("raw", "expected"), [
    ("2026-03-01T08:00:00", datetime(2026, 3, 1, 8, tzinfo=SHANGHAI)),  # no offset: Shanghai time
    ("2026-03-01T00:00:00Z", datetime(2026, 3, 1, 8, tzinfo=SHANGHAI)),
    ("2026-03-01T00:00:00+00:00", datetime(2026, 3, 1, tzinfo=UTC)),
    (" 2026-03-01 ", datetime(2026, 3, 1, tzinfo=SHANGHAI)),
])
def test_instants(raw, expected):
    assert ind.parse_window("grid", raw, "2026-04-01", NOW).since == expected


def test_a_window_of_minutes_is_shown_with_times():
    w = ind.parse_window("grid", "2026-03-01T08:00", "2026-03-01T09:30", NOW)
    assert w.period == "2026-03-01 08:00 至 2026-03-01 09:30"


@pytest.mark.parametrize(("by", "since", "until", "bad"), [
    ("street", None, None, ["by"]),
    ("", None, None, []),  # empty: the default
    ("Grid", None, None, ["by"]),  # names are exact
    ("grid", "2026-02-30", None, ["since"]),
    ("grid", "2026-1-1", None, ["since"]),
    ("grid", "2026/01/01", None, ["since"]),
    ("grid", "1999-12-31", "2000-01-02", ["since"]),
    ("grid", None, "2101-01-01", ["until"]),
    ("grid", "2098-01-01", "2100-12-31", []),  # the last day of the last year allowed
    ("grid", "2026-01-01'; DROP TABLE incidents; --", None, ["since"]),
    ("x", "y", "z", ["by", "since", "until"]),  # every problem at once
    ("grid", "2026-06-01", "2026-05-31", ["until"]),  # until before since
    ("grid", "2026-06-01T10:00", "2026-06-01T10:00", ["until"]),  # empty window
    ("grid", "2023-06-30", "2026-06-30", ["since"]),  # three years and a day
])
def test_bad_windows_name_their_fields(by, since, until, bad):
    if not bad:
        ind.parse_window(by, since, until, NOW)
        return
    with pytest.raises(ind.ParamError) as exc:
        ind.parse_window(by, since, until, NOW)
    assert fields(exc) == bad
    assert all(e["zh"] and e["en"] for e in exc.value.errors)


def test_three_years_exactly_is_allowed():
    w = ind.parse_window("month", "2023-07-01", "2026-06-30", NOW)
    assert w.until - w.since == timedelta(days=1096)


def test_three_years_from_a_leap_day():
    w = ind.parse_window("month", "2025-02-28T00:00", "2028-02-29T00:00", NOW)
    assert w.since.year == 2025
    with pytest.raises(ind.ParamError):
        ind.parse_window("month", "2025-02-27T23:59", "2028-02-29T00:00", NOW)


def test_filing_clock_follows_the_working_days():
    days, due = ind.filing_clock(WorkCalendar(), date(2026, 9, 29), date(2026, 10, 9))
    by_day = dict(zip(days, due, strict=True))
    assert len(days) == 11 and days[0] == date(2026, 9, 29) and days[-1] == date(2026, 10, 9)
    assert by_day[date(2026, 9, 29)] == datetime(2026, 9, 30, 17, 30, tzinfo=SHANGHAI)
    # received on the eve of National Day: due on the first working day after the holiday
    first_after = min(d for d in by_day if d > date(2026, 10, 1) and WorkCalendar().is_workday(d))
    assert by_day[date(2026, 9, 30)].date() == first_after
    assert all(d.time().isoformat() == "17:30:00" for d in due)


def test_filing_clock_with_an_administrators_holiday():
    tuesday = date(2030, 10, 8)  # a year the package does not know: weekends plus the table
    plain = dict(zip(*ind.filing_clock(WorkCalendar(), date(2030, 10, 7), date(2030, 10, 7)), strict=True))
    table = WorkCalendar.with_table(holidays=[tuesday])
    moved = dict(zip(*ind.filing_clock(table, date(2030, 10, 7), date(2030, 10, 7)), strict=True))
    assert plain[date(2030, 10, 7)].date() == tuesday
    assert moved[date(2030, 10, 7)].date() == date(2030, 10, 9)


def test_filing_clock_of_no_days():
    assert ind.filing_clock(WorkCalendar(), date(2026, 1, 2), date(2026, 1, 1)) == ([], [])


@pytest.mark.parametrize(("num", "den", "unit", "value"), [
    (0, 0, "percent", None),
    (5, 0, "percent", None),
    (0, None, "percent", None),
    (0, 7, "percent", 0.0),
    (7, 7, "percent", 100.0),
    (1, 3, "percent", 33.33),
    (2, 3, "percent", 66.67),
    (7.5, 3, "hours", 2.5),
    (1, 3, "hours", 0.33),
])
def test_rate(num, den, unit, value):
    assert ind.rate(num, den, unit) == value


def test_evaluate_gives_every_indicator():
    counts = {c: 0 for c in ind.COUNT_COLUMNS}
    counts.update(reported=4, closed=3, handling_hours=10.004, satisfied=1, visited=2, filed=None)
    out = ind.evaluate(counts)
    assert list(out) == list(ind.INDICATOR_KEYS)
    assert out["reported"] == {"value": 4, "numerator": 4, "denominator": None}
    assert out["filed"] == {"value": 0, "numerator": 0, "denominator": None}  # NULL is 0
    assert out["handling_hours"] == {"value": 3.33, "numerator": 10.0, "denominator": 3}
    assert out["satisfaction"] == {"value": 50.0, "numerator": 1, "denominator": 2}
    assert out["rework"] == {"value": None, "numerator": 0, "denominator": 0}


def test_indicator_table_is_consistent():
    keys = [i.key for i in ind.INDICATORS]
    assert len(keys) == len(set(keys)) == 14
    for i in ind.INDICATORS:
        assert i.unit in ("count", "percent", "hours")
        assert (i.denominator is None) == (i.unit == "count"), i.key
        assert i.zh and i.en and i.definition_zh and i.definition_en
        assert i.numerator in ind.COUNT_COLUMNS
    assert set(ind.GROUPS) == {"grid", "village", "department", "category", "source", "month"}


@pytest.mark.parametrize(("key", "label"), [("2026-01", "2026年1月"), ("2025-12", "2025年12月")])
def test_month_label(key, label):
    assert ind.month_label(key) == label
