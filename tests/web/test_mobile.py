"""The grid worker's phone page in headless Chromium: report with a tap on the map; go offline,
report, come back online: the report is sent once, with no duplicate."""

from sqlalchemy import create_engine, text

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def _login(page, live_server, username):
    page.goto(f"{live_server}/auth/login?next=/m/")
    page.fill("#username", username)
    page.fill("#password", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/m/")
    page.wait_for_selector("#category optgroup", state="attached")
    page.wait_for_selector("body[data-grids-cached='1']", state="attached")


def _fill(page, description):
    page.select_option("#category", "SR01")
    page.fill("#description", description)
    page.click("#tap")
    page.wait_for_selector("#pickmap path.leaflet-interactive")
    box = page.locator("#pickmap").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.fill("#address", "振兴路 1 号")


def _count(database_url, description):
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM incidents WHERE description = :d"),
                                {"d": description}).scalar()
    finally:
        engine.dispose()


def test_report_from_the_phone_page(browser, live_server, database_url):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _login(page, live_server, "worker001")
    page.click("#submit")
    assert "请选择事件类别" in page.locator("#errors").inner_text()  # nothing chosen yet
    description = "手机页面上报 <b>测试</b>"
    _fill(page, description)
    page.click("#submit")
    page.wait_for_selector("#sent li.ok", timeout=10_000)
    sent = page.locator("#sent li.ok").first.inner_text()
    assert "已送达 YJB" in sent and "网格员" in sent
    # the line under the form says the report went: it no longer says it is waiting (issue 13)
    page.wait_for_function("document.querySelector('#report-status').innerText.includes('已送达')")
    assert "等待发送" not in page.locator("main").inner_text()
    assert _count(database_url, description) == 1
    assert not errors
    context.close()


def test_offline_reports_wait_on_the_phone_and_are_sent_once(browser, live_server, database_url):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    _login(page, live_server, "worker002")
    description = "离线时上报的事件"
    context.set_offline(True)
    page.evaluate("window.dispatchEvent(new Event('offline'))")
    _fill(page, description)
    page.click("#submit")
    page.wait_for_function("document.body.dataset.pending === '1'")
    assert "待发送 1 条" in page.locator("#queue-status").inner_text()
    assert "已保存, 等待发送" in page.locator("#report-status").inner_text()
    assert _count(database_url, description) == 0
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_function("document.body.dataset.pending === '0'", timeout=10_000)
    page.wait_for_function("document.querySelector('#report-status').innerText.includes('已送达')")
    assert "等待发送" not in page.locator("main").inner_text()
    page.evaluate("window.dispatchEvent(new Event('online'))")  # a second flush finds nothing to send
    page.wait_for_timeout(500)
    assert _count(database_url, description) == 1
    context.close()
