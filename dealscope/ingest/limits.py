"""Named ingestion limits. Each one has a message that says what to do when it is exceeded."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from dealscope.errors import Text, text
from dealscope.ingest.errors import LimitExceeded

TEXT = pd.StringDtype("pyarrow")

MB = 1024 * 1024

# The largest upload accepted (bytes). Streamlit's own server.maxUploadSize is set to match.
MAX_UPLOAD_BYTES = 200 * MB
# XLSX is a ZIP: bound what it expands to before any XML is parsed (OWASP; zip bombs).
MAX_XLSX_UNCOMPRESSED_BYTES = 200 * MB
MAX_XLSX_COMPRESSION_RATIO = 100
MAX_XLSX_ENTRIES = 10_000
# An XLSX sheet's used range (rows × columns up to the last value) is laid out as a grid only when
# it is at most MAX_XLSX_GRID_CELLS, and, above XLSX_SPARSE_FLOOR_CELLS, at most
# XLSX_MAX_CELLS_PER_VALUE cells per cell holding a value. Checked row by row as the sheet streams,
# so a 5 KB file with one cell at A1048576 or XFD1048576 is refused before anything is allocated.
MAX_XLSX_GRID_CELLS = 60_000_000
XLSX_SPARSE_FLOOR_CELLS = 500_000
XLSX_MAX_CELLS_PER_VALUE = 20
# Header names longer than this are refused: a name is repeated in every row's `extra` JSON, so a
# 1 MB header made a 1.1 MB CSV ask for a 6.9 GiB allocation. Real column names are far shorter.
MAX_HEADER_CHARS = 256
# Longest cell accepted (characters). 1 MB notes are data (RELIABILITY X13); beyond this the file
# is refused instead of multiplying memory in every text pass.
MAX_CELL_CHARS = 2_000_000
# Header characters × data rows (what the kept-verbatim `extra` JSON repeats) may not exceed
# HEADER_EXPANSION_PER_BYTE × the file's bytes, above a floor of HEADER_EXPANSION_FLOOR_CHARS.
HEADER_EXPANSION_PER_BYTE = 16
HEADER_EXPANSION_FLOOR_CHARS = 40_000_000
# Data rows per file; beyond this the file is refused rather than half-loaded. Sized for the stage
# history of 1M deals (~5 entries each); uploads are bounded by MAX_UPLOAD_BYTES first.
MAX_ROWS = 6_000_000
# Columns per file (very wide exports are accepted up to this).
MAX_COLUMNS = 2_000
# Memory budget of one ingest (RELIABILITY E10): peak RSS growth over the interpreter after its
# imports stays within INGEST_MEMORY_FIXED_BYTES + INGEST_MEMORY_PER_FILE_BYTE × the file's size.
# Measured on CSV exports (pandas 2.3, pyarrow 26): ≈ 30 MB + 22× the file for ASCII-heavy ones,
# ≈ 30 MB + 21× for Chinese ones — one Python string object per canonical text cell dominates. So a
# file at MAX_UPLOAD_BYTES may need ~6 GB: size the server for it, or lower MAX_UPLOAD_BYTES.
INGEST_MEMORY_PER_FILE_BYTE = 30
INGEST_MEMORY_FIXED_BYTES = 48 * MB
# Refusals before parsing (zip bombs, billion laughs, the row cap) stay within these (E10, E11).
REFUSAL_MAX_SECONDS = 2
REFUSAL_MAX_MEMORY_BYTES = 200 * MB
# Rows scanned at the top of a file to find the header below title rows.
HEADER_SCAN_ROWS = 30
# Lines used to infer the CSV delimiter.
DELIMITER_SCAN_LINES = 50
# Longest cell text shown in a preview (stored values are never truncated).
DISPLAY_CELL_CHARS = 200


def limit_error(
    label: str | Text | None,
    what: str | Text,
    actual: float,
    limit: float,
    unit: str,
    fix: str,
    column: str | None = None,
    column_number: int | None = None,
) -> LimitExceeded:
    """One sentence: where (`label`, e.g. the file, and the column's name or number when one is to blame), which limit
    (`what`: an errors.limit.what.* name, or a Text), the actual value, the limit, and what to do
    (`fix`: an errors.limit.fix.* name); `unit` is an errors.limit.unit.* name."""
    params: dict[str, object] = {
        "what": what if isinstance(what, Text) else text(f"errors.limit.what.{what}"),
        "actual": actual,
        "limit": limit,
        "unit": text(f"errors.limit.unit.{unit}"),
        "fix": text(f"errors.limit.fix.{fix}"),
    }
    if label is None:
        return LimitExceeded(key="errors.limit.exceeded", **params)
    if column is not None:
        return LimitExceeded(
            key="errors.limit.exceeded_in_column", label=label, column=column, **params
        )
    if column_number is not None:
        return LimitExceeded(
            key="errors.limit.exceeded_in_column_number",
            label=label,
            column=column_number,
            **params,
        )
    return LimitExceeded(key="errors.limit.exceeded_in", label=label, **params)


def sheet_label(filename: str, sheet: str) -> Text:
    """Where in a workbook: the file and the sheet ("deals.xlsx [Sheet1]")."""
    return text("errors.label.sheet", file=filename, sheet=sheet)


def check_header_lengths(label: str | Text, headers: list[object]) -> None:
    """Refuse a header name above MAX_HEADER_CHARS (checked before the rows are parsed)."""
    lengths = [len(str(name)) for name in headers if name is not None]
    longest = max(lengths, default=0)
    if longest > MAX_HEADER_CHARS:
        column = lengths.index(longest) + 1
        raise limit_error(
            label, "header_name", longest, MAX_HEADER_CHARS, "characters", "shorten_header",
            column_number=column,
        )  # fmt: skip


def check_cell_lengths(label: str | Text, data: pd.DataFrame, file_bytes: int) -> None:
    """Refuse cells above MAX_CELL_CHARS and headers that the rows would repeat beyond the
    expansion budget (one vectorised length pass per column; nothing is copied)."""
    for column in data.columns:
        cells = data[column]
        longest = int(pc.max(pc.utf8_length(pa.array(cells.astype(TEXT).array))).as_py() or 0)
        if longest > MAX_CELL_CHARS:
            raise limit_error(
                label, "longest_cell", longest, MAX_CELL_CHARS, "characters", "shorten_cell",
                column=str(column)[:80],
            )  # fmt: skip
    expansion = sum(len(str(name)) for name in data.columns) * len(data)
    allowed = max(HEADER_EXPANSION_FLOOR_CHARS, HEADER_EXPANSION_PER_BYTE * file_bytes)
    if expansion > allowed:
        raise limit_error(
            label, "header_expansion", expansion, allowed, "characters", "shorten_headers"
        )
