"""12345 hotline orders (便民专线工单) at ``/api/v1/hotline`` (being written)."""

from flask import Blueprint

from webmap.auth import csrf_for_cookie_sessions

bp = Blueprint("hotline", __name__, url_prefix="/api/v1/hotline")
bp.before_request(csrf_for_cookie_sessions)
