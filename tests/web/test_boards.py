"""Public grid boards (上岗公示, seed 5-1): the page, its QR code, the A4 poster, and residents'
reports from the board (routing, privacy, idempotency, bad input, rate limit), in Flask's client
and in headless Chromium."""

import io
import re
import secrets
import uuid
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import bearer
from webmap.boards import limiter
from webmap.services import boards as svc

SUPERVISION = "022-67259291"
KEY = "k" * 32
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture(autouse=True)
def fresh_rate_limits(app):
    """The limiter's memory storage lives as long as the session's app: start each test clean."""
    limiter.reset()
    yield
    limiter.reset()


GRID_SQL = """
    SELECT g.code, g.name, v.name AS village, w.id AS worker_id, w.name AS worker, w.phone AS worker_phone,
           l.name AS leader, l.phone AS leader_phone,
           ST_X(ST_PointOnSurface(g.geom)) AS lng, ST_Y(ST_PointOnSurface(g.geom)) AS lat
      FROM grids g
      JOIN areas v ON v.id = g.village_id
      JOIN grid_assignments wa ON wa.grid_code = g.code AND wa.duty = 'worker' AND wa.valid_to IS NULL
      JOIN people w ON w.id = wa.person_id
      JOIN grid_assignments la ON la.grid_code = g.code AND la.duty = 'leader' AND la.valid_to IS NULL
      JOIN people l ON l.id = la.person_id
     WHERE g.valid_to IS NULL {where}
     ORDER BY g.code
"""


@pytest.fixture
def grid(connection):
    """A current grid with its worker and leader."""
    return connection.execute(text(GRID_SQL.format(where="") + " LIMIT 1")).one()


def count(connection, **where) -> int:
    sql = "SELECT count(*) FROM incidents WHERE " + " AND ".join(f"{k} = :{k}" for k in where) if where \
        else "SELECT count(*) FROM incidents"
    return connection.execute(text(sql), where).scalar()


def form(**fields) -> dict:
    data = {"category": "SR01", "description": "楼前暴露垃圾三天没人清理", "address": "振兴路 12 号门前",
            "reporter_name": "张三丰", "reporter_phone": "13812345678", "lng": "", "lat": "",
            "form_key": secrets.token_urlsafe(24)}
    data.update(fields)
    return data


# ---------------------------------------------------------------- the page


def test_board_shows_grid_people_duties_and_supervision_phone(client, grid):
    response = client.get(f"/grids/{grid.code}")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    for value in (grid.name, grid.code, grid.village, grid.worker, grid.worker_phone, grid.leader, grid.leader_phone):
        assert value in html, value
    assert "网格长" in html and "网格员" in html
    for duty in (*svc.LEADER_DUTIES, *svc.WORKER_DUTIES):
        assert duty in html, duty
    assert "监督电话" in html and "杨家泊镇纪检办公室" in html and SUPERVISION in html
    assert 'href="tel:02267259291"' in html
    assert "合成演示数据" in html  # marked: the demo town is synthetic
    assert f'href="/grids/{grid.code}/poster.pdf"' in html and "打印公示牌 (A4 PDF)" in html
    # the demo people have no photo: a neutral placeholder drawn in the page, no image fetched
    assert html.count('class="avatar-placeholder"') == 2
    assert "<img" not in html
    # the report form: categories, CSRF token, a per-form key
    assert 'name="csrf_token"' in html and 'value="SR01"' in html
    keys = re.findall(r'name="form_key" id="form_key" value="([^"]+)"', html)
    assert len(keys) == 1 and svc.FORM_KEY.fullmatch(keys[0])
    # every asset from this app
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert url.startswith(("/", "#", "?", "tel:")) and not url.startswith("//"), url
    # a fresh form key per page: never cached
    assert response.headers["Cache-Control"] == "no-store"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    # the grid's polygon travels in the page for the map
    assert '"type": "MultiPolygon"' in html or '"type":"MultiPolygon"' in html
    second = client.get(f"/grids/{grid.code}").get_data(as_text=True)
    assert re.findall(r'name="form_key" id="form_key" value="([^"]+)"', second) != keys


def test_board_in_english_keeps_the_facts(client, grid):
    html = client.get(f"/grids/{grid.code}?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert grid.code in html and grid.worker_phone in html and SUPERVISION in html


def _svg_modules(svg: str) -> set[tuple[int, int]]:
    """The dark modules of segno's inline SVG path (M x y, h n, m dx dy; rows at y + 0.5)."""
    d = re.search(r'class="qrline"[^>]*\bd="([^"]+)"', svg).group(1)
    dark, x, y = set(), 0.0, 0.0
    for op, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?:\s(-?[\d.]+))?", d):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:
            n = int(float(a))
            dark.update((int(x) + i, int(y)) for i in range(n))
            x += n
    return dark


def test_qr_code_in_the_page_encodes_the_page_url(client, grid):
    import segno

    html = client.get(f"/grids/{grid.code}?lang=en").get_data(as_text=True)
    svg = re.search(r'<svg viewBox="[^"]+" class="qr">.*?</svg>', html, re.S).group(0)
    url = f"http://localhost/grids/{grid.code}"  # absolute, without the language
    expected = segno.make(url, **svc.QR_OPTIONS)
    matrix = list(expected.matrix_iter(border=4))
    want = {(x, y) for y, row in enumerate(matrix) for x, dark in enumerate(row) if dark}
    assert _svg_modules(svg) == want
    assert f'viewBox="0 0 {len(matrix)} {len(matrix)}"' in svg
    assert url in html  # also printed under the code


def test_public_base_url_goes_into_the_qr_code(app, client, grid):
    app.config["PUBLIC_BASE_URL"] = "https://wangge.example.org/"
    try:
        html = client.get(f"/grids/{grid.code}").get_data(as_text=True)
    finally:
        del app.config["PUBLIC_BASE_URL"]
    assert f"https://wangge.example.org/grids/{grid.code}" in html


def test_public_base_url_goes_into_the_posters_qr_code(app, client, grid):
    """The printed poster carries the address residents reach, not the one it was asked on."""
    app.config["PUBLIC_BASE_URL"] = "https://wangge.example.org"
    try:
        pdf = client.get(f"/grids/{grid.code}/poster.pdf").data
    finally:
        del app.config["PUBLIC_BASE_URL"]
    url = f"https://wangge.example.org/grids/{grid.code}"
    assert f"({url}) Tj".encode() in pdf and b"http://localhost/grids" not in pdf
    qr = svc.qr_code(url)
    runs = sum(len(re.findall(r"1+", "".join("1" if d else "0" for d in row))) for row in qr.matrix)
    assert len(re.findall(rb" re f\*?\n", pdf)) >= runs


def test_the_serve_line_says_where_the_qr_codes_point(monkeypatch):
    from webmap.cli import public_address_line
    from webmap.config import Settings

    line = public_address_line("127.0.0.1", 5000, "")
    assert "http://127.0.0.1:5000" in line and "WANGGE_PUBLIC_BASE_URL=" in line
    monkeypatch.setenv("WANGGE_PUBLIC_BASE_URL", "https://wangge.example.org/")
    line = public_address_line("127.0.0.1", 5000, Settings().PUBLIC_BASE_URL)
    assert "https://wangge.example.org/grids/" in line and "WANGGE_PUBLIC_BASE_URL=" not in line


def test_poster_falls_back_to_the_cid_font_without_a_font_file(tmp_path):
    assert svc.poster_cjk_font(((str(tmp_path / "none.ttc"), 0),)) == "STSong-Light"
    assert svc.poster_cjk_font().startswith("WanggeCJK-")  # the test machine has fonts-wqy-zenhei


@pytest.mark.parametrize("code, reason", [
    ("120116103999999", "没有这个网格"),
    ("12011610300100", "15 位数字"),
    ("1201161030010011", "15 位数字"),
    ("12011610300100x", "15 位数字"),
    ("abcdefghijklmno", "15 位数字"),
])
def test_unknown_and_malformed_codes_are_404_in_chinese(client, code, reason):
    for response in (client.get(f"/grids/{code}"), client.get(f"/grids/{code}/poster.pdf"),
                     client.post(f"/grids/{code}/report", data=form())):
        assert response.status_code == 404
        html = response.get_data(as_text=True)
        assert reason in html and '<html lang="zh-CN">' in html


def test_a_retired_grid_has_no_board(client, connection, grid):
    connection.execute(text("UPDATE grids SET valid_to = valid_from + interval '1 day' WHERE code = :c"),
                       {"c": grid.code})
    response = client.get(f"/grids/{grid.code}")
    assert response.status_code == 404
    assert "该网格已调整或撤销" in response.get_data(as_text=True)


def test_stored_photo_is_shown_and_served_only_for_people_on_the_board(client, connection, grid):
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (60, 75), (200, 120, 40)).save(buf, format="PNG")
    data = buf.getvalue()
    import hashlib

    sha = hashlib.sha256(data).hexdigest()
    connection.execute(text("INSERT INTO attachments (sha256, mime, size, data) VALUES (:s, 'image/png', :n, :d) "
                            "ON CONFLICT DO NOTHING"), {"s": sha, "n": len(data), "d": data})
    connection.execute(text("UPDATE people SET photo = :s WHERE id = :p"), {"s": sha, "p": grid.worker_id})
    html = client.get(f"/grids/{grid.code}").get_data(as_text=True)
    src = f"/grids/{grid.code}/photo/{grid.worker_id}?v={sha[:12]}"
    assert f'<img src="{src}" alt="{grid.worker}"' in html
    assert html.count('class="avatar-placeholder"') == 1  # the leader still has none
    photo = client.get(src)
    assert photo.status_code == 200 and photo.mimetype == "image/png" and photo.data == data
    other = connection.execute(text(GRID_SQL.format(where="AND g.code <> :c") + " LIMIT 1"), {"c": grid.code}).one()
    assert client.get(f"/grids/{other.code}/photo/{grid.worker_id}").status_code == 404  # not on that board
    assert client.get(f"/grids/{grid.code}/photo/999999999").status_code == 404
    pdf = client.get(f"/grids/{grid.code}/poster.pdf").data
    assert b"/Subtype /Image" in pdf


# ---------------------------------------------------------------- the poster


def _unescape_pdf_string(raw: bytes) -> bytes:
    out, i = bytearray(), 0
    simple = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("f"): 12}
    while i < len(raw):
        ch = raw[i]
        if ch != 0x5C:  # backslash
            out.append(ch)
            i += 1
            continue
        nxt = raw[i + 1]
        if nxt in simple:
            out.append(simple[nxt])
            i += 2
        elif 0x30 <= nxt <= 0x37:  # up to three octal digits
            j = i + 1
            while j < min(i + 4, len(raw)) and 0x30 <= raw[j] <= 0x37:
                j += 1
            out.append(int(raw[i + 1:j], 8) & 0xFF)
            i = j
        elif nxt == 0x0A:  # line continuation
            i += 2
        else:
            out.append(nxt)
            i += 2
    return bytes(out)


def _to_unicode(pdf: bytes, font_body: bytes) -> dict[int, str] | None:
    """A subset TrueType font's one-byte codes → characters, from its /ToUnicode CMap."""
    ref = re.search(rb"/ToUnicode (\d+) 0 R", font_body)
    if ref is None:
        return None
    cmap = re.search(rb"\n" + ref.group(1) + rb" 0 obj\n.*?stream\r?\n(.*?)endstream", pdf, re.S).group(1)
    return {int(code, 16): bytes.fromhex(uni.decode()).decode("utf-16-be")
            for chars in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S)
            for code, uni in re.findall(rb"<([0-9A-Fa-f]{2})> <([0-9A-Fa-f]+)>", chars)}


def pdf_fonts(pdf: bytes) -> dict[bytes, bytes]:
    """Each font resource of the page (``F1``, ``F2+0``…) → its font object's body."""
    fonts = {m.group(1): m.group(2) for m in re.finditer(rb"/(F\d+(?:\+\d+)?) (\d+) 0 R", pdf)}
    return {name: re.search(rb"\n" + obj + rb" 0 obj\n(.*?)endobj", pdf, re.S).group(1) for name, obj in fonts.items()}


def pdf_text(pdf: bytes) -> str:
    """The text shown by an uncompressed reportlab page: ``(...) Tj`` strings, decoded by their font
    (an embedded TrueType subset through its /ToUnicode map; the CID fallback STSong-Light with
    UniGB-UCS2-H is UTF-16BE; the standard fonts are Latin-1)."""
    decoders = {}
    for name, body in pdf_fonts(pdf).items():
        to_unicode = _to_unicode(pdf, body)
        if to_unicode is not None:
            decoders[name] = lambda raw, m=to_unicode: "".join(m.get(b, "\ufffd") for b in raw)
        elif b"/BaseFont /STSong-Light" in body:
            decoders[name] = lambda raw: raw.decode("utf-16-be")
    font, parts = None, []
    for m in re.finditer(rb"/(F\d+(?:\+\d+)?) [\d.]+ Tf|\(((?:\\.|[^\\)])*)\) Tj", pdf, re.S):
        if m.group(1):
            font = m.group(1)
            continue
        raw = _unescape_pdf_string(m.group(2))
        parts.append(decoders.get(font, lambda r: r.decode("latin-1"))(raw))
    return "".join(parts)


def test_poster_is_an_a4_pdf_with_the_grid_people_and_qr_code(client, grid):
    response = client.get(f"/grids/{grid.code}/poster.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'inline; filename="grid-{grid.code}.pdf"'
    pdf = response.data
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert b"/Count 1" in pdf  # one page
    assert re.search(rb"/MediaBox \[ 0 0 595\.27\d* 841\.88\d* \]", pdf)  # A4 in points
    # the Chinese font travels with the file (a TrueType subset), so a viewer without one shows it
    cjk = [body for body in pdf_fonts(pdf).values() if b"/ToUnicode" in body]
    assert cjk and all(re.search(rb"/BaseFont /[A-Z]{6}\+", body) for body in cjk)  # subset-embedded
    assert b"/FontFile2" in pdf and b"STSong-Light" not in pdf
    # codes, phones and the URL in Helvetica: plain in the uncompressed content stream
    for value in (grid.code, grid.worker_phone, grid.leader_phone, SUPERVISION, f"http://localhost/grids/{grid.code}"):
        assert f"({value}) Tj".encode() in pdf, value
    # the Chinese text, decoded
    shown = pdf_text(pdf).replace(" ", "")
    for value in ("网格员上岗公示", grid.name, grid.village, "网格长", grid.leader, "网格员", grid.worker,
                  "工作职责", "监督电话", "杨家泊镇纪检办公室", "合成演示数据"):
        assert value in shown, value
    for duty in (*svc.LEADER_DUTIES, *svc.WORKER_DUTIES):
        assert duty.replace(" ", "") in shown, duty
    # the QR code, drawn as one rectangle per run of dark modules
    qr = svc.qr_code(f"http://localhost/grids/{grid.code}")
    runs = sum(len(re.findall(r"1+", "".join("1" if d else "0" for d in row))) for row in qr.matrix)
    assert len(re.findall(rb" re f\*?\n", pdf)) >= runs


# ---------------------------------------------------------------- reports from the board


def test_resident_report_creates_one_incident_routed_to_the_grid(client, connection, grid):
    before = count(connection)
    description = "楼前暴露垃圾三天没人清理 <b>请处理</b>"
    response = client.post(f"/grids/{grid.code}/report", data=form(description=description))
    assert response.status_code == 201, response.get_data(as_text=True)
    html = response.get_data(as_text=True)
    assert "已收到您的反映" in html and "网格员将尽快处理" in html
    case_no = re.search(r'id="case-no" class="code">(YJB\d+)<', html).group(1)
    assert f"{grid.name} ({grid.code})" in html
    # the resident's own data, masked
    assert "张**" in html and "138****5678" in html
    assert "张三丰" not in html and "13812345678" not in html
    assert response.headers["Cache-Control"] == "no-store"

    assert count(connection) == before + 1
    row = connection.execute(text("""
        SELECT id, case_no, grid_code, source, reporter_id, reporter_name, reporter_phone, flags, state,
               idempotency_key, description, worker_id
          FROM incidents WHERE case_no = :n"""), {"n": case_no}).one()
    assert row.grid_code == grid.code and row.source == "resident" and row.reporter_id is None
    assert row.state == "待受理" and row.worker_id == grid.worker_id
    assert row.reporter_name == "张三丰" and row.reporter_phone == "13812345678"  # stored in full
    assert svc.DEFAULT_LOCATION_FLAG in row.flags  # not tapped: the grid's point on surface
    assert row.idempotency_key.startswith("board-")
    assert row.description == description
    events = connection.execute(text("SELECT action, role, actor_id FROM case_events WHERE incident_id = :i"),
                                {"i": row.id}).all()
    assert events == [("report", "resident", None)]

    # an analyst sees the case, with the reporter masked; the town center sees it in full
    detail = client.get(f"/api/v1/incidents/{row.id}", headers=bearer(client, "analyst1")).get_json()
    assert detail["source"] == "resident" and detail["grid"]["code"] == grid.code
    assert detail["reporter"] == {"name": "张**", "phone": "138****5678", "masked": True}
    detail = client.get(f"/api/v1/incidents/{row.id}", headers=bearer(client, "dispatcher1")).get_json()
    assert detail["reporter"] == {"name": "张三丰", "phone": "13812345678", "masked": False}


def test_a_tapped_point_routes_to_the_grid_it_falls_in(client, connection, grid):
    other = connection.execute(text(GRID_SQL.format(where="AND g.code <> :c") + " LIMIT 1"), {"c": grid.code}).one()
    response = client.post(f"/grids/{grid.code}/report",
                           data=form(lng=f"{other.lng:.7f}", lat=f"{other.lat:.7f}", reporter_name="", reporter_phone=""))
    assert response.status_code == 201
    html = response.get_data(as_text=True)
    assert f"{other.name} ({other.code})" in html and "地图上所选位置" in html
    assert 'id="masked-name"' not in html and 'id="masked-phone"' not in html
    case_no = re.search(r'id="case-no" class="code">(YJB\d+)<', html).group(1)
    grid_code, flags = connection.execute(text("SELECT grid_code, flags FROM incidents WHERE case_no = :n"),
                                          {"n": case_no}).one()
    assert grid_code == other.code and svc.DEFAULT_LOCATION_FLAG not in flags

    # outside every grid (but in China): the town center's queue (属地兜底)
    response = client.post(f"/grids/{grid.code}/report", data=form(lng="117.0", lat="39.0"))
    assert response.status_code == 201
    assert "杨家泊镇综合治理中心" in response.get_data(as_text=True)


@pytest.mark.parametrize(("setting", "near"), [(5.0, False), (200.0, True)])
def test_the_near_boundary_setting_decides_at_the_board(app, client, connection, monkeypatch, grid, setting, near):
    """A point tapped 120 m outside the town: routed to a grid only when NEAR_BOUNDARY_M allows."""
    monkeypatch.setitem(app.config, "NEAR_BOUNDARY_M", setting)
    lng, lat = connection.execute(text("""
        SELECT ST_X(p) + 120 / (111320 * cos(radians(ST_Y(p)))), ST_Y(p) FROM (
          SELECT (ST_DumpPoints(geom)).geom AS p FROM areas WHERE level = 'town') pts
         ORDER BY ST_X(p) DESC LIMIT 1""")).one()
    response = client.post(f"/grids/{grid.code}/report", data=form(lng=f"{lng:.7f}", lat=f"{lat:.7f}"))
    assert response.status_code == 201
    case_no = re.search(r'id="case-no" class="code">(YJB\d+)<', response.get_data(as_text=True)).group(1)
    grid_code, flags = connection.execute(text("SELECT grid_code, flags FROM incidents WHERE case_no = :n"),
                                          {"n": case_no}).one()
    assert (grid_code is not None) is near
    assert ("near_boundary" in flags) is near and ("outside_grids" in flags) is not near


def test_double_submit_of_one_form_creates_one_incident(client, connection, grid):
    data = form(description="双击提交的同一张表单")
    first = client.post(f"/grids/{grid.code}/report", data=data)
    second = client.post(f"/grids/{grid.code}/report", data=data)
    assert first.status_code == 201 and second.status_code == 200
    case = re.compile(r'id="case-no" class="code">(YJB\d+)<')
    assert case.search(first.get_data(as_text=True)).group(1) == case.search(second.get_data(as_text=True)).group(1)
    assert "没有重复登记" in second.get_data(as_text=True)
    assert 'id="masked-phone"' in first.get_data(as_text=True) and 'id="masked-phone"' not in second.get_data(as_text=True)
    assert count(connection, description="双击提交的同一张表单") == 1
    # a new form (a new key) is a new report
    assert client.post(f"/grids/{grid.code}/report", data={**data, "form_key": secrets.token_urlsafe(24)}).status_code == 201
    assert count(connection, description="双击提交的同一张表单") == 2


def test_the_same_form_key_on_another_board_is_another_report(client, connection, grid):
    other = connection.execute(text(GRID_SQL.format(where="AND g.code <> :c") + " LIMIT 1"), {"c": grid.code}).one()
    data = form(description="两块公示牌上的同一表单键")
    assert client.post(f"/grids/{grid.code}/report", data=data).status_code == 201
    assert client.post(f"/grids/{other.code}/report", data=data).status_code == 201
    assert count(connection, description="两块公示牌上的同一表单键") == 2


@pytest.mark.parametrize("fields, reasons", [
    ({"category": "ZZ99", "description": "x" * 4001, "reporter_phone": "abc"},
     ["请从列表中选择事件类别", "事件描述不能超过 4000 字", "电话号码格式不正确"]),
    ({"category": "", "description": "  "}, ["缺少事件类别", "请描述您要反映的问题"]),
    ({"lng": "abc", "lat": "39.3"}, ["位置坐标无效"]),
    ({"lng": "117.7", "lat": ""}, ["位置不完整"]),
    ({"lng": "2.3522", "lat": "48.8566"}, ["坐标不在中国境内"]),
    ({"form_key": ""}, ["表单已失效"]),
    ({"reporter_name": "名" * 51, "address": "路" * 201}, ["报告人姓名不能超过 50 字", "地址不能超过 200 字"]),
])
def test_bad_input_is_refused_with_reasons_and_nothing_saved(client, connection, grid, fields, reasons):
    before = count(connection)
    data = form(**fields)
    response = client.post(f"/grids/{grid.code}/report", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "提交未成功" in html
    for reason in reasons:
        assert reason in html, reason
    assert count(connection) == before
    # the form comes back with what was typed
    if data["reporter_phone"]:
        assert f'value="{data["reporter_phone"]}"' in html
    assert data["description"] in html
    assert 'class="field-error"' in html
    assert response.headers["Cache-Control"] == "no-store"


def test_the_form_shown_again_escapes_what_was_typed(client, grid):
    evil = '<script>alert("x")</script>'
    response = client.post(f"/grids/{grid.code}/report", data=form(
        description=evil, address='"><img src=x onerror=alert(1)>', reporter_phone="abc", form_key=KEY))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert evil not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    # the form comes back with the same key: once corrected and sent, it is stored once
    assert f'name="form_key" id="form_key" value="{KEY}"' in html


def test_reports_are_rate_limited_per_client_address(client, connection, grid):
    url = f"/grids/{grid.code}/report"
    here, elsewhere = {"REMOTE_ADDR": "10.9.8.7"}, {"REMOTE_ADDR": "10.9.8.8"}
    for _ in range(5):
        assert client.post(url, data=form(reporter_phone="abc"), environ_base=here).status_code == 422
    before = count(connection)
    limited = client.post(url, data=form(description="超过频率限制的上报"), environ_base=here)
    assert limited.status_code == 429
    html = limited.get_data(as_text=True)
    assert "提交过于频繁" in html and '<html lang="zh-CN">' in html
    assert grid.worker_phone in html  # who to call instead
    assert "超过频率限制的上报" in html  # what was typed is kept
    assert limited.headers["Retry-After"]
    assert count(connection) == before  # nothing saved
    # reading the board is not limited; another address may still report
    assert client.get(f"/grids/{grid.code}", environ_base=here).status_code == 200
    assert client.post(url, data=form(), environ_base=elsewhere).status_code == 201


def test_the_rate_limit_is_configurable(app, client, grid):
    before = app.config["BOARD_REPORT_RATE_LIMIT"]
    app.config["BOARD_REPORT_RATE_LIMIT"] = "2 per minute"
    try:
        codes = [client.post(f"/grids/{grid.code}/report", data=form(category=""),
                             environ_base={"REMOTE_ADDR": "10.9.8.9"}).status_code for _ in range(3)]
    finally:
        app.config["BOARD_REPORT_RATE_LIMIT"] = before
    assert codes == [422, 422, 429]


@pytest.fixture
def csrf_client(database_url, connection):
    """An app with CSRF protection on (the session's app has it off), sharing the test's transaction."""
    from sqlalchemy.orm import sessionmaker

    from webmap import create_app

    app = create_app({"DATABASE_URL": database_url, "TESTING": True, "SECRET_KEY": "test-csrf"})
    app.extensions["wangge.sessionmaker"] = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield app.test_client()
    app.extensions["wangge.engine"].dispose()


def test_the_form_carries_a_csrf_token_and_a_stale_one_keeps_the_input(csrf_client, connection, grid):
    html = csrf_client.get(f"/grids/{grid.code}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    key = re.search(r'name="form_key" id="form_key" value="([^"]+)"', html).group(1)
    before = count(connection)
    stale = csrf_client.post(f"/grids/{grid.code}/report",
                             data=form(form_key=key, description="没有安全令牌的上报", csrf_token="forged"))
    assert stale.status_code == 400
    page = stale.get_data(as_text=True)
    assert "页面已过期或安全校验未通过" in page and "没有安全令牌的上报" in page
    assert count(connection) == before
    ok = csrf_client.post(f"/grids/{grid.code}/report",
                          data=form(form_key=key, description="带安全令牌的上报", csrf_token=token))
    assert ok.status_code == 201
    assert count(connection, description="带安全令牌的上报") == 1


def test_the_report_url_leads_back_to_the_form(client, grid):
    response = client.get(f"/grids/{grid.code}/report?lang=en")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/grids/{grid.code}?lang=en#report"


# ---------------------------------------------------------------- in a browser


def test_board_in_chromium_offline_with_a_report(browser, live_server, database_url):
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            # a grid whose bounding-box centre lies inside it: the map's centre after fitBounds
            grid = conn.execute(text(GRID_SQL.format(
                where="AND ST_Contains(g.geom, ST_Centroid(ST_Envelope(g.geom)))") + " LIMIT 1")).one()
        context = browser.new_context(**PHONE)
        page = context.new_page()
        requests, failures, errors = [], [], []
        page.on("request", lambda r: requests.append(r.url))
        page.on("requestfailed", lambda r: failures.append(r.url))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))

        page.goto(f"{live_server}/grids/{grid.code}")
        page.wait_for_selector("body[data-board-ready='1']", timeout=20_000)
        assert page.locator("#grid-code").inner_text() == grid.code
        assert page.locator("#board-map svg path").count() >= 2  # the village outline and the grid
        assert page.locator("svg.qr").is_visible()
        assert page.locator(".avatar-placeholder").count() == 2
        # fits a phone: nothing wider than the screen
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

        description = f"浏览器中公示牌上报 {secrets.token_hex(4)}"
        page.select_option("#category", "SR01")
        page.fill("#description", description)
        page.locator("#board-map").scroll_into_view_if_needed()
        box = page.locator("#board-map").bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        where = page.locator("#where").inner_text()
        assert "已选择位置" in where and "不在本网格内" not in where
        assert page.locator("#lng").input_value() and page.locator("#lat").input_value()
        page.fill("#reporter_name", "李四")
        page.fill("#reporter_phone", "13900001111")
        from tests.conftest import JPEG

        four = [{"name": f"p{n}.jpg", "mimeType": "image/jpeg", "buffer": JPEG + bytes([n])} for n in range(4)]
        page.set_input_files("#photos", four)
        assert "最多 3 张" in page.locator("#photos-chosen").inner_text()
        page.click("#submit-report")  # not sent with four
        assert page.locator("#case-no").count() == 0
        page.set_input_files("#photos", four[:1])
        assert page.locator("#photos-chosen").inner_text() == "已选择 1 张照片"
        page.click("#submit-report")
        page.wait_for_selector("#case-no", timeout=10_000)
        assert "网格员将尽快处理" in page.locator("#receipt").inner_text()
        assert page.locator("#masked-phone").inner_text() == "139****1111"
        assert page.locator("#receipt-photos").inner_text() == "1 张"
        case_no = page.locator("#case-no").inner_text()
        # later: the number on the receipt shows where the case stands
        page.click("#track-link")
        page.wait_for_selector("#lookup-case")
        assert case_no in page.locator("#lookup-case").inner_text()
        assert page.locator("#lookup-state").inner_text() == "待受理"
        assert "提交反映" in page.locator("#lookup-timeline").inner_text()
        assert not errors, errors
        page.fill("#no", "YJB209912310000001")
        page.click("#lookup-submit")
        assert "没有找到这个案卷号" in page.locator("#lookup-error").inner_text()
        assert all("404" in e for e in errors), errors  # the page's own status, nothing else
        errors.clear()

        hosts = {urlsplit(u).hostname for u in requests if not u.startswith(("data:", "blob:"))}
        assert hosts == {"127.0.0.1"}, f"requests left 127.0.0.1: {hosts}"
        assert not failures, failures
        assert not errors, errors
        context.close()
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT grid_code, source, flags, photos FROM incidents WHERE description = :d"),
                                {"d": description}).all()
        assert len(rows) == 1 and len(rows[0].photos) == 1
        assert rows[0].grid_code == grid.code and rows[0].source == "resident"
        assert svc.DEFAULT_LOCATION_FLAG not in rows[0].flags  # tapped
    finally:
        engine.dispose()


def test_poster_line_breaking_keeps_chinese_punctuation_rules():
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    for duty in (*svc.LEADER_DUTIES, *svc.WORKER_DUTIES):
        for width in (90, 120, 150, 200, 230):
            lines = svc.wrap(duty, "STSong-Light", 10.5, width)
            assert "".join(lines) == duty.replace(" ", "") or "".join(lines).replace(" ", "") == duty.replace(" ", "")
            for line in lines:
                assert line[0] not in svc.NOT_AT_LINE_START, (duty, lines)
                assert line[-1] not in svc.NOT_AT_LINE_END, (duty, lines)
                assert pdfmetrics.stringWidth(line, "STSong-Light", 10.5) <= width + 10.5 * 2  # one carried character
    assert svc.wrap("report the problem to the grid worker", "Helvetica", 10, 60) == [
        "report the", "problem to", "the grid", "worker"]


# ---------------------------------------------------------------- photos on a resident's report

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(200))


def _photos(*blobs):
    return [(io.BytesIO(b), f"photo{n}.jpg") for n, b in enumerate(blobs)]


def test_a_resident_attaches_up_to_three_photos(client, connection, grid):
    from tests.conftest import JPEG

    # photos no one uploaded before (an identical file is stored once, under its first uploader)
    mine = uuid.uuid4().bytes
    data = {**form(), "photos": _photos(JPEG + mine, PNG + mine, JPEG + mine + b"2")}
    response = client.post(f"/grids/{grid.code}/report", data=data, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_data(as_text=True)
    html = response.get_data(as_text=True)
    assert re.search(r'id="receipt-photos">3 张<', html)
    case_no = re.search(r'id="case-no" class="code">(\w+)<', html).group(1)
    photos = connection.execute(text("SELECT photos FROM incidents WHERE case_no = :n"), {"n": case_no}).scalar_one()
    assert len(photos) == 3
    stored = connection.execute(text("SELECT mime, uploaded_by FROM attachments WHERE sha256 = ANY(:p)"),
                                {"p": photos}).all()
    assert sorted(m for m, _u in stored) == ["image/jpeg", "image/jpeg", "image/png"]
    assert all(u is None for _m, u in stored)  # a resident has no account
    events = connection.execute(text("SELECT data FROM case_events WHERE incident_id = "
                                     "(SELECT id FROM incidents WHERE case_no = :n)"), {"n": case_no}).scalar_one()
    assert len(events["photos"]) == 3


def test_the_form_offers_photos_and_an_empty_file_input_is_no_photo(client, connection, grid):
    html = client.get(f"/grids/{grid.code}").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html
    assert re.search(r'<input id="photos" name="photos" type="file" multiple accept="image/jpeg,image/png,image/webp,'
                     r'image/heic', html) and "最多 3 张" in html
    data = {**form(), "photos": [(io.BytesIO(b""), "")]}  # what a browser sends with no file chosen
    response = client.post(f"/grids/{grid.code}/report", data=data, content_type="multipart/form-data")
    assert response.status_code == 201 and 'id="receipt-photos"' not in response.get_data(as_text=True)


@pytest.mark.parametrize("blobs, reason", [
    ((b"%PDF-1.7 not a photo",), "第 1 张照片: 只接受 JPEG、PNG、WebP 或 HEIC"),
    ((PNG, PNG + b"1", PNG + b"2", PNG + b"3"), "照片最多 3 张"),
    ((PNG, b"\xff\xd8\xff" + b"0" * (10 * 1024 * 1024)), "第 2 张照片: 照片不能超过 10 MB"),
])
def test_bad_photos_are_refused_next_to_the_field_and_nothing_is_saved(client, connection, grid, blobs, reason):
    before = count(connection)
    photos_before = connection.execute(text("SELECT count(*) FROM attachments")).scalar()
    data = {**form(description="带照片的上报"), "photos": _photos(*blobs)}
    response = client.post(f"/grids/{grid.code}/report", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'<p class="field-error" id="err-photos">[^<]*' + re.escape(reason), html), html[-3000:]
    assert "带照片的上报" in html  # what was typed stays
    assert count(connection) == before
    assert connection.execute(text("SELECT count(*) FROM attachments")).scalar() == photos_before


def test_three_large_photos_fit_in_one_report(client, connection, grid):
    big = b"\xff\xd8\xff" + b"1" * (9 * 1024 * 1024)
    data = {**form(), "photos": _photos(big, big + b"2", big + b"3")}
    response = client.post(f"/grids/{grid.code}/report", data=data, content_type="multipart/form-data")
    assert response.status_code == 201, response.status_code


# ---------------------------------------------------------------- a resident looks up their case


def _reported(client, grid) -> str:
    html = client.post(f"/grids/{grid.code}/report", data=form()).get_data(as_text=True)
    return re.search(r'id="case-no" class="code">(\w+)<', html).group(1)


def test_the_receipt_leads_to_the_cases_state_and_public_timeline(client, connection, grid):
    case_no = _reported(client, grid)
    receipt = client.post(f"/grids/{grid.code}/report", data=form()).get_data(as_text=True)
    assert f'href="/grids/{grid.code}/lookup?no=' in receipt and "查询办理进度" in receipt
    # the grid leader escalates it and the town files it: the timeline says so, by post, without
    # names or notes
    leader = connection.execute(text("SELECT username FROM accounts WHERE role = 'leader' AND :g LIKE scope_code || '%' "
                                     "ORDER BY username LIMIT 1"), {"g": grid.code}).scalar_one()
    incident_id = connection.execute(text("SELECT id FROM incidents WHERE case_no = :n"), {"n": case_no}).scalar_one()
    for who, action in ((leader, "escalate"), ("dispatcher1", "file")):
        version = connection.execute(text("SELECT version FROM incidents WHERE id = :i"), {"i": incident_id}).scalar_one()
        r = client.post(f"/api/v1/incidents/{incident_id}/actions", headers=bearer(client, who),
                        json={"action": action, "version": version, "note": f"{who} 的内部备注"})
        assert r.status_code == 200, r.get_json()
    response = client.get(f"/grids/{grid.code}/lookup?no={case_no}")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert case_no in html and re.search(r'id="lookup-state">已立案<', html)
    timeline = re.search(r'<ol class="b-timeline" id="lookup-timeline">(.*?)</ol>', html, re.S).group(1)
    assert "提交反映" in timeline and "居民" in timeline and "上报镇综治中心" in timeline and "网格长" in timeline
    assert "受理立案" in timeline and "镇综治中心调度员" in timeline
    dispatcher = connection.execute(text("SELECT p.name FROM accounts a JOIN people p ON p.id = a.person_id "
                                         "WHERE a.username = 'dispatcher1'")).scalar_one()
    page = html.split("<main>", 1)[1]  # the header names the one signed in on this client, the page no one
    for private in ("张三丰", "13812345678", "张**", "138****5678", dispatcher, grid.leader, grid.worker, "内部备注"):
        assert private not in page, private
    english = client.get(f"/grids/{grid.code}/lookup?no={case_no.lower()}&lang=en").get_data(as_text=True)
    assert "accept and file" in english and "town dispatcher" in english and "Track my report" in english


@pytest.mark.parametrize("number, status, reason", [
    ("YJB209912310000001", 404, "没有找到这个案卷号"),
    ("不是编号", 422, "请输入回执上的案卷号"),
    ("' OR 1=1 --", 422, "请输入回执上的案卷号"),
])
def test_unknown_and_malformed_numbers_are_refused_clearly(client, grid, number, status, reason):
    response = client.get(f"/grids/{grid.code}/lookup", query_string={"no": number})
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert re.search(r'id="lookup-error" role="alert">' + reason, html)
    assert 'id="lookup-case"' not in html
    assert client.get(f"/grids/{grid.code}/lookup").status_code == 200  # the form alone


def test_only_residents_reports_can_be_looked_up(client, connection, grid):
    other = connection.execute(text("SELECT case_no FROM incidents WHERE source <> 'resident' LIMIT 1")).scalar_one()
    response = client.get(f"/grids/{grid.code}/lookup", query_string={"no": other})
    assert response.status_code == 404 and "没有找到这个案卷号" in response.get_data(as_text=True)
