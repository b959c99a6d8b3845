"""The facts each page opens with ("the answer first"): small named records, no words.

Every function takes figures the page already computed (the Overview dataclass, the funnel
table, the cycle summary and open-deal flags, the leaderboard, the risk scores, the weekly KPI
table) and picks out the one or two facts a manager reads first. Where the data cannot support a
fact (too few deals, no previous period, nothing open, unknown close dates), the record says so
with a `status` code instead of carrying a misleading number; ui/headline.py turns it into words.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dealscope.metrics.funnel import MIN_RESOLVED
from dealscope.metrics.funnel_compare import two_proportion_test
from dealscope.metrics.kpis import Overview, main_currency, priced_amount
from dealscope.metrics.reps import MIN_CLOSED_FOR_RANKING, UNASSIGNED

# Status codes shared by several records.
OK = "ok"
NO_DEALS = "no_deals"  # nothing in the selection
TOO_FEW = "too_few"  # deals, but not enough to name the fact honestly
NO_PREVIOUS = "no_previous"  # all-time view: there is no earlier period
EMPTY_PREVIOUS = "empty_previous"  # the earlier period had nothing to compare
ONE_RANKED = "one_ranked"  # a single owner with enough closed deals: no one to lead
# How many at-risk deals the Risk page's sentence sums (its "top" list).
TOP_AT_RISK = 10


@dataclass(frozen=True)
class OverviewHeadline:
    """Open pipeline, the period's win rate and the previous period's (for the change)."""

    open_count: int
    open_value: float
    currency: str | None
    closed: int  # won + lost in the period: the win rate's base
    win_rate: float | None  # None when nothing closed
    previous_win_rate: float | None
    comparison: str  # OK, NO_PREVIOUS (all time) or EMPTY_PREVIOUS (no deal before)
    # With a comparison: whether the change is more than chance (two-proportion z-test, p < 0.05,
    # the Funnel's test); None without one. A swing of 20 points on 9 deals is usually noise.
    change_is_clear: bool | None = None


# The level below which a change of win rate is reported as possibly chance.
SIGNIFICANCE = 0.05


def overview_headline(overview: Overview) -> OverviewHeadline:
    """The Overview's facts from compute_overview's record."""
    current, previous = overview.current, overview.previous
    if previous is None:
        comparison, before = NO_PREVIOUS, None
    elif previous.won_count + previous.lost_count == 0:
        comparison, before = EMPTY_PREVIOUS, None
    else:
        comparison, before = OK, previous.win_rate_count
    clear = None
    if comparison == OK and current.won_count + current.lost_count > 0:
        p_value = two_proportion_test(
            current.won_count,
            current.won_count + current.lost_count,
            previous.won_count,
            previous.won_count + previous.lost_count,
        )
        clear = bool(p_value < SIGNIFICANCE)
    return OverviewHeadline(
        open_count=int(current.open_count),
        open_value=float(current.open_value),
        currency=overview.currency,
        closed=int(current.won_count + current.lost_count),
        win_rate=current.win_rate_count,
        previous_win_rate=before,
        comparison=comparison,
        change_is_clear=clear,
    )


@dataclass(frozen=True)
class FunnelHeadline:
    """The stage step with the lowest conversion among steps with enough resolved deals."""

    status: str  # OK, NO_DEALS or TOO_FEW (no step has MIN_RESOLVED resolved deals)
    from_stage: str | None
    to_stage: str | None
    conversion: float | None  # share of the deals resolved at from_stage that moved on
    resolved: int  # deals that moved on or were lost at from_stage
    previous_conversion: float | None  # the same step in the previous period
    comparison: str  # OK, NO_PREVIOUS or TOO_FEW (previous step below the minimum)
    min_resolved: int = MIN_RESOLVED


def funnel_headline(funnel: pd.DataFrame, previous: pd.DataFrame | None = None) -> FunnelHeadline:
    """Biggest drop from compute_stage_funnel's table (stage, position, resolved, conversion,
    enough), the last row being the won stage; `previous` is the same table of the previous
    period (None: no previous period)."""
    steps = funnel.sort_values("position").reset_index(drop=True)
    next_stage = steps["stage"].shift(-1)
    candidates = steps.iloc[:-1]
    if candidates["resolved"].sum() == 0:
        return FunnelHeadline(NO_DEALS, None, None, None, 0, None, NO_PREVIOUS)
    usable = candidates.loc[candidates["enough"].astype(bool) & candidates["conversion"].notna()]
    if usable.empty:
        resolved = int(candidates["resolved"].max())
        return FunnelHeadline(TOO_FEW, None, None, None, resolved, None, NO_PREVIOUS)
    # idxmin keeps the earliest stage on a tie: the first place the funnel leaks most.
    worst = usable["conversion"].astype(float).idxmin()
    row = steps.loc[worst]
    before, comparison = None, NO_PREVIOUS
    if previous is not None:
        match = previous.loc[previous["position"].eq(row["position"])]
        if not match.empty and bool(match["enough"].iloc[0]) and match["resolved"].iloc[0] > 0:
            before, comparison = float(match["conversion"].iloc[0]), OK
        else:
            comparison = TOO_FEW
    return FunnelHeadline(
        status=OK,
        from_stage=str(row["stage"]),
        to_stage=str(next_stage.loc[worst]),
        conversion=float(row["conversion"]),
        resolved=int(row["resolved"]),
        previous_conversion=before,
        comparison=comparison,
    )


@dataclass(frozen=True)
class CycleHeadline:
    """Median time to close of the period's deals and the open deals silent past the threshold."""

    deals: int  # deals created in the period (the time-to-close cohort)
    closed: int
    median_days: float | None  # Kaplan–Meier median; None when fewer than half have closed
    open_count: int
    silence_known: int  # open deals whose last activity is known
    silence_days: float
    silent_count: int
    silent_value: float  # amounts in `currency` only
    silent_unpriced: int  # silent deals without an amount in `currency`
    currency: str | None


def cycle_headline(
    summary: dict, flags: pd.DataFrame, opportunities: pd.DataFrame, silence_days: float
) -> CycleHeadline:
    """From cycle.km_summary's dict (n, closed, median), stall.flag_open_deals' frame
    (opportunity_id, silent, days_silent) and the view's opportunities (opportunity_id, amount,
    currency: the silent value counts the main currency only)."""
    currency = main_currency(opportunities)
    priced = pd.Series(
        priced_amount(opportunities, currency).to_numpy(), index=opportunities["opportunity_id"]
    )
    silent = flags.loc[flags["silent"].astype(bool), "opportunity_id"]
    amounts = silent.map(priced[~priced.index.duplicated()])
    median = summary.get("median")
    return CycleHeadline(
        deals=int(summary["n"]),
        closed=int(summary["closed"]),
        median_days=None if median is None else float(median),
        open_count=len(flags),
        silence_known=int(flags["days_silent"].notna().sum()),
        silence_days=float(silence_days),
        silent_count=len(silent),
        silent_value=float(amounts.sum()),
        silent_unpriced=int(amounts.isna().sum()),
        currency=currency,
    )


@dataclass(frozen=True)
class RepsHeadline:
    """The leading owner against the next, with both raw 95% intervals."""

    status: str  # OK, NO_DEALS (no ranked owner) or ONE_RANKED
    ranked: int  # owners with at least min_closed closed deals
    leader: str | None
    leader_won: int
    leader_closed: int
    leader_shrunk: float | None  # the ranking's rate (empirical-Bayes shrunk)
    leader_low: float | None
    leader_high: float | None
    runner_up: str | None
    runner_shrunk: float | None
    runner_low: float | None
    runner_high: float | None
    separated: bool  # the two Wilson intervals do not overlap
    min_closed: int = MIN_CLOSED_FOR_RANKING


def reps_headline(table: pd.DataFrame) -> RepsHeadline:
    """From compute_performance's owner table (sorted by rank: owner, won, closed,
    win_rate_shrunk, win_rate_ci_low, win_rate_ci_high, small_sample). Deals without an owner
    are no one to lead the ranking."""
    ranked = table.loc[
        ~table["small_sample"].astype(bool)
        & table["closed"].gt(0)
        & table["owner"].ne(UNASSIGNED)
        & table["owner"].notna()
    ]
    if ranked.empty:
        return RepsHeadline(
            NO_DEALS, 0, None, 0, 0, None, None, None, None, None, None, None, False
        )
    first = ranked.iloc[0]
    second = ranked.iloc[1] if len(ranked) > 1 else None
    lead = dict(
        ranked=len(ranked),
        leader=str(first["owner"]),
        leader_won=int(first["won"]),
        leader_closed=int(first["closed"]),
        leader_shrunk=float(first["win_rate_shrunk"]),
        leader_low=float(first["win_rate_ci_low"]),
        leader_high=float(first["win_rate_ci_high"]),
    )
    if second is None:
        return RepsHeadline(ONE_RANKED, **lead, runner_up=None, runner_shrunk=None,
                            runner_low=None, runner_high=None, separated=False)  # fmt: skip
    return RepsHeadline(
        OK,
        **lead,
        runner_up=str(second["owner"]),
        runner_shrunk=float(second["win_rate_shrunk"]),
        runner_low=float(second["win_rate_ci_low"]),
        runner_high=float(second["win_rate_ci_high"]),
        separated=bool(
            first["win_rate_ci_low"] > second["win_rate_ci_high"]
            or second["win_rate_ci_low"] > first["win_rate_ci_high"]
        ),
    )


@dataclass(frozen=True)
class RiskHeadline:
    """Expected lost value (chance of loss × amount) of the top at-risk deals and of all."""

    scored: int  # open deals scored in the view
    high: int  # of them in the high tier
    top: int  # deals in the top list (≤ TOP_AT_RISK, only those with an amount in `currency`)
    top_expected_lost: float
    total_expected_lost: float  # every scored deal with an amount in `currency`
    unpriced: int  # scored deals without an amount in `currency`
    currency: str | None


def risk_headline(
    deals: pd.DataFrame, opportunities: pd.DataFrame, top: int = TOP_AT_RISK
) -> RiskHeadline:
    """From the scored open deals (opportunity_id, p_lost, tier) and the view's opportunities
    (opportunity_id, amount, currency); values count amounts in the main currency only."""
    currency = main_currency(opportunities)
    priced = pd.Series(
        priced_amount(opportunities, currency).to_numpy(), index=opportunities["opportunity_id"]
    )
    amount = deals["opportunity_id"].map(priced[~priced.index.duplicated()])
    expected = (deals["p_lost"].astype(float) * amount).dropna()
    leaders = np.sort(expected.to_numpy())[::-1][:top]
    return RiskHeadline(
        scored=len(deals),
        high=int(deals["tier"].eq("high").sum()),
        top=len(leaders),
        top_expected_lost=float(leaders.sum()),
        total_expected_lost=float(expected.sum()),
        unpriced=int(len(deals) - len(expected)),
        currency=currency,
    )


@dataclass(frozen=True)
class WeeklyHeadline:
    """This week's new, won and lost deals against last week, and the open pipeline's change."""

    week: str
    new_count: float
    new_previous: float | None  # None: no previous week in the data
    won_count: float | None  # None: close dates unknown
    won_value: float | None
    lost_count: float | None
    won_previous: float | None
    lost_previous: float | None
    pipeline_value: float | None
    pipeline_change: float | None  # this week's end minus last week's


def weekly_headline(kpis: pd.DataFrame, week: str) -> WeeklyHeadline:
    """From report.week.compute_kpi_table's frame (metric, this_week, previous_week)."""
    table = kpis.set_index("metric")

    def value(metric: str, column: str = "this_week") -> float | None:
        if metric not in table.index:
            return None
        number = table.at[metric, column]
        return None if pd.isna(number) else float(number)

    pipeline, pipeline_before = value("pipeline_value"), value("pipeline_value", "previous_week")
    change = None if pipeline is None or pipeline_before is None else pipeline - pipeline_before
    return WeeklyHeadline(
        week=week,
        new_count=value("new_count") or 0.0,
        new_previous=value("new_count", "previous_week"),
        won_count=value("won_count"),
        won_value=value("won_value"),
        lost_count=value("lost_count"),
        won_previous=value("won_count", "previous_week"),
        lost_previous=value("lost_count", "previous_week"),
        pipeline_value=pipeline,
        pipeline_change=change,
    )
