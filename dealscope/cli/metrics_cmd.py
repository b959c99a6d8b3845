"""`metrics`: the dataset's metrics as of a date."""

from __future__ import annotations

import pandas as pd

from dealscope import store
from dealscope.cli.common import DATASET_HELP, add_db_option, dataset_id, open_engine, print_json
from dealscope.errors import DealScopeError
from dealscope.metrics.report import build_metrics_document


def register(subparsers) -> None:
    parser = subparsers.add_parser("metrics", help="compute a dataset's metrics")
    parser.add_argument("--dataset", required=True, help=DATASET_HELP)
    parser.add_argument("--as-of", help="analysis date, YYYY-MM-DD (default: latest in the data)")
    add_db_option(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def parse_as_of(value: str | None) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except ValueError as exc:
        raise DealScopeError(f"--as-of {value!r} is not a date; use YYYY-MM-DD") from exc
    # A bare date means the end of that day.
    return (
        stamp + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1) if len(value) <= 10 else stamp
    )


def run(args) -> int:
    engine = open_engine(args.db)
    dataset = store.read_dataset(engine, dataset_id(engine, args.dataset))
    document = build_metrics_document(dataset, parse_as_of(args.as_of))
    if args.json:
        print_json(document)
    else:
        for key, value in document.items():
            if not isinstance(value, (list, dict)):
                print(f"{key:>22}: {value}")
    return 0
