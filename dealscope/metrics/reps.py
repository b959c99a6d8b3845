"""Rep performance: per owner, team or region, fair to small samples (DESIGN §4, METHODS §6.4/6.6).

How the period [start, end) applies, as in kpis.compute_period_kpis: won / lost = closed in the
period; open = created before its end and still open at its end. Median days to close is
Kaplan–Meier over the deals *created* in the period, open ones censored at the period's end (or
the as-of date when earlier). Win rate = won / (won + lost), never with open deals; by value =
won amount / (won + lost amount), in the main currency only. Ranking uses the empirical-Bayes
shrunk win rate of metrics.shrinkage; groups with fewer than MIN_CLOSED_FOR_RANKING closed deals
are flagged `small_sample` (the UI greys them and shows their raw counts).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dealscope.metrics.kpis import main_currency, period_outcomes, priced_amount
from dealscope.metrics.shrinkage import BetaPrior, fit_beta_prior, shrink_win_rate
from dealscope.metrics.stats import wilson_interval
from dealscope.metrics.survival import close_durations, km_median_by_group

# Below this many closed deals a win rate is noise (METHODS §6.6: leak-finder shows counts < 20).
MIN_CLOSED_FOR_RANKING = 20
# Deals without an owner / team / region are grouped under this label, never dropped silently.
UNASSIGNED = "—"
GROUP_LEVELS = ("owner", "team", "region")

PERFORMANCE_COLUMNS = (
    "open_count",
    "open_value",
    "won",
    "won_value",
    "lost",
    "lost_value",
    "closed",
    "win_rate",
    "win_rate_ci_low",
    "win_rate_ci_high",
    "win_rate_value",
    "win_rate_shrunk",
    "avg_won_amount",
    "km_median_days_to_close",
    "small_sample",
    "rank",
)
# The `reps` list of `metrics --json` (issue 6).
REPORT_FIELDS = (
    "owner",
    "open",
    "won",
    "lost",
    "won_amount",
    "win_rate",
    "win_rate_ci_low",
    "win_rate_ci_high",
    "win_rate_shrunk",
    "km_median_days_to_close",
)


def group_labels(opportunities: pd.DataFrame, by: str) -> pd.Series:
    """The `by` column (owner, team or region) as plain strings, UNASSIGNED where missing."""
    return opportunities[by].astype("object").where(opportunities[by].notna(), UNASSIGNED)


def owner_home(opportunities: pd.DataFrame) -> pd.DataFrame:
    """Per owner: the team and region most of their deals carry — columns owner, team, region."""
    frame = pd.DataFrame(
        {column: group_labels(opportunities, column) for column in ("owner", "team", "region")}
    )
    counts = frame.value_counts(sort=False).rename("n").reset_index()
    # Most deals first; ties broken by name so the answer does not depend on row order.
    counts = counts.sort_values(
        ["owner", "n", "team", "region"], ascending=[True, False, True, True]
    )
    return (
        counts.drop_duplicates("owner").loc[:, ["owner", "team", "region"]].reset_index(drop=True)
    )


def compute_performance(
    opportunities: pd.DataFrame,
    start: pd.Timestamp | None,
    end: pd.Timestamp,
    as_of: pd.Timestamp,
    by: str = "owner",
    currency: str | None = None,
    keep_unassigned: bool = True,
) -> tuple[pd.DataFrame, BetaPrior | None]:
    """Per `by` group over the period [start, end): outcomes, win rates, shrinkage and KM.
    start None: all time up to `end` (kpis.period_outcomes), undated deals included.
    keep_unassigned False: deals without a `by` value form no UNASSIGNED row and take no part in
    the prior or the ranking (the Reps page counts them apart: an absent owner is not a rep).

    Takes canonical opportunities. Returns (frame, prior): frame has `by` then
    PERFORMANCE_COLUMNS (plus team, region when by="owner"), sorted by rank (shrunk win rate,
    best first); prior is the fitted Beta prior (None when nothing closed).
    """
    currency = currency if currency is not None else main_currency(opportunities)
    group = group_labels(opportunities, by)
    amount = priced_amount(opportunities, currency)
    outcomes = period_outcomes(opportunities, start, end)
    won, lost, is_open = outcomes.won, outcomes.lost, outcomes.open
    parts = pd.DataFrame(
        {
            "group": group,
            "open_count": is_open,
            "open_value": amount.where(is_open, 0.0),
            "won": won,
            "won_value": amount.where(won, 0.0),
            "lost": lost,
            "lost_value": amount.where(lost, 0.0),
        }
    )
    # A group appears when it has any open or closed deal in the period.
    relevant = is_open | won | lost
    if not keep_unassigned:
        relevant &= group.ne(UNASSIGNED)
    table = parts.loc[relevant].groupby("group", sort=True).sum(min_count=0)
    table = table.astype({"open_count": "int64", "won": "int64", "lost": "int64"})
    table["closed"] = table["won"] + table["lost"]
    with np.errstate(invalid="ignore", divide="ignore"):
        table["win_rate"] = np.where(table["closed"] > 0, table["won"] / table["closed"], np.nan)
        value_base = table["won_value"] + table["lost_value"]
        table["win_rate_value"] = np.where(value_base > 0, table["won_value"] / value_base, np.nan)
        table["avg_won_amount"] = np.where(
            table["won"] > 0, table["won_value"] / table["won"], np.nan
        )
    table["win_rate_ci_low"], table["win_rate_ci_high"] = wilson_interval(
        table["won"], table["closed"]
    )
    prior = fit_beta_prior(table["won"], table["closed"])
    table["win_rate_shrunk"] = shrink_win_rate(table["won"], table["closed"], prior)
    table["km_median_days_to_close"] = _km_medians(opportunities, group, start, end, as_of).reindex(
        table.index
    )
    table["small_sample"] = table["closed"] < MIN_CLOSED_FOR_RANKING
    table = table.rename_axis(by).reset_index().astype({by: "object"})
    # Best shrunk rate first; ties (and groups without closed deals) by volume, then name.
    table = table.sort_values(
        ["win_rate_shrunk", "closed", by], ascending=[False, False, True], na_position="last"
    ).reset_index(drop=True)
    table["rank"] = np.arange(1, len(table) + 1)
    columns = [by, *PERFORMANCE_COLUMNS]
    if by == "owner":
        table = table.merge(owner_home(opportunities), on="owner", how="left")
        columns = ["owner", "team", "region", *PERFORMANCE_COLUMNS]
    return table.loc[:, columns], prior


def _km_medians(
    opportunities: pd.DataFrame,
    group: pd.Series,
    start: pd.Timestamp,
    end: pd.Timestamp,
    as_of: pd.Timestamp,
) -> pd.Series:
    """KM median days to close per group over deals created in [start, end), censored at the end
    (start None: every dated deal created before the end)."""
    created = opportunities["created_at"]
    cohort = created.lt(end) if start is None else created.ge(start) & created.lt(end)
    cutoff = min(end, as_of)
    durations = close_durations(opportunities.loc[cohort], cutoff)
    if durations.empty:
        return pd.Series(dtype="float64")
    owner_of = pd.Series(
        group[cohort].to_numpy(), index=opportunities.loc[cohort, "opportunity_id"]
    )
    groups = durations["opportunity_id"].map(owner_of[~owner_of.index.duplicated()])
    return km_median_by_group(durations["days"], durations["closed"], groups)


def compute_report_reps(
    opportunities: pd.DataFrame, as_of: pd.Timestamp
) -> list[dict[str, object]]:
    """The `reps` list of `metrics --json`: all history up to `as_of`, per owner, best first.

    Fields REPORT_FIELDS; NaN becomes None so the JSON holds null, never NaN.
    """
    if opportunities.empty:
        return []
    # As in kpis.compute_summary: the whole history up to and including as_of.
    end = as_of + pd.Timedelta(microseconds=1)
    table, _ = compute_performance(opportunities, None, end, as_of, by="owner")
    out = table.rename(columns={"open_count": "open", "won_value": "won_amount"})
    out = out.loc[:, list(REPORT_FIELDS)].astype("object")
    return out.where(out.notna(), None).to_dict(orient="records")
