"""Indicators (综合评价, seed 6-1) through HTTP and the command line: exact numbers for cases
driven through known paths, scope, the Excel workbook, bad parameters, and the demo town."""

import io
import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select, text

from db.models import Incident
from db.queries import query
from tests.conftest import JPEG, ROOT, bearer
from tests.web.test_workflow_api import Desk
from webmap.services import accounts, scope, stats
from workflow import indicators
from workflow.clock import SHANGHAI

WANGGE = str(Path(sys.executable).parent / "wangge")
DEMO_YEAR = {"since": "2025-12-01", "until": "2026-11-30"}  # the demo town's year (conftest: until 2026-11-20)


@pytest.fixture
def grid(connection):
    """worker001's grid and a point in it."""
    return connection.execute(text("""
        SELECT g.code, ST_X(ST_PointOnSurface(g.geom)), ST_Y(ST_PointOnSurface(g.geom))
          FROM accounts a JOIN grids g ON g.code = a.scope_code AND g.valid_to IS NULL
         WHERE a.username = 'worker001'""")).one()


@pytest.fixture
def photo(client):
    return client.post("/api/v1/attachments", data={"file": (io.BytesIO(JPEG), "p.jpg")},
                       headers=bearer(client, "worker001"), content_type="multipart/form-data").get_json()["id"]


@pytest.fixture
def cases(client, grid, photo, connection):
    """Four cases in worker001's grid, each through a known path; returns the desk, the grid code
    and a ``since`` just before them (no other case is reported after it in this transaction)."""
    desk = Desk(client)
    since = datetime.now(SHANGHAI) - timedelta(seconds=1)
    code, lng, lat = grid
    # 1. parking, persuaded on the spot (就地处置): closed at once, never filed; residents content (4)
    spot = desk.report("worker001", lng, lat, category="TC01")
    desk.act("worker001", spot, "self_handle", note="劝导后驶离", photos=[photo])
    desk.act("dispatcher1", spot, "return_visit", satisfaction=4, note="基本满意")  # 4 counts as satisfied
    # 2. escalated, filed, dispatched, handled and closed on time; residents satisfied (5)
    good = desk.report("worker001", lng, lat)
    _to_department(desk, good, "huanwei")
    desk.act("dept_huanwei", good, "feedback", note="已清理", photos=[photo])
    desk.act("worker001", good, "verify_pass", photos=[photo])
    desk.act("dispatcher1", good, "return_visit", satisfaction=5, note="满意")
    # 3. reworked once (返工), then closed; residents unhappy (2)
    rework = desk.report("worker001", lng, lat)
    _to_department(desk, rework, "huanwei")
    desk.act("dept_huanwei", rework, "feedback", note="已清理", photos=[photo])
    desk.act("worker001", rework, "verify_fail", note="仍有垃圾")
    desk.act("dept_huanwei", rework, "feedback", note="再次清理", photos=[photo])
    desk.act("worker001", rework, "verify_pass", photos=[photo])
    desk.act("dispatcher1", rework, "return_visit", satisfaction=2, note="不满意")
    # 4. misrouted to the traffic police, returned (回退), re-dispatched; still being handled, and
    # its deadline has passed (set back here: the clock cannot be waited for in a test)
    late = desk.report("worker001", lng, lat)
    desk.act("worker001", late, "escalate", note="上报")
    desk.act("dispatcher1", late, "file")
    desk.act("dispatcher1", late, "dispatch", department="jiaojing")
    desk.act("dept_jiaojing", late, "return", note="不属于交警职责")
    desk.act("dispatcher1", late, "dispatch", department="huanwei")
    desk.act("dept_huanwei", late, "accept")
    connection.execute(text("UPDATE incidents SET deadline = :t WHERE id = :i"),
                       {"t": datetime.now(SHANGHAI) - timedelta(minutes=5), "i": late})
    return desk, code, since


def _to_department(desk, case, department):
    desk.act("worker001", case, "escalate", note="超出村级权限")
    desk.act("dispatcher1", case, "file")
    desk.act("dispatcher1", case, "dispatch", department=department)
    desk.act(f"dept_{department}", case, "accept")


def _get(desk, who, **params):
    r = desk.client.get("/api/v1/stats/indicators", query_string=params, headers=desk.headers(who))
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _numbers(item: dict) -> dict:
    """An indicator row as {key: (value, numerator, denominator)}."""
    return {k: (item[k]["value"], item[k]["numerator"], item[k]["denominator"]) for k in indicators.INDICATOR_KEYS}


def test_exact_indicators_of_known_paths(cases):
    desk, code, since = cases
    body = _get(desk, "dispatcher1", by="grid", since=since.isoformat())
    assert body["by"] == "grid" and [r["key"] for r in body["rows"]] == [code]
    row = body["rows"][0]
    assert row["label"].endswith("网格")
    got = _numbers(row)
    hours = got.pop("handling_hours")
    assert got == {
        "reported": (4, 4, None),
        "filed": (3, 3, None),
        "filed_on_time": (100.0, 3, 3),
        "dispatched": (3, 3, None),
        "handled_on_time": (66.67, 2, 3),  # the late one is past its deadline, not handled
        "overdue": (1, 1, None),
        "closed": (3, 3, None),
        "closed_on_time": (100.0, 3, 3),
        "self_handled": (1, 1, None),
        "rework": (50.0, 1, 2),  # of the two verified cases, one was reworked
        "return": (33.33, 1, 3),
        "verification_pass": (66.67, 2, 3),  # pass, fail, pass
        "satisfaction": (66.67, 2, 3),  # 4, 5 and 2
    }
    assert hours[2] == 3 and 0 <= hours[0] < 0.1  # seconds, from dispatch (or report) to close
    assert _numbers(body["total"]) == _numbers(row)


def test_per_department(cases):
    desk, _code, since = cases
    body = _get(desk, "dispatcher1", by="department", since=since.isoformat())
    rows = {r["key"]: r for r in body["rows"]}
    assert set(rows) == {"huanwei", "jiaojing"}  # TC01 belongs to the traffic police
    huanwei, police = _numbers(rows["huanwei"]), _numbers(rows["jiaojing"])
    assert rows["huanwei"]["label"] == "镇环卫所"
    assert huanwei["reported"][0] == 3 and huanwei["dispatched"][0] == 3 and huanwei["closed"][0] == 2
    assert huanwei["return"] == (33.33, 1, 3) and huanwei["handled_on_time"] == (66.67, 2, 3)
    assert police["reported"][0] == 1 and police["self_handled"][0] == 1
    assert police["return"] == (None, 0, 0) and police["rework"] == (None, 0, 0)  # nothing to divide by


@pytest.mark.parametrize(("who", "by", "sees"), [
    ("worker001", "grid", 4),  # their grid
    ("worker002", "grid", 0),  # another grid
    ("leader01", "village", 4),  # their village
    ("leader02", "village", 0),
    ("dept_huanwei", "department", 3),  # the cases dispatched to them
    ("dept_jiaojing", "department", 0),  # returned: no longer theirs
    ("analyst1", "village", 4),  # the town
    ("townleader1", "village", 4),
    ("district1", "village", 4),
])
def test_scope_of_the_reader(cases, who, by, sees):
    desk, code, since = cases
    body = _get(desk, who, by=by, since=since.isoformat())
    assert body["total"]["reported"]["value"] == sees
    assert sum(r["reported"]["value"] for r in body["rows"]) == sees
    if sees and by == "grid":
        assert [r["key"] for r in body["rows"]] == [code]
    if sees and by == "village":
        assert [r["key"] for r in body["rows"]] == [code[:12]]
    if not sees:
        assert body["rows"] == [] and body["total"]["closed_on_time"]["value"] is None


def test_worker_sees_only_their_grid_in_the_demo_town(client, connection):
    worker = connection.execute(text("SELECT id, scope_code FROM accounts WHERE username = 'worker001'")).one()
    desk = Desk(client)
    body = _get(desk, "worker001", by="grid", **DEMO_YEAR)
    rows = {r["key"]: r for r in body["rows"]}
    assert worker.scope_code in rows
    window = indicators.parse_window("grid", **DEMO_YEAR, now=datetime.now(SHANGHAI))
    # elsewhere only what they reported themselves (other tests' committed reports, if any)
    for key, row in rows.items():
        if key != worker.scope_code:
            own = connection.execute(text(
                "SELECT count(*) FROM incidents WHERE grid_code IS NOT DISTINCT FROM :g AND reporter_id = :w "
                "AND reported_at >= :since AND reported_at < :until"),
                {"g": key, "w": worker.id, "since": window.since, "until": window.until}).scalar()
            assert row["reported"]["value"] == own > 0
    town = _get(desk, "dispatcher1", by="grid", **DEMO_YEAR)
    assert len(town["rows"]) > 10
    mine = next(r for r in town["rows"] if r["key"] == worker.scope_code)
    assert _numbers(mine) == _numbers(rows[worker.scope_code])


@pytest.mark.parametrize("username", ["worker001", "leader01", "dept_huanwei", "dispatcher1", "analyst1",
                                      "district1", "planner1"])
def test_scope_parameters_agree_with_incident_visible(db, username):
    """The statistics query states the scope rule as parameters; it must count exactly the
    incidents :func:`webmap.services.scope.incident_visible` lets this reader see."""
    account_id = db.execute(text("SELECT id FROM accounts WHERE username = :u"), {"u": username}).scalar()
    user = accounts.load_user(db, account_id)
    window = indicators.parse_window("village", DEMO_YEAR["since"], DEMO_YEAR["until"], datetime.now(SHANGHAI))
    expected = db.execute(select(func.count()).select_from(Incident).where(
        scope.incident_visible(user), Incident.reported_at >= window.since,
        Incident.reported_at < window.until)).scalar()
    got = stats.indicators(db, user, window)["total"]["reported"]["value"]
    assert got == expected and expected > 0


def test_query_returns_every_count_the_indicators_need(db):
    window = indicators.parse_window("source", **DEMO_YEAR, now=datetime.now(SHANGHAI))
    row = db.execute(query("stats_indicators"), {
        "by": window.by, "since": window.since, "until": window.until, "now": window.until, "tz": stats.TIMEZONE,
        "filing_days": [], "filing_deadlines": [], **stats.scope_params(stats.WHOLE_DISTRICT),
    }).mappings().first()
    assert set(indicators.COUNT_COLUMNS) <= set(row.keys())


def _sheet_table(sheet):
    """The header row, the data rows and the totals row of a sheet written by the service."""
    rows = list(sheet.iter_rows(values_only=True))
    head = next(i for i, r in enumerate(rows) if r[0] and str(r[0]).endswith("编码"))
    total = next(i for i, r in enumerate(rows) if r[0] == "合计")
    return rows[head], rows[head + 2:total], rows[total], rows[:head]


def test_excel_matches_the_json(cases):
    desk, code, since = cases
    params = {"by": "grid", "since": since.isoformat()}
    body = _get(desk, "dispatcher1", **params)
    r = desk.client.get("/api/v1/stats/indicators.xlsx", query_string=params, headers=desk.headers("dispatcher1"))
    assert r.status_code == 200
    assert r.mimetype == stats.XLSX_MIME
    assert "attachment" in r.headers["Content-Disposition"] and ".xlsx" in r.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(r.data))
    assert book.sheetnames == ["综合评价", "分子分母", "指标说明"]
    header, data, total, heading = _sheet_table(book["综合评价"])
    assert header[:4] == ("网格编码", "网格名称", "上报数", "立案数")
    assert "按期结案率(%)" in header and "满意率(%)" in header
    notes = " ".join(str(c) for r in heading for c in r if c)
    assert body["period"] in notes and "合成演示数据" in notes  # the test database holds the demo town
    assert [row[0] for row in data] == [code]
    for n, spec in enumerate(indicators.INDICATORS, start=2):
        assert total[n] == body["total"][spec.key]["value"], spec.key
    header, data, total, _ = _sheet_table(book["分子分母"])
    rates = [s for s in indicators.INDICATORS if s.denominator]
    for n, spec in enumerate(rates):
        assert total[2 + 2 * n] == body["total"][spec.key]["numerator"], spec.key
        assert total[3 + 2 * n] == body["total"][spec.key]["denominator"], spec.key


@pytest.mark.parametrize(("params", "field"), [
    ({"by": "street"}, "by"),
    ({"by": "grid_code; DROP TABLE incidents"}, "by"),
    ({"since": "2026-13-01"}, "since"),
    ({"since": "2026-01-01'; DROP TABLE incidents; --"}, "since"),
    ({"until": "yesterday"}, "until"),
    ({"since": "2026-06-30", "until": "2026-01-01"}, "until"),
    ({"since": "2020-01-01", "until": "2026-06-30"}, "since"),  # more than 3 years
    ({"since": "1900-01-01", "until": "1900-02-01"}, "since"),
    ({"from": "2026-01-01"}, "from"),  # a typo would silently widen the window
])
@pytest.mark.parametrize("path", ["/api/v1/stats/indicators", "/api/v1/stats/indicators.xlsx"])
def test_bad_parameters_get_400_with_reasons(client, path, params, field):
    r = client.get(path, query_string=params, headers=bearer(client, "dispatcher1"))
    assert r.status_code == 400
    body = r.get_json()
    assert body["errors"][0]["field"] == field and body["errors"][0]["zh"] and body["message_zh"]


def test_every_error_is_named_at_once(client):
    r = client.get("/api/v1/stats/indicators", query_string={"by": "x", "since": "x", "until": "y", "to": "z"},
                   headers=bearer(client, "dispatcher1"))
    assert r.status_code == 400
    assert [e["field"] for e in r.get_json()["errors"]] == ["to", "by", "since", "until"]


def test_sign_in_required(client):
    assert client.get("/api/v1/stats/indicators").status_code == 401
    assert client.get("/api/v1/stats/indicators.xlsx").status_code == 401


def test_demo_town_yields_plausible_values(client):
    desk = Desk(client)
    body = _get(desk, "dispatcher1", by="village", **DEMO_YEAR)
    assert body["synthetic"] is True and len(body["rows"]) >= 10
    for row in body["rows"]:
        assert row["reported"]["value"] > 0
        assert row["closed"]["value"] <= row["reported"]["value"] and row["filed"]["value"] <= row["reported"]["value"]
        for key in ("closed_on_time", "handled_on_time", "filed_on_time"):
            assert row[key]["denominator"] > 0 and 0 <= row[key]["value"] <= 100, (row["label"], key)
        assert 0 < row["handling_hours"]["value"] < 24 * 30
    total = body["total"]
    for spec in indicators.INDICATORS:  # the total is the sum of the groups
        assert total[spec.key]["numerator"] == pytest.approx(sum(r[spec.key]["numerator"] for r in body["rows"]))
    assert 0 < total["closed_on_time"]["value"] < 100 and total["overdue"]["value"] > 0
    months = _get(desk, "dispatcher1", by="month", **DEMO_YEAR)
    assert [r["key"] for r in months["rows"]] == [f"{y}-{m:02d}" for y, m in [(2025, 12)] + [(2026, m) for m in
                                                                                           range(1, 12)]]
    assert months["rows"][0]["label"] == "2025年12月"
    assert months["total"]["reported"] == total["reported"]
    sources = _get(desk, "dispatcher1", by="source", **DEMO_YEAR)
    assert "12345 热线" in {r["label"] for r in sources["rows"]}


def test_cli_exports_the_whole_district(database_url, connection, tmp_path):
    out = tmp_path / "村.xlsx"
    env = {**os.environ, "WANGGE_HOME": str(ROOT), "DATABASE_URL": database_url}
    done = subprocess.run([WANGGE, "stats", "export", "--by", "village", "--since", "2026-01-01", "--until",
                           "2026-06-30", "-o", str(out)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "合成演示数据" in done.stdout
    _header, data, total, heading = _sheet_table(openpyxl.load_workbook(out)["综合评价"])
    assert "2026-01-01 至 2026-06-30" in " ".join(str(c) for r in heading for c in r if c)
    reported = connection.execute(text(
        "SELECT count(*) FROM incidents WHERE reported_at >= '2026-01-01T00:00+08:00' "
        "AND reported_at < '2026-07-01T00:00+08:00'")).scalar()
    assert total[2] == reported == sum(row[2] for row in data) and reported > 0
    bad = subprocess.run([WANGGE, "stats", "export", "--since", "2026-02-30", "-o", str(tmp_path / "x.xlsx")],
                         capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 2 and "since" in bad.stderr and not (tmp_path / "x.xlsx").exists()


def test_work_calendar_reads_the_holiday_table(db):
    """Administrators correct the calendar for years the package does not know yet (2030 here):
    the filing limit of the statistics follows their table."""
    tuesday, saturday = date(2030, 10, 8), date(2030, 10, 12)
    calendar = stats.work_calendar(db)
    assert calendar.is_workday(tuesday) and not calendar.is_workday(saturday)
    db.execute(text("INSERT INTO holidays (day, kind, note) VALUES (:h, 'holiday', '测试'), (:w, 'workday', '调休')"),
               {"h": tuesday, "w": saturday})
    calendar = stats.work_calendar(db)
    assert not calendar.is_workday(tuesday) and calendar.is_workday(saturday)
