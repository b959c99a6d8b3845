"""Shared render helpers: KPI rows, empty states, downloads, charts, definitions."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from dealscope.charts.locale import localise
from dealscope.charts.palette import MUTED_TEXT
from dealscope.export import to_safe_csv, to_safe_xlsx
from dealscope.formatting import MISSING, currency_symbol, escape_markdown, formatter
from dealscope.metrics.kpis import main_currency
from ui.context import ViewContext, current_view
from ui.state import current_lang, tr

# Tables up to this many rows are shown through a pandas Styler whose cells are the formatting
# helpers' text (so "—" for missing, "¥34.9万", "12.3 天") while sorting stays numeric; longer
# tables (drill-down lists) use Streamlit's printf column formats, which format in the browser.
STYLED_MAX_ROWS = 1500
# The kind (dealscope.formatting.KINDS) of the raw column names the pages' tables share; a
# caller's `kinds` adds to or overrides these.
COLUMN_KINDS: dict[str, str] = {
    **dict.fromkeys(
        (
            "amount",
            "value",
            "old_amount",
            "new_amount",
            "expected_lost_value",
            "open_amount",
            "won_amount",
            "lost_amount",
            "avg_won_amount",
            "lost_value",
        ),
        "amount",
    ),
    **dict.fromkeys(
        (
            "days_in_stage",
            "stall_days",
            "days_silent",
            "days_since_activity",
            "days_over",
            "median",
            "p75",
            "p90",
            "km_median",
            "median_days",
            "median_days_to_close",
            "median_days_since_activity",
        ),
        "days",
    ),
    **dict.fromkeys(
        (
            "rate",
            "ci_low",
            "ci_high",
            "trailing_rate",
            "p_lost",
            "conversion",
            "owner_conversion",
            "team_conversion",
            "win_rate",
            "win_rate_shrunk",
            "win_rate_value",
            "share",
            "share_deals",
            "share_value",
        ),
        "pct",
    ),
}


@dataclass(frozen=True)
class Kpi:
    """One st.metric: label and help are i18n keys' texts; value and delta are formatted strings."""

    label: str
    value: str
    delta: str | None = None
    help: str | None = None
    inverse: bool = False  # True when a rise is bad (e.g. days to win)


def render_kpi_row(kpis: Sequence[Kpi], per_row: int = 4) -> None:
    """KPI cards, at most `per_row` a row: four keep values such as "¥1,212万" or "128.1 days"
    whole at 1280 px (with theme.metricValueFontSize in .streamlit/config.toml)."""
    for start in range(0, len(kpis), per_row):
        columns = st.columns(per_row)
        for column, kpi in zip(columns, kpis[start : start + per_row], strict=False):
            column.metric(
                kpi.label,
                kpi.value,
                kpi.delta,
                help=kpi.help,
                delta_color="inverse" if kpi.inverse else "normal",
                border=True,
            )


def require_view(needs_dates: str | None = None) -> ViewContext | None:
    """The current view, or None after explaining why there is nothing to show.

    needs_dates: the i18n key that says what the page cannot compute without creation dates;
    on a dataset without any, that is said (plainly, not as zeros) and None returned."""
    view = current_view()
    if view is None:
        st.info(tr("app.no_datasets"))
        return None
    st.caption(tr("app.as_of_line", as_of=view.as_of.strftime("%Y-%m-%d %H:%M")))
    if view.opportunities.empty:
        st.info(tr("app.empty_filtered"))
        return None
    if not view.dataset.has_dates:
        if needs_dates is not None:
            st.info(tr(needs_dates))
            return None
        st.info(tr("app.no_dates", count=len(view.dataset.opportunities)))
    if view.dataset.late_closes:
        st.caption(tr("app.late_closes", count=view.dataset.late_closes))
    return view


def render_chart(chart: alt.Chart | alt.LayerChart) -> None:
    """Draw an Altair chart built by dealscope.charts (aggregated data only), with month and
    weekday names and number separators in the session's language."""
    st.altair_chart(localise(chart, current_lang(), _view_currency()), width="stretch")


def _view_currency() -> str | None:
    """The main currency of the view's deals (what amounts are in), None without a view."""
    view = current_view()
    return main_currency(view.opportunities) if view is not None else None


def show_table(
    frame: pd.DataFrame,
    kinds: Mapping[str, str] | None = None,
    *,
    rename: Mapping[str, str] | Callable[[str], str] | None = None,
    currency: str | None = "",
    grey: pd.Series | np.ndarray | None = None,
    target=None,
    **dataframe_kwargs,
) -> pd.DataFrame:
    """st.dataframe with every figure in the one format (dealscope.formatting): amounts with the
    currency, days with their unit, rates as percentages, missing as "—"; numbers stay numbers
    (sorting is numeric). Returns the shown frame (translated headers, raw values) for downloads.

    kinds: raw column name -> kind, on top of COLUMN_KINDS; rename: raw -> shown header;
    currency: of the amounts (default "": the view's main currency; None: no symbol);
    grey: positional mask of rows with too little data (shown in muted text).
    """
    lang = current_lang()
    if currency == "":
        currency = _view_currency()
    kinds = {c: k for c, k in {**COLUMN_KINDS, **(kinds or {})}.items() if c in frame.columns}
    names = {
        c: (rename(c) if callable(rename) else (rename or {}).get(c, c)) for c in frame.columns
    }
    shown = frame.rename(columns=names).reset_index(drop=True)
    kinds = {names[c]: k for c, k in kinds.items()}
    text = [c for c in shown.columns if c not in kinds and _is_text(shown[c])]
    display = shown.assign(
        **{c: shown[c].astype(object).where(shown[c].notna(), MISSING) for c in text}
    )
    for column in display.columns:  # figures the caller did not classify
        if column not in kinds and column not in text:
            series = display[column]
            if pd.api.types.is_bool_dtype(series):
                kinds[column] = "bool"
            elif pd.api.types.is_datetime64_any_dtype(series):
                times = series.dropna()
                midnight = bool((times == times.dt.normalize()).all())
                kinds[column] = "date" if midnight else "datetime"
            elif pd.api.types.is_integer_dtype(series):
                kinds[column] = "count"
            elif pd.api.types.is_float_dtype(series):
                kinds[column] = "decimal"
    data, config = _formatted(display, kinds, currency, lang, grey)
    config = {**config, **dataframe_kwargs.pop("column_config", {})}
    (target or st).dataframe(data, hide_index=True, column_config=config, **dataframe_kwargs)
    return shown


def _is_text(series: pd.Series) -> bool:
    return pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)


def _formatted(display: pd.DataFrame, kinds: Mapping[str, str], currency, lang, grey):
    """(data, column_config) for st.dataframe: a Styler of formatted text, or printf formats."""
    if len(display) <= STYLED_MAX_ROWS:
        styler = display.style
        for column, kind in kinds.items():
            styler = styler.format(formatter(kind, currency, lang), subset=[column])
        if grey is not None:
            shade = np.where(np.asarray(grey, dtype=bool), "", f"color: {MUTED_TEXT}")
            styler = styler.apply(lambda column: shade, axis=0)
        return styler, {}
    scaled = [c for c, k in kinds.items() if k in ("pct", "points")]
    data = display.assign(**{c: display[c] * 100 for c in scaled})
    config = {
        c: st.column_config.NumberColumn(format=_printf(k, currency))
        for c, k in kinds.items()
        if _printf(k, currency)
    }
    return data, config


def _printf(kind: str, currency: str | None) -> str:
    """The browser-side format of `kind` (long tables): the same figures as formatter(kind)."""
    symbol = currency_symbol(currency).replace("%", "%%")
    if kind in ("bool", "date", "datetime", "text"):
        return ""  # not a number: no NumberColumn format
    return {
        "amount": f"{symbol}%,.0f",
        "count": "%,d",
        "pct": "%.1f%%",
        "points": f"%+.1f {tr('format.unit.points')}",
        "days": f"%.1f {tr('format.unit.days_short')}",
    }.get(kind, f"%,.{kind.removeprefix('decimal') or 1}f" if kind.startswith("decimal") else "%s")


def render_downloads(frame: pd.DataFrame, stem: str, key: str) -> None:
    """CSV and Excel download buttons; both are neutralised against formula injection."""
    left, right = st.columns(2)
    left.download_button(
        tr("app.download_csv"),
        to_safe_csv(frame),
        file_name=f"{stem}.csv",
        mime="text/csv",
        key=f"{key}_csv",
        on_click="ignore",
    )
    right.download_button(
        tr("app.download_xlsx"),
        to_safe_xlsx(frame),
        file_name=f"{stem}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"{key}_xlsx",
        on_click="ignore",
    )


def render_definitions(keys: Sequence[tuple[str, str]], title: str | None = None) -> None:
    """An expander (titled `title`, default "Definitions") listing (term key, formula key)
    pairs, rendered as plain text."""
    with st.expander(title or tr("app.definitions")):
        for term_key, formula_key in keys:
            st.text(f"{tr(term_key)}: {tr(formula_key)}")


def render_other_currency_warning(count: int, currency: str | None) -> None:
    """Deals in another currency than the main one are left out of value figures: say how many."""
    if count:
        st.warning(tr("app.other_currency", count=count, currency=escape_markdown(currency or "—")))
