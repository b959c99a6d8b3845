"""From files to canonical frames and counts: read → detect layout → map → parse → validate →
assemble. Conservation holds for every file: rows_in == loaded + rejected + excluded."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from dealscope.errors import text
from dealscope.ingest import assemble
from dealscope.ingest.assemble import member
from dealscope.ingest.build import ISSUE_COLUMNS, build_columns
from dealscope.ingest.detect import is_unique_text
from dealscope.ingest.errors import MappingError, SettingsError
from dealscope.ingest.events import (
    duration_events,
    empty_events,
    entered_events,
    history_events,
)
from dealscope.ingest.layouts import (
    ENTERED_PREFIX,
    HISTORY_LAYOUTS,
    TIME_PREFIX,
    ColumnChoice,
    detect_layout,
    propose_mapping,
    validate_targets,
)
from dealscope.ingest.limits import MAX_UPLOAD_BYTES, limit_error
from dealscope.ingest.markers import is_total_label
from dealscope.ingest.rawtable import EXCLUDED, REJECTED, RawTable, as_text
from dealscope.ingest.read_csv import read_csv_bytes
from dealscope.ingest.read_xlsx import read_xlsx_bytes
from dealscope.ingest.report import build_report, cell_flag_masks
from dealscope.ingest.settings import IngestSettings
from dealscope.ingest.sniff import detect_kind
from dealscope.ingest.stages import infer_stages, stage_key
from dealscope.ingest.validate import INVISIBLE, LOADED, blank_rows, classify_rows, id_key
from dealscope.model import (
    DATE_COLUMNS,
    NUMBER_COLUMNS,
    OPPORTUNITY_COLUMNS,
    normalise_opportunities,
    normalise_stage_events,
    null_column,
)

Progress = Callable[[str], None]


@dataclass
class SourceFile:
    """One uploaded file (bytes kept in memory only for the ingest)."""

    name: str
    data: bytes
    sheet: str | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class FileReport:
    """What happened to one file: layout, encoding, counts, mapping with evidence, notes."""

    file: str
    layout: str
    layout_evidence: str
    rows_in: int
    rows_loaded: int
    rows_rejected: int
    rows_excluded: int
    columns: list[ColumnChoice]
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None
    sha256: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "path": self.file, "name": self.file, "sha256": self.sha256, "layout": self.layout,
            "layout_evidence": self.layout_evidence, "sheet": self.sheet, "encoding": self.encoding,
            "delimiter": self.delimiter, "rows_in": self.rows_in, "rows_loaded": self.rows_loaded,
            "rows_rejected": self.rows_rejected, "rows_excluded": self.rows_excluded,
            "notes": self.notes,
        }  # fmt: skip


@dataclass
class IngestResult:
    """Canonical frames, the stage table, the per-row report and the counts of one ingest."""

    opportunities: pd.DataFrame
    stage_events: pd.DataFrame
    stages: pd.DataFrame
    report: pd.DataFrame
    files: list[FileReport]
    settings: IngestSettings
    unknown_stages: list[str]
    notes: list[str]

    @property
    def counts(self) -> dict[str, int]:
        keys = ("rows_in", "rows_loaded", "rows_rejected", "rows_excluded")
        return {k: sum(getattr(f, k) for f in self.files) for k in keys}

    @property
    def mapping(self) -> dict[str, dict]:
        """{file: {"layout": …, "columns": {source: target}}} — savable and reloadable."""
        return {
            f.file: {"layout": f.layout, "columns": {c.source: c.target for c in f.columns}}
            for f in self.files
        }

    @property
    def rejects(self) -> pd.DataFrame:
        """Rejected and excluded rows only (the flagged cells are in `report`)."""
        return self.report[self.report["outcome"].isin([REJECTED, EXCLUDED])].reset_index(drop=True)


def read_source(source: SourceFile, settings: IngestSettings) -> RawTable:
    """Read one uploaded file (type from its bytes) into a RawTable."""
    if len(source.data) > MAX_UPLOAD_BYTES:
        raise limit_error(
            source.name,
            "file_size",
            len(source.data) / 2**20,
            MAX_UPLOAD_BYTES / 2**20,
            "mb",
            "split_or_remove_columns",
        )
    if detect_kind(source.data, source.name) == "xlsx":
        return read_xlsx_bytes(
            source.data, source.name, source.sheet or settings.sheets.get(source.name)
        )
    return read_csv_bytes(source.data, source.name, settings.encodings.get(source.name))


def resolve_mapping(raw: RawTable, settings: IngestSettings) -> tuple[list[ColumnChoice], str, str]:
    """Proposed mapping with the user's corrections applied, and the layout with its evidence."""
    choices = propose_mapping(raw.headers, raw.data)
    user = settings.mapping_for(raw.file)
    unknown_sources = sorted(set(settings.mapping.get(raw.file, {})) - set(raw.headers))
    bad_targets = validate_targets(user)
    if unknown_sources or bad_targets:
        raise MappingError(
            key="errors.mapping.unknown_columns",
            file=raw.file,
            unknown=unknown_sources,
            fields=bad_targets,
            columns=raw.headers,
        )
    choices = [
        ColumnChoice(c.source, user[c.source], "chosen by the user") if c.source in user else c
        for c in choices
    ]
    layout, evidence = detect_layout(raw.headers, {c.source: c.target for c in choices})
    if raw.file in settings.layouts:
        layout, evidence = settings.layouts[raw.file], "chosen by the user"
    return choices, layout, evidence


def _require(raw: RawTable, by_target: dict[str, str], layout: str) -> None:
    """The least a deals file needs: a stage or an outcome (status, IsWon / IsClosed) per row."""
    has_stage = {"stage", "status", "is_won", "is_closed"} & set(by_target)
    entered = any(t.startswith((ENTERED_PREFIX, TIME_PREFIX)) for t in by_target)
    if not has_stage and not entered and layout != "hubspot_deals":
        found = [f"{column} = {role}" for role, column in by_target.items()]
        raise MappingError(
            key="errors.mapping.no_stage",
            file=raw.file,
            found=found or text("errors.mapping.no_known_column"),
            columns=raw.headers,
        )


def _check_timezone(name: str) -> None:
    """A declared time zone must be a known IANA name (a typo reached the generic error page)."""
    try:
        ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(key="errors.settings.unknown_timezone", zone=name) from None


def _id_source(raw: RawTable, by_target: dict[str, str]) -> tuple[str | None, str | None]:
    """(id column or None for generated ids, note). A unique, complete name column serves as id."""
    if "opportunity_id" in by_target:
        return by_target["opportunity_id"], None
    name = by_target.get("name")
    data_rows = ~(blank_rows(raw.data) | is_total_label(raw.data[raw.data.columns[0]]))
    if name and is_unique_text(raw.data.loc[data_rows, name]):
        return name, f"no id column: deals are identified by {name!r} (every name is unique)"
    return None, (
        "no id column: ids are generated from the file name and line "
        f"({raw.file}:<line>) and flagged generated-id; such a dataset cannot be compared with "
        "another export by id (snapshot diff)"
    )


def ingest_tables(tables: list[RawTable], settings: IngestSettings, progress: Progress | None = None,
                  sha256: dict[str, str] | None = None) -> IngestResult:  # fmt: skip
    """Assemble one dataset from already-read tables (files, sheets or database tables)."""
    _check_timezone(settings.timezone)
    say = progress or (lambda _step: None)
    parts, events, outcomes, issues, lookups, reports, notes = [], [], {}, [], [], [], []
    derived_ids: list[pd.Series] = []
    sources: dict[int, dict[str, str]] = {}  # per table: canonical column -> source header
    column_order: list[str] = []  # stages in the order of per-stage columns (Date entered …)
    resolved = [resolve_mapping(raw, settings) for raw in tables]
    has_main = any(layout != "lookup" for _, layout, _ in resolved)
    for t, raw in enumerate(tables):
        say(f"map:{raw.file}")
        choices, layout, evidence = resolved[t]
        if layout == "lookup" and not has_main:  # a lookup needs deals to join to
            layout = "generic"
        mapping = {c.source: c.target for c in choices}
        by_target = {v: k for k, v in mapping.items() if v}
        sources[t] = by_target
        file_notes = list(raw.notes)
        if layout in HISTORY_LAYOUTS:
            history = history_events(raw, layout, mapping, settings)
            outcomes[t] = history.outcomes
            events.append(history.events.assign(_table=t))
            issues.append(history.issues.assign(_table=t))
            file_notes += history.notes
        elif layout == "lookup":
            outcome = classify_rows(raw, None, [], label_columns=[])
            outcomes[t] = outcome
            rows = outcome.index[outcome["outcome"] == LOADED]
            lookups.append(build_columns(raw, mapping, rows, settings).frame)
        else:
            _require(raw, by_target, layout)
            id_column, id_note = _id_source(raw, by_target)
            file_notes += [id_note] if id_note else []
            required = (
                [(by_target["stage"], "stage")]
                if "stage" in by_target and not {"status", "is_won", "is_closed"} & set(by_target)
                else []
            )
            outcome = classify_rows(raw, id_column, required,
                                    label_columns=[id_column, by_target.get("name")],
                                    duplicate_policy=settings.duplicate_policy)  # fmt: skip
            outcomes[t] = outcome
            rows = outcome.index[outcome["outcome"] == LOADED]
            say(f"parse:{raw.file}")
            built = build_columns(raw, mapping, rows, settings)
            frame = built.frame
            if id_column is None:
                frame["opportunity_id"] = generated_ids(raw, rows)
                frame["_generated_id"] = True
            else:
                frame["opportunity_id"] = clean_ids(raw.data.loc[rows, id_column])
            frame["_table"], frame["_pos"] = t, rows
            parts.append(frame)
            issues.append(built.issues.assign(_table=t))
            file_notes += built.notes
            hub_events, hub_issues = entered_events(raw, mapping, frame["opportunity_id"], settings)
            if hub_events.empty:  # no stage dates: durations per stage, when the file has them
                hub_events = duration_events(raw, mapping, frame)
                if not hub_events.empty:
                    derived_ids.append(hub_events["opportunity_id"])
                    file_notes.append(
                        f"{hub_events['opportunity_id'].nunique()} deals: stage entry times "
                        "derived from the time-in-stage columns and the creation date (flagged "
                        "stage-time-derived)"
                    )
            column_order += [t.split(":", 1)[1] for t in mapping.values()
                             if t and t.startswith((ENTERED_PREFIX, TIME_PREFIX))]  # fmt: skip
            events.append(hub_events.assign(_table=t))
            issues.append(hub_issues.assign(_table=t))
        if raw.cell_flags is not None and not raw.cell_flags.empty:
            flags = raw.cell_flags.rename(columns={"row": "pos"})
            issues.append(flags.loc[:, list(ISSUE_COLUMNS)].assign(_table=t))
        reports.append((raw, choices, layout, evidence, file_notes))
    say("assemble")
    opps = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=["opportunity_id", "_table", "_pos"])
    )
    _cross_file_duplicates(opps, outcomes, tables)
    opps = opps[opps["_keep"]].drop(columns="_keep") if "_keep" in opps else opps
    all_events = pd.concat(events, ignore_index=True) if events else empty_events().assign(_table=0)
    all_events, link_note = assemble.link_event_ids(all_events, opps)
    notes += [link_note] if link_note else []
    if opps.empty and not all_events.empty:
        opps = assemble.derive_opportunities(all_events)
        notes.append("deals derived from the stage history (no opportunities file)")
    elif not all_events.empty:
        orphan = ~assemble.member(all_events["opportunity_id"], opps["opportunity_id"])
        for t in all_events.loc[orphan, "_table"].unique():
            pos = all_events.loc[orphan & (all_events["_table"] == t), "_pos"]
            outcomes[t].loc[pos, ["outcome", "reason", "column"]] = [
                REJECTED,
                "unknown-opportunity",
                None,
            ]
        all_events = all_events[~orphan]
    for lookup in lookups:
        opps, join_note = assemble.join_lookup(opps, lookup)
        notes += [join_note] if join_note else []
    stage_table, unknown = infer_stages(
        opps.get("stage", pd.Series(dtype="string")), all_events,
        _stage_overrides(settings, opps.get("stage"), all_events),
        probability=opps.get("probability"), column_order=column_order,
    )  # fmt: skip
    kinds = dict(zip(stage_table["stage"], stage_table["kind"], strict=True))
    missing = [c for c in OPPORTUNITY_COLUMNS if c not in opps]
    if missing:  # added at once, already typed (column by column cost ~1 ms on small files)
        nulls = pd.DataFrame({c: null_column(c, len(opps)) for c in missing}, index=opps.index)
        opps = pd.concat([opps, nulls], axis=1)
    opps = _canonical_types(opps)
    opps["status"], unknown_status = assemble.assign_status(opps, kinds, settings.status_values)
    moved = assemble.move_open_close_dates(opps)
    notes += [f"{moved} open deals had a close date: kept as expected close date"] if moved else []
    now = (
        pd.Timestamp(settings.now)
        if settings.now
        else pd.Timestamp.now(tz=settings.timezone).tz_localize(None)
    )
    opps["stage_entered_at"], dated = assemble.current_stage_entries(opps, all_events)
    if dated.any():
        notes.append(
            f"{int(dated.sum())} open deals without stage history: current-stage entry dated as the "
            "export's date minus the days-in-stage column (flagged stage-entry-derived)"
        )
    masks = assemble.row_flags(opps, now, unknown)
    masks["unknown-status"] = unknown_status
    masks["generated-id"] = _bool_column(opps, "_generated_id")
    masks["stage-entry-derived"] = dated
    masks["stage-time-derived"] = (
        member(opps["opportunity_id"], pd.concat(derived_ids))
        if derived_ids
        else pd.Series(False, index=opps.index)
    )
    report = build_report(tables, outcomes, issues, opps, masks, sources=sources)
    cell_codes = cell_flag_masks(opps, issues)
    opps["flags"] = assemble.flags_column(opps.index, {**cell_codes, **masks})
    files = _file_reports(reports, outcomes, sha256 or {})
    canonical = normalise_opportunities(opps)  # takes the canonical columns, no copy first
    stage_events = normalise_stage_events(all_events.dropna(subset=["entered_at"]))
    return IngestResult(
        canonical, stage_events, stage_table, report, files, settings, unknown, notes
    )


def _stage_overrides(settings: IngestSettings, current, events) -> list[dict] | None:
    """The user's stage table, plus a kind for each stage named in `status_values`."""
    rows = [dict(r) for r in settings.stages or []]
    if not settings.status_values:
        return rows or None
    named = {str(r["stage"]) for r in rows}
    seen = set(map(str, pd.unique(current.dropna()))) if current is not None else set()
    seen |= set(map(str, pd.unique(events["stage"].dropna())))
    user = {stage_key(k): v for k, v in settings.status_values.items()}
    for stage in sorted(seen - named):
        if stage_key(stage) in user:
            rows.append({"stage": stage, "kind": user[stage_key(stage)]})
    return rows or None


def _bool_column(opps: pd.DataFrame, column: str) -> pd.Series:
    if column not in opps:
        return pd.Series(False, index=opps.index)
    return opps[column].fillna(False).astype(bool)


def generated_ids(raw: RawTable, rows: pd.Index) -> pd.Series:
    """Stable ids for a file without an id column: `<file>:<physical line>` (same file, same ids)."""
    lines = pd.Series(raw.lines, index=raw.data.index).loc[rows].astype(str)
    return (raw.file + ":" + lines).astype("string")


def clean_ids(values: pd.Series) -> pd.Series:
    """Ids as written, trimmed, without invisible format characters (BOM, zero-width space):
    `A1` and `A1\u200b` are one deal (duplicates are found on the cleaned text)."""
    text = as_text(values).str.replace(INVISIBLE, "", regex=True).str.strip()
    return text


def _canonical_types(opps: pd.DataFrame) -> pd.DataFrame:
    for column in DATE_COLUMNS:
        if opps[column].dtype != "datetime64[ns]":
            opps[column] = pd.to_datetime(opps[column]).astype("datetime64[ns]")
    for column in NUMBER_COLUMNS:
        if opps[column].dtype != "float64":
            opps[column] = pd.to_numeric(opps[column]).astype("float64")
    return opps.reset_index(drop=True)


def _cross_file_duplicates(opps: pd.DataFrame, outcomes: dict, tables: list[RawTable]) -> None:
    """The same id in two opportunity files: the first file's row is kept (keep-first)."""
    if opps.empty or opps["_table"].nunique() < 2:
        return
    keys = id_key(opps["opportunity_id"])
    dup = keys.duplicated(keep="first")
    opps["_keep"] = ~dup
    for t in opps.loc[dup, "_table"].unique():
        pos = opps.loc[dup & (opps["_table"] == t), "_pos"]
        outcomes[t].loc[pos, ["outcome", "reason", "detail"]] = [
            REJECTED,
            "duplicate-id",
            "id already loaded from an earlier file",
        ]


def _file_reports(reports, outcomes, sha256) -> list[FileReport]:
    files = []
    for t, (raw, choices, layout, evidence, notes) in enumerate(reports):
        values = pd.concat([outcomes[t]["outcome"], raw.settled["outcome"].astype(object)])
        counts = values.value_counts()
        report = FileReport(
            file=raw.file, layout=layout, layout_evidence=evidence, rows_in=raw.rows_in,
            rows_loaded=int(counts.get(LOADED, 0)), rows_rejected=int(counts.get(REJECTED, 0)),
            rows_excluded=int(counts.get(EXCLUDED, 0)), columns=choices, sheet=raw.sheet,
            sheets=raw.sheets, encoding=raw.encoding, delimiter=raw.delimiter,
            sha256=sha256.get(raw.file), notes=notes,
        )  # fmt: skip
        total = report.rows_loaded + report.rows_rejected + report.rows_excluded
        if total != report.rows_in:  # conservation is an invariant, not a hope
            raise AssertionError(f"{raw.file}: rows_in {raw.rows_in} != accounted {total}")
        files.append(report)
    return files


def ingest_files(sources: list[SourceFile], settings: IngestSettings | None = None,
                 progress: Progress | None = None) -> IngestResult:  # fmt: skip
    """Read and assemble several files into one dataset (opportunities + stage history …)."""
    settings = settings or IngestSettings()
    say = progress or (lambda _step: None)
    tables = []
    for source in sources:
        say(f"read:{source.name}")
        tables.append(read_source(source, settings))
    return ingest_tables(tables, settings, progress, {s.name: s.sha256 for s in sources})
