"""Named ingestion limits. Each one has a message that says what to do when it is exceeded."""

from __future__ import annotations

MB = 1024 * 1024

# The largest upload accepted (bytes). Streamlit's own server.maxUploadSize is set to match.
MAX_UPLOAD_BYTES = 200 * MB
# XLSX is a ZIP: bound what it expands to before any XML is parsed (OWASP; zip bombs).
MAX_XLSX_UNCOMPRESSED_BYTES = 200 * MB
MAX_XLSX_COMPRESSION_RATIO = 100
MAX_XLSX_ENTRIES = 10_000
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


def limit_message(what: str, actual: float, limit: float, unit: str, fix: str) -> str:
    """One sentence: which limit, the actual value, the limit, and what to do."""
    return f"{what} is {actual:,.0f} {unit}, above the limit of {limit:,.0f} {unit}. {fix}"
