"""The demo town: a deterministic, synthetic town at Yangjiabo's approximate location.

Everything here is invented (合成演示数据): the boundary, the villages and their names, the people and
their phones, the incidents and the tracks. It only looks like the reference site: north of Binhai
New Area, Tianjin, about 100 km², about 20 villages and 80 grids that tile them exactly.

Geometry is made in a local metric frame (an affine map of lon/lat around the town centre, metres),
so that straight edges stay straight when mapped back to EPSG:4326, then snapped to 1e-7 degrees
(about 1 cm) so that neighbouring grids share their vertices exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely
import shapely.affinity
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

from spatial.codes import grid_code, west_east_north_south
from spatial.local import M_PER_DEG_LAT, local_plane
from spatial.tiling import as_multipolygon, voronoi_coverage

DIVISION = "120116"  # 滨海新区
TOWN = "103"  # synthetic town code
TOWN_CODE = DIVISION + TOWN
TOWN_NAME = "杨家泊镇(演示)"
DISTRICT_NAME = "滨海新区"
CENTER_LON, CENTER_LAT = 117.745, 39.318  # approximate, north of Binhai New Area
PLANE = local_plane(CENTER_LON, CENTER_LAT)  # the demo is drawn in metres around the centre
SNAP_DEG = 1e-7
SUPERVISION_OFFICE = "杨家泊镇纪检办公室"  # seed: 监督方式 of every item of the list of duties
SUPERVISION_PHONE = "022-67259291"  # 杨家泊镇纪检办公室, from the seed list of duties
CASE_PREFIX = "YJB"  # case numbers: YJB + report day + the id in 7 digits
MAP_ZOOM = 12
# the town's record (table towns), as the loader and migration 0010 write it
TOWN_RECORD = {
    "name": "杨家泊镇", "name_en": "Yangjiabo Town",
    "center_name": "杨家泊镇综合治理中心", "center_name_en": "Yangjiabo Town Comprehensive Governance Center",
    "supervision_office": SUPERVISION_OFFICE, "supervision_phone": SUPERVISION_PHONE,
    "case_prefix": CASE_PREFIX, "map_lat": CENTER_LAT, "map_lng": CENTER_LON, "map_zoom": MAP_ZOOM,
}

VILLAGE_NAMES = (
    "杨家泊村", "付庄村", "魏庄村", "东尹庄村", "西尹庄村", "高庄村", "刘圈村", "南台村",
    "北台村", "井子村", "大田村", "黄庄村", "张庄村", "李家堡村", "赵家泊村", "后沽村",
    "前沽村", "东港村", "河头村", "太平村",
)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文海波辉鹏飞宇浩然子涵欣怡晨阳佳琪梓萱一诺雨桐思远家豪"
ROADS = ("振兴路", "新华街", "东环路", "西环路", "杨北公路", "沿河路", "滨海大道", "幸福街", "民主街", "学府路")

# (code, name, phone, level)
DEPARTMENTS = (
    ("zongzhi", TOWN_RECORD["center_name"], "022-67259000", "town"),
    ("jiaojing", "滨海公安交警支队杨家泊大队", "022-67259122", "district"),
    ("zhifa", "镇综合执法大队", "022-67259110", "town"),
    ("huanwei", "镇环卫所", "022-67259111", "town"),
    ("jianshe", "镇规划建设办", "022-67259112", "town"),
    ("nongye", "镇农业农村办", "022-67259113", "town"),
    ("yingji", "镇应急管理办", "022-67259114", "town"),
    ("paichusuo", "杨家泊派出所", "022-67259110", "district"),
    ("sifa", "杨家泊司法所", "022-67259115", "district"),
    ("shehui", "镇社会事务办", "022-67259116", "town"),
    ("shichang", "杨家泊市场监管所", "022-67259117", "district"),
    ("shuiwu", "镇水务站", "022-67259118", "town"),
    ("gongdian", "杨家泊供电所", "022-67259119", "district"),
)

# (code, kind, class, sub-category, department, may self-handle, limit, unit, base weight)
CATEGORIES = (
    ("SR01", "event", "市容环境", "暴露垃圾", "huanwei", True, 4, "work_hours", 10),
    ("SR02", "event", "市容环境", "道路不洁", "huanwei", False, 2, "work_hours", 6),
    ("SR03", "event", "市容环境", "积存垃圾渣土", "huanwei", False, 1, "work_days", 5),
    ("XC01", "event", "宣传广告", "非法小广告", "zhifa", True, 1, "work_days", 4),
    ("XC02", "event", "宣传广告", "违规户外广告", "zhifa", False, 5, "work_days", 1),
    ("SG01", "event", "施工管理", "违法建设", "zhifa", False, 4, "work_hours", 2),
    ("SG02", "event", "施工管理", "施工扰民", "zhifa", False, 1, "work_days", 2),
    ("JM01", "event", "街面秩序", "占道经营", "zhifa", True, 2, "work_hours", 8),
    ("JM02", "event", "街面秩序", "店外经营", "zhifa", True, 4, "work_hours", 4),
    ("TF01", "event", "突发事件", "路面积水", "shuiwu", False, 4, "work_hours", 3),
    ("TF02", "event", "突发事件", "火情", "yingji", False, 1, "hours", 1),
    ("QT01", "event", "其他", "其他事件", "zongzhi", False, 5, "work_days", 1),
    ("GY01", "component", "公用设施", "井盖破损缺失", "shuiwu", False, 1, "work_days", 3),
    ("GY02", "component", "公用设施", "路灯损坏", "gongdian", False, 3, "work_days", 3),
    ("DL01", "component", "道路交通", "交通标志损坏", "jiaojing", False, 3, "work_days", 1),
    ("DL02", "component", "道路交通", "道路破损", "jianshe", False, 5, "work_days", 2),
    ("RJ01", "component", "市容环境", "垃圾箱破损", "huanwei", False, 2, "work_days", 2),
    ("YL01", "component", "园林绿化", "绿地维护", "nongye", False, 5, "work_days", 2),
    ("QJ01", "component", "其他", "其他部件", "zongzhi", False, 5, "work_days", 1),
    ("MD01", "governance", "矛盾纠纷", "邻里纠纷", "sifa", True, 5, "work_days", 5),
    ("MD02", "governance", "矛盾纠纷", "土地承包纠纷", "nongye", False, 10, "work_days", 2),
    ("AQ01", "governance", "安全隐患", "消防安全隐患", "yingji", False, 1, "work_days", 4),
    ("AQ02", "governance", "安全隐患", "危房隐患", "jianshe", False, 3, "work_days", 1),
    ("MS01", "governance", "民生诉求", "社会救助诉求", "shehui", False, 5, "work_days", 3),
    ("MS02", "governance", "民生诉求", "供水供暖诉求", "shuiwu", False, 1, "work_days", 3),
    ("TC01", "governance", "停车秩序", "违规停车", "jiaojing", True, 2, "work_hours", 7),
    ("TC02", "governance", "停车秩序", "长期占道停车", "jiaojing", False, 1, "work_days", 3),
)

# The categories' English names (class, name), for ?lang=en.
CATEGORY_EN = {
    "SR01": ("City appearance", "Exposed rubbish"), "SR02": ("City appearance", "Dirty road"),
    "SR03": ("City appearance", "Piled rubbish and muck"), "XC01": ("Advertising", "Illegal flyers"),
    "XC02": ("Advertising", "Unlicensed outdoor advertising"), "SG01": ("Construction", "Illegal building"),
    "SG02": ("Construction", "Construction noise"), "JM01": ("Street order", "Street vending on the road"),
    "JM02": ("Street order", "Trading outside the shop"), "TF01": ("Emergencies", "Standing water"),
    "TF02": ("Emergencies", "Fire"), "QT01": ("Other", "Other event"),
    "GY01": ("Public utilities", "Broken or missing manhole cover"), "GY02": ("Public utilities", "Broken street light"),
    "DL01": ("Roads and traffic", "Damaged traffic sign"), "DL02": ("Roads and traffic", "Damaged road"),
    "RJ01": ("City appearance", "Broken litter bin"), "YL01": ("Parks and greenery", "Green space upkeep"),
    "QJ01": ("Other", "Other component"), "MD01": ("Disputes", "Neighbour dispute"),
    "MD02": ("Disputes", "Land contract dispute"), "AQ01": ("Safety hazards", "Fire safety hazard"),
    "AQ02": ("Safety hazards", "Dangerous building"), "MS01": ("Livelihood requests", "Social assistance request"),
    "MS02": ("Livelihood requests", "Water or heating request"), "TC01": ("Parking order", "Illegal parking"),
    "TC02": ("Parking order", "Long-term parking on the road"),
}


@dataclass
class Hotspot:
    name: str
    x: float  # local metres east of the centre
    y: float  # local metres north of the centre
    sigma: float  # metres
    weight: float  # share of all incidents
    categories: dict[str, float]  # category code → extra weight


@dataclass
class Town:
    seed: int
    outline: Polygon  # EPSG:4326
    villages: list[dict] = field(default_factory=list)  # code, name, geom, seq
    grids: list[dict] = field(default_factory=list)  # code, name, village_code, kind, households, residents, geom
    hotspots: list[Hotspot] = field(default_factory=list)
    # the base map's geography (EPSG:4326), from a random stream of its own: the villages, grids
    # and people above come out the same as before it was added
    roads: list[dict] = field(default_factory=list)  # name, kind ("main" | "village"), geom LineString
    rivers: list[dict] = field(default_factory=list)  # name, width_m, geom LineString
    settlements: list[dict] = field(default_factory=list)  # village_code, name, label Point, blocks MultiPolygon


def to_lonlat(x, y):
    """Local metres (east, north of the town centre) → EPSG:4326 lon/lat degrees. Affine."""
    return PLANE.xy_to_deg(x, y)


def to_local(lon, lat):
    """EPSG:4326 lon/lat degrees → local metres around the town centre. Affine."""
    return PLANE.xy_to_m(lon, lat)


def _to_4326(geom):
    def affine(coords):
        lon, lat = to_lonlat(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.set_precision(shapely.transform(geom, affine), SNAP_DEG)


def _outline(rng: np.random.Generator) -> Polygon:
    """An irregular, smooth town boundary of about 100 km² (local metres)."""
    angles = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    radius = 5600 * np.ones_like(angles)
    for k, amp in ((2, 600), (3, 450), (5, 220)):
        radius += amp * np.cos(k * angles + rng.uniform(0, 2 * np.pi))
    # a little stretched east-west, like the coastal plain towns north of Hangu
    return Polygon(np.column_stack([1.15 * radius * np.cos(angles), 0.9 * radius * np.sin(angles)]))


def _spread_points(rng, polygon: Polygon, n: int, min_dist: float, tries: int = 20000) -> np.ndarray:
    minx, miny, maxx, maxy = polygon.bounds
    points: list[tuple[float, float]] = []
    for _ in range(tries):
        if len(points) == n:
            break
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if not shapely.contains_xy(polygon, x, y):
            continue
        if all((x - px) ** 2 + (y - py) ** 2 >= min_dist**2 for px, py in points):
            points.append((x, y))
    if len(points) < n:
        raise RuntimeError("could not spread the demo seeds; try another --seed")
    return np.array(points)


def build_town(seed: int = 20261128) -> Town:
    """Town outline, villages and grids (EPSG:4326), deterministic for a seed."""
    rng = np.random.default_rng(seed)
    outline = _outline(rng)
    village_seeds = _spread_points(rng, outline, len(VILLAGE_NAMES), min_dist=1500)
    village_cells = voronoi_coverage(village_seeds[:, 0], village_seeds[:, 1], outline)

    for _attempt in range(50):
        grid_xy, grid_village = [], []
        for v, cell in enumerate(village_cells):
            k = int(rng.integers(3, 6))
            pts = _spread_points(rng, cell.buffer(-150), k, min_dist=min(550, math.sqrt(cell.area / k) * 0.6))
            grid_xy.extend(pts)
            grid_village.extend([v] * k)
        grid_xy = np.array(grid_xy)
        grid_village = np.array(grid_village)
        cells = [_to_4326(c) for c in voronoi_coverage(grid_xy[:, 0], grid_xy[:, 1], outline)]
        villages_geom = [shapely.union_all([cells[i] for i in np.flatnonzero(grid_village == v)])
                         for v in range(len(village_cells))]
        if all(g.geom_type == "Polygon" for g in villages_geom):
            break
    else:  # pragma: no cover - depends on the seed
        raise RuntimeError("villages came out in pieces; try another --seed")

    town = Town(seed=seed, outline=_to_4326(outline))
    # villages numbered west→east, north→south (codes 201, 202, …: 村民委员会)
    cx = shapely.get_x(shapely.centroid(villages_geom))
    cy = shapely.get_y(shapely.centroid(villages_geom))
    v_order = west_east_north_south(cx, cy, row_height=2200 / M_PER_DEG_LAT)
    village_code = {}
    for seq, v in enumerate(v_order, start=1):
        code = f"{TOWN_CODE}{200 + seq:03d}"
        village_code[v] = code
        town.villages.append(
            {"code": code, "name": VILLAGE_NAMES[v], "geom": as_multipolygon(villages_geom[v]), "index": int(v)}
        )

    industrial_village = int(v_order[-1])
    for v in v_order:
        members = np.flatnonzero(grid_village == v)
        gx = shapely.get_x(shapely.centroid([cells[i] for i in members]))
        gy = shapely.get_y(shapely.centroid([cells[i] for i in members]))
        order = members[west_east_north_south(gx, gy, row_height=700 / M_PER_DEG_LAT)]
        for seq, i in enumerate(order, start=1):
            code = grid_code(DIVISION, TOWN, village_code[v][-3:], seq)
            dedicated = v == industrial_village and seq == len(order)
            households = 0 if dedicated else int(np.clip(rng.normal(300, 55), 150, 480))
            residents = 0 if dedicated else int(min(2500, households * rng.uniform(2.5, 3.0)))
            name = (f"{VILLAGE_NAMES[v][:-1]}工业园专属网格" if dedicated
                    else f"{VILLAGE_NAMES[v]}第{seq}网格")
            town.grids.append({
                "code": code,
                "name": name,
                "village_code": village_code[v],
                "kind": "dedicated" if dedicated else "comprehensive",
                "households": households,
                "residents": residents,
                "geom": as_multipolygon(cells[i]),
            })

    def near_village(v, dx=0.0, dy=0.0):
        x, y = village_seeds[v]
        return x + dx, y + dy

    seat = int(np.argmin(np.hypot(village_seeds[:, 0], village_seeds[:, 1])))
    hx, hy = near_village(seat, 200, -150)
    ix, iy = near_village(industrial_village)
    far = int(np.argmax(np.hypot(village_seeds[:, 0] - hx, village_seeds[:, 1] - hy)))
    jx, jy = near_village(far, -300, 250)
    mid = int(np.argsort(np.hypot(village_seeds[:, 0], village_seeds[:, 1]))[len(village_seeds) // 2])
    mx, my = near_village(mid)
    town.hotspots = [
        Hotspot("镇区集贸市场", hx, hy, 180, 0.20, {"JM01": 30, "SR01": 20, "JM02": 12, "TC01": 10}),
        Hotspot("工业园区", ix, iy, 260, 0.12, {"AQ01": 25, "SG01": 10, "SR03": 10, "TC02": 8}),
        Hotspot("公路交口", jx, jy, 150, 0.10, {"TC01": 30, "TC02": 15, "DL01": 6, "DL02": 6}),
        Hotspot(f"{VILLAGE_NAMES[mid]}老村区", mx, my, 220, 0.08, {"MD01": 20, "AQ02": 8, "MS01": 8, "MS02": 6}),
    ]
    _geography(town, outline, village_seeds, seat)
    return town


# ---------------------------------------------------------------- the base map's geography

GEOGRAPHY_STREAM = 14  # the geography's own random stream: np.random.default_rng([seed, 14])
RIVER_NAME = "蓟运河(演示)"


def _wavy(rng, a, b, amplitude: float, step: float = 250.0) -> LineString:
    """A line from a to b (local metres) that bends gently sideways, at most ``amplitude`` metres."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    length = float(np.hypot(*(b - a)))
    n = max(2, int(length / step))
    t = np.linspace(0, 1, n + 1)
    normal = np.array([-(b - a)[1], (b - a)[0]]) / max(length, 1.0)
    offset = np.zeros_like(t)
    for k in (1, 2, 3):
        offset += amplitude / k * np.sin(k * np.pi * t) * rng.uniform(-1, 1)
    pts = a + np.outer(t, b - a) + np.outer(offset, normal)
    return LineString(pts)


def _geography(town: Town, outline: Polygon, village_seeds: np.ndarray, seat: int) -> None:
    """Roads, a river and settlement blocks for the base map (``wangge basemap build``), from the
    demo seed's own random stream. The settlement of each village sits around its seed point."""
    rng = np.random.default_rng([town.seed, GEOGRAPHY_STREAM])
    minx, miny, maxx, maxy = outline.bounds
    reach = outline.buffer(600)  # roads and the river run on a little past the boundary

    # a river across the town, west to east (towards the coast)
    y0, y1 = rng.uniform(miny * 0.6, maxy * 0.6, size=2)
    river = _wavy(rng, (minx - 800, y0), (maxx + 800, y1), amplitude=900, step=150).intersection(reach)
    town.rivers.append({"name": RIVER_NAME, "width_m": 45.0, "geom": _to_4326(river)})

    # two main roads crossing at the town seat, and village roads: each village to its nearest
    # neighbours (a spanning tree, then a few more links)
    sx, sy = village_seeds[seat]
    mains = [_wavy(rng, (minx - 800, sy + rng.uniform(-400, 400)), (maxx + 800, sy + rng.uniform(-400, 400)), 500),
             _wavy(rng, (sx + rng.uniform(-400, 400), miny - 800), (sx + rng.uniform(-400, 400), maxy + 800), 500)]
    for name, line in zip(("滨海大道", "杨北公路"), mains, strict=True):
        town.roads.append({"name": name, "kind": "main", "geom": _to_4326(line.intersection(reach))})
    n = len(village_seeds)
    dist = np.hypot(village_seeds[:, None, 0] - village_seeds[None, :, 0],
                    village_seeds[:, None, 1] - village_seeds[None, :, 1])
    linked, edges = {seat}, []
    while len(linked) < n:  # Prim's spanning tree from the seat
        i, j = min(((i, j) for i in linked for j in range(n) if j not in linked), key=lambda e: dist[e])
        linked.add(j)
        edges.append((i, j))
    for i in rng.choice(n, size=4, replace=False):  # a few loops
        j = int(np.argsort(dist[i])[2])
        if (i, j) not in edges and (j, i) not in edges:
            edges.append((int(i), j))
    lanes = []
    for i, j in edges:
        line = _wavy(rng, village_seeds[i], village_seeds[j], amplitude=min(250.0, dist[i, j] / 8))
        lanes.append(line.intersection(outline))
        town.roads.append({"name": "", "kind": "village", "geom": _to_4326(lanes[-1])})

    # settlement blocks around each village's seed, off the roads and the river
    avoid = shapely.union_all([river.buffer(60)] + [m.buffer(25) for m in mains] + [lane.buffer(12) for lane in lanes])
    for village in town.villages:
        v = village["index"]
        cx, cy = village_seeds[v]
        local_village = shapely.transform(village["geom"], lambda c: np.column_stack(to_local(c[:, 0], c[:, 1])))
        if not shapely.contains_xy(local_village, cx, cy):
            p = local_village.point_on_surface()
            cx, cy = p.x, p.y
        angle = rng.uniform(0, np.pi / 2)
        size = 1.6 if v == seat else 1.0
        blocks: list[Polygon] = []
        for _ in range(300):
            if len(blocks) >= int(14 * size):
                break
            r = rng.uniform(0, 380 * size)
            a = rng.uniform(0, 2 * np.pi)
            bx, by = cx + r * np.cos(a), cy + r * np.sin(a)
            w, h = rng.uniform(70, 150), rng.uniform(40, 90)
            block = shapely.affinity.rotate(shapely.box(bx - w / 2, by - h / 2, bx + w / 2, by + h / 2), angle,
                                            use_radians=True)
            if (block.intersects(avoid) or not local_village.contains(block)
                    or any(block.distance(o) < 18 for o in blocks)):
                continue
            blocks.append(block)
        town.settlements.append({
            "village_code": village["code"], "name": village["name"],
            "label": _to_4326(Point(cx, cy)), "blocks": _to_4326(MultiPolygon(blocks)),
        })


# ---------------------------------------------------------------- people


def person_name(rng) -> str:
    surname = SURNAMES[int(rng.integers(len(SURNAMES)))]
    given = "".join(GIVEN[int(i)] for i in rng.integers(len(GIVEN), size=int(rng.integers(1, 3))))
    return surname + given


def phone_number(rng) -> str:
    return "1" + str(int(rng.choice([39, 58, 80, 86]))) + "".join(str(d) for d in rng.integers(10, size=8))
