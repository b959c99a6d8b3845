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
        """A hashable key for st.cache_data: pass frames as _underscored arguments beside it."""
        segments = tuple(sorted(self.filters.segments.items()))
        period = (self.filters.start, self.filters.end)
        return (self.db_url, self.dataset.id, segments, *period, self.as_of)

    def period_bounds(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """[start, end) of the selected period, defaulting to the data's full range."""
        start, end = self.filters.period_bounds()
        if start is None:
            first = self.dataset.opportunities["created_at"].min()
            start = first.normalize() if pd.notna(first) else self.as_of.normalize()
        if end is None:
            end = self.as_of.normalize() + pd.Timedelta(days=1)
        return start, end


def set_view(view: ViewContext | None) -> None:
    st.session_state[_VIEW_KEY] = view


def current_view() -> ViewContext | None:
    """The view set by app.py for this rerun, or None when there is no dataset to show."""
    return st.session_state.get(_VIEW_KEY)
