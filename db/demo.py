"""Load the synthetic demo town into PostGIS: areas, grids, people, accounts, categories, a year of
incidents with hotspots and seasonality, and a week of patrol tracks. One transaction, COPY for bulk.
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
from workflow.clock import DEFAULT_CALENDAR, SHANGHAI

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


def _states(rng, age_days: np.ndarray) -> np.ndarray:
    old = ["结案", "作废", "挂账", "督办"]
    new = ["待受理", "已立案", "立案派遣", "处理中", "待核查", "结案"]
    states = np.where(
        age_days > 20,
        rng.choice(old, size=age_days.size, p=[0.92, 0.04, 0.025, 0.015]),
        rng.choice(new, size=age_days.size, p=[0.18, 0.07, 0.2, 0.2, 0.1, 0.25]),
    )
    return states


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
        return [], "village", 0, 0
    if state == "作废":
        return [("void", "dispatcher", "待受理", "作废")], "town", 0, 0
    if state == "结案" and self_handle and u[0] < 0.6:
        return [("self_handle", "worker", "待受理", "结案")], "village", 0, 0
    if state == "结案" and u[0] < 0.25:
        return [("village_handle", "leader", "待受理", "处理中"), ("village_done", "leader", "处理中", "待核查"),
                ("verify_pass", "worker", "待核查", "结案")], "village", 0, 0
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


def _incident_chunks(town: T.Town, n: int, seed: int, until: datetime, ctx: dict) -> Iterator[tuple]:
    """Yield rows of incidents and their events, CHUNK at a time."""
    outline_local = shapely.transform(
        town.outline, lambda c: np.column_stack(T.to_local(c[:, 0], c[:, 1]))
    )
    grid_geoms = [g["geom"] for g in town.grids]
    grid_codes = [g["code"] for g in town.grids]
    village_name = {v["code"]: v["name"] for v in town.villages}
    next_id = 1
    chunk_no = 0
    while next_id <= n:
        size = min(CHUNK, n - next_id + 1)
        rng = np.random.default_rng([seed, 7, chunk_no])
        chunk_no += 1
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
        incidents, events = [], []
        for i in range(size):
            iid = next_id + i
            g = int(grid_idx[i])
            grid = town.grids[g] if g >= 0 else None
            reported = datetime.fromtimestamp(float(ts[i]), SHANGHAI)
            category = T.CATEGORIES[cat[i]]
            limit, unit = category[6], category[7]
            state = str(states[i])
            steps, tier, reworks, returns = _history(state, category[5], draws[i])
            if grid is None:
                tier = "town"
            # the steps are spread from the report to the close (or to a while before "until")
            end = (reported + timedelta(seconds=float(close_after[i])) if state == "结案"
                   else reported + (until - reported) * 0.8)
            span = (end - reported) / (len(steps) + 1)
            times = [reported + span * (k + 1) for k in range(len(steps))]
            dispatched = max((t for t, st in zip(times, steps, strict=True) if st[0] == "dispatch"), default=None)
            deadline = ctx["deadline"](dispatched or reported, limit, unit)
            closed = times[-1] if state == "结案" else None
            visited = (state == "结案" and tier == "town" and draws[i][3] < 0.3
                       and closed + timedelta(days=1) <= until)
            code = category[0]
            vname = village_name[grid["village_code"]] if grid else ""
            address = f"{vname}{T.ROADS[roads[i]]}{numbers[i]}号附近"
            incidents.append((
                iid,
                f"{T.CASE_PREFIX}{reported:%Y%m%d}{iid:07d}",
                geom_hex[i],
                lon[i], lat[i], "wgs84",
                sources[i],
                ctx["category_id"][code],
                f"{category[3]}:{address}(演示数据)",
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
            ))
            events.append((iid, reported.isoformat(), "worker", "report", None, "待受理", "上报(演示数据)", "{}"))
            for t, (action, role, before, after) in zip(times, steps, strict=True):
                data = json.dumps({"department": category[4]}) if action == "dispatch" else "{}"
                events.append((iid, t.isoformat(), role, action, before, after, "演示数据", data))
            if visited:
                events.append((iid, (closed + timedelta(days=1)).isoformat(), "dispatcher", "return_visit", "结案",
                               "结案", "回访(演示数据)", json.dumps({"satisfaction": int(satisfaction[i])})))
        next_id += size
        yield incidents, events


INCIDENT_COLUMNS = (
    "id", "case_no", "geom", "raw_lng", "raw_lat", "raw_crs", "source", "category_id", "description",
    "address", "grid_id", "grid_code", "village_code", "worker_id", "leader_id", "department_id",
    "state", "flags", "reported_at", "deadline", "closed_at", "synthetic", "tier", "dispatched_at",
    "rework_count", "return_count", "satisfaction",
)
EVENT_COLUMNS = ("incident_id", "at", "role", "action", "from_state", "to_state", "note", "data")


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
        n_inc = n_ev = 0
        for rows, events in _incident_chunks(town, incidents, seed, until, ctx):
            n_inc += _copy(cur, "incidents", INCIDENT_COLUMNS, rows)
            n_ev += _copy(cur, "case_events", EVENT_COLUMNS, events)
            if progress:
                progress(len(rows))
        cur.execute("SELECT setval('incidents_id_seq', GREATEST((SELECT max(id) FROM incidents), 1))")
        counts["incidents"] = n_inc
        counts["case_events"] = n_ev
        counts["patrols"], counts["gps_fixes"] = _load_patrols(cur, town, ctx, seed, until)
        cur.execute(
            "INSERT INTO settings (key, value) VALUES ('demo', %s)",
            (json.dumps({
                "synthetic": True, "seed": seed, "until": until.isoformat(), "incidents": n_inc,
                "town": T.TOWN_NAME, "supervision_phone": T.SUPERVISION_PHONE,
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
            text("ANALYZE areas; ANALYZE grids; ANALYZE incidents; ANALYZE gps_fixes")
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
            "INSERT INTO categories (code, kind, class_name, name, department_id, self_handle, time_limit, time_unit) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (code, kind, klass, name, ctx["department"][dept], self_handle, limit, unit),
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
    for n in range(1, 4):
        account(f"dispatcher{n}", "dispatcher", T.TOWN_CODE, person(T.person_name(rng)))
    for n in range(1, 3):
        account(f"townleader{n}", "town_leader", T.TOWN_CODE, person(T.person_name(rng)))
    for code, _name, _phone, _level in T.DEPARTMENTS:
        if code != "zongzhi":
            account(f"dept_{code}", "department", T.TOWN_CODE, person(T.person_name(rng)), ctx["department"][code])
    for n in range(1, 3):
        account(f"district{n}", "district", T.DIVISION, person(T.person_name(rng)))
    account("planner1", "planner", T.TOWN_CODE, person(T.person_name(rng)))
    account("analyst1", "analyst", T.TOWN_CODE, person(T.person_name(rng)))
    account("admin", "admin", T.DIVISION, person(T.person_name(rng)))
    ctx["accounts"] = _copy(
        cur, "accounts", ("username", "password_hash", "role", "scope_code", "person_id", "department_id"), accounts
    )
    return ctx


def _load_patrols(cur, town: T.Town, ctx: dict, seed: int, until: datetime) -> tuple[int, int]:
    """A week of patrols: each worker walks their grid once a day, a fix every 30 s."""
    rng = np.random.default_rng([seed, 3])
    patrols, fixes = [], []
    pid = 0
    for g in town.grids:
        worker = ctx["worker"][g["code"]]
        poly_local = shapely.transform(g["geom"], lambda c: np.column_stack(T.to_local(c[:, 0], c[:, 1])))
        shapely.prepare(poly_local)
        c = poly_local.representative_point()
        for day in range(7, 0, -1):
            d = until.date() - timedelta(days=day)
            start = datetime.combine(d, time(8, 30), SHANGHAI) + timedelta(minutes=int(rng.integers(0, 180)))
            steps = int(rng.integers(120, 240))
            x, y = c.x, c.y
            heading = rng.uniform(0, 2 * math.pi)
            xs, ys = [], []
            for _ in range(steps):
                heading += rng.normal(0, 0.5)
                step = rng.uniform(25, 45)  # 30 s on foot or e-bike, metres
                nx, ny = x + step * math.cos(heading), y + step * math.sin(heading)
                if not shapely.contains_xy(poly_local, nx, ny):
                    heading += math.pi
                    continue
                x, y = nx, ny
                xs.append(x)
                ys.append(y)
            if len(xs) < 2:
                continue
            lon, lat = T.to_lonlat(np.array(xs), np.array(ys))
            pid += 1
            pts = shapely.points(lon, lat)
            patrols.append((
                pid, worker, g["code"], start.isoformat(),
                (start + timedelta(seconds=30 * len(xs))).isoformat(),
                _hex([shapely.linestrings(lon, lat)])[0], "true", "demo",
            ))
            hexes = _hex(pts)
            for k in range(len(xs)):
                fixes.append((pid, worker, (start + timedelta(seconds=30 * k)).isoformat(), hexes[k],
                              round(float(rng.uniform(3, 15)), 1)))
    _copy(cur, "patrols", ("id", "worker_id", "grid_code", "started_at", "ended_at", "track", "synthetic", "source"),
          patrols)
    _copy(cur, "gps_fixes", ("patrol_id", "worker_id", "at", "geom", "accuracy_m"), fixes)
    cur.execute("UPDATE patrols SET distance_m = ST_Length(track::geography)")
    cur.execute("SELECT setval('patrols_id_seq', GREATEST((SELECT max(id) FROM patrols), 1))")
    return len(patrols), len(fixes)


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
