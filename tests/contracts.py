"""Import-linter contracts of our own (registered in pyproject.toml under ``contract_types``).

``lint-imports`` puts the current directory on ``sys.path``; run from the repository root (as
``make lint`` and tests/unit/test_architecture.py do), ``tests.contracts`` is importable without
being installed.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

from grimp import ImportGraph
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


def is_private(name: str) -> bool:
    """``_name`` is private; ``__name__`` (a dunder) and ``_`` (gettext) are not."""
    return name.startswith("_") and not name.endswith("__") and name != "_"


class PrivateNamesContract(Contract):
    """No module of ``source_modules`` uses a ``_private`` name of another module.

    Both spellings count: ``from webmap.api import _json_body`` and ``incidents._detail_select``
    where ``incidents`` names an imported module. Only the private names of modules in
    ``protected_modules`` (default: the source modules) are checked.

    Options:
        - source_modules: the packages whose modules are checked.
        - protected_modules: the packages whose private names are protected (optional).
        - allow: known uses, each ``importer -> module.name`` (optional). One that is no longer
          found is reported as a warning, so that the list only shrinks.
    """

    source_modules = fields.ListField(subfield=fields.ModuleField())
    protected_modules = fields.ListField(subfield=fields.ModuleField(), required=False)
    allow = fields.SetField(subfield=fields.StringField(), required=False)

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        sources = [m.name for m in self.source_modules]
        protected = [m.name for m in (self.protected_modules or self.source_modules)]
        allowed = {" ".join(line.split()) for line in (self.allow or ())}
        found: dict[str, list[int]] = {}
        for module in sorted(graph.modules):
            if not _inside(module, sources):
                continue
            path = _source_path(module)
            if path is None:
                continue
            for line, target in private_uses(module, path, graph.modules):
                if _inside(target.rpartition(".")[0], protected):
                    found.setdefault(f"{module} -> {target}", []).append(line)
        broken = {link: lines for link, lines in found.items() if link not in allowed}
        unmatched = sorted(allowed - found.keys())
        return ContractCheck(
            kept=not broken,
            warnings=[f"allowed private use no longer found: {link}" for link in unmatched],
            metadata={"broken": broken},
        )

    def render_broken_contract(self, check: ContractCheck) -> None:
        output.print_error("Modules use private names of other modules:", bold=False)
        output.new_line()
        for link, lines in sorted(check.metadata["broken"].items()):
            output.print_error(f"- {link} (l.{', '.join(map(str, sorted(set(lines))))})", bold=False)
        output.new_line()


def private_uses(module: str, path: Path, modules: set[str]) -> list[tuple[int, str]]:
    """(line, "other.module._name") for each private name of another module that MODULE uses.

    MODULES is the set of known module names, to tell ``from pkg import submodule`` from
    ``from pkg import name``.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    bound: dict[str, str] = {}  # local name -> the module it stands for
    uses: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    bound[alias.asname] = alias.name
                else:
                    top = alias.name.partition(".")[0]
                    bound[top] = top
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, is_package, node.module, node.level)
            for alias in node.names:
                full = f"{source}.{alias.name}"
                if full in modules:
                    bound[alias.asname or alias.name] = full
                elif is_private(alias.name) and source != module:
                    uses.append((node.lineno, full))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and is_private(node.attr):
            owner = _dotted(node.value, bound, modules)
            if owner is not None and owner != module:
                uses.append((node.lineno, f"{owner}.{node.attr}"))
    return uses


def _dotted(node: ast.expr, bound: dict[str, str], modules: set[str]) -> str | None:
    """The module an expression such as ``incidents`` or ``webmap.services`` names, else None."""
    if isinstance(node, ast.Name):
        return bound.get(node.id)
    if isinstance(node, ast.Attribute):
        owner = _dotted(node.value, bound, modules)
        if owner is not None and f"{owner}.{node.attr}" in modules:
            return f"{owner}.{node.attr}"
    return None


def _absolute(module: str, is_package: bool, name: str | None, level: int) -> str:
    if level == 0:
        return name or ""
    parts = module.split(".")
    base = parts if is_package else parts[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, name] if name else base)


def _inside(module: str, packages: list[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _source_path(module: str) -> Path | None:
    """The .py file of MODULE, found from its top-level package without importing anything."""
    top, *rest = module.split(".")
    spec = importlib.util.find_spec(top)
    if spec is None or not spec.submodule_search_locations:
        return None
    base = Path(next(iter(spec.submodule_search_locations))).joinpath(*rest)
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None
