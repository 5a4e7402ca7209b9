"""What the desk's browser tests share (/inbox, /dispatch): a case brought to a state through the
services (the set-up; the live server's database commits), signing in through the login page, and
the checks every page passes (no request leaves 127.0.0.1, nothing covers an action button)."""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from urllib.parse import quote, urlsplit

from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.conftest import report, user_named
from webmap.services import actions, intake

DESK = {"width": 1600, "height": 1000}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
# the steps that bring a worker's fresh report to each state, as (username, action, body)
STEPS = {
    "filed": [("worker001", "escalate", {"note": "需镇里处理"}), ("dispatcher1", "file", {})],
    "dispatched": [("dispatcher1", "dispatch", {"department": "huanwei"})],
    "handling": [("dept_huanwei", "accept", {})],
    "extension": [("dept_huanwei", "request_extension", {"days": 3, "note": "等待清扫车辆维修"})],
}
_serial = itertools.count(1)


def make_case(engine, state: str, description: str | None = None, category: str = "SR02") -> tuple[int, str]:
    """A case in worker001's grid reported now and brought to ``state`` (a key of STEPS, or
    "reported"); committed. Returns its id and case number."""
    description = description or f"桌面测试案件 {next(_serial)}"
    with Session(engine) as db:
        lng, lat = db.execute(text("""
            SELECT ST_X(ST_PointOnSurface(g.geom)), ST_Y(ST_PointOnSurface(g.geom))
              FROM accounts a JOIN grids g ON g.code = a.scope_code AND g.valid_to IS NULL
             WHERE a.username = 'worker001'""")).one()
        worker = user_named(db, "worker001")
        case_id, _ = intake.report_incident(db, intake.parse_report(report(lng, lat, category=category,
                                                                           description=description)),
                                            source="grid_worker", reporter_id=worker.id, reporter_role="worker",
                                            idempotency_key=None)
        order = list(STEPS)
        for key in order[:order.index(state) + 1] if state in STEPS else []:
            for username, name, body in STEPS[key]:
                version = db.execute(text("SELECT version FROM incidents WHERE id = :i"), {"i": case_id}).scalar()
                actions.act(db, user_named(db, username), case_id, name, {"version": version, **body}, lambda sha: sha)
        case_no = db.execute(text("SELECT case_no FROM incidents WHERE id = :i"), {"i": case_id}).scalar()
        db.commit()
    return case_id, case_no


def case_row(engine, case_id: int):
    with engine.connect() as conn:
        return conn.execute(text("SELECT state, version FROM incidents WHERE id = :i"), {"i": case_id}).one()


def sign_in(page, live_server, username: str, next_: str | None = None, lang: str | None = None):
    """Through the login page as a person would; ``next_`` as a link to a page would carry it."""
    query = [f"next={quote(next_, safe='/')}"] if next_ else []
    if lang:
        query.append(f"lang={lang}")
    page.goto(f"{live_server}/auth/login" + ("?" + "&".join(query) if query else ""))
    page.fill("#username", username)
    page.fill("#password", "demo")
    page.click("button[type=submit]")


def signed_in(page, live_server, username: str, landing: str, **kw):
    """Signed in through the login page, on the page where ``username``'s day starts."""
    sign_in(page, live_server, username, **kw)
    page.wait_for_url(f"{live_server}{landing}")


@contextmanager
def signed_page(browser, live_server, username: str, path: str, ready: str, device: dict | None = None):
    """A page signed in as ``username`` through the login page and sent on to ``path``, once the
    page says it is ready (``ready``, a selector that gets attached: ``body[data-...]``); yields
    ``(page, requests_seen, script_errors)`` and closes its browser context afterwards. ``device``:
    the context's options (the desk at 1600 px unless given, e.g. PHONE)."""
    context = browser.new_context(**(device or {"viewport": DESK}))
    try:
        page = context.new_page()
        seen, errors = watch(page)
        sign_in(page, live_server, username, path)
        page.wait_for_url(f"{live_server}{path}")
        try:
            page.wait_for_selector(ready, state="attached", timeout=20_000)
        except Exception:
            raise AssertionError(f"{path} not ready for {username}: {errors}") from None
        yield page, seen, errors
    finally:
        context.close()


@contextmanager
def phone(browser):
    """A page in a phone's browser (390 × 844, touch), closed afterwards."""
    context = browser.new_context(**PHONE)
    try:
        yield context.new_page()
    finally:
        context.close()


def watch(page) -> tuple[list, list]:
    """The URLs the page asks for and the script errors it raises."""
    requests_seen, errors = [], []
    page.on("request", lambda r: requests_seen.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    return requests_seen, errors


def hosts(requests_seen) -> set:
    return {urlsplit(u).hostname for u in requests_seen if not u.startswith(("data:", "blob:"))}


# For each visible action button: is the topmost element at its centre the button itself (or inside it)?
COVERED = """(selector) => Array.from(document.querySelectorAll(selector)).filter((b) => b.offsetParent !== null)
  .map((b) => {
    b.scrollIntoView({block: "center"});
    const r = b.getBoundingClientRect();
    const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return {label: b.textContent.trim(), free: !!top && (top === b || b.contains(top))};
  })"""


def covered_buttons(page, selector: str = "#d-case .d-actions button") -> list[str]:
    """The labels of the action buttons that another element covers (none, on every page)."""
    found = page.evaluate(COVERED, selector)
    assert found, f"no button matches {selector}"
    return [b["label"] for b in found if not b["free"]]


def console(page, live_server):
    """The dispatcher's console, signed in through the login page, its map drawn."""
    signed_in(page, live_server, "dispatcher1", "/dispatch")
    page.wait_for_selector("body[data-map-ready='1']", timeout=20_000)


def search_console(page, case_no):
    """On the console: the case found by its number, open in the panel."""
    page.fill("#q", case_no)
    page.press("#q", "Enter")
    page.wait_for_function(f"document.querySelector('#d-case').innerText.includes('{case_no}')", timeout=10_000)


def open_in_inbox(page, case_no):
    """On /inbox: the case found among what awaits me by its number, open in the panel."""
    page.wait_for_selector("body[data-inbox-ready='1']", timeout=20_000)
    page.fill("#f-q", case_no)
    row = page.locator("#ib-rows tr", has_text=case_no)
    row.wait_for(timeout=10_000)
    row.click()
    page.wait_for_function(f"document.querySelector('#d-case').innerText.includes('{case_no}')", timeout=10_000)


def act_in_panel(page, action, note=None, photo=None):
    """The case panel's button for ``action`` (its name), its form filled and sent."""
    page.click(f"#d-case button[data-action='{action}']")
    form = page.locator(f"#d-case form[data-action='{action}']")
    if note is not None:
        form.locator("textarea[name=note]").fill(note)
    if photo is not None:
        form.locator("input[type=file]").set_input_files(photo)
    form.locator("button[type=submit]").click()


def close_tasks(engine, title: str):
    """The live server's database is shared by the other tests: the task closed, it awaits no one."""
    with engine.begin() as conn:
        conn.execute(text("UPDATE tasks SET state = '已关闭', closed_at = now() WHERE title = :t AND state <> '待区审批'"),
                     {"t": title})
        conn.execute(text("UPDATE tasks SET state = '已拒绝', refusal = 'test' WHERE title = :t AND state = '待区审批'"),
                     {"t": title})
