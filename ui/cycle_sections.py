"""Cycle-time page sections: each renders one cached result (data text only via st.dataframe,
st.text and st.metric), translating headers at the edge."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dealscope.charts.cycle import (
    build_alert_rate_chart,
    build_cif_chart,
    build_survival_chart,
    build_time_in_stage_chart,
    build_trend_chart,
)
from dealscope.formatting import format_count, format_days
from dealscope.metrics.cycle import MAX_CURVE_GROUPS, MIN_GROUP_DEALS
from dealscope.metrics.cycle_stages import history_limits
from ui.context import ViewContext
from ui.render import (
    Kpi,
    render_chart,
    render_definitions,
    render_downloads,
    render_kpi_row,
    show_table,
)
from ui.state import current_lang, tr

DAYS, PCT = "days", "pct"  # kinds of dealscope.formatting (ui.render.show_table)
DEFINITIONS = (
    "km",
    "rmst",
    "closed_only",
    "cif",
    "logrank",
    "time_in_stage",
    "stall_line",
    "stalled",
    "silent",
    "penalty",
    "alert_rate",
)


def _table(frame: pd.DataFrame, prefix: str, formats: dict | None = None) -> pd.DataFrame:
    """Show `frame` with headers tr(prefix + column) and formatted figures (`formats`: column ->
    kind); return the translated frame (for downloads)."""
    return show_table(frame, formats, rename=lambda c: tr(f"{prefix}{c}"))


def _labels(*keys: str) -> dict[str, str]:
    return {k: tr(f"cycle.chart.{k}") for k in keys}


def render_scope(view: ViewContext, close: dict) -> None:
    start, end = view.period_bounds()
    st.caption(
        tr(
            "cycle.scope",
            start=start.date(),
            end=(end - pd.Timedelta(days=1)).date(),
            n=format_count(close["summary"]["n"]),
            as_of=view.as_of.strftime("%Y-%m-%d %H:%M"),
        )
    )
    if close["undated"]:
        st.warning(tr("cycle.undated", count=close["undated"]))


def render_time_to_close(close: dict) -> None:
    lang, s = current_lang(), close["summary"]
    st.subheader(tr("cycle.close.title"))
    kpis = [
        Kpi(
            tr("cycle.kpi.median"), format_days(s["median"], lang), help=tr("cycle.kpi.help.median")
        ),
        Kpi(
            tr("cycle.kpi.rmst", horizon=int(s["horizon"] or 0)),
            format_days(s["rmst"], lang),
            help=tr("cycle.kpi.help.rmst"),
        ),
        Kpi(
            tr("cycle.kpi.closed_only_mean"),
            format_days(s["closed_only_mean"], lang),
            help=tr("cycle.kpi.help.closed_only_mean"),
        ),
        Kpi(
            tr("cycle.kpi.won_only_median"),
            format_days(s["won_only_median"], lang),
            help=tr("cycle.kpi.help.won_only_median"),
        ),
        Kpi(
            tr("cycle.kpi.censored"),
            format_count(s["censored"]),
            help=tr("cycle.kpi.help.censored"),
        ),
    ]
    render_kpi_row(kpis)
    if close["curve"] is None:
        st.info(tr("cycle.close.no_closed"))
        return
    if s["median"] is None:
        st.info(tr("cycle.close.median_not_reached"))
    render_chart(build_survival_chart(close["curve"], _labels("day", "survival", "group")))


def render_close_detail(close: dict) -> None:
    """The median and restricted mean with their intervals, and the won / lost curves."""
    s = close["summary"]
    if close["curve"] is None:
        st.info(tr("cycle.close.no_closed"))
        return
    rows = pd.DataFrame(
        {
            "figure": [
                tr("cycle.close.row.median"),
                tr("cycle.close.row.rmst", horizon=int(s["horizon"])),
            ],
            "value": [s["median"], s["rmst"]],
            "low": [s["median_low"], s["rmst_low"]],
            "high": [s["median_high"], s["rmst_high"]],
        }
    )
    _table(rows, "cycle.close.col.", {"value": DAYS, "low": DAYS, "high": DAYS})
    st.subheader(tr("cycle.cif.title"))
    st.caption(tr("cycle.cif.caption"))
    render_chart(
        build_cif_chart(close["cif"], _labels("day", "share", "series", "won", "lost", "open"))
    )
    pct = {c: PCT for c in ("cif_won", "cif_lost", "still_open")}
    _table(close["cif_marks"], "cycle.cif.col.", pct)


def render_segments(result: dict, column: str) -> None:
    st.subheader(tr("cycle.segment.title", segment=tr(f"cycle.segment.{column}")))
    if result["groups"].empty:
        st.info(tr("cycle.segment.none", min=MIN_GROUP_DEALS))
        return
    render_chart(build_survival_chart(result["curves"], _labels("day", "survival", "group")))
    _table(result["groups"], "cycle.segment.col.", {"median": DAYS})
    test = result["test"]
    if test is None:
        st.text(tr("cycle.segment.no_test"))
    else:
        st.text(
            tr(
                "cycle.segment.logrank",
                groups=len(result["groups"]),
                stat=test["statistic"],
                df=test["df"],
                p=f"{test['p_value']:.2g}",
            )
        )
    if result["left_out"]:
        st.caption(
            tr(
                "cycle.segment.left_out",
                count=result["left_out"],
                min=MIN_GROUP_DEALS,
                max=MAX_CURVE_GROUPS,
            )
        )


def render_history_notice(stage_events: pd.DataFrame) -> None:
    items = "; ".join(tr(f"cycle.history.item.{name}") for name in history_limits(stage_events))
    st.warning(tr("cycle.history.missing", items=items))


def render_time_in_stage(stages: dict, column: str) -> None:
    if stages["reopened"]:
        st.caption(tr("cycle.reopened", count=stages["reopened"]))
    st.subheader(tr("cycle.stage.title"))
    st.caption(tr("cycle.stage.caption"))
    table = stages["table"]
    if table.empty or table["n_completed"].sum() == 0:
        st.info(tr("cycle.stage.empty"))
        return
    days = {c: DAYS for c in ("median", "p75", "p90", "km_median")}
    labels = {k: tr(f"cycle.stage.col.{k}") for k in ("stage", "median", "p75", "p90")}
    render_chart(build_time_in_stage_chart(table, {**labels, "days": tr("cycle.chart.days")}))
    _table(table.drop(columns="position"), "cycle.stage.col.", days)
    st.text(tr("cycle.stage.by_segment", segment=tr(f"cycle.segment.{column}")))
    _table(stages["by_segment"].drop(columns="position"), "cycle.stage.col.", days)
    st.text(tr("cycle.stage.trend.title"))
    order = table["stage"].tolist()
    trend_labels = {
        "month": tr("cycle.stage.trend.month"),
        "median": tr("cycle.stage.col.median"),
        "stage": tr("cycle.stage.col.stage"),
        "n": tr("cycle.stage.trend.n"),
    }
    render_chart(build_trend_chart(stages["trend"], trend_labels, order))


def render_stall_penalty(stages: dict) -> None:
    st.subheader(tr("cycle.stall.title"))
    st.caption(tr("cycle.stall.caption"))
    _table(stages["lines"].drop(columns="position"), "cycle.stall.col.", {"stall_days": DAYS})
    penalty = stages["penalty"]
    if penalty.empty:
        st.info(tr("cycle.stall.no_penalty"))
        return
    rates = ("rate_past", "past_low", "past_high", "rate_within", "within_low", "within_high")
    formats = {c: PCT for c in rates} | {"penalty": "points", "stall_days": DAYS}
    _table(penalty, "cycle.stall.col.", formats)


def render_watchlists(flags: pd.DataFrame, silence_days: int, has_history: bool) -> None:
    render_kpi_row(
        [
            Kpi(tr("cycle.kpi.open"), format_count(len(flags))),
            Kpi(
                tr("cycle.kpi.stalled"),
                format_count(int(flags["stalled"].sum())) if has_history else "—",
                help=tr("cycle.kpi.help.stalled"),
            ),
            Kpi(
                tr("cycle.kpi.silent", days=silence_days),
                format_count(int(flags["silent"].sum())),
                help=tr("cycle.kpi.help.silent"),
            ),
        ],
        per_row=3,
    )
    st.caption(tr("cycle.silent.cadence_note"))
    columns = ["opportunity_id", "name", "owner", "stage", "amount"]
    if has_history:
        st.text(tr("cycle.stalled.title"))
        stalled = flags.loc[flags["stalled"], [*columns, "days_in_stage", "stall_days"]]
        stalled = stalled.assign(days_over=stalled["days_in_stage"] - stalled["stall_days"])
        _watchlist(stalled.sort_values("days_over", ascending=False), "stalled")
    st.text(tr("cycle.silent.title", days=silence_days))
    silent = flags.loc[flags["silent"], [*columns, "days_silent", "days_in_stage"]]
    if not has_history and flags["days_in_stage"].isna().all():  # else a days-in-stage column
        silent = silent.drop(columns="days_in_stage")
    _watchlist(silent.sort_values("days_silent", ascending=False), "silent")


def _watchlist(frame: pd.DataFrame, name: str) -> None:
    if frame.empty:
        st.info(tr(f"cycle.{name}.none"))
        return
    days = {c: DAYS for c in ("days_in_stage", "stall_days", "days_over", "days_silent")}
    shown = _table(frame.round(1), "cycle.list.col.", days)
    render_downloads(shown, f"dealscope_{name}", key=f"cycle_{name}")


def render_alert_rate(rate: pd.DataFrame, has_history: bool) -> None:
    st.subheader(tr("cycle.alert.title"))
    st.caption(tr("cycle.alert.caption" if has_history else "cycle.alert.silent_only"))
    if rate.empty or rate["open"].sum() == 0:
        st.info(tr("cycle.alert.empty"))
        return
    keys = ("week", "rate", "open", "stalled", "silent", "flagged")
    render_chart(build_alert_rate_chart(rate, {k: tr(f"cycle.alert.{k}") for k in keys}))


def render_cycle_definitions() -> None:
    render_definitions([(f"cycle.def.{k}", f"cycle.def.{k}.formula") for k in DEFINITIONS])


def render_current_stage_ages(ages: pd.DataFrame) -> None:
    """Without stage history: how long the open deals have been in their current stage so far,
    from the export's days-in-stage column (stage_entered_at), per stage."""
    st.caption(tr("cycle_age.caption"))
    shown = ages.loc[:, ["stage", "open_deals", "known", "median", "p75"]]
    days = {c: DAYS for c in ("median", "p75")}
    table = _table(shown, "cycle_age.col.", days)
    render_downloads(table, "dealscope_days_in_current_stage", key="cycle_stage_ages")
