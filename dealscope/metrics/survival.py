"""Kaplan–Meier time to close, open deals right-censored at the as-of date (vectorised numpy).

Averages of closed deals leave out every deal still open and so understate how long deals take;
KM keeps them as censored observations. lifelines agrees with these numbers (tested); this module
exists because per-group medians (per owner, per segment) must be computed for all groups at once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dealscope.metrics.kpis import status_as_of
from dealscope.model import OPEN

SECONDS_PER_DAY = 86_400


def close_durations(opportunities: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per deal created by `as_of`: days from creation to close (closed=True) or to `as_of`
    (closed=False, censored). Takes opportunities; returns opportunity_id, days, closed.

    Deals without a creation date, or closed without a close date, are left out (no duration).
    """
    created = opportunities["created_at"]
    status = status_as_of(opportunities, as_of)
    closed = status.ne(OPEN)
    end = opportunities["closed_at"].where(closed, as_of)
    days = (end - created).dt.total_seconds() / SECONDS_PER_DAY
    keep = created.notna() & created.le(as_of) & days.notna()
    return pd.DataFrame(
        {
            "opportunity_id": opportunities.loc[keep, "opportunity_id"],
            "days": days[keep].clip(lower=0.0),
            "closed": closed[keep].astype(bool),
        }
    ).reset_index(drop=True)


def kaplan_meier_table(
    days: pd.Series, observed: pd.Series, group: pd.Series | None = None
) -> pd.DataFrame:
    """The KM survival table at each distinct event/censoring time, per group when given.

    Returns columns group (if given), time, at_risk, events, survival (S(t) just after t).
    """
    frame = pd.DataFrame(
        {
            "group": group.to_numpy() if group is not None else 0,
            "time": np.asarray(days, dtype="float64"),
            "event": np.asarray(observed, dtype="int64"),
        }
    )
    table = (
        frame.groupby(["group", "time"], sort=True, observed=True)
        .agg(count=("event", "size"), events=("event", "sum"))
        .reset_index()
    )
    group_total = table.groupby("group", observed=True)["count"].transform("sum")
    before = table.groupby("group", observed=True)["count"].cumsum() - table["count"]
    table["at_risk"] = group_total - before
    table["survival"] = (
        (1.0 - table["events"] / table["at_risk"]).groupby(table["group"], observed=True).cumprod()
    )
    columns = ["time", "at_risk", "events", "survival"]
    if group is not None:
        return table.loc[:, ["group", *columns]]
    return table.loc[:, columns]


def km_median_by_group(days: pd.Series, observed: pd.Series, group: pd.Series) -> pd.Series:
    """KM median (first time S(t) ≤ 0.5) per group; NaN where the curve never reaches 0.5."""
    table = kaplan_meier_table(days, observed, group)
    reached = table.loc[table["survival"] <= 0.5]
    medians = reached.groupby("group", observed=True)["time"].first()
    return medians.reindex(pd.unique(group.dropna())).rename("km_median_days")


def km_median(days: pd.Series, observed: pd.Series) -> float | None:
    """KM median of one sample; None when fewer than half the deals are observed to close."""
    if len(days) == 0:
        return None
    table = kaplan_meier_table(days, observed)
    reached = table.loc[table["survival"] <= 0.5, "time"]
    return float(reached.iloc[0]) if not reached.empty else None
