"""`risk train` / `risk score`: the churn-risk model from the command line (same code as the UI)."""

from __future__ import annotations

import sys
from pathlib import Path

from dealscope.activity.store import read_activities
from dealscope.cli.common import (
    DATASET_HELP,
    add_as_of_option,
    add_db_option,
    add_lang_option,
    load_for_analysis,
    open_engine,
    print_json,
    resolve_lang,
    writable_file,
)
from dealscope.cli.text import catalog_labels, figure_lines
from dealscope.errors import DealScopeError
from dealscope.export import to_safe_csv
from dealscope.i18n import t
from dealscope.report.risk_present import EXPORT_COLUMNS, scores_table
from dealscope.risk.score import ORDERS, order_deals
from dealscope.risk.service import load_or_train, score_dataset, train_and_save
from dealscope.risk.train import train_summary

TRAIN_FIGURES = (
    "validation",
    "auc",
    "baseline_auc",
    "brier",
    "lift_top_decile",
    "closed_split_auc",
    "unresolved_share",
)
TRAIN_KINDS = {
    **dict.fromkeys(("auc", "baseline_auc", "brier", "closed_split_auc"), "decimal3"),
    "lift_top_decile": "decimal2",
    "unresolved_share": "pct",
}


def register(subparsers) -> None:
    parser = subparsers.add_parser("risk", help="train the churn-risk model or score open deals")
    commands = parser.add_subparsers(dest="risk_command", required=True)
    train = commands.add_parser("train", help="backtest, train and save the model")
    score = commands.add_parser("score", help="write p_lost, tier and reasons of every open deal")
    for sub in (train, score):
        sub.add_argument("--dataset", required=True, help=DATASET_HELP)
        sub.add_argument(
            "--model-dir", help="model folder (default: $DEALSCOPE_MODEL_DIR, else models/)"
        )
        add_db_option(sub)
        add_as_of_option(sub)
    train.add_argument("--json", action="store_true", help="print one JSON object")
    train.set_defaults(handler=run_train)
    score.add_argument("--out", required=True, type=writable_file, help="CSV file to write")
    for sub in (train, score):
        add_lang_option(sub)
    score.add_argument(
        "--order", choices=ORDERS, default="p_lost", help="row order (default: p_lost)"
    )
    score.set_defaults(handler=run_score)


def run_train(args) -> int:
    dataset = load_for_analysis(args.db, args.dataset, args.as_of)
    log = read_activities(open_engine(args.db), dataset.id)
    summary = train_summary(train_and_save(dataset, args.model_dir, activities=log).card)
    if args.json:
        print_json(summary)
    else:
        lang = resolve_lang(args)
        keys = TRAIN_FIGURES
        labels = catalog_labels("format.cli.risk.", keys, lang)
        figures = {key: summary[key] for key in keys}
        how = f"format.cli.risk.validation.{summary['validation']}"
        figures["validation"] = catalog_labels("", [how], lang).get(how, summary["validation"])
        for line in figure_lines(figures, labels, TRAIN_KINDS, None, lang):
            print(line)
    return 0


def run_score(args) -> int:
    dataset = load_for_analysis(args.db, args.dataset, args.as_of)
    log = read_activities(open_engine(args.db), dataset.id)
    estimator, card, trained = load_or_train(dataset, args.model_dir, activities=log)
    if trained:
        print(t("format.cli.risk.trained", resolve_lang(args)), file=sys.stderr)
    table = scores_table(
        score_dataset(dataset, estimator, card, activities=log), resolve_lang(args)
    )
    table = order_deals(table, args.order)
    try:
        Path(args.out).write_bytes(to_safe_csv(table.loc[:, list(EXPORT_COLUMNS)]))
    except OSError as exc:
        raise DealScopeError(
            key="errors.cli.cannot_write", out=str(args.out), detail=exc.strerror or str(exc)
        ) from exc
    wrote = t("format.cli.risk.wrote", resolve_lang(args), count=len(table), out=args.out)
    print(wrote, file=sys.stderr)
    return 0
