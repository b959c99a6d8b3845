"""Activity files -> canonical activities linked to a dataset's deals, with a per-row report.

Reading reuses the deal importer (`read_csv_bytes` / `read_xlsx_bytes`: encoding incl. GBK,
delimiter, header below title rows) and its date parser. Every input row ends in exactly one of:
loaded, rejected (with a reason the user can fix) or excluded (with the reason it does not count):

- rejected: `missing-date`, `bad-date` (unparseable or implausible), `deal-not-found` (the id and
  name match no deal of the dataset), `deal-name-ambiguous` (the name matches several deals);
- excluded: `not-done` (a planned activity is not a touch yet), `no-deal` (the row names no deal:
  an engagement logged on a contact or company only), and the rows the reader settled (blank and
  title rows).
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dealscope.activity.layouts import (
    DONE_WORDS,
    NOT_DONE_WORDS,
    TYPE_INDEX,
    ActivityMapping,
    map_headers,
)
from dealscope.activity.model import OTHER, normalise_activities
from dealscope.ingest.errors import MappingError
from dealscope.ingest.limits import MAX_UPLOAD_BYTES, limit_error, sheet_label
from dealscope.ingest.parse_dates import parse_dates
from dealscope.ingest.rawtable import EXCLUDED, REJECTED, RawTable
from dealscope.ingest.read_csv import read_csv_bytes
from dealscope.ingest.read_xlsx import read_xlsx_bytes
from dealscope.ingest.sniff import detect_kind
from dealscope.ingest.synonyms import header_key

LOADED = "loaded"
REPORT_COLUMNS = ("file", "line", "outcome", "reason", "column", "value")
SUBJECT_CHARS = 200
DEFAULT_TIMEZONE = "Asia/Shanghai"
# A log needs its date, and one of the deal's id or name to link each row (role groups).
REQUIRED_ROLES: dict[str, tuple[str, ...]] = {
    "date": ("occurred_at",),
    "deal": ("opportunity_id", "deal_name"),
}


@dataclass(frozen=True)
class ActivityFileReport:
    """What happened to one file: layout, counts (rows_in == loaded + rejected + excluded) and how
    deals were linked (over all rows, whether or not they loaded). `name_match_rate` = rows linked
    by deal name / rows that needed the name (no id, or an id the dataset does not hold); None when
    no row needed it."""

    file: str
    layout: str
    layout_evidence: str
    encoding: str | None
    mapping: dict[str, str | None]
    rows_in: int
    rows_loaded: int
    rows_rejected: int
    rows_excluded: int
    linked_by_id: int
    linked_by_name: int
    name_lookups: int
    unknown_types: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def name_match_rate(self) -> float | None:
        return self.linked_by_name / self.name_lookups if self.name_lookups else None

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "layout": self.layout,
            "layout_evidence": self.layout_evidence,
            "encoding": self.encoding,
            "mapping": self.mapping,
            "rows_in": self.rows_in,
            "rows_loaded": self.rows_loaded,
            "rows_rejected": self.rows_rejected,
            "rows_excluded": self.rows_excluded,
            "linked_by_id": self.linked_by_id,
            "linked_by_name": self.linked_by_name,
            "name_match_rate": self.name_match_rate,
            "unknown_types": list(self.unknown_types),
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class ActivityIngestResult:
    """Canonical activities of all files, the per-row report of rows not loaded, per-file reports."""

    activities: pd.DataFrame
    rows: pd.DataFrame
    files: list[ActivityFileReport] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        keys = ("rows_in", "rows_loaded", "rows_rejected", "rows_excluded")
        return {k: sum(getattr(f, k) for f in self.files) for k in keys}

    @property
    def link_counts(self) -> dict[str, int]:
        """Rows linked by id, by name, and rows that needed the name (over every file)."""
        keys = ("linked_by_id", "linked_by_name", "name_lookups")
        return {k: sum(getattr(f, k) for f in self.files) for k in keys}

    def document(self, dataset_name: str, dataset_id: int, stored: int) -> dict:
        """The load report as one JSON-ready document (the CLI's --json; the UI's record)."""
        return {
            "dataset": dataset_name,
            "dataset_id": dataset_id,
            "activities_stored": stored,
            **self.counts,
            "files": [f.as_dict() for f in self.files],
            "rows_not_loaded": self.rows.astype(object)
            .where(self.rows.notna(), None)
            .to_dict("records"),
        }


def dataset_timezone(settings: dict | None, override: str | None = None) -> str:
    """The zone naive activity times are read in: the override, else the dataset's own (saved
    with its deals), else DEFAULT_TIMEZONE."""
    return override or (settings or {}).get("timezone") or DEFAULT_TIMEZONE


def source_files(sources: list[tuple[str, bytes]], result: ActivityIngestResult) -> list[dict]:
    """The provenance of each file (name, sha256, layout, encoding, counts) for the log record."""
    return [
        {
            "name": name,
            "sha256": hashlib.sha256(data).hexdigest(),
            "layout": report.layout,
            "encoding": report.encoding,
            "rows_in": report.rows_in,
            "rows_loaded": report.rows_loaded,
        }
        for (name, data), report in zip(sources, result.files, strict=True)
    ]


def missing_roles(columns: dict[str, str | None]) -> list[str]:
    """The REQUIRED_ROLES groups no column fills, for a role -> column mapping."""
    return [
        group
        for group, roles in REQUIRED_ROLES.items()
        if not any(columns.get(role) for role in roles)
    ]


def read_activity_file(
    data: bytes, filename: str, encoding: str | None = None, *, sheet: str | None = None
) -> RawTable:
    """One CSV / XLSX activity export as a RawTable (the deal importer's readers), refused above
    the upload limit (MAX_UPLOAD_BYTES) as a deal file is."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise limit_error(
            filename,
            "file_size",
            len(data) / 2**20,
            MAX_UPLOAD_BYTES / 2**20,
            "mb",
            "split_or_remove_columns",
        )
    if detect_kind(data, filename) == "xlsx":
        return read_xlsx_bytes(data, filename, sheet)  # None: the first visible sheet
    return read_csv_bytes(data, filename, encoding)


def per_distinct(values: pd.Series, function, default=None) -> pd.Series:
    """`function` applied once per distinct non-null value and spread back (nulls -> default)."""
    codes, uniques = pd.factorize(values)
    mapped = np.array([function(u) for u in uniques] + [default], dtype=object)
    return pd.Series(mapped[np.where(codes >= 0, codes, len(uniques))], index=values.index)


def _name_key(values: pd.Series) -> pd.Series:
    """Deal names in comparison form: NFKC, trimmed, case-folded."""
    fold = lambda u: unicodedata.normalize("NFKC", str(u)).strip().casefold()  # noqa: E731
    return per_distinct(values.astype("string"), fold).astype("string")


def _cells(raw: RawTable, column: str | None) -> pd.Series:
    """Trimmed text of one column, '' as null (all-null when the role has no column)."""
    if column is None:
        return pd.Series(pd.NA, index=raw.data.index, dtype="string")
    text = raw.data[column].astype("string").str.strip()
    return text.mask(text == "")


def _link(
    deal_id: pd.Series, deal_name: pd.Series, opportunities: pd.DataFrame
) -> tuple[pd.Series, pd.Series]:
    """(opportunity_id or NA, how: 'id' / 'name' / reason code) for each row."""
    known_ids = pd.Index(opportunities["opportunity_id"].astype("string"))
    by_id = deal_id.where(deal_id.isin(known_ids))
    names = _name_key(opportunities["name"])
    counts = names.value_counts()
    unique_names = counts.index[counts == 1]
    lookup = pd.Series(
        opportunities["opportunity_id"].astype("string").to_numpy(), index=names.to_numpy()
    )
    lookup = lookup[lookup.index.isin(unique_names)]
    row_names = _name_key(deal_name)
    by_name = row_names.map(lookup).astype("string")
    need_name = by_id.isna() & row_names.notna()
    linked = by_id.fillna(by_name.where(need_name))
    ambiguous = need_name & by_name.isna() & row_names.isin(counts.index[counts > 1])
    has_ref = deal_id.notna() | deal_name.notna()
    how = pd.Series(
        np.select(
            [
                by_id.notna().to_numpy(),
                (need_name & by_name.notna()).to_numpy(),
                ambiguous.to_numpy(),
                ~has_ref.to_numpy(),
            ],
            ["id", "name", "deal-name-ambiguous", "no-deal"],
            default="deal-not-found",
        ),
        index=deal_id.index,
    )
    return linked, how


def _kinds(raw_type: pd.Series) -> tuple[pd.Series, tuple[str, ...]]:
    """Canonical kind per row and the raw words that matched no kind (they become OTHER)."""
    kinds = per_distinct(raw_type, lambda u: TYPE_INDEX.get(header_key(u), OTHER), OTHER)
    unknown = raw_type[(kinds == OTHER).to_numpy() & raw_type.notna().to_numpy()].unique()
    return kinds.astype("string"), tuple(sorted(str(u) for u in unknown))


def activities_from_raw(
    raw: RawTable,
    opportunities: pd.DataFrame,
    *,
    timezone: str = DEFAULT_TIMEZONE,
    day_first: bool | None = None,
    mapping: dict[str, str | None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, ActivityFileReport]:
    """Map, parse and link one read file: (activities, report rows, file report)."""
    roles = map_headers(raw.headers, mapping)
    _require(roles, raw)
    deal_id = _cells(raw, roles.column("opportunity_id"))
    deal_id = deal_id.str.split(";").str[0].str.strip()  # HubSpot lists several ids with ';'
    deal_name = _cells(raw, roles.column("deal_name"))
    date_text = _cells(raw, roles.column("occurred_at"))
    dates = parse_dates(
        date_text.fillna(""), zone=timezone, epoch=raw.date_epoch, day_first=day_first
    )
    done = _cells(raw, roles.column("done"))
    done_key = per_distinct(done, header_key)
    not_done = done_key.isin(NOT_DONE_WORDS).to_numpy(dtype=bool)
    linked, how = _link(deal_id, deal_name, opportunities)

    missing_date = date_text.isna().to_numpy()
    bad_date = ~missing_date & (dates.values.isna() | dates.issues.notna()).to_numpy()
    how_arr = how.to_numpy(dtype=object)
    outcome_reason = np.select(
        [not_done, missing_date, bad_date, how_arr == "no-deal", ~np.isin(how_arr, ["id", "name"])],
        ["not-done", "missing-date", "bad-date", "no-deal", how_arr],
        default="",
    )
    excluded = np.isin(outcome_reason, ["not-done", "no-deal"])
    rejected = (outcome_reason != "") & ~excluded
    loaded = outcome_reason == ""
    reason_column = {
        "not-done": roles.column("done"),
        "missing-date": roles.column("occurred_at"),
        "bad-date": roles.column("occurred_at"),
        "no-deal": roles.column("opportunity_id") or roles.column("deal_name"),
        "deal-not-found": roles.column("opportunity_id") or roles.column("deal_name"),
        "deal-name-ambiguous": roles.column("deal_name"),
    }
    value_by_reason = {
        "not-done": done,
        "missing-date": date_text,
        "bad-date": date_text,
        "deal-not-found": deal_id.fillna(deal_name),
        "deal-name-ambiguous": deal_name,
        "no-deal": deal_id,
    }
    kept = ~loaded
    reasons = pd.Series(outcome_reason[kept], dtype="string")
    values = pd.Series(pd.NA, index=reasons.index, dtype="string")
    for reason, source in value_by_reason.items():
        hit = (reasons == reason).to_numpy(dtype=bool)
        values[hit] = source.to_numpy()[kept][hit]
    column = reasons.map(reason_column).astype("string")
    # A deal looked up by name (no id on the row) is reported on the name column.
    by_name_column = (reasons == "deal-not-found").to_numpy(dtype=bool) & deal_id.isna().to_numpy()[
        kept
    ]
    column[by_name_column] = roles.column("deal_name")
    report = pd.DataFrame(
        {
            "file": raw.file,
            "line": raw.lines[kept],
            "outcome": np.where(rejected[kept], REJECTED, EXCLUDED),
            "reason": reasons,
            "column": column,
            "value": values,
        }
    )
    settled = raw.settled.assign(file=raw.file)[list(REPORT_COLUMNS)]
    report = (
        pd.concat([f for f in (report, settled) if len(f)], ignore_index=True)
        if (len(report) or len(settled))
        else report
    )

    kinds, unknown = _kinds(_cells(raw, roles.column("activity_type")))
    subject = _cells(raw, roles.column("subject")).fillna(_cells(raw, roles.column("content")))
    owner = _cells(raw, roles.column("owner"))
    deal_owner = linked.map(
        pd.Series(
            opportunities["owner"].astype("string").to_numpy(),
            index=opportunities["opportunity_id"].astype("string").to_numpy(),
        )
    )
    notes = list(roles.notes)
    unclear = done_key.notna() & ~done_key.isin(NOT_DONE_WORDS | DONE_WORDS)
    if unclear.any():
        words = sorted(str(v) for v in done[unclear.to_numpy()].unique())
        notes.append(f"done values {words} are neither yes nor no: those rows count as done")
    owner_filled = int(
        (owner.isna() & deal_owner.notna() & pd.Series(loaded, index=owner.index)).sum()
    )
    if owner_filled:
        notes.append(f"{owner_filled} loaded rows name no owner: the deal's owner is used")
    if unknown:
        notes.append(f"activity types {list(unknown)} are not known: counted as 'other'")
    activities = normalise_activities(
        pd.DataFrame(
            {
                "opportunity_id": linked,
                "occurred_at": dates.values,
                "activity_type": kinds,
                "owner": owner.fillna(deal_owner),
                "contact": _cells(raw, roles.column("contact")),
                "subject": subject.str.slice(0, SUBJECT_CHARS),
            }
        ).loc[loaded]
    )
    outcomes = np.concatenate([np.where(loaded, LOADED, ""), raw.settled["outcome"].to_numpy(str)])
    n_loaded = int(loaded.sum())
    n_rejected = int(rejected.sum() + (raw.settled["outcome"] == REJECTED).sum())
    n_excluded = int(excluded.sum() + (raw.settled["outcome"] == EXCLUDED).sum())
    if n_loaded + n_rejected + n_excluded != raw.rows_in or len(outcomes) != raw.rows_in:
        raise AssertionError(f"{raw.file}: rows_in {raw.rows_in} != accounted rows")
    by_id = int((how == "id").sum())  # linking is judged on every row, whatever else it failed
    by_name = int((how == "name").sum())
    needed = int(((how != "id") & (how != "no-deal")).to_numpy().sum())
    file_report = ActivityFileReport(
        file=raw.file,
        layout=roles.layout,
        layout_evidence=roles.evidence,
        encoding=raw.encoding,
        mapping=roles.columns,
        rows_in=raw.rows_in,
        rows_loaded=n_loaded,
        rows_rejected=n_rejected,
        rows_excluded=n_excluded,
        linked_by_id=by_id,
        linked_by_name=by_name,
        name_lookups=needed,
        unknown_types=unknown,
        notes=tuple(notes),
    )
    return activities, report, file_report


def _require(roles: ActivityMapping, raw: RawTable) -> None:
    where = sheet_label(raw.file, raw.sheet) if raw.sheet else raw.file
    if roles.column("occurred_at") is None:
        raise MappingError(key="errors.activity.no_date_column", label=where, columns=raw.headers)
    if roles.column("opportunity_id") is None and roles.column("deal_name") is None:
        raise MappingError(key="errors.activity.no_deal_column", label=where, columns=raw.headers)


def ingest_activity_files(
    sources: list[tuple[str, bytes]],
    opportunities: pd.DataFrame,
    *,
    timezone: str = DEFAULT_TIMEZONE,
    day_first: bool | None = None,
    mappings: dict[str, dict[str, str | None]] | None = None,
    raws: list[RawTable] | None = None,
) -> ActivityIngestResult:
    """Read, map and link every (filename, bytes) activity export against `opportunities`.

    `mappings`: per file name, role -> column overrides (map_headers). `raws`: the files already
    read (one per source, in order), so a caller that showed the columns does not read twice."""
    frames, reports, files = [], [], []
    for index, (filename, data) in enumerate(sources):
        raw = raws[index] if raws is not None else read_activity_file(data, filename)
        activities, report, file_report = activities_from_raw(
            raw,
            opportunities,
            timezone=timezone,
            day_first=day_first,
            mapping=(mappings or {}).get(filename),
        )
        frames.append(activities)
        reports.append(report)
        files.append(file_report)
    activities = normalise_activities(pd.concat(frames, ignore_index=True))
    rows = (
        pd.concat(reports, ignore_index=True) if reports else pd.DataFrame(columns=REPORT_COLUMNS)
    )
    return ActivityIngestResult(activities, rows, files)
