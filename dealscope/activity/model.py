"""The canonical activity frame and the activity kinds DealScope understands."""

from __future__ import annotations

import numpy as np
import pandas as pd

# One row per logged follow-up, linked to a deal of the dataset.
ACTIVITY_COLUMNS = (
    "opportunity_id",
    "occurred_at",
    "activity_type",
    "owner",
    "contact",
    "subject",
)
TEXT_COLUMNS = ("opportunity_id", "activity_type", "owner", "contact", "subject")

CALL, MEETING, EMAIL, MESSAGE, NOTE, TASK, OTHER = (
    "call",
    "meeting",
    "email",
    "message",
    "note",
    "task",
    "other",
)
ACTIVITY_TYPES = (CALL, MEETING, EMAIL, MESSAGE, NOTE, TASK, OTHER)
# A touch the customer saw: a call, a meeting or visit, an email, a chat message. Notes and tasks
# are the rep's own bookkeeping and say nothing about whether the customer is still answering.
CUSTOMER_FACING = (CALL, MEETING, EMAIL, MESSAGE)


def empty_activities() -> pd.DataFrame:
    return normalise_activities(pd.DataFrame({c: [] for c in ACTIVITY_COLUMNS}))


def normalise_activities(frame: pd.DataFrame) -> pd.DataFrame:
    """Canonical dtypes (text as pandas `string`, naive datetime64[ns]), sorted by deal and time."""
    out = pd.DataFrame(
        {c: frame[c].astype("string") if c in TEXT_COLUMNS else frame[c] for c in ACTIVITY_COLUMNS}
    )
    out["occurred_at"] = pd.to_datetime(out["occurred_at"]).astype("datetime64[ns]")
    return out.sort_values(["opportunity_id", "occurred_at"], kind="stable").reset_index(drop=True)


def customer_touches(activities: pd.DataFrame) -> pd.DataFrame:
    """Only the customer-facing rows (CUSTOMER_FACING)."""
    return activities.loc[activities["activity_type"].isin(CUSTOMER_FACING).to_numpy(dtype=bool)]


def days_between(later: pd.Series | np.ndarray, earlier: pd.Series | np.ndarray) -> np.ndarray:
    """(later - earlier) in fractional days, NaN where either is missing."""
    delta = (
        pd.to_datetime(pd.Series(later)).to_numpy() - pd.to_datetime(pd.Series(earlier)).to_numpy()
    )
    return delta / np.timedelta64(1, "D")
