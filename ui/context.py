"""The view every page works on: dataset, filters and as-of date, set by app.py each rerun."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from dealscope.filters import Filters
from dealscope.model import Dataset

_VIEW_KEY = "_dealscope_view"


@dataclass(frozen=True)
class ViewContext:
    """What the sidebar selected. `opportunities` / `stage_events` are already segment-filtered;
    the period is applied by each metric (created in it, closed in it, open at its end)."""

    db_url: str
    dataset: Dataset
    opportunities: pd.DataFrame
    stage_events: pd.DataFrame
    filters: Filters
    as_of: pd.Timestamp
    lang: str

    @property
    def cache_key(self) -> tuple:
        """What identifies the view's data: the database, dataset, segment filters and period
        (datasets are immutable, so these fix the frames). Cached loaders hash a ViewContext by it
        through VIEW_HASH_FUNCS instead of hashing the frames."""
        segments = tuple(sorted(self.filters.segments.items()))
        period = (self.filters.start, self.filters.end)
        previous = (self.filters.previous_start, self.filters.previous_end)
        return (self.db_url, self.dataset.id, segments, *period, *previous, self.as_of)

    def period_bounds(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """[start, end) of the selected period, defaulting to the data's full range."""
        start, end = self.filters.period_bounds()
        if start is None:
            first = self.dataset.opportunities["created_at"].min()
            start = first.normalize() if pd.notna(first) else self.as_of.normalize()
        if end is None:
            end = self.as_of.normalize() + pd.Timedelta(days=1)
        return start, end

    def previous_bounds(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """[start, end) of the previous comparable period: the sidebar preset's (the previous
        quarter for "this quarter", dealscope.periods), else the period of equal length before
        the selected one; None with no period chosen (all time)."""
        if self.filters.start is None:
            return None
        resolved = self.filters.previous_bounds()
        if resolved is not None:
            return resolved
        start, end = self.period_bounds()
        return start - (end - start), start


def set_view(view: ViewContext | None) -> None:
    st.session_state[_VIEW_KEY] = view


def current_view() -> ViewContext | None:
    """The view set by app.py for this rerun, or None when there is no dataset to show."""
    return st.session_state.get(_VIEW_KEY)


def _view_cache_key(view: ViewContext) -> tuple:
    return view.cache_key


# For st.cache_data / st.cache_resource: `@st.cache_data(..., hash_funcs=VIEW_HASH_FUNCS)` on
# `def load_x(view: ViewContext, ...)`, called as `load_x(view)`. Streamlit then hashes the view by
# its cache_key (microseconds) instead of hashing a million rows of frames on every rerun.
VIEW_HASH_FUNCS = {ViewContext: _view_cache_key}
