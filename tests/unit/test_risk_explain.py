"""Reasons agree with the data: exact contributions, an always-winning segment never raises the
risk, a missing amount is never "amount 0"; scoring carries codes, the presenter the words."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dealscope.report.risk_present import reason_phrases, scores_table, tier_labels
from dealscope.risk import estimator as E
from dealscope.risk import features as F
from dealscope.risk.explain import contributions
from dealscope.risk.score import open_points, order_deals, score_open_deals
from dealscope.risk.simulate import RARE_TYPE, simulate_pipeline
from dealscope.risk.train import train_risk_model

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fixture_model():
    # 60 "Partner" deals that always win, some still open at the export; 25% amounts missing.
    sim = simulate_pipeline(n=4000, days=900, seed=1, rare=60)
    trained = train_risk_model(sim.opportunities, sim.stage_events, sim.stages, sim.as_of)
    scores = score_open_deals(
        trained.estimator, trained.card, sim.opportunities, sim.stage_events, sim.stages, sim.as_of
    )
    return sim, trained, scores


def test_contributions_add_up_exactly_to_the_calibrated_log_odds(fixture_model):
    sim, trained, _ = fixture_model
    card = trained.card
    points = open_points(sim.opportunities, sim.as_of, undated=False)
    norms = F.compute_norms(sim.opportunities, sim.stage_events, sim.stages, sim.as_of)
    raw = F.features_at(
        points, sim.opportunities, sim.stage_events, sim.stages, card.spec, norms, sim.as_of
    )
    X = F.model_matrix(raw, card.spec)
    effects = contributions(trained.estimator, card, X)
    reference = np.array(
        [[np.nan if v is None else v for v in map(card.reference.get, card.spec.columns)]]
    )
    logit = E.calibrated_logit(trained.estimator, card.calibration, X)
    ref_logit = E.calibrated_logit(trained.estimator, card.calibration, reference)
    np.testing.assert_allclose(effects.sum(axis=1), logit - ref_logit, atol=1e-9)


def test_always_winning_segment_never_raises_the_risk(fixture_model):
    sim, trained, scores = fixture_model
    partners = sim.opportunities.loc[sim.opportunities["customer_type"].eq(RARE_TYPE)]
    assert partners["status"].isin(["won", "open"]).all()  # never lost: the fixture's premise
    open_partner = set(partners.loc[partners["status"].eq("open"), "opportunity_id"])
    assert open_partner, "the fixture needs open Partner deals"
    reasons = scores.reasons
    partner_reasons = reasons.loc[
        reasons["opportunity_id"].isin(open_partner) & reasons["feature"].eq("te_customer_type")
    ]
    assert (partner_reasons["log_odds"] < 0).all()
    # Any segment reason points the way of that segment's own record against the overall rate.
    segment = reasons.loc[reasons["feature"].astype(str).str.startswith("te_")]
    overall = trained.card.reference["te_customer_type"]
    raised = segment.loc[segment["log_odds"] > 0]
    assert (raised["value"].astype(float) >= overall - 1e-12).all()


def test_missing_amount_is_never_amount_zero(fixture_model):
    sim, _, scores = fixture_model
    missing = set(
        sim.opportunities.loc[sim.opportunities["amount"].isna(), "opportunity_id"]
    ) & set(scores.deals["opportunity_id"])
    assert missing
    amount_reasons = scores.reasons.loc[
        scores.reasons["feature"].eq("log_amount") & scores.reasons["opportunity_id"].isin(missing)
    ]
    assert amount_reasons["value"].isna().all()
    for lang in ("en", "zh-CN"):
        table = scores_table(scores, lang)
        text = " ".join(table.loc[table["opportunity_id"].isin(missing), "reasons"])
        assert "amount 0 " not in text and "金额 0" not in text
    phrases = reason_phrases(amount_reasons, "en")
    assert phrases.str.startswith("amount not filled in").all()
    # Expected lost value is unknown, not 0, without an amount.
    assert (
        scores.deals.loc[scores.deals["opportunity_id"].isin(missing), "expected_lost_value"]
        .isna()
        .all()
    )


def test_one_scoring_serves_both_languages_with_english_tier_names(fixture_model):
    _, _, scores = fixture_model
    en, zh = scores_table(scores, "en"), scores_table(scores, "zh-CN")
    assert set(en["tag"]) <= {"At risk", "Follow up", "Likely to win"}
    assert set(zh["tag"]) <= {"易流失", "需跟进", "高意向"}
    cjk = en["reasons"].str.contains(r"[\u4e00-\u9fff]") | en["tag"].str.contains(
        r"[\u4e00-\u9fff]"
    )
    assert not cjk.any()
    assert tier_labels("en")["high"] == "At risk" and tier_labels("zh-CN")["high"] == "易流失"
    # Same tiers, same order: the words are the only difference.
    assert (en["tier"] == zh["tier"]).all()


def test_order_by_expected_lost_value(fixture_model):
    deals = fixture_model[2].deals
    ordered = order_deals(deals, "expected_lost_value")
    value = ordered["expected_lost_value"]
    known = value.dropna().to_numpy()
    assert (np.diff(known) <= 0).all()
    assert value.isna().sum() == 0 or value.iloc[-value.isna().sum() :].isna().all()
    by_hand = (deals["p_lost"] * deals["amount"]).max()
    assert ordered["expected_lost_value"].iloc[0] == pytest.approx(by_hand)


@pytest.mark.parametrize("module", ["score", "explain", "availability"])
def test_scoring_modules_render_no_words(module):
    tree = ast.parse((ROOT / "dealscope" / "risk" / f"{module}.py").read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not any(str(m).startswith("dealscope.i18n") for m in imported)


def test_report_at_risk_loads_no_model_files():
    tree = ast.parse((ROOT / "dealscope" / "report" / "at_risk.py").read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not any(
        "registry" in str(m) or "service" in str(m) or "skops" in str(m) for m in imported
    )
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    assert not names & {"registry", "service"}


def test_segment_rates_are_as_of_each_moment():
    # Hand-made: level A closes lost on day 10, won on day 20; rates at day 15 see only the first.
    opps = pd.DataFrame(
        {
            "opportunity_id": ["a1", "a2", "x"],
            "region": ["A", "A", "A"],
            "status": ["lost", "won", "open"],
            "created_at": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-01"]),
            "closed_at": pd.to_datetime(["2024-01-11", "2024-01-21", None]),
        }
    )
    moments = pd.Series(pd.to_datetime(["2024-01-16", "2024-01-30"]))
    rate, n, prior = F.as_of_rates(
        opps, np.array([2, 2]), moments, "region", pd.Timestamp("2024-02-01")
    )
    m = F.SEGMENT_PRIOR_STRENGTH
    assert n.tolist() == [1, 2]
    assert prior.tolist() == pytest.approx([2 / 3, 2 / 4])
    assert rate.tolist() == pytest.approx([(1 + m * 2 / 3) / (1 + m), (1 + m * 0.5) / (2 + m)])
