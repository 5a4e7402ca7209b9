"""The ``wangge`` command line: database, demo town, server."""

from __future__ import annotations

import json
import os
import sys
import time

import click

from db import cluster


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


def _ready_url() -> str:
    """Start (or reach) the database; exit 1 with the reason when that is impossible."""
    try:
        return cluster.up(echo=lambda m: click.echo(m, err=True))
    except cluster.ClusterError as exc:
        _fail(str(exc))
    except Exception as exc:  # a refused connection, a bad DATABASE_URL
        _fail(f"无法连接数据库 / cannot reach the database: {exc}")
    raise AssertionError("unreachable")


def _engine(url: str):
    from sqlalchemy import create_engine

    return create_engine(url)


@click.group()
def main() -> None:
    """网格 Wangge: grid-management web GIS."""


# ---------------------------------------------------------------- db


@main.group()
def db() -> None:
    """数据库 / the database."""


@db.command("up")
def db_up() -> None:
    """Start the database (DATABASE_URL, or a private PostGIS cluster under var/)."""
    url = _ready_url()
    click.echo(f"数据库就绪 / database ready: {url}")


@db.command("down")
def db_down() -> None:
    """Stop the private cluster (nothing to do with DATABASE_URL)."""
    try:
        cluster.down(echo=click.echo)
    except cluster.ClusterError as exc:
        _fail(str(exc))


@db.command("migrate")
@click.option("--revision", default="head", show_default=True, help="target revision")
def db_migrate(revision: str) -> None:
    """Run the Alembic migrations."""
    from db import migrate

    url = _ready_url()
    migrate.upgrade(url, revision)
    click.echo(f"迁移完成 / migrated to {migrate.current(url)}")


@db.command("downgrade")
@click.argument("revision", default="base")
@click.confirmation_option(prompt="这会删除数据 / this drops data. Continue?")
def db_downgrade(revision: str) -> None:
    """Undo migrations down to REVISION (default: base, an empty database)."""
    from db import migrate

    url = _ready_url()
    migrate.downgrade(url, revision)
    click.echo(f"已回退 / now at {migrate.current(url)}")


@db.command("status")
def db_status() -> None:
    """Where the database is and which migration it is at."""
    from db import migrate

    url = cluster.database_url()
    try:
        rev = migrate.current(url)
    except Exception as exc:
        _fail(f"数据库不可用 / not reachable ({url}): {exc.__class__.__name__}")
    click.echo(json.dumps({"url": url, "revision": rev}, ensure_ascii=False))


# ---------------------------------------------------------------- demo


@main.group()
def demo() -> None:
    """演示数据 / the synthetic demo town."""


@demo.command("load")
@click.option("--incidents", default=20_000, show_default=True, type=click.IntRange(0, 50_000_000),
              help="number of incidents over the past year")
@click.option("--seed", default=20261128, show_default=True, type=int, help="random seed (same seed, same town)")
@click.option("--until", default=None, help="last day of the incident year, YYYY-MM-DD (default: now)")
@click.option("--replace", is_flag=True, help="drop everything and load anew")
@click.option("--if-empty", is_flag=True, help="load only when the database is empty; else do nothing")
def demo_load(incidents: int, seed: int, until: str | None, replace: bool, if_empty: bool) -> None:
    """Load the synthetic demo town (合成演示数据)."""
    from tqdm import tqdm

    from db import demo as demo_mod
    from db import migrate

    url = _ready_url()
    if replace:
        click.echo("删除现有数据 / dropping existing data", err=True)
        migrate.downgrade(url, "base")
    migrate.upgrade(url)
    engine = _engine(url)
    if demo_mod.has_data(engine):
        if if_empty:
            click.echo("数据库已有数据,跳过演示数据 / database not empty: demo not loaded")
            return
        _fail("数据库已有数据; 用 --replace 重新生成 / the database holds data; use --replace")
    try:
        until_dt = demo_mod.as_of(until)
    except ValueError:
        _fail(f"--until 应为 YYYY-MM-DD, 而不是 {until!r}")
    started = time.monotonic()
    with tqdm(total=incidents, unit="件", desc="事件 incidents", disable=incidents < 50_000 and not sys.stderr.isatty()) as bar:
        counts = demo_mod.load_demo(engine, incidents=incidents, seed=seed, until=until_dt,
                                    password=os.environ.get("WANGGE_DEMO_PASSWORD", "demo"),
                                    progress=bar.update)
    counts["seconds"] = round(time.monotonic() - started, 1)
    click.echo(json.dumps({"loaded": counts, "synthetic": True}, ensure_ascii=False))


@demo.command("accounts")
def demo_accounts() -> None:
    """The demo logins as JSON: [{username, role, scope}]."""
    from db import demo as demo_mod

    url = cluster.database_url()
    try:
        accounts = demo_mod.demo_accounts(_engine(url))
    except Exception as exc:
        _fail(f"数据库不可用, 先运行 wangge db up / database not reachable: {exc.__class__.__name__}")
    click.echo(json.dumps(accounts, ensure_ascii=False, indent=1))


# ---------------------------------------------------------------- serve


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=32, show_default=True, type=click.IntRange(1, 256),
              help="worker threads; each open live map (server-sent events) holds one")
@click.option("--debug", is_flag=True, help="Flask's debug server (development only)")
def serve(host: str, port: int, threads: int, debug: bool) -> None:
    """Serve the web app (waitress; the debug server only with --debug)."""
    from webmap import create_app

    _ready_url()
    app = create_app()
    click.echo(f"网格 Wangge: http://{host}:{port}/   (演示账号 / demo logins: wangge demo accounts, 密码 password "
               f"'{'$WANGGE_DEMO_PASSWORD' if os.environ.get('WANGGE_DEMO_PASSWORD') else 'demo'}')")
    if debug:
        app.run(host=host, port=port, debug=True)
        return
    from waitress import serve as waitress_serve

    waitress_serve(app, host=host, port=port, threads=threads, ident="wangge")


if __name__ == "__main__":  # pragma: no cover
    main()
