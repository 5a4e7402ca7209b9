"""Case exports (导出, issue 17 item 3): one row per case with its lifecycle times from the case
events; at most EXPORT_SYNC_MAX cases at once (201), more in the background (202 → progress →
完成); the job and its file only for whom asked (or the same role and scope); the console's button."""

from __future__ import annotations

import time
from io import BytesIO

import pytest
from openpyxl import load_workbook

from tests.conftest import bearer, sql
from tests.web.desk import console, hosts, watch
from webmap.services import exports

LIFECYCLE_COLUMNS = ["上报时间", "立案时间", "派遣时间", "接收时间", "反馈时间", "核查时间", "结案时间"]


@pytest.fixture
def export_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "EXPORTS_DIR", str(tmp_path))
    return tmp_path


def _sheet(data: bytes) -> tuple[list[str], list[dict]]:
    book = load_workbook(BytesIO(data), read_only=True)
    rows = list(book["案件"].iter_rows(values_only=True))
    header = list(rows[0])
    pad = (None,) * len(header)  # read-only mode leaves out the empty cells at a row's end
    return header, [dict(zip(header, (r + pad)[:len(header)], strict=True)) for r in rows[1:]]


def _busiest(connection, column: str, n: int = 1):
    """The codes of ``column`` (grid_code, village_code) holding the most cases."""
    return [r[0] for r in sql(connection, f"""SELECT {column} FROM incidents WHERE {column} IS NOT NULL
                                             GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT :n""", n=n)]  # noqa: S608


def _local(moment):
    from workflow.clock import SHANGHAI

    return None if moment is None else moment.astimezone(SHANGHAI).replace(tzinfo=None, microsecond=0)


def test_a_small_export_is_ready_at_once_with_each_cases_lifecycle(client, connection, export_dir):
    grid = _busiest(connection, "grid_code")[0]
    headers = bearer(client, "dispatcher1")
    r = client.post("/api/v1/exports/cases", json={"grid": grid}, headers=headers)
    assert r.status_code == 201, r.get_json()
    job = r.get_json()
    assert job["state"] == "完成" and job["done"] == job["total"] and r.headers["Location"] == job["url"]
    f = client.get(job["url"], headers=headers)
    assert f.status_code == 200 and f.mimetype == exports.XLSX_MIME
    header, rows = _sheet(f.data)
    assert header[:2] == ["案卷号", "状态"] and all(c in header for c in LIFECYCLE_COLUMNS)
    expected = {r[0] for r in sql(connection, "SELECT case_no FROM incidents WHERE grid_code = :g", g=grid)}
    assert [r["案卷号"] for r in rows if r["案卷号"] in expected] == [r["案卷号"] for r in rows]
    assert len(rows) == len(expected) == job["total"]
    # every lifecycle time of a case that went the whole way equals its events', recomputed here
    (case_no, case_id), = sql(connection, """
        SELECT i.case_no, i.id FROM incidents i WHERE i.grid_code = :g AND i.state = '结案'
           AND EXISTS (SELECT 1 FROM case_events e WHERE e.incident_id = i.id AND e.action = 'dispatch')
         ORDER BY i.id LIMIT 1""", g=grid)
    events = {}
    for action, at in sql(connection, "SELECT action, at FROM case_events WHERE incident_id = :i ORDER BY at, id",
                          i=case_id):
        events.setdefault(action, []).append(at)
    row = next(r for r in rows if r["案卷号"] == case_no)
    assert row["上报时间"] == _local(events["report"][0])
    assert row["立案时间"] == _local(events["file"][0])
    assert row["派遣时间"] == _local(events["dispatch"][-1])
    assert row["接收时间"] == _local(events["accept"][-1])
    assert row["反馈时间"] == _local(events["feedback"][-1])
    assert row["核查时间"] == _local(events["verify_pass"][-1])
    assert row["结案时间"] == _local(events["verify_pass"][-1])
    # a case still open has no closing time
    open_rows = [r for r in rows if r["状态"] != "结案" and r["状态"] != "作废"]
    assert all(r["结案时间"] is None for r in open_rows)


def test_phones_are_masked_unless_the_role_may_see_them(client, connection, export_dir):
    grid = _busiest(connection, "grid_code")[0]
    (case_no,), = sql(connection, """UPDATE incidents SET reporter_name = '张三丰', reporter_phone = '13812345678'
                                    WHERE id = (SELECT min(id) FROM incidents WHERE grid_code = :g)
                                    RETURNING case_no""", g=grid)
    phones = {}
    for who in ("dispatcher1", "townleader1"):
        job = client.post("/api/v1/exports/cases", json={"grid": grid}, headers=bearer(client, who)).get_json()
        _h, rows = _sheet(client.get(job["url"], headers=bearer(client, who)).data)
        row = next(r for r in rows if r["案卷号"] == case_no)
        phones[who] = (row["上报人"], row["上报人电话"])
    assert phones == {"dispatcher1": ("张三丰", "13812345678"), "townleader1": ("张**", "138****5678")}
    audited = sql(connection, """SELECT after FROM audit_log WHERE action = 'view_personal_data'
                                 AND actor = 'dispatcher1' ORDER BY id DESC LIMIT 1""")
    assert audited and audited[0][0]["count"] >= 1


def test_a_large_export_runs_in_the_background(app, client, connection, export_dir, monkeypatch):
    monkeypatch.setitem(app.config, "EXPORT_SYNC_MAX", 50)
    monkeypatch.setattr(exports, "BATCH", 40)
    saved = []
    real_save = exports._save
    monkeypatch.setattr(exports, "_save", lambda d, record: (saved.append((record["state"], record["done"])),
                                                            real_save(d, record)))
    village = _busiest(connection, "village_code")[0]
    expected = {r[0] for r in sql(connection, "SELECT case_no FROM incidents WHERE village_code = :v", v=village)}
    assert len(expected) > 120
    headers = bearer(client, "dispatcher1")
    r = client.post("/api/v1/exports/cases", json={"village": village}, headers=headers)
    assert r.status_code == 202, r.get_json()
    job = r.get_json()
    assert job["state"] == "排队" and job["url"] is None and job["total"] == len(expected)
    assert client.get(f"/api/v1/exports/{job['job']}/file", headers=headers).status_code == 404  # not yet
    deadline = time.monotonic() + 60
    while True:
        status = client.get(job["status_url"], headers=headers).get_json()
        assert status["state"] in ("排队", "进行中", "完成"), status
        if status["state"] == "完成" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert status["state"] == "完成" and status["done"] == status["total"] == len(expected)
    # the progress was stored as it went: rows done of the total, batch by batch
    running = [done for state, done in saved if state == "进行中"]
    assert any(0 < d < len(expected) for d in running) and running == sorted(running)
    f = client.get(status["url"], headers=headers)
    assert f.status_code == 200
    _h, rows = _sheet(f.data)
    numbers = [r["案卷号"] for r in rows]
    assert len(numbers) == len(set(numbers)) == len(expected) and set(numbers) == expected
    assert (export_dir / f"{job['job']}.xlsx").exists()


def test_another_user_cannot_fetch_an_export(client, connection, export_dir):
    grid = _busiest(connection, "grid_code")[0]
    job = client.post("/api/v1/exports/cases", json={"grid": grid}, headers=bearer(client, "dispatcher1")).get_json()
    for who in ("leader01", "townleader1", "district1"):  # another scope, or the same scope with other rights
        headers = bearer(client, who)
        assert client.get(job["status_url"], headers=headers).status_code == 404, who
        assert client.get(job["url"], headers=headers).status_code == 404, who
    again = bearer(client, "dispatcher1")
    assert client.get(job["url"], headers=again).status_code == 200


def test_an_export_left_by_a_stopped_app_is_failed(client, export_dir):
    import json
    import subprocess
    import sys

    headers = bearer(client, "dispatcher1")
    job = client.post("/api/v1/exports/cases", json={"grid": "120116103201001"}, headers=headers).get_json()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    meta = export_dir / f"{job['job']}.json"
    record = json.loads(meta.read_text(encoding="utf-8"))
    meta.write_text(json.dumps({**record, "state": "进行中", "pid": int(gone)}), encoding="utf-8")
    status = client.get(job["status_url"], headers=headers).get_json()
    assert status["state"] == "失败" and status["url"] is None


@pytest.mark.parametrize("body, field", [
    ({"state": "不存在"}, "state"), ({"grid": "12"}, "grid"), ({"since": "yesterday"}, "since"),
    ({"village": ["120116103201"]}, "village"), ({"overdue": "maybe"}, "overdue"),
])
def test_bad_filters_are_400_field_by_field(client, export_dir, body, field):
    r = client.post("/api/v1/exports/cases", json=body, headers=bearer(client, "dispatcher1"))
    assert r.status_code == 400, r.get_json()
    answer = r.get_json()
    assert field in str(answer) and "message_zh" in answer
    assert not list(export_dir.iterdir())  # nothing half-made


def test_unknown_and_malformed_jobs_are_404(client, export_dir):
    headers = bearer(client, "dispatcher1")
    for job in ("0123456789abcdef", "..%2F..%2Fsecret_key", "x' OR 1=1"):
        assert client.get(f"/api/v1/exports/{job}", headers=headers).status_code == 404
        assert client.get(f"/api/v1/exports/{job}/file", headers=headers).status_code == 404


def test_roles_without_the_console_cannot_export(client, export_dir):
    r = client.post("/api/v1/exports/cases", json={}, headers=bearer(client, "analyst1"))
    assert r.status_code == 403


def test_dispatcher_exports_from_the_console(app, browser, live_server, engine, export_dir, monkeypatch):
    monkeypatch.setitem(app.config, "EXPORT_SYNC_MAX", 50)  # the console's open cases: written in the background
    monkeypatch.setattr(exports, "BATCH", 25)
    with engine.connect() as conn:
        expected = {r[0] for r in sql(conn, """SELECT case_no FROM incidents
                                              WHERE state NOT IN ('结案', '作废')""")}
    assert len(expected) > 50
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, accept_downloads=True)
    try:
        page = context.new_page()
        seen, errors = watch(page)
        console(page, live_server)
        with page.expect_response(lambda r: r.url.endswith("/api/v1/exports/cases")) as started:
            page.click("#d-export")
        assert started.value.status == 202  # in the background
        page.wait_for_selector("#d-export-bar:not([hidden])", timeout=10_000)  # the progress bar
        page.wait_for_selector("#d-export-link:not([hidden])", timeout=60_000)
        assert page.get_attribute("#d-export-bar", "value") == page.get_attribute("#d-export-bar", "max")
        assert "导出完成" in page.inner_text("#d-export-state")
        box = page.locator("#d-export").bounding_box()
        assert box["height"] >= 44
        with page.expect_download() as download:
            page.click("#d-export-link")
        assert download.value.suggested_filename.endswith(".xlsx")
        _h, rows = _sheet(download.value.path().read_bytes())
        assert {r["案卷号"] for r in rows} == expected and len(rows) == len(expected)
        assert hosts(seen) == {"127.0.0.1"} and not errors
    finally:
        context.close()
