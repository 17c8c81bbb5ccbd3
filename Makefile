# Two commands: `make run` serves the CRM, `make test` runs the suite.
# Only Python 3.11+ is needed; everything else goes into .venv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install translations

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

# The catalogs' .mo files are built from the .po sources, never committed; create_app also
# compiles any that is missing or stale (services/catalogs.py), so servers started without make speak Chinese.
translations: install
	$(BIN)/pybabel compile --statistics -d translations 2>&1 | tail -n 2
	$(BIN)/pybabel compile -D admin -d translations/flask_admin 2>&1 | tail -n 2

# The background worker (imports, scans) runs beside the web server; Ctrl-C stops both.
run: install translations
	$(FLASK) init-db
	$(FLASK) users bootstrap
	$(FLASK) worker & worker=$$!; trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

test: install translations
	$(BIN)/python -m pytest -q
