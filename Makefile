# One place for the project's tasks. `make run` and `make test` are the README's two commands.
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test lint bench

$(STAMP): pyproject.toml
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Install; make sure the CMS files are in CMS_DATA_DIR (../shared/cms-data when it exists, else
# var/cms-data): `fetch` downloads and verifies whatever is missing from CMS (and says so), and
# downloads nothing when every file is there; then ingest on first start and serve on :8000.
run: $(STAMP)
	$(BIN)/cms-pricing fetch
	$(BIN)/cms-pricing serve

lint: $(STAMP)
	$(BIN)/ruff check src tests bench loadtest
	$(BIN)/ruff format --check src tests bench loadtest
	$(BIN)/mypy

# The whole suite: lint, types, and every test on SQLite and PostgreSQL; then the API, plan and
# load-isolation tests again on the compiled snapshot (the engine tests read it already), so
# every correctness test runs on both forms of the data (docs/architecture.md, "Read side").
test: lint
	$(BIN)/pytest
	CMS_PRICING_SNAPSHOT_MODE=compiled $(BIN)/pytest -q tests/api tests/plans tests/isolation \
		tests/web/test_lookup_api.py

# Throughput and latency of GET /codes/price against the raw-ASGI ceiling (needs wrk).
bench: $(STAMP)
	$(BIN)/python bench/price_load.py
