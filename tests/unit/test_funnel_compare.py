"""Segment, period and cohort comparisons, lost reasons, transitions and drill-through."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dealscope.metrics.funnel import STRICT
from dealscope.metrics.funnel_compare import (
    OTHER,
    compare_periods,
    compare_segments,
    compute_cohorts,
    holm_adjust,
    segment_labels,
    two_proportion_test,
)
from dealscope.metrics.funnel_detail import drill_deals, lost_by_stage, transition_matrix
from dealscope.metrics.funnel_paths import build_deal_paths
from dealscope.model import normalise_opportunities
from tests.unit import funnel_fixtures as fx


@pytest.fixture(scope="module")
def built():
    return build_deal_paths(fx.opportunities(), fx.stage_events(), fx.stages(), fx.AS_OF)


def test_two_proportion_test_by_hand():
    # 30/40 vs 20/40: pooled 0.625, se = √(0.625·0.375·(2/40)) = 0.108253, z = 2.3094.
    p = two_proportion_test([30], [40], [20], [40])
    assert p[0] == pytest.approx(0.020921, abs=1e-5)
    assert np.isnan(two_proportion_test([0], [0], [1], [2])[0])


def test_holm_adjust_by_hand():
    # sorted 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → running max 0.03, 0.06, 0.06.
    got = holm_adjust([0.01, 0.04, 0.03, np.nan])
    assert got[:3] == pytest.approx([0.03, 0.06, 0.06]) and np.isnan(got[3])


def test_segment_comparison_marks_a_real_difference():
    opps, events = fx.two_region_pipeline()
    paths, _ = build_deal_paths(opps, events, fx.stages(), fx.AS_OF)
    table = compare_segments(paths, fx.NAMES, "region").set_index(["segment", "stage"])
    x, y = table.loc[("X", "A")], table.loc[("Y", "A")]
    assert (x["advanced"], x["resolved"], x["rest_advanced"], x["rest_resolved"]) == (
        30,
        40,
        20,
        40,
    )
    assert x["conversion"] == 0.75 and x["rest_conversion"] == 0.5
    # Two tests (X vs rest, Y vs rest), each p = 0.020921; Holm ×2 → 0.041842 < 0.05.
    assert x["p_adjusted"] == pytest.approx(0.041842, abs=1e-5) and x["significant"]
    assert y["p_adjusted"] == pytest.approx(0.041842, abs=1e-5) and y["significant"]
    # Stage B has nobody resolved: no test, no marker.
    assert np.isnan(table.loc[("X", "B"), "p_value"]) and not table.loc[("X", "B"), "significant"]


def test_segment_comparison_no_marker_within_noise():
    opps, events = fx.two_region_pipeline(x=(22, 18), y=(20, 20))
    paths, _ = build_deal_paths(opps, events, fx.stages(), fx.AS_OF)
    table = compare_segments(paths, fx.NAMES, "region")
    assert not table["significant"].any()


def test_small_segments_are_not_tested(built):
    table = compare_segments(built[0], fx.NAMES, "region")
    assert table["p_value"].isna().all() and not table["significant"].any()


def test_segment_labels_pool_small_and_missing(built):
    labels = segment_labels(built[0], "region", top=1)
    # 西 has 4 deals, 东 3, two without a region: top 1 keeps 西, the rest are pooled.
    assert labels.tolist() == [OTHER] * 3 + ["西"] * 4 + [OTHER] * 2


def test_period_comparison():
    now_opps, now_events = fx.two_region_pipeline(x=(30, 10), y=(0, 0), created="2025-01-20")
    old_opps, old_events = fx.two_region_pipeline(x=(0, 0), y=(20, 20), created="2024-12-20")
    opps = pd.concat([now_opps, old_opps], ignore_index=True)
    events = pd.concat([now_events, old_events], ignore_index=True)
    paths, _ = build_deal_paths(opps, events, fx.stages(), fx.AS_OF)
    table = compare_periods(paths, fx.NAMES, pd.Timestamp("2025-01-01"), pd.Timestamp("2025-02-01"))
    current = table.loc[table["period"].eq("current")].set_index("stage")
    previous = table.loc[table["period"].eq("previous")].set_index("stage")
    assert current.loc["A", "conversion"] == 0.75 and previous.loc["A", "conversion"] == 0.5
    assert current.loc["A", "rest_conversion"] == 0.5
    # Only stage A is testable: Holm over one test leaves p = 0.020921.
    assert current.loc["A", "p_adjusted"] == pytest.approx(0.020921, abs=1e-5)
    assert current.loc["A", "significant"]


def test_cohorts_by_month(built):
    summary, stages = compute_cohorts(built[0], fx.NAMES, "month")
    got = summary.set_index(summary["cohort"].dt.strftime("%Y-%m"))
    assert got.loc["2024-11", ["deals", "won", "lost", "open"]].tolist() == [4, 2, 1, 1]
    assert got.loc["2024-12", ["deals", "won", "lost", "open"]].tolist() == [5, 0, 1, 4]
    assert got.loc["2024-11", "win_rate"] == pytest.approx(2 / 3)
    assert not got["mature"].any()  # 3 and 1 resolved: below 20
    nov = stages.loc[stages["cohort"].eq(pd.Timestamp("2024-11-01"))]
    assert nov.sort_values("position")["reached"].tolist() == [
        4,
        4,
        3,
        2,
    ]  # pass-through: d3 skipped B


@pytest.mark.parametrize(
    ("won", "lost", "open_", "mature"),
    [(11, 10, 4, True), (11, 10, 6, False), (10, 9, 0, False), (40, 40, 20, True)],
)
def test_cohort_maturity_rule(won, lost, open_, mature):
    """Mature = ≥ 80% resolved and ≥ 20 resolved: 21/25 = 84% yes; 21/27 = 77.8% no;
    19/19 resolved but fewer than 20 no; 80/100 = exactly 80% yes."""
    statuses = ["won"] * won + ["lost"] * lost + ["open"] * open_
    opps = normalise_opportunities(
        pd.DataFrame(
            {
                "opportunity_id": [f"c{i}" for i in range(len(statuses))],
                "stage": "A",
                "status": statuses,
                "created_at": "2024-10-07",
            }
        )
    )
    paths, _ = build_deal_paths(opps, fx.stage_events().iloc[0:0], fx.stages(), fx.AS_OF)
    summary, _ = compute_cohorts(paths, fx.NAMES, "quarter")
    assert summary["mature"].tolist() == [mature]


def test_lost_by_stage_with_reasons(built):
    table = lost_by_stage(built[0], fx.NAMES)
    assert table[["stage", "lost_reason", "deals", "value"]].values.tolist() == [
        ["B", "价格", 1, 200.0],
        ["C", "(none)", 1, 800.0],
    ]
    assert table["share"].tolist() == [0.5, 0.5]


def test_transition_matrix_includes_backward_and_reopen(built):
    paths, moves = built
    table = transition_matrix(moves, fx.NAMES, lost_name="L").set_index(["from_stage", "to_stage"])
    assert table.loc[("A", "B"), "moves"] == 4  # d1, d2, d4, d8
    assert table.loc[("C", "B"), "kind"] == "backward"
    assert table.loc[("L", "B"), "kind"] == "reopen" and table.loc[("W", "C"), "kind"] == "reopen"
    assert table.loc[("A", "C"), "kind"] == "skip"
    only_d8 = transition_matrix(moves, fx.NAMES, np.array([7]), "L")
    assert only_d8["moves"].sum() == 5


def test_drill_through(built):
    paths, _ = built
    assert drill_deals(paths, fx.NAMES, "B", "lost")["opportunity_id"].tolist() == ["d2"]
    assert drill_deals(paths, fx.NAMES, "B", "skipped")["opportunity_id"].tolist() == ["d3"]
    assert drill_deals(paths, fx.NAMES, "A", "skipped_on", STRICT)["opportunity_id"].tolist() == [
        "d3"
    ]
    east_reached_c = drill_deals(paths, fx.NAMES, "C", "reached", column="region", value="东")
    assert east_reached_c["opportunity_id"].tolist() == ["d1", "d3"]
    assert drill_deals(paths, fx.NAMES, "C", "open")["furthest_stage"].tolist() == ["C"]
