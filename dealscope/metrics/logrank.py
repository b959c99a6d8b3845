"""The log-rank test across k groups of right-censored durations (vectorised numpy).

Do the groups' time-to-close curves differ more than chance would make them? At every distinct
time t, with n(t) deals still at risk (n_j(t) of them in group j) and d(t) closing then, the null
hypothesis (one curve for all) expects group j to see n_j·d/n of the closes. Summed over t:
Z_j = O_j − E_j, with covariance

    V_jk = Σ_t d(n − d)/(n − 1) · (n_j/n) · (δ_jk − n_k/n)

and U = Z' V⁻¹ Z over the first k − 1 groups (the k-th is implied: the Z_j sum to 0) is χ² with
k − 1 degrees of freedom. This is the test `lifelines.statistics.multivariate_logrank_test`
computes (the tests compare both); it lives here so the app does not import lifelines (and
matplotlib with it) at start-up for one statistic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.stats import chi2


@dataclass(frozen=True)
class LogRankResult:
    """χ² statistic, its p-value and degrees of freedom (groups − 1)."""

    statistic: float
    p_value: float
    degrees_of_freedom: int


def logrank_test(durations: ArrayLike, groups: ArrayLike, observed: ArrayLike) -> LogRankResult:
    """Log-rank test that every group shares one survival curve.

    durations: time to the event or to censoring (any unit); groups: a label per duration;
    observed: True where the event happened, False where the duration is censored.
    Needs at least two groups.
    """
    time = np.asarray(durations, dtype="float64")
    event = np.asarray(observed, dtype=bool)
    # Groups in sorted order, as lifelines orders them (the statistic does not depend on which
    # group is left out, except through the pseudo-inverse when V is singular).
    group_codes, group_labels = pd.factorize(pd.Series(groups), sort=True)
    n_groups = len(group_labels)
    if n_groups < 2:
        raise ValueError("the log-rank test needs at least two groups")
    if not (len(time) == len(event) == len(group_codes)):
        raise ValueError("durations, groups and observed must have the same length")

    times, time_codes = np.unique(time, return_inverse=True)
    cell = time_codes * n_groups + group_codes
    shape = (len(times), n_groups)
    # Per (distinct time, group): how many leave the risk set then, and how many of them by the event.
    leaving = np.bincount(cell, minlength=shape[0] * shape[1]).reshape(shape)
    events = np.bincount(
        cell, weights=event.astype("float64"), minlength=shape[0] * shape[1]
    ).reshape(shape)
    # At risk at t: everyone whose duration is ≥ t.
    at_risk = leaving[::-1].cumsum(axis=0)[::-1].astype("float64")

    n = at_risk.sum(axis=1)
    d = events.sum(axis=1)
    expected = at_risk * (d / n)[:, None]
    observed_minus_expected = events.sum(axis=0) - expected.sum(axis=0)

    # d(n − d) / ((n − 1) n²); where n = 1 every covariance term is 0 whatever the factor.
    safe_n_minus_1 = np.where(n > 1, n - 1, 1.0)
    factor = np.where(n > 1, d * (n - d) / (safe_n_minus_1 * n * n), 0.0)
    weighted = at_risk * np.sqrt(factor)[:, None]
    covariance = np.diag((factor * n) @ at_risk) - weighted.T @ weighted

    z = observed_minus_expected[:-1]
    statistic = float(z @ np.linalg.pinv(covariance[:-1, :-1]) @ z)
    degrees_of_freedom = n_groups - 1
    return LogRankResult(
        statistic=statistic,
        p_value=float(chi2.sf(statistic, degrees_of_freedom)),
        degrees_of_freedom=degrees_of_freedom,
    )
