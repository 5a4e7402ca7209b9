"""Fixtures shared by the web tests."""

import pytest
from sqlalchemy import text


@pytest.fixture
def worker_grid(connection):
    """worker001's grid: its code and a WGS84 point well inside it."""
    return connection.execute(text("""
        SELECT g.code, ST_X(ST_PointOnSurface(g.geom)), ST_Y(ST_PointOnSurface(g.geom))
          FROM accounts a JOIN grids g ON g.code = a.scope_code AND g.valid_to IS NULL
         WHERE a.username = 'worker001'""")).one()
