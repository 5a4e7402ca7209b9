"""The 100-point assessment (量化考核, seed 7-2) through the API: totals and grades from the plan's
bands, the default plan's formulas recomputed here from the raw rows in plain SQL, approved leave
excused in attendance, a hand score needing a reason, 诫勉谈话 (loses_merit_year) keeping a worker from
优秀, the plan's validation, the Excel table, the scopes; and in the browser the town's table with its
drill-down and a hand score, and a worker's own month on the phone."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from tests.conftest import login, user_named
from webmap.services.workdays import load_calendar
from workflow.assessment import default_plan
from workflow.clock import shanghai_now

MONTH, FIRST, NEXT = "2026-11", date(2026, 11, 1), date(2026, 12, 1)
WORKER, MERITLESS, SCORED = "worker072", "worker073", "worker074"  # workers no other test file acts on


def _table(client, **query):
    answer = client.get("/api/v1/assessments", query_string=query)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def _row(table, username):
    return next(r for r in table["items"] if r["worker"]["username"] == username)


def test_totals_are_the_items_sum_within_0_100_with_grades_ranks_and_tiers(client):
    login(client, "dispatcher1")
    table = _table(client, month=MONTH)
    plan = default_plan()
    assert len(table["items"]) == 75
    for row in table["items"]:
        assert 0 <= row["total"] <= 100
        assert row["total"] == pytest.approx(sum(i["score"] for i in row["items"]), abs=0.011)
        assert [i["code"] for i in row["items"]] == [i["code"] for i in plan["items"]]
        for it in row["items"]:
            assert 0 <= it["score"] <= it["points"] and it["formula"] and isinstance(it["inputs"], dict)
        band = next(b["grade"] for b in plan["bands"] if row["total"] >= b["min"])
        assert row["grade"] == band
        tier = next(t for t in plan["pay_tiers"] if t["min"] <= row["total"] < t["max"] or row["total"] == 100 == t["max"])
        assert row["pay_tier"] == {"tier": tier["tier"], "amount": tier["amount"]}
    best = max(r["total"] for r in table["items"])
    assert {r["rank_in_town"] for r in table["items"] if r["total"] == best} == {1}
    village = _row(table, WORKER)["worker"]["village"]
    mates = [r for r in table["items"] if r["worker"]["village"] == village]
    assert sorted(r["rank_in_village"] for r in mates)[0] == 1
    assert all(r["rank_in_village"] <= len(mates) for r in mates)


def _workdays(db):
    calendar = load_calendar(db)
    return [FIRST + timedelta(days=n) for n in range((NEXT - FIRST).days)
            if calendar.is_workday(FIRST + timedelta(days=n))]


def test_the_default_formulas_recomputed_from_the_raw_rows_agree_and_leave_is_excused(client, connection, db):
    person, account, grid = connection.execute(text(
        "SELECT person_id, id, scope_code FROM accounts WHERE username = :u"), {"u": WORKER}).one()
    login(client, "dispatcher1")
    before = {i["code"]: i for i in _row(_table(client, month=MONTH), WORKER)["items"]}
    workdays = _workdays(db)
    signed_days = {d for (d,) in connection.execute(text("""
        SELECT DISTINCT (at AT TIME ZONE 'Asia/Shanghai')::date FROM attendance
         WHERE worker_id = :p AND kind = 'in' AND at >= '2026-11-01 00:00+08' AND at < '2026-12-01 00:00+08'"""),
        {"p": person})}
    assert before["attendance"]["inputs"]["due_days"] == len(workdays)
    # an approved leave over two signed working days and one unsigned: excused, neither due nor missed
    leave_days = [d for d in workdays if d in signed_days][:2] + [d for d in workdays if d not in signed_days][:1]
    for n, day in enumerate(leave_days):
        connection.execute(text("""
            INSERT INTO leaves (account_id, worker_id, grid_code, start, "end", kind, reason, days, approver_role, state)
            VALUES (:a, :p, :g, :d, :d, '事假', '测试', 1, 'leader', :s)"""),
            {"a": account, "p": person, "g": grid, "d": day, "s": ("已批准", "已销假")[n % 2]})
    # a refused leave excuses nothing
    spare = next(d for d in workdays if d not in leave_days)
    connection.execute(text("""
        INSERT INTO leaves (account_id, worker_id, grid_code, start, "end", kind, reason, days, approver_role, state)
        VALUES (:a, :p, :g, :d, :d, '事假', '测试', 1, 'leader', '已拒绝')"""), {"a": account, "p": person, "g": grid, "d": spare})
    # a spot check of the month: 3 items checked, 2 passed, 1 not yet checked
    check = connection.execute(text("""
        INSERT INTO spot_checks (month, worker_id, grid_code, seed, state) VALUES (:m, :p, :g, 'test', '待检查')
        RETURNING id"""), {"m": FIRST, "p": person, "g": grid}).scalar()
    for n, result in enumerate(("pass", "pass", "fail", None)):
        connection.execute(text("""INSERT INTO spot_check_items (spot_check_id, item, kind, ref_id, result, reason)
                                   VALUES (:c, :n, 'report', :n, :r, :why)"""),
                           {"c": check, "n": n + 1, "r": result, "why": "照片不清" if result == "fail" else None})

    row = _row(_table(client, month=MONTH), WORKER)
    got = {i["code"]: i for i in row["items"]}
    excused = set(leave_days)
    due = [d for d in workdays if d not in excused]
    signed = [d for d in due if d in signed_days]
    assert got["attendance"]["inputs"] == {"due_days": len(due), "signed_days": len(signed), "leave_days": 3}
    assert got["attendance"]["inputs"]["due_days"] == before["attendance"]["inputs"]["due_days"] - 3
    assert got["attendance"]["inputs"]["signed_days"] == before["attendance"]["inputs"]["signed_days"] - 2
    assert got["attendance"]["score"] == pytest.approx(round(30 * len(signed) / len(due), 2))

    month = {"p": person, "a": "2026-11-01 00:00+08", "b": "2026-12-01 00:00+08"}
    reports, void = connection.execute(text("""
        SELECT count(*), count(*) FILTER (WHERE state = '作废') FROM incidents
         WHERE worker_id = :p AND source IN ('grid_worker', 'patrol') AND reported_at >= :a AND reported_at < :b"""),
        month).one()
    assert reports > 0
    assert got["reports"]["score"] == pytest.approx(round(10 * min(1, (reports - void) / 10), 2))
    assert got["void_reports"]["score"] == pytest.approx(max(0, 5 - void))
    closed, on_time, visited, ssum = connection.execute(text("""
        SELECT count(*), count(*) FILTER (WHERE closed_at <= deadline), count(satisfaction), coalesce(sum(satisfaction), 0)
          FROM incidents WHERE worker_id = :p AND state = '结案' AND closed_at >= :a AND closed_at < :b"""), month).one()
    verified = connection.execute(text("""
        SELECT count(DISTINCT i.id) FROM incidents i JOIN case_events e ON e.incident_id = i.id
         WHERE i.worker_id = :p AND i.state = '结案' AND i.closed_at >= :a AND i.closed_at < :b
           AND e.action = 'verify_pass'"""), month).scalar()
    assert closed > 0
    assert got["on_time"]["inputs"] == {"closed": closed, "on_time": on_time}
    assert got["on_time"]["score"] == pytest.approx(round(10 * on_time / closed, 2))
    assert got["verify"]["score"] == pytest.approx(round(5 * verified / closed, 2))
    expected = 20 * ((ssum / visited - 1) / 4) if visited else 20
    assert got["satisfaction"]["score"] == pytest.approx(round(expected, 2))
    hours = connection.execute(text("""
        SELECT coalesce(sum(duration_s), 0) / 3600.0 FROM patrols
         WHERE worker_id = :p AND started_at >= :a AND started_at < :b AND ended_at IS NOT NULL"""), month).scalar()
    assert got["patrol_hours"]["score"] == pytest.approx(round(6 * min(1, float(hours) / 20), 2), abs=0.011)
    assert got["spot_check"]["inputs"] == {"checked": 3, "passed": 2}
    assert got["spot_check"]["score"] == pytest.approx(round(10 * 2 / 3, 2))
    assert row["total"] == pytest.approx(sum(i["score"] for i in got.values()), abs=0.011)


def test_a_hand_score_needs_a_reason_stays_within_the_points_and_is_audited(client, connection):
    login(client, "dispatcher1")
    body = {"period": MONTH, "worker": SCORED, "item": "spot_check", "score": 4}
    refused = client.post("/api/v1/assessments/scores", json=body)
    assert refused.status_code == 422
    assert "reason" in {e["field"] for e in refused.get_json()["errors"]}
    too_much = client.post("/api/v1/assessments/scores", json={**body, "score": 11, "reason": "抽查发现问题"})
    assert too_much.status_code == 422 and {e["field"] for e in too_much.get_json()["errors"]} == {"score"}
    unknown = client.post("/api/v1/assessments/scores", json={**body, "item": "nothing", "reason": "x"})
    assert unknown.status_code == 422
    saved = client.post("/api/v1/assessments/scores", json={**body, "reason": "抽查发现台账不全"})
    assert saved.status_code == 201, saved.get_json()
    bonus = client.post("/api/v1/assessments/scores", json={**body, "item": "bonus", "score": 5, "reason": "见义勇为"})
    assert bonus.status_code == 201
    row = _row(_table(client, month=MONTH), SCORED)
    spot = next(i for i in row["items"] if i["code"] == "spot_check")
    assert spot["score"] == 4 and spot["hand"]["reason"] == "抽查发现台账不全"
    added = next(i for i in row["items"] if i["code"] == "bonus")
    assert added["score"] == min(5, round(100 - sum(i["score"] for i in row["items"] if i["code"] != "bonus"), 2))
    assert row["total"] == pytest.approx(sum(i["score"] for i in row["items"]), abs=0.011) and row["total"] <= 100
    audited = connection.execute(text("SELECT count(*) FROM audit_log WHERE action = 'assessment_score' AND target LIKE :t"),
                                 {"t": f"assessment:{SCORED}:%"}).scalar()
    assert audited == 2
    client.post("/auth/logout")
    login(client, "leader01")
    assert client.post("/api/v1/assessments/scores", json={**body, "reason": "x"}).status_code == 403


def test_a_talk_that_year_keeps_a_worker_from_excellent(client, connection):
    login(client, "dispatcher1")
    plan = client.get("/api/v1/assessment-plan").get_json()["plan"]
    # bands low enough that every worker with any score is 优秀 for the year
    plan["bands"] = [{"grade": "优秀", "min": 1}, {"grade": "合格", "min": 0.5}, {"grade": "不合格", "min": 0}]
    assert client.put("/api/v1/assessment-plan", json=plan).status_code == 200
    person, grid = connection.execute(text("SELECT person_id, scope_code FROM accounts WHERE username = :u"),
                                      {"u": MERITLESS}).one()
    connection.execute(text("""
        INSERT INTO discipline_cases (worker_id, grid_code, finding, step, step_at, loses_merit_year)
        VALUES (:p, :g, '巡查不到位', '诫勉谈话', '2026-06-10 10:00+08', 2026)"""), {"p": person, "g": grid})
    table = _table(client, year="2026")
    other = _row(table, WORKER)
    assert other["total"] >= 1 and other["grade"] == "优秀" and other["why"] is None
    barred = _row(table, MERITLESS)
    assert barred["total"] >= 1 and barred["grade"] == "合格" and "诫勉谈话" in barred["why"]
    decided = client.post("/api/v1/assessments/decisions",
                          json={"worker": MERITLESS, "year": 2026, "decision": "续聘", "note": "整改到位"})
    assert decided.status_code == 201, decided.get_json()
    assert decided.get_json()["grade"] == "合格"
    bad = client.post("/api/v1/assessments/decisions", json={"worker": MERITLESS, "year": 2026, "decision": "升职"})
    assert bad.status_code == 422
    history = client.get(f"/api/v1/assessments/history/{MERITLESS}").get_json()
    assert [d["decision"] for d in history["decisions"]] == ["续聘"]
    assert history["years"][0]["year"] == 2026 and history["years"][0]["grade"] == "合格"


def test_a_bad_plan_is_refused_with_every_field_and_a_good_one_is_the_plan_in_force(client, connection):
    login(client, "dispatcher1")
    in_force = client.get("/api/v1/assessment-plan").get_json()
    plan = in_force["plan"]
    assert plan == default_plan()  # the default, or a version back to it (the page's test saves one)
    audited = connection.execute(text("SELECT count(*) FROM audit_log WHERE action = 'assessment_plan'")).scalar()
    bad = {**plan, "items": [dict(i) for i in plan["items"]]}
    bad["items"][0] = {**bad["items"][0], "points": 35}  # 105 in all
    bad["items"][1] = {**bad["items"][1], "rule": {"formula": "luck", "params": {}}}
    bad["items"][5] = {**bad["items"][5], "rule": {"formula": "patrol_hours", "params": {"hours": -3}}}
    bad["bands"] = [{"grade": "优秀", "min": 60}, {"grade": "合格", "min": 80}, {"grade": "不合格", "min": 0}]
    bad["pay_tiers"] = [{"tier": "一档", "min": 50, "max": 100, "amount": 1000}, {"tier": "二档", "min": 0, "max": 60, "amount": 0}]
    answer = client.put("/api/v1/assessment-plan", json=bad)
    assert answer.status_code == 422
    fields = {e["field"] for e in answer.get_json()["errors"]}
    assert fields == {"items", "items[1].rule.formula", "items[5].rule.params.hours", "bands", "pay_tiers"}
    assert client.get("/api/v1/assessment-plan").get_json()["id"] == in_force["id"]  # nothing saved
    good = {**plan, "items": [dict(i) for i in plan["items"]]}
    good["items"][0] = {**good["items"][0], "points": 25}
    good["items"][8] = {**good["items"][8], "points": 25}
    assert client.put("/api/v1/assessment-plan", json=good).status_code == 200
    now = client.get("/api/v1/assessment-plan").get_json()
    assert now["default"] is False and now["id"] != in_force["id"] and now["plan"]["items"][0]["points"] == 25
    assert connection.execute(text("SELECT count(*) FROM audit_log WHERE action = 'assessment_plan'")).scalar() == audited + 1
    row = _row(_table(client, month=MONTH), WORKER)
    assert next(i for i in row["items"] if i["code"] == "attendance")["points"] == 25
    client.post("/auth/logout")
    login(client, "leader01")
    assert client.put("/api/v1/assessment-plan", json=good).status_code == 403


def test_the_excel_table_has_a_row_per_worker_and_the_scopes_hold(client, connection):
    login(client, "dispatcher1")
    answer = client.get("/api/v1/assessments.xlsx", query_string={"month": MONTH})
    assert answer.status_code == 200
    sheet = load_workbook(io.BytesIO(answer.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "网格员" and "总分" in rows[0] and len(rows) == 76
    table = _table(client, month=MONTH)
    by_user = {r[1]: r for r in rows[1:]}
    total = rows[0].index("总分")
    assert by_user[WORKER][total] == _row(table, WORKER)["total"]
    assert client.get("/api/v1/assessments", query_string={"month": "2026-13"}).status_code == 422
    sheet_page = client.get(f"/staff/assessments/{WORKER}/{MONTH}")
    assert sheet_page.status_code == 200 and "网格员量化考核表" in sheet_page.get_data(as_text=True)
    client.post("/auth/logout")
    login(client, "leader01")
    village = connection.execute(text("SELECT scope_code FROM accounts WHERE username = 'leader01'")).scalar()
    mine = _table(client, month=MONTH)["items"]
    assert mine and all(r["grid"].startswith(village) for r in mine)
    client.post("/auth/logout")
    login(client, WORKER)
    own = _table(client, month=MONTH)["items"]
    assert [r["worker"]["username"] for r in own] == [WORKER] and own[0]["rank_in_town"] >= 1
    assert client.post("/api/v1/assessments/scores", json={}).status_code == 403


def test_the_town_opens_the_table_drills_into_a_worker_and_scores_by_hand(browser, live_server, engine):
    from tests.web.desk import DESK, hosts, phone, sign_in, watch

    context = browser.new_context(viewport=DESK)
    page = context.new_page()
    seen, errors = watch(page)
    sign_in(page, live_server, "dispatcher1", next_="/staff?tab=assessment")
    page.wait_for_url("**/staff**")
    try:
        page.wait_for_selector("body[data-assessment]", state="attached", timeout=15_000)
    except Exception:
        raise AssertionError((page.url, errors)) from None
    rows = page.locator("#st-as-table tbody tr")
    assert rows.count() == 75
    rows.filter(has_text=" ").first.wait_for()
    page.locator("#st-as-table tbody tr", has_text="worker075").count()  # names are shown, not usernames
    rows.nth(74).click()
    page.wait_for_selector("#st-as-detail:not([hidden])")
    assert page.locator("#st-as-items tr").count() == 9 and "签到天数" in page.inner_text("#st-as-items")
    page.select_option("#st-as-item", "spot_check")
    page.fill("#st-as-score", "8")
    page.click("#st-as-hand button[type=submit]")
    page.wait_for_selector("#st-as-msg:not(:empty)")
    assert "理由" in page.inner_text("#st-as-msg")  # refused without a reason
    page.fill("#st-as-reason", "抽查台账补齐")
    page.click("#st-as-hand button[type=submit]")
    page.wait_for_function("document.querySelector('#st-as-msg').textContent === '✓'")
    assert not errors and hosts(seen) <= {"127.0.0.1"}
    context.close()
    with phone(browser) as mobile:
        sign_in(mobile, live_server, "worker071", next_="/m/staff")
        mobile.wait_for_selector("#ms-as-items li", timeout=20_000)
        assert mobile.locator("#ms-as-items li").count() == 9 and "总分" not in mobile.inner_text("#ms-as-total")


YEARLY = "worker070"  # no other test file acts on this worker


def test_the_town_edits_the_plan_in_the_page_and_records_a_year_s_decision(browser, live_server, engine):
    from sqlalchemy.orm import Session

    from tests.web.desk import DESK, hosts, sign_in, watch
    from webmap.services import assessment

    connection = engine.connect()  # reads what the live server committed

    context = browser.new_context(viewport=DESK)
    page = context.new_page()
    seen, errors = watch(page)
    sign_in(page, live_server, "dispatcher1", next_="/staff?tab=assessment")
    page.wait_for_selector("body[data-assessment]", state="attached", timeout=15_000)
    page.click("#st-as-plan-open")
    page.wait_for_selector("#st-as-plan[data-ready='1']")
    points = page.locator("#st-as-plan-items tr[data-code='attendance'] input.st-as-points")
    assert points.input_value() == "30" and page.inner_text("#st-as-plan-sum") == "100 分"
    points.fill("35")
    assert "应为 100" in page.inner_text("#st-as-plan-sum")  # the sum as it is typed
    page.fill("input[name='bands.1.min']", "95")  # 合格 above 优秀
    page.click("#st-as-plan-save button[type=submit]")
    page.wait_for_selector("#st-as-plan-errors li")
    refused = page.inner_text("#st-as-plan-errors")
    assert "方案未保存" in refused and "合计应为 100" in refused and "等次下限" in refused
    assert points.input_value() == "35"  # what was typed is kept
    before = connection.execute(text("SELECT count(*) FROM assessment_plans")).scalar()
    points.fill("25")
    page.locator("#st-as-plan-items tr[data-code='satisfaction'] input.st-as-points").fill("25")
    page.fill("input[name='bands.1.min']", "60")
    page.fill("#st-as-plan-items tr[data-code='reports'] input[name$='params.quota']", "12")
    page.fill("#st-as-plan-form input[name=note]", "出勤降为 25 分, 满意度 25 分, 上报定额 12 件")
    page.click("#st-as-plan-save button[type=submit]")
    page.wait_for_function("document.querySelector('#st-as-plan-msg').textContent.includes('方案已保存')")
    assert page.inner_text("#st-as-plan-errors") == ""
    assert connection.execute(text("SELECT count(*) FROM assessment_plans")).scalar() == before + 1
    saved = connection.execute(text("SELECT body FROM assessment_plans ORDER BY id DESC LIMIT 1")).scalar()
    by_code = {i["code"]: i for i in saved["items"]}
    assert by_code["attendance"]["points"] == 25 and by_code["reports"]["rule"]["params"]["quota"] == 12
    # the table is computed again with the new plan: the worker's items show 25 points and the quota
    page.click(f"#st-as-table tr[data-worker='{YEARLY}']")
    page.wait_for_selector("#st-as-detail:not([hidden])")
    page.wait_for_function("document.querySelector('#st-as-items').innerText.includes('quota = 12')")
    first = page.locator("#st-as-items tr").first.locator("td")
    assert first.nth(0).inner_text() == "出勤率" and first.nth(1).inner_text() == "25"
    now = shanghai_now()
    assert page.get_attribute("#st-as-sheet", "href").endswith(f"/staff/assessments/{YEARLY}/{now:%Y-%m}")

    # the year: the months' mean, the annual survey scored by hand, a decision and its history
    page.select_option("#st-as-kind", "year")
    page.wait_for_function("document.querySelector('#st-as-table thead').innerText.includes('月度平均')")
    page.click(f"#st-as-table tr[data-worker='{YEARLY}']")
    page.wait_for_selector("#st-as-decisions:not([hidden]) #st-as-history li")
    assert "尚无年度决定" in page.inner_text("#st-as-history")
    assert page.locator("#st-as-item option").all_inner_texts() == ["年度群众满意度测评"]
    page.fill("#st-as-score", "88")
    page.fill("#st-as-reason", "年度入户测评 88 分")
    page.click("#st-as-hand button[type=submit]")
    page.wait_for_function("document.querySelector('#st-as-msg').textContent === '✓'")
    page.wait_for_function("document.querySelector('#st-as-items').innerText.includes('年度入户测评 88 分')")
    page.select_option("#st-as-decision", "续聘")
    page.fill("#st-as-decision-note", "考核合格, 续聘一年")
    page.click("#st-as-decide button[type=submit]")
    page.wait_for_selector("#st-as-history li.st-as-decision")
    assert "续聘" in page.inner_text("#st-as-history li.st-as-decision") and "考核合格, 续聘一年" in page.inner_text("#st-as-history")
    decided = connection.execute(text("""SELECT d.decision, d.year FROM assessment_decisions d JOIN accounts a
        ON a.person_id = d.worker_id WHERE a.username = :u"""), {"u": YEARLY}).all()
    assert [tuple(r) for r in decided] == [("续聘", now.year)]
    assert not errors and hosts(seen) <= {"127.0.0.1"}
    context.close()

    # a village leader reads the plan and cannot edit it
    context = browser.new_context(viewport=DESK)
    page = context.new_page()
    sign_in(page, live_server, "leader01", next_="/staff?tab=assessment")
    page.wait_for_selector("body[data-assessment]", state="attached", timeout=15_000)
    page.click("#st-as-plan-open")
    page.wait_for_selector("#st-as-plan[data-ready='1']")
    assert page.locator("#st-as-plan-items input:disabled").count() >= 9 and page.is_hidden("#st-as-plan-save")
    assert "只有镇综治中心" in page.inner_text("#st-as-plan-errors")
    context.close()
    connection.close()
    with Session(engine) as db:  # back to the default plan, as a new version (the other tests assume it)
        assessment.save_plan(db, user_named(db, "dispatcher1"), {"plan": default_plan(), "note": "还原默认方案"})
