"""Backtest: does the follow-up log help predict losses? AUC with vs without activity features.

Run: OMP_NUM_THREADS=1 .venv/bin/python bench/bench_activity.py [--n 6000] [--timing 100000]

Snapshots every SNAPSHOT_DAYS: the deals open at each cut-off, labelled by their outcome after it
(lost = 1, won = 0; deals still open at the data's end are left out). Out of time: the model is fit
on cut-offs before SPLIT (labels only of deals closed by SPLIT, so nothing after it is seen) and
scored on the later cut-offs. Both models are the same logistic regression; the base model sees
stage, days in stage, age, log amount and customer type at the cut-off; the other adds
dealscope.activity.features.activity_features at the cut-off (only activities on or before it).
This is a separate script from bench/bench_risk.py (the risk model's owner decides how to add the
features there); it prints figures, it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from dealscope.activity.features import activity_features
from dealscope.activity.rhythm import current_stage
from dealscope.demo import DEMO_SEED, generate_demo
from dealscope.demo_activity import generate_demo_activities
from dealscope.metrics.kpis import infer_as_of, status_as_of
from dealscope.model import DEMO_OPEN_STAGES, LOST, OPEN, WON

SNAPSHOT_DAYS = 14
SPLIT_BEFORE_END_DAYS = 200
FIRST_AFTER_START_DAYS = 120


def snapshot(opps, events, acts, cutoff):
    status = status_as_of(opps, cutoff)
    open_now = opps.loc[(status == OPEN) & (opps["created_at"] <= cutoff)]
    ids = open_now["opportunity_id"]
    stage = ids.map(current_stage(opps, events, cutoff))
    seen = events.loc[events["entered_at"] <= cutoff]
    entered = seen.groupby("opportunity_id", observed=True)["entered_at"].max()
    base = pd.DataFrame(
        {
            "opportunity_id": ids.to_numpy(),
            "cutoff": cutoff,
            "stage_pos": stage.map({s: i for i, s in enumerate(DEMO_OPEN_STAGES)}).to_numpy(),
            "days_in_stage": ((cutoff - ids.map(entered)) / pd.Timedelta(days=1)).to_numpy(),
            "age": ((cutoff - open_now["created_at"]) / pd.Timedelta(days=1)).to_numpy(),
            "log_amount": np.log1p(open_now["amount"].to_numpy()),
            "new_customer": (open_now["customer_type"] == "新客户").to_numpy(dtype=float),
            "strategic": (open_now["customer_type"] == "战略客户").to_numpy(dtype=float),
            "lost": (open_now["status"] == LOST).to_numpy(dtype=float),
            "closed_at": open_now["closed_at"].to_numpy(),
            "final": open_now["status"].to_numpy(),
        }
    )
    feats = activity_features(acts, ids, cutoff).reset_index(drop=True)
    base["log_touches_7d"] = np.log1p(feats["touches_7d"])
    base["log_touches_30d"] = np.log1p(feats["touches_30d"])
    base["log_days_since_touch"] = np.log1p(feats["days_since_touch"].fillna(base["age"]))
    base["log_gap_ratio"] = np.log1p(feats["gap_ratio"].fillna(feats["gap_ratio"].median()))
    base["no_rhythm"] = feats["gap_ratio"].isna().to_numpy(dtype=float)
    base["contact_changed"] = feats["contact_changed"].to_numpy(dtype=float)
    return base


BASE = ["stage_pos", "days_in_stage", "age", "log_amount", "new_customer", "strategic"]
ACTIVITY = [
    "log_touches_7d",
    "log_touches_30d",
    "log_days_since_touch",
    "log_gap_ratio",
    "no_rhythm",
    "contact_changed",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=6000)
    parser.add_argument("--timing", type=int, default=0, help="also time the rules at this size")
    args = parser.parse_args()
    backtest(args.n)
    if args.timing:
        timing(args.timing)


def timing(n: int) -> None:
    """Wall-clock seconds of each activity computation on a demo of n deals (one thread)."""
    import time

    from dealscope.activity.contacts import contact_changes
    from dealscope.activity.reps import rep_activity
    from dealscope.activity.rhythm import silence_table

    opps, events, _ = generate_demo(n=n)
    acts = generate_demo_activities(opps, DEMO_SEED)
    as_of = infer_as_of(opps, events)
    steps = {
        "silence_table": lambda: silence_table(opps, acts, events, as_of),
        "contact_changes": lambda: contact_changes(acts),
        "activity_features": lambda: activity_features(acts, opps["opportunity_id"], as_of),
        "rep_activity": lambda: rep_activity(opps, acts, opps["created_at"].min(), as_of),
    }
    print(f"timing at {n} deals, {len(acts)} activities:")
    for name, step in steps.items():
        started = time.perf_counter()
        step()
        print(f"  {name:>17}: {time.perf_counter() - started:.2f} s")


def backtest(n: int) -> None:
    opps, events, _ = generate_demo(n=n)
    acts = generate_demo_activities(opps, DEMO_SEED)
    end = infer_as_of(opps, events)
    start = opps["created_at"].min() + pd.Timedelta(days=FIRST_AFTER_START_DAYS)
    split = end - pd.Timedelta(days=SPLIT_BEFORE_END_DAYS)
    cutoffs = pd.date_range(start, end - pd.Timedelta(days=30), freq=f"{SNAPSHOT_DAYS}D")
    frame = pd.concat([snapshot(opps, events, acts, c) for c in cutoffs], ignore_index=True)
    frame = frame.loc[frame["final"].isin([WON, LOST])].fillna({"days_in_stage": 0.0})
    train = frame.loc[(frame["cutoff"] < split) & (frame["closed_at"] <= split)]
    test = frame.loc[frame["cutoff"] >= split]
    print(f"snapshots: train {len(train)} rows ({train['cutoff'].nunique()} cut-offs before "
          f"{split:%Y-%m-%d}), test {len(test)} rows ({test['cutoff'].nunique()} cut-offs after)")  # fmt: skip
    results = {}
    for name, columns in (("without activity", BASE), ("with activity", BASE + ACTIVITY)):
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        model.fit(train[columns], train["lost"])
        results[name] = roc_auc_score(test["lost"], model.predict_proba(test[columns])[:, 1])
        print(f"AUC {name:>17}: {results[name]:.3f}")
    print(f"AUC gain: {results['with activity'] - results['without activity']:+.3f}")
    silent = test["log_gap_ratio"] > np.log1p(3.0)
    print(
        f"loss rate in test snapshots: gap > 3x own rhythm {test.loc[silent, 'lost'].mean():.1%} "
        f"({int(silent.sum())} rows) vs {test.loc[~silent, 'lost'].mean():.1%}; contact changed "
        f"{test.loc[test['contact_changed'] == 1, 'lost'].mean():.1%} vs "
        f"{test.loc[test['contact_changed'] == 0, 'lost'].mean():.1%}"
    )


if __name__ == "__main__":
    main()
