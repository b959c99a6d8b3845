"""Top at-risk deals: rule-signal ranking, model ranking, and the model's absence said plainly."""

import numpy as np
import pandas as pd

from dealscope.metrics.stall import FLAG_COLUMNS
from dealscope.report.at_risk import (
    RISK_NO_MODEL,
    RISK_OK,
    load_model_risk,
    rank_at_risk,
)
from dealscope.risk import service


def flags(rows):
    return pd.DataFrame(rows, columns=list(FLAG_COLUMNS))


FLAGS = flags(
    [
        ("calm", "n", "o", "线索", 900.0, 1.0, 10.0, False, 1.0, False),
        ("stalled", "n", "o", "线索", 100.0, 30.0, 10.0, True, 2.0, False),  # 3× the line
        ("slow", "n", "o", "线索", 500.0, 12.0, 10.0, True, 2.0, False),  # 1.2× the line
        ("both", "n", "o", "线索", 50.0, 11.0, 10.0, True, 20.0, True),
        ("silent", "n", "o", "线索", 70.0, np.nan, np.nan, False, 40.0, True),
    ]
)


def test_without_a_model_only_flagged_deals_rank_by_signals_then_evidence():
    ranked = rank_at_risk(FLAGS, None)
    # Two signals first; then one signal by days past the line (3×, 1.2×, none) then silence.
    assert ranked["opportunity_id"].tolist() == ["both", "stalled", "slow", "silent"]
    assert ranked["p_lost"].isna().all()


def test_with_a_model_every_open_deal_ranks_by_probability():
    model = pd.DataFrame(
        {
            "opportunity_id": ["calm", "stalled", "slow", "both", "silent"],
            "p_lost": [0.9, 0.2, 0.5, 0.4, 0.1],
            "tier": ["high", "low", "medium", "medium", "low"],
            "reasons_zh-CN": ["原因"] * 5,
            "reasons_en": ["reason"] * 5,
        }
    )
    ranked = rank_at_risk(FLAGS, model, top=3)
    assert ranked["opportunity_id"].tolist() == ["calm", "slow", "both"]
    assert ranked["tier"].tolist() == ["high", "medium", "medium"]
    assert (ranked["reasons_en"] == "reason").all()


def test_model_status_is_explicit(demo_dataset, tmp_path):
    frame, status = load_model_risk(demo_dataset, pd.Timestamp("2026-11-16"), str(tmp_path))
    assert frame is None
    assert status == RISK_NO_MODEL  # nothing stored in an empty model folder


def test_a_stored_model_scores_the_week_end(demo_dataset, tmp_path):
    service.train_and_save(demo_dataset, str(tmp_path))
    moment = pd.Timestamp("2026-11-16")
    frame, status = load_model_risk(demo_dataset, moment, str(tmp_path))
    assert status == RISK_OK
    assert frame["p_lost"].between(0, 1).all()
    assert frame["reasons_en"].notna().all() and frame["reasons_zh-CN"].notna().all()
    # Scored are the deals open at the week's end, not at the data's as-of date.
    opps = demo_dataset.opportunities
    open_then = (opps["created_at"] <= moment) & (
        (opps["status"] == "open") | (opps["closed_at"] > moment)
    )
    assert set(frame["opportunity_id"]) == set(opps.loc[open_then, "opportunity_id"])
