"""The overdue job, what ``wangge jobs run`` does for deadlines: mark cases that turned red with an
``overdue`` event (once per deadline), escalate long-overdue ones to 督办, tell live maps. The rules
(status, who is escalated) are pure, in ``workflow/deadlines.py``.
"""

from __future__ import annotations

import time as _time
from datetime import datetime, timedelta

from sqlalchemy import DateTime, and_, cast, exists, not_, or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from db.models import CaseEvent, Category, Incident, Setting
from workflow import cases
from workflow import deadlines as rules
from workflow.clock import SHANGHAI, format_iso

from . import events
from .supervision import status_of
from .workdays import load_calendar

# ---------------------------------------------------------------- the overdue job

# pg_try_advisory_lock key of the job: the bytes of "wangge" and 1
JOB_LOCK_KEY = 0x77616E6767650001
JOB_SETTING = "jobs.deadlines"
DEFAULT_SUPERVISE_AFTER = timedelta(hours=4)  # working hours overdue before 督办
MAX_LISTED = 100  # cases named in the summary


def _event_for_deadline(action: str):
    """An event ``action`` of this case recorded for its current deadline."""
    return exists().where(
        CaseEvent.incident_id == Incident.id,
        CaseEvent.action == action,
        cast(CaseEvent.data["deadline"].astext, DateTime(timezone=True)) == Incident.deadline,
    )


def _append(
    db: Session,
    row,
    action: str,
    from_state: str,
    to_state: str,
    note: str,
    data: dict,
    now: datetime,
) -> bool:
    deadline = format_iso(row.deadline)
    return events.record_event(
        db,
        row.id,
        action,
        at=now,
        role=rules.SYSTEM_ROLE,
        from_state=from_state,
        to_state=to_state,
        note=note,
        data={**data, "deadline": deadline},
        once_for_deadline=deadline,
    )


def _notify(db: Session, row, event: str) -> None:
    events.notify_cases(db, [row.id], event, status=rules.RED)


def _job_candidates(db: Session, now: datetime) -> list:
    """Red cases still missing an ``overdue`` event for their deadline, or that may be due for
    督办 and were not escalated for this deadline yet."""
    marked = _event_for_deadline(rules.OVERDUE)
    supervised = _event_for_deadline(rules.AUTO_SUPERVISE)
    return db.execute(
        select(
            Incident.id,
            Incident.case_no,
            Incident.state,
            Incident.version,
            Incident.deadline,
            Incident.dispatched_at,
            Incident.reported_at,
            Incident.extension_pending,
            Incident.tier,
            Incident.department_id,
            Category.time_unit,
            marked.label("marked"),
            supervised.label("supervised"),
        )
        .join(Category, Category.id == Incident.category_id)
        .where(
            Incident.state.in_(rules.CLOCK_STATES),
            Incident.deadline < now,
            or_(
                not_(marked),
                and_(
                    Incident.state.in_(rules.AUTO_SUPERVISE_STATES),
                    Incident.tier == "town",
                    Incident.department_id.is_not(None),
                    Incident.dispatched_at.is_not(None),
                    not_(supervised),
                ),
            ),
        )
        .order_by(Incident.deadline, Incident.id)
    ).all()


def _supervise(db: Session, row, st: rules.DeadlineStatus, now: datetime) -> int | None:
    """Escalate to 督办 if the case is still at the version read (a person acting meanwhile wins);
    the new version, or None."""
    version = db.execute(
        Incident.__table__.update()
        .where(Incident.id == row.id, Incident.version == row.version, Incident.state == row.state)
        .values(state=cases.SUPERVISED, version=Incident.version + 1)
        .returning(Incident.version)
    ).scalar()
    if version is None:
        return None
    hours_ = rules.hours(st.overdue_by)
    zh, en = ("个工作小时", "working hours") if st.working else ("小时", "hours")
    note = f"超期 {hours_} {zh}, 系统自动督办 / overdue by {hours_} {en}: supervised"
    _append(
        db,
        row,
        rules.AUTO_SUPERVISE,
        row.state,
        cases.SUPERVISED,
        note,
        {"overdue_hours": hours_},
        now,
    )
    return version


def run_overdue_job(
    db: Session,
    *,
    now: datetime,
    supervise_after: timedelta = DEFAULT_SUPERVISE_AFTER,
    dry_run: bool = False,
) -> dict:
    """One run of the deadline job. Each case is its own transaction (committed at once, so a
    person acting on it waits at most for one case). ``db`` must stay on one connection for the
    run (a session bound to a Connection): the advisory lock belongs to it."""
    started = _time.monotonic()
    now = now.astimezone(SHANGHAI)
    summary: dict = {
        "job": "deadlines",
        "now": now.isoformat(),
        "dry_run": dry_run,
        "ran": False,
        "supervise_after_hours": rules.hours(supervise_after),
    }
    if not db.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": JOB_LOCK_KEY}).scalar():
        db.rollback()
        summary["locked"] = True  # another run is at work: this one does nothing
        return summary
    try:
        previous = db.execute(select(Setting.value).where(Setting.key == JOB_SETTING)).scalar()
        calendar = load_calendar(db, fresh=True)
        counts = {
            "red_checked": 0,
            "overdue_marked": 0,
            "supervised": 0,
            "conflicts": 0,
            "notified": 0,
        }
        listed: list[dict] = []
        for row in _job_candidates(db, now):
            counts["red_checked"] += 1
            st = status_of(row, now, calendar)
            if st.status != rules.RED:
                continue
            done = []
            if not row.marked and (
                dry_run
                or _append(
                    db,
                    row,
                    rules.OVERDUE,
                    row.state,
                    row.state,
                    "超期",
                    {
                        "overdue_hours": rules.hours(st.overdue_by),
                        "clock": "work" if st.working else "wall",
                    },
                    now,
                )
            ):
                counts["overdue_marked"] += 1
                done.append(rules.OVERDUE)
                if not dry_run:
                    _notify(db, row, rules.OVERDUE)
            if not row.supervised and rules.should_auto_supervise(
                row.state,
                st,
                supervise_after,
                dispatched=row.tier == "town"
                and row.department_id is not None
                and row.dispatched_at is not None,
                extension_pending=row.extension_pending,
            ):
                version = row.version + 1 if dry_run else _supervise(db, row, st, now)
                if version is None:
                    counts["conflicts"] += 1
                    done.append("conflict")
                else:
                    counts["supervised"] += 1
                    done.append(rules.AUTO_SUPERVISE)
                    if not dry_run:
                        _notify(db, row, rules.AUTO_SUPERVISE)
            if done and not dry_run:
                db.commit()
                counts["notified"] += sum(e != "conflict" for e in done)
            if done and len(listed) < MAX_LISTED:
                listed.append(
                    {
                        "id": row.id,
                        "case_no": row.case_no,
                        "events": done,
                        "overdue_hours": rules.hours(st.overdue_by),
                    }
                )
        summary.update(
            counts,
            ran=True,
            cases=listed,
            last_run=(previous or {}).get("now") if isinstance(previous, dict) else None,
        )
        if not dry_run:
            record = {k: summary[k] for k in ("now", *counts)}
            statement = insert(Setting).values(key=JOB_SETTING, value=record)
            db.execute(
                statement.on_conflict_do_update(
                    index_elements=[Setting.key], set_={"value": statement.excluded.value}
                )
            )
            db.commit()
    except BaseException:
        db.rollback()
        raise
    finally:
        db.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": JOB_LOCK_KEY})
        db.commit()
    summary["seconds"] = round(_time.monotonic() - started, 2)
    return summary
