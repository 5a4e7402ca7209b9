"""The patrol reports (日走访、周分析、月汇总, seed 5-1) against data made here: GPX patrols through
the API (one flagged and unreviewed, one rejected on review), sign-ins and cases reported by the
worker. The JSON numbers agree with the patrols' own metrics; the workbooks open with openpyxl and
carry the same numbers under Chinese headers; a village leader sees only the village."""

from __future__ import annotations

import io
import uuid
from datetime import date, datetime, time, timedelta
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook
from shapely import wkb
from sqlalchemy import text

from tests.conftest import bearer, gpx, report, sql, upload, walk
from webmap.services import accounts, attendance
from workflow.clock import SHANGHAI

DAY = date(2026, 6, 9)  # a Tuesday
WEEK = date(2026, 6, 8)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), SHANGHAI)


@pytest.fixture
def data(client, connection, db):
    """worker001's June: two patrols on DAY, a flagged one the day after, a rejected one the day
    after that, one in May; two key places; 13 hours of sign-ins; two cases reported."""
    code, geom = sql(connection, """
        SELECT g.code, ST_AsBinary(g.geom) FROM accounts a JOIN grids g ON g.code = a.scope_code
         WHERE a.username = 'worker001' AND g.valid_to IS NULL""")[0]
    geom = wkb.loads(bytes(geom))
    worker, town = bearer(client, "worker001"), bearer(client, "dispatcher1")
    (lng, lat), points_a = walk(geom, at(DAY, 9), seconds=1800, seed=11)
    vertex = (geom.exterior if geom.geom_type == "Polygon" else geom.geoms[0].exterior).coords[0]
    for name, (x, y) in (("幼儿园", (float(lng[len(lng) // 2]), float(lat[len(lat) // 2]))), ("加油站", vertex)):
        assert client.post(f"/api/v1/grids/{code}/checkpoints", headers=town,
                           json={"name": name, "lng": x, "lat": y, "radius_m": 30}).status_code == 201
    _t, points_b = walk(geom, at(DAY, 14), seconds=1200, seed=12)
    _t, points_c = walk(geom, at(DAY + timedelta(days=1), 9), seconds=1200, seed=13)
    t, x, y = points_c[len(points_c) // 2]
    points_c[len(points_c) // 2] = (t, x + 0.04, y)  # a teleport: flagged "jump"
    _t, points_d = walk(geom, at(DAY + timedelta(days=2), 9), seconds=900, seed=14)
    _t, points_may = walk(geom, at(date(2026, 5, 12), 9), seconds=900, seed=15)
    patrols = {}
    for key, points in (("a", points_a), ("b", points_b), ("c", points_c), ("d", points_d), ("may", points_may)):
        response = upload(client, worker, gpx(points))
        assert response.status_code == 201, response.get_json()
        patrols[key] = response.get_json()
    assert "jump" in {f["code"] for f in patrols["c"]["flags"]}
    assert client.post(f"/api/v1/patrols/{patrols['d']['id']}/review", headers=town,
                       json={"verdict": "rejected", "note": "代走"}).get_json()["review"] == "rejected"

    user = accounts.load_user(db, sql(connection, "SELECT id FROM accounts WHERE username = 'worker001'")[0][0])
    inside = (float(lng[0]), float(lat[0]))
    for kind, moment in (("in", at(DAY, 8)), ("out", at(DAY, 17)), ("in", at(DAY + timedelta(days=1), 8)),
                         ("out", at(DAY + timedelta(days=1), 12))):
        attendance.sign(db, user, {"kind": kind, "lng": inside[0], "lat": inside[1], "at": moment.isoformat(),
                                   "client_id": str(uuid.uuid4())}, now=moment)
    for moment in (at(DAY, 10), at(DAY + timedelta(days=1), 10)):
        response = client.post("/api/v1/incidents", json=report(*inside), headers=worker)
        assert response.status_code == 201, response.get_json()
        connection.execute(text("UPDATE incidents SET reported_at = :t WHERE id = :i"),
                           {"t": moment, "i": response.get_json()["id"]})
    village = code[:12]
    leader = sql(connection, "SELECT username FROM accounts WHERE role = 'leader' AND scope_code = :v "
                             "ORDER BY username LIMIT 1", v=village)[0][0]
    return {"code": code, "village": village, "patrols": patrols, "leader": bearer(client, leader),
            "town": town, "worker": worker}


def get(client, headers, kind, **query):
    response = client.get(f"/api/v1/patrols/reports/{kind}", headers=headers, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response


def row_of(body, username="worker001"):
    return next(w for w in body["workers"] if w["worker"] == username)


def sheet_rows(response, sheet=None):
    """The title, the headers and the rows (header → value) of a sheet of the workbook."""
    book = load_workbook(io.BytesIO(response.data))
    ws = book[sheet] if sheet else book.worksheets[0]
    headers = [c.value for c in ws[4]]
    rows = [dict(zip(headers, (c.value for c in r), strict=True)) for r in ws.iter_rows(min_row=5)]
    return ws["A1"].value, headers, rows


def km(*patrols):
    return sum(p["distance_m"] for p in patrols) / 1000


def hours(*patrols):
    return sum(p["moving_s"] for p in patrols) / 3600


def test_the_daily_report(client, data):
    a, b = data["patrols"]["a"], data["patrols"]["b"]
    body = get(client, data["leader"], "daily", date=DAY.isoformat()).get_json()
    assert body["report"] == "daily" and body["date"] == "2026-06-09" and body["title"] == "日走访报表"
    me = row_of(body)
    assert me["patrols"] == 2 and me["rejected"] == 0 and me["grid_code"] == data["code"]
    assert me["distance_km"] == pytest.approx(km(a, b), abs=0.001)
    assert me["moving_hours"] == pytest.approx(hours(a, b), abs=0.01)
    assert me["best_coverage"] == pytest.approx(max(a["coverage"], b["coverage"]), abs=1e-4)
    visited = set(a["checkpoints"]["visited"]) | set(b["checkpoints"]["visited"])
    assert "幼儿园" in visited
    assert me["places_visited"] == len(visited) and me["places_required"] == 2
    assert set(me["missed_places"]) == {"幼儿园", "加油站"} - visited
    codes = {f["code"] for p in (a, b) for f in p["flags"]}
    assert me["flags"] == sum(len(p["flags"]) for p in (a, b)) and set(me["flag_codes"]) == codes
    assert me["cases"] == 1 and me["signed_in"] is True and me["attendance_hours"] == 9.0
    others = [w for w in body["workers"] if w["worker"] != "worker001"]
    assert others and all(w["patrols"] == 0 and w["signed_in"] is False and w["cases"] == 0 for w in others)
    assert body["totals"]["patrols"] == 2 and body["totals"]["signed_in"] == 1 and body["totals"]["cases"] == 1

    xlsx = get(client, data["leader"], "daily", date=DAY.isoformat(), format="xlsx")
    assert xlsx.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    disposition = xlsx.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f'filename="patrols_daily_2026-06-09_{data["village"]}.xlsx"' not in disposition  # no village asked
    assert 'filename="patrols_daily_2026-06-09_all.xlsx"' in disposition
    assert unquote(disposition.split("filename*=UTF-8''")[1]).startswith("日走访报表_2026-06-09_")
    title, headers, rows = sheet_rows(xlsx)
    assert "日走访报表" in title and "2026-06-09" in title and body["scope_name"] in title
    for header in ("网格员", "账号", "巡查次数", "里程(公里)", "移动时长(小时)", "最高覆盖率", "到访重点场所",
                   "应到重点场所", "异常标记数", "上报案件", "是否签到"):
        assert header in headers
    mine = next(r for r in rows if r["账号"] == "worker001")
    assert mine["巡查次数"] == 2 and mine["上报案件"] == 1 and mine["是否签到"] == "是"
    assert mine["里程(公里)"] == me["distance_km"] and mine["最高覆盖率"] == me["best_coverage"]
    assert isinstance(mine["移动时长(小时)"], float)
    assert rows[-1]["网格员"] == "合计" and rows[-1]["巡查次数"] == 2


def test_the_weekly_report(client, connection, data):
    a, b, c, d = (data["patrols"][k] for k in "abcd")
    body = get(client, data["leader"], "weekly", week=WEEK.isoformat()).get_json()
    assert (body["week_start"], body["week_end"]) == ("2026-06-08", "2026-06-14")
    me = row_of(body)
    assert me["patrols"] == 3 and me["days_patrolled"] == 2 and me["rejected"] == 1  # d rejected: excluded
    assert me["distance_km"] == pytest.approx(km(a, b, c), abs=0.001)
    assert me["distance_km"] < km(a, b, c, d) - 0.1
    assert me["moving_hours"] == pytest.approx(hours(a, b, c), abs=0.01)
    assert me["mean_coverage"] == pytest.approx((a["coverage"] + b["coverage"] + c["coverage"]) / 3, abs=1e-4)
    day1 = set(a["checkpoints"]["visited"]) | set(b["checkpoints"]["visited"])
    day2 = set(c["checkpoints"]["visited"])
    assert me["place_visit_rate"] == pytest.approx((len(day1) + len(day2)) / 4, abs=1e-4)
    assert me["flagged"] >= 1 and me["unreviewed_flagged"] >= 1  # c: counted, marked
    assert me["attendance_hours"] == 13.0 and me["below_rule"] is True and me["cases"] == 2
    assert me["missing_days"] == ["2026-06-08", "2026-06-11", "2026-06-12"]  # signed in on the 9th and 10th
    village = next(v for v in body["villages"] if v["village_code"] == data["village"])
    assert village["patrols"] == 3 and village["distance_km"] == pytest.approx(me["distance_km"], abs=0.002)
    assert village["workers"] == len(body["workers"]) and village["below_rule"] == len(body["workers"])
    codes = {f["code"] for f in body["findings"]}
    assert {"below_rule", "no_patrol", "unreviewed_flags"} <= codes
    below = next(f for f in body["findings"] if f["code"] == "below_rule")
    assert me["worker_name"] in below["zh"] and "40 小时" in below["zh"]
    never = {"幼儿园", "加油站"} - day1 - day2
    if never:
        assert any(f["code"] == "places_never_visited" and all(p in f["zh"] for p in never) for f in body["findings"])

    xlsx = get(client, data["leader"], "weekly", week=WEEK.isoformat(), village=data["village"], format="xlsx")
    assert f'filename="patrols_weekly_2026-06-08_{data["village"]}.xlsx"' in xlsx.headers["Content-Disposition"]
    title, headers, rows = sheet_rows(xlsx, "周分析")
    assert title.startswith("周分析报表") and "2026-06-08" in title
    assert {"巡查天数", "平均覆盖率", "重点场所到访率", "签到在岗(小时)", "不足40小时", "审核不通过"} <= set(headers)
    mine = next(r for r in rows if r["账号"] == "worker001")
    assert mine["巡查天数"] == 2 and mine["巡查次数"] == 3 and mine["审核不通过"] == 1
    assert mine["签到在岗(小时)"] == 13.0 and mine["不足40小时"] == "是"
    assert mine["平均覆盖率"] == me["mean_coverage"]
    _t, village_headers, village_rows = sheet_rows(xlsx, "村汇总")
    assert "村名称" in village_headers and village_rows[0]["巡查次数"] == 3
    findings = load_workbook(io.BytesIO(xlsx.data))["发现"]
    assert any(cell.value and "40 小时" in str(cell.value) for cell in findings["A"])


def test_the_monthly_report(client, data):
    a, b, c, may = (data["patrols"][k] for k in ("a", "b", "c", "may"))
    body = get(client, data["town"], "monthly", month="2026-06", village=data["village"]).get_json()
    assert body["month"] == "2026-06" and body["previous_month"] == "2026-05" and body["working_days"] > 15
    me = row_of(body)
    assert me["patrols"] == 3 and me["previous"]["patrols"] == 1 and me["change"]["patrols"] == 2
    assert me["distance_km"] == pytest.approx(km(a, b, c), abs=0.001)
    assert me["previous"]["distance_km"] == pytest.approx(km(may), abs=0.001)
    assert me["change"]["distance_km"] == pytest.approx(km(a, b, c) - km(may), abs=0.002)
    assert me["avg_distance_km"] == pytest.approx(km(a, b, c) / 2, abs=0.001)  # per day patrolled
    assert me["attendance_hours"] == 13.0 and me["previous"]["attendance_hours"] == 0
    assert me["cases"] == 2 and me["rejected"] == 1
    [village] = body["villages"]
    assert village["village_code"] == data["village"] and village["patrols"] == 3
    assert village["previous"]["patrols"] == 1 and village["change"]["patrols"] == 2
    assert village["avg_distance_km"] == pytest.approx(village["distance_km"] / village["workers"], abs=0.001)

    xlsx = get(client, data["town"], "monthly", month="2026-06", village=data["village"], format="xlsx")
    title, headers, rows = sheet_rows(xlsx, "网格员")
    assert title.startswith("月汇总报表 2026-06") and body["scope_name"] in title
    assert {"上月巡查次数", "巡查次数环比", "日均里程(公里)", "签到在岗(小时)"} <= set(headers)
    mine = next(r for r in rows if r["账号"] == "worker001")
    assert mine["巡查次数"] == 3 and mine["上月巡查次数"] == 1 and mine["巡查次数环比"] == 2
    assert mine["里程(公里)"] == me["distance_km"]
    _t, _h, village_rows = sheet_rows(xlsx, "村汇总")
    assert village_rows[0]["村编码"] == data["village"] and village_rows[0]["人均里程(公里)"] == village["avg_distance_km"]


def test_a_village_leader_sees_only_the_village(client, connection, data):
    village = data["village"]
    for kind, query in (("daily", {"date": DAY.isoformat()}), ("weekly", {"week": WEEK.isoformat()}),
                        ("monthly", {"month": "2026-06"})):
        mine = get(client, data["leader"], kind, **query).get_json()
        assert mine["workers"] and all(w["grid_code"].startswith(village) for w in mine["workers"])
        town = get(client, data["town"], kind, **query).get_json()
        assert len(town["workers"]) > len(mine["workers"])
        assert {w["village_code"] for w in town["workers"]} > {village}
        other = sql(connection, "SELECT code FROM areas WHERE level = 'village' AND code <> :v LIMIT 1", v=village)[0][0]
        response = client.get(f"/api/v1/patrols/reports/{kind}", headers=data["leader"],
                              query_string={**query, "village": other})
        assert response.status_code == 403
        own = get(client, data["worker"], kind, **query).get_json()
        assert [w["worker"] for w in own["workers"]] == ["worker001"]
    department = sql(connection, "SELECT username FROM accounts WHERE role = 'department' LIMIT 1")[0][0]
    assert client.get("/api/v1/patrols/reports/daily", headers=bearer(client, department)).status_code == 403


@pytest.mark.parametrize(("kind", "query"), [
    ("daily", {"date": "June 9"}), ("weekly", {"week": "2026-06-09"}), ("monthly", {"month": "2026-13"}),
    ("monthly", {"month": "2026-6"}), ("daily", {"format": "pdf"}), ("daily", {"village": "abc"}),
    ("weekly", {"limit": "5"}),
])
def test_bad_parameters_are_400(client, kind, query):
    response = client.get(f"/api/v1/patrols/reports/{kind}", headers=bearer(client, "dispatcher1"),
                          query_string=query)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["errors"][0]["field"] in query
