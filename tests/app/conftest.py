"""AppTest helpers: run the real app.py against a test database and open one view."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.app.undated_fixtures import CLOSED_ONLY_ROWS, UNDATED_ROWS, write_rows

APP = Path(__file__).resolve().parents[2] / "app.py"
APP_TIMEOUT = 60


@pytest.fixture
def open_app(monkeypatch):
    """open_app(db_url, view=None, query=None, default_period=False) -> AppTest after its first
    run on that view.

    Unless the query names a period (?period=, ?start=, ?end=) or `default_period` is set, the
    link asks for ?period=all: most tests check whole-history figures worked out by hand, while
    the app's default period is a recent one (dealscope.periods.default_preset) that
    tests/app/test_periods.py covers.
    """

    def _open(
        db_url: str,
        view: str | None = None,
        query: dict | None = None,
        default_period: bool = False,
    ) -> AppTest:
        monkeypatch.setenv("DEALSCOPE_DB_URL", db_url)
        st.cache_data.clear()
        st.cache_resource.clear()
        at = AppTest.from_file(str(APP), default_timeout=APP_TIMEOUT)
        query = dict(query or {})
        if not default_period and not {"period", "start", "end"} & query.keys():
            query["period"] = "all"
        for key, value in query.items():
            at.query_params[key] = value
        at.run()
        if view is not None:
            at.switch_page(view).run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return _open


# Datasets a real export can be (tests/app/undated_fixtures.py), one database per test module.


@pytest.fixture(scope="module")
def undated_url(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('undated') / 'u.db'}"
    write_rows(url, "undated", UNDATED_ROWS)
    return url


@pytest.fixture(scope="module")
def closed_url(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('closed') / 'c.db'}"
    write_rows(url, "closed", CLOSED_ONLY_ROWS)
    return url
