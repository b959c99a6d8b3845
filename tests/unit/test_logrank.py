"""The log-rank test against a hand-computed case and lifelines (the oracle, a test-only package)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines.statistics import multivariate_logrank_test
from scipy.stats import chi2

from dealscope.metrics.logrank import logrank_test


def test_two_groups_by_hand():
    # A closes at 1 and 2; B closes at 3 and is censored at 4.
    # t=1: n=4, n_A=2, d=1 (in A): E_A = 1/2, V = 1·3/3 · 2/4 · 2/4 = 1/4
    # t=2: n=3, n_A=1, d=1 (in A): E_A = 1/3, V = 1·2/2 · 1/3 · 2/3 = 2/9
    # t=3: n=2, n_A=0: nothing for A.  Z_A = 2 − 5/6 = 7/6, V = 17/36, U = (49/36)/(17/36) = 49/17
    result = logrank_test([1, 2, 3, 4], ["A", "A", "B", "B"], [True, True, True, False])
    assert result.statistic == pytest.approx(49 / 17)
    assert result.p_value == pytest.approx(chi2.sf(49 / 17, 1))
    assert result.degrees_of_freedom == 1


def fixture_frames() -> list[pd.DataFrame]:
    """Ties, heavy censoring, unequal sizes, integer days, a group entirely censored, k = 2…6."""
    rng = np.random.default_rng(17)
    frames = []
    for n, k, scale_step, censor_share, integer_days in (
        (60, 2, 0.0, 0.2, True),
        (300, 3, 5.0, 0.5, True),
        (500, 4, 2.0, 0.1, False),
        (1000, 6, 1.0, 0.7, True),
        (40, 2, 30.0, 0.0, False),
    ):
        group = rng.integers(0, k, n)
        days = rng.exponential(30.0 + scale_step * group)
        if integer_days:
            days = np.ceil(days)
        frames.append(
            pd.DataFrame(
                {
                    "days": days,
                    "group": pd.Series(group).map(lambda g: f"g{g}"),
                    "closed": rng.random(n) >= censor_share,
                }
            )
        )
    never_closed = frames[1].copy()
    never_closed.loc[never_closed["group"].eq("g2"), "closed"] = False
    frames.append(never_closed)
    return frames


@pytest.mark.parametrize("frame", fixture_frames(), ids=lambda f: f"n{len(f)}")
def test_agrees_with_lifelines(frame):
    ours = logrank_test(frame["days"], frame["group"], frame["closed"])
    theirs = multivariate_logrank_test(frame["days"], frame["group"], frame["closed"])
    assert ours.statistic == pytest.approx(theirs.test_statistic, rel=1e-9)
    assert ours.p_value == pytest.approx(theirs.p_value, rel=1e-9, abs=1e-300)
    assert ours.degrees_of_freedom == theirs.degrees_of_freedom


def test_one_group_is_refused():
    with pytest.raises(ValueError, match="two groups"):
        logrank_test([1, 2], ["A", "A"], [True, False])
