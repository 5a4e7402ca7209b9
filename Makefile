# The two commands of the README: `make run` and `make test`. Each installs what it needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | md5sum | cut -c1-8)
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=

.PHONY: install install-test run serve test test-unit test-integration test-web lint bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-*; touch $@

install: $(STAMP)
	@scripts/install-system-deps.sh run

install-test: $(STAMP)
	@scripts/install-system-deps.sh test

# Database up, migrated, demo town loaded when empty, its offline base map built once
# (var/basemap.mbtiles, which `wangge serve` takes unless WANGGE_BASEMAP says otherwise);
# then serve on http://$(HOST):$(PORT)
run: install
	$(BIN)/wangge db up
	$(BIN)/wangge db migrate
	$(BIN)/wangge demo load --if-empty
	@mkdir -p var; test -f var/basemap.mbtiles || $(BIN)/wangge basemap build var/basemap.mbtiles
	@$(BIN)/python scripts/show_accounts.py
	$(BIN)/wangge serve --host $(HOST) --port $(PORT)

# The whole suite: architecture and lint checks, then unit, integration and web tests in one run.
test: install-test lint
	$(BIN)/pytest tests $(PYTEST_ARGS)

test-unit: install
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

test-integration: install-test
	$(BIN)/pytest tests/integration $(PYTEST_ARGS)

test-web: install-test
	$(BIN)/pytest tests/web $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check .

bench: install
	$(BIN)/python bench/demo_load.py

clean:
	-$(BIN)/wangge db down
	rm -rf $(VENV) .pytest_cache .ruff_cache
