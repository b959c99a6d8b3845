"""Risk charts get aggregated frames and carry the translated labels."""

from __future__ import annotations

import pandas as pd

from dealscope.charts.risk import build_reliability_chart, build_tier_chart, reliability_frame

LABELS = {
    "metrics": "Model",
    "baseline": "Baseline",
    "predicted": "Predicted",
    "observed": "Observed",
    "series": "Series",
    "weight": "Deals",
}


def test_reliability_frame_stacks_model_and_baseline_bins():
    card = {
        "metrics": {
            "reliability": [{"bin": 1, "mean_predicted": 0.15, "observed": 0.2, "weight": 3.0}]
        },
        "baseline": {
            "reliability": [{"bin": 5, "mean_predicted": 0.55, "observed": 0.5, "weight": 2.0}]
        },
    }
    frame = reliability_frame(card, LABELS)
    assert frame["series"].tolist() == ["Model", "Baseline"]
    spec = build_reliability_chart(frame, LABELS).to_dict()
    assert spec["layer"][1]["encoding"]["x"]["title"] == "Predicted"


def test_tier_chart_orders_tiers_high_to_low():
    counts = pd.DataFrame(
        {"tier": ["high", "medium", "low"], "count": [5, 3, 1], "amount": [0.0] * 3}
    )
    labels = {"high": "易流失", "medium": "需跟进", "low": "高意向", "tier": "分级", "count": "数"}
    spec = build_tier_chart(counts, labels).to_dict()
    assert spec["encoding"]["x"]["sort"] == ["易流失", "需跟进", "高意向"]
