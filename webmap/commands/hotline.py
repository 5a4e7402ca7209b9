"""``wangge hotline``: 12345 hotline orders (便民专线工单) from the city/district platform."""

from __future__ import annotations

import io
import json
import sys

import click

MAX_SHOWN = 50


@click.group(name="hotline")
def group() -> None:
    """12345 便民专线工单 / hotline work orders."""


@group.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="check every row, write nothing")
def import_file(file: str, dry_run: bool) -> None:
    """Import the platform's Excel export FILE.xlsx (first sheet, headers in row 1).

    Columns: 工单编号, 诉求内容 and 派单时间 (required); 渠道, 诉求人, 联系电话, 地址, 经度, 纬度
    (WGS84; 坐标系 for another system), 紧急程度 (生命财产 / 水电气热 / 一般), 答复期限 (default 5
    working days), 事件类别 (of the linked incident). All rows or none: any bad row and nothing is
    written. An order number already stored is answered, not imported again. Ends with a JSON
    summary on stdout. Exit status: 0 imported, 1 bad rows, 2 the file cannot be read.
    """
    import psycopg2
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.orm import Session

    from webmap.commands.common import fail, ready_url
    from webmap.services import hotline, imports

    url = ready_url()
    engine = create_engine(url)
    try:
        with Session(engine) as db:
            summary = hotline.import_excel(db, file, dry_run=dry_run, near_m=None)
    except hotline.ReadError as exc:
        click.echo(f"无法导入 {file}: {exc.zh}\ncannot import {file}: {exc.en}", err=True)
        sys.exit(2)
    except (SQLAlchemyError, psycopg2.Error) as exc:
        fail(f"导入失败, 未写入任何数据 / import failed, nothing written: {exc.__class__.__name__}: {exc}")
    finally:
        engine.dispose()

    if summary.errors:
        buf = io.StringIO()
        imports.write_error_report(summary.errors[:MAX_SHOWN], buf)
        click.echo(buf.getvalue().rstrip("\n"), err=True)
        if len(summary.errors) > MAX_SHOWN:
            more = len(summary.errors) - MAX_SHOWN
            click.echo(f"… 另有 {more} 条 / and {more} more", err=True)
        bad = len({e.row for e in summary.errors})
        click.echo(f"{bad} 行有误, 未导入任何工单 / {bad} bad rows: nothing imported", err=True)
    elif dry_run:
        click.echo("试运行, 未写入 / dry run: nothing written", err=True)
    click.echo(json.dumps(summary.as_dict(), ensure_ascii=False))
    if summary.errors:
        sys.exit(1)
