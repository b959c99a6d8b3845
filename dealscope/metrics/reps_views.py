"""The Reps page's figures in one pure call: leaderboards per level and an owner's drill-down.

Composes metrics.reps (outcomes, shrinkage, KM), metrics.reps_detail (stage conversion, flags,
monthly trend) and metrics.stall (intervals, stall lines, flags) for one period. Everything "at
the end of the period" (open deals, stall and silence) is measured at the cut-off = min(period
end, as-of date), so no figure looks past the data. Stage conversion is the Funnel's (deals
created in the period, followed to the as-of date), so the drill-down and the Funnel page agree.
Deals without an owner (team, region) are no group to rank: they are counted apart
(`RepViews.unassigned`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dealscope.metrics.funnel_paths import build_deal_paths, in_period
from dealscope.metrics.kpis import main_currency, period_outcomes
from dealscope.metrics.reps import GROUP_LEVELS, UNASSIGNED, compute_performance, group_labels
from dealscope.metrics.reps_detail import (
    compare_owner_to_team,
    compute_flag_shares,
    funnel_stage_conversion,
    monthly_outcomes,
)
from dealscope.metrics.shrinkage import BetaPrior
from dealscope.metrics.stall import (
    FLAG_COLUMNS,
    compute_stage_intervals,
    compute_stall_lines,
    flag_open_deals,
)

# The drill-down is one owner's deals: flag_open_deals' columns without the owner.
OPEN_DEAL_COLUMNS = tuple(c for c in FLAG_COLUMNS if c != "owner")


@dataclass(frozen=True)
class RepViews:
    """Per level (owner, team, region): the performance table with flag shares, and its prior.

    unassigned: per level, the deals of the period (open at its end or closed in it) without a
    value at that level — left out of the tables and the prior, shown as a separate count.
    """

    tables: dict[str, pd.DataFrame]
    priors: dict[str, BetaPrior | None]
    owner_conversion: pd.DataFrame
    team_conversion: pd.DataFrame
    flags: pd.DataFrame
    currency: str | None
    cutoff: pd.Timestamp
    has_history: bool
    unassigned: dict[str, int] = field(default_factory=dict)


def compute_rep_views(
    opportunities: pd.DataFrame,
    stage_events: pd.DataFrame,
    stages: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    as_of: pd.Timestamp,
    all_time: bool = False,
    funnel_paths: pd.DataFrame | None = None,
) -> RepViews:
    """Every level's table (compute_performance columns + FLAG_SHARE_COLUMNS), stage conversion
    per owner and per team, and the open deals' flags (stall.flag_open_deals columns + team).
    all_time: the tables count every deal up to `end`, undated ones too (no period chosen).
    funnel_paths: the Funnel's selection (build_deal_paths rows of these deals created in
    [start, end)) when the caller has it cached; else built here from the frames."""
    currency = main_currency(opportunities)
    cutoff = min(end, as_of)
    has_history = not stage_events.empty
    intervals = compute_stage_intervals(stage_events, stages, cutoff)
    flags = flag_open_deals(
        opportunities, intervals, compute_stall_lines(intervals, stages), cutoff
    )
    if not has_history:
        # Without stage history nobody can be called stalled: unknown, not "0% stalled".
        flags["stalled"] = False
    tables, priors, unassigned = {}, {}, {}
    since = None if all_time else start
    outcomes = period_outcomes(opportunities, since, end)
    in_tables = outcomes.won | outcomes.lost | outcomes.open
    for level in GROUP_LEVELS:  # three fixed levels, each one vectorised over all its groups
        table, prior = compute_performance(
            opportunities, since, end, as_of, level, currency, keep_unassigned=False
        )
        missing = group_labels(opportunities, level).eq(UNASSIGNED)
        unassigned[level] = int((missing & in_tables).sum())
        shares = compute_flag_shares(flags, opportunities, level)
        table = table.merge(shares, on=level, how="left")
        table["open_flagged_base"] = table["open_flagged_base"].fillna(0).astype("int64")
        if not has_history:
            table[["stalled", "stalled_share"]] = np.nan
        tables[level], priors[level] = table, prior
    if not has_history:  # no stage history, no stage conversion (the Funnel says the same)
        funnel_paths = pd.DataFrame(columns=["owner", "team"])
    elif funnel_paths is None:
        paths, _ = build_deal_paths(opportunities, stage_events, stages, as_of)
        funnel_paths = in_period(paths, start, end)
    return RepViews(
        tables=tables,
        priors=priors,
        owner_conversion=funnel_stage_conversion(funnel_paths, stages, "owner"),
        team_conversion=funnel_stage_conversion(funnel_paths, stages, "team"),
        flags=flags,
        currency=currency,
        cutoff=cutoff,
        has_history=has_history,
        unassigned=unassigned,
    )


def owner_drilldown(
    views: RepViews,
    opportunities: pd.DataFrame,
    owner: str,
    start: pd.Timestamp,
    end: pd.Timestamp,
) -> dict[str, object]:
    """One owner: their performance row (dict), team, stage conversion beside the team's
    (compare_owner_to_team), open deals with flags (OPEN_DEAL_COLUMNS, flagged first) and
    won / lost per month (monthly_outcomes)."""
    owners = views.tables["owner"]
    row = owners.loc[owners["owner"].eq(owner)]
    team = str(row["team"].iloc[0]) if not row.empty else None
    open_deals = views.flags.loc[
        group_labels(views.flags, "owner").eq(owner), list(OPEN_DEAL_COLUMNS)
    ]
    open_deals = open_deals.sort_values(
        ["stalled", "silent", "days_silent"], ascending=[False, False, False]
    ).reset_index(drop=True)
    return {
        "row": row.iloc[0].to_dict() if not row.empty else None,
        "team": team,
        "conversion": compare_owner_to_team(
            views.owner_conversion, views.team_conversion, owner, team
        )
        if team is not None and not views.team_conversion.empty
        else pd.DataFrame(),
        "open_deals": open_deals,
        "monthly": monthly_outcomes(opportunities, owner, start, end),
    }
