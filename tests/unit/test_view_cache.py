"""Cached loaders take the view itself: VIEW_HASH_FUNCS hashes a ViewContext by its cache_key."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd
import streamlit as st

from dealscope.filters import Filters
from dealscope.model import Dataset
from ui.context import VIEW_HASH_FUNCS, ViewContext

ROOT = Path(__file__).resolve().parents[2]


def make_view(filters: Filters, rows: int) -> ViewContext:
    # Frames that no hash could equate: the key alone must decide.
    frame = pd.DataFrame({"opportunity_id": [f"o{i}" for i in range(rows)]})
    dataset = Dataset(7, "demo", frame, pd.DataFrame(), pd.DataFrame(), {})
    return ViewContext(
        "sqlite://", dataset, frame, pd.DataFrame(), filters, pd.Timestamp("2026-01-01"), "en"
    )


def test_a_loader_is_keyed_by_the_views_cache_key_not_its_frames():
    calls: list[int] = []

    @st.cache_data(hash_funcs=VIEW_HASH_FUNCS)
    def load_rows(view: ViewContext) -> int:
        calls.append(1)
        return len(view.opportunities)

    load_rows.clear()
    everything = Filters()
    assert load_rows(make_view(everything, 3)) == 3
    # Same key, other frame objects: served from the cache (the frames were never hashed).
    assert load_rows(make_view(everything, 5)) == 3
    assert len(calls) == 1
    # Another period is another key.
    assert load_rows(make_view(Filters(start=date(2025, 1, 1)), 5)) == 5
    assert len(calls) == 2
    load_rows.clear()


def test_pages_and_ui_no_longer_pass_the_key_beside_the_view():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("pages", "ui")
        for path in sorted((ROOT / folder).glob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"load_\w+\(\s*view\.cache_key|_view: ViewContext", line)
        and "def load_paths" not in line
    ]
    assert offenders == []
