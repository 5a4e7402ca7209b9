"""待办 (GET /api/v1/inbox): per role of the demo, the inbox holds exactly the cases and 12345
orders whose detail offers actions, with those actions; most urgent first; paged; the badge's
counts; bad parameters. Also what the desk panel reads beside it: names in timelines, the
department a category routes to, the pending extension request, the 回退 window, the 督办 note in
the handler's 待办, and the live message a 12345 action sends."""

import io
import json
import queue
import threading
import uuid
from datetime import datetime, timedelta

import pytest
import requests
from sqlalchemy import event, text

from tests.conftest import JPEG, Tokens, report, served_bearer, user_named
from webmap.services import actions, inbox
from webmap.services.errors import InvalidInputError
from workflow import cases
from workflow.clock import DEFAULT_CALENDAR, SHANGHAI
from workflow.deadlines import CLOCK_STATES

URL = "/api/v1/inbox"
ORDERS = "/api/v1/hotline/orders"
ROLES = ["worker001", "leader01", "dispatcher1", "townleader1", "dept_huanwei", "district1"]


def now():
    return datetime.now(SHANGHAI)


class Desk(Tokens):
    """The demo's people, each with a token."""

    def inbox(self, who, **query):
        r = self.client.get(URL, query_string=query, headers=self.headers(who))
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    def everything(self, who, **query):
        """Every item of WHO's inbox, page by page."""
        items, offset = [], 0
        while True:
            page = self.inbox(who, limit=100, offset=offset, **query)
            items += page["items"]
            offset += 100
            if offset >= page["total"]:
                return items, page

    def report(self, lng, lat, category="SR02", who="worker001"):
        r = self.client.post("/api/v1/incidents", json=report(lng, lat, category=category), headers=self.headers(who))
        assert r.status_code == 201, r.get_json()
        return r.get_json()["id"]

    def case(self, who, case_id):
        r = self.client.get(f"/api/v1/incidents/{case_id}", headers=self.headers(who))
        return r.get_json() if r.status_code == 200 else None

    def act(self, who, case_id, action, **fields):
        version = self.case("dispatcher1", case_id)["version"]
        r = self.client.post(f"/api/v1/incidents/{case_id}/actions", headers=self.headers(who),
                             json={"action": action, "version": version, **fields})
        assert r.status_code == 200, (who, action, r.get_json())
        return r.get_json()

    def order(self, **extra):
        body = {"order_no": f"TJ-INBOX-{uuid.uuid4().hex[:12]}", "content": "小区门口路灯不亮, 夜间出行不便",
                "petitioner_name": "张三丰", "petitioner_phone": "13812345678", "address": "振兴路 3 号",
                "dispatched_at": (now() - timedelta(minutes=5)).isoformat(), **extra}
        r = self.client.post(ORDERS, json=body, headers=self.headers("dispatcher1"))
        assert r.status_code == 201, r.get_json()
        return r.get_json()["id"]

    def order_detail(self, who, order_id):
        r = self.client.get(f"{ORDERS}/{order_id}", headers=self.headers(who))
        return r.get_json() if r.status_code == 200 else None

    def act_order(self, who, order_id, action, **fields):
        version = self.order_detail("dispatcher1", order_id)["version"]
        r = self.client.post(f"{ORDERS}/{order_id}/actions", headers=self.headers(who),
                             json={"action": action, "version": version, **fields})
        assert r.status_code == 200, (who, action, r.get_json())
        return r.get_json()

    def photo(self):
        r = self.client.post("/api/v1/attachments", data={"file": (io.BytesIO(JPEG), "p.jpg")},
                             headers=self.headers("worker001"), content_type="multipart/form-data")
        return r.get_json()["id"]


@pytest.fixture
def desk(client):
    return Desk(client)


@pytest.fixture
def work(desk, worker_grid):
    """Something waiting for each role: a case just reported in worker001's grid (the worker, the
    leader), one escalated to the town (the dispatcher), one dispatched to 环卫 (the department),
    one in hand there (the town leader may press it), and 12345 orders signed (the town leader's
    instruction) and replied (the district closes it)."""
    _code, lng, lat = worker_grid
    reported = desk.report(lng, lat)
    escalated = desk.report(lng, lat)
    desk.act("worker001", escalated, "escalate", note="需镇里协调")
    dispatched = desk.report(lng, lat)
    desk.act("worker001", dispatched, "escalate", note="需镇里协调")
    desk.act("dispatcher1", dispatched, "file")
    desk.act("dispatcher1", dispatched, "dispatch", department="huanwei")
    signed = desk.order()
    desk.act_order("dispatcher1", signed, "sign")
    replied = desk.order()
    for who, action, fields in (("dispatcher1", "sign", {}), ("townleader1", "instruct", {"text": "请核实"}),
                                ("dispatcher1", "assign", {"department": "shehui"}),
                                ("dept_shehui", "draft_reply", {"text": "已修复"}), ("dispatcher1", "reply", {})):
        desk.act_order(who, replied, action, **fields)
    return {"worker001": ("incident", reported), "leader01": ("incident", reported),
            "dispatcher1": ("incident", escalated), "dept_huanwei": ("incident", dispatched),
            "townleader1": ("hotline", signed), "district1": ("hotline", replied)}


def _detail_actions(desk, who, item):
    found = desk.case(who, item["id"]) if item["kind"] == "incident" else desk.order_detail(who, item["id"])
    return found["actions"] if found else None


@pytest.mark.parametrize("who", ROLES)
def test_the_inbox_holds_what_the_details_offer(desk, work, who):
    items, page = desk.everything(who)
    assert page["total"] == len(items) and len({(i["kind"], i["id"]) for i in items}) == len(items)
    assert page["overdue"] == sum(i["deadline_status"] == "red" for i in items)
    kind, mine = work[who]
    assert (kind, mine) in {(i["kind"], i["id"]) for i in items}, who
    sample = items[:12] + items[-3:]
    for item in sample:
        assert item["actions"], item
        assert item["actions"] == _detail_actions(desk, who, item), (who, item["number"])
        assert item["url"] == (f"/api/v1/incidents/{item['id']}" if item["kind"] == "incident"
                               else f"{ORDERS}/{item['id']}")
        assert item["deadline_status"] in ("normal", "yellow", "red")
        assert item["title"] and item["number"]  # "类别 · 地址"; a case of other tests may have no address
        assert item["title_en"], item  # the category's English name where it has one
    # and what is not in it offers nothing: every other open case the role can read
    listed = {(i["kind"], i["id"]) for i in items}
    others = desk.client.get("/api/v1/incidents", query_string={"limit": 200},
                             headers=desk.headers(who)).get_json().get("items", [])
    for other in others:
        if other["state"] in cases.OPEN_STATES and ("incident", other["id"]) not in listed:
            assert _detail_actions(desk, who, {"kind": "incident", "id": other["id"]}) == [], (who, other["case_no"])


def test_the_inbox_is_exactly_what_the_rules_allow(db):
    """Through the service, every open case of the demo against every role's rules: the SQL that
    picks and counts the 待办 agrees with workflow/cases.allowed_actions, row by row."""
    at = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)  # Monday after the demo's last day: windows open and shut
    open_ids = [r.id for r in db.execute(text("SELECT id FROM incidents WHERE state = ANY(:s)"),
                                         {"s": list(cases.OPEN_STATES)})]
    from db.models import Incident
    from webmap.services import incidents, scope
    for name in ["worker001", "worker005", "leader01", "leader03", "dispatcher1", "townleader1", "dept_huanwei",
                 "dept_jiaojing", "dept_zhifa", "district1", "admin", "analyst1"]:
        user = user_named(db, name)
        rows = db.execute(incidents.detail_select().where(Incident.id.in_(open_ids),
                                                          scope.incident_visible(user))).all()
        expected = {r.id for r in rows if actions.allowed(r, user, at, DEFAULT_CALENDAR)}
        answer = inbox.inbox(db, user, now=at, limit=500, kind="incident", calendar=DEFAULT_CALENDAR)
        got = {i["id"] for i in answer["items"]}
        assert answer["total"] == len(expected), name
        assert got == expected or (len(expected) > 500 and got <= expected), name



def test_the_orders_in_the_inbox_are_exactly_what_the_rules_allow(db):
    """12345 orders in every state, some overdue, against every role at three moments: the SQL
    agrees with workflow/hotline.allowed_actions (the return windows and 督办 of an overdue order)."""
    from db.models import HotlineOrder
    from webmap.services import hotline

    t0 = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)  # a Monday
    people = {n: user_named(db, n) for n in ("dispatcher1", "townleader1", "dept_shehui", "dept_huanwei", "district1",
                                        "analyst1", "leader01")}
    path = [("sign", "dispatcher1", {}), ("instruct", "townleader1", {"text": "请核实"}),
            ("assign", "dispatcher1", {"department": "shehui"}), ("draft_reply", "dept_shehui", {"text": "已办"}),
            ("reply", "dispatcher1", {}), ("close", "district1", {})]
    ids = []
    for steps in range(len(path) + 2):
        for late in (False, True):
            returned = steps == len(path) + 1  # returned by the town, inside its window
            body = {"order_no": f"TJ-RULES-{steps}-{int(late)}-{uuid.uuid4().hex[:6]}", "content": "路灯不亮",
                    "dispatched_at": (t0 - timedelta(days=10 if late and not returned else 0)).isoformat()}
            if late and not returned:
                body["reply_deadline"] = (t0 - timedelta(days=1)).isoformat()
            order_id = hotline.import_orders(db, people["dispatcher1"], body, now=t0,
                                             calendar=DEFAULT_CALENDAR).orders[0][0]
            if returned:
                hotline.act(db, people["dispatcher1"], order_id, "return_order", {"version": 1, "text": "非本镇"},
                            now=t0, calendar=DEFAULT_CALENDAR)
            else:
                for name, who, fields in path[:steps]:
                    version = db.get(HotlineOrder, order_id, populate_existing=True).version
                    hotline.act(db, people[who], order_id, name, {"version": version, **fields}, now=t0,
                                calendar=DEFAULT_CALENDAR)
            ids.append(order_id)
    db.expire_all()
    orders = db.query(HotlineOrder).filter(HotlineOrder.id.in_(ids)).all()
    for at in (t0 + timedelta(hours=1), t0 + timedelta(days=1, hours=9), t0 + timedelta(days=9)):
        for name, user in people.items():
            expected = {o.id for o in orders if hotline.allowed(o, user, at, DEFAULT_CALENDAR)}
            answer = inbox.inbox(db, user, now=at, limit=500, kind="hotline", calendar=DEFAULT_CALENDAR)
            got = {i["id"] for i in answer["items"]} & set(ids)
            assert got == expected, (name, at)
            for item in answer["items"]:
                if item["id"] in ids:
                    assert item["actions"] == hotline.allowed(db.get(HotlineOrder, item["id"]), user, at,
                                                              DEFAULT_CALENDAR)
                    late = item["deadline"] is not None and datetime.fromisoformat(item["deadline"]) < at
                    assert (item["deadline_status"] == "red") == late, item


def _key(item):
    running = item["kind"] == "hotline" or item["state"] in CLOCK_STATES
    due = item["deadline"] if running and item["deadline"] else None
    return (item["deadline_status"] != "red", due is None, datetime.fromisoformat(due) if due else None,
            datetime.fromisoformat(item["reported_at"]))


def test_most_urgent_first_and_paged(desk, work):
    items, page = desk.everything("dispatcher1")
    assert page["overdue"] > 0 and page["total"] > 20
    keys = [_key(i) for i in items]
    for a, b in zip(keys, keys[1:], strict=False):
        assert (a[0], a[1]) <= (b[0], b[1])
        if (a[0], a[1]) == (b[0], b[1]) and a[2] is not None:
            assert a[2] <= b[2]
    first = desk.inbox("dispatcher1", limit=10)["items"]
    assert desk.inbox("dispatcher1", limit=5)["items"] + desk.inbox("dispatcher1", limit=5, offset=5)["items"] == first
    assert desk.inbox("dispatcher1", offset=page["total"])["items"] == []
    assert len(desk.inbox("dispatcher1", limit=100000)["items"]) == min(page["total"], 500)
    incidents_only = desk.inbox("dispatcher1", kind="incident", limit=500)
    orders_only = desk.inbox("dispatcher1", kind="hotline", limit=500)
    assert {i["kind"] for i in incidents_only["items"]} <= {"incident"}
    assert {i["kind"] for i in orders_only["items"]} == {"hotline"}
    assert incidents_only["total"] + orders_only["total"] == page["total"]


def test_the_badge_counts_cheaply(desk, work, connection):
    full = desk.inbox("dispatcher1", limit=500)
    statements = []

    def count_statement(*_args):
        statements.append(1)

    desk.headers("dispatcher1")
    event.listen(connection, "before_cursor_execute", count_statement)
    try:
        badge = desk.inbox("dispatcher1", limit=0)
    finally:
        event.remove(connection, "before_cursor_execute", count_statement)
    assert badge == {"total": full["total"], "overdue": full["overdue"]}
    assert len(statements) <= 5, len(statements)  # the account, the calendar (cached), one count of every kind
    assert desk.inbox("district1", limit=0, kind="hotline")["total"] >= 1


@pytest.mark.parametrize("query, param", [
    ({"limit": "-1"}, "limit"), ({"limit": "abc"}, "limit"), ({"offset": "-3"}, "offset"),
    ({"offset": "x"}, "offset"), ({"kind": "order"}, "kind"),
])
def test_bad_parameters_are_400(desk, query, param):
    r = desk.client.get(URL, query_string=query, headers=desk.headers("dispatcher1"))
    assert r.status_code == 400, r.get_json()
    body = r.get_json()
    assert body["message_zh"] and body["message_en"] and param in json.dumps(body)


def test_the_openapi_document_describes_the_inbox(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    get = doc["paths"]["/inbox"]["get"]
    assert {p["name"] for p in get["parameters"]} == {"kind", "limit", "offset"}
    assert get["x-roles"]["incident"]["feedback"] == ["department"]
    assert "district" in get["x-roles"]["hotline"]["close"]
    assert "supervised" in doc["components"]["schemas"]["InboxItem"]["properties"]


def test_anonymous_is_refused(client):
    assert client.get(URL).status_code == 401


def test_roles_without_work_have_an_empty_inbox(desk):
    assert desk.inbox("planner1") == {"items": [], "total": 0, "overdue": 0, "limit": 50, "offset": 0,
                                      "max_limit": 500}


# ---------------------------------------------------------------- 督办: the note in the handler's 待办


def test_a_supervised_case_carries_its_note_to_the_department(desk, work):
    case_id = work["dept_huanwei"][1]
    desk.act("dept_huanwei", case_id, "accept")
    desk.act("townleader1", case_id, "supervise", note="群众反映强烈, 请今日处理")
    item = next(i for i in desk.everything("dept_huanwei")[0] if i["id"] == case_id and i["kind"] == "incident")
    assert item["supervised"] is True and item["note"] == "群众反映强烈, 请今日处理"
    assert item["state"] == "督办" and item["state_en"] == "supervised"
    entry = desk.case("dept_huanwei", case_id)["timeline"][-1]
    assert entry["action"] == "supervise" and entry["note"] == "群众反映强烈, 请今日处理"
    assert entry["who"] == "潘海 · 镇领导" and entry["who_en"] == "潘海 · town leader"


def test_a_supervised_order_carries_its_note_to_the_section(desk):
    order_id = desk.order(dispatched_at=(now() - timedelta(days=12)).isoformat(),
                          reply_deadline=(now() - timedelta(days=1)).isoformat())
    for who, action, fields in (("dispatcher1", "sign", {}), ("townleader1", "instruct", {"text": "请核实"}),
                                ("dispatcher1", "assign", {"department": "shehui"})):
        desk.act_order(who, order_id, action, **fields)
    before = next(i for i in desk.everything("dept_shehui", kind="hotline")[0] if i["id"] == order_id)
    assert before["supervised"] is False and before["note"] is None and before["deadline_status"] == "red"
    desk.act_order("dispatcher1", order_id, "supervise", text="已超期, 请今日内答复")
    item = next(i for i in desk.everything("dept_shehui", kind="hotline")[0] if i["id"] == order_id)
    assert item["supervised"] is True and item["note"] == "已超期, 请今日内答复"
    assert [a["name"] for a in item["actions"]] == ["draft_reply", "return_to_town"] or \
        [a["name"] for a in item["actions"]] == ["draft_reply"]
    entry = desk.order_detail("dept_shehui", order_id)["timeline"][-1]
    assert entry["who"] == "宋英 · 镇综治中心调度员" and entry["who_en"] == "宋英 · town dispatcher"


# ---------------------------------------------------------------- what the desk panel reads


def test_who_never_shows_a_role_code():
    assert actions.who(None, "system", None) == {"who": "系统", "who_en": "system"}
    assert actions.who(None, "resident", None) == {"who": "居民", "who_en": "a resident"}
    assert actions.who(None, "open311", None)["who"] == "Open311 接入系统"
    assert actions.who(None, "department", None)["who"] == "职能部门"
    assert actions.who("王芳", "department", "镇城管科") == {"who": "王芳 · 镇城管科", "who_en": "王芳 · 镇城管科"}
    assert actions.who("石飞", "worker", "镇城管科")["who"] == "石飞 · 专职网格员"  # only a department's account


def test_timelines_name_people_and_their_posts(desk, work):
    case_id = work["dept_huanwei"][1]
    timeline = desk.case("dispatcher1", case_id)["timeline"]
    assert [e["action"] for e in timeline] == ["report", "escalate", "file", "dispatch"]
    assert timeline[0]["who"] == "石飞 · 专职网格员" and timeline[0]["who_en"] == "石飞 · grid worker"
    assert timeline[0]["label_zh"] == "上报" and timeline[0]["label_en"] == "reported"
    assert timeline[3]["who"] == "宋英 · 镇综治中心调度员" and timeline[3]["label_en"] == "dispatch to a department"
    accepted = desk.act("dept_huanwei", case_id, "accept")["timeline"][-1]
    assert accepted["who"] == "邹霞霞 · 镇环卫所"
    for entry in timeline:  # what was there stays
        assert {"at", "action", "label_zh", "role", "actor", "from_state", "to_state", "note", "photos"} <= set(entry)
    order = desk.order_detail("dispatcher1", work["district1"][1])["timeline"]
    assert order[0]["action"] == "import" and order[0]["label_en"] == "dispatched by the platform"
    assert [e["who"] for e in order[1:4]] == ["宋英 · 镇综治中心调度员", "潘海 · 镇领导", "宋英 · 镇综治中心调度员"]
    assert order[4]["action"] == "draft_reply" and order[4]["who"] == "向丽涵 · 镇社会事务办"


def test_detail_names_the_routed_department_the_extension_and_english_state(desk, work, client):
    case_id = work["dept_huanwei"][1]
    shown = desk.case("dispatcher1", case_id)
    categories = {c["code"]: c for c in client.get("/api/v1/categories", headers=desk.headers("dispatcher1"))
                  .get_json()["items"]}
    assert shown["category"]["department"] == "huanwei" and categories["SR02"]["department"]
    assert shown["state_en"] == "dispatched" and shown["extension_request"] is None
    assert categories["TC01"]["name_en"] == "Illegal parking" and categories["TC01"]["class_en"] == "Parking order"
    assert shown["category"]["name_en"] == categories[shown["category"]["code"]]["name_en"]  # for ?lang=en
    listing = client.get("/api/v1/incidents", query_string={"limit": 5}, headers=desk.headers("dispatcher1"))
    assert all(i["state_en"] == cases.STATE_EN[i["state"]] for i in listing.get_json()["items"])
    desk.act("dept_huanwei", case_id, "accept")
    asked = desk.act("dept_huanwei", case_id, "request_extension", note="需采购设备", days=3)
    assert asked["extension_request"]["days"] == 3  # the department sees its own request too
    seen = desk.case("dispatcher1", case_id)
    request = seen["extension_request"]
    assert request["days"] == 3 and request["note"] == "需采购设备" and request["who"] == "邹霞霞 · 镇环卫所"
    assert datetime.fromisoformat(request["at"]) <= now()
    assert {"approve_extension", "refuse_extension"} <= {a["name"] for a in seen["actions"]}
    assert desk.act("dispatcher1", case_id, "approve_extension")["extension_request"] is None


def test_return_is_offered_only_inside_its_window(db, desk, work):
    """GET offers 回退 exactly while POST accepts it: within 1 working day of the dispatch."""
    case_id = work["dept_huanwei"][1]
    assert "return" in {a["name"] for a in desk.case("dept_huanwei", case_id)["actions"]}
    dispatched_at = datetime.fromisoformat(desk.case("dept_huanwei", case_id)["dispatched_at"])
    user = user_named(db, "dept_huanwei")
    shut = cases.return_deadline(dispatched_at, DEFAULT_CALENDAR) + timedelta(minutes=1)
    late = actions.detail(db, user, case_id, str, now=shut, calendar=DEFAULT_CALENDAR)
    assert [a["name"] for a in late["actions"]] == ["accept"]
    with pytest.raises(InvalidInputError) as refused:
        actions.act(db, user, case_id, "return", {"version": late["version"], "note": "不属于本部门"}, str,
                    now=shut, calendar=DEFAULT_CALENDAR)
    assert refused.value.errors[0].field == "action"
    item = inbox.inbox(db, user, now=shut, calendar=DEFAULT_CALENDAR, limit=500)
    assert [a["name"] for a in next(i for i in item["items"] if i["id"] == case_id)["actions"]] == ["accept"]


def test_returnable_since_agrees_with_the_return_deadline():
    base = datetime(2026, 9, 25, 7, 0, tzinfo=SHANGHAI)  # before the National Day holiday
    for step in range(0, 24 * 20, 5):
        at = base + timedelta(hours=step)
        since = cases.returnable_since(at, DEFAULT_CALENDAR)
        for d in (since - timedelta(days=1), since - timedelta(seconds=1), since, since + timedelta(hours=9)):
            if d <= at:
                assert (at <= cases.return_deadline(d, DEFAULT_CALENDAR)) == (d >= since), (at, d)


# ---------------------------------------------------------------- live: 12345 actions reach the badge


def _listen(base, username, into, ready, stop):
    with requests.get(f"{base}/api/v1/stream", headers=served_bearer(base, username), stream=True, timeout=(5, 30)) as r:
        kind = None
        for line in r.iter_lines(decode_unicode=True):
            if line.startswith(": "):
                ready.set()
            elif line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                into.put((kind, json.loads(line[6:])))
            if stop.is_set():
                return


def test_a_12345_action_tells_its_readers_live(live_server):
    who = ("dispatcher1", "dept_shehui", "dept_huanwei", "leader01")
    queues = {name: (queue.Queue(), threading.Event()) for name in who}
    stop = threading.Event()
    for name, (q, ready) in queues.items():
        threading.Thread(target=_listen, args=(live_server, name, q, ready, stop), daemon=True).start()
    for name, (_q, ready) in queues.items():
        assert ready.wait(10), name
    try:
        desk = served_bearer(live_server, "dispatcher1")
        body = {"order_no": f"TJ-LIVE-{uuid.uuid4().hex[:12]}", "content": "楼道灯不亮",
                "dispatched_at": (now() - timedelta(minutes=5)).isoformat()}
        created = requests.post(f"{live_server}{ORDERS}", json=body, headers=desk, timeout=10).json()
        version = created["version"]
        for user, action, fields in (("dispatcher1", "sign", {}), ("townleader1", "instruct", {"text": "请办理"}),
                                     ("dispatcher1", "assign", {"department": "shehui"})):
            r = requests.post(f"{live_server}{ORDERS}/{created['id']}/actions", timeout=10,
                              headers=served_bearer(live_server, user), json={"action": action, "version": version, **fields})
            assert r.status_code == 200, r.text
            version = r.json()["version"]

        def hotline_messages(name, wanted):
            got = []
            while len(got) < wanted:
                kind, message = queues[name][0].get(timeout=5)
                if kind == "hotline" and message["id"] == created["id"]:
                    got.append(message)
            return got

        seen = hotline_messages("dispatcher1", 4)
        assert [m["state"] for m in seen] == ["待签收", "已签收", "已批示", "办理中"]  # imported, then each step
        assert all(m["event"] == "hotline" and m["case_no"] == body["order_no"] for m in seen)
        assert "petitioner_name" not in json.dumps(seen)
        assert hotline_messages("dept_shehui", 1)[0]["state"] == "办理中"  # assigned to it
        threading.Event().wait(0.5)
        for name in ("dept_huanwei", "leader01"):  # another section; a village reads no orders
            while not queues[name][0].empty():
                kind, message = queues[name][0].get_nowait()
                assert kind != "hotline", (name, message)
    finally:
        stop.set()
