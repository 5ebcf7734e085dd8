# Masthead: `make run` serves the API with demo content, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint format openapi docs bench soak burst faults fuzz browser lint-openapi clients client-test clean

PIP    := $(BIN)/python -m pip --disable-pip-version-check
HOST   ?= 127.0.0.1
PORT   ?= 8000

# The first `make run` or `make test` builds .venv, saying what it does at each step.
$(STAMP): requirements-dev.lock pyproject.toml
	@test -x $(BIN)/python || { echo "==> creating $(VENV) with $(PYTHON)"; \
	  $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); echo "make: $(PYTHON) -m venv failed" \
	  "(on Debian and Ubuntu: apt install python3-venv)" >&2; exit 1; }; }
	@echo "==> upgrading pip in $(VENV)"
	@$(PIP) install --quiet --upgrade pip
	@echo "==> installing the $$(grep -c '==' requirements-dev.lock) pinned dependencies" \
	  "of requirements-dev.lock (a minute or two the first time)"
	@$(PIP) install --progress-bar on -r requirements-dev.lock
	@echo "==> installing Masthead itself (editable: the \`masthead\` command)"
	@$(PIP) install --quiet --no-deps -e .
	@touch $(STAMP)
	@echo "==> $(VENV) is ready"

# `make run PORT=9000` or `PORT=9000 make run`; HOST likewise (0.0.0.0 to listen on every
# interface). `masthead serve` says as it migrates and loads the demo content, then where to go.
run: $(STAMP)
	@echo "==> masthead serve --host $(HOST) --port $(PORT)"
	@$(BIN)/masthead serve --host "$(HOST)" --port "$(PORT)"

test: $(STAMP)
	$(BIN)/python -m ruff check api tests alembic $(wildcard bench)
	$(BIN)/python -m ruff format --check api tests alembic $(wildcard bench)
	$(BIN)/python -m mypy api
	$(BIN)/python -m pytest -q -n 3 $(PYTEST_ARGS)

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

# Redocly's `recommended` and Spectral's `spectral:oas` rules on openapi/openapi.json: 0 errors,
# 0 warnings (the pinned linters of tools/openapi-lint, `npm ci` into .cache/openapi-lint).
lint-openapi:
	bash tools/openapi-lint/run.sh

# The TypeScript client's types (clients/typescript/src/schema.ts), from the document
# regenerated from the app.
clients: $(STAMP)
	$(BIN)/masthead openapi
	cd clients/typescript && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error \
	  && node_modules/.bin/openapi-typescript ../../openapi/openapi.json --output src/schema.ts

# The client: types current, `tsc --strict`, its node tests against a live `masthead serve`.
client-test: $(STAMP)
	$(BIN)/python -m pytest -q tests/clients $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) data .pytest_cache
