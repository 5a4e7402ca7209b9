"""What the database itself refuses: changed history, malformed codes, invalid geometry."""

from contextlib import contextmanager

import pytest
from psycopg2 import errors as pg
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError


@contextmanager
def refused(error: type[pg.Error], match: str | None = None):
    """The statement inside fails with the database's ERROR (a psycopg2.errors class), not any error."""
    with pytest.raises(DBAPIError, match=match) as info:
        yield info
    assert isinstance(info.value.orig, error), f"expected {error.__name__}, got {info.value.orig!r}"


def _one_event_id(connection) -> int:
    return connection.execute(text("SELECT min(id) FROM case_events")).scalar_one()


@pytest.mark.parametrize("statement", [
    "UPDATE case_events SET note = 'rewritten' WHERE id = :id",
    "DELETE FROM case_events WHERE id = :id",
])
def test_case_events_are_append_only(connection, statement):
    event_id = _one_event_id(connection)
    with refused(pg.InsufficientPrivilege, match="append-only"):  # the trigger's ERRCODE
        with connection.begin_nested():
            connection.execute(text(statement), {"id": event_id})
    assert connection.execute(text("SELECT count(*) FROM case_events WHERE id = :id"), {"id": event_id}).scalar() == 1


def test_case_events_cannot_be_truncated(connection):
    with refused(pg.InsufficientPrivilege, match="append-only"):
        with connection.begin_nested():
            connection.execute(text("TRUNCATE case_events CASCADE"))


def test_appending_an_event_works(connection):
    incident = connection.execute(text("SELECT min(id) FROM incidents")).scalar_one()
    connection.execute(text(
        "INSERT INTO case_events (incident_id, action, note) VALUES (:i, 'note', '补充说明')"), {"i": incident})


def _insert_grid(connection, code="120116103299001", wkt="MULTIPOLYGON(((117 39, 117.01 39, 117.01 39.01, 117 39.01, 117 39)))", srid=4326):
    village = connection.execute(text("SELECT id FROM areas WHERE level = 'village' LIMIT 1")).scalar_one()
    with connection.begin_nested():
        connection.execute(text(
            "INSERT INTO grids (code, name, village_id, geom) VALUES (:code, 'test', :v, ST_GeomFromText(:wkt, :srid))"
        ), {"code": code, "v": village, "wkt": wkt, "srid": srid})


def test_a_valid_grid_is_accepted(connection):
    _insert_grid(connection)


@pytest.mark.parametrize(("code", "error", "match"), [
    ("12011610329900", pg.CheckViolation, "ck_grids_code_15_digits"),
    ("12011610329900a", pg.CheckViolation, "ck_grids_code_15_digits"),
    ("120116103299001' --", pg.StringDataRightTruncation, "character varying"),  # varchar(15)
])
def test_grid_codes_must_be_15_digits(connection, code, error, match):
    with refused(error, match=match):
        _insert_grid(connection, code=code)


def test_self_intersecting_grid_is_refused(connection):
    bowtie = "MULTIPOLYGON(((117 39, 117.01 39.01, 117.01 39, 117 39.01, 117 39)))"
    with pytest.raises(IntegrityError, match="geom_valid") as info:
        _insert_grid(connection, wkt=bowtie)
    assert isinstance(info.value.orig, pg.CheckViolation)
    assert info.value.orig.diag.constraint_name == "ck_grids_geom_valid"


def test_other_srid_is_refused(connection):
    with refused(pg.InvalidParameterValue, match="SRID"):
        _insert_grid(connection, wkt="MULTIPOLYGON(((500000 4300000, 501000 4300000, 501000 4301000, 500000 4300000)))", srid=4548)


def test_one_current_version_per_code(connection):
    code = connection.execute(text("SELECT code FROM grids LIMIT 1")).scalar_one()
    with pytest.raises(IntegrityError, match="uq_grids") as info:
        _insert_grid(connection, code=code)
    assert isinstance(info.value.orig, pg.UniqueViolation)
    assert info.value.orig.diag.constraint_name == "uq_grids_code_version"
