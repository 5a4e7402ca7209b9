"""Map data for the dispatcher console, bounded per viewport (being written)."""

from flask import Blueprint

bp = Blueprint("mapdata", __name__, url_prefix="/api/v1/map")
