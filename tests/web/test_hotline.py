"""12345 hotline orders (seed 4-1) through HTTP and the command line: import from the platform,
the whole path to the district's close, returns and re-dispatch, refusals by role and state,
stale versions, the time limits of decree No. 39, masking of the petitioner, linked incidents."""

import io
import json
import os
import subprocess
import sys
import threading
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from tests.conftest import ROOT, bearer, count
from webmap.services import hotline as service
from workflow.clock import SHANGHAI

WANGGE = str(Path(sys.executable).parent / "wangge")
URL = "/api/v1/hotline/orders"
NAME, PHONE = "张三丰", "13812345678"


def now():
    return datetime.now(SHANGHAI)


def order(no="TJ12345-2026112800123", minutes_ago=5, **extra):
    body = {"order_no": no, "channel": "phone", "petitioner_name": NAME, "petitioner_phone": PHONE,
            "content": "村口路灯不亮已一周, 夜间出行不便", "address": "杨家泊村振兴路 3 号", "urgency": "normal",
            "dispatched_at": (now() - timedelta(minutes=minutes_ago)).isoformat()}
    return {**body, **extra}


class Desk:
    """The people of seed 4-1 at their desks, each with a token."""

    def __init__(self, client):
        self.client = client
        self.tokens = {}

    def headers(self, who):
        if who not in self.tokens:
            self.tokens[who] = bearer(self.client, who)
        return self.tokens[who]

    def post(self, body, who="dispatcher1", expect=201):
        r = self.client.post(URL, json=body, headers=self.headers(who))
        assert r.status_code == expect, r.get_json()
        return r.get_json()

    def new(self, who="dispatcher1", **fields):
        return self.post(order(**fields), who)["id"]

    def get(self, who, order_id):
        return self.client.get(f"{URL}/{order_id}", headers=self.headers(who))

    def act(self, who, order_id, action, expect=200, **fields):
        version = self.get("dispatcher1", order_id).get_json()["version"]
        r = self.client.post(f"{URL}/{order_id}/actions", headers=self.headers(who),
                             json={"action": action, "version": version, **fields})
        assert r.status_code == expect, (action, who, r.get_json())
        return r.get_json()


PATH = [  # seed 4-1, in order: (action, who, fields, state after)
    ("sign", "dispatcher1", {}, "已签收"),
    ("instruct", "townleader1", {"text": "请社会事务办核实并答复"}, "已批示"),
    ("assign", "dispatcher1", {"department": "shehui"}, "办理中"),
    ("draft_reply", "dept_shehui", {"text": "经核实, 路灯已于今日修复"}, "待答复"),
    ("reply", "dispatcher1", {}, "已答复"),
    ("close", "district1", {}, "已办结"),
]
STATES = ["待签收"] + [p[3] for p in PATH]


def advance(desk, order_id, state):
    """Take the order along the seed's path until it is in ``state``."""
    for action, who, fields, after in PATH[:STATES.index(state)]:
        assert desk.act(who, order_id, action, **fields)["state"] == after


@pytest.fixture
def desk(client):
    return Desk(client)


@pytest.fixture
def grid(connection):
    """worker001's grid and a point in it."""
    return connection.execute(text("""
        SELECT g.code, ST_X(ST_PointOnSurface(g.geom)), ST_Y(ST_PointOnSurface(g.geom))
          FROM accounts a JOIN grids g ON g.code = a.scope_code AND g.valid_to IS NULL
         WHERE a.username = 'worker001'""")).one()


# ---------------------------------------------------------------- the seed's path


def test_seed_path_import_sign_instruct_assign_draft_reply_close(desk, grid, connection):
    code, lng, lat = grid
    created = desk.post(order(lng=lng, lat=lat))
    assert created["state"] == "待签收" and created["petitioner"] == {"name": NAME, "phone": PHONE, "masked": False}
    assert created["incident"]["grid"]["code"] == code  # the linked incident is routed to its grid
    assert [a["name"] for a in created["actions"]] == ["sign", "return_order"]
    order_id = created["id"]
    assert desk.get("townleader1", order_id).get_json()["actions"] == []  # nothing to instruct yet
    advance(desk, order_id, "已答复")
    replied = desk.get("dispatcher1", order_id).get_json()
    assert replied["reply"] == "经核实, 路灯已于今日修复"  # the section's draft, sent as it stands
    assert replied["instruction"] == "请社会事务办核实并答复" and replied["department"]["code"] == "shehui"
    assert [a["name"] for a in desk.get("district1", order_id).get_json()["actions"]] == ["close"]
    closed = desk.act("district1", order_id, "close")
    assert closed["state"] == "已办结" and closed["closed_at"] and closed["actions"] == []
    timeline = closed["timeline"]
    assert [e["action"] for e in timeline] == ["import", "sign", "instruct", "assign", "draft_reply", "reply", "close"]
    assert [(e["from_state"], e["to_state"]) for e in timeline] == list(zip([None] + STATES[:-1], STATES, strict=True))
    assert timeline[2]["note"] == "请社会事务办核实并答复" and timeline[2]["role"] == "town_leader"
    assert timeline[3]["department"]["code"] == "shehui" and timeline[6]["role"] == "district"
    assert closed["deadlines"]["accept"]["status"] == "done" and closed["deadlines"]["accept"]["on_time"]
    assert closed["deadlines"]["reply"]["status"] == "done" and closed["version"] == 7
    events = connection.execute(text("SELECT count(*) FROM hotline_events WHERE order_id = :i"), {"i": order_id})
    assert events.scalar() == 7


def test_reply_can_be_edited_by_the_desk(desk):
    order_id = desk.new()
    advance(desk, order_id, "待答复")
    replied = desk.act("dispatcher1", order_id, "reply", text="您好, 路灯已修复, 感谢监督。")
    assert replied["reply"] == "您好, 路灯已修复, 感谢监督。" and replied["draft"] == "经核实, 路灯已于今日修复"


def test_events_are_append_only(desk, connection):
    order_id = desk.new()
    for statement in ("UPDATE hotline_events SET note = 'x' WHERE order_id = :i",
                      "DELETE FROM hotline_events WHERE order_id = :i"):
        savepoint = connection.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            connection.execute(text(statement), {"i": order_id})
        savepoint.rollback()


# ---------------------------------------------------------------- returns


def test_town_returns_the_order_and_the_district_dispatches_it_again(desk):
    order_id = desk.new()
    desk.act("dispatcher1", order_id, "sign")
    refused = desk.act("dispatcher1", order_id, "return_order", expect=422)
    assert refused["errors"][0]["field"] == "text"  # a return needs its reason
    returned = desk.act("dispatcher2", order_id, "return_order", text="该地址属中新生态城管辖, 非本镇职责")
    assert returned["state"] == "已退回" and returned["return_count"] == 1
    assert {c["status"] for k, c in returned["deadlines"].items() if k != "return"} == {"done", "stopped"}
    assert [a["name"] for a in desk.get("district2", order_id).get_json()["actions"]] == ["redispatch"]
    again = desk.act("district2", order_id, "redispatch", text="经核实属杨家泊镇, 请办理")
    assert again["state"] == "待签收" and again["signed_at"] is None
    assert again["dispatched_at"] > returned["dispatched_at"]
    assert again["deadlines"]["accept"]["status"] == "normal"
    assert [e["action"] for e in again["timeline"]] == ["import", "sign", "return_order", "redispatch"]
    desk.act("dispatcher1", order_id, "sign")


def test_return_only_within_one_working_day_of_dispatch(desk):
    order_id = desk.new(minutes_ago=60 * 24 * 10)  # ten days ago
    refused = desk.act("dispatcher1", order_id, "return_order", expect=422, text="非本镇职责")
    assert "1 个工作日" in refused["message_zh"] and refused["errors"][0]["field"] == "action"
    assert "return_order" not in [a["name"] for a in desk.get("dispatcher1", order_id).get_json()["actions"]]


def test_section_returns_to_the_town_for_reassignment(desk):
    order_id = desk.new()
    advance(desk, order_id, "已批示")
    desk.act("dispatcher1", order_id, "assign", department="jianshe")
    assert desk.get("dept_jianshe", order_id).get_json()["petitioner"]["masked"] is False
    back = desk.act("dept_jianshe", order_id, "return_to_town", text="属社会事务办职责")
    assert back["state"] == "已批示" and back["department"] is None
    # the section that returned it still reads it, but no longer the petitioner's data
    seen = desk.get("dept_jianshe", order_id).get_json()
    assert seen["petitioner"] == {"name": "张**", "phone": "138****5678", "masked": True}
    assert seen["actions"] == []
    desk.act("dispatcher1", order_id, "assign", department="shehui")
    drafted = desk.act("dept_shehui", order_id, "draft_reply", text="已联系诉求人")
    assert drafted["state"] == "待答复"
    assert [e["action"] for e in drafted["timeline"]][-4:] == ["assign", "return_to_town", "assign", "draft_reply"]


def test_assign_needs_a_real_section(desk):
    order_id = desk.new()
    advance(desk, order_id, "已批示")
    for bad in (None, "nosuch", "zongzhi"):
        refused = desk.act("dispatcher1", order_id, "assign", expect=422, department=bad)
        assert refused["errors"][0]["field"] == "department"


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(("action", "state", "who", "fields"), [
    ("sign", "待签收", "townleader1", {}),
    ("sign", "待签收", "analyst1", {}),
    ("sign", "待签收", "district1", {}),
    ("sign", "待签收", "worker001", {}),
    ("return_order", "待签收", "district1", {"text": "x"}),
    ("return_order", "待签收", "townleader1", {"text": "x"}),
    ("instruct", "已签收", "dispatcher1", {"text": "x"}),
    ("instruct", "已签收", "district1", {"text": "x"}),
    ("assign", "已批示", "townleader1", {"department": "shehui"}),
    ("assign", "已批示", "analyst1", {"department": "shehui"}),
    ("draft_reply", "办理中", "dispatcher1", {"text": "x"}),
    ("draft_reply", "办理中", "townleader1", {"text": "x"}),
    ("return_to_town", "办理中", "dispatcher1", {"text": "x"}),
    ("reply", "待答复", "dept_shehui", {}),
    ("reply", "待答复", "townleader1", {}),
    ("supervise", "办理中", "dept_shehui", {"text": "x"}),
    ("supervise", "办理中", "analyst1", {"text": "x"}),
    ("close", "已答复", "dispatcher1", {}),
    ("close", "已答复", "admin", {}),
    ("close", "已答复", "dept_shehui", {}),
])
def test_role_refusals(desk, action, state, who, fields):
    order_id = desk.new()
    advance(desk, order_id, state)
    refused = desk.act(who, order_id, action, expect=403, **fields)
    assert refused["message_zh"] and refused["message_en"]
    assert desk.get("dispatcher1", order_id).get_json()["state"] == state  # nothing changed


def test_redispatch_is_the_districts(desk):
    order_id = desk.new()
    desk.act("dispatcher1", order_id, "return_order", text="非本镇职责")
    for who in ("dispatcher1", "admin", "townleader1"):
        assert desk.act(who, order_id, "redispatch", expect=403)["errors"][0]["field"] == "action"


def test_a_section_the_order_was_never_assigned_to_cannot_see_it(desk):
    order_id = desk.new()
    advance(desk, order_id, "办理中")
    assert desk.get("dept_jianshe", order_id).status_code == 404
    r = desk.client.post(f"{URL}/{order_id}/actions", headers=desk.headers("dept_jianshe"),
                         json={"action": "draft_reply", "version": 4, "text": "x"})
    assert r.status_code == 404
    listed = desk.client.get(URL, headers=desk.headers("dept_jianshe")).get_json()
    assert order_id not in [o["id"] for o in listed["items"]]
    assert order_id in [o["id"] for o in desk.client.get(URL, headers=desk.headers("dept_shehui")).get_json()["items"]]


@pytest.mark.parametrize(("action", "state", "who", "fields"), [
    ("sign", "已签收", "dispatcher1", {}),
    ("instruct", "待签收", "townleader1", {"text": "x"}),
    ("assign", "已签收", "dispatcher1", {"department": "shehui"}),
    ("draft_reply", "待答复", "dept_shehui", {"text": "x"}),
    ("return_to_town", "待答复", "dept_shehui", {"text": "x"}),
    ("reply", "办理中", "dispatcher1", {}),
    ("close", "待答复", "district1", {}),
    ("redispatch", "待签收", "district1", {}),
    ("return_order", "办理中", "dispatcher1", {"text": "x"}),
    ("supervise", "办理中", "dispatcher1", {"text": "x"}),  # not overdue
    ("sign", "已办结", "dispatcher1", {}),
])
def test_state_refusals(desk, action, state, who, fields):
    order_id = desk.new()
    advance(desk, order_id, state)
    refused = desk.act(who, order_id, action, expect=422, **fields)
    assert refused["errors"][0]["field"] == "action" and refused["message_zh"]


def test_stale_version_gets_409_with_the_current_order(desk):
    order_id = desk.new()
    desk.act("dispatcher1", order_id, "sign")
    stale = desk.client.post(f"{URL}/{order_id}/actions", headers=desk.headers("dispatcher2"),
                             json={"action": "sign", "version": 1})
    assert stale.status_code == 409
    current = stale.get_json()["current"]
    assert current["state"] == "已签收" and current["version"] == 2


def test_two_dispatchers_signing_at_once_exactly_one_wins(live_server, database_url):
    def token(who):
        return {"Authorization": "Bearer " + requests.post(f"{live_server}/api/v1/auth/login", timeout=10,
                json={"username": who, "password": "demo"}).json()["token"]}

    heads = [token("dispatcher1"), token("dispatcher2")]
    created = requests.post(f"{live_server}{URL}", json=order(f"TJ12345-R{uuid.uuid4().hex[:12]}"),
                            headers=heads[0], timeout=10)
    assert created.status_code == 201, created.text
    order_id = created.json()["id"]
    results = []
    barrier = threading.Barrier(2)

    def sign(h):
        barrier.wait()
        results.append(requests.post(f"{live_server}{URL}/{order_id}/actions", headers=h, timeout=10,
                                     json={"action": "sign", "version": 1}).status_code)

    threads = [threading.Thread(target=sign, args=(h,)) for h in heads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 409]
    engine = create_engine(database_url)
    with engine.connect() as conn:
        signed = conn.execute(text("SELECT count(*) FROM hotline_events WHERE order_id = :i AND action = 'sign'"),
                              {"i": order_id}).scalar()
    engine.dispose()
    assert signed == 1


def test_bad_action_bodies(desk):
    order_id = desk.new()
    url, h = f"{URL}/{order_id}/actions", desk.headers("dispatcher1")
    assert desk.client.post(url, headers=h, json={"version": 1}).status_code == 400
    assert desk.client.post(url, headers=h, data="{", content_type="application/json").status_code == 400
    missing = desk.client.post(url, headers=h, json={"action": "sign"})
    assert missing.status_code == 422 and missing.get_json()["errors"][0]["field"] == "version"
    too_long = desk.client.post(url, headers=h, json={"action": "return_order", "version": 1, "text": "长" * 4001})
    assert too_long.status_code == 422 and too_long.get_json()["errors"][0]["field"] == "text"
    assert desk.client.post(f"{URL}/abc/actions", headers=h, json={"action": "sign"}).status_code == 404
    assert desk.client.post(f"{URL}/99999999/actions", headers=h, json={"action": "sign", "version": 1}).status_code == 404


def test_supervise_an_overdue_order(desk):
    order_id = desk.new(minutes_ago=60 * 24 * 12, reply_deadline=(now() - timedelta(days=1)).isoformat())
    advance(desk, order_id, "办理中")
    shown = desk.get("dispatcher1", order_id).get_json()
    assert shown["overdue"] and shown["deadlines"]["reply"]["status"] == "red"
    assert "supervise" in [a["name"] for a in shown["actions"]]
    pressed = desk.act("dispatcher1", order_id, "supervise", text="已超期, 请今日内答复")
    assert pressed["state"] == "办理中" and pressed["supervise_count"] == 1
    assert pressed["timeline"][-1]["action"] == "supervise"
    listed = desk.client.get(URL, query_string={"overdue": "true", "state": "办理中"},
                             headers=desk.headers("dispatcher1")).get_json()
    assert order_id in [o["id"] for o in listed["items"]]


# ---------------------------------------------------------------- deadlines


@pytest.mark.parametrize(("urgency", "dispatched", "deadline"), [
    ("life_property", "2026-11-27 18:00", "2026-11-27T18:15:00+08:00"),  # a Friday evening
    ("utilities", "2026-11-27 18:00", "2026-11-27T18:30:00+08:00"),
    ("normal", "2026-11-27 18:00", "2026-11-30T17:30:00+08:00"),  # 1 working day: Monday
    ("水电气热", "2026-09-30 18:00", "2026-09-30T18:30:00+08:00"),
    ("一般", "2026-09-30 18:00", "2026-10-08T17:30:00+08:00"),  # before National Day
    ("一般", "2026-09-24 18:00", "2026-09-28T17:30:00+08:00"),  # before Mid-Autumn (Fri 25 Sep)
])
def test_acceptance_deadlines_of_decree_39(desk, urgency, dispatched, deadline):
    shown = desk.post(order(urgency=urgency, dispatched_at=dispatched))
    assert shown["deadlines"]["accept"]["deadline"] == deadline
    late = datetime.fromisoformat(deadline) < now()
    assert (shown["deadlines"]["accept"]["status"] == "red") == late == shown["overdue"]


def test_reply_deadline_given_or_by_default(desk):
    default = desk.post(order("TJ12345-A1", dispatched_at="2026-11-27 18:00"))
    assert default["deadlines"]["reply"]["deadline"] == "2026-12-04T17:30:00+08:00"  # 5 working days
    given = desk.post(order("TJ12345-A2", dispatched_at="2026-11-27 18:00", reply_deadline="2026-12-10"))
    assert given["deadlines"]["reply"]["deadline"] == "2026-12-10T17:30:00+08:00"
    assert given["deadlines"]["return"]["deadline"] == "2026-11-30T17:30:00+08:00"


def test_deadline_colours_run_with_the_clock(desk):
    fresh = desk.post(order("TJ12345-C1", urgency="life_property", minutes_ago=2))["deadlines"]["accept"]
    yellow = desk.post(order("TJ12345-C2", urgency="life_property", minutes_ago=12))["deadlines"]["accept"]
    red = desk.post(order("TJ12345-C3", urgency="life_property", minutes_ago=20))
    assert fresh["status"] == "normal" and yellow["status"] == "yellow" and 0.75 <= yellow["used"] < 1
    assert red["deadlines"]["accept"]["status"] == "red" and red["overdue"]
    signed = desk.act("dispatcher1", red["id"], "sign")
    assert signed["deadlines"]["accept"]["status"] == "done" and signed["deadlines"]["accept"]["on_time"] is False
    assert signed["timeline"][-1]["data"] == {"on_time": False}


# ---------------------------------------------------------------- import


def test_same_order_number_again_answers_the_existing_order(desk, grid, connection):
    _code, lng, lat = grid
    first = desk.client.post(URL, json=order(lng=lng, lat=lat), headers=desk.headers("dispatcher1"))
    before = count(connection, "hotline_orders"), count(connection, "incidents"), count(connection, "hotline_events")
    again = desk.client.post(URL, json=order(lng=lng, lat=lat, content="重复推送"), headers=desk.headers("district1"))
    assert first.status_code == 201 and again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json()["id"] == first.get_json()["id"]
    assert again.get_json()["content"] == first.get_json()["content"]
    after = count(connection, "hotline_orders"), count(connection, "incidents"), count(connection, "hotline_events")
    assert after == before


def test_batch_is_all_or_nothing(desk, connection):
    before = count(connection, "hotline_orders")
    refused = desk.post([order("TJ12345-B1"), order("TJ12345-B2", petitioner_phone="call me"),
                         order("TJ12345-B3", urgency="urgent", dispatched_at="yesterday")], expect=422)
    fields = [e["field"] for e in refused["errors"]]
    assert fields == ["[1].petitioner_phone", "[2].urgency", "[2].dispatched_at"]
    assert count(connection, "hotline_orders") == before
    done = desk.post([order("TJ12345-B1"), order("TJ12345-B2")])
    assert done["created"] == 2 and done["existing"] == 0
    again = desk.post([order("TJ12345-B2"), order("TJ12345-B4")])
    assert again["created"] == 1 and again["existing"] == 1 and again["items"][0]["id"] == done["items"][1]["id"]
    twice = desk.post([order("TJ12345-B5"), order("TJ12345-B5")], expect=422)
    assert twice["errors"][0]["field"] == "[1].order_no"


@pytest.mark.parametrize(("fields", "field"), [
    ({"order_no": None}, "order_no"),
    ({"order_no": "单号 1"}, "order_no"),
    ({"content": ""}, "content"),
    ({"channel": "传真"}, "channel"),
    ({"dispatched_at": None}, "dispatched_at"),
    ({"dispatched_at": (datetime.now(SHANGHAI) + timedelta(days=1)).isoformat()}, "dispatched_at"),
    ({"reply_deadline": "2020-01-01"}, "reply_deadline"),
    ({"lng": 117.7}, "lat"),
    ({"lng": 2.35, "lat": 48.85}, "lng"),  # Paris
    ({"lng": 117.7, "lat": 39.3, "crs": "epsg:3857"}, "crs"),
    ({"lng": 117.7, "lat": 39.3, "category": "NOPE"}, "category"),
])
def test_bad_orders_are_refused_field_by_field(desk, fields, field):
    refused = desk.post(order(**fields), expect=422)
    assert field in [e["field"] for e in refused["errors"]], refused["errors"]


def test_only_the_desk_the_district_and_admin_import(desk):
    for who in ("townleader1", "dept_shehui", "analyst1", "worker001"):
        assert desk.post(order(), who=who, expect=403)["message_zh"]
    assert desk.post(order("TJ12345-D1"), who="district1")["state"] == "待签收"
    assert desk.post(order("TJ12345-D2"), who="admin")["state"] == "待签收"


def test_order_with_a_location_links_an_incident_routed_to_its_grid(desk, grid):
    code, lng, lat = grid
    shown = desk.post(order(lng=lng, lat=lat, urgency="供水"))
    assert shown["location"] == {"lng": pytest.approx(lng), "lat": pytest.approx(lat), "crs": "wgs84"}
    link = shown["incident"]
    assert link["grid"]["code"] == code and link["village"]["code"] == code[:12] and link["case_no"]
    incident = desk.client.get(f"/api/v1/incidents/{link['id']}", headers=desk.headers("worker001")).get_json()
    assert incident["source"] == "hotline_12345" and incident["grid"]["code"] == code
    assert incident["category"]["code"] == "MS02"  # water supply, for a utilities order
    assert shown["order_no"] in incident["description"]
    assert incident["reporter"]["name"] is None  # the petitioner's data stays with the order
    without = desk.post(order("TJ12345-N1"))
    assert without["incident"] is None and without["location"] is None


def test_gcj02_location_is_converted_before_routing(desk, grid):
    from spatial.crs import wgs84_to_gcj02

    code, lng, lat = grid
    raw_lng, raw_lat = wgs84_to_gcj02(lng, lat)
    shown = desk.post(order(lng=raw_lng, lat=raw_lat, crs="gcj02"))
    assert shown["location"]["lng"] == pytest.approx(lng, abs=1e-5) and shown["incident"]["grid"]["code"] == code


# ---------------------------------------------------------------- reading and privacy


def test_petitioner_masked_for_analyst_and_other_roles(desk):
    order_id = desk.new()
    advance(desk, order_id, "办理中")
    masked = {"name": "张**", "phone": "138****5678", "masked": True}
    for who in ("analyst1", "townleader1"):
        shown = desk.get(who, order_id).get_json()
        assert shown["petitioner"] == masked and shown["actions"] == []
        listed = desk.client.get(URL, headers=desk.headers(who)).get_json()["items"]
        assert next(o for o in listed if o["id"] == order_id)["petitioner"] == masked
    for who in ("dispatcher2", "district1", "admin", "dept_shehui"):
        assert desk.get(who, order_id).get_json()["petitioner"]["masked"] is False, who


def test_grid_workers_read_no_hotline_orders(desk, app):
    order_id = desk.new()
    assert desk.client.get(URL, headers=desk.headers("worker001")).status_code == 403
    assert desk.get("worker001", order_id).status_code == 403
    assert app.test_client().get(URL).status_code == 401  # no cookie, no token


def test_listing_filters_and_bounds(desk):
    old = desk.new(no="TJ12345-L1", minutes_ago=60 * 24 * 20)
    fresh = desk.new(no="TJ12345-L2")
    desk.act("dispatcher1", fresh, "sign")
    h = desk.headers("dispatcher1")

    def ids(**args):
        r = desk.client.get(URL, query_string={"limit": 500, **args}, headers=h)  # the demo's orders too
        assert r.status_code == 200, r.get_json()
        return [o["id"] for o in r.get_json()["items"]]

    assert fresh in ids(state="已签收") and old not in ids(state="已签收")
    assert old in ids(overdue="true") and fresh not in ids(overdue="true")
    assert fresh in ids(overdue="false")
    since = (now() - timedelta(days=1)).isoformat()
    assert fresh in ids(since=since) and old not in ids(since=since)
    assert old in ids(until=(now() - timedelta(days=10)).isoformat())
    assert ids(order_no="TJ12345-L2") == [fresh]
    page = desk.client.get(URL, query_string={"limit": 100000}, headers=h).get_json()
    assert page["limit"] == 500
    for bad in ({"state": "飞了"}, {"overdue": "maybe"}, {"since": "yesterday"}, {"limit": "-1"}):
        assert desk.client.get(URL, query_string=bad, headers=h).status_code == 400, bad


# ---------------------------------------------------------------- Excel and the command line

HEADERS = ["工单编号", "渠道", "诉求人", "联系电话", "诉求内容", "地址", "经度", "纬度", "紧急程度", "派单时间", "答复期限"]


def write_xlsx(path, rows, headers=HEADERS):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def xlsx_row(no, lng=None, lat=None, **over):
    row = {"工单编号": no, "渠道": "电话", "诉求人": "李四", "联系电话": 13900001111, "诉求内容": "门前积水",
           "地址": "付庄村", "经度": lng, "纬度": lat, "紧急程度": "一般", "派单时间": datetime(2026, 11, 27, 18, 0),
           "答复期限": datetime(2026, 12, 10)}
    row.update(over)
    return [row[h] for h in HEADERS]


def test_excel_import_routes_located_rows_and_is_idempotent(db, grid, tmp_path):
    code, lng, lat = grid
    path = write_xlsx(tmp_path / "工单.xlsx", [xlsx_row("TJ12345-X1", lng, lat), xlsx_row("TJ12345-X2")])
    summary = service.import_excel(db, path)
    assert summary.errors == [] and summary.as_dict() == {"rows": 2, "imported": 2, "existing": 0, "with_location": 1}
    stored = db.execute(text("""
        SELECT o.order_no, o.petitioner_phone, o.reply_deadline, o.accept_deadline, i.grid_code, i.source
          FROM hotline_orders o LEFT JOIN incidents i ON i.id = o.incident_id
         WHERE o.order_no LIKE 'TJ12345-X%' ORDER BY o.order_no""")).all()
    assert stored[0].grid_code == code and stored[0].source == "hotline_12345" and stored[1].grid_code is None
    assert stored[0].petitioner_phone == "13900001111"  # a number cell read as text
    assert stored[0].reply_deadline == datetime(2026, 12, 10, 17, 30, tzinfo=SHANGHAI)  # a date: the whole day
    assert stored[0].accept_deadline == datetime(2026, 11, 30, 17, 30, tzinfo=SHANGHAI)
    again = service.import_excel(db, path)
    assert again.as_dict()["imported"] == 0 and again.as_dict()["existing"] == 2


def test_excel_with_a_bad_row_saves_nothing(db, tmp_path):
    before = db.execute(text("SELECT count(*) FROM hotline_orders")).scalar()
    path = write_xlsx(tmp_path / "bad.xlsx", [
        xlsx_row("TJ12345-Y1"),
        xlsx_row("TJ12345-Y2", 117.7, None),
        xlsx_row("TJ12345-Y3", 紧急程度="很急", 派单时间="昨天"),
    ])
    summary = service.import_excel(db, path)
    assert [(e.row, e.field) for e in summary.errors] == [(3, "纬度"), (4, "紧急程度"), (4, "派单时间")]
    assert db.execute(text("SELECT count(*) FROM hotline_orders")).scalar() == before


IMPORTS = "/api/v1/hotline/imports"


def upload(desk, who, name, data, **form):
    return desk.client.post(IMPORTS, headers=desk.headers(who), content_type="multipart/form-data",
                            data={"file": (io.BytesIO(data), name), **form})


def messy_xlsx(path, rows):
    """An export as the platform writes it: a merged title row and a blank row above the header,
    a header cell with a line break, and a dispatch time merged over two rows."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["滨海新区 12345 便民服务专线工单导出"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADERS))
    sheet.append([])
    sheet.append([h if h != "诉求内容" else "诉求\n内容" for h in HEADERS])
    for row in rows:
        sheet.append(row)
    column = HEADERS.index("派单时间") + 1
    sheet.cell(5, column).value = None
    sheet.merge_cells(start_row=4, start_column=column, end_row=5, end_column=column)
    book.save(path)
    return path


def test_desk_uploads_a_messy_export_row_by_row_then_again(desk, grid, tmp_path):
    code, lng, lat = grid
    path = messy_xlsx(tmp_path / "导出.xlsx", [xlsx_row("TJ12345-U1", lng, lat), xlsx_row("TJ12345-U2")])
    data = path.read_bytes()
    checked = upload(desk, "dispatcher1", "导出.xlsx", data, dry_run="true")
    assert checked.status_code == 200, checked.get_json()
    assert checked.get_json()["dry_run"] and [i["created"] for i in checked.get_json()["items"]] == [True, True]
    assert desk.client.get(URL, query_string={"order_no": "TJ12345-U1"},
                           headers=desk.headers("dispatcher1")).get_json()["total"] == 0  # nothing saved
    first = upload(desk, "dispatcher1", "导出.xlsx", data)
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert [(i["row"], i["order_no"], i["created"]) for i in body["items"]] == [
        (4, "TJ12345-U1", True), (5, "TJ12345-U2", True)]
    assert body["imported"] == 2 and body["with_location"] == 1
    u1 = desk.client.get(body["items"][0]["url"], headers=desk.headers("dispatcher1")).get_json()
    u2 = desk.get("dispatcher1", body["items"][1]["id"]).get_json()
    assert u1["incident"]["grid"]["code"] == code and u1["timeline"][0]["actor"]  # imported by the dispatcher
    assert u2["dispatched_at"] == u1["dispatched_at"]  # the merged cell's value on both rows
    again = upload(desk, "dispatcher1", "导出.xlsx", data)
    assert again.status_code == 200 and [i["created"] for i in again.get_json()["items"]] == [False, False]
    assert [i["id"] for i in again.get_json()["items"]] == [i["id"] for i in body["items"]]


def test_a_gb18030_csv_export_is_read(desk):
    text_ = ",".join(HEADERS) + "\n" + "TJ12345-G1,电话,王五,13900002222,楼道灯坏了,付庄村,,,一般,2026-11-27 18:00,\n"
    answer = upload(desk, "dispatcher1", "工单.csv", text_.encode("gb18030"))
    assert answer.status_code == 201, answer.get_json()
    assert desk.get("dispatcher1", answer.get_json()["items"][0]["id"]).get_json()["content"] == "楼道灯坏了"


@pytest.mark.parametrize("name, data, reason", [
    ("工单.txt", b"hello", "Excel"),
    ("工单.xls", b"\xd0\xcf\x11\xe0", ".xlsx"),
    ("工单.xlsx", b"PK not really a zip", "无法打开"),
    ("空.csv", "标题\n,\n".encode(), "工单编号"),
])
def test_files_that_cannot_be_read_are_refused_with_a_reason(desk, name, data, reason):
    answer = upload(desk, "dispatcher1", name, data)
    assert answer.status_code == 400 and reason in answer.get_json()["message_zh"], answer.get_json()
    assert answer.get_json()["message_en"]


def test_rows_with_errors_save_nothing_and_name_each_row(desk, tmp_path, connection):
    before = count(connection, "hotline_orders")
    path = write_xlsx(tmp_path / "bad.xlsx", [xlsx_row("TJ12345-V1"), xlsx_row("TJ12345-V2", 紧急程度="很急")])
    answer = upload(desk, "dispatcher1", "bad.xlsx", path.read_bytes())
    assert answer.status_code == 422
    errors = answer.get_json()["errors"]
    assert [e["zh"].split("」")[0] for e in errors] == ["第 3 行「紧急程度"] and "row 3" in errors[0]["en"]
    assert "未导入任何工单" in answer.get_json()["message_zh"] and count(connection, "hotline_orders") == before


def test_upload_is_for_the_roles_that_import(desk, tmp_path):
    path = write_xlsx(tmp_path / "x.xlsx", [xlsx_row("TJ12345-W1")])
    assert upload(desk, "townleader1", "x.xlsx", path.read_bytes()).status_code == 403
    assert upload(desk, "dept_shehui", "x.xlsx", path.read_bytes()).status_code == 403
    assert desk.client.post(IMPORTS, headers=desk.headers("dispatcher1")).status_code == 400  # no file


# ---------------------------------------------------------------- closing settles the linked case


def case_of(connection, order_id):
    return connection.execute(text("""
        SELECT i.id, i.state, i.closed_at, i.case_no FROM hotline_orders o JOIN incidents i ON i.id = o.incident_id
         WHERE o.id = :o"""), {"o": order_id}).one()


def test_closing_the_order_closes_the_case_nobody_handles(desk, grid, connection):
    _code, lng, lat = grid
    order_id = desk.post(order("TJ12345-S1", lng=lng, lat=lat))["id"]
    assert case_of(connection, order_id).state == "待受理"
    advance(desk, order_id, "已答复")
    closed = desk.act("district1", order_id, "close")
    case = case_of(connection, order_id)
    assert case.state == "结案" and case.closed_at is not None
    assert closed["case_settlement"]["closed"] and case.case_no in closed["case_settlement"]["message_zh"]
    assert closed["incident"]["state"] == "结案" and closed["timeline"][-1]["data"]["case"]["closed"]
    event = connection.execute(text("SELECT role, action, from_state, to_state FROM case_events "
                                    "WHERE incident_id = :i ORDER BY id DESC LIMIT 1"), {"i": case.id}).one()
    assert tuple(event) == ("system", "hotline_closed", "待受理", "结案")
    incident = desk.client.get(f"/api/v1/incidents/{case.id}", headers=desk.headers("dispatcher1")).get_json()
    assert incident["timeline"][-1]["label_zh"] == "12345 工单结案, 案件随之结案"


def test_closing_the_order_leaves_a_case_a_department_handles_and_says_why(desk, grid, connection):
    _code, lng, lat = grid
    order_id = desk.post(order("TJ12345-S2", lng=lng, lat=lat))["id"]
    case = case_of(connection, order_id)
    connection.execute(text("UPDATE incidents SET state = '处理中', tier = 'town' WHERE id = :i"), {"i": case.id})
    advance(desk, order_id, "已答复")
    closed = desk.act("district1", order_id, "close")
    assert closed["state"] == "已办结" and case_of(connection, order_id).state == "处理中"
    settlement = closed["case_settlement"]
    assert not settlement["closed"] and "处理中" in settlement["message_zh"] and settlement["message_en"]
    assert closed["timeline"][-1]["data"]["case"] == settlement


def test_an_order_without_a_location_closes_with_no_case_to_settle(desk):
    order_id = desk.new(no="TJ12345-S3")
    advance(desk, order_id, "已答复")
    closed = desk.act("district1", order_id, "close")
    assert closed["state"] == "已办结" and "case_settlement" not in closed


def run(*args, env):
    return subprocess.run([WANGGE, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "WANGGE_HOME": str(ROOT), **env})


def test_cli_import_all_or_nothing_then_idempotent(fresh_database, tmp_path):
    from db import migrate

    url = fresh_database("hotline_cli")
    migrate.upgrade(url)
    env = {"DATABASE_URL": url}
    engine = create_engine(url)
    with engine.begin() as conn:  # just enough for a linked incident (no grids: the town's queue)
        conn.execute(text("INSERT INTO departments (code, name) VALUES ('zongzhi', '镇综合治理中心')"))
        conn.execute(text("INSERT INTO categories (code, kind, class_name, name, department_id, time_limit, "
                          "time_unit) SELECT 'QT01', 'event', '其他', '其他事件', id, 5, 'work_days' FROM departments"))
    bad = write_xlsx(tmp_path / "bad.xlsx", [xlsx_row("TJ12345-Z1"), xlsx_row("TJ12345-Z2", 联系电话="无")])
    refused = run("hotline", "import", str(bad), env=env)
    assert refused.returncode == 1, refused.stderr
    assert "3,联系电话" in refused.stderr and "nothing imported" in refused.stderr
    good = write_xlsx(tmp_path / "good.xlsx", [xlsx_row("TJ12345-Z1", 117.7, 39.3), xlsx_row("TJ12345-Z2")])
    dry = run("hotline", "import", "--dry-run", str(good), env=env)
    assert dry.returncode == 0 and json.loads(dry.stdout)["dry_run"]
    first = run("hotline", "import", str(good), env=env)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {"rows": 2, "imported": 2, "existing": 0, "with_location": 1}
    second = run("hotline", "import", str(good), env=env)
    assert json.loads(second.stdout)["existing"] == 2 and json.loads(second.stdout)["imported"] == 0
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM hotline_orders")).scalar() == 2
        assert conn.execute(text("SELECT count(*) FROM hotline_events WHERE action = 'import'")).scalar() == 2
        linked = conn.execute(text("SELECT i.source, i.flags FROM hotline_orders o JOIN incidents i "
                                   "ON i.id = o.incident_id")).all()
        assert linked == [("hotline_12345", ["outside_grids"])]
        assert conn.execute(text("SELECT count(*) FROM incidents")).scalar() == 1
    engine.dispose()
    (tmp_path / "x.xlsx").write_bytes(b"not a workbook")
    unreadable = run("hotline", "import", str(tmp_path / "x.xlsx"), env=env)
    assert unreadable.returncode == 2 and "无法导入" in unreadable.stderr
    no_columns = write_xlsx(tmp_path / "cols.xlsx", [["1"]], headers=["编号"])
    assert run("hotline", "import", str(no_columns), env=env).returncode == 2
