"""Domain errors, and their mapping to HTTP in one place."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from webmap.services.errors import ServiceError


class WanggeError(Exception):
    """Base of the errors a user can cause; ``status`` is the HTTP answer."""

    status = 400

    def __init__(self, message_zh: str, message_en: str = "", **details):
        super().__init__(message_en or message_zh)
        self.message_zh = message_zh
        self.message_en = message_en or message_zh
        self.details = details


class BadRequestError(WanggeError):
    status = 400


class NotFoundError(WanggeError):
    status = 404


class ForbiddenError(WanggeError):
    status = 403


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/ogc", "/open311/")) or request.accept_mimetypes.best == "application/json"


def init_app(app: Flask) -> None:
    @app.errorhandler(WanggeError)
    def domain_error(exc: WanggeError):
        body = {
            "code": type(exc).__name__,
            "description": f"{exc.message_zh} / {exc.message_en}",
            "message_zh": exc.message_zh,
            "message_en": exc.message_en,
            **exc.details,
        }
        if _wants_json():
            return jsonify(body), exc.status
        return render_template("error.html", status=exc.status, message=exc.message_zh, detail=exc.message_en), exc.status

    @app.errorhandler(ServiceError)
    def service_error(exc: ServiceError):
        body = {"code": exc.code, "description": f"{exc.zh} / {exc.en}", "message_zh": exc.zh,
                "message_en": exc.en, **exc.details}
        if _wants_json():
            return jsonify(body), exc.status
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
