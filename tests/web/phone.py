"""What the phone pages' browser tests share (/m/, /m/cases): a phone's browser (390 × 844, touch)
signed in through the login page, a report made on /m/ with a photo, a case opened from the 待办
and an action taken on its card, and the checks every phone page passes (nothing covers a button,
no request leaves 127.0.0.1, no script error)."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.conftest import JPEG
from tests.web.desk import PHONE

PHOTO = {"name": "现场.jpg", "mimeType": "image/jpeg", "buffer": JPEG}

# every action button's centre is the button (or inside it): nothing covers it
UNCOVERED = """() => Array.from(document.querySelectorAll('button, .mc-row')).filter((b) => b.offsetParent)
  .filter((b) => { b.scrollIntoView({block: 'center'});
                   const s = b.getBoundingClientRect(); const hit = document.elementFromPoint(s.x + s.width / 2, s.y + s.height / 2);
                   return !(hit === b || b.contains(hit)); })
  .map((b) => b.outerHTML.slice(0, 80))"""
SMALL = """() => Array.from(document.querySelectorAll('button, .mc-row, .mc-tab')).filter((b) => b.offsetParent)
  .filter((b) => b.getBoundingClientRect().height < 44).map((b) => b.outerHTML.slice(0, 80))"""


def phone_page(browser, base, username, grid=None, **options):
    """A phone's browser context and page, signed in through the login page and on /m/cases with
    its lists read; ``grid`` (with ``lng``, ``lat``) places the phone's position inside it. The page
    keeps what it asked for (``seen``) and its script errors (``errors``)."""
    where = {"geolocation": {"longitude": grid.lng, "latitude": grid.lat}, "permissions": ["geolocation"]} if grid else {}
    context = browser.new_context(**PHONE, **options, **where)
    page = context.new_page()
    page.seen, page.errors = [], []
    page.on("request", lambda r: page.seen.append(r.url))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(f"{base}/auth/login?next=/m/cases")
    page.fill("#username", username)
    page.fill("#password", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/m/cases")
    page.wait_for_selector("body[data-listed]", state="attached", timeout=20_000)
    return context, page


def report_on_the_phone(page, base, description, category="TC01"):
    """The worker reports (by default a parked car, 违规停车 TC01) with a photo at the phone's
    position; returns the case number the page says it was filed under."""
    page.goto(f"{base}/m/")
    page.wait_for_selector(f"#category option[value='{category}']", state="attached")
    page.select_option("#category", category)
    page.fill("#description", description)
    page.click("#gps")
    page.wait_for_function("document.querySelector('#where').innerText.includes('已定位')")
    page.set_input_files("#photos", [PHOTO])
    assert not page.evaluate(UNCOVERED), page.evaluate(UNCOVERED)
    page.click("#submit")
    page.wait_for_selector("#sent li.ok", timeout=10_000)
    return page.locator("#sent li.ok").first.inner_text().split("已送达 ")[1].split(":")[0]


def open_case(page, base, number, reload=True):
    """The case's card, opened from the 待办 (read again first unless ``reload`` is false)."""
    if reload:
        page.goto(f"{base}/m/cases")
    page.wait_for_selector(f"#mc-todo a.mc-row:has-text('{number}')", timeout=15_000)
    page.click(f"#mc-todo a.mc-row:has-text('{number}')")
    page.wait_for_selector(f"#mc-title:has-text('{number}')")


def act(page, label, note=None, photo=True):
    """The card's action button labelled ``label``, its form filled (a note, a photo) and sent."""
    page.click(f"#mc-actions button:has-text('{label}')")
    page.wait_for_selector("#mc-form:not([hidden])")
    if note:
        page.fill("#mc-note", note)
    if photo:
        page.set_input_files("#mc-photos", [PHOTO])
    page.click("#mc-form button[type=submit]")


def done(page, state):
    """Waits until the card says the action was done and the case is now in ``state``."""
    page.wait_for_function(f"document.querySelector('#mc-result').innerText.includes('已完成') "
                           f"&& document.querySelector('#mc-state').innerText === '{state}'", timeout=15_000)


def only_local(page):
    hosts = {urlsplit(u).hostname for u in page.seen if not u.startswith(("data:", "blob:"))}
    assert hosts == {"127.0.0.1"}, hosts
    assert not page.errors, page.errors
