"""`metrics`: the dataset's metrics as of a date."""

from __future__ import annotations

from dealscope.cli.common import (
    DATASET_HELP,
    add_as_of_option,
    add_db_option,
    load_for_analysis,
    print_json,
)
from dealscope.metrics.report import build_metrics_document


def register(subparsers) -> None:
    parser = subparsers.add_parser("metrics", help="compute a dataset's metrics")
    parser.add_argument("--dataset", required=True, help=DATASET_HELP)
    add_as_of_option(parser)
    add_db_option(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def run(args) -> int:
    dataset = load_for_analysis(args.db, args.dataset, args.as_of)
    document = build_metrics_document(dataset)
    if args.json:
        print_json(document)
    else:
        for key, value in document.items():
            if not isinstance(value, (list, dict)):
                print(f"{key:>22}: {value}")
    return 0
