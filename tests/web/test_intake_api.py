"""Incident intake through HTTP: routing, coordinates, idempotency, bad input, scope, privacy."""

import io
import json

import pytest
from sqlalchemy import text

from spatial.crs import wgs84_to_bd09, wgs84_to_gcj02
from tests.conftest import JPEG, bearer, count, report
from webmap.services.intake import route_point


@pytest.fixture
def worker(client):
    return bearer(client, "worker001")


def test_api_login_issues_a_token(client):
    headers = bearer(client, "worker001")
    assert client.get("/api/v1/me", headers=headers).get_json()["role"] == "worker"
    assert client.post("/api/v1/auth/login", json={"username": "worker001", "password": "x"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer forged.token"}).status_code == 401


def test_report_is_routed_to_grid_worker_leader_and_department(client, worker, worker_grid, connection):
    code, lng, lat = worker_grid
    response = client.post("/api/v1/incidents", json=report(lng, lat), headers=worker)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["grid"]["code"] == code and body["grid"]["name"]
    assert body["village"]["code"] == code[:12]
    assert body["worker"]["name"] and body["leader"]["name"]
    assert body["department"]["name"] == "镇环卫所"
    assert body["state"] == "待受理" and body["flags"] == []
    assert body["deadline"] > body["reported_at"]  # 4 working hours for exposed garbage
    assert body["deadline"].endswith("+08:00")
    assert response.headers["Location"].endswith(f"/api/v1/incidents/{body['id']}")
    events = connection.execute(text("SELECT action, to_state FROM case_events WHERE incident_id = :i"),
                                {"i": body["id"]}).all()
    assert events == [("report", "待受理")]


def _point_whose_raw_coordinates_lie_in_another_grid(connection, convert):
    """A WGS84 point in grid A whose GCJ-02/BD-09 coordinates fall in another grid B."""
    from sqlalchemy.orm import Session

    from db.demo_town import build_town  # noqa: F401  (the demo town is loaded in the test database)

    db = Session(bind=connection)
    rows = connection.execute(text(
        "SELECT code, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM grids ORDER BY code")).all()
    for code, lng, lat in rows:
        raw = convert(lng, lat)
        raw_route = route_point(db, *raw)
        if raw_route and raw_route["grid_code"] != code:
            return code, raw, raw_route["grid_code"]
    raise AssertionError("no such point in the demo town")


@pytest.mark.parametrize(("crs", "convert"), [("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)])
def test_phone_coordinates_are_converted_before_routing(client, worker, connection, crs, convert):
    true_grid, (raw_lng, raw_lat), naive_grid = _point_whose_raw_coordinates_lie_in_another_grid(connection, convert)
    body = client.post("/api/v1/incidents", json=report(raw_lng, raw_lat, crs=crs),
                       headers={**bearer(client, "dispatcher1")}).get_json()
    assert body["grid"]["code"] == true_grid != naive_grid
    assert body["reported_location"] == {"lng": raw_lng, "lat": raw_lat, "crs": crs}
    assert f"converted_from_{crs}" in body["flags"]


def test_cgcs2000_is_taken_as_wgs84(client, worker, worker_grid):
    code, lng, lat = worker_grid
    body = client.post("/api/v1/incidents", json=report(lng, lat, crs="CGCS2000"), headers=worker).get_json()
    assert body["grid"]["code"] == code and body["location"]["lng"] == pytest.approx(lng)


def test_same_idempotency_key_creates_nothing_new(client, worker, worker_grid, connection):
    _code, lng, lat = worker_grid
    headers = {**worker, "Idempotency-Key": "phone-7f3a-0001"}
    first = client.post("/api/v1/incidents", json=report(lng, lat), headers=headers)
    before = count(connection)
    again = client.post("/api/v1/incidents", json=report(lng, lat), headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(connection) == before
    events = connection.execute(text("SELECT count(*) FROM case_events WHERE incident_id = :i"),
                                {"i": first.get_json()["id"]}).scalar()
    assert events == 1


def _town_edge_point(connection, metres_out: float):
    """A point ``metres_out`` metres outside the town boundary (east of its easternmost vertex)."""
    lng, lat = connection.execute(text("""
        SELECT ST_X(p), ST_Y(p) FROM (
          SELECT (ST_DumpPoints(geom)).geom AS p FROM areas WHERE level = 'town') pts
         ORDER BY ST_X(p) DESC LIMIT 1""")).one()
    return lng + metres_out / 86_000, lat


def test_just_outside_a_grid_is_routed_to_it_and_flagged(client, connection):
    lng, lat = _town_edge_point(connection, 20)
    body = client.post("/api/v1/incidents", json=report(lng, lat), headers=bearer(client, "dispatcher1")).get_json()
    assert body["grid"] is not None
    assert "near_boundary" in body["flags"]
    assert 10 < body["distance_m"] < 50


@pytest.mark.parametrize(("setting", "metres_out", "near"), [(5.0, 20, False), (200.0, 120, True)])
def test_the_near_boundary_setting_decides_at_the_api(app, client, connection, monkeypatch, setting, metres_out, near):
    """NEAR_BOUNDARY_M (WANGGE_NEAR_BOUNDARY_M at start-up) reaches the API, not a constant of 50 m."""
    monkeypatch.setitem(app.config, "NEAR_BOUNDARY_M", setting)
    lng, lat = _town_edge_point(connection, metres_out)
    body = client.post("/api/v1/incidents", json=report(lng, lat), headers=bearer(client, "dispatcher1")).get_json()
    assert ("near_boundary" in body["flags"]) is near
    assert ("outside_grids" in body["flags"]) is not near
    assert (body["grid"] is not None) is near


def test_far_outside_goes_to_the_town_queue(client, connection):
    lng, lat = _town_edge_point(connection, 3000)
    created = client.post("/api/v1/incidents", json=report(lng, lat), headers=bearer(client, "dispatcher1"))
    body = created.get_json()
    assert created.status_code == 201
    assert body["grid"] is None and body["worker"] is None and "outside_grids" in body["flags"]
    # 属地兜底: the town dispatchers see it, a grid worker does not
    assert client.get(f"/api/v1/incidents/{body['id']}", headers=bearer(client, "dispatcher2")).status_code == 200
    assert client.get(f"/api/v1/incidents/{body['id']}", headers=bearer(client, "worker001")).status_code == 404
    queue = client.get("/api/v1/incidents?limit=5", headers=bearer(client, "dispatcher2")).get_json()
    assert queue["items"][0]["id"] == body["id"]


BAD_REPORTS = [
    ({"description": "x", "location": {"lng": 117.7, "lat": 39.3, "crs": "wgs84"}}, "category"),
    (report(117.7, 39.3) | {"category": "NOPE"}, "category"),
    (report(117.7, 39.3) | {"category": 5}, "category"),
    (report(200, 39.3), "location.lng"),
    (report(117.7, -95), "location.lat"),
    (report(2.35, 48.85), "location"),  # Paris: outside China
    (report(117.7, 39.3, crs="epsg:3857"), "location.crs"),
    (report(117.7, 39.3, crs=None), "location.crs"),
    (report("east", 39.3), "location.lng"),
    ({"category": "SR01"}, "location"),
    (report(117.7, 39.3) | {"description": "长" * 4001}, "description"),
    (report(117.7, 39.3) | {"photos": ["a" * 64] * 10}, "photos"),
    (report(117.7, 39.3) | {"photos": ["../../etc/passwd"]}, "photos[0]"),
    (report(117.7, 39.3) | {"photos": ["b" * 64]}, "photos[0]"),  # never uploaded
    (report(117.7, 39.3) | {"photos": "abc"}, "photos"),
    (report(117.7, 39.3) | {"reporter_phone": "<script>"}, "reporter_phone"),
    ([1, 2, 3], "body"),
]


@pytest.mark.parametrize(("payload", "field"), BAD_REPORTS)
def test_bad_reports_get_field_level_reasons_and_save_nothing(client, worker, connection, payload, field):
    before, events = count(connection), count(connection, "case_events")
    response = client.post("/api/v1/incidents", json=payload, headers=worker)
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    fields = {e["field"] for e in body["errors"]}
    assert field in fields
    assert all(e["zh"] and e["en"] for e in body["errors"])
    assert count(connection) == before and count(connection, "case_events") == events


def test_every_reason_is_given_at_once(client, worker):
    body = client.post("/api/v1/incidents", json={"location": {"lng": 500, "lat": 39, "crs": "wgs84"},
                                                  "description": "x" * 5000}, headers=worker).get_json()
    assert {"category", "location.lng", "description"} <= {e["field"] for e in body["errors"]}


@pytest.mark.parametrize(("data", "content_type"), [
    ("{not json", "application/json"),
    ("category=SR01", "application/x-www-form-urlencoded"),
])
def test_malformed_bodies_are_400(client, worker, connection, data, content_type):
    before = count(connection)
    response = client.post("/api/v1/incidents", data=data, content_type=content_type, headers=worker)
    assert response.status_code == 400
    assert response.get_json()["message_zh"]
    assert count(connection) == before


def test_bad_idempotency_key(client, worker, worker_grid):
    _c, lng, lat = worker_grid
    response = client.post("/api/v1/incidents", json=report(lng, lat), headers={**worker, "Idempotency-Key": "x"})
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "Idempotency-Key"


def test_photos_upload_and_attach(client, worker, worker_grid):
    uploaded = client.post("/api/v1/attachments", data={"file": (io.BytesIO(JPEG), "IMG_0001.jpg")},
                           headers=worker, content_type="multipart/form-data")
    assert uploaded.status_code == 201
    photo = uploaded.get_json()
    assert photo["mime"] == "image/jpeg" and len(photo["id"]) == 64
    _c, lng, lat = worker_grid
    body = client.post("/api/v1/incidents", json=report(lng, lat, photos=[photo["id"]]), headers=worker).get_json()
    assert body["photos"][0]["id"] == photo["id"]
    image = client.get(body["photos"][0]["url"], headers=worker)
    assert image.status_code == 200 and image.data == JPEG and image.mimetype == "image/jpeg"
    # another grid's worker may not fetch it
    assert client.get(body["photos"][0]["url"], headers=bearer(client, "worker002")).status_code == 404


@pytest.mark.parametrize(("data", "name", "status"), [
    (b"%PDF-1.7 not a photo at all", "photo.jpg", 415),
    (b"MZ\x90\x00 an exe", "IMG_0002.JPG", 415),
    (b"\xff\xd8\xff" + b"0" * (10 * 1024 * 1024), "huge.jpg", 413),
    (b"", "empty.jpg", 400),
])
def test_bad_uploads_are_refused_and_not_kept(client, worker, connection, data, name, status):
    before = count(connection, "attachments")
    response = client.post("/api/v1/attachments", data={"file": (io.BytesIO(data), name)}, headers=worker,
                           content_type="multipart/form-data")
    assert response.status_code == status
    assert count(connection, "attachments") == before


@pytest.mark.parametrize("username", ["dept_jiaojing", "analyst1", "planner1"])
def test_roles_that_do_not_report(client, username, worker_grid):
    _c, lng, lat = worker_grid
    response = client.post("/api/v1/incidents", json=report(lng, lat), headers=bearer(client, username))
    assert response.status_code == 403


def test_worker_cannot_claim_a_hotline_source(client, worker, worker_grid):
    _c, lng, lat = worker_grid
    response = client.post("/api/v1/incidents", json=report(lng, lat, source="hotline_12345"), headers=worker)
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "source"


def test_cookie_sessions_need_the_csrf_header(app, client, worker_grid):
    _c, lng, lat = worker_grid
    client.post("/api/v1/auth/login", json={"username": "worker001", "password": "demo"})  # sets the cookie
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        refused = client.post("/api/v1/incidents", json=report(lng, lat))
        assert refused.status_code == 400 and refused.get_json()["param"] == "X-CSRFToken"
        page = client.get("/m/").get_data(as_text=True)
        token = page.split('name="csrf-token" content="')[1].split('"')[0]
        accepted = client.post("/api/v1/incidents", json=report(lng, lat), headers={"X-CSRFToken": token})
        assert accepted.status_code == 201
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_listing_is_bounded_and_filtered(client):
    headers = bearer(client, "district1")
    capped = client.get("/api/v1/incidents?limit=100000", headers=headers).get_json()
    assert capped["limit"] == 500 and len(capped["items"]) == 500
    closed = client.get("/api/v1/incidents?state=结案&limit=20", headers=headers).get_json()
    assert closed["items"] and all(i["state"] == "结案" for i in closed["items"])
    grid = closed["items"][0]["grid"]["code"]
    in_grid = client.get(f"/api/v1/incidents?grid={grid}&limit=500", headers=headers).get_json()
    assert in_grid["items"] and all(i["grid"]["code"] == grid for i in in_grid["items"])
    window = client.get("/api/v1/incidents?since=2026-06-01&until=2026-06-30&limit=500", headers=headers).get_json()
    assert window["items"] and all(i["reported_at"].startswith("2026-06") for i in window["items"])
    assert client.get("/api/v1/incidents?since=soon", headers=headers).status_code == 400
    assert client.get("/api/v1/incidents?bbox=1,2", headers=headers).status_code == 400


def test_scope_on_single_incidents(client, worker, worker_grid):
    _c, lng, lat = worker_grid
    created = client.post("/api/v1/incidents", json=report(lng, lat), headers=worker).get_json()
    assert client.get(f"/api/v1/incidents/{created['id']}", headers=bearer(client, "worker002")).status_code == 404
    assert client.get(f"/api/v1/incidents/{created['id']}", headers=bearer(client, "leader02")).status_code == 404
    assert client.get(f"/api/v1/incidents/{created['id']}", headers=bearer(client, "district1")).status_code == 200
    assert client.get("/api/v1/incidents/abc", headers=worker).status_code == 404


def test_reporter_data_is_masked_for_roles_that_do_not_handle_the_case(client, worker_grid):
    _c, lng, lat = worker_grid
    created = client.post("/api/v1/incidents", headers=bearer(client, "dispatcher1"),
                          json=report(lng, lat, source="resident", reporter_name="张三丰",
                                      reporter_phone="13812345678")).get_json()
    assert created["reporter"] == {"name": "张三丰", "phone": "13812345678", "masked": False}
    seen_by_analyst = client.get(f"/api/v1/incidents/{created['id']}", headers=bearer(client, "analyst1")).get_json()
    assert seen_by_analyst["reporter"] == {"name": "张**", "phone": "138****5678", "masked": True}
    listing = client.get("/api/v1/incidents?limit=1", headers=bearer(client, "dispatcher1")).get_data(as_text=True)
    assert "13812345678" not in listing


def test_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.0")
    assert {"/incidents", "/incidents/{incident_id}", "/attachments", "/auth/login"} <= set(doc["paths"])
    assert "Idempotency-Key" in json.dumps(doc["paths"]["/incidents"]["post"])


def test_idempotency_keys_belong_to_their_account(client, worker, worker_grid):
    _c, lng, lat = worker_grid
    key = {"Idempotency-Key": "shared-key-0001"}
    mine = client.post("/api/v1/incidents", json=report(lng, lat), headers={**worker, **key}).get_json()
    theirs = client.post("/api/v1/incidents", json=report(lng, lat),
                         headers={**bearer(client, "dispatcher1"), **key})
    assert theirs.status_code == 201 and theirs.get_json()["id"] != mine["id"]


def test_every_api_route_is_in_the_openapi_document(app, client):
    import re

    paths = set(client.get("/api/v1/openapi.json").get_json()["paths"])
    routes = {re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", r"{\1}", rule.rule[len("/api/v1"):])
              for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/v1/") and rule.rule != "/api/v1/openapi.json"}
    assert routes <= paths, sorted(routes - paths)
