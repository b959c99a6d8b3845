"""The Vega locale of every chart: month and weekday names, AM/PM and number separators in the
page's language, so a time axis reads "11月" in Chinese and "November" in English.

Applied in one place (ui.render.render_chart) through `localise`; the names come from the
format.vega.* catalog strings. Vega-Lite's top-level `config.locale` sets both the number
(d3-format) and the time (d3-time-format) locale of that one view.
"""

from __future__ import annotations

import altair as alt

from dealscope.formatting import currency_symbol
from dealscope.i18n import t


def _names(key: str, lang: str, count: int) -> list[str]:
    names = [name.strip() for name in t(key, lang).split(",")]
    if len(names) != count:
        raise ValueError(f"{key} in {lang} must list {count} comma-separated names")
    return names


def vega_locale(lang: str, currency: str | None = None) -> dict:
    """The Vega-Lite `config.locale` object (number and time locale) for `lang`; amounts
    formatted with AMOUNT_FORMAT ("$,.0f") carry `currency`'s symbol (¥3,391,700)."""
    return {
        "number": {
            "decimal": ".",
            "thousands": ",",
            "grouping": [3],
            "currency": [currency_symbol(currency), ""],
        },
        "time": {
            "dateTime": t("format.vega.date_time", lang),
            "date": t("format.vega.date", lang),
            "time": t("format.vega.time", lang),
            "periods": _names("format.vega.periods", lang, 2),
            "days": _names("format.vega.days", lang, 7),
            "shortDays": _names("format.vega.short_days", lang, 7),
            "months": _names("format.vega.months", lang, 12),
            "shortMonths": _names("format.vega.short_months", lang, 12),
        },
    }


def localise(chart: alt.TopLevelMixin, lang: str, currency: str | None = None) -> alt.TopLevelMixin:
    """A copy of `chart` with the locale of `lang` (and the amounts' `currency`) in its config
    (other config entries kept)."""
    out = chart.copy(deep=False)
    config = chart._kwds.get("config", alt.Undefined)
    config = None if config is alt.Undefined else config
    config = alt.Config() if config is None else config.copy(deep=True)
    config["locale"] = alt.Locale(**vega_locale(lang, currency))
    # Dates in tooltips and legends (axes choose their own format, in the locale's names).
    config["timeFormat"] = t("format.vega.tooltip_date", lang)
    out["config"] = config
    return out


# Axis formats (d3-format) every quantitative axis uses, so no axis falls back to Vega's own
# precision (an all-zero or empty series drew "0.000000"): counts are whole (no 0.5 ticks),
# days and amounts have thousands separators and no trailing zeros.
COUNT_AXIS = {"format": ",d", "tickMinStep": 1}
NUMBER_AXIS = {"format": ",~f"}
# d3's "$" is the locale's currency symbol: the dataset's, set by localise().
AMOUNT_FORMAT = "$,.0f"
AMOUNT_AXIS = {"format": AMOUNT_FORMAT}
