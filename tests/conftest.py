"""Fixtures shared by every test tier: a demo database (generated once per test session) and the
parametrised store fixtures that run a test on SQLite and on PostgreSQL."""

from __future__ import annotations

import os

# Thread limits for numpy / scikit-learn and every server or CLI subprocess a test starts:
# multi-threaded fits stall at random on a busy 2-core machine (see the Makefile), and a bare
# `pytest` must be as safe as `make test`. Forced, not defaulted: a shell's OMP_NUM_THREADS=8
# would bring the stalls back.
for _thread_variable in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
):
    os.environ[_thread_variable] = "1"

# Models trained by tests (AppTests that save a dataset start a background training; e2e servers
# inherit the environment) go to a folder of this run, never into the checkout's models/.
if "DEALSCOPE_MODEL_DIR" not in os.environ:
    import atexit
    import shutil
    import tempfile

    os.environ["DEALSCOPE_MODEL_DIR"] = tempfile.mkdtemp(prefix="dealscope-test-models-")
    atexit.register(shutil.rmtree, os.environ["DEALSCOPE_MODEL_DIR"], ignore_errors=True)

from threadpoolctl import threadpool_limits  # noqa: E402

# pytest may have loaded scikit-learn before this file (pyproject's filterwarnings names one of its
# warnings), and a pool sized at load ignores the variables above: limit the loaded ones too.
threadpool_limits(limits=1)

import uuid  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from hypothesis import settings  # noqa: E402

from dealscope import store  # noqa: E402
from dealscope.demo import write_demo  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# ../shared sits next to a checkout (and next to CI's clone); from a git worktree in
# <parent>/wt/<name> it is two levels up. The first that holds the data wins.
SHARED = next(
    (
        d
        for d in (ROOT.parent / "shared", ROOT.parent.parent / "shared")
        if (d / "datasets" / "maven_crm" / "sales_pipeline.csv").exists()
    ),
    ROOT.parent / "shared",
)
MAVEN_DIR = SHARED / "datasets" / "maven_crm"


@pytest.fixture(scope="session")
def demo_db_url(tmp_path_factory) -> str:
    """A SQLite database holding the demo dataset (written once per session; treat as read-only)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    engine = store.get_engine(url)
    write_demo(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def demo_dataset(demo_db_url):
    """The demo dataset as loaded from the store (canonical frames)."""
    engine = store.get_engine(demo_db_url)
    dataset = store.read_dataset(engine, "demo")
    engine.dispose()
    return dataset


@pytest.fixture
def empty_db_url(tmp_path) -> str:
    """A fresh, empty SQLite database URL."""
    return f"sqlite:///{tmp_path / 'empty.db'}"


# ---- Both stores: SQLite and PostgreSQL ---------------------------------------------------------
# `make test` (scripts/with_postgres.sh) starts a throwaway PostgreSQL cluster and exports its URL
# here. Without it the PostgreSQL cases skip with the reason, except under CI=true, where a missing
# server fails them: CI must never pass with half the stores untested.
PG_URL_ENV = "DEALSCOPE_TEST_PG_URL"
BACKENDS = ("sqlite", "postgresql")


def _require_pg_server_url() -> str:
    url = os.environ.get(PG_URL_ENV)
    if url:
        return url
    reason = (
        f"PostgreSQL tests need ${PG_URL_ENV} (a throwaway server): run `make test`, or "
        "`scripts/with_postgres.sh pytest …`"
    )
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(reason + " — CI=true, so this is a failure, not a skip.")
    pytest.skip(reason)


@contextmanager
def _fresh_pg_database(prefix: str) -> Iterator[str]:
    """A new, empty database on the test server, dropped afterwards; yields its URL."""
    server = sa.make_url(_require_pg_server_url())
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path) -> Iterator[str]:
    """A fresh, empty database URL on each store: SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    with _fresh_pg_database("t") as url:
        yield url


@pytest.fixture(scope="session", params=BACKENDS)
def demo_store_url(request, tmp_path_factory) -> Iterator[str]:
    """The demo dataset written once per session into each store (treat as read-only)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('demo_store') / 'demo.db'}"
        engine = store.get_engine(url)
        write_demo(engine)
        engine.dispose()
        yield url
        return
    with _fresh_pg_database("demo") as url:
        engine = store.get_engine(url)
        write_demo(engine)
        engine.dispose()
        yield url


# --- Suite hygiene: hypothesis profiles and markers -------------------------------------------

# Health checks stay on in both profiles. No deadline: a busy shared machine makes a single
# example slow for reasons that are not the code's, and a deadline would turn that into a flake.
settings.register_profile("ci", derandomize=True, max_examples=500, deadline=None)
settings.register_profile("dev", max_examples=50, deadline=None)
# HYPOTHESIS_PROFILE wins (`make test` says ci, `make test-fast` says dev); else CI systems (which
# set CI) get the full derandomised run, a bare local `pytest` the quick one.
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)

TESTS = Path(__file__).resolve().parent
# Each tier's marker, set from the folder the test lives in (a `pytestmark` in a conftest is
# ignored by pytest, which is how `-m e2e` once selected 1 of 18 browser tests).
TIER_MARKERS = {"unit": "unit", "app": "app", "e2e": "e2e"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        tier = item.path.relative_to(TESTS).parts[0] if item.path.is_relative_to(TESTS) else None
        if tier in TIER_MARKERS:
            item.add_marker(getattr(pytest.mark, TIER_MARKERS[tier]))
        # Every browser test starts or drives a real server: slow by nature.
        if tier == "e2e":
            item.add_marker(pytest.mark.slow)
