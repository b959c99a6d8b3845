"""Charts of the Overview page."""

from __future__ import annotations

import altair as alt
import pandas as pd

from dealscope.charts import palette
from dealscope.periods import iso_week_labels


def build_weekly_flow_chart(flow: pd.DataFrame, labels: dict[str, str]) -> alt.Chart:
    """Lines of created / won / lost per week from weekly_flow's (week, week_label, series,
    count) frame, which holds every ISO week of the period (zeros included), so a quiet week
    dips to zero instead of being bridged by a straight line.

    `labels` maps the series codes and the axis names ("week", "count", "series") to display text.
    """
    data = flow.assign(series=flow["series"].map(labels))
    if "week_label" not in data.columns:
        data["week_label"] = iso_week_labels(data["week"])
    data["week_label"] = data["week_label"].astype(str)
    order = [labels["created"], labels["won"], labels["lost"]]
    return (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X("week:T", title=labels["week"]),
            y=alt.Y("count:Q", title=labels["count"]),
            color=alt.Color(
                "series:N",
                title=labels["series"],
                sort=order,
                scale=alt.Scale(domain=order, range=list(palette.CREATED_WON_LOST)),
            ),
            tooltip=[
                alt.Tooltip("week_label:O", title=labels["week"]),
                alt.Tooltip("week:T", title=labels["week"]),
                alt.Tooltip("series:N", title=labels["series"]),
                alt.Tooltip("count:Q", title=labels["count"]),
            ],
        )
        .properties(height=320)
    )
