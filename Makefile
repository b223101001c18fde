# Renda: `make run` serves the demo, `make test` runs every check on PostgreSQL + Redis and embedded.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR := web/static/vendor

.PHONY: run test test-postgres test-embedded lint install assets clean messages bench lock

# Every package at the version and with the hashes of the lock (requirements/dev.txt: the runtime's and the
# tools'), then Renda itself without looking at dependencies again.
$(STAMP): pyproject.toml requirements/dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

install: $(STAMP)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

$(VENDOR)/htmx.min.js $(VENDOR)/echarts.min.js: node_modules/.package-lock.json
	@mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js
	cp node_modules/echarts/dist/echarts.min.js $(VENDOR)/echarts.min.js

assets: $(VENDOR)/htmx.min.js $(VENDOR)/echarts.min.js

var/lint/renda:
	@mkdir -p var/lint/renda
	@for p in platform tenants web; do ln -sfn ../../../$$p var/lint/renda/$$p; done

# `make run PORT=8080` serves on another port. A development machine: the default secret key is accepted.
PORT ?= 8000
run: install assets
	$(BIN)/renda run-setup
	RENDA_ENV=$${RENDA_ENV:-development} $(BIN)/renda serve --host 127.0.0.1 --port $(PORT)

lint: install var/lint/renda
	$(BIN)/ruff check .
	PYTHONPATH=var/lint $(BIN)/lint-imports
	MYPYPATH=var/lint $(BIN)/mypy -p renda

test: install assets lint
	$(BIN)/python scripts/with_services.py -- $(MAKE) --no-print-directory test-postgres
	$(MAKE) --no-print-directory test-embedded

# Both expect the environment that scripts/with_services.py sets (or RENDA_TEST_* set by hand).
test-postgres:
	RENDA_TEST_BACKEND=postgres $(BIN)/python -m pytest $(PYTEST_ARGS)

test-embedded:
	RENDA_TEST_BACKEND=sqlite RENDA_TEST_DATABASE_URL= RENDA_TEST_REDIS_URL= $(BIN)/python -m pytest $(PYTEST_ARGS)

# Not part of `make test`: the suggestion pages and the deadline sweep on 100,000 suggestions, on PostgreSQL
# (database renda_bench, loaded on the first run; README "Performance"). BENCH_ARGS= starts from scratch.
BENCH_ARGS ?= --reuse
bench: install
	$(BIN)/python scripts/with_services.py -- $(BIN)/python benchmarks/bench_suggestions.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var node_modules $(VENDOR)

# Refresh the catalogs after changing user-facing strings; then translate the new zh_CN entries.
messages: install
	@mkdir -p var
	$(BIN)/pybabel extract --no-location --sort-output -k N_ -F babel.cfg -o var/messages.pot . >/dev/null
	for l in zh_CN en; do \
	  if [ -f web/locale/$$l/LC_MESSAGES/messages.po ]; then \
	    $(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -l $$l -i var/messages.pot -d web/locale; \
	  else $(BIN)/pybabel init -l $$l -i var/messages.pot -d web/locale; fi; done

# After changing a pin in pyproject.toml: write the locks again (the whole tree, with hashes). Versions of
# what pyproject does not pin stay as locked unless LOCK_ARGS=--upgrade (or --upgrade-package NAME).
PIP_COMPILE = $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
	--no-emit-find-links $(LOCK_ARGS)
lock: install
	$(PIP_COMPILE) --output-file requirements/runtime.txt pyproject.toml
	$(PIP_COMPILE) --extra dev --output-file requirements/dev.txt pyproject.toml
