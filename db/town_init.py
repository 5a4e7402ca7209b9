"""A real town into an empty, migrated database (``wangge town init``): its villages and grids as
read by :mod:`spatial.townfiles`, checked in PostGIS, and its staff, all or nothing.

The features go into temporary tables first, where every check runs on the WGS84 geometry that
would be stored (what is measured, areas and distances, is measured in metres in the town's UTM
zone); a problem rolls the whole transaction back, so nothing is written. The checks, each naming
the features and the place (WGS84 lng, lat):

- ``invalid``: a polygon PostGIS calls invalid, with ``ST_IsValidReason`` and its location;
- ``outside``: a grid reaching more than :data:`OUTSIDE_M` beyond the village it lies in (the
  village holding most of it), or in no village;
- ``overlap``: two grids (or two villages) sharing more than :data:`OVERLAP_M2`;
- ``gap``: a part of a village above :data:`GAP_M2` covered by none of its grids (overlaps and gaps
  narrower than :data:`SLIVER_M` on average are slivers, left alone);
- ``bad_code``, ``duplicate_code``, ``foreign_code``: a village code that is not 12 digits or does
  not begin with the town's code, a grid code that is not 15 digits or does not begin with its
  village's code, a code used twice.

Grids without a code get the next free ones of their village, numbered west→east within rows taken
north→south (:func:`spatial.planning.order_west_east_north_south`); grids without a name are named
after their village and number. The town's record (``towns``) is filled from the options, its map
centre and zoom from the villages' extent; ``settings`` key ``town`` says the data is real.
"""

from __future__ import annotations

import json
import math
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime

import shapely
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import ProgrammingError
from werkzeug.security import generate_password_hash

from spatial.planning import order_west_east_north_south
from spatial.townfiles import ROLE_NAMES, Feature, Layer, PersonRow
from workflow.clock import SHANGHAI, format_iso

OUTSIDE_M = 1.0
OVERLAP_M2 = 1.0
GAP_M2 = 1.0
MAX_SEQ = 999
# The stored edges are straight in degrees; cut into pieces this long (about 10 m) before measuring
# in metres, so that a sliver between edges straight in degrees keeps its area in the UTM zone.
SEGMENT_DEG = 1e-4
# A gap or overlap narrower than this on average (2 × area / perimeter) is a sliver, not a problem:
# what edges drawn straight in two coordinate systems (a village in Gauss–Krüger metres, its grids
# on a web map in degrees) leave between them, centimetres wide over a kilometre.
SLIVER_M = 0.1
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/l/I
PASSWORD_LENGTH = 12
PHONE = re.compile(r"1[3-9][0-9]{9}")
TOWN_SCOPED = ("dispatcher", "town_leader", "department", "planner", "analyst")
DISTRICT_SCOPED = ("district", "admin")


class TownInitError(Exception):
    """The database cannot take a town (not empty, not migrated): the reason in Chinese and English."""

    def __init__(self, zh: str, en: str):
        super().__init__(en)
        self.zh, self.en = zh, en


@dataclass(frozen=True)
class TownSpec:
    code: str  # 9 digits
    name: str
    district_code: str  # 6 digits
    district_name: str
    case_prefix: str = "WG"
    center_name: str | None = None  # default: name + 综合治理中心
    supervision_office: str = ""
    supervision_phone: str = ""
    name_en: str | None = None


@dataclass(frozen=True)
class Problem:
    kind: str
    zh: str
    en: str
    lng: float | None = None
    lat: float | None = None
    area_m2: float | None = None

    def line(self) -> str:
        place = "" if self.lng is None else f"  @ {self.lng:.7f}, {self.lat:.7f}"
        area = "" if self.area_m2 is None else f"  {self.area_m2:,.2f} m²"
        return f"错误 error [{self.kind}] {self.zh} / {self.en}{place}{area}"


@dataclass
class Outcome:
    problems: list[Problem] = field(default_factory=list)
    villages: int = 0
    grids: int = 0
    assigned: list[tuple[int, str]] = field(default_factory=list)  # (grid feature row, the code it got)
    accounts: list[dict] = field(default_factory=list)  # {username, role, scope, password}
    town: dict = field(default_factory=dict)
    written: bool = False


def has_real_town(engine: Engine) -> bool:
    """Whether the database holds a town that is not the synthetic demo (False before migrations)."""
    with engine.connect() as conn:
        try:
            return bool(conn.execute(text(
                "SELECT EXISTS (SELECT 1 FROM areas WHERE level = 'town' AND NOT synthetic)")).scalar())
        except ProgrammingError:
            return False


def utm_srid(lng: float, lat: float) -> int:
    """The EPSG code of the WGS84 UTM zone of a point (metres for the checks).

    >>> utm_srid(117.7, 39.3), utm_srid(-3.0, -10.0)
    (32650, 32730)
    """
    zone = min(int((lng + 180) // 6) + 1, 60)
    return (32600 if lat >= 0 else 32700) + zone


def map_zoom(west: float, south: float, east: float, north: float, pixels: int = 800) -> int:
    """The web-map zoom at which the extent fits in about ``pixels``.

    >>> map_zoom(117.6, 39.2, 117.9, 39.45)
    11
    """
    width = max(east - west, (north - south) / max(math.cos(math.radians((north + south) / 2)), 0.1), 1e-6)
    return max(1, min(17, int(math.floor(math.log2(pixels * 360 / (256 * width))))))


def _wkb(geom) -> bytes:
    return shapely.to_wkb(geom)


def _load(conn: Connection, table: str, features: list[Feature], srid: int) -> None:
    conn.execute(text(f"""
        CREATE TEMP TABLE {table} (
            row integer PRIMARY KEY, code text, name text, geom geometry(MultiPolygon, 4326),
            geom_m geometry, valid boolean, village_row integer) ON COMMIT DROP"""))
    if features:
        conn.execute(text(f"INSERT INTO {table} (row, code, name, geom) "  # noqa: S608 (a constant table name)
                          "VALUES (:row, :code, :name, ST_SetSRID(ST_GeomFromWKB(:wkb), 4326))"),
                     [{"row": f.row, "code": f.code, "name": f.name, "wkb": _wkb(f.geom)} for f in features])
    metres = f"ST_Transform(ST_Segmentize(geom, {SEGMENT_DEG}), {int(srid)})"
    conn.execute(text(f"UPDATE {table} SET geom_m = {metres}, valid = ST_IsValid(geom)"))  # noqa: S608 (constants)
    conn.execute(text(f"CREATE INDEX ON {table} USING gist (geom)"))
    conn.execute(text(f"ANALYZE {table}"))


def _who(kind: str, row, code, name, lang: str) -> str:
    return Feature(row, code, name, None).label(kind, lang)


def _geometry_problems(conn: Connection, srid: int) -> list[Problem]:
    out: list[Problem] = []
    for table, kind in (("t_villages", "villages"), ("t_grids", "grids")):
        for r in conn.execute(text(f"""
                SELECT t.row, t.code, t.name, ST_IsValidReason(t.geom) AS reason,
                       ST_X(coalesce(d.location, ST_PointOnSurface(t.geom))) AS x,
                       ST_Y(coalesce(d.location, ST_PointOnSurface(t.geom))) AS y
                  FROM {table} t, LATERAL ST_IsValidDetail(t.geom) d
                 WHERE NOT t.valid ORDER BY t.row""")):  # noqa: S608 (a constant table name)
            out.append(Problem("invalid", f"{_who(kind, r.row, r.code, r.name, 'zh')} 的面无效: {r.reason}",
                               f"{_who(kind, r.row, r.code, r.name, 'en')} is an invalid polygon: {r.reason}",
                               r.x, r.y))
    # each valid grid lies in the valid village that holds most of it. GEOS refuses invalid input, and
    # the planner may evaluate a function before a join's filter: the CASEs keep invalid ones out.
    conn.execute(text("""
        UPDATE t_grids g SET village_row = (
            SELECT v.row FROM t_villages v WHERE v.valid AND ST_Intersects(v.geom, g.geom)
             ORDER BY ST_Area(ST_Intersection(CASE WHEN v.valid THEN v.geom END, g.geom)) DESC, v.row LIMIT 1)
         WHERE g.valid"""))
    for r in conn.execute(text("""
            SELECT row, code, name, ST_X(ST_PointOnSurface(geom)) AS x, ST_Y(ST_PointOnSurface(geom)) AS y
              FROM t_grids WHERE valid AND village_row IS NULL ORDER BY row""")):
        out.append(Problem("outside", f"{_who('grids', r.row, r.code, r.name, 'zh')} 不在任何村/社区内",
                           f"{_who('grids', r.row, r.code, r.name, 'en')} lies in no village", r.x, r.y))
    for r in conn.execute(text("""
            SELECT g.row, g.code, g.name, v.row AS vrow, v.code AS vcode, v.name AS vname,
                   ST_Area(ST_Transform(ST_Segmentize(d.geom, :seg), :srid)) AS area, far.m AS far,
                   ST_X(ST_PointOnSurface(d.geom)) AS x, ST_Y(ST_PointOnSurface(d.geom)) AS y
              FROM t_grids g JOIN t_villages v ON v.row = g.village_row,
                   LATERAL ST_Dump(ST_CollectionExtract(ST_Difference(CASE WHEN g.valid THEN g.geom END, v.geom), 3)) d,
                   LATERAL (SELECT max(ST_Distance(ST_Transform(p.geom, :srid), v.geom_m)) AS m
                              FROM ST_DumpPoints(d.geom) p) far
             WHERE far.m > :m ORDER BY g.row, far.m DESC"""), {"m": OUTSIDE_M, "srid": srid, "seg": SEGMENT_DEG}):
        out.append(Problem(
            "outside",
            f"{_who('grids', r.row, r.code, r.name, 'zh')} 超出所在的{_who('villages', r.vrow, r.vcode, r.vname, 'zh')} "
            f"达 {r.far:.1f} m (允许 {OUTSIDE_M:g} m)",
            f"{_who('grids', r.row, r.code, r.name, 'en')} reaches {r.far:.1f} m beyond its "
            f"{_who('villages', r.vrow, r.vcode, r.vname, 'en')} (allowed: {OUTSIDE_M:g} m)", r.x, r.y, r.area))
    params = {"srid": srid, "seg": SEGMENT_DEG, "sliver": SLIVER_M}
    for table, kind in (("t_villages", "villages"), ("t_grids", "grids")):
        for r in conn.execute(text(f"""
                SELECT a.row AS arow, a.code AS acode, a.name AS aname, b.row AS brow, b.code AS bcode,
                       b.name AS bname, ST_Area(m.geom) AS area,
                       ST_X(ST_PointOnSurface(i.geom)) AS x, ST_Y(ST_PointOnSurface(i.geom)) AS y
                  FROM {table} a JOIN {table} b
                    ON a.row < b.row AND a.valid AND b.valid
                   AND ST_Intersects(CASE WHEN a.valid AND b.valid THEN a.geom END, b.geom),
                       LATERAL ST_Dump(ST_CollectionExtract(ST_Intersection(
                           CASE WHEN a.valid AND b.valid THEN a.geom END, b.geom), 3)) i,
                       LATERAL (SELECT ST_Transform(ST_Segmentize(i.geom, :seg), :srid) AS geom) m
                 WHERE ST_Area(m.geom) > :m2 AND 2 * ST_Area(m.geom) / ST_Perimeter(m.geom) >= :sliver
                 ORDER BY a.row, b.row, 7 DESC"""), {"m2": OVERLAP_M2, **params}):  # noqa: S608 (constant)
            a_zh, b_zh = _who(kind, r.arow, r.acode, r.aname, "zh"), _who(kind, r.brow, r.bcode, r.bname, "zh")
            a_en, b_en = _who(kind, r.arow, r.acode, r.aname, "en"), _who(kind, r.brow, r.bcode, r.bname, "en")
            out.append(Problem("overlap", f"{a_zh} 与 {b_zh} 重叠", f"{a_en} and {b_en} overlap", r.x, r.y, r.area))
    for r in conn.execute(text("""
            SELECT v.row, v.code, v.name, ST_Area(m.geom) AS area,
                   ST_X(ST_PointOnSurface(d.geom)) AS x, ST_Y(ST_PointOnSurface(d.geom)) AS y
              FROM t_villages v,
                   LATERAL ST_Dump(ST_CollectionExtract(coalesce(
                       ST_Difference(CASE WHEN v.valid THEN v.geom END,
                                     (SELECT ST_Union(g.geom) FROM t_grids g WHERE g.village_row = v.row)),
                       CASE WHEN v.valid THEN v.geom END), 3)) d,
                   LATERAL (SELECT ST_Transform(ST_Segmentize(d.geom, :seg), :srid) AS geom) m
             WHERE v.valid AND ST_Area(m.geom) > :m2 AND 2 * ST_Area(m.geom) / ST_Perimeter(m.geom) >= :sliver
             ORDER BY v.row, 4 DESC"""), {"m2": GAP_M2, **params}):
        out.append(Problem("gap", f"{_who('villages', r.row, r.code, r.name, 'zh')} 内有一处没有网格覆盖的空隙",
                           f"{_who('villages', r.row, r.code, r.name, 'en')} has a gap that no grid covers",
                           r.x, r.y, r.area))
    return out


def _code_problems(spec: TownSpec, villages: list, grids: list) -> list[Problem]:
    """Codes: format, prefix and duplicates. ``villages``/``grids`` are rows (row, code, name,
    village_row, x, y)."""
    out: list[Problem] = []
    seen: dict[tuple[str, str], object] = {}
    by_row = {v.row: v for v in villages}
    for kind, items, digits in (("villages", villages, 12), ("grids", grids, 15)):
        for f in items:
            if f.code is None:
                if kind == "villages":
                    out.append(Problem("bad_code", f"{_who(kind, f.row, f.code, f.name, 'zh')} 没有村/社区编码",
                                       f"{_who(kind, f.row, f.code, f.name, 'en')} has no village code", f.x, f.y))
                continue
            who_zh, who_en = _who(kind, f.row, f.code, f.name, "zh"), _who(kind, f.row, f.code, f.name, "en")
            if not (len(f.code) == digits and f.code.isascii() and f.code.isdigit()):
                out.append(Problem("bad_code", f"{who_zh} 的编码应为 {digits} 位数字",
                                   f"{who_en}: the code must be {digits} digits", f.x, f.y))
                continue
            first = seen.setdefault((kind, f.code), f)
            if first is not f:
                out.append(Problem("duplicate_code",
                                   f"{who_zh} 与 {_who(kind, first.row, first.code, first.name, 'zh')} 编码重复",
                                   f"{who_en} has the same code as {_who(kind, first.row, first.code, first.name, 'en')}",
                                   f.x, f.y))
            if kind == "villages" and not f.code.startswith(spec.code):
                out.append(Problem("foreign_code", f"{who_zh} 的编码不以本镇编码 {spec.code} 开头",
                                   f"{who_en}: the code does not begin with the town's code {spec.code}", f.x, f.y))
            village = by_row.get(getattr(f, "village_row", None)) if kind == "grids" else None
            if village is not None and village.code and not f.code.startswith(village.code):
                out.append(Problem(
                    "foreign_code", f"{who_zh} 的编码不以所在村/社区的编码 {village.code} 开头",
                    f"{who_en}: the code does not begin with its village's code {village.code}", f.x, f.y))
    return out


def _assign(grids: list, villages: dict, outcome: Outcome) -> dict[int, tuple[str, str]]:
    """Codes and names for the grids that lack them: row → (code, name)."""
    final: dict[int, tuple[str, str]] = {}
    by_village: dict[int, list] = {}
    for g in grids:
        by_village.setdefault(g.village_row, []).append(g)
    for vrow, members in sorted(by_village.items()):
        village = villages[vrow]
        used = {int(g.code[12:]) for g in members if g.code}
        missing = [g for g in members if not g.code]
        order = order_west_east_north_south([shapely.from_wkb(bytes(g.wkb)) for g in missing])
        seq = max(used, default=0)
        for i in order:
            g = missing[i]
            seq += 1
            if seq > MAX_SEQ:
                outcome.problems.append(Problem(
                    "bad_code", f"{_who('villages', vrow, village.code, village.name, 'zh')} 的网格编号已超过 {MAX_SEQ}",
                    f"{_who('villages', vrow, village.code, village.name, 'en')} has more than {MAX_SEQ} grids"))
                return final
            code = f"{village.code}{seq:03d}"
            outcome.assigned.append((g.row, code))
            final[g.row] = (code, g.name)
        for g in members:
            code = final.get(g.row, (g.code, None))[0]
            final[g.row] = (code, g.name or f"{village.name}第{int(code[12:])}网格")
    return final


def one_time_password() -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))


def _people_plan(spec: TownSpec, people: list[PersonRow], grids: dict[str, str], villages: set[str],
                 outcome: Outcome) -> list[dict]:
    """The accounts to make from the staff list (``grids``: grid code → village code), or problems."""
    plans, phones = [], {}
    for p in people:
        where = f"人员名单第 {p.row} 行", f"staff list row {p.row}"
        bad = []
        role = ROLE_NAMES.get((p.role or "").strip().lower())
        if not p.name:
            bad.append(("缺少姓名", "no name (姓名)"))
        if not p.phone or not PHONE.fullmatch(p.phone.replace(" ", "").replace("-", "")):
            bad.append((f"手机号应为 11 位 ({p.phone or '空'})", f"the mobile number must be 11 digits ({p.phone or 'empty'})"))
        phone = (p.phone or "").replace(" ", "").replace("-", "")
        if PHONE.fullmatch(phone):
            if phone in phones:
                bad.append((f"手机号与第 {phones[phone]} 行重复", f"the same mobile number as row {phones[phone]}"))
            phones.setdefault(phone, p.row)
        scope, duty_grids, department = None, [], None
        if role is None:
            bad.append((f"未知角色 {p.role or '空'} (应为 网格员、网格长、调度员、镇领导、部门、区网格中心、规划员、分析员、管理员)",
                        f"unknown role {p.role or '(empty)'} (worker, leader, dispatcher, town_leader, department, "
                        "district, planner, analyst, admin)"))
        elif role == "worker":
            if p.grid not in grids:
                bad.append((f"网格员需要本镇的网格编码 ({p.grid or '空'})",
                            f"a grid worker needs a grid code of the town ({p.grid or 'empty'})"))
            else:
                scope, duty_grids = p.grid, [p.grid]
        elif role == "leader":
            if p.village in villages:
                scope, duty_grids = p.village, sorted(c for c, v in grids.items() if v == p.village)
            elif p.grid in grids:
                scope, duty_grids = grids[p.grid], [p.grid]
            else:
                bad.append((f"网格长需要本镇的村编码或网格编码 ({p.village or p.grid or '空'})",
                            f"a grid leader needs a village or grid code of the town ({p.village or p.grid or 'empty'})"))
        elif role == "department":
            if not p.department:
                bad.append(("职能部门账号需要部门名称", "a department account needs the department's name (部门)"))
            scope, department = spec.code, p.department
        else:
            scope = spec.code if role in TOWN_SCOPED else spec.district_code
        if bad:
            outcome.problems.append(Problem("people", f"{where[0]}: " + "; ".join(z for z, _ in bad),
                                            f"{where[1]}: " + "; ".join(e for _, e in bad)))
            continue
        plans.append({"name": p.name, "phone": phone, "role": role, "scope": scope, "grids": duty_grids,
                      "department": department})
    return plans


def _write_people(conn: Connection, spec: TownSpec, plans: list[dict], today: date, outcome: Outcome) -> None:
    departments: dict[str, int] = {}
    for plan in plans:
        person_id = conn.execute(text("INSERT INTO people (name, phone, synthetic) VALUES (:n, :p, false) RETURNING id"),
                                 {"n": plan["name"], "p": plan["phone"]}).scalar_one()
        department_id = None
        if plan["department"]:
            if plan["department"] not in departments:
                departments[plan["department"]] = conn.execute(text(
                    "INSERT INTO departments (code, name, level) VALUES (:c, :n, 'town') RETURNING id"),
                    {"c": f"d{len(departments) + 1:02d}", "n": plan["department"]}).scalar_one()
            department_id = departments[plan["department"]]
        password = one_time_password()
        conn.execute(text("""INSERT INTO accounts (username, password_hash, role, scope_code, person_id, department_id,
                                                   must_change_password)
                             VALUES (:u, :h, :r, :s, :p, :d, true)"""),
                     {"u": plan["phone"], "h": generate_password_hash(password), "r": plan["role"], "s": plan["scope"],
                      "p": person_id, "d": department_id})
        for grid in plan["grids"]:
            conn.execute(text("INSERT INTO grid_assignments (grid_code, person_id, duty, valid_from) "
                              "VALUES (:g, :p, :duty, :since)"),
                         {"g": grid, "p": person_id, "duty": plan["role"], "since": today})
        outcome.accounts.append({"username": plan["phone"], "role": plan["role"], "scope": plan["scope"],
                                 "password": password})


def init_town(engine: Engine, spec: TownSpec, villages: Layer, grids: Layer, people: list[PersonRow] | None = None,
              dry_run: bool = False, now: datetime | None = None) -> Outcome:
    """Check the town's files and, without a problem and unless ``dry_run``, write the town. All or
    nothing: on a problem :attr:`Outcome.problems` says what, and the database is as it was."""
    now = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI).replace(microsecond=0)
    outcome = Outcome(villages=len(villages.features), grids=len(grids.features))
    every = [f.geom for f in villages.features]
    west, south, east, north = (float(b) for b in shapely.total_bounds(every))
    srid = utm_srid((west + east) / 2, (south + north) / 2)
    with engine.connect() as conn, conn.begin() as transaction:
        try:
            busy = conn.execute(text("SELECT EXISTS (SELECT 1 FROM areas) OR EXISTS (SELECT 1 FROM accounts) "
                                     "OR EXISTS (SELECT 1 FROM grids)")).scalar()
        except ProgrammingError as exc:
            raise TownInitError("数据库尚未迁移, 请先运行 wangge db migrate",
                                "the database is not migrated: run wangge db migrate first") from exc
        if busy:
            demo = conn.execute(text("SELECT EXISTS (SELECT 1 FROM areas WHERE synthetic)")).scalar()
            raise TownInitError(
                "数据库不是空的" + (" (有演示数据, 可用 wangge db downgrade base 后 wangge db migrate 清空)" if demo else ""),
                "the database is not empty" + (" (it holds the demo town: empty it with wangge db downgrade base, "
                                               "then wangge db migrate)" if demo else ""))
        _load(conn, "t_villages", villages.features, srid)
        _load(conn, "t_grids", grids.features, srid)
        outcome.problems += _geometry_problems(conn, srid)
        vrows = conn.execute(text("SELECT row, code, name, village_row, ST_X(ST_PointOnSurface(geom)) AS x, "
                                  "ST_Y(ST_PointOnSurface(geom)) AS y FROM t_villages ORDER BY row")).all()
        grows = conn.execute(text("SELECT row, code, name, village_row, ST_AsBinary(geom) AS wkb, "
                                  "ST_X(ST_PointOnSurface(geom)) AS x, ST_Y(ST_PointOnSurface(geom)) AS y "
                                  "FROM t_grids ORDER BY row")).all()
        outcome.problems += _code_problems(spec, vrows, grows)
        if outcome.problems:
            transaction.rollback()
            return outcome
        final = _assign(list(grows), {v.row: v for v in vrows}, outcome)
        plans = []
        if people is not None:
            village_of = {code: code[:12] for code, _name in final.values()}
            plans = _people_plan(spec, people, village_of, {v.code for v in vrows}, outcome)
        if outcome.problems:
            transaction.rollback()
            return outcome
        conn.execute(text("UPDATE t_grids SET code = :code, name = :name WHERE row = :row"),
                     [{"row": row, "code": code, "name": name} for row, (code, name) in final.items()])
        outcome.town = _write_areas(conn, spec, srid, now, (west, south, east, north))
        _write_people(conn, spec, plans, now.date(), outcome)
        conn.execute(text("INSERT INTO settings (key, value) VALUES ('town', :v) "
                          "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"),
                     {"v": json.dumps({"synthetic": False, "code": spec.code, "name": spec.name,
                                       "initialized_at": format_iso(now), "villages_file": villages.path.name,
                                       "grids_file": grids.path.name}, ensure_ascii=False)})
        if dry_run:
            transaction.rollback()
        else:
            transaction.commit()
            outcome.written = True
    return outcome


def _write_areas(conn: Connection, spec: TownSpec, srid: int, now: datetime, extent) -> dict:
    district_id = conn.execute(text(
        "INSERT INTO areas (code, name, level, kind, geom, synthetic) "
        "VALUES (:c, :n, 'district', 'district', NULL, false) RETURNING id"),
        {"c": spec.district_code, "n": spec.district_name}).scalar_one()
    town_id = conn.execute(text(
        "INSERT INTO areas (code, name, level, kind, parent_id, geom, synthetic) "
        "SELECT :c, :n, 'town', 'town', :p, ST_Multi(ST_Union(geom)), false FROM t_villages RETURNING id"),
        {"c": spec.code, "n": spec.name, "p": district_id}).scalar_one()
    conn.execute(text(
        "INSERT INTO areas (code, name, level, kind, parent_id, geom, synthetic) "
        "SELECT code, name, 'village', CASE WHEN name LIKE '%社区' THEN 'community' ELSE 'village' END, :p, geom, false "
        "FROM t_villages ORDER BY row"), {"p": town_id})
    conn.execute(text(
        "INSERT INTO grids (code, name, kind, village_id, households, residents, geom, version, valid_from, synthetic) "
        "SELECT g.code, g.name, 'comprehensive', a.id, 0, 0, g.geom, 1, :since, false "
        "FROM t_grids g JOIN t_villages v ON v.row = g.village_row JOIN areas a ON a.code = v.code "
        "ORDER BY g.code"), {"since": now})
    west, south, east, north = extent
    record = {
        "area_id": town_id, "name": spec.name, "name_en": spec.name_en,
        "center_name": spec.center_name or f"{spec.name}综合治理中心", "center_name_en": None,
        "supervision_office": spec.supervision_office, "supervision_phone": spec.supervision_phone,
        "case_prefix": spec.case_prefix, "map_lat": round((south + north) / 2, 7),
        "map_lng": round((west + east) / 2, 7), "map_zoom": map_zoom(west, south, east, north),
    }
    conn.execute(text("""
        INSERT INTO towns (area_id, name, name_en, center_name, center_name_en, supervision_office,
                           supervision_phone, case_prefix, map_lat, map_lng, map_zoom)
        VALUES (:area_id, :name, :name_en, :center_name, :center_name_en, :supervision_office,
                :supervision_phone, :case_prefix, :map_lat, :map_lng, :map_zoom)"""), record)
    return {k: v for k, v in record.items() if k != "area_id"} | {"code": spec.code, "srid_checks": srid}
