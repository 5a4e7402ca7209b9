"""What every command of the ``wangge`` CLI shares: reaching the database and failing with a message.

``webmap.cli`` and each command group import these; no command imports ``webmap.cli``, so the CLI
has no import circle.
"""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from db import cluster


def fail(message: str) -> NoReturn:
    """Print MESSAGE on stderr and exit with status 1."""
    click.echo(message, err=True)
    sys.exit(1)


def ready_url() -> str:
    """Start (or reach) the database; exit 1 with the reason when that is impossible."""
    try:
        return cluster.up(echo=lambda m: click.echo(m, err=True))
    except cluster.ClusterError as exc:
        fail(str(exc))
    except Exception as exc:  # a refused connection, a bad DATABASE_URL
        fail(f"无法连接数据库 / cannot reach the database: {exc}")


def make_engine(url: str):
    """A SQLAlchemy engine for URL (imported here so that ``wangge --help`` stays fast)."""
    from sqlalchemy import create_engine

    return create_engine(url)
