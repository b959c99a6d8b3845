"""Rep activity: how much and how fast each owner follows up, beside the outcomes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dealscope.activity.model import ACTIVITY_TYPES, customer_touches
from dealscope.activity.rhythm import touch_days
from dealscope.metrics.kpis import status_as_of
from dealscope.model import LOST, OPEN, WON
from dealscope.periods import complete_weeks, iso_week_labels, iso_week_starts

TOUCHED_WINDOW_DAYS = 14
WEEK = pd.Timedelta(days=7)


@dataclass(frozen=True)
class RepActivity:
    """`table`: one row per owner (touches_per_week, per-type touches per week, open deals,
    share touched in the last TOUCHED_WINDOW_DAYS, median response gap, win rate);
    `weekly`: owner x week x type touch counts for the drill-down chart."""

    table: pd.DataFrame
    weekly: pd.DataFrame
    weeks: float
    start: pd.Timestamp
    as_of: pd.Timestamp


def rep_activity(
    opportunities: pd.DataFrame,
    activities: pd.DataFrame,
    start: pd.Timestamp,
    as_of: pd.Timestamp,
) -> RepActivity:
    """Per owner (of the activity, else of the deal), over activities in [start, as_of].

    touches per week = customer-facing activities in the period / weeks in the period;
    touched_share = open deals (at as_of) with a customer-facing touch in the last 14 days / open
    deals; median_gap = median days between consecutive touch days of the owner's deals, gaps that
    end in the period; win_rate = won / (won + lost) among the owner's deals closed in the period.
    """
    window = activities.loc[
        ((activities["occurred_at"] >= start) & (activities["occurred_at"] <= as_of)).to_numpy()
    ]
    touches = customer_touches(window)
    weeks = max((as_of - start) / WEEK, 1.0)
    by_type = (
        touches.groupby(["owner", "activity_type"], observed=True).size().unstack(fill_value=0)
    )
    by_type = by_type.reindex(columns=[t for t in ACTIVITY_TYPES if t in by_type.columns])
    table = (by_type / weeks).add_prefix("per_week_")
    table.insert(0, "touches_per_week", by_type.sum(axis=1) / weeks)

    deal_owner = opportunities.set_index("opportunity_id")["owner"]
    status = status_as_of(opportunities, as_of)
    open_ids = opportunities.loc[
        (status == OPEN).to_numpy() & (opportunities["created_at"] <= as_of).to_numpy(),
        "opportunity_id",
    ]
    recent = customer_touches(
        activities.loc[
            (activities["occurred_at"] > as_of - pd.Timedelta(days=TOUCHED_WINDOW_DAYS))
            & (activities["occurred_at"] <= as_of)
        ]
    )
    touched = open_ids.isin(recent["opportunity_id"])
    open_owner = open_ids.map(deal_owner)
    open_counts = open_owner.value_counts()
    touched_counts = open_owner[touched.to_numpy()].value_counts()

    days = touch_days(activities, as_of)
    in_period = days["gap"].notna() & (days["day"] >= start)
    gaps = days.loc[in_period]
    median_gap = gaps.groupby(gaps["opportunity_id"].map(deal_owner))["gap"].median()

    closed = opportunities.loc[
        opportunities["closed_at"].between(start, as_of).to_numpy()
        & opportunities["status"].isin([WON, LOST]).to_numpy()
    ]
    won = closed.loc[closed["status"] == WON].groupby("owner").size()
    decided = closed.groupby("owner").size()

    owners = table.index.union(open_counts.index).union(decided.index)
    table = table.reindex(owners)
    table = table.fillna({c: 0.0 for c in table.columns})
    table["open_deals"] = open_counts.reindex(owners, fill_value=0).to_numpy(dtype=np.int64)
    touched_n = touched_counts.reindex(owners, fill_value=0).to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        table["touched_share"] = np.where(
            table["open_deals"] > 0, touched_n / table["open_deals"], np.nan
        )
        table["median_gap"] = median_gap.reindex(owners).to_numpy(dtype=float)
        table["closed"] = decided.reindex(owners, fill_value=0).to_numpy(dtype=np.int64)
        table["win_rate"] = np.where(
            table["closed"] > 0,
            won.reindex(owners, fill_value=0).to_numpy(dtype=float) / table["closed"],
            np.nan,
        )
    table.index.name = "owner"
    table = table.reset_index().sort_values("touches_per_week", ascending=False, kind="stable")

    weekly = weekly_touches(touches, start, as_of)
    return RepActivity(table.reset_index(drop=True), weekly, float(weeks), start, as_of)


def weekly_touches(touches: pd.DataFrame, start: pd.Timestamp, as_of: pd.Timestamp) -> pd.DataFrame:
    """Touches per owner, ISO week (Monday) and type over [start, as_of]: columns owner, week,
    week_label, activity_type, touches. Every week of the range has a row for each (owner, type)
    the owner used, a quiet week counted 0, so the chart shows the gap as a zero week."""
    counts = (
        touches.assign(week=iso_week_starts(touches["occurred_at"]))
        .groupby(["owner", "activity_type"], observed=True)["week"]
        .value_counts()
        .rename("touches")
        .reset_index()
    )
    weeks = pd.DataFrame({"week": complete_weeks(start, as_of + pd.Timedelta(microseconds=1))})
    pairs = counts[["owner", "activity_type"]].drop_duplicates()
    grid = pairs.merge(weeks, how="cross")
    weekly = grid.merge(counts, on=["owner", "activity_type", "week"], how="left")
    weekly["touches"] = weekly["touches"].fillna(0).astype("int64")
    weekly.insert(2, "week_label", iso_week_labels(weekly["week"]))
    return weekly.loc[:, ["owner", "week", "week_label", "activity_type", "touches"]]
