"""The ``wangge`` command line: database, demo town, server."""

from __future__ import annotations

import json
import os
import sys
import time

import click

from db import cluster
from webmap.commands import basemap, grids, hotline, jobs, patrols, reports, stats, town
from webmap.commands.common import fail, make_engine, ready_url


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
    url = ready_url()
    click.echo(f"数据库就绪 / database ready: {url}")


@db.command("down")
def db_down() -> None:
    """Stop the private cluster (nothing to do with DATABASE_URL)."""
    try:
        cluster.down(echo=click.echo)
    except cluster.ClusterError as exc:
        fail(str(exc))


@db.command("migrate")
@click.option("--revision", default="head", show_default=True, help="target revision")
def db_migrate(revision: str) -> None:
    """Run the Alembic migrations."""
    from db import migrate

    url = ready_url()
    migrate.upgrade(url, revision)
    click.echo(f"迁移完成 / migrated to {migrate.current(url)}")


@db.command("downgrade")
@click.argument("revision", default="base")
@click.confirmation_option(prompt="这会删除数据 / this drops data. Continue?")
def db_downgrade(revision: str) -> None:
    """Undo migrations down to REVISION (default: base, an empty database)."""
    from db import migrate

    url = ready_url()
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
        fail(f"数据库不可用 / not reachable ({url}): {exc.__class__.__name__}")
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
    from db.town_init import has_real_town

    url = ready_url()
    if has_real_town(make_engine(url)):
        if if_empty and not replace:
            click.echo("数据库中是真实乡镇, 跳过演示数据 / the database holds a real town: demo not loaded")
            return
        fail("数据库中是真实乡镇 (wangge town init), 不能载入或替换为演示数据 / the database holds a real town "
             "(wangge town init): the demo is not loaded, nor does it replace the town")
    if replace:
        click.echo("删除现有数据 / dropping existing data", err=True)
        migrate.downgrade(url, "base")
    migrate.upgrade(url)
    engine = make_engine(url)
    if demo_mod.has_data(engine):
        if if_empty:
            click.echo("数据库已有数据,跳过演示数据 / database not empty: demo not loaded")
            return
        fail("数据库已有数据; 用 --replace 重新生成 / the database holds data; use --replace")
    try:
        until_dt = demo_mod.as_of(until)
    except ValueError:
        fail(f"--until 应为 YYYY-MM-DD, 而不是 {until!r}")
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
        accounts = demo_mod.demo_accounts(make_engine(url))
    except Exception as exc:
        fail(f"数据库不可用, 先运行 wangge db up / database not reachable: {exc.__class__.__name__}")
    click.echo(json.dumps(accounts, ensure_ascii=False, indent=1))


# ---------------------------------------------------------------- incidents


@main.group()
def incidents() -> None:
    """事件 / incidents."""


@incidents.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--crs", type=click.Choice(["wgs84", "cgcs2000", "gcj02", "bd09"], case_sensitive=False),
              default=None, help="coordinate system of rows without a crs column "
                                 "[default: wgs84; GeoJSON/GeoPackage: the file's]")
@click.option("--skip-bad", is_flag=True, help="import the good rows, report the bad ones (default: all or nothing)")
@click.option("--errors", "errors_path", type=click.Path(dir_okay=False),
              help="write the row errors here as CSV (row, field, 中文原因, English reason); default: stderr")
@click.option("--source", default="import", show_default=True,
              help="incident source: import, hotline_12345, grid_worker, resident, patrol, open311")
@click.option("--dry-run", is_flag=True, help="check and route every row, write nothing")
def incidents_import(file: str, crs: str | None, skip_bad: bool, errors_path: str | None, source: str,
                     dry_run: bool) -> None:
    """Import incidents from FILE: CSV (UTF-8 or GB18030), Excel .xlsx, GeoJSON or GeoPackage.

    Columns: category (code or name), lng/lat (or lon, longitude, x, 经度 / latitude, y, 纬度),
    optional crs, description, address, reported_at, external_id. Ends with a JSON summary line
    on stdout. Exit status: 0 imported, 1 bad rows (nothing written unless --skip-bad),
    2 the file cannot be read.
    """
    from pathlib import Path

    import psycopg2
    from sqlalchemy.exc import SQLAlchemyError
    from tqdm import tqdm

    from db.models import SOURCES
    from webmap.services import imports

    if source not in SOURCES:
        raise click.BadParameter(f"应为 / expected one of {', '.join(SOURCES)}", param_hint="--source")
    crs = crs.lower() if crs else None
    try:
        table = imports.read_file(file, crs)
    except imports.ImportFileError as exc:
        click.echo(f"无法导入 {file}: {exc.zh}\ncannot import {file}: {exc.en}", err=True)
        sys.exit(2)

    report = None
    if errors_path:
        try:
            report = open(errors_path, "w", encoding="utf-8-sig", newline="")  # closed below
        except OSError as exc:
            click.echo(f"无法写入错误报告 {errors_path}: {exc.strerror}\ncannot write {errors_path}: {exc.strerror}",
                       err=True)
            sys.exit(2)
    url = ready_url()
    engine = make_engine(url)
    bars: list = []

    def progress(stage: str, total: int):
        for bar in bars:
            bar.close()
        bar = tqdm(total=total, desc=stage, unit="行", file=sys.stderr, mininterval=0.5,
                   disable=total < 1000 and not sys.stderr.isatty())
        bars.append(bar)
        return bar.update

    try:
        summary = imports.import_rows(engine, table, crs=crs, skip_bad=skip_bad, source=source,
                                      dry_run=dry_run, file_name=Path(file).name, progress=progress,
                                      near_m=None)
        if report is not None:
            imports.write_error_report(summary.errors, report)
    except (SQLAlchemyError, psycopg2.Error) as exc:
        fail(f"导入失败, 未写入任何数据 / import failed, nothing written: {exc.__class__.__name__}: {exc}")
    finally:
        for bar in bars:
            bar.close()
        engine.dispose()
        if report is not None:
            report.close()

    if summary.errors:
        bad = summary.bad_rows
        if errors_path:
            click.echo(f"{bad} 行有误, 见 {errors_path} / {bad} bad rows, see {errors_path}", err=True)
        else:
            import io

            shown = summary.errors[:50]
            buf = io.StringIO()
            imports.write_error_report(shown, buf)
            click.echo(buf.getvalue().rstrip("\n"), err=True)
            if len(summary.errors) > len(shown):
                click.echo(f"… 另有 {len(summary.errors) - len(shown)} 条 / and {len(summary.errors) - len(shown)} more "
                           f"({len(summary.errors)} errors on {bad} rows; --errors FILE writes them all)", err=True)
        if skip_bad:
            click.echo(f"跳过 {bad} 行有误的数据 / skipped {bad} bad rows", err=True)
        else:
            click.echo(f"{bad} 行有误, 未导入任何数据 / {bad} bad rows: nothing imported "
                       "(--skip-bad imports the good rows)", err=True)
    if dry_run:
        click.echo("试运行, 未写入 / dry run: nothing written", err=True)
    click.echo(json.dumps(summary.as_dict(), ensure_ascii=False))
    if summary.errors and (not skip_bad or summary.imported + summary.duplicates == 0):
        sys.exit(1)


# ---------------------------------------------------------------- serve


def public_address_line(host: str, port: int, public_base_url: str) -> str:
    """What `wangge serve` says about the address the grid boards' QR codes and posters print."""
    if public_base_url:
        return f"二维码地址 / QR codes and posters point to: {public_base_url}/grids/…"
    return (f"二维码地址 / QR codes and posters point to the address a page is asked on (http://{host}:{port}); "
            "居民可访问的地址请设置 / for the address residents reach set "
            "WANGGE_PUBLIC_BASE_URL=https://wangge.example.gov.cn")


def basemap_path() -> str:
    """The base map `wangge serve` serves: WANGGE_BASEMAP when set (set empty: none), else
    var/basemap.mbtiles when that file exists (`make run` builds it), else none."""
    if "WANGGE_BASEMAP" in os.environ:
        return os.environ["WANGGE_BASEMAP"]
    default = cluster.project_root() / "var" / "basemap.mbtiles"
    return str(default) if default.is_file() else ""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=32, show_default=True, type=click.IntRange(9, 256),
              help="worker threads; each open live page (server-sent events) holds one, up to threads - 8")
@click.option("--debug", is_flag=True, help="Flask's debug server (development only)")
def serve(host: str, port: int, threads: int, debug: bool) -> None:
    """Serve the web app (waitress; the debug server only with --debug)."""
    from webmap import create_app

    ready_url()
    app = create_app()
    app.config["LIVE_STREAMS_MAX"] = threads - 8  # the others stay free for pages and the API
    app.config["BASEMAP"] = basemap_path()
    if app.config["BASEMAP"]:
        from webmap.services import tiles

        try:
            info = tiles.open_archive(app.config["BASEMAP"]).info()
        except tiles.TileError as exc:
            fail(str(exc))
        click.echo(f"离线底图 / base map: {app.config['BASEMAP']} (级别 zooms {info['minzoom']}–{info['maxzoom']}) "
                   f"at /tiles/{{z}}/{{x}}/{{y}}.png")
    click.echo(f"网格 Wangge: http://{host}:{port}/   (演示账号 / demo logins: wangge demo accounts, 密码 password "
               f"'{'$WANGGE_DEMO_PASSWORD' if os.environ.get('WANGGE_DEMO_PASSWORD') else 'demo'}')")
    click.echo(public_address_line(host, port, app.config.get("PUBLIC_BASE_URL", "")))
    if debug:
        app.run(host=host, port=port, debug=True)
        return
    from waitress import serve as waitress_serve

    waitress_serve(app, host=host, port=port, threads=threads, ident="wangge")


# The command groups that live beside their use cases; they import webmap.commands.common, never this module.
for _group_module in (jobs, stats, hotline, grids, patrols, basemap, town, reports):
    main.add_command(_group_module.group)


if __name__ == "__main__":  # pragma: no cover
    main()
