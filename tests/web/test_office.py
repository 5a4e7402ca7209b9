"""办公室台账 (seed 3-1): the centre's certificates with their expiry reminders (60 and 30 calendar days
before, each once, in the centre's 待办, through ``wangge jobs run --now``), the seals with their
append-only use log, the bank accounts with their masked numbers (whole only to the centre, and
then written to the audit log), the registration checklist with its scans; who may read and write."""

import io
import json
import os
import re
import subprocess
import sys
import uuid
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from psycopg2 import errors as pg
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tests.conftest import JPEG, login, user_named
from webmap.services import inbox, office
from webmap.services.errors import ConflictError, ForbiddenError, InvalidInputError
from workflow import office as rules
from workflow.clock import SHANGHAI

# the day the certificate is entered (after the demo's last day, before its own certificate's reminders):
# it expires in 40 days
D0 = datetime(2027, 1, 20, 9, 0, tzinfo=SHANGHAI)
EXPIRES = (D0 + timedelta(days=40)).date()


def _at(days_before: int) -> datetime:
    """The job's --now: 09:00 on the day ``days_before`` calendar days before the expiry."""
    return datetime.combine(EXPIRES - timedelta(days=days_before), time(9, 0), SHANGHAI)


def _certificate(db, name=None, valid_to=EXPIRES, now=D0):
    return office.add_certificate(db, user_named(db, "dispatcher1"), {
        "name": name or f"测试证照 {uuid.uuid4().hex[:6]}", "number": "津证 0040", "issuer": "滨海新区行政审批局",
        "valid_from": "2021-12-30", "valid_to": valid_to.isoformat()}, now=now)


def _stages(db, certificate_id):
    rows = db.execute(text("SELECT days, done_reason FROM office_reminders WHERE certificate_id = :c ORDER BY id"),
                      {"c": certificate_id}).all()
    return [tuple(r) for r in rows]


def _office_inbox(db, username, now):
    return inbox.inbox(db, user_named(db, username), now=now, kind="office", limit=500)["items"]


def test_the_rules_count_calendar_days_and_colour_the_days_left():
    assert (rules.REMINDER_DAYS, rules.REMINDER_DAY_KIND) == ((60, 30), "calendar")
    assert [c.zh for c in rules.CHECKLIST] == ["事业单位法人设立登记表", "法定代表人登记申请表", "章程草案", "经费来源证明",
                                               "开办资金确认证明", "房屋授权无偿使用证明", "申办行政许可项目承诺书", "委托书"]
    # over the Spring Festival holiday the 30 days still run: the day is 30 calendar days before
    assert rules.reminder_stage(date(2027, 3, 10), date(2027, 2, 8)) == 30
    assert rules.reminder_stage(date(2027, 3, 10), date(2027, 2, 7)) == 60
    assert [rules.days_colour(n) for n in (-3, 0, 29, 30, 59, 60, None)] == [
        "red", "red", "red", "amber", "amber", "normal", "normal"]
    assert rules.mask_account("6222021234567890123") == "6222 **** **** 0123"


def test_a_certificate_expiring_in_40_days_is_reminded_at_60_and_30_days(db):
    made = _certificate(db)
    assert made["days_left"] == 40 and made["colour"] == "amber" and made["reminder"] is None
    cid = made["id"]
    office.run_reminders(db, now=_at(61))
    assert _stages(db, cid) == []  # D-61: none
    office.run_reminders(db, now=_at(60))
    assert _stages(db, cid) == [(60, None)]  # D-60: one
    office.run_reminders(db, now=_at(60) + timedelta(minutes=5))
    office.run_reminders(db, now=_at(45))
    assert _stages(db, cid) == [(60, None)]  # again: still one
    shown = [i for i in _office_inbox(db, "dispatcher1", _at(45)) if i["page"].endswith(f"certificate={cid}")]
    assert len(shown) == 1 and shown[0]["note"] == "到期前 60 天提醒" and "剩 45 天" in shown[0]["title"]
    office.run_reminders(db, now=_at(30))
    assert _stages(db, cid) == [(60, "superseded"), (30, None)]  # D-30: a second, which replaces the first
    mine = [i for i in _office_inbox(db, "dispatcher1", _at(30)) if i["page"].endswith(f"certificate={cid}")]
    assert [(i["note"], i["state"], i["deadline_status"]) for i in mine] == [("到期前 30 天提醒", "即将到期", "yellow")]
    assert mine[0]["deadline"] == f"{(EXPIRES + timedelta(days=1)).isoformat()}T00:00:00+08:00"
    assert mine[0]["actions"][0]["name"] == "acknowledge"
    office.run_reminders(db, now=_at(30) + timedelta(hours=1))
    office.run_reminders(db, now=_at(3))
    assert len(_stages(db, cid)) == 2  # no third stage: the last reminder waits until done
    # the administrator's 待办 has it too; a town leader reads the registers but has no 待办 of them
    assert any(i["id"] == mine[0]["id"] for i in _office_inbox(db, "admin", _at(30)))
    assert _office_inbox(db, "townleader1", _at(30)) == []
    # once expired it is overdue in 待办, until acknowledged
    late = [i for i in _office_inbox(db, "dispatcher1", _at(-2)) if i["id"] == mine[0]["id"]]
    assert late[0]["deadline_status"] == "red" and late[0]["state"] == "已过期"
    done = office.acknowledge(db, user_named(db, "dispatcher2"), mine[0]["id"], {"note": "已报登记管理局换证"}, now=_at(20))
    assert (done["open"], done["done_reason"], done["note"]) == (False, "acknowledged", "已报登记管理局换证")
    assert all(i["id"] != mine[0]["id"] for i in _office_inbox(db, "dispatcher1", _at(20)))
    with pytest.raises(ConflictError):
        office.acknowledge(db, user_named(db, "dispatcher1"), mine[0]["id"], {}, now=_at(19))


def test_renewing_a_certificate_closes_its_reminder_and_starts_the_clock_again(db):
    made = _certificate(db)
    office.run_reminders(db, now=_at(30))
    assert _stages(db, made["id"]) == [(30, None)]  # first run at D-30: the 30-day reminder only
    dispatcher = user_named(db, "dispatcher1")
    renewed = office.change_certificate(db, dispatcher, made["id"], {
        "number": "津证 0041", "valid_from": EXPIRES.isoformat(), "valid_to": "2031-12-29", "version": made["version"]},
        now=_at(25))
    assert renewed["version"] == made["version"] + 1 and renewed["reminder"] is None
    assert _stages(db, made["id"]) == [(30, "renewed")]
    office.run_reminders(db, now=_at(24))
    assert len(_stages(db, made["id"])) == 1  # the new date is years away
    office.run_reminders(db, now=datetime(2031, 10, 30, 9, 0, tzinfo=SHANGHAI))  # 60 days before the new date
    assert _stages(db, made["id"]) == [(30, "renewed"), (60, None)]
    with pytest.raises(ConflictError) as stale:  # the version read before the renewal
        office.change_certificate(db, dispatcher, made["id"], {"note": "x", "version": made["version"]})
    assert stale.value.current["number"] == "津证 0041"
    cancelled = office.change_certificate(db, dispatcher, made["id"], {"state": "已注销", "version": renewed["version"]})
    assert cancelled["state"] == "已注销" and _stages(db, made["id"])[-1] == (60, "cancelled")


def test_bad_input_is_refused_field_by_field_and_nothing_is_saved(client, connection):
    login(client, "dispatcher1")
    before = connection.execute(text("SELECT count(*) FROM office_certificates")).scalar()
    bad = client.post("/api/v1/office/certificates", json={"name": " ", "number": "x", "issuer": "y",
                                                           "valid_from": "2026-05-01", "valid_to": "2026-04-30"})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["errors"]} == {"name", "valid_to"}
    assert "有效期至应晚于有效期起" in json.dumps(bad.get_json(), ensure_ascii=False)
    same = client.post("/api/v1/office/certificates", json={"name": "证", "number": "x", "issuer": "y",
                                                            "valid_from": "2026-05-01", "valid_to": "2026-05-01"})
    assert [e["field"] for e in same.get_json()["errors"]] == ["valid_to"]
    dates = client.post("/api/v1/office/certificates", json={"name": "证", "number": "x", "issuer": "y",
                                                             "valid_from": "2026-02-30", "valid_to": "tomorrow"})
    assert {e["field"] for e in dates.get_json()["errors"]} == {"valid_from", "valid_to"}
    assert client.post("/api/v1/office/certificates", data="x", content_type="text/plain").status_code == 400
    assert client.post("/api/v1/office/certificates", json=[1]).status_code == 422
    assert connection.execute(text("SELECT count(*) FROM office_certificates")).scalar() == before
    lasting = client.post("/api/v1/office/certificates", json={"name": "机构编制证", "number": "编 12", "issuer": "区委编办",
                                                               "valid_from": "2020-01-01", "valid_to": None})
    assert lasting.status_code == 201 and lasting.get_json()["days_left"] is None  # 长期有效
    cid = lasting.get_json()["id"]
    assert client.post(f"/api/v1/office/certificates/{cid}", json={"note": "x"}).status_code == 422  # no version
    assert client.post(f"/api/v1/office/certificates/{cid}", json={"note": "x", "version": 7}).status_code == 409
    assert client.post("/api/v1/office/certificates/abc", json={"version": 1}).status_code == 404
    assert client.post("/api/v1/office/certificates/999999", json={"version": 1}).status_code == 404
    accounts = client.post("/api/v1/office/accounts", json={"kind": "储蓄", "bank": "农行", "name": "中心",
                                                            "number": "12ab", "opened_on": "2026-01-05",
                                                            "closed_on": "2025-12-31"})
    assert {e["field"] for e in accounts.get_json()["errors"]} == {"kind", "number", "closed_on"}
    future = client.post("/api/v1/office/seals", json={"name": "合同专用章", "keeper": "张", "since": "2099-01-01"})
    assert [e["field"] for e in future.get_json()["errors"]] == ["since"]
    assert client.post("/api/v1/office/checklist/no_such_item", json={"state": "已备", "version": 0}).status_code == 404
    assert client.post("/api/v1/office/checklist/charter", json={"state": "齐了", "version": 0}).status_code == 422


def test_the_account_number_is_masked_for_the_town_leader_and_its_unmasking_audited(client, connection):
    whole = connection.execute(text("SELECT id, number FROM office_accounts ORDER BY id LIMIT 1")).one()
    login(client, "townleader1")
    listing = client.get("/api/v1/office/accounts")
    assert listing.status_code == 200
    item = next(a for a in listing.get_json()["items"] if a["id"] == whole.id)
    assert item["number_masked"] == f"{whole.number[:4]} **** **** {whole.number[-4:]}" and "number" not in item
    assert whole.number not in listing.get_data(as_text=True) and listing.get_json()["can_unmask"] is False
    assert client.get(f"/api/v1/office/accounts/{whole.id}/number").status_code == 403
    client.post("/auth/logout")
    login(client, "dispatcher1")
    assert whole.number not in client.get("/api/v1/office/accounts").get_data(as_text=True)  # the list: masked for all
    shown = client.get(f"/api/v1/office/accounts/{whole.id}/number")
    assert shown.status_code == 200 and shown.get_json()["number"] == whole.number
    assert shown.headers["Cache-Control"] == "no-store"
    changed = client.post(f"/api/v1/office/accounts/{whole.id}", json={"approval": "镇党委会议纪要 (2026) 3 号",
                                                                       "version": item["version"]})
    assert changed.status_code == 200 and changed.get_json()["version"] == item["version"] + 1
    client.post("/auth/logout")
    login(client, "admin")
    log = client.get(f"/api/v1/admin/audit?target=office_account:{whole.id}").get_json()["items"]
    assert [(e["actor"], e["action"]) for e in log] == [("dispatcher1", "office_account_change"),
                                                        ("dispatcher1", "view_account_number")]
    assert whole.number not in json.dumps(log)  # the log of a change keeps the number masked


def test_who_may_read_and_who_may_write(client):
    for who in ("worker001", "leader01", "dept_huanwei", "district1", "planner1", "analyst1"):
        login(client, who)
        for path in ("/api/v1/office/certificates", "/api/v1/office/seals", "/api/v1/office/accounts",
                     "/api/v1/office/checklist", "/api/v1/office/reminders", "/office"):
            assert client.get(path).status_code == 403, (who, path)
        assert client.post("/api/v1/office/seals", json={"name": "公章", "keeper": "某"}).status_code == 403
        client.post("/auth/logout")
    login(client, "townleader1")
    assert client.get("/office").status_code == 200
    assert client.get("/api/v1/office/certificates").get_json()["can_manage"] is False
    assert client.post("/api/v1/office/seals", json={"name": "公章", "keeper": "某"}).status_code == 403
    seal = client.get("/api/v1/office/seals").get_json()["items"][0]
    assert client.post(f"/api/v1/office/seals/{seal['id']}/uses", json={"day": "2026-11-01", "document": "函",
                                                                       "approver": "某"}).status_code == 403
    client.post("/auth/logout")
    assert client.get("/api/v1/office/certificates").status_code == 401


def test_the_seal_use_log_is_append_only(client, connection):
    login(client, "dispatcher1")
    seal = client.post("/api/v1/office/seals", json={"name": "合同专用章", "keeper": "王保管", "since": "2026-01-04"})
    assert seal.status_code == 201
    sid = seal.get_json()["id"]
    url = f"/api/v1/office/seals/{sid}/uses"
    first = client.post(url, json={"day": "2026-11-02", "document": "网格服务采购合同", "copies": 2, "approver": "镇长"})
    second = client.post(url, json={"day": "2026-11-03", "document": "补充协议", "approver": "镇长"})
    assert first.status_code == second.status_code == 201 and second.get_json()["copies"] == 1
    bad = client.post(url, json={"day": "2025-12-01", "document": "", "approver": "镇长", "copies": 0})
    assert {e["field"] for e in bad.get_json()["errors"]} == {"day", "document", "copies"}  # before the seal; empty
    log = client.get(url).get_json()
    assert [u["document"] for u in log["items"]] == ["补充协议", "网格服务采购合同"] and log["seal"]["uses"] == 2
    assert log["items"][0]["recorded_by"]
    use = first.get_json()["id"]
    # no route changes or removes a use, and the database refuses it
    assert client.put(f"{url}/{use}", json={"document": "改"}).status_code in (404, 405)
    assert client.delete(f"{url}/{use}").status_code in (404, 405)
    for statement in ("UPDATE office_seal_uses SET document = 'rewritten' WHERE id = :i",
                      "DELETE FROM office_seal_uses WHERE id = :i"):
        with pytest.raises(DBAPIError, match="append-only") as info:
            with connection.begin_nested():
                connection.execute(text(statement), {"i": use})
        assert isinstance(info.value.orig, pg.InsufficientPrivilege)
    retired = client.post(f"/api/v1/office/seals/{sid}", json={"state": "已停用", "version": 1})
    assert retired.status_code == 200
    refused = client.post(url, json={"day": "2026-11-04", "document": "函", "approver": "镇长"})
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "seal"
    assert len(client.get(url).get_json()["items"]) == 2


def test_the_checklist_is_ticked_item_by_item_with_its_scans(client):
    login(client, "dispatcher1")
    items = client.get("/api/v1/office/checklist").get_json()
    assert items["total"] == 8 and [i["zh"] for i in items["items"]][:2] == ["事业单位法人设立登记表", "法定代表人登记申请表"]
    item = next(i for i in items["items"] if i["code"] == "capital_proof")
    scan = JPEG + b"office-capital-proof"
    uploaded = client.post("/api/v1/attachments", data={"file": (io.BytesIO(scan), "proof.jpg")},
                           content_type="multipart/form-data").get_json()
    ready = client.post("/api/v1/office/checklist/capital_proof",
                        json={"state": "已备", "note": "财政所出具", "scans": [uploaded["id"]], "version": item["version"]})
    assert ready.status_code == 200, ready.get_json()
    answer = ready.get_json()
    assert (answer["state"], answer["day"], answer["version"]) == ("已备", datetime.now(SHANGHAI).date().isoformat(),
                                                                   item["version"] + 1)
    assert answer["scans"][0]["id"] == uploaded["id"]
    again = client.get("/api/v1/office/checklist").get_json()
    assert again["ready"] == items["ready"] + (item["state"] != "已备")
    stale = client.post("/api/v1/office/checklist/capital_proof", json={"state": "未备", "version": item["version"]})
    assert stale.status_code == 409 and stale.get_json()["current"]["state"] == "已备"
    missing = client.post("/api/v1/office/checklist/capital_proof",
                          json={"state": "已备", "scans": ["0" * 64], "version": answer["version"]})
    assert [e["field"] for e in missing.get_json()["errors"]] == ["scans"]
    client.post("/auth/logout")
    login(client, "townleader1")  # a reader of the registers sees its scans; a village does not
    assert client.get(f"/api/v1/attachments/{uploaded['id']}").data == scan
    client.post("/auth/logout")
    login(client, "leader02")
    assert client.get(f"/api/v1/attachments/{uploaded['id']}").status_code == 404


def test_the_demo_centre_has_its_registers(db):
    town = user_named(db, "townleader1")
    certs = office.certificates(db, town)["items"]
    legal = next(c for c in certs if c["name"] == "事业单位法人证书")
    assert legal["valid_to"] and legal["days_left"] > 60
    seal = next(s for s in office.seals(db, town)["items"] if s["name"] == "公章")
    assert seal["uses"] >= 4 and seal["keeper"]
    assert office.accounts(db, town)["items"][0]["number_masked"].count("*") == 8
    assert office.checklist(db, town)["ready"] >= 4
    with pytest.raises(ForbiddenError):
        office.add_seal(db, town, {"name": "公章", "keeper": "x"})
    with pytest.raises(InvalidInputError):
        office.add_seal(db, user_named(db, "dispatcher1"), {"name": "", "keeper": ""})


def test_the_jobs_command_makes_each_reminder_once(demo_database):
    url = demo_database("office_jobs", incidents=60, seed=5)
    engine = create_engine(url)
    with Session(engine) as db:
        cid = _certificate(db)["id"]
    wangge = str(Path(sys.executable).parent / "wangge")
    env = {**os.environ, "DATABASE_URL": url}
    made = []
    for days in (61, 60, 60, 30):
        run = subprocess.run([wangge, "jobs", "run", "--now", _at(days).isoformat()], capture_output=True, text=True,
                             env=env, timeout=180)
        assert run.returncode == 0, run.stderr
        made.append(json.loads(run.stdout.strip().splitlines()[-1])["office_reminders"])
    assert made == [0, 1, 0, 1]
    with Session(engine) as db:
        assert _stages(db, cid) == [(60, "superseded"), (30, None)]
        assert [i["note"] for i in _office_inbox(db, "dispatcher1", _at(30))] == ["到期前 30 天提醒"]
    engine.dispose()


def test_the_office_keeps_its_registers_in_the_page(browser, live_server, engine, tmp_path):
    """dispatcher1 at 1600 px: adds a certificate expiring in 20 days, records a use of the 公章, marks a
    document of the checklist 已备 with a scan; the job makes the reminder; it is in /inbox and opens the
    certificate in the page, where 知悉 ends it."""
    from playwright.sync_api import expect

    from tests.web.desk import hosts, signed_page

    name = f"食品经营许可证 {uuid.uuid4().hex[:4]}"
    today = datetime.now(SHANGHAI).date()
    scan = tmp_path / "funding.jpg"
    scan.write_bytes(JPEG + b"office-browser-funding")
    with engine.connect() as conn:
        first_reminder = conn.execute(text("SELECT coalesce(max(id), 0) FROM office_reminders")).scalar()
    try:
        with signed_page(browser, live_server, "dispatcher1", "/office", "body[data-certificates-loaded]") as (page, seen, errors):
            page.click("#of-cert-add")
            form = page.locator("#of-cert-form")
            form.locator("input[name=name]").fill(name)
            form.locator("input[name=number]").fill("JY11201160099")
            form.locator("input[name=issuer]").fill("滨海新区市场监督管理局")
            form.locator("input[name=valid_from]").fill((today - timedelta(days=1800)).isoformat())
            form.locator("input[name=valid_to]").fill((today - timedelta(days=1900)).isoformat())
            form.locator("button[type=submit]").click()
            expect(form.locator(".error")).to_contain_text("有效期至应晚于有效期起")
            form.locator("input[name=valid_to]").fill((today + timedelta(days=20)).isoformat())
            form.locator("button[type=submit]").click()
            row = page.locator("#of-certs tr", has_text=name)
            row.wait_for(timeout=10_000)
            assert form.is_hidden() and "剩 20 天" in row.inner_text()
            assert row.locator(".of-days").get_attribute("data-colour") == "red"

            page.click("#of-tab-seals")
            page.wait_for_selector("body[data-seals-loaded]")
            page.locator("#of-seal-list tr", has_text="公章").first.locator("button.of-uses-btn").click()
            page.wait_for_selector("body[data-uses-loaded]")
            before = page.locator("#of-use-list tbody tr").count()
            uses = page.locator("#of-use-form")
            uses.locator("input[name=document]").fill("关于申领食品经营许可证的申请")
            uses.locator("input[name=approver]").fill("镇长")
            uses.locator("button[type=submit]").click()
            page.locator("#of-use-list tr", has_text="关于申领食品经营许可证的申请").wait_for(timeout=10_000)
            assert page.locator("#of-use-list tbody tr").count() == before + 1
            expect(page.locator("#of-msg")).to_contain_text("已登记用印")

            page.click("#of-tab-checklist")
            page.wait_for_selector("body[data-checklist-loaded]")
            item = page.locator("#of-items tr[data-id=funding_proof]")
            item.locator("button.of-item-btn").click()
            checklist = page.locator("#of-item-form")
            checklist.locator("select[name=state]").select_option("已备")
            checklist.locator("input[name=note]").fill("区财政局出具")
            checklist.locator("input[name=scan]").set_input_files(str(scan))
            checklist.locator("button[type=submit]").click()
            page.wait_for_function("document.querySelector('#of-items tr[data-id=funding_proof]').innerText.includes('区财政局出具')",
                                   timeout=10_000)
            assert "已备" in item.inner_text() and item.locator("a", has_text="扫描件 1").count() == 1
            assert page.evaluate("document.documentElement.scrollWidth") <= 1600
            assert hosts(seen) <= {"127.0.0.1"} and not errors

        with Session(engine) as db:  # the job, as `wangge jobs run` every 5 minutes
            assert office.run_reminders(db, now=datetime.now(SHANGHAI)) >= 1
            cid = db.execute(text("SELECT id FROM office_certificates WHERE name = :n"), {"n": name}).scalar()

        with signed_page(browser, live_server, "dispatcher1", "/inbox", "body[data-inbox-ready='1']") as (page, seen, errors):
            page.select_option("#f-kind", "office")
            row = page.locator("#ib-rows tr", has_text=name)
            row.wait_for(timeout=10_000)
            assert "证照到期提醒" in row.inner_text() and "剩 20 天" in row.inner_text()
            row.click()
            page.wait_for_url(re.compile(rf"/office\?tab=certificates&certificate={cid}$"))
            page.wait_for_selector("body[data-certificates-loaded]")
            mine = page.locator(f"#of-certs tr.of-focus[data-id='{cid}']")
            assert "到期前 30 天提醒" in mine.inner_text()
            mine.locator("button.of-ack").click()
            page.wait_for_function(f"!document.querySelector(\"#of-certs tr[data-id='{cid}'] button.of-ack\")", timeout=10_000)
            expect(page.locator("#of-msg")).to_contain_text("已知悉")
            assert hosts(seen) <= {"127.0.0.1"} and not errors
        with engine.connect() as conn:
            assert conn.execute(text("SELECT done_reason FROM office_reminders WHERE certificate_id = :c"),
                                {"c": cid}).scalars().all() == ["acknowledged"]
    finally:  # what the job made for other certificates of the shared database waits in no one's 待办
        with engine.begin() as conn:
            conn.execute(text("UPDATE office_reminders SET done_at = now(), done_reason = 'acknowledged' "
                              "WHERE id > :i AND done_at IS NULL"), {"i": first_reminder})
