"""Public grid boards (上岗公示) at ``/grids/<code>`` (being written)."""

from flask import Blueprint

bp = Blueprint("boards", __name__, url_prefix="/grids")
