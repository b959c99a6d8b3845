"""Train the churn-risk model on the population it scores, and backtest it the same way.

Training rows are cross-sections: at snapshot moments s (every `step` days), every deal open at s
with its features as known at s, labelled by its outcome when that arrived by the training cut-off
K. A snapshot must lie at least `horizon` days before K, so most deals open at s have resolved by
K; the rest are left out (counted). Cross-sections weigh deals as the scored population does: the
deals open at one moment, long-running ones included as often as they are open.

Backtest (the card's headline): for several past cut-offs c, a model trained with K = c scores
the deals open at c, and is measured on the outcomes that arrived after c (by the export date).
Deals still unresolved at the export date have no known outcome: they are left out of the figures
and their share is stated on the card. The shipped model is trained the same way with K = the
export date. Datasets without dates are validated by stratified cross-validation instead.
"""

from __future__ import annotations

import dataclasses
import platform
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import sklearn
from sklearn.model_selection import StratifiedKFold

from dealscope.errors import DealScopeError
from dealscope.metrics.kpis import status_as_of
from dealscope.model import LOST, OPEN, WON
from dealscope.risk import availability as A
from dealscope.risk import estimator as E
from dealscope.risk import features as F
from dealscope.risk.card import (
    BACKTEST,
    CARD_FORMAT,
    CROSS_VALIDATION,
    CutoffResult,
    DatasetRef,
    Metrics,
    ModelCard,
    Thresholds,
    Validation,
)
from dealscope.risk.evaluate import evaluate, stage_baseline

MIN_CLOSED_PER_CLASS = 50
TIER_HIGH, TIER_LOW = 0.65, 0.35
MIN_AUC_GAIN = 0.02
# Horizon: the shortest wait after which this share of the deals open at a moment had resolved.
RESOLVED_TARGET = 0.85
HORIZON_CANDIDATES_DAYS = (30, 45, 60, 90, 120, 150, 180, 240, 300, 365, 450, 540, 730)
BACKTEST_CUTOFFS = 3
# Training snapshots lie this share of the horizon before the training cut-off: nearer ones add
# recent deals; their unresolved deals (more of them) are left out of the training labels.
TRAINING_HORIZON_SHARE = 0.5
MAX_TRAINING_ROWS = 300_000
CALIBRATION_SHARE = 0.25
CV_FOLDS = 5
UNRESOLVED_POLICY = "excluded"

Progress = Callable[[float, str], None]


class InsufficientData(DealScopeError):
    """Too few won or lost closed deals to train a model worth showing."""


@dataclass(frozen=True)
class TrainedModel:
    """A fitted estimator and its model card."""

    estimator: object
    card: ModelCard


def check_minimum(lost: np.ndarray) -> tuple[int, int]:
    """(won, lost) counts of 0/1 labels; raises InsufficientData below the minimum."""
    n_lost = int(np.sum(lost))
    won = len(lost) - n_lost
    if won < MIN_CLOSED_PER_CLASS or n_lost < MIN_CLOSED_PER_CLASS:
        raise InsufficientData(
            key="errors.risk.too_little_history", won=won, lost=n_lost, minimum=MIN_CLOSED_PER_CLASS
        )
    return won, n_lost


@dataclass(frozen=True)
class _Timeline:
    """Per deal (canonical row order): created, close moment (NaT when open or unknown), and
    the outcome known at the export date (1 lost, 0 won, -1 open/unknown)."""

    created: np.ndarray
    closed: np.ndarray
    outcome: np.ndarray
    ids: np.ndarray


def _timeline(opportunities: pd.DataFrame, as_of) -> _Timeline:
    status = status_as_of(opportunities, as_of)
    closed_ok = status.isin([WON, LOST]) & opportunities["closed_at"].notna()
    outcome = np.where(closed_ok, np.where(status.eq(LOST), 1, 0), -1)
    closed = opportunities["closed_at"].where(closed_ok).to_numpy(dtype="datetime64[ns]")
    return _Timeline(
        opportunities["created_at"].to_numpy(dtype="datetime64[ns]"),
        closed,
        outcome,
        opportunities["opportunity_id"].to_numpy(),
    )


def _open_at(tl: _Timeline, moments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(deal rows, moment index) of every deal open at each moment: created by then and not
    closed by then (a closed deal without a close date is never placed in time)."""
    created = tl.created[:, None]
    closed = tl.closed[:, None]
    m = moments[None, :]
    is_open = (created <= m) & ((tl.outcome[:, None] == -1) | (closed > m))
    is_open &= ~((tl.outcome[:, None] != -1) & np.isnat(closed))
    rows, cols = np.nonzero(is_open)
    return rows, cols


def choose_horizon(tl: _Timeline, as_of: pd.Timestamp) -> float | None:
    """The shortest candidate horizon h for which ≥ RESOLVED_TARGET of the deals open at
    export − h had resolved by the export (None when no candidate gets there)."""
    asof = np.datetime64(as_of, "ns")
    for h in HORIZON_CANDIDATES_DAYS:
        moment = asof - np.timedelta64(h, "D")
        rows, _ = _open_at(tl, np.array([moment]))
        if len(rows) < 2 * MIN_CLOSED_PER_CLASS:
            continue
        resolved = (tl.outcome[rows] != -1) & (tl.closed[rows] <= asof)
        if resolved.mean() >= RESOLVED_TARGET:
            return float(h)
    return None


def _step_days(horizon: float) -> float:
    return max(7.0, round(horizon / 4.0))


def _training_points(
    tl: _Timeline, known_at: np.datetime64, horizon: float, first: np.datetime64
) -> tuple[pd.DataFrame, int]:
    """Snapshot rows for a model trained at `known_at`: (opportunity_id, snapshot_at, lost),
    and the count of rows left out because the deal had not resolved by `known_at`."""
    step = np.timedelta64(int(_step_days(horizon) * 86400), "s")
    last = known_at - np.timedelta64(int(horizon * TRAINING_HORIZON_SHARE * 86400), "s")
    if last <= first:
        return pd.DataFrame(columns=["opportunity_id", "snapshot_at", "lost"]), 0
    count = int((last - first) // step) + 1
    moments = (last - step * np.arange(count)[::-1]).astype("datetime64[ns]")
    rows, cols = _open_at(tl, moments)
    resolved = (tl.outcome[rows] != -1) & (tl.closed[rows] <= known_at)
    points = pd.DataFrame(
        {
            "opportunity_id": tl.ids[rows[resolved]],
            "snapshot_at": moments[cols[resolved]],
            "lost": tl.outcome[rows[resolved]],
        }
    )
    if len(points) > MAX_TRAINING_ROWS:
        points = points.sample(n=MAX_TRAINING_ROWS, random_state=E.RANDOM_STATE)
        points = points.sort_values("snapshot_at", kind="stable")
    return points.reset_index(drop=True), int((~resolved).sum())


def _spec_with_levels(spec: F.FeatureSpec, stages: pd.DataFrame) -> F.FeatureSpec:
    if spec.mode != F.HISTORY:
        return spec
    levels = tuple(stages.sort_values("position")["stage"].astype(str))
    return F.FeatureSpec(spec.mode, spec.segments, spec.use_amount, levels)


@dataclass(frozen=True)
class _Fitted:
    estimator: object
    calibration: object
    rows: int
    frame: pd.DataFrame


def _frame(points, frames, spec, norms, known_at) -> pd.DataFrame:
    opportunities, stage_events, stages, activities = frames
    raw = F.features_at(
        points, opportunities, stage_events, stages, spec, norms, known_at, activities
    )
    raw["lost"] = points["lost"].to_numpy() if "lost" in points else -1
    return raw.loc[raw["open_stage"]].reset_index(drop=True)


def _fit_calibrated(frame: pd.DataFrame, spec: F.FeatureSpec):
    """Fit on all rows; Platt scaling fitted on the out-of-time predictions of a sibling model
    fitted on the earlier snapshots (as CalibratedClassifierCV(ensemble=False) does with folds)."""
    X, y = F.model_matrix(frame, spec), frame["lost"].to_numpy()
    moments = frame["snapshot_at"]
    cut = moments.quantile(1 - CALIBRATION_SHARE) if len(moments) else None
    late = (moments > cut).to_numpy() if cut is not None else np.zeros(len(y), bool)
    calibration = E.fit_platt(np.zeros(0), np.zeros(0))
    if late.sum() and len(np.unique(y[~late])) == 2 and len(np.unique(y[late])) == 2:
        sibling = E.fit(spec, X[~late], y[~late])
        calibration = E.fit_platt(E.raw_logit(sibling, X[late]), y[late])
    return E.fit(spec, X, y), calibration


def _train_at(frames, spec, tl, known_at, horizon, first) -> _Fitted | None:
    opportunities, stage_events, stages, _ = frames
    points, _ = _training_points(tl, known_at, horizon, first)
    if len(points) == 0:
        return None
    norms = F.compute_norms(opportunities, stage_events, stages, pd.Timestamp(known_at))
    frame = _frame(points, frames, spec, norms, pd.Timestamp(known_at))
    lost = frame["lost"].to_numpy()
    if min(lost.sum(), len(lost) - lost.sum()) < MIN_CLOSED_PER_CLASS:
        return None
    estimator, calibration = _fit_calibrated(frame, spec)
    return _Fitted(estimator, calibration, len(frame), frame)


def _reference(frame: pd.DataFrame, spec: F.FeatureSpec, prior: float) -> dict:
    """Reference values contributions are measured from: the median of each number (training
    rows), the most common stage, and for segment rates the overall lost rate (so a segment
    gets "+ risk" only when it lost more often than deals overall)."""
    ref: dict[str, float | None] = {}
    for column in spec.columns:
        if column.startswith("te_"):
            ref[column] = prior
        elif column == "stage":
            codes = F.model_matrix(frame, spec)[:, 0]
            codes = codes[~np.isnan(codes)]
            ref[column] = float(np.bincount(codes.astype(int)).argmax()) if len(codes) else None
        else:
            known = frame[column].dropna()  # none known (an empty activity column): no reference
            ref[column] = float(known.median()) if len(known) else None
    return ref


def _overall_prior(opportunities, known_at) -> float:
    deals = F.closed_deals(opportunities, known_at)
    return float((deals["lost"].sum() + 1.0) / (len(deals) + 2.0))


def _backtest(frames, spec, tl, as_of, horizon, first, say):
    """Per cut-off results and the pooled (y, p, baseline p) of the scored open deals."""
    opportunities, stage_events, stages, _ = frames
    asof = np.datetime64(as_of, "ns")
    bt_step = np.timedelta64(int(max(horizon / 4.0, 30.0) * 86400), "s")
    start = asof - np.timedelta64(int(horizon * 86400), "s")
    results, ys, ps, bs = [], [], [], []
    unresolved_total = open_total = 0
    for k in range(BACKTEST_CUTOFFS):
        cutoff = start - bt_step * k
        say(0.1 + 0.2 * k, "backtest")
        fitted = _train_at(frames, spec, tl, cutoff, horizon, first)
        if fitted is None:
            continue
        rows, _ = _open_at(tl, np.array([cutoff]))
        points = pd.DataFrame({"opportunity_id": tl.ids[rows], "snapshot_at": cutoff})
        points["lost"] = tl.outcome[rows]
        norms = F.compute_norms(opportunities, stage_events, stages, pd.Timestamp(cutoff))
        scored = _frame(points, frames, spec, norms, pd.Timestamp(cutoff))
        resolved = scored["lost"].to_numpy() != -1
        unresolved_total += int((~resolved).sum())
        open_total += len(scored)
        scored = scored.loc[resolved]
        y = scored["lost"].to_numpy()
        p = E.predict(fitted.estimator, fitted.calibration, F.model_matrix(scored, spec))
        base = stage_baseline(fitted.frame.assign(weight=1.0), scored.assign(weight=1.0), spec.mode)
        m = evaluate(y, p, curve=False)
        results.append(
            CutoffResult(
                cutoff=pd.Timestamp(cutoff).isoformat(),
                training_rows=fitted.rows,
                open_deals=int(resolved.size),
                resolved=int(resolved.sum()),
                unresolved=int((~resolved).sum()),
                auc=m.auc,
                brier=m.brier,
            )
        )
        ys.append(y)
        ps.append(p)
        bs.append(base)
    return results, ys, ps, bs, unresolved_total, open_total


def _closed_split(frame: pd.DataFrame, spec: F.FeatureSpec, tl: _Timeline) -> Metrics | None:
    """Secondary figure: fit on snapshots of deals that closed before the last quarter of close
    times, test on snapshots of the deals that closed in it (the old, closed-deal validation)."""
    closed_at = pd.Series(tl.closed, index=tl.ids).reindex(frame["opportunity_id"]).to_numpy()
    cut = np.nanquantile(closed_at.astype("int64").astype(float), 0.75)
    test = closed_at.astype("int64") >= cut
    y = frame["lost"].to_numpy()
    if len(np.unique(y[~test])) < 2 or len(np.unique(y[test])) < 2:
        return None
    X = F.model_matrix(frame, spec)
    model = E.fit(spec, X[~test], y[~test])
    return evaluate(y[test], 1 / (1 + np.exp(-E.raw_logit(model, X[test]))))


def pooled_metrics(ys: list[np.ndarray], ps: list[np.ndarray]) -> Metrics:
    """Backtest figures over the cut-offs. Brier, base rate and the reliability curve pool every
    scored deal. Ranking figures (ROC AUC, PR AUC, top-decile lift) are each cut-off's own,
    averaged with weights = resolved deals: the open deals at one moment are one ranking problem
    (as at the export); pooling moments would mix their base rates into the ranking."""
    pooled = evaluate(np.concatenate(ys), np.concatenate(ps))
    per = [evaluate(y, p, curve=False) for y, p in zip(ys, ps, strict=True)]
    weights = np.array([len(y) for y in ys], dtype=float)

    def mean(name: str) -> float | None:
        values = [getattr(m, name) for m in per]
        ok = np.array([v is not None for v in values])
        if not ok.any():
            return None
        return float(np.average([v for v in values if v is not None], weights=weights[ok]))

    return dataclasses.replace(
        pooled, auc=mean("auc"), pr_auc=mean("pr_auc"), lift_top_decile=mean("lift_top_decile")
    )


def beats_baseline(metrics: Metrics, baseline: Metrics) -> bool:
    """Real skill: ROC AUC ≥ MIN_AUC_GAIN above the baseline and a Brier score no worse."""
    if metrics.auc is None or baseline.auc is None:
        return False
    return metrics.auc >= baseline.auc + MIN_AUC_GAIN and metrics.brier <= baseline.brier


def train_risk_model(
    opportunities: pd.DataFrame,
    stage_events: pd.DataFrame,
    stages: pd.DataFrame,
    as_of: pd.Timestamp,
    *,
    dataset: DatasetRef | None = None,
    progress: Progress | None = None,
    activities: pd.DataFrame | None = None,
) -> TrainedModel:
    """Backtest, then train the shipped model as of `as_of`; return the model and its card.

    `activities`: the dataset's follow-up log (canonical, dealscope.activity); when it holds
    customer-facing touches, the point-in-time activity features join the model (dated modes).
    Raises InsufficientData below MIN_CLOSED_PER_CLASS won or lost deals.
    """
    say = progress or (lambda _f, _m: None)
    say(0.02, "snapshots")
    opportunities = opportunities.reset_index(drop=True)
    won, lost = check_minimum(F.closed_deals(opportunities, as_of)["lost"].to_numpy())
    spec = _spec_with_levels(A.choose_spec(opportunities, stage_events, as_of), stages)
    log = None
    if spec.mode != F.UNDATED and A.activity_usable(activities):
        spec = dataclasses.replace(spec, activity=True)
        log = F.ActivityFeatures(activities, opportunities["opportunity_id"])
    frames = (opportunities, stage_events, stages, log)
    tl = _timeline(opportunities, as_of)
    horizon = choose_horizon(tl, as_of) if spec.mode != F.UNDATED else None
    if horizon is None:
        # Too few dated deals to place in time: the creation-time fields, cross-validated.
        spec = F.FeatureSpec(F.UNDATED, spec.segments, spec.use_amount)
        return _train_undated(frames, spec, as_of, dataset, (won, lost), say, activities)
    first = np.nanmin(tl.created)
    results, ys, ps, bs, unresolved, open_total = _backtest(
        frames, spec, tl, as_of, horizon, first, say
    )
    if not results:
        spec = F.FeatureSpec(F.UNDATED, spec.segments, spec.use_amount)
        return _train_undated(frames, spec, as_of, dataset, (won, lost), say, activities)
    say(0.75, "fit")
    asof = np.datetime64(as_of, "ns")
    final = _train_at(frames, spec, tl, asof, horizon, first)
    if final is None:
        raise InsufficientData(key="errors.risk.too_few_resolved")
    metrics, baseline = pooled_metrics(ys, ps), pooled_metrics(ys, bs)
    norms = F.compute_norms(opportunities, stage_events, stages, as_of)
    say(0.9, "card")
    validation = Validation(
        kind=BACKTEST,
        horizon_days=horizon,
        cutoffs=tuple(results),
        unresolved=unresolved,
        unresolved_share=unresolved / open_total if open_total else None,
        unresolved_policy=UNRESOLVED_POLICY,
    )
    card = _card(
        spec,
        final.estimator,
        final.calibration,
        final.frame,
        opportunities,
        as_of,
        dataset,
        metrics,
        baseline,
        validation,
        _closed_split(final.frame, spec, tl),
        {"closed_won": won, "closed_lost": lost, "training_rows": final.rows},
        norms,
        A.activity_usable(activities),
    )
    say(1.0, "card")
    return TrainedModel(final.estimator, card)


def _card(
    spec,
    estimator,
    calibration,
    frame,
    opps,
    as_of,
    dataset,
    metrics,
    baseline,
    validation,
    closed_split,
    rows,
    norms,
    has_log=False,
) -> ModelCard:
    return ModelCard(
        format=CARD_FORMAT,
        dataset=dataset or DatasetRef(None, None, None),
        as_of=pd.Timestamp(as_of).isoformat(),
        trained_at=datetime.now(UTC).replace(microsecond=0).isoformat(),
        sklearn_version=sklearn.__version__,
        python_version=platform.python_version(),
        spec=spec,
        calibration=calibration,
        reference=_reference(frame, spec, _overall_prior(opps, as_of)),
        thresholds=Thresholds(TIER_HIGH, TIER_LOW),
        metrics=metrics,
        baseline=baseline,
        validation=validation,
        closed_split=closed_split,
        beats_baseline=beats_baseline(metrics, baseline),
        rows={k: int(v) for k, v in rows.items()},
        feature_availability=A.availability_table(
            spec, A.amount_availability(opps, as_of)[1], A.excluded_fields(opps), has_log
        ),
        norms={
            "stage_days": norms.stage_days if norms else {},
            "cycle_days": norms.cycle_days if norms else None,
        },
    )


def _segment_rates(keys: pd.Series, y: np.ndarray, fit_mask: np.ndarray, prior: float):
    """Shrunk lost rate per level from the rows in fit_mask, applied to every row."""
    stats = pd.DataFrame({"k": keys[fit_mask].to_numpy(), "y": y[fit_mask]}).groupby("k")["y"]
    lost, n = stats.sum(), stats.size()
    table = (lost + F.SEGMENT_PRIOR_STRENGTH * prior) / (n + F.SEGMENT_PRIOR_STRENGTH)
    return keys.map(table).fillna(prior).to_numpy(dtype="float64")


def _undated_matrix(frame, keys, y, train_mask, spec, folds_seed) -> np.ndarray:
    """Features of every row: segment rates out-of-fold for training rows, from all training
    rows for the others; the amount as given."""
    prior = float((y[train_mask].sum() + 1.0) / (train_mask.sum() + 2.0))
    cols = []
    train_idx = np.flatnonzero(train_mask)
    inner = StratifiedKFold(CV_FOLDS, shuffle=True, random_state=folds_seed)
    for segment in spec.segments:
        k = keys[segment]
        values = _segment_rates(k, y, train_mask, prior)
        for fit_i, out_i in inner.split(train_idx, y[train_idx]):
            mask = np.zeros(len(y), bool)
            mask[train_idx[fit_i]] = True
            values[train_idx[out_i]] = _segment_rates(k, y, mask, prior)[train_idx[out_i]]
        cols.append(values)
    if spec.use_amount:
        cols.append(frame["log_amount"].to_numpy(dtype="float64"))
    return np.column_stack(cols) if cols else np.zeros((len(y), 0))


def _train_undated(frames, spec, as_of, dataset, counts, say, activities) -> TrainedModel:
    """Undated data: creation-time fields only, validated by stratified cross-validation."""
    opportunities = frames[0]
    closed = F.closed_deals(opportunities, as_of)
    points = closed.assign(snapshot_at=pd.NaT)
    raw = F.features_at(points, opportunities, frames[1], frames[2], spec, F.Norms({}, None), as_of)
    y = closed["lost"].to_numpy()
    keys = {
        s: F.segment_key(
            opportunities.set_index("opportunity_id")[s].reindex(closed["opportunity_id"])
        )
        for s in spec.segments
    }
    keys = {s: k.reset_index(drop=True) for s, k in keys.items()}
    outer = StratifiedKFold(CV_FOLDS, shuffle=True, random_state=E.RANDOM_STATE)
    oof = np.empty(len(y))
    for i, (fit_i, test_i) in enumerate(outer.split(np.zeros(len(y)), y)):
        say(0.1 + 0.12 * i, "cross_validation")
        mask = np.zeros(len(y), bool)
        mask[fit_i] = True
        X = _undated_matrix(raw, keys, y, mask, spec, i)
        oof[test_i] = E.raw_logit(E.fit(spec, X[fit_i], y[fit_i]), X[test_i])
    calibration = E.fit_platt(oof, y)
    p = 1 / (1 + np.exp(-(calibration.slope * oof + calibration.intercept)))
    metrics = evaluate(y, p)
    base_rate = float(y.mean())
    baseline = evaluate(y, np.full(len(y), base_rate))
    say(0.8, "fit")
    X_all = _undated_matrix(raw, keys, y, np.ones(len(y), bool), spec, CV_FOLDS)
    estimator = E.fit(spec, X_all, y)
    frame = pd.DataFrame(X_all, columns=spec.columns)
    validation = Validation(
        kind=CROSS_VALIDATION,
        horizon_days=None,
        cutoffs=(),
        unresolved=0,
        unresolved_share=None,
        unresolved_policy=UNRESOLVED_POLICY,
        folds=CV_FOLDS,
    )
    card = _card(
        spec,
        estimator,
        calibration,
        frame,
        opportunities,
        as_of,
        dataset,
        metrics,
        baseline,
        validation,
        None,
        {"closed_won": counts[0], "closed_lost": counts[1], "training_rows": len(y)},
        None,
        A.activity_usable(activities),
    )
    return TrainedModel(estimator, card)


def train_summary(card: ModelCard) -> dict:
    """The CLI's `risk train --json` document."""
    m, b = card.metrics, card.baseline
    split = card.closed_split
    return {
        "dataset": {"id": card.dataset.id, "name": card.dataset.name},
        "mode": card.mode,
        "validation": card.validation.kind,
        "beats_baseline": card.beats_baseline,
        "auc": m.auc,
        "pr_auc": m.pr_auc,
        "brier": m.brier,
        "lift_top_decile": m.lift_top_decile,
        "baseline_auc": b.auc,
        "baseline_brier": b.brier,
        "closed_split_auc": split.auc if split else None,
        "closed_split_brier": split.brier if split else None,
        "horizon_days": card.validation.horizon_days,
        "cutoffs": [c.cutoff for c in card.validation.cutoffs],
        "unresolved_share": card.validation.unresolved_share,
        "scored_in_backtest": m.n,
        "training_rows": card.rows.get("training_rows"),
        "trained_at": card.trained_at,
    }


__all__ = ["OPEN", "InsufficientData", "TrainedModel", "train_risk_model", "train_summary"]
