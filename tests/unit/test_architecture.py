"""The import direction is a contract: webmap → spatial, workflow, db; spatial and workflow import
neither Flask nor SQL; db imports no Flask; no module of webmap uses another module's _private
name (import-linter, configured in pyproject.toml; our own contract type is tests/contracts.py).
And the app has no import circle."""

import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

from tests.contracts import private_uses

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("webmap", "spatial", "workflow", "db")


def test_import_contracts_are_kept():
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(contracts)} kept, 0 broken" in result.stdout
    assert len(contracts) >= 4


def circles(edges: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected sets of more than one module (Tarjan, iterative), plus self-imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                members = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.add(member)
                    if member == node:
                        break
                if len(members) > 1 or node in edges[node]:
                    found.append(frozenset(members))
    return found


def test_circles_finds_a_circle_and_nothing_else():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}, "f": set()}
    assert sorted(map(sorted, circles(edges))) == [["a", "b", "c"], ["e"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_the_app_has_no_import_circle():
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    ours = {m for m in graph.modules if m.partition(".")[0] in PACKAGES}
    edges = {m: graph.find_modules_directly_imported_by(m) & ours for m in ours}
    assert {"webmap.cli", "webmap.commands.grids", "webmap.api", "db.models", "workflow.clock"} <= ours
    found = {
        tuple(sorted(circle)): [f"{a} -> {b}" for a in sorted(circle) for b in sorted(edges[a] & circle)]
        for circle in circles(edges)
    }
    assert not found, found


@pytest.mark.parametrize(("source", "expected"), [
    ("from webmap.api import _json_body, page_args\n", [(1, "webmap.api._json_body")]),
    ("from webmap.api import (\n    json_body,\n    _report_error,\n)\n", [(1, "webmap.api._report_error")]),
    ("from .api import _page_args\n", [(1, "webmap.api._page_args")]),
    ("from webmap.services import incidents\nincidents._detail_select(1)\n",
     [(2, "webmap.services.incidents._detail_select")]),
    ("import webmap.services.incidents as inc\nx = inc._detail_select\n",
     [(2, "webmap.services.incidents._detail_select")]),
    ("import webmap.services.incidents\nwebmap.services.incidents._detail_select()\n",
     [(2, "webmap.services.incidents._detail_select")]),
    ("from webmap.api import __all__, json_body\nfrom webmap.i18n import _\nself._cache = {}\n", []),
    ("def _own():\n    pass\n_own()\n", []),
])
def test_the_private_names_contract_sees_both_spellings(tmp_path, source, expected):
    modules = {"webmap", "webmap.api", "webmap.i18n", "webmap.services", "webmap.services.incidents",
               "webmap.planner"}
    path = tmp_path / "planner.py"
    path.write_text(source, encoding="utf-8")
    assert private_uses("webmap.planner", path, modules) == expected
