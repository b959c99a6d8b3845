"""Fixtures shared by every test tier: a demo database, generated once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

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
