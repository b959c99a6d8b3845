"""Charts of the Cycle-time page. Each takes an aggregated frame (curve points per day, one row
per stage or week) and already-translated labels; none ever receives deal rows."""

from __future__ import annotations

import altair as alt
import pandas as pd

from dealscope.charts import palette
from dealscope.charts.locale import NUMBER_AXIS
from dealscope.periods import iso_week_labels


def build_survival_chart(points: pd.DataFrame, labels: dict[str, str]) -> alt.LayerChart:
    """Share of deals still open by day: curve_points' (group), day, survival, ci_low, ci_high.

    With a `group` column one coloured step line per group; without it one line and its 95% band.
    """
    base = alt.Chart(points)
    x = alt.X("day:Q", title=labels["day"], axis=alt.Axis(**NUMBER_AXIS))
    y = alt.Y("survival:Q", title=labels["survival"], axis=alt.Axis(format="%"))
    tooltip = [
        alt.Tooltip("day:Q", title=labels["day"]),
        alt.Tooltip("survival:Q", title=labels["survival"], format=".1%"),
    ]
    if "group" in points.columns:
        tooltip.insert(0, alt.Tooltip("group:N", title=labels["group"]))
        line = base.mark_line(interpolate="step-after").encode(
            x=x, y=y, color=alt.Color("group:N", title=labels["group"]), tooltip=tooltip
        )
        return alt.layer(line).properties(height=340)
    band = base.mark_area(interpolate="step-after", opacity=0.25, color=palette.PRIMARY).encode(
        x=x, y=alt.Y("ci_low:Q", title=labels["survival"]), y2="ci_high:Q"
    )
    line = base.mark_line(interpolate="step-after", color=palette.PRIMARY).encode(
        x=x, y=y, tooltip=tooltip
    )
    rule = (
        alt.Chart(pd.DataFrame({"half": [0.5]}))
        .mark_rule(strokeDash=[4, 4], color="#888")
        .encode(y="half:Q")
    )
    return alt.layer(band, line, rule).properties(height=340)


def build_cif_chart(points: pd.DataFrame, labels: dict[str, str]) -> alt.Chart:
    """Stacked shares won / lost / still open by day from curve_points' day, cif_won, cif_lost,
    survival frame: at every day the three add up to 100%."""
    long = points.melt(
        id_vars="day", value_vars=["cif_won", "cif_lost", "survival"], var_name="series"
    )
    names = {"cif_won": labels["won"], "cif_lost": labels["lost"], "survival": labels["open"]}
    long["series"] = long["series"].map(names)
    order = [labels["won"], labels["lost"], labels["open"]]
    long["order"] = long["series"].map({name: i for i, name in enumerate(order)})
    return (
        alt.Chart(long)
        .mark_area(interpolate="step-after")
        .encode(
            x=alt.X("day:Q", title=labels["day"], axis=alt.Axis(**NUMBER_AXIS)),
            y=alt.Y("value:Q", title=labels["share"], stack=True, axis=alt.Axis(format="%")),
            color=alt.Color(
                "series:N",
                title=labels["series"],
                sort=order,
                scale=alt.Scale(domain=order, range=[palette.WON, palette.LOST, palette.CENSORED]),
            ),
            order=alt.Order("order:Q"),
            tooltip=[
                alt.Tooltip("day:Q", title=labels["day"]),
                alt.Tooltip("series:N", title=labels["series"]),
                alt.Tooltip("value:Q", title=labels["share"], format=".1%"),
            ],
        )
        .properties(height=300)
    )


def build_time_in_stage_chart(table: pd.DataFrame, labels: dict[str, str]) -> alt.LayerChart:
    """Median bar with P75 and P90 ticks per stage, from time_in_stage's stage, position, median,
    p75, p90 frame (stages in pipeline order)."""
    order = table.sort_values("position")["stage"].tolist()
    base = alt.Chart(table).encode(y=alt.Y("stage:N", title=labels["stage"], sort=order))
    tooltip = [alt.Tooltip("stage:N", title=labels["stage"])] + [
        alt.Tooltip(f"{c}:Q", title=labels[c], format=".1f") for c in ("median", "p75", "p90")
    ]
    bars = base.mark_bar(color=palette.PRIMARY).encode(
        x=alt.X("median:Q", title=labels["days"], axis=alt.Axis(**NUMBER_AXIS)), tooltip=tooltip
    )
    spread = base.mark_rule(color="#555").encode(x="median:Q", x2="p90:Q")
    p75 = base.mark_tick(color=palette.HIGHLIGHT, thickness=3, size=18).encode(
        x="p75:Q", tooltip=tooltip
    )
    p90 = base.mark_tick(color=palette.LOST, thickness=3, size=18).encode(
        x="p90:Q", tooltip=tooltip
    )
    return alt.layer(bars, spread, p75, p90).properties(height=40 * max(len(table), 3))


def build_trend_chart(trend: pd.DataFrame, labels: dict[str, str], order: list[str]) -> alt.Chart:
    """Median days in stage per month from time_in_stage_trend's month, stage, n, median frame."""
    return (
        alt.Chart(trend)
        .mark_line(point=True)
        .encode(
            x=alt.X("month:T", title=labels["month"]),
            y=alt.Y("median:Q", title=labels["median"], axis=alt.Axis(**NUMBER_AXIS)),
            color=alt.Color("stage:N", title=labels["stage"], sort=order),
            tooltip=[
                alt.Tooltip("month:T", title=labels["month"], format="%Y-%m"),
                alt.Tooltip("stage:N", title=labels["stage"]),
                alt.Tooltip("median:Q", title=labels["median"], format=".1f"),
                alt.Tooltip("n:Q", title=labels["n"]),
            ],
        )
        .properties(height=300)
    )


def build_alert_rate_chart(rate: pd.DataFrame, labels: dict[str, str]) -> alt.Chart:
    """Weekly risk-alert trigger rate from alert_rate_by_week's week, open, stalled, silent,
    flagged, rate frame (every ISO week of the period), on ISO week labels ("2026-W46") computed
    in the data, as on every weekly chart."""
    data = rate.assign(week_label=iso_week_labels(rate["week"]).astype(str))
    return (
        alt.Chart(data)
        .mark_line(point=alt.OverlayMarkDef(color=palette.LOST), color=palette.LOST)
        .encode(
            x=alt.X(
                "week_label:O",
                sort="ascending",
                title=labels["week"],
                axis=alt.Axis(labelOverlap="greedy", labelAngle=-45),
            ),
            y=alt.Y("rate:Q", title=labels["rate"], axis=alt.Axis(format="%")),
            tooltip=[
                alt.Tooltip("week_label:O", title=labels["week"]),
                alt.Tooltip("rate:Q", title=labels["rate"], format=".1%"),
                alt.Tooltip("open:Q", title=labels["open"]),
                alt.Tooltip("stalled:Q", title=labels["stalled"]),
                alt.Tooltip("silent:Q", title=labels["silent"]),
                alt.Tooltip("flagged:Q", title=labels["flagged"]),
            ],
        )
        .properties(height=280)
    )
