"""The monthly report (月报, seed 6-1): the command line writes the PDF and the workbook, the PDF reads
back with its headings and the month's figures, the workbook holds the numbers of the indicators, the job
writes it on the 3rd working day of the next month and once, and /stats/reports lists and serves it."""

import json
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import create_engine, text

from tests.conftest import ROOT, login
from tests.web.desk import signed_page
from webmap.services import reports, stats
from workflow import indicators
from workflow.clock import SHANGHAI, WorkCalendar

WANGGE = str(Path(sys.executable).parent / "wangge")
JSON = {"Accept": "application/json"}  # as the page's script asks
MONTH = "2026-11"  # the demo town's last month (conftest: cases until 2026-11-20)
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=SHANGHAI)
HEADINGS = ("2026年11月 网格化服务管理工作月报", "一、主要指标", "二、分村/社区", "三、分事件类别",
            "四、超期案件 (分职能部门)", "五、热点网格与类别", "六、网格员考核排名")


def _reported(connection, month: str = MONTH) -> int:
    first = reports.parse_month(month)
    return connection.execute(text("SELECT count(*) FROM incidents WHERE reported_at >= :a AND reported_at < :b"), {
        "a": datetime.combine(first, datetime.min.time(), SHANGHAI),
        "b": datetime.combine(reports.next_month(first), datetime.min.time(), SHANGHAI)}).scalar()


def _pdf_text(path: Path) -> str:
    pypdf = pytest.importorskip("pypdf")  # pyproject's dev extras
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)


def test_cli_writes_the_pdf_and_the_workbook(database_url, connection, tmp_path):
    env = {**os.environ, "WANGGE_HOME": str(ROOT), "DATABASE_URL": database_url}
    done = subprocess.run([WANGGE, "reports", "monthly", "--month", MONTH, "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    paths = json.loads(done.stdout)
    assert Path(paths["pdf"]) == tmp_path / "out" / "月报_2026-11.pdf"
    assert Path(paths["xlsx"]) == tmp_path / "out" / "月报_2026-11.xlsx"
    reported = _reported(connection)
    assert paths["reported"] == reported > 0
    assert Path(paths["pdf"]).read_bytes()[:5] == b"%PDF-"
    book = openpyxl.load_workbook(paths["xlsx"])
    assert {"主要指标", "分村社区", "分类别", "超期分部门", "热点", "网格员排名", "每日趋势"} <= set(book.sheetnames)
    assert not list((tmp_path / "out").glob("*.part"))
    words = _pdf_text(Path(paths["pdf"]))
    for heading in HEADINGS:
        assert heading in words
    assert f"本月共受理 {reported} 件" in words


@pytest.mark.parametrize(("args", "reason"), [
    (["--month", "2026-13"], "YYYY-MM"), (["--month", "11/2026"], "YYYY-MM"),
    (["--month", "2099-01"], "a month to come"),
])
def test_cli_refuses_a_bad_month(database_url, tmp_path, args, reason):
    env = {**os.environ, "WANGGE_HOME": str(ROOT), "DATABASE_URL": database_url}
    done = subprocess.run([WANGGE, "reports", "monthly", *args, "--out", str(tmp_path)], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 2 and reason in done.stderr and not list(tmp_path.iterdir())


def test_cli_refuses_a_folder_it_cannot_write(database_url, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    env = {**os.environ, "WANGGE_HOME": str(ROOT), "DATABASE_URL": database_url}
    done = subprocess.run([WANGGE, "reports", "monthly", "--month", MONTH, "--out", str(blocker / "sub")],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 2 and "无法创建目录" in done.stderr and "cannot make the folder" in done.stderr


def test_the_workbook_and_the_pdf_hold_the_indicators(db, connection, tmp_path):
    done = reports.write(db, MONTH, tmp_path, now=NOW)
    first = date(2026, 11, 1)
    window = indicators.Window("village", datetime(2026, 11, 1, tzinfo=SHANGHAI), datetime(2026, 12, 1, tzinfo=SHANGHAI))
    expected = stats.indicators(db, stats.WHOLE_DISTRICT, window, now=NOW)
    book = openpyxl.load_workbook(done["xlsx"])
    rows = [r for r in book["分村社区"].iter_rows(values_only=True) if r and r[0]]
    header = next(n for n, r in enumerate(rows) if r[0] == "村/社区")
    table = {r[0]: r[1:] for r in rows[header + 1:]}  # the en header row is blank
    for item in [*expected["rows"], {**expected["total"], "label": "合计"}]:
        want = [item[k]["value"] for k in reports.SUMMARY]
        got = list(table[item["label"]][:len(want)])
        assert got == [None if w is None else pytest.approx(w) for w in want], item["label"]
    summary = {r[0]: r[1] for r in book["主要指标"].iter_rows(values_only=True) if r and r[0]}
    assert summary["上报数"] == expected["total"]["reported"]["value"] == _reported(connection)
    assert summary["按期结案率(%)"] == pytest.approx(expected["total"]["closed_on_time"]["value"])
    days = [r for r in book["每日趋势"].iter_rows(values_only=True) if r and r[0] == "合计"]
    assert days[0][1] == expected["total"]["reported"]["value"]
    words = _pdf_text(Path(done["pdf"]))
    total = expected["total"]
    assert (f"本月共受理 {total['reported']['value']} 件" in words
            and f"按期结案率 {total['closed_on_time']['value']:.2f}%" in words)
    assert reports.file_names(first) == ("月报_2026-11.pdf", "月报_2026-11.xlsx")


def test_the_3rd_working_day():
    plain = WorkCalendar.with_table()
    # December 2026: Tue 1, Wed 2, Thu 3; due from the 3rd on (the job then finds it written)
    assert [reports.due_month(plain, date(2026, 12, d)) for d in (1, 2, 3, 4)] == [None, None, *[date(2026, 11, 1)] * 2]
    # a holiday on the 2nd (the administrators' table): Tue 1, Thu 3, Fri 4
    table = WorkCalendar.with_table(holidays=[date(2026, 12, 2)])
    assert [reports.due_month(table, date(2026, 12, d)) for d in (3, 4)] == [None, date(2026, 11, 1)]
    # January: the month before is December of the year before
    assert reports.previous_month(date(2027, 1, 1)) == date(2026, 12, 1)


def test_the_job_writes_it_on_the_3rd_working_day_once(demo_database, tmp_path):
    url = demo_database("reports_jobs", incidents=60, seed=5)
    env = {**os.environ, "DATABASE_URL": url, "WANGGE_REPORTS_DIR": str(tmp_path)}
    written = []
    for day in (2, 3, 4):
        done = subprocess.run([WANGGE, "jobs", "run", "--now", f"2026-12-0{day}T09:00+08:00"], capture_output=True,
                              text=True, env=env, timeout=300)
        assert done.returncode == 0, done.stderr
        written.append(json.loads(done.stdout.strip().splitlines()[-1])["monthly_report"])
    assert written == [None, str(tmp_path / "月报_2026-11.pdf"), None]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["月报_2026-11.pdf", "月报_2026-11.xlsx"]
    assert [r["month"] for r in reports.written(tmp_path)] == ["2026-11"]
    engine = create_engine(url)
    with engine.connect() as connection:
        assert f"本月共受理 {_reported(connection)} 件" in _pdf_text(tmp_path / "月报_2026-11.pdf")
    engine.dispose()


@pytest.fixture
def folder(app, tmp_path):
    """The app's reports folder, for this test."""
    before = app.config.get("REPORTS_DIR")
    app.config["REPORTS_DIR"] = str(tmp_path)
    yield tmp_path
    app.config["REPORTS_DIR"] = before


def test_who_reads_and_who_writes(client, folder):
    (folder / "月报_2026-10.pdf").write_bytes(b"%PDF-1.4 x")
    (folder / "notes.txt").write_text("not a report")
    for who, status in (("townleader1", 200), ("district1", 200), ("dispatcher1", 200), ("leader01", 403),
                        ("analyst1", 403)):
        login(client, who)
        assert client.get("/stats/reports", headers=JSON).status_code == status, who
        assert client.get("/stats/reports/月报_2026-10.pdf").status_code == status, who
        client.get("/auth/logout")
    login(client, "townleader1")
    listed = client.get("/stats/reports", headers=JSON).get_json()["reports"]
    assert [(r["month"], r["pdf"], r["xlsx"]) for r in listed] == [("2026-10", "月报_2026-10.pdf", None)]
    assert client.get("/stats/reports/notes.txt").status_code == 404
    assert client.get("/stats/reports/..%2Fsecret_key").status_code == 404
    refused = client.post("/stats/reports", json={"month": "2026-10"}, headers=JSON)
    assert refused.status_code == 403 and refused.get_json()["message_zh"]
    client.get("/auth/logout")
    login(client, "dispatcher1")
    for month in ("2026-13", "2099-01", 7):
        bad = client.post("/stats/reports", json={"month": month}, headers=JSON)
        assert bad.status_code == 400 and bad.get_json()["errors"][0]["field"] == "month", month
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt", "月报_2026-10.pdf"]


def test_the_page_lists_and_serves_the_reports(browser, live_server, app, db, folder):
    reports.write(db, MONTH, folder, now=NOW)
    with signed_page(browser, live_server, "townleader1", "/stats/reports", "body[data-ready=reports]") as (page, seen, errors):
        row = page.locator("#rp-list tr[data-month='2026-11']")
        assert "2026年11月" in row.inner_text()
        assert page.locator("#rp-write").count() == 0  # the town's leader reads; the centre writes
        href = row.locator("a.rp-pdf").get_attribute("href")
        answer = page.request.get(live_server + href)
        assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
        assert answer.body()[:5] == b"%PDF-"
        assert row.locator("a.rp-xlsx").get_attribute("href").endswith(".xlsx")
        assert not errors and {h for h in (u.split("/")[2].split(":")[0] for u in seen if "://" in u)} <= {"127.0.0.1"}


def test_the_centre_writes_a_month_from_the_page(browser, live_server, folder):
    with signed_page(browser, live_server, "dispatcher1", "/stats/reports", "body[data-ready=reports]") as (page, _seen, errors):
        assert "尚无月报" in page.locator("#rp-list").inner_text()
        page.fill("#rp-month", "2026-10")
        page.click("#rp-write")
        assert page.locator("#rp-write").is_disabled()
        assert "正在生成" in page.locator("#rp-msg").inner_text()
        page.wait_for_selector("#rp-list tr[data-month='2026-10'] a.rp-pdf", timeout=60_000)
        assert "已生成 2026年10月 月报" in page.locator("#rp-msg").inner_text()
        assert page.locator("#rp-write").is_enabled() and not errors
    assert sorted(p.name for p in folder.iterdir()) == ["月报_2026-10.pdf", "月报_2026-10.xlsx"]
