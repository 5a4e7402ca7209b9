"""The dispatcher console in headless Chromium: log in, filter, click a case, dispatch it to the
department its category routes to, see the timeline and the colour change; approve an extension
seeing its days and reason; page and sort the list, see 新 cases and list them from the 新案件
badge; on a phone nothing covers an action button; no request leaves 127.0.0.1."""

import re

from tests.conftest import ARTIFACTS
from tests.web.desk import (
    DESK,
    case_row,
    console,
    covered_buttons,
    hosts,
    make_case,
    phone,
    search_console,
    sign_in,
    watch,
)


def test_dispatch_an_overdue_filed_case(page, live_server):
    requests_seen, errors = watch(page)
    page.set_viewport_size(DESK)
    sign_in(page, live_server, "dispatcher1", next_="/dispatch")
    page.wait_for_selector("body[data-map-ready='1']", timeout=20_000)
    assert page.locator(".agg, path.case").count() > 0  # aggregates or cases on the map

    # filter: filed (已立案) and overdue — red in the list
    page.select_option("#f-state", "已立案")
    page.check("#f-overdue")
    page.wait_for_function("document.querySelectorAll('#d-list li').length > 0 && !document.body.dataset.loading",
                           timeout=10_000)
    first = page.locator("#d-list li").first
    case_no = first.inner_text().split()[0]
    assert first.locator(".dot").get_attribute("class").endswith("s-red")

    first.click()
    page.wait_for_selector("#d-case h2")
    assert case_no in page.locator("#d-panel").inner_text()
    page.click("button[data-action='dispatch']")
    # 派遣 preselects the department the category routes to
    select = page.locator("#d-case form select[name=department]")
    routed = select.input_value()
    assert routed and "按类别应派" in page.locator("#d-case form .hint").inner_text()
    routed_name = select.locator("option:checked").inner_text()
    select.select_option("")
    page.click("#d-case form button[type=submit]")  # no department chosen
    page.wait_for_selector("#d-case form .error:not(:empty)")
    assert "部门" in page.locator("#d-case form .error").inner_text()
    select.select_option(routed)
    page.click("#d-case form button[type=submit]")
    page.wait_for_function("document.querySelector('#d-panel').innerText.includes('立案派遣')", timeout=10_000)
    assert "已办理: 派遣" in page.locator("#d-done").inner_text()
    panel = page.locator("#d-panel").inner_text()
    assert "派遣" in panel and routed_name in panel  # the timeline and the department

    # the case left the overdue filter: its deadline now runs from dispatch
    page.wait_for_function(f"!document.querySelector('#d-list').innerText.includes('{case_no}')", timeout=10_000)
    # filtered by its village and grid among the dispatched cases, it is there, no longer red
    grid = re.search(r"\((\d{15})\)", panel).group(1)
    page.uncheck("#f-overdue")
    page.select_option("#f-state", "立案派遣")
    page.select_option("#f-village", grid[:12])
    page.select_option("#f-grid", grid)
    page.wait_for_function(f"document.querySelector('#d-list').innerText.includes('{case_no}') "
                           "&& !document.body.dataset.loading", timeout=10_000)
    row = page.locator("#d-list li", has_text=case_no)
    assert not row.locator(".dot").get_attribute("class").endswith("s-red")
    assert all(grid_name in t for t in page.locator("#d-list li .meta").all_inner_texts()
               for grid_name in [page.locator("#f-grid option:checked").inner_text().split(" (")[0]])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dispatch.png"))
    assert hosts(requests_seen) == {"127.0.0.1"}
    assert not errors, errors


def test_approve_an_extension_seeing_its_days_and_reason(page, live_server, engine):
    case_id, case_no = make_case(engine, "extension")
    requests_seen, errors = watch(page)
    page.set_viewport_size(DESK)
    console(page, live_server)
    search_console(page, case_no)
    request = page.locator("#d-case .d-extension")
    assert "等待清扫车辆维修" in request.inner_text()
    assert page.locator("#d-case button[data-action='approve_extension']").is_visible()
    assert "3 个工作日" in request.inner_text()  # the days, from the detail's extension_request
    before = case_row(engine, case_id).version
    page.click("#d-case button[data-action='approve_extension']")
    page.click("#d-case form[data-action='approve_extension'] button[type=submit]")
    page.wait_for_selector("#d-done:not([hidden])")
    assert "已办理: 同意延期" in page.locator("#d-done").inner_text()
    assert case_row(engine, case_id).version == before + 1
    page.wait_for_function("!document.querySelector('#d-case .d-extension')")
    assert hosts(requests_seen) == {"127.0.0.1"}
    assert not errors, errors


def test_the_list_pages_sorts_and_shows_the_new_cases(page, live_server, engine):
    _case_id, case_no = make_case(engine, "filed")
    page.set_viewport_size(DESK)
    console(page, live_server)
    ready = "document.querySelectorAll('#d-list li').length > 0 && !document.body.dataset.loading"
    page.wait_for_function(ready, timeout=10_000)
    # most urgent first: a case reported minutes ago is not on the first page, the overdue are
    assert case_no not in page.locator("#d-list").inner_text()
    assert page.locator("#d-list li .dot.s-red").count() > 0
    info = page.locator("#d-page-info").inner_text()
    assert info.startswith("第 1–50 件")
    page.click("#d-next")
    page.wait_for_function("document.querySelector('#d-page-info').innerText.startsWith('第 51–')", timeout=10_000)
    assert not page.locator("#d-prev").is_disabled()
    page.click("#d-prev")
    page.wait_for_function("document.querySelector('#d-page-info').innerText.startsWith('第 1–')", timeout=10_000)

    # a new report raises the 新案件 badge; clicking it lists the newest first, marked 新
    _new_id, new_no = make_case(engine, "reported", "刚刚上报的新案件")
    page.wait_for_selector("#d-new:not([hidden])", timeout=15_000)
    page.click("#d-new")
    assert page.locator("#f-sort").input_value() == "newest"
    page.wait_for_function(f"document.querySelector('#d-list').innerText.includes('{new_no}')", timeout=10_000)
    row = page.locator("#d-list li", has_text=new_no)
    assert row.locator(".fresh").inner_text() == "新"
    assert page.locator("#d-new").is_hidden()
    assert case_no in page.locator("#d-list").inner_text()  # filed a moment ago: newest first too

    # dates of another year carry the year; 待核查 rows show their deadline status like the panel
    page.select_option("#f-sort", "urgent")
    page.select_option("#f-state", "")
    page.fill("#f-until", "2025-12-31")
    page.dispatch_event("#f-until", "change")
    page.wait_for_function("document.querySelector('#d-list').innerText.includes('2025')", timeout=10_000)
    page.fill("#f-until", "")
    page.dispatch_event("#f-until", "change")
    page.select_option("#f-state", "待核查")
    page.wait_for_function(ready + " && [...document.querySelectorAll('#d-list li .meta')]"
                           ".every((m) => m.innerText.includes('待核查'))", timeout=10_000)
    metas = page.locator("#d-list li .meta").all_inner_texts()
    assert all("剩余" in m or "已超期" in m for m in metas), metas[:3]


def test_on_a_phone_nothing_covers_the_dispatchers_actions(browser, live_server, engine):
    _case_id, case_no = make_case(engine, "filed")
    with phone(browser) as page:
        requests_seen, errors = watch(page)
        console(page, live_server)
        search_console(page, case_no)
        assert covered_buttons(page) == []
        page.click("#d-case button[data-action='dispatch']")
        page.wait_for_selector("#d-case form select[name=department]")
        assert covered_buttons(page, "#d-case form button") == []
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dispatch-phone.png"))
        page.click("#d-close")
        assert covered_buttons(page, ".d-legend button:not([hidden]), #d-page button") == []
        assert hosts(requests_seen) == {"127.0.0.1"}
        assert not errors, errors
