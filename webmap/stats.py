"""Indicators (综合评价) at ``/api/v1/stats`` (being written)."""

from flask import Blueprint

from webmap.auth import csrf_for_cookie_sessions

bp = Blueprint("stats", __name__, url_prefix="/api/v1/stats")
bp.before_request(csrf_for_cookie_sessions)
