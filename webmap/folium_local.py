"""Make folium work on an intranet: point its CDN script and style lists at our vendored copies.

folium loads Leaflet, jQuery, Bootstrap, Font Awesome and every plugin from CDNs
(``Map.default_js``/``default_css`` and each plugin class's lists). At start-up we replace each
URL we vendor with a local one, and drop those we do not (a plugin we do not vendor must not
make a page hang on an unreachable CDN).
"""

from __future__ import annotations

import inspect
import re

# (pattern in the CDN URL, path under /static/vendor/)
LOCAL_FILES = (
    (r"leaflet@[\d.]+/dist/leaflet\.js$", "leaflet/1.9.4/leaflet.js"),
    (r"leaflet@[\d.]+/dist/leaflet\.css$", "leaflet/1.9.4/leaflet.css"),
    (r"jquery-[\d.]+(\.min)?\.js$", "jquery/3.7.1/jquery.min.js"),
    (r"bootstrap@[\d.]+/dist/js/bootstrap\.bundle\.min\.js$", "bootstrap/5.2.2/js/bootstrap.bundle.min.js"),
    (r"bootstrap@[\d.]+/dist/css/bootstrap\.min\.css$", "bootstrap/5.2.2/css/bootstrap.min.css"),
    (r"fontawesome-free@[\d.]+/css/all\.min\.css$", "fontawesome-free/6.2.0/css/all.min.css"),
    (r"leaflet\.awesome-markers\.js$", "leaflet.awesome-markers/2.0.5/leaflet.awesome-markers.js"),
    (r"leaflet\.awesome-markers\.css$", "leaflet.awesome-markers/2.0.5/leaflet.awesome-markers.css"),
    (r"leaflet[-_]heat(\.min)?\.js$", "leaflet.heat/0.2.0/leaflet-heat.js"),
    (r"leaflet\.markercluster(-src)?\.js$", "leaflet.markercluster/1.5.3/leaflet.markercluster.js"),
    (r"MarkerCluster\.css$", "leaflet.markercluster/1.5.3/MarkerCluster.css"),
    (r"MarkerCluster\.Default\.css$", "leaflet.markercluster/1.5.3/MarkerCluster.Default.css"),
)
# our own replacement for folium's tiny rotate stylesheet
OWN_FILES = ((r"leaflet\.awesome\.rotate(\.min)?\.css$", "css/leaflet.awesome.rotate.css"),)


def _local(url: str, vendor_base: str, static_base: str) -> str | None:
    if not re.match(r"^(https?:)?//", url):
        return url  # already local
    for pattern, path in LOCAL_FILES:
        if re.search(pattern, url):
            return f"{vendor_base}/{path}"
    for pattern, path in OWN_FILES:
        if re.search(pattern, url):
            return f"{static_base}/{path}"
    return None


def _classes():
    import folium
    import folium.plugins

    seen = set()
    for module in (folium, folium.plugins, folium.map, folium.features, folium.raster_layers, folium.vector_layers):
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if cls not in seen and ("default_js" in vars(cls) or "default_css" in vars(cls)):
                seen.add(cls)
                yield cls


def localize_folium(static_base: str = "/static") -> list[str]:
    """Rewrite folium's resource lists in place; return the CDN URLs dropped for want of a copy."""
    vendor_base = f"{static_base}/vendor"
    dropped = []
    for cls in _classes():
        for attr in ("default_js", "default_css"):
            if attr not in vars(cls):
                continue
            kept = []
            for name, url in getattr(cls, attr):
                local = _local(url, vendor_base, static_base)
                if local is None:
                    dropped.append(url)
                else:
                    kept.append((name, local))
            setattr(cls, attr, kept)
    return dropped
