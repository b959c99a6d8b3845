"""`metrics`: the dataset's metrics as of a date."""

from __future__ import annotations

import pandas as pd

from dealscope import store
from dealscope.errors import DealScopeError
from dealscope.metrics.report import build_metrics_document
from dealscope.model import Dataset


def register(subparsers) -> None:
    from dealscope.cli import add_db_option

    parser = subparsers.add_parser("metrics", help="compute a dataset's metrics")
    parser.add_argument("--dataset", required=True, help="dataset name (newest version) or id")
    add_as_of_option(parser)
    add_db_option(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def add_as_of_option(parser) -> None:
    """`--as-of` for every command that computes (metrics, report, risk train / score)."""
    parser.add_argument(
        "--as-of",
        help="analysis date YYYY-MM-DD (end of that day) or a full timestamp; default: the "
        "export's date (latest created / activity / stage-entry time in the data)",
    )


def load_for_analysis(db: str | None, name_or_id: str, as_of: str | None) -> Dataset:
    """A stored dataset settled for analysis (Dataset.settled) as of `--as-of`."""
    dataset = store.read_dataset(store.get_engine(db), name_or_id)
    return dataset.settled().at(parse_as_of(as_of))


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
    from dealscope.cli import print_json

    dataset = load_for_analysis(args.db, args.dataset, args.as_of)
    document = build_metrics_document(dataset)
    if args.json:
        print_json(document)
    else:
        for key, value in document.items():
            if not isinstance(value, (list, dict)):
                print(f"{key:>22}: {value}")
    return 0
