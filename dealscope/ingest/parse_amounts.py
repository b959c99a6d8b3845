"""Amount parsing per cell (A1–A7): currency marks, 万/亿/k/M units, parentheses negatives,
per-column decimal separator, full-width digits and Chinese numerals; failures are flagged."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dealscope.ingest.nulls import null_mask
from dealscope.ingest.rawtable import TEXT, as_text

CURRENCY_MARKS = {
    "¥": "CNY", "元": "CNY", "人民币": "CNY", "rmb": "CNY", "cny": "CNY", "$": "USD",
    "usd": "USD", "美元": "USD", "€": "EUR", "eur": "EUR", "£": "GBP", "gbp": "GBP",
    "hkd": "HKD", "港币": "HKD", "jpy": "JPY", "日元": "JPY",
}  # fmt: skip
UNITS = {"万": 1e4, "亿": 1e8, "千": 1e3, "百万": 1e6, "k": 1e3, "K": 1e3, "M": 1e6, "MM": 1e6}
_CURRENCY = r"(?P<cur>人民币|美元|港币|日元|元|RMB|CNY|USD|EUR|GBP|HKD|JPY|[¥$€£])"
_UNIT = r"(?P<unit>百万|万|亿|千|MM|[kKM])?"
MAX_AMOUNT = 1e15
_CJK_NUMERAL = r"^[零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟点负]+$"


@dataclass(frozen=True)
class AmountResult:
    """Parsed amounts (float64), the currency seen in each cell, and per-cell issue codes."""

    values: pd.Series
    currency: pd.Series
    issues: pd.Series
    decimal: str


def _nfkc(text: pd.Series) -> pd.Series:
    if not text.str.contains(r"[^\x00-\x7f]", regex=True).any():
        return text
    mapping = {v: unicodedata.normalize("NFKC", v) for v in text.unique()}
    return as_text(text.map(mapping))


def parse_amounts(values: pd.Series, *, decimal: str | None = None) -> AmountResult:
    """Parse one amount column of text cells; `decimal` forces '.' or ',' (else inferred).

    Each distinct text is parsed once (amounts repeat), then spread back to the cells.
    """
    codes, uniques = pd.factorize(as_text(values).fillna(""))
    core = _parse_distinct(pd.Series(uniques, dtype=TEXT), decimal)
    index = values.index
    return AmountResult(
        pd.Series(core.values.to_numpy()[codes], index=index, dtype="float64"),
        pd.Series(core.currency.to_numpy(dtype=object)[codes], index=index, dtype="string"),
        pd.Series(core.issues.to_numpy(dtype=object)[codes], index=index, dtype="object"),
        core.decimal,
    )


def _parse_distinct(values: pd.Series, decimal: str | None) -> AmountResult:
    if values.empty:
        none = pd.Series(None, index=values.index, dtype="object")
        return AmountResult(
            pd.Series(dtype="float64", index=values.index), none.astype("string"), none, "."
        )
    text = _nfkc(as_text(values).fillna("").str.strip())
    text = text.str.replace("[\\s\u00a0\u2009\u202f'’]", "", regex=True)
    empty = null_mask(text)
    currency = pd.Series(pd.NA, index=text.index, dtype="string")
    marked = (
        text.str.contains(_CURRENCY.replace("(?P<cur>", "(?:"), regex=True)
        .fillna(False)
        .astype(bool)
    )
    if marked.any():  # extract (slow per value) only where a currency mark is present
        found = text[marked].astype(object).str.extract(_CURRENCY)["cur"].str.lower()
        currency[marked] = found.map(CURRENCY_MARKS)
    core = text.str.replace(_CURRENCY, "", regex=True)
    negative = pd.Series(False, index=core.index)
    if core.str.contains(r"[(\-]", regex=True).any():  # the three patterns need ( or -
        negative = (
            core.str.fullmatch(r"\(.*\)")
            | core.str.fullmatch(r"-.*")
            | core.str.fullmatch(r".*\d-")
        )
    core = core.str.replace(r"^\((.*)\)$", r"\1", regex=True).str.strip("-+")
    unit = pd.Series(None, index=text.index, dtype="object")
    has_unit = core.str.contains(r"[万亿千kKM]$", regex=True).fillna(False).astype(bool)
    if has_unit.any():
        unit[has_unit] = (
            core[has_unit].astype(object).str.extract(rf"^[\d.,]+(?:[eE][+-]?\d+)?{_UNIT}$")["unit"]
        )
    core = core.str.replace(rf"(\d){_UNIT}$", r"\1", regex=True)
    # Shapes that say their own decimal separator: 1.234,56 / 12,50 / 1.234.567 (comma convention)
    # and 1,234.56 / 12.50 / 1,234,567 (point convention). 1,234 and 1.234 say nothing.
    comma_decimal = (
        core.str.contains(
            r"^\d+(?:\.\d{3})*,(?:\d{1,2}|\d{4,})$|^\d{1,3}(?:\.\d{3}){2,}$", regex=True
        )
        .fillna(False)
        .astype(bool)
    )
    point_decimal = (
        core.str.contains(
            r"^\d+(?:,\d{3})*\.(?:\d{1,2}|\d{4,})$|^\d{1,3}(?:,\d{3}){2,}$", regex=True
        )
        .fillna(False)
        .astype(bool)
    )
    inferred = decimal is None
    if decimal is None:  # the column's convention: the one most of its telling cells use (A2)
        decimal = "," if comma_decimal.sum() > point_decimal.sum() else "."
    # Mixed evidence, or a decimal comma inferred: "1,234" / "1.234" could mean either (A2).
    mixed = bool(comma_decimal.any() and point_decimal.any()) or (inferred and decimal == ",")
    # A cell whose shape says the other convention is read by its own shape (never 1.234,56 ->
    # 1.23456) and flagged mixed-decimal.
    by_comma = comma_decimal if decimal == "." else ~point_decimal
    other_shape = by_comma if decimal == "." else point_decimal
    comma_read = core.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    point_read = core.str.replace(",", "", regex=False)
    numeric = comma_read.where(by_comma, point_read)
    number = pd.to_numeric(
        numeric.where(numeric.str.fullmatch(r"\d*\.?\d+(?:[eE][+-]?\d+)?"), None), errors="coerce"
    )
    number = number.astype("float64")
    failed = number.isna() & ~empty
    if failed.any():  # Chinese numerals (一万二千): cn2an over the distinct leftovers only
        leftovers = text[failed]
        numerals = leftovers[leftovers.str.fullmatch(_CJK_NUMERAL).fillna(False).astype(bool)]
        if not numerals.empty:
            import cn2an

            converted = {}
            for value in numerals.unique():
                try:
                    converted[value] = float(cn2an.cn2an(value, "smart"))
                except (ValueError, KeyError, TypeError):
                    converted[value] = np.nan
            number[numerals.index] = numerals.map(converted).astype("float64")
            negative[numerals.index] = False
            unit[numerals.index] = None
    multiplier = unit.map(UNITS).astype("float64").fillna(1.0) if has_unit.any() else 1.0
    number = number * multiplier * np.where(negative.fillna(False).astype(bool), -1.0, 1.0)
    issues = pd.Series(None, index=text.index, dtype="object")
    # 1e308万 is ∞ and 10^15 of any currency is no deal: never stored (JSON has no Infinity).
    overflow = number.notna() & ~(number.abs() < MAX_AMOUNT)
    number[overflow] = np.nan
    issues[overflow] = "amount-out-of-range"
    issues[number.isna() & ~empty & ~overflow] = "bad-amount"
    issues[other_shape & issues.isna() & number.notna()] = "mixed-decimal"
    if mixed:
        ambiguous = core.str.fullmatch(r"\d{1,3}[.,]\d{3}").fillna(False).astype(bool)
        issues[ambiguous & issues.isna()] = "ambiguous-number"
    number[empty] = np.nan
    return AmountResult(number, currency.where(~empty), issues, decimal)
