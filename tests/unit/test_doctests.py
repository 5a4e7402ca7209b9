"""The examples in the docstrings of the pure modules run (and stay true)."""

import doctest
import importlib
import pkgutil

import pytest

import spatial
import workflow

MODULES = sorted(
    {f"{pkg.__name__}.{m.name}" for pkg in (spatial, workflow) for m in pkgutil.iter_modules(pkg.__path__)}
    | {"webmap.services.privacy", "webmap.services.attachments", "db.cluster", "db.analyst_map"}
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
