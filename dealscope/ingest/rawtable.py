"""The reader's output: one table of text cells with the physical line of every row."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from dealscope.ingest.synonyms import known_header_count

# Cells are pyarrow-backed strings: vectorised str ops run in Arrow compute, not per Python object.
TEXT = pd.StringDtype("pyarrow")


def as_text(values: pd.Series) -> pd.Series:
    """`values` as pyarrow-backed text (no copy when already so)."""
    return values if values.dtype == TEXT else values.astype(TEXT)


def arrow_text(values: pd.Series):
    """The cells of a text column as an Arrow (chunked) array, without copying. Calling
    pyarrow.compute on it skips pandas' per-call overhead (~50 µs a call, most of a small file)."""
    return pa.array(as_text(values).array)


def blank_to_null(text: pd.Series) -> pd.Series:
    """Text with '' cells made null (no copy when there are none)."""
    cells = arrow_text(text)
    empty = pc.equal(cells, "")
    if not pc.any(empty).as_py():
        return text
    cleared = pc.if_else(empty, pa.scalar(None, cells.type), cells)
    return pd.Series(pd.arrays.ArrowStringArray(cleared), index=text.index, name=text.name)


def contains_text(values: pd.Series, needle: str) -> bool:
    """Whether any cell contains `needle` (plain substring)."""
    return bool(pc.any(pc.match_substring(arrow_text(values), needle)).as_py())


# C0 control characters but tab, line feed and carriage return, and DEL: invisible in a page,
# refused by XLSX writers, able to garble a terminal. NUL has its own pass (nul-stripped).
CONTROL_CHARACTERS = "[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]"


def control_character_mask(values: pd.Series) -> np.ndarray | None:
    """Cells holding a control character (CONTROL_CHARACTERS), or None when no cell does."""
    found = pc.match_substring_regex(arrow_text(values), CONTROL_CHARACTERS)
    if not pc.any(found).as_py():
        return None
    return to_mask(found)


def to_mask(values, null: bool = False) -> np.ndarray:
    """An Arrow boolean (chunked) array as a numpy bool mask, nulls as `null`."""
    return np.asarray(pc.fill_null(values, null), dtype=bool)


# Columns of the per-file list of rows settled by the reader (blank, title, malformed …).
SETTLED_COLUMNS = ("line", "outcome", "reason", "column", "value")
REJECTED, EXCLUDED = "rejected", "excluded"


@dataclass
class RawTable:
    """Text cells of one file/sheet/table, one row per data record, and what the reader settled.

    `data` has one column per (unique, normalised) header with str values ('' for an empty cell);
    `lines[i]` is the physical line (CSV) or sheet row (XLSX) of data row i; `settled` lists rows the
    reader already classified (SETTLED_COLUMNS); `cell_flags` lists per-cell notes found while
    reading (row position, column, code, value), e.g. formula-not-evaluated or hidden-row.
    """

    file: str
    kind: str
    data: pd.DataFrame
    lines: np.ndarray
    settled: pd.DataFrame
    rows_in: int
    headers: list[str]
    sheet: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    notes: list[str] = field(default_factory=list)
    cell_flags: pd.DataFrame | None = None
    date_epoch: str = "1900"
    sheets: list[str] = field(default_factory=list)
    # False when the reader saw that no cell holds a NUL character (saves a scan per column).
    may_hold_nul: bool = True


def settled_frame(rows: list[tuple]) -> pd.DataFrame:
    """A settled-rows frame from (line, outcome, reason, column, value) tuples."""
    cells = list(zip(*rows, strict=True)) if rows else [()] * len(SETTLED_COLUMNS)
    # Built typed column by column: a frame-wide astype cost ~2 ms, most of reading a small file.
    return pd.DataFrame(
        {
            name: np.array(values, dtype="int64")
            if name == "line"
            else pd.array(np.array(values, dtype=object), dtype="string")
            for name, values in zip(SETTLED_COLUMNS, cells, strict=True)
        }
    )


def normalise_headers(raw: list[object]) -> tuple[list[str], list[str]]:
    """Unique, tidy header names (NFKC, trimmed, whitespace collapsed; blank -> unnamed_n;
    repeats -> name_2, name_3) and the notes describing every change (X7)."""
    names: list[str] = []
    notes: list[str] = []
    seen: dict[str, int] = {}
    for position, value in enumerate(raw, start=1):
        text = "" if value is None else str(value)
        tidy = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().lstrip("\ufeff")
        if not tidy:
            tidy = f"unnamed_{position}"
            notes.append(f"blank header in column {position} named {tidy}")
        elif tidy != text:
            notes.append(f"header {text!r} tidied to {tidy!r}")
        count = seen.get(tidy, 0) + 1
        seen[tidy] = count
        if count > 1:
            renamed = f"{tidy}_{count}"
            while renamed in seen:
                count += 1
                renamed = f"{tidy}_{count}"
            seen[renamed] = 1
            notes.append(f"duplicate header {tidy!r} in column {position} renamed {renamed!r}")
            tidy = renamed
        names.append(tidy)
    return names, notes


def find_header_row(rows: list[list[str]]) -> int:
    """Index of the header among the first rows: the row with most known column names (at least
    two); otherwise the first row with the most filled cells (title rows above are shorter)."""
    scores = [known_header_count([str(c) for c in row if c is not None]) for row in rows]
    if scores and max(scores) >= 2:
        return scores.index(max(scores))
    filled = [sum(1 for c in row if c is not None and str(c).strip()) for row in rows]
    if not filled or max(filled) == 0:
        return 0
    return filled.index(max(filled))
