"""The town is data: its name, case prefix and map centre appear nowhere in the code, SQL, templates
or JavaScript but in the demo generator (db/demo.py, db/demo_town.py), which describes the demo town."""

from pathlib import Path

import pytest

from db import demo_town

ROOT = Path(__file__).resolve().parents[2]
DEMO = {ROOT / "db" / "demo.py", ROOT / "db" / "demo_town.py"}
LITERALS = ("杨家泊", "Yangjiabo", f"'{demo_town.CASE_PREFIX}'", f'"{demo_town.CASE_PREFIX}', "39.318", "117.745")


def _sources():
    for folder in ("webmap", "db", "workflow"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in (".py", ".sql", ".html", ".js") and path not in DEMO and "vendor" not in path.parts:
                yield path


@pytest.mark.parametrize("literal", LITERALS)
def test_no_town_literal_outside_the_demo_generator(literal):
    found = [str(p.relative_to(ROOT)) for p in _sources() if literal in p.read_text(encoding="utf-8")]
    assert found == [], f"{literal!r} belongs in the town's record (table towns), found in {found}"
