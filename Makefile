# DealScope: `make run` serves the app on the demo data; `make test` runs every check.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501
DB_URL ?= $(if $(DEALSCOPE_DB_URL),$(DEALSCOPE_DB_URL),sqlite:///data/dealscope.db)
# One OpenMP thread: multi-threaded scikit-learn fits stall at random on 2-core machines.
export OMP_NUM_THREADS ?= 1
export PYTHONDONTWRITEBYTECODE = 1

.PHONY: run test test-fast lint format install install-dev chromium bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.runtime: requirements.txt | $(PY)
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt $(VENV)/.runtime
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

# Browser tests drive Debian's chromium (never a downloaded browser).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

run: install
	$(PY) -m dealscope demo --if-absent --db "$(DB_URL)"
	DEALSCOPE_DB_URL="$(DB_URL)" $(PY) -m streamlit run app.py --server.headless true --server.port $(PORT)

lint: install-dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	PYTHONPATH=. $(VENV)/bin/lint-imports --no-cache

format: install-dev
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

# Everything: lint, layer contracts, unit + app + browser tests, hypothesis at CI size (500
# derandomised examples per property).
test: install-dev chromium lint
	HYPOTHESIS_PROFILE=ci $(PY) -m pytest

# The quick loop while developing: unit + app tiers, 50 examples per property, no browser, no lint.
test-fast: install-dev
	HYPOTHESIS_PROFILE=dev $(PY) -m pytest -m "not e2e"

# Benchmarks print figures (ratios to a baseline run in the same process); they assert nothing.
bench: install-dev
	$(PY) bench/bench_store.py
	$(PY) bench/bench_metrics.py
	$(PY) bench/bench_ingest.py
	$(PY) bench/bench_risk.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache data/*.db data/*.db-*
