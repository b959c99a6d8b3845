"""The follow-up log inside the risk model (issue 18 item 4): point-in-time activity features.

A simulated pipeline (dealscope.risk.simulate) gets a log where silence drives loss: deals headed
for a loss go quiet against their own rhythm (and often change contact) before they close. The
model must use these features, read them only as of each snapshot (activities after a moment
never change that moment's features or the backtest), and gain backtest AUC over the model
without them. Without a log the model is the one it always was.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from dealscope.activity.model import CALL, NOTE, empty_activities, normalise_activities
from dealscope.report.risk_present import reason_phrases
from dealscope.risk import features as F
from dealscope.risk import train as T
from dealscope.risk.score import score_open_deals
from dealscope.risk.simulate import simulate_activities, simulate_pipeline


@pytest.fixture(scope="module")
def sim():
    return simulate_pipeline(n=3000, days=900, seed=1)


@pytest.fixture(scope="module")
def log(sim):
    return simulate_activities(sim, seed=1)


@pytest.fixture(scope="module")
def without(sim):
    return T.train_risk_model(sim.opportunities, sim.stage_events, sim.stages, sim.as_of)


@pytest.fixture(scope="module")
def with_log(sim, log):
    return T.train_risk_model(
        sim.opportunities, sim.stage_events, sim.stages, sim.as_of, activities=log
    )


def _truth_auc(sim, trained, log=None) -> float:
    scores = score_open_deals(
        trained.estimator,
        trained.card,
        sim.opportunities,
        sim.stage_events,
        sim.stages,
        sim.as_of,
        activities=log,
    )
    y = sim.future_lost.reindex(scores.deals["opportunity_id"]).to_numpy()
    return roc_auc_score(y, scores.deals["p_lost"])


def test_silence_features_are_used_and_listed(sim, log, with_log):
    card = with_log.card
    assert card.spec.activity
    assert set(F.ACTIVITY_NUMERIC) <= set(card.spec.columns)
    listed = {r.feature: r for r in card.feature_availability}
    for feature in F.ACTIVITY_NUMERIC:
        assert listed[feature].used and listed[feature].code == feature
    assert "activity_log" not in listed
    # The silence features carry reasons for the open deals (exact contributions, not zero).
    scores = score_open_deals(
        with_log.estimator,
        card,
        sim.opportunities,
        sim.stage_events,
        sim.stages,
        sim.as_of,
        activities=log,
    )
    used = set(scores.reasons["feature"])
    assert {"gap_ratio", "days_since_touch"} & used
    # A card saved and read back keeps the choice.
    assert F.FeatureSpec.from_json(card.spec.to_json()) == card.spec


def test_activity_features_improve_the_backtest(sim, log, without, with_log):
    auc_without, auc_with = without.card.metrics.auc, with_log.card.metrics.auc
    assert auc_with > auc_without + 0.01
    assert with_log.card.metrics.brier < without.card.metrics.brier
    # ... and the gain is real on what later happened to the deals open at the export.
    assert _truth_auc(sim, with_log, log) > _truth_auc(sim, without) + 0.01


def test_without_a_log_the_model_is_as_before(sim, without):
    card = without.card
    assert not card.spec.activity
    assert "activity" not in card.spec.to_json()
    assert not set(F.ACTIVITY_NUMERIC) & set(card.spec.columns)
    rows = {r.feature: r for r in card.feature_availability}
    assert rows["activity_log"].used is False and rows["activity_log"].code == "activity_no_log"
    # An empty log, or one with only internal notes, is no log: same model, same predictions.
    notes = normalise_activities(
        pd.DataFrame(
            {
                "opportunity_id": sim.opportunities["opportunity_id"].head(50),
                "occurred_at": sim.opportunities["created_at"].head(50),
                "activity_type": NOTE,
                "owner": None,
                "contact": None,
                "subject": None,
            }
        )
    )
    for log in (empty_activities(), notes):
        other = T.train_risk_model(
            sim.opportunities, sim.stage_events, sim.stages, sim.as_of, activities=log
        )
        assert other.card.spec == card.spec
        assert other.card.metrics == card.metrics
        assert other.card.validation == card.validation
    args = (sim.opportunities, sim.stage_events, sim.stages, sim.as_of)
    a = score_open_deals(without.estimator, card, *args).deals["p_lost"]
    b = score_open_deals(without.estimator, card, *args, activities=notes).deals["p_lost"]
    np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())


def test_future_activities_never_change_the_past(sim, log, with_log):
    """Activities after the latest backtest cut-off (a burst of calls on every lost deal,
    which would leak the outcome if read) leave every backtest figure unchanged, and features
    of snapshots before them unchanged."""
    cutoffs = [pd.Timestamp(c.cutoff) for c in with_log.card.validation.cutoffs]
    latest = max(cutoffs)
    lost_ids = sim.opportunities.loc[sim.opportunities["status"].eq("lost"), "opportunity_id"]
    burst = pd.DataFrame(
        {
            "opportunity_id": np.repeat(lost_ids.to_numpy(), 3),
            "occurred_at": latest + pd.to_timedelta(np.tile([1, 2, 3], len(lost_ids)), unit="D"),
            "activity_type": CALL,
            "owner": "rep00",
            "contact": "someone else",
            "subject": "call",
        }
    )
    leaky = normalise_activities(pd.concat([log, burst], ignore_index=True))
    retrained = T.train_risk_model(
        sim.opportunities, sim.stage_events, sim.stages, sim.as_of, activities=leaky
    )
    assert retrained.card.validation.cutoffs == with_log.card.validation.cutoffs
    assert retrained.card.metrics == with_log.card.metrics
    points = pd.DataFrame(
        {"opportunity_id": lost_ids.to_numpy(), "snapshot_at": latest - pd.Timedelta(days=5)}
    )
    before = F.ActivityFeatures(log, sim.opportunities["opportunity_id"])
    after = F.ActivityFeatures(leaky, sim.opportunities["opportunity_id"])
    np.testing.assert_array_equal(
        before.for_points(points["opportunity_id"].to_numpy(), points["snapshot_at"]),
        after.for_points(points["opportunity_id"].to_numpy(), points["snapshot_at"]),
    )


def test_features_per_point_by_hand():
    """Deal A touched on days 0, 10 and 20 (contact X); B only by an internal note.
    At day 15, A: 1 touch in the last 7 days (day 10), 2 in 30, 5 days silent; at day 27:
    none in the last 7 days (day 20 is 7 days back, outside), 3 in 30, 7 days silent. Two gaps
    are fewer than MIN_GAPS (3): its own rhythm, and so the gap ratio, is not known yet."""
    day = pd.Timestamp("2025-01-01")
    log = normalise_activities(
        pd.DataFrame(
            {
                "opportunity_id": ["A", "A", "A", "B"],
                "occurred_at": [day, day + pd.Timedelta(days=10), day + pd.Timedelta(days=20), day],
                "activity_type": [CALL, CALL, CALL, NOTE],
                "owner": None,
                "contact": "X",
                "subject": None,
            }
        )
    )
    table = F.ActivityFeatures(log, ["A", "B"])
    ids = np.array(["A", "A", "B"])
    moments = pd.Series([day + pd.Timedelta(days=15), day + pd.Timedelta(days=27), day])
    got = pd.DataFrame(table.for_points(ids, moments), columns=list(F.ACTIVITY_NUMERIC))
    assert got["touches_7d"].tolist() == [1, 0, 0]
    assert got["touches_30d"].tolist() == [2, 3, 0]
    assert got["days_since_touch"].iloc[:2].tolist() == [5, 7]
    assert np.isnan(got["days_since_touch"].iloc[2])  # a note is not a customer touch
    assert got["gap_ratio"].isna().all()
    assert got["contact_changed"].tolist() == [0, 0, 0]


def test_presenter_words_for_activity_reasons():
    reasons = pd.DataFrame(
        {
            "feature": ["gap_ratio", "gap_ratio", "contact_changed", "days_since_touch"],
            "value": [3.04, np.nan, 1.0, 12.2],
            "log_odds": [0.7, 0.2, 0.4, 0.3],
        }
    )
    en = reason_phrases(reasons, "en").tolist()
    assert en[0].startswith("silent 3.0× its usual gap")
    assert en[1].startswith("too few touches")
    assert en[2].startswith("main customer contact changed")
    assert en[3].startswith("12 days since the last customer touch")
    zh = reason_phrases(reasons, "zh-CN").tolist()
    assert "3.0 倍" in zh[0] and zh[2].startswith("主要客户联系人已变动")


def test_points_match_the_activity_feature_function(sim, log):
    """The as-of join of many (deal, moment) points at once equals
    dealscope.activity.features.activity_features run at each moment on its own."""
    from dealscope.activity.features import activity_features

    ids = sim.opportunities["opportunity_id"].to_numpy()
    moments = [sim.as_of - pd.Timedelta(days=d, hours=h) for d, h in ((400, 5), (90, 0), (0, 0))]
    table = F.ActivityFeatures(log, ids)
    got = table.for_points(np.tile(ids, 3), pd.Series(np.repeat(moments, len(ids))))
    for k, moment in enumerate(moments):
        expected = activity_features(log, ids, moment)
        expected["contact_changed"] = expected["contact_changed"].astype(float)
        np.testing.assert_allclose(
            got[k * len(ids) : (k + 1) * len(ids)],
            expected.loc[:, list(F.ACTIVITY_NUMERIC)].to_numpy(dtype=float),
            rtol=0,
            atol=1e-9,
        )
