"""Open311 GeoReport v2: services, posting requests with an api_key, reading them back without
personal data, in JSON and XML; and the georeport client (PyPI) reading a live server."""

import hashlib
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

from tests.conftest import count
from workflow.clock import SHANGHAI

BASE = "/open311/v2"
PHONE = "13812345678"
EMAIL = "zhang.san@example.cn"
JUNE = {"start_date": "2026-06-01T00:00:00+08:00", "end_date": "2026-06-30T23:59:59+08:00"}


@pytest.fixture
def grid_point(connection):
    """worker001's grid: its code, name and a WGS84 point well inside it."""
    return connection.execute(text("""
        SELECT g.code, g.name, ST_X(ST_PointOnSurface(g.geom)), ST_Y(ST_PointOnSurface(g.geom))
          FROM accounts a JOIN grids g ON g.code = a.scope_code AND g.valid_to IS NULL
         WHERE a.username = 'worker001'""")).one()


def form(grid_point, **extra):
    _code, _name, lng, lat = grid_point
    return {"api_key": "demo", "service_code": "SR01", "lat": str(lat), "long": str(lng),
            "address_string": "振兴路 12 号", "description": "路边有暴露垃圾 Open311", **extra}


def post(client, data, fmt="json", **kwargs):
    return client.post(f"{BASE}/requests.{fmt}", data=data, **kwargs)


def assert_open311_errors(response, status, field=None):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    errors = response.get_json()
    assert isinstance(errors, list) and errors
    for e in errors:
        assert e["code"] == status
        zh, _, en = e["description"].partition(" / ")
        assert en and any("\u4e00" <= ch <= "\u9fff" for ch in zh), e["description"]
    if field:
        assert any(e["description"].startswith(f"{field}:") for e in errors), errors
    return errors


# ---------------------------------------------------------------- services


def test_services_are_the_categories(client, connection):
    response = client.get(f"{BASE}/services.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    services = response.get_json()
    assert len(services) == connection.execute(text("SELECT count(*) FROM categories")).scalar()
    by_code = {s["service_code"]: s for s in services}
    sr01 = by_code["SR01"]
    assert sr01["service_name"] == "暴露垃圾"
    assert sr01["group"] == "市容环境"
    assert sr01["description"] == "市容环境 · 暴露垃圾 · 镇环卫所 · 4 工作小时"
    assert sr01["metadata"] is False and sr01["type"] == "realtime"
    assert "暴露垃圾" in sr01["keywords"] and "镇环卫所" in sr01["keywords"]
    assert {s["type"] for s in services} == {"realtime"}
    assert {"service_code", "service_name", "description", "metadata", "type", "keywords",
            "group"} == set(sr01)


def test_services_xml_is_well_formed_and_complete(client):
    response = client.get(f"{BASE}/services.xml")
    assert response.status_code == 200 and response.mimetype == "text/xml"
    body = response.get_data(as_text=True)
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(response.data)
    assert root.tag == "services"
    services = root.findall("service")
    assert len(services) == len(client.get(f"{BASE}/services.json").get_json())
    sr01 = next(s for s in services if s.findtext("service_code") == "SR01")
    assert sr01.findtext("service_name") == "暴露垃圾"
    assert sr01.findtext("metadata") == "false" and sr01.findtext("group") == "市容环境"


def test_service_definition(client):
    assert client.get(f"{BASE}/services/SR01.json").get_json() == {"service_code": "SR01", "attributes": []}
    root = ET.fromstring(client.get(f"{BASE}/services/SR01.xml").data)
    assert root.tag == "service_definition" and root.findtext("service_code") == "SR01"
    assert root.find("attributes") is not None
    assert_open311_errors(client.get(f"{BASE}/services/NOPE.json"), 404, "service_code")


@pytest.mark.parametrize("path", ["/services.csv", "/services/SR01.html", "/requests.yaml",
                                  "/requests/1.txt", "/nothing.json", "/tokens/abc.json"])
def test_unknown_formats_and_resources_are_404(client, path):
    assert_open311_errors(client.get(BASE + path), 404)


# ---------------------------------------------------------------- posting


def test_post_creates_a_routed_incident(client, connection, grid_point):
    code, name, lng, lat = grid_point
    response = post(client, form(grid_point, last_name="张", first_name="三", phone=PHONE, email=EMAIL))
    assert response.status_code == 201, response.get_json()
    [answer] = response.get_json()
    assert set(answer) == {"service_request_id", "service_notice", "account_id"}
    assert answer["service_request_id"].isdigit() and answer["account_id"] is None
    assert "镇环卫所" in answer["service_notice"] and code in answer["service_notice"]
    assert response.headers["Location"].endswith(f"{BASE}/requests/{answer['service_request_id']}.json")

    row = connection.execute(text(
        "SELECT source, state, grid_code, reporter_id, reporter_name, reporter_phone, raw_crs, address "
        "FROM incidents WHERE id = :i"), {"i": int(answer["service_request_id"])}).one()
    assert row == ("open311", "待受理", code, None, "张三", PHONE, "wgs84", "振兴路 12 号")
    events = connection.execute(text("SELECT action, role, to_state FROM case_events WHERE incident_id = :i"),
                                {"i": int(answer["service_request_id"])}).all()
    assert events == [("report", "open311", "待受理")]

    [got] = client.get(f"{BASE}/requests/{answer['service_request_id']}.json").get_json()
    assert got["service_request_id"] == answer["service_request_id"]
    assert got["grid_code"] == code and got["grid_name"] == name
    assert got["agency_responsible"] == "镇环卫所"
    assert got["status"] == "open" and got["status_notes"] == "待受理"
    assert got["service_code"] == "SR01" and got["service_name"] == "暴露垃圾"
    assert got["description"] == "路边有暴露垃圾 Open311" and got["address"] == "振兴路 12 号"
    assert got["lat"] == pytest.approx(lat) and got["long"] == pytest.approx(lng)
    assert got["media_url"] is None and got["service_notice"]
    for key in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert got[key].endswith("+08:00"), key
        datetime.fromisoformat(got[key])
    assert got["expected_datetime"] > got["requested_datetime"]  # 4 working hours for exposed garbage


def test_post_accepts_json_and_answers_xml(client, connection, grid_point):
    body = form(grid_point)
    body["lat"], body["long"] = float(body["lat"]), float(body["long"])
    response = client.post(f"{BASE}/requests.xml", json=body)
    assert response.status_code == 201 and response.mimetype == "text/xml"
    root = ET.fromstring(response.data)
    assert root.tag == "service_requests"
    request_id = root.find("request").findtext("service_request_id")
    assert request_id.isdigit() and root.find("request").find("account_id").text is None
    assert connection.execute(text("SELECT source FROM incidents WHERE id = :i"), {"i": int(request_id)}).scalar() \
        == "open311"


def test_idempotency_key_is_per_client(client, connection, grid_point):
    connection.execute(text("INSERT INTO api_clients (name, key_sha256) VALUES ('第二个客户端', :h)"),
                       {"h": hashlib.sha256(b"second-key").hexdigest()})
    headers = {"Idempotency-Key": "o311-test-0001"}
    first = post(client, form(grid_point), headers=headers)
    before = count(connection)
    again = post(client, form(grid_point), headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()[0]["service_request_id"] == first.get_json()[0]["service_request_id"]
    assert count(connection) == before
    other = post(client, form(grid_point, api_key="second-key"), headers=headers)
    assert other.status_code == 201
    assert other.get_json()[0]["service_request_id"] != first.get_json()[0]["service_request_id"]
    assert_open311_errors(post(client, form(grid_point), headers={"Idempotency-Key": "x"}), 400,
                          "Idempotency-Key")
    assert_open311_errors(post(client, form(grid_point), headers={"Idempotency-Key": "k" * 128}), 400,
                          "Idempotency-Key")


@pytest.mark.parametrize("api_key", [None, "", "wrong", "retired"])
def test_post_without_a_valid_key_is_403_and_saves_nothing(client, connection, grid_point, api_key):
    connection.execute(text("INSERT INTO api_clients (name, key_sha256, active) VALUES ('停用', :h, false)"),
                       {"h": hashlib.sha256(b"retired").hexdigest()})
    before, events = count(connection), count(connection, "case_events")
    data = form(grid_point, api_key=api_key)
    if api_key is None:
        del data["api_key"]
    assert_open311_errors(post(client, data), 403, "api_key")
    # even with everything else wrong the key is checked first
    assert_open311_errors(post(client, {**data, "lat": "north"}), 403, "api_key")
    assert count(connection) == before and count(connection, "case_events") == events


def test_403_in_xml(client, grid_point):
    response = post(client, form(grid_point, api_key="wrong"), fmt="xml")
    assert response.status_code == 403 and response.mimetype == "text/xml"
    root = ET.fromstring(response.data)
    assert root.tag == "errors" and root.find("error").findtext("code") == "403"
    assert "api_key" in root.find("error").findtext("description")


BAD = [
    ({"lat": "north"}, "lat"),
    ({"long": "east"}, "long"),
    ({"lat": None}, "lat"),
    ({"long": ""}, "long"),
    ({"lat": "nan"}, "lat"),
    ({"long": "200"}, "long"),
    ({"lat": "-95"}, "lat"),
    ({"lat": "48.8566", "long": "2.3522"}, "lat/long"),  # Paris: outside China
    ({"lat": "-33.87", "long": "151.21"}, "lat/long"),  # Sydney
    ({"service_code": "NOPE"}, "service_code"),
    ({"service_code": None}, "service_code"),
    ({"service_code": "X" * 40}, "service_code"),
    ({"description": "长" * 4001}, "description"),
    ({"address_string": "路" * 201}, "address_string"),
    ({"phone": "<script>"}, "phone"),
    ({"last_name": "欧阳" * 20, "first_name": "名" * 20}, "last_name/first_name"),
]


@pytest.mark.parametrize(("change", "field"), BAD)
def test_bad_posts_are_400_naming_the_field_and_save_nothing(client, connection, grid_point, change, field):
    before, events = count(connection), count(connection, "case_events")
    data = {k: v for k, v in {**form(grid_point), **change}.items() if v is not None}
    assert_open311_errors(post(client, data), 400, field)
    assert count(connection) == before and count(connection, "case_events") == events


def test_every_reason_is_given_at_once(client, grid_point):
    errors = assert_open311_errors(post(client, {"api_key": "demo", "lat": "x", "phone": "?",
                                                 "description": "d" * 5000}), 400)
    fields = {e["description"].split(":")[0] for e in errors}
    assert {"service_code", "lat", "long", "phone", "description"} <= fields


@pytest.mark.parametrize(("data", "content_type"), [("{not json", "application/json"),
                                                    ("[1, 2]", "application/json")])
def test_malformed_json_is_400(client, connection, data, content_type):
    before = count(connection)
    assert_open311_errors(client.post(f"{BASE}/requests.json", data=data, content_type=content_type), 400)
    assert count(connection) == before


def test_wrong_methods(client):
    assert client.delete(f"{BASE}/requests.json").status_code == 405
    assert client.post(f"{BASE}/services.json").status_code == 405
    assert client.get(f"{BASE}/requests.json", query_string=JUNE).status_code == 200


# ---------------------------------------------------------------- reading


def test_get_requests_never_shows_personal_data(client, grid_point):
    created = post(client, form(grid_point, last_name="欧阳", first_name="修", phone=PHONE, email=EMAIL))
    request_id = created.get_json()[0]["service_request_id"]
    pages = [
        client.get(f"{BASE}/requests.json"),
        client.get(f"{BASE}/requests.xml"),
        client.get(f"{BASE}/requests/{request_id}.json"),
        client.get(f"{BASE}/requests/{request_id}.xml"),
        client.get(f"{BASE}/requests.json?service_request_id={request_id}"),
    ]
    for page in pages:
        assert page.status_code == 200
        body = page.get_data(as_text=True)
        assert request_id in body
        for secret in ("欧阳修", "欧阳", PHONE, EMAIL, "reporter", "first_name", "phone", "email"):
            assert secret not in body, (page.request.url, secret)


def test_xml_escapes_what_reporters_type(client, grid_point):
    nasty = 'A <b>&amp; "quoted" & \'single\' ]]> \x07bell'
    request_id = post(client, form(grid_point, description=nasty)).get_json()[0]["service_request_id"]
    root = ET.fromstring(client.get(f"{BASE}/requests/{request_id}.xml").data)
    assert root.tag == "service_requests"
    [item] = root.findall("request")
    assert item.findtext("description") == nasty.replace("\x07", "")
    assert item.findtext("grid_code") and item.findtext("lat")
    assert item.find("media_url") is not None and item.find("media_url").text is None
    listing = ET.fromstring(client.get(f"{BASE}/requests.xml").data)
    assert listing.tag == "service_requests" and listing.findall("request")


def test_default_window_is_the_last_90_days(client, grid_point):
    request_id = post(client, form(grid_point)).get_json()[0]["service_request_id"]
    items = client.get(f"{BASE}/requests.json").get_json()
    assert items[0]["service_request_id"] == request_id  # newest first
    since = datetime.now(SHANGHAI) - timedelta(days=90, minutes=5)
    assert all(datetime.fromisoformat(i["requested_datetime"]) >= since for i in items)
    stamps = [i["requested_datetime"] for i in items]
    assert stamps == sorted(stamps, reverse=True)


def test_filters_by_status_code_and_dates(client):
    june = client.get(f"{BASE}/requests.json", query_string=JUNE).get_json()
    assert june and all(i["requested_datetime"].startswith("2026-06") for i in june)
    assert {i["status"] for i in june} == {"open", "closed"}
    closed = client.get(f"{BASE}/requests.json", query_string={**JUNE, "status": "closed"}).get_json()
    assert closed and all(i["status"] == "closed" and i["status_notes"] in ("结案", "作废") for i in closed)
    opened = client.get(f"{BASE}/requests.json", query_string={**JUNE, "status": "open"}).get_json()
    assert opened and all(i["status"] == "open" and i["status_notes"] not in ("结案", "作废") for i in opened)
    assert len(closed) + len(opened) == len(june)
    both = client.get(f"{BASE}/requests.json", query_string={**JUNE, "status": "open,closed"}).get_json()
    assert len(both) == len(june)
    codes = client.get(f"{BASE}/requests.json", query_string={**JUNE, "service_code": "SR01,TC01"}).get_json()
    assert codes and {i["service_code"] for i in codes} <= {"SR01", "TC01"}
    assert len(codes) == sum(i["service_code"] in ("SR01", "TC01") for i in june)
    by_date = client.get(f"{BASE}/requests.json",
                         query_string={"start_date": "2026-06-10", "end_date": "2026-06-12"}).get_json()
    assert by_date and all("2026-06-10" <= i["requested_datetime"][:10] <= "2026-06-12" for i in by_date)
    utc = client.get(f"{BASE}/requests.json", query_string={"start_date": "2026-06-09T16:00:00Z",
                                                            "end_date": "2026-06-12T15:59:59.999999Z"}).get_json()
    assert [i["service_request_id"] for i in utc] == [i["service_request_id"] for i in by_date]
    # a start alone opens a 90-day window
    alone = client.get(f"{BASE}/requests.json", query_string={"start_date": "2026-06-01"}).get_json()
    assert alone and all("2026-06-01" <= i["requested_datetime"][:10] <= "2026-08-30" for i in alone)
    # ids override every other filter
    ids = [june[0]["service_request_id"], june[-1]["service_request_id"]]
    picked = client.get(f"{BASE}/requests.json", query_string={"service_request_id": ",".join(ids),
                                                               "status": "open", "service_code": "ZZ99"})
    assert sorted(i["service_request_id"] for i in picked.get_json()) == sorted(ids)
    every = {i["service_request_id"]: i for i in june}
    assert every[ids[0]]["agency_responsible"]
    assert all("grid_code" in i and "grid_name" in i for i in june)


@pytest.mark.parametrize(("query", "field"), [
    ({"start_date": "2026-01-01", "end_date": "2026-06-30"}, "start_date/end_date"),
    ({"start_date": "2026-06-30", "end_date": "2026-06-01"}, "start_date"),
    ({"start_date": "soon"}, "start_date"),
    ({"end_date": "2026-13-01"}, "end_date"),
    ({"status": "pending"}, "status"),
    ({"limit": "0"}, "limit"),
    ({"limit": "many"}, "limit"),
    ({"service_request_id": "12,abc"}, "service_request_id"),
])
def test_bad_filters_are_400(client, query, field):
    assert_open311_errors(client.get(f"{BASE}/requests.json", query_string=query), 400, field)


def test_at_most_1000_requests(client, connection):
    connection.execute(text("""
        INSERT INTO incidents (id, case_no, geom, raw_lng, raw_lat, source, category_id, description,
                               state, reported_at, deadline)
        SELECT nextval('incidents_id_seq'), 'O311CAP' || n,
               ST_SetSRID(ST_MakePoint(117.74, 39.31), 4326), 117.74, 39.31, 'open311',
               (SELECT id FROM categories WHERE code = 'SR01'), '上限测试', '待受理',
               TIMESTAMPTZ '2026-07-01 08:00+08' + n * INTERVAL '30 seconds',
               TIMESTAMPTZ '2026-07-02 08:00+08'
          FROM generate_series(1, 1100) AS n"""))
    window = {"start_date": "2026-07-01", "end_date": "2026-07-01"}
    items = client.get(f"{BASE}/requests.json", query_string=window).get_json()
    assert len(items) == 1000
    stamps = [i["requested_datetime"] for i in items]
    assert stamps == sorted(stamps, reverse=True) and stamps[0] > stamps[-1]
    assert len(client.get(f"{BASE}/requests.json", query_string={**window, "limit": "5000"}).get_json()) == 1000
    assert len(client.get(f"{BASE}/requests.json", query_string={**window, "limit": "7"}).get_json()) == 7
    root = ET.fromstring(client.get(f"{BASE}/requests.xml", query_string=window).data)
    assert len(root.findall("request")) == 1000


@pytest.mark.parametrize("request_id", ["999999999999", "abc", "1e3", "-1", "9" * 30])
def test_unknown_or_malformed_request_is_404(client, request_id):
    assert_open311_errors(client.get(f"{BASE}/requests/{request_id}.json"), 404, "service_request_id")


def test_get_is_public_and_needs_no_key(client):
    assert client.get(f"{BASE}/requests.json", query_string=JUNE).status_code == 200
    assert client.get(f"{BASE}/services.json").status_code == 200


# ---------------------------------------------------------------- real clients over HTTP


@pytest.fixture
def live_in_transaction(app, connection, live_server):
    """The live server, its requests sharing this test's rolled-back transaction (one request at a
    time: the test waits for each answer), so that what it posts is not committed."""
    original = app.extensions["wangge.sessionmaker"]
    app.extensions["wangge.sessionmaker"] = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield live_server
    finally:
        app.extensions["wangge.sessionmaker"] = original


def test_georeport_reads_services(live_server):
    from georeport import GeoReport

    for fmt in ("json", "xml"):
        api = GeoReport(f"{live_server}{BASE}", output_format=fmt)
        services = api.get_service_list()
        by_code = {s["service_code"]: s for s in services}
        assert by_code["SR01"]["service_name"] == "暴露垃圾"
        assert by_code["TC01"]["group"] == "停车秩序"
        definition = api.get_service_definition("SR01")
        assert definition["service_code"] == "SR01"


def test_georeport_reads_requests(live_server):
    from georeport import GeoReport

    api = GeoReport(f"{live_server}{BASE}")
    june = api.get_service_requests(start_date="2026-06-01T00:00:00+08:00",
                                    end_date="2026-06-30T23:59:59+08:00")
    assert june and all(r["requested_datetime"].startswith("2026-06") for r in june)
    closed = api.get_service_requests(start_date="2026-06-01T00:00:00+08:00",
                                      end_date="2026-06-30T23:59:59+08:00", status="closed", service_code="SR01")
    assert closed and all(r["status"] == "closed" and r["service_code"] == "SR01" for r in closed)
    one = api.get_service_request(june[0]["service_request_id"])
    assert one["service_request_id"] == june[0]["service_request_id"]
    assert one["agency_responsible"] and one["lat"] and one["long"]

    xml_api = GeoReport(f"{live_server}{BASE}", output_format="xml")
    xml_june = xml_api.get_service_requests(start_date="2026-06-01", end_date="2026-06-30")
    assert {r["service_request_id"] for r in xml_june} == {r["service_request_id"] for r in june}
    xml_one = xml_api.get_service_request(june[0]["service_request_id"])
    assert xml_one["service_code"] == june[0]["service_code"]
    with pytest.raises(requests.HTTPError) as missing:
        api.get_service_request("999999999999")
    assert missing.value.response.status_code == 404
    with pytest.raises(requests.HTTPError) as too_long:
        api.get_service_requests(start_date="2026-01-01", end_date="2026-06-30")
    assert too_long.value.response.status_code == 400


def test_refused_posts_over_http_save_nothing(live_server, database_url, grid_point):
    url = f"{live_server}{BASE}/requests.json"
    data = form(grid_point)
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            before = count(conn)
        no_key = requests.post(url, data={k: v for k, v in data.items() if k != "api_key"}, timeout=10)
        assert no_key.status_code == 403 and no_key.json()[0]["code"] == 403
        bad_lat = requests.post(url, data={**data, "lat": "north"}, timeout=10)
        assert bad_lat.status_code == 400 and bad_lat.json()[0]["description"].startswith("lat:")
        with engine.connect() as conn:
            assert count(conn) == before
    finally:
        engine.dispose()


def test_form_post_over_http_then_georeport_reads_it(live_in_transaction, connection, grid_point):
    from georeport import GeoReport

    code, name, _lng, _lat = grid_point
    created = requests.post(f"{live_in_transaction}{BASE}/requests.json",
                            data=form(grid_point, last_name="张", first_name="三", phone=PHONE), timeout=10)
    assert created.status_code == 201, created.text
    assert created.headers["Content-Type"].startswith("application/json")
    request_id = created.json()[0]["service_request_id"]
    one = GeoReport(f"{live_in_transaction}{BASE}").get_service_request(request_id)
    assert one["grid_code"] == code and one["grid_name"] == name
    assert one["agency_responsible"] == "镇环卫所" and one["status"] == "open"
    assert "张三" not in str(one) and PHONE not in str(one)
    assert connection.execute(text("SELECT reporter_name FROM incidents WHERE id = :i"),
                              {"i": int(request_id)}).scalar() == "张三"



def test_social_governance_cases_stay_out_of_the_public_feed(client, grid_point):
    posted = post(client, form(grid_point, service_code="MD01", description="邻里纠纷: 张家与李家"))
    assert posted.status_code in (200, 201)
    request_id = posted.get_json()[0]["service_request_id"]
    assert client.get(f"{BASE}/requests/{request_id}.json").status_code == 404
    listed = client.get(f"{BASE}/requests.json?service_code=MD01").get_json()
    assert listed == []
    everything = client.get(f"{BASE}/requests.json").get_json()
    assert "邻里纠纷" not in {r["service_name"] for r in everything}
