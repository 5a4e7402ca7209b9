"""`wangge reports`: the monthly report (月报) of the whole town, as a PDF and an Excel workbook."""

from __future__ import annotations

import json
import sys

import click


@click.group(name="reports")
def group() -> None:
    """月报 / the monthly report."""


@group.command("monthly")
@click.option("--month", required=True, metavar="YYYY-MM", help="月份 / the month, e.g. 2026-11")
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="输出目录 / the folder to write into (default: WANGGE_REPORTS_DIR, else var/reports)")
def monthly(month: str, out_dir: str | None) -> None:
    """写月报 / write the month's report: DIR/月报_YYYY-MM.pdf (in Chinese: the indicators, by village, by
    category, overdue cases by department, the hotspots, the worker ranking, charts and the map of grids,
    环比 against the month before) and DIR/月报_YYYY-MM.xlsx (the same tables). Prints the paths as JSON.
    Exit status: 0 written; 2 a bad month or a folder that cannot be written; 1 the database failed."""
    from pathlib import Path

    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.orm import Session

    from webmap.commands.common import fail, make_engine, ready_url
    from webmap.services import reports

    try:
        first = reports.parse_month(month)
        folder = reports.check_dir(Path(out_dir) if out_dir else reports.reports_dir())
    except reports.ReportError as exc:
        click.echo(f"{exc.zh}\n{exc.en}", err=True)
        sys.exit(2)
    engine = make_engine(ready_url())
    try:
        with Session(engine) as db:
            done = reports.write(db, first, folder)
    except reports.ReportError as exc:
        click.echo(f"{exc.zh}\n{exc.en}", err=True)
        sys.exit(2)
    except SQLAlchemyError as exc:
        fail(f"月报失败 / the report failed: {exc.__class__.__name__}: {exc}")
    finally:
        engine.dispose()
    click.echo(json.dumps(done, ensure_ascii=False))
