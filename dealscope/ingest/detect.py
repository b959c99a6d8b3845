"""Roles found by a column's values when its name is not enough: an outcome column by its words
(Won / Loss / 赢单 …), amounts by numeric shape and currency marks, dates by parse rate. Each check
reads distinct values of a bounded sample, so a wide file costs little."""

from __future__ import annotations

import re

import pandas as pd

from dealscope.ingest.parse_amounts import parse_amounts
from dealscope.ingest.parse_dates import parse_dates
from dealscope.ingest.rawtable import as_text
from dealscope.ingest.vocab import CURRENCY_MARK, outcome_of, truth_of
from dealscope.model import LOST, OPEN, WON

SAMPLE_ROWS = 5000
MIN_SHARE = 0.8  # of the non-empty sampled cells
MAX_OUTCOME_VALUES = 12  # an outcome column has few distinct words
MAX_STAGE_VALUES = 60


def _sample(values: pd.Series) -> pd.Series:
    text = as_text(values.iloc[:SAMPLE_ROWS]).str.strip()
    return text[text.notna() & (text != "")]


def outcome_shares(values: pd.Series) -> tuple[float, set[str], int]:
    """(share of non-empty cells whose words are an outcome, outcomes seen, distinct values)."""
    cells = _sample(values)
    if cells.empty:
        return 0.0, set(), 0
    counts = cells.value_counts()
    kinds = pd.Series([outcome_of(v) for v in counts.index], index=counts.index, dtype=object)
    known = kinds.notna()
    return float(counts[known].sum() / counts.sum()), set(kinds[known]), len(counts)


def looks_like_status(values: pd.Series) -> bool:
    """Every (≥ 80 % of) cell is a won / lost / open word, with at least one won or lost."""
    share, kinds, distinct = outcome_shares(values)
    return share >= MIN_SHARE and bool(kinds & {WON, LOST}) and distinct <= MAX_OUTCOME_VALUES


def looks_like_stage(values: pd.Series) -> bool:
    """Some cells are closed outcomes (won and/or lost) among few distinct stage names."""
    share, kinds, distinct = outcome_shares(values)
    return share >= 0.05 and bool(kinds & {WON, LOST}) and 2 <= distinct <= MAX_STAGE_VALUES


def looks_like_flag(values: pd.Series) -> bool:
    """A true/false column (IsWon, IsClosed)."""
    cells = _sample(values)
    if cells.empty:
        return False
    distinct = cells.unique()
    return len(distinct) <= 4 and all(truth_of(v) is not None for v in distinct)


def amount_share(values: pd.Series) -> tuple[float, float]:
    """(share of non-empty cells that parse as amounts, share carrying a currency mark)."""
    cells = _sample(values)
    if cells.empty:
        return 0.0, 0.0
    parsed = parse_amounts(cells)
    ok = float(parsed.values.notna().mean())
    marked = float(cells.str.contains(CURRENCY_MARK, regex=True).fillna(False).mean())
    return ok, marked


def date_share(values: pd.Series) -> float:
    """Share of non-empty cells that parse as dates (plain numbers never count: ids, amounts)."""
    cells = _sample(values)
    if cells.empty:
        return 0.0
    numeric = cells.str.fullmatch(r"[\d.,\s]+").fillna(False).astype(bool)
    if numeric.mean() > 0.5:
        return 0.0
    result = parse_dates(cells)  # an undecided day/month order is still a date
    dated = result.values.notna() | result.issues.isin(["ambiguous-date", "no-year-date"])
    return float(dated.mean())


def numeric_share(values: pd.Series) -> float:
    """Share of non-empty cells that are plain numbers."""
    cells = _sample(values)
    if cells.empty:
        return 0.0
    return float(cells.str.fullmatch(r"[-+]?[\d.,\s]+").fillna(False).mean())


def is_unique_text(values: pd.Series) -> bool:
    """Every row has a value and no value repeats (a name column that can serve as the id)."""
    text = as_text(values).str.strip()
    return bool(len(text) and text.notna().all() and (text != "").all() and text.is_unique)


_LEADING_NUMBER = re.compile(r"^\s*(\d{1,3})\s*[-.:)_ ]")


def leading_number(stage: str) -> int | None:
    """`1-Qualify`, `02. Proposal`: the stage's own position number, if it writes one."""
    match = _LEADING_NUMBER.match(str(stage))
    return int(match.group(1)) if match else None


__all__ = [
    "LOST", "OPEN", "WON", "amount_share", "date_share", "is_unique_text", "leading_number",
    "looks_like_flag", "looks_like_stage", "looks_like_status", "outcome_shares",
]  # fmt: skip
