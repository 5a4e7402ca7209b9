"""交办任务 (seed 8-1) and the information-collection rule (seed 7-2 §3).

A task to two villages and a worker: each acknowledges and completes with text and a photo, the
issuer reads the per-assignee table, returns a completion and closes the task; the wrong actor gets
403, a stale version 409, a missing note 422. Overdue assignees are supervised once by the job
(``wangge jobs run --now``). An information-collection task to workers from the town waits for the
district (待区审批) and no worker sees it until it is approved; from a department it is refused with
the seed's words; the database refuses an unapproved one whatever the statement.

People of these tests (no other test acts for them): the workers worker060 and worker064, the villages
of leader05 and leader06, the department dept_huanwei.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tests.conftest import JPEG, Tokens, login, user_named
from webmap.services import inbox, tasks
from workflow import tasks as rules
from workflow.clock import SHANGHAI

WORKER, OTHER_WORKER = "worker060", "worker064"
LEADERS = ("leader05", "leader06")
DEPT = "dept_huanwei"
URL = "/api/v1/tasks"


class Desk(Tokens):
    """The people of these tests at their desks and phones."""

    def get(self, who, path=URL, **query):
        return self.client.get(path, query_string=query, headers=self.headers(who))

    def post(self, who, path, body):
        return self.client.post(path, json=body, headers=self.headers(who))

    def create(self, who, **body):
        return self.post(who, URL, body)

    def act(self, who, task, action, **extra):
        return self.post(who, f"{URL}/{task['id']}/actions", {"action": action, "version": task["version"], **extra})

    def upload(self, who):
        r = self.client.post("/api/v1/attachments", data={"file": (io.BytesIO(JPEG + who.encode()), "p.jpg")},
                             headers=self.headers(who), content_type="multipart/form-data")
        assert r.status_code == 201, r.get_json()
        return r.get_json()["id"]

    def mine(self, who):
        return [t["id"] for t in self.get(who, mine="1").get_json()["items"]]

    def todo(self, who):
        return [i["id"] for i in self.get(who, "/api/v1/inbox", kind="task", limit="100").get_json()["items"]]


@pytest.fixture
def desk(client):
    return Desk(client)


def village(connection, leader):
    return connection.execute(text("SELECT scope_code FROM accounts WHERE username = :u"), {"u": leader}).scalar()


def assignees(connection, *leaders, workers=(WORKER,), departments=()):
    return ([{"kind": "village", "code": village(connection, v)} for v in leaders]
            + [{"kind": "worker", "username": w} for w in workers]
            + [{"kind": "department", "code": d} for d in departments])


def row_of(task, kind, code):
    return next(a for a in task["assignees"] if a["kind"] == kind and a["code"] == code)


def test_a_task_to_two_villages_and_a_worker_is_acknowledged_and_completed(desk, connection):
    document = desk.upload("dispatcher1")
    created = desk.create("dispatcher1", title="春季森林防火排查", body="按镇防火办文件逐户排查火源隐患",
                          kind="general", deadline={"work_days": 5}, source="document", source_ref="杨政发〔2026〕12号",
                          attachments=[document], assignees=assignees(connection, *LEADERS))
    assert created.status_code == 201, created.get_json()
    task = created.get_json()
    assert task["state"] == "进行中" and task["version"] == 1 and task["counts"]["total"] == 3
    assert [a["state"] for a in task["assignees"]] == ["待签收"] * 3
    assert task["issuer"]["username"] == "dispatcher1" and task["deadline"].endswith("T17:30:00+08:00")
    people = [*LEADERS, WORKER]
    for who in people:  # each sees it, in their list and their 待办
        assert task["id"] in desk.mine(who) and task["id"] in desk.todo(who), who
        item = next(i for i in desk.get(who, "/api/v1/inbox", kind="task").get_json()["items"] if i["id"] == task["id"])
        assert item["page"].endswith(f"?task={task['id']}") and item["url"] == f"{URL}/{task['id']}"
        assert [a["name"] for a in item["actions"]] == ["acknowledge"]
    assert task["attachments"] == [document] and desk.get(WORKER, f"/api/v1/attachments/{document}").status_code == 200
    for who in (OTHER_WORKER, DEPT, "leader01"):  # not theirs
        assert desk.get(who, f"{URL}/{task['id']}").status_code == 404, who
        assert desk.get(who, f"/api/v1/attachments/{document}").status_code == 404, who
        assert task["id"] not in [t["id"] for t in desk.get(who).get_json()["items"]]
    # the wrong actor, a stale version, the wrong moment, a missing note
    assert desk.act("leader05", task, "close").status_code == 403
    assert desk.act("dispatcher1", task, "acknowledge").status_code == 403
    too_soon = desk.act(WORKER, task, "complete", note="已完成")
    assert too_soon.status_code == 422 and "待签收" in too_soon.get_json()["message_zh"]
    for who in people:
        answer = desk.act(who, task, "acknowledge")
        assert answer.status_code == 200, (who, answer.get_json())
        assert desk.act(who, task, "acknowledge").status_code == 409  # the version moved on
        task = answer.get_json()
    progress = desk.act("leader05", task, "progress", note="已排查 3 个自然村")
    assert progress.status_code == 200
    task = progress.get_json()
    no_note = desk.act(WORKER, task, "complete", note=" ")
    assert no_note.status_code == 422 and no_note.get_json()["errors"][0]["field"] == "note"
    bad_photo = desk.act(WORKER, task, "complete", note="已完成", attachments=["0" * 64])
    assert bad_photo.status_code == 422 and bad_photo.get_json()["errors"][0]["field"] == "attachments[0]"
    photos = {}
    for who in people:
        photos[who] = desk.upload(who)
        answer = desk.act(who, task, "complete", note=f"{who} 排查完毕, 无隐患", attachments=[photos[who]])
        assert answer.status_code == 200, (who, answer.get_json())
        task = answer.get_json()
        assert task["id"] not in desk.todo(who)
    # the issuer's table
    table = desk.get("dispatcher1", f"{URL}/{task['id']}").get_json()
    assert table["counts"] == {"total": 3, "acknowledged": 3, "completed": 3, "owing": 0, "overdue": 0}
    mine = row_of(table, "worker", WORKER)
    assert mine["state"] == "已完成" and mine["acknowledged_at"] and mine["completed_at"]
    assert mine["completion_note"] == f"{WORKER} 排查完毕, 无隐患" and mine["completion_attachments"] == [photos[WORKER]]
    five = row_of(table, "village", village(connection, "leader05"))
    assert five["progress_note"] == "已排查 3 个自然村" and five["name"]
    assert [e["action"] for e in table["events"]].count("complete") == 3 and table["events"][0]["action"] == "create"
    # the issuer sees the worker's photo; another worker does not
    assert desk.get("dispatcher1", f"/api/v1/attachments/{photos[WORKER]}").status_code == 200
    assert desk.get(OTHER_WORKER, f"/api/v1/attachments/{photos[WORKER]}").status_code == 404
    # the issuer returns one completion; it is worked again, then the task is closed
    offered = [(a["action"], a["assignee"]) for a in table["actions"]]
    assert ("return", mine["id"]) in offered and ("close", None) in offered
    assert desk.act("dispatcher1", table, "return", assignee=mine["id"]).status_code == 422  # a note is needed
    returned = desk.act("dispatcher2", table, "return", assignee=mine["id"], note="请补充照片")  # the town's centre
    assert returned.status_code == 200
    task = returned.get_json()
    assert row_of(task, "worker", WORKER)["state"] == "退回重办" and task["id"] in desk.todo(WORKER)
    task = desk.act(WORKER, task, "complete", note="已补充").get_json()
    assert row_of(task, "worker", WORKER)["return_count"] == 1
    closed = desk.act("dispatcher1", task, "close", note="全部办结")
    assert closed.status_code == 200 and closed.get_json()["state"] == "已关闭"
    assert desk.act(WORKER, closed.get_json(), "progress", note="x").status_code == 422


def test_fields_are_checked_one_by_one(desk, connection):
    saturday = next(datetime.now(SHANGHAI).date() + timedelta(days=d) for d in range(30, 40)
                    if (datetime.now(SHANGHAI).date() + timedelta(days=d)).weekday() == 5)
    answer = desk.create("townleader1", title=" ", kind="survey", deadline=saturday.isoformat(),
                         assignees=[{"kind": "worker", "username": "nobody"}, {"kind": "village", "code": "1"},
                                    {"kind": "department", "code": "huanwei"}, {"kind": "department", "code": "huanwei"},
                                    {"kind": "town"}], attachments=["x"])
    assert answer.status_code == 422
    fields = {e["field"]: e["zh"] for e in answer.get_json()["errors"]}
    assert {"title", "kind", "deadline", "attachments[0]", "assignees[0].username", "assignees[1].code", "assignees[3]",
            "assignees[4].kind"} <= set(fields), fields
    assert "不是工作日" in fields["deadline"]
    assert desk.create("townleader1", title="x", deadline="2020-01-02", assignees=[]).status_code == 422
    assert desk.get("dispatcher1", state="done").status_code == 400
    assert desk.get("planner1").status_code == 403
    assert desk.create(WORKER, title="x", deadline={"work_days": 1}, assignees=assignees(connection)).status_code == 403
    # a department issues general tasks to villages and departments, not to grid workers
    dept = desk.create(DEPT, title="垃圾分类宣传", deadline={"work_days": 3},
                       assignees=assignees(connection, "leader05", workers=(WORKER,)))
    assert dept.status_code == 403 and dept.get_json()["errors"][0]["field"] == "assignees"
    ok = desk.create(DEPT, title="垃圾分类宣传", deadline={"work_days": 3},
                     assignees=assignees(connection, "leader05", workers=(), departments=("shehui",)))
    assert ok.status_code == 201 and ok.get_json()["state"] == "进行中"
    assert ok.get_json()["id"] in [t["id"] for t in desk.get(DEPT, issued="1").get_json()["items"]]
    # a village's leader gives tasks to the workers of the village only
    grid = connection.execute(text("SELECT username FROM accounts WHERE role = 'worker' AND scope_code LIKE :v || '%' "
                                   "ORDER BY username LIMIT 1"), {"v": village(connection, "leader06")}).scalar()
    assert desk.create("leader06", title="巡查", deadline={"work_days": 1},
                       assignees=[{"kind": "worker", "username": grid}]).status_code == 201
    other = desk.create("leader06", title="巡查", deadline={"work_days": 1}, assignees=assignees(connection))
    assert other.status_code == 422 and "不是本村" in other.get_json()["errors"][0]["zh"]

    # the pages: a worker is sent to the phone's, a role without tasks has none
    client = desk.client
    login(client, "planner1")
    assert client.get("/tasks").status_code == 403 and client.get("/m/tasks").status_code == 403
    client.post("/auth/logout")
    login(client, WORKER)
    assert client.get("/tasks?task=1").headers["Location"].endswith("/m/tasks?task=1")
    assert "No tasks for you" in client.get("/m/tasks?lang=en").get_data(as_text=True)


def test_overdue_assignees_are_supervised_once(db):
    start = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)  # a Monday
    issuer = user_named(db, "townleader1")
    leader = user_named(db, "leader05")
    code = village(db, "leader05")
    task = tasks.create(db, issuer, {"title": "入户核查低保户", "deadline": {"work_days": 2},
                                     "assignees": [{"kind": "village", "code": code},
                                                   {"kind": "worker", "username": WORKER, "report_back": False}]},
                        now=start)
    assert task["deadline"] == "2026-11-04T17:30:00+08:00"
    task = tasks.act(db, user_named(db, WORKER), task["id"], {"action": "acknowledge", "version": task["version"]},
                     now=start + timedelta(hours=1))  # no report back: acknowledging is all it owes
    five = row_of(task, "village", code)
    with pytest.raises(tasks.InvalidInputError) as early:
        tasks.act(db, issuer, task["id"], {"action": "supervise", "version": task["version"], "assignee": five["id"]},
                  now=start + timedelta(days=1))
    assert early.value.status == 422 and "尚未超期" in early.value.zh
    late = datetime(2026, 11, 5, 9, 0, tzinfo=SHANGHAI)
    assert tasks.run_clock(db, now=late) == 1  # the village, not the worker who owed only the acknowledgement
    assert tasks.run_clock(db, now=late + timedelta(hours=1)) == 0
    table = tasks.detail(db, issuer, task["id"], now=late)
    five = row_of(table, "village", code)
    assert five["overdue"] and five["supervise_count"] == 1 and five["overdue_at"]
    assert not row_of(table, "worker", WORKER)["overdue"] and table["counts"]["overdue"] == 1
    assert [e["action"] for e in table["events"]][-1] == "auto_supervise"
    item = inbox.inbox(db, leader, now=late, kind="task")["items"]
    assert [(i["id"], i["deadline_status"], i["supervised"]) for i in item] == [(task["id"], "red", True)]
    pressed = tasks.act(db, issuer, task["id"], {"action": "supervise", "version": table["version"], "assignee": five["id"],
                                                 "note": "请今日报结"}, now=late)
    assert row_of(pressed, "village", code)["supervise_count"] == 2
    assert tasks.listing(db, issuer, {"overdue": "1"}, now=late)["items"][0]["id"] == task["id"]


def test_the_jobs_command_supervises_overdue_assignees(demo_database):
    url = demo_database("tasks_jobs", incidents=60, seed=5)
    engine = create_engine(url)
    start = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)
    with Session(engine) as db:
        tasks.create(db, user_named(db, "dispatcher1"), {"title": "统计返乡人员", "deadline": {"work_days": 1},
                                                         "assignees": [{"kind": "worker", "username": WORKER},
                                                                       {"kind": "department", "code": "shehui"}]},
                     now=start)
    run = [str(Path(sys.executable).parent / "wangge"), "jobs", "run", "--now", (start + timedelta(days=3)).isoformat()]
    env = {**os.environ, "DATABASE_URL": url}
    summaries = []
    for _ in range(2):
        done = subprocess.run(run, capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        summaries.append(json.loads(done.stdout.strip().splitlines()[-1]))
    assert [s["tasks_overdue"] for s in summaries] == [2, 0]
    engine.dispose()


def test_info_collection_from_the_town_waits_for_the_district(desk, connection):
    body = dict(title="辖区出租房屋信息采集", body="逐户登记出租房屋及承租人信息", kind="info_collection",
                deadline={"work_days": 10}, assignees=assignees(connection, "leader05"))
    created = desk.create("dispatcher1", **body)
    assert created.status_code == 201, created.get_json()
    task = created.get_json()
    assert task["state"] == "待区审批" and task["reaches_workers"]
    for who in (WORKER, "leader05"):  # invisible to the workers (and the village that would hand it on)
        assert desk.get(who, f"{URL}/{task['id']}").status_code == 404
        assert task["id"] not in desk.mine(who) and task["id"] not in desk.todo(who)
        assert desk.act(who, task, "acknowledge").status_code == 404
    assert task["id"] in desk.todo("district1")
    assert task["id"] in [t["id"] for t in desk.get("district1", pending="1").get_json()["items"]]
    assert desk.act("dispatcher1", task, "approve").status_code == 403  # the town does not approve its own
    assert desk.act("admin", task, "approve").status_code == 403
    assert desk.act("district1", {**task, "version": 0}, "approve").status_code == 409
    approved = desk.act("district1", task, "approve", note="同意采集")
    assert approved.status_code == 200
    task = approved.get_json()
    assert task["state"] == "进行中" and task["approved_by"]["username"] == "district1"
    for who in (WORKER, "leader05"):
        assert task["id"] in desk.mine(who) and task["id"] in desk.todo(who)
    assert task["id"] not in desk.todo("district1")
    # refused: the reason is required and shown to the issuer; no worker ever sees it
    second = desk.create("townleader1", **{**body, "assignees": assignees(connection, workers=(OTHER_WORKER,))}).get_json()
    assert second["state"] == "待区审批"
    assert desk.act("district1", second, "refuse").status_code == 422
    refused = desk.act("district1", second, "refuse", note="与区里正在进行的普查重复")
    assert refused.status_code == 200 and refused.get_json()["state"] == "已拒绝"
    assert desk.get("townleader1", f"{URL}/{second['id']}").get_json()["refusal"] == "与区里正在进行的普查重复"
    assert second["id"] not in desk.mine(OTHER_WORKER)
    # to departments only it reaches no worker: open at once; the district's own is approved as issued
    depts = desk.create("dispatcher1", **{**body, "assignees": assignees(connection, workers=(), departments=("shehui",))})
    assert depts.get_json()["state"] == "进行中"
    own = desk.create("district1", **body).get_json()
    assert own["state"] == "进行中" and own["approved_by"]["username"] == "district1"
    # a village's grid body may ask for one for its own workers: it waits for the district too
    grid = connection.execute(text("SELECT username FROM accounts WHERE role = 'worker' AND scope_code LIKE :v || '%' "
                                   "ORDER BY username LIMIT 1"), {"v": village(connection, "leader06")}).scalar()
    village_task = desk.create("leader06", **{**body, "assignees": [{"kind": "worker", "username": grid}]}).get_json()
    assert village_task["state"] == "待区审批" and village_task["id"] in [t["id"] for t in desk.get("leader06").get_json()["items"]]
    assert village_task["id"] not in desk.mine(grid)


@pytest.mark.parametrize("who", [DEPT, "admin"])
def test_info_collection_from_another_body_is_refused_with_the_seed_reason(desk, connection, who):
    before = connection.execute(text("SELECT count(*) FROM tasks")).scalar()
    answer = desk.create(who, title="商户经营信息采集", kind="info_collection", deadline={"work_days": 5},
                         assignees=assignees(connection, "leader05", workers=()))
    assert answer.status_code == 403
    reason = answer.get_json()
    assert rules.INFO_RULE_ZH in reason["message_zh"] and reason["errors"][0]["field"] == "kind"
    assert "district grid centre" in reason["message_en"]
    assert connection.execute(text("SELECT count(*) FROM tasks")).scalar() == before  # nothing saved


def _refused(connection, statement, **params):
    savepoint = connection.begin_nested()
    try:
        with pytest.raises(IntegrityError) as error:
            connection.execute(text(statement), params)
        return str(error.value.orig)
    finally:
        savepoint.rollback()


def test_the_database_refuses_an_unapproved_info_collection_task(connection):
    ids = dict(connection.execute(text("SELECT username, id FROM accounts WHERE username IN "
                                       "('dispatcher1', 'district1', 'dept_huanwei', 'worker060')")).all())
    task = """INSERT INTO tasks (title, kind, state, issuer_id, issuer_role, issuer_body, deadline, created_at {extra})
              VALUES ('信息采集', :kind, :state, :issuer, :role, 'town', now() + interval '3 days', now() {values})
              RETURNING id"""

    def insert(kind="info_collection", state="进行中", issuer="dispatcher1", role="dispatcher", extra="", values=""):
        return connection.execute(text(task.format(extra=extra, values=values)),
                                  {"kind": kind, "state": state, "issuer": ids[issuer], "role": role}).scalar()

    worker = "INSERT INTO task_assignees (task_id, kind, code, account_id) VALUES (:t, 'worker', 'worker060', :a)"
    # an open info_collection task, then a worker added to it
    open_task = insert()
    reason = _refused(connection, worker, t=open_task, a=ids["worker060"])
    assert rules.INFO_RULE_ZH in reason
    # a village counts as reaching its workers
    assert rules.INFO_RULE_ZH in _refused(connection, "INSERT INTO task_assignees (task_id, kind, code, village_code) "
                                                      "VALUES (:t, 'village', :v, :v)", t=open_task, v="120116103205")
    # a pending one takes workers; opening it needs the district's approval
    pending = insert(state="待区审批")
    connection.execute(text(worker), {"t": pending, "a": ids["worker060"]})
    assert rules.INFO_RULE_ZH in _refused(connection, "UPDATE tasks SET state = '进行中' WHERE id = :t", t=pending)
    assert rules.INFO_RULE_ZH in _refused(connection, "UPDATE tasks SET state = '进行中', approved_at = now(), "
                                                      "approved_by = :d WHERE id = :t", t=pending, d=ids["dispatcher1"])
    connection.execute(text("UPDATE tasks SET state = '进行中', approved_at = now(), approved_by = :d WHERE id = :t"),
                       {"t": pending, "d": ids["district1"]})
    # a general task with a worker cannot become an info_collection one behind the district's back
    general = insert(kind="general")
    connection.execute(text(worker), {"t": general, "a": ids["worker060"]})
    assert rules.INFO_RULE_ZH in _refused(connection, "UPDATE tasks SET kind = 'info_collection' WHERE id = :t", t=general)
    # from a department even a pending one is refused; and the issuer's role is the account's own
    dept = insert(state="待区审批", issuer="dept_huanwei", role="department")
    assert rules.INFO_RULE_ZH in _refused(connection, worker, t=dept, a=ids["worker060"])
    assert "is not the role of account" in _refused(connection, task.format(extra="", values=""), kind="general",
                                                    state="进行中", issuer=ids["dept_huanwei"], role="district")
    # events are append-only
    connection.execute(text("INSERT INTO task_events (task_id, action) VALUES (:t, 'create')"), {"t": general})
    savepoint = connection.begin_nested()
    with pytest.raises(Exception, match="append-only"):
        connection.execute(text("UPDATE task_events SET note = 'x' WHERE task_id = :t"), {"t": general})
    savepoint.rollback()


# ---------------------------------------------------------------- in the pages


def test_the_centre_issues_a_task_the_worker_completes_it_on_the_phone(browser, live_server, engine):
    from tests.conftest import ARTIFACTS
    from tests.web.desk import PHONE, close_tasks, covered_buttons, hosts, signed_page
    from tests.web.phone import PHOTO, SMALL, UNCOVERED

    title = f"浏览器测试: 秋冬季消防安全排查 {datetime.now(SHANGHAI):%H%M%S}"
    with engine.connect() as conn:
        code = village(conn, "leader05")
        village_name = conn.execute(text("SELECT name FROM areas WHERE code = :c"), {"c": code}).scalar()
        worker_name = conn.execute(text("SELECT p.name FROM accounts a JOIN people p ON p.id = a.person_id "
                                        "WHERE a.username = :u"), {"u": WORKER}).scalar()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        with signed_page(browser, live_server, "dispatcher1", "/tasks", "body[data-tasks-loaded]") as (page, seen, errors):
            page.click("#tk-tab-new")
            page.wait_for_selector("body[data-choices-loaded]", state="attached")
            form = page.locator("#tk-form")
            form.locator("input[name=title]").fill(title)
            form.locator("textarea[name=body]").fill("对辖区沿街商铺逐户排查消防通道与灭火器")
            form.locator("select[name=source]").select_option("document")
            form.locator("input[name=source_ref]").fill("杨政办〔2026〕30号")
            form.locator("input[name=work_days]").fill("3")
            page.locator(f"#tk-pick-villages label:has-text('{village_name}') input").check()
            page.fill("#tk-worker-q", WORKER)
            page.click("#tk-worker-add")
            assert worker_name in page.locator("#tk-workers").inner_text()
            form.locator("input[name=files]").set_input_files([{**PHOTO, "name": "文件.jpg"}])
            assert not covered_buttons(page, "#tk-form button")
            page.screenshot(path=str(ARTIFACTS / "tasks-new.png"), full_page=True)
            page.click("#tk-submit")
            page.wait_for_selector("#tk-detail[data-state='进行中']")
            task_id = int(page.locator("#tk-detail").get_attribute("data-task"))
            rows = page.locator("#tk-assignees tbody tr")
            assert rows.count() == 2
            assert page.locator(f"#tk-assignees tr[data-code='{code}']").get_attribute("data-state") == "待签收"
            assert worker_name in page.locator(f"#tk-assignees tr[data-code='{WORKER}']").inner_text()
            assert page.locator("#tk-d-files a.tk-file").count() == 1  # the document, opening the file
            assert "已交办" in page.locator("#tk-msg").inner_text()
            page.screenshot(path=str(ARTIFACTS / "tasks-desk.png"), full_page=True)
            assert hosts(seen) == {"127.0.0.1"} and not errors, errors

        with signed_page(browser, live_server, WORKER, f"/m/tasks?task={task_id}", "body[data-tasks-loaded]",
                         device=PHONE) as (page, seen, errors):
            card = page.locator(f"#mt-list li[data-task='{task_id}']")
            assert title in card.inner_text() and card.get_attribute("data-state") == "待签收"
            assert not page.evaluate(UNCOVERED) and not page.evaluate(SMALL), page.evaluate(SMALL)
            card.locator("button[data-action=acknowledge]").click()
            page.wait_for_selector(f"#mt-list li[data-task='{task_id}'][data-state='已签收']")
            card.locator("button[data-action=complete]").click()
            card.locator("form button[type=submit]").click()  # no text: refused on the page, nothing sent
            assert "请填写说明" in card.locator("form .error").inner_text()
            card.locator("form textarea").fill("已排查 12 户, 整改灭火器过期 2 处")
            card.locator("form input[type=file]").set_input_files([PHOTO])
            card.locator("form button[type=submit]").click()
            page.wait_for_selector(f"#mt-list li[data-task='{task_id}'][data-state='已完成']")
            assert "已办结反馈" in page.locator("#mt-msg").inner_text()
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.screenshot(path=str(ARTIFACTS / "tasks-phone.png"), full_page=True)
            assert hosts(seen) == {"127.0.0.1"} and not errors, errors
            page.click("#menu-toggle")
            assert page.locator("#menu a[href='/m/tasks']").is_visible()

        with signed_page(browser, live_server, "dispatcher1", f"/tasks?task={task_id}", "body[data-task-open]") as (page, _s, errors):
            row = page.locator(f"#tk-assignees tr[data-code='{WORKER}']")
            assert row.get_attribute("data-state") == "已完成"
            assert "已排查 12 户" in row.inner_text() and row.locator("a.tk-file").count() == 1
            assert page.locator(f"#tk-assignees tr[data-code='{code}']").get_attribute("data-state") == "待签收"
            assert "1 / 1 / 2" in page.locator(f"#tk-list tr[data-task='{task_id}']").inner_text()
            assert not errors, errors
    finally:
        close_tasks(engine, title)


def test_the_district_approves_a_pending_info_collection_task_in_the_page(browser, live_server, engine):
    from tests.web.desk import close_tasks, signed_page

    title = f"浏览器测试: 流动人口信息采集 {datetime.now(SHANGHAI):%H%M%S}"
    with Session(engine) as db:
        task = tasks.create(db, user_named(db, "townleader1"), {
            "title": title, "kind": "info_collection", "deadline": {"work_days": 5},
            "assignees": [{"kind": "worker", "username": OTHER_WORKER}]})
    assert task["state"] == "待区审批"
    try:
        with signed_page(browser, live_server, "district1", "/tasks", "body[data-pending-loaded]") as (page, _s, errors):
            assert page.locator("#tk-pending-count").inner_text() != ""
            page.click("#tk-tab-pending")
            row = page.locator(f"#tk-pending tr[data-task='{task['id']}']")
            assert title in row.inner_text() and "townleader1" not in row.inner_text()
            row.locator("button[data-action=refuse]").click()  # without a reason: not sent
            assert "不批准的理由" in page.locator("#tk-msg").inner_text()
            row.locator("button[data-action=approve]").click()
            page.wait_for_selector(f"#tk-detail[data-task='{task['id']}'][data-state='进行中']")
            page.wait_for_selector(f"#tk-pending tr[data-task='{task['id']}']", state="detached")
            assert "已批准" in page.locator("#tk-msg").inner_text()
            assert not errors, errors
        with engine.connect() as conn:
            state, approver = conn.execute(text("SELECT t.state, a.username FROM tasks t JOIN accounts a ON a.id = t.approved_by "
                                                "WHERE t.id = :i"), {"i": task["id"]}).one()
        assert (state, approver) == ("进行中", "district1")
    finally:
        close_tasks(engine, title)


@pytest.mark.parametrize("body", [
    [], "x", {"title": ["a"], "kind": ["general"], "deadline": {"work_days": True}, "assignees": "worker060"},
    {"title": "x", "kind": {"a": 1}, "source": [1], "deadline": {"work_days": 3, "x": 1},
     "assignees": [{"kind": ["worker"]}, {"kind": "village", "code": ["1"]}, {"kind": "department", "code": {"a": 1}},
                   {"kind": "worker", "username": "' OR 1=1 --"}, 7]},
    {"title": "x" * 201, "deadline": "2026-13-40", "assignees": [{"kind": "worker", "username": WORKER, "report_back": "y"}],
     "attachments": [{"sha": 1}], "report_back": "no"},
])
def test_odd_bodies_are_refused_field_by_field(desk, body):
    answer = desk.client.post(URL, json=body, headers=desk.headers("dispatcher1"))
    assert answer.status_code in (400, 422), answer.get_json()
    assert answer.get_json()["message_zh"] and (answer.status_code == 400 or answer.get_json()["errors"])


def test_odd_actions_are_refused(desk, connection):
    task = desk.create("dispatcher1", title="核对门牌", deadline={"work_days": 2}, assignees=assignees(connection)).get_json()
    for body in ({"action": ["close"], "version": task["version"]}, {"action": "close", "version": "1"},
                 {"action": "return", "version": task["version"], "assignee": "all", "note": "x"},
                 {"action": "progress", "version": task["version"], "note": {"a": 1}}):
        answer = desk.post("dispatcher1" if body["action"] != "progress" else WORKER, f"{URL}/{task['id']}/actions", body)
        assert answer.status_code in (403, 409, 422), (body, answer.get_json())
    assert desk.post("dispatcher1", f"{URL}/abc/actions", {"action": "close"}).status_code == 404
    assert desk.get("dispatcher1", f"{URL}/99999999").status_code == 404


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def test_a_task_s_document_may_be_a_pdf_but_a_case_s_photo_may_not(desk, connection):
    def send(kind=None):
        data = {"file": (io.BytesIO(PDF), "杨政发〔2026〕12号.pdf")} | ({"kind": kind} if kind else {})
        return desk.client.post("/api/v1/attachments", data=data, headers=desk.headers("dispatcher1"),
                                content_type="multipart/form-data")

    refused = send()  # as a photo
    assert refused.status_code == 415 and "JPEG" in refused.get_json()["message_zh"]
    kept = send("document")
    assert kept.status_code == 201 and kept.get_json()["mime"] == "application/pdf"
    pdf = kept.get_json()["id"]
    assert desk.client.post("/api/v1/attachments", data={"file": (io.BytesIO(b"PK\x03\x04 a word file"), "a.docx"),
                                                          "kind": "document"},
                            headers=desk.headers("dispatcher1"), content_type="multipart/form-data").status_code == 415
    created = desk.create("dispatcher1", title="防汛文件学习", body="学习区防汛文件", kind="general", deadline={"work_days": 3},
                          attachments=[pdf], assignees=assignees(connection, workers=(WORKER,)))
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["attachments"] == [pdf]
    shown = desk.client.get(f"/api/v1/attachments/{pdf}", headers=desk.headers(WORKER))
    assert shown.status_code == 200 and shown.mimetype == "application/pdf" and shown.data == PDF
    lng, lat = connection.execute(text("""SELECT ST_X(ST_PointOnSurface(g.geom)), ST_Y(ST_PointOnSurface(g.geom))
        FROM accounts a JOIN grids g ON g.code = a.scope_code AND g.valid_to IS NULL WHERE a.username = :u"""),
                                  {"u": WORKER}).one()
    report = desk.post(WORKER, "/api/v1/incidents", {"category": "SR02", "description": "把文件当照片上报",
                                                     "location": {"lng": lng, "lat": lat, "crs": "wgs84"}, "photos": [pdf]})
    assert report.status_code == 422 and [e["field"] for e in report.get_json()["errors"]] == ["photos[0]"]
