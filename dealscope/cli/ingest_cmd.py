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
from dealscope.ingest.errors import MappingError, UploadError
from dealscope.ingest.layouts import validate_targets
from dealscope.ingest.persist import (
    load_mapping_file,
    mapping_document,
    reuse_saved,
    save_result,
)
from dealscope.ingest.pipeline import SourceFile, ingest_files, ingest_tables
from dealscope.ingest.read_sql import read_database_table
from dealscope.ingest.settings import IngestSettings
from dealscope.ingest.synonyms import HISTORY_TARGETS, OPPORTUNITY_TARGETS
from dealscope.ingest.validate import DUPLICATE_POLICIES

ROLE_NAMES = OPPORTUNITY_TARGETS + HISTORY_TARGETS
OUTCOMES = ("won", "lost", "open")
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
    parser.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="HEADER=ROLE",
        help="set a column's role, e.g. --map 'Opportunity Result=status' (repeatable; an "
        "empty role or 'none' keeps the column out); roles: " + ", ".join(ROLE_NAMES),
    )
    parser.add_argument(
        "--map-status",
        action="append",
        default=[],
        metavar="VALUE=OUTCOME",
        help="assign a status or stage value to won / lost / open, e.g. --map-status "
        "'Gagné=won' (repeatable)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="only print the proposed mapping and the counts; store nothing",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="do not reuse the mapping and stage table saved with an existing dataset of this name",
    )
    add_db_option(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def _pairs(values: list[str], option: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        if "=" not in value:
            raise MappingError(key="errors.cli.pair_without_equals", option=option, value=value)
        left, right = value.rsplit("=", 1)
        pairs.append((left.strip(), right.strip()))
    return pairs


def _apply_cli_mapping(args, settings: IngestSettings) -> None:
    """--map HEADER=ROLE (for every file) and --map-status VALUE=OUTCOME into the settings."""
    columns = settings.mapping.setdefault("*", {})
    for header, role in _pairs(args.map, "--map"):
        target = None if role.casefold() in ("", "none", "-", "extra") else role
        if target is not None and validate_targets({header: target}):
            raise MappingError(
                key="errors.cli.unknown_role", header=header, role=role, roles=list(ROLE_NAMES)
            )
        columns[header] = target
    if not columns:
        settings.mapping.pop("*")
    for value, outcome in _pairs(args.map_status, "--map-status"):
        if outcome.casefold() not in OUTCOMES:
            raise MappingError(key="errors.cli.unknown_outcome", value=value, outcome=outcome)
        settings.status_values[value] = outcome.casefold()


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
    _apply_cli_mapping(args, settings)
    return settings


def run(args) -> int:
    if not args.files and not (args.source_db and args.table):
        raise UploadError(key="errors.cli.nothing_to_ingest")
    settings = _settings(args)
    name = args.dataset or (Path(args.files[0]).stem if args.files else args.table)
    reused = []
    if not args.mapping and not args.fresh:
        file_columns = settings.mapping.pop("*", None)
        reused = reuse_saved(open_engine(args.db), name, settings)
        if file_columns:  # --map wins over the saved mapping
            settings.mapping["*"] = {**settings.mapping.get("*", {}), **file_columns}
    if args.files:
        sources = []
        for path in args.files:
            try:
                sources.append(SourceFile(Path(path).name, Path(path).read_bytes()))
            except OSError as exc:
                raise UploadError(
                    key="errors.cli.cannot_read_file", path=path, detail=exc.strerror
                ) from exc
        result = ingest_files(sources, settings)
    else:
        # The operator runs the CLI: any SQLite file it can read is theirs to choose.
        result = ingest_tables([read_database_table(args.source_db, args.table, None)], settings)
    result.notes[:0] = reused
    if args.save_mapping:
        Path(args.save_mapping).write_text(
            json.dumps(mapping_document(result), ensure_ascii=False, indent=2), encoding="utf-8"
        )
    dataset_id = None
    if not result.opportunities.empty and not args.dry_run:
        dataset_id = save_result(open_engine(args.db), name, result)
    document = result_document(result, name, dataset_id)
    if args.json:
        print_json(document)
    else:
        print(mapping_text(result))
        counts = result.counts
        print(
            f"dataset {name!r} (id {dataset_id}): {counts['rows_in']} rows in, "
            f"{counts['rows_loaded']} loaded, {counts['rows_rejected']} rejected, "
            f"{counts['rows_excluded']} excluded; {len(result.opportunities)} opportunities, "
            f"{len(result.stage_events)} stage events"
        )
    return 0 if dataset_id is not None or (args.dry_run and len(result.opportunities)) else 1


def mapping_text(result) -> str:
    """The mapping used, per file, as the lines the CLI prints (role <- column, with why)."""
    lines = []
    for file in result.files:
        lines.append(f"{file.file}: layout {file.layout} ({file.layout_evidence})")
        width = max((len(c.source) for c in file.columns), default=0)
        for choice in file.columns:
            role = choice.target or "-"
            lines.append(f"  {choice.source:<{width}}  ->  {role:<18} {choice.evidence}")
        lines += [f"  note: {note}" for note in file.notes]
    lines += [f"note: {note}" for note in result.notes]
    lines.append("change a role with --map 'Header=role', an outcome with --map-status 'Value=won'")
    return "\n".join(lines)


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
