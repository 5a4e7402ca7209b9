"""``wangge patrols``: import a GPX track as a worker's patrol (巡查), and the retention job."""

from __future__ import annotations

import json
import sys

import click

MAX_GPX_BYTES = 20 * 1024 * 1024


@click.group(name="patrols")
def group() -> None:
    """巡查 / patrols: GPX import and the retention of whereabouts."""


def _session(url: str):
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    engine = create_engine(url)
    return engine, Session(engine, expire_on_commit=False)


def _account(db, username: str):
    """The active account ``username`` as the services see a signed-in user, or None."""
    from sqlalchemy import text

    from webmap.services import accounts

    account_id = db.execute(text("SELECT id FROM accounts WHERE username = :u"), {"u": username}).scalar()
    return None if account_id is None else accounts.load_user(db, account_id)


def _minutes(seconds) -> str:
    return "—" if seconds is None else f"{seconds / 60:.0f} min"


def _describe(patrol: dict) -> list[str]:
    """The patrol's metrics and flags, a line each, in Chinese and English."""
    cp = patrol.get("checkpoints") or {}
    coverage = patrol.get("coverage")
    distance = patrol.get("distance_m")
    lines = [
        f"网格员 worker: {patrol.get('worker_name')} ({patrol.get('worker')})   网格 grid: {patrol.get('grid_code') or '—'}",
        f"开始 started: {patrol.get('started_at')}   结束 ended: {patrol.get('ended_at')}",
        f"里程 distance: {'—' if distance is None else f'{distance / 1000:.2f} km'}",
        f"时长 duration: {_minutes(patrol.get('duration_s'))}   移动 moving: {_minutes(patrol.get('moving_s'))}",
        f"网格覆盖率 coverage: {'—' if coverage is None else f'{coverage:.1%}'}   "
        f"网格外 outside: {_minutes(patrol.get('outside_s'))}",
        f"重点场所 key places: {len(cp.get('visited') or [])}/{cp.get('required', 0)} 已到 visited"
        + (f"; 未到 missed: {'、'.join(cp['missed'])}" if cp.get("missed") else ""),
    ]
    flags = patrol.get("flags") or []
    if not flags:
        lines.append("异常标记 flags: 无 none")
    for f in flags:
        lines.append(f"异常标记 flag {f.get('code')}: {f.get('zh')} / {f.get('en')}")
    return lines


@group.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--worker", required=True, metavar="USERNAME", help="the grid worker whose patrol this is")
@click.option("--as", "as_user", default=None, metavar="USERNAME",
              help="the account that imports (the town: dispatcher, admin …); default the worker")
def import_gpx(file: str, worker: str, as_user: str | None) -> None:
    """Import FILE.gpx as one patrol of the grid worker USERNAME.

    The track gets its metrics (distance, moving time, coverage of the worker's grid, key places)
    and flags (impossible speed, jumps, a copy of an earlier track), printed in Chinese and English,
    then a JSON line of the patrol. The same file again is the same patrol ("already there").
    Exit status: 0 imported or already there, 1 a bad file (or an import refused) with the reason,
    2 an unknown worker or --as account.
    """
    from webmap.commands.common import ready_url
    from webmap.services import patrols

    engine, db = _session(ready_url())
    try:
        walker = _account(db, worker)
        if walker is None:
            click.echo(f"没有账号 {worker} / no active account {worker}", err=True)
            sys.exit(2)
        if walker.role != "worker" or _person(db, walker.id) is None:
            click.echo(f"{worker} 不是网格员 / {worker} is no grid worker", err=True)
            sys.exit(2)
        importer = walker
        if as_user and as_user != worker:
            importer = _account(db, as_user)
            if importer is None:
                click.echo(f"没有账号 {as_user} / no active account {as_user}", err=True)
                sys.exit(2)
        try:
            with open(file, "rb") as handle:
                data = handle.read(MAX_GPX_BYTES + 1)
        except OSError as exc:
            click.echo(f"无法读取 {file}: {exc.strerror or exc}\ncannot read {file}: {exc.strerror or exc}",
                       err=True)
            sys.exit(1)
        if len(data) > MAX_GPX_BYTES:
            click.echo(f"{file}: GPX 文件超过 20 MB / the GPX file is larger than 20 MB", err=True)
            sys.exit(1)
        try:
            patrol = patrols.import_gpx(db, importer, data, worker if importer is not walker else None)
        except patrols.PatrolError as exc:
            db.rollback()
            click.echo(f"无法导入 {file}: {exc.zh}\ncannot import {file}: {exc.en}", err=True)
            sys.exit(1)
    finally:
        db.close()
        engine.dispose()
    if patrol["created"]:
        click.echo(f"已导入巡查 #{patrol['id']} / imported patrol #{patrol['id']}")
    else:
        click.echo(f"巡查 #{patrol['id']} 已存在, 未重复导入 / patrol #{patrol['id']} already there: "
                   "nothing imported again")
    for line in _describe(patrol):
        click.echo(line)
    click.echo(json.dumps({k: patrol.get(k) for k in (
        "id", "created", "worker", "grid_code", "started_at", "ended_at", "distance_m", "duration_s", "moving_s",
        "coverage", "outside_s", "checkpoints")} | {"flags": [f.get("code") for f in patrol.get("flags") or []]},
        ensure_ascii=False))


def _person(db, account_id: int):
    from sqlalchemy import text

    return db.execute(text("SELECT person_id FROM accounts WHERE id = :a"), {"a": account_id}).scalar()


@group.command("purge")
@click.option("--days", type=click.IntRange(1, 36500), default=None,
              help="keep this many days (default: the setting track_retention_days, else "
                   "WANGGE_TRACK_RETENTION_DAYS, else 180)")
def purge(days: int | None) -> None:
    """删除超期行踪 / forget whereabouts past the retention.

    Deletes GPS fixes, clears patrol track lines and sign-in places older than the retention; the
    patrols' metrics and the sign-ins themselves stay. Prints a JSON summary. `wangge jobs run`
    does the same on its schedule.
    """
    from webmap.commands.common import ready_url
    from webmap.services import patrols

    engine, db = _session(ready_url())
    try:
        summary = patrols.purge(db, days=days)
    finally:
        db.close()
        engine.dispose()
    click.echo(f"保留 {summary['retention_days']} 天: 删除定位点 {summary['fixes_deleted']} 个, 清除轨迹 "
               f"{summary['tracks_cleared']} 条, 清除签到位置 {summary['sign_in_places_cleared']} 个 / kept "
               f"{summary['retention_days']} days: {summary['fixes_deleted']} fixes deleted, "
               f"{summary['tracks_cleared']} tracks and {summary['sign_in_places_cleared']} sign-in places cleared",
               err=True)
    click.echo(json.dumps(summary, ensure_ascii=False))
