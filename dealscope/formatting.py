"""Number formatting shared by the UI, the CLI's text output and reports (both languages)."""

from __future__ import annotations

import math
import re

CURRENCY_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "HKD": "HK$"}


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_amount(value: float | None, currency: str | None, lang: str) -> str:
    """A compact amount: zh-CN in 万/亿 (¥1,234.5万), en in M/B above a million ($1.23M, $2,361); '—' when missing."""
    if _missing(value):
        return "—"
    symbol = CURRENCY_SYMBOLS.get(currency or "", f"{currency} " if currency else "")
    sign, value = ("-" if value < 0 else ""), abs(value)
    if lang == "zh-CN":
        if value >= 1e8:
            return f"{sign}{symbol}{value / 1e8:,.2f}亿"
        if value >= 1e4:
            return f"{sign}{symbol}{value / 1e4:,.1f}万"
        return f"{sign}{symbol}{value:,.0f}"
    for threshold, suffix in ((1e9, "B"), (1e6, "M")):
        if value >= threshold:
            return f"{sign}{symbol}{value / threshold:,.2f}{suffix}"
    return f"{sign}{symbol}{value:,.0f}"


def format_count(value: int | float | None) -> str:
    """An integer with thousands separators, or '—'."""
    return "—" if _missing(value) else f"{int(round(value)):,}"


def format_pct(value: float | None, digits: int = 1) -> str:
    """A ratio (0–1) as a percentage, or '—' when undefined."""
    return "—" if _missing(value) else f"{value * 100:.{digits}f}%"


def format_days(value: float | None, lang: str) -> str:
    """A duration in days, or '—'."""
    if _missing(value):
        return "—"
    return f"{value:.1f} 天" if lang == "zh-CN" else f"{value:.1f} days"


def format_delta(value: float | None, kind: str, currency: str | None, lang: str) -> str | None:
    """A change against the previous period for st.metric's delta (None = nothing to compare)."""
    if _missing(value):
        return None
    if kind == "pct":
        return f"{value * 100:+.1f} pp"
    if kind == "amount":
        text = format_amount(abs(value), currency, lang)
        return ("+" if value >= 0 else "-") + text
    if kind == "days":
        return f"{value:+.1f}"
    return f"{int(round(value)):+,}"


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
