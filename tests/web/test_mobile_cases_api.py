"""What the phone's cases page relies on, through HTTP: an action sent twice with the same
Idempotency-Key (a phone resending its queued action) is taken once; the page, its service worker
and its manifest are served as a phone installs them."""

import io
import json

from PIL import Image

from tests.conftest import JPEG, bearer, login, report, sql


def _photo(client, headers):
    return client.post("/api/v1/attachments", data={"file": (io.BytesIO(JPEG), "p.jpg")}, headers=headers,
                       content_type="multipart/form-data").get_json()["id"]


def _parked_car(client, headers, grid):
    _code, lng, lat = grid
    r = client.post("/api/v1/incidents", json=report(lng, lat, category="TC01", description="违停车辆挡住路口"),
                    headers=headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_an_action_resent_with_its_key_is_taken_once(client, connection, worker_grid):
    headers = bearer(client, "worker001")
    case = _parked_car(client, headers, worker_grid)
    body = {"action": "self_handle", "version": case["version"], "note": "已劝离车主", "photos": [_photo(client, headers)]}
    key = {**headers, "Idempotency-Key": "a-phone-0001-self-handle"}
    first = client.post(f"/api/v1/incidents/{case['id']}/actions", json=body, headers=key)
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["state"] == "结案"
    assert "Idempotent-Replayed" not in first.headers
    # the answer was lost on the way: the phone sends it again, with the version it had read
    again = client.post(f"/api/v1/incidents/{case['id']}/actions", json=body, headers=key)
    assert again.status_code == 200, again.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["state"] == "结案" and again.get_json()["version"] == first.get_json()["version"]
    events = sql(connection, "SELECT action FROM case_events WHERE incident_id = :i ORDER BY id", i=case["id"])
    assert [e.action for e in events] == ["report", "self_handle"]
    # without the key, the stale version is a conflict as before
    stale = client.post(f"/api/v1/incidents/{case['id']}/actions", json=body, headers=headers)
    assert stale.status_code == 409


def test_a_key_names_one_action_of_one_account(client, worker_grid):
    headers = bearer(client, "worker001")
    one, other = _parked_car(client, headers, worker_grid), _parked_car(client, headers, worker_grid)
    key = {**headers, "Idempotency-Key": "a-phone-0002-escalate"}
    body = {"action": "escalate", "note": "车主不在"}
    r = client.post(f"/api/v1/incidents/{one['id']}/actions", json={**body, "version": one["version"]}, headers=key)
    assert r.status_code == 200, r.get_json()
    reused = client.post(f"/api/v1/incidents/{other['id']}/actions", json={**body, "version": other["version"]},
                         headers=key)
    assert reused.status_code == 422
    assert "幂等键" in json.dumps(reused.get_json(), ensure_ascii=False)
    bad = client.post(f"/api/v1/incidents/{other['id']}/actions", json={**body, "version": other["version"]},
                      headers={**headers, "Idempotency-Key": "短"})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["errors"]} == {"Idempotency-Key"}


def test_the_phone_pages_are_installable(client):
    login(client, "worker001")
    page = client.get("/m/cases")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "案件与待办" in html and 'rel="manifest"' in html and "mobile_install.js" in html
    assert client.get("/m/cases/123456789").status_code == 200  # the same page, opened on one case
    assert "Cases and to-do" in client.get("/m/cases?lang=en").get_data(as_text=True)

    sw = client.get("/m/sw.js")
    assert sw.status_code == 200 and sw.mimetype == "text/javascript"
    assert sw.headers["Service-Worker-Allowed"] == "/m/"
    source = sw.get_data(as_text=True)
    precache = json.loads(source.split("const PRECACHE = ", 1)[1].split(";\n", 1)[0])
    for url in ("/m/", "/m/cases", "/m/patrol", "/static/js/mobile_cases.js", "/static/vendor/leaflet/1.9.4/leaflet.js"):
        assert url in precache
    assert any(u.startswith("/ogc/collections/grids/items") for u in precache)

    manifest = client.get("/m/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    m = manifest.get_json()
    assert m["short_name"] == "网格通" and m["start_url"] == "/m/cases" and m["display"] == "standalone"
    for icon in m["icons"]:
        image = Image.open(io.BytesIO(client.get(icon["src"]).data))
        assert image.format == "PNG" and f"{image.width}x{image.height}" == icon["sizes"]


def test_the_list_of_a_workers_grid_by_state_takes_the_whole_world_as_its_view(client, worker_grid):
    """The phone lists its grid's cases by state with no map: bbox is the world (it was a 500 at ±90°)."""
    headers = bearer(client, "worker001")
    r = client.get("/api/v1/map/list", query_string={"bbox": "-180,-90,180,90", "state": "待受理,待核查",
                                                       "grid": worker_grid[0], "limit": 5}, headers=headers)
    assert r.status_code == 200, r.get_json()
    assert {i["state"] for i in r.get_json()["items"]} <= {"待受理", "待核查"}
    assert {i["grid"]["code"] for i in r.get_json()["items"]} <= {worker_grid[0]}
