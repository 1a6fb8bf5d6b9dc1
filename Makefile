# outcomes: `make help` lists the targets. Each creates .venv/ on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
QUARTER ?= 2026Q3

.PHONY: help demo lint test lab bench clean

help:  ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(BIN)/outcomes: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

demo: $(BIN)/outcomes  ## validate the bundled sample export and write its quarterly report to reports/
	$(BIN)/outcomes validate data/sample
	$(BIN)/outcomes report data/sample --quarter $(QUARTER) --out reports/

lint: $(BIN)/outcomes  ## the code gates: ruff (lint) and mypy (types), configured in pyproject.toml
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

test: lint  ## the gates, then the test suite (unit, reference, property-based, CLI and notebook end-to-end)
	$(BIN)/python -m pytest -q

lab: $(BIN)/outcomes  ## open the notebooks in JupyterLab
	$(BIN)/python -m pip install --quiet -e '.[lab]'
	$(BIN)/jupyter lab notebooks/

bench: $(BIN)/outcomes  ## print the speed and memory figures (benchmarks/)
	$(BIN)/python benchmarks/run.py

clean:  ## remove the virtual environment and generated reports
	rm -rf $(VENV) reports/ .pytest_cache
