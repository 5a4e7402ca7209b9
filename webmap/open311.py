"""Open311 GeoReport v2 at ``/open311/v2/`` (http://wiki.open311.org/GeoReport_v2).

``services.{json,xml}``, ``services/{code}.{fmt}``, ``requests.{fmt}`` (GET: public, no personal
data; POST: an ``api_key`` issued to a client system), ``requests/{id}.{fmt}`` and
``tokens/{token}.{fmt}``. Errors are Open311 error lists: ``[{"code": 400, "description": …}]``.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from flask import Blueprint, Response, request, url_for
from werkzeug.exceptions import HTTPException

from webmap import database, errors, params
from webmap.services import open311
from webmap.services.errors import ServiceError
from webmap.services.open311 import Open311Error, Problem

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")

FORMATS = ("json", "xml")
JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
# characters XML 1.0 cannot carry, even escaped
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
LIST_ITEMS = {"services": "service", "service_requests": "request", "errors": "error",
              "attributes": "attribute"}


# ---------------------------------------------------------------- rendering


def _xml_value(parent: ET.Element, name: str, value) -> None:
    node = ET.SubElement(parent, name)
    if isinstance(value, dict):
        for key, item in value.items():
            _xml_value(node, key, item)
    elif isinstance(value, list):
        for item in value:
            _xml_value(node, LIST_ITEMS.get(name, "item"), item)
    elif isinstance(value, bool):
        node.text = "true" if value else "false"
    elif value is not None:
        node.text = NOT_XML.sub("", str(value))


def _xml(root_name: str, body) -> str:
    root = ET.Element(root_name)
    if isinstance(body, list):
        for item in body:
            _xml_value(root, LIST_ITEMS[root_name], item)
    else:
        for key, item in body.items():
            _xml_value(root, key, item)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def _render(fmt: str, root_name: str, body, status: int = 200) -> Response:
    if fmt == "xml":
        return Response(_xml(root_name, body), status=status, content_type=XML_TYPE)
    # the standard library keeps the spec's field order (Flask's provider sorts keys)
    return Response(json.dumps(body, ensure_ascii=False), status=status, content_type=JSON_TYPE)


def _format(fmt: str) -> str:
    if fmt.lower() not in FORMATS:
        raise Open311Error(404, [Problem("format", f"不支持的格式 .{fmt},请用 .json 或 .xml",
                                         f"unsupported format .{fmt}; use .json or .xml")])
    return fmt.lower()


def _error_format() -> str:
    fmt = (request.view_args or {}).get("fmt") or ""
    return "xml" if fmt.lower() == "xml" else "json"


def _open311_error(exc: ServiceError):
    """The services' refusals in Open311's error list, in the format asked for."""
    answer = Open311Error.of(exc)
    return _render(_error_format(), "errors", answer.as_list(), answer.status)


errors.render_refusals_of(bp, _open311_error)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    zh = {400: "请求有误", 403: "无权访问", 404: "未找到", 405: "不支持该请求方法",
          413: "请求内容过大"}.get(exc.code or 500, "请求失败")
    response = _open311_error(Open311Error(exc.code or 500, [Problem(None, zh, exc.description or exc.name)]))
    if exc.code == 405 and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


# ---------------------------------------------------------------- services


@bp.get("/services.<fmt>")
def services(fmt: str):
    fmt = _format(fmt)
    return _render(fmt, "services", open311.services(database.session()))


@bp.get("/services/<service_code>.<fmt>")
def service_definition(service_code: str, fmt: str):
    fmt = _format(fmt)
    definition = open311.service_definition(database.session(), service_code)
    if definition is None:
        raise Open311Error(404, [Problem("service_code", f"没有服务类型 {service_code}",
                                         f"no service with code {service_code!r}")])
    return _render(fmt, "service_definition", definition)


# ---------------------------------------------------------------- requests


def _post_fields():
    if request.is_json:
        body = request.get_json(silent=True)
        if body is None:
            raise Open311Error(400, [Problem("body", "请求体不是合法的 JSON", "the body is not valid JSON")])
        return body
    return request.form


@bp.post("/requests.<fmt>")
def create_request(fmt: str):
    fmt = _format(fmt)
    answer, created = open311.create_request(
        database.session(), _post_fields(), request.headers.get("Idempotency-Key"),
        near_m=params.near_boundary_m(),
    )
    response = _render(fmt, "service_requests", [answer], 201 if created else 200)
    response.headers["Location"] = url_for("open311.get_request", request_id=answer["service_request_id"],
                                           fmt=fmt)
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.get("/requests.<fmt>")
def list_requests(fmt: str):
    fmt = _format(fmt)
    query = open311.parse_query(request.args)
    return _render(fmt, "service_requests", open311.list_requests(database.session(), query))


@bp.get("/requests/<request_id>.<fmt>")
def get_request(request_id: str, fmt: str):
    fmt = _format(fmt)
    found = open311.get_request(database.session(), request_id)
    if found is None:
        raise Open311Error(404, [Problem("service_request_id", f"没有服务请求 {request_id}",
                                         f"no service request {request_id!r}")])
    return _render(fmt, "service_requests", [found])


@bp.get("/tokens/<token>.<fmt>")
def get_token(token: str, fmt: str):
    _format(fmt)
    raise Open311Error(404, [Problem("token", "本服务在提交时直接返回 service_request_id,不发放令牌",
                                     "this server answers a POST with its service_request_id; "
                                     "it issues no tokens")])


@bp.get("/<path:rest>")
def unknown(rest: str):
    """Any other GET under the prefix: an Open311 404 (a POST elsewhere keeps its routing 405/404)."""
    raise Open311Error(404, [Problem(None, f"没有资源 {rest}", f"no resource {rest!r}")])
