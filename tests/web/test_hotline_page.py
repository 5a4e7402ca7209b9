"""The 12345 desk /hotline in headless Chromium (seed 4-1, pages only): the dispatcher imports the
platform's Excel export in the page, signs for the order; the town leader writes the 批示; the
dispatcher assigns it to a section; the section drafts the 答复意见; the dispatcher replies; the
district closes it and the linked case is settled. A returned order and its re-dispatch. A stale
panel says so and refreshes. At 1600 and 390 px no element covers an action button, no request
leaves 127.0.0.1, the labels are Chinese, and English with ?lang=en.

The only API call is the set-up of an order as the city platform pushes it (POST /hotline/orders)."""

import re
import uuid
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import openpyxl
import pytest
import requests
from sqlalchemy import create_engine, text

from tests.conftest import ARTIFACTS
from workflow.clock import SHANGHAI

DESK = {"viewport": {"width": 1600, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
HEADERS = ["工单编号", "渠道", "诉求人", "联系电话", "诉求内容", "地址", "经度", "纬度", "紧急程度", "派单时间", "答复期限"]


def number(prefix="TJP"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def grid_point(database_url):
    """A point inside worker001's grid, for an order with a location."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("""
                SELECT ST_X(ST_PointOnSurface(g.geom)), ST_Y(ST_PointOnSurface(g.geom))
                  FROM accounts a JOIN grids g ON g.code = a.scope_code AND g.valid_to IS NULL
                 WHERE a.username = 'worker001'""")).one()
    finally:
        engine.dispose()


def pushed_by_the_platform(live_server, order_no, **extra):
    """The set-up: the city platform pushes an order (the only API call of these tests)."""
    session = requests.Session()
    token = session.post(f"{live_server}/api/v1/auth/login",
                         json={"username": "district1", "password": "demo"}).json()["token"]
    body = {"order_no": order_no, "channel": "phone", "petitioner_name": "赵六", "petitioner_phone": "13700001234",
            "content": "小区门口下水道堵塞, 污水外溢", "address": "杨家泊村东街 8 号", "urgency": "normal",
            "dispatched_at": (datetime.now(SHANGHAI) - timedelta(minutes=3)).isoformat(), **extra}
    r = session.post(f"{live_server}/api/v1/hotline/orders", json=body, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


class Desk:
    """One person at the desk: a browser context of their own, signed in through the login page."""

    def __init__(self, browser, live_server, username, device=DESK, lang=None):
        self.context = browser.new_context(**device)
        self.page = self.context.new_page()
        self.requests, self.errors = [], []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.live_server, self.lang = live_server, lang
        self.page.goto(f"{live_server}/auth/login?next=/hotline" + (f"&lang={lang}" if lang else ""))
        self.page.fill("#username", username)
        self.page.fill("#password", "demo")
        self.page.click("button[type=submit]")
        self.page.wait_for_selector("body[data-ready='1']", state="attached", timeout=20_000)

    def open(self, order_id):
        self.page.goto(f"{self.live_server}/hotline?order={order_id}" + (f"&lang={self.lang}" if self.lang else ""))
        self.page.wait_for_selector("body[data-ready='1']", state="attached", timeout=20_000)
        self.page.wait_for_selector("#h-panel h2")
        return self.page

    def act(self, label, text_=None, department=None, expect=None):
        """Click the action's button; fill its form and 提交 when it has one; wait for the answer."""
        page = self.page
        page.click(f"#h-panel .h-actions button:text-is('{label}')")
        if text_ is not None or department is not None:
            page.wait_for_selector("#h-panel form.h-form")
            if department is not None:
                page.select_option("#h-panel form select[name=department]", department)
            if text_ is not None:
                page.fill("#h-panel form textarea[name=text]", text_)
            page.click("#h-panel form button[type=submit]:text-is('提交')")
        page.wait_for_selector("#h-msg:not(:empty)")
        message = page.locator("#h-msg").inner_text()
        assert message.startswith(f"已办理: {label}"), message
        if expect:
            page.wait_for_function(f"document.querySelector('#h-panel h2 .st').innerText === '{expect}'")
        return message

    def state(self):
        return self.page.locator("#h-panel h2 .st").inner_text()

    def buttons(self):
        return self.page.locator("#h-panel .h-actions button").all_inner_texts()

    def close(self):
        hosts = {urlsplit(u).hostname for u in self.requests if not u.startswith(("data:", "blob:"))}
        assert hosts == {"127.0.0.1"}, hosts
        assert not self.errors, self.errors
        self.context.close()


def write_export(path, order_no, lng, lat):
    """The platform's export: a merged title row above the header, one order."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["12345 便民服务专线工单"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADERS))
    sheet.append(HEADERS)
    sheet.append([order_no, "电话", "张三丰", "13812345678", "村口路灯不亮已一周, 夜间出行不便", "杨家泊村振兴路 3 号",
                  lng, lat, "一般", datetime.now(SHANGHAI).replace(tzinfo=None) - timedelta(minutes=10), None])
    book.save(path)
    return path


def uncovered(page, selector):
    """Every element matching ``selector`` is the topmost element at its centre once scrolled to."""
    covered = []
    for handle in page.locator(selector).element_handles():
        handle.scroll_into_view_if_needed()
        ok = page.evaluate("""(b) => { const r = b.getBoundingClientRect();
            const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
            return top === b || b.contains(top); }""", handle)
        if not ok:
            covered.append(handle.inner_text())
    return covered


def test_seed_4_1_from_import_to_the_districts_close(browser, live_server, database_url, tmp_path):
    lng, lat = grid_point(database_url)
    order_no = number()
    desk = Desk(browser, live_server, "dispatcher1")
    page = desk.page
    assert page.locator("h1, .h-bar, #h-import").first.is_visible()
    assert "签收时限" in page.locator("#h-limits").inner_text() and "15 分钟" in page.locator("#h-limits").inner_text()

    # the import: the platform's Excel, as the desk downloads it, uploaded in the page
    page.set_input_files("#h-file", str(write_export(tmp_path / "工单导出.xlsx", order_no, lng, lat)))
    page.click("#h-import button[type=submit]:text-is('导入')")
    page.wait_for_selector("#h-import-result.ok li a")
    result = page.locator("#h-import-result").inner_text()
    assert "新建 1 个" in result and f"第 3 行 {order_no}: 新建" in result
    page.click(f"#h-import-result li a:has-text('{order_no}')")
    page.wait_for_function(f"document.querySelector('#h-panel h2') && "
                           f"document.querySelector('#h-panel h2').innerText.includes('{order_no}')")
    order_id = page.evaluate("new URL(location.href).searchParams.get('order')")
    assert desk.state() == "待签收" and desk.buttons() == ["签收", "退回(非本镇职责)"]
    panel = page.locator("#h-panel").inner_text()
    assert "张三丰 · 13812345678" in panel  # the desk sees the petitioner in full
    assert page.locator("#h-map .leaflet-interactive").count() == 1  # the place on the small map
    assert page.locator("#h-list li", has_text=order_no).locator(".cd[data-kind=accept]").inner_text().startswith("签收 剩")
    desk.act("签收", expect="已签收")
    assert page.locator("#h-panel .h-deadlines .cd[data-kind=accept]").inner_text() == "签收 已完成"
    desk.close()

    leader = Desk(browser, live_server, "townleader1")
    leader.open(order_id)
    assert "已脱敏" in leader.page.locator("#h-panel").inner_text()  # a leader sees it masked
    assert "13812345678" not in leader.page.locator("#h-panel").inner_text()
    assert leader.buttons() == ["领导批示"]
    leader.page.click("#h-panel .h-actions button:text-is('领导批示')")
    leader.page.click("#h-panel form button[type=submit]:text-is('提交')")  # nothing written yet
    leader.page.wait_for_selector("#h-panel form .error:not(:empty)")
    assert "需要填写内容" in leader.page.locator("#h-panel form .error").inner_text()
    leader.act("领导批示", "请社会事务办核实, 三日内答复群众", expect="已批示")
    leader.close()

    desk = Desk(browser, live_server, "dispatcher1")
    desk.open(order_id)
    desk.act("转派业务科室", department="shehui", expect="办理中")
    assert "社会事务" in desk.page.locator("#h-panel .h-fields").inner_text()
    desk.close()

    section = Desk(browser, live_server, "dept_shehui")
    section.open(order_id)
    assert section.buttons() == ["书写答复意见", "退回镇综治中心(非本科室职责)"]
    section.act("书写答复意见", "经核实, 路灯已于今日修复", expect="待答复")
    section.close()

    desk = Desk(browser, live_server, "dispatcher1")
    desk.open(order_id)
    desk.act("答复信访人", expect="已答复")
    assert "经核实, 路灯已于今日修复" in desk.page.locator("#h-panel .h-fields").inner_text()
    desk.close()

    district = Desk(browser, live_server, "district1")
    page = district.open(order_id)
    message = district.act("结案", expect="已办结")
    assert "已随工单结案" in message  # the linked case is settled with the order
    panel = page.locator("#h-panel").inner_text()
    assert page.locator("#h-panel a.h-case").get_attribute("href").startswith("/inbox?case=")
    assert " 结案" in page.locator("#h-panel .h-fields").inner_text()
    timeline = page.locator("#h-panel .h-timeline li").all_inner_texts()
    assert [line.split()[2] for line in timeline] == [
        "派单导入", "签收", "领导批示", "转派业务科室", "书写答复意见", "答复信访人", "结案"]
    assert "请社会事务办核实, 三日内答复群众" in panel and "已随工单结案" in timeline[-1]
    assert not re.search(r"\b(dispatcher|town_leader|department|district)\b", " ".join(timeline))  # names, not codes
    assert district.buttons() == ["您现在没有可办理的操作"] or page.locator("#h-panel .h-actions button").count() == 0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "hotline.png"))
    district.close()


def test_another_desks_step_shows_without_reloading(browser, live_server):
    order_id = pushed_by_the_platform(live_server, number())
    leader = Desk(browser, live_server, "townleader1")
    leader.open(order_id)
    assert leader.state() == "待签收"
    desk = Desk(browser, live_server, "dispatcher1")
    desk.open(order_id)
    desk.act("签收", expect="已签收")
    # the leader's panel and list follow the stream: signed, and the instruction is offered at once
    leader.page.wait_for_function("document.querySelector('#h-panel h2 .st').innerText === '已签收'", timeout=15_000)
    assert "领导批示" in leader.buttons()
    row = leader.page.locator(f"#h-list li[data-id='{order_id}'] .st")
    if row.count():
        row.wait_for()
        leader.page.wait_for_function(f"document.querySelector(\"#h-list li[data-id='{order_id}'] .st\").innerText === '已签收'")
    # and this desk's own message stays, not redrawn away by its own step's echo
    desk.page.wait_for_timeout(1500)
    assert desk.page.locator("#h-msg").inner_text().startswith("已办理: 签收")
    leader.close()
    desk.close()


def test_a_returned_order_and_its_redispatch(browser, live_server):
    order_no = number()
    order_id = pushed_by_the_platform(live_server, order_no, content="邻镇的路灯不亮, 误派到本镇")
    desk = Desk(browser, live_server, "dispatcher1")
    desk.open(order_id)
    desk.page.click("#h-panel .h-actions button:text-is('退回(非本镇职责)')")
    assert desk.page.locator("#h-panel form textarea[name=text]").is_visible()
    desk.act("退回(非本镇职责)", "该路段属邻镇管辖, 请区平台改派", expect="已退回")
    assert desk.page.locator("#h-panel .h-deadlines .cd[data-kind=reply]").inner_text() == "答复 已停止"
    desk.close()

    district = Desk(browser, live_server, "district1")
    district.open(order_id)
    assert "该路段属邻镇管辖, 请区平台改派" in district.page.locator("#h-panel .h-timeline").inner_text()
    district.act("重新派发", expect="待签收")
    assert "退回 1 次" in district.page.locator("#h-panel .h-deadlines").inner_text()
    district.close()


def test_a_stale_panel_says_so_and_refreshes(browser, live_server):
    order_id = pushed_by_the_platform(live_server, number())
    first = Desk(browser, live_server, "dispatcher1")
    first.open(order_id)
    second = first.context.new_page()
    second.goto(f"{live_server}/hotline?order={order_id}")
    second.wait_for_selector("#h-panel h2")
    second.click("#h-panel .h-actions button:text-is('签收')")
    second.wait_for_selector("#h-msg:not(:empty)")
    first.page.click("#h-panel .h-actions button:text-is('签收')")  # the first panel still shows 待签收
    first.page.wait_for_selector("#h-msg.warn")
    assert "已被他人更新" in first.page.locator("#h-msg").inner_text()
    assert first.state() == "已签收" and "签收" not in first.buttons()
    first.close()


def test_filters_paging_and_the_overdue_colour(browser, live_server):
    late = pushed_by_the_platform(live_server, number("TJL"), urgency="life_property",
                                  dispatched_at=(datetime.now(SHANGHAI) - timedelta(minutes=40)).isoformat())
    desk = Desk(browser, live_server, "dispatcher1")
    page = desk.page
    page.check("#h-overdue")
    page.wait_for_function("!document.body.dataset.loading && document.querySelectorAll('#h-list li[data-id]').length > 0")
    row = page.locator(f"#h-list li[data-id='{late}']")
    if row.count() == 0:  # other tests' overdue orders come first: page on until it shows
        while row.count() == 0 and page.locator("#h-next").is_enabled():
            page.click("#h-next")
            page.wait_for_function("!document.body.dataset.loading")
    badge = row.locator(".cd[data-kind=accept]")
    assert "c-red" in badge.get_attribute("class") and badge.inner_text().startswith("签收 超期")
    assert all("late" in (c or "") for c in page.locator("#h-list li[data-id]").evaluate_all(
        "ls => ls.map((l) => l.className)"))
    page.uncheck("#h-overdue")
    page.select_option("#h-state", "已办结")
    page.wait_for_function("!document.body.dataset.loading")
    states = page.locator("#h-list li[data-id] .st").all_inner_texts()
    assert set(states) <= {"已办结"}
    assert page.locator("#h-page").inner_text().startswith("第 1 /")
    desk.close()


@pytest.mark.parametrize("device", [DESK, PHONE], ids=["1600px", "390px"])
def test_no_element_covers_an_action_button(browser, live_server, database_url, device):
    lng, lat = grid_point(database_url)
    order_id = pushed_by_the_platform(live_server, number(), lng=lng, lat=lat)
    desk = Desk(browser, live_server, "dispatcher1", device=device)
    page = desk.open(order_id)
    page.click("#h-panel .h-actions button:text-is('退回(非本镇职责)')")  # a form open too
    page.wait_for_selector("#h-panel form.h-form")
    assert uncovered(page, "#h-panel .h-actions button, #h-panel form button, #h-import button, "
                           ".h-pager button") == []
    wide = page.evaluate("""() => [...document.querySelectorAll('main *')]
        .filter((e) => !e.closest('.leaflet-container'))  // the map clips its own layers
        .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .map((e) => e.tagName + '#' + e.id + '.' + e.className)""")
    assert wide == []  # nothing of the desk sticks out sideways
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"hotline-{device['viewport']['width']}.png"), full_page=True)
    desk.act("签收", expect="已签收")
    desk.close()

    # the town leader, on the phone or at the desk, writes the 批示 with nothing in the way
    leader = Desk(browser, live_server, "townleader1", device=device)
    page = leader.open(order_id)
    page.click("#h-panel .h-actions button:text-is('领导批示')")
    page.wait_for_selector("#h-panel form textarea[name=text]")
    assert uncovered(page, "#h-panel .h-actions button, #h-panel form button, #h-panel form textarea") == []
    leader.act("领导批示", "请尽快核实", expect="已批示")
    leader.close()


def test_english_with_lang_en(browser, live_server):
    order_id = pushed_by_the_platform(live_server, number())
    desk = Desk(browser, live_server, "dispatcher1", lang="en")
    page = desk.open(order_id)
    assert page.locator("html").get_attribute("lang") == "en"
    assert desk.buttons() == ["sign for the order", "return: not this town's responsibility"]
    assert desk.state() == "awaiting sign-for"
    assert page.locator("#h-import button[type=submit]").inner_text() == "Import"
    assert "Sign-for limits" in page.locator("#h-limits").inner_text()
    text_ = page.locator("main").inner_text()
    assert "Timeline" in text_ and "Petitioner" in text_ and "dispatched by the platform" in text_
    labels = page.locator("#h-bar, .h-fields dt, #h-panel h3, .cd, #h-import label").all_inner_texts()
    assert not [t for t in labels if re.search(r"[\u4e00-\u9fff]", t)], labels  # no Chinese label left
    desk.close()
