"""The monthly report (月报, seed 6-1): the month's indicators of the whole town as a PDF in Chinese
(tables, charts, the map of grids coloured by cases, the hotspots and a paragraph per section written
from the figures, 环比 against the previous month) and the same tables as an Excel workbook.

- :func:`gather`: every figure of the month (one dict; the counting is :func:`webmap.services.stats.indicators`
  and :func:`webmap.services.assessment.month_table`, never a fork of them).
- :func:`pdf` / :func:`workbook`: the two files of a gathered month; :func:`write`: both, into a folder,
  each written beside and renamed (a reader never sees half a file).
- :func:`written`: the reports in the folder, newest first (the folder is the record: no table).
- :func:`due_month` / :func:`run_job`: ``wangge jobs run`` writes the previous month's report from the 3rd
  working day of the month on (the town's calendar), once: a report already in the folder is not written again.

The folder: ``WANGGE_REPORTS_DIR``, else ``var/reports`` under the project (``WANGGE_HOME``).
"""

from __future__ import annotations

import io
import logging
import os
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from workflow import indicators as ind
from workflow.clock import SHANGHAI

from . import stats
from .errors import FieldError, InvalidParametersError

NAME = re.compile(r"^月报_(\d{4})-(\d{2})\.(pdf|xlsx)$")
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
PDF_MIME = "application/pdf"
XLSX_MIME = stats.XLSX_MIME
DUE_WORKDAY = 3  # the report of a month is written on the 3rd working day of the next
TOP_WORKERS = 10
TOP_HOTSPOTS = 5
# the indicators of the summary table, in the order the issue lists them
SUMMARY = ("reported", "filed", "closed", "overdue", "closed_on_time", "rework", "return", "satisfaction")


class ReportError(ValueError):
    """A report that cannot be written: ``zh`` and ``en`` say why."""

    def __init__(self, zh: str, en: str):
        super().__init__(en)
        self.zh, self.en = zh, en


def reports_dir() -> Path:
    """``WANGGE_REPORTS_DIR``, else ``var/reports`` of the project."""
    from db.cluster import project_root

    raw = os.environ.get("WANGGE_REPORTS_DIR")
    return Path(raw) if raw else project_root() / "var" / "reports"


def parse_month(raw) -> date:
    """``2026-11`` → 2026-11-01; :class:`ReportError` for anything else."""
    m = MONTH.match(str(raw or "").strip())
    if m and 1 <= int(m.group(2)) <= 12 and ind.YEARS[0] <= int(m.group(1)) < ind.YEARS[1]:
        return date(int(m.group(1)), int(m.group(2)), 1)
    raise ReportError(f"月份应为 YYYY-MM, 如 2026-11 (收到 {raw!r})", f"the month is YYYY-MM, e.g. 2026-11 (got {raw!r})")


def next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def previous_month(first: date) -> date:
    return date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)


def file_names(first: date) -> tuple[str, str]:
    return f"月报_{first:%Y-%m}.pdf", f"月报_{first:%Y-%m}.xlsx"


def _window(by: str, first: date) -> ind.Window:
    start = datetime.combine(first, datetime.min.time(), SHANGHAI)
    return ind.Window(by, start, datetime.combine(next_month(first), datetime.min.time(), SHANGHAI))


# ---------------------------------------------------------------- the figures


def _change(now: float | None, before: float | None) -> float | None:
    """环比 in percent (None when there is nothing to compare with)."""
    if now is None or not before:
        return None
    return round(100 * (now - before) / before, 1)


def gather(db: Session, month, *, now: datetime | None = None) -> dict:
    """Every figure of the month's report, for the whole town (the command line's reader)."""
    from . import analyses, assessment

    first = month if isinstance(month, date) else parse_month(month)
    now = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI)
    if first > now.date():
        raise ReportError("不能为未来的月份写月报", "a month to come has no report")
    reader = stats.WHOLE_DISTRICT
    tables = {by: stats.indicators(db, reader, _window(by, first), now=now)
              for by in ("village", "category", "department", "grid")}
    total = tables["village"]["total"]
    before = stats.indicators(db, reader, _window("source", previous_month(first)), now=now)["total"]
    start, end = _window("village", first).since, _window("village", first).until
    days = {d: [0, 0] for d in (first + timedelta(n) for n in range((next_month(first) - first).days))}
    for day, reported, closed in db.execute(text("""
            SELECT d, sum(r), sum(c) FROM (
              SELECT (reported_at AT TIME ZONE 'Asia/Shanghai')::date AS d, 1 AS r, 0 AS c FROM incidents
               WHERE reported_at >= :a AND reported_at < :b
              UNION ALL
              SELECT (closed_at AT TIME ZONE 'Asia/Shanghai')::date, 0, 1 FROM incidents
               WHERE state = '结案' AND closed_at >= :a AND closed_at < :b) t GROUP BY d"""), {"a": start, "b": end}):
        if day in days:
            days[day] = [int(reported), int(closed)]
    pairs = db.execute(text("""
            SELECT i.grid_code, g.name AS grid, v.name AS village, c.name AS category, count(*) AS n
              FROM incidents i JOIN categories c ON c.id = i.category_id
              LEFT JOIN grids g ON g.code = i.grid_code AND g.valid_to IS NULL
              LEFT JOIN areas v ON v.id = g.village_id
             WHERE i.reported_at >= :a AND i.reported_at < :b AND i.grid_code IS NOT NULL
             GROUP BY 1, 2, 3, 4 ORDER BY n DESC, 1, 4 LIMIT :k"""), {"a": start, "b": end, "k": TOP_HOTSPOTS}).mappings().all()
    try:
        ranking = assessment.month_table(db, reader, f"{first:%Y-%m}", now=now)["items"]
    except Exception:  # noqa: BLE001 — a month the assessment cannot read still has its report
        ranking = []
    ranking = sorted(ranking, key=lambda r: (r.get("rank_in_town") or 10**6, r["worker"]["username"]))[:TOP_WORKERS]
    _code, town = analyses.town_of(db)
    return {
        "month": f"{first:%Y-%m}", "first": first, "town": town or "", "now": now,
        "period": tables["village"]["period"], "previous_period": f"{previous_month(first):%Y-%m}",
        "synthetic": tables["village"]["synthetic"], "specs": {i.key: i for i in ind.INDICATORS},
        "tables": tables, "total": total, "previous": before,
        "change": {k: _change(total[k]["value"], before[k]["value"]) for k in SUMMARY},
        "days": [(d, r, c) for d, (r, c) in sorted(days.items())],
        "hot_grids": sorted((r for r in tables["grid"]["rows"] if r["key"]),
                            key=lambda r: (-r["reported"]["value"], r["key"]))[:TOP_HOTSPOTS],
        "hot_pairs": [dict(p) for p in pairs],
        "workers": [{"rank": r.get("rank_in_town"), "name": r["worker"]["name"], "username": r["worker"]["username"],
                     "village": r["worker"]["village_name"], "grid": r.get("grid_name") or r.get("grid"),
                     "total": r["total"], "grade": r.get("grade")} for r in ranking],
        "grid_shapes": _grid_shapes(db),
    }


def _grid_shapes(db: Session) -> list[tuple[str, bytes]]:
    return [(code, bytes(raw)) for code, raw in db.execute(text(
        "SELECT code, ST_AsBinary(geom) FROM grids WHERE valid_to IS NULL AND geom IS NOT NULL ORDER BY code"))]


# ---------------------------------------------------------------- the words


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}%"


def _trend(change: float | None) -> str:
    if change is None:
        return "上月无可比数据"
    if change == 0:
        return "环比持平"
    return f"环比{'上升' if change > 0 else '下降'} {abs(change):.1f}%"


def paragraphs(data: dict) -> dict[str, str]:
    """A paragraph per section, written from the figures."""
    t, ch = data["total"], data["change"]
    words = {
        "summary": (f"本月共受理 {t['reported']['value']} 件, {_trend(ch['reported'])}; 立案 {t['filed']['value']} 件, "
                    f"结案 {t['closed']['value']} 件, 超期 {t['overdue']['value']} 件; 按期结案率 "
                    f"{_pct(t['closed_on_time']['value'])}, 返工率 {_pct(t['rework']['value'])}, 回退率 "
                    f"{_pct(t['return']['value'])}, 满意率 {_pct(t['satisfaction']['value'])}。"),
    }
    villages = sorted(data["tables"]["village"]["rows"], key=lambda r: -r["reported"]["value"])
    if villages:
        v = villages[0]
        share = 100 * v["reported"]["value"] / t["reported"]["value"] if t["reported"]["value"] else 0
        words["village"] = (f"{len(villages)} 个村/社区中, {v['label']} 受理最多, 共 {v['reported']['value']} 件, "
                            f"占全镇 {share:.1f}%; 按期结案率 {_pct(v['closed_on_time']['value'])}。")
    categories = sorted(data["tables"]["category"]["rows"], key=lambda r: -r["reported"]["value"])
    if categories:
        words["category"] = "案件最多的类别依次为 " + "、".join(
            f"{c['label']} ({c['reported']['value']} 件)" for c in categories[:3]) + "。"
    late = sorted((r for r in data["tables"]["department"]["rows"] if r["overdue"]["value"]),
                  key=lambda r: -r["overdue"]["value"])
    words["department"] = ("超期案件主要集中在 " + "、".join(f"{d['label']} ({d['overdue']['value']} 件)" for d in late[:3])
                           + "。") if late else "本月无超期案件。"
    if data["hot_grids"]:
        g = data["hot_grids"][0]
        words["hotspots"] = f"案件最集中的网格为 {g['label']} ({g['reported']['value']} 件)。"
    if data["workers"]:
        w = data["workers"][0]
        words["workers"] = f"网格员量化考核本月第一名为 {w['village'] or ''} {w['name']}, 得分 {w['total']}。"
    return words


# ---------------------------------------------------------------- the tables (shared by the PDF and the workbook)


@dataclass
class Table:
    title: str
    sheet: str  # its sheet in the workbook
    headers: list[str]
    rows: list[list]
    total: list | None = None


def _cell(value, unit: str):
    if value is None:
        return None
    return value if unit == "count" else round(float(value), 2)


def tables(data: dict) -> list[Table]:
    specs = data["specs"]
    cols = [specs[k] for k in SUMMARY]
    heads = [s.zh + ("(%)" if s.unit == "percent" else "") for s in cols]

    def row(r):
        return [_cell(r[s.key]["value"], s.unit) for s in cols]

    t, p = data["total"], data["previous"]
    out = [Table("一、主要指标", "主要指标", ["指标", "本月", "上月", "环比(%)"],
                 [[s.zh + ("(%)" if s.unit == "percent" else ""), _cell(t[s.key]["value"], s.unit),
                   _cell(p[s.key]["value"], s.unit), data["change"][s.key]] for s in cols])]
    for by, title, sheet in (("village", "二、分村/社区", "分村社区"), ("category", "三、分事件类别", "分类别")):
        rows = sorted(data["tables"][by]["rows"], key=lambda r: -r["reported"]["value"])
        out.append(Table(title, sheet, [ind.GROUPS[by][0], *heads], [[r["label"], *row(r)] for r in rows],
                         ["合计", *row(t)]))
    depts = sorted(data["tables"]["department"]["rows"], key=lambda r: (-r["overdue"]["value"], -r["reported"]["value"]))
    out.append(Table("四、超期案件 (分职能部门)", "超期分部门", ["职能部门", "派遣数", "超期数", "按期处置率(%)", "按期结案率(%)"],
                     [[r["label"], r["dispatched"]["value"], r["overdue"]["value"], r["handled_on_time"]["value"],
                       r["closed_on_time"]["value"]] for r in depts]))
    out.append(Table("五、热点网格与类别", "热点", ["网格", "村/社区", "事件类别", "件数"],
                     [[p["grid"] or p["grid_code"], p["village"] or "", p["category"], p["n"]] for p in data["hot_pairs"]]))
    out.append(Table(f"六、网格员考核排名 (前 {TOP_WORKERS} 名)", "网格员排名", ["名次", "姓名", "村/社区", "网格", "得分", "等次"],
                     [[w["rank"], w["name"], w["village"], w["grid"], w["total"], w["grade"]] for w in data["workers"]]))
    return out


# ---------------------------------------------------------------- the charts


def _figure(width: float, height: float):
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    matplotlib.rcParams["font.sans-serif"] = ["WenQuanYi Zen Hei", "DejaVu Sans"]
    matplotlib.rcParams["axes.unicode_minus"] = False
    fig = Figure(figsize=(width, height), dpi=150)
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=150, bbox_inches="tight")
    return out.getvalue()


def chart_trend(data: dict) -> bytes:
    fig = _figure(7.5, 2.8)
    ax = fig.add_subplot()
    days = [d.day for d, _r, _c in data["days"]]
    ax.plot(days, [r for _d, r, _c in data["days"]], marker="o", ms=3, color="#1f77b4", label="受理")
    ax.plot(days, [c for _d, _r, c in data["days"]], marker="s", ms=3, color="#2ca02c", label="结案")
    ax.set_xlabel("日")
    ax.set_ylabel("件")
    ax.set_xticks(days[::2] if len(days) > 16 else days)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(f"{data['first'].year}年{data['first'].month}月 每日受理与结案", fontsize=11)
    return _png(fig)


def chart_categories(data: dict) -> bytes:
    rows = sorted(data["tables"]["category"]["rows"], key=lambda r: -r["reported"]["value"])[:10][::-1]
    fig = _figure(7.5, max(1.6, 0.32 * len(rows) + 0.8))
    ax = fig.add_subplot()
    values = [r["reported"]["value"] for r in rows]
    ax.barh([r["label"] for r in rows], values, color="#d95f02")
    for y, v in enumerate(values):
        ax.text(v, y, f" {v}", va="center", fontsize=8)
    ax.set_xlabel("件")
    ax.set_title("事件类别排名 (前 10)", fontsize=11)
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def chart_map(data: dict) -> bytes:
    """The grids coloured by the month's cases (no tiles: the polygons alone)."""
    from math import cos, radians

    import numpy as np
    import shapely
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import Normalize

    counts = {r["key"]: r["reported"]["value"] for r in data["tables"]["grid"]["rows"] if r["key"]}
    polys, values = [], []
    for code, raw in data["grid_shapes"]:
        for part in shapely.get_parts(shapely.from_wkb(raw)):
            polys.append(np.asarray(part.exterior.coords))
            values.append(counts.get(code, 0))
    fig = _figure(7.5, 6.0)
    ax = fig.add_subplot()
    norm = Normalize(0, max(values or [1]) or 1)
    cmap = colormaps["YlOrRd"]
    ax.add_collection(PolyCollection(polys, facecolors=[cmap(norm(v)) for v in values], edgecolors="#666666",
                                     linewidths=0.3))
    if polys:
        xy = np.concatenate(polys)
        (west, south), (east, north) = xy.min(axis=0), xy.max(axis=0)
        ax.set_xlim(west, east)
        ax.set_ylim(south, north)
        ax.set_aspect(1 / cos(radians((south + north) / 2)))
    ax.set_axis_off()
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.7, label="本月受理 (件)")
    ax.set_title("各网格本月受理案件", fontsize=11)
    return _png(fig)


# ---------------------------------------------------------------- the files


def title(data: dict) -> str:
    return f"{data['town']}{data['first'].year}年{data['first'].month}月 网格化服务管理工作月报"


def pdf(data: dict) -> bytes:
    """The month's report as an A4 PDF in Chinese (the font of the grid-board posters, embedded)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, TableStyle
    from reportlab.platypus import Table as PdfTable

    from .boards import poster_cjk_font

    font = poster_cjk_font()
    h1 = ParagraphStyle("h1", fontName=font, fontSize=17, leading=24, alignment=1, spaceAfter=4)
    h2 = ParagraphStyle("h2", fontName=font, fontSize=12.5, leading=18, spaceBefore=8, spaceAfter=4,
                        textColor=colors.HexColor("#1f4e79"))
    body = ParagraphStyle("body", fontName=font, fontSize=10, leading=15, wordWrap="CJK", firstLineIndent=20)
    small = ParagraphStyle("small", fontName=font, fontSize=8.5, leading=12, alignment=1,
                           textColor=colors.HexColor("#555555"))
    cell = ParagraphStyle("cell", fontName=font, fontSize=8, leading=10, wordWrap="CJK")
    width = A4[0] - 30 * mm
    words = paragraphs(data)
    story = [Paragraph(title(data), h1),
             Paragraph(f"统计区间: {data['period']} (按上报时间统计, 状态截至 {data['now']:%Y-%m-%d %H:%M}); "
                       f"环比对照: {data['previous_period']}", small)]
    if data["synthetic"]:
        story.append(Paragraph("合成演示数据, 非真实案件", small))
    story.append(Spacer(1, 4 * mm))

    def table(t: Table):
        def show(v):
            if v is None:
                return "—"
            return Paragraph(str(v), cell) if isinstance(v, str) else (f"{v:g}" if isinstance(v, float) else str(v))

        rows = [[Paragraph(h, cell) for h in t.headers], *([show(v) for v in r] for r in t.rows)]
        if t.total:
            rows.append([show(v) for v in t.total])
        if len(rows) == 1:
            rows.append(["无"] + [""] * (len(t.headers) - 1))
        first = 0.24 if len(t.headers) > 5 else 0.3
        widths = [width * first] + [width * (1 - first) / (len(t.headers) - 1)] * (len(t.headers) - 1)
        out = PdfTable(rows, colWidths=widths, repeatRows=1)
        style = [("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), 8),
                 ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
                 ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDEBF7")),
                 ("ALIGN", (1, 1), (-1, -1), "RIGHT"), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]
        if t.total:
            style.append(("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#F2F2F2")))
        out.setStyle(TableStyle(style))
        return out

    def image(png: bytes, w: float):
        from reportlab.lib.utils import ImageReader

        iw, ih = ImageReader(io.BytesIO(png)).getSize()
        return Image(io.BytesIO(png), width=w, height=w * ih / iw)

    summary, villages, categories, departments, hotspots, workers = tables(data)
    story += [Paragraph(summary.title, h2), Paragraph(words["summary"], body), Spacer(1, 2 * mm), table(summary),
              Spacer(1, 3 * mm), image(chart_trend(data), width)]
    story += [Paragraph(villages.title, h2)]
    if "village" in words:
        story.append(Paragraph(words["village"], body))
    story += [Spacer(1, 2 * mm), table(villages), Spacer(1, 3 * mm), image(chart_map(data), width * 0.85)]
    story += [Paragraph(categories.title, h2)]
    if "category" in words:
        story.append(Paragraph(words["category"], body))
    story += [Spacer(1, 2 * mm), image(chart_categories(data), width), Spacer(1, 2 * mm), table(categories)]
    story += [Paragraph(departments.title, h2), Paragraph(words["department"], body), Spacer(1, 2 * mm),
              table(departments)]
    story += [Paragraph(hotspots.title, h2)]
    if "hotspots" in words:
        story.append(Paragraph(words["hotspots"], body))
    story += [Spacer(1, 2 * mm), table(hotspots)]
    story += [Paragraph(workers.title, h2)]
    if "workers" in words:
        story.append(Paragraph(words["workers"], body))
    story += [Spacer(1, 2 * mm), table(workers)]

    def footer(canvas, doc):
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.drawCentredString(A4[0] / 2, 10 * mm, f"{data['town']}综治中心 · {data['month']} 月报 · 第 {doc.page} 页")
        canvas.restoreState()

    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                            bottomMargin=18 * mm, title=title(data), author=f"{data['town']}综治中心",
                            subject="网格化服务管理工作月报", creator="网格 Wangge")
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()


def workbook(data: dict) -> bytes:
    """The report's tables as an .xlsx, one sheet each, written by the indicators' table writer."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    heading = {**data["tables"]["village"]}
    for t in tables(data):
        sheet = book.create_sheet(t.sheet)
        start = stats.heading(sheet, heading, f"{title(data)} · {t.title}")
        headers = t.headers
        body = [list(r) for r in t.rows]
        total = list(t.total) if t.total else [""] * len(headers)
        formats = [None, *("0.00" if "(%)" in h else None for h in headers[1:])]
        stats.write_table(sheet, start, headers, [""] * len(headers), body, total, formats)
    days = book.create_sheet("每日趋势")
    start = stats.heading(days, heading, f"{title(data)} · 每日受理与结案")
    stats.write_table(days, start, ["日期", "受理", "结案"], ["date", "reported", "closed"],
                       [[d.isoformat(), r, c] for d, r, c in data["days"]],
                       ["合计", sum(r for _d, r, _c in data["days"]), sum(c for _d, _r, c in data["days"])],
                       [None, "0", "0"])
    book.properties.title = title(data)
    book.properties.creator = "网格 Wangge"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _put(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".part")
    try:
        partial.write_bytes(data)
        partial.replace(path)
    except OSError:
        partial.unlink(missing_ok=True)
        raise


def check_dir(folder: Path) -> Path:
    """The folder, made if missing; :class:`ReportError` when it cannot be written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"无法创建目录 {folder}: {exc.strerror}", f"cannot make the folder {folder}: {exc.strerror}") from exc
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise ReportError(f"目录不可写: {folder}", f"the folder cannot be written: {folder}")
    return folder


def write(db: Session, month, folder: Path, *, now: datetime | None = None) -> dict:
    """Gather the month and write its PDF and workbook into ``folder``: ``{"month", "pdf", "xlsx", "seconds"}``."""
    import time

    began = time.monotonic()
    first = month if isinstance(month, date) else parse_month(month)
    folder = check_dir(Path(folder))
    data = gather(db, first, now=now)
    pdf_name, xlsx_name = file_names(first)
    try:
        _put(folder / xlsx_name, workbook(data))
        _put(folder / pdf_name, pdf(data))
    except OSError as exc:
        raise ReportError(f"无法写入 {folder}: {exc.strerror}", f"cannot write into {folder}: {exc.strerror}") from exc
    return {"month": data["month"], "pdf": str(folder / pdf_name), "xlsx": str(folder / xlsx_name),
            "reported": data["total"]["reported"]["value"], "seconds": round(time.monotonic() - began, 2)}


# ---------------------------------------------------------------- the record: the folder


def written(folder: Path) -> list[dict]:
    """The months with a report in ``folder``, newest first: ``{"month", "pdf", "xlsx", "written_at"}``
    (a file name, or None when that half is missing)."""
    months: dict[str, dict] = {}
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return []
    for path in entries:
        m = NAME.match(path.name)
        if not m or not path.is_file():
            continue
        entry = months.setdefault(f"{m.group(1)}-{m.group(2)}", {"pdf": None, "xlsx": None, "written_at": None})
        entry[m.group(3)] = path.name
        at = datetime.fromtimestamp(path.stat().st_mtime, SHANGHAI)
        if entry["written_at"] is None or at > entry["written_at"]:
            entry["written_at"] = at
    return [{"month": k, **v, "written_at": v["written_at"].isoformat(timespec="seconds")}
            for k, v in sorted(months.items(), reverse=True)]


def file_in(folder: Path, name: str) -> Path | None:
    """A report's file by its name (nothing else of the folder)."""
    if not NAME.match(name or ""):
        return None
    path = Path(folder) / name
    return path if path.is_file() else None


# ---------------------------------------------------------------- the job


def due_month(calendar, today: date) -> date | None:
    """The month whose report is due ``today``: the previous month, from the 3rd working day of this
    month on (None before it)."""
    first, count = today.replace(day=1), 0
    day = first
    while day <= today:
        if calendar.is_workday(day):
            count += 1
            if count == DUE_WORKDAY:
                return previous_month(first)
        day += timedelta(days=1)
    return None


def run_job(db: Session, *, now: datetime, folder: Path | None = None) -> str | None:
    """``wangge jobs run``: write the previous month's report when it is due and not yet in the
    folder; the PDF's path, or None when nothing was written."""
    from .workdays import load_calendar

    now = now.astimezone(SHANGHAI)
    month = due_month(load_calendar(db, fresh=True), now.date())
    folder = Path(folder) if folder else reports_dir()
    if month is None or (folder / file_names(month)[0]).exists():
        return None
    try:
        return write(db, month, folder, now=now)["pdf"]
    except ReportError as exc:  # the folder: the job's other work is done all the same
        logging.getLogger(__name__).error("月报未写 / the monthly report was not written: %s", exc.en)
        return None


def parse_request_month(raw, now: datetime) -> date:
    """The month a person asks for at ``/stats/reports`` (default: this month); 400 with the reason."""
    try:
        first = parse_month(raw) if raw else now.date().replace(day=1)
    except ReportError as exc:
        raise InvalidParametersError([FieldError("month", exc.zh, exc.en)],
                                     lead=("月报参数有误", "bad report parameters")) from exc
    if first > now.date():
        raise InvalidParametersError([FieldError("month", "不能为未来的月份写月报", "a month to come has no report")],
                                     lead=("月报参数有误", "bad report parameters"))
    return first
