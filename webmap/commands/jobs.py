"""`wangge jobs` (being written)."""

import click


@click.group(name="jobs")
def group() -> None:
    """jobs"""
