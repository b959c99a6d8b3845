"""Point-in-time activity features for the risk model: only activities on or before `as_of`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dealscope.activity.contacts import contact_changes
from dealscope.activity.model import customer_touches
from dealscope.activity.rhythm import DAY, MIN_GAPS, own_rhythm, touch_days

FEATURE_COLUMNS = (
    "touches_7d",
    "touches_30d",
    "days_since_touch",
    "own_median_gap",
    "gap_ratio",
    "contact_changed",
    "days_since_contact_change",
)


def activity_features(
    activities: pd.DataFrame, opportunity_ids, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Features of each deal in `opportunity_ids` as known at `as_of` (index opportunity_id):

    touches_7d / touches_30d: customer-facing activities in (as_of - 7 d, as_of] / 30 d;
    days_since_touch: days from the last customer-facing activity to as_of (NaN: none yet);
    own_median_gap: the deal's median gap between touch days (NaN with fewer than MIN_GAPS gaps);
    gap_ratio: days_since_touch / own_median_gap; contact_changed: whether the established main
    contact changed (contacts.contact_changes) by as_of; days_since_contact_change (NaN: never).
    """
    as_of = pd.Timestamp(as_of)
    ids = pd.Index(pd.Series(list(opportunity_ids), dtype="string"), name="opportunity_id")
    seen = activities.loc[(activities["occurred_at"] <= as_of).to_numpy(dtype=bool)]
    touches = customer_touches(seen)
    age = (as_of - touches["occurred_at"]).to_numpy() / DAY
    ids_of = touches["opportunity_id"].astype("string").to_numpy()
    frame = pd.DataFrame(index=ids)
    for days in (7, 30):
        recent = pd.Series(ids_of[age < days]).value_counts()
        frame[f"touches_{days}d"] = recent.reindex(ids, fill_value=0).to_numpy(dtype=np.int64)
    last = pd.Series(touches["occurred_at"].to_numpy(), index=ids_of).groupby(level=0).max()
    frame["days_since_touch"] = (as_of - last.reindex(ids)).to_numpy() / DAY
    rhythm = own_rhythm(touch_days(seen, as_of))
    rhythm.index = rhythm.index.astype("string")
    median = rhythm["median_gap"].where(rhythm["gaps"] >= MIN_GAPS).reindex(ids)
    frame["own_median_gap"] = median.to_numpy(dtype=float)
    frame["gap_ratio"] = frame["days_since_touch"] / frame["own_median_gap"]
    changes = contact_changes(seen, as_of)
    last_change = (
        pd.Series(
            changes["changed_at"].to_numpy(), index=changes["opportunity_id"].astype("string")
        )
        .groupby(level=0)
        .max()
        .reindex(ids)
    )
    frame["contact_changed"] = last_change.notna().to_numpy()
    frame["days_since_contact_change"] = (as_of - last_change).to_numpy() / DAY
    return frame[list(FEATURE_COLUMNS)]
