"""`datasets`: list the stored datasets."""

from __future__ import annotations

from dealscope import store
from dealscope.cli.common import add_db_option, open_engine, print_json


def register(subparsers) -> None:
    parser = subparsers.add_parser("datasets", help="list stored datasets")
    add_db_option(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def run(args) -> int:
    frame = store.list_datasets(open_engine(args.db))
    if args.json:
        print_json({"datasets": frame.to_dict("records")})
    elif frame.empty:
        print("no datasets yet: run `python -m dealscope demo` or ingest a file")
    else:
        columns = ["id", "name", "version", "created_at", "rows_loaded", "stage_event_count"]
        print(frame.loc[:, columns].to_string(index=False))
    return 0
