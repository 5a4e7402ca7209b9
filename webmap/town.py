"""The town's record in every template (``town``), read once per request."""

from __future__ import annotations

from flask import Flask, g
from sqlalchemy.exc import SQLAlchemyError

from webmap import database
from webmap.services.town import NO_TOWN, Town, load_town


def current() -> Town:
    """The request's town (:func:`webmap.services.town.load_town`, read on first use)."""
    if "town" not in g:
        db = database.session()
        try:
            g.town = load_town(db)
        except SQLAlchemyError:
            # an error page after a failed statement, or a database not migrated yet: still a page
            db.rollback()
            return NO_TOWN
    return g.town


def init_app(app: Flask) -> None:
    @app.context_processor
    def _town() -> dict:
        return {"town": current()}
