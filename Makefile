# Two commands for a newcomer: `make run` serves the demo, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export FLASK_APP := wsgi.py

.PHONY: run test install lint test-sqlite test-postgres test-browser clean bench bench-quick soak

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## Serve the seeded French demo on http://127.0.0.1:5000 (SQLite in instance/).
run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask demo seed
	$(BIN)/flask run --host 127.0.0.1 --port 5000

## Lint, type-check, the whole suite on SQLite, again on PostgreSQL, then the browser tests.
test: lint test-sqlite test-postgres test-browser

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test-sqlite: install
	SHARING_FORBID_SKIPS=1 $(BIN)/pytest -m "not browser"

test-postgres: install
	SHARING_FORBID_SKIPS=1 TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -m "not browser"

test-browser: install
	SHARING_FORBID_SKIPS=1 $(BIN)/pytest -m browser

## Benchmarks at network scale on SQLite and PostgreSQL (PG_TEST_URL's server): prints the
## table, writes bench/results/latest.json, fails when a target is missed. Not part of `test`.
bench: install
	$(BIN)/python -m bench.run --pg-url $(PG_TEST_URL)

## The same figures on a smaller network with shorter measures: under three minutes.
bench-quick: install
	$(BIN)/python -m bench.run --quick --pg-url $(PG_TEST_URL)

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache

## Soak: mixed traffic (browse, search, book, decide, edit at a peer, sync) against two real
## instances for SOAK_MINUTES (10) on each database; fails on any error. Not part of `test`.
SOAK_MINUTES ?= 10
soak: install
	$(BIN)/python -m bench.soak --minutes $(SOAK_MINUTES) --database sqlite
	$(BIN)/python -m bench.soak --minutes $(SOAK_MINUTES) --database postgresql --pg-url $(PG_TEST_URL)
