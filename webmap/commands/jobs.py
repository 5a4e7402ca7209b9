"""`wangge jobs`: scheduled work (the deadline job) and the working-day table import."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta

import click

from workflow.clock import SHANGHAI


@click.group(name="jobs")
def group() -> None:
    """定时任务 / scheduled jobs: deadlines (超期, 督办) and the working-day table."""


def _session(url: str):
    """An engine and a session held on one connection (the job's advisory lock belongs to it)."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    engine = create_engine(url)
    connection = engine.connect()
    return engine, connection, Session(bind=connection, expire_on_commit=False)


def _parse_now(raw: str | None) -> datetime:
    if not raw:
        return datetime.now(SHANGHAI)
    try:
        value = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise click.BadParameter(
            f"应为 ISO 时间, 如 2027-01-05T09:00+08:00 / expected ISO 8601 ({exc})",
            param_hint="--now",
        ) from exc
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


@group.command("run")
@click.option(
    "--now",
    "now_raw",
    default=None,
    metavar="ISO",
    help="run as of this moment (default: now; without an offset: Asia/Shanghai)",
)
@click.option(
    "--supervise-after",
    default=4.0,
    show_default=True,
    type=click.FloatRange(0, 1000),
    envvar="WANGGE_SUPERVISE_AFTER_HOURS",
    help="working hours overdue before a dispatched case is escalated to 督办 "
    "[env WANGGE_SUPERVISE_AFTER_HOURS]",
)
@click.option("--dry-run", is_flag=True, help="report what would be done, write nothing")
def run(now_raw: str | None, supervise_after: float, dry_run: bool) -> None:
    """超期检查与自动督办 / the deadline job.

    Finds open cases that turned red (past their deadline) since the last run and appends an
    `overdue` case event (超期) once per case and deadline; escalates dispatched cases in 立案派遣
    or 处理中 that are more than --supervise-after working hours overdue to 督办 (event
    `auto_supervise`, version bump; a person acting on the case meanwhile wins); notifies live
    maps (pg_notify wangge_incidents); publishes the redraw plans scheduled for a date that has
    come (their open cases re-routed); forgets GPS fixes, track lines and sign-in places older than
    the retention (setting track_retention_days, else WANGGE_TRACK_RETENTION_DAYS, else 180 days);
    steps up the discipline cases (执纪) not corrected by their due day ("discipline": how many);
    makes the reminders of the centre's certificates 60 and 30 calendar days before they expire, each
    once ("office_reminders": how many); supervises, once, each assignee of a task (交办任务) still owing it past its deadline
    ("tasks_overdue": how many); writes the previous month's report (月报, PDF and Excel) into
    WANGGE_REPORTS_DIR (else var/reports) on the 3rd working day of the month, once ("monthly_report":
    the PDF's path, or null).
    Prints a JSON summary. Safe to run again or at the same
    time: a second run finds the work done, or the lock taken ("locked": true), and exits 0.

    \b
    Schedule it every 5 minutes, e.g. with cron (crontab -e of the app's user):
      */5 * * * *  cd /srv/wangge && .venv/bin/wangge jobs run >> var/log/jobs.log 2>&1
    or a systemd timer:
      # /etc/systemd/system/wangge-jobs.service
      [Service]
      Type=oneshot
      User=wangge
      WorkingDirectory=/srv/wangge
      EnvironmentFile=-/srv/wangge/.env
      ExecStart=/srv/wangge/.venv/bin/wangge jobs run
      # /etc/systemd/system/wangge-jobs.timer
      [Timer]
      OnCalendar=*:0/5
      Persistent=true
      [Install]
      WantedBy=timers.target
    then: systemctl enable --now wangge-jobs.timer
    """
    from webmap.commands.common import ready_url
    from webmap.services import discipline, office, overdue, patrols, plans, reports, tasks

    now = _parse_now(now_raw)
    engine, connection, db = _session(ready_url())
    try:
        summary = overdue.run_overdue_job(
            db, now=now, supervise_after=timedelta(hours=supervise_after), dry_run=dry_run
        )
        if not dry_run and not summary.get("locked"):
            # redraw plans whose date has come
            summary["plans"] = plans.publish_due(db, now=now, near_m=None)
            summary["retention"] = patrols.purge(db, now=now)  # whereabouts past the retention
            summary["discipline"] = discipline.run_clock(db, now=now)  # 执纪 cases stepped up
            summary["office_reminders"] = office.run_reminders(db, now=now)  # 证照到期提醒 made
            summary["tasks_overdue"] = tasks.run_clock(db, now=now)  # 交办任务 assignees overdue: supervised
            summary["monthly_report"] = reports.run_job(db, now=now)  # 月报 on the 3rd working day: its PDF, or None
    finally:
        db.close()
        connection.close()
        engine.dispose()
    if summary.get("locked"):
        click.echo(
            "另一次运行正在进行, 本次跳过 / another run holds the lock: nothing done", err=True
        )
    click.echo(json.dumps(summary, ensure_ascii=False))


@group.command("holidays-import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="check the file, write nothing")
def holidays_import(file: str, dry_run: bool) -> None:
    """导入工作日表 / import the working-day table from a CSV FILE.

    Columns (a header row): day (日期, YYYY-MM-DD), kind (类型: holiday/放假/休, or
    workday/上班/班 for a weekend day made a workday, 调休), optional note (备注). Existing days are
    updated. All or nothing: one bad row and nothing is saved. Exit status: 0 saved, 1 bad rows,
    2 the file cannot be read. Running web apps see the change within a minute.

    \b
    Example (UTF-8 or GB18030):
      day,kind,note
      2027-02-06,workday,春节调休上班
      2027-02-08,holiday,春节
    """
    from webmap.commands.common import ready_url
    from webmap.services import workdays

    try:
        rows = workdays.read_holiday_csv(file)
    except workdays.HolidayFileError as exc:
        click.echo(f"无法导入 {file}: {exc.zh}\ncannot import {file}: {exc.en}", err=True)
        sys.exit(2)
    engine, connection, db = _session(ready_url())
    try:
        result = workdays.import_holidays(db, rows, dry_run=dry_run)
    finally:
        db.close()
        connection.close()
        engine.dispose()
    for e in result.errors[:50]:
        click.echo(
            f"第 {e['row']} 行 {e['field']}: {e['zh']} / row {e['row']} {e['field']}: {e['en']}",
            err=True,
        )
    if result.errors:
        click.echo(
            f"{len(result.errors)} 处错误, 未导入 / {len(result.errors)} errors: nothing imported",
            err=True,
        )
    click.echo(
        json.dumps(
            {**result.as_dict(), "errors": len(result.errors), "dry_run": dry_run},
            ensure_ascii=False,
        )
    )
    if result.errors:
        sys.exit(1)
