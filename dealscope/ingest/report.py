"""The per-row report of one ingest: every rejected or excluded row and every flagged cell or row,
with file, physical line (or sheet row), column, raw value, reason code, detail and record id.

A row flag (unknown-stage, negative-amount …) names the cell that raised it: its source column and
the cell's text as read (ROW_FLAG_COLUMNS), not the record id (that is `record`). `summarise_report`
folds identical entries — the same outcome, reason, column and value — into one line with a count
and example lines, for the screen; the downloads keep every row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dealscope.ingest.rawtable import EXCLUDED, REJECTED
from dealscope.ingest.validate import LOADED

REPORT_COLUMNS = (
    "file",
    "sheet",
    "line",
    "outcome",
    "reason",
    "column",
    "value",
    "detail",
    "record",
)
FLAGGED = "flagged"
# The canonical column whose cell raised each row flag (a tuple: the latest of those dates). Flags
# not listed (generated-id, stage-time-derived) concern the whole row: no column, no value.
ROW_FLAG_COLUMNS: dict[str, str | tuple[str, ...]] = {
    "missing-created": "created_at",
    "close-before-create": "closed_at",
    "negative-amount": "amount",
    "won-zero-amount": "amount",
    "missing-close-date": "closed_at",
    "future-date": ("created_at", "closed_at", "last_activity_at"),
    "unknown-stage": "stage",
    "unknown-status": "status",
}
SUMMARY_KEYS = ("outcome", "reason", "column", "value")
SUMMARY_COLUMNS = (*SUMMARY_KEYS, "count", "examples")
EXAMPLES_PER_LINE = 3


def cell_flag_masks(opps: pd.DataFrame, issues: list[pd.DataFrame]) -> dict[str, pd.Series]:
    """{code: mask over opportunity rows} for the cell issues found in those rows."""
    frames = [i for i in issues if not i.empty]
    if not frames or "_table" not in opps:
        return {}
    cells = pd.concat(frames, ignore_index=True)
    row_key = opps["_table"].astype("int64") * 2**32 + opps["_pos"].astype("int64")
    cell_key = cells["_table"].astype("int64") * 2**32 + cells[
        "_pos" if "_pos" in cells else "pos"
    ].astype("int64")
    return {
        code: row_key.isin(cell_key[cells["code"] == code])
        for code in cells["code"].dropna().unique()
    }


def _piece(frame, rows: int | None = None, **constants) -> dict[str, np.ndarray] | None:
    """A report piece: REPORT_COLUMNS as object arrays from `frame` (a DataFrame or dict) and the
    constants (broadcast); None when empty. Plain arrays joined once at the end: a DataFrame per
    piece cost ~1 ms each, which dominated small files."""
    rows = len(frame) if rows is None else rows
    if rows == 0:
        return None
    piece = {}
    for column in REPORT_COLUMNS:
        value = constants[column] if column in constants else frame.get(column)
        if isinstance(value, (pd.Series, np.ndarray)):
            piece[column] = np.asarray(value, dtype=object)
        else:
            piece[column] = np.full(rows, value, dtype=object)
    return piece


def _flag_cells(
    code: str, raw, opps: pd.DataFrame, part: np.ndarray, positions: np.ndarray, sources: dict
) -> tuple[object, np.ndarray | None]:
    """(column, values) of the cell behind row flag `code` for the rows `part` of one table:
    the source column's header and its text as read; the canonical value as text when the
    column came from elsewhere (derived, joined); (None, None) for a whole-row flag."""
    target = ROW_FLAG_COLUMNS.get(code)
    if target is None:
        return None, None
    if isinstance(target, tuple):  # the latest of the dates is the one in the future
        present = [c for c in target if c in opps]
        dates = opps.loc[part, present]
        filled = dates.fillna(pd.Timestamp.min)
        which = np.asarray(present, dtype=object)[np.argmax(filled.to_numpy(), axis=1)]
        values = np.empty(len(positions), dtype=object)
        columns = np.empty(len(positions), dtype=object)
        for name in present:  # at most three columns, each vectorised
            rows = which == name
            column, cells = _flag_cells_of(name, raw, opps, part, positions, sources)
            values[rows], columns[rows] = cells[rows], column
        return columns, values
    return _flag_cells_of(target, raw, opps, part, positions, sources)


def _flag_cells_of(name, raw, opps, part, positions, sources) -> tuple[str, np.ndarray]:
    source = sources.get(name)
    if source is not None and source in raw.data:
        return source, raw.data[source].to_numpy(dtype=object)[positions]
    canonical = opps.loc[part, name] if name in opps else pd.Series(pd.NA, index=opps.index[part])
    text = canonical.astype("string").to_numpy(dtype=object, na_value=None)
    return name, text


def build_report(tables, outcomes, issues, opps, masks, sources=None) -> pd.DataFrame:
    """Every rejected / excluded row and every flagged cell or row, with its physical line.

    sources: per table index, {canonical column: source header} (the mapping), so a row flag
    shows the offending cell as read; without it the canonical value is shown."""
    sources = sources or {}
    pieces = []
    cells = [i for i in issues if not i.empty]
    cells = pd.concat(cells, ignore_index=True) if cells else None
    for t, raw in enumerate(tables):
        where = {"file": raw.file, "sheet": raw.sheet}
        pieces.append(_piece(raw.settled, **where))
        decided = outcomes[t][outcomes[t]["outcome"] != LOADED]
        pieces.append(_piece(decided, line=raw.lines[decided.index.to_numpy()], **where))
        if cells is not None:
            issue = cells[cells["_table"] == t]
            lines = raw.lines[issue["pos"].astype("int64").to_numpy()]
            pieces.append(_piece(issue, line=lines, outcome=FLAGGED, reason=issue["code"], **where))
    if "_table" in opps and len(opps):
        table = pd.to_numeric(opps["_table"]).to_numpy(dtype="float64")
        known = ~np.isnan(table)
        ids = opps["opportunity_id"].to_numpy(dtype=object)
        for code, mask in masks.items():
            hit = mask.to_numpy(dtype=bool) & known
            if not hit.any():  # most row flags hit no row: skip them without any pandas work
                continue
            for t in pd.unique(table[hit]):
                part = hit & (table == t)
                raw = tables[int(t)]
                positions = opps["_pos"].to_numpy()[part].astype("int64")
                column, values = _flag_cells(
                    code, raw, opps, part, positions, sources.get(int(t), {})
                )
                pieces.append(_piece({}, len(positions), file=raw.file, sheet=raw.sheet,
                                     line=raw.lines[positions], outcome=FLAGGED, reason=code,
                                     column=column, value=values, record=ids[part]))  # fmt: skip
    pieces = [p for p in pieces if p is not None]
    data = {c: np.concatenate([p[c] for p in pieces]) if pieces else np.empty(0, dtype=object)
            for c in REPORT_COLUMNS}  # fmt: skip
    line = pd.to_numeric(pd.Series(data["line"], dtype=object)).to_numpy(dtype="float64")
    # Sorted by outcome (rejected, excluded, flagged), file, line; stable, missing lines last.
    outcome = data["outcome"]
    rank = np.select([outcome == REJECTED, outcome == EXCLUDED], [0, 1], 2)
    _, file_rank = np.unique(data["file"].astype(str), return_inverse=True)
    order = np.lexsort((np.where(np.isnan(line), np.inf, line), file_rank, rank))
    report = {c: pd.array(data[c][order], dtype="string") for c in REPORT_COLUMNS if c != "line"}
    report["line"] = pd.array(line[order], dtype="Int64")
    return pd.DataFrame(report, columns=list(REPORT_COLUMNS))


def summarise_report(report: pd.DataFrame, examples: int = EXAMPLES_PER_LINE) -> pd.DataFrame:
    """One line per distinct (outcome, reason, column, value) of build_report's frame, in the
    report's order (first occurrence): SUMMARY_COLUMNS, where count is the number of entries and
    examples lists the first `examples` of them as "file:line" (", "-joined; "file" alone when
    the line is unknown)."""
    if report.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in SUMMARY_COLUMNS})
    keys = report.loc[:, list(SUMMARY_KEYS)].astype("object")
    keys = keys.where(keys.notna(), None)
    group = keys.groupby(list(SUMMARY_KEYS), dropna=False, sort=False).ngroup()
    line = report["line"].astype("string").fillna("")
    where = report["file"].astype("string").fillna("") + (":" + line).where(line.ne(""), "")
    rank = group.groupby(group).cumcount()
    shown = where[rank.lt(examples)].groupby(group[rank.lt(examples)], sort=True).agg(", ".join)
    first = keys.loc[~group.duplicated()].set_index(group[~group.duplicated()])
    summary = first.assign(count=group.value_counts().reindex(first.index).astype("int64"))
    summary["examples"] = shown.reindex(first.index)
    return summary.reset_index(drop=True).loc[:, list(SUMMARY_COLUMNS)]
