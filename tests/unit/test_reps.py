"""Rep performance on hand-made fixtures with hand-computed expectations."""

import math

import numpy as np
import pandas as pd
import pytest

from dealscope.metrics.reps import (
    MIN_CLOSED_FOR_RANKING,
    REPORT_FIELDS,
    UNASSIGNED,
    compute_performance,
    compute_report_reps,
)
from dealscope.metrics.shrinkage import fit_beta_prior, shrink_win_rate
from dealscope.model import normalise_opportunities

T0 = pd.Timestamp("2024-01-01")
AS_OF = pd.Timestamp("2024-12-31")
START, END = T0, AS_OF + pd.Timedelta(days=1)


def day(n: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(days=n)


def deals(owner: str, won: int, lost: int, team: str = "T1", amount: float = 100.0) -> list[dict]:
    """`won` won and `lost` lost deals of one owner, created on day 0 and closed on day 10."""
    rows = []
    for i, status in enumerate(["won"] * won + ["lost"] * lost):
        rows.append(
            {
                "opportunity_id": f"{owner}-{i}",
                "owner": owner,
                "team": team,
                "region": "R",
                "status": status,
                "amount": amount,
                "currency": "CNY",
                "created_at": day(0),
                "closed_at": day(10),
            }
        )
    return rows


def frame(rows: list[dict]) -> pd.DataFrame:
    return normalise_opportunities(pd.DataFrame(rows))


# Owners A 2/2, B 60/80, C 10/40, D 19/60: pooled μ = 91/182 = 0.5 exactly.
COUNTS = {"A": (2, 0), "B": (60, 20), "C": (10, 30), "D": (19, 41)}
# By hand: p = 1, .75, .25, 19/60; S/(μ(1−μ)) = 4·mean((p−.5)²) = .25+.0625+.0625+121/3600
# = 0.4086111; m = mean(1/2, 1/80, 1/40, 1/60) = 0.1385417; ρ = (0.4086111 − 0.1385417) /
# (1 − 0.1385417) = 0.3135037; α+β = 1/ρ − 1 = 2.189754; α = β = 1.094877.
STRENGTH = 2.189754
SHRUNK_A = (2 + STRENGTH / 2) / (2 + STRENGTH)  # 0.738677
SHRUNK_B = (60 + STRENGTH / 2) / (80 + STRENGTH)  # 0.743339


def test_prior_by_method_of_moments_matches_hand_computation():
    won = [w for w, _ in COUNTS.values()]
    closed = [w + lost for w, lost in COUNTS.values()]
    prior = fit_beta_prior(won, closed)
    assert prior.note == "fitted" and prior.groups == 4
    assert prior.mean == 0.5
    assert prior.strength == pytest.approx(STRENGTH, rel=1e-5)
    assert prior.alpha == pytest.approx(STRENGTH / 2, rel=1e-5)
    shrunk = shrink_win_rate(won, closed, prior)
    assert shrunk[:2] == pytest.approx([SHRUNK_A, SHRUNK_B], rel=1e-5)
    assert shrunk[:2] == pytest.approx([0.738677, 0.743339], abs=1e-6)


def test_two_of_two_ranks_below_sixty_of_eighty():
    rows = [r for owner, (w, lost) in COUNTS.items() for r in deals(owner, w, lost)]
    table, prior = compute_performance(frame(rows), START, END, AS_OF)
    by_owner = table.set_index("owner")
    # The raw rate would put A first (100% > 75%); the shrunk rate puts B first.
    assert by_owner.at["A", "win_rate"] == 1.0 and by_owner.at["B", "win_rate"] == 0.75
    assert table["owner"].tolist() == ["B", "A", "D", "C"]
    assert by_owner.at["B", "rank"] == 1 and by_owner.at["A", "rank"] == 2
    assert by_owner.at["A", "win_rate_shrunk"] == pytest.approx(SHRUNK_A, rel=1e-5)
    # A has 2 < MIN_CLOSED_FOR_RANKING closed deals: flagged for greying; B does not.
    assert MIN_CLOSED_FOR_RANKING == 20
    assert by_owner["small_sample"].to_dict() == {"B": False, "A": True, "D": False, "C": False}
    # Wilson for 2/2 by hand: z² = 3.841459; denominator 1 + z²/2 = 2.920729;
    # centre = (1 + z²/4)/2.920729 = 0.671190; half = (z²/4)/2.920729 = 0.328810.
    assert by_owner.at["A", "win_rate_ci_low"] == pytest.approx(0.342380, abs=1e-6)
    assert by_owner.at["A", "win_rate_ci_high"] == 1.0
    assert prior.strength == pytest.approx(STRENGTH, rel=1e-5)


def test_degenerate_priors():
    assert fit_beta_prior([0, 0], [0, 0]) is None
    single = fit_beta_prior([3], [4])
    assert single.note == "single" and single.strength == 0
    assert shrink_win_rate([3], [4], single).tolist() == [0.75]
    identical = fit_beta_prior([5, 2], [5, 2])
    assert identical.note == "identical" and identical.strength == 7
    assert shrink_win_rate([5, 2], [5, 2], identical).tolist() == [1.0, 1.0]
    # 50/100 twice: no spread at all, so the prior is capped at Σclosed = 200 and rates stay 0.5.
    flat = fit_beta_prior([50, 50], [100, 100])
    assert flat.note == "no_spread" and flat.strength == 200
    assert shrink_win_rate([50, 50], [100, 100], flat).tolist() == [0.5, 0.5]
    one_each = fit_beta_prior([1, 0, 1], [1, 1, 1])
    assert one_each.note == "one_deal" and one_each.strength == 3
    # 0/10 and 10/10: the spread exceeds what any Beta prior produces; no shrinkage.
    extreme = fit_beta_prior([0, 10], [10, 10])
    assert extreme.note == "max_spread"
    assert shrink_win_rate([0, 10], [10, 10], extreme).tolist() == [0.0, 1.0]
    assert np.isnan(shrink_win_rate([1], [2], None)).all()


def test_period_outcomes_values_and_currency():
    rows = [
        # won in the period (amount 300) and lost in the period (amount 100)
        {"opportunity_id": "w", "status": "won", "amount": 300.0, "closed_at": day(50)},
        {"opportunity_id": "l", "status": "lost", "amount": 100.0, "closed_at": day(60)},
        # closed before the period: neither won nor open in it
        {"opportunity_id": "old", "status": "won", "amount": 999.0, "closed_at": day(5)},
        # closed after the period's end: open at the end
        {"opportunity_id": "late", "status": "lost", "amount": 40.0, "closed_at": day(200)},
        {"opportunity_id": "o", "status": "open", "amount": 60.0, "closed_at": None},
        # won in another currency: counted, not priced
        {"opportunity_id": "usd", "status": "won", "amount": 5.0, "currency": "USD"},
    ]
    for row in rows:
        row.setdefault("currency", "CNY")
        row.setdefault("closed_at", day(55))
        row.update(owner="X", created_at=day(0), team="T", region="R")
    opps = frame(rows)
    table, _ = compute_performance(opps, day(10), day(100), AS_OF)
    x = table.iloc[0]
    assert (x["won"], x["lost"], x["open_count"]) == (2, 1, 2)
    assert (x["won_value"], x["lost_value"], x["open_value"]) == (300.0, 100.0, 100.0)
    assert x["win_rate"] == pytest.approx(2 / 3)
    assert x["win_rate_value"] == pytest.approx(0.75)  # 300 / (300 + 100)
    assert x["avg_won_amount"] == pytest.approx(150.0)  # priced won amount / won count


def test_km_median_per_owner_censors_open_deals():
    rows = [
        # X: closes after 10 and 20 days, one open for 30 days → S(10)=2/3, S(20)=1/3: median 20
        {"opportunity_id": "x1", "owner": "X", "status": "won", "created_at": day(0)},
        {"opportunity_id": "x2", "owner": "X", "status": "lost", "created_at": day(0)},
        {
            "opportunity_id": "x3",
            "owner": "X",
            "status": "open",
            "created_at": AS_OF - pd.Timedelta(days=30),
        },
        # Y: one close after 5 days, two open: S(5)=2/3 never reaches 1/2 → no median
        {"opportunity_id": "y1", "owner": "Y", "status": "won", "created_at": day(0)},
        {"opportunity_id": "y2", "owner": "Y", "status": "open", "created_at": day(300)},
        {"opportunity_id": "y3", "owner": "Y", "status": "open", "created_at": day(310)},
    ]
    closes = {"x1": day(10), "x2": day(20), "y1": day(5)}
    for row in rows:
        row.update(closed_at=closes.get(row["opportunity_id"]), amount=1.0, currency="CNY")
    table, _ = compute_performance(frame(rows), START, END, AS_OF)
    km = table.set_index("owner")["km_median_days_to_close"]
    assert km["X"] == 20.0
    assert math.isnan(km["Y"])


def test_team_and_region_rollups_sum_owner_counts():
    rows = deals("A", 3, 1, team="T1") + deals("B", 1, 3, team="T1") + deals("C", 5, 5, team="T2")
    rows.append({**deals("D", 1, 0)[0], "team": None, "region": None, "owner": None})
    opps = frame(rows)
    teams, _ = compute_performance(opps, START, END, AS_OF, by="team")
    t = teams.set_index("team")
    assert t.loc["T1", ["won", "lost"]].tolist() == [4, 4]
    assert t.loc["T2", ["won", "lost"]].tolist() == [5, 5]
    assert t.loc[UNASSIGNED, "won"] == 1  # missing team: grouped, not dropped
    owners, _ = compute_performance(opps, START, END, AS_OF)
    assert owners.set_index("owner").loc["A", ["team", "region"]].tolist() == ["T1", "R"]
    assert UNASSIGNED in set(owners["owner"])


def test_report_rows_have_the_cli_fields_and_null_not_nan():
    rows = deals("A", 2, 0) + deals("B", 60, 20) + deals("C", 10, 30) + deals("D", 19, 41)
    rows.append({**deals("E", 1, 0)[0], "status": "open", "closed_at": None})
    report = compute_report_reps(frame(rows), AS_OF)
    assert [r["owner"] for r in report] == ["B", "A", "D", "C", "E"]
    assert all(tuple(r) == REPORT_FIELDS for r in report)
    b = report[0]
    assert (b["open"], b["won"], b["lost"], b["won_amount"]) == (0, 60, 20, 6000.0)
    assert b["win_rate"] == 0.75 and isinstance(b["won"], int)
    e = report[-1]
    assert e["open"] == 1 and e["win_rate"] is None and e["win_rate_ci_low"] is None
    assert e["km_median_days_to_close"] is None
    assert compute_report_reps(frame([]), AS_OF) == []


def test_empty_period_gives_empty_table():
    table, prior = compute_performance(frame(deals("A", 1, 1)), day(400), day(500), day(500))
    assert table.empty and prior is None
