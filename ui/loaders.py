"""Cached loaders: the coarse, expensive reads, keyed by database URL and dataset id.

Only ui/ uses st.cache_*; every cache has a ttl and, when it takes parameters, a max_entries bound.

Stored datasets are immutable (an upload is a new dataset), so whole datasets and their filtered
views are cached with st.cache_resource: one shared, read-only object per key. st.cache_data would
hand every rerun a fresh unpickled copy — measured at 20 s for 1M opportunities + 5M stage events
(python strings), far over the one-second rerun budget. Nothing may mutate these frames in place;
derived results (small, aggregated) use st.cache_data as usual.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

from dealscope import store
from dealscope.filters import Filters, apply_segment_filters, event_deal_rows, events_for
from dealscope.model import Dataset


def database_url() -> str:
    """The database this server reads: $DEALSCOPE_DB_URL, else the local SQLite file."""
    return store.resolve_db_url(None)


@st.cache_resource(ttl=3600, max_entries=4, show_spinner=False)
def get_engine(url: str) -> Engine:
    """One pooled engine per database URL (engines are thread-safe and hold no user data)."""
    return store.get_engine(url)


@st.cache_data(ttl=30, max_entries=4, show_spinner=False)
def load_dataset_list(url: str) -> pd.DataFrame:
    """The stored datasets, newest first (short ttl: uploads from other sessions appear)."""
    return store.list_datasets(get_engine(url))


@st.cache_resource(ttl=3600, max_entries=4, show_spinner=False)
def load_dataset(url: str, dataset_id: int) -> Dataset:
    """A whole dataset (shared, read-only), settled for analysis (Dataset.settled); immutable once
    written, so the id is a complete key."""
    return store.read_dataset(get_engine(url), dataset_id).settled()


@st.cache_resource(ttl=3600, max_entries=4, show_spinner=False)
def load_event_rows(url: str, dataset_id: int) -> np.ndarray:
    """Each stage event's deal position in the dataset's opportunities (filters.event_deal_rows):
    kept beside the dataset, not as a column, so every frame stays canonical."""
    dataset = load_dataset(url, dataset_id)
    return event_deal_rows(dataset.opportunities, dataset.stage_events)


@st.cache_resource(ttl=3600, max_entries=8, show_spinner=False)
def load_filtered(
    url: str, dataset_id: int, segments: tuple[tuple[str, tuple[str, ...]], ...]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The opportunities and stage events that match the segment selections (shared, read-only)."""
    dataset = load_dataset(url, dataset_id)
    opportunities = apply_segment_filters(dataset.opportunities, Filters(segments=dict(segments)))
    if len(opportunities) == len(dataset.opportunities):
        return dataset.opportunities, dataset.stage_events
    rows = load_event_rows(url, dataset_id)
    return opportunities, events_for(dataset.stage_events, opportunities, rows)


def clear_caches() -> None:
    """Drop cached data (after an upload, or between tests)."""
    load_dataset_list.clear()
    load_dataset.clear()
    load_event_rows.clear()
    load_filtered.clear()
