"""Charts of the Overview page."""

from __future__ import annotations

import altair as alt
import pandas as pd

from dealscope.charts import palette
from dealscope.charts.locale import COUNT_AXIS


def build_weekly_flow_chart(flow: pd.DataFrame, labels: dict[str, str]) -> alt.Chart:
    """Lines of created / won / lost per week from weekly_flow's (week, series, count) frame.

    `labels` maps the series codes and the axis names ("week", "count", "series") to display text.
    """
    data = flow.assign(series=flow["series"].map(labels))
    order = [labels["created"], labels["won"], labels["lost"]]
    return (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X("week:T", title=labels["week"]),
            y=alt.Y("count:Q", title=labels["count"], axis=alt.Axis(**COUNT_AXIS)),
            color=alt.Color(
                "series:N",
                title=labels["series"],
                sort=order,
                scale=alt.Scale(domain=order, range=list(palette.CREATED_WON_LOST)),
            ),
            tooltip=[
                alt.Tooltip("week:T", title=labels["week"]),
                alt.Tooltip("series:N", title=labels["series"]),
                alt.Tooltip("count:Q", title=labels["count"]),
            ],
        )
        .properties(height=320)
    )
