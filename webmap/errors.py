"""The services' refusals (:mod:`webmap.services.errors`) and Werkzeug's HTTP errors as answers,
in one place: JSON for the APIs, the error page for the rest. The page speaks one language: the
reader's, chosen as on every page (``?lang=``, the remembered choice), Chinese by default."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Flask, g, jsonify, render_template, request
from flask_babel import force_locale
from werkzeug.exceptions import HTTPException

from webmap.i18n import select_locale
from webmap.services.errors import ServiceError

# A protocol with an error format of its own (Open311's error list, JSON or XML) renders the
# refusals raised under its blueprint; the handler below still answers them all.
_RENDERERS: dict[str, Callable[[ServiceError], object]] = {}

# status → (title zh, title en, what to do zh); the English detail is Werkzeug's description
HTTP_MESSAGES = {
    400: ("请求有误", "Bad request", "请求的内容不完整或格式不对, 请返回重试。"),
    401: ("请先登录", "Please sign in", "此页面需要登录后访问。"),
    403: ("无权访问", "Forbidden", "您的账号无权访问此页面。"),
    404: ("未找到", "Not found", "您要找的页面不存在, 请检查地址是否输入正确。"),
    405: ("不支持该请求方法", "Method not allowed", "此地址不支持该请求方法。"),
    413: ("上传内容过大", "Request too large", "上传的内容超过了大小限制。"),
    429: ("请求过于频繁", "Too many requests", "请求过于频繁, 请稍后再试。"),
}
FALLBACK = ("请求失败", "Request failed", "请求未能完成, 请稍后再试。")


def render_refusals_of(blueprint: Blueprint, render: Callable[[ServiceError], object]) -> None:
    _RENDERERS[blueprint.name] = render


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/ogc", "/open311/")) or request.accept_mimetypes.best == "application/json"


def error_page(status: int, zh: tuple[str, str], en: tuple[str, str]):
    """The error page in the reader's language: ``zh`` and ``en`` are (title, detail)."""
    lang = select_locale()  # as every page: an English browser still reads the town's Chinese
    g.lang = lang  # base.html's <html lang> and menu follow the page
    message, detail = en if lang == "en" else zh
    with force_locale(lang):
        html = render_template("error.html", status=status, message=message, detail=detail)
    return html, status


def http_error_page(status: int, description: str | None = None):
    zh_title, en_title, zh_detail = HTTP_MESSAGES.get(status, FALLBACK)
    return error_page(status, (zh_title, zh_detail), (en_title, description or en_title))


def init_app(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def service_error(exc: ServiceError):
        if request.blueprint in _RENDERERS:
            return _RENDERERS[request.blueprint](exc)
        if _wants_json():
            return jsonify(exc.body()), exc.status
        zh_title, en_title, _zh_detail = HTTP_MESSAGES.get(exc.status, FALLBACK)
        return error_page(exc.status, (zh_title, exc.zh), (en_title, exc.en))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if request.path.startswith("/open311/"):  # Open311 clients expect its error list
            return jsonify([{"code": exc.code, "description": f"{exc.name} / {exc.description}"}]), exc.code
        zh = HTTP_MESSAGES.get(exc.code, FALLBACK)[0]
        if _wants_json():
            return jsonify({"code": exc.name, "description": f"{zh} / {exc.description}",
                            "message_zh": zh, "message_en": exc.description}), exc.code
        return http_error_page(exc.code, exc.description)
