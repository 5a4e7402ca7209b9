"""The town is data: its record (table towns) names the pages, boards, posters and receipts, sets
the case-number prefix and the map's first view; a database without it still renders every page."""

import json
import re
import secrets

import pytest
from sqlalchemy import create_engine, text

from db import demo_town, migrate
from tests.web.test_boards import GRID_SQL, form, pdf_text
from webmap.boards import limiter
from webmap.services.town import NO_TOWN

OTHER = {"name": "柳河镇", "name_en": "Liuhe Town", "center_name": "柳河镇综合治理中心",
         "center_name_en": "Liuhe Town Governance Center", "supervision_office": "柳河镇纪委",
         "supervision_phone": "0431-5550123", "case_prefix": "LHZ", "map_lat": 42.28, "map_lng": 125.74,
         "map_zoom": 13}


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    limiter.reset()
    yield
    limiter.reset()


@pytest.fixture
def other_town(connection):
    """The same database, its town record rewritten (rolled back after the test)."""
    connection.execute(text("""
        UPDATE towns SET name = :name, name_en = :name_en, center_name = :center_name,
               center_name_en = :center_name_en, supervision_office = :supervision_office,
               supervision_phone = :supervision_phone, case_prefix = :case_prefix,
               map_lat = :map_lat, map_lng = :map_lng, map_zoom = :map_zoom"""), OTHER)
    return OTHER


@pytest.fixture
def grid(connection):
    return connection.execute(text(GRID_SQL.format(where="") + " LIMIT 1")).one()


def map_view(html: str) -> dict:
    return json.loads(re.search(r"<body[^>]*data-map-view='([^']+)'", html).group(1))


def case_no(html: str) -> str:
    return re.search(r'id="case-no" class="code">([A-Z]+\d+)<', html).group(1)


def test_the_demo_towns_record_is_what_the_pages_show(client, connection):
    html = client.get("/auth/login").get_data(as_text=True)
    assert demo_town.TOWN_RECORD["center_name"] in html
    assert map_view(html) == {"center": [demo_town.CENTER_LAT, demo_town.CENTER_LON], "zoom": demo_town.MAP_ZOOM}
    english = client.get("/auth/login?lang=en").get_data(as_text=True)
    assert demo_town.TOWN_RECORD["center_name_en"] in english


def test_another_towns_record_renames_every_page(client, connection, other_town, grid):
    login = client.get("/auth/login").get_data(as_text=True)
    assert other_town["center_name"] in login and demo_town.TOWN_RECORD["center_name"] not in login
    assert map_view(login) == {"center": [42.28, 125.74], "zoom": 13}

    board = client.get(f"/grids/{grid.code}").get_data(as_text=True)
    assert other_town["supervision_office"] in board and other_town["supervision_phone"] in board
    assert 'href="tel:04315550123"' in board
    assert demo_town.SUPERVISION_PHONE not in board and demo_town.SUPERVISION_OFFICE not in board

    shown = pdf_text(client.get(f"/grids/{grid.code}/poster.pdf").data).replace(" ", "")
    assert other_town["center_name"] in shown and other_town["supervision_office"] in shown
    assert demo_town.TOWN_RECORD["center_name"] not in shown

    # a report outside every grid: the town centre's queue, named on the receipt; the case number
    # carries the town's prefix
    response = client.post(f"/grids/{grid.code}/report", data=form(lng="117.0", lat="39.0"))
    assert response.status_code == 201
    receipt = response.get_data(as_text=True)
    assert other_town["center_name"] in receipt and other_town["supervision_phone"] in receipt
    assert case_no(receipt).startswith("LHZ")

    # in English (the choice is remembered in a cookie): the centre's English name
    assert other_town["center_name_en"] in client.get("/auth/login?lang=en").get_data(as_text=True)
    shown = pdf_text(client.get(f"/grids/{grid.code}/poster.pdf").data)
    assert f"Grid-based service management · {other_town['center_name_en']}" in shown


def test_the_intake_api_numbers_cases_with_the_towns_prefix(client, connection, other_town, grid):
    token = client.post("/api/v1/auth/login", json={"username": "worker001", "password": "demo"}).get_json()["token"]
    response = client.post("/api/v1/incidents", headers={"Authorization": f"Bearer {token}"}, json={
        "category": "SR01", "description": "路边有暴露垃圾", "address": "振兴路 12 号",
        "location": {"lng": grid.lng, "lat": grid.lat, "crs": "wgs84"}})
    assert response.status_code == 201, response.get_json()
    assert re.fullmatch(r"LHZ\d{8}\d{7}", response.get_json()["case_no"])


def test_without_a_town_record_pages_render_with_neutral_defaults(client, connection, grid):
    connection.execute(text("DELETE FROM towns"))
    login = client.get("/auth/login")
    assert login.status_code == 200
    html = login.get_data(as_text=True)
    assert NO_TOWN.center_name in html and demo_town.TOWN_RECORD["center_name"] not in html
    assert map_view(html) == NO_TOWN.map_view
    assert client.get(f"/grids/{grid.code}").status_code == 200
    assert client.get(f"/grids/{grid.code}/poster.pdf").status_code == 200
    response = client.post(f"/grids/{grid.code}/report", data={**form(), "form_key": secrets.token_urlsafe(24)})
    assert response.status_code == 201
    assert case_no(response.get_data(as_text=True)).startswith(NO_TOWN.case_prefix)


def test_a_freshly_migrated_empty_database_serves_the_login_page(fresh_database):
    url = fresh_database("empty_town")
    migrate.upgrade(url)
    from webmap import create_app

    app = create_app({"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "test"})
    try:
        response = app.test_client().get("/auth/login")
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert NO_TOWN.center_name in html and map_view(html) == NO_TOWN.map_view
    finally:
        app.extensions["wangge.engine"].dispose()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT wangge_case_prefix()")).scalar() == NO_TOWN.case_prefix
    finally:
        engine.dispose()
