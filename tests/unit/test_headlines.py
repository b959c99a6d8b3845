"""The facts each page opens with, on hand-made fixtures with hand-computed expectations."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from dealscope.metrics.headlines import (
    EMPTY_PREVIOUS,
    NO_DEALS,
    NO_PREVIOUS,
    OK,
    ONE_RANKED,
    TOO_FEW,
    cycle_headline,
    funnel_headline,
    overview_headline,
    reps_headline,
    risk_headline,
    weekly_headline,
)
from dealscope.metrics.kpis import Overview, PeriodKpis
from dealscope.metrics.reps import MIN_CLOSED_FOR_RANKING, UNASSIGNED


def kpis(won: int, lost: int, open_count: int = 3, open_value: float = 900.0) -> PeriodKpis:
    rate = won / (won + lost) if won + lost else None
    return PeriodKpis(
        total=won + lost + open_count, new=None, open_count=open_count, open_value=open_value,
        won_count=won, won_value=0.0, lost_count=lost, lost_value=0.0, win_rate_count=rate,
        win_rate_value=None, median_days_to_win=None, avg_won_value=None, undated=0,
    )  # fmt: skip


# --- Overview ---------------------------------------------------------------------------------


def test_overview_compares_the_win_rate_with_the_previous_period():
    head = overview_headline(Overview("CNY", kpis(3, 1), kpis(1, 1), 0))
    assert head.comparison == OK
    assert head.win_rate == 0.75 and head.previous_win_rate == 0.5
    assert (head.open_count, head.open_value, head.closed, head.currency) == (3, 900.0, 4, "CNY")


def test_a_win_rate_change_on_few_deals_is_called_possible_chance():
    # 4/9 against 6/9: pooled 10/18, se = sqrt(10/18 * 8/18 * 2/9) = 0.2342, z = -0.949,
    # two-sided p = 0.34 (by hand, normal table): not a clear change.
    assert overview_headline(Overview("CNY", kpis(4, 5), kpis(6, 3), 0)).change_is_clear is False
    # 400/900 against 600/900: the same rates, se = 0.02342, z = -9.49: clear.
    head = overview_headline(Overview("CNY", kpis(400, 500), kpis(600, 300), 0))
    assert head.change_is_clear is True
    assert overview_headline(Overview("CNY", kpis(4, 5), None, 0)).change_is_clear is None


def test_overview_all_time_has_no_previous_period():
    head = overview_headline(Overview("CNY", kpis(3, 1), None, 0))
    assert head.comparison == NO_PREVIOUS and head.previous_win_rate is None


def test_overview_previous_period_without_closed_deals_is_said_not_compared():
    # Open deals before, but nothing closed: there is no previous win rate to compare with.
    head = overview_headline(Overview("CNY", kpis(3, 1), kpis(0, 0, open_count=5), 0))
    assert head.comparison == EMPTY_PREVIOUS and head.previous_win_rate is None


def test_overview_nothing_closed_has_no_win_rate():
    head = overview_headline(Overview(None, kpis(0, 0), kpis(1, 1), 0))
    assert head.win_rate is None and head.closed == 0


# --- Funnel -----------------------------------------------------------------------------------


def funnel(resolved: list[int], advanced: list[int], min_n: int = 20) -> pd.DataFrame:
    """Open stages A, B, C then the won stage W; conversion = advanced / resolved."""
    stages = ["A", "B", "C", "W"]
    resolved, advanced = [*resolved, 0], [*advanced, 0]
    conversion = [a / r if r else math.nan for a, r in zip(advanced, resolved, strict=True)]
    return pd.DataFrame(
        {
            "stage": stages,
            "position": range(4),
            "resolved": resolved,
            "advanced": advanced,
            "conversion": conversion,
            "enough": [r >= min_n for r in resolved],
        }
    )


def test_funnel_names_the_lowest_conversion_among_steps_with_enough_deals():
    # A: 80/100 = 80%, B: 30/50 = 60%, C: 2/10 = 20% but only 10 resolved (below 20): B → C.
    head = funnel_headline(funnel([100, 50, 10], [80, 30, 2]))
    assert head.status == OK
    assert (head.from_stage, head.to_stage) == ("B", "C")
    assert head.conversion == pytest.approx(0.6) and head.resolved == 50
    assert head.comparison == NO_PREVIOUS and head.previous_conversion is None


def test_funnel_last_open_stage_drops_into_the_won_stage():
    head = funnel_headline(funnel([100, 50, 40], [80, 40, 10]))
    assert (head.from_stage, head.to_stage, head.conversion) == ("C", "W", 0.25)


def test_funnel_compares_the_same_step_of_the_previous_period():
    previous = funnel([60, 40, 30], [50, 30, 20])  # B: 30/40 = 75%
    head = funnel_headline(funnel([100, 50, 10], [80, 30, 2]), previous)
    assert head.comparison == OK and head.previous_conversion == pytest.approx(0.75)


def test_funnel_previous_step_with_too_few_deals_is_not_compared():
    previous = funnel([60, 5, 30], [50, 1, 20])  # B had 5 resolved: 20% would mislead
    head = funnel_headline(funnel([100, 50, 10], [80, 30, 2]), previous)
    assert head.comparison == TOO_FEW and head.previous_conversion is None


def test_funnel_with_too_few_deals_names_no_drop():
    head = funnel_headline(funnel([12, 5, 1], [5, 1, 0]))
    assert head.status == TOO_FEW and head.from_stage is None and head.resolved == 12
    assert head.min_resolved == 20


def test_funnel_without_deals_says_so():
    head = funnel_headline(funnel([0, 0, 0], [0, 0, 0]))
    assert head.status == NO_DEALS and head.conversion is None


def test_funnel_tie_keeps_the_earliest_step():
    head = funnel_headline(funnel([100, 50, 40], [50, 25, 30]))
    assert head.from_stage == "A"


# --- Cycle ------------------------------------------------------------------------------------


def opportunities() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "opportunity_id": ["a", "b", "c", "d", "e"],
            "amount": [1000.0, 250.0, None, 500.0, 70.0],
            "currency": ["CNY", "CNY", "CNY", "USD", "CNY"],
        }
    )


def flags() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "opportunity_id": ["a", "b", "c", "d", "e"],
            "days_silent": [30.0, 20.0, 40.0, 25.0, math.nan],
            "silent": [True, True, True, True, False],
        }
    )


def test_cycle_counts_silent_open_deals_and_their_value_in_the_main_currency():
    summary = {"n": 40, "closed": 30, "median": 61.5}
    head = cycle_headline(summary, flags(), opportunities(), 14)
    assert (head.deals, head.closed, head.median_days) == (40, 30, 61.5)
    assert head.open_count == 5 and head.silence_known == 4
    assert head.silent_count == 4
    # a + b in CNY; c has no amount and d is in USD: counted, not valued.
    assert head.silent_value == 1250.0 and head.silent_unpriced == 2
    assert head.currency == "CNY" and head.silence_days == 14


def test_cycle_median_not_reached_and_nothing_open():
    summary = {"n": 10, "closed": 3, "median": None}
    empty = flags().iloc[0:0]
    head = cycle_headline(summary, empty, opportunities(), 14)
    assert head.median_days is None
    assert (head.open_count, head.silent_count, head.silent_value) == (0, 0, 0.0)


# --- Reps -------------------------------------------------------------------------------------


def board(rows: list[tuple]) -> pd.DataFrame:
    columns = ["owner", "won", "closed", "win_rate_shrunk", "win_rate_ci_low", "win_rate_ci_high"]
    table = pd.DataFrame(rows, columns=columns)
    return table.assign(small_sample=table["closed"] < 10)


def test_reps_leader_and_runner_up_with_overlapping_intervals():
    table = board(
        [
            ("何娜", 30, 50, 0.58, 0.46, 0.71),
            ("王强", 25, 50, 0.52, 0.37, 0.63),
            ("小李", 4, 5, 0.55, 0.38, 0.96),  # small sample: not named
        ]
    )
    head = reps_headline(table)
    assert head.status == OK and head.ranked == 2
    assert (head.leader, head.leader_won, head.leader_closed) == ("何娜", 30, 50)
    assert head.runner_up == "王强" and head.runner_shrunk == 0.52
    assert head.separated is False  # 0.46 < 0.63: the lead may be chance


def test_reps_separated_intervals():
    head = reps_headline(board([("A", 45, 50, 0.88, 0.79, 0.96), ("B", 10, 50, 0.22, 0.11, 0.33)]))
    assert head.separated is True


def test_reps_unassigned_deals_never_lead():
    table = board([(UNASSIGNED, 45, 50, 0.9, 0.8, 0.96), ("B", 10, 50, 0.22, 0.11, 0.33)])
    head = reps_headline(table)
    assert head.status == ONE_RANKED and head.leader == "B" and head.runner_up is None


def test_reps_nobody_with_enough_closed_deals():
    head = reps_headline(board([("A", 3, 5, 0.5, 0.2, 0.9)]))
    assert head.status == NO_DEALS and head.leader is None
    assert head.min_closed == MIN_CLOSED_FOR_RANKING  # said in the sentence


# --- Risk -------------------------------------------------------------------------------------


def test_risk_sums_the_expected_lost_value_of_the_top_deals():
    deals = pd.DataFrame(
        {
            "opportunity_id": ["a", "b", "c", "d", "e"],
            "p_lost": [0.5, 0.8, 0.9, 0.9, 0.1],
            "tier": ["medium", "high", "high", "high", "low"],
        }
    )
    head = risk_headline(deals, opportunities(), top=2)
    # Expected loss: a 500, b 200, e 7; c has no amount and d is in USD.
    assert head.scored == 5 and head.high == 3
    assert head.top == 2 and head.top_expected_lost == pytest.approx(700.0)
    assert head.total_expected_lost == pytest.approx(707.0)
    assert head.unpriced == 2 and head.currency == "CNY"


def test_risk_without_scored_deals():
    empty = pd.DataFrame({"opportunity_id": [], "p_lost": [], "tier": []})
    head = risk_headline(empty, opportunities())
    assert (head.scored, head.top, head.top_expected_lost) == (0, 0, 0.0)


# --- Weekly -----------------------------------------------------------------------------------


def week_table(previous: float = float("nan"), won: float = 3.0) -> pd.DataFrame:
    rows = [
        ("new_count", 12.0, 9.0),
        ("won_count", won, 2.0),
        ("won_value", 5000.0, 1000.0),
        ("lost_count", 1.0, 4.0),
        ("pipeline_value", 80000.0, previous),
    ]
    return pd.DataFrame(rows, columns=["metric", "this_week", "previous_week"])


def test_weekly_changes_against_last_week():
    head = weekly_headline(week_table(previous=75000.0), "2026-W46")
    assert head.week == "2026-W46"
    assert (head.new_count, head.new_previous) == (12.0, 9.0)
    assert (head.won_count, head.won_value, head.won_previous) == (3.0, 5000.0, 2.0)
    assert (head.lost_count, head.lost_previous) == (1.0, 4.0)
    assert head.pipeline_change == 5000.0


def test_weekly_unknown_close_dates_and_no_previous_pipeline():
    head = weekly_headline(week_table(won=float("nan")), "2026-W46")
    assert head.won_count is None and head.pipeline_change is None
