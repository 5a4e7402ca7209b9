"""Public grid boards (seed 5-1 ①上岗公示): who the grid leader (网格长) and grid worker (网格员) of a
grid are, their phones and duties, the supervision phone, a QR code of the board, an A4 poster, and
residents' reports from the board routed to the grid.

No Flask here: the view passes the translation function and the URLs in. Everything a resident sees
is public data of the grid; nothing personal of a resident is read back.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import io
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

import segno
from geoalchemy2 import functions as gf
from sqlalchemy import Numeric, func, select
from sqlalchemy.orm import Session, aliased

from db.models import (
    Account,
    Area,
    Attachment,
    CaseEvent,
    Category,
    Department,
    Grid,
    GridAssignment,
    Incident,
    Person,
    Setting,
)
from workflow import cases, roles
from workflow.clock import SHANGHAI
from workflow.deadlines import SYSTEM_EVENTS

from . import attachments, intake, privacy
from .errors import FieldError, InvalidInputError, NotFoundError
from .town import load_town

GRID_CODE = re.compile(r"[0-9]{15}")
FORM_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")
# The board's own location, when the resident does not tap the map: the grid's point on surface.
DEFAULT_LOCATION_FLAG = "location_grid_point"
# Same options for the page and the poster; tests rebuild the code with them.
QR_OPTIONS = {"error": "m", "micro": False}
FORM_FIELDS = ("category", "description", "address", "reporter_name", "reporter_phone", "lng", "lat", "form_key")
MAX_BOARD_PHOTOS = 3  # a resident's report: up to 3 photos, each as any attachment (≤ 10 MB)


def N_(message: str) -> str:  # noqa: N802 - the gettext "mark for extraction" convention
    """Mark a message for the catalogue; the page translates it when it shows it."""
    return message


# Duties written from the seed (items 1-1, 2-1, 5-1); the item each comes from is noted.
LEADER_DUTIES = (
    # 1-1 运行流程: 网格员 100% 实时上报网格长, 由各级网格管理机构按照权限进行处置
    N_("实时接收本网格网格员上报的群众诉求和矛盾隐患，村级权限内的组织处置，超出权限的及时上报镇综合治理中心"),
    # 1-1 责任事项: 收集社区居民、村民和驻村单位的需求、诉求, 反映群众意见、要求和建议
    N_("组织收集本网格居民、村民和驻村单位的需求、诉求，反映群众的意见、要求和建议"),
    # 5-1 ③巡查研判
    N_("落实“日走访、周分析、月汇总”，定期研判分析本网格情况"),
    # 5-1 ④征求意见
    N_("定期组织召开民情分析会，梳理汇总群众意见，协商解决问题"),
    # 2-1 职责边界: 各村委会配合交警维护道路停车秩序
    N_("配合交警部门和镇综合治理中心维护本村道路停车秩序"),
)
WORKER_DUTIES = (
    # 1-1 运行流程
    N_("收集群众诉求、矛盾纠纷和安全隐患，通过手机 APP 全部实时上报网格长"),
    # 5-1 ②日常巡查、③巡查研判
    N_("按标准流程在网格内日常巡查、入户走访，落实“日走访、周分析、月汇总”"),
    # 2-1 运行流程、责任事项
    N_("劝阻、告知道路停车违法行为：未按要求停放的车辆，劝导其停入车位或驶离"),
    # 2-1 运行流程
    N_("长时间违规占用道路的车辆等问题上报镇网格中心，处置结束后进行结案核查"),
)
GRID_KINDS = {"comprehensive": N_("综合网格"), "dedicated": N_("专属网格")}


class BoardNotFound(NotFoundError):
    """No board for this code (404); ``zh``/``en`` say why (malformed, retired or unknown)."""

    def __init__(self, zh: str, en: str):
        super().__init__(zh, en, param="code")


@dataclass(frozen=True)
class Member:
    person_id: int
    name: str
    phone: str | None
    photo: str | None  # an attachment's SHA-256, a same-site path, or None (placeholder)

    @property
    def photo_sha(self) -> str | None:
        return self.photo if self.photo and intake.SHA256.fullmatch(self.photo) else None

    @property
    def photo_path(self) -> str | None:
        """A same-site path (``/static/…``); anything else (other hosts) is not shown."""
        p = self.photo
        if p and p.startswith("/") and not p.startswith("//") and "\\" not in p:
            return p
        return None


@dataclass(frozen=True)
class Board:
    code: str
    name: str
    kind: str
    version: int
    village_code: str
    village_name: str
    households: int
    residents: int
    area_km2: float
    geometry: dict  # GeoJSON, WGS84
    village_geometry: dict | None
    point: tuple[float, float]  # ST_PointOnSurface: inside the grid, (lng, lat)
    leaders: tuple[Member, ...]
    workers: tuple[Member, ...]
    synthetic: bool


@dataclass(frozen=True)
class Supervision:
    office: str
    phone: str


@dataclass(frozen=True)
class Receipt:
    incident_id: int
    created: bool
    case_no: str
    category: str
    category_class: str
    grid_code: str | None
    grid_name: str | None
    village_name: str | None
    worker_name: str | None
    worker_phone: str | None
    reported_at: datetime
    location_from_grid: bool
    reporter_name: str | None  # masked
    reporter_phone: str | None  # masked
    photo_count: int = 0


# ---------------------------------------------------------------- reading a board


def board_or_none(db: Session, code: str) -> Board | None:
    """:func:`find_board`, or None when there is no board for this code."""
    try:
        return find_board(db, code)
    except BoardNotFound:
        return None


def picked_point(form: Mapping[str, str]) -> dict | None:
    """The point a resident picked on the board's map (``lng``, ``lat`` in WGS84), or None when
    the form has none or it is not numbers."""
    if not (form.get("lng") and form.get("lat")):
        return None
    try:
        return {"lng": float(form["lng"]), "lat": float(form["lat"])}
    except ValueError:
        return None


def find_board(db: Session, code: str) -> Board:
    """The board of the current version of a grid; ``BoardNotFound`` otherwise."""
    if not isinstance(code, str) or not GRID_CODE.fullmatch(code):
        raise BoardNotFound("网格编码应为 15 位数字", "a grid code is 15 digits")
    village = aliased(Area)
    surface = func.ST_PointOnSurface(Grid.geom)
    row = db.execute(
        select(
            Grid, village.code, village.name,
            gf.ST_AsGeoJSON(Grid.geom, 7), gf.ST_AsGeoJSON(village.geom, 6),
            func.ST_X(surface), func.ST_Y(surface),
            func.round(func.cast(func.ST_Area(func.Geography(Grid.geom)) / 1e6, Numeric), 3),
        )
        .join(village, village.id == Grid.village_id)
        .where(Grid.code == code, Grid.valid_to.is_(None))
    ).first()
    if row is None:
        retired = db.execute(select(func.count()).select_from(Grid).where(Grid.code == code)).scalar_one()
        if retired:
            raise BoardNotFound("该网格已调整或撤销", "this grid has been redrawn or retired")
        raise BoardNotFound("没有这个网格", "no such grid")
    grid, village_code, village_name, geojson, village_geojson, lng, lat, area = row
    members = db.execute(
        select(GridAssignment.duty, Person)
        .join(Person, Person.id == GridAssignment.person_id)
        .where(GridAssignment.grid_code == code, GridAssignment.valid_to.is_(None))
        .order_by(GridAssignment.valid_from, GridAssignment.id)
    ).all()

    def of(duty):
        return tuple(Member(p.id, p.name, p.phone, p.photo) for d, p in members if d == duty)

    return Board(
        code=grid.code, name=grid.name, kind=grid.kind, version=grid.version,
        village_code=village_code, village_name=village_name,
        households=grid.households, residents=grid.residents, area_km2=float(area or 0),
        geometry=json.loads(geojson), village_geometry=json.loads(village_geojson) if village_geojson else None,
        point=(lng, lat), leaders=of("leader"), workers=of("worker"), synthetic=bool(grid.synthetic),
    )


def supervision(db: Session) -> Supervision:
    """The supervision office and phone (监督电话): settings 'board' when set, else the town's record."""
    town = load_town(db)
    row = db.get(Setting, "board")
    value = row.value if row is not None and isinstance(row.value, dict) else {}
    if value.get("supervision_phone"):
        return Supervision(value.get("supervision_office") or town.supervision_office, value["supervision_phone"])
    return Supervision(town.supervision_office, town.supervision_phone)


def member_photo(db: Session, code: str, person_id: int) -> Attachment | None:
    """The stored photo of a person who is now on this grid's board; None for anyone else."""
    if not GRID_CODE.fullmatch(code):
        return None
    photo = db.execute(
        select(Person.photo)
        .join(GridAssignment, GridAssignment.person_id == Person.id)
        .where(Person.id == person_id, GridAssignment.grid_code == code, GridAssignment.valid_to.is_(None))
        .limit(1)
    ).scalar()
    if not photo or not intake.SHA256.fullmatch(photo):
        return None
    return db.get(Attachment, photo)


def poster_photos(db: Session, board: Board) -> dict[int, bytes]:
    """The stored photos of the board's people, by person id (for the poster)."""
    shas = {m.person_id: m.photo_sha for m in (*board.leaders, *board.workers) if m.photo_sha}
    if not shas:
        return {}
    data = dict(db.execute(select(Attachment.sha256, Attachment.data)
                           .where(Attachment.sha256.in_(set(shas.values())))).all())
    return {pid: data[sha] for pid, sha in shas.items() if sha in data}


def category_groups(categories: list[dict]) -> list[tuple[str, list[dict]]]:
    """Categories grouped by class, in the order given (for ``<optgroup>``)."""
    groups: dict[str, list[dict]] = {}
    for c in categories:
        groups.setdefault(c["class"], []).append(c)
    return list(groups.items())


def tel(phone: str | None) -> str | None:
    """``022-67259291`` → ``02267259291`` for a ``tel:`` link."""
    if not phone:
        return None
    digits = "".join(ch for ch in phone if ch.isdigit() or ch == "+")
    return digits or None


# ---------------------------------------------------------------- QR code


def qr_code(url: str) -> segno.QRCode:
    return segno.make(url, **QR_OPTIONS)


def qr_svg(url: str, title: str) -> str:
    """Inline SVG markup (segno escapes the title); sized by CSS through its viewBox."""
    return qr_code(url).svg_inline(scale=1, border=4, omitsize=True, svgclass="qr", title=title,
                                   dark="#000", light="#fff")


# ---------------------------------------------------------------- a resident's report


def form_idempotency_key(secret: str, code: str, form_key: str) -> str:
    """The incident's idempotency key for one board form: a keyed hash, so that it can neither be
    chosen to collide with a phone's key nor guessed from the page."""
    digest = hmac.new(secret.encode(), f"board:{code}:{form_key}".encode(), hashlib.sha256).hexdigest()
    return f"board-{digest[:48]}"


def _coordinate(raw: str, name: str, errors: list[FieldError]) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        errors.append(FieldError(f"location.{name}", "位置坐标无效, 请在地图上重新点选",
                                 f"the {name} of the location is not a number"))
        return None
    if not math.isfinite(value):
        errors.append(FieldError(f"location.{name}", "位置坐标无效, 请在地图上重新点选",
                                 f"the {name} of the location is not finite"))
        return None
    return value


def check_photos(photos: list[bytes], errors: list[FieldError]) -> list[bytes]:
    """The resident's photos that are to be kept (empty file inputs left out), each checked as
    any attachment; the reasons go to ``errors`` on the field ``photos``."""
    photos = [p for p in photos if p]
    if len(photos) > MAX_BOARD_PHOTOS:
        errors.append(FieldError("photos", f"照片最多 {MAX_BOARD_PHOTOS} 张, 请重新选择",
                                 f"at most {MAX_BOARD_PHOTOS} photos; please choose again"))
        return []
    for n, data in enumerate(photos, start=1):
        try:
            attachments.check_photo(data)
        except attachments.AttachmentError as exc:
            errors.append(FieldError("photos", f"第 {n} 张照片: {exc.zh}; 请重新选择",
                                     f"photo {n}: {exc.en}; please choose again"))
    return photos


def submit_report(db: Session, board: Board, form: Mapping[str, str], *, secret: str,
                  near_m: float | None = None, photos: list[bytes] = ()) -> Receipt:
    """A resident's report from the board, as an incident routed like any other (source
    ``resident``), with up to 3 photos. Without a tapped point the report stands at the grid's point
    on surface, so it is routed to this grid. Raises ``InvalidInputError`` with every reason at once;
    nothing is saved then. A form sent twice (same ``form_key``) gives the incident stored the first time."""
    errors: list[FieldError] = []
    photos = check_photos(list(photos), errors)
    raw = {k: (form.get(k) or "") for k in FORM_FIELDS}

    form_key = raw["form_key"].strip()
    if not FORM_KEY.fullmatch(form_key):
        errors.append(FieldError("form_key", "表单已失效, 请确认内容后重新提交",
                                 "the form has expired; check it and send it again"))

    lng_raw, lat_raw = raw["lng"].strip(), raw["lat"].strip()
    from_grid = not lng_raw and not lat_raw
    if from_grid:
        lng, lat = board.point
    elif not lng_raw or not lat_raw:
        errors.append(FieldError("location", "位置不完整, 请在地图上重新点选", "the location needs both lng and lat"))
        lng = lat = None
    else:
        lng, lat = _coordinate(lng_raw, "lng", errors), _coordinate(lat_raw, "lat", errors)

    payload = {
        "category": raw["category"],
        "description": raw["description"],
        "address": raw["address"],
        "reporter_name": raw["reporter_name"],
        "reporter_phone": raw["reporter_phone"],
        "location": {"lng": lng, "lat": lat, "crs": "wgs84"} if lng is not None and lat is not None else None,
        "photos": [attachments.photo_id(p) for p in photos],
    }
    report = None
    try:
        report = intake.parse_report(payload)
    except InvalidInputError as exc:
        # a location already refused above is reported once
        errors.extend(e for e in exc.errors if not (e.field == "location" and payload["location"] is None))
    if not raw["description"].strip():
        errors.append(FieldError("description", "请描述您要反映的问题", "please describe the problem"))
    category = raw["category"].strip()
    if category and len(category) <= 16 and db.execute(
            select(func.count()).select_from(Category).where(Category.code == category)).scalar_one() == 0:
        errors.append(FieldError("category", "请从列表中选择事件类别", f"unknown category {category!r}"))
    if errors or report is None:
        raise InvalidInputError(errors)

    if from_grid:
        report = dataclasses.replace(report, flags=(*report.flags, DEFAULT_LOCATION_FLAG))
    for data in photos:  # kept only once the whole form is valid
        attachments.store_photo(db, data, None)
    incident_id, created = intake.report_incident(
        db, report, source="resident", reporter_id=None, reporter_role="resident",
        idempotency_key=form_idempotency_key(secret, board.code, form_key), near_m=near_m,
    )
    # a form sent again shows no contact details: what was stored the first time may differ
    return receipt(db, incident_id, created=created, reporter_name=report.reporter_name if created else None,
                   reporter_phone=report.reporter_phone if created else None)


def receipt(db: Session, incident_id: int, *, created: bool, reporter_name: str | None,
            reporter_phone: str | None) -> Receipt:
    """What the resident may see of the case just stored: no one else's personal data; their own
    name and phone masked."""
    worker = aliased(Person)
    village = aliased(Area)
    inc, cat_name, cat_class, grid_name, village_name, worker_name, worker_phone = db.execute(
        select(Incident, Category.name, Category.class_name, Grid.name, village.name, worker.name, worker.phone)
        .join(Category, Category.id == Incident.category_id)
        .outerjoin(Grid, Grid.id == Incident.grid_id)
        .outerjoin(village, village.code == Incident.village_code)
        .outerjoin(worker, worker.id == Incident.worker_id)
        .where(Incident.id == incident_id)
    ).one()
    return Receipt(
        incident_id=inc.id, created=created, case_no=inc.case_no, category=cat_name, category_class=cat_class,
        grid_code=inc.grid_code, grid_name=grid_name, village_name=village_name,
        worker_name=worker_name, worker_phone=worker_phone,
        reported_at=inc.reported_at.astimezone(SHANGHAI),
        location_from_grid=DEFAULT_LOCATION_FLAG in (inc.flags or []),
        reporter_name=privacy.mask_name(reporter_name), reporter_phone=privacy.mask_phone(reporter_phone),
        photo_count=len(inc.photos or []),
    )


# ---------------------------------------------------------------- the A4 poster


# TrueType CJK fonts of Debian packages, as (file, index in a .ttc); the first found is embedded.
# The install script brings fonts-wqy-zenhei. Noto CJK (CFF outlines) cannot be embedded by reportlab.
CJK_FONT_FILES = (
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
)
CJK_FALLBACK = "STSong-Light"  # a CID font every PDF viewer is asked to supply: no file, not embedded


def poster_cjk_font(candidates: tuple[tuple[str, int], ...] = CJK_FONT_FILES) -> str:
    """Register and name the poster's Chinese font: the first TrueType file of ``candidates`` that
    exists, embedded as a subset (reportlab's ``TTFont``); else the CID font STSong-Light, whose
    glyphs a viewer without Chinese fonts cannot draw."""
    import os

    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    registered = pdfmetrics.getRegisteredFontNames()
    for path, index in candidates:
        name = f"WanggeCJK-{os.path.basename(path).split('.')[0]}-{index}"
        if name in registered:
            return name
        if os.path.isfile(path):
            try:
                pdfmetrics.registerFont(TTFont(name, path, subfontIndex=index))
            except TTFError:  # a file reportlab cannot embed: try the next
                continue
            return name
    if CJK_FALLBACK not in registered:
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FALLBACK))
    return CJK_FALLBACK


def _identity(message: str, **values) -> str:
    return message % values if values else message


def poster_pdf(board: Board, sup: Supervision, url: str, *, center_name: str,
               photos: Mapping[int, bytes] | None = None,
               gettext: Callable[..., str] = _identity, synthetic: bool = False,
               today: datetime | None = None) -> bytes:
    """The board as a printable A4 poster, signed by the town's governance centre (``center_name``,
    in the poster's language). Chinese text in a CJK TrueType font embedded as a subset (see
    :func:`poster_cjk_font`), so viewers without a Chinese font show it; codes, phones and the URL
    in Helvetica. Content streams are left uncompressed so the
    text can be searched; the file stays small (one page)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfgen import canvas

    _ = gettext
    cjk = poster_cjk_font()
    blue = colors.HexColor("#1f4e79")
    red = colors.HexColor("#c0392b")
    grey = colors.HexColor("#6b7280")
    width, height = A4
    margin = 15 * mm
    photos = photos or {}

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, pageCompression=0)
    c.setTitle(f"{board.name} {board.code} {_('上岗公示')}")
    c.setSubject(board.code)
    c.setAuthor(center_name)
    c.setCreator("Wangge")

    # header band
    c.setFillColor(blue)
    c.rect(0, height - 34 * mm, width, 34 * mm, stroke=0, fill=1)
    c.setFillColor(colors.white)
    c.setFont(cjk, 28)
    c.drawString(margin, height - 18 * mm, _("网格员上岗公示"))
    c.setFont(cjk, 11)
    c.drawString(margin, height - 27 * mm, _("网格化服务管理 · %(center)s", center=center_name))
    if synthetic or board.synthetic:
        label = _("合成演示数据")
        c.setFillColor(colors.HexColor("#f1c40f"))
        w = pdfmetrics.stringWidth(label, cjk, 11) + 6 * mm
        c.roundRect(width - margin - w, height - 20 * mm, w, 8 * mm, 1.5 * mm, stroke=0, fill=1)
        c.setFillColor(colors.HexColor("#3d3100"))
        c.drawString(width - margin - w + 3 * mm, height - 17.3 * mm, label)

    # the grid
    y = height - 48 * mm
    c.setFillColor(colors.black)
    c.setFont(cjk, 22)
    c.drawString(margin, y, board.name)
    y -= 9 * mm
    c.setFont(cjk, 12)
    label = _("网格编码") + ": "
    c.drawString(margin, y, label)
    c.setFont("Helvetica-Bold", 13)
    c.drawString(margin + pdfmetrics.stringWidth(label, cjk, 12), y, board.code)
    y -= 7 * mm
    c.setFont(cjk, 11)
    facts = "    ".join((
        _("所属村/社区") + ": " + board.village_name,
        _("类型") + ": " + _(GRID_KINDS.get(board.kind, board.kind)),
    ))
    c.drawString(margin, y, facts)
    y -= 6 * mm
    c.drawString(margin, y, "    ".join((
        _("户数") + f": {board.households}", _("人口") + f": {board.residents}",
        _("面积") + f": {board.area_km2:.2f} " + _("平方公里"),
    )))

    # a small map of the grid, top right
    map_w, map_h = 62 * mm, 44 * mm
    map_x, map_y = width - margin - map_w, height - 86 * mm
    _draw_grid_map(c, board, map_x, map_y, map_w, map_h, colors)

    # the two roles
    top = height - 94 * mm
    col_w = (width - 2 * margin - 8 * mm) / 2
    for i, (role, members, duties) in enumerate((
        (_("网格长"), board.leaders, LEADER_DUTIES),
        (_("网格员"), board.workers, WORKER_DUTIES),
    )):
        x = margin + i * (col_w + 8 * mm)
        c.setStrokeColor(blue)
        c.setFillColor(blue)
        c.rect(x, top - 9 * mm, col_w, 9 * mm, stroke=0, fill=1)
        c.setFillColor(colors.white)
        c.setFont(cjk, 14)
        c.drawString(x + 3 * mm, top - 6.5 * mm, role)
        # photo
        ph_w, ph_h = 27 * mm, 34 * mm
        ph_x, ph_y = x, top - 12 * mm - ph_h
        first = members[0] if members else None
        data = photos.get(first.person_id) if first else None
        drawn = False
        if data:
            try:
                c.drawImage(ImageReader(io.BytesIO(data)), ph_x, ph_y, ph_w, ph_h,
                            preserveAspectRatio=True, anchor="c")
                drawn = True
            except Exception:  # noqa: BLE001 - an undecodable photo falls back to the placeholder
                drawn = False
        if not drawn:
            _draw_avatar(c, ph_x, ph_y, ph_w, ph_h, colors)
        c.setFillColor(colors.black)
        tx = ph_x + ph_w + 4 * mm
        ty = top - 20 * mm
        if not members:
            c.setFont(cjk, 13)
            c.drawString(tx, ty, _("暂未配备"))
        for m in members:
            c.setFont(cjk, 18 if m is first else 13)
            c.drawString(tx, ty, m.name)
            ty -= 8 * mm if m is first else 6 * mm
            c.setFont(cjk, 10)
            c.drawString(tx, ty, _("电话") + ":")
            c.setFont("Helvetica-Bold", 14 if m is first else 11)
            c.drawString(tx + 10 * mm, ty, m.phone or "-")
            ty -= 9 * mm
        # duties
        dy = ph_y - 7 * mm
        c.setFont(cjk, 11)
        c.setFillColor(blue)
        c.drawString(x, dy, _("工作职责"))
        dy -= 1.5 * mm
        c.setFillColor(colors.black)
        size, leading, indent = 10.5, 15, 4.5 * mm
        for n, duty in enumerate(duties, 1):
            c.setFont(cjk, size)
            dy -= leading
            c.drawString(x, dy, f"{n}.")
            for k, line in enumerate(wrap(_(duty), cjk, size, col_w - indent)):
                if k:
                    dy -= leading
                c.drawString(x + indent, dy, line)
            dy -= 1 * mm

    # supervision and QR code
    qr_size = 42 * mm
    box_y = margin + 6 * mm
    box_h = qr_size + 6 * mm
    c.setStrokeColor(red)
    c.setLineWidth(1.2)
    c.rect(margin, box_y, width - 2 * margin - qr_size - 6 * mm, box_h, stroke=1, fill=0)
    c.setFillColor(red)
    c.setFont(cjk, 15)
    c.drawString(margin + 5 * mm, box_y + box_h - 12 * mm, _("监督电话"))
    c.setFillColor(colors.black)
    c.setFont(cjk, 13)
    c.drawString(margin + 5 * mm, box_y + box_h - 21 * mm, sup.office)
    c.setFont("Helvetica-Bold", 20)
    c.drawString(margin + 5 * mm, box_y + box_h - 31 * mm, sup.phone)
    c.setFont(cjk, 9)
    c.setFillColor(grey)
    c.drawString(margin + 5 * mm, box_y + 5 * mm, _("扫描右侧二维码, 查看本网格公示或在线反映问题"))

    qr_x = width - margin - qr_size
    _draw_qr(c, qr_code(url), qr_x, box_y + 6 * mm, qr_size, colors)
    c.setFont("Helvetica", 6.5)
    c.setFillColor(grey)
    c.drawCentredString(qr_x + qr_size / 2, box_y + 1.5 * mm, url)

    # footer
    c.setFont(cjk, 8)
    stamp = (today or datetime.now(SHANGHAI)).strftime("%Y-%m-%d")
    c.drawString(margin, margin - 4 * mm, _("网格化服务管理平台生成") + f" · {stamp} · "
                 + _("紧急情况请拨打 110、119、120"))
    c.showPage()
    c.save()
    return buf.getvalue()


# Chinese line-breaking (禁则): no line starts with closing punctuation, none ends with opening.
NOT_AT_LINE_START = set("，。、；：？！）》」』】〕”’,.;:?!)]}%")
NOT_AT_LINE_END = set("（《「『【〔“‘([{")


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Greedy line-breaking of Chinese (and mixed) text to ``width`` points, character by
    character, keeping closing punctuation off the start of a line and opening punctuation off its
    end; runs of Latin letters and digits stay whole."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    tokens = re.findall(r"[A-Za-z0-9@._%+\-/]+|\s|.", text)
    lines: list[str] = []
    line = ""
    for tok in tokens:
        if not line and tok.isspace():
            continue
        if stringWidth(line + tok, font, size) <= width or not line:
            line += tok
            continue
        # tok does not fit: break before it, moving characters so that no rule is broken
        carry = ""
        if tok in NOT_AT_LINE_START and len(line) > 1:
            carry, line = line[-1], line[:-1]
        while len(line) > 1 and line[-1] in NOT_AT_LINE_END:
            carry, line = line[-1] + carry, line[:-1]
        lines.append(line.rstrip())
        line = (carry + tok).lstrip()
    if line:
        lines.append(line.rstrip())
    return lines


def _draw_qr(c, qr: segno.QRCode, x: float, y: float, size: float, colors) -> None:
    rows = list(qr.matrix_iter(scale=1, border=4))
    module = size / len(rows)
    c.setFillColor(colors.white)
    c.rect(x, y, size, size, stroke=0, fill=1)
    c.setFillColor(colors.black)
    for r, row in enumerate(rows):
        col = 0
        while col < len(row):
            if row[col]:
                start = col
                while col < len(row) and row[col]:
                    col += 1
                # a run of dark modules as one rectangle (slightly overlapping rows: no hairlines)
                c.rect(x + start * module, y + size - (r + 1) * module, (col - start) * module, module * 1.02,
                       stroke=0, fill=1)
            else:
                col += 1


def _draw_avatar(c, x: float, y: float, w: float, h: float, colors) -> None:
    """A neutral placeholder: head and shoulders in grey."""
    c.setFillColor(colors.HexColor("#e5e9ee"))
    c.rect(x, y, w, h, stroke=0, fill=1)
    c.setFillColor(colors.HexColor("#9aa5b1"))
    cx = x + w / 2
    c.circle(cx, y + h * 0.62, w * 0.2, stroke=0, fill=1)
    p = c.beginPath()
    p.moveTo(x + w * 0.12, y)
    p.curveTo(x + w * 0.12, y + h * 0.42, x + w * 0.88, y + h * 0.42, x + w * 0.88, y)
    p.close()
    c.drawPath(p, stroke=0, fill=1)


def _rings(geometry: dict | None) -> list[list[list[float]]]:
    if not geometry:
        return []
    if geometry["type"] == "Polygon":
        return list(geometry["coordinates"])
    if geometry["type"] == "MultiPolygon":
        return [ring for poly in geometry["coordinates"] for ring in poly]
    return []


def _draw_grid_map(c, board: Board, x: float, y: float, w: float, h: float, colors) -> None:
    """The grid (filled) inside its village (dashed), in a local equirectangular frame."""
    grid_rings = _rings(board.geometry)
    village_rings = _rings(board.village_geometry)
    pts = [p for ring in grid_rings for p in ring]
    if not pts:
        return
    lngs, lats = [p[0] for p in pts], [p[1] for p in pts]
    k = math.cos(math.radians((min(lats) + max(lats)) / 2))
    # frame the grid with some of its surroundings
    span_x, span_y = (max(lngs) - min(lngs)) * k, max(lats) - min(lats)
    cx, cy = (max(lngs) + min(lngs)) / 2 * k, (max(lats) + min(lats)) / 2
    scale = min(w / (span_x * 1.5 or 1e-6), h / (span_y * 1.5 or 1e-6))

    def xy(p):
        return x + w / 2 + (p[0] * k - cx) * scale, y + h / 2 + (p[1] - cy) * scale

    c.saveState()
    c.setFillColor(colors.HexColor("#eef2f5"))
    c.setStrokeColor(colors.HexColor("#cbd2d9"))
    c.rect(x, y, w, h, stroke=1, fill=1)
    clip = c.beginPath()
    clip.rect(x, y, w, h)
    c.clipPath(clip, stroke=0, fill=0)
    for rings, fill, stroke, dash in ((village_rings, None, "#1f4e79", (3, 2)),
                                      (grid_rings, "#e8f1fa", "#c0392b", None)):
        if not rings:
            continue
        path = c.beginPath()
        for ring in rings:
            path.moveTo(*xy(ring[0]))
            for p in ring[1:]:
                path.lineTo(*xy(p))
            path.close()
        c.setStrokeColor(colors.HexColor(stroke))
        c.setLineWidth(1.2)
        c.setDash(list(dash) if dash else [])
        if fill:
            c.setFillColor(colors.HexColor(fill))
        c.drawPath(path, stroke=1, fill=1 if fill else 0, fillMode=0)
        c.setDash()
    c.restoreState()


# ---------------------------------------------------------------- a resident looks up their case

CASE_NO = re.compile(r"[A-Za-z]{1,8}[0-9]{6,30}")  # the town's prefix and digits, as the receipt prints it
PUBLIC_EVENTS = {"report": ("提交反映", "reported"), "demo_state": ("演示数据", "demo data"),
                 **SYSTEM_EVENTS}
RESIDENT = ("居民", "resident")


@dataclass(frozen=True)
class PublicEvent:
    at: datetime
    label_zh: str
    label_en: str
    who_zh: str  # 职务 or the department, never a person's name
    who_en: str


@dataclass(frozen=True)
class PublicCase:
    """What anyone holding the receipt's number may read of a resident's case: no personal data,
    no staff names, no notes."""

    case_no: str
    category: str
    category_class: str
    state: str
    grid_name: str | None
    reported_at: datetime
    closed_at: datetime | None
    events: tuple[PublicEvent, ...]


def public_case(db: Session, case_no: str) -> PublicCase:
    """The state and public timeline of a case reported from a grid board, by its number. Raises
    :class:`InvalidInputError` for a malformed number and :class:`NotFoundError` for one that names
    no resident's case (other cases are not public)."""
    case_no = (case_no or "").strip().upper()
    if not CASE_NO.fullmatch(case_no):
        raise InvalidInputError([FieldError("no", "请输入回执上的案卷号 (字母加数字)", "type the case number on the receipt (letters and digits)")])
    row = db.execute(
        select(Incident.id, Incident.case_no, Incident.state, Incident.reported_at, Incident.closed_at,
               Category.name, Category.class_name, Grid.name.label("grid_name"))
        .join(Category, Category.id == Incident.category_id)
        .outerjoin(Grid, Grid.id == Incident.grid_id)
        .where(Incident.case_no == case_no, Incident.source == "resident")
    ).first()
    if row is None:
        raise NotFoundError("没有找到这个案卷号, 请核对回执上的编号", f"no resident's report has the number {case_no}")
    events = db.execute(
        select(CaseEvent.at, CaseEvent.action, CaseEvent.role, Department.name.label("dept"))
        .outerjoin(Account, Account.id == CaseEvent.actor_id)
        .outerjoin(Department, Department.id == Account.department_id)
        .where(CaseEvent.incident_id == row.id)
        .order_by(CaseEvent.at, CaseEvent.id)
    ).all()
    return PublicCase(
        case_no=row.case_no, category=row.name, category_class=row.class_name, state=row.state,
        grid_name=row.grid_name, reported_at=row.reported_at.astimezone(SHANGHAI),
        closed_at=row.closed_at.astimezone(SHANGHAI) if row.closed_at else None,
        events=tuple(_public_event(e) for e in events),
    )


def _public_event(e) -> PublicEvent:
    action = cases.ACTIONS.get(e.action)
    zh, en = (action.label_zh, action.label_en) if action else PUBLIC_EVENTS.get(e.action, (e.action, e.action))
    if e.role == "resident":
        who_zh, who_en = RESIDENT
    else:
        who_zh = roles.who(None, e.role, department=e.dept, lang="zh")
        who_en = roles.who(None, e.role, department=e.dept, lang="en")
    return PublicEvent(at=e.at.astimezone(SHANGHAI), label_zh=zh, label_en=en, who_zh=who_zh, who_en=who_en)
