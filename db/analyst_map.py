"""Interactive maps for the analysts' notebooks that work offline: folium with every script and
style inlined from the app's vendored copies (webmap/static/vendor), no CDN, no tiles unless a
local base map is given.

    from db.analyst import offline_map
    m = offline_map(grids, gi=gi, kde=surface, cases=cases)          # a folium.Map
    m                                                                # shown in Jupyter
    m.save("hotspots.html")                                          # one self-contained file

In Jupyter the app's ``/static/`` does not exist, and folium's own pages fetch Leaflet from a CDN:
on an intranet such a map stays blank. Here the page carries its libraries (about 0.6 MB): what
folium asks for is looked up in the table the app uses (webmap/folium_files.json) and written into
the page; what has no copy there is left out. CSS ``url(...)`` of small images (Leaflet's layer
and marker icons) become ``data:`` URIs. Layers (all EPSG:4326):

- 网格: the grids with their codes and names (tooltip);
- Gi* 热点: H3 cells coloured by their class (:func:`spatial.hotspots.getis_ord`); a click on a
  cell lists its cases (up to :data:`POPUP_CASES`, the newest first) when ``cases`` are given;
- 核密度: the KDE surface (:func:`spatial.hotspots.kde`) as a PNG drawn over the surface's
  WGS84 bounds (the UTM grid is drawn unwarped: a few metres off at a town's scale).
"""

from __future__ import annotations

import base64
import html
import json
import mimetypes
import re
from functools import cache
from pathlib import Path

import numpy as np

WEBMAP = Path(__file__).resolve().parents[1] / "webmap"
STATIC = WEBMAP / "static"
VENDOR = STATIC / "vendor"
POPUP_CASES = 15
DATA_URI_MAX = 64 * 1024  # images in inlined CSS up to this size become data: URIs
GI_COLOURS = {"hot-99": "#b2182b", "hot-95": "#ef8a62", "hot-90": "#fddbc7", "none": "#f7f7f7",
              "cold-90": "#d1e5f0", "cold-95": "#67a9cf", "cold-99": "#2166ac"}
_SCRIPT = re.compile(r'<script src="([^"]+)"></script>')
_STYLE = re.compile(r'<link rel="stylesheet" href="([^"]+)"\s*/?>')
_CSS_URL = re.compile(r"url\((['\"]?)([^)'\"]+)\1\)")


@cache
def _table() -> tuple[tuple[str, Path], ...]:
    table = json.loads((WEBMAP / "folium_files.json").read_text(encoding="utf-8"))
    return (tuple((pattern, VENDOR / path) for pattern, path in table["vendored"])
            + tuple((pattern, STATIC / path) for pattern, path in table["own"]))


def local_file(url: str) -> Path | None:
    """The vendored copy of a resource folium asks for: by its CDN URL, or by the ``/static/`` path
    the app's :func:`webmap.folium_local.localize_folium` already put in its place; None without one.

    >>> local_file("https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js").relative_to(VENDOR).as_posix()
    'leaflet/1.9.4/leaflet.js'
    >>> local_file("/static/vendor/leaflet/1.9.4/leaflet.css").name, local_file("https://example.com/x.js")
    ('leaflet.css', None)
    """
    if url.startswith("/static/"):
        path = (STATIC / url[len("/static/"):]).resolve()
        return path if path.is_file() and STATIC in path.parents else None
    for pattern, path in _table():
        if re.search(pattern, url):
            return path if path.is_file() else None
    return None


def _css(path: Path) -> str:
    """The stylesheet with its small relative images as data: URIs (the others left out)."""
    def inline(match):
        ref = match.group(2)
        if ref.startswith(("data:", "#")):
            return match.group(0)
        target = (path.parent / ref.split("?")[0].split("#")[0]).resolve()
        if re.match(r"^[a-z]+:|^//", ref) or not target.is_file() or target.stat().st_size > DATA_URI_MAX:
            return "url()"  # nothing fetched: a font or an image we do not carry
        mime = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return f"url(data:{mime};base64,{base64.b64encode(target.read_bytes()).decode()})"
    return _CSS_URL.sub(inline, path.read_text(encoding="utf-8"))


def inline_resources(page: str) -> str:
    """A rendered folium page with its ``<script src>`` and stylesheet links replaced by the
    vendored files' text; links without a copy removed."""
    def script(match):
        path = local_file(html.unescape(match.group(1)))
        # a literal "</script" inside would end the element early
        return "" if path is None else "<script>" + path.read_text(encoding="utf-8").replace(
            "</script", "<\\/script") + "</script>"

    def style(match):
        path = local_file(html.unescape(match.group(1)))
        return "" if path is None else "<style>" + _css(path) + "</style>"
    return _STYLE.sub(style, _SCRIPT.sub(script, page))


def _offline_figure():
    import branca.element

    class OfflineFigure(branca.element.Figure):
        """A folium page whose libraries are inlined (Jupyter's display and ``save`` render it)."""

        def render(self, **kwargs):
            return inline_resources(super().render(**kwargs))
    return OfflineFigure()


def _cell_popups(gi, cases) -> list[str]:
    """Per Gi* cell, its figures and its newest cases, as escaped HTML."""
    import h3

    resolution = h3.get_resolution(str(gi["h3"].iloc[0])) if len(gi) else 9
    by_cell: dict[str, list] = {}
    if cases is not None and len(cases):
        ordered = cases.sort_values("reported_at", ascending=False)
        cells = [h3.latlng_to_cell(y, x, resolution) for x, y in zip(ordered.geometry.x, ordered.geometry.y, strict=True)]
        for cell, row in zip(cells, ordered.itertuples(), strict=True):
            by_cell.setdefault(cell, []).append(row)
    popups = []
    for row in gi.itertuples():
        found = by_cell.get(str(row.h3), [])
        head = (f"<b>{html.escape(str(row.h3))}</b> {html.escape(str(row.class_))}<br>"
                f"{html.escape(str(row.grid or ''))}<br>案件 {int(row.count)} 件 · Gi* z = {row.gi_z:.2f}")
        lines = [f"{html.escape(str(c.case_no))} {html.escape(str(c.category_name))} {html.escape(str(c.state))} "
                 f"{c.reported_at:%Y-%m-%d}" for c in found[:POPUP_CASES]]
        if len(found) > POPUP_CASES:
            lines.append(f"… 另 {len(found) - POPUP_CASES} 件")
        popups.append(head + ("<br>" + "<br>".join(lines) if lines else ""))
    return popups


def _columns(frame, names: list[str]):
    """Those columns and the geometry (whatever its column is called), as a GeoDataFrame."""
    return frame[[*names, frame.geometry.name]]


def _cell_grids(cells, grids) -> list[str]:
    """The grid (code and name) under each cell's centre ("" outside every grid)."""
    import geopandas as gpd

    if not len(grids) or "code" not in grids.columns:
        return [""] * len(cells)
    centres = gpd.GeoDataFrame(geometry=cells.geometry.representative_point(), crs=cells.crs)
    joined = gpd.sjoin(centres, _columns(grids, [c for c in ("code", "name") if c in grids.columns]),
                       how="left", predicate="within")
    joined = joined[~joined.index.duplicated()]
    names = joined["name"] if "name" in joined.columns else ""
    return [f"{c} {n}" if isinstance(c, str) else "" for c, n in zip(joined["code"], names, strict=False)]


def _kde_image(surface) -> np.ndarray:
    """The density as RGBA (magma_r; transparent under 5 % of the peak)."""
    from matplotlib import colormaps

    d = np.asarray(surface.density, dtype=float)
    peak = float(d.max()) if d.size else 0.0
    scaled = d / peak if peak > 0 else d
    rgba = colormaps["magma_r"](scaled)
    rgba[..., 3] = np.where(scaled < 0.05, 0.0, 0.75)
    return rgba


def offline_map(grids, *, gi=None, kde=None, cases=None, value: str | None = None, basemap_url: str | None = None,
                basemap_attribution: str = "本地底图 / local base map", zoom_start: int = 12):
    """A folium map of the town that needs no network: the grids (codes in the tooltip), and when
    given the Gi* cells (``gi``, from :func:`spatial.hotspots.getis_ord`; a click lists the cell's
    ``cases``, a frame from :func:`db.analyst.load_cases`), the KDE surface (``kde``, a
    :class:`spatial.hotspots.KDESurface`); ``value``: a numeric column of ``grids`` to colour them
    by (e.g. cases a month), shown in the tooltip. Tiles only from ``basemap_url`` (an XYZ template such
    as ``http://127.0.0.1:5000/tiles/{z}/{x}/{y}.png``, the app's offline base map); none without.
    Everything in EPSG:4326. Returns the ``folium.Map``; its page inlines its libraries."""
    import folium

    minx, miny, maxx, maxy = grids.total_bounds if len(grids) else (117.70, 39.28, 117.80, 39.36)
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=zoom_start, tiles=None,
                   control_scale=True)
    _offline_figure().add_child(m)
    if basemap_url:
        folium.TileLayer(basemap_url, attr=basemap_attribution, name="本地底图", max_zoom=19).add_to(m)
    if kde is not None and kde.density.size:
        w, s, e, n = kde.bounds_wgs84
        folium.raster_layers.ImageOverlay(_kde_image(kde), bounds=[[s, w], [n, e]], name="核密度 / KDE",
                                          mercator_project=False, origin="upper").add_to(m)
    if gi is not None and len(gi):
        cells = _columns(gi, ["h3", "count", "gi_z", "class"]).copy()
        cells["class_"] = cells.pop("class")
        cells["grid"] = _cell_grids(cells, grids)
        cells["popup"] = _cell_popups(cells, cases)
        folium.GeoJson(
            cells, name="Gi* 热点 / hot spots",
            style_function=lambda f: {"fillColor": GI_COLOURS.get(f["properties"]["class_"], "#f7f7f7"),
                                      "color": "#ffffff", "weight": 0.4, "fillOpacity": 0.7},
            popup=folium.GeoJsonPopup(fields=["popup"], labels=False),
        ).add_to(m)
    columns = [c for c in ("code", "name", "village_name") if c in grids.columns]
    aliases = {"code": "网格编码", "name": "网格", "village_name": "村/社区"}
    style = {"color": "#1f4e79", "weight": 1, "fill": False}
    shown = _columns(grids, columns + ([value] if value else [])).copy()
    if value:
        import branca.colormap

        numbers = shown[value].astype(float).fillna(0.0)
        shown[value] = numbers.round(2)
        scale = branca.colormap.linear.OrRd_09.scale(float(numbers.min()), float(numbers.max()) or 1.0)
        scale.caption = value
        scale.add_to(m)
        aliases[value] = value

        def style_function(f):
            return {**style, "fill": True, "fillOpacity": 0.6, "fillColor": scale(f["properties"][value] or 0)}
    else:
        def style_function(_f):
            return style
    folium.GeoJson(
        shown, name="网格 / grids", style_function=style_function,
        tooltip=folium.GeoJsonTooltip(fields=[c for c in shown.columns if c in aliases],
                                      aliases=[aliases[c] for c in shown.columns if c in aliases]),
    ).add_to(m)
    if len(grids):
        m.fit_bounds([[miny, minx], [maxy, maxx]])
    folium.LayerControl(collapsed=False).add_to(m)
    return m
