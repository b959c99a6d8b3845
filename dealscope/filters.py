"""Segment filters shared by every view: which opportunities a page looks at."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

# The sidebar's filterable segment columns, in display order.
FILTER_COLUMNS = ("region", "industry", "source", "owner")


@dataclass(frozen=True)
class Filters:
    """The user's view: a period [start, end] (inclusive dates) and segment value selections.

    An empty selection means "all". The period does not drop rows by itself: each metric decides
    how the period applies (deals created in it, closed in it, open at its end) and says so.
    """

    start: date | None = None
    end: date | None = None
    segments: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def period_bounds(self) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        """[start, end) as timestamps: the end date is included up to midnight."""
        start = pd.Timestamp(self.start) if self.start else None
        end = pd.Timestamp(self.end) + pd.Timedelta(days=1) if self.end else None
        return start, end


def segment_options(opportunities: pd.DataFrame, column: str) -> list[str]:
    """The sorted distinct non-null values of a segment column (the allowed filter values)."""
    if column not in opportunities.columns:
        return []
    return sorted(opportunities[column].dropna().astype(str).unique().tolist())


def apply_segment_filters(opportunities: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """Rows of `opportunities` matching every non-empty segment selection of `filters`."""
    mask = pd.Series(True, index=opportunities.index)
    for column, values in filters.segments.items():
        if values and column in opportunities.columns:
            mask &= opportunities[column].isin(values).fillna(False).astype(bool)
    return opportunities.loc[mask]


def events_for(stage_events: pd.DataFrame, opportunities: pd.DataFrame) -> pd.DataFrame:
    """The stage events that belong to the given opportunities."""
    return stage_events.loc[stage_events["opportunity_id"].isin(opportunities["opportunity_id"])]
