"""Benchmark the churn-risk model on simulated pipelines with a known generating process:
backtest figures (the card's headline) against the closed-deal split and against the truth —
what the model scores on the deals open at the export, measured on their simulated future.

Run: OMP_NUM_THREADS=1 .venv/bin/python bench/bench_risk.py [--sizes 6000 30000] [--seeds 0 1]

Also printed: two plain leakage-safe gradient-boosting references scored on the same open deals
(default HistGradientBoosting, native categoricals, missing amounts as NaN):
- `ref_created`: trained on closed deals with what is known at creation (segments, amount);
- `ref_snapshot`: trained on the model's own point-in-time rows, raw categoricals, interactions;
and `oracle`, the AUC of the simulation's latent deal quality (the best any model could rank).
Times are wall-clock seconds on this machine, one thread.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import brier_score_loss, roc_auc_score

from dealscope.risk import features as F
from dealscope.risk import train as T
from dealscope.risk.score import score_open_deals
from dealscope.risk.simulate import simulate_pipeline

CATEGORICAL = ("owner", "region", "customer_type")


def _codes(frame: pd.DataFrame, levels: dict[str, pd.Index]) -> np.ndarray:
    cols = [levels[c].get_indexer(frame[c].astype(str)).astype(float) for c in CATEGORICAL]
    cols = [np.where(c < 0, np.nan, c) for c in cols]
    return np.column_stack(cols)


def _reference_created(sim, open_ids) -> np.ndarray:
    opps = sim.opportunities.set_index("opportunity_id")
    closed = opps.loc[opps["status"].isin(["won", "lost"])]
    levels = {c: pd.Index(closed[c].astype(str).unique()) for c in CATEGORICAL}

    def matrix(frame):
        return np.column_stack([_codes(frame, levels), np.log1p(frame["amount"].to_numpy())])

    model = HistGradientBoostingClassifier(
        categorical_features=[True] * len(CATEGORICAL) + [False], random_state=0
    ).fit(matrix(closed), closed["status"].eq("lost").to_numpy())
    return model.predict_proba(matrix(opps.loc[open_ids]))[:, 1]


def _reference_snapshot(sim, open_ids, spec) -> np.ndarray:
    opps = sim.opportunities.reset_index(drop=True)
    tl = T._timeline(opps, sim.as_of)
    asof = np.datetime64(sim.as_of, "ns")
    horizon = T.choose_horizon(tl, sim.as_of)
    points, _ = T._training_points(tl, asof, horizon, np.nanmin(tl.created))
    norms = F.compute_norms(opps, sim.stage_events, sim.stages, sim.as_of)
    frames = (opps, sim.stage_events, sim.stages)
    rows = T._frame(points, frames, spec, norms, sim.as_of)
    scored = T._frame(
        pd.DataFrame({"opportunity_id": open_ids, "snapshot_at": sim.as_of}),
        frames, spec, norms, sim.as_of,
    )  # fmt: skip
    by_id = opps.set_index("opportunity_id")
    levels = {c: pd.Index(by_id[c].astype(str).unique()) for c in CATEGORICAL}
    numeric = [c for c in spec.numeric if not c.startswith("te_")]

    def matrix(frame):
        segs = by_id.loc[frame["opportunity_id"], list(CATEGORICAL)].reset_index(drop=True)
        stage = pd.Index(spec.stage_levels).get_indexer(frame["stage"].astype(str)).astype(float)
        return np.column_stack(
            [_codes(segs, levels), stage, frame.loc[:, numeric].to_numpy(dtype=float)]
        )

    model = HistGradientBoostingClassifier(
        categorical_features=[True] * (len(CATEGORICAL) + 1) + [False] * len(numeric),
        random_state=0,
    ).fit(matrix(rows), rows["lost"].to_numpy())
    return model.predict_proba(matrix(scored))[:, 1]


def run(n: int, seed: int) -> None:
    sim = simulate_pipeline(n=n, days=900, seed=seed)
    started = time.perf_counter()
    trained = T.train_risk_model(sim.opportunities, sim.stage_events, sim.stages, sim.as_of)
    trained_s = time.perf_counter() - started
    started = time.perf_counter()
    scores = score_open_deals(
        trained.estimator, trained.card, sim.opportunities, sim.stage_events, sim.stages, sim.as_of
    )
    scored_s = time.perf_counter() - started
    deals = scores.deals
    y = sim.future_lost.reindex(deals["opportunity_id"]).to_numpy()
    card, split = trained.card, trained.card.closed_split
    ref_created = _reference_created(sim, deals["opportunity_id"])
    ref_snapshot = _reference_snapshot(sim, deals["opportunity_id"], card.spec)
    v = card.validation
    print(
        f"n={n:>6} seed={seed} open={len(deals):>5} lost_later={y.mean():.3f} "
        f"horizon={v.horizon_days:.0f}d cutoffs={len(v.cutoffs)} "
        f"unresolved={v.unresolved_share:.3f} train={trained_s:.1f}s score={scored_s:.1f}s"
    )
    rows = [
        ("card: backtest", card.metrics.auc, card.metrics.brier),
        ("card: closed split", split.auc if split else None, split.brier if split else None),
        ("truth: model", roc_auc_score(y, deals["p_lost"]), brier_score_loss(y, deals["p_lost"])),
        ("truth: ref_created", roc_auc_score(y, ref_created), brier_score_loss(y, ref_created)),
        ("truth: ref_snapshot", roc_auc_score(y, ref_snapshot), brier_score_loss(y, ref_snapshot)),
        ("truth: oracle", roc_auc_score(y, -sim.quality.reindex(deals["opportunity_id"])), None),
    ]
    for name, auc, brier in rows:
        auc_text = "—" if auc is None else f"{auc:.3f}"
        brier_text = "—" if brier is None else f"{brier:.3f}"
        print(f"    {name:<22} AUC {auc_text:>6}  Brier {brier_text:>6}")
    top = deals["p_lost"] >= card.thresholds.high
    if top.any():
        print(
            f"    top tier: predicted {deals.loc[top, 'p_lost'].mean():.3f}, "
            f"observed {y[top.to_numpy()].mean():.3f} ({int(top.sum())} deals)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[6000, 30000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args()
    for n in args.sizes:
        for seed in args.seeds:
            run(n, seed)


if __name__ == "__main__":
    main()
