# `make run` serves the CRM, `make test` runs the whole suite; `make dev` and `make test-fast` while editing.
# Only Python 3.11+ is needed; everything else goes into .venv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000
WEB_WORKERS ?= 3
# pytest-xdist: one test process per core, each with a database of its own (tests/conftest.py)
TEST_WORKERS ?= auto
CHROMIUM ?= $(or $(CRM_CHROMIUM),/usr/bin/chromium)

.PHONY: run dev test test-fast lint browser install install-dev translations database

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# the runtime (requirements.txt) for `make run`; the tests' tools too (requirements-dev.txt) for `make test`
$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

# The catalogs' .mo files are built from the .po sources, never committed; create_app also
# compiles any that is missing or stale (services/catalogs.py), so servers started without make speak Chinese.
translations: install
	$(BIN)/pybabel compile --statistics -d translations 2>&1 | tail -n 2
	$(BIN)/pybabel compile -D admin -d translations/flask_admin 2>&1 | tail -n 2

database: install translations
	$(FLASK) init-db
	$(FLASK) users bootstrap

# gunicorn with $(WEB_WORKERS) workers and the background worker (deploy/serve); one Ctrl-C stops both.
# The worker also runs the nightly `rules run` at CRM_RULES_AT (02:00 in CRM_TIMEZONE by default).
run: database
	CRM_BIND=$(HOST):$(PORT) CRM_WEB_WORKERS=$(WEB_WORKERS) VENV=$(VENV) deploy/serve

# Flask's development server, reloading on every edit, with the worker beside it
dev: database
	$(FLASK) worker & worker=$$!; trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(FLASK) run --debug --host $(HOST) --port $(PORT)

# Debian's Chromium for the browser tests: installed when we are root (as .ci/run does); otherwise the
# suite skips those tests and says how to get them (CI=true makes a missing browser an error).
browser:
	@if [ ! -x "$(CHROMIUM)" ] && [ "$$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian's chromium and fonts-noto-cjk for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

lint: install-dev
	$(BIN)/ruff check .

test: install-dev translations browser lint
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist worksteal

# the edit-test loop: everything but the real browser, gunicorn, worker-process and fault tests
test-fast: install-dev translations lint
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist worksteal -m "not slow"
