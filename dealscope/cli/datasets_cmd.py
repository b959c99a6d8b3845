"""`datasets`: list the stored datasets; `datasets rename` / `datasets delete` manage them."""

from __future__ import annotations

import json
import sys

from dealscope import store
from dealscope.cli.common import DATASET_HELP, add_db_option, dataset_id, open_engine, print_json
from dealscope.errors import DealScopeError

# Columns stored as JSON text; `--json` prints them as objects, not strings.
JSON_COLUMNS = ("mapping", "settings")


def register(subparsers) -> None:
    parser = subparsers.add_parser("datasets", help="list, rename or delete stored datasets")
    add_db_option(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)
    commands = parser.add_subparsers(dest="datasets_command")
    rename = commands.add_parser("rename", help="rename a dataset (every version)")
    rename.add_argument("dataset", help=DATASET_HELP)
    rename.add_argument("new_name", help="the new name")
    add_db_option(rename)
    rename.set_defaults(handler=run_rename)
    delete = commands.add_parser("delete", help="delete a dataset (every version and its rows)")
    delete.add_argument("dataset", help=DATASET_HELP)
    delete.add_argument("--yes", action="store_true", help="confirm without asking")
    add_db_option(delete)
    delete.set_defaults(handler=run_delete)


def listing_document(engine) -> dict:
    """{"datasets": [...]}: every stored version, mapping and settings decoded to objects."""
    frame = store.list_datasets(engine)
    records = frame.to_dict("records")
    for record in records:
        for column in JSON_COLUMNS:
            text = record.get(column)
            record[column] = json.loads(text) if isinstance(text, str) and text else None
    return {"datasets": records}


def run(args) -> int:
    engine = open_engine(args.db)
    if args.json:
        print_json(listing_document(engine))
        return 0
    frame = store.list_datasets(engine)
    if frame.empty:
        print("no datasets yet: run `python -m dealscope demo` or ingest a file")
    else:
        columns = ["id", "name", "version", "created_at", "rows_loaded", "stage_event_count"]
        print(frame.loc[:, columns].to_string(index=False))
    return 0


def run_rename(args) -> int:
    engine = open_engine(args.db)
    renamed = store.rename_dataset(engine, dataset_id(engine, args.dataset), args.new_name)
    print(f"renamed {args.dataset!r} to {args.new_name.strip()!r} ({renamed} versions)")
    return 0


def run_delete(args) -> int:
    engine = open_engine(args.db)
    if not args.yes:
        if not sys.stdin.isatty():
            raise DealScopeError(key="errors.cli.delete_needs_yes", dataset=args.dataset)
        answer = input(f"Delete dataset {args.dataset!r} with every version? Type yes: ")
        if answer.strip().lower() != "yes":
            print("nothing deleted")
            return 1
    deleted = store.delete_dataset(engine, dataset_id(engine, args.dataset))
    print(f"deleted dataset {args.dataset!r} ({deleted} versions)")
    return 0
