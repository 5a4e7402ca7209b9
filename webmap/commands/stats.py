"""`wangge stats`: indicators (综合评价) from the command line, for the whole district."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from workflow import indicators


@click.group(name="stats")
def group() -> None:
    """统计 / indicators (综合评价)."""


@group.command("export")
@click.option("--by", default="village", show_default=True, type=click.Choice(list(indicators.GROUPS)),
              help="分组 / group by")
@click.option("--since", default=None, help="起始日期 YYYY-MM-DD, 或 ISO 8601 时间 (default: 12 months ago)")
@click.option("--until", default=None, help="截止日期 YYYY-MM-DD (含当天 inclusive), 或 ISO 8601 时间 (default: now)")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True),
              help="Excel 文件 / the .xlsx file to write")
def export(by: str, since: str | None, until: str | None, output: str) -> None:
    """把综合评价导出为 Excel / export the indicators of the whole district to an Excel workbook
    (DATABASE_URL, or the private cluster)."""
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.orm import Session

    from webmap.commands.common import fail, make_engine, ready_url
    from webmap.services import stats
    from workflow.clock import SHANGHAI

    try:
        window = indicators.parse_window(by, since, until, datetime.now(SHANGHAI))
    except indicators.ParamError as exc:
        for error in exc.errors:
            click.echo(f"{error['field']}: {error['zh']} / {error['en']}", err=True)
        sys.exit(2)
    engine = make_engine(ready_url())
    try:
        with Session(engine) as db:
            report = stats.indicators(db, stats.WHOLE_DISTRICT, window)
    except SQLAlchemyError as exc:
        fail(f"统计失败 / statistics failed: {exc.__class__.__name__}: {exc}")
    finally:
        engine.dispose()
    data = stats.workbook(report)
    path = Path(output)
    partial = path.with_name(path.name + ".part")
    try:  # write beside, then rename: a reader never sees half a workbook
        partial.write_bytes(data)
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        fail(f"无法写入 {output} / cannot write {output}: {exc.strerror}")
    total = report["total"]
    click.echo(f"已导出 {len(report['rows'])} 行 ({report['period']}, 上报 {total['reported']['value']} 件)"
               f"{' [合成演示数据]' if report['synthetic'] else ''} → {path}\n"
               f"exported {len(report['rows'])} rows by {by} ({report['since']} – {report['until']}): {path}")
