"""Overview page helpers: the cached KPI computation and its rendering."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dealscope.formatting import format_amount, format_count, format_days, format_delta, format_pct
from dealscope.metrics.kpis import Overview, compute_overview, weekly_flow
from ui.context import VIEW_HASH_FUNCS, ViewContext
from ui.render import Kpi, render_definitions
from ui.state import current_lang, tr

# (field of PeriodKpis, formatter kind, a rise is bad)
KPI_FIELDS = (
    ("total", "count", False),
    ("new", "count", False),
    ("open_count", "count", False),
    ("open_value", "amount", False),
    ("won_count", "count", False),
    ("won_value", "amount", False),
    ("avg_won_value", "amount", False),
    ("win_rate_count", "pct", False),
    ("win_rate_value", "pct", False),
    ("median_days_to_win", "days", True),
)


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False, hash_funcs=VIEW_HASH_FUNCS)
def load_overview(view: ViewContext) -> tuple[Overview, pd.DataFrame]:
    """Overview KPIs and the weekly flow for the view (hashed by view.cache_key)."""
    start, end = view.period_bounds()
    # No period chosen: all time, so every deal counts once as won, lost or open.
    since = None if view.filters.start is None else start
    overview = compute_overview(view.opportunities, since, end, view.previous_bounds())
    return overview, weekly_flow(view.opportunities, start, end)


def format_kpi_value(value, kind: str, currency: str | None, lang: str) -> str:
    if kind == "amount":
        return format_amount(value, currency, lang)
    if kind == "pct":
        return format_pct(value)
    if kind == "days":
        return format_days(value, lang)
    return format_count(value)


def build_kpis(overview: Overview) -> list[Kpi]:
    """The KPI row: current values with the change against the previous period."""
    lang = current_lang()
    current, previous = overview.current, overview.previous
    has_previous = previous is not None and previous.total > 0
    kpis = []
    for field, kind, inverse in KPI_FIELDS:
        now = getattr(current, field)
        before = getattr(previous, field) if has_previous else None
        change = None
        if has_previous and now is not None and before is not None:
            change = format_delta(now - before, kind, overview.currency, lang)
        kpis.append(
            Kpi(
                label=tr(f"overview.kpi.{field}"),
                value=format_kpi_value(now, kind, overview.currency, lang),
                delta=change,
                help=tr(f"overview.kpi.help.{field}"),
                inverse=inverse,
            )
        )
    return kpis


def render_overview_definitions() -> None:
    """What each KPI counts, in plain words (the cards' help texts, gathered in one place)."""
    render_definitions(
        [(f"overview.kpi.{field}", f"overview.kpi.help.{field}") for field, _, _ in KPI_FIELDS],
        title=tr("headline.expander.overview"),
    )
