"""The dispatcher console in headless Chromium: log in, filter, click a case, dispatch it to a
department, see the timeline and the colour change; no request leaves 127.0.0.1."""

import re
from urllib.parse import urlsplit

from tests.conftest import ARTIFACTS


def test_dispatch_an_overdue_filed_case(page, live_server):
    requests_seen, errors = [], []
    page.on("request", lambda r: requests_seen.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{live_server}/auth/login?next=/dispatch")
    page.fill("#username", "dispatcher1")
    page.fill("#password", "demo")
    page.click("button[type=submit]")
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
    page.click("#d-case form button[type=submit]")  # no department chosen yet
    page.wait_for_selector("#d-case form .error:not(:empty)")
    assert "部门" in page.locator("#d-case form .error").inner_text()
    page.select_option("#d-case form select[name=department]", "huanwei")
    page.click("#d-case form button[type=submit]")
    page.wait_for_function("document.querySelector('#d-panel').innerText.includes('立案派遣')", timeout=10_000)
    panel = page.locator("#d-panel").inner_text()
    assert "派遣" in panel and "镇环卫所" in panel  # the timeline and the department

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
    hosts = {urlsplit(u).hostname for u in requests_seen if not u.startswith(("data:", "blob:"))}
    assert hosts == {"127.0.0.1"}, hosts
    assert not errors, errors
