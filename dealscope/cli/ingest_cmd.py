"""`ingest`: load CSV/XLSX exports (or a database table) as a new dataset version."""

from __future__ import annotations

import json
from pathlib import Path

from dealscope.cli.common import (
    add_db_option,
    encoding,
    open_engine,
    print_json,
    time_zone,
    writable_file,
)
from dealscope.ingest.errors import UploadError
from dealscope.ingest.persist import load_mapping_file, mapping_document, save_result
from dealscope.ingest.pipeline import SourceFile, ingest_files, ingest_tables
from dealscope.ingest.read_sql import read_database_table
from dealscope.ingest.settings import IngestSettings
from dealscope.ingest.validate import DUPLICATE_POLICIES

REJECT_FIELDS = ("file", "sheet", "line", "column", "value", "reason", "outcome", "detail")


def register(subparsers) -> None:
    parser = subparsers.add_parser("ingest", help="load CRM exports (CSV/XLSX) as a dataset")
    parser.add_argument("files", nargs="*", metavar="FILE", help="CSV or XLSX files (one dataset)")
    parser.add_argument("--dataset", help="dataset name (default: the first file's stem)")
    parser.add_argument(
        "--mapping", help="mapping JSON file (from --save-mapping or the Data page)"
    )
    parser.add_argument(
        "--save-mapping", metavar="FILE", type=writable_file, help="write the mapping used to FILE"
    )
    parser.add_argument("--source-db", metavar="URL", help="read a table from this database")
    parser.add_argument("--table", help="table or view of --source-db (from its own list)")
    parser.add_argument("--sheet", help="XLSX sheet to read (default: the first visible one)")
    parser.add_argument(
        "--encoding", type=encoding, help="force the CSV text encoding (e.g. gb18030)"
    )
    parser.add_argument(
        "--timezone", type=time_zone, help="declared time zone (default Asia/Shanghai)"
    )
    order = parser.add_mutually_exclusive_group()
    order.add_argument("--day-first", dest="day_first", action="store_true", default=None)
    order.add_argument("--month-first", dest="day_first", action="store_false")
    parser.add_argument("--duplicates", choices=DUPLICATE_POLICIES, help="duplicate-id policy")
    parser.add_argument(
        "--traditional-to-simplified",
        action="store_true",
        help="map traditional Chinese to simplified in owner/team/region/industry/source/"
        "customer type/account (張偉 = 张伟); recorded with the dataset",
    )
    add_db_option(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def _settings(args) -> IngestSettings:
    settings = load_mapping_file(args.mapping) if args.mapping else IngestSettings()
    if args.timezone:
        settings.timezone = args.timezone
    if args.day_first is not None:
        settings.day_first = args.day_first
    if args.duplicates:
        settings.duplicate_policy = args.duplicates
    if args.traditional_to_simplified:
        settings.traditional_to_simplified = True
    for path in args.files:
        name = Path(path).name
        if args.sheet:
            settings.sheets[name] = args.sheet
        if args.encoding:
            settings.encodings[name] = args.encoding
    return settings


def run(args) -> int:
    if not args.files and not (args.source_db and args.table):
        raise UploadError("Give FILE(s) to ingest, or --source-db URL with --table NAME.")
    settings = _settings(args)
    if args.files:
        sources = []
        for path in args.files:
            try:
                sources.append(SourceFile(Path(path).name, Path(path).read_bytes()))
            except OSError as exc:
                raise UploadError(f"{path}: cannot read the file ({exc.strerror}).") from exc
        result = ingest_files(sources, settings)
        default_name = Path(args.files[0]).stem
    else:
        # The operator runs the CLI: any SQLite file it can read is theirs to choose.
        result = ingest_tables([read_database_table(args.source_db, args.table, None)], settings)
        default_name = args.table
    name = args.dataset or default_name
    if args.save_mapping:
        Path(args.save_mapping).write_text(
            json.dumps(mapping_document(result), ensure_ascii=False, indent=2), encoding="utf-8"
        )
    dataset_id = None
    if not result.opportunities.empty:
        dataset_id = save_result(open_engine(args.db), name, result)
    document = result_document(result, name, dataset_id)
    if args.json:
        print_json(document)
    else:
        counts = result.counts
        print(
            f"dataset {name!r} (id {dataset_id}): {counts['rows_in']} rows in, "
            f"{counts['rows_loaded']} loaded, {counts['rows_rejected']} rejected, "
            f"{counts['rows_excluded']} excluded; {len(result.opportunities)} opportunities, "
            f"{len(result.stage_events)} stage events"
        )
    return 0 if dataset_id is not None else 1


def result_document(result, name: str, dataset_id: int | None) -> dict:
    """The `ingest --json` object (issue 3 §7)."""
    rejects = result.rejects.reindex(columns=list(REJECT_FIELDS)).astype(object)
    return {
        "dataset": name,
        "dataset_id": dataset_id,
        **result.counts,
        "opportunities": len(result.opportunities),
        "stage_events": len(result.stage_events),
        "files": [f.to_dict() for f in result.files],
        "mapping": result.mapping,
        "stages": result.stages.astype({"position": int}).to_dict("records"),
        "unknown_stages": result.unknown_stages,
        "notes": result.notes,
        "flagged": int((result.report["outcome"] == "flagged").sum()),
        "rejects": rejects.where(rejects.notna(), None).to_dict("records"),
    }
