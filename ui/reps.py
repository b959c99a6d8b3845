"""Reps page helpers: cached loaders, the leaderboard table, the scatter and the drill-down."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from dealscope.charts import palette
from dealscope.charts.reps import (
    build_conversion_comparison_chart,
    build_monthly_outcome_chart,
    build_win_rate_scatter,
)
from dealscope.formatting import (
    escape_markdown,
    format_count,
    format_days,
    format_pct,
    formatter,
)
from dealscope.metrics.reps import GROUP_LEVELS, MIN_CLOSED_FOR_RANKING
from dealscope.metrics.reps_views import RepViews, compute_rep_views, owner_drilldown
from ui.context import VIEW_HASH_FUNCS, ViewContext
from ui.funnel import load_selection
from ui.render import Kpi, render_chart, render_downloads, render_kpi_row, show_table
from ui.state import current_lang, tr

GREY_ROW = f"color: {palette.MUTED_TEXT}"
# Leaderboard columns after the group column(s): (column, formatter kind).
BOARD_COLUMNS = (
    ("record", "text"),
    ("win_rate", "pct"),
    ("win_rate_ci", "text"),
    ("win_rate_shrunk", "pct"),
    ("win_rate_value", "pct"),
    ("open_count", "count"),
    ("open_value", "amount"),
    ("won_value", "amount"),
    ("avg_won_amount", "amount"),
    ("km_median_days_to_close", "days"),
    ("flagged_share", "pct"),
    ("stalled_share", "pct"),
    ("silent_share", "pct"),
    ("median_days_silent", "days"),
    ("sample", "text"),
)
DEFINITIONS = tuple(
    (f"reps.def.{k}", f"reps.def.{k}.formula")
    for k in ("win_rate", "win_rate_value", "shrunk", "small_sample", "km", "open")
    + ("conversion", "flags")
)


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False, hash_funcs=VIEW_HASH_FUNCS)
def load_reps(view: ViewContext) -> RepViews:
    """Every level's leaderboard for the view (hashed by view.cache_key). Stage conversion is
    computed on the Funnel page's own cached selection, so both pages show one figure."""
    start, end = view.period_bounds()
    return compute_rep_views(
        view.opportunities,
        view.stage_events,
        view.dataset.stages,
        start,
        end,
        view.as_of,
        all_time=view.filters.start is None,
        funnel_paths=load_selection(view),
    )


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False, hash_funcs=VIEW_HASH_FUNCS)
def load_owner_detail(view: ViewContext, owner: str) -> dict[str, object]:
    """One owner's drill-down (conversion vs team, open deals with flags, monthly outcomes)."""
    start, end = view.period_bounds()
    views = load_reps(view)
    return owner_drilldown(views, view.opportunities, owner, start, end)


def _formatter(kind: str, currency: str | None, lang: str):
    return formatter(kind, currency, lang)  # the one format of every table (dealscope.formatting)


def leaderboard_styler(table: pd.DataFrame, level: str, currency: str | None) -> Styler:
    """The leaderboard with translated headers; small-sample rows greyed with raw counts."""
    lang = current_lang()
    names = ["owner", "team", "region"] if level == "owner" else [level]
    board = table.loc[:, ["rank", *names]].copy()
    board["record"] = table["won"].astype(str) + " / " + table["closed"].astype(str)
    low = table["win_rate_ci_low"].map(format_pct).astype("object")
    high = table["win_rate_ci_high"].map(format_pct).astype("object")
    # astype: on an empty table map() keeps float dtype, and float + str raises.
    board["win_rate_ci"] = (low + " – " + high).where(table["closed"] > 0, "")
    for column, _ in BOARD_COLUMNS:
        if column in table.columns:
            board[column] = table[column]
    board["sample"] = table["small_sample"].map(
        {True: tr("reps.small_sample"), False: tr("reps.ranked")}
    )
    board = board.loc[:, ["rank", *names, *(c for c, _ in BOARD_COLUMNS if c in board.columns)]]
    headers = {c: tr(f"reps.col.{c}") for c in board.columns}
    kinds = {headers[c]: _formatter(kind, currency, lang) for c, kind in BOARD_COLUMNS}
    grey = table["small_sample"].to_numpy()
    return (
        board.rename(columns=headers)
        .style.format(kinds)
        .apply(lambda col: np.where(grey, GREY_ROW, ""), axis=0)
    )


def select_level() -> str:
    """Owners, teams or regions (a radio kept in the session)."""
    # Translate now: AppTest calls format_func outside the script run, without the session.
    names = {v: tr(f"reps.level.{v}") for v in GROUP_LEVELS}
    return st.radio(
        tr("reps.level"),
        GROUP_LEVELS,
        format_func=names.get,
        horizontal=True,
        key="reps_level",
    )


def render_prior(views: RepViews, level: str) -> None:
    """The prior's caption, after the count of deals without a value at this level (they are no
    group to rank, so they are not in the table, but they are not lost either)."""
    unassigned = views.unassigned.get(level, 0)
    if unassigned:
        st.caption(tr(f"fixes.reps.unassigned.{level}", count=format_count(unassigned)))
    prior = views.priors[level]
    if prior is None:
        st.caption(tr("reps.prior.none"))
        return
    st.caption(
        tr(
            "reps.prior",
            groups=prior.groups,
            mean=format_pct(prior.mean),
            strength=f"{prior.strength:,.1f}",
            note=tr(f"reps.prior.note.{prior.note}"),
        )
    )


def render_scatter(views: RepViews, level: str) -> None:
    labels = {k: tr(f"reps.scatter.{k}") for k in ("group", "closed", "won", "win_rate", "shrunk")}
    labels |= {k: tr(f"reps.scatter.{k}") for k in ("ci_low", "ci_high", "sample", "common")}
    labels |= {"small": tr("reps.small_sample"), "ranked": tr("reps.ranked")}
    prior = views.priors[level]
    chart = build_win_rate_scatter(
        views.tables[level], level, prior.mean if prior else None, labels
    )
    render_chart(chart)


def select_owner(views: RepViews) -> str | None:
    """The drill-down owner, offered in leaderboard order."""
    owners = views.tables["owner"]["owner"].tolist()
    if not owners:
        return None
    return st.selectbox(tr("reps.drill.owner"), owners, key="reps_owner")


def owner_kpis(row: dict, currency: str | None) -> list[Kpi]:
    lang = current_lang()
    interval = tr(
        "reps.drill.kpi.interval",
        low=format_pct(row["win_rate_ci_low"]),
        high=format_pct(row["win_rate_ci_high"]),
    )
    return [
        Kpi(tr("reps.drill.kpi.win_rate"), format_pct(row["win_rate"]), None, interval),
        Kpi(tr("reps.drill.kpi.win_rate_shrunk"), format_pct(row["win_rate_shrunk"])),
        Kpi(
            tr("reps.drill.kpi.record"),
            f"{format_count(row['won'])} / {format_count(row['closed'])}",
        ),
        Kpi(tr("reps.drill.kpi.open_count"), format_count(row["open_count"])),
        Kpi(tr("reps.drill.kpi.flagged_share"), format_pct(row["flagged_share"])),
        Kpi(
            tr("reps.drill.kpi.km_median_days_to_close"),
            format_days(row["km_median_days_to_close"], lang),
            inverse=True,
        ),
    ]


def _translated(frame: pd.DataFrame, prefix: str) -> pd.DataFrame:
    return frame.rename(columns={c: tr(f"{prefix}.{c}") for c in frame.columns})


def render_owner_detail(detail: dict, has_history: bool, currency: str | None) -> None:
    """KPIs, conversion vs team, open deals (downloadable) and the monthly outcome chart."""
    if detail["row"] is None:
        st.info(tr("reps.drill.none"))
        return
    render_kpi_row(owner_kpis(detail["row"], currency), per_row=3)
    st.caption(tr("reps.drill.team", team=escape_markdown(detail["team"])))
    st.subheader(tr("reps.drill.conversion.title"))
    conversion = detail["conversion"]
    if not has_history:
        st.info(tr("reps.no_history"))
    elif conversion.empty or conversion["team_resolved"].sum() == 0:
        st.info(tr("reps.drill.conversion.none"))
    else:
        keys = ("stage", "conversion", "series", "owner", "team")
        labels = {k: tr(f"reps.drill.conversion.{k}") for k in keys}
        left, right = st.columns(2)
        with left:
            render_chart(build_conversion_comparison_chart(conversion, labels))
        show_table(
            conversion.drop(columns="position"),
            {"difference": "points"},
            rename=lambda c: tr(f"reps.drill.conversion.{c}"),
            currency=currency,
            target=right,
        )
    st.subheader(tr("reps.drill.open.title"))
    if detail["open_deals"].empty:
        st.info(tr("reps.drill.open.none"))
    else:
        # Days to one decimal: hours are noise in a weekly review (and in the download).
        days = ["days_in_stage", "stall_days", "days_silent"]
        table = show_table(
            detail["open_deals"].round({c: 1 for c in days}),
            rename=lambda c: tr(f"reps.drill.open.{c}"),
            currency=currency,
        )
        render_downloads(table, "open_deals", key="reps_open")
    st.subheader(tr("reps.drill.monthly.title"))
    if detail["monthly"].empty:
        st.info(tr("reps.drill.monthly.none"))
    else:
        keys = ("month", "count", "status", "won", "lost")
        labels = {k: tr(f"reps.drill.monthly.{k}") for k in keys}
        render_chart(build_monthly_outcome_chart(detail["monthly"], labels))


def render_reps_definitions() -> None:
    """The definitions panel (as ui.render.render_definitions, with the minimum filled in)."""
    with st.expander(tr("app.definitions")):
        for term_key, formula_key in DEFINITIONS:
            formula = tr(formula_key, min_closed=MIN_CLOSED_FOR_RANKING)
            st.text(f"{tr(term_key)}: {formula}")
