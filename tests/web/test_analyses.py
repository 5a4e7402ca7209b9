"""周分析 / 月汇总 / 民情分析会 (seed 5-1 ③④): a weekly analysis is made with the figures of its week,
which agree with the cases table counted here in plain SQL, stay as they were when the cases change
(until 重新统计), and become read-only once it is finalised; a meeting's opinion becomes exactly one
linked case; the print views and the Excel workbooks open. API tests use leader08's village; the
browser test leader07's (it commits through the live server)."""

import io
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from tests.conftest import login, sql
from workflow.clock import SHANGHAI

WEEK, WEEK_START = "2026-W47", datetime(2026, 11, 16, tzinfo=SHANGHAI)  # the demo town's last week of cases
WEEK_END = WEEK_START + timedelta(days=7)


def _village(connection, username):
    return connection.execute(text("SELECT scope_code FROM accounts WHERE username = :u"), {"u": username}).scalar()


def _expected(connection, village, counted_at):
    """The week's counts straight from incidents: per category, per grid, overdue at counted_at."""
    span = {"v": village, "a": WEEK_START, "b": WEEK_END}
    by_category = dict(sql(connection, """
        SELECT c.code, count(*) FROM incidents i JOIN categories c ON c.id = i.category_id
         WHERE i.village_code = :v AND i.reported_at >= :a AND i.reported_at < :b GROUP BY c.code""", **span))
    by_grid = dict(sql(connection, """
        SELECT grid_code, count(*) FROM incidents
         WHERE village_code = :v AND reported_at >= :a AND reported_at < :b GROUP BY grid_code""", **span))
    overdue = connection.execute(text("""
        SELECT count(*) FROM incidents
         WHERE village_code = :v AND reported_at >= :a AND reported_at < :b AND state NOT IN ('作废', '挂账')
           AND deadline IS NOT NULL AND (closed_at > deadline OR (closed_at IS NULL AND deadline < :now))"""),
        {**span, "now": counted_at}).scalar()
    patrols = connection.execute(text("""
        SELECT count(*) FROM patrols WHERE grid_code LIKE :v || '%' AND started_at >= :a AND started_at < :b
           AND review IS DISTINCT FROM 'rejected'"""), span).scalar()
    return by_category, by_grid, overdue, patrols


def test_a_weekly_analysis_is_prefilled_with_the_counts_of_the_cases_table(client, connection):
    village = _village(connection, "leader08")
    login(client, "leader08")
    made = client.post("/api/v1/analyses", json={"kind": "week", "period": WEEK})
    assert made.status_code == 201, made.get_json()
    record = made.get_json()
    figures = record["figures"]
    assert record["state"] == "草稿" and record["scope"] == {"kind": "village", "code": village,
                                                            "name": figures["scope"]["name"]}
    assert figures["period"] == {"kind": "week", "key": WEEK, "start": "2026-11-16", "end": "2026-11-22",
                                 "label": "2026年第47周 (11-16 至 11-22)"}
    by_category, by_grid, overdue, patrols = _expected(connection, village,
                                                       datetime.fromisoformat(figures["counted_at"]) + timedelta(seconds=1))
    assert sum(by_category.values()) > 10  # the demo village has a busy week to count
    assert {c["code"]: c["reported"] for c in figures["by_category"]} == by_category
    assert {g["code"]: g["reported"] for g in figures["by_grid"]} == by_grid
    assert figures["cases"]["reported"] == sum(by_category.values())
    assert figures["cases"]["overdue"] == overdue == len(figures["overdue"])
    assert figures["patrols"]["count"] == patrols
    assert figures["visits"]["count"] == connection.execute(text(
        "SELECT count(*) FROM visits WHERE grid_code LIKE :v || '%' AND visited_at >= :a AND visited_at < :b"),
        {"v": village, "a": WEEK_START, "b": WEEK_END}).scalar()
    top = figures["hotspots"][0]
    pairs = sql(connection, """
        SELECT i.grid_code, c.code, count(*) FROM incidents i JOIN categories c ON c.id = i.category_id
         WHERE village_code = :v AND reported_at >= :a AND reported_at < :b
         GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT 1""", v=village, a=WEEK_START, b=WEEK_END)[0]
    assert (top["grid"]["code"], top["category"]["code"], top["reported"]) == tuple(pairs)

    # frozen: a case moved into the week changes nothing until 重新统计
    moved = connection.execute(text("""
        UPDATE incidents SET reported_at = :t WHERE id = (SELECT id FROM incidents WHERE village_code = :v
               AND reported_at < :a ORDER BY id LIMIT 1) RETURNING id"""),
        {"t": WEEK_START + timedelta(days=1, hours=3), "v": village, "a": WEEK_START}).scalar()
    assert moved
    again = client.get(f"/api/v1/analyses/{record['id']}").get_json()
    assert again["figures"] == figures
    recount = client.post(f"/api/v1/analyses/{record['id']}/actions", json={"action": "recount", "version": 1})
    assert recount.status_code == 200, recount.get_json()
    assert recount.get_json()["figures"]["cases"]["reported"] == figures["cases"]["reported"] + 1
    version = recount.get_json()["version"]

    # written by hand, then finalised: read-only
    url = f"/api/v1/analyses/{record['id']}"
    assert client.patch(url, json={"opinion": "x", "version": 1}).status_code == 409
    saved = client.patch(url, json={"opinion": "本周垃圾类案件集中在两个网格", "version": version})
    assert saved.status_code == 200 and saved.get_json()["opinion"] == "本周垃圾类案件集中在两个网格"
    version = saved.get_json()["version"]
    early = client.post(f"{url}/actions", json={"action": "finalize", "version": version})
    assert early.status_code == 422 and {e["field"] for e in early.get_json()["errors"]} == {"problems", "next_steps"}
    version = client.patch(url, json={"problems": "清运不及时; 增加清运频次", "next_steps": "下周复查",
                                      "version": version}).get_json()["version"]
    final = client.post(f"{url}/actions", json={"action": "finalize", "version": version})
    assert final.status_code == 200 and final.get_json()["state"] == "已定稿" and final.get_json()["actions"] == []
    version = final.get_json()["version"]
    for attempt in (client.patch(url, json={"opinion": "改", "version": version}),
                    client.post(f"{url}/actions", json={"action": "recount", "version": version})):
        assert attempt.status_code == 422 and "已定稿" in attempt.get_json()["message_zh"]
    assert client.get(url).get_json()["opinion"] == "本周垃圾类案件集中在两个网格"
    listed = client.get("/api/v1/analyses?kind=week").get_json()["items"]
    assert [a["id"] for a in listed if a["period"] == WEEK] == [record["id"]]
    assert "figures" not in listed[0] and listed[0]["cases"]["reported"] > 0


def test_who_writes_and_reads_and_what_is_refused(client, connection):
    village8 = _village(connection, "leader08")
    login(client, "leader07")
    other = client.post("/api/v1/analyses", json={"kind": "week", "period": WEEK, "scope": village8})
    assert other.status_code == 403
    assert client.post("/api/v1/analyses", json={"kind": "week", "period": WEEK, "scope": "town"}).status_code == 403
    for body, field in (({"kind": "day"}, "kind"), ({"kind": "week", "period": "2026-W99"}, "period"),
                        ({"kind": "month", "period": "2026-13"}, "period"), ({"kind": "month", "period": "2099-01"}, "period"),
                        ({"kind": "week", "scope": "999999999999"}, "scope"),
                        ({"kind": "week", "opinion": 3}, "opinion")):
        answer = client.post("/api/v1/analyses", json=body)
        assert answer.status_code == 422 and field in {e["field"] for e in answer.get_json()["errors"]}, (body, answer.get_json())
    assert client.post("/api/v1/analyses", data="x", content_type="text/plain").status_code == 400
    assert client.get("/api/v1/analyses/abc").status_code == 404
    client.post("/auth/logout")

    login(client, "dispatcher1")
    town = client.post("/api/v1/analyses", json={"kind": "month", "period": "2026-10", "scope": "town"})
    assert town.status_code == 201, town.get_json()
    assert town.get_json()["scope"]["kind"] == "town" and town.get_json()["figures"]["period"]["end"] == "2026-10-31"
    assert town.get_json()["figures"]["cases"]["reported"] == connection.execute(text(
        "SELECT count(*) FROM incidents WHERE reported_at >= '2026-10-01T00:00+08' AND reported_at < '2026-11-01T00:00+08'")).scalar()
    twice = client.post("/api/v1/analyses", json={"kind": "month", "period": "2026-10", "scope": "town"})
    assert twice.status_code == 409 and twice.get_json()["current"]["id"] == town.get_json()["id"]
    village = client.post("/api/v1/analyses", json={"kind": "month", "period": "2026-10", "scope": village8})
    assert village.status_code == 201
    client.post("/auth/logout")

    login(client, "leader08")  # their village's, not the town's
    assert client.get(f"/api/v1/analyses/{town.get_json()['id']}").status_code == 404
    assert client.get(f"/api/v1/analyses/{village.get_json()['id']}").status_code == 200
    assert all(a["scope"]["code"] == village8 for a in client.get("/api/v1/analyses").get_json()["items"])
    client.post("/auth/logout")
    for reader in ("townleader1", "district1"):
        login(client, reader)
        seen = client.get(f"/api/v1/analyses/{town.get_json()['id']}")
        assert seen.status_code == 200 and seen.get_json()["actions"] == []
        assert client.post("/api/v1/analyses", json={"kind": "week"}).status_code == 403
        assert client.post(f"/api/v1/analyses/{town.get_json()['id']}/actions",
                           json={"action": "finalize", "version": 1}).status_code == 403
        client.post("/auth/logout")
    login(client, "worker001")
    assert client.get("/api/v1/analyses").status_code == 403
    assert client.get("/api/v1/meetings").status_code == 403
    assert client.get("/analyses").status_code == 403


def test_a_meetings_opinion_becomes_exactly_one_linked_case(client, connection):
    village = _village(connection, "leader08")
    grid = connection.execute(text("SELECT code FROM grids WHERE code LIKE :v || '%' AND valid_to IS NULL ORDER BY code "
                                   "LIMIT 1"), {"v": village}).scalar()
    login(client, "leader08")
    refused = client.post("/api/v1/meetings", json={"held_on": "2026-11-18", "place": "村委会",
                                                    "participants": "王书记 13812345678", "opinions": [""]})
    assert refused.status_code == 422
    assert {e["field"] for e in refused.get_json()["errors"]} == {"participants", "opinions[0].body"}
    made = client.post("/api/v1/meetings", json={
        "held_on": "2026-11-18", "place": "村委会二楼会议室", "participants": "村党支部书记、网格长、居民代表 8 人",
        "opinions": ["村东路灯不亮, 夜间出行不便", {"body": "垃圾桶数量不够", "grid": grid}], "agreed": "路灯报镇里, 垃圾桶村里先补"})
    assert made.status_code == 201, made.get_json()
    meeting = made.get_json()
    assert [o["n"] for o in meeting["opinions"]] == [1, 2] and meeting["opinions"][1]["grid_code"] == grid
    url = f"/api/v1/meetings/{meeting['id']}/opinions/2/case"
    case = client.post(url, json={"category": "SR01"})
    assert case.status_code == 201, case.get_json()
    linked = case.get_json()["opinions"][1]["incident"]
    rows = sql(connection, "SELECT id, village_code, grid_code, description, reporter_id, flags, source FROM incidents "
                           "WHERE idempotency_key = :k", k=f"meeting{meeting['id']}:opinion2")
    assert len(rows) == 1 and rows[0].id == linked["id"] and rows[0].village_code == village
    assert rows[0].grid_code == grid and "民情分析会" in rows[0].description and "垃圾桶数量不够" in rows[0].description
    assert rows[0].reporter_id == connection.execute(text("SELECT id FROM accounts WHERE username = 'leader08'")).scalar()
    assert "from_meeting" in rows[0].flags and rows[0].source == "grid_worker"
    again = client.post(url, json={"category": "SR01"})
    assert again.status_code == 200 and again.get_json()["opinions"][1]["incident"]["id"] == linked["id"]
    assert connection.execute(text("SELECT count(*) FROM meeting_opinions WHERE incident_id = :i"), {"i": linked["id"]}).scalar() == 1
    assert client.post(f"/api/v1/meetings/{meeting['id']}/opinions/9/case", json={"category": "SR01"}).status_code == 404
    assert client.post(f"/api/v1/meetings/{meeting['id']}/opinions/1/case", json={"category": "NOPE"}).status_code == 422
    assert client.get(f"/api/v1/incidents/{linked['id']}").get_json()["case_no"] == linked["case_no"]

    # the opinions as a whole list: the linked one stays as it is
    version = again.get_json()["version"]
    murl = f"/api/v1/meetings/{meeting['id']}"
    dropped = client.patch(murl, json={"version": version, "opinions": [{"n": 1, "body": "村东路灯不亮"}]})
    assert dropped.status_code == 422 and "已转为案件" in dropped.get_json()["message_zh"]
    assert client.patch(murl, json={"version": version - 1, "place": "村委会"}).status_code == 409
    kept = client.patch(murl, json={"version": version, "opinions": [
        {"n": 2, "body": "垃圾桶数量不够", "grid": grid}, "健身器材损坏"]})
    assert kept.status_code == 200, kept.get_json()
    assert [(o["n"], o["incident"] is not None) for o in kept.get_json()["opinions"]] == [(2, True), (3, False)]
    task = client.post(f"/api/v1/meetings/{meeting['id']}/opinions/3/task", json={"task_id": 1})
    if connection.execute(text("SELECT to_regclass('tasks') IS NULL")).scalar():
        assert task.status_code == 422 and "任务" in task.get_json()["message_zh"]
    client.post("/auth/logout")
    login(client, "leader07")
    assert client.get(murl).status_code == 404
    client.post("/auth/logout")
    login(client, "townleader1")
    assert client.get(murl).status_code == 200
    assert client.post(f"/api/v1/meetings/{meeting['id']}/opinions/3/case", json={"category": "SR01"}).status_code == 403


def test_the_print_views_and_the_workbooks_open(client, connection):
    login(client, "leader08")
    record = client.post("/api/v1/analyses", json={"kind": "week", "period": "2026-11-12"}).get_json()
    assert record["period"] == "2026-W46"
    page = client.get(f"/analyses/{record['id']}/print")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "周分析" in html and record["label"] in html and f">{record['figures']['cases']['reported']}<" in html
    book = load_workbook(io.BytesIO(client.get(f"/api/v1/analyses/{record['id']}.xlsx").data))
    assert book.sheetnames == ["周分析", "按类别", "按网格", "热点", "超期案件"]
    assert book["周分析"]["B4"].value == record["figures"]["cases"]["reported"]
    assert book["按类别"].max_row - 1 == len(record["figures"]["by_category"])  # below its header
    meeting = client.post("/api/v1/meetings", json={"held_on": "2026-11-12", "place": "村文化广场",
                                                    "opinions": ["道路坑洼"]}).get_json()
    sheet = client.get(f"/analyses/meetings/{meeting['id']}/print")
    assert sheet.status_code == 200 and "道路坑洼" in sheet.get_data(as_text=True)
    book = load_workbook(io.BytesIO(client.get(f"/api/v1/meetings/{meeting['id']}.xlsx").data))
    assert book["民情分析会"]["B3"].value == "村文化广场"
    client.post("/auth/logout")
    login(client, "leader07")
    assert client.get(f"/analyses/{record['id']}/print").status_code == 404
    assert client.get(f"/api/v1/meetings/{meeting['id']}.xlsx").status_code == 404


def test_a_draft_of_an_ended_period_awaits_its_writer_in_the_inbox(client, connection):
    login(client, "leader08")
    record = client.post("/api/v1/analyses", json={"kind": "week", "period": WEEK}).get_json()
    mine = client.get("/api/v1/inbox?kind=analysis").get_json()["items"]
    item = next(i for i in mine if i["id"] == record["id"])
    assert item["page"] == f"/analyses?tab=week&open={record['id']}" and item["deadline_status"] == "red"
    assert item["url"] == f"/api/v1/analyses/{record['id']}" and item["title"].startswith("周分析 · ")
    assert client.get("/api/v1/inbox?limit=0").get_json()["total"] >= 1
    client.post("/auth/logout")
    login(client, "leader07")
    assert record["id"] not in [i["id"] for i in client.get("/api/v1/inbox?kind=analysis").get_json()["items"]]
    client.post("/auth/logout")
    login(client, "leader08")
    version = client.patch(f"/api/v1/analyses/{record['id']}", json={
        "opinion": "a", "problems": "b", "next_steps": "c", "version": record["version"]}).get_json()["version"]
    client.post(f"/api/v1/analyses/{record['id']}/actions", json={"action": "finalize", "version": version})
    assert record["id"] not in [i["id"] for i in client.get("/api/v1/inbox?kind=analysis").get_json()["items"]]


@pytest.mark.parametrize(("username", "shown"), [("leader07", True), ("dispatcher1", True), ("townleader1", True),
                                                  ("district1", True), ("worker001", False), ("dept_huanwei", False)])
def test_the_menu_links_the_page_for_the_roles_that_hold_it(client, username, shown):
    login(client, username)
    nav = client.get("/").get_data(as_text=True)
    assert ('href="/analyses"' in nav) is shown
    assert client.get("/analyses").status_code == (200 if shown else 403)
    if shown:
        english = client.get("/analyses?lang=en").get_data(as_text=True)
        assert ">Opinion meetings<" in english and ">Weekly analysis<" in english


def test_a_village_leader_writes_the_weeks_analysis_and_records_a_meeting(browser, live_server, engine):
    from tests.web.desk import PHONE, hosts, signed_page

    with engine.connect() as conn:
        village = _village(conn, "leader07")
        reported = conn.execute(text("SELECT count(*) FROM incidents WHERE village_code = :v AND reported_at >= :a "
                                     "AND reported_at < :b"), {"v": village, "a": WEEK_START, "b": WEEK_END}).scalar()
        by_category = dict(sql(conn, """
            SELECT c.name, count(*) FROM incidents i JOIN categories c ON c.id = i.category_id
             WHERE i.village_code = :v AND i.reported_at >= :a AND i.reported_at < :b GROUP BY c.name""",
                               v=village, a=WEEK_START, b=WEEK_END))
    with signed_page(browser, live_server, "leader07", "/analyses", "#an-week[data-loaded]") as (page, seen, errors):
        page.on("dialog", lambda dialog: dialog.accept())  # 定稿 asks to confirm
        assert page.locator("#an-week-scope").is_hidden()  # the leader's own village only
        page.fill("#an-week-period", WEEK)
        page.click("#an-week-new")
        detail = page.locator("#an-week-detail")
        detail.wait_for()
        assert page.locator("#an-week .an-msg").inner_text().startswith("已建立 2026年第47周")
        assert detail.locator("[data-figure=reported] b").inner_text() == str(reported)
        rows = detail.locator(".an-by-category tbody tr")
        shown = {rows.nth(i).locator("td").nth(0).inner_text().split(" · ")[-1]: int(rows.nth(i).locator("td").nth(1).inner_text())
                 for i in range(rows.count())}
        assert shown == by_category and reported > 0
        detail.locator("textarea[name=opinion]").fill("本周环境卫生类案件较多, 集中在村东")
        detail.locator("textarea[name=problems]").fill("垃圾清运不及时; 与保洁公司约定每日两次清运")
        detail.locator("button.an-finalize").click()  # unfilled 下步工作: refused, under its field
        page.wait_for_selector("#an-week-detail small[data-for=next_steps]:not(:empty)")
        assert "下步工作" in detail.locator("small[data-for=next_steps]").inner_text()
        detail.locator("textarea[name=next_steps]").fill("下周复查村东三处垃圾点")
        detail.locator("button.an-finalize").click()
        page.wait_for_selector("#an-week-detail[data-state='已定稿']")
        assert detail.locator("textarea[name=opinion]").evaluate("t => t.readOnly")
        assert detail.locator("button.an-finalize").is_hidden() and detail.locator("button.an-save").is_hidden()
        assert page.locator("#an-week-list tr[data-period='2026-W47'] td").nth(2).inner_text() == "已定稿"

        page.click("#an-tab-meetings")
        page.wait_for_selector("body[data-meetings-loaded]", state="attached")
        page.click("#mt-new")
        form = page.locator("#mt-form")
        form.locator("input[name=held_on]").fill("2026-11-19")
        form.locator("input[name=place]").fill("大田村村委会")
        form.locator("textarea[name=participants]").fill("村党支部书记、网格长、居民代表 6 人")
        form.locator(".mt-opinion-rows textarea").first.fill("村东路灯坏了三盏")
        form.locator("button.mt-add").click()
        form.locator(".mt-opinion-rows textarea").nth(1).fill("希望增加健身器材")
        form.locator("textarea[name=agreed]").fill("路灯报镇里维修; 健身器材列入明年计划")
        form.locator("button[type=submit]").click()
        view = page.locator("#mt-detail")
        view.wait_for()
        assert view.locator(".mt-opinions-view li").count() == 2
        view.locator("li[data-n='1'] button.mt-to-case").click()
        view.locator("li[data-n='1'] select[name=category]").select_option("SR01")
        view.locator("li[data-n='1'] .mt-case-form button[type=submit]").click()
        link = view.locator("li[data-n='1'] a.mt-case")
        link.wait_for()
        assert page.locator("#mt-msg").inner_text().startswith("第 1 条意见已转为案件")
        assert view.locator("li[data-n='2'] button.mt-to-case").is_visible()
        meeting_id, case_shown = int(view.get_attribute("data-id")), link.inner_text()
        assert not errors and hosts(seen) <= {"127.0.0.1"}
    with signed_page(browser, live_server, "leader07", "/analyses", "#an-week[data-loaded]", PHONE) as (page, seen, errors):
        page.locator("#an-week-list tr[data-period='2026-W47'] button").click()  # on the phone: the same record, read-only
        page.wait_for_selector("#an-week-detail[data-state='已定稿']")
        assert page.locator("#an-week-detail textarea[name=next_steps]").input_value() == "下周复查村东三处垃圾点"
        assert page.evaluate("document.documentElement.scrollWidth") <= 390 and not errors
    with engine.connect() as conn:
        case_no, description = conn.execute(text("""
            SELECT i.case_no, i.description FROM meeting_opinions o JOIN incidents i ON i.id = o.incident_id
             WHERE o.meeting_id = :m AND o.n = 1"""), {"m": meeting_id}).one()
        assert case_shown.startswith(f"案件 {case_no}")
        assert "村东路灯坏了三盏" in description
        assert conn.execute(text("SELECT count(*) FROM meeting_opinions WHERE meeting_id = :m AND incident_id IS NOT NULL"),
                            {"m": meeting_id}).scalar() == 1


def test_the_centre_turns_a_meetings_opinion_into_a_task(browser, live_server, engine):
    """民情分析会 → 转为任务: the new task is filled from the opinion, and the opinion links the task made."""
    from sqlalchemy.orm import Session

    from tests.conftest import user_named
    from tests.web.desk import close_tasks, hosts, signed_page
    from webmap.services import analyses

    with Session(engine) as db:
        village = _village(db, "leader08")
        meeting = analyses.create_meeting(db, user_named(db, "dispatcher1"), {
            "scope": village, "held_on": "2026-11-20", "place": "村委会", "participants": "网格长、居民代表 5 人",
            "agreed": "排查村内危房", "opinions": ["村西两处老房墙体开裂, 雨季有倒塌危险"]})
    with signed_page(browser, live_server, "dispatcher1", "/analyses", "#an-week[data-loaded]") as (page, seen, errors):
        page.click("#an-tab-meetings")
        page.wait_for_selector("body[data-meetings-loaded]", state="attached")
        page.select_option("#mt-scope", village)
        page.locator(f"#mt-list tr[data-id='{meeting['id']}'] button").click()
        view = page.locator("#mt-detail")
        view.wait_for()
        view.locator("li[data-n='1'] a.mt-to-task").click()
        page.wait_for_url("**/tasks?**")
        page.wait_for_selector("#tk-new-panel:not([hidden])")
        form = page.locator("#tk-form")
        assert form.locator("input[name=title]").input_value().startswith("村西两处老房墙体开裂")
        assert form.locator("select[name=source]").input_value() == "meeting"
        page.wait_for_selector(f"#tk-pick-villages input[value='{village}']")
        page.check(f"#tk-pick-villages input[value='{village}']")
        form.locator("input[name=work_days]").fill("5")
        page.click("#tk-submit")
        page.wait_for_function("document.querySelector('#tk-msg').textContent.length > 0")
        assert not errors and hosts(seen) <= {"127.0.0.1"}
    with engine.connect() as conn:
        task_id, title, source = conn.execute(text("""
            SELECT t.id, t.title, t.source FROM meeting_opinions o JOIN tasks t ON t.id = o.task_id
             WHERE o.meeting_id = :m AND o.n = 1"""), {"m": meeting["id"]}).one()
        assert title.startswith("村西两处老房墙体开裂") and source == "meeting"
    close_tasks(engine, title)  # the live server's database is shared: the task awaits no one after
