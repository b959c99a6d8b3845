"""Empirical-Bayes (beta-binomial) shrinkage of win rates, for fair rankings of owners and teams.

A raw win rate of 2/2 = 100% says little; 60/80 = 75% says a lot. Each group's win rate is pulled
towards the common rate by a Beta(α, β) prior fitted over all groups:

    shrunk_i = (won_i + α) / (closed_i + α + β)

The prior is fitted by **maximum likelihood** of the beta-binomial marginal likelihood
Σ_i [ln B(won_i + α, lost_i + β) − ln B(α, β)] over (logit μ, ln κ), μ = α/(α+β), κ = α+β.
Why not the method of moments: its spread estimate is dominated by groups with one or two closed
deals (a 1/1 owner among 0/x owners made the moments claim a huge spread and ranked 1/1 first in
the demo's first weeks); the likelihood weighs each group by how much it can tell.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, expit, logit

METHOD = "maximum-likelihood"
# How the prior was obtained: fitted, or the degenerate case resolved (docs/METRICS.md, Reps).
NOTES = ("fitted", "single", "identical", "one_deal", "no_spread", "max_spread")
# κ below this is "no shrinkage"; the upper bound is Σclosed (a prior never outweighs all the data).
KAPPA_MIN = 1e-2
# Starting strength for the optimiser (pseudo-deals), clipped into the bounds.
KAPPA_START = 10.0
# A fit this close (in ln κ) to a bound is taken to be at the bound.
BOUND_TOLERANCE = 1e-2


@dataclass(frozen=True)
class BetaPrior:
    """A Beta(alpha, beta) prior on win rates; `strength` = alpha + beta (prior pseudo-deals)."""

    alpha: float
    beta: float
    mean: float
    strength: float
    groups: int  # groups with at least one closed deal (the prior was fitted over these)
    note: str  # NOTES: "fitted", or which degenerate case applied (the UI translates it)


def beta_binomial_loglik(alpha: float, beta: float, won, closed) -> float:
    """Σ ln P(won_i | closed_i, α, β) without the binomial coefficients (they do not depend on α, β)."""
    k = np.asarray(won, dtype="float64")
    n = np.asarray(closed, dtype="float64")
    return float(np.sum(betaln(k + alpha, n - k + beta) - betaln(alpha, beta)))


def fit_beta_prior(won, closed) -> BetaPrior | None:
    """Fit the Beta prior over groups' (won, closed) counts by maximum likelihood.

    None when no group has a closed deal. Degenerate cases (documented in docs/METRICS.md):
    one group → strength 0 (nothing to pool with, the raw rate stands); every group at 0% or
    100%, or every group with one closed deal (the spread is not identifiable) → strength capped
    at Σclosed, mean = pooled rate; the likelihood peaking at the cap → "no_spread" (no difference
    between groups beyond chance); peaking at KAPPA_MIN → strength 0, "max_spread".
    """
    k = np.asarray(won, dtype="float64")
    n = np.asarray(closed, dtype="float64")
    keep = n > 0
    k, n = k[keep], n[keep]
    if n.size == 0:
        return None
    pooled = float(k.sum() / n.sum())
    cap = float(n.sum())
    if n.size == 1:
        return _prior(pooled, 0.0, 1, "single")
    if pooled in (0.0, 1.0):
        return _prior(pooled, cap, n.size, "identical")
    if (n == 1).all():
        return _prior(pooled, cap, n.size, "one_deal")
    low, high = np.log(KAPPA_MIN), np.log(cap)

    def negative_loglik(x: np.ndarray) -> float:
        mu, kappa = expit(x[0]), np.exp(x[1])
        return -beta_binomial_loglik(mu * kappa, (1 - mu) * kappa, k, n)

    start = np.array([logit(pooled), np.clip(np.log(KAPPA_START), low, high)])
    result = minimize(
        negative_loglik, start, method="L-BFGS-B", bounds=[(-30.0, 30.0), (low, high)]
    )
    mu, log_kappa = float(expit(result.x[0])), float(result.x[1])
    if log_kappa >= high - BOUND_TOLERANCE:
        return _prior(mu, cap, n.size, "no_spread")
    if log_kappa <= low + BOUND_TOLERANCE:
        return _prior(mu, 0.0, n.size, "max_spread")
    return _prior(mu, float(np.exp(log_kappa)), n.size, "fitted")


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
