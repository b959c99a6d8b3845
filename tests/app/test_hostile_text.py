"""Issue 16 item 4: a dataset whose text fields are Markdown/HTML payloads and control characters
opens on EVERY page without an exception, and nothing it holds renders as a link, image or tag."""

from __future__ import annotations

import re

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dealscope import store
from tests.app.conftest import APP, APP_TIMEOUT
from ui.nav import PAGES

HOST = "evil.example"
PAYLOADS = (
    f"[click me](http://{HOST}/link)",
    f"![pixel](http://{HOST}/pixel.png)",
    f"<img src=http://{HOST}/x.png onerror=alert(1)>",
    "<b>bold</b><script>alert(1)</script>",
    "**strong** _em_ `code` # heading | pipe",
    "nul\x00bell\x07esc\x1b[31mred\x1f",
)
TEXT_FIELDS = ("name", "account", "owner", "team", "region", "industry", "source", "customer_type",
               "lost_reason", "next_step")  # fmt: skip
# Rendered Markdown that would be live: an unescaped link/image bracket, or a raw HTML tag.
LIVE = [
    re.compile(r"(?<!\\)\]\(http://" + re.escape(HOST)),
    re.compile(r"<(img|b|script)\b", re.IGNORECASE),
]
MARKDOWN_ELEMENTS = ("markdown", "caption", "info", "warning", "error", "success", "title",
                     "header", "subheader", "toast", "exception")  # fmt: skip


@pytest.fixture(scope="module")
def hostile_db_url(tmp_path_factory, demo_dataset) -> str:
    opps = demo_dataset.opportunities.copy()
    for column in TEXT_FIELDS:
        cycle = [
            PAYLOADS[(i + TEXT_FIELDS.index(column)) % len(PAYLOADS)] for i in range(len(opps))
        ]
        opps[column] = cycle
    opps["currency"] = f"![c](http://{HOST}/c.png)"
    url = f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'hostile.db'}"
    engine = store.get_engine(url)
    store.write_dataset(engine, "<b>[ds](http://evil.example/ds)</b>", opps,
                        demo_dataset.stage_events, demo_dataset.stages)  # fmt: skip
    engine.dispose()
    return url


def _rendered_texts(at: AppTest) -> list[str]:
    texts = []
    for kind in MARKDOWN_ELEMENTS:
        for element in at.get(kind):
            value = getattr(element, "value", None)
            texts.append(str(value if value is not None else element.proto))
    for element in at.get("metric"):
        texts.append(str(element.label))
    return texts


@pytest.mark.parametrize("page", [spec.script for spec in PAGES])
def test_every_page_shows_hostile_text_inert(hostile_db_url, monkeypatch, page):
    monkeypatch.setenv("DEALSCOPE_DB_URL", hostile_db_url)
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(APP), default_timeout=APP_TIMEOUT)
    at.query_params["lang"] = "en"
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    live = [text for text in _rendered_texts(at) if any(p.search(text) for p in LIVE)]
    assert not live, live
