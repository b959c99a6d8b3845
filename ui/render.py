"""Shared render helpers: KPI rows, empty states, downloads, charts, definitions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import altair as alt
import pandas as pd
import streamlit as st

from dealscope.export import to_safe_csv, to_safe_xlsx
from ui.context import ViewContext, current_view
from ui.state import tr


@dataclass(frozen=True)
class Kpi:
    """One st.metric: label and help are i18n keys' texts; value and delta are formatted strings."""

    label: str
    value: str
    delta: str | None = None
    help: str | None = None
    inverse: bool = False  # True when a rise is bad (e.g. days to win)


def render_kpi_row(kpis: Sequence[Kpi], per_row: int = 5) -> None:
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
    """Draw an Altair chart built by dealscope.charts (aggregated data only)."""
    st.altair_chart(chart, width="stretch")


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
