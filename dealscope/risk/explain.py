"""Per-deal reasons as codes and numbers: each feature's exact share of the model's log-odds.

Method (exact, see estimator.py): the model is additive in its features on the log-odds scale, so
a feature's contribution to a deal is slope · (raw(x) − raw(x with that feature at its reference
value)); the contributions add up to the deal's calibrated log-odds minus the reference's.
exp(contribution) is the factor by which the feature multiplies the deal's odds of ending lost.
References: the overall lost rate for segment rates (a segment raises the risk only when it lost
more often than deals overall), training medians for numbers, the most common stage. A missing
amount is reported as missing (code "log_amount" with value NaN), never as an amount of 0.
No words here: the presenters (ui, report) render codes in either language.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dealscope.risk import estimator as E
from dealscope.risk.card import ModelCard

# Contributions smaller than this (log-odds; odds × 1.05) are not worth a reason.
MIN_LOG_ODDS = 0.05
TOP_RAISING, TOP_LOWERING = 2, 2
REASON_COLUMNS = ("opportunity_id", "feature", "log_odds", "value", "rank")


def contributions(estimator, card: ModelCard, X: np.ndarray) -> np.ndarray:
    """Matrix (deals × spec.columns) of exact calibrated log-odds contributions."""
    raw = E.raw_logit(estimator, X)
    out = np.zeros(X.shape)
    for j, column in enumerate(card.spec.columns):  # one vectorised predict per feature
        ref = card.reference.get(column)
        if ref is None:
            ref = np.nan
        replaced = X.copy()
        replaced[:, j] = ref
        out[:, j] = raw - E.raw_logit(estimator, replaced)
    return out * card.calibration.slope


def reason_frame(
    ids: np.ndarray, effects: np.ndarray, values: np.ndarray, card: ModelCard
) -> pd.DataFrame:
    """Long frame of the strongest reasons per deal: opportunity_id, feature (code), log_odds,
    value (the deal's model value), rank (1 = strongest raising; −1 = strongest lowering)."""
    n, k = effects.shape
    if n == 0 or k == 0:
        return pd.DataFrame({c: [] for c in REASON_COLUMNS})
    columns = np.asarray(card.spec.columns, dtype=object)
    rows = np.arange(n)[:, None]
    up = np.argsort(-effects, axis=1, kind="stable")[:, :TOP_RAISING]
    down = np.argsort(effects, axis=1, kind="stable")[:, :TOP_LOWERING]
    parts = []
    for idx, sign in ((up, 1), (down, -1)):
        e = effects[rows, idx]
        keep = e * sign >= MIN_LOG_ODDS
        r, c = np.nonzero(keep)
        parts.append(
            pd.DataFrame(
                {
                    "opportunity_id": ids[r],
                    "feature": columns[idx[r, c]],
                    "log_odds": e[r, c],
                    "value": values[r, idx[r, c]],
                    "rank": sign * (c + 1),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)
