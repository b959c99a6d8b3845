"""Spreadsheet-safe exports: CSV and XLSX whose text cells cannot run as formulas (OWASP S1)."""

from __future__ import annotations

import csv
import io

import pandas as pd

# A text cell starting with one of these is a formula (or can start one) in Excel/LibreOffice.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of `frame` where every text cell that could start a formula is prefixed with a quote.

    Only text columns are touched: numbers (negative amounts included) stay numbers.
    """
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series):
            continue
        text = series.astype("string")
        risky = text.str.startswith(FORMULA_PREFIXES).fillna(False).astype(bool)
        if risky.any():
            out[column] = series.astype(object).where(~risky, "'" + text.astype(object))
    return out


def to_safe_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 (with BOM, so Excel shows Chinese correctly) CSV bytes with formulas neutralised."""
    # Quote every text field: pandas' minimal quoting leaves a bare CR unquoted, which splits the
    # row in two for every CSV reader (RFC 4180 allows quoting any field).
    text = neutralise_formulas(frame).to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC)
    return text.encode("utf-8-sig")


def to_safe_xlsx(frame: pd.DataFrame, sheet_name: str = "data") -> bytes:
    """XLSX bytes with formulas neutralised: every text cell is stored as a string, never 'f'."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        neutralise_formulas(frame).to_excel(writer, index=False, sheet_name=sheet_name)
    return buffer.getvalue()
