"""Charts of follow-up activity (aggregated frames only; labels arrive translated)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from dealscope.charts.locale import COUNT_AXIS
from dealscope.periods import iso_week_labels


def build_weekly_touches_chart(weekly: pd.DataFrame, labels: dict[str, str]) -> alt.Chart:
    """Stacked bars of touches per ISO week by kind. `weekly`: week, type (translated), touches
    (weekly_touches: every week of the period, quiet ones 0). `labels`: week, touches, type.
    The x axis is the ISO week label computed in the data ("2026-W46"), as on every weekly chart."""
    data = weekly.assign(week_label=iso_week_labels(weekly["week"]).astype(str))
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X(
                "week_label:O",
                sort="ascending",
                title=labels["week"],
                axis=alt.Axis(labelOverlap="greedy", labelAngle=-45),
            ),
            y=alt.Y(
                "touches:Q", title=labels["touches"], stack="zero", axis=alt.Axis(**COUNT_AXIS)
            ),
            color=alt.Color("type:N", title=labels["type"]),
            tooltip=[
                alt.Tooltip("week_label:O", title=labels["week"]),
                alt.Tooltip("type:N", title=labels["type"]),
                alt.Tooltip("touches:Q", title=labels["touches"]),
            ],
        )
    )
