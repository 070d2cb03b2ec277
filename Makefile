# Two commands for a newcomer: `make run` and `make test` (see README.md). Both set up .venv on
# first use and reinstall only when a requirements file is newer than its stamp.
#
# With DATABASE_URL / REDIS_URL unset, the private servers of dev/embedded.py (under var/) are
# started and their URLs exported to every process; set, those servers are used and none starts.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Processes started here find gunicorn, celery, honcho and python in the virtualenv.
WITH_VENV := PATH="$(CURDIR)/$(VENV)/bin:$$PATH"
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
# `python -m dev.embedded env` prints export lines; the assignment makes `set -e` see a failure.
EMBEDDED_ENV := urls="$$($(PY) -m dev.embedded env)"; eval "$$urls"

.PHONY: run test migrate down clean bench bench-smoke

run: $(RUN_STAMP)
	@set -euo pipefail; \
	$(EMBEDDED_ENV); \
	$(WITH_VENV) python manage.py migrate; \
	echo "web on :$${PORT:-8000}, flower on :5555; Ctrl-C stops them (make down stops the embedded servers)"; \
	exec env $(WITH_VENV) honcho start --port "$${PORT:-8000}" web worker flower
# Not `release`: honcho stops every process when one exits, and migrations exit. They ran above.

test: $(TEST_STAMP)
	$(WITH_VENV) $(VENV)/bin/pytest $(PYTEST_ARGS)

migrate: $(RUN_STAMP)
	@set -euo pipefail; \
	$(EMBEDDED_ENV); \
	$(WITH_VENV) python manage.py migrate

# The four benchmarks at full size (docs/PERFORMANCE.md; ~9 min, needs PostgreSQL and Redis on
# 127.0.0.1 and wrk), and their --smoke runs as tests.
bench: $(TEST_STAMP)
	$(PY) -m bench.api && $(PY) -m bench.workers && $(PY) -m bench.sustained && $(PY) -m bench.scale

bench-smoke: $(TEST_STAMP)
	$(VENV)/bin/pytest -q tests/bench

down:
	@if [ -d var ] && [ -x $(PY) ]; then $(PY) -m dev.embedded down --all; fi

clean: down
	rm -rf var

$(PY):
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): requirements.txt requirements-embedded.txt | $(PY)
	$(PY) -m pip install -r requirements.txt -r requirements-embedded.txt
	touch $@

$(TEST_STAMP): requirements-dev.txt requirements.txt requirements-embedded.txt | $(PY)
	$(PY) -m pip install -r requirements-dev.txt
	touch $@
