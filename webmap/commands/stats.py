"""`wangge stats` (being written)."""

import click


@click.group(name="stats")
def group() -> None:
    """stats"""
