"""督办 through HTTP and the deadline job: the supervision list (scope, order, bounds, filters), the
editable working-day table (editing, bad input, New Year 2027), and `wangge jobs run` (events
once, a concurrent human action wins, the lock, live notifications)."""

import json
import os
import select
import subprocess
import sys
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import ROOT, bearer
from webmap import supervision
from webmap.services import overdue as overdue_job
from webmap.services import workdays
from workflow.clock import DEFAULT_CALENDAR, SHANGHAI

WANGGE = str(Path(sys.executable).parent / "wangge")
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI)  # a Wednesday


def at(*args):
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    """Each test's edits are rolled back: drop what the process cached of them."""
    workdays.invalidate_calendar()
    yield
    workdays.invalidate_calendar()


def make_case(
    conn,
    *,
    who="worker001",
    category="SR01",
    state="立案派遣",
    department="huanwei",
    start=None,
    deadline=None,
    dispatched=True,
    tier="town",
    version=1,
) -> int:
    """A case in ``who``'s grid, its clock started at ``start`` (dispatch, or report)."""
    limit, unit = conn.execute(
        text("SELECT time_limit, time_unit FROM categories WHERE code = :c"), {"c": category}
    ).one()
    deadline = deadline or DEFAULT_CALENDAR.add(start, limit, unit)
    return conn.execute(
        text("""
        INSERT INTO incidents (case_no, geom, raw_lng, raw_lat, source, category_id, grid_id,
                               grid_code, village_code, department_id, state, reported_at,
                               deadline, dispatched_at, tier, version)
        SELECT :case_no, ST_PointOnSurface(g.geom), ST_X(ST_PointOnSurface(g.geom)),
               ST_Y(ST_PointOnSurface(g.geom)), 'grid_worker', c.id, g.id, g.code,
               substr(g.code, 1, 12), d.id, :state, :reported, :deadline, :dispatched, :tier,
               :version
          FROM accounts a
          JOIN grids g ON g.code = a.scope_code AND g.valid_to IS NULL
          CROSS JOIN categories c
          CROSS JOIN departments d
         WHERE a.username = :who AND c.code = :category AND d.code = :department
        RETURNING id"""),
        {
            "case_no": f"T{uuid.uuid4().hex[:20]}",
            "state": state,
            "who": who,
            "category": category,
            "department": department,
            "deadline": deadline,
            "tier": tier,
            "version": version,
            "reported": start - timedelta(hours=1) if dispatched else start,
            "dispatched": start if dispatched else None,
        },
    ).scalar_one()


class Desk:
    def __init__(self, client):
        self.client, self.tokens = client, {}

    def headers(self, who):
        if who not in self.tokens:
            self.tokens[who] = bearer(self.client, who)
        return self.tokens[who]

    def get(self, who, url, **params):
        return self.client.get(url, headers=self.headers(who), query_string=params)

    def listing(self, who, **params):
        """Every item of the supervision list, page by page."""
        items, offset = [], 0
        while True:
            r = self.get(who, "/api/v1/supervision", limit=500, offset=offset, **params)
            assert r.status_code == 200, r.get_json()
            body = r.get_json()
            items += body["items"]
            offset += len(body["items"])
            if not body["items"] or offset >= body["total"]:
                assert len(items) == body["total"]
                return items, body


@pytest.fixture
def desk(client):
    return Desk(client)


@pytest.fixture
def now(monkeypatch):
    """The moment the supervision list is read at (settable)."""
    moment = {"value": NOW}
    monkeypatch.setattr(supervision, "_now", lambda: moment["value"])
    return moment


@pytest.fixture
def other_village_worker(connection):
    return connection.execute(
        text("""
        SELECT w.username FROM accounts w, accounts l
         WHERE l.username = 'leader01' AND w.role = 'worker'
           AND w.scope_code NOT LIKE l.scope_code || '%'
         ORDER BY w.username LIMIT 1""")
    ).scalar_one()


@pytest.fixture
def cases(connection, other_village_worker):
    """At NOW: one red and one yellow case of 镇环卫所 in worker001's grid, a normal one, a red
    one of the traffic police, a red one in another village, and red ones the clock no longer
    runs for."""
    return {
        # 4 working hours from Monday 09:00 → 14:30; at NOW 12 working hours overdue
        "red": make_case(connection, start=at(2026, 11, 30, 9, 0)),
        # Tuesday 16:00 + 4 working hours → Wednesday 11:00; at NOW 3 of 4 h used: yellow
        "yellow": make_case(connection, start=at(2026, 12, 1, 16, 0), state="处理中"),
        "normal": make_case(connection, category="SR03", start=at(2026, 12, 2, 9, 0)),
        "police": make_case(
            connection, category="TC02", department="jiaojing", start=at(2026, 11, 30, 9, 0)
        ),
        "elsewhere": make_case(connection, who=other_village_worker, start=at(2026, 11, 30, 9, 0)),
        "reported": make_case(
            connection,
            state="待受理",
            dispatched=False,
            tier="village",
            start=at(2026, 11, 30, 9, 0),
        ),
        "verifying": make_case(connection, state="待核查", start=at(2026, 11, 30, 9, 0)),
        "parked": make_case(connection, state="挂账", start=at(2026, 11, 30, 9, 0)),
    }


# ---------------------------------------------------------------- the supervision list


def test_list_is_red_then_yellow_most_urgent_first(desk, cases, now):
    items, body = desk.listing("dispatcher1")
    by_id = {i["id"]: i for i in items}
    assert len(by_id) == len(items)  # no case twice across pages
    statuses = [i["status"] for i in items]
    assert statuses == sorted(statuses, key=["red", "yellow"].index)
    assert [i["deadline"] for i in items] == sorted(i["deadline"] for i in items)
    assert body["counts"] == {"red": statuses.count("red"), "yellow": statuses.count("yellow")}
    assert body["now"] == NOW.isoformat()

    red, yellow = by_id[cases["red"]], by_id[cases["yellow"]]
    assert red["status"] == "red" and red["status_label"] == {"zh": "超期", "en": "overdue"}
    assert red["overdue_by"] == {"hours": 12.0, "wall_hours": 43.5} and red["remaining_hours"] == 0
    assert red["deadline"] == "2026-11-30T14:30:00+08:00" and red["clock"] == "work"
    assert red["category"]["code"] == "SR01" and red["department"]["code"] == "huanwei"
    assert red["grid"]["code"] and red["state"] == "立案派遣" and red["case_no"]
    assert yellow["status"] == "yellow" and yellow["overdue_by"] is None
    assert yellow["used_share"] == 0.75 and yellow["remaining_hours"] == 1.0
    assert (
        by_id[cases["reported"]]["clock_started_at"] == "2026-11-30T09:00:00+08:00"
    )  # not dispatched
    for absent in ("normal", "verifying", "parked"):
        assert cases[absent] not in by_id, absent
    assert {cases["police"], cases["elsewhere"]} <= set(by_id)


def test_scope_leader_department_and_district(desk, cases, now):
    leader, _ = desk.listing("leader01")
    village = leader[0]["village_code"]
    assert all(i["grid"]["code"].startswith(village) for i in leader)
    assert {cases["red"], cases["police"], cases["reported"]} <= {i["id"] for i in leader}
    assert cases["elsewhere"] not in {i["id"] for i in leader}

    huanwei, _ = desk.listing("dept_huanwei")
    assert {i["department"]["code"] for i in huanwei} == {"huanwei"}
    assert cases["red"] in {i["id"] for i in huanwei} and cases["police"] not in {
        i["id"] for i in huanwei
    }
    assert cases["reported"] not in {i["id"] for i in huanwei}  # not dispatched: not theirs yet

    dispatcher = desk.get("dispatcher1", "/api/v1/supervision").get_json()
    district = desk.get("district1", "/api/v1/supervision").get_json()
    assert district["total"] >= dispatcher["total"] >= len(leader) + 1
    assert desk.get("townleader1", "/api/v1/supervision").status_code == 200
    assert desk.get("admin", "/api/v1/supervision").status_code == 200
    for role in ("worker001", "analyst1", "planner1"):
        refused = desk.get(role, "/api/v1/supervision")
        assert refused.status_code == 403 and refused.get_json()["message_zh"]
    anonymous = desk.client.application.test_client()  # API logins also set a cookie on desk.client
    assert anonymous.get("/api/v1/supervision").status_code == 401


def test_filters_and_bounds(desk, cases, now):
    reds, _ = desk.listing("dispatcher1", status="red")
    assert reds and {i["status"] for i in reds} == {"red"}
    yellows, _ = desk.listing("dispatcher1", status="yellow")
    assert {i["status"] for i in yellows} == {"yellow"} and cases["yellow"] in {
        i["id"] for i in yellows
    }
    both, _ = desk.listing("dispatcher1", status="yellow,red")
    assert len(both) == len(reds) + len(yellows)
    police, _ = desk.listing("dispatcher1", department="jiaojing")
    assert {i["department"]["code"] for i in police} == {"jiaojing"} and cases["police"] in {
        i["id"] for i in police
    }

    first = desk.get("dispatcher1", "/api/v1/supervision", limit=3).get_json()
    second = desk.get("dispatcher1", "/api/v1/supervision", limit=3, offset=3).get_json()
    assert [i["id"] for i in first["items"] + second["items"]] == [i["id"] for i in both[:6]]
    assert desk.get("dispatcher1", "/api/v1/supervision", limit=100000).get_json()["limit"] == 500
    beyond = desk.get("dispatcher1", "/api/v1/supervision", offset=10**6).get_json()
    assert beyond["items"] == [] and beyond["total"] == len(both)
    # the page that straddles the last red and the first yellow
    straddle = desk.get(
        "dispatcher1", "/api/v1/supervision", limit=2, offset=len(reds) - 1
    ).get_json()
    assert [i["status"] for i in straddle["items"]] == ["red", "yellow"]

    for params, status, field in (
        ({"limit": 0}, 400, "limit"),
        ({"offset": -1}, 400, "offset"),
        ({"limit": "x"}, 400, "limit"),
        ({"status": "green"}, 422, "status"),
        ({"department": "nope"}, 422, "department"),
    ):
        r = desk.get("dispatcher1", "/api/v1/supervision", **params)
        assert r.status_code == status, params
        body = r.get_json()
        assert body.get("param") == field or body["errors"][0]["field"] == field


def test_a_weekend_does_not_make_a_case_due_soon(desk, connection, now):
    # Friday 15:00 + 4 working hours → Monday 10:00
    case = make_case(connection, start=at(2026, 11, 27, 15, 0))
    now["value"] = at(2026, 11, 30, 7, 0)  # 95 % of the wall time gone, 62.5 % of the working time
    assert case not in {i["id"] for i in desk.listing("dispatcher1", status="yellow")[0]}
    now["value"] = at(2026, 11, 30, 9, 30)
    found = [i for i in desk.listing("dispatcher1", status="yellow")[0] if i["id"] == case]
    assert found and found[0]["remaining_hours"] == 0.5


# ---------------------------------------------------------------- the working-day table


def test_holiday_editing_and_new_year_2027(desk, connection, db, now):
    start = at(2026, 12, 31, 16, 0)
    fallback = workdays.load_calendar(db)
    assert fallback.add(start, 4, "work_hours") == at(2027, 1, 4, 11, 0)  # weekends and 1 January

    h = desk.headers("dispatcher1")
    put = desk.client.put(
        "/api/v1/supervision/holidays/2027-01-04",
        headers=h,
        json={"kind": "holiday", "note": "元旦(示例)"},
    )
    assert put.status_code == 201, put.get_json()
    assert put.get_json() == {
        "day": "2027-01-04",
        "weekday": 1,
        "kind": "holiday",
        "note": "元旦(示例)",
        "kind_label": {"zh": "休息日(放假)", "en": "holiday"},
        "redundant": False,
    }
    again = desk.client.put(
        "/api/v1/supervision/holidays/2027-01-04",
        headers=desk.headers("admin"),
        json={"kind": "休", "note": "元旦"},
    )
    assert again.status_code == 200 and again.get_json()["note"] == "元旦"
    listed = desk.get("worker001", "/api/v1/supervision/holidays", year=2027).get_json()["items"]
    assert [(i["day"], i["kind"]) for i in listed] == [("2027-01-04", "holiday")]

    table = workdays.load_calendar(db)
    assert table.add(start, 4, "work_hours") == at(2027, 1, 5, 11, 0)
    assert table.add(start, 1, "work_days") == at(2027, 1, 5, 17, 30)
    case = make_case(connection, start=start, deadline=table.add(start, 4, "work_hours"))
    now["value"] = at(2027, 1, 5, 9, 0)  # with the table: 2 of 4 working hours used
    assert case not in {i["id"] for i in desk.listing("dispatcher1")[0]}

    assert (
        desk.client.delete("/api/v1/supervision/holidays/2027-01-04", headers=h).status_code == 204
    )
    assert (
        desk.client.delete("/api/v1/supervision/holidays/2027-01-04", headers=h).status_code == 404
    )
    # without the entry 4 January counts again: 9.5 of 11.5 working hours used by 5 January 09:00
    found = [i for i in desk.listing("dispatcher1")[0] if i["id"] == case]
    assert found and found[0]["status"] == "yellow"
    assert workdays.load_calendar(db).add(start, 4, "work_hours") == at(2027, 1, 4, 11, 0)


def test_a_published_schedule_replaces_a_year_all_or_nothing(desk, connection):
    h = desk.headers("admin")
    url = "/api/v1/supervision/holidays"
    assert (
        desk.client.put(f"{url}/2027-03-01", headers=h, json={"kind": "holiday"}).status_code == 201
    )
    bad = desk.client.put(
        url,
        headers=h,
        json={
            "year": 2027,
            "items": [
                {"day": "2027-02-06", "kind": "workday"},
                {"day": "2027-02-08", "kind": "vacation"},
                {"day": "2027-02-31", "kind": "holiday"},
                {"day": "2028-01-03", "kind": "holiday"},
                {"day": "2027-02-06", "kind": "workday"},
                "2027-02-09",
            ],
        },
    )
    assert bad.status_code == 422
    assert [e["field"] for e in bad.get_json()["errors"]] == [
        "items[1].kind",
        "items[2].day",
        "items[3].day",
        "items[4].day",
        "items[5]",
    ]
    days = connection.execute(text("SELECT day::text FROM holidays ORDER BY day")).scalars().all()
    assert days == ["2027-03-01"]  # nothing saved, nothing removed

    good = desk.client.put(
        url,
        headers=h,
        json={
            "year": 2027,
            "items": [
                {"day": "2027-02-06", "kind": "workday", "note": "春节调休上班"},
                {"day": "2027-02-08", "kind": "holiday", "note": "春节"},
                {"day": "2027-02-07", "kind": "holiday", "note": "本来就是周日"},
            ],
        },
    )
    assert good.status_code == 200, good.get_json()
    body = good.get_json()
    assert (body["saved"], body["created"], body["removed"]) == (3, 3, 1)  # 1 March is gone
    assert [i["redundant"] for i in body["items"]] == [
        False,
        True,
        True,
    ]  # a Sunday made a holiday, and 初三 (8 Feb), a holiday by the rules already (provisionally)
    days = connection.execute(text("SELECT day::text, kind FROM holidays ORDER BY day")).all()
    assert days == [("2027-02-06", "workday"), ("2027-02-07", "holiday"), ("2027-02-08", "holiday")]


@pytest.mark.parametrize(
    ("who", "url", "body", "status", "field"),
    [
        ("dispatcher1", "/holidays/2027-02-30", {"kind": "holiday"}, 422, "day"),
        ("dispatcher1", "/holidays/20270104", {"kind": "holiday"}, 422, "day"),
        ("dispatcher1", "/holidays/2027-01-04", {"kind": "vacation"}, 422, "kind"),
        ("dispatcher1", "/holidays/2027-01-04", {}, 422, "kind"),
        (
            "dispatcher1",
            "/holidays/2027-01-04",
            {"kind": "holiday", "note": "长" * 101},
            422,
            "note",
        ),
        ("dispatcher1", "/holidays/2027-01-04", {"kind": "holiday", "note": 5}, 422, "note"),
        (
            "dispatcher1",
            "/holidays/2027-01-04",
            {"kind": "holiday", "day": "2027-01-05"},
            422,
            "day",
        ),
        ("dispatcher1", "/holidays/2027-01-04", ["holiday"], 422, "body"),
        ("dispatcher1", "/holidays/2027-01-04", None, 400, "body"),
        ("dispatcher1", "/holidays", {"items": "2027-01-04"}, 422, "items"),
        ("dispatcher1", "/holidays", {"year": "20x7", "items": []}, 422, "year"),
        ("worker001", "/holidays/2027-01-04", {"kind": "holiday"}, 403, None),
        ("leader01", "/holidays/2027-01-04", {"kind": "holiday"}, 403, None),
        ("dept_huanwei", "/holidays", {"items": []}, 403, None),
    ],
)
def test_bad_holiday_edits_get_reasons(desk, connection, who, url, body, status, field):
    kwargs = (
        {"json": body}
        if body is not None
        else {"data": "{not json", "content_type": "application/json"}
    )
    r = desk.client.put(f"/api/v1/supervision{url}", headers=desk.headers(who), **kwargs)
    assert r.status_code == status, r.get_json()
    answer = r.get_json()
    assert answer["message_zh"] and answer["message_en"]
    if status == 422:
        assert answer["errors"][0]["field"] == field and answer["errors"][0]["zh"]
    assert connection.execute(text("SELECT count(*) FROM holidays")).scalar() == 0
    assert (
        desk.client.delete(
            "/api/v1/supervision/holidays/2027-01-04", headers=desk.headers("worker001")
        ).status_code
        == 403
    )
    assert desk.get("dispatcher1", "/api/v1/supervision/holidays", year="x").status_code == 422


# ---------------------------------------------------------------- the job


def _events(conn, incident_id, action=None):
    return conn.execute(
        text("""
        SELECT action, role, actor_id, from_state, to_state, note, data FROM case_events
         WHERE incident_id = :i AND (CAST(:a AS text) IS NULL OR action = :a) ORDER BY id"""),
        {"i": incident_id, "a": action},
    ).all()


def _state(conn, incident_id):
    return tuple(
        conn.execute(
            text("SELECT state, version FROM incidents WHERE id = :i"), {"i": incident_id}
        ).one()
    )


def test_job_marks_overdue_once_and_supervises(db, connection, cases):
    first = overdue_job.run_overdue_job(db, now=NOW)
    assert (
        first["ran"]
        and first["overdue_marked"] >= 5
        and first["supervised"] >= 2
        and first["conflicts"] == 0
    )
    overdue = _events(connection, cases["red"], "overdue")
    assert len(overdue) == 1
    action, role, actor, from_state, to_state, note, data = overdue[0]
    assert (role, actor, from_state, to_state, note) == (
        "system",
        None,
        "立案派遣",
        "立案派遣",
        "超期",
    )
    assert (
        datetime.fromisoformat(data["deadline"]) == at(2026, 11, 30, 14, 30)
        and data["overdue_hours"] == 12.0
    )
    assert _state(connection, cases["red"]) == ("督办", 2)
    supervised = _events(connection, cases["red"], "auto_supervise")
    assert [(e.from_state, e.to_state, e.role) for e in supervised] == [
        ("立案派遣", "督办", "system")
    ]
    # 待受理 is marked but not escalated; the village's own 处理中 is not the town's to press
    assert len(_events(connection, cases["reported"], "overdue")) == 1
    assert _state(connection, cases["reported"]) == ("待受理", 1)
    for quiet in ("yellow", "normal", "verifying", "parked"):
        assert _events(connection, cases[quiet]) == [], quiet

    second = overdue_job.run_overdue_job(db, now=NOW + timedelta(minutes=5))
    assert (second["overdue_marked"], second["supervised"], second["conflicts"]) == (0, 0, 0)
    assert second["last_run"] == NOW.isoformat()
    assert len(_events(connection, cases["red"])) == 2

    # the town grants more time, and the new deadline passes too: one more mark, for it
    connection.execute(
        text("UPDATE incidents SET deadline = :d WHERE id = :i"),
        {"d": at(2026, 12, 2, 9, 0), "i": cases["red"]},
    )
    third = overdue_job.run_overdue_job(db, now=NOW)
    assert third["overdue_marked"] == 1 and third["supervised"] == 0  # already 督办
    assert len(_events(connection, cases["red"], "overdue")) == 2


def test_job_respects_a_concurrent_human_action(db, connection, cases, monkeypatch):
    original = overdue_job._job_candidates

    def read_then_someone_acts(session, now):
        rows = original(session, now)
        # the department accepts the case between the job's read and its write
        session.execute(
            text("UPDATE incidents SET state = '处理中', version = version + 1 WHERE id = :i"),
            {"i": cases["red"]},
        )
        return rows

    monkeypatch.setattr(overdue_job, "_job_candidates", read_then_someone_acts)
    first = overdue_job.run_overdue_job(db, now=NOW)
    assert first["conflicts"] == 1
    assert _state(connection, cases["red"]) == ("处理中", 2)  # the person's action stands
    assert _events(connection, cases["red"], "auto_supervise") == []
    assert len(_events(connection, cases["red"], "overdue")) == 1  # the fact is recorded anyway

    monkeypatch.setattr(overdue_job, "_job_candidates", original)
    retry = overdue_job.run_overdue_job(db, now=NOW + timedelta(minutes=5))
    assert retry["supervised"] == 1 and retry["overdue_marked"] == 0
    assert _state(connection, cases["red"]) == ("督办", 3)
    assert [e.from_state for e in _events(connection, cases["red"], "auto_supervise")] == ["处理中"]


def test_a_second_run_at_the_same_time_does_nothing(db, engine, connection, cases):
    holder = engine.connect()
    try:
        holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": overdue_job.JOB_LOCK_KEY})
        skipped = overdue_job.run_overdue_job(db, now=NOW)
        assert skipped["locked"] and not skipped["ran"]
        assert _events(connection, cases["red"]) == []
    finally:
        holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": overdue_job.JOB_LOCK_KEY})
        holder.close()
    assert overdue_job.run_overdue_job(db, now=NOW)["ran"]


def test_dry_run_writes_nothing(db, connection, cases):
    dry = overdue_job.run_overdue_job(db, now=NOW, dry_run=True)
    assert dry["overdue_marked"] >= 5 and dry["supervised"] >= 2
    assert _events(connection, cases["red"]) == [] and _state(connection, cases["red"]) == (
        "立案派遣",
        1,
    )


# ---------------------------------------------------------------- the command line, for real


def _run(*args, url):
    env = {**os.environ, "WANGGE_HOME": str(ROOT), "DATABASE_URL": url}
    return subprocess.run(
        [WANGGE, "jobs", *args], capture_output=True, text=True, env=env, timeout=300
    )


@pytest.fixture(scope="module")
def jobs_url(demo_database):
    """A database of its own: the command commits."""
    return demo_database("jobs", incidents=300, seed=7)


def _listener(url):
    u = make_url(url)
    conn = psycopg2.connect(
        host=u.host, port=u.port, user=u.username, password=u.password, dbname=u.database
    )
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("LISTEN wangge_incidents")
    return conn


def _drain(conn, timeout=2.0) -> list[dict]:
    messages = []
    while select.select([conn], [], [], timeout) != ([], [], []):
        conn.poll()
        while conn.notifies:
            messages.append(json.loads(conn.notifies.pop(0).payload))
        timeout = 0.3
    return messages


def test_job_command_runs_twice_and_notifies_live_maps(jobs_url):
    from webmap.services.scope import event_visible

    listener = _listener(jobs_url)
    try:
        out = _run("run", "--now", "2026-12-02T10:00:00+08:00", url=jobs_url)
        assert out.returncode == 0, out.stderr
        summary = json.loads(out.stdout.strip().splitlines()[-1])
        assert summary["ran"] and summary["overdue_marked"] > 0 and summary["supervised"] > 0
        messages = _drain(listener)
        assert len(messages) == summary["overdue_marked"] + summary["supervised"]
        assert {m["event"] for m in messages} == {"overdue", "auto_supervise"}
        escalated = next(m for m in messages if m["event"] == "auto_supervise")
        assert (
            escalated["state"] == "督办"
            and escalated["status"] == "red"
            and escalated["dispatched"]
        )

        class Department:  # the department it was dispatched to sees it on its live map
            is_authenticated, role, scope_code, id = True, "department", "120116", 0
            department_id = escalated["department_id"]

        assert event_visible(Department(), escalated)

        again = _run("run", "--now", "2026-12-02T10:05:00", url=jobs_url)  # naive: Asia/Shanghai
        assert again.returncode == 0, again.stderr
        second = json.loads(again.stdout.strip().splitlines()[-1])
        assert (second["overdue_marked"], second["supervised"]) == (0, 0)
        assert second["last_run"] == "2026-12-02T10:00:00+08:00"
        assert _drain(listener, timeout=0.5) == []
    finally:
        listener.close()
    engine = create_engine(jobs_url)
    with engine.connect() as conn:
        twice = conn.execute(
            text("""SELECT count(*) FROM (SELECT incident_id, data->>'deadline' FROM case_events
                                           WHERE action = 'overdue' GROUP BY 1, 2
                                          HAVING count(*) > 1) d""")
        ).scalar()
        marked = conn.execute(
            text("SELECT count(*) FROM case_events WHERE action = 'overdue'")
        ).scalar()
    engine.dispose()
    assert twice == 0 and marked == summary["overdue_marked"]

    bad = _run("run", "--now", "next tuesday", url=jobs_url)
    assert bad.returncode == 2 and "--now" in bad.stderr
    helped = _run("run", "--help", url=jobs_url)
    assert (
        "crontab" in helped.stdout and "systemctl enable --now wangge-jobs.timer" in helped.stdout
    )


def test_holidays_import_command(jobs_url, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "day,kind,note\n2027-02-06,workday,调休\n2027-02-30,holiday,\n2027-02-08,假期,\n",
        encoding="utf-8",
    )
    refused = _run("holidays-import", str(bad), url=jobs_url)
    assert refused.returncode == 1
    assert "第 3 行 day" in refused.stderr and "第 4 行 kind" in refused.stderr
    unreadable = _run("holidays-import", str(tmp_path / "none.csv"), url=jobs_url)
    assert unreadable.returncode == 2

    good = tmp_path / "2027.csv"
    good.write_text(
        "\ufeff日期,类型,备注\n2027-02-06,班,春节调休上班\n2027-02-08,休,春节\n", encoding="utf-8"
    )
    out = _run("holidays-import", str(good), url=jobs_url)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {
        "rows": 2,
        "saved": 2,
        "created": 2,
        "errors": 0,
        "dry_run": False,
    }
    again = _run("holidays-import", str(good), url=jobs_url)
    assert json.loads(again.stdout)["created"] == 0
    engine = create_engine(jobs_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT day::text, kind, note FROM holidays ORDER BY day")).all()
    engine.dispose()
    assert rows == [("2027-02-06", "workday", "春节调休上班"), ("2027-02-08", "holiday", "春节")]
