"""`ingest-activities`: load follow-up records (跟进记录) as the activity log of a stored dataset.

A separate command rather than an `ingest --activities` option: the log is attached to a dataset
that already exists (its deals are what the activities link to), and it can be refreshed on its
own, as CRMs export activities separately from deals. Writing replaces the dataset's log.
"""

from __future__ import annotations

from pathlib import Path

from dealscope import store
from dealscope.activity.ingest import dataset_timezone, ingest_activity_files, source_files
from dealscope.activity.store import write_activities
from dealscope.cli.common import (
    DATASET_HELP,
    add_db_option,
    dataset_id,
    open_engine,
    print_json,
    time_zone,
)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "ingest-activities",
        help="load activity exports (Salesforce / HubSpot / Pipedrive / 跟进记录) into a dataset",
    )
    parser.add_argument("files", nargs="+", help="CSV or XLSX activity exports")
    parser.add_argument("--dataset", required=True, help=DATASET_HELP)
    parser.add_argument(
        "--timezone", default=None, type=time_zone, help="zone of naive times (default: dataset's)"
    )
    parser.add_argument("--json", action="store_true", help="print the load report as JSON")
    add_db_option(parser)
    parser.set_defaults(handler=run)


def run(args) -> int:
    from dealscope.ingest.errors import SourceError

    engine = open_engine(args.db)
    dataset = store.read_dataset(engine, dataset_id(engine, args.dataset))
    sources = []
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            raise SourceError(key="errors.cli.no_such_file", path=name)
        sources.append((path.name, path.read_bytes()))
    zone = dataset_timezone(dataset.meta.get("settings"), args.timezone)
    result = ingest_activity_files(sources, dataset.opportunities, timezone=zone)
    stored = write_activities(
        engine, dataset.id, result.activities, source_files=source_files(sources, result)
    )
    document = result.document(dataset.name, dataset.id, stored)
    if args.json:
        print_json(document)
        return 0
    for report in result.files:
        rate = report.name_match_rate
        matched = "" if rate is None else f", deal names matched {rate:.0%}"
        print(
            f"{report.file}: {report.layout} layout, {report.rows_in} rows: {report.rows_loaded} "
            f"loaded, {report.rows_rejected} rejected, {report.rows_excluded} excluded{matched}"
        )
        for note in report.notes:
            print(f"  note: {note}")
    preview = result.rows.head(20).astype(str)  # a short console preview of rows not loaded
    lines = (
        "  " + preview["outcome"] + " " + preview["file"] + " line " + preview["line"] + ": "
        + preview["reason"] + " (" + preview["column"] + "=" + preview["value"] + ")"
    )  # fmt: skip
    if len(lines):
        print("\n".join(lines))
    print(f"stored {stored} activities as the follow-up log of {dataset.name!r} (id {dataset.id})")
    return 0
