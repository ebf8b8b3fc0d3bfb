# The menu of what a newcomer can do. Every target creates .venv itself when needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: help setup demo test lint format bench coverage coverage-national notebooks clean

help:
	@echo "make demo      set up, build the demo warehouse and start the dashboard"
	@echo "make test      set up and run every test (lint included)"
	@echo "make lint      ruff and the import contracts (lint-imports)"
	@echo "make bench     benchmarks (slow; prints figures and writes JSON)"
	@echo "make coverage  slow planted-effect coverage simulation (>= 200 replications)"
	@echo "make coverage-national  slow coverage of the national-panel designs (200 countries)"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/lmp demo

test: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -n auto --dist loadgroup --durations=25

lint: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports

format: setup
	$(BIN)/ruff format lmp_analytics tests dashboards benchmarks

bench: setup
	$(BIN)/python -m benchmarks

coverage: setup
	$(BIN)/python benchmarks/coverage.py

coverage-national: setup
	$(BIN)/python benchmarks/coverage_national.py --workers 2

# Researcher notebooks (marimo) exported to HTML in the gitignored notebooks/__exports__/.
# Uses $LMP_WAREHOUSE (else warehouse.duckdb in $LMP_HOME or data/); builds the demo warehouse if
# there is none.
# marimo writes a session snapshot beside each notebook (__marimo__/); PYTHONPYCACHEPREFIX with
# absolute notebook paths moves it into the export folder.
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.py))
NB_EXPORTS := notebooks/__exports__

notebooks: setup
	@test -f "$${LMP_WAREHOUSE:-$${LMP_HOME:-data}/warehouse.duckdb}" || $(BIN)/lmp demo --no-dashboard
	@mkdir -p $(NB_EXPORTS)
	@for nb in $(NOTEBOOKS); do \
	  out="$(NB_EXPORTS)/$$(basename $$nb .py).html"; \
	  echo "marimo export html $$nb -> $$out"; \
	  PYTHONPYCACHEPREFIX="$(CURDIR)/$(NB_EXPORTS)/.cache" \
	    $(BIN)/marimo export html "$(CURDIR)/$$nb" -o "$$out" -f || exit 1; \
	done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .grimp_cache build *.egg-info
