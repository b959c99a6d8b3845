"""Issue 16 items 1–2 in the app: the database-table source exists only by server configuration,
and with `[auth]` in the secrets every page asks for sign-in (AppTest's `secrets` and `user`)."""

from __future__ import annotations

import logging

import pandas as pd
import pytest
import sqlalchemy as sa
import streamlit as st
from streamlit.testing.v1 import AppTest

from dealscope import store
from dealscope.i18n import t
from dealscope.ingest import read_sql
from tests.app.conftest import APP, APP_TIMEOUT
from ui.nav import PAGES

DATA = "pages/data.py"
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "s" * 32,
        "client_id": "id", "client_secret": "secret",
        "server_metadata_url": "https://idp.example/.well-known/openid-configuration"}  # fmt: skip


def _app(db_url: str, monkeypatch, *, secrets=None, user=None, page=None) -> AppTest:
    monkeypatch.setenv("DEALSCOPE_DB_URL", db_url)
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(APP), default_timeout=APP_TIMEOUT)
    at.query_params["lang"] = "en"
    at.secrets.update(secrets or {})
    if user is not None:
        at.user = user
    at.run()
    if page is not None:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _source_kinds(at) -> list[str]:
    return list(at.radio(key="ingest_source_kind").options)


def test_database_source_absent_without_configuration(demo_db_url, monkeypatch):
    at = _app(demo_db_url, monkeypatch, page=DATA)
    assert _source_kinds(at) == [t("ingest.source.files", "en")]
    assert not [w for w in at.text_input if w.key == "ingest_db_url"]


def test_configured_connections_are_offered_by_name_without_a_url_box(demo_db_url, monkeypatch):
    secrets = {"connections": {"crm": {"url": "sqlite:///data/crm.db"}, "other": {"x": 1}}}
    at = _app(demo_db_url, monkeypatch, secrets=secrets, page=DATA)
    at.radio(key="ingest_source_kind").set_value(t("ingest.source.database", "en")).run()
    assert not at.exception
    assert list(at.selectbox(key="ingest_db_connection").options) == ["crm"]
    assert not [w for w in at.text_input if w.key == "ingest_db_url"]


def test_typed_url_only_when_the_server_allows_it(demo_db_url, monkeypatch):
    secrets = {"dealscope": {"allow_database_url": True}}
    at = _app(demo_db_url, monkeypatch, secrets=secrets, page=DATA)
    at.radio(key="ingest_source_kind").set_value(t("ingest.source.database", "en")).run()
    assert list(at.selectbox(key="ingest_db_connection").options) == [t("auth.db.typed_url", "en")]
    assert [w for w in at.text_input if w.key == "ingest_db_url"]


def test_without_auth_the_open_server_notice_is_shown(demo_db_url, monkeypatch):
    at = _app(demo_db_url, monkeypatch)
    assert f"⚠️ {t('auth.open_notice', 'en')}" in [c.value for c in at.sidebar.caption]


@pytest.mark.parametrize("page", [spec.script for spec in PAGES])
def test_with_auth_every_page_requires_sign_in(demo_db_url, monkeypatch, page):
    at = _app(demo_db_url, monkeypatch, secrets={"auth": AUTH}, user={"is_logged_in": False},
              page=page)  # fmt: skip
    assert [b.label for b in at.button] == [t("auth.sign_in", "en")]
    assert t("auth.sign_in_needed", "en") in [i.value for i in at.info]
    # Nothing from the store is drawn: no dataset picker, tables, charts or figures.
    assert not at.dataframe and not at.metric and not at.selectbox and not at.sidebar.selectbox
    assert not at.get("vega_lite_chart") and not at.get("arrow_vega_lite_chart")


def test_signed_in_user_on_the_allow_list_sees_the_pages(demo_db_url, monkeypatch):
    secrets = {"auth": AUTH, "dealscope": {"allowed_domains": ["example.com"]}}
    user = {"is_logged_in": True, "email": "ana@Example.com", "name": "Ana"}
    at = _app(demo_db_url, monkeypatch, secrets=secrets, user=user)
    assert at.metric, "the Overview shows its figures"
    assert t("auth.signed_in_as", "en", user="ana@Example.com") in [
        c.value for c in at.sidebar.caption
    ]
    assert not [c for c in at.sidebar.caption if t("auth.open_notice", "en") in c.value]


def test_signed_in_user_off_the_allow_list_is_refused(demo_db_url, monkeypatch, caplog):
    secrets = {"auth": AUTH, "dealscope": {"allowed_emails": ["boss@corp.example"]}}
    user = {"is_logged_in": True, "email": "ana@example.com"}
    with caplog.at_level(logging.WARNING, logger="dealscope.audit"):
        at = _app(demo_db_url, monkeypatch, secrets=secrets, user=user)
    assert [e.value for e in at.error] == [t("auth.not_allowed", "en")]
    assert not at.metric and not at.dataframe
    assert "access refused for ana@example.com" in caplog.text


def test_an_unverified_address_is_refused_even_on_the_allow_list(demo_db_url, monkeypatch):
    secrets = {"auth": AUTH, "dealscope": {"allowed_domains": ["example.com"]}}
    user = {"is_logged_in": True, "email": "ana@example.com", "email_verified": False}
    at = _app(demo_db_url, monkeypatch, secrets=secrets, user=user)
    assert [e.value for e in at.error] == [t("auth.not_allowed", "en")]
    assert not at.metric


def test_access_policy_matches_emails_and_domains_case_insensitively():
    from ui.auth import AccessPolicy

    policy = AccessPolicy(True, frozenset({"boss@corp.example"}), frozenset({"example.com"}))
    assert policy.admits("BOSS@corp.example") and policy.admits("x@Example.com")
    assert not policy.admits("x@example.com.evil") and not policy.admits("x@sub.example.org")
    assert not policy.admits(None) and not policy.admits("")
    assert AccessPolicy(True, frozenset(), frozenset()).admits("anyone@anywhere")
    assert AccessPolicy(False, frozenset({"a@b"}), frozenset()).admits(None)


def _crm_under(data_dir) -> str:
    data_dir.mkdir(exist_ok=True)
    source_url = f"sqlite:///{data_dir / 'crm.db'}"
    engine = sa.create_engine(source_url)
    pd.DataFrame({"opportunity_id": ["007", "008"], "stage": ["赢单", "输单"]}).to_sql(
        "deals", engine, index=False
    )
    engine.dispose()
    return source_url


def test_configured_table_is_read_and_saved_with_who_saved_it(empty_db_url, monkeypatch, tmp_path,
                                                               caplog):  # fmt: skip
    monkeypatch.setattr(read_sql, "DATA_DIR", tmp_path / "data")
    secrets = {"auth": AUTH, "connections": {"crm": {"url": _crm_under(tmp_path / "data")}}}
    user = {"is_logged_in": True, "email": "ana@example.com"}
    at = _app(empty_db_url, monkeypatch, secrets=secrets, user=user, page=DATA)
    at.radio(key="ingest_source_kind").set_value(t("ingest.source.database", "en")).run()
    at.button(key="ingest_db_list").click().run()
    assert at.selectbox(key="ingest_db_table").options == ["deals"]
    at.button(key="ingest_db_read").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert {m.label: m.value for m in at.metric}["Loaded"] == "2"
    at.text_input(key="ingest_name").set_value("crm").run()
    with caplog.at_level(logging.INFO, logger="dealscope.audit"):
        at.button(key="ingest_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    saved = store.list_datasets(store.get_engine(empty_db_url))
    assert saved[["name", "saved_by"]].to_dict("records") == [
        {"name": "crm", "saved_by": "ana@example.com"}
    ]
    assert "save dataset by ana@example.com" in caplog.text


def test_a_configured_sqlite_file_outside_data_is_refused(empty_db_url, monkeypatch, tmp_path):
    monkeypatch.setattr(read_sql, "DATA_DIR", tmp_path / "data")
    (tmp_path / "data").mkdir()
    secrets = {"connections": {"crm": {"url": _crm_under(tmp_path / "elsewhere")}}}
    at = _app(empty_db_url, monkeypatch, secrets=secrets, page=DATA)
    at.radio(key="ingest_source_kind").set_value(t("ingest.source.database", "en")).run()
    at.button(key="ingest_db_list").click().run()
    assert not at.exception
    assert any("only be read from the server's data/ folder" in e.value for e in at.error)
