"""The centre's own staff (本中心人员, seed 7-1) through the API and the page: who reads and who
writes, bad input refused with reasons and nothing saved, the annual grade only for 事业编制 members
(a second one of a year replaces the first, audited), the year's roster as Excel, and the centre's
dispatcher recording a training and a grade in the page."""

import io
import itertools
from datetime import datetime, timedelta

import openpyxl
import pytest
from sqlalchemy import text

from tests.conftest import login
from tests.web.desk import DESK, PHONE, hosts, signed_in, watch
from workflow.clock import SHANGHAI

WORKER = "worker066"  # a grid worker no other test acts on (their training is recorded here)


def _person(connection, username):
    return connection.execute(text("SELECT person_id FROM accounts WHERE username = :u"), {"u": username}).scalar()


def _count(connection, table):
    return connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()


def _audits(connection, action):
    return connection.execute(text("SELECT count(*) FROM audit_log WHERE action = :a"), {"a": action}).scalar()


def test_the_town_reads_the_centres_staff_a_village_and_a_worker_do_not(client, connection):
    for username in ("dispatcher2", "townleader1", "admin", "district1"):
        login(client, username)
        answer = client.get("/api/v1/staff/members")
        assert answer.status_code == 200, username
        names = {m["username"]: m for m in answer.get_json()["items"]}
        assert {"dispatcher1", "dispatcher3", "townleader1", "admin"} <= set(names)
        assert names["dispatcher1"]["establishment"] == "事业编制" and names["dispatcher3"]["establishment"] == "聘用"
        client.post("/auth/logout")
    for username in ("leader03", WORKER):
        login(client, username)
        for url in ("/api/v1/staff/members", "/api/v1/staff/trainings", "/api/v1/staff/appraisals",
                    "/api/v1/staff/members.xlsx"):
            assert client.get(url).status_code == 403, (username, url)
        client.post("/auth/logout")


def test_a_town_leader_reads_but_cannot_write(client, connection):
    login(client, "townleader2")
    person = _person(connection, "dispatcher1")
    before = _count(connection, "staff_trainings"), _count(connection, "staff_appraisals")
    today = datetime.now(SHANGHAI).date().isoformat()
    assert client.post("/api/v1/staff/trainings", json={"person": person, "course": "应急处置", "day": today,
                                                        "hours": 4}).status_code == 403
    assert client.post("/api/v1/staff/appraisals", json={"person": person, "year": 2025, "grade": "优秀"}).status_code == 403
    assert client.post("/api/v1/staff/members", json={"name": "新人", "phone": "13800000000", "post": "调度员",
                                                      "establishment": "聘用"}).status_code == 403
    assert (_count(connection, "staff_trainings"), _count(connection, "staff_appraisals")) == before


def test_bad_trainings_are_refused_with_every_reason_and_nothing_saved(client, connection):
    login(client, "dispatcher1")
    person = _person(connection, "dispatcher2")
    tomorrow = (datetime.now(SHANGHAI).date() + timedelta(days=1)).isoformat()
    before = _count(connection, "staff_trainings"), _count(connection, "audit_log")
    answer = client.post("/api/v1/staff/trainings", json={"person": person, "course": " ", "day": tomorrow, "hours": 0})
    assert answer.status_code == 400
    assert {e["field"] for e in answer.get_json()["errors"]} == {"course", "day", "hours"}
    for hours in (1000.5, -2, "多", True):
        bad = client.post("/api/v1/staff/trainings", json={"person": person, "course": "法律法规", "day": "2026-01-05",
                                                           "hours": hours})
        assert bad.status_code == 400 and [e["field"] for e in bad.get_json()["errors"]] == ["hours"], hours
    resident = connection.execute(text(  # a resident: neither an account nor the centre's staff
        "INSERT INTO people (name, phone) VALUES ('测试居民', '13800001111') RETURNING id")).scalar()
    bad = client.post("/api/v1/staff/trainings", json={"person": resident, "course": "法律法规",
                                                       "day": "2026-01-05", "hours": 2})
    assert [e["field"] for e in bad.get_json()["errors"]] == ["person"]
    assert (_count(connection, "staff_trainings"), _count(connection, "audit_log")) == before


def test_trainings_of_staff_and_workers_are_totalled_per_person_and_year_and_audited(client, connection):
    login(client, "dispatcher1")
    worker, staff = _person(connection, WORKER), _person(connection, "dispatcher3")
    audits = _audits(connection, "staff_training_add")
    for person, day, hours in ((worker, "2026-03-02", 6), (worker, "2026-05-11", 2.5), (worker, "2025-11-03", 3),
                               (staff, "2026-04-01", 12)):
        made = client.post("/api/v1/staff/trainings", json={"person": person, "course": "网格员业务轮训", "day": day,
                                                            "hours": hours, "certificate": "PX-001"})
        assert made.status_code == 201, made.get_json()
    assert _audits(connection, "staff_training_add") == audits + 4
    answer = client.get(f"/api/v1/staff/trainings?person={worker}").get_json()
    assert len(answer["items"]) == 3
    totals = {t["year"]: t["hours"] for t in answer["totals"]}
    assert totals == {2026: 8.5, 2025: 3}
    this_year = client.get(f"/api/v1/staff/trainings?person={worker}&year=2026").get_json()
    assert [t["day"] for t in this_year["items"]] == ["2026-05-11", "2026-03-02"]
    roster = {m["person"]["id"]: m for m in client.get("/api/v1/staff/members?year=2026").get_json()["items"]}
    assert worker not in roster  # a worker has trainings, but is not the centre's staff
    demo_2026 = sum(h for (h,) in connection.execute(text(
        "SELECT hours FROM staff_trainings WHERE person_id = :p AND extract(year FROM day) = 2026"), {"p": staff}))
    assert roster[staff]["hours"] == demo_2026 and demo_2026 >= 12


def test_only_a_shiye_member_is_graded_once_a_year_the_second_replacing_it(client, connection):
    login(client, "admin")
    contracted, shiye = _person(connection, "dispatcher3"), _person(connection, "dispatcher1")  # the browser test grades dispatcher2
    year = datetime.now(SHANGHAI).year
    refused = client.post("/api/v1/staff/appraisals", json={"person": contracted, "year": year, "grade": "合格"})
    assert refused.status_code == 400
    assert refused.get_json()["errors"][0]["field"] == "person" and "事业编制" in refused.get_json()["errors"][0]["zh"]
    bad = client.post("/api/v1/staff/appraisals", json={"person": shiye, "year": year + 1, "grade": "良好"})
    assert {e["field"] for e in bad.get_json()["errors"]} == {"year", "grade"}
    first = client.post("/api/v1/staff/appraisals", json={"person": shiye, "year": year, "grade": "合格"})
    assert first.status_code == 201 and first.get_json()["appraiser"] == "镇党委、镇政府"
    second = client.post("/api/v1/staff/appraisals", json={"person": shiye, "year": year, "grade": "优秀",
                                                           "note": "复核后调整"})
    assert second.status_code == 200 and second.get_json()["replaced"] is True
    rows = connection.execute(text("SELECT grade FROM staff_appraisals WHERE person_id = :p AND year = :y"),
                              {"p": shiye, "y": year}).all()
    assert rows == [("优秀",)]
    before = connection.execute(text("SELECT before->>'grade' FROM audit_log WHERE action = 'staff_appraisal_change' "
                                     "ORDER BY id DESC LIMIT 1")).scalar()
    assert before == "合格"
    listed = client.get(f"/api/v1/staff/appraisals?year={year}").get_json()["items"]
    assert [a["grade"] for a in listed if a["person"]["id"] == shiye] == ["优秀"]  # one per year
    history = client.get(f"/api/v1/staff/appraisals?person={shiye}").get_json()["items"]
    assert [a["year"] for a in history] == [year, year - 1]  # the demo graded last year


def test_members_are_added_changed_and_ended_audited(client, connection):
    login(client, "dispatcher1")
    bad = client.post("/api/v1/staff/members", json={"name": "", "phone": "abc", "post": "", "establishment": "临时"})
    assert bad.status_code == 400
    assert {e["field"] for e in bad.get_json()["errors"]} == {"name", "phone", "post", "establishment"}
    made = client.post("/api/v1/staff/members", json={"name": "周晓岚", "phone": "13912345678", "post": "综治专干",
                                                      "establishment": "借调", "since": "2026-02-01"})
    assert made.status_code == 201, made.get_json()
    pid = made.get_json()["person"]["id"]
    again = client.post("/api/v1/staff/members", json={"person": pid, "post": "x", "establishment": "聘用"})
    assert [e["field"] for e in again.get_json()["errors"]] == ["person"]
    wrong = client.post(f"/api/v1/staff/members/{pid}", json={"until": "2026-01-01"})
    assert [e["field"] for e in wrong.get_json()["errors"]] == ["until"]
    for note in ({"why": "x"}, "长" * 501):  # the note goes to the audit log: text, refused otherwise
        bad_note = client.post(f"/api/v1/staff/members/{pid}", json={"until": "2026-06-30", "note": note})
        assert bad_note.status_code == 400 and [e["field"] for e in bad_note.get_json()["errors"]] == ["note"]
    ended = client.post(f"/api/v1/staff/members/{pid}", json={"until": "2026-06-30", "post": "综治专干 (借调期满)"})
    assert ended.status_code == 200 and ended.get_json()["until"] == "2026-06-30"
    entries = connection.execute(text("SELECT action, before->>'until', after->>'until' FROM audit_log "
                                      "WHERE target = :t ORDER BY id"), {"t": f"staff_member:{pid}"}).all()
    assert entries == [("staff_member_add", None, None), ("staff_member_change", None, "2026-06-30")]
    assert client.post("/api/v1/staff/members/999999999", json={"post": "x"}).status_code == 404


def test_the_years_roster_as_excel_has_every_member_with_hours_and_grade(client, connection):
    login(client, "townleader1")
    year = datetime.now(SHANGHAI).year - 1
    roster = client.get(f"/api/v1/staff/members?year={year}").get_json()["items"]
    answer = client.get(f"/api/v1/staff/members.xlsx?year={year}")
    assert answer.status_code == 200 and answer.mimetype.endswith("spreadsheetml.sheet")
    sheet = openpyxl.load_workbook(io.BytesIO(answer.data)).active
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    expected = [(m["person"]["name"], m["post"], m["establishment"], m["hours"], m["grade"] or ("未考核" if m["appraised"] else "—"))
                for m in roster if m["in_year"]]
    assert [(r[0], r[1], r[2], r[6], r[7]) for r in rows] == expected
    assert len(rows) >= 6 and {r[7] for r in rows if r[2] == "事业编制"} == {"合格"}
    assert client.get("/api/v1/staff/members.xlsx?year=1990").status_code == 400


@pytest.mark.parametrize("viewport", ["desk", "phone"])
def test_the_dispatcher_records_a_training_and_a_grade_in_the_page(browser, live_server, engine, viewport):
    context = browser.new_context(viewport=DESK) if viewport == "desk" else browser.new_context(**PHONE)
    page = context.new_page()
    seen, errors = watch(page)
    with engine.connect() as conn:
        name = conn.execute(text("SELECT p.name FROM accounts a JOIN people p ON p.id = a.person_id "
                                 "WHERE a.username = 'dispatcher2'")).scalar()
    try:
        signed_in(page, live_server, "dispatcher1", "/dispatch")
        page.goto(f"{live_server}/staff")
        page.click("#st-tab-people")
        page.wait_for_selector("body[data-people-ready='1']", state="attached", timeout=20_000)
        row = page.locator("#pp-roster tbody tr", has_text=name)
        hours_before = row.locator(".pp-hours").inner_text()
        course = f"基层治理能力提升班 {viewport}"
        row.get_by_role("button", name="登记培训").click()
        form = page.locator("#pp-training")
        form.get_by_label("课程名称").fill(course)
        form.get_by_label("培训日期").fill(datetime.now(SHANGHAI).date().isoformat())
        form.get_by_label("学时").fill("0")
        form.get_by_role("button", name="保存培训").click()
        page.wait_for_function("document.querySelector('#pp-training .error').textContent.includes('学时')")
        form.get_by_label("学时").fill("6")
        form.get_by_role("button", name="保存培训").click()
        page.wait_for_function(f"document.querySelector('#pp-msg').textContent.includes({course!r})")
        hours_after = row.locator(".pp-hours").inner_text()
        assert float(hours_after.split()[0]) == float(hours_before.split()[0]) + 6
        grade = "优秀" if viewport == "desk" else "合格"
        row.get_by_role("button", name="记录年度考核").click()
        page.locator("#pp-grade").get_by_label("等次").select_option(grade)
        page.locator("#pp-grade").get_by_role("button", name="保存等次").click()
        page.wait_for_function(f"document.querySelector('#pp-msg').textContent.includes('{grade}')")
        assert row.locator(".pp-grade").inner_text() == grade
        contracted = page.locator("#pp-roster tbody tr", has_text="聘用").first
        assert contracted.get_by_role("button", name="记录年度考核").count() == 0
        row.get_by_role("button", name="历史").click()
        page.wait_for_selector("#pp-history:not([hidden])")
        assert course in page.locator("#pp-h-trainings").inner_text()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= (1600 if viewport == "desk" else 390)
        assert hosts(seen) <= {"127.0.0.1"} and not errors
    finally:
        context.close()


def test_a_scanned_certificate_is_seen_by_the_town_not_by_a_village(client, connection):
    from tests.conftest import JPEG
    login(client, "dispatcher1")
    scan = JPEG + b"staff-records-certificate"
    uploaded = client.post("/api/v1/attachments", data={"file": (io.BytesIO(scan), "cert.jpg")},
                           content_type="multipart/form-data")
    assert uploaded.status_code == 201, uploaded.get_json()
    sha = uploaded.get_json()["id"]
    made = client.post("/api/v1/staff/trainings", json={"person": _person(connection, "dispatcher2"), "course": "档案管理",
                                                        "day": "2026-02-03", "hours": 3, "attachment": sha})
    assert made.status_code == 201 and made.get_json()["attachment"] == sha
    bad = client.post("/api/v1/staff/trainings", json={"person": _person(connection, "dispatcher2"), "course": "档案管理",
                                                       "day": "2026-02-03", "hours": 3, "attachment": "0" * 64})
    assert [e["field"] for e in bad.get_json()["errors"]] == ["attachment"]
    client.post("/auth/logout")
    login(client, "townleader1")
    assert client.get(f"/api/v1/attachments/{sha}").data == scan
    client.post("/auth/logout")
    login(client, "leader02")
    assert client.get(f"/api/v1/attachments/{sha}").status_code == 404


_members = itertools.count(1)


def _people_tab(page, live_server):
    """dispatcher1 on /staff, the 本中心人员 tab shown."""
    signed_in(page, live_server, "dispatcher1", "/dispatch")
    page.goto(f"{live_server}/staff")
    page.click("#st-tab-people")
    page.wait_for_selector("body[data-people-ready='1']", state="attached", timeout=20_000)


def _made(engine, name):
    """The people of that name, and those of them on the centre's staff (their until)."""
    with engine.connect() as conn:
        people = conn.execute(text("SELECT id FROM people WHERE name = :n"), {"n": name}).scalars().all()
        members = conn.execute(text("SELECT until FROM staff_members WHERE person_id = ANY(:p)"),
                               {"p": list(people)}).scalars().all()
    return people, members


def _add_member(page, name, phone, post="综治专干", establishment="借调"):
    page.get_by_role("button", name="新增人员").click()
    form = page.locator("#pp-member")
    assert form.locator(".pp-form-title").inner_text() == "新增本中心人员"
    form.get_by_label("姓名").fill(name)
    form.get_by_label("手机").fill(phone)
    form.locator("select[name=post]").select_option(post)
    form.get_by_label("编制").select_option(establishment)
    return form


@pytest.mark.parametrize("viewport", ["desk", "phone"])
def test_the_dispatcher_adds_a_member_and_ends_their_time_in_the_page(browser, live_server, engine, viewport):
    context = browser.new_context(viewport=DESK) if viewport == "desk" else browser.new_context(**PHONE)
    page = context.new_page()
    seen, errors = watch(page)
    name = f"测试人员PP{next(_members)}{viewport}"
    today = datetime.now(SHANGHAI).date().isoformat()
    width = 1600 if viewport == "desk" else 390
    try:
        _people_tab(page, live_server)
        form = _add_member(page, name, "13a")
        assert form.get_by_label("到岗日期").input_value() == today
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        for box in (form.bounding_box(), form.get_by_role("button", name="保存").bounding_box()):
            assert box["x"] >= 0 and box["x"] + box["width"] <= width
        assert form.get_by_role("button", name="保存").bounding_box()["height"] >= 44
        form.get_by_role("button", name="保存").click()
        page.wait_for_function("document.querySelector('#pp-e-phone').textContent.includes('手机号码格式不对')")
        assert form.get_by_label("手机").get_attribute("aria-invalid") == "true"
        assert form.get_by_label("姓名").input_value() == name  # nothing typed is lost
        assert form.locator("select[name=post]").input_value() == "综治专干"
        assert form.get_by_label("编制").input_value() == "借调"
        assert _made(engine, name) == ([], [])
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        form.get_by_label("手机").fill("13912340017")
        form.get_by_role("button", name="保存").dblclick()  # a double click sends one request
        page.wait_for_function(f"document.querySelector('#pp-msg').textContent.includes('已新增: {name}')")
        assert form.is_hidden()
        row = page.locator("#pp-roster tbody tr", has_text=name)
        assert row.count() == 1
        assert "综治专干" in row.inner_text() and "借调" in row.inner_text() and today in row.inner_text()
        people, members = _made(engine, name)
        assert len(people) == 1 and members == [None]
        roster = page.request.get(f"{live_server}/api/v1/staff/members").json()["items"]
        assert [m["person"]["id"] for m in roster if m["person"]["name"] == name] == people

        row.get_by_role("button", name="修改").click()  # a post not in the list, typed
        form = page.locator("#pp-member")
        assert form.locator(".pp-form-title").inner_text() == f"修改 {name} 的岗位与编制"
        assert form.get_by_label("姓名").is_hidden() and form.locator("select[name=post]").input_value() == "综治专干"
        form.locator("select[name=post]").select_option(label="其他岗位 (填写)")
        form.get_by_label("岗位名称").fill("网格管理员")
        form.get_by_label("编制").select_option("聘用")
        form.get_by_role("button", name="保存").click()
        page.wait_for_function(f"document.querySelector('#pp-msg').textContent.includes('已修改: {name}')")
        assert "网格管理员" in row.inner_text() and "聘用" in row.inner_text()
        assert _made(engine, name)[0] == people

        row.get_by_role("button", name="离岗").click()
        leave = page.locator("#pp-leave")
        assert leave.locator(".pp-form-title").inner_text() == f"{name} 离岗"  # whose time ends, to confirm
        until = leave.get_by_label("离岗日期")
        assert until.input_value() == today and until.get_attribute("max") == today
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        leave.get_by_label("说明 (可选)").fill("借调期满, 回原单位")
        leave.get_by_role("button", name="确认离岗").click()
        page.wait_for_function(f"document.querySelector('#pp-msg').textContent.includes('已离岗: {name}')")
        assert f"已离岗 {today}" in row.inner_text()
        assert row.get_by_role("button", name="离岗").count() == 0
        assert row.get_by_role("button", name="修改").count() == 0
        assert _made(engine, name)[1] == [datetime.fromisoformat(today).date()]
        with engine.connect() as conn:
            changes = conn.execute(text("SELECT after->>'post', after->>'until', note FROM audit_log "
                                        "WHERE target = :t AND action = 'staff_member_change' ORDER BY id"),
                                   {"t": f"staff_member:{people[0]}"}).all()
        assert changes == [("网格管理员", None, None), ("网格管理员", today, "借调期满, 回原单位")]
        assert hosts(seen) <= {"127.0.0.1"} and not errors
    finally:
        context.close()
