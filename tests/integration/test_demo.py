"""The demo town as loaded into PostGIS: tiled, coded, staffed, with a year of incidents."""

import json
import math
from datetime import timedelta

from sqlalchemy import text

from db.demo_town import TOWN_CODE
from tests.conftest import DEMO_INCIDENTS, DEMO_UNTIL


def scalar(conn, sql, **params):
    return conn.execute(text(sql), params).scalar()


def test_grids_of_every_village_tile_it(connection):
    rows = connection.execute(text("""
        SELECT v.code,
               ST_Area(v.geom::geography) AS village_area,
               ST_Area(ST_Union(g.geom)::geography) AS union_area,
               (SELECT coalesce(sum(ST_Area(ST_Intersection(a.geom, b.geom)::geography)), 0)
                  FROM grids a JOIN grids b ON a.village_id = b.village_id AND a.id < b.id
                 WHERE a.village_id = v.id AND a.valid_to IS NULL AND b.valid_to IS NULL
                   AND ST_Intersects(a.geom, b.geom)) AS overlap,
               ST_Area(ST_Difference(ST_Union(g.geom), v.geom)::geography) AS outside
          FROM areas v JOIN grids g ON g.village_id = v.id AND g.valid_to IS NULL
         WHERE v.level = 'village'
         GROUP BY v.id
    """)).all()
    assert len(rows) == 20
    for code, village_area, union_area, overlap, outside in rows:
        assert overlap == 0, code
        assert (village_area - union_area) / village_area < 0.001, code
        assert outside < 1e-6 * village_area, code


def test_villages_nest_in_the_town(connection):
    assert scalar(connection, """
        SELECT bool_and(ST_CoveredBy(v.geom, t.geom)) FROM areas v, areas t
         WHERE v.level = 'village' AND t.level = 'town'""")
    assert scalar(connection, "SELECT count(*) FROM grids WHERE NOT starts_with(code, :t)", t=TOWN_CODE) == 0


def test_every_grid_has_a_current_worker_and_leader(connection):
    rows = connection.execute(text("""
        SELECT g.code, count(*) FILTER (WHERE a.duty = 'worker'), count(*) FILTER (WHERE a.duty = 'leader')
          FROM grids g LEFT JOIN grid_assignments a ON a.grid_code = g.code AND a.valid_to IS NULL
         GROUP BY g.code""")).all()
    assert rows and all(w == 1 and lead == 1 for _code, w, lead in rows)


def test_categories_carry_departments_and_time_limits(connection):
    rows = connection.execute(text("""
        SELECT c.class_name, c.name, d.name, c.time_limit, c.time_unit, c.self_handle
          FROM categories c JOIN departments d ON d.id = c.department_id""")).all()
    classes = {r[0] for r in rows}
    assert {"市容环境", "宣传广告", "施工管理", "街面秩序", "突发事件", "公用设施", "园林绿化",
            "矛盾纠纷", "安全隐患", "民生诉求", "停车秩序"} <= classes
    by_name = {r[1]: r for r in rows}
    assert by_name["暴露垃圾"][3:5] == (4, "work_hours")
    assert by_name["绿地维护"][3:5] == (5, "work_days")
    assert "交警" in by_name["违规停车"][2] and by_name["违规停车"][5] is True


def test_a_year_of_incidents_mixed_and_routed(connection):
    assert scalar(connection, "SELECT count(*) FROM incidents") == DEMO_INCIDENTS
    span = scalar(connection, "SELECT max(reported_at) - min(reported_at) FROM incidents")
    assert span > timedelta(days=350)
    assert scalar(connection, "SELECT max(reported_at) FROM incidents") <= DEMO_UNTIL
    assert scalar(connection, "SELECT count(DISTINCT category_id) FROM incidents") >= 20
    assert scalar(connection, "SELECT count(DISTINCT source) FROM incidents") == 4
    assert scalar(connection, "SELECT count(DISTINCT state) FROM incidents") >= 6
    # every stored grid is the one PostGIS routes the point to (ST_Covers, lowest code on an edge)
    assert scalar(connection, """
        SELECT count(*) FROM incidents i
         WHERE i.grid_code IS DISTINCT FROM (
               SELECT g.code FROM grids g WHERE g.valid_to IS NULL AND ST_Covers(g.geom, i.geom)
                ORDER BY g.code LIMIT 1)""") == 0
    assert scalar(connection, "SELECT count(*) FROM incidents WHERE deadline <= reported_at") == 0


def test_seasonality_summer_busier_than_winter(connection):
    summer = scalar(connection, """SELECT count(*) FROM incidents
        WHERE extract(month FROM reported_at AT TIME ZONE 'Asia/Shanghai') IN (6, 7, 8)""")
    winter = scalar(connection, """SELECT count(*) FROM incidents
        WHERE extract(month FROM reported_at AT TIME ZONE 'Asia/Shanghai') IN (12, 1, 2)""")
    assert summer > 1.3 * winter
    rainy_share = scalar(connection, """SELECT avg((extract(month FROM i.reported_at AT TIME ZONE 'Asia/Shanghai')
        BETWEEN 6 AND 9)::int) FROM incidents i JOIN categories c ON c.id = i.category_id WHERE c.name = '路面积水'""")
    assert rainy_share > 0.9  # standing water (路面积水) comes with the rainy season


def test_hotspots_are_real(connection):
    # The densest 1 km² cells hold far more incidents than an even spread would put there.
    counts = connection.execute(text("""
        SELECT count(*) FROM incidents
         GROUP BY ST_SnapToGrid(ST_Transform(geom, 4548), 1000)
         ORDER BY 1 DESC""")).scalars().all()
    town_km2 = scalar(connection, "SELECT ST_Area(geom::geography) / 1e6 FROM areas WHERE level = 'town'")
    even = DEMO_INCIDENTS / town_km2
    assert sum(c > 6 * even for c in counts[:5]) >= 3
    assert counts[-1] < 2 * even


def test_a_week_of_patrol_tracks(connection):
    workers = scalar(connection, "SELECT count(DISTINCT worker_id) FROM patrols")
    days = scalar(connection, """SELECT count(DISTINCT (started_at AT TIME ZONE 'Asia/Shanghai')::date) FROM patrols""")
    assert workers >= 70 and days == 7
    # tracks stay inside their own grid, and their length is that of a walk of an hour or two
    assert scalar(connection, """SELECT count(*) FROM patrols p JOIN grids g ON g.code = p.grid_code
        WHERE NOT ST_CoveredBy(p.track, g.geom)""") == 0
    lo, hi = connection.execute(text("SELECT min(distance_m), max(distance_m) FROM patrols")).one()
    assert 1000 < lo and hi < 15000
    assert scalar(connection, "SELECT count(*) FROM gps_fixes") > 50_000


def test_demo_is_labelled_synthetic(connection):
    demo = scalar(connection, "SELECT value FROM settings WHERE key = 'demo'")
    assert demo["synthetic"] is True
    for table in ("areas", "grids", "people", "incidents", "patrols"):
        assert scalar(connection, f"SELECT bool_and(synthetic) FROM {table}") is True  # noqa: S608


def test_population_near_the_norms(connection):
    avg, top = connection.execute(text(
        "SELECT avg(households), max(residents) FROM grids WHERE kind = 'comprehensive'")).one()
    assert 250 <= avg <= 350 and top <= 2500
    assert math.isfinite(float(avg))
    assert json  # the settings row is JSON (checked above)
