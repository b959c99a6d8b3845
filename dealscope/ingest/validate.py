"""Row classification: every data row is loaded, rejected (with reason) or excluded (non-data)."""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from dealscope.ingest.markers import is_total_label
from dealscope.ingest.rawtable import EXCLUDED, REJECTED, RawTable, arrow_text, as_text, to_mask

LOADED = "loaded"
DUPLICATE_POLICIES = ("keep-first", "keep-last", "reject-all")
DEFAULT_DUPLICATE_POLICY = "keep-first"
OUTCOME_COLUMNS = ("outcome", "reason", "column", "value", "detail")
SCIENTIFIC_ID = r"^[+-]?\d(?:\.\d+)?[eE][+]?\d+$"
# Invisible format characters that copy-paste leaves in ids: BOM, zero-width space/joiners, soft
# hyphen, word joiner, bidi marks. Removed before ids are compared or stored.
INVISIBLE = "[\u00ad\u200b-\u200f\u2060-\u2064\ufeff\u202a-\u202e]"


def blank_rows(data: pd.DataFrame) -> pd.Series:
    """True where every cell is empty or whitespace (X4)."""
    blank = np.ones(len(data), dtype=bool)
    for column in data.columns:  # only rows blank so far: usually none after the first column
        rows = np.flatnonzero(blank)
        if not len(rows):
            break
        cells = data[column] if len(rows) == len(data) else data[column].iloc[rows]
        blank[rows] = _empty(cells)
    return pd.Series(blank, index=data.index)


def _empty(values: pd.Series) -> np.ndarray:
    """True where a cell is null, empty or whitespace only."""
    return to_mask(pc.equal(pc.utf8_trim_whitespace(arrow_text(values)), ""), null=True)


def id_key(ids: pd.Series) -> pd.Series:
    """The duplicate-detection form of an id: NFKC, case-folded, all whitespace removed (I1)."""
    text = as_text(ids)
    cells = pc.replace_substring_regex(arrow_text(text), INVISIBLE, "")
    if not to_mask(pc.match_substring_regex(cells, r"[^\x00-\x7f]")).any():  # ASCII: in Arrow
        keys = pc.replace_substring_regex(pc.utf8_lower(cells), r"\s+", "")
        return pd.Series(pd.arrays.ArrowStringArray(keys), index=text.index, name=text.name)
    text = pd.Series(pd.arrays.ArrowStringArray(cells), index=text.index, name=text.name)
    distinct = text.dropna().unique()
    mapping = {v: "".join(unicodedata.normalize("NFKC", v).casefold().split()) for v in distinct}
    return text.map(mapping)


def classify_rows(
    raw: RawTable,
    id_column: str | None,
    required: list[tuple[str, str]],
    *,
    label_columns: list[str],
    duplicate_policy: str = DEFAULT_DUPLICATE_POLICY,
    check_duplicates: bool = True,
) -> pd.DataFrame:
    """One row per data row of `raw` (same index): outcome, reason, column, value, detail.

    Order of checks: blank-row, total-row (label in the id/name/first column), missing-id,
    id-precision-lost (1.23E+17), missing-<role> for `required` (column, role) pairs, duplicate-id.
    """
    data = raw.data
    # Plain arrays while deciding, one DataFrame at the end (.loc writes cost ~1 ms each).
    columns = {c: np.full(len(data), np.nan, dtype=object) for c in OUTCOME_COLUMNS}
    columns["outcome"][:] = LOADED
    undecided = np.ones(len(data), dtype=bool)

    def settle(mask, outcome: str, reason: str, column: str | None, values=None):
        mask = np.asarray(mask, dtype=bool) & undecided
        if not mask.any():
            return
        columns["outcome"][mask], columns["reason"][mask] = outcome, reason
        columns["column"][mask] = column
        if values is not None:
            columns["value"][mask] = values.iloc[np.flatnonzero(mask)].to_numpy(dtype=object)
        undecided[mask] = False

    settle(blank_rows(data), EXCLUDED, "blank-row", None)
    label_columns = [c for c in dict.fromkeys(label_columns + list(data.columns[:1])) if c]
    for column in label_columns:
        settle(is_total_label(data[column]), EXCLUDED, "total-row", column, data[column])
    if id_column is not None:
        ids = pc.utf8_trim_whitespace(arrow_text(data[id_column]))
        settle(to_mask(pc.equal(ids, ""), null=True), REJECTED, "missing-id", id_column,
               data[id_column])  # fmt: skip
        sci = to_mask(pc.match_substring_regex(ids, SCIENTIFIC_ID))
        settle(sci, REJECTED, "id-precision-lost", id_column, data[id_column])
    for column, role in required:
        settle(_empty(data[column]), REJECTED, f"missing-{role}", column, data[column])
    out = pd.DataFrame(columns, index=data.index, copy=False)  # no consolidation copy
    if id_column is not None and check_duplicates:
        _duplicates(out, pd.Series(undecided, index=data.index), raw, id_column, duplicate_policy)
    return out


def _duplicates(out, undecided, raw: RawTable, id_column: str, policy: str) -> None:
    if policy not in DUPLICATE_POLICIES:
        raise ValueError(f"duplicate policy must be one of {DUPLICATE_POLICIES}")
    cells = pc.utf8_trim_whitespace(arrow_text(raw.data[id_column]))
    cells = pc.if_else(pa.array(undecided.to_numpy()), cells, pa.scalar(None, cells.type))
    keys = id_key(pd.Series(pd.arrays.ArrowStringArray(cells), index=raw.data.index))
    candidate = keys.notna() & undecided
    dup_any = keys.duplicated(keep=False) & candidate
    if not dup_any.any():
        return
    lines = pd.Series(raw.lines, index=raw.data.index)
    keep = {"keep-first": "first", "keep-last": "last"}.get(policy)
    kept = ~keys.duplicated(keep=keep) if keep else pd.Series(False, index=keys.index)
    dup_keys = keys[dup_any]
    all_lines = lines[dup_any].astype(str).groupby(dup_keys).agg(", ".join)
    kept_line = lines[dup_any & kept].groupby(dup_keys[dup_any & kept]).first()
    rejected = dup_any & ~kept
    detail_all = dup_keys[rejected].map(all_lines)
    if keep:
        detail = (
            "kept line " + dup_keys[rejected].map(kept_line).astype(str) + "; lines " + detail_all
        )
    else:
        detail = "lines " + detail_all
    out.loc[rejected, ["outcome", "reason", "column"]] = [REJECTED, "duplicate-id", id_column]
    out.loc[rejected, "value"] = raw.data.loc[rejected, id_column].astype(object)
    out.loc[rejected, "detail"] = (detail + f" (policy {policy})").astype(object)
    undecided[rejected] = False


def counts_of(outcomes: pd.DataFrame, settled: pd.DataFrame) -> dict[str, int]:
    """loaded / rejected / excluded counts over classified rows plus reader-settled rows."""
    values = np.concatenate(
        [outcomes["outcome"].to_numpy(), settled["outcome"].to_numpy(dtype=object)]
    )
    return {
        "rows_loaded": int((values == LOADED).sum()),
        "rows_rejected": int((values == REJECTED).sum()),
        "rows_excluded": int((values == EXCLUDED).sum()),
    }
