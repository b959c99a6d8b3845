"""Real data and edge cases: Maven (no outcome signal) gets no invented skill; too little data is
a clear message; the decision-maker signal; the demo's scores cover every open deal."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dealscope.metrics.kpis import infer_as_of
from dealscope.model import (
    OPEN,
    normalise_opportunities,
    normalise_stage_events,
    normalise_stages,
)
from dealscope.risk.score import decision_maker_changed, score_open_deals
from dealscope.risk.train import InsufficientData, train_risk_model
from tests.conftest import MAVEN_DIR


def read_maven() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Maven's sales_pipeline.csv mapped to the canonical frames (no stage history)."""
    pipeline = pd.read_csv(MAVEN_DIR / "sales_pipeline.csv", dtype={"opportunity_id": str})
    accounts = pd.read_csv(MAVEN_DIR / "accounts.csv").loc[:, ["account", "sector"]]
    teams = pd.read_csv(MAVEN_DIR / "sales_teams.csv")
    pipeline = pipeline.merge(accounts, on="account", how="left").merge(
        teams, on="sales_agent", how="left"
    )
    opps = pd.DataFrame(
        {
            "opportunity_id": pipeline["opportunity_id"],
            "owner": pipeline["sales_agent"],
            "team": pipeline["manager"],
            "region": pipeline["regional_office"],
            "industry": pipeline["sector"],
            "account": pipeline["account"],
            "amount": pipeline["close_value"],  # known only at the close: must not be used
            "stage": pipeline["deal_stage"],
            "status": pipeline["deal_stage"].map({"Won": "won", "Lost": "lost"}).fillna(OPEN),
            "created_at": pipeline["engage_date"],
            "closed_at": pipeline["close_date"],
            # product has no canonical column: kept in extra as an ingest would.
            "extra": pipeline["product"].map(lambda p: json.dumps({"product": p})),
        }
    )
    stages = pd.DataFrame(
        {
            "stage": ["Prospecting", "Engaging", "Won", "Lost"],
            "position": [0, 1, 2, 3],
            "kind": ["open", "open", "won", "lost"],
        }
    )
    events = pd.DataFrame(columns=["opportunity_id", "stage", "entered_at"])
    return normalise_opportunities(opps), normalise_stage_events(events), normalise_stages(stages)


@pytest.mark.skipif(not MAVEN_DIR.exists(), reason=f"shared dataset absent: {MAVEN_DIR}")
def test_maven_has_no_outcome_signal_and_the_model_invents_none():
    opps, events, stages = read_maven()
    as_of = infer_as_of(opps, events)
    trained = train_risk_model(opps, events, stages, as_of)
    card = trained.card
    assert card.mode in ("dated", "undated")
    assert "log_amount" not in card.spec.columns  # close_value is set at the close
    amount = next(r for r in card.feature_availability if r.feature == "amount")
    assert amount.used is False
    assert abs(card.metrics.auc - 0.5) < 0.1
    assert card.beats_baseline is False  # the page warns: treat the scores as noise
    scores = score_open_deals(trained.estimator, card, opps, events, stages, as_of)
    # as_of is the export's date (the last engage date): deals closed after it were open then.
    open_then = opps["status"].eq(OPEN) | opps["closed_at"].gt(as_of)
    assert len(scores.deals) == int(open_then.sum())


def test_too_few_closed_deals_give_a_clear_message(demo_dataset):
    ds = demo_dataset
    opps = ds.opportunities.loc[~ds.opportunities["status"].eq("won")]
    won = ds.opportunities.loc[ds.opportunities["status"].eq("won")].head(49)
    opps = pd.concat([opps, won], ignore_index=True)
    with pytest.raises(InsufficientData, match="49 won"):
        train_risk_model(opps, ds.stage_events, ds.stages, infer_as_of(opps, ds.stage_events))


def test_demo_scores_cover_every_open_deal_with_tiers(demo_dataset):
    ds = demo_dataset
    as_of = infer_as_of(ds.opportunities, ds.stage_events)
    trained = train_risk_model(ds.opportunities, ds.stage_events, ds.stages, as_of)
    assert trained.card.beats_baseline  # the demo has real signal in its stage history
    scores = score_open_deals(
        trained.estimator, trained.card, ds.opportunities, ds.stage_events, ds.stages, as_of
    )
    deals = scores.deals
    assert len(deals) == int(ds.opportunities["status"].eq(OPEN).sum())
    assert deals["p_lost"].between(0, 1).all()
    high, low = trained.card.thresholds.high, trained.card.thresholds.low
    assert (deals.loc[deals["tier"].eq("high"), "p_lost"] >= high).all()
    assert (deals.loc[deals["tier"].eq("low"), "p_lost"] < low).all()
    assert deals["decision_maker_changed"].isna().all()  # no such field in the demo
    assert set(scores.reasons["opportunity_id"]) <= set(deals["opportunity_id"])
    assert np.isfinite(scores.reasons["log_odds"]).all()


def test_decision_maker_signal_read_from_extra():
    opps = normalise_opportunities(
        pd.DataFrame(
            {
                "opportunity_id": ["a", "b", "c"],
                "status": "open",
                "extra": [
                    '{"decision_maker_changed": true}',
                    '{"decision_maker_changed": false}',
                    '{"决策人变更": "是"}',
                ],
            }
        )
    )
    assert decision_maker_changed(opps).tolist() == [True, False, True]
    assert decision_maker_changed(opps.assign(extra=None)) is None
