"""`wangge hotline` (being written)."""

import click


@click.group(name="hotline")
def group() -> None:
    """hotline"""
