"""Chinese first, English available. Message ids are the Chinese text; the English catalogue
translates them. ``?lang=en`` (remembered in a cookie) switches language."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, g, request
from flask_babel import Babel

LANGUAGES = ("zh", "en")
TRANSLATIONS = Path(__file__).parent / "translations"


def select_locale() -> str:
    wanted = request.args.get("lang") or request.cookies.get("lang")
    if wanted in LANGUAGES:
        return wanted
    return "zh"


def compile_catalogs(directory: Path = TRANSLATIONS) -> None:
    """Compile each ``messages.po`` into ``messages.mo`` when the .mo is missing or older."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in directory.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as f:
            catalog = read_po(f)
        try:
            with mo.open("wb") as f:
                write_mo(f, catalog)
        except OSError:
            pass  # a read-only install: the catalogue was compiled when it was built


def init_app(app: Flask) -> None:
    compile_catalogs()
    Babel(app, locale_selector=select_locale, default_translation_directories=str(TRANSLATIONS))

    @app.before_request
    def _remember_lang():
        g.lang = select_locale()

    @app.after_request
    def _lang_cookie(response):
        wanted = request.args.get("lang")
        if wanted in LANGUAGES:
            response.set_cookie("lang", wanted, max_age=365 * 86400, samesite="Lax")
        return response
