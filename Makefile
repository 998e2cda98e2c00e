# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1:8000

.PHONY: install install-test run test dagster-check bench clean

# Idempotent: re-installs only when pyproject.toml changed.
install: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

install-test: $(VENV)/.installed-test tests/oidc_provider/node_modules/.installed
$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test]'
	scripts/ensure-chromium.sh
	touch $@

# The OpenID provider the sign-in tests start (node's oidc-provider, exactly as locked).
tests/oidc_provider/node_modules/.installed: tests/oidc_provider/package-lock.json
	cd tests/oidc_provider && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The web server, and beside it the worker that executes queued runs (stopped with the server).
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo
	scripts/run-dev.sh $(PY) $(HOST)

# Two passes under one throwaway PostgreSQL server: the studio on SQLite, then on
# PostgreSQL; in both, the run tests also load into PostgreSQL (POSTGRES_URL). The domain
# tests and the sling oracle (tests/domain, tests/oracle) use no database, the outage test
# starts a server of its own and the deploy script makes databases of its own: all four run
# in the first pass only.
# Then the Dagster export, loaded by real dagster from a virtual environment of its own.
# CI=1: a test missing PostgreSQL, Chromium or the dagster environment fails, never skips.
test: install-test
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	CI=1 scripts/with-postgres.sh sh -c 'env -u DATABASE_URL $(PY) -m pytest -m "not dagster" && DATABASE_URL="$$POSTGRES_URL" $(PY) -m pytest -m "not dagster and not outage and not deploy" --ignore=tests/domain --ignore=tests/oracle'
	CI=1 PYTHON=$(PYTHON) scripts/dagster-check.sh

# Dagster in .venv-dagster (pinned in scripts/dagster-requirements.txt), never in .venv.
dagster-check: install-test
	PYTHON=$(PYTHON) scripts/dagster-check.sh

bench: install-test
	$(PY) bench/foundation.py
	$(PY) bench/editor.py
	$(PY) bench/text.py
	$(PY) bench/preview.py
	$(PY) bench/runs.py
	$(PY) bench/lineage.py
	$(PY) bench/load.py
	$(PY) bench/automation.py
	$(PY) bench/api.py
	$(PY) bench/audit.py

clean:
	rm -rf $(VENV) .venv-dagster data
