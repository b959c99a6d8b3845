"""Explicit null tokens, per column kind (A7): names and free text keep "NA" / "None" literally."""

from __future__ import annotations

import pandas as pd

from dealscope.ingest.rawtable import as_text

# Tokens meaning "no value" in date and amount columns only.
NULL_TOKENS = frozenset(
    {"", "-", "--", "—", "——", "/", "n/a", "na", "none", "null", "nan", "nil", "暂无", "无", "空"}
)


def null_mask(values: pd.Series) -> pd.Series:
    """True where a date/amount cell holds an explicit null token (case-insensitive, trimmed)."""
    text = as_text(values).fillna("").str.strip().str.lower()
    return text.isin(NULL_TOKENS).astype(bool)
