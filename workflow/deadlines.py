"""Deadline status (限时办结) and supervision (督办): pure rules on the working-day clock.

A case's clock starts when it is dispatched (``dispatched_at``), or when it was reported while it
is not dispatched yet. Its status at ``now``:

- ``red`` 超期: ``now`` is past the deadline;
- ``yellow`` 预警: at least 75 % of the allowed working time is used;
- ``normal`` 正常: otherwise.

Time used is measured on the working-day clock, not the wall clock: a weekend or the National Day
holiday uses up nothing, so a case does not turn yellow while the office is closed. Categories whose
limit is in calendar time (``hours``/``days``, e.g. a fire: 1 hour) are measured on the wall clock.

Nothing here knows about Flask or SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from workflow import cases
from workflow.clock import DEFAULT_CALENDAR, WorkCalendar

NORMAL, YELLOW, RED = "normal", "yellow", "red"
STATUSES = (NORMAL, YELLOW, RED)
STATUS_LABELS = {
    NORMAL: ("正常", "on time"),
    YELLOW: ("预警", "due soon"),
    RED: ("超期", "overdue"),
}
YELLOW_SHARE = 0.75
# States in which the handling clock runs: open, and neither parked (挂账: off the clock, kept on
# the books) nor handled and waiting for the grid worker's verification (待核查).
CLOCK_STATES = (cases.REPORTED, cases.FILED, cases.DISPATCHED, cases.HANDLING, cases.SUPERVISED)
# Red cases in these states may be escalated to 督办 by the job.
AUTO_SUPERVISE_STATES = (cases.DISPATCHED, cases.HANDLING)
# Events the system appends (case_events.action), with their labels.
OVERDUE, AUTO_SUPERVISE = "overdue", "auto_supervise"
REROUTE = "reroute"  # a published grid plan moved the case to another grid
HOTLINE_CLOSED = "hotline_closed"  # the 12345 order that opened the case was closed (workflow/hotline.py)
REASSIGN = "reassign"  # the administrator gave the grid to another worker (webmap/services/admin.py)
STAND_IN = "stand_in"  # a new case went to whom the town named while the grid's worker is on leave
SYSTEM_EVENTS = {
    OVERDUE: ("超期", "overdue"),
    AUTO_SUPERVISE: ("超期自动督办", "supervised automatically"),
    REROUTE: ("网格调整改派", "re-routed by a grid plan"),
    HOTLINE_CLOSED: ("12345 工单结案, 案件随之结案", "closed with its 12345 order"),
    REASSIGN: ("网格员调整", "the grid's worker changed"),
    STAND_IN: ("网格员请假, 由顶岗人员负责", "the grid's worker is on leave: to the stand-in"),
}
SYSTEM_ROLE = "system"
WORKING_UNITS = ("work_hours", "work_days")


@dataclass(frozen=True)
class DeadlineStatus:
    """Where a case stands against its deadline. Durations are working time unless
    ``working`` is False (a limit in calendar time); ``overdue_wall`` is always wall time."""

    status: str
    allowed: timedelta  # from start to deadline
    used: timedelta  # from start to now (at most ``allowed`` … or more, when overdue)
    remaining: timedelta  # to the deadline; zero once overdue
    overdue_by: timedelta  # past the deadline; zero unless red
    overdue_wall: timedelta  # past the deadline in wall time; zero unless red
    working: bool = True

    @property
    def share_used(self) -> float:
        """The share of the allowed time used (1.0 when nothing was allowed)."""
        if self.allowed <= timedelta():
            return 1.0
        return max(self.used, timedelta()) / self.allowed

    @property
    def label_zh(self) -> str:
        return STATUS_LABELS[self.status][0]

    @property
    def label_en(self) -> str:
        return STATUS_LABELS[self.status][1]


def clock_start(dispatched_at: datetime | None, reported_at: datetime) -> datetime:
    """When the case's clock started: at dispatch, or at the report while it is not dispatched."""
    return dispatched_at or reported_at


def is_overdue(deadline: datetime, now: datetime) -> bool:
    """Red: strictly past the deadline (the same test as ``deadline < now`` in SQL)."""
    return now > deadline


def status(
    start: datetime,
    deadline: datetime,
    now: datetime,
    *,
    calendar: WorkCalendar = DEFAULT_CALENDAR,
    working: bool = True,
    yellow_share: float = YELLOW_SHARE,
) -> DeadlineStatus:
    """The status of a case started at ``start`` with ``deadline``, at ``now`` (aware datetimes).

    >>> from workflow.clock import SHANGHAI
    >>> fri = datetime(2026, 11, 27, 9, 0, tzinfo=SHANGHAI)  # a Friday; deadline Monday 17:30
    >>> s = status(fri, datetime(2026, 11, 30, 17, 30, tzinfo=SHANGHAI),
    ...            datetime(2026, 11, 29, 12, 0, tzinfo=SHANGHAI))  # Sunday: nothing used since
    >>> s.status, s.remaining
    ('normal', datetime.timedelta(seconds=27000))
    """
    for name, value in (("start", start), ("deadline", deadline), ("now", now)):
        if value.tzinfo is None:
            raise ValueError(f"{name} must be timezone-aware")
    if not 0 < yellow_share <= 1:
        raise ValueError("yellow_share must be in (0, 1]")

    def span(a: datetime, b: datetime) -> timedelta:
        return calendar.work_between(a, b) if working else b - a

    allowed = max(span(start, deadline), timedelta())
    if is_overdue(deadline, now):
        late = span(deadline, now)
        return DeadlineStatus(
            RED, allowed, span(start, now), timedelta(), late, now - deadline, working
        )
    used = span(start, now) if now > start else timedelta()
    remaining = span(now, deadline) if now > start else allowed
    share = used / allowed if allowed > timedelta() else 1.0
    level = YELLOW if share >= yellow_share else NORMAL
    return DeadlineStatus(level, allowed, used, remaining, timedelta(), timedelta(), working)


def measured_on_working_clock(time_unit: str | None) -> bool:
    """Whether a category's limit (its ``time_unit``) is measured in working time."""
    return time_unit is None or time_unit in WORKING_UNITS


def should_auto_supervise(
    state: str,
    deadline_status: DeadlineStatus,
    after: timedelta,
    *,
    dispatched: bool,
    extension_pending: bool = False,
) -> bool:
    """Whether the job escalates a case to 督办: red, in 立案派遣/处理中, dispatched by the town
    to a department (a case the village handles itself has no department to press, and no way
    out of 督办 for the grid leader), overdue by more than ``after`` (on its clock), and with no
    extension request waiting for the town's decision."""
    return (
        deadline_status.status == RED
        and state in AUTO_SUPERVISE_STATES
        and dispatched
        and not extension_pending
        and deadline_status.overdue_by > after
    )


def hours(value: timedelta) -> float:
    """A duration in hours, to a tenth."""
    return round(value.total_seconds() / 3600, 1)
