"""Top at-risk deals: rule-signal ranking, model ranking (by probability or expected lost value),
and the model passed in by the caller (the report never loads one)."""

import numpy as np
import pandas as pd

from dealscope.metrics.stall import FLAG_COLUMNS
from dealscope.report.assemble import build_weekly_report
from dealscope.report.at_risk import rank_at_risk
from dealscope.report.present import at_risk_table
from dealscope.risk import service
from dealscope.risk.score import RiskScores


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


def scores(p_lost: list[float]) -> RiskScores:
    amount = FLAGS["amount"].to_numpy()
    deals = pd.DataFrame(
        {
            "opportunity_id": FLAGS["opportunity_id"],
            "p_lost": p_lost,
            "expected_lost_value": np.asarray(p_lost) * amount,
            "tier": ["high", "low", "medium", "medium", "low"],
        }
    )
    reasons = pd.DataFrame(columns=["opportunity_id", "feature", "log_odds", "value", "rank"])
    return RiskScores(deals, reasons, pd.Timestamp("2026-01-01"))


def test_without_a_model_only_flagged_deals_rank_by_signals_then_evidence():
    ranked = rank_at_risk(FLAGS, None)
    # Two signals first; then one signal by days past the line (3×, 1.2×, none) then silence.
    assert ranked["opportunity_id"].tolist() == ["both", "stalled", "slow", "silent"]
    assert ranked["p_lost"].isna().all()


def test_with_a_model_every_open_deal_ranks_by_probability_or_expected_loss():
    model = scores([0.9, 0.2, 0.5, 0.4, 0.1])
    ranked = rank_at_risk(FLAGS, model, top=3)
    assert ranked["opportunity_id"].tolist() == ["calm", "slow", "both"]
    assert ranked["tier"].tolist() == ["high", "medium", "medium"]
    # Expected lost value by hand: calm 810, stalled 20, slow 250, both 20, silent 7; the tie
    # (stalled, both) goes to the higher probability.
    by_value = rank_at_risk(FLAGS, model, top=5, order="expected_lost_value")
    assert by_value["opportunity_id"].tolist() == ["calm", "slow", "both", "stalled", "silent"]


def test_report_uses_the_model_passed_in_and_says_when_it_falls_back(demo_dataset, tmp_path):
    without = build_weekly_report(demo_dataset, None, risk_status="training")
    assert without.at_risk.model is False
    assert without.at_risk.model_status == "training"
    trained = service.train_and_save(demo_dataset, str(tmp_path))
    document = build_weekly_report(demo_dataset, None, risk_model=(trained.estimator, trained.card))
    section = document.at_risk
    assert section.model is True and section.model_status == "model"
    table = section.table
    assert table["p_lost"].between(0, 1).all()
    assert (np.diff(table["p_lost"].to_numpy()) <= 0).all()
    # Scored are deals open at the week's end; reasons rendered in each language from one scoring.
    en, zh = at_risk_table(document, "en"), at_risk_table(document, "zh-CN")
    assert en["reasons"].str.len().gt(0).any()
    assert set(en["tier"]) <= {"At risk", "Follow up", "Likely to win"}
    assert set(zh["tier"]) <= {"易流失", "需跟进", "高意向"}
