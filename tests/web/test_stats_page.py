"""The statistics dashboard page (/stats): the town's leader at the desk picks 本月 and sees the JSON's
figures on the tiles, the charts drawn (canvas), the grids on the map, a grid's figures on a click; a
tile opens the console with its filters; a chart downloads as PNG and the tables as Excel; nothing
leaves 127.0.0.1; on a phone nothing overflows. Plus who reads it and the workbook's route."""

import io
import re
from urllib.parse import parse_qs, urlsplit

import openpyxl
import pytest

from tests.conftest import bearer, login
from tests.web.desk import PHONE, hosts, signed_page

PNG = b"\x89PNG\r\n\x1a\n"
READY = "body[data-ready=stats]"


def _number(text: str) -> float | None:
    text = text.strip().replace(",", "").rstrip("%")
    return None if text == "—" else float(text)


def _expected(value, unit_is_rate: bool):
    if value is None:
        return None
    return value * 100 if unit_is_rate else value


def _tiles_match(page, data):
    """The tiles show the JSON's figures, each with 环比 and 同比 and its definition as the tooltip."""
    units = {d["key"]: d["unit"] for d in data["definitions"][:len(data["definitions"]) - 4]}
    assert len(units) == 11
    for key, unit in units.items():
        tile = page.locator(f"#sx-tiles [data-key={key}]")
        shown = _number(tile.locator(".sx-value").inner_text())
        expected = _expected(data["tiles"][key], unit == "rate")
        assert (shown is None) == (expected is None), key
        if expected is not None:
            assert shown == pytest.approx(expected, abs=0.051), key
        assert "环比" in tile.locator(".sx-mom").inner_text() and "同比" in tile.locator(".sx-yoy").inner_text()
        assert tile.get_attribute("title")
    for key, value in data["tiles"]["hotline"].items():
        shown = _number(page.locator(f"#sx-hotline [data-key={key}] .sx-value").inner_text())
        assert (shown is None) == (value is None)
    reported = page.locator("#sx-tiles [data-key=reported]")
    assert reported.locator(".sx-value").inner_text().replace(",", "") == str(data["tiles"]["reported"])
    if data["previous"]["reported"]:
        change = (data["tiles"]["reported"] - data["previous"]["reported"]) / data["previous"]["reported"] * 100
        assert f"{abs(change):.1f}%" in reported.locator(".sx-mom").inner_text()
    if data["tiles"]["closed_on_time_rate"] is not None and data["previous"]["closed_on_time_rate"] is not None:
        assert "个百分点" in page.locator("#sx-tiles [data-key=closed_on_time_rate] .sx-mom").inner_text()


def test_the_town_leader_reads_the_month_and_clicks_through(browser, live_server):
    with signed_page(browser, live_server, "townleader1", "/stats", READY) as (page, seen, errors):
        page.click("[data-period=month]")
        page.wait_for_url(re.compile(r"/stats\?since=\d{4}-\d\d-01&until="))
        page.wait_for_selector(READY, state="attached")
        assert page.get_attribute("[data-period=month]", "aria-pressed") == "true"
        query = urlsplit(page.url).query
        since, until = parse_qs(query)["since"][0], parse_qs(query)["until"][0]
        data = page.request.get(f"{live_server}/api/v1/stats/dashboard?{query}").json()
        _tiles_match(page, data)
        assert page.get_attribute("#sx-chart-trend", "data-empty") == ("0" if data["trend"]["points"] else "1")
        page.click("[data-period=last_month]")  # the demo's cases: the month before this one too
        page.wait_for_function("document.body.dataset.period && document.body.dataset.period !== '{since}/{until}'")
        page.wait_for_selector(READY, state="attached")
        query = urlsplit(page.url).query
        since, until = parse_qs(query)["since"][0], parse_qs(query)["until"][0]
        assert since.endswith("-01") and since < until
        data = page.request.get(f"{live_server}/api/v1/stats/dashboard?{query}").json()
        _tiles_match(page, data)
        # the charts are drawn on canvas, the grids on the map; a grid's figures on a click
        for chart in ("trend", "categories", "departments", "sources"):
            assert page.locator(f"#sx-chart-{chart} canvas").count() >= 1, chart
        assert page.locator("#sx-map path.sx-grid").count() > 10
        assert page.locator("#sx-table-workers tbody tr").count() == len(data["workers"])
        page.locator("#sx-map path.sx-grid").nth(page.locator("#sx-map path.sx-grid").count() // 2).click(force=True)
        popup = page.locator(".sx-popup")
        popup.wait_for(timeout=5_000)
        link = popup.locator("a.sx-cases")
        if link.count():
            assert link.get_attribute("href").startswith("/dispatch?since=")
        page.select_option("#sx-level", "village")
        assert page.locator("#sx-map path.sx-village").count() >= 1
        page.select_option("#sx-indicator", "closed_on_time_rate")
        assert "%" in page.locator("#sx-legend").inner_text()

        # every chart downloads as PNG, every table as Excel (the same filters)
        with page.expect_download() as download:
            page.click(".sx-png[data-chart=trend]")
        assert download.value.suggested_filename == f"stats_trend_{since}_{until}.png"
        with open(download.value.path(), "rb") as f:
            assert f.read(8) == PNG
        href = page.get_attribute(".sx-xlsx[data-table=workers]", "href")
        assert href == f"/api/v1/stats/dashboard.xlsx?{query}"
        answer = page.request.get(live_server + href)
        assert answer.status == 200 and "spreadsheetml" in answer.headers["content-type"]
        book = openpyxl.load_workbook(io.BytesIO(answer.body()))
        assert {"指标", "网格", "村社区", "网格员", "指标说明"} <= set(book.sheetnames)
        rows = {r[0]: r for r in book["指标"].iter_rows(values_only=True) if r[0]}
        assert rows["上报数"][2] == data["tiles"]["reported"] and rows["上报数"][3] == data["previous"]["reported"]
        assert book["网格员"].max_row >= len(data["workers"])
        assert page.get_attribute("#sx-reports", "href") == "/stats/reports"

        # a tile opens the console with its filters
        page.click("#sx-tiles [data-key=closed]")
        page.wait_for_url(re.compile(r"/dispatch\?"))
        page.wait_for_selector("body[data-map-ready='1']", timeout=20_000)
        assert page.input_value("#f-state") == "结案"
        assert page.input_value("#f-since") == since and page.input_value("#f-until") == until
        # the reported tile: the console lists that many cases (the map shows the whole town)
        page.go_back()
        page.wait_for_selector(READY, state="attached")
        page.click("#sx-tiles [data-key=reported]")
        page.wait_for_url(re.compile(r"/dispatch\?"))
        page.wait_for_selector("body[data-map-ready='1']", timeout=20_000)
        assert page.input_value("#f-state") == "" and page.input_value("#f-since") == since
        page.wait_for_function("document.querySelector('#d-count').textContent.match(/\\d+/)")
        assert re.search(r"\d+", page.inner_text("#d-count").replace(",", "")).group() == str(data["tiles"]["reported"])
        assert not errors, errors
        assert hosts(seen) == {"127.0.0.1"}


def test_a_village_is_kept_in_the_link_and_overdue_opens_the_open_overdue_cases(browser, live_server):
    with signed_page(browser, live_server, "townleader1", "/stats?since=2026-11-01&until=2026-11-30", READY) \
            as (page, _seen, errors):
        assert page.get_attribute("[data-period=month]", "aria-pressed") in ("true", "false")
        code = page.eval_on_selector("#sx-village", "s => s.options[1].value")
        page.select_option("#sx-village", code)
        page.wait_for_url(re.compile(rf"village={code}"))
        page.wait_for_selector(READY, state="attached")
        data = page.request.get(f"{live_server}/api/v1/stats/dashboard?since=2026-11-01&until=2026-11-30"
                                f"&village={code}").json()
        assert page.locator("#sx-tiles [data-key=reported] .sx-value").inner_text().replace(",", "") \
            == str(data["tiles"]["reported"])
        assert code in page.get_attribute(".sx-xlsx[data-table=villages]", "href")
        page.click("#sx-tiles [data-key=overdue]")
        page.wait_for_selector("body[data-map-ready='1']", timeout=20_000)
        assert page.input_value("#f-village") == code and page.is_checked("#f-overdue")
        assert not errors, errors


@pytest.mark.parametrize(("username", "village_filter"), [("leader01", False), ("dept_huanwei", False), ("district1", True)])
def test_each_reader_sees_their_scope(browser, live_server, username, village_filter):
    with signed_page(browser, live_server, username, "/stats?since=2026-11-01&until=2026-11-30", READY) \
            as (page, _seen, errors):
        data = page.request.get(f"{live_server}/api/v1/stats/dashboard?since=2026-11-01&until=2026-11-30").json()
        assert page.locator("#sx-tiles [data-key=reported] .sx-value").inner_text().replace(",", "") \
            == str(data["tiles"]["reported"])
        assert (page.locator("#sx-village").count() == 1) == village_filter
        assert page.locator("#sx-chart-trend canvas").count() >= 1
        assert page.locator("#sx-map path.sx-grid").count() > 0
        assert not errors, errors


def test_on_a_phone_the_tiles_stack_and_nothing_overflows(browser, live_server):
    with signed_page(browser, live_server, "townleader1", "/stats", READY, device=PHONE) as (page, _seen, errors):
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        widths = page.eval_on_selector_all("#sx-tiles .sx-tile", "ts => ts.map(t => t.getBoundingClientRect().width)")
        assert widths and max(widths) < 390 / 2 + 10
        heights = page.eval_on_selector_all(".sx-periods button", "bs => bs.map(b => b.getBoundingClientRect().height)")
        assert min(heights) >= 44
        assert not errors, errors


def test_who_reads_the_page_and_the_workbook(client):
    login(client, "analyst1")
    assert client.get("/stats").status_code == 403
    client.get("/auth/logout")
    login(client, "leader01")
    page = client.get("/stats").get_data(as_text=True)
    assert 'id="sx-village"' not in page and 'id="sx-reports"' not in page  # a village's leader: theirs only
    client.get("/auth/logout")
    headers = bearer(client, "dispatcher1")
    bad = client.get("/api/v1/stats/dashboard.xlsx?since=2026-13-01", headers=headers)
    assert bad.status_code == 400 and bad.get_json()["errors"][0]["field"] == "since"
    good = client.get("/api/v1/stats/dashboard.xlsx?since=2026-10-01&until=2026-10-31", headers=headers)
    assert good.status_code == 200
    assert "dashboard_20261001_20261031.xlsx" in good.headers["Content-Disposition"]
    assert client.get("/api/v1/openapi.json").get_json()["paths"]["/stats/dashboard.xlsx"]["get"]
