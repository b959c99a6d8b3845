"""Rep drill-down figures: stage conversion against the team, stalled / silent open deals, and
won / lost per month.

Stage conversion is the Funnel page's (metrics.funnel.compute_stage_funnel, pass-through rule,
history basis) on the same selection — deals created in the period, followed to the as-of date —
grouped by owner or team: one definition under one label, so an owner's drill-down shows exactly
what the Funnel shows with that owner selected. `compute_stage_conversion` (the earlier
resolved-in-period definition over stall intervals) is kept for callers that want stage exits
within a window.
"""

from __future__ import annotations

import pandas as pd

from dealscope.metrics.funnel import FUNNEL_COLUMNS, PASS_THROUGH, compute_stage_funnel
from dealscope.metrics.funnel_paths import funnel_stages
from dealscope.metrics.reps import UNASSIGNED, group_labels, owner_home
from dealscope.metrics.stats import wilson_interval
from dealscope.model import LOST, OPEN, WON

FLAG_SHARE_COLUMNS = (
    "open_flagged_base",
    "stalled",
    "silent",
    "stalled_or_silent",
    "stalled_share",
    "silent_share",
    "flagged_share",
    "median_days_silent",
)


def compute_stage_conversion(
    intervals: pd.DataFrame,
    opportunities: pd.DataFrame,
    stages: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    by: str = "owner",
) -> pd.DataFrame:
    """Per `by` group and open stage: resolved, advanced, conversion (with Wilson interval).

    Takes compute_stage_intervals' frame (computed as of the period's cut-off), opportunities and
    the stage table; counts stage entries in [start, end). Returns columns `by`, stage, position,
    resolved, advanced, conversion, conversion_ci_low, conversion_ci_high (every open stage of
    every group that has any entry, zero-filled).
    """
    columns = [by, "stage", "position", "resolved", "advanced"]
    columns += ["conversion", "conversion_ci_low", "conversion_ci_high"]
    entered = intervals["entered_at"].ge(start) & intervals["entered_at"].lt(end)
    rows = intervals.loc[entered & intervals["kind"].eq(OPEN) & ~intervals["is_current"]]
    owner_of = pd.Series(
        group_labels(opportunities, by).to_numpy(), index=opportunities["opportunity_id"]
    )
    owner_of = owner_of[~owner_of.index.duplicated()]
    rows = rows.assign(group=rows["opportunity_id"].map(owner_of)).dropna(subset=["group"])
    if rows.empty:
        return pd.DataFrame(columns=columns)
    per_deal = rows.groupby(["group", "stage", "opportunity_id"], observed=True)["advanced"].any()
    counts = per_deal.groupby(level=["group", "stage"], observed=True).agg(["size", "sum"])
    counts = counts.rename(columns={"size": "resolved", "sum": "advanced"})
    open_stages = stages.loc[stages["kind"].eq(OPEN), ["stage", "position"]]
    grid = pd.MultiIndex.from_product(
        [counts.index.get_level_values("group").unique(), open_stages["stage"]],
        names=["group", "stage"],
    )
    table = counts.reindex(grid, fill_value=0).reset_index()
    table = table.merge(open_stages, on="stage").rename(columns={"group": by})
    table = table.astype({"resolved": "int64", "advanced": "int64"})
    table["conversion"] = (table["advanced"] / table["resolved"]).where(table["resolved"] > 0)
    table["conversion_ci_low"], table["conversion_ci_high"] = wilson_interval(
        table["advanced"], table["resolved"]
    )
    return table.sort_values([by, "position"]).loc[:, columns].reset_index(drop=True)


CONVERSION_COLUMNS = (
    "stage",
    "position",
    "resolved",
    "advanced",
    "conversion",
    "conversion_ci_low",
    "conversion_ci_high",
)


def funnel_stage_conversion(
    paths: pd.DataFrame, stages: pd.DataFrame, by: str = "owner", rule: str = PASS_THROUGH
) -> pd.DataFrame:
    """Per `by` group and open stage, the Funnel's stage conversion of the group's deals.

    Takes build_deal_paths rows already narrowed to the Funnel's selection (segment filters,
    created in the period) and the stage table. resolved = advanced + lost here, conversion =
    advanced / resolved (deals still open at the stage are left out), Wilson interval — the
    columns `by` then CONVERSION_COLUMNS, every open stage of every group with a deal. Deals
    without a `by` value are not a group (group_labels' UNASSIGNED is dropped).
    """
    columns = [by, *CONVERSION_COLUMNS]
    names = funnel_stages(stages)
    n_open = int(stages["kind"].eq(OPEN).sum())
    if paths.empty or n_open == 0:
        return pd.DataFrame(columns=columns)
    # Only the columns the funnel reads: copying the wide paths frame would cost more than the
    # figures at a million deals.
    group = group_labels(paths, by).to_numpy()
    labelled = pd.DataFrame({c: paths[c].array for c in FUNNEL_COLUMNS})
    labelled["_group"] = group
    labelled = labelled.loc[group != UNASSIGNED]
    if labelled.empty:
        return pd.DataFrame(columns=columns)
    table = compute_stage_funnel(labelled, names, rule, by="_group")
    table = table.loc[table["position"].lt(n_open)].rename(
        columns={"_group": by, "ci_low": "conversion_ci_low", "ci_high": "conversion_ci_high"}
    )
    table = table.astype({"resolved": "int64", "advanced": "int64"})
    return table.sort_values([by, "position"]).loc[:, columns].reset_index(drop=True)


def compare_owner_to_team(
    owner_conversion: pd.DataFrame, team_conversion: pd.DataFrame, owner: str, team: str
) -> pd.DataFrame:
    """One owner's stage conversion beside their team's: stage, position, then the conversion
    columns of compute_stage_conversion prefixed owner_ / team_, and difference (owner − team)."""
    keep = ["stage", "position", "resolved", "advanced", "conversion"]
    mine = owner_conversion.loc[owner_conversion["owner"].eq(owner), keep]
    theirs = team_conversion.loc[team_conversion["team"].eq(team), keep]
    merged = theirs.merge(mine, on=["stage", "position"], how="left", suffixes=("_team", "_owner"))
    merged = merged.rename(columns=lambda c: _prefix_suffix(c))
    for column in ("owner_resolved", "owner_advanced"):
        merged[column] = merged[column].fillna(0).astype("int64")
    merged["difference"] = merged["owner_conversion"] - merged["team_conversion"]
    return merged.sort_values("position").reset_index(drop=True)


def _prefix_suffix(column: str) -> str:
    for suffix in ("_team", "_owner"):
        if column.endswith(suffix):
            return f"{suffix[1:]}_{column[: -len(suffix)]}"
    return column


def compute_flag_shares(
    flags: pd.DataFrame, opportunities: pd.DataFrame, by: str = "owner"
) -> pd.DataFrame:
    """Per `by` group: open deals, stalled / silent counts and shares, median days silent.

    Takes stall.flag_open_deals' frame and opportunities (for team / region). Returns `by` and
    FLAG_SHARE_COLUMNS; open_flagged_base = open deals at the cut-off.
    """
    if by == "owner":
        group = group_labels(flags, "owner")
    else:
        home = group_labels(opportunities, by)
        home.index = opportunities["opportunity_id"]
        group = flags["opportunity_id"].map(home[~home.index.duplicated()]).fillna(UNASSIGNED)
    frame = flags.assign(group=group.to_numpy(), either=flags["stalled"] | flags["silent"]).groupby(
        "group"
    )
    table = pd.DataFrame(
        {
            "open_flagged_base": frame.size(),
            "stalled": frame["stalled"].sum(),
            "silent": frame["silent"].sum(),
            "stalled_or_silent": frame["either"].sum(),
            "median_days_silent": frame["days_silent"].median(),
        }
    )
    for name in ("stalled", "silent"):
        table[f"{name}_share"] = table[name] / table["open_flagged_base"]
    table["flagged_share"] = table["stalled_or_silent"] / table["open_flagged_base"]
    table = table.rename_axis(by).reset_index().astype({by: "object"})
    return table.loc[:, [by, *FLAG_SHARE_COLUMNS]]


def monthly_outcomes(
    opportunities: pd.DataFrame, owner: str, start: pd.Timestamp, end: pd.Timestamp
) -> pd.DataFrame:
    """Won and lost deals of one owner per close month in [start, end): columns month, status,
    count (both statuses for every month from the first to the last close, zero-filled)."""
    mine = group_labels(opportunities, "owner").eq(owner)
    closed = opportunities["closed_at"]
    keep = mine & closed.ge(start) & closed.lt(end) & opportunities["status"].isin([WON, LOST])
    if not keep.any():
        return pd.DataFrame(columns=["month", "status", "count"])
    months = closed[keep].dt.to_period("M")
    counts = pd.crosstab(months, opportunities.loc[keep, "status"])
    span = pd.period_range(months.min(), months.max(), freq="M")
    counts = counts.reindex(index=span, columns=[WON, LOST], fill_value=0)
    counts.index = span.to_timestamp()
    long = counts.rename_axis(index="month", columns="status").stack().rename("count")
    return long.reset_index().astype({"count": "int64"})


def owner_team(opportunities: pd.DataFrame, owner: str) -> str | None:
    """The team most of `owner`'s deals carry (None for an unknown owner)."""
    home = owner_home(opportunities)
    match = home.loc[home["owner"].eq(owner), "team"]
    return str(match.iloc[0]) if not match.empty else None
