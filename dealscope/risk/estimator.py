"""The risk estimator: an additive gradient-boosting model plus Platt scaling, and its exact
per-feature contributions.

HistGradientBoostingClassifier with `interaction_cst="no_interactions"` makes every tree use one
feature, so the raw log-odds are a sum of one-feature functions: raw(x) = b + Σ_j f_j(x_j). It
handles a missing amount natively (NaN has its own branch) and keeps the thresholds boosting is
good at ("stalled past N days"). Segment rates enter with a monotone (+1) constraint: a segment
that lost less often than another never gets a higher risk from that feature.

Contributions (explain.py) are exact for this model: raw(x) − raw(x with x_j set to its reference
value) = f_j(x_j) − f_j(ref_j), and they add up to raw(x) − raw(reference). Platt scaling is affine
on the log-odds, so each contribution times the Platt slope is that feature's exact share of the
calibrated log-odds: odds(p) = odds(reference) · Π_j exp(slope · c_j).
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from dealscope.risk.card import Calibration
from dealscope.risk.features import FeatureSpec

RANDOM_STATE = 0


def new_estimator(spec: FeatureSpec, rows: int) -> HistGradientBoostingClassifier:
    """The unfitted additive model for spec's columns (smaller steps on small data)."""
    monotone = [1 if c.startswith("te_") else 0 for c in spec.columns]
    categorical = [c in spec.categorical for c in spec.columns]
    return HistGradientBoostingClassifier(
        learning_rate=0.08,
        max_iter=250 if rows >= 5_000 else 120,
        max_leaf_nodes=8,
        min_samples_leaf=max(20, min(200, rows // 200)),
        l2_regularization=1.0,
        interaction_cst="no_interactions",
        monotonic_cst=monotone,
        categorical_features=categorical if any(categorical) else None,
        early_stopping=False,
        random_state=RANDOM_STATE,
    )


def fit(
    spec: FeatureSpec, X: np.ndarray, y: np.ndarray, w: np.ndarray | None = None
) -> HistGradientBoostingClassifier:
    # A column with no known value at all (e.g. the activity features when a follow-up log
    # touches none of the training deals) makes the binner fail; as a constant it can carry no
    # split, so the model ignores it, as it should, whatever the column holds at prediction.
    unknown = np.isnan(X).all(axis=0) if len(X) else np.zeros(X.shape[1], dtype=bool)
    if unknown.any():
        X = X.copy()
        X[:, unknown] = 0.0
    return new_estimator(spec, len(y)).fit(X, y, sample_weight=w)


def raw_logit(estimator, X: np.ndarray) -> np.ndarray:
    """The model's raw log-odds of ending lost."""
    if len(X) == 0:
        return np.empty(0)
    return np.asarray(estimator.decision_function(X), dtype="float64")


def fit_platt(raw: np.ndarray, y: np.ndarray) -> Calibration:
    """Platt scaling of raw log-odds against outcomes (identity when one class is missing)."""
    if len(np.unique(y)) < 2:
        return Calibration(1.0, 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lr = LogisticRegression(C=1e4, max_iter=1000).fit(raw.reshape(-1, 1), y)
    return Calibration(float(lr.coef_[0, 0]), float(lr.intercept_[0]))


def calibrated_logit(estimator, calibration: Calibration, X: np.ndarray) -> np.ndarray:
    return calibration.slope * raw_logit(estimator, X) + calibration.intercept


def predict(estimator, calibration: Calibration, X: np.ndarray) -> np.ndarray:
    """Calibrated probability of ending lost."""
    return 1.0 / (1.0 + np.exp(-calibrated_logit(estimator, calibration, X)))
