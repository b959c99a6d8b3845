"""Empirical-Bayes (beta-binomial) shrinkage of win rates, for fair rankings of owners and teams.

A raw win rate of 2/2 = 100% says little; 60/80 = 75% says a lot. Each group's win rate is pulled
towards the pooled rate by a Beta(α, β) prior fitted over all groups:

    shrunk_i = (won_i + α) / (closed_i + α + β)

The prior is fitted by the **method of moments** (closed form, no optimiser to fail):
μ = Σwon / Σclosed (pooled rate); S = mean over groups of (p_i − μ)², p_i = won_i / closed_i;
m = mean of 1/closed_i. Under the beta-binomial model E[(p_i − μ)²] = μ(1−μ)(ρ + (1−ρ)/n_i) with
ρ = 1/(α+β+1), so ρ = (S/(μ(1−μ)) − m) / (1 − m), κ = α+β = 1/ρ − 1, α = μκ, β = (1−μ)κ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

METHOD = "method-of-moments"
# How the prior was obtained: fitted, or the degenerate case resolved (docs/METRICS.md, Reps).
NOTES = ("fitted", "single", "identical", "one_deal", "no_spread", "max_spread")


@dataclass(frozen=True)
class BetaPrior:
    """A Beta(alpha, beta) prior on win rates; `strength` = alpha + beta (prior pseudo-deals)."""

    alpha: float
    beta: float
    mean: float
    strength: float
    groups: int  # groups with at least one closed deal (the prior was fitted over these)
    note: str  # NOTES: "fitted", or which degenerate case applied (the UI translates it)


def fit_beta_prior(won, closed) -> BetaPrior | None:
    """Fit the Beta prior over groups' (won, closed) counts by the method of moments.

    None when no group has a closed deal. Degenerate cases (documented in docs/METRICS.md):
    one group → strength 0 (nothing to pool with, the raw rate stands); every group at 0% or
    100%, every group with one deal, or no spread beyond binomial noise → strength capped at
    Σclosed (the prior never outweighs all the data together; rates collapse towards μ);
    spread at or beyond the maximum a Beta allows → strength 0 (no shrinkage).
    """
    k = np.asarray(won, dtype="float64")
    n = np.asarray(closed, dtype="float64")
    keep = n > 0
    k, n = k[keep], n[keep]
    if n.size == 0:
        return None
    mu = float(k.sum() / n.sum())
    cap = float(n.sum())
    if n.size == 1:
        return _prior(mu, 0.0, 1, "single")
    if mu in (0.0, 1.0):
        return _prior(mu, cap, n.size, "identical")
    spread = float(np.mean((k / n - mu) ** 2)) / (mu * (1 - mu))
    m = float(np.mean(1.0 / n))
    if m >= 1.0:
        return _prior(mu, cap, n.size, "one_deal")
    rho = (spread - m) / (1.0 - m)
    if rho <= 0.0:
        return _prior(mu, cap, n.size, "no_spread")
    if rho >= 1.0:
        return _prior(mu, 0.0, n.size, "max_spread")
    return _prior(mu, min(1.0 / rho - 1.0, cap), n.size, "fitted")


def _prior(mu: float, strength: float, groups: int, note: str) -> BetaPrior:
    return BetaPrior(
        alpha=mu * strength,
        beta=(1 - mu) * strength,
        mean=mu,
        strength=strength,
        groups=groups,
        note=note,
    )


def shrink_win_rate(won, closed, prior: BetaPrior | None) -> np.ndarray:
    """(won + α) / (closed + α + β) per group; NaN without a prior or for a group with no data."""
    k = np.asarray(won, dtype="float64")
    n = np.asarray(closed, dtype="float64")
    if prior is None:
        return np.full(k.shape, np.nan)
    denominator = n + prior.strength
    with np.errstate(invalid="ignore", divide="ignore"):
        shrunk = (k + prior.alpha) / denominator
    # With no closed deal the posterior is just the prior: nothing to rank, so NaN (ranked last).
    return np.where(n > 0, shrunk, np.nan)
