"""Query-string parameters shared by the JSON APIs."""

from __future__ import annotations

from datetime import datetime

from flask import request

from webmap.errors import BadRequestError
from webmap.services import features


def moment_arg(name: str) -> datetime | None:
    """``since`` / ``until`` style parameters: an RFC 3339 time, or a date (``since``: its start,
    anything else: its end); None when absent; 400 with the reason when malformed."""
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        interval = features.parse_datetime(raw)
    except features.FeatureQueryError as exc:
        raise BadRequestError(f"{name}: {exc.zh}", f"{name}: {exc.en}", param=name) from exc
    return interval.start if name == "since" else interval.end
