"""`risk train` / `risk score`: the churn-risk model from the command line (same code as the UI)."""

from __future__ import annotations

import sys
from pathlib import Path

from dealscope import store
from dealscope.cli.common import (
    DATASET_HELP,
    add_db_option,
    dataset_id,
    open_engine,
    print_json,
    writable_file,
)
from dealscope.export import to_safe_csv
from dealscope.i18n import DEFAULT_LANGUAGE, LANGUAGES
from dealscope.risk.service import load_or_train, score_dataset, train_and_save
from dealscope.risk.train import train_summary

SCORE_EXPORT_COLUMNS = ("opportunity_id", "p_lost", "tier", "reasons", "tag", "signals")


def register(subparsers) -> None:
    parser = subparsers.add_parser("risk", help="train the churn-risk model or score open deals")
    commands = parser.add_subparsers(dest="risk_command", required=True)
    train = commands.add_parser("train", help="train, validate out of time and save the model")
    score = commands.add_parser("score", help="write p_lost, tier and reasons of every open deal")
    for sub in (train, score):
        sub.add_argument("--dataset", required=True, help=DATASET_HELP)
        sub.add_argument(
            "--model-dir", help="model folder (default: $DEALSCOPE_MODEL_DIR, else models/)"
        )
        add_db_option(sub)
    train.add_argument("--json", action="store_true", help="print one JSON object")
    train.set_defaults(handler=run_train)
    score.add_argument("--out", required=True, type=writable_file, help="CSV file to write")
    score.add_argument(
        "--lang", choices=LANGUAGES, default=DEFAULT_LANGUAGE, help="reasons' language"
    )
    score.set_defaults(handler=run_score)


def run_train(args) -> int:
    engine = open_engine(args.db)
    dataset = store.read_dataset(engine, dataset_id(engine, args.dataset))
    summary = train_summary(train_and_save(dataset, args.model_dir).card)
    if args.json:
        print_json(summary)
    else:
        for key in (
            "auc",
            "baseline_auc",
            "pr_auc",
            "brier",
            "lift_top_decile",
            "n_train",
            "n_test",
        ):
            print(f"{key:>16}: {summary[key]}")
    return 0


def run_score(args) -> int:
    engine = open_engine(args.db)
    dataset = store.read_dataset(engine, dataset_id(engine, args.dataset))
    estimator, card, trained = load_or_train(dataset, args.model_dir)
    if trained:
        print("no usable model was stored: trained a new one", file=sys.stderr)
    scores = score_dataset(dataset, estimator, card, args.lang)
    Path(args.out).write_bytes(to_safe_csv(scores.loc[:, list(SCORE_EXPORT_COLUMNS)]))
    print(f"wrote {len(scores)} open opportunities to {args.out}", file=sys.stderr)
    return 0
