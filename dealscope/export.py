"""Spreadsheet-safe exports: CSV and XLSX whose text cells cannot run as formulas (OWASP S1) and
hold no control characters (XLSX cannot store them: openpyxl raised IllegalCharacterError)."""

from __future__ import annotations

import csv
import io

import pandas as pd

# A text cell starting with one of these is a formula (or can start one) in Excel/LibreOffice.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
# C0 control characters other than tab, newline and carriage return: XML 1.0 (so XLSX) forbids them
# and terminals act on them. Each becomes its visible Unicode control picture (NUL -> U+2400 '␀').
CONTROL_CHARACTERS = "[\x00-\x08\x0b\x0c\x0e-\x1f]"
_CONTROL_PICTURES = {code: 0x2400 + code for code in (*range(0, 9), 11, 12, *range(14, 32))}


def _text_columns(frame: pd.DataFrame) -> list:
    return [
        column
        for column in frame.columns
        if not (
            pd.api.types.is_numeric_dtype(frame[column])
            or pd.api.types.is_datetime64_any_dtype(frame[column])
        )
    ]


def escape_control_characters(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Copy of `frame` whose text cells show control characters as control pictures, and how many
    cells changed (for a single notice). Only text cells that hold one are rewritten."""
    out, changed = frame.copy(), 0
    for column in _text_columns(out):
        text = out[column].astype("string")
        holds = text.str.contains(CONTROL_CHARACTERS, regex=True).fillna(False).astype(bool)
        if holds.any():
            changed += int(holds.sum())
            escaped = text[holds].astype(object).str.translate(_CONTROL_PICTURES)
            out[column] = out[column].astype(object).where(~holds, escaped)
    # Column names are user text too (a header can hold them).
    names = [
        name.translate(_CONTROL_PICTURES) if isinstance(name, str) else name for name in out.columns
    ]
    changed += sum(a != b for a, b in zip(names, out.columns, strict=True))
    out.columns = names
    return out, changed


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of `frame` where every text cell that could start a formula is prefixed with a quote.

    Only text columns are touched: numbers (negative amounts included) stay numbers.
    """
    out = frame.copy()
    for column in _text_columns(out):
        series = out[column]
        text = series.astype("string")
        risky = text.str.startswith(FORMULA_PREFIXES).fillna(False).astype(bool)
        if risky.any():
            out[column] = series.astype(object).where(~risky, "'" + text.astype(object))
    return out


def to_safe_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 (with BOM, so Excel shows Chinese correctly) CSV bytes with formulas neutralised."""
    # Quote every text field: pandas' minimal quoting leaves a bare CR unquoted, which splits the
    # row in two for every CSV reader (RFC 4180 allows quoting any field).
    clean, _ = escape_control_characters(frame)
    text = neutralise_formulas(clean).to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC)
    return text.encode("utf-8-sig")


def to_safe_xlsx(frame: pd.DataFrame, sheet_name: str = "data") -> bytes:
    """XLSX bytes with formulas neutralised (every text cell is stored as a string, never 'f') and
    control characters shown as control pictures (XLSX cannot hold them)."""
    clean, _ = escape_control_characters(frame)
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        neutralise_formulas(clean).to_excel(writer, index=False, sheet_name=sheet_name)
    return buffer.getvalue()
