"""The map page in a real headless Chromium (Debian's), with every request recorded."""

from urllib.parse import urlsplit

from tests.conftest import ARTIFACTS


def test_map_renders_offline_with_grids_and_incidents(page, live_server):
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    failures = []  # a request the page abandoned as it went on (ERR_ABORTED: its live stream) did not fail
    page.on("requestfailed", lambda r: failures.append(r.url) if "ERR_ABORTED" not in (r.failure or "") else None)
    console_errors = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console_errors.append(str(e)))

    page.goto(f"{live_server}/")
    assert "/auth/login" in page.url
    page.fill("#username", "dispatcher1")
    page.fill("#password", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/dispatch")  # where the dispatcher's day starts; then the town map
    page.goto(f"{live_server}/")
    page.wait_for_selector("body[data-map-ready='1']", timeout=20_000)

    grids = page.locator(".leaflet-overlay-pane path.leaflet-interactive")
    assert grids.count() >= 70 + 100  # grid polygons and incident markers
    assert page.locator("path.incident").count() >= 100
    assert "已加载 20 个村" in page.locator("#status").inner_text()
    assert page.locator(".synthetic").inner_text() == "合成演示数据"

    # click the middle of the map: a grid popup with its code, worker and leader
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.37, box["y"] + box["height"] * 0.41)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5_000)
    text = popup.inner_text()
    assert "网格员" in text or "状态" in text  # a grid, or an incident that lies on top

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "map.png"), full_page=True)

    hosts = {urlsplit(u).hostname for u in requests if not u.startswith(("data:", "blob:"))}
    assert hosts == {"127.0.0.1"}, f"requests left 127.0.0.1: {hosts}"
    assert not failures, failures
    assert not console_errors, console_errors


def test_grid_popup_shows_code_worker_and_leader(page, live_server):
    page.goto(f"{live_server}/auth/login?lang=en")
    page.fill("#username", "leader01")
    page.fill("#password", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/inbox")  # where the leader's day starts; then the town map
    page.goto(f"{live_server}/")
    page.wait_for_selector("body[data-map-ready='1']", timeout=20_000)
    # open the popup of one grid polygon through Leaflet itself, as a click on it does
    text = page.evaluate("""() => new Promise((resolve) => {
        const paths = document.querySelectorAll('.leaflet-overlay-pane path.leaflet-interactive:not(.incident)');
        const target = paths[0];
        const r = target.getBoundingClientRect();
        target.dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: r.x + r.width / 2, clientY: r.y + r.height / 2}));
        setTimeout(() => resolve(document.querySelector('.leaflet-popup-content')?.innerText || ''), 300);
    })""")
    assert "Grid worker" in text and "Grid leader" in text and "Code" in text
    assert any(len(tok) == 15 and tok.isdigit() for tok in text.split())
