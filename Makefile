# The two commands of the README's contract: `make dev` and `make test` (plus `make demo`).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: help install assets dev test lint format typecheck test-faults demo bench browser faketime postgres slapd migrate lock purge clean

install: $(STAMP)  ## .venv from requirements/dev.lock (what every target below starts with)

help:  ## this list
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## /\1\t/' | \
	  awk -F'\t' '{ printf "  make %-12s %s\n", $$1, $$2 }'

# Re-installs whenever the lock changes: every package pinned with its hashes (requirements/dev.lock,
# from pyproject.toml by `make lock`), then the project itself, editable, with nothing more.
$(STAMP): pyproject.toml requirements/dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

# The GOV.UK Design System's CSS, JavaScript, fonts and images, built into web/static/govuk/ (never
# committed) from package-lock.json; order-only, so a fresh machine builds them and pip is not rerun.
GOVUK := web/static/govuk/govuk-frontend.min.js
assets: $(GOVUK)  ## web/static/govuk/ from package-lock.json (npm ci --ignore-scripts)
$(GOVUK): package.json package-lock.json scripts/vendor_govuk.sh
	sh scripts/vendor_govuk.sh
$(STAMP): | $(GOVUK)

dev: $(STAMP)  ## Temporal dev server + Web UI, mail catcher, worker and API; Ctrl-C stops all
	$(BIN)/python scripts/dev.py

# Each test starts its own time-skipping server, worker, SMTP sink and database file, so tests run
# side by side, one process per core (pytest-xdist); `make test PYTEST_WORKERS=0` runs them in one.
PYTEST_WORKERS ?= auto
# The line coverage of the service's own code ([tool.coverage]) is printed last.
test: $(STAMP) lint browser postgres slapd  ## the whole suite on the time-skipping test server (and PostgreSQL, OpenLDAP), with its coverage
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --cov --cov-report=
	@echo "line coverage of the service's code: $$($(BIN)/coverage report --format=total)% ($(BIN)/coverage report lists each module)"

# pyproject.toml's [tool.ruff]: mistakes (unused or undefined names, likely bugs) and one format.
lint: $(STAMP)  ## ruff check and ruff format --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)  ## ruff format, and ruff check's safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# pyproject.toml's [tool.mypy]: strict where the process lives, the pure models and the workflows.
typecheck: $(STAMP)  ## mypy --strict on models/ and workflows/
	$(BIN)/mypy

# The page tests (tests/web/test_web_browser.py) drive Debian's Chromium through Playwright: a test tool
# downloading its own browser fails on machines with no route out, so it is never `playwright install`.
CHROMIUM := /usr/bin/chromium
# Not FAKETIME: libfaketime reads that variable, and make would pass this value on to the tests.
FAKETIME_BIN := /usr/bin/faketime
# A Debian package installed when missing: apt-get, with sudo unless root.
apt_install = apt="$$(test "$$(id -u)" -eq 0 || echo sudo) env DEBIAN_FRONTEND=noninteractive apt-get"; \
	  $$apt install -y $(1) || { $$apt update && $$apt install -y $(1); }

browser:  ## Debian's Chromium for the browser test, installed when missing
	@test -x $(CHROMIUM) || { $(call apt_install,chromium); }
	@test -x $(CHROMIUM) || { echo "make browser: $(CHROMIUM) is still missing" >&2; exit 1; }

# Tests marked `both_databases` also run on a throwaway PostgreSQL cluster (tests/helpers/postgres.py):
# Debian's server binaries, which keep initdb off the PATH.
postgres:  ## Debian's PostgreSQL server binaries, installed when missing (no cluster is created)
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { $(call apt_install,postgresql); }
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { echo "make postgres: initdb is still missing" >&2; exit 1; }

# The directory tests (tests/models/test_directory_sources.py) start their own throwaway OpenLDAP
# (tests/helpers/ldap_server.py) from Debian's slapd. Preseeded to configure no server of its own, so the
# package leaves no system slapd with a database behind.
SLAPD_BIN := /usr/sbin/slapd
slapd:  ## Debian's OpenLDAP server for the directory tests, installed when missing (none configured or started)
	@test -x $(SLAPD_BIN) || { echo "slapd slapd/no_configuration boolean true" | \
	  $$(test "$$(id -u)" -eq 0 || echo sudo) debconf-set-selections; $(call apt_install,slapd); }
	@test -x $(SLAPD_BIN) || { echo "make slapd: $(SLAPD_BIN) is still missing" >&2; exit 1; }

# Both locks from pyproject.toml, pinned with their hashes: what the image installs (the runtime's
# dependencies and PostgreSQL's driver, no dev tools), then what `make dev` and `make test` install
# (every extra), held to the same versions. Run after changing a dependency; the tests check they agree.
LOCK_ARGS := --quiet --generate-hashes --strip-extras --no-emit-index-url --no-emit-find-links --allow-unsafe
lock: $(STAMP)  ## requirements/runtime.lock and requirements/dev.lock from pyproject.toml (pip-compile)
	$(BIN)/pip-compile $(LOCK_ARGS) --extra postgres --output-file requirements/runtime.lock pyproject.toml
	$(BIN)/pip-compile $(LOCK_ARGS) --all-extras --constraint requirements/runtime.lock \
	  --output-file requirements/dev.lock pyproject.toml

# The schema step of a deployment: Alembic on DATABASE_URL (production runs it once, before the
# API and the worker start; `make dev` and the tests migrate as each process starts).
migrate: $(STAMP)  ## alembic upgrade head on DATABASE_URL
	$(BIN)/python -m alembic upgrade head

# What the weekly `retention-purge` Schedule does, now: PURGE_ARGS=--dry-run only counts it.
purge: $(STAMP)  ## blank email bodies and delete action-log rows past their retention (RETENTION_*)
	$(BIN)/python -m scripts.purge $(PURGE_ARGS)

# The suite holds on any date: CI runs it once more with the clock moved, `faketime -f +400d make test`.
faketime:  ## Debian's faketime (libfaketime), installed when missing
	@test -x $(FAKETIME_BIN) || { $(call apt_install,faketime); }
	@test -x $(FAKETIME_BIN) || { echo "make faketime: $(FAKETIME_BIN) is still missing" >&2; exit 1; }

test-faults: $(STAMP)  ## only the fault suite: killed workers, SMTP down, Temporal restarted
	$(BIN)/python -m pytest -m faults

demo: $(STAMP)  ## with `make dev` running: one audit from allocation to the dispute window
	$(BIN)/python scripts/demo.py

# Then figures 2 and 4 again with the app database on PostgreSQL, as production keeps it, with
# 10,000 open audits measured (about 15 minutes on 2 cores).
bench: $(STAMP) postgres  ## the project against bare Temporal on a fresh dev server (BENCH_ARGS=--quick: < 2 min)
	$(BIN)/python -m bench $(BENCH_ARGS)
	$(BIN)/python -m bench --postgres --figures 24 $(if $(findstring --quick,$(BENCH_ARGS)),,--rss 1000,3000,10000) $(BENCH_ARGS)

clean:  ## remove .venv, .data and the test cache
	rm -rf $(VENV) .data .pytest_cache
