# Styrkort: the two commands of the README, and a few helpers.
#   make demo   set up, load the demo and serve it on http://127.0.0.1:8000
#   make test   set up and run the whole test suite
#   make test-fast  the edit-test loop: all but the worker, browser, fuzz and slow tiers
.DEFAULT_GOAL := help
SHELL := /bin/bash

VENV ?= .venv
# Django 6 needs Python 3.12+: the first python3.1x >= 3.12 on PATH, else one from pyenv.
PYTHON ?= $(shell for c in python3.14 python3.13 python3.12 python3; do \
    $$c -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { command -v $$c; exit; }; done; \
    ls -d "$$(pyenv root 2>/dev/null || echo $$HOME/.pyenv)"/versions/3.1[2-9]*/bin/python 2>/dev/null | sort -V | tail -n 1)
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: help demo test test-fast lint setup messages bench

help:
	@echo "make demo   - set up, load the demo data and serve http://127.0.0.1:8000"
	@echo "make test   - set up and run the whole test suite"
	@echo "make test-fast - the suite without the worker, browser, fuzz and slow tiers"
	@echo "make lint   - ruff check, ruff format --check, makemigrations --check"
	@echo "make setup  - only create .venv and install (README: 'Running without Docker')"
	@echo "make bench  - every bench at BENCH_SIZES (default 1M,5M), one table (README: 'Scale')"

$(PY):
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is needed (see README: 'Python')."; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	mkdir -p var
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py load_demo
	DEBUG=1 $(PY) manage.py runserver 127.0.0.1:8000

# The suite runs against the real services: PostgreSQL, Redis (a real Celery worker) and
# Debian's Chromium. Defaults fit a developer machine; CI sets the same.
test: export DATABASE_URL ?= postgres://127.0.0.1:5432/styrkort
test: export CELERY_BROKER_URL ?= redis://127.0.0.1:6379/0
test: export SECRET_KEY ?= test-only-secret-key-not-for-production-0123456789
# Two test processes (pytest-xdist), each with its own database and Redis database
# (config/settings_test.py); a file's tests stay in one process.
TEST_PROCESSES ?= 2
test: $(STAMP)
	$(PY) -m pytest -n $(TEST_PROCESSES) --dist loadfile $(PYTEST_ARGS)

# The same services as `make test`; leaves out the tiers that start something big.
FAST := not worker and not browser and not fuzz and not slow and not operations and not matrix
test-fast: export DATABASE_URL ?= postgres://127.0.0.1:5432/styrkort
test-fast: export CELERY_BROKER_URL ?= redis://127.0.0.1:6379/0
test-fast: export SECRET_KEY ?= test-only-secret-key-not-for-production-0123456789
test-fast: $(STAMP)
	$(PY) -m pytest -n $(TEST_PROCESSES) --dist loadfile -m "$(FAST)" $(PYTEST_ARGS)

# Benches on synthetic data sets in their own databases (built on first use: README "Scale"
# says how long), three runs, one table of figures against their baselines.
bench: export DATABASE_URL ?= postgres://127.0.0.1:5432/styrkort
bench: export CELERY_BROKER_URL ?= redis://127.0.0.1:6379/0
bench: export SECRET_KEY ?= bench-only-not-a-secret-0123456789-0123456789
bench: $(STAMP)
	$(PY) bench/run.py

# makemigrations only imports the settings: an in-memory SQLite database is enough.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=1 DATABASE_URL=sqlite://:memory: $(PY) manage.py makemigrations --check --dry-run

messages: $(STAMP)
	$(PY) manage.py makemessages -l en --ignore=.venv --ignore=tests --no-obsolete
	$(PY) manage.py compilemessages --ignore=.venv
