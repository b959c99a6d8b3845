"""Benchmark the churn-risk model: training and scoring time at 100k and 1M opportunities.

Run: OMP_NUM_THREADS=1 .venv/bin/python bench/bench_risk.py [--sizes 100000 1000000]
Data comes from dealscope.demo.generate_demo(n=…). Training snapshots are capped at
train.MAX_TRAINING_SNAPSHOTS rows (whole deals sampled, seeded); scoring covers every open deal.
Printed figures are wall-clock seconds on this machine, one thread.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dealscope.demo import generate_demo
from dealscope.metrics.kpis import infer_as_of
from dealscope.model import OPEN
from dealscope.risk import registry, train
from dealscope.risk.score import score_open_deals


def run(n: int) -> None:
    started = time.perf_counter()
    opps, events, stages = generate_demo(n=n)
    generated = time.perf_counter() - started
    as_of = infer_as_of(opps, events)

    started = time.perf_counter()
    data_hash = registry.data_hash(opps, events, stages)
    hashed = time.perf_counter() - started

    steps: dict[str, float] = {}
    last = [time.perf_counter(), "start"]

    def progress(_fraction: float, step: str) -> None:
        now = time.perf_counter()
        steps[last[1]] = now - last[0]
        last[0], last[1] = now, step

    started = time.perf_counter()
    model = train.train_risk_model(
        opps, events, stages, as_of, dataset={"id": 0, "data_hash": data_hash}, progress=progress
    )
    trained = time.perf_counter() - started
    progress(1.0, "end")

    started = time.perf_counter()
    scores = score_open_deals(model.estimator, model.card, opps, events, stages, as_of, "en")
    scored = time.perf_counter() - started

    rows = model.card["rows"]
    metrics, baseline = model.card["metrics"], model.card["baseline"]
    print(
        f"n={n:,} opportunities, {len(events):,} stage events, {int(opps['status'].eq(OPEN).sum()):,} open"
    )
    print(f"  generate demo            {generated:8.2f} s")
    print(f"  data hash (SHA-256)      {hashed:8.2f} s")
    print(
        f"  train (snapshots, 2 candidates, calibration, refit) {trained:8.2f} s  "
        f"[{rows['snapshots_final']:,} snapshot rows of {rows['closed_won'] + rows['closed_lost']:,} "
        f"closed deals; cap {train.MAX_TRAINING_SNAPSHOTS:,}]"
    )
    print("    steps: " + ", ".join(f"{k} {v:.2f}s" for k, v in steps.items() if k != "start"))
    print(f"  score {len(scores):,} open deals (+ reasons, rule signals) {scored:8.2f} s")
    print(
        f"  chosen {model.card['chosen']}: AUC {metrics['auc']:.3f} (baseline {baseline['auc']:.3f}), "
        f"Brier {metrics['brier']:.3f} (baseline {baseline['brier']:.3f})"
    )
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    for n in parser.parse_args().sizes:
        run(n)


if __name__ == "__main__":
    main()
