"""The services' refusals (:mod:`webmap.services.errors`) and Werkzeug's HTTP errors as answers,
in one place: JSON for the APIs, the error page for the rest."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from webmap.services.errors import ServiceError

# A protocol with an error format of its own (Open311's error list, JSON or XML) renders the
# refusals raised under its blueprint; the handler below still answers them all.
_RENDERERS: dict[str, Callable[[ServiceError], object]] = {}


def render_refusals_of(blueprint: Blueprint, render: Callable[[ServiceError], object]) -> None:
    _RENDERERS[blueprint.name] = render


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/ogc", "/open311/")) or request.accept_mimetypes.best == "application/json"


def init_app(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def service_error(exc: ServiceError):
        if request.blueprint in _RENDERERS:
            return _RENDERERS[request.blueprint](exc)
        if _wants_json():
            return jsonify(exc.body()), exc.status
        return render_template("error.html", status=exc.status, message=exc.zh, detail=exc.en), exc.status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if request.path.startswith("/open311/"):  # Open311 clients expect its error list
            return jsonify([{"code": exc.code, "description": f"{exc.name} / {exc.description}"}]), exc.code
        zh = {400: "请求有误", 401: "请先登录", 403: "无权访问", 404: "未找到", 405: "不支持该请求方法",
              413: "上传内容过大", 429: "请求过于频繁"}.get(exc.code, "请求失败")
        if _wants_json():
            return jsonify({"code": exc.name, "description": f"{zh} / {exc.description}",
                            "message_zh": zh, "message_en": exc.description}), exc.code
        return render_template("error.html", status=exc.code, message=zh, detail=exc.description), exc.code
