# Masthead: `make run` serves the API with demo content, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint format openapi docs bench soak burst faults fuzz browser clean

$(STAMP): requirements-dev.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/masthead serve --host 127.0.0.1 --port 8000

test: $(STAMP)
	$(BIN)/python -m ruff check api tests alembic $(wildcard bench)
	$(BIN)/python -m ruff format --check api tests alembic $(wildcard bench)
	$(BIN)/python -m mypy api
	$(BIN)/python -m pytest -q -n 2 $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/python -m ruff check api tests alembic $(wildcard bench)
	$(BIN)/python -m mypy api

format: $(STAMP)
	$(BIN)/python -m ruff format api tests alembic $(wildcard bench)
	$(BIN)/python -m ruff check --fix api tests alembic $(wildcard bench)

openapi: $(STAMP)
	$(BIN)/masthead openapi

docs: $(STAMP)
	$(BIN)/python tests/test_readme.py

bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Mixed load with every acknowledged write checked afterwards (bench/soak.py --help).
soak: $(STAMP)
	$(BIN)/python bench/soak.py $(SOAK_ARGS)

# Simultaneous requests on a cold server; every answer and /healthz timed (bench/burst.py --help).
burst: $(STAMP)
	$(BIN)/python bench/burst.py $(BURST_ARGS)

# A throw-away PostgreSQL cluster stopped and started under load (root, pg_createcluster).
faults: $(STAMP)
	MASTHEAD_FAULTS=1 $(BIN)/python -m pytest -q -s tests/faults $(PYTEST_ARGS)

# schemathesis against a live server on SQLite and PostgreSQL (MASTHEAD_FUZZ_SECONDS each).
fuzz: $(STAMP)
	MASTHEAD_FUZZ=1 $(BIN)/python -m pytest -q -s tests/fuzz $(PYTEST_ARGS)

# The example page (examples/seed-page) in Debian's headless Chromium against a live
# `masthead serve --examples`; installs chromium and chromium-driver with apt-get when missing.
browser: $(STAMP)
	MASTHEAD_BROWSER=1 $(BIN)/python -m pytest -q tests/examples $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) data .pytest_cache
