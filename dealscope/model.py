"""The canonical tables every source is normalised to (DESIGN.md §3) and the stage configuration."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

OPEN, WON, LOST = "open", "won", "lost"
STATUSES = (OPEN, WON, LOST)

TEXT_COLUMNS = (
    "opportunity_id",
    "name",
    "account",
    "owner",
    "team",
    "region",
    "industry",
    "source",
    "customer_type",
    "currency",
    "stage",
    "status",
    "lost_reason",
    "next_step",
    "extra",
    "flags",
)
DATE_COLUMNS = ("created_at", "closed_at", "expected_close_at", "last_activity_at")
NUMBER_COLUMNS = ("amount", "probability")

# Column order of the canonical opportunities frame. `probability` is the source's win probability
# as 0–1 (optional; out-of-range values kept as read and flagged; never a model feature). `extra`
# holds unmapped source columns as a JSON object string; `flags` holds comma-separated data-quality
# flags of the row (e.g. "close-before-create,negative-amount"); all three may be null.
OPPORTUNITY_COLUMNS = (
    "opportunity_id",
    "name",
    "account",
    "owner",
    "team",
    "region",
    "industry",
    "source",
    "customer_type",
    "amount",
    "currency",
    "probability",
    "stage",
    "status",
    "created_at",
    "closed_at",
    "expected_close_at",
    "last_activity_at",
    "lost_reason",
    "next_step",
    "extra",
    "flags",
)
STAGE_EVENT_COLUMNS = ("opportunity_id", "stage", "entered_at")
STAGE_COLUMNS = ("stage", "position", "kind")

# The segment columns users can filter and compare by.
SEGMENT_COLUMNS = ("region", "industry", "source", "customer_type", "owner", "team")

# The demo pipeline's stages, in order (open stages first, then the two closed ones).
DEMO_OPEN_STAGES = ("线索", "需求确认", "方案提交", "技术交流", "价格谈判")
DEMO_WON_STAGE = "赢单"
DEMO_LOST_STAGE = "输单"


@dataclass(frozen=True)
class Dataset:
    """One stored dataset: the canonical tables plus what is known about where it came from."""

    id: int
    name: str
    opportunities: pd.DataFrame
    stage_events: pd.DataFrame
    stages: pd.DataFrame
    meta: dict

    @property
    def has_history(self) -> bool:
        return not self.stage_events.empty


def empty_opportunities() -> pd.DataFrame:
    """An empty opportunities frame with the canonical columns and dtypes."""
    return normalise_opportunities(pd.DataFrame(columns=list(OPPORTUNITY_COLUMNS)))


def normalise_opportunities(frame: pd.DataFrame) -> pd.DataFrame:
    """Return `frame` with exactly the canonical opportunity columns, in order, with canonical dtypes.

    Missing optional columns are added as nulls. Text is pandas' nullable string dtype, dates are
    naive datetime64 (already in the dataset's declared time zone), amount and probability float64.
    """
    rows = len(frame)
    columns = {}
    for column in OPPORTUNITY_COLUMNS:
        if column not in frame.columns:  # absent: typed nulls, without converting anything
            columns[column] = null_column(column, rows)
        elif column in DATE_COLUMNS:
            values = pd.to_datetime(frame[column], errors="raise", format="ISO8601")
            columns[column] = values.astype("datetime64[ns]").array
        elif column in NUMBER_COLUMNS:
            columns[column] = pd.to_numeric(frame[column], errors="raise").astype("float64").array
        else:
            columns[column] = frame[column].astype("string").array
    # One construction from column arrays (each copied): per-column inserts cost more than the
    # conversions on small frames.
    return pd.DataFrame(columns, index=pd.RangeIndex(rows), copy=True)


def null_column(column: str, rows: int):
    """`rows` nulls typed as canonical opportunity column `column` (NaT, NaN or string NA)."""
    if column in DATE_COLUMNS:
        return np.full(rows, np.datetime64("NaT"), dtype="datetime64[ns]")
    if column in NUMBER_COLUMNS:
        return np.full(rows, np.nan)
    return pd.array(np.full(rows, pd.NA, dtype=object), dtype="string")


def normalise_stage_events(frame: pd.DataFrame) -> pd.DataFrame:
    """Return stage events with columns opportunity_id, stage (string), entered_at (datetime64)."""
    if frame.empty:  # most uploads have no history: skip the conversions and the sort
        return pd.DataFrame(
            {
                "opportunity_id": pd.array([], dtype="string"),
                "stage": pd.array([], dtype="string"),
                "entered_at": np.array([], dtype="datetime64[ns]"),
            }
        )
    out = pd.DataFrame(
        {
            "opportunity_id": frame.get("opportunity_id", pd.Series(dtype="string")).astype(
                "string"
            ),
            "stage": frame.get("stage", pd.Series(dtype="string")).astype("string"),
            "entered_at": pd.to_datetime(
                frame.get("entered_at", pd.Series(dtype="datetime64[ns]")), format="ISO8601"
            ).astype("datetime64[ns]"),
        }
    )
    return out.sort_values(["opportunity_id", "entered_at"], kind="stable").reset_index(drop=True)


def normalise_stages(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the stage table with columns stage, position (int), kind (open/won/lost), by position."""
    out = pd.DataFrame(
        {
            "stage": frame["stage"].astype("string"),
            "position": frame["position"].astype("int64"),
            "kind": frame["kind"].astype("string"),
        }
    )
    unknown = set(out["kind"].dropna()) - set(STATUSES)
    if unknown:
        raise ValueError(f"stage kind must be one of {STATUSES}, got {sorted(unknown)}")
    return out.sort_values("position", kind="stable").reset_index(drop=True)


def demo_stage_table() -> pd.DataFrame:
    """The demo pipeline's stage table (线索 … 价格谈判, then 赢单 / 输单)."""
    rows = [(stage, i, OPEN) for i, stage in enumerate(DEMO_OPEN_STAGES)]
    rows += [(DEMO_WON_STAGE, len(rows), WON), (DEMO_LOST_STAGE, len(rows) + 1, LOST)]
    return normalise_stages(pd.DataFrame(rows, columns=list(STAGE_COLUMNS)))


def open_stage_order(stages: pd.DataFrame) -> list[str]:
    """The open stages in pipeline order."""
    return stages.loc[stages["kind"] == OPEN, "stage"].tolist()
