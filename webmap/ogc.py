"""OGC API – Features, Part 1 (core, GeoJSON, OpenAPI 3.0) at ``/ogc/``: how QGIS, GDAL/OGR,
ArcGIS and OWSLib read the villages, grids and incidents."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, json, request, url_for
from flask_login import current_user

from webmap import database
from webmap.services import features
from webmap.services.errors import BadRequestError, NotFoundError
from workflow.clock import SHANGHAI

bp = Blueprint("ogc", __name__, url_prefix="/ogc")

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
]
JSON = "application/json"
GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"


def _json(body: dict, mimetype: str = JSON) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), mimetype=mimetype)


def _check_format() -> None:
    f = request.args.get("f")
    if f not in (None, "", "json", "geojson", "application/json", "application/geo+json"):
        raise BadRequestError(f"不支持的格式 f={f}", f"unsupported format f={f}", param="f")


def _url(endpoint: str, **values) -> str:
    return url_for(endpoint, _external=True, **values)


def _collection(collection_id: str) -> features.Collection:
    collection = features.COLLECTIONS.get(collection_id)
    if collection is None:
        raise NotFoundError(f"没有图层 {collection_id}", f"no collection {collection_id!r}")
    if not collection.public and not current_user.is_authenticated:
        abort(401)
    return collection


@bp.route("/")
def landing():
    _check_format()
    return _json({
        "title": "网格 Wangge — OGC API – Features",
        "description": "村/社区、单元网格与事件 / villages, unit grids and incidents",
        "links": [
            {"href": _url("ogc.landing"), "rel": "self", "type": JSON, "title": "本页 / this document"},
            {"href": _url("ogc.openapi"), "rel": "service-desc", "type": OPENAPI, "title": "OpenAPI 3.0"},
            {"href": _url("ogc.conformance"), "rel": "conformance", "type": JSON, "title": "一致性 / conformance"},
            {"href": _url("ogc.collections"), "rel": "data", "type": JSON, "title": "图层 / collections"},
        ],
    })


@bp.route("/conformance")
def conformance():
    _check_format()
    return _json({"conformsTo": CONFORMANCE})


def _collection_doc(collection: features.Collection) -> dict:
    doc = {
        "id": collection.id,
        "title": f"{collection.title_zh} / {collection.title_en}",
        "description": collection.description,
        "itemType": "feature",
        "crs": [features.CRS84],
        "storageCrs": features.CRS84,
        "links": [
            {"href": _url("ogc.collection", collection_id=collection.id), "rel": "self", "type": JSON},
            {"href": _url("ogc.items", collection_id=collection.id), "rel": "items", "type": GEOJSON,
             "title": collection.title_zh},
        ],
    }
    if collection.public or current_user.is_authenticated:
        doc["extent"] = features.extent(database.session(), collection, current_user)
    return doc


@bp.route("/collections")
def collections():
    _check_format()
    return _json({
        "links": [{"href": _url("ogc.collections"), "rel": "self", "type": JSON}],
        "collections": [_collection_doc(c) for c in features.COLLECTIONS.values()],
    })


@bp.route("/collections/<collection_id>")
def collection(collection_id: str):
    _check_format()
    return _json(_collection_doc(_collection(collection_id)))


@bp.route("/collections/<collection_id>/items")
def items(collection_id: str):
    _check_format()
    coll = _collection(collection_id)
    cfg = current_app.config
    bbox = features.parse_bbox(request.args.get("bbox"))
    limit = features.parse_limit(request.args.get("limit"), cfg["OGC_DEFAULT_LIMIT"], cfg["OGC_MAX_LIMIT"])
    offset = features.parse_offset(request.args.get("offset"))
    interval = features.parse_datetime(request.args.get("datetime")) if coll.temporal else None
    if request.args.get("bbox-crs") not in (None, "", features.CRS84):
        raise BadRequestError("仅支持 CRS84 的 bbox", "only CRS84 bbox is supported", param="bbox-crs")

    feats, matched = features.query_items(
        database.session(), coll, current_user, bbox=bbox, interval=interval, limit=limit, offset=offset
    )
    base = _url("ogc.items", collection_id=collection_id)
    args = {k: v for k, v in request.args.items() if k not in ("offset", "limit")}

    def page(off: int) -> str:
        return f"{base}?{urlencode({**args, 'limit': limit, 'offset': off})}"

    links = [
        {"href": page(offset), "rel": "self", "type": GEOJSON},
        {"href": _url("ogc.collection", collection_id=collection_id), "rel": "collection", "type": JSON},
    ]
    if offset + len(feats) < matched:
        links.append({"href": page(offset + limit), "rel": "next", "type": GEOJSON, "title": "下一页 / next"})
    if offset > 0:
        links.append({"href": page(max(0, offset - limit)), "rel": "prev", "type": GEOJSON, "title": "上一页 / previous"})
    return _json({
        "type": "FeatureCollection",
        "features": feats,
        "numberMatched": matched,
        "numberReturned": len(feats),
        "timeStamp": datetime.now(SHANGHAI).isoformat(timespec="seconds"),
        "links": links,
    }, GEOJSON)


@bp.route("/collections/<collection_id>/items/<feature_id>")
def item(collection_id: str, feature_id: str):
    _check_format()
    coll = _collection(collection_id)
    feature = features.get_item(database.session(), coll, current_user, feature_id)  # None for a malformed id
    if feature is None:
        raise NotFoundError(f"图层 {collection_id} 中没有要素 {feature_id}", f"no feature {feature_id!r} in {collection_id!r}")
    feature["links"] = [
        {"href": _url("ogc.item", collection_id=collection_id, feature_id=feature_id), "rel": "self", "type": GEOJSON},
        {"href": _url("ogc.collection", collection_id=collection_id), "rel": "collection", "type": JSON},
    ]
    return _json(feature, GEOJSON)


@bp.route("/api")
def openapi():
    return _json(openapi_document(), OPENAPI)


def openapi_document() -> dict:
    """The OpenAPI 3.0 description of this OGC API."""
    param = {
        "bbox": {"name": "bbox", "in": "query", "required": False, "style": "form", "explode": False,
                 "description": "minLon,minLat,maxLon,maxLat (CRS84)",
                 "schema": {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}},
        "limit": {"name": "limit", "in": "query", "required": False, "style": "form", "explode": False,
                  "description": "默认 100, 上限 10000 / default 100, capped at 10000",
                  "schema": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 100}},
        "offset": {"name": "offset", "in": "query", "required": False,
                   "schema": {"type": "integer", "minimum": 0, "default": 0}},
        "datetime": {"name": "datetime", "in": "query", "required": False, "style": "form", "explode": False,
                     "description": "RFC 3339 instant or interval (a/b, ../b, a/..)", "schema": {"type": "string"}},
        "collectionId": {"name": "collectionId", "in": "path", "required": True,
                         "schema": {"type": "string", "enum": list(features.COLLECTIONS)}},
        "featureId": {"name": "featureId", "in": "path", "required": True, "schema": {"type": "string"}},
    }
    ref = {k: {"$ref": f"#/components/parameters/{k}"} for k in param}
    ok_json = {"200": {"description": "OK", "content": {JSON: {"schema": {"type": "object"}}}}}
    ok_geojson = {"200": {"description": "OK", "content": {GEOJSON: {"schema": {"type": "object"}}}},
                  "400": {"description": "错误的参数 / bad parameter"},
                  "404": {"description": "未找到 / not found"}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "网格 Wangge OGC API – Features", "version": "1.0.0",
                 "description": "村/社区、网格与事件 / villages, grids and incidents"},
        "servers": [{"url": _url("ogc.landing").rstrip("/")}],
        "paths": {
            "/": {"get": {"operationId": "getLandingPage", "summary": "landing page", "responses": ok_json}},
            "/conformance": {"get": {"operationId": "getConformance", "responses": ok_json}},
            "/collections": {"get": {"operationId": "getCollections", "responses": ok_json}},
            "/collections/{collectionId}": {"get": {"operationId": "describeCollection",
                                                    "parameters": [ref["collectionId"]], "responses": ok_json}},
            "/collections/{collectionId}/items": {"get": {
                "operationId": "getFeatures",
                "parameters": [ref["collectionId"], ref["bbox"], ref["limit"], ref["offset"], ref["datetime"]],
                "responses": ok_geojson}},
            "/collections/{collectionId}/items/{featureId}": {"get": {
                "operationId": "getFeature", "parameters": [ref["collectionId"], ref["featureId"]],
                "responses": ok_geojson}},
        },
        "components": {"parameters": param},
    }
