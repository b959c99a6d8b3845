"""Number formatting shared by the UI (cards, tables, charts), the CLI's text output and the
reports, in both languages: one helper per kind of figure, so a figure reads the same everywhere.

Every helper returns MISSING ("—") for None / NaN, never "None" or "nan". Deltas that show no
change return None, so st.metric draws no "↑ +0" arrow.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from dealscope.i18n import t

MISSING = "—"
CURRENCY_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "HKD": "HK$"}
# The kinds of figure every table, card and chart formats: see format_value.
KINDS = ("amount", "count", "pct", "points", "days", "decimal", "bool", "date", "datetime", "text")
# zh-CN groups large amounts by 万 (10^4) and 亿 (10^8); en by thousand-multiples.
# From 1,000万 on, whole 万 (¥1,212万): a tenth of 万 is noise at that size and the card stays short.
_ZH_STEPS = ((1e12, "万亿", 2), (1e8, "亿", 2), (1e7, "万", 0), (1e4, "万", 1))
_EN_STEPS = ((1e12, "T", 2), (1e9, "B", 2), (1e6, "M", 2))


def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(value)
    except TypeError:  # pandas.NA and other non-numbers
        return str(value) in ("<NA>", "NaT")


def _lang(lang: str | None) -> str:
    return "zh-CN" if lang == "zh-CN" else "en"


def currency_symbol(currency: str | None) -> str:
    """The prefix amounts in `currency` carry: '¥' for CNY, 'CHF ' for codes without a symbol."""
    if not currency:
        return ""
    return CURRENCY_SYMBOLS.get(currency.upper(), f"{currency} ")


def format_amount(
    value: float | None, currency: str | None, lang: str, *, compact: bool = True
) -> str:
    """An amount with the currency's symbol and thousands separators; '—' when missing.

    compact (default): zh-CN in 万 / 亿 / 万亿 (¥34.9万, ¥1,212万, ¥3.00亿), en in M / B / T above a
    million ($1.23M, $2,361). compact=False: the whole amount (¥3,391,700).
    """
    if _missing(value):
        return MISSING
    value = float(value)
    if math.isinf(value):
        return ("-" if value < 0 else "") + "∞"
    symbol = currency_symbol(currency)
    sign, value = ("-" if value < 0 else ""), abs(value)
    if compact:
        steps = _ZH_STEPS if _lang(lang) == "zh-CN" else _EN_STEPS
        for threshold, suffix, digits in steps:
            unit = 1e4 if suffix == "万" else threshold
            # Compared after rounding, so 99,999,999 reads ¥1.00亿, not ¥10,000万.
            carries = value >= steps[-1][0] and round(value / unit, digits) * unit >= threshold
            if value >= threshold or carries:
                return f"{sign}{symbol}{value / unit:,.{digits}f}{suffix}"
    if round(value) == 0:
        sign = ""  # -0.4 shows as ¥0, not -¥0
    return f"{sign}{symbol}{value:,.0f}"


def format_count(value: int | float | None) -> str:
    """An integer with thousands separators, or '—'."""
    if _missing(value):
        return MISSING
    if math.isinf(float(value)):
        return ("-" if value < 0 else "") + "∞"
    return f"{int(round(value)):,}"


def format_pct(value: float | None, digits: int = 1) -> str:
    """A ratio (0–1) as a percentage, or '—' when undefined."""
    if _missing(value):
        return MISSING
    text = f"{float(value) * 100:,.{digits}f}%"
    return text[1:] if re.fullmatch(r"-0(\.0*)?%", text) else text


def format_days(value: float | None, lang: str, *, short: bool = False) -> str:
    """A duration in days to one decimal with its unit ('63.6 days' / '63.6 天'), or '—'.

    short=True uses 'd' in English (table cells, chart tooltips)."""
    if _missing(value):
        return MISSING
    unit = t("format.unit.days_short" if short else "format.unit.days", _lang(lang))
    text = f"{float(value):,.1f}"
    return f"{'0.0' if text == '-0.0' else text} {unit}"


def format_decimal(value: float | None, digits: int = 1) -> str:
    """A plain number (a ratio such as 'silence ÷ rhythm', a p-value) with separators, or '—'."""
    if _missing(value):
        return MISSING
    text = f"{float(value):,.{digits}f}"
    return text[1:] if re.fullmatch(r"-0(\.0*)?", text) else text


def format_p_value(value: float | None) -> str:
    """A test's p-value: three decimals, "< 0.001" below that (more digits claim a precision the
    test does not have), '—' when there was no test."""
    if _missing(value):
        return MISSING
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def points_unit(lang: str) -> str:
    """The word for percentage points: 'pp' in English, '个百分点' in Chinese."""
    return t("format.unit.points", _lang(lang))


def format_points(value: float | None, lang: str) -> str:
    """A difference of two ratios in percentage points, signed ('+2.6 pp' / '+2.6 个百分点')."""
    if _missing(value):
        return MISSING
    separator = " " if _lang(lang) == "en" else ""
    return f"{float(value) * 100:+.1f}{separator}{points_unit(lang)}"


def format_delta(value: float | None, kind: str, currency: str | None, lang: str) -> str | None:
    """A change against the previous period for st.metric's delta.

    None when there is nothing to compare (missing) and when the change is zero as shown (so
    st.metric draws no arrow: no "↑ +0" in green). kind: 'pct' (percentage points), 'amount',
    'days', anything else a count.
    """
    if _missing(value):
        return None
    value = float(value)
    if kind == "pct":
        text = format_points(value, lang)
        return None if re.match(r"[+-]0\.0(\D|$)", text) else text
    if kind == "amount":
        text = format_amount(abs(value), currency, lang)
        if text == format_amount(0, currency, lang):
            return None
        return ("+" if value >= 0 else "-") + text
    if kind == "days":
        if round(value, 1) == 0:
            return None
        return ("+" if value > 0 else "") + format_days(value, lang)
    if round(value) == 0:
        return None
    return f"{int(round(value)):+,}"


def format_bool(value, lang: str) -> str:
    """Yes / no in the language ('是' / '否'), '—' when unknown."""
    if _missing(value):
        return MISSING
    return t("format.yes" if bool(value) else "format.no", _lang(lang))


def format_timestamp(value, *, with_time: bool = True) -> str:
    """A date ('2026-11-20') or date and minute ('2026-11-20 17:14'); '—' when missing."""
    if _missing(value):
        return MISSING
    try:
        return value.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")
    except (AttributeError, ValueError):  # not a date (text already): as given
        return str(value)


def formatter(kind: str, currency: str | None, lang: str) -> Callable[[object], str]:
    """The one-argument formatter of `kind` (see KINDS; "decimal<N>" for N digits) for tables and
    report cells."""
    if kind == "amount":
        return lambda v: format_amount(v, currency, lang)
    if kind == "count":
        return format_count
    if kind == "pct":
        return format_pct
    if kind == "points":
        return lambda v: format_points(v, lang)
    if kind == "bool":
        return lambda v: format_bool(v, lang)
    if kind in ("date", "datetime"):
        return lambda v: format_timestamp(v, with_time=kind == "datetime")
    if kind == "days":
        return lambda v: format_days(v, lang, short=True)
    if kind.startswith("decimal"):  # "decimal" (one digit) or "decimal3" (three)
        digits = int(kind.removeprefix("decimal") or 1)
        return lambda v: format_decimal(v, digits)
    return lambda v: MISSING if _missing(v) else str(v)


def format_value(value, kind: str, currency: str | None, lang: str) -> str:
    """`value` formatted as `kind` (one of KINDS)."""
    return formatter(kind, currency, lang)(value)


# Markdown's inline markup characters (links, images, emphasis, code, tables, strike-through).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~#])")


def escape_markdown(text: object) -> str:
    """`text` safe in Markdown prose or a table cell: no markup, links, images, HTML or breaks.

    For user data shown by any element that renders Markdown (st.caption, st.info, st.warning,
    st.error …) and for the Markdown report.
    """
    text = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    # A newline would end a table row or start a new block: keep everything on one line.
    return re.sub(r"[\r\n]+", " ", text)
