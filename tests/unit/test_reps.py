"""Rep performance on hand-made fixtures with hand-computed expectations."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dealscope.metrics.reps import (
    MIN_CLOSED_FOR_RANKING,
    REPORT_FIELDS,
    UNASSIGNED,
    compute_performance,
    compute_report_reps,
)
from dealscope.metrics.shrinkage import BetaPrior, fit_beta_prior, shrink_win_rate
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


# Owners A 2/2, B 60/80, C 10/40, D 19/60 (pooled 91/182 = 0.5).
COUNTS = {"A": (2, 0), "B": (60, 20), "C": (10, 30), "D": (19, 41)}
WON = [w for w, _ in COUNTS.values()]
CLOSED = [w + lost for w, lost in COUNTS.values()]
# The maximum-likelihood prior, confirmed below by a brute-force grid over scipy's betabinom:
# μ = 0.50507, κ = α + β = 4.5155 (α = 2.28066, β = 2.23483). By hand then:
# A = (2 + 2.28066) / (2 + 4.51549) = 0.65700; B = (60 + 2.28066) / (80 + 4.51549) = 0.73691.
SHRUNK_A, SHRUNK_B = 0.65700, 0.73691


def test_shrinkage_with_a_given_prior_by_hand():
    prior = BetaPrior(alpha=5.0, beta=5.0, mean=0.5, strength=10.0, groups=2, note="fitted")
    # 2/2 → 7/12 = 0.58333; 60/80 → 65/90 = 0.72222; no closed deal → nothing to rank.
    shrunk = shrink_win_rate([2, 60, 0], [2, 80, 0], prior)
    assert shrunk[:2] == pytest.approx([7 / 12, 65 / 90])
    assert np.isnan(shrunk[2])


def test_prior_by_maximum_likelihood_matches_a_grid_search():
    prior = fit_beta_prior(WON, CLOSED)
    assert prior.note == "fitted" and prior.groups == 4
    assert prior.mean == pytest.approx(0.50507, abs=1e-4)
    assert prior.strength == pytest.approx(4.5155, abs=1e-3)
    # Independent check: the log-likelihood on a fine grid peaks at the same point.
    mu, kappa = np.meshgrid(np.linspace(0.45, 0.56, 221), np.exp(np.linspace(0.5, 2.5, 801)))
    loglik = sum(
        stats.betabinom.logpmf(k, n, mu * kappa, (1 - mu) * kappa)
        for k, n in zip(WON, CLOSED, strict=True)
    )
    best = np.unravel_index(loglik.argmax(), loglik.shape)
    assert mu[best] == pytest.approx(prior.mean, abs=1e-3)
    assert kappa[best] == pytest.approx(prior.strength, rel=5e-3)
    assert shrink_win_rate(WON, CLOSED, prior)[:2] == pytest.approx([SHRUNK_A, SHRUNK_B], abs=1e-4)


def test_two_of_two_ranks_below_sixty_of_eighty():
    rows = [r for owner, (w, lost) in COUNTS.items() for r in deals(owner, w, lost)]
    table, prior = compute_performance(frame(rows), START, END, AS_OF)
    by_owner = table.set_index("owner")
    # The raw rate would put A first (100% > 75%); the shrunk rate puts B first.
    assert by_owner.at["A", "win_rate"] == 1.0 and by_owner.at["B", "win_rate"] == 0.75
    assert table["owner"].tolist() == ["B", "A", "D", "C"]
    assert by_owner.at["B", "rank"] == 1 and by_owner.at["A", "rank"] == 2
    assert by_owner.at["A", "win_rate_shrunk"] == pytest.approx(SHRUNK_A, abs=1e-4)
    assert by_owner.at["B", "win_rate_shrunk"] == pytest.approx(SHRUNK_B, abs=1e-4)
    # A has 2 < MIN_CLOSED_FOR_RANKING closed deals: flagged for greying; B does not.
    assert MIN_CLOSED_FOR_RANKING == 20
    assert by_owner["small_sample"].to_dict() == {"B": False, "A": True, "D": False, "C": False}
    # Wilson for 2/2 by hand: z² = 3.841459; denominator 1 + z²/2 = 2.920729;
    # centre = (1 + z²/4)/2.920729 = 0.671190; half = (z²/4)/2.920729 = 0.328810.
    assert by_owner.at["A", "win_rate_ci_low"] == pytest.approx(0.342380, abs=1e-6)
    assert by_owner.at["A", "win_rate_ci_high"] == 1.0
    assert prior.strength == pytest.approx(4.5155, abs=1e-3)


def test_degenerate_priors():
    assert fit_beta_prior([0, 0], [0, 0]) is None
    single = fit_beta_prior([3], [4])
    assert single.note == "single" and single.strength == 0
    assert shrink_win_rate([3], [4], single).tolist() == [0.75]
    identical = fit_beta_prior([5, 2], [5, 2])
    assert identical.note == "identical" and identical.strength == 7
    assert shrink_win_rate([5, 2], [5, 2], identical).tolist() == [1.0, 1.0]
    # 50/100 twice: no spread at all; the likelihood runs to the cap Σclosed = 200.
    flat = fit_beta_prior([50, 50], [100, 100])
    assert flat.note == "no_spread" and flat.strength == 200
    assert shrink_win_rate([50, 50], [100, 100], flat) == pytest.approx([0.5, 0.5])
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
