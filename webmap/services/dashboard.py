"""The dashboard's figures (统计看板, seed 6-1) within the reader's scope: tiles for the period, the
previous period (环比) and the same period a year earlier (同比), the rows per grid, village,
category, department, worker and source, and the trend; each with the query string of the
dispatcher console's case list (``GET /api/v1/incidents``) that shows the cases behind it.

The counting is one named query (``db/sql/stats_dashboard.sql``); the figures and their rules are
data in :mod:`workflow.indicators` (``DASHBOARD``, ``HOTLINE``); the scope is
:func:`webmap.services.stats.scope_params`, the same as the indicators'.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlencode

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Account, Area, Category, Department, Grid, Person
from db.queries import query
from workflow import indicators as ind
from workflow import roles
from workflow.clock import SHANGHAI, format_iso

from .errors import FieldError, InvalidParametersError
from .incidents import SOURCE_LABELS
from .stats import TIMEZONE, heading, is_synthetic, saved, scope_params, write_notes, write_table

PARAMS = {"since", "until", "village", "category", "lang"}
WORKERS = 20  # the workers ranked: at most this many


def parse_window(args, now: datetime) -> tuple[ind.Window, str | None, str | None]:
    """The window and the filters of ``GET /api/v1/stats/dashboard``; the same dates as the
    indicators' (default the last 12 months, at most 3 years); 400 with every problem."""
    errors = [FieldError(name, "不支持的参数", "unknown parameter") for name in sorted(set(args) - PARAMS)]
    window = None
    try:
        window = ind.parse_window("month", args.get("since"), args.get("until"), now)
    except ind.ParamError as exc:
        errors += [FieldError(e["field"], e["zh"], e["en"]) for e in exc.errors]
    if errors:
        raise InvalidParametersError(errors, lead=("统计参数有误", "bad statistics parameters"))
    return window, (args.get("village") or None), (args.get("category") or None)


def _day_or_moment(moment: datetime, until: bool) -> str:
    """A list filter's date: a whole day as ``YYYY-MM-DD`` (``until``: the last day, inclusive)."""
    local = moment.astimezone(SHANGHAI)
    if local.hour == local.minute == local.second == local.microsecond == 0:
        return (local - timedelta(days=1) if until else local).date().isoformat()
    return format_iso(local)


def cases_query(since: datetime, until: datetime, states=(), **filters) -> str:
    """The console's list filter for the cases reported in [since, until) with these filters."""
    params = {"since": _day_or_moment(since, False), "until": _day_or_moment(until, True)}
    if states:
        params["state"] = ",".join(states)
    params.update({k: v for k, v in filters.items() if v})
    return urlencode(params, safe=",:")


def _tiles(counts: dict, hotline: dict, since, until, filters: dict) -> dict:
    tiles = ind.evaluate_figures(counts)
    tiles["hotline"] = ind.evaluate_figures(hotline, ind.HOTLINE)
    tiles["cases"] = {f.key: cases_query(since, until, f.states, **filters) for f in ind.DASHBOARD}
    return tiles


def dashboard(db: Session, user, window: ind.Window, village: str | None = None,
              category: str | None = None, *, now: datetime | None = None) -> dict:
    """Every figure of the dashboard for the cases ``user`` may see (see the module's docstring)."""
    now = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI)
    others = ind.comparison_windows(window.since, window.until)
    windows = [(window.since, window.until), others["previous"], others["last_year"]]
    unit = ind.trend_unit(window.since, window.until)
    params = {"unit": unit, "tz": TIMEZONE, "village": village, "category": category, **scope_params(user)}
    for n, (since, until) in enumerate(windows):
        params.update({f"s{n}": since, f"u{n}": until, f"a{n}": min(until, now)})
    rows = db.execute(query("stats_dashboard"), params).mappings().all()

    tiles = {n: {} for n in range(3)}
    hotline = {n: {} for n in range(3)}
    groups: dict[str, list] = {}
    for row in rows:
        if row["kind"] == "tiles":
            tiles[row["w"]] = row
        elif row["kind"] == "hotline":
            hotline[row["w"]] = row
        elif row["w"] == 0:
            groups.setdefault(row["kind"], []).append(row)
    filters = {"village": village, "category": category}
    names = _names(db, groups)

    def row_of(row, kind):
        return {**ind.evaluate_figures(row), "cases": cases_query(
            window.since, window.until, **{**filters, kind: row["key"]})}

    by_grid = [{"code": r["key"], "name": names["grid"].get(r["key"], (r["key"], None))[0],
                "village": names["grid"].get(r["key"], (None, None))[1],
                **_pick(row_of(r, "grid"), "reported", "closed", "overdue", "closed_on_time_rate", "cases")}
               for r in groups.get("grid", [])]
    by_village = [{"code": r["key"], "name": names["village"].get(r["key"], r["key"]),
                   **_pick(row_of(r, "village"), "reported", "closed", "overdue", "closed_on_time_rate", "cases")}
                  for r in groups.get("village", [])]
    trend = {}
    for kind, measure in (("reported_at", "reported"), ("closed_at", "closed")):
        for r in groups.get(kind, []):
            trend.setdefault(r["key"], {"at": r["key"], "reported": 0, "closed": 0})[measure] = int(r[measure])
    categories = sorted(({"code": r["key"], "name": names["category"].get(r["key"], r["key"]),
                          "reported": int(r["reported"]),
                          "cases": cases_query(window.since, window.until, **{**filters, "category": r["key"]})}
                         for r in groups.get("category", []) if r["reported"]),
                        key=lambda c: (-c["reported"], c["code"]))
    departments = sorted(({"code": names["department"].get(r["key"], (r["key"], r["key"]))[0],
                           "name": names["department"].get(r["key"], (r["key"], r["key"]))[1],
                           "dispatched": int(r["dispatched"]),
                           **_pick(ind.evaluate_figures(r), "closed", "closed_on_time_rate")}
                          for r in groups.get("department", []) if r["dispatched"] or r["closed"]),
                         key=lambda d: (d["closed_on_time_rate"] is None, -(d["closed_on_time_rate"] or 0),
                                        -d["dispatched"], d["code"]))
    workers = sorted(({**names["worker"].get(r["key"], {"username": None, "name": None, "grid": None}),
                       "reported": int(r["reported"]), "closed": int(r["closed"])}
                      for r in groups.get("worker", []) if r["reported"] or r["closed"]),
                     key=lambda x: (-x["reported"], -x["closed"], x["username"] or ""))[:WORKERS]
    sources = sorted(({"source": r["key"], "label": SOURCE_LABELS.get(r["key"], r["key"]),
                       "reported": int(r["reported"]),
                       "cases": cases_query(window.since, window.until, **{**filters, "source": r["key"]})}
                      for r in groups.get("source", []) if r["reported"]),
                     key=lambda s: (-s["reported"], s["source"]))
    role_zh, role_en = roles.labels(user.role)

    def period(since, until):
        return {"since": format_iso(since), "until": format_iso(until),
                "label": ind.Window("month", since, until).period}

    return {
        "period": period(window.since, window.until),
        "previous_period": period(*others["previous"]),
        "last_year_period": period(*others["last_year"]),
        "timezone": TIMEZONE,
        "generated_at": format_iso(now),
        "synthetic": is_synthetic(db),
        "filters": filters,
        "scope": {"role": user.role, "role_label": {"zh": role_zh, "en": role_en},
                  "code": user.scope_code or None, "department_id": user.department_id},
        "tiles": _tiles(tiles[0], hotline[0], window.since, window.until, filters),
        "previous": _tiles(tiles[1], hotline[1], *others["previous"], filters),
        "last_year": _tiles(tiles[2], hotline[2], *others["last_year"], filters),
        "by_grid": by_grid,
        "by_village": by_village,
        "trend": {"unit": unit, "points": [trend[k] for k in sorted(trend)]},
        "categories": categories,
        "departments": departments,
        "workers": workers,
        "sources": sources,
        "definitions": [{"key": f.key, "zh": f.zh, "en": f.en, "unit": f.unit, "definition_zh": f.definition_zh,
                         "definition_en": f.definition_en} for f in (*ind.DASHBOARD, *ind.HOTLINE)],
    }


def _pick(d: dict, *keys) -> dict:
    return {k: d[k] for k in keys}


def _names(db: Session, groups: dict) -> dict:
    """Labels of the keys that came back, one small query per kind present."""
    out: dict = {"grid": {}, "village": {}, "category": {}, "department": {}, "worker": {}}
    keys = {k: [r["key"] for r in groups.get(k, [])] for k in out}
    if keys["grid"]:
        out["grid"] = {c: (n, v) for c, n, v in db.execute(
            select(Grid.code, Grid.name, Area.code).join(Area, Area.id == Grid.village_id, isouter=True)
            .where(Grid.code.in_(keys["grid"]), Grid.valid_to.is_(None)))}
    if keys["village"]:
        out["village"] = dict(db.execute(select(Area.code, Area.name).where(Area.code.in_(keys["village"]))).all())
    if keys["category"]:
        out["category"] = {c: f"{k} · {n}" for c, k, n in db.execute(
            select(Category.code, Category.class_name, Category.name).where(Category.code.in_(keys["category"])))}
    if keys["department"]:
        out["department"] = {str(i): (c, n) for i, c, n in db.execute(
            select(Department.id, Department.code, Department.name)
            .where(Department.id.in_([int(k) for k in keys["department"]])))}
    if keys["worker"]:
        out["worker"] = {str(p): {"username": u, "name": n, "grid": g} for p, u, n, g in db.execute(
            select(Person.id, Account.username, Person.name, Account.scope_code)
            .join(Account, Account.person_id == Person.id, isouter=True)
            .where(Person.id.in_([int(k) for k in keys["worker"]])))}
    return out


def _ratio(value):
    return None if value is None else round(value * 100, 2)


def workbook(report: dict) -> bytes:
    """The dashboard of :func:`dashboard` as an .xlsx (``GET /api/v1/stats/dashboard.xlsx``): the tiles
    beside the previous period and the same period a year earlier, then one sheet per table of the
    page (grids, villages, trend, categories, departments, workers, sources) and the definitions.
    Rates are in percent."""
    book = Workbook()
    head = {**report, "period": report["period"]["label"]}
    figures = [(f, None) for f in ind.DASHBOARD] + [(f, "hotline") for f in ind.HOTLINE]

    def tile(which: str, fig, group):
        value = (report[which]["hotline"] if group else report[which])[fig.key]
        return _ratio(value) if fig.unit == "rate" else value

    def sheet(title: str, heading_text: str, headers: list[tuple[str, str]], rows: list[list], formats: list):
        ws = book.active if book.active.title == "Sheet" else book.create_sheet(title)
        ws.title = title
        start = heading(ws, head, heading_text)
        write_table(ws, start, [h[0] for h in headers], [h[1] for h in headers], rows, [], formats)
        return ws

    def name_of(fig, group):
        suffix = "(%)" if fig.unit == "rate" else ""
        return ("12345 " if group else "") + fig.zh + suffix, ("12345 " if group else "") + fig.en

    sheet("指标", f"统计看板 dashboard: 本期 {report['period']['label']} · 上期 {report['previous_period']['label']}"
                  f" · 去年同期 {report['last_year_period']['label']}",
          [("指标", "figure"), ("English", "English"), ("本期", "this period"), ("上期(环比)", "previous"),
           ("去年同期(同比)", "a year earlier")],
          [[*name_of(f, g), tile("tiles", f, g), tile("previous", f, g), tile("last_year", f, g)] for f, g in figures],
          [None, None, "0.00", "0.00", "0.00"])
    rate = ("按期结案率(%)", "closed on time %")
    sheet("网格", "按网格 by grid", [("网格编码", "grid code"), ("网格名称", "grid name"), ("村/社区", "village"),
                                     ("上报数", "reported"), ("结案数", "closed"), ("超期数", "overdue"), rate],
          [[r["code"], r["name"], r["village"], r["reported"], r["closed"], r["overdue"],
            _ratio(r["closed_on_time_rate"])] for r in report["by_grid"]], [None, None, None, "0", "0", "0", "0.00"])
    sheet("村社区", "按村/社区 by village", [("村/社区编码", "village code"), ("村/社区", "village"),
                                          ("上报数", "reported"), ("结案数", "closed"), ("超期数", "overdue"), rate],
          [[r["code"], r["name"], r["reported"], r["closed"], r["overdue"], _ratio(r["closed_on_time_rate"])]
           for r in report["by_village"]], [None, None, "0", "0", "0", "0.00"])
    sheet("趋势", f"趋势 trend (按{report['trend']['unit']})", [("时间", "at"), ("—", "—"), ("上报数", "reported"),
                                                            ("结案数", "closed")],
          [[p["at"], "", p["reported"], p["closed"]] for p in report["trend"]["points"]], [None, None, "0", "0"])
    sheet("类别", "类别排行 categories ranked", [("类别编码", "category code"), ("类别", "category"),
                                            ("上报数", "reported")],
          [[c["code"], c["name"], c["reported"]] for c in report["categories"]], [None, None, "0"])
    sheet("部门", "部门按期结案率排行 departments ranked by on-time closing",
          [("部门编码", "department code"), ("部门", "department"), ("派遣数", "dispatched"), ("结案数", "closed"), rate],
          [[d["code"], d["name"], d["dispatched"], d["closed"], _ratio(d["closed_on_time_rate"])]
           for d in report["departments"]], [None, None, "0", "0", "0.00"])
    sheet("网格员", "网格员排行 workers ranked", [("账号", "username"), ("姓名", "name"), ("网格", "grid"),
                                            ("上报数", "reported"), ("结案数", "closed")],
          [[w["username"], w["name"], w["grid"], w["reported"], w["closed"]] for w in report["workers"]],
          [None, None, None, "0", "0"])
    sheet("来源", "来源 sources", [("来源", "source"), ("来源名称", "source label"), ("上报数", "reported")],
          [[s["source"], s["label"], s["reported"]] for s in report["sources"]], [None, None, "0"])
    write_notes(book.create_sheet("指标说明"), head,
                [(d["zh"], d["en"], d["unit"], d["definition_zh"], d["definition_en"]) for d in report["definitions"]])
    return saved(book, f"统计看板 {report['period']['label']}")


def workbook_name(report: dict) -> str:
    """An ASCII file name: ``dashboard_20261201_20261231.xlsx``."""
    since = datetime.fromisoformat(report["period"]["since"])
    until = datetime.fromisoformat(report["period"]["until"]) - timedelta(microseconds=1)
    return f"dashboard_{since:%Y%m%d}_{until:%Y%m%d}.xlsx"
