# Two commands do all the set-up on a fresh machine:
#   make run   — create .venv, install, start the service on SQLite with the demo data
#   make test  — create .venv, install, run the whole suite (SQLite and PostgreSQL)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
SYSTEM_STAMP := $(VENV)/.system-packages
# Debian packages: fonts for the PDFs (Liberation Sans has Arial's metrics, the NHS.UK
# fallback for Frutiger), HarfBuzz's subsetter (WeasyPrint embeds fonts with it, twice as
# fast as without), poppler-utils (pdftoppm, pdftotext: the tests read PDFs back and turn
# their pages into pictures), Chromium, which the browser tests drive through Playwright
# (never `playwright install`: its own browser download does not work here), and wrk, the
# load generator of benchmarks/bench_web.py.
SYSTEM_PACKAGES := fonts-liberation2 libharfbuzz-subset0 poppler-utils chromium wrk

.PHONY: run test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

# The NHS.UK design system's compiled CSS and JS and Swagger UI, from the lock file. No
# install scripts: the packages are files to serve (swagger-ui-dist pulls in a telemetry
# package whose script would report the install).
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error --ignore-scripts
	touch $(NODE_STAMP)

$(SYSTEM_STAMP): $(STAMP)
	@if command -v pdftoppm >/dev/null && command -v chromium >/dev/null && command -v wrk >/dev/null && fc-list | grep -q LiberationSans && ldconfig -p | grep -q libharfbuzz-subset; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(SYSTEM_PACKAGES) >/dev/null; \
	elif command -v sudo >/dev/null; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(SYSTEM_PACKAGES) >/dev/null; \
	else echo "Install these Debian packages for PDFs and their tests: $(SYSTEM_PACKAGES)"; exit 1; fi
	touch $(SYSTEM_STAMP)

run: $(STAMP) $(NODE_STAMP) $(SYSTEM_STAMP)
	$(BIN)/phb-ledger serve --demo

# One pytest worker per core (pytest-xdist); a module's tests stay on one worker, so its
# fixtures (a demo database, a live server and Chromium) are made once.
TEST_WORKERS ?= auto

# Before the suite: ruff checks imports are sorted and used, lint-imports the layering (the
# contracts in pyproject.toml).
test: $(STAMP) $(NODE_STAMP) $(SYSTEM_STAMP)
	$(BIN)/ruff check --quiet
	$(BIN)/lint-imports --no-logo --no-cache
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadscope

# Quick benchmarks on the small data set (see benchmarks/README.md for the full sets).
bench: $(STAMP)
	$(BIN)/python -m benchmarks.bench_posting --db sqlite --set small --repeat 1
	$(BIN)/python -m benchmarks.bench_balances --db sqlite --set small --repeat 1

clean:
	rm -rf $(VENV) var node_modules .pytest_cache .hypothesis
