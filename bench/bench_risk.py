"""Benchmark the churn-risk model on simulated pipelines with a known generating process:
backtest figures (the card's headline) against the closed-deal split and against the truth —
what the model scores on the deals open at the export, measured on their simulated future.

Run: OMP_NUM_THREADS=1 .venv/bin/python bench/bench_risk.py [--sizes 6000 30000] [--seeds 0 1]
     [--demo 30000] [--activity both|off|on]

The demo run is made without and with the follow-up log's point-in-time activity features
(issue 18; `--activity` picks one): the demo's log (dealscope.demo_activity) as known at the
export, every activity after it left out.

Also printed: two plain leakage-safe gradient-boosting references scored on the same open deals
(default HistGradientBoosting, native categoricals, missing amounts as NaN):
- `ref_created`: trained on closed deals with what is known at creation (segments, amount);
- `ref_snapshot`: trained on the model's own point-in-time rows, raw categoricals, interactions;
and `oracle`, the AUC of the simulation's latent deal quality (the best any model could rank).
Times are wall-clock seconds on this machine, one thread.
"""

from __future__ import annotations

import argparse
import dataclasses
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
    frames = (opps, sim.stage_events, sim.stages, None)
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


def demo_export(n: int, seed: int, export: pd.Timestamp, horizon_years: int = 3):
    """The demo generator run to `export` + horizon_years, exported at `export`: deals created by
    then, with status, stage, history and close dates as known at `export`; returns the frames,
    the eventual outcome (1 lost, 0 won, NaN still open at the end) of the deals then open, and
    the follow-up log up to the export."""
    from dealscope.demo import generate_demo
    from dealscope.demo_activity import generate_demo_activities
    from dealscope.model import normalise_opportunities, normalise_stage_events

    end = export + pd.DateOffset(years=horizon_years)
    opps, events, stages = generate_demo(n=n, seed=seed, as_of=end)
    opps = opps.loc[opps["created_at"] <= export].reset_index(drop=True)
    # The follow-up log of the whole run, as known at the export: activities after it unknown.
    log = generate_demo_activities(opps, seed)
    log = log.loc[log["occurred_at"] <= export].reset_index(drop=True)
    closed_later = opps["closed_at"] > export
    future = opps.loc[closed_later | opps["status"].eq("open")].set_index("opportunity_id")
    outcome = future["status"].map({"lost": 1.0, "won": 0.0})
    events = events.loc[
        events["entered_at"].le(export) & events["opportunity_id"].isin(opps["opportunity_id"])
    ]
    last_stage = events.sort_values("entered_at").groupby("opportunity_id")["stage"].last()
    opps["status"] = opps["status"].where(~closed_later, "open")
    opps["closed_at"] = opps["closed_at"].where(~closed_later)
    opps["stage"] = opps["opportunity_id"].map(last_stage).fillna(opps["stage"])
    opps["last_activity_at"] = opps["last_activity_at"].where(opps["last_activity_at"] <= export)
    return normalise_opportunities(opps), normalise_stage_events(events), stages, outcome, log


def run_demo(n: int, seed: int, activity: str = "both") -> None:
    export = pd.Timestamp("2026-11-20 18:00")
    opps, events, stages, outcome, log = demo_export(n, seed, export)
    for use_log in {"both": (False, True), "off": (False,), "on": (True,)}[activity]:
        _run_demo_once(opps, events, stages, outcome, log if use_log else None, n, seed, export)


def _run_demo_once(opps, events, stages, outcome, log, n, seed, as_of) -> None:
    started = time.perf_counter()
    trained = T.train_risk_model(opps, events, stages, as_of, activities=log)
    trained_s = time.perf_counter() - started
    scores = score_open_deals(
        trained.estimator, trained.card, opps, events, stages, as_of, activities=log
    )
    deals = scores.deals
    y = outcome.reindex(deals["opportunity_id"])
    known = y.notna().to_numpy()
    card, split = trained.card, trained.card.closed_split
    label = f"with activity features ({len(log)} activities)" if log is not None else "no log"
    print(
        f"demo n={n} seed={seed} [{label}] open={len(deals)} resolved_later={known.mean():.3f} "
        f"lost_later={y[known].mean():.3f} "
        f"unresolved_at_cutoffs={card.validation.unresolved_share:.3f} train={trained_s:.1f}s"
    )
    p = deals["p_lost"].to_numpy()[known]
    print(f"    card: backtest         AUC {card.metrics.auc:.3f}  Brier {card.metrics.brier:.3f}")
    print(f"    card: closed split     AUC {split.auc:.3f}  Brier {split.brier:.3f}")
    print(
        f"    truth: model           AUC {roc_auc_score(y[known], p):.3f}  "
        f"Brier {brier_score_loss(y[known], p):.3f}"
    )
    from types import SimpleNamespace

    sim = SimpleNamespace(opportunities=opps, stage_events=events, stages=stages, as_of=as_of)
    ids = deals["opportunity_id"]
    for name, ref in (
        ("ref_created", _reference_created(sim, ids)),
        (
            "ref_snapshot",
            _reference_snapshot(sim, ids, dataclasses.replace(card.spec, activity=False)),
        ),
    ):
        print(
            f"    truth: {name:<15} AUC {roc_auc_score(y[known], ref[known]):.3f}  "
            f"Brier {brier_score_loss(y[known], ref[known]):.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[6000, 30000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument(
        "--demo", type=int, nargs="*", default=[30000], help="demo-generator sizes (Chinese export)"
    )
    parser.add_argument(
        "--activity",
        choices=("both", "off", "on"),
        default="both",
        help="demo runs without / with the follow-up log's activity features (default both)",
    )
    args = parser.parse_args()
    for n in args.sizes:
        for seed in args.seeds:
            run(n, seed)
    for n in args.demo:
        run_demo(n, 7, args.activity)


if __name__ == "__main__":
    main()
