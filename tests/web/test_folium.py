"""folium, used for notebooks and read-only maps, loads nothing from a CDN once the app has started."""

import re

import folium
from folium.plugins import HeatMap, MarkerCluster


def test_folium_map_references_only_local_files(app, client):
    m = folium.Map(location=[39.318, 117.745], zoom_start=12, tiles=None)
    HeatMap([[39.31, 117.74, 1.0], [39.32, 117.75, 0.5]]).add_to(m)
    MarkerCluster().add_to(m)
    folium.Marker([39.318, 117.745], icon=folium.Icon(icon="info-sign")).add_to(m)
    html = m.get_root().render()
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls, "the page loads its scripts and styles"
    assert not [u for u in urls if re.match(r"^(https?:)?//", u)], urls
    for url in urls:
        assert client.get(url).status_code == 200, url  # every file is served by the app
