"""The supervision desk /supervision (督办): its API additions (filters by village and category,
the 12345 orders to press on, the summary the town reports upward and its workbook), and the page
in headless Chromium at 1600 and 390 px: a dispatcher finds a red case in its village's group,
presses 督办 with a note, and the note is in the case's timeline on /dispatch."""

import io
import re
import uuid
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from tests.conftest import ARTIFACTS
from tests.web import test_supervision as sv
from tests.web.test_hotline import Desk as HotlineDesk
from tests.web.test_hotline import advance
from tests.web.test_hotline import order as hotline_order
from tests.web.test_patrol_pages import assert_local, watch
from tests.web.test_patrol_pages import login as sign_in
from workflow import cases as case_rules
from workflow import hotline as orders
from workflow.clock import SHANGHAI

# the supervision API tests' cases at their fixed moment, and their desk
_fresh_calendar_cache, desk, now, cases, other_village_worker = (
    sv._fresh_calendar_cache, sv.desk, sv.now, sv.cases, sv.other_village_worker)

# ---------------------------------------------------------------- the API


@pytest.fixture
def undispatched(connection, cases):
    """The reported case of ``cases`` with no department yet, as a case waiting for the town is."""
    connection.execute(text("UPDATE incidents SET department_id = NULL WHERE id = :i"), {"i": cases["reported"]})
    return cases


def test_list_filters_by_village_and_category_and_names_the_village(desk, undispatched, connection, now):
    cases = undispatched
    village = connection.execute(text("SELECT village_code FROM incidents WHERE id = :i"),
                                 {"i": cases["red"]}).scalar_one()
    items, _ = desk.listing("dispatcher1", village=village)
    assert cases["red"] in {i["id"] for i in items} and cases["elsewhere"] not in {i["id"] for i in items}
    assert all(i["village_code"] == village and i["village"]["code"] == village and i["village"]["name"]
               for i in items)
    police, _ = desk.listing("dispatcher1", category="TC02")
    assert {i["category"]["code"] for i in police} == {"TC02"} and cases["police"] in {i["id"] for i in police}
    waiting, _ = desk.listing("dispatcher1", department="none")
    assert cases["reported"] in {i["id"] for i in waiting} and all(i["department"] is None for i in waiting)
    red = next(i for i in items if i["id"] == cases["red"])
    assert red["can_supervise"] is True and red["supervision"] is None
    reported = next(i for i in items if i["id"] == cases["reported"])
    assert reported["can_supervise"] is False  # 督办 is for dispatched cases
    assert all(not i["can_supervise"] for i in desk.listing("leader01")[0])  # a leader reads, does not press


@pytest.mark.parametrize("param, value, reason", [
    ("village", "120116103999", "没有代码为 120116103999 的村/社区"),
    ("category", "none", "没有代码为 none 的类别"),
    ("category", "' OR 1=1 --", "的类别"),
])
def test_unknown_filters_are_refused_in_both_languages(desk, param, value, reason):
    r = desk.get("dispatcher1", "/api/v1/supervision", **{param: value})
    assert r.status_code == 422, r.get_json()
    errors = r.get_json()["errors"]
    assert errors[0]["field"] == param and reason in errors[0]["zh"] and errors[0]["en"]


def test_a_supervised_case_shows_the_note_in_the_list(desk, cases, now):
    version = desk.get("dispatcher1", f"/api/v1/incidents/{cases['red']}").get_json()["version"]
    r = desk.client.post(f"/api/v1/incidents/{cases['red']}/actions", headers=desk.headers("dispatcher1"),
                         json={"action": "supervise", "version": version, "note": "请今日内处理完毕"})
    assert r.status_code == 200, r.get_json()
    items, _ = desk.listing("dispatcher1")
    red = next(i for i in items if i["id"] == cases["red"])
    assert red["state"] == "督办" and red["can_supervise"] is False
    assert red["supervision"]["note"] == "请今日内处理完毕" and red["supervision"]["count"] == 1


def test_summary_counts_what_the_town_reports_upward(desk, undispatched, connection, now):
    cases = undispatched
    body = desk.get("dispatcher1", "/api/v1/supervision/summary").get_json()
    items, listed = desk.listing("dispatcher1")
    total = body["total"]
    assert total["red"] == listed["counts"]["red"] and total["yellow"] == listed["counts"]["yellow"]
    assert total["parked"] >= 1 and total["open"] >= total["red"] + total["yellow"]
    village = connection.execute(text("SELECT village_code FROM incidents WHERE id = :i"),
                                 {"i": cases["red"]}).scalar_one()
    row = next(g for g in body["by"]["village"] if g["code"] == village)
    in_village = [i for i in items if i["village_code"] == village]
    assert row["red"] == sum(i["status"] == "red" for i in in_village) and row["name"]
    assert row["yellow"] == sum(i["status"] == "yellow" for i in in_village)
    for grouping in ("village", "department", "category"):
        assert sum(g["red"] for g in body["by"][grouping]) == total["red"], grouping
        assert sum(g["open"] for g in body["by"][grouping]) == total["open"], grouping
    dept = {g["code"]: g for g in body["by"]["department"]}
    assert dept["jiaojing"]["red"] >= 1 and dept["none"]["red"] >= 1  # the reported case, not yet dispatched
    # the leader's scope: their village only
    leader = desk.get("leader01", "/api/v1/supervision/summary").get_json()
    assert leader["total"]["open"] < total["open"]
    assert {g["code"] for g in leader["by"]["village"]} <= {village, "none"}
    assert desk.get("worker001", "/api/v1/supervision/summary").status_code == 403


def test_summary_workbook_has_a_sheet_per_grouping_with_totals(desk, cases, now):
    r = desk.get("dispatcher1", "/api/v1/supervision/summary.xlsx")
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    assert re.search(r'filename=supervision_\d{8}\.xlsx', r.headers["Content-Disposition"])
    book = load_workbook(io.BytesIO(r.data))
    assert book.sheetnames == ["按村社区", "按部门", "按类别"]
    summary = desk.get("dispatcher1", "/api/v1/supervision/summary").get_json()
    sheet = book["按村社区"]
    assert [c.value for c in sheet[2]][:4] == ["村/社区编码", "村/社区名称", "未办结", "超期"]
    last = [c.value for c in sheet[sheet.max_row]]
    assert last[0] == "合计 total" and last[2] == summary["total"]["open"] and last[3] == summary["total"]["red"]


def test_orders_to_press_on_are_red_and_yellow_by_their_clocks(client):
    hotline = HotlineDesk(client)
    late = hotline.new(no=f"TJ-SV-{uuid.uuid4().hex[:8]}", minutes_ago=60 * 24 * 12,
                       reply_deadline=(datetime.now(SHANGHAI) - timedelta(days=1)).isoformat())
    advance(hotline, late, "办理中")
    # pending: 1 working day to sign for it, nearly used up... a life-or-property order of 15 minutes,
    # dispatched 12 minutes ago, is yellow
    soon = hotline.new(no=f"TJ-SV-{uuid.uuid4().hex[:8]}", minutes_ago=12, urgency="life_property")
    fine = hotline.new(no=f"TJ-SV-{uuid.uuid4().hex[:8]}", minutes_ago=1)
    body = client.get("/api/v1/supervision/orders", headers=hotline.headers("dispatcher1")).get_json()
    by_id = {o["id"]: o for o in body["items"]}
    assert by_id[late]["status"] == "red" and by_id[late]["clock"] == "reply" and by_id[late]["can_supervise"]
    assert by_id[soon]["status"] == "yellow" and by_id[soon]["clock"] == "accept"
    assert not by_id[soon]["can_supervise"]  # 督办 is for overdue orders
    assert fine not in by_id
    assert [o["status"] for o in body["items"]] == sorted((o["status"] for o in body["items"]),
                                                         key=["red", "yellow"].index)
    red_only = client.get("/api/v1/supervision/orders?status=red", headers=hotline.headers("dispatcher1")).get_json()
    assert soon not in {o["id"] for o in red_only["items"]} and late in {o["id"] for o in red_only["items"]}
    # the town leader reads them, but pressing on an order is the desk's
    leader = client.get("/api/v1/supervision/orders", headers=hotline.headers("townleader1")).get_json()
    assert late in {o["id"] for o in leader["items"]} and not any(o["can_supervise"] for o in leader["items"])
    hotline.act("dispatcher1", late, "supervise", text="请今日答复")
    body = client.get("/api/v1/supervision/orders", headers=hotline.headers("dispatcher1")).get_json()
    pressed = next(o for o in body["items"] if o["id"] == late)
    assert pressed["supervision"]["note"] == "请今日答复" and pressed["supervise_count"] == 1
    summary = client.get("/api/v1/supervision/summary", headers=hotline.headers("dispatcher1")).get_json()
    assert summary["orders"] and summary["total"]["orders_red"] >= 1 and summary["total"]["orders_yellow"] >= 1


def test_the_page_needs_the_right_role(client):
    from tests.conftest import login

    login(client, "worker001")
    r = client.get("/supervision")
    assert r.status_code == 403 and "此角色不能查看督办清单" in r.get_data(as_text=True)
    login(client, "dispatcher1")
    html = client.get("/supervision").get_data(as_text=True)
    assert "督办清单" in html and "上报汇总" in html and "按村/社区" in html
    en = client.get("/supervision?lang=en").get_data(as_text=True)
    assert "Supervision" in en and "By village" in en and "上报汇总" not in en
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', en)  # no CDN: everything from this server


@pytest.mark.parametrize("username", ["leader01", "townleader1", "dept_huanwei", "district1"])
def test_every_role_that_reads_supervision_opens_the_page_and_its_data(client, username):
    from tests.conftest import login

    login(client, username)
    assert client.get("/supervision").status_code == 200
    summary = client.get("/api/v1/supervision/summary")
    assert summary.status_code == 200 and set(summary.get_json()["by"]) == {"village", "department", "category"}
    assert client.get("/api/v1/supervision/orders").status_code == 200
    if username == "dept_huanwei":  # a department sees what was sent to it
        assert {g["code"] for g in summary.get_json()["by"]["department"]} <= {"huanwei"}


# ---------------------------------------------------------------- the page in Chromium

# Every visible button and link of the page's content, scrolled into view: is the element at its
# centre the button itself (or inside it)? Answers the ones something else covers.
COVERED = """(selector) => {
  const bad = [];
  for (const b of document.querySelectorAll(selector)) {
    if (!b.getClientRects().length || getComputedStyle(b).visibility === 'hidden') continue;
    b.scrollIntoView({block: 'center', inline: 'center'});
    const r = b.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    if (!hit || !(hit === b || b.contains(hit))) {
      bad.push((b.textContent || b.getAttribute('aria-label') || b.tagName).trim().slice(0, 30) + ' ← ' +
               (hit ? hit.tagName + '.' + hit.className : 'nothing'));
    }
  }
  return bad;
}"""
BUTTONS = "main button, main a, main select, main textarea"


@pytest.fixture
def red_case(engine):
    """A dispatched case of worker001's grid, a week overdue, committed for the live server; its
    id, number and village (code, name)."""
    with engine.begin() as conn:
        case_id = sv.make_case(conn, start=datetime.now(SHANGHAI) - timedelta(days=9))
        row = conn.execute(text("""
            SELECT i.case_no, i.village_code, a.name FROM incidents i JOIN areas a ON a.code = i.village_code
             WHERE i.id = :i"""), {"i": case_id}).one()
    return case_id, row.case_no, row.village_code, row.name


def open_village(page, village_name: str, case_no: str):
    """Click the village in the 按村/社区 table; page through its list until the case shows."""
    page.click("#sv-group-table tbody button.sv-group >> text=" + village_name)
    page.wait_for_function("(name) => document.querySelector('#sv-chosen').innerText.includes(name)"
                           " && !document.body.dataset.loading", arg=village_name, timeout=10_000)
    item = page.locator(f"#sv-cases li[data-no='{case_no}']")
    for _ in range(40):
        if item.count():
            return item
        page.click("#sv-more")
        page.wait_for_function("!document.body.dataset.loading", timeout=10_000)
    raise AssertionError(f"{case_no} is not in the list of {village_name}")


def test_a_dispatcher_presses_on_a_red_case_and_the_note_reaches_its_timeline(page, live_server, red_case):
    case_id, case_no, village, village_name = red_case
    seen, errors = watch(page)
    page.set_viewport_size({"width": 1600, "height": 900})
    sign_in(page, live_server, "dispatcher1", "/supervision")
    page.wait_for_selector("body[data-ready='1']", timeout=20_000)
    # the counts the town reports upward, and the village in the 按村/社区 group with its red cases
    totals = page.locator("#sv-totals").inner_text()
    assert "未办结" in totals and "超期" in totals and "临期" in totals and "挂账" in totals
    group = page.locator(f"#sv-group-table tbody tr[data-code='{village}']")
    assert village_name in group.inner_text() and int(group.locator("td").first.inner_text().replace(",", "")) >= 1

    item = open_village(page, village_name, case_no)
    assert item.locator(".dot").get_attribute("class").endswith("s-red")
    assert "已超期" in item.inner_text() and "立案派遣" in item.inner_text()
    assert page.evaluate(COVERED, BUTTONS) == []

    item.locator("button[data-action='supervise']").click()
    page.click(f"#sv-cases li[data-no='{case_no}'] form button[type=submit]")  # no note yet
    assert "督办意见" in page.locator(f"#sv-cases li[data-no='{case_no}'] form .error").inner_text()
    assert page.evaluate(COVERED, BUTTONS) == []  # the open form covers nothing
    note = f"已超期一周, 请镇环卫所今日内处理完毕并反馈 {uuid.uuid4().hex[:6]}"
    page.fill(f"#sv-cases li[data-no='{case_no}'] textarea", note)
    page.click(f"#sv-cases li[data-no='{case_no}'] form button[type=submit]")
    page.wait_for_selector(f"#sv-cases li[data-no='{case_no}'] .sv-ok", timeout=10_000)
    item = page.locator(f"#sv-cases li[data-no='{case_no}']")
    shown = item.inner_text()
    assert "已督办" in shown and note in shown and "督办" in item.locator(".sv-state").inner_text()
    assert item.locator("button[data-action='supervise']").count() == 0  # pressed once, not twice
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "supervision-1600.png"), full_page=True)

    # after a reload the case still shows its 督办 and the note
    page.reload()
    page.wait_for_selector("body[data-ready='1']", timeout=20_000)
    item = open_village(page, village_name, case_no)
    assert note in item.inner_text() and "已督办" in item.inner_text()

    # the note is in the case's timeline, on the dispatcher's console
    page.goto(f"{live_server}/dispatch")
    page.wait_for_selector("body[data-map-ready='1']", timeout=20_000)
    page.fill("#q", case_no)
    page.press("#q", "Enter")
    page.wait_for_function("(no) => document.querySelector('#d-panel').innerText.includes(no)", arg=case_no,
                           timeout=10_000)
    timeline = page.locator("#d-case .d-timeline").inner_text()
    assert "督办" in timeline and note in timeline
    assert_local(seen, errors)


def test_on_a_phone_nothing_covers_a_button_and_english_is_english(browser, live_server, red_case):
    _case_id, case_no, _village, village_name = red_case
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    seen, errors = watch(page)
    sign_in(page, live_server, "dispatcher1", "/supervision")
    page.wait_for_selector("body[data-ready='1']", timeout=20_000)
    assert page.evaluate("document.querySelector('main').scrollWidth <= window.innerWidth")  # no sideways scroll
    item = open_village(page, village_name, case_no)
    item.locator("button[data-action='supervise']").click()
    assert page.evaluate(COVERED, BUTTONS) == []
    box = item.locator("button[data-action='supervise']").bounding_box()
    assert box["height"] >= 40 and box["width"] >= 300  # a thumb's button
    page.click(f"#sv-cases li[data-no='{case_no}'] form button.secondary")  # 取消
    assert item.locator("form").count() == 0
    page.screenshot(path=str(ARTIFACTS / "supervision-390.png"), full_page=True)

    page.goto(f"{live_server}/supervision?lang=en")
    page.wait_for_selector("body[data-ready='1']", timeout=20_000)
    body = page.inner_text("main")
    assert "Supervision" in body and "By village" in body and "Overdue" in body
    assert not re.search(r"督办清单|上报汇总|按村|加载更多", body)
    page.wait_for_selector("#sv-cases li .sv-state")
    shown = set(page.locator(".sv-state").all_inner_texts())
    assert shown and shown <= set(case_rules.STATE_EN.values()) | set(orders.STATE_EN.values()), shown
    context.close()
    assert_local(seen, errors)


@pytest.fixture
def late_order(app, engine):
    """A 12345 order the city platform pushed 12 days ago with its reply already due, which the
    desk signed for at the time (set up in the database, as the seed's history would leave it)."""
    client = app.test_client()  # commits, like the live server
    token = client.post("/api/v1/auth/login", json={"username": "dispatcher1", "password": "demo"}).get_json()["token"]
    no = f"TJ-SV-{uuid.uuid4().hex[:8]}"
    body = hotline_order(no=no, minutes_ago=60 * 24 * 12,
                         reply_deadline=(datetime.now(SHANGHAI) - timedelta(days=2)).isoformat())
    r = client.post("/api/v1/hotline/orders", json=body, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.get_json()
    with engine.begin() as conn:
        conn.execute(text("UPDATE hotline_orders SET state = '已签收', signed_at = dispatched_at + interval '10 minutes', "
                          "version = version + 1 WHERE order_no = :n"), {"n": no})
    return no


def test_the_desk_presses_on_a_late_12345_order(page, live_server, late_order):
    seen, errors = watch(page)
    page.set_viewport_size({"width": 1600, "height": 900})
    sign_in(page, live_server, "dispatcher1", "/supervision")
    page.wait_for_selector("body[data-ready='1']", timeout=20_000)
    item = page.locator(f"#sv-orders li[data-no='{late_order}']")
    item.wait_for(timeout=10_000)
    assert item.locator(".dot").get_attribute("class").endswith("s-red")
    assert "答复时限" in item.inner_text() and "已超期" in item.inner_text() and "已签收" in item.inner_text()
    item.locator("button[data-action='supervise']").click()
    page.fill(f"#sv-orders li[data-no='{late_order}'] textarea", "答复已超期两天, 请今日内答复信访人")
    page.click(f"#sv-orders li[data-no='{late_order}'] form button[type=submit]")
    page.wait_for_selector(f"#sv-orders li[data-no='{late_order}'] .sv-ok", timeout=10_000)
    item = page.locator(f"#sv-orders li[data-no='{late_order}']")
    assert "已督办" in item.inner_text() and "请今日内答复信访人" in item.inner_text()
    page.reload()
    page.wait_for_selector("body[data-ready='1']", timeout=20_000)
    item = page.locator(f"#sv-orders li[data-no='{late_order}']")
    item.wait_for(timeout=10_000)
    assert "请今日内答复信访人" in item.inner_text() and item.locator("button[data-action='supervise']").count() == 1
    assert page.evaluate(COVERED, BUTTONS) == []
    assert_local(seen, errors)
