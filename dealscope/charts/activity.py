"""Charts of follow-up activity (aggregated frames only; labels arrive translated)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from dealscope.charts.locale import COUNT_AXIS


def build_weekly_touches_chart(weekly: pd.DataFrame, labels: dict[str, str]) -> alt.Chart:
    """Stacked bars of touches per week by kind. `weekly`: week, type (translated), touches.
    `labels`: week, touches, type."""
    return (
        alt.Chart(weekly)
        .mark_bar()
        .encode(
            x=alt.X("week:T", title=labels["week"]),
            y=alt.Y(
                "touches:Q", title=labels["touches"], stack="zero", axis=alt.Axis(**COUNT_AXIS)
            ),
            color=alt.Color("type:N", title=labels["type"]),
            tooltip=[
                alt.Tooltip("week:T", title=labels["week"]),
                alt.Tooltip("type:N", title=labels["type"]),
                alt.Tooltip("touches:Q", title=labels["touches"]),
            ],
        )
    )
