# outcomes: `make help` lists the targets. Each creates .venv/ on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
QUARTER ?= 2026Q3

.PHONY: help demo lint test lab bench screenshots clean

help:  ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(BIN)/outcomes: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@# byte-compile the package once: where PYTHONDONTWRITEBYTECODE is set, every process
	@# (each CLI run, each test worker and kernel) would compile the sources again
	$(BIN)/python -m compileall -q src/outcomes
	@touch $@

demo: $(BIN)/outcomes  ## validate the bundled sample export and write its quarterly report to reports/
	$(BIN)/outcomes validate data/sample
	$(BIN)/outcomes report data/sample --quarter $(QUARTER) --out reports/

lint: $(BIN)/outcomes  ## the code gates: ruff (lint) and mypy (types), configured in pyproject.toml
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

test: lint  ## the gates, then the test suite (unit, reference, property-based, CLI and notebook end-to-end)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder

SHOTS    := docs/screenshots
CHROMIUM ?= chromium
SHOOT     = $(CHROMIUM) --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
	--disable-background-networking --disable-component-update --disable-sync --hide-scrollbars \
	--user-data-dir=build/screenshots/profile

screenshots: $(BIN)/outcomes  ## photograph the first screen of the sample's internal and shareable reports into docs/screenshots/ (needs Chromium)
	@command -v $(CHROMIUM) >/dev/null || { echo "make screenshots needs Chromium: apt-get install chromium (or CHROMIUM=/path/to/chrome)"; exit 2; }
	rm -rf build/screenshots && mkdir -p $(SHOTS) build/screenshots
	$(BIN)/outcomes report data/sample --quarter $(QUARTER) --out build/screenshots/internal
	$(BIN)/outcomes report data/sample --quarter $(QUARTER) --out build/screenshots/shareable --shareable
	for kind in internal shareable; do \
	  $(SHOOT) --window-size=1280,900 --screenshot=$(SHOTS)/$$kind.png "file://$(CURDIR)/build/screenshots/$$kind/index.html" 2>/dev/null; \
	  $(SHOOT) --window-size=390,844 --screenshot=$(SHOTS)/$$kind-phone.png "file://$(CURDIR)/build/screenshots/$$kind/index.html" 2>/dev/null; \
	done
	@ls -l $(SHOTS)/*.png

lab: $(BIN)/outcomes  ## open the notebooks in JupyterLab
	$(BIN)/python -m pip install --quiet -e '.[lab]'
	$(BIN)/jupyter lab notebooks/

bench: $(BIN)/outcomes  ## print the speed and memory figures (benchmarks/)
	$(BIN)/python benchmarks/run.py

clean:  ## remove the virtual environment and generated reports
	rm -rf $(VENV) reports/ build/ .pytest_cache
