# Two entry points for a fresh machine with Python 3.11+: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast lint browser-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## Install, migrate a SQLite database, seed the demo panel, capture mail locally, serve on 127.0.0.1:8000.
demo: $(STAMP)
	$(BIN)/delphi demo

## Install, then run the whole test suite (SQLite; PostgreSQL too when DELPHI_TEST_POSTGRES_URL is set).
test: $(STAMP) browser-deps
	$(BIN)/pytest

## The suite without slow load/crash/browser tests, for quick local runs: one pytest-xdist worker per CPU, each
## with its own SQLite files and PostgreSQL database (see tests/conftest.py).  `make test` stays serial.
test-fast: $(STAMP)
	$(BIN)/pytest -n auto -m "not slow and not browser"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## Chromium (Debian package) and axe-core (npm) for the browser tests.
browser-deps:
	@sh scripts/browser-deps.sh

clean:
	rm -rf $(VENV) node_modules var .pytest_cache
