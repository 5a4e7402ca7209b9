"""The grid worker's cases on the phone (/m/cases) in headless Chromium at 390 × 844, logged in
through the login page: seed 2-1's parking paths (closed on the spot with a photo, or escalated),
the verification of a fix with a photo (passed, and failed into rework), an action taken with the
network cut and sent once when it is back, and the page opening from the service worker's copy
when the server cannot be reached. Other roles' steps are set up through the API."""

import socket
import threading
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.conftest import ARTIFACTS
from tests.web.phone import (
    PHOTO,
    SMALL,
    UNCOVERED,
    act,
    done,
    only_local,
    open_case,
    phone_page,
    report_on_the_phone,
)


@pytest.fixture(scope="module")
def town(database_url):
    """Workers of this module's own grids (no other test acts there), with a point inside each
    and the leader of its village."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(text("""
            SELECT a.username, g.code, ST_X(ST_PointOnSurface(g.geom)) AS lng, ST_Y(ST_PointOnSurface(g.geom)) AS lat,
                   (SELECT l.username FROM accounts l WHERE l.role = 'leader' AND l.scope_code = left(g.code, 12)) AS leader
              FROM accounts a JOIN grids g ON g.code = a.scope_code AND g.valid_to IS NULL
             WHERE a.username IN ('worker041', 'worker042', 'worker043', 'worker044')
             ORDER BY a.username""")).all()
    engine.dispose()
    return {r.username: r for r in rows}


def _scalar(database_url, query, **params):
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(query), params).scalar()
    finally:
        engine.dispose()


class Api:
    """The other roles' desks (the dispatcher, the village leader), through the API."""

    def __init__(self, base):
        self.base, self.tokens = base, {}

    def _headers(self, who):
        if who not in self.tokens:
            r = requests.post(f"{self.base}/api/v1/auth/login", json={"username": who, "password": "demo"}, timeout=10)
            self.tokens[who] = {"Authorization": f"Bearer {r.json()['token']}"}
        return self.tokens[who]

    def report(self, who, grid, category, description):
        r = requests.post(f"{self.base}/api/v1/incidents", headers=self._headers(who), timeout=10, json={
            "category": category, "description": description, "source": "resident",
            "location": {"lng": grid.lng, "lat": grid.lat, "crs": "wgs84"}, "address": "测试路 1 号"})
        assert r.status_code == 201, r.text
        return r.json()

    def act(self, who, case, action, **fields):
        version = requests.get(f"{self.base}/api/v1/incidents/{case['id']}", headers=self._headers(who), timeout=10).json()["version"]
        r = requests.post(f"{self.base}/api/v1/incidents/{case['id']}/actions", headers=self._headers(who), timeout=10,
                          json={"action": action, "version": version, **fields})
        assert r.status_code == 200, r.text
        return r.json()

    def to_verify(self, grid, description):
        """A case in 待核查 in the grid: reported for a resident, handled by the village."""
        case = self.report("dispatcher1", grid, "SR01", description)
        self.act(grid.leader, case, "village_handle")
        self.act(grid.leader, case, "village_done", note="村里已清理")
        return case


def test_parking_on_the_phone_closed_on_the_spot_or_escalated(browser, live_server, database_url, town):
    grid = town["worker041"]
    context, page = phone_page(browser, live_server, "worker041", grid)
    assert page.locator("#mc-tabs .mc-tab").count() == 5
    assert not page.evaluate(SMALL), page.evaluate(SMALL)  # thumb-sized
    assert not page.evaluate(UNCOVERED), page.evaluate(UNCOVERED)

    number = report_on_the_phone(page, live_server, "违停车辆挡住小区出入口")
    open_case(page, live_server, number)
    card = page.locator("#mc-card").inner_text()
    assert "违规停车" in card and "违停车辆挡住小区出入口" in card and "上报" in card  # the timeline's first entry
    assert page.locator("#mc-detail .thumbs img").count() == 1  # the report's photo
    page.wait_for_selector("#mc-map path.leaflet-interactive", state="attached")  # the point on the small map
    assert page.locator("#mc-actions button").all_inner_texts() == ["就地处置", "上报镇综治中心"]
    assert not page.evaluate(UNCOVERED), page.evaluate(UNCOVERED)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "mobile_case_card.png"), full_page=True)
    act(page, "就地处置", note="已劝说车主将车驶离")
    done(page, "结案")
    timeline = page.locator("#mc-timeline").inner_text()
    assert "就地处置" in timeline and "已劝说车主将车驶离" in timeline
    assert page.locator("#mc-timeline li:has-text('就地处置') img").count() == 1  # the photo taken
    assert _scalar(database_url, "SELECT state FROM incidents WHERE case_no = :n", n=number) == "结案"

    # the other path: the driver is not there, the worker escalates to the town
    number = report_on_the_phone(page, live_server, "货车长时间占用消防通道")
    open_case(page, live_server, number)
    act(page, "上报镇综治中心", note="车主联系不上, 请交警处理", photo=False)
    done(page, "待受理")
    assert _scalar(database_url, "SELECT tier FROM incidents WHERE case_no = :n", n=number) == "town"
    assert page.locator("#mc-actions").inner_text() == "您现在没有可做的操作"
    page.click("#mc-back")
    page.wait_for_selector("#mc-home:not([hidden])")
    page.wait_for_function(f"!document.querySelector('#mc-todo').innerText.includes('{number}')")  # no longer mine
    page.goto(f"{live_server}/m/patrol")
    assert not page.evaluate(UNCOVERED), page.evaluate(UNCOVERED)
    page.goto(f"{live_server}/m/cases")
    page.wait_for_selector("body[data-listed]", state="attached")
    page.screenshot(path=str(ARTIFACTS / "mobile_cases.png"), full_page=True)
    only_local(page)
    context.close()


def test_the_worker_verifies_a_fix_with_a_photo_or_sends_it_back(browser, live_server, database_url, town):
    grid = town["worker042"]
    api = Api(live_server)
    passed, failed = api.to_verify(grid, "路边垃圾堆已清运"), api.to_verify(grid, "垃圾桶破损已更换")
    context, page = phone_page(browser, live_server, "worker042")
    todo = page.locator("#mc-todo").inner_text()
    assert passed["case_no"] in todo and failed["case_no"] in todo and "待核查" in todo

    open_case(page, live_server, passed["case_no"])
    assert page.locator("#mc-actions button").all_inner_texts() == ["核查通过", "核查不通过(返工)"]
    assert not page.evaluate(UNCOVERED), page.evaluate(UNCOVERED)
    page.click("#mc-actions button:has-text('核查通过')")
    page.click("#mc-form button[type=submit]")  # no photo yet: the phone says so before sending
    assert "此操作需要现场照片" in page.locator("#mc-errors").inner_text()
    page.set_input_files("#mc-photos", [PHOTO])
    page.click("#mc-form button[type=submit]")
    done(page, "结案")
    assert "核查通过" in page.locator("#mc-timeline").inner_text()

    # the search by case number finds the other one
    page.click("#mc-back")
    page.fill("#mc-q", failed["case_no"])
    page.click("#mc-search button")
    page.wait_for_selector(f"#mc-title:has-text('{failed['case_no']}')")
    act(page, "核查不通过", note="垃圾桶仍未更换")
    done(page, "处理中")
    assert _scalar(database_url, "SELECT rework_count FROM incidents WHERE id = :i", i=failed["id"]) == 1
    only_local(page)
    context.close()


def test_an_action_taken_offline_waits_and_is_sent_once(browser, live_server, database_url, town):
    grid = town["worker043"]
    case = Api(live_server).report("dispatcher1", grid, "TC01", "电动车堵住楼道口")
    # the page's own queue is tested here: the service worker is kept out of it
    context, page = phone_page(browser, live_server, "worker043", service_workers="block")
    open_case(page, live_server, case["case_no"])
    context.set_offline(True)
    page.evaluate("window.dispatchEvent(new Event('offline'))")
    act(page, "就地处置", note="已请车主挪走")
    page.wait_for_selector("#mc-result.mc-queued")
    assert "已保存在手机上" in page.locator("#mc-result").inner_text()
    assert page.evaluate("document.body.dataset.pending") == "1"
    assert "等待发送" in page.locator("#mc-outbox").inner_text()
    events = "SELECT count(*) FROM case_events WHERE incident_id = :i AND action = 'self_handle'"
    assert _scalar(database_url, events, i=case["id"]) == 0

    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_function("document.body.dataset.pending === '0'", timeout=15_000)
    done(page, "结案")
    assert page.locator("#mc-outbox").is_hidden()
    page.evaluate("window.dispatchEvent(new Event('online'))")  # a second flush finds nothing to send
    page.wait_for_timeout(500)
    assert _scalar(database_url, events, i=case["id"]) == 1
    context.close()


class Link:
    """A TCP relay to the server that can be cut, as a village without signal cuts a phone off:
    every connection is closed and no new one is accepted (Chromium's offline emulation does not
    reach a service worker's own requests)."""

    def __init__(self, target: str):
        self.target = (urlsplit(target).hostname, urlsplit(target).port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.sockets, self.up = [], True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while self.up:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            self.sockets += [client, server]
            pair = {"left": 2, "lock": threading.Lock()}
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b, pair), daemon=True).start()

    @staticmethod
    def _pipe(a, b, pair):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            # the pair's sockets are closed by the last of its two pipes, when neither uses them: a
            # socket closed while the other pipe still sends on it could have its descriptor reused
            # (by a database connection of the test process) and the relayed bytes would land there
            with pair["lock"]:
                pair["left"] -= 1
                last = pair["left"] == 0
            if last:
                a.close()
                b.close()

    def cut(self):
        """Every connection shut down (each pair's pipes then end and close it) and no new one."""
        self.up = False
        self.listener.close()
        for s in self.sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def test_the_phone_pages_open_with_the_network_cut(browser, live_server, database_url, town):
    grid = town["worker044"]
    case = Api(live_server).report("dispatcher1", grid, "TC01", "三轮车占道摆摊")
    link = Link(live_server)
    context, page = phone_page(browser, link.url, "worker044")
    # once the service worker controls the page, the lists are read again through it and kept
    page.wait_for_selector("body[data-sw='ready']", state="attached", timeout=20_000)
    page.wait_for_function("Number(document.body.dataset.listed) >= 2", timeout=20_000)
    assert case["case_no"] in page.locator("#mc-todo").inner_text()
    listed = page.locator("#mc-list").inner_text()

    link.cut()
    context.set_offline(True)
    page.reload()
    page.wait_for_selector("body[data-listed]", state="attached", timeout=20_000)
    assert page.locator("h1").first.inner_text() == "案件与待办"
    assert case["case_no"] in page.locator("#mc-todo").inner_text()  # the last synced cases
    assert page.locator("#mc-list").inner_text() == listed
    assert "数据同步于" in page.locator("#mc-synced").inner_text()
    assert "当前离线" in page.locator("#net").inner_text()
    # the search looks among the cases last synced
    page.fill("#mc-q", case["case_no"][-6:])
    page.click("#mc-search button")
    page.wait_for_selector(f"#mc-found a.mc-row:has-text('{case['case_no']}')")
    # the case's card, read while online, opens too
    page.click(f"#mc-todo a.mc-row:has-text('{case['case_no']}')")
    page.wait_for_selector(f"#mc-title:has-text('{case['case_no']}')")
    assert "三轮车占道摆摊" in page.locator("#mc-detail").inner_text()
    page.wait_for_function("document.querySelectorAll('#mc-map path').length > 10")  # the grids' map data
    # the report and patrol pages open as well, the report's categories with it
    for path, heading in (("/m/", "上报事件"), ("/m/patrol", "签到考勤")):
        page.goto(link.url + path)
        assert page.locator("h1").first.inner_text() == heading
        if path == "/m/":
            page.wait_for_selector("#category option[value='TC01']", state="attached")
    context.close()


def test_a_leader_handles_a_case_of_the_village_in_english(browser, live_server, town):
    grid = town["worker043"]
    case = Api(live_server).report("dispatcher1", grid, "SR01", "村口垃圾堆放")
    context, page = phone_page(browser, live_server, grid.leader)
    assert "辖区案件" in page.locator("#mc-home").inner_text()
    page.fill("#mc-q", case["case_no"])
    page.click("#mc-search button")
    page.wait_for_selector(f"#mc-title:has-text('{case['case_no']}')")
    assert "村级处置" in page.locator("#mc-actions").inner_text()
    act(page, "村级处置", photo=False)
    done(page, "处理中")
    page.click("#mc-actions button:has-text('村级处置完毕')")
    page.click("#mc-form button[type=submit]")  # the note it needs is missing
    assert "请填写说明" in page.locator("#mc-errors").inner_text()
    page.fill("#mc-note", "已组织保洁清运")
    page.click("#mc-form button[type=submit]")
    done(page, "待核查")

    page.goto(f"{live_server}/m/cases/{case['id']}?lang=en")
    page.wait_for_selector(f"#mc-title:has-text('{case['case_no']}')")
    assert page.locator("#mc-state").inner_text() == "To verify"
    assert "Back to the list" in page.locator("#mc-back").inner_text()
    timeline = page.locator("#mc-timeline").inner_text()
    assert "· grid leader" in timeline and "· 网格长" not in timeline  # the leader's title, in English
    assert not page.evaluate(UNCOVERED), page.evaluate(UNCOVERED)
    page.goto(f"{live_server}/m/cases?lang=zh")  # the language cookie back to Chinese
    only_local(page)
    context.close()
