"""一月一抽查 (seed 7-2) through the API: the district draws a reproducible sample per worker (the same
when drawn again, another in another month), nobody else may draw it, a fail needs a reason, a stale
version is refused, and a finished check sends its result as notices and, below the threshold, opens
a discipline case at 通报批评."""

from datetime import date, datetime, timedelta

from sqlalchemy import text

from tests.conftest import DEMO_UNTIL, login
from workflow.clock import SHANGHAI

WORKER = "worker066"  # a grid no other test acts in


def _months():
    """This month (not over), and two whole months of the demo town's records."""
    this = datetime.now(SHANGHAI).date().replace(day=1)
    last = (DEMO_UNTIL.date().replace(day=1) - timedelta(days=1)).replace(day=1)
    before = (last - timedelta(days=1)).replace(day=1)
    return f"{this:%Y-%m}", f"{last:%Y-%m}", f"{before:%Y-%m}"


def _person(connection, username):
    return connection.execute(text("SELECT person_id FROM accounts WHERE username = :u"), {"u": username}).scalar()


def _mine(checks, person):
    return next(c for c in checks["items"] if c["worker"]["id"] == person)


def test_only_the_district_draws_and_the_month_must_be_over(client, connection):
    this, last, _ = _months()
    leader = connection.execute(text("SELECT username FROM accounts WHERE role = 'leader' ORDER BY username LIMIT 1")).scalar()
    for who in (WORKER, leader, "dispatcher1", "townleader1"):
        login(client, who)
        answer = client.post("/api/v1/spot-checks", json={"month": last})
        assert answer.status_code == 403, (who, answer.get_json())
        client.post("/auth/logout")
    login(client, "district1")
    assert client.post("/api/v1/spot-checks", json={"month": "2026-13"}).status_code == 400
    assert client.post("/api/v1/spot-checks", json={"month": "last"}).status_code == 400
    current = client.post("/api/v1/spot-checks", json={"month": this})
    assert current.status_code == 422 and "尚未结束" in current.get_json()["message_zh"]
    nxt = f"{date.fromisoformat(this + '-01').year + 1}-01"
    assert client.post("/api/v1/spot-checks", json={"month": nxt}).status_code == 422


def test_the_sample_is_the_same_when_drawn_again_and_changes_with_the_month(client, connection):
    _, last, before = _months()
    login(client, "district1")
    first = client.post("/api/v1/spot-checks", json={"month": last})
    assert first.status_code == 201, first.get_json()
    checks = first.get_json()["items"]
    workers = connection.execute(text("SELECT count(*) FROM accounts WHERE role = 'worker'")).scalar()
    assert len(checks) == workers == len({c["worker"]["id"] for c in checks})
    person = _person(connection, WORKER)
    mine = _mine(first.get_json(), person)
    assert mine["seed"] == f"{last}:{person}" and mine["state"] == "待检查"
    kinds = [i["kind"] for i in mine["items"]]
    assert kinds.count("report") <= 3 and kinds.count("patrol") <= 2 and kinds.count("sign_in") <= 2 and kinds
    again = client.post("/api/v1/spot-checks", json={"month": last}).get_json()["items"]
    assert [(c["id"], [(i["kind"], i["ref_id"]) for i in c["items"]]) for c in again] == \
           [(c["id"], [(i["kind"], i["ref_id"]) for i in c["items"]]) for c in checks]
    # each sampled record is the worker's own, of that month
    month_start = datetime.fromisoformat(last + "-01").replace(tzinfo=SHANGHAI)
    for i in mine["items"]:
        table, column = {"report": ("incidents", "reported_at"), "patrol": ("patrols", "started_at"),
                         "sign_in": ("attendance", "at")}[i["kind"]]
        owner, at = connection.execute(text(f"SELECT worker_id, {column} FROM {table} WHERE id = :i"), {"i": i["ref_id"]}).one()
        assert owner == person and month_start <= at < month_start + timedelta(days=31)
    earlier = client.post("/api/v1/spot-checks", json={"month": before}).get_json()
    other = [c for c in earlier["items"] if c["month"] == before]
    assert {(c["worker"]["id"], i["ref_id"]) for c in other for i in c["items"]}.isdisjoint(
        {(c["worker"]["id"], i["ref_id"]) for c in checks for i in c["items"]})
    # the village's leader reads their village's only; the worker their own
    grid = connection.execute(text("SELECT scope_code FROM accounts WHERE username = :u"), {"u": WORKER}).scalar()
    leader = connection.execute(text("SELECT username FROM accounts WHERE role = 'leader' AND scope_code = :v"),
                                {"v": grid[:12]}).scalar()
    client.post("/auth/logout")
    login(client, leader)
    seen = client.get(f"/api/v1/spot-checks?month={last}").get_json()["items"]
    assert seen and all(c["grid_code"].startswith(grid[:12]) for c in seen) and len(seen) < len(checks)
    client.post("/auth/logout")
    login(client, WORKER)
    own = client.get(f"/api/v1/spot-checks?month={last}&mine=1").get_json()["items"]
    assert [c["worker"]["id"] for c in own] == [person]


def test_results_reasons_versions_notices_and_a_finding(client, connection):
    _, last, _ = _months()
    login(client, "district1")
    person = _person(connection, WORKER)
    check = _mine(client.post("/api/v1/spot-checks", json={"month": last}).get_json(), person)
    url = f"/api/v1/spot-checks/{check['id']}/items"
    no_reason = client.post(f"{url}/1", json={"result": "fail", "reason": " ", "version": check["version"]})
    assert no_reason.status_code == 422 and no_reason.get_json()["errors"][0]["field"] == "reason"
    assert client.post(f"{url}/1", json={"result": "maybe", "version": check["version"]}).status_code == 422
    assert client.post(f"{url}/99", json={"result": "pass", "version": check["version"]}).status_code == 404
    version = check["version"]
    for item in check["items"]:
        answer = client.post(f"{url}/{item['item']}", json={"result": "fail" if item["item"] > 1 else "pass",
                                                             "reason": f"记录不实 {item['item']}", "version": version})
        assert answer.status_code == 200, answer.get_json()
        assert client.post(f"{url}/{item['item']}", json={"result": "pass", "version": version}).status_code == 409
        version = answer.get_json()["version"]
    done = answer.get_json()
    assert done["state"] == "已完成" and done["share_passed"] == round(1 / len(check["items"]), 3)
    client.post("/auth/logout")
    login(client, WORKER)
    notices = client.get("/api/v1/notices").get_json()["items"]
    mine = [n for n in notices if n["ref"] == f"spot_check:{check['id']}"]
    assert mine and "记录不实 2" in mine[0]["body"] and mine[0]["read_at"] is None
    assert client.post(f"/api/v1/notices/{mine[0]['id']}/read").get_json()["read_at"]
    cases = client.get("/api/v1/discipline").get_json()["items"]
    assert [c["step"] for c in cases if c["spot_check_id"] == check["id"]] == ["通报批评"]
    assert any(n["title"] == "通报批评" for n in client.get("/api/v1/notices").get_json()["items"])
    village = connection.execute(text("SELECT count(*) FROM notices WHERE scope_code = :v AND ref = :r"),
                                 {"v": check["village_code"], "r": f"spot_check:{check['id']}"}).scalar()
    assert village == 1


def test_the_district_checker_records_items_in_the_staff_page(browser, live_server, engine):
    from tests.conftest import ARTIFACTS
    from tests.web.desk import hosts, signed_page

    month, worker = "2026-08", "worker068"  # a month and a worker no other test checks
    with engine.connect() as conn:
        person, name = conn.execute(text("SELECT p.id, p.name FROM accounts a JOIN people p ON p.id = a.person_id "
                                         "WHERE a.username = :u"), {"u": worker}).one()
    try:
        with signed_page(browser, live_server, "district1", "/staff?tab=spot", "body[data-spot-loaded]") as (page, seen, errors):
            page.fill("#sp-month", month)
            page.click("#sp-draw:text-is('抽取样本')")
            page.wait_for_selector("#sp-msg:not(:empty)")
            assert page.locator("#sp-msg").inner_text().startswith(f"{month} 已抽取")
            row = page.locator(f"#sp-list tr[data-check]:has(td:text-is('{name}'))").first
            row.locator("button:text-is('逐项检查')").click()
            assert name in page.locator("#sp-detail-title").inner_text()
            first, second = page.locator("#sp-items tr[data-item='1']"), page.locator("#sp-items tr[data-item='2']")
            first.locator("button:text-is('合格')").click()
            page.wait_for_selector("#sp-items tr[data-item='1'][data-result='pass']")
            second.locator("button:text-is('不合格')").click()  # without a reason: refused, nothing saved
            page.wait_for_function("document.querySelector('#sp-msg').innerText.includes('不合格须说明理由')")
            second.locator("input").fill("巡查轨迹与上报位置不符")
            second.locator("button:text-is('不合格')").click()
            page.wait_for_selector("#sp-items tr[data-item='2'][data-result='fail']")
            assert "巡查轨迹与上报位置不符" in page.locator("#sp-items tr[data-item='2']").inner_text()
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "staff-spot.png"), full_page=True)
            with engine.connect() as conn:
                stored = conn.execute(text("""
                    SELECT i.item, i.result, i.reason FROM spot_check_items i JOIN spot_checks c ON c.id = i.spot_check_id
                     WHERE c.month = :m AND c.worker_id = :p AND i.result IS NOT NULL ORDER BY i.item"""),
                                      {"m": f"{month}-01", "p": person}).all()
            assert [tuple(r) for r in stored] == [(1, "pass", None), (2, "fail", "巡查轨迹与上报位置不符")]
            assert hosts(seen) == {"127.0.0.1"}
            assert not errors, errors
    finally:
        with engine.begin() as conn:  # the live server's database is shared by the other tests
            conn.execute(text("DELETE FROM spot_checks WHERE month = :m"), {"m": f"{month}-01"})
