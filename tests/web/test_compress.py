"""Large JSON answers are gzipped for clients that accept it; small ones, files and streams not."""

import gzip
import json

from tests.conftest import bearer


def test_large_json_is_gzipped_and_decodes_to_the_same(client):
    headers = bearer(client, "district1")
    plain = client.get("/api/v1/map/cases", headers=headers, query_string={"bbox": "117.6,39.25,117.9,39.4", "zoom": 14})
    zipped = client.get("/api/v1/map/cases", headers={**headers, "Accept-Encoding": "gzip, br"},
                        query_string={"bbox": "117.6,39.25,117.9,39.4", "zoom": 14})
    assert plain.headers.get("Content-Encoding") is None
    assert zipped.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped.headers["Vary"]
    assert len(zipped.data) < len(plain.data) / 2
    assert json.loads(gzip.decompress(zipped.data)) == plain.get_json()


def test_small_answers_and_files_are_left_alone(client):
    headers = {**bearer(client, "district1"), "Accept-Encoding": "gzip"}
    small = client.get("/api/v1/me", headers=headers)
    assert small.headers.get("Content-Encoding") is None and small.get_json()["role"] == "district"
    static = client.get("/static/vendor/leaflet/1.9.4/leaflet.js", headers=headers)
    assert static.headers.get("Content-Encoding") is None
