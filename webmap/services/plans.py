"""Redraw plans (改划方案): draft, check, preview, publish, undo.

Every change of grid boundaries belongs to a draft plan. A plan holds, per grid it changes, the
grid's whole new geometry (:class:`db.models.GridPlanItem`; no geometry: the code is retired), and
a log of its edits with what each replaced, so that the last edit can be undone and a planner
whose ``version`` is stale gets 409 with the edits made since.

- Edits (:func:`edit`) run the geometry of :mod:`spatial.planning` on the village's proposed
  grids in local metres: ``reshape`` (the neighbours follow), ``split`` by a line, ``merge``,
  ``create``, ``transfer`` a part to a neighbour, ``propose_split`` (balancing cases or area),
  ``set`` names and figures, ``revert`` a grid to its current version, and ``replace`` (whole
  geometries, from an imported file).
- Checks (:func:`check`) run in PostGIS (``db/sql/plan_check.sql``): validity with PostGIS's
  reason, grids inside their village, no overlap, no gap above :data:`GAP_M2`, codes of the
  village, and grids that changed since the plan began (another plan was published).
- :func:`impact` previews areas, households, residents, the cases that change grid and the
  workers whose area changes. :func:`publish` writes new grid versions from the effective date
  and re-routes the open cases the plan touches (``db/sql/plan_reroute.sql``; each moved case
  sends its live message); a future date
  schedules it for the job (:func:`publish_due`). :func:`inverse` drafts the plan that undoes a
  published one.

Planners and administrators edit; the town's dispatchers and leaders and the district read.
"""

from __future__ import annotations

import json
import statistics
from datetime import datetime, timedelta

import numpy as np
import shapely
from shapely import wkb
from shapely.geometry import shape
from sqlalchemy import text
from sqlalchemy.orm import Session

from db.queries import query
from spatial import planning
from spatial.local import local_plane
from spatial.nearby import degrees_covering
from spatial.tiling import as_multipolygon
from workflow import roles
from workflow.cases import OPEN_STATES
from workflow.clock import SHANGHAI, format_iso, shanghai_now
from workflow.deadlines import SYSTEM_ROLE

from . import events, features, settings
from .errors import ServiceError

GAP_M2 = 1.0  # a gap above this is an error; below, a sliver (a warning)
OVERLAP_M2 = 0.01  # overlaps below this are float noise
# Every vertex a plan writes is snapped to this grid (about 1 µm): fine enough that a vertex an edit
# adds on a neighbour's edge stays on it (snapping to 1e-7°, 1 cm, would tilt a 1 km edge into a
# sliver of several m²), coarse enough that the round trip through metres gives back the very
# coordinates of the vertices it did not move.
PRECISION_DEG = 1e-11
OPS = ("reshape", "split", "merge", "create", "transfer", "propose_split", "set", "revert", "replace")
MAX_VERTICES = 20_000
PROBLEM_TEXT = {  # kind → (zh, en), formatted with codes, area, detail
    "invalid": ("网格 {codes} 图形无效: {detail}", "grid {codes}: invalid geometry: {detail}"),
    "empty": ("网格 {codes} 图形为空或面积不足 1 平方米", "grid {codes} is empty or smaller than 1 m²"),
    "code_village": ("网格编码 {codes} 与所属村/社区 {detail} 不符", "grid code {codes} is not of village {detail}"),
    "outside_village": ("网格 {codes} 有 {area} 平方米超出所属村/社区 {detail}",
                        "grid {codes} has {area} m² outside its village {detail}"),
    "overlap": ("网格 {codes} 相互重叠 {area} 平方米", "grids {codes} overlap by {area} m²"),
    "gap": ("{detail} 有 {area} 平方米未划入任何网格 (相邻网格 {codes})",
            "{detail}: {area} m² in no grid (next to {codes})"),
    "sliver": ("{detail} 有 {area} 平方米细缝未划入网格 (相邻网格 {codes})",
               "{detail}: a sliver of {area} m² in no grid (next to {codes})"),
    "multipart": ("网格 {codes} 由 {detail} 块不相连的区域组成", "grid {codes} is in {detail} separate parts"),
    "stale": ("网格 {codes} 在本方案起草后已被其他方案修改: {detail}",
              "grid {codes} changed since this plan began: {detail}"),
    "code_taken": ("新网格编码 {codes} 已被现行网格使用", "new grid code {codes} is already in use"),
}


class PlanError(ServiceError):
    """An edit, check or publication refused: ``status`` 400/403/404/409/422, a reason in Chinese
    and English, and details (``problems``, ``current``, ``changes``, ``codes``)."""


def _forbidden() -> PlanError:
    return PlanError(403, "只有网格规划员和管理员可以修改改划方案", "only planners and administrators edit plans")


def _may_read(user) -> None:
    if not roles.has_permission(user.role, "read_plans"):
        raise PlanError(403, "无权查看改划方案", "no access to redraw plans")


def _may_edit(user) -> None:
    if not roles.has_permission(user.role, "plan_grids"):
        raise _forbidden()


# ---------------------------------------------------------------- geometry in and out


class Local:
    """The edits' geometry and tolerances in metres: :func:`spatial.local.local_plane` around a
    point, back to degrees snapped to :data:`PRECISION_DEG`."""

    def __init__(self, lng0: float, lat0: float):
        self.plane = local_plane(lng0, lat0)

    def to_m(self, geom):
        return self.plane.to_m(geom)

    def to_deg(self, geom):
        """Back to degrees, snapped to :data:`PRECISION_DEG`, as a MultiPolygon of the polygonal
        parts (a difference may leave lines or points behind)."""
        out = shapely.set_precision(self.plane.to_deg(geom), PRECISION_DEG)
        parts = [g for g in shapely.get_parts(out) for g in (shapely.get_parts(g) if g.geom_type == "MultiPolygon"
                                                              else [g]) if g.geom_type == "Polygon" and not g.is_empty]
        return as_multipolygon(shapely.MultiPolygon(parts)) if parts else shapely.MultiPolygon()


def parse_geometry(value, kinds: tuple[str, ...], field: str):
    """A GeoJSON geometry of one of ``kinds`` (WGS84), or 400 naming the field."""
    if not isinstance(value, dict) or value.get("type") not in kinds:
        raise PlanError(400, f"{field}: 应为 GeoJSON {' 或 '.join(kinds)}",
                        f"{field}: a GeoJSON {' or '.join(kinds)} is required", field=field)
    try:
        geom = shape(value)
    except (ValueError, TypeError, AttributeError, IndexError) as exc:
        raise PlanError(400, f"{field}: GeoJSON 格式有误", f"{field}: malformed GeoJSON ({exc})", field=field) from exc
    if geom.is_empty or shapely.get_num_coordinates(geom) > MAX_VERTICES:
        raise PlanError(400, f"{field}: 图形为空或顶点过多", f"{field}: empty or too many vertices", field=field)
    lng0, lat0, lng1, lat1 = geom.bounds
    if not (70 <= lng0 <= lng1 <= 140 and 0 <= lat0 <= lat1 <= 60):
        raise PlanError(400, f"{field}: 坐标不在中国境内 (应为 WGS84 经纬度)",
                        f"{field}: coordinates outside China (WGS84 lon/lat expected)", field=field)
    return geom


def _wkb(geom) -> bytes | None:
    return None if geom is None else wkb.dumps(geom, srid=4326)


def _geom(value):
    return None if value is None else wkb.loads(bytes(value))


# ---------------------------------------------------------------- plans


_PLAN_SQL = ("SELECT p.*, a.username AS creator FROM grid_plans p LEFT JOIN accounts a ON a.id = p.created_by "
             "WHERE p.id = :id")
_PLAN, _PLAN_FOR_UPDATE = text(_PLAN_SQL), text(_PLAN_SQL + " FOR UPDATE OF p")


def _plan_row(db: Session, plan_id: int, *, lock: bool = False):
    row = db.execute(_PLAN_FOR_UPDATE if lock else _PLAN, {"id": plan_id}).first()
    if row is None:
        raise PlanError(404, f"没有编号为 {plan_id} 的改划方案", f"no plan {plan_id}")
    return row


def list_plans(db: Session, user) -> list[dict]:
    _may_read(user)
    rows = db.execute(text("""
        SELECT p.id, p.title, p.status, p.source, p.version, p.created_at, p.effective_at, p.published_at,
               p.inverse_of, a.username AS creator,
               (SELECT array_agg(code ORDER BY code) FROM grid_plan_items i WHERE i.plan_id = p.id) AS codes
          FROM grid_plans p LEFT JOIN accounts a ON a.id = p.created_by
         ORDER BY p.status = 'draft' DESC, p.id DESC LIMIT 200""")).all()
    return [{"id": r.id, "title": r.title, "status": r.status, "source": r.source, "version": r.version,
             "created_by": r.creator, "created_at": format_iso(r.created_at), "effective_at": format_iso(r.effective_at),
             "published_at": format_iso(r.published_at), "inverse_of": r.inverse_of, "codes": r.codes or []}
            for r in rows]


def create(db: Session, user, title: str, note: str = "", source: str = "browser",
           inverse_of: int | None = None) -> int:
    _may_edit(user)
    title = (title or "").strip()
    if not 1 <= len(title) <= 200:
        raise PlanError(400, "方案名称应为 1–200 个字符", "the title must be 1–200 characters", field="title")
    return db.execute(text(
        "INSERT INTO grid_plans (title, note, source, created_by, inverse_of) "
        "VALUES (:t, :n, :s, :u, :inv) RETURNING id"),
        {"t": title, "n": (note or "")[:2000], "s": source, "u": user.id, "inv": inverse_of}).scalar_one()


def _items(db: Session, plan_id: int) -> dict[str, dict]:
    rows = db.execute(text(
        "SELECT i.*, ST_AsBinary(i.geom) AS wkb, v.code AS village_code FROM grid_plan_items i "
        "JOIN areas v ON v.id = i.village_id WHERE i.plan_id = :p ORDER BY i.code"), {"p": plan_id}).all()
    return {r.code: {"code": r.code, "village_id": r.village_id, "village_code": r.village_code, "name": r.name,
                     "kind": r.kind, "households": r.households, "residents": r.residents,
                     "geom": _geom(r.wkb), "base_grid_id": r.base_grid_id} for r in rows}


def _current(db: Session, village_id: int) -> dict[str, dict]:
    rows = db.execute(text(
        "SELECT g.id, g.code, g.name, g.kind, g.households, g.residents, g.village_id, v.code AS village_code, "
        "ST_AsBinary(g.geom) AS wkb FROM grids g JOIN areas v ON v.id = g.village_id "
        "WHERE g.valid_to IS NULL AND g.village_id = :v ORDER BY g.code"), {"v": village_id}).all()
    return {r.code: {"code": r.code, "village_id": r.village_id, "village_code": r.village_code, "name": r.name,
                     "kind": r.kind, "households": None, "residents": None, "geom": _geom(r.wkb),
                     "base_grid_id": r.id} for r in rows}


def _village_of(db: Session, code: str) -> int:
    vid = db.execute(text("SELECT village_id FROM grids WHERE code = :c ORDER BY valid_to IS NULL DESC, "
                          "version DESC LIMIT 1"), {"c": code}).scalar()
    if vid is None:
        vid = db.execute(text("SELECT i.village_id FROM grid_plan_items i WHERE i.code = :c LIMIT 1"),
                         {"c": code}).scalar()
    if vid is None:
        raise PlanError(404, f"没有网格 {code}", f"no grid {code}", codes=[code])
    return vid


class Village:
    """The proposed grids of one village under a plan, in local metres, and what an edit changed."""

    def __init__(self, db: Session, plan_id: int, village_id: int):
        self.db, self.plan_id, self.village_id = db, plan_id, village_id
        v = db.execute(text("SELECT code, name, ST_AsBinary(geom) AS wkb FROM areas WHERE id = :v"),
                       {"v": village_id}).one()
        self.code, self.name = v.code, v.name
        self.outline = _geom(v.wkb)
        c = self.outline.centroid
        self.local = Local(c.x, c.y)
        self.records = _current(db, village_id)
        for code, item in _items(db, plan_id).items():
            if item["village_id"] == village_id:
                self.records[code] = item
        self.original = {code: dict(r) for code, r in self.records.items()}
        self.touched: dict[str, dict] = {}

    def changed(self) -> dict[str, dict]:
        """The touched grids that now differ from what they were before the edit."""
        def same(a, b) -> bool:
            if a is None or (a["geom"] is None) != (b["geom"] is None):
                return False
            keys = ("name", "kind", "households", "residents")
            return all(a[k] == b[k] for k in keys) and (a["geom"] is None or a["geom"].equals(b["geom"]))
        return {c: r for c, r in self.touched.items() if not same(self.original.get(c), r)}

    def grids_m(self) -> dict[str, object]:
        return {code: self.local.to_m(r["geom"]) for code, r in self.records.items() if r["geom"] is not None}

    def put(self, code: str, geom_m, **attrs) -> None:
        """Set a grid's proposed geometry (local metres; None retires it) and attributes."""
        record = dict(self.records.get(code) or {
            "code": code, "village_id": self.village_id, "village_code": self.code, "name": attrs.get("name", code),
            "kind": "comprehensive", "households": None, "residents": None, "base_grid_id": None})
        record["geom"] = None if geom_m is None else self.local.to_deg(geom_m)
        record.update({k: v for k, v in attrs.items() if k in ("name", "kind", "households", "residents")})
        self.records[code] = record
        self.touched[code] = record

    def new_codes(self, n: int) -> list[str]:
        used = set(self.db.execute(text(
            "SELECT code FROM grids WHERE village_id = :v UNION SELECT code FROM grid_plan_items WHERE village_id = :v"),
            {"v": self.village_id}).scalars()) | set(self.records)
        return planning.next_codes(self.code, used, n)

    def require(self, code: str) -> dict:
        record = self.records.get(code)
        if record is None or record["geom"] is None:
            raise PlanError(422, f"网格 {code} 不在 {self.name} 的方案网格中", f"grid {code} is not in this plan's "
                            f"grids of {self.code}", codes=[code])
        return record


def _snapshot(db: Session, plan_id: int, codes) -> dict:
    """The plan's items of ``codes`` as they are (None: no item), for the edit log."""
    items = _items(db, plan_id)
    out = {}
    for code in codes:
        item = items.get(code)
        out[code] = None if item is None else {
            **{k: item[k] for k in ("village_id", "name", "kind", "households", "residents", "base_grid_id")},
            "wkb": None if item["geom"] is None else item["geom"].wkb_hex}
    return out


def _write(db: Session, plan_id: int, records: dict[str, dict]) -> None:
    for code, r in records.items():
        db.execute(text("""
            INSERT INTO grid_plan_items (plan_id, code, village_id, name, kind, households, residents, geom,
                                         base_grid_id)
            VALUES (:p, :code, :v, :name, :kind, :hh, :res, ST_GeomFromWKB(:wkb, 4326), :base)
            ON CONFLICT (plan_id, code) DO UPDATE SET village_id = excluded.village_id, name = excluded.name,
                kind = excluded.kind,
                households = excluded.households, residents = excluded.residents, geom = excluded.geom"""),
            {"p": plan_id, "code": code, "v": r["village_id"], "name": r["name"], "kind": r["kind"],
             "hh": r["households"], "res": r["residents"], "wkb": _wkb(r["geom"]), "base": r["base_grid_id"]})
    # a grid this plan made and then retired, or one back to its current version exactly, is no change
    db.execute(text("DELETE FROM grid_plan_items WHERE plan_id = :p AND base_grid_id IS NULL AND geom IS NULL"),
               {"p": plan_id})
    db.execute(text("""
        DELETE FROM grid_plan_items i USING grids g
         WHERE i.plan_id = :p AND g.id = i.base_grid_id AND g.valid_to IS NULL AND i.geom IS NOT NULL
           AND ST_Equals(i.geom, g.geom) AND i.name = g.name AND i.kind = g.kind
           AND coalesce(i.households, g.households) = g.households
           AND coalesce(i.residents, g.residents) = g.residents"""), {"p": plan_id})


def _draft(db: Session, user, plan_id: int, version: int | None):
    """The plan, locked, if it is a draft at ``version``; 409 with the edits since otherwise."""
    _may_edit(user)
    plan = _plan_row(db, plan_id, lock=True)
    if plan.status != "draft":
        raise PlanError(422, f"方案已{_STATUS_ZH[plan.status]}, 不能再修改", f"the plan is {plan.status}",
                        status_now=plan.status)
    if not isinstance(version, int) or isinstance(version, bool):
        raise PlanError(400, "需要方案版本号 version", "version is required", field="version")
    if version != plan.version:
        changes = _edits(db, plan_id, since=version)
        raise PlanError(409, "方案已被他人修改, 请查看变化后重做", "the plan changed since you read it",
                        current=view(db, user, plan_id), changes=changes)
    return plan


_STATUS_ZH = {"draft": "为草稿", "scheduled": "待生效", "published": "发布", "discarded": "作废"}


def _edits(db: Session, plan_id: int, since: int = 0) -> list[dict]:
    rows = db.execute(text(
        "SELECT e.version, e.op, e.codes, e.at, e.undone, a.username FROM grid_plan_edits e "
        "LEFT JOIN accounts a ON a.id = e.actor_id WHERE e.plan_id = :p AND e.version > :since ORDER BY e.id"),
        {"p": plan_id, "since": since}).all()
    return [{"version": r.version, "op": r.op, "codes": r.codes, "by": r.username, "at": format_iso(r.at),
             "undone": r.undone} for r in rows]


def _log(db: Session, user, plan, op: str, before: dict) -> int:
    version = plan.version + 1
    db.execute(text("UPDATE grid_plans SET version = :v, updated_at = now() WHERE id = :p"),
               {"v": version, "p": plan.id})
    db.execute(text("INSERT INTO grid_plan_edits (plan_id, version, op, codes, actor_id, before) "
                    "VALUES (:p, :v, :op, :codes, :u, CAST(:before AS jsonb))"),
               {"p": plan.id, "v": version, "op": op, "codes": sorted(before), "u": user.id,
                "before": json.dumps(before)})
    return version


# ---------------------------------------------------------------- edits


def _code(payload: dict, field: str = "code") -> str:
    code = payload.get(field)
    if not (isinstance(code, str) and len(code) == 15 and code.isascii() and code.isdigit()):
        raise PlanError(400, f"{field}: 应为 15 位网格编码", f"{field}: a 15-digit grid code is required", field=field)
    return code


def _refused(exc: planning.PlanningError) -> PlanError:
    return PlanError(422, exc.zh, exc.en, codes=list(getattr(exc, "codes", []) or []))


def _reshape(v: Village, p: dict) -> None:
    code = _code(p)
    v.require(code)
    geom = v.local.to_m(parse_geometry(p.get("geometry"), ("Polygon", "MultiPolygon"), "geometry"))
    for c, g in planning.reshape(v.grids_m(), code, geom).items():
        v.put(c, g)


def _create(v: Village, p: dict) -> str:
    geom = v.local.to_m(parse_geometry(p.get("geometry"), ("Polygon", "MultiPolygon"), "geometry"))
    geom = geom.intersection(v.local.to_m(v.outline))
    if geom.is_empty or geom.area < 1:
        raise PlanError(422, "新网格不在本村/社区内", "the new grid is not inside the village")
    code = v.new_codes(1)[0]
    others = v.grids_m()
    for c, g in others.items():  # the new grid takes its area from the grids that held it
        if g.intersects(geom):
            rest = g.difference(geom)
            if rest.is_empty or rest.area < 1:
                raise PlanError(422, f"新网格会完全覆盖网格 {c}; 请改用合并或调整边界",
                                f"the new grid would swallow grid {c}: merge or reshape instead", codes=[c])
            v.put(c, rest)
    name = str(p.get("name") or f"{v.name}新网格{code[-3:]}")[:100]
    v.put(code, geom, name=name)
    return code


def _split(v: Village, p: dict, parts_m=None) -> list[str]:
    code = _code(p)
    record = v.require(code)
    geom = v.local.to_m(record["geom"])
    if parts_m is None:
        line = v.local.to_m(parse_geometry(p.get("line"), ("LineString",), "line"))
        parts_m = planning.split(geom, line)
    new = v.new_codes(len(parts_m) - 1)
    v.put(code, parts_m[0])  # the first part in reading order keeps the code
    for i, (c, part) in enumerate(zip(new, parts_m[1:], strict=True), start=2):
        v.put(c, part, name=f"{record['name']}-{i}"[:100], kind=record["kind"])
    return [code, *new]


def _merge(v: Village, p: dict) -> None:
    codes = p.get("codes")
    if not (isinstance(codes, list) and len(codes) == 2 and codes[0] != codes[1]):
        raise PlanError(400, "codes: 应为两个不同的网格编码", "codes: two different grid codes", field="codes")
    a, b = (_code({"code": c}) for c in codes)
    ga, gb = (v.local.to_m(v.require(c)["geom"]) for c in (a, b))
    keep, drop = (a, b) if planning.order_west_east_north_south([ga, gb])[0] == 0 else (b, a)
    v.put(keep, planning.merge(ga, gb, codes=(a, b)))
    v.put(drop, None)


def _transfer(v: Village, p: dict) -> None:
    src, dst = _code(p, "from"), _code(p, "to")
    v.require(src), v.require(dst)
    area = v.local.to_m(parse_geometry(p.get("geometry"), ("Polygon", "MultiPolygon"), "geometry"))
    for c, g in planning.transfer(v.grids_m(), src, dst, area).items():
        v.put(c, g)


def _propose_split(v: Village, p: dict) -> list[str]:
    code = _code(p)
    geom = v.local.to_m(v.require(code)["geom"])
    balance = p.get("balance", "cases")
    parts = p.get("parts", 2)
    if balance not in ("cases", "households") or not (isinstance(parts, int) and 2 <= parts <= 6):
        raise PlanError(400, "balance 应为 cases 或 households, parts 为 2–6",
                        "balance must be cases or households, parts 2–6", field="balance")
    points = None
    if balance == "cases":
        rows = v.db.execute(text(
            "SELECT ST_X(geom), ST_Y(geom) FROM incidents WHERE grid_code = :c AND reported_at >= :since"),
            {"c": code, "since": shanghai_now() - timedelta(days=365)}).all()
        if len(rows) >= parts * 5:
            pts = shapely.points(np.array(rows, dtype=float))
            points = shapely.get_coordinates(v.local.to_m(shapely.multipoints(pts)))
    pieces = planning.propose_split(geom, points=points, parts=parts)
    return _split(v, {"code": code}, parts_m=pieces)


def _figure(value, field: str) -> int | None:
    """Households or residents: a whole number ≥ 0, or None (shared out by area on publishing)."""
    if value is not None and not (isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**6):
        raise PlanError(400, f"{field}: 应为 0 以上的整数或 null", f"{field}: a whole number ≥ 0, or null",
                        field=field)
    return value


def _set(v: Village, p: dict) -> None:
    code = _code(p)
    record = v.require(code)
    attrs = {}
    if "name" in p:
        name = str(p["name"] or "").strip()
        if not 1 <= len(name) <= 100:
            raise PlanError(400, "name: 网格名称应为 1–100 个字符", "name: 1–100 characters", field="name")
        attrs["name"] = name
    if "kind" in p:
        if p["kind"] not in ("comprehensive", "dedicated"):
            raise PlanError(400, "kind: 应为 comprehensive (综合网格) 或 dedicated (专属网格)",
                            "kind: comprehensive or dedicated", field="kind")
        attrs["kind"] = p["kind"]
    for field in ("households", "residents"):
        if field in p:
            attrs[field] = _figure(p[field], field)
    v.put(code, v.local.to_m(record["geom"]), **attrs)


def edit(db: Session, user, plan_id: int, payload: dict) -> dict:
    """Apply one edit to a draft at its ``version``; commits; returns the plan's :func:`view` with
    the edit's ``codes``. Geometry in WGS84 GeoJSON."""
    if not isinstance(payload, dict):
        raise PlanError(400, "请求体应为 JSON 对象", "a JSON object is required")
    op = payload.get("op")
    if op not in OPS:
        raise PlanError(400, f"op: 应为 {', '.join(OPS)} 之一", f"op must be one of {', '.join(OPS)}", field="op")
    plan = _draft(db, user, plan_id, payload.get("version"))
    if op == "replace":
        return _replace(db, user, plan, payload.get("items"))
    if op == "revert":
        code = _code(payload)
        before = _snapshot(db, plan_id, [code])
        db.execute(text("DELETE FROM grid_plan_items WHERE plan_id = :p AND code = :c"), {"p": plan_id, "c": code})
        _log(db, user, plan, op, before)
        db.commit()
        return {**view(db, user, plan_id), "codes": [code]}
    if op == "create":
        village_code = payload.get("village")
        vid = db.execute(text("SELECT id FROM areas WHERE code = :c AND level = 'village'"),
                         {"c": village_code}).scalar() if isinstance(village_code, str) else None
        if vid is None:
            raise PlanError(400, "village: 应为本镇的 12 位村/社区编码", "village: a 12-digit village code",
                            field="village")
    else:
        vid = _village_of(db, _code(payload, "from" if op == "transfer" else "code") if op != "merge"
                          else _code({"code": (payload.get("codes") or [None])[0]}))
    village = Village(db, plan_id, vid)
    try:
        made = {"reshape": _reshape, "split": _split, "merge": _merge, "create": _create,
                "transfer": _transfer, "propose_split": _propose_split, "set": _set}[op](village, payload)
    except planning.PlanningError as exc:
        raise _refused(exc) from exc
    if not village.changed():
        raise PlanError(422, "这次编辑没有改变任何网格", "the edit changed no grid")
    before = _snapshot(db, plan_id, village.touched)
    _write(db, plan_id, village.touched)
    _log(db, user, plan, op, before)
    db.commit()
    codes = made if isinstance(made, list) else [made] if isinstance(made, str) else sorted(village.touched)
    return {**view(db, user, plan_id), "codes": codes}


def _replace(db: Session, user, plan, items) -> dict:
    """Whole grids at once (an imported file): ``items`` a list of {code, village, name, kind,
    households, residents, geometry (null: retire)}; no neighbour follows: the check says what
    does not fit."""
    if not isinstance(items, list) or not items or len(items) > 5000:
        raise PlanError(400, "items: 应为 1–5000 个网格", "items: 1–5000 grids", field="items")
    records = {}
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            raise PlanError(400, f"items[{n}]: 应为对象", f"items[{n}]: an object is required", field="items")
        code = _code(item)
        if code in records:
            raise PlanError(400, f"items[{n}]: 网格 {code} 重复", f"items[{n}]: grid {code} twice", field="items",
                            codes=[code])
        village = (item or {}).get("village") or code[:12]
        vid = db.execute(text("SELECT id FROM areas WHERE code = :c AND level = 'village'"), {"c": village}).scalar()
        if vid is None:
            raise PlanError(400, f"items[{n}]: 没有村/社区 {village}", f"items[{n}]: no village {village}", field="items")
        base = db.execute(text("SELECT id, name, kind FROM grids WHERE code = :c AND valid_to IS NULL"),
                          {"c": code}).first()
        geom = None
        if item.get("geometry") is not None:  # an invalid one is kept as it is, for the check to explain
            geom = parse_geometry(item["geometry"], ("Polygon", "MultiPolygon"), f"items[{n}].geometry")
            geom = as_multipolygon(shapely.set_precision(geom, PRECISION_DEG) if geom.is_valid else geom)
        records[code] = {"village_id": vid, "name": str(item.get("name") or (base.name if base else code))[:100],
                         "kind": item.get("kind") or (base.kind if base else "comprehensive"),
                         "households": _figure(item.get("households"), f"items[{n}].households"),
                         "residents": _figure(item.get("residents"), f"items[{n}].residents"),
                         "geom": geom, "base_grid_id": base.id if base else None}
        if records[code]["kind"] not in ("comprehensive", "dedicated"):
            raise PlanError(400, f"items[{n}].kind 有误", f"items[{n}].kind is not comprehensive/dedicated",
                            field="items")
    before = _snapshot(db, plan.id, records)
    _write(db, plan.id, records)
    _log(db, user, plan, "replace", before)
    db.commit()
    return {**view(db, user, plan.id), "codes": sorted(records)}


def undo(db: Session, user, plan_id: int, version: int | None) -> dict:
    """Undo the plan's last edit that is not undone: its grids go back to what they were."""
    plan = _draft(db, user, plan_id, version)
    last = db.execute(text("SELECT id, op, before FROM grid_plan_edits WHERE plan_id = :p AND NOT undone "
                           "ORDER BY id DESC LIMIT 1"), {"p": plan_id}).first()
    if last is None:
        raise PlanError(422, "没有可撤销的编辑", "nothing to undo")
    current_before = _snapshot(db, plan_id, last.before)
    for code, item in last.before.items():
        db.execute(text("DELETE FROM grid_plan_items WHERE plan_id = :p AND code = :c"), {"p": plan_id, "c": code})
        if item is not None:
            db.execute(text("""
                INSERT INTO grid_plan_items (plan_id, code, village_id, name, kind, households, residents, geom,
                                             base_grid_id)
                VALUES (:p, :c, :v, :name, :kind, :hh, :res, ST_GeomFromWKB(decode(:wkb, 'hex'), 4326), :base)"""),
                {"p": plan_id, "c": code, "v": item["village_id"], "name": item["name"], "kind": item["kind"],
                 "hh": item["households"], "res": item["residents"], "wkb": item["wkb"], "base": item["base_grid_id"]})
    db.execute(text("UPDATE grid_plan_edits SET undone = true WHERE id = :e"), {"e": last.id})
    _log(db, user, plan, "undo", current_before)
    db.execute(text("UPDATE grid_plan_edits SET undone = true WHERE plan_id = :p AND version = :v"),
               {"p": plan_id, "v": plan.version + 1})  # an undo is not itself undone by the next undo
    db.commit()
    return {**view(db, user, plan_id), "codes": sorted(last.before)}


# ---------------------------------------------------------------- checks, views, impact


def _fmt_area(area: float | None) -> str:
    return "" if area is None else f"{area:,.1f}"


def check(db: Session, plan_id: int) -> list[dict]:
    """The plan's problems (PostGIS): severity, kind, codes, location, area, and the reason."""
    lat = db.execute(text("SELECT ST_Y(ST_Centroid(v.geom)) FROM grid_plan_items i JOIN areas v ON v.id = i.village_id "
                          "WHERE i.plan_id = :p LIMIT 1"), {"p": plan_id}).scalar()
    if lat is None:
        return []
    m2 = local_plane(0.0, lat).m2_per_deg2
    rows = db.execute(query("plan_check"), {"plan": plan_id, "gap_m2": GAP_M2, "overlap_m2": OVERLAP_M2,
                                            "m2_per_deg2": m2}).all()
    out = []
    for r in rows:
        detail = r.detail or ""
        if r.kind == "stale":
            title, when = (detail.split("|") + [""])[:2]
            detail = f"方案《{title}》{when}" if title else when
        zh, en = PROBLEM_TEXT[r.kind]
        values = {"codes": "、".join(r.codes), "area": _fmt_area(r.area_m2), "detail": detail}
        out.append({
            "severity": r.severity, "kind": r.kind, "codes": list(r.codes),
            "location": None if r.lng is None else {"lng": round(r.lng, 7), "lat": round(r.lat, 7)},
            "area_m2": None if r.area_m2 is None else round(r.area_m2, 2),
            "zh": zh.format(**values), "en": en.format(**{**values, "codes": ", ".join(r.codes)}),
        })
    return out


def view(db: Session, user, plan_id: int) -> dict:
    """The plan: its items as GeoJSON, the proposed grids of the villages it touches, the check's
    problems, the edit log and the other drafts that change the same grids."""
    _may_read(user)
    plan = _plan_row(db, plan_id)
    rows = db.execute(text("""
        WITH items AS (SELECT * FROM grid_plan_items WHERE plan_id = :p)
        SELECT i.code, i.name, i.kind, v.code AS village, i.households, i.residents,
               CASE WHEN i.base_grid_id IS NULL THEN 'new' WHEN i.geom IS NULL THEN 'retired' ELSE 'changed' END AS change,
               ST_AsGeoJSON(coalesce(i.geom, g.geom), 7) AS geojson, true AS in_plan
          FROM items i JOIN areas v ON v.id = i.village_id LEFT JOIN grids g ON g.id = i.base_grid_id
        UNION ALL
        SELECT g.code, g.name, g.kind, v.code, g.households, g.residents, 'unchanged',
               ST_AsGeoJSON(g.geom, 7), false
          FROM grids g JOIN areas v ON v.id = g.village_id
         WHERE g.valid_to IS NULL AND g.village_id IN (SELECT village_id FROM items)
           AND g.code NOT IN (SELECT code FROM items)
         ORDER BY 1"""), {"p": plan_id}).all()
    features = [{"type": "Feature", "id": r.code, "geometry": json.loads(r.geojson) if r.geojson else None,
                 "properties": {"code": r.code, "name": r.name, "kind": r.kind, "village": r.village,
                                "households": r.households, "residents": r.residents, "change": r.change}}
                for r in rows]
    problems = check(db, plan_id) if plan.status in ("draft", "scheduled") else []
    codes = [r.code for r in rows if r.change != "unchanged"]
    others = db.execute(text("""
        SELECT p.id, p.title, a.username, array_agg(i.code ORDER BY i.code) AS codes
          FROM grid_plan_items i JOIN grid_plans p ON p.id = i.plan_id LEFT JOIN accounts a ON a.id = p.created_by
         WHERE p.status = 'draft' AND p.id <> :p AND i.code = ANY(:codes)
         GROUP BY p.id, p.title, a.username ORDER BY p.id"""), {"p": plan_id, "codes": codes}).all()
    return {
        "id": plan.id, "title": plan.title, "note": plan.note, "status": plan.status, "source": plan.source,
        "version": plan.version, "created_by": plan.creator, "created_at": format_iso(plan.created_at),
        "effective_at": format_iso(plan.effective_at), "published_at": format_iso(plan.published_at),
        "inverse_of": plan.inverse_of,
        "grids": {"type": "FeatureCollection", "features": features},
        "problems": problems,
        "errors": sum(p["severity"] == "error" for p in problems),
        "warnings": sum(p["severity"] == "warning" for p in problems),
        "edits": _edits(db, plan_id),
        "others": [{"id": o.id, "title": o.title, "by": o.username, "codes": o.codes} for o in others],
    }


def impact(db: Session, user, plan_id: int, max_cases: int = 500) -> dict:
    """Before publishing: per changed grid its area, households and residents before and after;
    the open cases and the last year's cases that would change grid (at most ``max_cases`` listed,
    all counted); the workers and leaders whose grids change."""
    _may_read(user)
    _plan_row(db, plan_id)
    grids = [{
        "code": r.code, "name": r.name, "village": {"code": r.village_code, "name": r.village_name},
        "change": r.change, "name_before": r.name_before, "version_before": r.version_before,
        "area_m2": {"before": _round(r.area_before), "after": _round(r.area_after)},
        "households": {"before": r.households_before, "after": r.households_after},
        "residents": {"before": r.residents_before, "after": r.residents_after},
        "geometry_before": json.loads(r.geojson_before) if r.geojson_before else None,
        "geometry_after": json.loads(r.geojson_after) if r.geojson_after else None,
    } for r in db.execute(query("plan_impact"), {"plan": plan_id}).all()]
    moves = db.execute(query("plan_moves"), {"plan": plan_id, "open": list(OPEN_STATES),
                                             "since": shanghai_now() - timedelta(days=365)}).all()
    flows: dict[tuple, dict] = {}
    for m in moves:
        flow = flows.setdefault((m.old_code, m.new_code), {"from": m.old_code, "to": m.new_code, "open": 0,
                                                           "last_year": 0})
        flow["open" if m.open else "last_year"] += 1
    codes = [g["code"] for g in grids]
    people = db.execute(text("""
        SELECT a.grid_code, a.duty, p.name FROM grid_assignments a JOIN people p ON p.id = a.person_id
         WHERE a.valid_to IS NULL AND a.grid_code = ANY(:codes) ORDER BY a.grid_code, a.duty"""),
        {"codes": codes}).all()
    by_code = {g["code"]: g for g in grids}
    workers = [{"grid": r.grid_code, "duty": r.duty, "name": r.name,
                "change": by_code[r.grid_code]["change"], "area_m2": by_code[r.grid_code]["area_m2"]}
               for r in people]
    return {
        "plan": plan_id, "grids": grids, "flows": sorted(flows.values(), key=lambda f: (-f["open"], -f["last_year"])),
        "open_cases_moved": sum(1 for m in moves if m.open),
        "last_year_cases_moved": sum(1 for m in moves if not m.open),
        "cases": {"type": "FeatureCollection", "features": [
            {"type": "Feature", "id": m.id, "geometry": {"type": "Point", "coordinates": [round(m.lng, 6), round(m.lat, 6)]},
             "properties": {"case_no": m.case_no, "state": m.state, "from": m.old_code, "to": m.new_code,
                            "open": m.open}} for m in moves[:max_cases]]},
        "workers": workers,
    }


def _round(value):
    return None if value is None else round(value, 1)


# ---------------------------------------------------------------- publish, schedule, inverse, discard


def parse_effective_at(raw) -> datetime | None:
    """``effective_at`` of a publication: a date or an RFC 3339 time (its start); None when absent."""
    if raw in (None, ""):
        return None
    try:
        return features.parse_datetime(str(raw)).start
    except features.FeatureQueryError as exc:
        raise PlanError(400, f"effective_at: {exc.zh}", f"effective_at: {exc.en}", field="effective_at") from exc


def publish(db: Session, user, plan_id: int, version: int | None, effective_at: datetime | None = None,
            now: datetime | None = None, near_m: float | None = None) -> dict:
    """Publish a checked draft: from ``effective_at`` (default now) the plan's grids have new
    versions and the open cases it touches are re-routed (with the near-boundary distance
    ``near_m`` in metres, as at intake; None: the setting). A future date schedules it. Refused with
    the problems (422) while the check finds errors, with what changed (409) when another plan
    changed its grids since."""
    now = now or shanghai_now()
    _draft(db, user, plan_id, version)
    effective = effective_at or now
    problems = check(db, plan_id)
    stale = [p for p in problems if p["kind"] == "stale"]
    if stale:
        raise PlanError(409, "方案中的网格已被其他方案修改: " + "; ".join(p["zh"] for p in stale),
                        "grids of this plan changed since it began", problems=stale, current=view(db, user, plan_id))
    errors = [p for p in problems if p["severity"] == "error"]
    if errors:
        raise PlanError(422, f"方案有 {len(errors)} 处错误, 不能发布", f"the plan has {len(errors)} errors",
                        problems=errors)
    if not db.execute(text("SELECT count(*) FROM grid_plan_items WHERE plan_id = :p"), {"p": plan_id}).scalar():
        raise PlanError(422, "方案没有任何改动", "the plan changes nothing")
    if effective > now + timedelta(seconds=1):
        db.execute(text("UPDATE grid_plans SET status = 'scheduled', effective_at = :e, published_by = :u, "
                        "version = version + 1, updated_at = now() WHERE id = :p"),
                   {"e": effective, "u": user.id, "p": plan_id})
        db.commit()
        return {**view(db, user, plan_id), "rerouted": 0}
    moved = _apply(db, plan_id, effective, now, user.id, user.role, near_m)
    db.commit()
    return {**view(db, user, plan_id), "rerouted": len(moved)}


def _apply(db: Session, plan_id: int, effective: datetime, now: datetime, actor_id, role: str,
           near_m: float | None) -> list:
    """Write the new versions from ``effective`` and re-route the open cases; no commit."""
    near_m = settings.near_boundary_m(db) if near_m is None else near_m
    floor = db.execute(text("""
        SELECT max(g.valid_from) FROM grid_plan_items i JOIN grids g ON g.id = i.base_grid_id
         WHERE i.plan_id = :p"""), {"p": plan_id}).scalar()
    if floor is not None and effective <= floor:
        raise PlanError(422, f"生效时间应晚于现行网格版本的起始时间 {format_iso(floor)}",
                        f"the effective date must be after {format_iso(floor)}, when the current versions began")
    db.execute(text("""
        SELECT g.id FROM grids g JOIN grid_plan_items i ON i.code = g.code AND i.plan_id = :p
         WHERE g.valid_to IS NULL FOR UPDATE OF g"""), {"p": plan_id})
    stale = db.execute(text("""
        SELECT i.code FROM grid_plan_items i LEFT JOIN grids base ON base.id = i.base_grid_id
         WHERE i.plan_id = :p
           AND (base.valid_to IS NOT NULL
                OR (i.base_grid_id IS NULL
                    AND EXISTS (SELECT 1 FROM grids g WHERE g.code = i.code AND g.valid_to IS NULL)))"""),
        {"p": plan_id}).scalars().all()
    if stale:
        raise PlanError(409, f"网格 {'、'.join(stale)} 已被其他方案修改", f"grids {', '.join(stale)} changed meanwhile",
                        codes=stale)
    db.execute(text("""
        WITH items AS (SELECT * FROM grid_plan_items WHERE plan_id = :p),
        closed AS (
            UPDATE grids g SET valid_to = :eff FROM items i WHERE g.id = i.base_grid_id AND g.valid_to IS NULL
            RETURNING g.*
        ), shared AS (
            SELECT i.code,
                   round(sum(o.households * ST_Area(ST_Intersection(i.geom, o.geom)::geography)
                             / nullif(ST_Area(o.geom::geography), 0)))::int AS households,
                   round(sum(o.residents * ST_Area(ST_Intersection(i.geom, o.geom)::geography)
                             / nullif(ST_Area(o.geom::geography), 0)))::int AS residents
              FROM items i JOIN closed o ON o.geom && i.geom
             WHERE i.geom IS NOT NULL
             GROUP BY i.code
        )
        INSERT INTO grids (code, name, kind, village_id, households, residents, geom, version, valid_from, plan_id)
        SELECT i.code, i.name, i.kind, i.village_id,
               coalesce(i.households, s.households, 0), coalesce(i.residents, s.residents, 0), i.geom,
               coalesce((SELECT max(version) FROM grids x WHERE x.code = i.code), 0) + 1, :eff, :p
          FROM items i LEFT JOIN shared s ON s.code = i.code
         WHERE i.geom IS NOT NULL"""), {"p": plan_id, "eff": effective})
    day = effective.astimezone(SHANGHAI).date()
    # a grid that comes back gets its last worker and leader again; a new one, those of the grid it
    # took most of its area from (until the village assigns others)
    db.execute(text("""
        INSERT INTO grid_assignments (grid_code, person_id, duty, valid_from)
        SELECT DISTINCT ON (i.code, a.duty) i.code, a.person_id, a.duty, :day
          FROM grid_plan_items i JOIN grid_assignments a ON a.grid_code = i.code
         WHERE i.plan_id = :p AND i.base_grid_id IS NULL AND i.geom IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM grid_assignments c
                            WHERE c.grid_code = i.code AND c.duty = a.duty AND c.valid_to IS NULL)
         ORDER BY i.code, a.duty, a.valid_to DESC NULLS FIRST, a.id DESC"""), {"p": plan_id, "day": day})
    db.execute(text("""
        INSERT INTO grid_assignments (grid_code, person_id, duty, valid_from)
        SELECT DISTINCT ON (i.code, a.duty) i.code, a.person_id, a.duty, :day
          FROM grid_plan_items i
         CROSS JOIN LATERAL (
               SELECT g.code FROM grids g
                WHERE g.id IN (SELECT base_grid_id FROM grid_plan_items WHERE plan_id = :p)
                  AND g.geom && i.geom
                ORDER BY ST_Area(ST_Intersection(g.geom, i.geom)) DESC LIMIT 1) source
          JOIN grid_assignments a ON a.grid_code = source.code AND a.valid_to IS NULL
         WHERE i.plan_id = :p AND i.base_grid_id IS NULL AND i.geom IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM grid_assignments c
                            WHERE c.grid_code = i.code AND c.duty = a.duty AND c.valid_to IS NULL)
         ORDER BY i.code, a.duty, a.valid_from DESC, a.id DESC"""), {"p": plan_id, "day": day})
    retired = db.execute(text("SELECT code FROM grid_plan_items WHERE plan_id = :p AND geom IS NULL"),
                         {"p": plan_id}).scalars().all()
    if retired:  # the people of a retired grid leave it on the day
        db.execute(text("UPDATE grid_assignments SET valid_to = greatest(valid_from, CAST(:day AS date)) "
                        "WHERE grid_code = ANY(:codes) AND valid_to IS NULL"), {"codes": retired, "day": day})
    codes = db.execute(text("SELECT code FROM grid_plan_items WHERE plan_id = :p"), {"p": plan_id}).scalars().all()
    # the margin in degrees for the index pre-filters, at the latitude of the plan's grids farthest from
    # the equator (the distances themselves are in metres)
    lat = db.execute(text("SELECT max(greatest(abs(ST_YMin(geom)), abs(ST_YMax(geom)))) FROM grids "
                          "WHERE code = ANY(:codes)"), {"codes": list(codes)}).scalar() or 0.0
    db.execute(text("SET LOCAL jit = off"))  # compiling it costs more than the statement saves
    moved = db.execute(query("plan_reroute"), {
        "codes": list(codes), "open": list(OPEN_STATES), "near_m": near_m,
        "near_deg": degrees_covering(near_m, lat),
        "now": now, "actor": actor_id, "role": role if actor_id else SYSTEM_ROLE, "plan": plan_id,
        "note": f"改划方案 {plan_id} 发布, 网格调整"}).all()
    events.notify_cases(db, [m.id for m in moved], "reroute", now)
    db.execute(text("UPDATE grid_plans SET status = 'published', effective_at = :eff, published_at = :now, "
                    "published_by = coalesce(published_by, :u), version = version + 1, updated_at = now() "
                    "WHERE id = :p"), {"eff": effective, "now": now, "u": actor_id, "p": plan_id})
    return moved


def publish_due(db: Session, now: datetime | None = None, near_m: float | None = None) -> list[dict]:
    """The job: publish the scheduled plans whose date has come (re-routing within ``near_m``
    metres; None: the setting). A plan that no longer applies (another plan changed its grids)
    goes back to draft with its problems."""
    now = now or shanghai_now()
    out = []
    due = db.execute(text("SELECT id FROM grid_plans WHERE status = 'scheduled' AND effective_at <= :now "
                          "ORDER BY effective_at, id"), {"now": now}).scalars().all()
    for plan_id in due:
        effective = db.execute(text(  # another run may hold it, or have done it
            "SELECT effective_at FROM grid_plans WHERE id = :p AND status = 'scheduled' FOR UPDATE SKIP LOCKED"),
            {"p": plan_id}).scalar()
        if effective is None:
            db.rollback()
            continue
        try:
            moved = _apply(db, plan_id, effective, now, None, SYSTEM_ROLE, near_m)
        except PlanError as exc:
            db.rollback()
            db.execute(text("UPDATE grid_plans SET status = 'draft', version = version + 1 WHERE id = :p"),
                       {"p": plan_id})
            db.commit()
            out.append({"plan": plan_id, "published": False, "reason": exc.zh})
            continue
        db.commit()
        out.append({"plan": plan_id, "published": True, "rerouted": len(moved)})
    return out


def inverse(db: Session, user, plan_id: int) -> dict:
    """A draft that undoes a published plan: each of its grids as it was before (a grid the plan
    created is retired, one it retired comes back). Publish it to undo."""
    _may_edit(user)
    plan = _plan_row(db, plan_id)
    if plan.status != "published":
        raise PlanError(422, "只有已发布的方案可以撤回", "only a published plan can be undone")
    new_id = create(db, user, f"撤回: {plan.title}"[:200], note=f"撤回方案 {plan_id}", source="inverse",
                    inverse_of=plan_id)
    db.execute(text("""
        WITH items AS (SELECT * FROM grid_plan_items WHERE plan_id = :old)
        INSERT INTO grid_plan_items (plan_id, code, village_id, name, kind, households, residents, geom, base_grid_id)
        SELECT :new, i.code, i.village_id, coalesce(prev.name, made.name), coalesce(prev.kind, made.kind),
               prev.households, prev.residents, prev.geom, made.id
          FROM items i
          LEFT JOIN grids made ON made.code = i.code AND made.plan_id = :old AND made.valid_to IS NULL
          LEFT JOIN grids prev ON prev.id = i.base_grid_id"""), {"old": plan_id, "new": new_id})
    db.commit()
    return view(db, user, new_id)


def discard(db: Session, user, plan_id: int, version: int | None) -> dict:
    """Give up a draft, or a scheduled plan before its date."""
    _may_edit(user)
    plan = _plan_row(db, plan_id, lock=True)
    if plan.status == "scheduled" and version == plan.version:
        db.execute(text("UPDATE grid_plans SET status = 'draft' WHERE id = :p"), {"p": plan_id})
    _draft(db, user, plan_id, version)
    db.execute(text("UPDATE grid_plans SET status = 'discarded', version = version + 1 WHERE id = :p"),
               {"p": plan_id})
    db.commit()
    return view(db, user, plan_id)


# ---------------------------------------------------------------- workload against the norms

NORM_HOUSEHOLDS = {"village": 300, "community": 500}  # rural ≈ 300 households; urban 300–500
MAX_RESIDENTS = 2500
FAR_ABOVE = 1.5  # "far above": this many times the norm
BUSY = 2.0  # cases per month this many times the town's median grid


def workload(db: Session, user, village: str | None = None, now: datetime | None = None) -> dict:
    """Per current grid: households, residents, cases per month (the last 12 months), patrol
    hours (the last 30 days); ``over`` lists the norms a grid is far above (households over 1.5×
    the norm of its kind of village, residents over 2,500, cases over twice the median grid's)."""
    _may_read(user)
    now = now or shanghai_now()
    rows = db.execute(text("""
        SELECT g.code, g.name, g.kind, g.households, g.residents, v.code AS village, v.name AS village_name,
               v.kind AS village_kind, ST_Area(g.geom::geography) AS area_m2,
               (SELECT count(*) FROM incidents i WHERE i.grid_code = g.code AND i.reported_at >= :year) AS cases,
               (SELECT coalesce(sum(extract(epoch FROM p.ended_at - p.started_at)), 0) / 3600
                  FROM patrols p WHERE p.grid_code = g.code AND p.started_at >= :month AND p.ended_at IS NOT NULL)
                   AS patrol_hours
          FROM grids g JOIN areas v ON v.id = g.village_id
         WHERE g.valid_to IS NULL
         ORDER BY g.code"""), {"year": now - timedelta(days=365), "month": now - timedelta(days=30)}).all()
    median = statistics.median(r.cases / 12 for r in rows) if rows else 0  # the town's median grid
    out = []
    for r in rows:
        if village and r.village != village:
            continue
        norm = NORM_HOUSEHOLDS.get(r.village_kind, NORM_HOUSEHOLDS["village"])
        over = []
        if r.households > FAR_ABOVE * norm:
            over.append({"norm": "households", "zh": f"户数 {r.households} 超过定额 {norm} 户的 {FAR_ABOVE} 倍",
                         "en": f"{r.households} households, over {FAR_ABOVE}× the norm of {norm}"})
        if r.residents > MAX_RESIDENTS:
            over.append({"norm": "residents", "zh": f"人口 {r.residents} 超过 {MAX_RESIDENTS} 人",
                         "en": f"{r.residents} residents, over {MAX_RESIDENTS}"})
        if median and r.cases / 12 > BUSY * median:
            over.append({"norm": "cases", "zh": f"月均案件 {r.cases / 12:.1f} 件, 超过全镇网格中位数的 {BUSY:g} 倍",
                         "en": f"{r.cases / 12:.1f} cases a month, over {BUSY:g}× the median grid"})
        out.append({"code": r.code, "name": r.name, "kind": r.kind,
                    "village": {"code": r.village, "name": r.village_name, "kind": r.village_kind},
                    "households": r.households, "residents": r.residents, "area_m2": round(r.area_m2, 1),
                    "cases_per_month": round(r.cases / 12, 1), "patrol_hours_30d": round(float(r.patrol_hours), 1),
                    "norm_households": norm, "over": over})
    return {"grids": out, "median_cases_per_month": round(median, 1),
            "norms": {"households": NORM_HOUSEHOLDS, "max_residents": MAX_RESIDENTS, "far_above": FAR_ABOVE,
                      "busy": BUSY}}
