"""The desk of what awaits me (/inbox) in headless Chromium, signed in through the login page: a
department lands there, opens a case dispatched to it, accepts it and reports back with a photo; on a
phone nothing covers an action button and the menu folds behind its button; the header's 待办 badge
counts live; each role lands where its day starts; ?lang=en speaks English."""

import pytest
from sqlalchemy import text

from db.demo_town import CATEGORY_EN
from tests.conftest import ARTIFACTS, login
from tests.web.desk import (
    DESK,
    act_in_panel,
    case_row,
    covered_buttons,
    hosts,
    make_case,
    open_in_inbox,
    phone,
    signed_in,
    watch,
)
from tests.web.phone import PHOTO


def test_a_department_accepts_and_reports_back_with_a_photo(page, live_server, engine):
    case_id, case_no = make_case(engine, "dispatched", "积水清扫 桌面测试")
    requests_seen, errors = watch(page)
    page.set_viewport_size(DESK)
    signed_in(page, live_server, "dept_huanwei", "/inbox")
    assert "待办" in page.locator("header.topbar").inner_text()
    open_in_inbox(page, case_no)
    panel = page.locator("#d-panel")
    assert "立案派遣" in panel.inner_text()
    assert covered_buttons(page) == []

    act_in_panel(page, "accept")
    page.wait_for_selector("#d-done:not([hidden])")
    assert "已办理: 接收" in page.locator("#d-done").inner_text()
    page.wait_for_function("document.querySelector('#d-case .state').textContent === '处理中'")

    # 处理反馈 needs photos: refused without one, in Chinese
    act_in_panel(page, "feedback", note="已清扫完毕")
    page.wait_for_selector("#d-case form .error:not(:empty)")
    assert "现场照片" in page.locator("#d-case form .error").inner_text()
    assert case_row(engine, case_id).state == "处理中"
    with page.expect_file_chooser() as chooser:  # as a person picks the photo
        page.locator("#d-case form[data-action='feedback'] input[type=file]").click()
    assert chooser.value.is_multiple()
    chooser.value.set_files(PHOTO)
    assert page.locator("#d-case form .thumbs img").count() == 1  # the chosen photo, shown before it is sent
    page.locator("#d-case form[data-action='feedback'] button[type=submit]").click()
    page.wait_for_function("document.querySelector('#d-case .state').textContent === '待核查'", timeout=10_000)
    assert "已办理: 处理反馈" in page.locator("#d-done").inner_text()
    assert case_row(engine, case_id).state == "待核查"
    timeline = page.locator("#d-case .d-timeline").inner_text()
    assert "处理反馈" in timeline and "已清扫完毕" in timeline
    assert page.locator("#d-case .d-timeline img").count() == 1  # the photo, in the feedback's entry
    with engine.connect() as conn:
        photos = conn.execute(text("SELECT data->'photos' FROM case_events WHERE incident_id = :i "
                                   "AND action = 'feedback'"), {"i": case_id}).scalar()
    assert len(photos) == 1
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "inbox.png"))
    assert hosts(requests_seen) == {"127.0.0.1"}
    assert not errors, errors


def test_on_a_phone_nothing_covers_the_actions_and_the_menu_folds(browser, live_server, engine):
    _case_id, case_no = make_case(engine, "handling")
    with phone(browser) as page:
        requests_seen, errors = watch(page)
        signed_in(page, live_server, "dept_huanwei", "/inbox")
        # the menu folds behind its button: no link wraps into a column of two characters
        assert not page.locator("nav#menu a").first.is_visible()
        page.click("#menu-toggle")
        links = page.locator("nav#menu a")
        assert links.first.is_visible()
        for box in (links.nth(i).bounding_box() for i in range(links.count())):
            assert box["width"] > box["height"], box  # one line, not a column
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "inbox-phone-menu.png"))
        page.click("#menu-toggle")
        open_in_inbox(page, case_no)
        assert covered_buttons(page) == []
        page.click("#d-case button[data-action='feedback']")
        assert covered_buttons(page, "#d-case form button") == []
        assert page.locator("#d-case form input[type=file]").is_visible()
        page.screenshot(path=str(ARTIFACTS / "inbox-phone.png"))
        page.click("#d-close")
        assert page.locator("#d-panel").is_hidden()
        assert hosts(requests_seen) == {"127.0.0.1"}
        assert not errors, errors


def test_the_desk_speaks_english(page, live_server, engine):
    _case_id, case_no = make_case(engine, "dispatched")
    page.set_viewport_size(DESK)
    signed_in(page, live_server, "dept_huanwei", "/inbox", lang="en")
    page.goto(f"{live_server}/inbox?lang=en")
    head = page.locator("table.ib-table thead").inner_text()
    assert "Number" in head and "Deadline" in head and "编号" not in head
    assert "All types" in page.locator("#f-kind").inner_text()
    open_in_inbox(page, case_no)
    row = page.locator("#ib-rows tr", has_text=case_no)
    assert row.locator("td.kind").inner_text() == "Case"
    assert row.locator("td.title").inner_text().startswith(CATEGORY_EN["SR02"][1] + " · ")  # 道路不洁, in English
    panel = page.locator("#d-panel").inner_text()
    assert "Deadline" in panel and "办理时限" not in panel
    assert page.locator("#d-case button[data-action='accept']").inner_text() == "accept"
    assert "To do" in page.locator("header.topbar").inner_text()


def test_the_badge_counts_what_awaits_me_and_changes_live(page, live_server, engine, app):
    if not any(rule.rule == "/api/v1/inbox" for rule in app.url_map.iter_rules()):
        pytest.skip("GET /api/v1/inbox is not on this server yet")
    page.set_viewport_size(DESK)
    signed_in(page, live_server, "dept_huanwei", "/inbox")
    badge = page.locator("#inbox-badge b")
    page.wait_for_function("document.querySelector('#inbox-badge').dataset.total !== undefined")
    before = int(badge.inner_text())
    make_case(engine, "dispatched")  # the dispatcher sends the department another case
    page.wait_for_function(f"Number(document.querySelector('#inbox-badge').dataset.total) === {before + 1}",
                           timeout=15_000)
    assert badge.inner_text() == str(before + 1)
    # red while something is overdue, as the list's count says
    overdue = int(page.locator("#inbox-badge").get_attribute("data-overdue"))
    assert overdue == int(page.locator("#ib-overdue").get_attribute("data-count"))
    colour = badge.evaluate("(b) => getComputedStyle(b).backgroundColor")
    assert (colour == "rgb(192, 57, 43)") == (overdue > 0), colour


def test_only_live_pages_hold_a_stream_and_the_badge_counts_everywhere(browser, live_server):
    """A stream holds a server thread: the report page and the supervision desk open none, and their
    badge counts all the same; the desk of what awaits me follows the stream."""
    with phone(browser) as page:
        requests_seen, _errors = watch(page)
        signed_in(page, live_server, "worker001", "/m/cases")
        page.goto(f"{live_server}/m/")
        page.wait_for_function("document.querySelector('#inbox-badge').dataset.total !== undefined")
        page.goto(f"{live_server}/m/patrol")
        page.wait_for_function("document.querySelector('#inbox-badge').dataset.total !== undefined")
        streams = [u for u in requests_seen if "/api/v1/stream" in u]
        assert len(streams) == 1, streams  # /m/cases's own, none for /m/ and /m/patrol
    context = browser.new_context(viewport=DESK)
    try:
        page = context.new_page()
        requests_seen, _errors = watch(page)
        signed_in(page, live_server, "district1", "/inbox")
        page.wait_for_selector("body[data-inbox-ready='1']")
        page.goto(f"{live_server}/supervision")
        page.wait_for_function("document.querySelector('#inbox-badge').dataset.total !== undefined")
        assert len([u for u in requests_seen if "/api/v1/stream" in u]) == 1  # /inbox's
    finally:
        context.close()


LANDING = {"worker001": "/m/cases", "leader01": "/inbox", "dept_huanwei": "/inbox", "dispatcher1": "/dispatch",
           "townleader1": "/inbox", "district1": "/inbox", "planner1": "/planner", "analyst1": "/analysis",
           "admin": "/dispatch"}


@pytest.mark.parametrize("username", sorted(LANDING))
def test_each_role_lands_where_its_day_starts(client, username):
    assert login(client, username).headers["Location"] == LANDING[username]
    client.post("/auth/logout")
    # from the front door (next=/) as well; a page asked for is kept
    assert client.post("/auth/login?next=/", data={"username": username, "password": "demo"}) \
        .headers["Location"] == LANDING[username]
    client.post("/auth/logout")
    assert client.post("/auth/login?next=/analysis", data={"username": username, "password": "demo"}) \
        .headers["Location"] == "/analysis"


@pytest.mark.parametrize(("username", "on_the_phone"), [("worker001", "/m/cases"), ("leader01", "/m/cases"),
                                                      ("dept_huanwei", "/inbox"), ("townleader1", "/inbox")])
def test_a_phone_signs_in_and_lands_on_its_page(browser, live_server, username, on_the_phone):
    with phone(browser) as page:
        signed_in(page, live_server, username, on_the_phone)
        assert page.locator("#inbox-badge").get_attribute("href") == on_the_phone
    # the same village leader at the desk lands on the desk's 待办
    if username == "leader01":
        context = browser.new_context(viewport=DESK)
        try:
            signed_in(context.new_page(), live_server, username, "/inbox")
        finally:
            context.close()
