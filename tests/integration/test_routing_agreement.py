"""The two routers agree: the STRtree twin used by bulk imports (``spatial.nearby.route_points`` over
the grids as ``webmap.services.imports.load_grids`` reads them) and PostGIS (``db/sql/route_point.sql``,
what ``webmap.services.intake.route_point`` runs for the API).

PostGIS routes many points in one statement: route_point.sql itself, its parameters bound to the
columns of a LATERAL join. Hard cases come from the real demo grids (midpoints of shared edges, shared
vertices, points 10 m, 49.5 m, 50.5 m and 5 km outside the town); the demo grids have no holes, so a
synthetic grid with a hole is inserted inside the test's rolled-back transaction.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest
from sqlalchemy import text

from db.queries import query
from spatial.nearby import route_points
from webmap.config import DEFAULT_NEAR_BOUNDARY_M as NEAR_BOUNDARY_M
from webmap.services.imports import load_grids
from webmap.services.intake import route_point


def postgis_route_all(conn, xs, ys, near_m: float = NEAR_BOUNDARY_M) -> list[tuple]:
    """(grid_code, how, distance_m) per point, by route_point.sql in one LATERAL query."""
    body = query("route_point").text
    for name in ("near_deg", "near_m", "lng", "lat"):
        body = body.replace(f":{name}", f"p.{name}")
    sql = text(f"""
        SELECT p.k, r.grid_code, r.how, r.distance_m
          FROM (SELECT k, lng, lat, CAST(:near_m AS float8) AS near_m,
                       CAST(:near_m AS float8) / (111320.0 * greatest(cos(radians(lat)), 0.01)) * 1.5 AS near_deg
                  FROM unnest(CAST(:ks AS int[]), CAST(:xs AS float8[]), CAST(:ys AS float8[])) AS u(k, lng, lat)) p
          LEFT JOIN LATERAL ({body}) r ON true
         ORDER BY p.k""")
    rows = conn.execute(sql, {"near_m": near_m, "today": date.today(), "ks": list(range(len(xs))),
                              "xs": [float(x) for x in xs], "ys": [float(y) for y in ys]}).all()
    assert [r.k for r in rows] == list(range(len(xs)))
    return [(r.grid_code, r.how, r.distance_m) for r in rows]


def strtree_route_all(conn, xs, ys, near_m: float = NEAR_BOUNDARY_M) -> list[tuple]:
    grids = load_grids(conn)
    routed = route_points(xs, ys, grids["geom"], grids["code"], near_m=near_m)
    out = []
    for i, g in enumerate(routed.index):
        if g < 0:
            out.append((None, None, None))
        else:
            out.append((grids["code"][g], "near" if routed.near[i] else "covered", float(routed.distance_m[i])))
    return out


def assert_agree(conn, xs, ys, labels=None) -> list[tuple]:
    ours = strtree_route_all(conn, xs, ys)
    theirs = postgis_route_all(conn, xs, ys)
    bad = []
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        same = a[0] == b[0] and a[1] == b[1]
        if same and a[1] == "near":
            same = abs(a[2] - b[2]) < 0.05  # metres: planar local TM vs geography
        if not same:
            bad.append((labels[i] if labels else i, xs[i], ys[i], a, b))
    assert not bad, f"{len(bad)} disagreements, first: {bad[:5]}"
    return theirs


def test_every_demo_incident_routes_the_same(connection):
    pts = connection.execute(text("SELECT ST_X(geom), ST_Y(geom), grid_code FROM incidents ORDER BY id")).all()
    assert len(pts) >= 4000
    xs = np.array([p[0] for p in pts])
    ys = np.array([p[1] for p in pts])
    routed = assert_agree(connection, xs, ys)
    # and the demo loader routed them the same way when it stored them
    assert [r[0] for r in routed] == [p[2] for p in pts]


def test_bulk_sql_is_route_point(db):
    """The LATERAL form gives what intake.route_point gives, point by point (a sample)."""
    pts = db.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM incidents ORDER BY id LIMIT 40")).all()
    xs = [p[0] for p in pts] + [117.0]
    ys = [p[1] for p in pts] + [39.0]
    bulk = postgis_route_all(db.connection(), xs, ys)
    assert bulk[-1] == (None, None, None)
    for x, y, b in zip(xs, ys, bulk, strict=True):
        one = route_point(db, x, y)
        assert ((one["grid_code"], one["how"]) if one else (None, None)) == b[:2]


def _shared_edge_midpoints(conn):
    return conn.execute(text("""
        WITH cur AS (SELECT code, geom FROM grids WHERE valid_to IS NULL),
        pairs AS (
            SELECT a.code AS a, b.code AS b, a.geom AS ag, b.geom AS bg,
                   ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 2) AS edge
              FROM cur a JOIN cur b ON a.code < b.code AND ST_Intersects(a.geom, b.geom)
        ), seg AS (
            SELECT a, b, ag, bg, ST_PointN(e.geom, 1) AS p1, ST_PointN(e.geom, 2) AS p2
              FROM pairs, LATERAL ST_Dump(pairs.edge) AS e
             WHERE NOT ST_IsEmpty(edge)
        ), mid AS (
            SELECT a, b, ag, bg, ST_SetSRID(ST_MakePoint((ST_X(p1) + ST_X(p2)) / 2, (ST_Y(p1) + ST_Y(p2)) / 2), 4326) AS m
              FROM seg
        )
        SELECT a, b, ST_X(m) AS x, ST_Y(m) AS y, ST_Covers(ag, m) AND ST_Covers(bg, m) AS on_both FROM mid
    """)).all()


def test_midpoints_of_shared_edges(db):
    mids = _shared_edge_midpoints(db)
    assert len(mids) >= 50
    routed = assert_agree(db.connection(), [m.x for m in mids], [m.y for m in mids],
                          labels=[f"{m.a}|{m.b}" for m in mids])
    on_both = [(m, r) for m, r in zip(mids, routed, strict=True) if m.on_both]
    assert len(on_both) >= 10  # exactly on the edge of both grids: the lowest code wins
    for m, r in on_both:
        assert r[:2] == (m.a, "covered")
        assert route_point(db, m.x, m.y)["grid_code"] == m.a


def test_shared_vertices(db):
    vertices = db.execute(text("""
        WITH cur AS (SELECT code, geom FROM grids WHERE valid_to IS NULL),
        v AS (SELECT DISTINCT code, (ST_DumpPoints(geom)).geom AS p FROM cur)
        SELECT ST_X(p) AS x, ST_Y(p) AS y, array_agg(code ORDER BY code) AS codes
          FROM v GROUP BY p HAVING count(*) >= 2
    """)).all()
    assert sum(len(v.codes) >= 3 for v in vertices) >= 10
    routed = assert_agree(db.connection(), [v.x for v in vertices], [v.y for v in vertices])
    for v, r in zip(vertices, routed, strict=True):
        assert r[:2] == (v.codes[0], "covered")
    v = next(v for v in vertices if len(v.codes) >= 3)
    assert route_point(db, v.x, v.y)["grid_code"] == v.codes[0]


def _outside_points(conn, metres: float) -> list[tuple]:
    """From the town's northern-, southern-, eastern- and westernmost grid vertices, ``metres``
    further out (north, south, east, west): surely outside every grid."""
    return conn.execute(text("""
        WITH v AS (SELECT (ST_DumpPoints(geom)).geom AS p FROM grids WHERE valid_to IS NULL),
        ext AS (
            (SELECT p, 0.0 AS az FROM v ORDER BY ST_Y(p) DESC LIMIT 1) UNION ALL
            (SELECT p, pi() FROM v ORDER BY ST_Y(p) LIMIT 1) UNION ALL
            (SELECT p, pi() / 2 FROM v ORDER BY ST_X(p) DESC LIMIT 1) UNION ALL
            (SELECT p, 3 * pi() / 2 FROM v ORDER BY ST_X(p) LIMIT 1)
        )
        SELECT ST_X(q) AS x, ST_Y(q) AS y
          FROM ext, LATERAL (SELECT ST_Project(ext.p::geography, :m, ext.az)::geometry AS q) s
    """), {"m": metres}).all()


@pytest.mark.parametrize(("metres", "expected"), [(10.0, "near"), (49.5, "near"), (50.5, None), (5000.0, None)])
def test_outside_the_town(db, metres, expected):
    pts = _outside_points(db, metres)
    assert len(pts) == 4
    routed = assert_agree(db.connection(), [p.x for p in pts], [p.y for p in pts])
    for p, r in zip(pts, routed, strict=True):
        assert r[1] == expected
        one = route_point(db, p.x, p.y)
        if expected is None:
            assert one is None
        else:
            assert one["how"] == "near" and one["grid_code"] == r[0]
            assert metres - 0.5 < one["distance_m"] <= metres + 0.01


def test_a_grid_with_a_hole(db):
    """No demo grid has a hole: insert one (rolled back with the test) 20 km from the town."""
    village_id = db.execute(text("SELECT id FROM areas WHERE level = 'village' ORDER BY code LIMIT 1")).scalar_one()
    db.execute(text("""
        INSERT INTO grids (code, name, village_id, geom, valid_from)
        VALUES ('120116999999001', '测试环形网格', :v,
                ST_Multi(ST_GeomFromText('POLYGON((118.00 39.00, 118.03 39.00, 118.03 39.03, 118.00 39.03, 118.00 39.00),
                                                  (118.01 39.01, 118.02 39.01, 118.02 39.02, 118.01 39.02, 118.01 39.01))', 4326)),
                now())
    """), {"v": village_id})
    deg = 1 / 111_320
    lat_deg = deg
    lng_deg = deg / math.cos(math.radians(39.015))
    cases = {
        "ring": (118.005, 39.005, "covered"),
        "hole rim": (118.01, 39.015, "covered"),
        "hole centre (≈430 m from the rim)": (118.015, 39.015, None),
        "in the hole, 20 m from the rim": (118.01 + 20 * lng_deg, 39.015, "near"),
        "in the hole, 60 m from the rim": (118.015, 39.01 + 60 * lat_deg, None),
        "outside, 30 m east": (118.03 + 30 * lng_deg, 39.015, "near"),
    }
    xs = [c[0] for c in cases.values()]
    ys = [c[1] for c in cases.values()]
    routed = assert_agree(db.connection(), xs, ys, labels=list(cases))
    for (name, (x, y, how)), r in zip(cases.items(), routed, strict=True):
        assert r[1] == how, name
        if how:
            assert r[0] == "120116999999001", name
        one = route_point(db, x, y)
        assert (one["how"] if one else None) == how, name
