"""Cycle-time page helpers: cached loaders (a view is hashed by its cache_key) and widgets.

Scope (shown on the page): time to close, time in stage, the stall penalty and the open-deal lists
use the deals *created in the selected period*, followed to the as-of date; the weekly alert rate
uses every filtered deal over the weeks of the period. Stall lines come from the whole dataset, so
a segment filter compares its deals against the company-wide norm (and matches `metrics --json`).
Loaders return language-free frames; translation happens when rendering.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dealscope.metrics.cycle import (
    SEGMENT_CHOICES,
    cif_at,
    close_outcomes,
    created_between,
    cumulative_incidence,
    curve_points,
    km_summary,
    km_with_intervals,
    segment_survival,
)
from dealscope.metrics.cycle_stages import (
    alert_rate_by_week,
    count_reopened,
    stall_penalty,
    time_in_stage,
    time_in_stage_trend,
    week_ends,
)
from dealscope.metrics.stall import (
    DEFAULT_SILENCE_DAYS,
    compute_stage_intervals,
    compute_stall_lines,
    flag_open_deals,
)
from dealscope.model import Dataset
from ui.context import VIEW_HASH_FUNCS, ViewContext, current_view
from ui.state import tr

TTL_SECONDS = 3600
SEGMENT_KEY = "cycle_segment"
SILENCE_KEY = "cycle_silence_days"
MAX_SILENCE_DAYS = 365


# Interval tables hold one row per stage entry (millions for big datasets): keep few.
@st.cache_data(ttl=TTL_SECONDS, max_entries=3, show_spinner=False)
def load_stage_base(key: tuple, _dataset: Dataset, as_of: pd.Timestamp) -> tuple:
    """(intervals, stall lines) of the whole dataset; `key` = (db url, dataset id)."""
    intervals = compute_stage_intervals(_dataset.stage_events, _dataset.stages, as_of)
    return intervals, compute_stall_lines(intervals, _dataset.stages)


def _stage_base(view: ViewContext) -> tuple[pd.DataFrame, pd.DataFrame]:
    return load_stage_base((view.db_url, view.dataset.id), view.dataset, view.as_of)


def _cohort(view: ViewContext) -> pd.DataFrame:
    start, end = view.period_bounds()
    return created_between(view.opportunities, start, end)


# Holds one duration row per deal of the cohort (the segment curves reuse it): bounded tighter.
@st.cache_data(ttl=TTL_SECONDS, max_entries=8, show_spinner=False, hash_funcs=VIEW_HASH_FUNCS)
def load_close_figures(view: ViewContext) -> dict:
    """KM summary, curve and cumulative incidence of the period's cohort (deal rows stay here)."""
    durations = close_outcomes(_cohort(view), view.as_of, SEGMENT_CHOICES)
    figures = {
        "durations": durations,
        "summary": km_summary(durations),
        "undated": int(view.opportunities["created_at"].isna().sum()),
        "curve": None,
        "cif": None,
        "cif_marks": None,
    }
    if durations["closed"].any():
        table = km_with_intervals(durations["days"], durations["closed"])
        figures["curve"] = curve_points(table, ("survival", "ci_low", "ci_high"))
        cif = cumulative_incidence(durations)
        figures["cif"] = curve_points(cif, ("cif_won", "cif_lost", "survival"))
        figures["cif_marks"] = cif_at(cif)
    return figures


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner=False, hash_funcs=VIEW_HASH_FUNCS)
def load_segment(view: ViewContext, column: str) -> dict:
    """KM curves, medians and log-rank test by `column` for the period's cohort."""
    return segment_survival(load_close_figures(view)["durations"], column)


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner=False, hash_funcs=VIEW_HASH_FUNCS)
def load_stage_figures(view: ViewContext, column: str) -> dict:
    """Time in stage (overall and by `column`), its monthly trend and the stall penalty."""
    intervals, lines = _stage_base(view)
    cohort = _cohort(view)
    visits = intervals.loc[intervals["opportunity_id"].isin(cohort["opportunity_id"])]
    segment = visits["opportunity_id"].map(cohort.set_index("opportunity_id")[column])
    stages = view.dataset.stages
    return {
        "table": time_in_stage(visits, stages),
        "by_segment": time_in_stage(visits, stages, segment),
        "trend": time_in_stage_trend(visits),
        "lines": lines,
        "penalty": stall_penalty(visits, lines, cohort, view.as_of),
        "reopened": count_reopened(visits),
    }


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner=False, hash_funcs=VIEW_HASH_FUNCS)
def load_flags(view: ViewContext, silence_days: float) -> pd.DataFrame:
    """The period cohort's deals open at the as-of date with stalled / silent evidence."""
    intervals, lines = _stage_base(view)
    return flag_open_deals(_cohort(view), intervals, lines, view.as_of, silence_days)


@st.cache_data(ttl=TTL_SECONDS, max_entries=32, show_spinner=False, hash_funcs=VIEW_HASH_FUNCS)
def load_alert_rate(view: ViewContext, silence_days: float) -> pd.DataFrame:
    """Weekly alert trigger rate of the filtered deals over the weeks of the period."""
    intervals, lines = _stage_base(view)
    start, end = view.period_bounds()
    weeks = week_ends(start, end, view.as_of)
    return alert_rate_by_week(view.opportunities, intervals, lines, weeks, silence_days)


def segment_choices(opportunities: pd.DataFrame) -> list[str]:
    """The segment columns worth comparing by: those with a value in the data (a dataset without
    regions offers no "by region"); every choice when none has one, so the page still renders."""
    present = [
        c for c in SEGMENT_CHOICES if c in opportunities.columns and opportunities[c].notna().any()
    ]
    return present or list(SEGMENT_CHOICES)


def segment_picker(view: ViewContext | None = None) -> str:
    """The segment the curves and time-in-stage breakdown compare (columns with values only)."""
    view = view if view is not None else current_view()
    # The whole dataset decides (a segment filter narrows rows, not which columns exist).
    choices = (
        segment_choices(view.dataset.opportunities) if view is not None else list(SEGMENT_CHOICES)
    )
    if st.session_state.get(SEGMENT_KEY) not in choices:
        st.session_state.pop(SEGMENT_KEY, None)
    # Labels resolved now: a format_func reading the session later could run without it.
    labels = {c: tr(f"cycle.segment.{c}") for c in choices}
    return st.selectbox(
        tr("cycle.segment.pick"), choices, key=SEGMENT_KEY, format_func=labels.__getitem__
    )


def current_silence_days() -> int:
    """The silence threshold the picker holds (its default before it is drawn): the headline
    above the picker counts silent deals with the same threshold as the list below."""
    return int(st.session_state.get(SILENCE_KEY, DEFAULT_SILENCE_DAYS))


def silence_picker() -> int:
    """The silence threshold in days (default DEFAULT_SILENCE_DAYS)."""
    return int(
        st.number_input(
            tr("cycle.silent.threshold"),
            min_value=1,
            max_value=MAX_SILENCE_DAYS,
            value=DEFAULT_SILENCE_DAYS,
            step=1,
            key=SILENCE_KEY,
            help=tr("cycle.silent.threshold_help"),
        )
    )
