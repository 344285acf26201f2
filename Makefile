# Two entry points for a fresh machine (README.md):
#   make serve   set up .venv and serve the dashboards on the bundled example tracker
#   make test    set up .venv (with test tools and system packages) and run every test
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8866
# The estimators' matrix products are small: BLAS threads only spin against
# each other (up to 100x slower on a busy 2-core machine), so use one.
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1

.PHONY: serve test setup setup-test system-deps notebooks benchmarks clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The Voila settings (sources stripped, no tracebacks, no files served) go into
# the venv's Jupyter config path, so every `voila` run from the venv reads them.
setup: $(BIN)/python
	$(BIN)/pip install --quiet -e .
	mkdir -p $(VENV)/etc/jupyter && cp dashboards/voila.json $(VENV)/etc/jupyter/voila.json

setup-test: setup system-deps
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null

# Debian packages the tests drive: Chromium (browser tests) and GNU PSPP
# (SPSS files written by another program). Installed only when missing.
system-deps:
	@bash .ci/system-deps

# The dashboards on the example tracker with the safe Voila settings (surveytools serve
# builds the indicator cube first, forks kernels from a pre-loaded process, frees them when
# viewers leave; see surveytools/presentation/serve.py and dashboards/surveytools_serve.json).
serve: setup
	$(BIN)/surveytools serve data/tracker/waves.toml --port $(PORT)

notebooks: setup
	$(BIN)/jupyter lab notebooks/

test: setup-test
	$(BIN)/python -m pytest

benchmarks: setup
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache
