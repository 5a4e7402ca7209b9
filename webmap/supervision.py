"""Deadlines and supervision (督办) at ``/api/v1/supervision`` (being written)."""

from flask import Blueprint

from webmap.auth import csrf_for_cookie_sessions

bp = Blueprint("supervision", __name__, url_prefix="/api/v1/supervision")
bp.before_request(csrf_for_cookie_sessions)
