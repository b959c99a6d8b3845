"""Kaplan–Meier against hand-computed values and lifelines."""

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter

from dealscope.metrics.survival import (
    close_durations,
    kaplan_meier_table,
    km_median,
    km_median_by_group,
)

T0 = pd.Timestamp("2024-01-01")


def test_km_table_by_hand():
    # times 2,3(censored),4,4,6(censored): at t=2 S=4/5; t=4: at risk 3, 2 events -> S=4/5*1/3
    days = pd.Series([2.0, 3.0, 4.0, 4.0, 6.0])
    observed = pd.Series([True, False, True, True, False])
    table = kaplan_meier_table(days, observed)
    assert table["time"].tolist() == [2.0, 3.0, 4.0, 6.0]
    assert table["at_risk"].tolist() == [5, 4, 3, 1]
    assert table["survival"].tolist() == pytest.approx([0.8, 0.8, 0.8 / 3, 0.8 / 3])
    assert km_median(days, observed) == 4.0


def test_km_median_none_when_curve_stays_above_half():
    assert km_median(pd.Series([1.0, 5.0, 6.0]), pd.Series([True, False, False])) is None


def test_km_agrees_with_lifelines():
    rng = np.random.default_rng(7)
    days = pd.Series(np.round(rng.exponential(30, 400), 1))
    observed = pd.Series(rng.random(400) < 0.7)
    fitter = KaplanMeierFitter().fit(days, observed)
    table = kaplan_meier_table(days, observed)
    expected = fitter.survival_function_.iloc[:, 0].reindex(table["time"]).to_numpy()
    assert table["survival"].to_numpy() == pytest.approx(expected)
    assert km_median(days, observed) == pytest.approx(fitter.median_survival_time_)


def test_km_median_by_group_matches_each_group_alone():
    days = pd.Series([2.0, 3.0, 4.0, 4.0, 6.0, 1.0, 9.0])
    observed = pd.Series([True, False, True, True, False, True, True])
    group = pd.Series(["a"] * 5 + ["b"] * 2)
    medians = km_median_by_group(days, observed, group)
    assert medians["a"] == km_median(days[:5], observed[:5]) == 4.0
    assert medians["b"] == 1.0  # S drops to 0.5 at t=1


def test_close_durations_censor_open_deals_and_deals_closed_after_as_of():
    opps = pd.DataFrame(
        {
            "opportunity_id": ["won", "open", "later", "undated"],
            "status": ["won", "open", "lost", "won"],
            "created_at": [T0, T0, T0, pd.NaT],
            "closed_at": [T0 + pd.Timedelta(days=10), pd.NaT, T0 + pd.Timedelta(days=50), T0],
        }
    )
    result = close_durations(opps, T0 + pd.Timedelta(days=30)).set_index("opportunity_id")
    assert result.loc["won"].tolist() == [10.0, True]
    assert result.loc["open"].tolist() == [30.0, False]
    # closed after the as-of date: still open (censored) as of then
    assert result.loc["later"].tolist() == [30.0, False]
    assert "undated" not in result.index
