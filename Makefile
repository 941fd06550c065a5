# Two commands do all the set-up on a fresh machine:
#   make run   — create .venv, install, start the service on SQLite with the demo data
#   make test  — create .venv, install, run the whole suite (SQLite and PostgreSQL)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/phb-ledger serve --demo

test: $(STAMP)
	$(BIN)/pytest

# Quick benchmarks on the small data set (see benchmarks/README.md for the full sets).
bench: $(STAMP)
	$(BIN)/python -m benchmarks.bench_posting --db sqlite --set small --repeat 1
	$(BIN)/python -m benchmarks.bench_balances --db sqlite --set small --repeat 1

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
