"""执纪 (seed 7-2), the discipline ladder with its clock: 通报批评 on day D; not corrected, 诫勉谈话 on
D+10 (calendar days: workflow.staff.DISCIPLINE_DAY_KIND) with 评优 lost for the year; not corrected,
建议辞退 on D+20, then the town's decision; a correction with evidence stops the clock; the wrong role
gets 403, a stale version 409; ``wangge jobs run`` moves the clocks once."""

import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import chinese_calendar
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from tests.conftest import JPEG, user_named
from webmap.services import attachments, discipline, notices
from webmap.services.errors import ConflictError, ForbiddenError, InvalidInputError
from workflow import staff
from workflow.clock import SHANGHAI, WorkCalendar

WORKER = "worker067"  # a grid no other test acts in
D = datetime(2026, 9, 21, 9, 0, tzinfo=SHANGHAI)



def _open(db, worker=WORKER, when=D):
    account = user_named(db, worker)
    person = db.execute(text("SELECT person_id FROM accounts WHERE id = :a"), {"a": account.id}).scalar()
    case = discipline.open_case(db, worker_id=person, grid_code=account.scope_code, finding="工作不力: 抽查合格 1/7", now=when)
    db.commit()
    return case.id, account


def _case(db, user, case_id, now):
    return next(c for c in discipline.listing(db, user, {}, now=now)["items"] if c["id"] == case_id)


def test_the_ten_days_are_calendar_days_and_the_working_rule_skips_national_day():
    assert (staff.DISCIPLINE_DAYS, staff.DISCIPLINE_DAY_KIND) == (10, "calendar")
    assert discipline.due_after(date(2026, 9, 28)) == date(2026, 10, 8)  # over the holiday, as a notice's days run
    working = discipline.due_after(date(2026, 9, 28), WorkCalendar(), kind="working")
    days = [date(2026, 9, 28) + timedelta(days=n) for n in range(1, (working - date(2026, 9, 28)).days + 1)]
    assert sum(chinese_calendar.is_workday(d) for d in days) == 10 and chinese_calendar.is_workday(working)
    assert working > date(2026, 10, 8) + timedelta(days=4)  # the week of 国庆 does not count


def test_not_corrected_the_ladder_steps_up_on_its_days_and_the_town_decides(db):
    case_id, worker = _open(db)
    town, district = user_named(db, "dispatcher1"), user_named(db, "district1")
    first = _case(db, town, case_id, D)
    assert (first["step"], first["clock"]["due"], first["clock"]["days_left"]) == ("通报批评", "2026-10-01", 10)
    assert discipline.run_clock(db, now=D + timedelta(days=9, hours=14)) == 0
    assert discipline.run_clock(db, now=D + timedelta(days=10)) >= 1
    assert discipline.run_clock(db, now=D + timedelta(days=10, minutes=5)) == 0  # once
    talked = _case(db, town, case_id, D + timedelta(days=10))
    assert (talked["step"], talked["loses_merit_year"], talked["clock"]["due"]) == ("诫勉谈话", 2026, "2026-10-11")
    assert talked["events"][-1]["actor_id"] is None and talked["events"][-1]["action"] == "clock"
    assert discipline.run_clock(db, now=D + timedelta(days=20)) >= 1
    proposed = _case(db, town, case_id, D + timedelta(days=20))
    assert proposed["step"] == "建议辞退" and proposed["clock"]["due"] is None
    discipline.run_clock(db, now=D + timedelta(days=40))  # 建议辞退 waits for the town: no clock
    assert _case(db, town, case_id, D + timedelta(days=40))["version"] == proposed["version"]
    for who in (district, user_named(db, WORKER)):  # the town decides, not the district nor the worker
        try:
            discipline.act(db, who, case_id, {"action": "decide_keep", "version": proposed["version"], "note": "x"})
            raise AssertionError(who.username)
        except ForbiddenError:
            db.rollback()
    try:
        discipline.act(db, town, case_id, {"action": "decide_dismiss", "version": proposed["version"]})
        raise AssertionError("a decision without its reason")
    except InvalidInputError as refused:
        assert refused.errors[0].field == "note"
    db.rollback()
    decided = discipline.act(db, town, case_id, {"action": "decide_dismiss", "version": proposed["version"],
                                                 "note": "两次未纠正"}, now=D + timedelta(days=22))
    assert decided["step"] == "已辞退" and not decided["open"]
    try:
        discipline.act(db, town, case_id, {"action": "decide_keep", "version": proposed["version"], "note": "晚了"})
        raise AssertionError("stale")
    except ConflictError:
        db.rollback()
    seen = notices.listing(db, worker)["items"]
    steps = [n["title"] for n in seen if n["ref"] == f"discipline:{case_id}"]
    assert steps == ["已辞退", "建议辞退", "诫勉谈话", "通报批评"]
    assert "/admin" in next(n for n in seen if n["title"] == "已辞退")["body"]
    assert [e["step"] for e in decided["events"]] == ["通报批评", "诫勉谈话", "建议辞退", "已辞退"]


def test_a_correction_with_evidence_stops_the_clock(db):
    case_id, worker = _open(db, when=D + timedelta(days=1))
    town = user_named(db, "dispatcher2")
    photo = attachments.store_photo(db, JPEG, town.id)["id"]
    case = _case(db, town, case_id, D)
    try:
        discipline.act(db, town, case_id, {"action": "correct", "version": case["version"], "evidence": ["ab" * 32]})
        raise AssertionError("unknown evidence")
    except InvalidInputError as refused:
        assert refused.errors[0].field == "evidence[0]"
    db.rollback()
    corrected = discipline.act(db, town, case_id, {"action": "correct", "version": case["version"], "note": "已补录巡查",
                                                   "evidence": [photo]}, now=D + timedelta(days=5))
    assert corrected["step"] == "已纠正" and corrected["events"][-1]["evidence"] == [photo]
    discipline.run_clock(db, now=D + timedelta(days=30))
    assert _case(db, town, case_id, D + timedelta(days=30))["step"] == "已纠正"
    assert [c["id"] for c in discipline.listing(db, worker, {"state": "open"})["items"]].count(case_id) == 0


def test_the_api_refuses_the_wrong_role_and_a_stale_version(client, db):
    from tests.conftest import login

    case_id, _ = _open(db, when=datetime.now(SHANGHAI))
    login(client, WORKER)
    mine = client.get("/api/v1/discipline?state=open").get_json()["items"]
    case = next(c for c in mine if c["id"] == case_id)
    assert client.post(f"/api/v1/discipline/{case_id}/actions", json={"action": "talk", "version": case["version"]}).status_code == 403
    client.post("/auth/logout")
    login(client, "dispatcher1")
    url = f"/api/v1/discipline/{case_id}/actions"
    assert client.post(url, json={"action": "decide_keep", "version": case["version"], "note": "x"}).status_code == 422
    talk = client.post(url, json={"action": "talk", "version": case["version"], "note": "已约谈"})
    assert talk.status_code == 200 and talk.get_json()["step"] == "诫勉谈话"
    assert client.post(url, json={"action": "correct", "version": case["version"], "note": "x"}).status_code == 409
    assert client.get("/api/v1/discipline?state=closed").status_code == 400


def test_the_jobs_command_moves_the_clock_once(demo_database):
    url = demo_database("discipline_jobs", incidents=60, seed=3)
    engine = create_engine(url)
    with Session(engine) as db:
        case_id, _ = _open(db)
    run = [str(Path(sys.executable).parent / "wangge"), "jobs", "run", "--now", (D + timedelta(days=10)).isoformat()]
    env = {**os.environ, "DATABASE_URL": url}
    first = subprocess.run(run, capture_output=True, text=True, env=env, timeout=120)
    second = subprocess.run(run, capture_output=True, text=True, env=env, timeout=120)
    assert first.returncode == 0, first.stderr
    summaries = [json.loads(p.stdout.strip().splitlines()[-1]) for p in (first, second)]
    assert [s["discipline"] for s in summaries] == [1, 0]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT step FROM discipline_cases WHERE id = :i"), {"i": case_id}).scalar() == "诫勉谈话"
    engine.dispose()


def test_the_town_records_a_correction_and_the_worker_sees_the_notice(browser, live_server, engine):
    from tests.conftest import ARTIFACTS
    from tests.web.desk import PHONE, hosts, signed_page
    from tests.web.phone import UNCOVERED

    worker = "worker069"  # a grid no other test acts in
    with Session(engine) as db:
        case_id, _ = _open(db, worker=worker, when=datetime.now(SHANGHAI))
        name = db.execute(text("SELECT p.name FROM accounts a JOIN people p ON p.id = a.person_id WHERE a.username = :u"),
                          {"u": worker}).scalar()
    with signed_page(browser, live_server, "dispatcher1", "/staff?tab=discipline",
                     "body[data-discipline-loaded]") as (page, seen, errors):
        row = page.locator(f"#dc-list tr[data-case='{case_id}']")
        assert name in row.inner_text() and "剩余 10 天 → 诫勉谈话" in row.inner_text()
        row.locator("button:text-is('查看')").click()
        assert "通报批评" in page.locator("#dc-events").inner_text()
        page.select_option("#dc-action", label="已纠正 (附证据)")
        page.fill("#dc-note", "已补巡查并整改台账")
        page.set_input_files("#dc-files", [{"name": "整改.jpg", "mimeType": "image/jpeg", "buffer": JPEG}])
        page.click("#dc-submit")
        page.wait_for_function("document.querySelector('#dc-msg').innerText.includes('已保存: 已纠正')")
        assert page.locator(f"#dc-list tr[data-case='{case_id}']").count() == 0  # no longer open
        page.uncheck("#dc-only-open")
        page.wait_for_selector(f"#dc-list tr[data-case='{case_id}'][data-step='已纠正']")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "staff-discipline.png"), full_page=True)
        with engine.connect() as conn:
            evidence = conn.execute(text("SELECT evidence FROM discipline_events WHERE case_id = :c AND action = 'correct'"),
                                    {"c": case_id}).scalar()
        assert len(evidence) == 1 and len(evidence[0]) == 64
        assert hosts(seen) == {"127.0.0.1"} and not errors, errors
    with signed_page(browser, live_server, worker, "/m/staff", "body[data-checks-loaded]", PHONE) as (page, seen, errors):
        notice = page.locator("#ms-notices li.unread:has(strong:text-is('已纠正'))").first
        assert "已补巡查并整改台账" in notice.inner_text()
        assert page.locator("#ms-notices li:has(strong:text-is('通报批评'))").count() >= 1
        assert not page.evaluate(UNCOVERED), page.evaluate(UNCOVERED)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        unread = page.locator("#ms-unread").inner_text()
        notice.locator("button:text-is('已读')").click()
        page.wait_for_function(f"document.querySelector('#ms-unread').innerText !== {json.dumps(unread)}")
        page.screenshot(path=str(ARTIFACTS / "m-staff-checks.png"), full_page=True)
        assert hosts(seen) == {"127.0.0.1"} and not errors, errors

