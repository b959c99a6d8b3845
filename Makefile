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

.PHONY: run test test-fast lint format install install-dev lock chromium bench bench-postgres clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# Installs come from the lock files only: every transitive package pinned, every file's hash checked.
$(VENV)/.runtime: requirements.lock | $(PY)
	$(PY) -m pip install -q --require-hashes -r requirements.lock
	touch $@

$(VENV)/.dev: requirements-dev.lock $(VENV)/.runtime
	$(PY) -m pip install -q --require-hashes -r requirements-dev.lock
	touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

# Regenerate the lock files from the human-edited requirements.txt / requirements-dev.txt (after
# adding or changing a pin there; commit both .lock files). pip-compile keeps every pin already in a
# lock file unless an input asks for another version, so unrelated packages do not move;
# `make lock LOCK_ARGS=--upgrade` moves everything to the newest allowed versions. The dev lock is
# constrained by the runtime lock, so both install the same runtime packages. Hashes are PyPI's:
# the machine's pip configuration (local wheel folders) is ignored unless LOCK_PIP_CONFIG names one.
LOCK_INDEX_URL ?= https://pypi.org/simple
LOCK_PIP_CONFIG ?= /dev/null
LOCK_ARGS ?=
PIP_COMPILE = PIP_CONFIG_FILE=$(LOCK_PIP_CONFIG) $(VENV)/bin/pip-compile --quiet --generate-hashes \
	--allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
	--index-url $(LOCK_INDEX_URL) $(LOCK_ARGS)

lock: | $(PY)
	$(PY) -m pip install -q "$$(grep -E '^pip-tools==' requirements-dev.txt)"
	$(PIP_COMPILE) --output-file requirements.lock requirements.txt
	$(PIP_COMPILE) --constraint requirements.lock --output-file requirements-dev.lock \
	  requirements-dev.txt

# Browser tests drive Debian's chromium (never a downloaded browser), with a CJK font so the
# zh-CN pages are laid out (and their truncation measured) with real glyphs, not empty boxes.
chromium:
	@{ command -v chromium >/dev/null 2>&1 && [ -n "$$(fc-list :lang=zh 2>/dev/null)" ]; } || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-wqy-microhei \
	    >/dev/null; }

run: install
	$(PY) -m dealscope demo --if-absent --db "$(DB_URL)"
	DEALSCOPE_DB_URL="$(DB_URL)" $(PY) -m streamlit run app.py --server.headless true --server.port $(PORT) --server.address $(ADDRESS)

lint: install-dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	PYTHONPATH=. $(VENV)/bin/lint-imports --no-cache

format: install-dev
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

# Everything: lint, layer contracts, unit + app + browser tests, hypothesis at CI size (500
# derandomised examples per property), on SQLite and on PostgreSQL: scripts/with_postgres.sh
# installs Debian's PostgreSQL server when it is missing, starts a throwaway cluster in a temporary
# folder (free port, no system service; as root it runs as the `postgres` user), exports
# DEALSCOPE_TEST_PG_URL to pytest and stops and deletes the cluster afterwards, also when tests
# fail. Under CI=true a missing server fails the PostgreSQL tests instead of skipping them.
test: install-dev chromium lint
	HYPOTHESIS_PROFILE=ci scripts/with_postgres.sh $(PY) -m pytest

# The quick loop while developing: unit + app tiers, 50 examples per property, no browser, no lint.
test-fast: install-dev
	HYPOTHESIS_PROFILE=dev $(PY) -m pytest -m "not e2e"

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
