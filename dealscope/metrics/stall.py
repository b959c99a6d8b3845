"""Time in stage, stall lines and the stalled / silent flags of open deals (DESIGN §4).

A stage interval runs from a stage entry to the deal's next entry (the exit). The stall line of a
stage is the P75 of time in it among deals that advanced from it; an open deal is *stalled* when it
has sat in its current stage longer than that, and *silent* when its last activity is older than a
threshold (default 14 days). Shared by the cycle-time, reps, risk and weekly views.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dealscope.metrics.kpis import status_as_of
from dealscope.model import LOST, OPEN

DEFAULT_SILENCE_DAYS = 14
STALL_QUANTILE = 0.75
# A stall line from fewer advanced deals than this is too noisy to flag anybody.
MIN_ADVANCED_FOR_STALL_LINE = 10
SECONDS_PER_DAY = 86_400
# The columns flag_open_deals returns, in order.
FLAG_COLUMNS = (
    "opportunity_id",
    "name",
    "owner",
    "stage",
    "amount",
    "days_in_stage",
    "stall_days",
    "stalled",
    "days_silent",
    "silent",
)


def compute_stage_intervals(
    stage_events: pd.DataFrame, stages: pd.DataFrame, as_of: pd.Timestamp
) -> pd.DataFrame:
    """One row per stage entry up to `as_of`, with its exit and duration.

    Takes stage_events (opportunity_id, stage, entered_at) and stages (stage, position, kind).
    Returns opportunity_id, stage, position, kind, entered_at, exited_at (NaT while current),
    next_stage, days (to the exit, or to `as_of` while current), is_current, advanced (the next
    entry is a later open stage or a win; a loss never is), regressed (the next entry is an earlier stage).
    """
    events = stage_events.loc[stage_events["entered_at"] <= as_of]
    events = events.sort_values(["opportunity_id", "entered_at"], kind="stable")
    positions = stages.set_index("stage")["position"]
    kinds = stages.set_index("stage")["kind"]
    # fillna: with the canonical string dtype the last row compares to <NA>, not False.
    same_deal = events["opportunity_id"].eq(events["opportunity_id"].shift(-1)).fillna(False)
    same_deal = same_deal.astype(bool)
    exited = events["entered_at"].shift(-1).where(same_deal)
    next_stage = events["stage"].shift(-1).where(same_deal)
    position = events["stage"].map(positions)
    next_position = next_stage.map(positions)
    # Losing is never advancing, even though the lost stage sorts after the open ones.
    next_is_lost = next_stage.map(kinds).eq(LOST)
    is_current = ~same_deal
    end = exited.where(~is_current, as_of)
    return pd.DataFrame(
        {
            "opportunity_id": events["opportunity_id"],
            "stage": events["stage"],
            "position": position,
            "kind": events["stage"].map(kinds),
            "entered_at": events["entered_at"],
            "exited_at": exited,
            "next_stage": next_stage,
            "days": (end - events["entered_at"]).dt.total_seconds() / SECONDS_PER_DAY,
            "is_current": is_current,
            "advanced": ((next_position > position) & ~next_is_lost).fillna(False).astype(bool),
            "regressed": ((next_position < position) & ~next_is_lost).fillna(False).astype(bool),
        }
    ).reset_index(drop=True)


def compute_stall_lines(intervals: pd.DataFrame, stages: pd.DataFrame) -> pd.DataFrame:
    """Per open stage: stall_days = P75 of days among intervals that advanced, and n_advanced.

    Takes compute_stage_intervals' frame. stall_days is NaN where fewer than
    MIN_ADVANCED_FOR_STALL_LINE deals advanced (no line is drawn from so little).
    """
    open_stages = stages.loc[stages["kind"] == OPEN, ["stage", "position"]]
    advanced = intervals.loc[intervals["advanced"] & intervals["kind"].eq(OPEN)]
    grouped = advanced.groupby("stage", observed=True)["days"]
    lines = open_stages.set_index("stage").assign(
        n_advanced=grouped.size(), stall_days=grouped.quantile(STALL_QUANTILE)
    )
    lines["n_advanced"] = lines["n_advanced"].fillna(0).astype("int64")
    lines.loc[lines["n_advanced"] < MIN_ADVANCED_FOR_STALL_LINE, "stall_days"] = np.nan
    return lines.reset_index().sort_values("position").reset_index(drop=True)


def flag_open_deals(
    opportunities: pd.DataFrame,
    intervals: pd.DataFrame,
    stall_lines: pd.DataFrame,
    as_of: pd.Timestamp,
    silence_days: float = DEFAULT_SILENCE_DAYS,
) -> pd.DataFrame:
    """The deals open at `as_of` with their stall and silence evidence.

    Returns opportunity_id, name, owner, stage, amount, days_in_stage, stall_days, stalled,
    days_silent, silent. days_in_stage comes from the stage history, else from stage_entered_at
    (a days-in-stage column of the export), else NaN; days_silent is NaN when the
    last activity is unknown or lies after `as_of` (then silence at `as_of` cannot be known).
    """
    open_mask = status_as_of(opportunities, as_of).eq(OPEN) & opportunities["created_at"].le(as_of)
    deals = opportunities.loc[open_mask, ["opportunity_id", "name", "owner", "amount"]]
    current = intervals.loc[intervals["is_current"] & intervals["kind"].eq(OPEN)]
    current = current.loc[:, ["opportunity_id", "stage", "days"]].rename(
        columns={"days": "days_in_stage"}
    )
    deals = deals.merge(current, on="opportunity_id", how="left")
    by_id = opportunities.loc[open_mask].set_index("opportunity_id")  # once, for every lookup
    deals["stage"] = deals["stage"].fillna(deals["opportunity_id"].map(by_id["stage"]))
    # Without history, a days-in-stage column dated at ingest (stage_entered_at) still says how
    # long the deal has been in its current stage, when that entry lies before the as-of date.
    if "stage_entered_at" in opportunities:
        entered = deals["opportunity_id"].map(by_id["stage_entered_at"])
        reported = (as_of - entered).dt.total_seconds() / SECONDS_PER_DAY
        deals["days_in_stage"] = deals["days_in_stage"].fillna(reported.where(entered.le(as_of)))
    deals["stall_days"] = deals["stage"].map(stall_lines.set_index("stage")["stall_days"])
    deals["stalled"] = (deals["days_in_stage"] > deals["stall_days"]).fillna(False).astype(bool)
    last_activity = deals["opportunity_id"].map(by_id["last_activity_at"])
    silent_for = (as_of - last_activity).dt.total_seconds() / SECONDS_PER_DAY
    deals["days_silent"] = silent_for.where(last_activity.le(as_of))
    deals["silent"] = (deals["days_silent"] > silence_days).fillna(False).astype(bool)
    return deals.loc[:, list(FLAG_COLUMNS)].reset_index(drop=True)


def current_stage_ages(flags: pd.DataFrame, stages: pd.DataFrame) -> pd.DataFrame:
    """How long the open deals have been in the stage they are in now, per open stage.

    Takes flag_open_deals' frame and stages (stage, position, kind). Returns stage, position,
    open_deals, known (deals whose time in the stage is known), median, p75 (days). Unlike
    time_in_stage these are unfinished visits (they only say "at least so long"); it is what an
    export without stage history can tell, from a days-in-stage column.
    """
    open_stages = stages.loc[stages["kind"] == OPEN, ["stage", "position"]].set_index("stage")
    grouped = flags.groupby("stage", observed=True)["days_in_stage"]
    table = open_stages.assign(
        open_deals=grouped.size(),
        known=grouped.count(),
        median=grouped.median(),
        p75=grouped.quantile(STALL_QUANTILE),
    )
    table[["open_deals", "known"]] = table[["open_deals", "known"]].fillna(0).astype("int64")
    table = table.loc[table["open_deals"] > 0]
    return table.reset_index().sort_values("position").reset_index(drop=True)
