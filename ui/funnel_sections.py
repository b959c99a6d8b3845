"""Funnel page sections: each renders one part of the page from the cached loaders' results."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dealscope.charts.funnel import (
    OUTCOME_COLORS,
    build_cohort_chart,
    build_conversion_chart,
    build_funnel_chart,
    build_lost_chart,
    build_segment_heatmap,
    build_transition_heatmap,
)
from dealscope.formatting import format_amount, format_count, format_p_value, format_pct
from dealscope.metrics.funnel import MIN_RESOLVED
from dealscope.metrics.funnel_compare import COHORT_GRAINS, MISSING, OTHER
from dealscope.metrics.funnel_detail import DRILL_MAX_ROWS, OUTCOMES, drill_deals
from dealscope.metrics.kpis import main_currency
from ui.context import ViewContext
from ui.funnel import (
    funnel_display,
    grey_rows,
    load_cohorts,
    load_periods,
    load_segments,
    load_selection,
    load_snapshot,
    rate_texts,
    segment_columns,
)
from ui.render import (
    Kpi,
    render_chart,
    render_definitions,
    render_downloads,
    render_kpi_row,
    show_table,
)
from ui.state import current_lang, tr

CHART_KEYS = (
    "stage", "deals", "outcome", "conversion", "ci_low", "ci_high", "resolved", "group",
    "sample", "enough", "few", "rest", "p_adjusted", "from", "to", "moves", "kind", "value",
    "reason", "cohort", "win_rate", "maturity", "mature", "immature",
)  # fmt: skip


def chart_labels(**extra: str) -> dict[str, str]:
    labels = {k: tr(f"funnel.chart.{k}") for k in CHART_KEYS}
    labels.update({k: tr(f"funnel.outcome.{k}") for k in OUTCOME_COLORS})
    labels.update({k: tr(f"funnel.move.{k}") for k in ("forward", "skip", "backward", "reopen")})
    labels.update({k: tr(f"funnel.move.{k}") for k in ("close", "repeat")})
    return {**labels, **extra}


def _money(view: ViewContext):
    currency, lang = main_currency(view.opportunities), current_lang()
    return lambda v: format_amount(v, currency, lang)


def render_summary(summary: dict) -> None:
    """Header counts: deals in the funnel, without history, skipping, moving back, reopened."""
    fields = ("deals", "without_history", "skipping", "moving_back", "reopened")
    render_kpi_row(
        [
            Kpi(tr(f"funnel.kpi.{f}"), format_count(summary[f]), help=tr(f"funnel.kpi.help.{f}"))
            for f in fields
        ]
    )


def render_funnel(data: dict, view: ViewContext) -> None:
    """The main charts: deals reaching each stage, and each step's conversion."""
    funnel = data["funnel"]
    left, right = st.columns(2)
    with left:
        render_chart(build_funnel_chart(funnel, chart_labels()))
    with right:
        render_chart(build_conversion_chart(funnel, chart_labels()))


def render_funnel_table(data: dict, view: ViewContext) -> None:
    """The per-stage table with Wilson intervals (small samples greyed)."""
    funnel = data["funnel"]
    st.subheader(tr("funnel.table.title"))
    st.dataframe(grey_rows(funnel_display(funnel, _money(view)), funnel["enough"]), hide_index=True)
    st.text(tr("funnel.table.note", min_n=MIN_RESOLVED))


def render_lost(data: dict, view: ViewContext) -> None:
    lost = data["lost"]
    if lost.empty:
        st.info(tr("funnel.lost.none"))
        return
    left, right = st.columns(2)
    with left:
        render_chart(build_lost_chart(lost, chart_labels(), "deals"))
    with right:
        render_chart(build_lost_chart(lost, chart_labels(), "value"))
    table = lost.assign(
        value=lost["value"].map(_money(view)),
        share=lost["share"].map(format_pct),
        value_share=lost["value_share"].map(format_pct),
    ).drop(columns="position")
    st.dataframe(table.rename(columns=lambda c: tr(f"funnel.lost.col.{c}")), hide_index=True)


def _segment_label(value: str) -> str:
    return {OTHER: tr("funnel.segment.other"), MISSING: tr("funnel.segment.missing")}.get(
        value, value
    )


def _comparison_table(table: pd.DataFrame, group: str) -> pd.DataFrame:
    rows = table.loc[table["resolved"].gt(0)].reset_index(drop=True)
    return pd.DataFrame(
        {
            tr("funnel.compare.col.group"): rows[group].map(_segment_label),
            tr("funnel.col.stage"): rows["stage"],
            tr("funnel.col.resolved"): rows["resolved"],
            tr("funnel.col.conversion"): rate_texts(
                rows["conversion"], rows["ci_low"], rows["ci_high"], rows["advanced"],
                rows["resolved"], rows["enough"],
            ),
            tr("funnel.compare.col.rest"): rows["rest_conversion"].map(format_pct),
            tr("funnel.compare.col.p_adjusted"): rows["p_adjusted"].map(format_p_value),
            tr("funnel.compare.col.significant"): rows["significant"].map({True: "*", False: ""}),
        }
    )  # fmt: skip


def render_segments(view: ViewContext, rule: str) -> None:
    selection = load_selection(view)
    columns = segment_columns(selection)
    if not columns:
        st.info(tr("funnel.segment.none"))
        return
    column = st.selectbox(
        tr("funnel.segment.by"),
        columns,
        format_func={c: tr(f"funnel.segment.column.{c}") for c in columns}.__getitem__,
        key="funnel_segment_column",
    )
    table = load_segments(view, rule, column)
    st.text(tr("funnel.segment.test", min_n=MIN_RESOLVED))
    shown = table.assign(segment=table["segment"].map(_segment_label))
    render_chart(build_segment_heatmap(shown, chart_labels()))
    st.dataframe(_comparison_table(table, "segment"), hide_index=True)


def render_periods(view: ViewContext, rule: str) -> None:
    table = load_periods(view, rule)
    if table.loc[table["period"].eq("previous"), "resolved"].sum() == 0:
        st.info(tr("funnel.period.no_previous"))
        return
    labelled = table.assign(period=table["period"].map(lambda p: tr(f"funnel.period.{p}")))
    labels = chart_labels(group=tr("funnel.period.group"))
    render_chart(build_conversion_chart(labelled, labels, group="period"))
    current = table.loc[table["period"].eq("current")]
    st.dataframe(
        _comparison_table(current.assign(period=tr("funnel.period.current")), "period"),
        hide_index=True,
    )
    st.text(tr("funnel.period.note"))


def render_transitions(data: dict) -> None:
    transitions = data["transitions"]
    if transitions.empty:
        st.info(tr("funnel.transitions.none"))
        return
    render_chart(build_transition_heatmap(transitions, chart_labels()))
    table = transitions.assign(kind=transitions["kind"].map(lambda k: tr(f"funnel.move.{k}")))
    table = table.drop(columns=["from_code", "to_code"])
    show_table(table, rename=lambda c: tr(f"funnel.transitions.col.{c}"))


def render_drill(data: dict, view: ViewContext, rule: str) -> None:
    selection = load_selection(view)
    names = data["stages"]
    c1, c2, c3, c4 = st.columns(4)
    stage = c1.selectbox(tr("funnel.col.stage"), names, key="funnel_drill_stage")
    outcome = c2.selectbox(
        tr("funnel.drill.outcome"),
        OUTCOMES,
        index=OUTCOMES.index("lost"),
        format_func={o: tr(f"funnel.col.{o}") for o in OUTCOMES}.__getitem__,
        key="funnel_drill_outcome",
    )
    columns = [None, *segment_columns(selection)]
    column = c3.selectbox(
        tr("funnel.segment.by"),
        columns,
        format_func={
            c: tr("funnel.drill.all") if c is None else tr(f"funnel.segment.column.{c}")
            for c in columns
        }.__getitem__,
        key="funnel_drill_column",
    )
    value = None
    if column is not None:
        from dealscope.metrics.funnel_compare import segment_labels

        options = sorted(segment_labels(selection, column).unique())
        value = c4.selectbox(
            tr("funnel.drill.value"),
            options,
            format_func={o: _segment_label(o) for o in options}.__getitem__,
            key="funnel_drill_value",
        )
    deals = drill_deals(selection, names, stage, outcome, rule, column, value)
    st.metric(tr("funnel.drill.count"), format_count(len(deals)))
    if len(deals) > DRILL_MAX_ROWS:
        # Tables and Excel files of hundreds of thousands of rows stall the page: largest first.
        st.text(tr("funnel.drill.truncated", shown=f"{DRILL_MAX_ROWS:,}"))
        deals = deals.sort_values("value", ascending=False, na_position="last").head(DRILL_MAX_ROWS)
    shown = show_table(deals, rename=lambda c: tr(f"funnel.drill.col.{c}"))
    render_downloads(shown, "funnel_deals", "funnel_drill")


def render_cohorts(view: ViewContext, rule: str) -> None:
    grain = st.radio(
        tr("funnel.cohort.grain"),
        tuple(COHORT_GRAINS),
        index=1,
        format_func={g: tr(f"funnel.cohort.grain.{g}") for g in COHORT_GRAINS}.__getitem__,
        horizontal=True,
        key="funnel_cohort_grain",
    )
    summary, stages = load_cohorts(view, rule, grain)
    if summary.empty:
        st.info(tr("funnel.cohort.none"))
        return
    st.text(tr("funnel.cohort.note"))
    render_chart(build_cohort_chart(summary, chart_labels()))
    table = pd.DataFrame(
        {
            tr("funnel.chart.cohort"): summary["cohort"].dt.date,
            tr("funnel.chart.deals"): summary["deals"],
            tr("funnel.outcome.won"): summary["won"],
            tr("funnel.outcome.lost"): summary["lost"],
            tr("funnel.outcome.open"): summary["open"],
            tr("funnel.cohort.resolved_share"): summary["resolved_share"].map(format_pct),
            tr("funnel.chart.win_rate"): rate_texts(
                summary["win_rate"], summary["ci_low"], summary["ci_high"], summary["won"],
                summary["resolved"], summary["mature"],
            ),
        }
    )  # fmt: skip
    st.dataframe(grey_rows(table, summary["mature"]), hide_index=True)
    pivot = stages.loc[stages["resolved"].gt(0)].pivot(
        index="cohort", columns="stage", values="conversion"
    )
    pivot = pivot.reindex(columns=[s for s in stages["stage"].unique() if s in pivot.columns])
    st.subheader(tr("funnel.cohort.stages"))
    st.dataframe(
        grey_rows(pivot.map(format_pct).reset_index().assign(cohort=lambda d: d["cohort"].dt.date)
                  .rename(columns={"cohort": tr("funnel.chart.cohort")}),
                  summary.set_index("cohort")["mature"].reindex(pivot.index).fillna(False)),
        hide_index=True,
    )  # fmt: skip


def render_snapshot(view: ViewContext, only_basis: bool) -> None:
    if only_basis:
        st.warning(tr("funnel.snapshot.banner"))
    st.text(tr("funnel.snapshot.note"))
    table = load_snapshot(view)
    money = _money(view)
    shown = pd.DataFrame(
        {
            tr("funnel.col.stage"): table["stage"],
            tr("funnel.snapshot.col.kind"): table["kind"].map(lambda k: tr(f"funnel.outcome.{k}")),
            tr("funnel.snapshot.col.deals"): table["deals"],
            tr("funnel.snapshot.col.value"): table["value"].map(money),
            tr("funnel.snapshot.col.at_or_beyond"): table["at_or_beyond"],
        }
    )
    st.dataframe(shown, hide_index=True)


DEFINITION_TERMS = (
    "basis_history", "basis_snapshot", "basis_cohort", "period", "entered", "furthest", "reached",
    "rule_pass", "rule_strict", "advanced", "lost", "open", "skipped_on", "skipped", "conversion",
    "cumulative", "wilson", "min_n", "lost_value", "lost_share", "where_lost", "backward", "reopen",
    "transitions", "segment_test", "period_test", "cohort_mature", "currency",
)  # fmt: skip


def render_funnel_definitions() -> None:
    render_definitions([(f"funnel.def.{k}", f"funnel.def.{k}.formula") for k in DEFINITION_TERMS])
