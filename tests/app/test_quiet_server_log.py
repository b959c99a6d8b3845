"""A normal page view writes nothing to the server log (issue 13): every page of the demo
rendered by AppTest while every log record at WARNING and above (Streamlit's
loggers and the root logger) and every Python warning is captured; any one fails the test.
Streamlit's own loggers are read from INFO: a server logs at INFO by default (`logger.level`),
and that is where a failed Arrow conversion of a table puts its traceback.

Streamlit's own bare-mode notices are not the app's: AppTest runs without a server, so Streamlit
says so once per cache ("No runtime found") and for calls outside a script run ("missing
ScriptRunContext", "Session state does not function …": each is logged only when no Streamlit
runtime exists). They cannot occur on a real server and are the only records left out."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP, APP_TIMEOUT
from tests.app.test_snapshot_compare import compare_db  # noqa: F401  (a fixture)
from ui.nav import PAGES

BARE_MODE_NOTICES = (
    "No runtime found, using MemoryCacheStorageManager",
    "missing ScriptRunContext",
    "Session state does not function when running a script without `streamlit run`",
)


def _server_log_record(record: logging.LogRecord) -> bool:
    """Whether a server would write `record` to its log: Streamlit's loggers from INFO (their
    default level), any other logger from WARNING; Streamlit's bare-mode notices excepted."""
    threshold = logging.INFO if record.name.startswith("streamlit") else logging.WARNING
    message = record.getMessage()
    return record.levelno >= threshold and not any(n in message for n in BARE_MODE_NOTICES)


@contextmanager
def server_log(monkeypatch) -> Iterator[list[str]]:
    """Collects what a server would log (records as text, then Python warnings) while open."""
    records: list[logging.LogRecord] = []
    found: list[str] = []
    # Streamlit's loggers have their own handler and do not propagate, so no handler on a parent
    # hears them: collect every record any logger hands to its handlers.
    call_handlers = logging.Logger.callHandlers

    def collect(logger: logging.Logger, record: logging.LogRecord) -> None:
        if _server_log_record(record):
            records.append(record)
        call_handlers(logger, record)

    monkeypatch.setattr(logging.Logger, "callHandlers", collect)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield found
    finally:
        monkeypatch.setattr(logging.Logger, "callHandlers", call_handlers)
        found += [f"{r.name} {r.levelname}: {r.getMessage()[:200]} {r.exc_info}" for r in records]
        found += [f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})" for w in caught]


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_page_renders_without_a_log_record_or_warning(monkeypatch, demo_db_url, lang):
    monkeypatch.setenv("DEALSCOPE_DB_URL", demo_db_url)
    st.cache_data.clear()
    st.cache_resource.clear()
    with server_log(monkeypatch) as logged:
        at = AppTest.from_file(str(APP), default_timeout=APP_TIMEOUT)
        at.query_params["lang"] = lang
        at.run()
        for page in PAGES:
            at.switch_page(page.script).run()
            assert not at.exception, (page.script, [e.value for e in at.exception])
    assert logged == []


def test_a_snapshot_comparison_and_a_drilldown_log_nothing(monkeypatch, compare_db):  # noqa: F811
    """Two views beyond the defaults: the Weekly page comparing two exports (its waterfall, deal
    lists and downloads) and the Reps drill-down of another owner."""
    url, ids = compare_db
    monkeypatch.setenv("DEALSCOPE_DB_URL", url)
    st.cache_data.clear()
    st.cache_resource.clear()
    with server_log(monkeypatch) as logged:
        at = AppTest.from_file(str(APP), default_timeout=APP_TIMEOUT)
        at.query_params["dataset"] = str(ids["demo_v2"])
        at.query_params["compare"] = str(ids["last_week"])
        at.run()
        at.switch_page("pages/weekly.py").run()
        assert at.selectbox(key="weekly_compare").value == ids["last_week"]
        assert any(d.value.shape[0] for d in at.dataframe)  # the comparison tables are drawn
        at.switch_page("pages/reps.py").run()
        owners = at.selectbox(key="reps_owner").options
        at.selectbox(key="reps_owner").set_value(owners[-1]).run()
        assert not at.exception, [e.value for e in at.exception]
    assert logged == []
