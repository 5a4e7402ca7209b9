"""Chinese first, English available: every message in the code and templates has an English
translation in the catalogue."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "N_": None, "lazy_gettext": None}


def test_every_message_has_an_english_translation():
    found = {msg for _file, _line, msg, _comments, _ctx in
             extract_from_dir(ROOT / "webmap", METHODS, keywords=KEYWORDS)}
    found = {m if isinstance(m, str) else m[0] for m in found}
    with open(ROOT / "webmap/translations/en/LC_MESSAGES/messages.po", "rb") as f:
        catalog = read_po(f)
    untranslated = sorted(m for m in found if not (catalog.get(m) and catalog.get(m).string))
    assert len(found) > 100
    assert untranslated == [], f"add English for: {untranslated}"
