"""Charts of the Overview page."""

from __future__ import annotations

import altair as alt
import pandas as pd

from dealscope.charts import palette
from dealscope.charts.locale import COUNT_AXIS
from dealscope.periods import iso_week_labels


def build_weekly_flow_chart(flow: pd.DataFrame, labels: dict[str, str]) -> alt.LayerChart:
    """Lines of created / won / lost per ISO week from weekly_flow's frame (week, week_label,
    days, series, count), which holds every week of the period, zeros included, so a quiet week
    dips to zero instead of being bridged by a straight line.

    The x axis is the ISO week label computed in the data ("2026-W46"), not a Vega time axis
    (whose week ticks fall on Sundays and whose dates shift with the browser's time zone). A week
    the period covers only in part (`days` < 7: its first and the running last week) is drawn
    with a hollow point, so its lower count does not read as a drop.

    `labels` maps the series codes and "week", "count", "series" to display text; optional
    "monday" and "days" name the tooltip's Monday date and days-in-period lines.
    """
    data = flow.assign(series=flow["series"].map(labels))
    if "week_label" not in data.columns:
        data["week_label"] = iso_week_labels(data["week"])
    data["week_label"] = data["week_label"].astype(str)
    if "days" not in data.columns:
        data["days"] = 7
    data["partial"] = data["days"].lt(7)
    order = [labels["created"], labels["won"], labels["lost"]]
    scale = alt.Scale(domain=order, range=list(palette.CREATED_WON_LOST))
    color = alt.Color("series:N", title=labels["series"], sort=order, scale=scale)
    tooltip = [alt.Tooltip("week_label:O", title=labels["week"])]
    if "monday" in labels:
        tooltip.append(alt.Tooltip("week:T", title=labels["monday"], format="%Y-%m-%d"))
    if "days" in labels:
        tooltip.append(alt.Tooltip("days:Q", title=labels["days"]))
    tooltip += [
        alt.Tooltip("series:N", title=labels["series"]),
        alt.Tooltip("count:Q", title=labels["count"]),
    ]
    base = alt.Chart(data).encode(
        x=alt.X(
            "week_label:O",
            sort="ascending",
            title=labels["week"],
            axis=alt.Axis(labelOverlap="greedy", labelAngle=-45),
        ),
        y=alt.Y("count:Q", title=labels["count"], axis=alt.Axis(**COUNT_AXIS)),
        color=color,
    )
    # The outline takes the series colour (color); the fill too, emptied for a partial week.
    points = base.mark_point(filled=False, size=40, strokeWidth=2).encode(
        fill=alt.Fill("series:N", sort=order, scale=scale, legend=None),
        fillOpacity=alt.condition("datum.partial", alt.value(0.0), alt.value(1.0)),
        tooltip=tooltip,
    )
    return alt.layer(base.mark_line(), points).properties(height=320)
