"""Seeds 1-1 and 2-1 walked through the pages by every role they take, each signed in through the
login page on the device they use (workers and the village leader on a 390 px phone, the dispatcher
and the department at a 1600 px desk). 1-1: the worker reports with a photo, the leader sees it
arrive in 待办 and escalates, the dispatcher files and dispatches, the department accepts and reports
back with a photo, the worker fails the verification (rework), the department reports back again,
the worker passes it with a photo: closed. 2-1: the worker escalates a parked lorry, the traffic
police report back, the worker verifies. No API call: only what a person clicks.

Then every page of the product, at 390 px and at 1600 px, as the role that uses it: nothing covers a
button (the topmost element at its centre is the button), no request leaves 127.0.0.1, no script
error, the page is in Chinese, and with ?lang=en its headings, buttons, labels and menu are in
English."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from tests.conftest import ARTIFACTS
from tests.web.desk import (
    DESK,
    PHONE,
    act_in_panel,
    console,
    hosts,
    open_in_inbox,
    search_console,
    signed_in,
    watch,
)
from tests.web.phone import PHOTO, act, done, only_local, open_case, phone_page, report_on_the_phone

WORKER, PARKING_WORKER = "worker051", "worker052"  # grids no other test acts in


def _grid(engine, username):
    """The worker's grid: a point inside it, and the leader of its village."""
    with engine.connect() as conn:
        return conn.execute(text("""
            SELECT g.code, ST_X(ST_PointOnSurface(g.geom)) AS lng, ST_Y(ST_PointOnSurface(g.geom)) AS lat,
                   (SELECT l.username FROM accounts l WHERE l.role = 'leader' AND l.scope_code = left(g.code, 12)) AS leader
              FROM accounts a JOIN grids g ON g.code = a.scope_code AND g.valid_to IS NULL
             WHERE a.username = :u"""), {"u": username}).one()


@pytest.fixture(scope="module")
def grid(engine):
    return _grid(engine, WORKER)


def _wait_state(page, state):
    page.wait_for_function(f"(document.querySelector('#d-case .state') || {{}}).textContent === '{state}'",
                           timeout=15_000)


def _town_files_and_dispatches(page, live_server, number, department):
    """The dispatcher, on the console: 受理立案, then 派遣 to the department preselected (the one the
    category routes to, which must be ``department``)."""
    console(page, live_server)
    search_console(page, number)
    act_in_panel(page, "file")
    _wait_state(page, "已立案")
    page.click("#d-case button[data-action='dispatch']")
    form = page.locator("#d-case form[data-action='dispatch']")
    assert form.locator("select[name=department]").input_value() == department  # preselected
    form.locator("button[type=submit]").click()
    _wait_state(page, "立案派遣")
    assert "已办理: 派遣" in page.locator("#d-done").inner_text()


def _department_accepts(page, live_server, username, number):
    signed_in(page, live_server, username, "/inbox")
    open_in_inbox(page, number)
    act_in_panel(page, "accept")
    _wait_state(page, "处理中")


def _department_reports_back(page, live_server, case_no, note):
    page.goto(f"{live_server}/inbox")
    open_in_inbox(page, case_no)
    act_in_panel(page, "feedback", note=note, photo=PHOTO)
    _wait_state(page, "待核查")
    assert "已办理: 处理反馈" in page.locator("#d-done").inner_text()


def test_seed_1_1_through_the_pages(browser, live_server, engine, grid):
    worker_ctx, worker = phone_page(browser, live_server, WORKER, grid)
    leader_ctx, leader = phone_page(browser, live_server, grid.leader)
    desk = browser.new_context(viewport=DESK)
    dispatcher, department = desk.new_page(), browser.new_context(viewport=DESK).new_page()
    desk_seen = [watch(dispatcher), watch(department)]
    try:
        # the worker reports a pile of rubbish (SR01) with a photo; the leader's 待办 shows it, live
        number = report_on_the_phone(worker, live_server, "村道边垃圾堆积, 影响通行", category="SR01")
        leader.wait_for_selector(f"#mc-todo a.mc-row:has-text('{number}')", timeout=15_000)
        open_case(leader, live_server, number, reload=False)
        assert "待受理" in leader.locator("#mc-state").inner_text()
        act(leader, "上报镇综治中心", note="垃圾量大, 村里无车辆, 请镇里协调", photo=False)
        done(leader, "待受理")

        _town_files_and_dispatches(dispatcher, live_server, number, "huanwei")  # SR01 routes to 环卫
        _department_accepts(department, live_server, "dept_huanwei", number)
        _department_reports_back(department, live_server, number, "已清运")

        # the worker's 待办 holds it: the verification fails, the case goes back for rework
        open_case(worker, live_server, number)
        assert "待核查" in worker.locator("#mc-state").inner_text()
        act(worker, "核查不通过", note="路边仍有垃圾未清", photo=False)
        done(worker, "处理中")
        worker.click("#mc-back")

        _department_reports_back(department, live_server, number, "已二次清运, 路面冲洗")
        # the worker's list, open all along, is told: the case waits for verification again
        worker.wait_for_selector(f"#mc-todo a.mc-row:has-text('{number}')", timeout=15_000)
        open_case(worker, live_server, number, reload=False)
        act(worker, "核查通过")  # with a photo
        done(worker, "结案")

        # the timeline names each person with their 职务, never a role code
        timeline = worker.locator("#mc-timeline").inner_text()
        for title in ("专职网格员", "网格长", "镇综治中心调度员", "镇环卫所"):  # a department by its name
            assert f"· {title}" in timeline, (title, timeline)
        assert not re.search(r"\b(worker|leader|dispatcher|department)\b", timeline), timeline
        assert "路边仍有垃圾未清" in timeline and "已二次清运" in timeline
        assert timeline.count("处理反馈") == 2
        with engine.connect() as conn:
            row = conn.execute(text("SELECT state, rework_count FROM incidents WHERE case_no = :n"), {"n": number}).one()
            photos = conn.execute(text("""
                SELECT e.action, jsonb_array_length(e.data->'photos') FROM case_events e
                  JOIN incidents i ON i.id = e.incident_id
                 WHERE i.case_no = :n AND e.data ? 'photos' ORDER BY e.id"""), {"n": number}).all()
        assert (row.state, row.rework_count) == ("结案", 1)
        assert [a for a, n in photos if n] == ["report", "feedback", "feedback", "verify_pass"]
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        worker.screenshot(path=str(ARTIFACTS / "walk-1-1-closed.png"), full_page=True)
        for page in (worker, leader):
            only_local(page)
        for seen, errors in desk_seen:
            assert hosts(seen) == {"127.0.0.1"}
            assert not errors, errors
    finally:
        for context in (worker_ctx, leader_ctx, desk, department.context):
            context.close()


def test_seed_2_1_escalated_parking_through_the_pages(browser, live_server, engine):
    """The driver cannot be found: the worker escalates on the phone, the town dispatches to the traffic
    police, the police report back with a photo, and the worker verifies the fix with a photo. (The
    other path, closed on the spot, is walked in test_mobile_cases.py.)"""
    worker_grid = _grid(engine, PARKING_WORKER)
    worker_ctx, worker = phone_page(browser, live_server, PARKING_WORKER, worker_grid)
    desk = browser.new_context(viewport=DESK)
    dispatcher, police = desk.new_page(), browser.new_context(viewport=DESK).new_page()
    desk_seen = [watch(dispatcher), watch(police)]
    try:
        number = report_on_the_phone(worker, live_server, "货车占用消防通道, 车主电话无人接听")  # TC01
        open_case(worker, live_server, number)
        act(worker, "上报镇综治中心", note="车主联系不上, 请交警处理", photo=False)
        done(worker, "待受理")
        _town_files_and_dispatches(dispatcher, live_server, number, "jiaojing")  # TC01 routes to 交警
        _department_accepts(police, live_server, "dept_jiaojing", number)
        _department_reports_back(police, live_server, number, "已拖离")
        open_case(worker, live_server, number)
        act(worker, "核查通过")  # with a photo
        done(worker, "结案")
        assert "已拖离" in worker.locator("#mc-timeline").inner_text()
        only_local(worker)
        for seen, errors in desk_seen:
            assert hosts(seen) == {"127.0.0.1"}
            assert not errors, errors
    finally:
        for context in (worker_ctx, desk, police.context):
            context.close()


# ------------------------------------------------------------------ every page, both widths
# the role that uses each page, and what the page sets once it has drawn what it read
PAGES = {
    "/": ("dispatcher1", "body[data-map-ready='1']"),
    "/dispatch": ("dispatcher1", "body[data-map-ready='1']"),
    "/inbox": ("dept_huanwei", "body[data-inbox-ready='1']"),
    "/hotline": ("townleader1", "body[data-ready='1']"),
    "/supervision": ("district1", "body[data-ready='1']"),
    "/planner": ("planner1", "body[data-map-ready='1']"),
    "/analysis": ("analyst1", "body[data-map-ready='1']"),
    "/patrols": ("dispatcher1", "body[data-villages]"),
    "/m/": ("worker001", "#category option[value='TC01']"),
    "/m/cases": ("leader01", "body[data-listed]"),
    "/m/patrol": ("worker001", "body[data-recording]"),
    "/grids/{grid}": (None, "body[data-board-ready='1']"),  # the public board, signed out
    "/auth/login": (None, "#username"),
    "/admin": ("admin", "body[data-ready='1']"),
    "/m/leave": ("worker001", "body[data-leaves]"),
    "/staff": ("dispatcher1", "body[data-tab='leave']"),
    "/m/staff": ("worker001", "#st-config"),
}
# every visible button (and what acts as one) whose centre another element covers
COVERED = """() => Array.from(document.querySelectorAll(
    "button, input[type=submit], input[type=button], [role=tab], a.btn, .mc-row"))
  .filter((b) => b.offsetParent !== null && b.getClientRects().length)
  .filter((b) => {
    b.scrollIntoView({block: "center", inline: "center"});
    const r = b.getBoundingClientRect();
    if (!r.width || !r.height) return false;
    const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return !(top && (top === b || b.contains(top)));
  })
  .map((b) => (b.id ? "#" + b.id + " " : "") + b.textContent.trim().slice(0, 30))"""
# the words a user reads as the page's own: headings, buttons, labels, table headers, the menu; a
# label's own words without the choices of its select; not what is marked as another language
# (the switch to 中文 on an English page)
CHROME = """() => Array.from(document.querySelectorAll(
    "h1, h2, h3, button, label, th, nav#menu a, .topbar .brand, legend, [role=tab]"))
  .filter((e) => e.offsetParent !== null && e.closest("[lang]") === document.documentElement)
  .map((e) => { const c = e.cloneNode(true); c.querySelectorAll("select, option, input, textarea").forEach((x) => x.remove());
                return c.textContent.replace(/\\s+/g, " ").trim(); })
  .filter(Boolean)"""
HAN = re.compile(r"[\u4e00-\u9fff]")
ENGLISH = re.compile(r"[A-Za-z][A-Za-z ,.'()/-]{3,}")  # words only: not a case number


@pytest.fixture(scope="module")
def names(engine):
    """The town's own names (its villages, grids, people, departments), which stay as they are in English."""
    with engine.connect() as conn:
        found = conn.execute(text("""
            SELECT name FROM areas UNION SELECT name FROM grids UNION SELECT name FROM people
            UNION SELECT name FROM departments""")).scalars()
        return sorted((n for n in found if n), key=len, reverse=True)


@pytest.fixture(scope="module")
def board_grid(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT code FROM grids WHERE valid_to IS NULL ORDER BY code LIMIT 1")).scalar()


def _without(text_, names):
    for name in names:
        text_ = text_.replace(name, "")
    return text_


def _landing(username):
    return {"dispatcher1": "/dispatch", "dept_huanwei": "/inbox", "townleader1": "/inbox", "district1": "/inbox",
            "planner1": "/planner", "analyst1": "/analysis", "worker001": "/m/cases", "leader01": "/inbox",
            "admin": "/dispatch"}[username]


@pytest.fixture(scope="module")
def signed(browser, live_server):
    """Each user's signed-in session, through the login page once, for the contexts of this module."""
    kept = {}

    def state(username):
        if username not in kept:
            context = browser.new_context(viewport=DESK)
            signed_in(context.new_page(), live_server, username, _landing(username))
            kept[username] = context.storage_state()
            context.close()
        return kept[username]
    return state


@pytest.mark.parametrize("device", ["phone", "desk"])
@pytest.mark.parametrize("path", sorted(PAGES))
def test_every_page_on_the_phone_and_the_desk(browser, live_server, signed, board_grid, names, path, device):
    page_path = path.format(grid=board_grid)
    username, ready = PAGES[path]
    context = browser.new_context(**(PHONE if device == "phone" else {"viewport": DESK}),
                                  **({"storage_state": signed(username)} if username else {}))
    try:
        page = context.new_page()
        seen, errors = watch(page)
        # in Chinese first (an English browser included: Chromium here asks for en-US)
        page.goto(live_server + page_path)
        page.wait_for_selector(ready, state="attached", timeout=30_000)
        page.wait_for_timeout(300)  # what the page draws right after
        assert page.evaluate("document.documentElement.lang").startswith("zh")
        chrome = page.evaluate(CHROME)
        assert any(HAN.search(t) for t in chrome), chrome
        assert [t for t in chrome if ENGLISH.fullmatch(t)] == []
        assert page.evaluate(COVERED) == []
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = page_path.strip("/").replace("/", "-") or "map"
        page.screenshot(path=str(ARTIFACTS / f"page-{name}-{device}.png"))

        if device == "phone":  # ?lang=en, on the narrower screen its longer words must fit
            page.goto(live_server + page_path + "?lang=en")
            page.wait_for_selector(ready, state="attached", timeout=30_000)
            page.wait_for_timeout(300)
            assert page.evaluate("document.documentElement.lang").startswith("en")
            assert [t for t in map(lambda t: _without(t, names), page.evaluate(CHROME)) if HAN.search(t)] == []
            assert page.evaluate(COVERED) == []
            page.screenshot(path=str(ARTIFACTS / f"page-{name}-{device}-en.png"))
        assert hosts(seen) == {"127.0.0.1"}
        assert not errors, errors
    finally:
        context.close()
