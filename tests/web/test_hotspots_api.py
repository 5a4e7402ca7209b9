"""GET /api/v1/hotspots against the demo town: the planted hotspots are found, the answer is a
bounded GeoJSON of classed H3 cells in the reader's area, bad parameters get reasons."""

from __future__ import annotations

import h3
import pytest
import shapely
from shapely.geometry import shape

from db.demo_town import build_town, to_lonlat
from tests.conftest import bearer

SINCE = "2025-11-20"  # the demo town's year of cases ends on 2026-11-20
UNTIL = "2026-11-20"


@pytest.fixture(scope="module")
def planted():
    town = build_town()
    return [(h.name, *map(float, to_lonlat(h.x, h.y))) for h in town.hotspots]


def get(client, headers, **params):
    return client.get("/api/v1/hotspots", headers=headers, query_string={"since": SINCE, "until": UNTIL, **params})


def test_the_planted_hotspots_are_hot(client, planted):
    body = get(client, bearer(client, "dispatcher1")).get_json()
    assert body["type"] == "FeatureCollection" and body["resolution"] == 9 and body["method"] == "gi"
    by_cell = {f["properties"]["h3"]: f["properties"] for f in body["features"]}
    for name, lng, lat in planted:
        cell = h3.latlng_to_cell(lat, lng, 9)
        near = [by_cell[c] for c in h3.grid_disk(cell, 1) if c in by_cell]
        assert any(p["class"] in ("hot-99", "hot-95") for p in near), name
    props = body["features"][0]["properties"]
    assert {"count", "gi_z", "p_fdr", "class"} <= set(props)
    assert all(f["properties"]["class"] in ("hot-99", "hot-95", "hot-90", "cold-99", "cold-95", "cold-90", "none")
               for f in body["features"])
    assert body["cases"] == sum(f["properties"]["count"] for f in body["features"]) > 0


def test_a_village_leader_sees_the_cells_of_the_village(client, connection):
    from sqlalchemy import text

    leader, village = connection.execute(text(
        "SELECT username, scope_code FROM accounts WHERE role = 'leader' ORDER BY username LIMIT 1")).one()
    outline = shape(__import__("json").loads(connection.execute(text(
        "SELECT ST_AsGeoJSON(geom) FROM areas WHERE code = :c"), {"c": village[:12]}).scalar()))
    body = get(client, bearer(client, leader)).get_json()
    assert body["features"]
    centres = [shapely.Point(*reversed(h3.cell_to_latlng(f["properties"]["h3"]))) for f in body["features"]]
    assert sum(outline.buffer(0.01).covers(c) for c in centres) == len(centres)
    assert get(client, bearer(client, "worker001")).status_code == 403


def test_categories_period_resolution_and_top(client):
    headers = bearer(client, "dispatcher1")
    all_cases = get(client, headers).get_json()["cases"]
    market = get(client, headers, categories="JM01,SR01").get_json()
    assert 0 < market["cases"] < all_cases
    coarse = get(client, headers, resolution=8).get_json()
    assert 0 < len(coarse["features"]) < len(get(client, headers).get_json()["features"])
    top = client.get("/api/v1/hotspots/top", headers=headers, query_string={"since": SINCE, "until": UNTIL}).get_json()
    assert top["items"] and top["items"][0]["class"].startswith("hot") and top["items"][0]["grids"]
    assert top["items"][0]["grids"][0]["code"].isdigit()


@pytest.mark.parametrize("params", [{"method": "kde"}, {"resolution": 12}, {"categories": "A;B"},
                                    {"since": "2026-06-01", "until": "2026-01-01"}, {"colour": "red"}])
def test_bad_parameters_get_reasons(client, params):
    response = client.get("/api/v1/hotspots", headers=bearer(client, "dispatcher1"), query_string=params)
    assert response.status_code == 400 and response.get_json()["message_zh"]


def test_geopackage_export(client, tmp_path):
    import geopandas as gpd

    response = get(client, bearer(client, "dispatcher1"), format="gpkg")
    assert response.status_code == 200 and response.mimetype == "application/geopackage+sqlite3"
    path = tmp_path / "h.gpkg"
    path.write_bytes(response.data)
    frame = gpd.read_file(path, layer="hotspots")
    assert len(frame) > 0 and {"h3", "count", "gi_z", "p_fdr", "class"} <= set(frame.columns)


def test_moran_gives_classes_too(client, planted):
    body = get(client, bearer(client, "dispatcher1"), method="moran").get_json()
    props = [f["properties"] for f in body["features"]]
    assert {"moran_i", "moran_q", "p_fdr", "class", "gi_z"} <= set(props[0])
    hot = [p for p in props if p["class"].startswith("hot")]
    assert hot and all(p["moran_q"] == "HH" for p in hot)
    market = planted[0]
    cell = h3.latlng_to_cell(market[2], market[1], 9)
    near = {c for c in h3.grid_disk(cell, 1)}
    assert any(p["h3"] in near for p in hot)
