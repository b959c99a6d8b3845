"""Time to close: KM intervals, restricted mean, censoring bias, segments, cumulative incidence."""

import numpy as np
import pandas as pd
import pytest
from lifelines import AalenJohansenFitter, KaplanMeierFitter
from lifelines.utils import median_survival_times, restricted_mean_survival_time

from dealscope.demo import generate_demo
from dealscope.metrics.cycle import (
    MIN_GROUP_DEALS,
    cif_at,
    close_outcomes,
    cumulative_incidence,
    curve_points,
    km_summary,
    km_with_intervals,
    restricted_mean,
    segment_survival,
)
from dealscope.metrics.survival import close_durations, kaplan_meier_table, km_median
from dealscope.model import normalise_opportunities

AS_OF = pd.Timestamp("2024-12-31")


def durations(days, closed, outcome=None):
    closed = pd.Series(closed, dtype=bool)
    if outcome is None:
        outcome = np.where(closed, "won", "open")
    return pd.DataFrame(
        {"days": pd.Series(days, dtype=float), "closed": closed, "outcome": outcome}
    )


def test_restricted_mean_and_variance_by_hand():
    # 2, 3+, 4, 4, 6+: S = 1 on [0,2), 0.8 on [2,4), 0.8/3 from 4 on.
    table = km_with_intervals(pd.Series([2.0, 3, 4, 4, 6]), pd.Series([1, 0, 1, 1, 0]).astype(bool))
    area, variance = restricted_mean(table, 5.0)
    assert area == pytest.approx(2 + 0.8 * 2 + 0.8 / 3)
    # Σ A_i² d/(n(n−d)): t=2: A=1.6+0.8/3, 1/(5·4); t=4: A=0.8/3, 2/(3·1)
    expected = (1.6 + 0.8 / 3) ** 2 / 20 + (0.8 / 3) ** 2 * 2 / 3
    assert variance == pytest.approx(expected)
    fitter = KaplanMeierFitter().fit([2, 3, 4, 4, 6], [1, 0, 1, 1, 0])
    assert area == pytest.approx(restricted_mean_survival_time(fitter, t=5.0))


def test_intervals_and_median_interval_agree_with_lifelines():
    rng = np.random.default_rng(11)
    days = pd.Series(np.round(rng.gamma(2.0, 20.0, 500), 0))  # rounded: many ties
    observed = pd.Series(rng.random(500) < 0.75)
    fitter = KaplanMeierFitter().fit(days, observed)
    table = km_with_intervals(days, observed)
    bounds = fitter.confidence_interval_.reindex(table["time"])
    assert table["ci_low"].to_numpy() == pytest.approx(bounds.iloc[:, 0].to_numpy())
    assert table["ci_high"].to_numpy() == pytest.approx(bounds.iloc[:, 1].to_numpy())
    summary = km_summary(durations(days, observed))
    expected = median_survival_times(fitter.confidence_interval_)
    assert summary["median"] == fitter.median_survival_time_
    assert [summary["median_low"], summary["median_high"]] == expected.iloc[0].tolist()
    assert summary["rmst"] == pytest.approx(restricted_mean_survival_time(fitter, t=days.max()))
    assert summary["rmst_low"] < summary["rmst"] < summary["rmst_high"]


def test_closed_only_mean_is_biased_and_km_is_not():
    # Deals take 10, 60 or 100 days, in equal shares (true mean 56.7, true median 60).
    # An old cohort has all closed; a recent cohort (30 days old) has only its 10-day deals closed.
    old = [10] * 10 + [60] * 10 + [100] * 10
    recent_closed, recent_open = [10] * 10, [30] * 20
    frame = durations(old + recent_closed + recent_open, [True] * 40 + [False] * 20)
    summary = km_summary(frame, horizon=100)
    assert summary["closed_only_mean"] == pytest.approx(45.0)  # (10·20 + 60·10 + 100·10) / 40
    assert summary["median"] == 60.0
    assert summary["rmst"] == pytest.approx(10 + 50 * 2 / 3 + 40 * 1 / 3)  # = 56.67, the truth
    assert summary["rmst"] - summary["closed_only_mean"] > 10


def test_summary_without_closed_deals_has_no_km_figures():
    summary = km_summary(durations([5.0, 7.0], [False, False]))
    assert summary["n"] == 2 and summary["censored"] == 2
    assert summary["median"] is None and summary["rmst"] is None
    assert km_summary(durations([], []))["n"] == 0


def test_close_outcomes_equal_close_durations_on_the_demo():
    opps, _, _ = generate_demo(n=3000, seed=8)
    opps = normalise_opportunities(opps)
    as_of = pd.Timestamp("2026-06-01")  # mid-history: many deals closed after it are open then
    result = close_outcomes(opps, as_of)
    expected = close_durations(opps, as_of)
    pd.testing.assert_frame_equal(
        result.loc[:, expected.columns], expected, check_exact=True, check_dtype=False
    )
    assert result["outcome"].eq("open").sum() == (~expected["closed"]).sum()


def test_close_outcomes_rows_match_close_durations():
    opps = pd.DataFrame(
        {
            "opportunity_id": ["w", "o", "later", "undated", "nodate", "l"],
            "status": ["won", "open", "lost", "won", "lost", "lost"],
            "region": ["华东", "华北", "华东", "华南", "华南", "华北"],
            "created_at": pd.to_datetime(
                ["2024-01-01", "2024-06-01", "2024-01-01", None, "2024-01-01", "2024-03-01"]
            ),
            "closed_at": pd.to_datetime(
                ["2024-02-01", None, "2025-03-01", "2024-01-01", None, "2024-04-01"]
            ),
        }
    )
    result = close_outcomes(opps, AS_OF, ("region",))
    expected = close_durations(opps, AS_OF)
    pd.testing.assert_frame_equal(result.loc[:, expected.columns], expected, check_exact=True)
    assert result["outcome"].tolist() == ["won", "open", "open", "lost"]
    assert result["region"].tolist() == ["华东", "华北", "华东", "华北"]


def test_cumulative_incidence_by_hand():
    # t=1 won, t=2 lost, t=3 censored, t=4 won.
    frame = durations([1.0, 2, 3, 4], [True, True, False, True], ["won", "lost", "open", "won"])
    cif = cumulative_incidence(frame)
    assert cif["cif_won"].tolist() == pytest.approx([0.25, 0.25, 0.25, 0.75])
    assert cif["cif_lost"].tolist() == pytest.approx([0.0, 0.25, 0.25, 0.25])
    total = cif["cif_won"] + cif["cif_lost"] + cif["survival"]
    assert total.to_numpy() == pytest.approx(1.0)
    marks = cif_at(cif, (0, 2, 10)).set_index("day")
    assert marks.loc[0].tolist() == [0.0, 0.0, 1.0]
    assert marks.loc[2].tolist() == pytest.approx([0.25, 0.25, 0.5])
    assert marks.loc[10, "cif_won"] == pytest.approx(0.75)


def test_cumulative_incidence_agrees_with_lifelines():
    rng = np.random.default_rng(5)
    n = 300
    days = pd.Series(rng.exponential(40.0, n))  # continuous: no ties for lifelines to jitter
    outcome = np.where(rng.random(n) < 0.2, "open", np.where(rng.random(n) < 0.4, "won", "lost"))
    frame = durations(days, outcome != "open", outcome)
    cif = cumulative_incidence(frame).set_index("time")
    codes = pd.Series(outcome).map({"open": 0, "won": 1, "lost": 2})
    for code, column in ((1, "cif_won"), (2, "cif_lost")):
        fitter = AalenJohansenFitter(calculate_variance=False).fit(
            days, codes, event_of_interest=code
        )
        theirs = fitter.cumulative_density_.iloc[:, 0].reindex(cif.index)
        assert cif[column].to_numpy() == pytest.approx(theirs.to_numpy())


def test_segment_survival_medians_test_and_left_out_groups():
    rng = np.random.default_rng(3)
    fast = rng.exponential(10.0, 60)
    slow = rng.exponential(60.0, 60)
    tiny = np.array([5.0] * (MIN_GROUP_DEALS - 1))
    frame = durations(np.concatenate([fast, slow, tiny]), [True] * (120 + len(tiny)))
    frame["region"] = ["fast"] * 60 + ["slow"] * 60 + ["tiny"] * len(tiny)
    result = segment_survival(frame, "region")
    groups = result["groups"].set_index("group")
    assert set(groups.index) == {"fast", "slow"}  # tiny has fewer than MIN_GROUP_DEALS
    assert result["left_out"] == len(tiny)
    observed = pd.Series([True] * 60)
    assert groups.loc["fast", "median"] == km_median(pd.Series(fast), observed)
    assert groups.loc["slow", "median"] == km_median(pd.Series(slow), observed)
    assert result["test"]["df"] == 1 and result["test"]["p_value"] < 1e-6
    curves = result["curves"]
    assert curves.groupby("group")["day"].first().eq(0).all()
    assert curves.groupby("group")["survival"].last().tolist() == [0.0, 0.0]


def test_curve_points_one_point_per_day_with_the_day_end_value():
    table = km_with_intervals(pd.Series([0.5, 0.7, 2.2, 5.0]), pd.Series([True] * 4))
    points = curve_points(table)
    assert points["day"].tolist() == [0, 1, 3, 5]
    assert points["survival"].tolist() == pytest.approx([1.0, 0.5, 0.25, 0.0])


def test_empty_selection_gives_empty_figures():
    frame = durations([], [])
    frame["region"] = pd.Series(dtype="string")
    assert cumulative_incidence(frame).empty and cif_at(cumulative_incidence(frame)).empty
    result = segment_survival(frame, "region")
    assert result["groups"].empty and result["test"] is None and result["left_out"] == 0


def test_single_sample_table_equals_kaplan_meier_table():
    rng = np.random.default_rng(2)
    days = pd.Series(np.round(rng.exponential(30, 2000), 1))
    observed = pd.Series(rng.random(2000) < 0.8)
    ours = km_with_intervals(days, observed).loc[:, ["time", "at_risk", "events", "survival"]]
    pd.testing.assert_frame_equal(ours, kaplan_meier_table(days, observed), check_dtype=False)
