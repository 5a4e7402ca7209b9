"""Make folium work on an intranet: point its CDN script and style lists at our vendored copies.

folium loads Leaflet, jQuery, Bootstrap, Font Awesome and every plugin from CDNs
(``Map.default_js``/``default_css`` and each plugin class's lists). At start-up we replace each
URL we vendor with a local one, and drop those we do not (a plugin we do not vendor must not
make a page hang on an unreachable CDN).
"""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

# (pattern in the CDN URL, path under /static/vendor/) and our own replacement for folium's tiny
# rotate stylesheet (path under /static/): one table, webmap/folium_files.json, which the analysts'
# offline maps (db/analyst_map.py) read too
_TABLE = json.loads((Path(__file__).parent / "folium_files.json").read_text(encoding="utf-8"))
LOCAL_FILES = tuple(tuple(row) for row in _TABLE["vendored"])
OWN_FILES = tuple(tuple(row) for row in _TABLE["own"])


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
