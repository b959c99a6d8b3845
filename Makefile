# DealScope: `make run` serves the app on the demo data; `make test` runs every check.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501
# The interface the server binds (.streamlit/config.toml: 127.0.0.1); docs/DEPLOY.md before 0.0.0.0.
ADDRESS ?= $(if $(STREAMLIT_SERVER_ADDRESS),$(STREAMLIT_SERVER_ADDRESS),127.0.0.1)
DB_URL ?= $(if $(DEALSCOPE_DB_URL),$(DEALSCOPE_DB_URL),sqlite:///data/dealscope.db)
# One OpenMP thread: multi-threaded scikit-learn fits stall at random on 2-core machines.
export OMP_NUM_THREADS ?= 1
export PYTHONDONTWRITEBYTECODE = 1

.PHONY: run test lint format install install-dev chromium bench bench-postgres clean

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
	DEALSCOPE_DB_URL="$(DB_URL)" $(PY) -m streamlit run app.py --server.headless true --server.port $(PORT) --server.address $(ADDRESS)

lint: install-dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install-dev
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

# The suite runs on SQLite and on PostgreSQL: scripts/with_postgres.sh installs Debian's PostgreSQL
# server when it is missing, starts a throwaway cluster in a temporary folder (free port, no system
# service; as root it runs as the `postgres` user), exports DEALSCOPE_TEST_PG_URL to pytest and
# stops and deletes the cluster afterwards, also when tests fail. Under CI=true a missing server
# fails the PostgreSQL tests instead of skipping them.
test: install-dev chromium lint
	scripts/with_postgres.sh $(PY) -m pytest

# Benchmarks print figures (ratios to a baseline run in the same process); they assert nothing.
bench: install-dev
	$(PY) bench/bench_store.py
	$(PY) bench/bench_metrics.py
	$(PY) bench/bench_ingest.py
	$(PY) bench/bench_risk.py

# The store and ingest benchmarks on a throwaway PostgreSQL (same ratios as on SQLite).
bench-postgres: install-dev
	scripts/with_postgres.sh sh -c '$(PY) bench/bench_store.py --db "$$DEALSCOPE_TEST_PG_URL" && \
	  $(PY) bench/bench_ingest.py --db "$$DEALSCOPE_TEST_PG_URL"'

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache data/*.db data/*.db-*
