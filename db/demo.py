"""Load the synthetic demo town into PostGIS: areas, grids, people, accounts, categories, a year of
incidents with hotspots and seasonality, 12345 orders, two weeks of sign-ins and a week of patrol
tracks. One transaction, COPY for bulk.

The year before ``until`` is history, closed (or void, a few parked). The last weeks are a town's
backlog: open cases in every state of ``workflow/cases.py``, placed backwards from ``until`` on the
working-day clock so that most are on time, some due soon and a few overdue (and supervised); and
every account that may act holds a few cases or orders it may act on now (see :func:`_forced`).
Each event names the account of the person who took it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
import shapely
from sqlalchemy import Engine, text
from werkzeug.security import generate_password_hash

from db import demo_town as T
from spatial.routing import locate_points
from workflow import cases as C
from workflow import hotline as H
from workflow.clock import DEFAULT_CALENDAR, SHANGHAI, WORK_DAY

DEFAULT_INCIDENTS = 20_000
CHUNK = 50_000
SOURCES = np.array(["grid_worker", "resident", "hotline_12345", "patrol"])
SOURCE_P = np.array([0.70, 0.10, 0.15, 0.05])


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    scope: str
    name: str


class DemoExistsError(RuntimeError):
    """The database already holds data; reloading would replace it."""


def has_data(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(conn.execute(text("SELECT EXISTS (SELECT 1 FROM areas)")).scalar())


# ---------------------------------------------------------------- small COPY helper


def _copy(cur, table: str, columns: tuple[str, ...], rows) -> int:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    count = 0
    for row in rows:
        writer.writerow(["\\N" if v is None else v for v in row])
        count += 1
    buf.seek(0)
    cur.copy_expert(
        f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buf
    )
    return count


def _hex(geoms) -> np.ndarray:
    return shapely.to_wkb(shapely.set_srid(np.asarray(geoms, dtype=object), 4326), hex=True, include_srid=True)


# ---------------------------------------------------------------- incidents


def _points(rng, town: T.Town, n: int, outline_local) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n incident positions (local metres) and which hotspot made each (-1: background)."""
    weights = np.array([h.weight for h in town.hotspots])
    comp = rng.choice(len(weights) + 1, size=n, p=np.append(weights, 1 - weights.sum()))
    comp = np.where(comp == len(weights), -1, comp)
    xs = np.empty(n)
    ys = np.empty(n)
    minx, miny, maxx, maxy = outline_local.bounds
    todo = np.arange(n)
    while todo.size:
        c = comp[todo]
        x = rng.uniform(minx, maxx, todo.size)
        y = rng.uniform(miny, maxy, todo.size)
        for k, h in enumerate(town.hotspots):
            m = c == k
            x[m] = rng.normal(h.x, h.sigma, m.sum())
            y[m] = rng.normal(h.y, h.sigma, m.sum())
        inside = shapely.contains_xy(outline_local, x, y)
        xs[todo[inside]] = x[inside]
        ys[todo[inside]] = y[inside]
        todo = todo[~inside]
    return xs, ys, comp


def _categories(rng, comp: np.ndarray, town: T.Town) -> np.ndarray:
    codes = [c[0] for c in T.CATEGORIES]
    base = np.array([c[8] for c in T.CATEGORIES], dtype=float)
    out = np.empty(comp.size, dtype=np.int64)
    for k in range(-1, len(town.hotspots)):
        m = comp == k
        w = base.copy()
        if k >= 0:
            for code, extra in town.hotspots[k].categories.items():
                w[codes.index(code)] += extra
        out[m] = rng.choice(len(codes), size=int(m.sum()), p=w / w.sum())
    return out


def _times(rng, cat_idx: np.ndarray, until: datetime) -> np.ndarray:
    """Report times over the year before ``until``: summer peak, office-hour peak, standing water
    (路面积水) only in the rainy season."""
    n = cat_idx.size
    days = np.arange(365)
    doy = np.array([(until.date() - timedelta(days=int(d))).timetuple().tm_yday for d in days])
    season = 1 + 0.35 * np.cos(2 * np.pi * (doy - 200) / 365)
    rainy = np.where((doy >= 160) & (doy <= 250), 1.0, 0.005)
    water = [c[0] for c in T.CATEGORIES].index("TF01")
    ago = rng.choice(days, size=n, p=season / season.sum())
    m = cat_idx == water
    ago[m] = rng.choice(days, size=int(m.sum()), p=rainy / rainy.sum())
    hours = np.arange(24)
    hw = np.array([1, 1, 1, 1, 1, 2, 4, 8, 14, 16, 15, 13, 9, 10, 13, 14, 13, 11, 8, 6, 4, 3, 2, 1], float)
    hour = rng.choice(hours, size=n, p=hw / hw.sum())
    midnight = datetime.combine(until.date(), time(0), SHANGHAI).timestamp()
    ts = midnight - ago * 86400.0 + hour * 3600 + rng.integers(0, 3600, n)
    # nothing in the future: today's late reports move back before ``until``
    ts = np.minimum(ts, until.timestamp() - rng.integers(60, 7200, n))
    return ts


RECENT_DAYS = 30  # younger cases get a backlog's states; older ones are the year of history
# (upper bound of the age in days, states, their shares): the open cases are the last days' and weeks'
AGE_STATES = (
    (1, ("待受理", "已立案", "立案派遣", "处理中", "待核查", "结案", "作废"), (0.30, 0.08, 0.12, 0.22, 0.08, 0.18, 0.02)),
    (3, ("待受理", "已立案", "立案派遣", "处理中", "待核查", "结案", "作废"), (0.05, 0.03, 0.05, 0.22, 0.12, 0.50, 0.03)),
    (7, ("处理中", "待核查", "督办", "挂账", "结案", "作废"), (0.10, 0.06, 0.02, 0.01, 0.78, 0.03)),
    (RECENT_DAYS, ("处理中", "待核查", "督办", "挂账", "结案", "作废"), (0.015, 0.01, 0.005, 0.005, 0.935, 0.03)),
    (math.inf, ("结案", "作废", "挂账"), (0.9675, 0.03, 0.0025)),
)


def _states(rng, age_days: np.ndarray) -> np.ndarray:
    """The state of each case by its age: open mostly in the last days, closed (or void) after,
    and a few parked for good."""
    states = np.empty(age_days.size, dtype=object)
    low = -math.inf
    for high, names, shares in AGE_STATES:
        m = (age_days > low) & (age_days <= high)
        states[m] = rng.choice(names, size=int(m.sum()), p=shares)
        low = high
    return states.astype(str)


# the town path of a case, as (action, role, from_state, to_state); the demo cuts it where the
# case's current state is reached (see workflow/cases.py for the rules these follow)
TOWN_PATH = (
    ("escalate", "worker", "待受理", "待受理"),
    ("file", "dispatcher", "待受理", "已立案"),
    ("dispatch", "dispatcher", "已立案", "立案派遣"),
    ("accept", "department", "立案派遣", "处理中"),
    ("feedback", "department", "处理中", "待核查"),
    ("verify_pass", "worker", "待核查", "结案"),
)
STOP_AT = {"已立案": 2, "立案派遣": 3, "处理中": 4, "待核查": 5, "结案": 6}
SATISFACTION = np.array([5, 4, 3, 2, 1])
SATISFACTION_P = np.array([0.5, 0.3, 0.1, 0.07, 0.03])


def _history(state: str, self_handle: bool, u: np.ndarray) -> tuple[list[tuple], str, int, int]:
    """The workflow steps that brought a demo case to ``state``: (steps, tier, reworks, returns).
    ``u`` holds four uniform draws for the case."""
    if state == "待受理":
        if u[0] < 0.35:  # escalated by the grid worker: the town is to file it
            return [TOWN_PATH[0]], "town", 0, 0
        return [], "village", 0, 0
    if state == "作废":
        return [("void", "dispatcher", "待受理", "作废")], "town", 0, 0
    if state == "结案" and self_handle and u[0] < 0.6:
        return [("self_handle", "worker", "待受理", "结案")], "village", 0, 0
    if state in ("结案", "处理中", "待核查") and u[0] < 0.25:
        steps = [("village_handle", "leader", "待受理", "处理中"), ("village_done", "leader", "处理中", "待核查"),
                 ("verify_pass", "worker", "待核查", "结案")]
        return steps[:VILLAGE_STOP_AT[state]], "village", 0, 0
    if state == "挂账":
        return [*TOWN_PATH[:2], ("park", "dispatcher", "已立案", "挂账")], "town", 0, 0
    if state == "督办":
        return [*TOWN_PATH[:4], ("supervise", "dispatcher", "处理中", "督办")], "town", 0, 0
    steps = list(TOWN_PATH[:STOP_AT[state]])
    returns = reworks = 0
    if len(steps) >= 4 and u[1] < 0.05:  # misrouted: returned, then dispatched again
        steps[3:3] = [("return", "department", "立案派遣", "已立案"), ("dispatch", "dispatcher", "已立案", "立案派遣")]
        returns = 1
    if state == "结案" and u[2] < 0.1:  # not fixed at the first verification: rework
        at = len(steps) - 1
        steps[at:at] = [("verify_fail", "worker", "待核查", "处理中"), ("feedback", "department", "处理中", "待核查")]
        reworks = 1
    return steps, "town", reworks, returns


VILLAGE_STOP_AT = {"处理中": 1, "待核查": 2, "结案": 3}
LIMIT_UNITS = {"work_hours": timedelta(hours=1), "work_days": WORK_DAY, "hours": timedelta(hours=1),
               "days": timedelta(days=1)}
WORKING_UNITS = ("work_hours", "work_days")
CLOCK_STATES = ("待受理", "已立案", "立案派遣", "处理中", "督办")
EXTENSION_NOTE = "需协调相关单位配合, 申请延期(演示数据)"


def _work_before(calendar, end: datetime, work: timedelta) -> datetime:
    """The moment ``work`` of office time before ``end`` (the inverse of ``calendar.add``)."""
    lo, hi = end - work * 8 - timedelta(days=12), end
    for _ in range(30):
        mid = lo + (hi - lo) / 2
        if calendar.work_between(mid, end) > work:
            lo = mid
        else:
            hi = mid
    return hi.replace(microsecond=0)


def _spread(a: datetime, b: datetime, n: int) -> list[datetime]:
    """``n`` moments spread evenly after ``a``, the last at ``b``."""
    return [a + (b - a) * (k + 1) / n for k in range(n)]


def _share_used(state: str, u: float, v: float) -> float:
    """The share of its time an open case has used at ``until``: most normal, some yellow, few red;
    a supervised one is overdue."""
    if state == "督办":
        return 1.1 + v
    if u < 0.87:
        return 0.05 + 0.65 * v
    if u < 0.97:
        return 0.76 + 0.21 * v
    return 1.05 + 1.5 * v


def _open_times(state: str, steps: list[tuple], limit: int, unit: str, until: datetime, u: np.ndarray,
                calendar, fixed: datetime | None = None) -> tuple[datetime, list[datetime]]:
    """When a case open at ``until`` was reported and took its steps, placed backwards from ``until``
    on the category's clock (working time, or wall time for a limit in hours/days) so that its
    deadline status is the one drawn. ``u``: six uniform draws; ``fixed``: a report time to keep."""
    working = unit in WORKING_UNITS
    allowed = LIMIT_UNITS[unit] * limit

    def back(t: datetime, span: timedelta) -> datetime:
        return _work_before(calendar, t, span) if working else t - span

    disp = max((k for k, st in enumerate(steps) if st[0] == "dispatch"), default=None)
    n = len(steps)
    if state == "待核查":  # handled; the grid worker is to verify
        done = until - timedelta(hours=0.5 + 30 * u[5])
        if disp is None:
            reported = done - timedelta(hours=2 + 40 * u[4])
            return reported, _spread(reported, done, n)
        dispatched = back(done, allowed * (0.2 + 0.7 * u[4]))
        reported = dispatched - timedelta(minutes=20 + 300 * u[2])
        return reported, _spread(reported, dispatched, disp + 1) + _spread(dispatched, done, n - disp - 1)
    if state == "挂账":
        parked = until - timedelta(days=1 + 19 * u[4])
        reported = parked - timedelta(hours=2 + 70 * u[5])
        return reported, _spread(reported, parked, n)
    start = back(until, allowed * _share_used(state, u[4], u[5]))
    if disp is None:  # 待受理 / 已立案: the clock runs from the report
        reported = fixed or start
        return reported, _spread(reported, reported + (until - reported) * 0.7, n)
    dispatched = start if fixed is None or start > fixed else fixed + (until - fixed) * 0.3
    reported = fixed or dispatched - timedelta(minutes=20 + 300 * u[2])
    times = _spread(reported, dispatched, disp + 1)
    after = n - disp - 1
    if state == "督办":  # accepted, then supervised once overdue
        deadline = calendar.add(dispatched, limit, unit)
        accepted = dispatched + (min(deadline, until) - dispatched) * 0.2
        return reported, times + _spread(dispatched, accepted, after - 1) + [deadline + (until - deadline) * 0.5]
    return reported, times + _spread(dispatched, dispatched + (until - dispatched) * 0.6, after)


@dataclass
class Forced:
    """A case the backlog needs in a state (so that every account has something to do now)."""

    state: str
    u0: float  # the path: < 0.25 the village's, ≥ 0.6 the town's
    extension: bool = False
    fixed: datetime | None = None  # keep this report time (a 12345 order's incident)
    order: int | None = None  # the index of the demo 12345 order it comes from


def _forced(rng, cat: np.ndarray, grid_idx: np.ndarray, town: T.Town, orders: list[dict]) -> dict[int, Forced]:
    """Cases of the first chunk put in the states every demo account acts on: in each grid one
    待受理 for the worker (on-the-spot category where there is one) and one 待核查 to verify; in each
    village one 处理中 the leader handles; for each department one 立案派遣 to accept and one
    处理中 to report back on; for the dispatchers 待受理 at the town, 已立案, extension requests and
    overdue cases under 督办;
    and the incidents of the located 12345 orders."""
    codes = [c[0] for c in T.CATEGORIES]
    water = codes.index("TF01")  # standing water stays in the rainy season
    dept_of = np.array([c[4] for c in T.CATEGORIES])[cat]
    self_ok = np.array([c[5] for c in T.CATEGORIES])[cat]
    free = (cat != water) & (grid_idx >= 0)
    forced: dict[int, Forced] = {}

    def take(mask: np.ndarray, spec: Forced, prefer: np.ndarray | None = None) -> None:
        pool = np.flatnonzero(mask & free)
        if prefer is not None and (mask & free & prefer).any():
            pool = np.flatnonzero(mask & free & prefer)
        if pool.size:
            i = int(rng.choice(pool))
            free[i] = False
            forced[i] = spec

    for g in range(len(town.grids)):
        take(grid_idx == g, Forced("待受理", 0.9), prefer=self_ok)
        take(grid_idx == g, Forced("待核查", 0.9))
    village_of = np.array([g["village_code"] for g in town.grids] + [""])[grid_idx]
    for v in town.villages:
        take(village_of == v["code"], Forced("处理中", 0.1))
    for code, *_rest in T.DEPARTMENTS:
        if code != "zongzhi":
            take(dept_of == code, Forced("立案派遣", 0.9))
            take(dept_of == code, Forced("处理中", 0.9))
    anywhere = dept_of != "zongzhi"
    for spec in (Forced("待受理", 0.1), Forced("已立案", 0.9), Forced("处理中", 0.9, extension=True),
                 Forced("督办", 0.9)):
        for _ in range(3):
            take(anywhere, Forced(spec.state, spec.u0, spec.extension))
    for k, order in enumerate(orders):
        if order["located"]:
            take(anywhere, Forced(order["incident_state"], 0.9, fixed=order["imported"], order=k))
    return forced


def _incident_chunks(town: T.Town, n: int, seed: int, until: datetime, ctx: dict) -> Iterator[tuple]:
    """Yield rows of incidents and their events, CHUNK at a time."""
    outline_local = shapely.transform(
        town.outline, lambda c: np.column_stack(T.to_local(c[:, 0], c[:, 1]))
    )
    grid_geoms = [g["geom"] for g in town.grids]
    grid_codes = [g["code"] for g in town.grids]
    village_name = {v["code"]: v["name"] for v in town.villages}
    calendar = ctx["calendar"]
    acct = ctx["account"]
    next_id = 1
    chunk_no = 0
    while next_id <= n:
        size = min(CHUNK, n - next_id + 1)
        rng = np.random.default_rng([seed, 7, chunk_no])
        xs, ys, comp = _points(rng, town, size, outline_local)
        lon, lat = T.to_lonlat(xs, ys)
        lon = np.round(lon, 7)
        lat = np.round(lat, 7)
        cat = _categories(rng, comp, town)
        ts = _times(rng, cat, until)
        age = (until.timestamp() - ts) / 86400
        states = _states(rng, age)
        sources = rng.choice(SOURCES, size=size, p=SOURCE_P)
        grid_idx = locate_points(lon, lat, grid_geoms, grid_codes)
        roads = rng.integers(len(T.ROADS), size=size)
        numbers = rng.integers(1, 300, size=size)
        close_after = rng.uniform(2 * 3600, 6 * 86400, size=size)
        draws = rng.random((size, 4))
        satisfaction = rng.choice(SATISFACTION, size=size, p=SATISFACTION_P)
        geom_hex = _hex(shapely.points(lon, lat))
        more = rng.random((size, 3))
        forced = _forced(rng, cat, grid_idx, town, ctx["orders"]) if chunk_no == 0 else {}
        chunk_no += 1
        incidents, events = [], []
        for i in range(size):
            iid = next_id + i
            g = int(grid_idx[i])
            grid = town.grids[g] if g >= 0 else None
            category = T.CATEGORIES[cat[i]]
            code, limit, unit = category[0], category[6], category[7]
            u = np.concatenate([draws[i], more[i, :2]])
            state = str(states[i])
            spec = forced.get(i)
            source = str(sources[i])
            if spec is not None:
                state, u[0] = spec.state, spec.u0
                u[3] = 0.0 if spec.extension else max(u[3], 0.2)
            elif category[4] == "zongzhi" and state in ("立案派遣", "处理中", "督办"):
                state = "已立案"  # the center keeps what it does not dispatch
            if grid is None and state in C.OPEN_STATES:
                u[0] = max(u[0], 0.6)  # outside every grid: the town's path
            steps, tier, reworks, returns = _history(state, category[5], u)
            if grid is None:
                tier = "town"
            open_now = state in C.OPEN_STATES and (spec is not None or age[i] <= RECENT_DAYS)
            if open_now:
                reported, times = _open_times(state, steps, limit, unit, until, u, calendar,
                                              spec.fixed if spec else None)
            else:
                reported = spec.fixed if spec and spec.fixed else datetime.fromtimestamp(float(ts[i]), SHANGHAI)
                # the steps are spread from the report to the close (or to a while before "until")
                end = (min(reported + timedelta(seconds=float(close_after[i])), reported + (until - reported) * 0.9)
                       if state == "结案" else reported + (until - reported) * 0.8)
                span = (end - reported) / (len(steps) + 1)
                times = [reported + span * (k + 1) for k in range(len(steps))]
            dispatched = max((t for t, st in zip(times, steps, strict=True) if st[0] == "dispatch"), default=None)
            deadline = ctx["deadline"](dispatched or reported, limit, unit)
            closed = times[-1] if state == "结案" else None
            visited = (state == "结案" and tier == "town" and draws[i][3] < 0.3
                       and closed + timedelta(days=1) <= until)
            extension = state in ("处理中", "督办") and tier == "town" and u[3] < 0.12
            vname = village_name[grid["village_code"]] if grid else ""
            address = f"{vname}{T.ROADS[roads[i]]}{numbers[i]}号附近"
            description = f"{category[3]}:{address}(演示数据)"
            if spec is not None and spec.order is not None:
                order = ctx["orders"][spec.order]
                order.update(incident_id=iid, lng=float(lon[i]), lat=float(lat[i]), address=address,
                             content=f"反映{address}{category[3]}问题, 希望尽快处理。(演示数据)")
                description, source = f"12345 工单 {order['order_no']}: {order['content']}", "hotline_12345"
            worker = acct["worker"].get(grid["code"]) if grid else None
            actors = {"worker": worker, "leader": acct["leader"].get(grid["village_code"]) if grid else None,
                      "dispatcher": acct["dispatcher"][iid % len(acct["dispatcher"])],
                      "department": acct["department"].get(category[4])}
            incidents.append((
                iid,
                f"{T.CASE_PREFIX}{reported:%Y%m%d}{iid:07d}",
                geom_hex[i],
                lon[i], lat[i], "wgs84",
                source,
                ctx["category_id"][code],
                description,
                address,
                ctx["grid_id"][grid["code"]] if grid else None,
                grid["code"] if grid else None,
                grid["village_code"] if grid else None,
                ctx["worker"].get(grid["code"]) if grid else None,
                ctx["leader"].get(grid["code"]) if grid else None,
                ctx["department"][category[4]],
                state,
                "{}" if grid else "{outside_grids}",
                reported.isoformat(),
                deadline.isoformat(),
                closed.isoformat() if closed else None,
                "true",
                tier,
                dispatched.isoformat() if dispatched else None,
                reworks,
                returns,
                int(satisfaction[i]) if visited else None,
                "true" if extension else "false",
            ))
            reporter = worker if source in ("grid_worker", "patrol") else None
            events.append((iid, reported.isoformat(), "worker", "report", None, "待受理", "上报(演示数据)", "{}",
                           reporter))
            for t, (action, role, before, after) in zip(times, steps, strict=True):
                data = json.dumps({"department": category[4]}) if action == "dispatch" else "{}"
                events.append((iid, t.isoformat(), role, action, before, after, "演示数据", data, actors[role]))
            if extension:
                asked = times[-1] + (until - times[-1]) * 0.5
                events.append((iid, asked.isoformat(), "department", "request_extension", state, state,
                               EXTENSION_NOTE, json.dumps({"days": 2 + int(u[5] * 4)}), actors["department"]))
            if visited:
                events.append((iid, (closed + timedelta(days=1)).isoformat(), "dispatcher", "return_visit", "结案",
                               "结案", "回访(演示数据)", json.dumps({"satisfaction": int(satisfaction[i])}),
                               actors["dispatcher"]))
        next_id += size
        yield incidents, events


INCIDENT_COLUMNS = (
    "id", "case_no", "geom", "raw_lng", "raw_lat", "raw_crs", "source", "category_id", "description",
    "address", "grid_id", "grid_code", "village_code", "worker_id", "leader_id", "department_id",
    "state", "flags", "reported_at", "deadline", "closed_at", "synthetic", "tier", "dispatched_at",
    "rework_count", "return_count", "satisfaction", "extension_pending",
)
EVENT_COLUMNS = ("incident_id", "at", "role", "action", "from_state", "to_state", "note", "data", "actor_id")


# ---------------------------------------------------------------- 12345 orders

# how many demo orders wait in each state (seed 4-1), and the share of them with a place
ORDER_STATES = (("待签收", 10), ("已签收", 10), ("已批示", 8), ("办理中", 14), ("待答复", 8), ("已答复", 10),
                ("已办结", 25), ("已退回", 5))
ORDER_PATH = (  # (action, role, from, to, the state the order reaches by it)
    ("sign", "dispatcher", "待签收", "已签收"), ("instruct", "town_leader", "已签收", "已批示"),
    ("assign", "dispatcher", "已批示", "办理中"), ("draft_reply", "department", "办理中", "待答复"),
    ("reply", "dispatcher", "待答复", "已答复"), ("close", "district", "已答复", "已办结"),
)
ORDER_STEP_HOURS = ((0.1, 3), (0.5, 4), (0.3, 2), (3, 20), (0.5, 6), (3, 48))  # wall hours, from → to
LOCATED_SHARE = 0.45
CHANNEL_P = {"phone": 0.7, "wechat": 0.15, "web": 0.1, "app": 0.05}
RETURN_REASON = "诉求地点不在本镇辖区, 请区平台改派(演示数据)"
SUPERVISE_NOTE = "工单已超期, 请加快办理并按时答复(演示数据)"


def _plan_orders(rng, until: datetime, calendar) -> list[dict]:
    """The demo's 12345 orders of the last weeks, each with its path to the state it waits in and
    the times of its steps, on the Tianjin limits of ``workflow/hotline.py``."""
    orders: list[dict] = []
    depts = [code for code, *_rest in T.DEPARTMENTS if code != "zongzhi"]
    channels = list(CHANNEL_P)
    for state, count in ORDER_STATES:
        for j in range(count):
            urgency = H.NORMAL
            if state == "待签收":
                urgency = (H.LIFE_PROPERTY, H.UTILITIES)[j] if j < 2 else H.NORMAL
                late = j == count - 1  # one the desk has let run past its acceptance limit
                if urgency == H.LIFE_PROPERTY:
                    dispatched = until - timedelta(minutes=float(rng.uniform(2, 10)))
                elif urgency == H.UTILITIES:
                    dispatched = until - timedelta(minutes=float(rng.uniform(5, 25)))
                else:
                    dispatched = _work_before(calendar, until, WORK_DAY * (1.3 if late else rng.uniform(0.05, 0.8)))
            elif state in ("已办结", "已退回"):
                dispatched = until - timedelta(days=float(rng.uniform(5, 21)))
            elif state == "已答复":
                dispatched = _work_before(calendar, until, WORK_DAY * float(rng.uniform(1.5, 4.5)))
            else:  # open at the town; one of 已批示 and of 办理中 is overdue and pressed on
                late = j == 0 and state in ("已批示", "办理中")
                dispatched = _work_before(calendar, until, WORK_DAY * (5.6 if late else rng.uniform(0.2, 3.5)))
            if state not in ("待签收",) and rng.random() < 0.1:
                urgency = H.UTILITIES
            dispatched = dispatched.replace(microsecond=0)
            imported = dispatched + min(timedelta(minutes=float(rng.uniform(2, 40))), (until - dispatched) / 3)
            reached = [s[3] for s in ORDER_PATH].index(state) + 1 if state in [s[3] for s in ORDER_PATH] else 0
            steps = list(ORDER_PATH[:reached])
            times, t = [], imported
            for lo, hi in ORDER_STEP_HOURS[:reached]:
                t = t + timedelta(hours=float(rng.uniform(lo, hi)))
                times.append(t)
            if state == "已退回":
                steps = [("return_order", "dispatcher", "待签收", "已退回")]
                times = [imported + timedelta(hours=float(rng.uniform(0.5, 6)))]
            last = until - timedelta(minutes=5)
            if times and times[-1] > last:  # squeeze the steps in before "until"
                times = [imported + (x - imported) * ((last - imported) / (times[-1] - imported)) for x in times]
            reply_deadline = H.default_reply_deadline(dispatched, calendar)
            order = {
                "order_no": f"DEMO-{dispatched:%Y%m%d}-{len(orders) + 1:04d}", "state": state,
                "urgency": urgency, "channel": str(rng.choice(channels, p=list(CHANNEL_P.values()))),
                "dispatched": dispatched, "imported": imported,
                "accept_deadline": H.accept_deadline(dispatched, urgency, calendar),
                "reply_deadline": reply_deadline, "steps": steps, "times": times,
                "department": depts[j % len(depts)] if state == "办理中" else str(rng.choice(depts)),
                "located": state != "已退回" and rng.random() < LOCATED_SHARE,
                "incident_state": ("结案" if state in ("已答复", "已办结") else
                                   "待受理" if state in ("待签收", "已签收") else "处理中"),
                "name": T.person_name(rng), "phone": T.phone_number(rng),
                "incident_id": None, "lng": None, "lat": None, "address": None,
            }
            if state in H.REPLY_OWED and state != "待签收" and until > reply_deadline:
                order["supervised"] = reply_deadline + (until - reply_deadline) * 0.5
            orders.append(order)
    return orders


ORDER_TOPICS = ("夜间施工噪音扰民", "路灯不亮", "小区供暖不热", "垃圾清运不及时", "道路积水", "占道经营",
                "饮用水水质浑浊", "违章搭建", "车辆乱停乱放", "养殖异味")
ORDER_COLUMNS = (
    "id", "order_no", "channel", "petitioner_name", "petitioner_phone", "content", "address", "lng", "lat",
    "incident_id", "urgency", "dispatched_at", "accept_deadline", "reply_deadline", "state", "department_id",
    "instruction", "draft", "reply", "signed_at", "assigned_at", "drafted_at", "replied_at", "closed_at",
    "returned_at", "supervised_at", "return_count", "supervise_count", "imported_by", "created_at", "updated_at",
)
ORDER_EVENT_COLUMNS = ("order_id", "at", "actor_id", "role", "action", "from_state", "to_state", "department_id",
                       "note", "data")
ORDER_TIME_COLUMN = {"sign": "signed_at", "assign": "assigned_at", "draft_reply": "drafted_at",
                     "reply": "replied_at", "close": "closed_at", "return_order": "returned_at"}


def _load_orders(cur, ctx: dict, orders: list[dict], rng) -> tuple[int, int]:
    """COPY the planned orders and their events (imported by the desk, marked ``via: demo``)."""
    village = T.VILLAGE_NAMES
    for o in orders:  # the orders with no place (or no case to link) say where in words
        if o["incident_id"] is None:
            o["address"] = f"{village[int(rng.integers(len(village)))]}{T.ROADS[int(rng.integers(len(T.ROADS)))]}"
            o["content"] = f"反映{o['address']}一带{rng.choice(ORDER_TOPICS)}, 希望尽快解决。(演示数据)"
    acct = ctx["account"]
    names = {code: name for code, name, *_rest in T.DEPARTMENTS}
    rows, events = [], []
    for oid, o in enumerate(orders, start=1):
        desk = acct["dispatcher"][oid % len(acct["dispatcher"])]
        actors = {"dispatcher": desk, "town_leader": acct["town_leader"][oid % len(acct["town_leader"])],
                  "department": acct["department"].get(o["department"]),
                  "district": acct["district"][oid % len(acct["district"])]}
        dept_id = ctx["department"][o["department"]]
        instruction = f"请{names[o['department']]}牵头核实办理, 按时答复诉求人。(演示数据)"
        draft = f"经{names[o['department']]}现场核实, 已安排处理, 将于 3 个工作日内完成。(演示数据)"
        at = {ORDER_TIME_COLUMN.get(s[0]): t for s, t in zip(o["steps"], o["times"], strict=True)}
        reached = {s[0] for s in o["steps"]}
        data = {"via": "demo", "synthetic": True, "urgency": o["urgency"], "dispatched_at": o["dispatched"].isoformat()}
        if o["incident_id"]:
            data["incident_id"] = o["incident_id"]
        events.append((oid, o["imported"].isoformat(), desk, "dispatcher", "import", None, "待签收", None,
                       "自便民专线平台派单", json.dumps(data)))
        for (action, role, before, after), t in zip(o["steps"], o["times"], strict=True):
            note = {"instruct": instruction, "draft_reply": draft, "return_order": RETURN_REASON}.get(action)
            extra = {"on_time": t <= o["accept_deadline"]} if action == "sign" else {}
            if action == "assign":
                extra = {"department": o["department"]}
            events.append((oid, t.isoformat(), actors[role], role, action, before, after,
                           dept_id if action in ("assign", "draft_reply") else None, note, json.dumps(extra)))
        supervised = o.get("supervised")
        if supervised:
            events.append((oid, supervised.isoformat(), desk, "dispatcher", "supervise", o["state"], o["state"], None,
                           SUPERVISE_NOTE, json.dumps({"reply_deadline": o["reply_deadline"].isoformat()})))
        iso = {k: v.isoformat() if v else None for k, v in at.items()}
        last = max([o["imported"], *o["times"], *([supervised] if supervised else [])])
        rows.append((
            oid, o["order_no"], o["channel"], o["name"], o["phone"], o["content"], o["address"], o["lng"], o["lat"],
            o["incident_id"], o["urgency"], o["dispatched"].isoformat(), o["accept_deadline"].isoformat(),
            o["reply_deadline"].isoformat(), o["state"], dept_id if "assign" in reached else None,
            instruction if "instruct" in reached else None, draft if "draft_reply" in reached else None,
            draft if "reply" in reached else None, iso.get("signed_at"), iso.get("assigned_at"),
            iso.get("drafted_at"), iso.get("replied_at"), iso.get("closed_at"), iso.get("returned_at"),
            supervised.isoformat() if supervised else None, 1 if "return_order" in reached else 0,
            1 if supervised else 0, desk, o["imported"].isoformat(), last.isoformat(),
        ))
    _copy(cur, "hotline_orders", ORDER_COLUMNS, rows)
    _copy(cur, "hotline_events", ORDER_EVENT_COLUMNS, events)
    cur.execute("SELECT setval('hotline_orders_id_seq', GREATEST((SELECT max(id) FROM hotline_orders), 1))")
    return len(rows), len(events)


# ---------------------------------------------------------------- the whole load


def load_demo(
    engine: Engine,
    incidents: int = DEFAULT_INCIDENTS,
    seed: int = 20261128,
    until: datetime | None = None,
    password: str = "demo",
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Load the demo town into an empty, migrated database. All or nothing. Returns counts."""
    if incidents < 0:
        raise ValueError("incidents must be ≥ 0")
    until = (until or datetime.now(SHANGHAI)).astimezone(SHANGHAI).replace(microsecond=0)
    town = T.build_town(seed)
    rng = np.random.default_rng([seed, 1])
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("SELECT EXISTS (SELECT 1 FROM areas)")
        if cur.fetchone()[0]:
            raise DemoExistsError("数据库已有数据 / the database already holds data")
        ctx = _load_reference(cur, town, rng, password, until)
        counts = {"villages": len(town.villages), "grids": len(town.grids), "accounts": ctx["accounts"]}
        calendar = DEFAULT_CALENDAR
        cache: dict = {}

        def deadline(reported: datetime, limit: int, unit: str) -> datetime:
            key = (reported.replace(second=0), limit, unit)
            if key not in cache:
                if len(cache) > 200_000:
                    cache.clear()
                cache[key] = calendar.add(key[0], limit, unit)
            return cache[key] + timedelta(seconds=reported.second)

        ctx["deadline"] = deadline
        ctx["calendar"] = calendar
        ctx["orders"] = _plan_orders(np.random.default_rng([seed, 5]), until, calendar)
        n_inc = n_ev = 0
        for rows, events in _incident_chunks(town, incidents, seed, until, ctx):
            n_inc += _copy(cur, "incidents", INCIDENT_COLUMNS, rows)
            n_ev += _copy(cur, "case_events", EVENT_COLUMNS, events)
            if progress:
                progress(len(rows))
        cur.execute("SELECT setval('incidents_id_seq', GREATEST((SELECT max(id) FROM incidents), 1))")
        counts["incidents"] = n_inc
        counts["case_events"] = n_ev
        counts["hotline_orders"], counts["hotline_events"] = _load_orders(
            cur, ctx, ctx["orders"], np.random.default_rng([seed, 6]))
        duty = _duty_roster(town, ctx, seed, until)
        counts["attendance"] = _load_attendance(cur, town, ctx, duty, seed)
        counts["patrols"], counts["gps_fixes"] = _load_patrols(cur, town, ctx, duty, seed, until)
        counts["address_points"], counts["visits"] = _load_visits(cur, town, ctx, seed, until)
        counts["office"] = _load_office(cur, ctx, until)
        cur.execute(
            "INSERT INTO settings (key, value) VALUES ('demo', %s)",
            (json.dumps({
                "synthetic": True, "seed": seed, "until": until.isoformat(), "incidents": n_inc,
                "town": T.TOWN_NAME, "supervision_phone": T.SUPERVISION_PHONE,
                "hotline_orders": counts["hotline_orders"],
            }),),
        )
        raw.commit()
    except BaseException:
        raw.rollback()
        raise
    finally:
        raw.close()
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(
            text("ANALYZE areas; ANALYZE grids; ANALYZE incidents; ANALYZE case_events; ANALYZE gps_fixes; "
                 "ANALYZE hotline_orders; ANALYZE attendance")
        )
    return counts


INSERT_TOWN = """
    INSERT INTO towns (area_id, name, name_en, center_name, center_name_en, supervision_office,
                       supervision_phone, case_prefix, map_lat, map_lng, map_zoom)
    VALUES (%(area_id)s, %(name)s, %(name_en)s, %(center_name)s, %(center_name_en)s, %(supervision_office)s,
            %(supervision_phone)s, %(case_prefix)s, %(map_lat)s, %(map_lng)s, %(map_zoom)s)
"""


def _load_reference(cur, town: T.Town, rng, password: str, until: datetime) -> dict:
    ctx: dict = {}
    cur.execute(
        "INSERT INTO areas (code, name, level, kind, geom, synthetic) VALUES (%s, %s, 'district', 'district', NULL, true) RETURNING id",
        (T.DIVISION, T.DISTRICT_NAME),
    )
    district_id = cur.fetchone()[0]
    cur.execute(
        "INSERT INTO areas (code, name, level, kind, parent_id, geom, synthetic) "
        "VALUES (%s, %s, 'town', 'town', %s, ST_Multi(ST_GeomFromEWKB(decode(%s, 'hex'))), true) RETURNING id",
        (T.TOWN_CODE, T.TOWN_NAME, district_id, _hex([T.as_multipolygon(town.outline)])[0]),
    )
    town_id = cur.fetchone()[0]
    cur.execute(INSERT_TOWN, {"area_id": town_id, **T.TOWN_RECORD})
    village_id = {}
    for v in town.villages:
        cur.execute(
            "INSERT INTO areas (code, name, level, kind, parent_id, geom, synthetic) "
            "VALUES (%s, %s, 'village', 'village', %s, ST_GeomFromEWKB(decode(%s, 'hex')), true) RETURNING id",
            (v["code"], v["name"], town_id, _hex([v["geom"]])[0]),
        )
        village_id[v["code"]] = cur.fetchone()[0]
    # The town outline is the union of the villages, so the levels nest exactly.
    cur.execute(
        "UPDATE areas SET geom = (SELECT ST_Multi(ST_Union(geom)) FROM areas WHERE level = 'village') WHERE id = %s",
        (town_id,),
    )
    valid_from = datetime.combine(date(until.year - 1, 1, 1), time(0), SHANGHAI)
    ctx["grid_id"] = {}
    for g in town.grids:
        cur.execute(
            "INSERT INTO grids (code, name, kind, village_id, households, residents, geom, version, valid_from, synthetic) "
            "VALUES (%s, %s, %s, %s, %s, %s, ST_GeomFromEWKB(decode(%s, 'hex')), 1, %s, true) RETURNING id",
            (g["code"], g["name"], g["kind"], village_id[g["village_code"]], g["households"],
             g["residents"], _hex([g["geom"]])[0], valid_from),
        )
        ctx["grid_id"][g["code"]] = cur.fetchone()[0]

    ctx["department"] = {}
    for code, name, phone, level in T.DEPARTMENTS:
        cur.execute(
            "INSERT INTO departments (code, name, phone, level) VALUES (%s, %s, %s, %s) RETURNING id",
            (code, name, phone, level),
        )
        ctx["department"][code] = cur.fetchone()[0]
    ctx["category_id"] = {}
    for code, kind, klass, name, dept, self_handle, limit, unit, _w in T.CATEGORIES:
        cur.execute(
            "INSERT INTO categories (code, kind, class_name, name, department_id, self_handle, time_limit, time_unit,"
            " class_en, name_en) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (code, kind, klass, name, ctx["department"][dept], self_handle, limit, unit, *T.CATEGORY_EN[code]),
        )
        ctx["category_id"][code] = cur.fetchone()[0]

    # The demo town issues the Open311 api_key "demo" (only its hash is stored).
    cur.execute(
        "INSERT INTO api_clients (name, key_sha256) VALUES (%s, %s)",
        ("演示客户端 demo client", hashlib.sha256(b"demo").hexdigest()),
    )

    # One hash for every demo account: hashing is deliberately slow, and these are demo logins.
    pw_hash = generate_password_hash(password)

    def person(name: str) -> int:
        cur.execute(
            "INSERT INTO people (name, phone, gender, synthetic) VALUES (%s, %s, %s, true) RETURNING id",
            (name, T.phone_number(rng), str(rng.choice(["男", "女"]))),
        )
        return cur.fetchone()[0]

    accounts: list[tuple] = []

    def account(username, role, scope, person_id=None, department_id=None):
        accounts.append((username, pw_hash, role, scope, person_id, department_id))

    since = valid_from.date()
    ctx["worker"], ctx["leader"], ctx["worker_of_grid"] = {}, {}, {}
    leader_of_village = {}
    for n, v in enumerate(town.villages, start=1):
        pid = person(T.person_name(rng))
        leader_of_village[v["code"]] = pid
        account(f"leader{n:02d}", "leader", v["code"], pid)
    for n, g in enumerate(town.grids, start=1):
        pid = person(T.person_name(rng))
        ctx["worker"][g["code"]] = pid
        ctx["leader"][g["code"]] = leader_of_village[g["village_code"]]
        account(f"worker{n:03d}", "worker", g["code"], pid)
        for duty, who in (("worker", pid), ("leader", leader_of_village[g["village_code"]])):
            cur.execute(
                "INSERT INTO grid_assignments (grid_code, person_id, duty, valid_from) VALUES (%s, %s, %s, %s)",
                (g["code"], who, duty, since),
            )
    centre = []  # the town centre's own staff (seed 7-1): its dispatchers, leaders and administrator
    for n in range(1, 4):
        centre.append(person(T.person_name(rng)))
        account(f"dispatcher{n}", "dispatcher", T.TOWN_CODE, centre[-1])
    for n in range(1, 3):
        centre.append(person(T.person_name(rng)))
        account(f"townleader{n}", "town_leader", T.TOWN_CODE, centre[-1])
    for code, _name, _phone, _level in T.DEPARTMENTS:
        if code != "zongzhi":
            account(f"dept_{code}", "department", T.TOWN_CODE, person(T.person_name(rng)), ctx["department"][code])
    for n in range(1, 3):
        account(f"district{n}", "district", T.DIVISION, person(T.person_name(rng)))
    account("planner1", "planner", T.TOWN_CODE, person(T.person_name(rng)))
    account("analyst1", "analyst", T.TOWN_CODE, person(T.person_name(rng)))
    centre.append(person(T.person_name(rng)))
    account("admin", "admin", T.DIVISION, centre[-1])
    _load_centre_staff(cur, centre, since, until.date())
    ctx["accounts"] = _copy(
        cur, "accounts", ("username", "password_hash", "role", "scope_code", "person_id", "department_id"), accounts
    )
    cur.execute("SELECT id, role, scope_code, department_id FROM accounts ORDER BY id")
    ctx["account"] = account_ids(cur.fetchall(), ctx["department"])
    return ctx


# the centre's staff of the demo, in the order of centre (dispatcher1–3, townleader1–2, admin):
# post, establishment; and a few trainings (course, days before the load's day, hours)
CENTRE_POSTS = (("综治中心调度员", "事业编制"), ("综治中心调度员", "事业编制"), ("综治中心调度员", "聘用"),
                ("综治中心主任", "事业编制"), ("综治中心副主任", "借调"), ("信息系统管理员", "聘用"))
CENTRE_TRAININGS = (("网格化服务管理业务培训", 40, 16.0), ("矛盾纠纷排查化解实务", 120, 8.0),
                    ("综治信息系统操作培训", 200, 4.0))


def _load_centre_staff(cur, centre: list[int], since: date, today: date) -> None:
    """The centre's staff (no random draw: the rest of the demo stays as it was), their trainings
    and the grades of the 事业编制 members for the year before the load."""
    for pid, (post, establishment) in zip(centre, CENTRE_POSTS, strict=True):
        cur.execute("INSERT INTO staff_members (person_id, post, establishment, since) VALUES (%s, %s, %s, %s)",
                    (pid, post, establishment, since))
    for n, pid in enumerate(centre):
        for k, (course, back, hours) in enumerate(CENTRE_TRAININGS):
            if (n + k) % 3 != 2:
                cur.execute("INSERT INTO staff_trainings (person_id, course, day, hours, certificate) "
                            "VALUES (%s, %s, %s, %s, %s)", (pid, course, today - timedelta(days=back - n), hours,
                                                            f"PX{since.year}-{n + 1:02d}{k + 1}"))
    for pid, (_post, establishment) in zip(centre, CENTRE_POSTS, strict=True):
        if establishment == "事业编制":
            cur.execute("INSERT INTO staff_appraisals (person_id, year, grade) VALUES (%s, %s, %s)",
                        (pid, since.year, "合格"))


# the centre's registers (seed 3-1): its 事业单位法人证书 (five years, expiring OFFICE_EXPIRES_IN days after
# the load), a 公章 kept by dispatcher2 with a few uses approved by townleader1 (days before the load,
# document), one bank account, and half of the registration checklist ready (days before the load)
OFFICE_EXPIRES_IN = 150
OFFICE_SEAL_USES = ((34, "关于报送网格员季度考核结果的函"), (21, "综治中心工作经费申请"),
                    (9, "矛盾纠纷调解协议书 (存档)"), (2, "关于网格员招聘的请示"))
OFFICE_CHECKLIST_READY = (("registration_form", 400), ("representative_form", 400), ("charter", 390),
                          ("premises_proof", 380))


def _load_office(cur, ctx: dict, until: datetime) -> int:
    """The demo centre's registers: no random draw (the rest of the demo stays as it was). Returns
    the number of rows written."""
    today = until.date()
    by = ctx["account"]["dispatcher"][0]
    cur.execute("SELECT a.username, p.name FROM accounts a JOIN people p ON p.id = a.person_id "
                "WHERE a.username IN ('dispatcher2', 'townleader1')")
    names = dict(cur.fetchall())
    expires = today + timedelta(days=OFFICE_EXPIRES_IN)
    cur.execute(
        "INSERT INTO office_certificates (name, number, issuer, valid_from, valid_to, note, created_by) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s)",
        ("事业单位法人证书", "事证第112011600731号 (演示)", "天津市滨海新区事业单位登记管理局",
         expires - timedelta(days=5 * 365), expires, "统一社会信用代码 12120116MB0D7731XK (演示数据)", by))
    cur.execute("INSERT INTO office_seals (name, keeper, since, note) VALUES (%s, %s, %s, %s) RETURNING id",
                ("公章", names["dispatcher2"], today - timedelta(days=720), "存放于中心办公室保险柜"))
    seal = cur.fetchone()[0]
    for back, document in OFFICE_SEAL_USES:
        cur.execute("INSERT INTO office_seal_uses (seal_id, day, document, copies, approver, recorded_by, recorded_at) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    (seal, today - timedelta(days=back), document, 1 + back % 3, names["townleader1"], by,
                     datetime.combine(today - timedelta(days=back), time(10, 0), SHANGHAI)))
    cur.execute(
        "INSERT INTO office_accounts (kind, bank, name, number, opened_on, approval) VALUES (%s, %s, %s, %s, %s, %s)",
        ("基本存款账户", "中国农业银行天津滨海新区支行 (演示)", T.TOWN_RECORD["center_name"], "0212000004001773151",
         today - timedelta(days=700), "镇党委会议研究同意开户 (演示数据); 人民银行核准"))
    for code, back in OFFICE_CHECKLIST_READY:
        cur.execute("INSERT INTO office_checklist (code, state, day, note, updated_by) VALUES (%s, '已备', %s, %s, %s)",
                    (code, today - timedelta(days=back), "原件存中心档案柜", by))
    return 3 + len(OFFICE_SEAL_USES) + len(OFFICE_CHECKLIST_READY)


def account_ids(rows, department_id: dict[str, int]) -> dict:
    """The accounts' ids, for the events' actors, from rows (id, role, scope_code, department_id):
    by grid (workers), village (leaders), department code, or a list per desk role."""
    acct: dict = {"worker": {}, "leader": {}, "department": {}, "dispatcher": [], "town_leader": [], "district": []}
    dept_code = {v: k for k, v in department_id.items()}
    for account_id, role, scope, dept in rows:
        if role in ("worker", "leader"):
            acct[role][scope] = account_id
        elif role == "department":
            acct["department"][dept_code[dept]] = account_id
        elif role in acct:
            acct[role].append(account_id)
    return acct


ROSTER_DAYS = 14  # sign-ins of the last two weeks: this week's and last week's summary read like a real week
PATROL_DAYS = 7


def _duty_roster(town: T.Town, ctx: dict, seed: int, until: datetime) -> dict[tuple[str, date], tuple]:
    """When each grid worker signed in and out, per (grid, day): working days mostly 8:05–8:35 to
    17:30–17:55, some late, some leaving early, a few absent; at the weekend one worker in four on
    duty for the morning. ``out`` is None while still on duty at ``until``."""
    rng = np.random.default_rng([seed, 4])
    calendar = ctx["calendar"]
    roster = {}
    for n, g in enumerate(town.grids):
        for back in range(ROSTER_DAYS, -1, -1):
            d = until.date() - timedelta(days=back)
            u = rng.random(4)
            if calendar.is_workday(d):
                if u[0] < 0.02:
                    continue  # absent (on leave, sick)
                start = time(9, 0) if u[1] < 0.08 else time(8, 5)
                end = time(15, 30) if u[2] < 0.04 else time(17, 30)
                came = datetime.combine(d, start, SHANGHAI) + timedelta(minutes=float(u[3]) * (90 if u[1] < 0.08 else 30))
                left = datetime.combine(d, end, SHANGHAI) + timedelta(minutes=float(rng.uniform(0, 25)))
            elif (n + d.toordinal()) % 4 == 0:
                came = datetime.combine(d, time(8, 20), SHANGHAI) + timedelta(minutes=float(u[3]) * 30)
                left = datetime.combine(d, time(12, 10), SHANGHAI) + timedelta(minutes=float(u[2]) * 40)
            else:
                continue
            if came >= until:
                continue
            roster[(g["code"], d)] = (came.replace(microsecond=0), left.replace(microsecond=0) if left < until else None)
    return roster


def _load_attendance(cur, town: T.Town, ctx: dict, roster: dict, seed: int) -> int:
    """The sign-ins and -outs of the roster, made at the grid (inside it, as the phone would check)."""
    rng = np.random.default_rng([seed, 8])
    place = {}
    for g in town.grids:
        p = g["geom"].representative_point()
        place[g["code"]] = _hex([p])[0]
    rows = []
    for (code, d), (came, left) in roster.items():
        person = ctx["worker"][code]
        account = ctx["account"]["worker"][code]
        for kind, at in (("in", came), ("out", left)):
            if at is not None:
                rows.append((account, person, kind, at.isoformat(), place[code], round(float(rng.uniform(4, 20)), 1),
                             code, "true", 0.0, f"demo-{d.isoformat()}-{kind}", "true"))
    return _copy(cur, "attendance", ("account_id", "worker_id", "kind", "at", "geom", "accuracy_m", "grid_code",
                                     "inside", "distance_m", "client_id", "synthetic"), rows)


def _load_patrols(cur, town: T.Town, ctx: dict, roster: dict, seed: int, until: datetime) -> tuple[int, int]:
    """A week of patrols: each worker on duty walks their grid once a day, a fix every 30 s, at a
    walking pace with a few stops (talking to residents, looking at a place), so the track reads
    as 1–2 hours on foot with its moving time."""
    rng = np.random.default_rng([seed, 3])
    patrols, fixes = [], []
    pid = 0
    for g in town.grids:
        worker = ctx["worker"][g["code"]]
        poly_local = shapely.transform(g["geom"], lambda c: np.column_stack(T.to_local(c[:, 0], c[:, 1])))
        shapely.prepare(poly_local)
        c = poly_local.representative_point()
        for day in range(PATROL_DAYS, -1, -1):
            d = until.date() - timedelta(days=day)
            duty = roster.get((g["code"], d))
            if duty is None:
                continue
            came, left = duty
            start = came + timedelta(minutes=int(rng.integers(10, 90)))
            steps = int(rng.integers(120, 240))
            stop_by = min(left or until, until)
            x, y = c.x, c.y
            heading = rng.uniform(0, 2 * math.pi)
            xs, ys = [], []
            moving = 0
            stopped = 0
            for _ in range(steps):
                if start + timedelta(seconds=30 * len(xs)) >= stop_by:
                    break
                if stopped:  # standing: the phone's fix wanders a metre or two
                    stopped -= 1
                    jx, jy = x + rng.normal(0, 1.5), y + rng.normal(0, 1.5)
                    inside = shapely.contains_xy(poly_local, jx, jy)
                    xs.append(jx if inside else x)
                    ys.append(jy if inside else y)
                    continue
                if rng.random() < 0.02:
                    stopped = int(rng.integers(4, 12))
                heading += rng.normal(0, 0.5)
                step = rng.uniform(25, 45)  # 30 s on foot or e-bike, metres
                nx, ny = x + step * math.cos(heading), y + step * math.sin(heading)
                if not shapely.contains_xy(poly_local, nx, ny):
                    heading += math.pi
                    continue
                x, y = nx, ny
                xs.append(x)
                ys.append(y)
                moving += 1
            if len(xs) < 2:
                continue
            lon, lat = T.to_lonlat(np.array(xs), np.array(ys))
            pid += 1
            pts = shapely.points(lon, lat)
            duration = 30 * (len(xs) - 1)
            patrols.append((
                pid, worker, g["code"], start.isoformat(),
                (start + timedelta(seconds=duration)).isoformat(),
                _hex([shapely.linestrings(lon, lat)])[0], "true", "demo", duration, 30 * max(moving - 1, 0),
            ))
            hexes = _hex(pts)
            for k in range(len(xs)):
                fixes.append((pid, worker, (start + timedelta(seconds=30 * k)).isoformat(), hexes[k],
                              round(float(rng.uniform(3, 15)), 1)))
    _copy(cur, "patrols", ("id", "worker_id", "grid_code", "started_at", "ended_at", "track", "synthetic", "source",
                           "duration_s", "moving_s"), patrols)
    _copy(cur, "gps_fixes", ("patrol_id", "worker_id", "at", "geom", "accuracy_m"), fixes)
    cur.execute("UPDATE patrols SET distance_m = ST_Length(track::geography)")
    cur.execute("SELECT setval('patrols_id_seq', GREATEST((SELECT max(id) FROM patrols), 1))")
    return len(patrols), len(fixes)


VISIT_ADDRESSES = (20, 41)  # 门牌 per grid: from, to (exclusive)
VISIT_SHARE = (0.2, 0.6)  # the share of a grid's 门牌 its worker has visited this month by ``until``


def _load_visits(cur, town: T.Town, ctx: dict, seed: int, until: datetime) -> tuple[int, int]:
    """The register of 门牌 (日走访, issue 16): 20–40 address points in each grid, in rows of eight
    ("后沽村3组 2 排 5 号"), one to three households each; and this month's visits of each worker to a
    share of them, on working days up to ``until``, the phone a few metres from the door. Its own
    random stream, so the rest of the demo stays as it was."""
    rng = np.random.default_rng([seed, 19])
    village_name = {v["code"]: v["name"] for v in town.villages}
    first = until.date().replace(day=1)
    days = [first + timedelta(days=k) for k in range((until.date() - first).days + 1)]
    days = [d for d in days if ctx["calendar"].is_workday(d)] or [until.date()]
    points, visits = [], []
    pid = vid = 0
    for g in town.grids:
        poly_local = shapely.transform(g["geom"], lambda c: np.column_stack(T.to_local(c[:, 0], c[:, 1])))
        inner = poly_local.buffer(-15) if poly_local.buffer(-15).area > 0 else poly_local
        shapely.prepare(inner)
        n = int(rng.integers(*VISIT_ADDRESSES))
        minx, miny, maxx, maxy = inner.bounds
        xs, ys = np.empty(0), np.empty(0)
        while xs.size < n:
            x, y = rng.uniform(minx, maxx, 4 * n), rng.uniform(miny, maxy, 4 * n)
            keep = shapely.contains_xy(inner, x, y)
            xs, ys = np.append(xs, x[keep]), np.append(ys, y[keep])
        order = np.lexsort((xs[:n], -ys[:n]))  # north to south, then west to east: the rows of a village
        xs, ys = xs[:n][order], ys[:n][order]
        lon, lat = T.to_lonlat(xs, ys)
        group = int(g["code"][-3:])
        first_id = pid + 1
        for k in range(n):
            pid += 1
            households = int(rng.choice([1, 1, 1, 1, 2, 2, 3]))
            points.append((pid, g["code"], f"{village_name[g['village_code']]}{group}组 {k // 8 + 1} 排 {k % 8 + 1} 号",
                           households, f"SRID=4326;POINT({lon[k]:.7f} {lat[k]:.7f})", "true"))
        visited = rng.choice(n, size=int(n * rng.uniform(*VISIT_SHARE)), replace=False)
        for k in sorted(visited):
            day = days[int(rng.integers(len(days)))]
            at = datetime.combine(day, time(9, 0), SHANGHAI) + timedelta(minutes=int(rng.integers(0, 480)))
            if at >= until:
                at = until - timedelta(minutes=int(rng.integers(5, 120)))
            dx, dy = rng.normal(0, 6, 2)
            vlon, vlat = T.to_lonlat(np.array([xs[k] + dx]), np.array([ys[k] + dy]))
            vid += 1
            visits.append((vid, first_id + int(k), g["code"], ctx["account"]["worker"][g["code"]], ctx["worker"][g["code"]],
                           at.isoformat(), f"SRID=4326;POINT({vlon[0]:.7f} {vlat[0]:.7f})", round(float(vlon[0]), 7),
                           round(float(vlat[0]), 7), "wgs84", round(float(rng.uniform(5, 20)), 1), 0.0,
                           round(float(math.hypot(dx, dy)), 1), "入户走访, 情况正常", "true"))
    _copy(cur, "address_points", ("id", "grid_code", "address", "households", "geom", "synthetic"), points)
    _copy(cur, "visits", ("id", "address_id", "grid_code", "account_id", "worker_id", "visited_at", "geom", "raw_lng",
                          "raw_lat", "raw_crs", "accuracy_m", "outside_m", "household_m", "note", "synthetic"), visits)
    cur.execute("SELECT setval('address_points_id_seq', GREATEST((SELECT max(id) FROM address_points), 1))")
    cur.execute("SELECT setval('visits_id_seq', GREATEST((SELECT max(id) FROM visits), 1))")
    return len(points), len(visits)


def demo_accounts(engine: Engine) -> list[dict]:
    """The demo logins as ``{username, role, scope}``, for ``wangge demo accounts``."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT username, role, scope_code FROM accounts WHERE active ORDER BY role, username")
        )
        return [{"username": u, "role": r, "scope": s} for u, r, s in rows]


def as_of(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.combine(date.fromisoformat(value), time(18, 0), SHANGHAI)
