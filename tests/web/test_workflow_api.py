"""Every path of seeds 1-1 and 2-1 through HTTP: village handling, escalation, dispatch,
department handling, verification with rework, the parking paths; stale versions and races."""

import io
import threading
from datetime import datetime

import pytest
import requests
from sqlalchemy import text

from tests.conftest import JPEG, bearer, report
from workflow.clock import DEFAULT_CALENDAR


@pytest.fixture
def grid(worker_grid):
    return worker_grid


@pytest.fixture
def photo(client):
    headers = bearer(client, "worker001")
    return client.post("/api/v1/attachments", data={"file": (io.BytesIO(JPEG), "p.jpg")}, headers=headers,
                       content_type="multipart/form-data").get_json()["id"]


class Desk:
    """A few people at their desks, each with a token."""

    def __init__(self, client):
        self.client = client
        self.tokens = {}

    def headers(self, who):
        if who not in self.tokens:
            self.tokens[who] = bearer(self.client, who)
        return self.tokens[who]

    def report(self, who, lng, lat, category="SR02"):
        r = self.client.post("/api/v1/incidents", json=report(lng, lat, category=category), headers=self.headers(who))
        assert r.status_code == 201, r.get_json()
        return r.get_json()["id"]

    def get(self, who, incident_id):
        return self.client.get(f"/api/v1/incidents/{incident_id}", headers=self.headers(who))

    def act(self, who, incident_id, action, expect=200, **fields):
        version = self.get(who, incident_id).get_json()["version"]
        r = self.client.post(f"/api/v1/incidents/{incident_id}/actions", headers=self.headers(who),
                             json={"action": action, "version": version, **fields})
        assert r.status_code == expect, (action, r.get_json())
        return r.get_json()


@pytest.fixture
def desk(client):
    return Desk(client)


def test_village_handles_within_its_authority(desk, grid, photo):
    _code, lng, lat = grid
    case = desk.report("worker001", lng, lat)
    assert [a["name"] for a in desk.get("leader01", case).get_json()["actions"]] == ["escalate", "village_handle"]
    desk.act("leader01", case, "village_handle")
    desk.act("leader01", case, "village_done", note="已组织清扫")
    done = desk.act("worker001", case, "verify_pass", photos=[photo])
    assert done["state"] == "结案" and done["closed_at"]
    assert [e["action"] for e in done["timeline"]] == ["report", "village_handle", "village_done", "verify_pass"]
    assert done["timeline"][2]["note"] == "已组织清扫" and done["timeline"][3]["photos"] == [photo]


def test_escalation_dispatch_rework_and_return_visit(desk, grid, photo, connection):
    _code, lng, lat = grid
    case = desk.report("worker001", lng, lat)
    desk.act("worker001", case, "escalate", note="超出村级权限")
    desk.act("dispatcher1", case, "file")
    dispatched = desk.act("dispatcher1", case, "dispatch", department="huanwei")
    assert dispatched["state"] == "立案派遣" and dispatched["department"]["code"] == "huanwei"
    # the deadline clock starts at dispatch: 2 working hours for 道路不洁 (SR02)
    sent = datetime.fromisoformat(dispatched["dispatched_at"])
    assert datetime.fromisoformat(dispatched["deadline"]) == DEFAULT_CALENDAR.add(sent, 2, "work_hours")
    assert desk.get("dept_huanwei", case).status_code == 200
    assert desk.get("dept_jiaojing", case).status_code == 404
    desk.act("dept_huanwei", case, "accept")
    desk.act("dept_huanwei", case, "feedback", note="已清理", photos=[photo])
    desk.act("worker001", case, "verify_fail", note="仍有垃圾")
    desk.act("dept_huanwei", case, "feedback", note="再次清理", photos=[photo])
    closed = desk.act("worker001", case, "verify_pass", photos=[photo])
    assert closed["state"] == "结案" and closed["rework_count"] == 1
    visited = desk.act("dispatcher1", case, "return_visit", satisfaction=5, note="居民满意")
    assert visited["satisfaction"] == 5
    states = [(e["from_state"], e["to_state"]) for e in visited["timeline"][1:]]
    assert states[:3] == [("待受理", "待受理"), ("待受理", "已立案"), ("已立案", "立案派遣")]
    events = connection.execute(text("SELECT count(*) FROM case_events WHERE incident_id = :i"), {"i": case}).scalar()
    assert events == len(visited["timeline"]) == 10


def test_parking_persuaded_on_the_spot(desk, grid, photo):
    _code, lng, lat = grid
    case = desk.report("worker001", lng, lat, category="TC01")
    refused = desk.act("worker001", case, "self_handle", expect=422, note="劝导后驶离")
    assert refused["errors"][0]["field"] == "photos"
    closed = desk.act("worker001", case, "self_handle", note="劝导后驶离", photos=[photo])
    assert closed["state"] == "结案" and closed["actions"] == []


def test_parking_long_term_goes_to_the_traffic_police(desk, grid, photo):
    _code, lng, lat = grid
    case = desk.report("worker001", lng, lat, category="TC02")
    assert "self_handle" not in [a["name"] for a in desk.get("worker001", case).get_json()["actions"]]
    desk.act("worker001", case, "escalate", note="车辆长期占道")
    desk.act("dispatcher2", case, "file")
    desk.act("dispatcher2", case, "dispatch", department="jiaojing")
    desk.act("dept_jiaojing", case, "accept")
    desk.act("dept_jiaojing", case, "feedback", note="已拖移", photos=[photo])
    assert desk.act("worker001", case, "verify_pass", photos=[photo])["state"] == "结案"


def test_misrouted_case_returned_and_redispatched(desk, grid):
    _code, lng, lat = grid
    case = desk.report("worker001", lng, lat)
    desk.act("worker001", case, "escalate", note="上报")
    desk.act("dispatcher1", case, "file")
    desk.act("dispatcher1", case, "dispatch", department="jiaojing")
    returned = desk.act("dept_jiaojing", case, "return", note="不属于交警职责")
    assert returned == {"id": case, "state": "已立案", "version": 5, "visible": False}  # no longer theirs
    assert desk.get("dept_jiaojing", case).status_code == 404
    back = desk.get("dispatcher1", case).get_json()
    assert back["return_count"] == 1 and back["department"] is None
    desk.act("dispatcher1", case, "dispatch", department="huanwei")


def test_extension_moves_the_deadline(desk, grid):
    _code, lng, lat = grid
    case = desk.report("worker001", lng, lat)
    desk.act("worker001", case, "escalate", note="上报")
    desk.act("dispatcher1", case, "file")
    desk.act("dispatcher1", case, "dispatch", department="huanwei")
    desk.act("dept_huanwei", case, "accept")
    asked = desk.act("dept_huanwei", case, "request_extension", note="需协调车辆", days=3)
    assert asked["extension_pending"]
    approved = desk.act("dispatcher1", case, "approve_extension")
    assert not approved["extension_pending"] and approved["deadline"] > asked["deadline"]


@pytest.mark.parametrize(("who", "action", "status"), [
    ("dept_huanwei", "file", 404),  # not dispatched to them: not even visible
    ("worker001", "file", 403),
    ("analyst1", "void", 403),
    ("dispatcher1", "file", 422),  # the village holds it
    ("worker001", "verify_pass", 422),
    ("leader02", "village_handle", 404),  # another village
])
def test_refusals_by_role_scope_and_state(desk, grid, who, action, status):
    _code, lng, lat = grid
    case = desk.report("worker001", lng, lat)
    if status == 404:
        r = desk.client.post(f"/api/v1/incidents/{case}/actions", headers=desk.headers(who),
                             json={"action": action, "version": 1})
        assert r.status_code == 404
        return
    refused = desk.act(who, case, action, expect=status)
    assert refused["errors"][0]["field"] == "action" and refused["message_zh"]


def test_stale_version_gets_409_with_the_current_case(desk, grid):
    _code, lng, lat = grid
    case = desk.report("worker001", lng, lat)
    desk.act("leader01", case, "village_handle")
    stale = desk.client.post(f"/api/v1/incidents/{case}/actions", headers=desk.headers("leader01"),
                             json={"action": "escalate", "version": 1, "note": "x"})
    assert stale.status_code == 409
    assert stale.get_json()["current"]["state"] == "处理中" and stale.get_json()["current"]["version"] == 2


def test_bad_action_bodies(desk, grid):
    _code, lng, lat = grid
    case = desk.report("worker001", lng, lat)
    url = f"/api/v1/incidents/{case}/actions"
    h = desk.headers("dispatcher1")
    assert desk.client.post(url, headers=h, json={"version": 1}).status_code == 400
    assert desk.client.post(url, headers=h, json={"action": "void"}).status_code == 422
    missing_note = desk.client.post(url, headers=h, json={"action": "void", "version": 1})
    assert missing_note.status_code == 422 and missing_note.get_json()["errors"][0]["field"] == "note"
    assert desk.client.post("/api/v1/incidents/abc/actions", headers=h, json={"action": "void"}).status_code == 404


def test_two_people_acting_at_once_exactly_one_wins(live_server, database_url):
    from sqlalchemy import create_engine

    def token(who):
        return {"Authorization": "Bearer " + requests.post(f"{live_server}/api/v1/auth/login", timeout=10,
                json={"username": who, "password": "demo"}).json()["token"]}

    engine = create_engine(database_url)
    with engine.connect() as conn:
        lng, lat = conn.execute(text("""SELECT ST_X(ST_PointOnSurface(g.geom)), ST_Y(ST_PointOnSurface(g.geom))
            FROM accounts a JOIN grids g ON g.code = a.scope_code WHERE a.username = 'worker004'""")).one()
    case = requests.post(f"{live_server}/api/v1/incidents", json=report(lng, lat), headers=token("worker004"),
                         timeout=10).json()["id"]
    heads = [token("dispatcher1"), token("dispatcher2")]
    requests.post(f"{live_server}/api/v1/incidents/{case}/actions", headers=token("worker004"), timeout=10,
                  json={"action": "escalate", "version": 1, "note": "上报"}).raise_for_status()
    results = []
    barrier = threading.Barrier(2)

    def file(h):
        barrier.wait()
        results.append(requests.post(f"{live_server}/api/v1/incidents/{case}/actions", headers=h, timeout=10,
                                     json={"action": "file", "version": 2}).status_code)

    threads = [threading.Thread(target=file, args=(h,)) for h in heads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 409]
    with engine.connect() as conn:
        filed = conn.execute(text("SELECT count(*) FROM case_events WHERE incident_id = :i AND action = 'file'"),
                             {"i": case}).scalar()
    engine.dispose()
    assert filed == 1
