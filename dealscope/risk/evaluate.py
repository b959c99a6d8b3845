"""Validation figures of a probability forecast: ROC AUC, PR AUC, Brier, reliability, lift."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from dealscope.risk.card import Metrics, ReliabilityBin

RELIABILITY_BINS = 10
TOP_SHARE = 0.10
BASELINE_PRIOR = 5.0


def top_decile_lift(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> float | None:
    """Lost rate among the highest-scored 10% (by weight) divided by the overall lost rate.

    Tie-aware: deals with equal scores are taken together, the group straddling the 10% line
    only in proportion (a stage-only baseline has many ties; stable order would be arbitrary).
    """
    total, lost = w.sum(), (y * w).sum()
    if total <= 0 or lost <= 0:
        return None
    groups = (
        pd.DataFrame({"p": p, "wy": y * w, "w": w}).groupby("p").sum().sort_index(ascending=False)
    )
    before = groups["w"].cumsum().shift(fill_value=0.0)
    share = ((TOP_SHARE * total - before) / groups["w"]).clip(0.0, 1.0)
    top_lost = (groups["wy"] * share).sum()
    top_weight = (groups["w"] * share).sum()
    return float((top_lost / top_weight) / (lost / total))


def reliability_curve(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> tuple[ReliabilityBin, ...]:
    """Per probability bin (tenths): mean predicted, observed lost rate and weight (deals)."""
    bins = np.minimum((p * RELIABILITY_BINS).astype(int), RELIABILITY_BINS - 1)
    frame = pd.DataFrame({"bin": bins, "wp": p * w, "wy": y * w, "w": w})
    agg = frame.groupby("bin").sum()
    agg = agg.loc[agg["w"] > 0]
    return tuple(
        ReliabilityBin(int(b), float(wp / w_), float(wy / w_), float(w_))
        for b, wp, wy, w_ in zip(agg.index, agg["wp"], agg["wy"], agg["w"], strict=True)
    )


def evaluate(
    y: np.ndarray, p: np.ndarray, w: np.ndarray | None = None, curve: bool = True
) -> Metrics:
    """Weighted ROC AUC, PR AUC (average precision), Brier, top-decile lift, base rate, curve."""
    y = np.asarray(y)
    p = np.asarray(p, dtype="float64")
    w = np.ones(len(y)) if w is None else np.asarray(w, dtype="float64")
    two_classes = len(np.unique(y)) == 2
    return Metrics(
        auc=float(roc_auc_score(y, p, sample_weight=w)) if two_classes else None,
        pr_auc=float(average_precision_score(y, p, sample_weight=w)) if two_classes else None,
        brier=float(brier_score_loss(y, p, sample_weight=w)) if len(y) else float("nan"),
        lift_top_decile=top_decile_lift(y, p, w),
        base_rate=float((y * w).sum() / w.sum()) if len(y) else float("nan"),
        n=len(y),
        reliability=reliability_curve(y, p, w) if curve and len(y) else (),
    )


def stage_baseline(fit_rows: pd.DataFrame, test_rows: pd.DataFrame, mode: str) -> np.ndarray:
    """The stage-only baseline: each stage's (smoothed, weighted) lost rate in the fit slice.

    Takes frames with stage (history mode), lost and weight. Without stage history there is no
    stage at a past time, so the baseline is the constant fit-slice lost rate (AUC 0.5).
    """
    rate = float((fit_rows["lost"] * fit_rows["weight"]).sum() / fit_rows["weight"].sum())
    if mode != "history":
        return np.full(len(test_rows), rate)
    grouped = fit_rows.assign(wy=fit_rows["lost"] * fit_rows["weight"]).groupby(
        fit_rows["stage"].astype(str)
    )
    table = (grouped["wy"].sum() + BASELINE_PRIOR * rate) / (
        grouped["weight"].sum() + BASELINE_PRIOR
    )
    return test_rows["stage"].astype(str).map(table).fillna(rate).to_numpy()
