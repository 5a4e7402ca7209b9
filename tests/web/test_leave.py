"""Leave of the grid workers (请假/销假, seed 7-2) through the API: working days on the town's clock,
the village's leader approving up to 3 of them (and not another village's leader), the town's centre
the longer ones, a stale version refused, cancel and 销假 by the worker alone."""

from datetime import date, datetime, timedelta

import chinese_calendar
import pytest
from sqlalchemy import text

from tests.conftest import login
from webmap.services.leave import working_days
from workflow.clock import SHANGHAI, WorkCalendar

WORKER = "worker058"  # a grid no other test acts in


@pytest.fixture
def people(connection):
    grid = connection.execute(text("SELECT scope_code FROM accounts WHERE username = :u"), {"u": WORKER}).scalar()
    leader = connection.execute(text("SELECT username FROM accounts WHERE role = 'leader' AND scope_code = :v"),
                                {"v": grid[:12]}).scalar()
    other = connection.execute(text("SELECT username FROM accounts WHERE role = 'leader' AND scope_code <> :v "
                                    "ORDER BY username LIMIT 1"), {"v": grid[:12]}).scalar()
    return {"grid": grid, "leader": leader, "other_leader": other}


def _workdays_from(start: date, n: int) -> tuple[date, date]:
    """The first working day from ``start`` and the day on which ``n`` working days are complete."""
    calendar = WorkCalendar()
    day = start
    while not calendar.is_workday(day):
        day += timedelta(days=1)
    first, count, end = day, 0, day
    while count < n:
        if calendar.is_workday(end):
            count += 1
        if count < n:
            end += timedelta(days=1)
    return first, end


def _ask(client, start, end, kind="事假", reason="家中有事"):
    return client.post("/api/v1/leave", json={"start": start.isoformat(), "end": end.isoformat(), "kind": kind,
                                              "reason": reason})


def _act(client, leave, action, **extra):
    return client.post(f"/api/v1/leave/{leave['id']}/actions", json={"action": action, "version": leave["version"], **extra})


def test_a_short_leave_is_the_village_leaders_and_filed_with_the_town(client, people):
    today = datetime.now(SHANGHAI).date()
    start, end = _workdays_from(today + timedelta(days=14), 2)
    login(client, WORKER)
    asked = _ask(client, start, end)
    assert asked.status_code == 201, asked.get_json()
    leave = asked.get_json()
    assert (leave["days"], leave["approver_role"], leave["state"]) == (2, "leader", "待审批")
    client.post("/auth/logout")
    login(client, people["other_leader"])  # another village's leader does not even see it
    assert _act(client, leave, "approve").status_code == 404
    client.post("/auth/logout")
    login(client, "dispatcher1")  # the town sees it (filed), and may not skip the leader
    town = client.get("/api/v1/leave").get_json()
    assert leave["id"] in [i["id"] for i in town["items"]] and leave["id"] not in town["awaiting_me"]
    assert _act(client, leave, "approve").status_code == 403
    client.post("/auth/logout")
    login(client, people["leader"])
    assert leave["id"] in client.get("/api/v1/leave").get_json()["awaiting_me"]
    approved = _act(client, leave, "approve")
    assert approved.status_code == 200 and approved.get_json()["state"] == "已批准"
    assert _act(client, leave, "approve").status_code == 409  # the version it was read at is gone
    client.post("/auth/logout")
    login(client, WORKER)
    cancelled = _act(client, approved.get_json(), "cancel")  # before it starts, the worker may cancel it
    assert cancelled.status_code == 200 and cancelled.get_json()["state"] == "已撤销"


def test_a_long_leave_is_the_towns_to_approve(client, people):
    today = datetime.now(SHANGHAI).date()
    start, end = _workdays_from(today + timedelta(days=21), 5)
    login(client, WORKER)
    leave = _ask(client, start, end, kind="年假", reason="年休假").get_json()
    assert (leave["days"], leave["approver_role"]) == (5, "town")
    client.post("/auth/logout")
    login(client, people["leader"])
    refused = _act(client, leave, "approve")
    assert refused.status_code == 403 and "镇综治中心" in refused.get_json()["message_zh"]
    client.post("/auth/logout")
    login(client, "dispatcher1")
    assert _act(client, leave, "refuse").status_code == 422  # a refusal says why
    assert _act(client, leave, "approve").get_json()["state"] == "已批准"


def test_an_approved_leave_that_began_is_reported_back_and_an_unclosed_one_shows(client, people):
    today = datetime.now(SHANGHAI).date()
    start, end = _workdays_from(today - timedelta(days=6), 1)
    if start > today:
        pytest.skip("no working day in the last week")
    login(client, WORKER)
    leave = _ask(client, start, end, kind="病假", reason="感冒发烧").get_json()
    client.post("/auth/logout")
    login(client, people["leader"])
    leave = _act(client, leave, "approve").get_json()
    assert leave["back_overdue"] is (end < today)  # ended and not reported back: it shows
    client.post("/auth/logout")
    login(client, people["leader"])
    assert _act(client, leave, "report_back").status_code == 403  # the worker's own step
    client.post("/auth/logout")
    login(client, WORKER)
    back = _act(client, leave, "report_back").get_json()
    assert back["state"] == "已销假" and back["back_at"] and not back["back_overdue"]


@pytest.mark.parametrize(("body", "field"), [
    ({"start": "2026-13-01"}, "start"), ({"kind": "旅游假"}, "kind"), ({"reason": " "}, "reason"),
    ({"swap": True}, "end"),
])
def test_bad_requests_are_refused_with_reasons(client, body, field):
    today = datetime.now(SHANGHAI).date()
    start, end = _workdays_from(today + timedelta(days=30), 1)
    if body.pop("swap", False):
        body = {"start": (end + timedelta(days=2)).isoformat(), "end": end.isoformat()}
    login(client, WORKER)
    answer = client.post("/api/v1/leave", json={"start": start.isoformat(), "end": end.isoformat(), "kind": "事假",
                                                "reason": "有事", **body})
    assert answer.status_code == 422 and answer.get_json()["errors"][0]["field"] == field, answer.get_json()
    client.post("/auth/logout")
    login(client, "dispatcher1")
    assert client.post("/api/v1/leave", json={"start": start.isoformat(), "end": end.isoformat(), "kind": "事假",
                                              "reason": "有事"}).status_code == 403  # workers ask for leave


def test_a_leave_across_national_day_counts_working_days_only():
    start, end = date(2026, 9, 28), date(2026, 10, 9)
    expected = sum(chinese_calendar.is_workday(start + timedelta(days=k)) for k in range((end - start).days + 1))
    assert working_days(WorkCalendar(), start, end) == expected
    assert expected < 8  # twelve days, the holiday and its weekend among them


def test_a_worker_asks_on_the_phone_and_the_leader_approves_on_the_phone(browser, live_server, engine):
    from tests.web.desk import hosts, phone, signed_in, watch

    with engine.connect() as conn:
        grid = conn.execute(text("SELECT scope_code FROM accounts WHERE username = 'worker059'")).scalar()
        leader = conn.execute(text("SELECT username FROM accounts WHERE role = 'leader' AND scope_code = :v"),
                              {"v": grid[:12]}).scalar()
    start, end = _workdays_from(datetime.now(SHANGHAI).date() + timedelta(days=40), 2)
    with phone(browser) as page:
        seen, errors = watch(page)
        signed_in(page, live_server, "worker059", "/m/cases")
        page.click("#menu-toggle")
        page.click("nav#menu a:text-is('请假')")
        page.wait_for_selector("body[data-leaves]", state="attached")
        page.fill("#lv-form input[name=start]", start.isoformat())
        page.fill("#lv-form input[name=end]", end.isoformat())
        page.select_option("#lv-form select[name=kind]", "事假")
        page.click("#lv-form button[type=submit]")  # no reason: refused
        page.wait_for_selector("#lv-form .error:not(:empty)")
        assert "请假事由" in page.locator("#lv-form .error").inner_text()
        page.fill("#lv-form textarea[name=reason]", "孩子开家长会")
        page.click("#lv-form button[type=submit]")
        page.wait_for_selector("#lv-msg:not(:empty)")
        assert "2 个工作日" in page.locator("#lv-msg").inner_text() and "网格长审批" in page.locator("#lv-msg").inner_text()
        assert hosts(seen) == {"127.0.0.1"} and not errors, errors
    with phone(browser) as page:
        seen, errors = watch(page)
        signed_in(page, live_server, leader, "/m/cases")
        page.goto(f"{live_server}/m/leave")
        item = page.locator("#lv-list li", has_text="孩子开家长会")
        item.wait_for()
        item.locator("button[data-action=approve]").click()
        page.wait_for_selector("#lv-act-msg:not(:empty)")
        assert "已批准" in page.locator("#lv-act-msg").inner_text()
        assert hosts(seen) == {"127.0.0.1"} and not errors, errors
    with phone(browser) as page:  # the worker sees it approved, and cancels it (it has not begun)
        signed_in(page, live_server, "worker059", "/m/cases")
        page.goto(f"{live_server}/m/leave")
        item = page.locator("#lv-list li", has_text="孩子开家长会")
        item.wait_for()
        assert "已批准" in item.inner_text()
        item.locator("button[data-action=cancel]").click()
        page.wait_for_function("document.querySelector('#lv-list').innerText.includes('已撤销')")
