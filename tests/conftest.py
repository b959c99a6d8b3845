"""Fixtures shared by every test tier: a demo database (generated once per test session) and the
parametrised store fixtures that run a test on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from dealscope import store
from dealscope.demo import write_demo

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
