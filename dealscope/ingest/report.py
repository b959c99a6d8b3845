"""The per-row report of one ingest: every rejected or excluded row and every flagged cell or row,
with file, physical line (or sheet row), column, raw value, reason code and detail."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dealscope.ingest.rawtable import EXCLUDED, REJECTED
from dealscope.ingest.validate import LOADED

REPORT_COLUMNS = ("file", "sheet", "line", "outcome", "reason", "column", "value", "detail")
FLAGGED = "flagged"


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


def build_report(tables, outcomes, issues, opps, masks) -> pd.DataFrame:
    """Every rejected / excluded row and every flagged cell or row, with its physical line."""
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
                pieces.append(_piece({}, len(positions), file=raw.file, sheet=raw.sheet,
                                     line=raw.lines[positions], outcome=FLAGGED, reason=code,
                                     value=ids[part]))  # fmt: skip
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
