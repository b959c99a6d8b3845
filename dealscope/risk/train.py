"""Train the churn-risk model: out-of-time validation, model choice by the numbers, calibration.

Closed deals are ordered by close time and split into three consecutive slices: *fit* (the
earliest 60%), *calibration* (the next 15%: picks the model and fits the sigmoid calibration) and
*test* (the latest 25%: the figures the card reports, never seen before). The shipped model is
refitted the same way on all closed deals (fit on the earliest 85%, calibrated on the latest 15%),
so it learns from the most recent outcomes too. Every figure sits beside a stage-only baseline.
"""

from __future__ import annotations

import platform
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline

from dealscope.errors import DealScopeError
from dealscope.risk import availability as A
from dealscope.risk import features as F
from dealscope.risk.candidates import RANDOM_STATE, candidate_models
from dealscope.risk.evaluate import evaluate, stage_baseline

# Fewer closed deals of either outcome than this gives a message instead of a model (DESIGN §5).
MIN_CLOSED_PER_CLASS = 50
FIT_SHARE, CALIBRATION_SHARE = 0.60, 0.15
# Snapshot rows are capped (whole deals are sampled) so training stays within seconds at 1M deals.
MAX_TRAINING_SNAPSHOTS = 200_000
# Tier thresholds on the calibrated probability of ending lost.
TIER_HIGH, TIER_LOW = 0.65, 0.35
CARD_FORMAT = "dealscope-risk-card/1"
# Below this ROC AUC gain over the stage-only baseline the model is reported as showing no skill.
MIN_AUC_GAIN = 0.02

Progress = Callable[[float, str], None]


class InsufficientData(DealScopeError):
    """Too few won or lost closed deals to train a model worth showing."""


@dataclass(frozen=True)
class TrainedModel:
    """A calibrated estimator and its model card (a JSON-serialisable dict)."""

    estimator: object
    card: dict


def check_minimum(deals: pd.DataFrame) -> tuple[int, int]:
    """(won, lost) counts of closed_deals' frame; raises InsufficientData below the minimum."""
    lost = int(deals["lost"].sum())
    won = len(deals) - lost
    if won < MIN_CLOSED_PER_CLASS or lost < MIN_CLOSED_PER_CLASS:
        raise InsufficientData(
            f"Too little history for a risk model: {won} won and {lost} lost closed deals; "
            f"at least {MIN_CLOSED_PER_CLASS} of each are needed."
        )
    return won, lost


def _cap(deals: pd.DataFrame, mode: str) -> pd.DataFrame:
    """Sample whole deals (seeded) so the snapshot rows stay under MAX_TRAINING_SNAPSHOTS;
    counted before any snapshot is built, so 1M deals never become 15M rows in memory."""
    total = int(F.snapshot_counts(deals, mode).sum())
    if total <= MAX_TRAINING_SNAPSHOTS:
        return deals
    keep = int(len(deals) * MAX_TRAINING_SNAPSHOTS / total)
    return deals.sample(n=keep, random_state=RANDOM_STATE).sort_index()


def _fit(pipe: Pipeline, X: pd.DataFrame, y: np.ndarray, w: np.ndarray) -> Pipeline:
    return pipe.fit(X, y, model__sample_weight=w)


def _calibrate(fitted: Pipeline, X: pd.DataFrame, y: np.ndarray, w: np.ndarray):
    calibrated = CalibratedClassifierCV(FrozenEstimator(fitted), method="sigmoid")
    with warnings.catch_warnings():
        # The frozen model is already fitted; the weights are meant for the sigmoid fit only,
        # which is exactly what sklearn warns it will do.
        warnings.filterwarnings("ignore", message=".*FrozenEstimator does not appear to accept")
        return calibrated.fit(X, y, sample_weight=w)


def _typical(X: pd.DataFrame, spec: F.FeatureSpec) -> dict[str, object]:
    """Median of each numeric feature and mode of each categorical one (the explain reference)."""
    typical: dict[str, object] = {}
    for column in spec.numeric:
        value = X[column].median()
        typical[column] = None if pd.isna(value) else float(value)
    for column in spec.categorical:
        typical[column] = str(X[column].mode().iloc[0])
    return typical


def train_risk_model(
    opportunities: pd.DataFrame,
    stage_events: pd.DataFrame,
    stages: pd.DataFrame,
    as_of: pd.Timestamp,
    *,
    dataset: dict | None = None,
    progress: Progress | None = None,
) -> TrainedModel:
    """Train, validate out of time and calibrate on the canonical frames; return model + card.

    Takes opportunities (canonical columns), stage_events (opportunity_id, stage, entered_at),
    stages (stage, position, kind). Raises InsufficientData below MIN_CLOSED_PER_CLASS.
    """
    say = progress or (lambda _f, _m: None)
    say(0.05, "snapshots")
    deals = F.closed_deals(opportunities, as_of)
    won, lost = check_minimum(deals)
    spec = A.choose_spec(opportunities, stage_events, as_of)
    deals = _cap(deals, spec.mode)
    points = F.snapshot_points(deals, spec.mode)
    frame = F.features_at(points, opportunities, stage_events, stages, as_of, spec)
    frame = frame.assign(
        lost=points["lost"].to_numpy(),
        weight=points["weight"].to_numpy(),
        closed_at=points["closed_at"].to_numpy(),
    )
    # A snapshot whose stage is already closed (inconsistent history) says nothing about risk.
    frame = frame.loc[frame["stage_kind"].eq(F.OPEN) | frame["stage_kind"].isna()]

    cut_cal, cut_test = deals["closed_at"].quantile([FIT_SHARE, FIT_SHARE + CALIBRATION_SHARE])
    part = np.select(
        [frame["closed_at"] < cut_cal, frame["closed_at"] < cut_test], ["fit", "cal"], "test"
    )
    fit_rows, cal_rows, test_rows = (frame.loc[part == p] for p in ("fit", "cal", "test"))
    spec = F.fit_categories(fit_rows, spec)

    def xyw(rows: pd.DataFrame):
        return (
            F.model_matrix(rows, spec),
            rows["lost"].to_numpy(),
            rows["weight"].to_numpy(),
        )

    X_fit, y_fit, w_fit = xyw(fit_rows)
    X_cal, y_cal, w_cal = xyw(cal_rows)
    X_test, y_test, w_test = xyw(test_rows)
    candidates = {}
    calibrated_models = {}
    for i, (name, pipe) in enumerate(candidate_models(spec).items()):
        say(0.15 + 0.3 * i, f"fit:{name}")
        fitted = _fit(pipe, X_fit, y_fit, w_fit)
        calibrated = _calibrate(fitted, X_cal, y_cal, w_cal)
        calibrated_models[name] = calibrated
        candidates[name] = {
            "calibration_slice": evaluate(
                y_cal, calibrated.predict_proba(X_cal)[:, 1], w_cal, curve=False
            ),
            "test": evaluate(y_test, calibrated.predict_proba(X_test)[:, 1], w_test),
        }
    # Pick by the calibration slice (the test slice is kept for reporting, not for choosing).
    chosen = max(candidates, key=lambda n: candidates[n]["calibration_slice"]["auc"] or 0.0)
    baseline_p = stage_baseline(fit_rows, test_rows, spec.mode)
    baseline = evaluate(y_test, baseline_p, w_test)

    say(0.75, "refit")
    final_cut = deals["closed_at"].quantile(FIT_SHARE + CALIBRATION_SHARE)
    early = frame.loc[frame["closed_at"] < final_cut]
    late = frame.loc[frame["closed_at"] >= final_cut]
    spec = F.fit_categories(early, spec)
    X_early, y_early, w_early = xyw(early)
    X_late, y_late, w_late = xyw(late)
    final = _calibrate(
        _fit(candidate_models(spec)[chosen], X_early, y_early, w_early), X_late, y_late, w_late
    )
    say(0.95, "card")
    test = candidates[chosen]["test"]
    card = {
        "format": CARD_FORMAT,
        "dataset": dataset or {},
        "as_of": as_of.isoformat(),
        "trained_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "sklearn_version": sklearn.__version__,
        "python_version": platform.python_version(),
        "mode": spec.mode,
        "spec": spec.to_json(),
        "features": spec.columns,
        "feature_availability": A.availability_table(
            spec,
            A.amount_availability(opportunities, as_of)[1],
            A.excluded_fields(opportunities),
        ),
        "rows": {
            "closed_won": won,
            "closed_lost": lost,
            "deals_sampled": len(deals),
            "deals_fit": int(fit_rows["opportunity_id"].nunique()),
            "deals_calibration": int(cal_rows["opportunity_id"].nunique()),
            "deals_test": int(test_rows["opportunity_id"].nunique()),
            "snapshots_fit": len(fit_rows),
            "snapshots_calibration": len(cal_rows),
            "snapshots_test": len(test_rows),
            "snapshots_final": len(frame),
        },
        "validation": {
            "kind": "out-of-time",
            "fit_closed_before": cut_cal.isoformat(),
            "calibration_closed_before": cut_test.isoformat(),
            "test_closed_from": cut_test.isoformat(),
            "test_closed_to": deals["closed_at"].max().isoformat(),
            "weighting": "each deal's snapshots share a weight of 1",
            "snapshot_ages_days": list(F.SNAPSHOT_AGES_DAYS) if spec.mode == F.HISTORY else [0],
        },
        "candidates": {
            n: {"calibration_auc": c["calibration_slice"]["auc"], "test": _scalars(c["test"])}
            for n, c in candidates.items()
        },
        "chosen": chosen,
        "beats_baseline": beats_baseline(test, baseline),
        "metrics": test,
        "baseline": baseline,
        "thresholds": {"high": TIER_HIGH, "low": TIER_LOW},
        "typical": _typical(X_early, spec),
    }
    return TrainedModel(final, card)


def beats_baseline(metrics: dict, baseline: dict) -> bool:
    """Whether the model shows real skill out of time: ROC AUC at least MIN_AUC_GAIN above the
    stage-only baseline and a Brier score no worse. When not, the page says to treat the scores
    as noise (Maven's data carries no outcome signal: this is how that shows)."""
    if metrics["auc"] is None or baseline["auc"] is None:
        return False
    return (
        metrics["auc"] >= baseline["auc"] + MIN_AUC_GAIN and metrics["brier"] <= baseline["brier"]
    )


def _scalars(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if not isinstance(v, list)}


def train_summary(card: dict) -> dict:
    """The CLI's `risk train --json` document from a model card."""
    m, b = card["metrics"], card["baseline"]
    return {
        "dataset": card["dataset"],
        "mode": card["mode"],
        "chosen": card["chosen"],
        "beats_baseline": card["beats_baseline"],
        "auc": m["auc"],
        "pr_auc": m["pr_auc"],
        "brier": m["brier"],
        "lift_top_decile": m["lift_top_decile"],
        "baseline_auc": b["auc"],
        "baseline_pr_auc": b["pr_auc"],
        "baseline_brier": b["brier"],
        "baseline_lift_top_decile": b["lift_top_decile"],
        "n_train": card["rows"]["snapshots_fit"] + card["rows"]["snapshots_calibration"],
        "n_test": card["rows"]["snapshots_test"],
        "deals_test": card["rows"]["deals_test"],
        "validation": card["validation"],
        "candidates": card["candidates"],
        "trained_at": card["trained_at"],
    }
