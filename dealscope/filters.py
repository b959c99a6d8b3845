"""Segment filters shared by every view: which opportunities a page looks at."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
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
    # The period preset (dealscope.periods.PRESETS or CUSTOM) and its previous comparable period
    # [previous_start, previous_end] (inclusive dates). previous_start None: none was resolved, so
    # the previous period is the one of equal length before `start` (or none for all time).
    preset: str | None = None
    previous_start: date | None = None
    previous_end: date | None = None

    def period_bounds(self) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        """[start, end) as timestamps: the end date is included up to midnight."""
        start = pd.Timestamp(self.start) if self.start else None
        end = pd.Timestamp(self.end) + pd.Timedelta(days=1) if self.end else None
        return start, end

    def previous_bounds(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """The resolved previous period as [start, end) timestamps, or None when none was set."""
        if self.previous_start is None or self.previous_end is None:
            return None
        return pd.Timestamp(self.previous_start), pd.Timestamp(self.previous_end) + pd.Timedelta(
            days=1
        )


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


def event_deal_rows(opportunities: pd.DataFrame, stage_events: pd.DataFrame) -> np.ndarray:
    """The position of each event's deal in `opportunities` (-1 if none), as int64.

    Computed once per dataset (the app caches it beside the dataset, never as a column of the
    canonical frame) so that filtering millions of events by a subset of deals is an integer
    lookup instead of a string `isin` (≈20 ms instead of seconds at 5M events).
    """
    rows = pd.Index(opportunities["opportunity_id"]).get_indexer(stage_events["opportunity_id"])
    return rows.astype("int64")


def events_for(
    stage_events: pd.DataFrame,
    opportunities: pd.DataFrame,
    event_rows: np.ndarray | None = None,
) -> pd.DataFrame:
    """The stage events that belong to the given opportunities.

    With `event_rows` (event_deal_rows of the full frames) the opportunities' index must be their
    positions in the full frame the rows were computed against — true of any row subset of a
    loaded dataset. Without it, the deals are matched by id.
    """
    if event_rows is None:
        return stage_events.loc[
            stage_events["opportunity_id"].isin(opportunities["opportunity_id"])
        ]
    rows = np.asarray(event_rows, dtype="int64")
    size = max(
        int(rows.max(initial=-1)), int(opportunities.index.max()) if len(opportunities) else -1
    )
    keep = np.zeros(size + 2, dtype=bool)  # the extra last slot stays False for row -1
    keep[opportunities.index.to_numpy()] = True
    return stage_events.loc[keep[rows]]
