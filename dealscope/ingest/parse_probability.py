"""Probability parsing (A8): `80%`, `0.8` and `80` become 0–1; the scale is decided per column.

A cell with `%`, or a bare number above 1, is percent evidence; a bare number with a fraction part
below 1 (`0.8`) is fraction evidence. A column with only percent evidence is in percent (`80` and
`80%` = 0.8, `1` = 0.01); a column without percent evidence holds fractions (`0.8`, `1` = 100 %).
When a column has both, the bare numbers in (0, 1] are undecidable (0.8 % or 80 %?): null + flag
`ambiguous-probability`, never a guess. Values outside 0–100 % are loaded as read and flagged
`probability-out-of-range`, never rejected. The verbatim text stays in `extra` (build.py).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dealscope.ingest.nulls import null_mask
from dealscope.ingest.rawtable import TEXT, as_text

PERCENT, FRACTION, MIXED = "percent", "fraction", "mixed"
# A signed decimal number (point or comma as the decimal mark) with an optional trailing %.
_PROBABILITY = r"^(?P<num>[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+))(?P<pct>%)?$"
NOTES = {
    PERCENT: "probability in percent (80 or 80% = 0.8)",
    FRACTION: "probability as fractions (0.8 = 80%)",
    MIXED: "probability mixes percent and fraction values: bare values in (0, 1] are flagged",
}


@dataclass(frozen=True)
class ProbabilityResult:
    """Probabilities (float64, 0–1 when in range), per-cell issue codes, the column's scale."""

    values: pd.Series
    issues: pd.Series
    scale: str | None  # PERCENT, FRACTION, MIXED, or None when the column holds no number

    @property
    def note(self) -> str | None:
        return NOTES.get(self.scale) if self.scale else None


def parse_probabilities(values: pd.Series) -> ProbabilityResult:
    """Parse one probability column of text cells (index kept). Issues: bad-probability,
    ambiguous-probability, probability-out-of-range; null tokens give null without an issue.

    Each distinct text is parsed once, then spread back to the cells.
    """
    codes, uniques = pd.factorize(as_text(values).fillna(""))
    text = pd.Series(uniques, dtype=TEXT)
    if text.str.contains(r"[^\x00-\x7f]", regex=True).any():  # full-width ８０％ (A5)
        text = as_text(text.map({v: unicodedata.normalize("NFKC", v) for v in uniques}))
    text = text.str.replace(r"\s+", "", regex=True)
    empty = null_mask(text).to_numpy()
    parts = text.astype(object).str.extract(_PROBABILITY)
    number = pd.to_numeric(parts["num"].str.replace(",", ".", regex=False), errors="coerce")
    number = number.to_numpy(dtype="float64")
    number[~np.isfinite(number)] = np.nan  # 1e999 % is no probability (and JSON has no ∞)
    percent_sign = parts["pct"].notna().to_numpy()
    parsed = ~np.isnan(number)
    bare = parsed & ~percent_sign
    percent_evidence = bool(percent_sign.any() or (bare & (number > 1)).any())
    fraction_evidence = bool((bare & (number > 0) & (number < 1)).any())
    scale = None
    if percent_evidence:
        scale = MIXED if fraction_evidence else PERCENT
    elif parsed.any():
        scale = FRACTION
    percent = percent_sign | (bare & percent_evidence)
    probability = np.where(percent, number / 100, number)
    ambiguous = bare & (scale == MIXED) & (number > 0) & (number <= 1)
    probability[ambiguous] = np.nan
    issues = np.full(len(text), None, dtype=object)
    issues[~parsed & ~empty] = "bad-probability"
    issues[ambiguous] = "ambiguous-probability"
    issues[parsed & ((probability < 0) | (probability > 1))] = "probability-out-of-range"
    probability[empty] = np.nan
    index = values.index
    return ProbabilityResult(
        pd.Series(probability[codes], index=index, dtype="float64"),
        pd.Series(issues[codes], index=index, dtype="object"),
        scale,
    )
