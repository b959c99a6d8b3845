"""Funnel page helpers: cached loaders, controls and display tables (sections in ui/funnel_sections.py).

Cache layout (why it is fast at 1M deals): `load_paths` reduces the whole dataset's stage events to
one row per deal once per dataset; a filter change only re-selects rows of that table
(`load_selection`) and re-collapses them (`load_funnel`): a few hundred milliseconds at 1M deals
(bench/bench_metrics.py). Never mutate what these loaders return.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import streamlit as st

from dealscope.charts import palette
from dealscope.filters import apply_segment_filters
from dealscope.formatting import format_count, format_pct
from dealscope.metrics.funnel import (
    BASES,
    HISTORY,
    RULES,
    SNAPSHOT,
    compute_snapshot_funnel,
)
from dealscope.metrics.funnel_compare import compare_periods, compare_segments, compute_cohorts
from dealscope.metrics.funnel_detail import compute_funnel_view
from dealscope.metrics.funnel_paths import build_deal_paths, funnel_stages, in_period
from dealscope.model import LOST, SEGMENT_COLUMNS
from ui.context import VIEW_HASH_FUNCS, ViewContext
from ui.loaders import load_event_rows
from ui.state import tr

GREY = f"color: {palette.MUTED_TEXT}"


# Paths and selections are big and never mutated: st.cache_resource hands back the same object,
# where st.cache_data would unpickle a copy of a million rows on every rerun.
@st.cache_resource(ttl=3600, max_entries=4, show_spinner=False)
def load_paths(key: tuple, _view: ViewContext) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-deal paths and moves of the whole dataset (key: database URL, dataset id, as-of)."""
    dataset = _view.dataset
    events = dataset.stage_events
    # Each event's deal row, computed once per dataset by the loaders (saves an id lookup).
    rows = load_event_rows(_view.db_url, dataset.id)
    return build_deal_paths(dataset.opportunities, events, dataset.stages, _view.as_of, rows)


def paths_key(view: ViewContext) -> tuple:
    return (view.db_url, view.dataset.id, view.as_of)


@st.cache_resource(ttl=600, max_entries=4, show_spinner=False, hash_funcs=VIEW_HASH_FUNCS)
def load_selection(view: ViewContext) -> pd.DataFrame:
    """The paths of the deals in the view: segment filters, then created in the period."""
    paths, _ = load_paths(paths_key(view), view)
    start, end = view.period_bounds()
    return in_period(_segment_filtered(paths, view), start, end)


def _segment_filtered(paths: pd.DataFrame, view: ViewContext) -> pd.DataFrame:
    # No selection: the cached frame itself (filtering would copy a million rows for nothing).
    if not any(view.filters.segments.values()):
        return paths
    return apply_segment_filters(paths, view.filters)


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False, hash_funcs=VIEW_HASH_FUNCS)
def load_funnel(view: ViewContext, rule: str) -> dict:
    """Funnel table, header counts, lost deals by stage and reason, transitions of the view."""
    selection = load_selection(view)
    _, moves = load_paths(paths_key(view), view)
    names = funnel_stages(view.dataset.stages)
    return compute_funnel_view(selection, moves, names, rule, _lost_name(view))


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False, hash_funcs=VIEW_HASH_FUNCS)
def load_segments(view: ViewContext, rule: str, column: str) -> pd.DataFrame:
    """Stage conversion per segment of `column` with the noise test."""
    names = funnel_stages(view.dataset.stages)
    return compare_segments(load_selection(view), names, column, rule)


@st.cache_data(ttl=3600, max_entries=16, show_spinner=False, hash_funcs=VIEW_HASH_FUNCS)
def load_periods(view: ViewContext, rule: str) -> pd.DataFrame:
    """This period vs its previous comparable one (segment filters applied, not the period)."""
    paths, _ = load_paths(paths_key(view), view)
    start, end = view.period_bounds()
    names = funnel_stages(view.dataset.stages)
    return compare_periods(
        _segment_filtered(paths, view), names, start, end, rule, view.previous_bounds()
    )


@st.cache_data(ttl=3600, max_entries=16, show_spinner=False, hash_funcs=VIEW_HASH_FUNCS)
def load_cohorts(view: ViewContext, rule: str, grain: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cohort summary and per-cohort stage conversions."""
    names = funnel_stages(view.dataset.stages)
    return compute_cohorts(load_selection(view), names, grain, rule)


@st.cache_data(ttl=3600, max_entries=16, show_spinner=False, hash_funcs=VIEW_HASH_FUNCS)
def load_snapshot(view: ViewContext) -> pd.DataFrame:
    """Current-stage counts of the deals in the view (created in the period; with no period
    chosen, every deal up to the as-of date, undated ones included: a snapshot needs no dates)."""
    start, end = view.period_bounds()
    if view.filters.start is None:
        created = view.opportunities["created_at"]
        opps = view.opportunities[created.lt(end) | created.isna()]
    else:
        opps = in_period(view.opportunities, start, end)
    return compute_snapshot_funnel(opps, view.dataset.stages, view.as_of)


def _lost_name(view: ViewContext) -> str:
    lost = view.dataset.stages.loc[view.dataset.stages["kind"] == LOST, "stage"]
    return str(lost.iloc[0]) if not lost.empty else tr("funnel.outcome.lost")


def render_controls(has_history: bool) -> tuple[str, str]:
    """Basis and skipped-stage rule pickers; without history only the snapshot basis exists."""
    left, right = st.columns(2)
    bases = BASES if has_history else (SNAPSHOT,)
    basis = left.radio(
        tr("funnel.basis"),
        bases,
        format_func={b: tr(f"funnel.basis.{b}") for b in bases}.__getitem__,
        horizontal=True,
        key="funnel_basis",
        help=tr("funnel.basis.help"),
    )
    rule = right.radio(
        tr("funnel.rule"),
        RULES,
        format_func={r: tr(f"funnel.rule.{r}") for r in RULES}.__getitem__,
        horizontal=True,
        key="funnel_rule",
        help=tr("funnel.rule.help"),
        disabled=basis == SNAPSHOT,
    )
    return basis or HISTORY, rule


def rate_texts(
    rate: pd.Series,
    low: pd.Series,
    high: pd.Series,
    k: pd.Series,
    n: pd.Series,
    enough: pd.Series,
) -> list[str]:
    """Per row: '71.7% (70.5–72.8%)'; 'k / n' when n is below the minimum; '—' when n is 0."""
    frame = pd.DataFrame({"rate": rate, "low": low, "high": high, "k": k, "n": n, "ok": enough})
    frame = frame.reset_index(drop=True)
    pct = (
        frame["rate"].map(format_pct)
        + " ("
        + frame["low"].map(format_pct)
        + "–"
        + frame["high"].map(format_pct)
        + ")"
    )
    counts = frame["k"].map(format_count) + " / " + frame["n"].map(format_count)
    empty = frame["n"].fillna(0).eq(0) | frame["rate"].isna()
    ok = frame["ok"].fillna(False).astype(bool)
    return pct.where(ok, counts).where(~empty, "—").tolist()


def grey_rows(table: pd.DataFrame, enough: pd.Series):
    """A Styler greying the rows whose sample is too small (positional `enough` mask)."""
    shade = np.where(enough.to_numpy(dtype=bool), "", GREY)
    return table.style.apply(lambda column: shade, axis=0)


def funnel_display(funnel: pd.DataFrame, currency_fmt: Callable[[float], str]) -> pd.DataFrame:
    """The per-stage table in the session language (counts as numbers, rates as text)."""
    rows = funnel.reset_index(drop=True)
    conv = rate_texts(
        rows["conversion"],
        rows["ci_low"],
        rows["ci_high"],
        rows["advanced"],
        rows["resolved"],
        rows["enough"],
    )
    cum_base = rows["reached"] + rows["lost"].cumsum() - rows["lost"]
    cum = rate_texts(
        rows["cumulative"],
        rows["cum_low"],
        rows["cum_high"],
        rows["reached"],
        cum_base,
        rows["enough"],
    )
    is_won = rows["position"].eq(len(rows) - 1)
    out = pd.DataFrame(
        {
            tr("funnel.col.stage"): rows["stage"],
            tr("funnel.col.entered"): rows["entered"],
            tr("funnel.col.reached"): rows["reached"],
            tr("funnel.col.skipped"): rows["skipped"],
            # The won stage ends the funnel: "—", not 0 (nothing can advance or be lost there).
            # Text throughout: numbers and "—" in one column cannot go to Arrow as one type
            # (Streamlit then logs an ArrowInvalid traceback on every view and guesses a fix).
            tr("funnel.col.advanced"): rows["advanced"].map(format_count).where(~is_won, "—"),
            tr("funnel.col.lost"): rows["lost"].map(format_count).where(~is_won, "—"),
            tr("funnel.col.open"): rows["open"].map(format_count).where(~is_won, "—"),
            tr("funnel.col.skipped_on"): rows["skipped_on"].map(format_count).where(~is_won, "—"),
            tr("funnel.col.conversion"): conv,
            tr("funnel.col.cumulative"): cum,
            # The won stage is the end of the funnel: nothing is lost "at" it.
            tr("funnel.col.lost_value"): rows["lost_value"].map(currency_fmt).where(~is_won, "—"),
            tr("funnel.col.lost_share"): rows["lost_share"].map(format_pct).where(~is_won, "—"),
            tr("funnel.col.lost_value_share"): rows["lost_value_share"]
            .map(format_pct)
            .where(~is_won, "—"),
        }
    )
    return out


def segment_columns(paths: pd.DataFrame) -> list[str]:
    """Columns a user can compare by: the segment columns present with at least two values."""
    return [c for c in SEGMENT_COLUMNS if c in paths.columns and paths[c].nunique() >= 2]
