"""OGC API – Features through the Flask client: the contract QGIS and GDAL rely on."""

import pytest
from sqlalchemy import text

from tests.conftest import login

CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"


def test_landing_page_links(client):
    body = client.get("/ogc/").get_json()
    rels = {link["rel"]: link["href"] for link in body["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= set(rels)
    assert client.get(rels["service-desc"]).get_json()["openapi"].startswith("3.0")


def test_conformance(client):
    classes = client.get("/ogc/conformance").get_json()["conformsTo"]
    assert CORE in classes
    assert any(c.endswith("/conf/geojson") for c in classes) and any(c.endswith("/conf/oas30") for c in classes)


def test_collections_list(client):
    body = client.get("/ogc/collections").get_json()
    ids = [c["id"] for c in body["collections"]]
    assert ids == ["villages", "grids", "incidents"]
    grids = next(c for c in body["collections"] if c["id"] == "grids")
    minx, miny, maxx, maxy = grids["extent"]["spatial"]["bbox"][0]
    assert 117.6 < minx < maxx < 117.9 and 39.2 < miny < maxy < 39.45


def test_grid_items_are_geojson_with_code_worker_and_leader(client):
    response = client.get("/ogc/collections/grids/items")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    body = response.get_json()
    assert body["type"] == "FeatureCollection"
    assert body["numberMatched"] == body["numberReturned"] >= 70
    feature = body["features"][0]
    assert feature["geometry"]["type"] == "MultiPolygon"
    lon, lat = feature["geometry"]["coordinates"][0][0][0]
    assert 117 < lon < 118 and 39 < lat < 40  # CRS84: longitude first
    props = feature["properties"]
    assert len(props["code"]) == 15 and feature["id"] == props["code"]
    assert props["worker"] and props["leader"] and props["village_name"].endswith("村")


def test_paging_with_next_links(client):
    first = client.get("/ogc/collections/grids/items?limit=10").get_json()
    assert first["numberReturned"] == 10
    nxt = next(link["href"] for link in first["links"] if link["rel"] == "next")
    assert "offset=10" in nxt and "limit=10" in nxt
    second = client.get(nxt.replace("http://localhost", "")).get_json()
    assert {f["id"] for f in first["features"]}.isdisjoint(f["id"] for f in second["features"])
    last = client.get(f"/ogc/collections/grids/items?limit=10&offset={first['numberMatched'] - 3}").get_json()
    assert last["numberReturned"] == 3 and not [link for link in last["links"] if link["rel"] == "next"]


def test_limit_default_and_cap(client):
    login(client, "district1")
    default = client.get("/ogc/collections/incidents/items").get_json()
    assert default["numberReturned"] == 100
    capped = client.get("/ogc/collections/incidents/items?limit=20000").get_json()
    self_link = next(link["href"] for link in capped["links"] if link["rel"] == "self")
    assert "limit=10000" in self_link
    assert capped["numberReturned"] == min(10000, capped["numberMatched"])


def test_bbox_filters_features(client):
    everything = client.get("/ogc/collections/grids/items?limit=1000").get_json()
    some = client.get("/ogc/collections/grids/items?bbox=117.70,39.30,117.74,39.33&limit=1000").get_json()
    assert 0 < some["numberMatched"] < everything["numberMatched"]
    none = client.get("/ogc/collections/grids/items?bbox=100,20,100.1,20.1").get_json()
    assert none["numberMatched"] == 0 and none["features"] == []


@pytest.mark.parametrize(("query", "param"), [
    ("bbox=1,2,3", "bbox"),
    ("bbox=a,b,c,d", "bbox"),
    ("bbox=117.8,39.3,117.7,39.4", "bbox"),
    ("bbox=117,39,200,40", "bbox"),
    ("bbox=1;DROP TABLE grids,2,3,4", "bbox"),
    ("limit=0", "limit"),
    ("limit=-5", "limit"),
    ("limit=ten", "limit"),
    ("offset=-1", "offset"),
    ("datetime=yesterday", "datetime"),
    ("datetime=2026-05-01/2026-01-01", "datetime"),
    ("f=xml", "f"),
])
def test_bad_parameters_are_400_with_the_reason(client, query, param):
    response = client.get(f"/ogc/collections/grids/items?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["param"] == param and body["message_zh"] and body["message_en"]


@pytest.mark.parametrize("path", [
    "/ogc/collections/roads",
    "/ogc/collections/roads/items",
    "/ogc/collections/grids/items/999999999999999",
    "/ogc/collections/grids/items/not-a-code",
    "/ogc/collections/grids/items/1' OR '1'='1",
    "/ogc/collections/villages/items/120116103999",
])
def test_unknown_things_are_404(client, path):
    assert client.get(path).status_code == 404


def test_single_grid_and_village(client):
    code = client.get("/ogc/collections/grids/items?limit=1").get_json()["features"][0]["id"]
    feature = client.get(f"/ogc/collections/grids/items/{code}").get_json()
    assert feature["id"] == code and feature["properties"]["code"] == code
    village = client.get(f"/ogc/collections/villages/items/{code[:12]}").get_json()
    assert village["properties"]["grid_count"] >= 3


def test_grids_as_they_were_at_a_date(client):
    before = client.get("/ogc/collections/grids/items?datetime=2020-01-01T00:00:00Z").get_json()
    assert before["numberMatched"] == 0  # the demo grids begin in 2025
    now = client.get("/ogc/collections/grids/items?datetime=2026-06-01T00:00:00%2B08:00&limit=1000").get_json()
    assert now["numberMatched"] >= 70


def test_incidents_need_login_and_hide_personal_data(client):
    assert client.get("/ogc/collections/incidents/items").status_code == 401
    login(client, "dispatcher1")
    body = client.get("/ogc/collections/incidents/items?limit=50").get_json()
    assert body["numberReturned"] == 50
    props = body["features"][0]["properties"]
    assert not {"reporter_name", "reporter_phone", "description", "address"} & set(props)
    assert props["category"] and props["state"]


def test_a_worker_sees_only_their_grid_and_their_own_reports(client, connection):
    login(client, "worker001")
    body = client.get("/ogc/collections/incidents/items?limit=10000").get_json()
    me = client.get("/api/v1/me").get_json()
    own = set(connection.execute(text(
        "SELECT i.id FROM incidents i JOIN accounts a ON a.id = i.reporter_id WHERE a.username = 'worker001'"
    )).scalars())
    others = [f for f in body["features"] if f["properties"]["grid_code"] != me["scope"]]
    assert body["numberMatched"] > 0 and len(body["features"]) > len(others)
    assert {f["id"] for f in others} <= own


def test_incidents_by_datetime_interval(client):
    login(client, "district1")
    all_ = client.get("/ogc/collections/incidents/items?limit=1").get_json()["numberMatched"]
    june = client.get("/ogc/collections/incidents/items?datetime=2026-06-01/2026-06-30&limit=1").get_json()
    assert 0 < june["numberMatched"] < all_ / 6
    open_end = client.get("/ogc/collections/incidents/items?datetime=2026-06-01/..&limit=1").get_json()
    assert june["numberMatched"] < open_end["numberMatched"] < all_
