"""Charts of the Weekly review page (aggregated frames only: ≤ 9 weeks, ≤ 9 waterfall steps)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from dealscope.charts import palette
from dealscope.charts.locale import AMOUNT_AXIS, AMOUNT_FORMAT, COUNT_AXIS
from dealscope.periods import iso_week_labels

TREND_SERIES = ("new_count", "won_count", "lost_count")


def build_weekly_trend_chart(series: pd.DataFrame, labels: dict[str, str]) -> alt.Chart:
    """Grouped bars of created / won / lost per week from compute_week_series' frame.

    Takes the columns week, new_count, won_count, lost_count; `labels` maps those series codes and
    "week", "count", "series" to display text.
    """
    data = series.melt(
        id_vars="week", value_vars=list(TREND_SERIES), var_name="series", value_name="count"
    )
    data["series"] = data["series"].map(labels)
    # The ISO week label computed in the data ("2026-W46"), the HTML report's: Vega's `yearweek`
    # counts Sunday-based weeks and labelled each bar one week behind.
    data["week_label"] = iso_week_labels(data["week"]).astype(str)
    order = [labels[s] for s in TREND_SERIES]
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("week_label:O", sort="ascending", title=labels["week"]),
            xOffset=alt.XOffset("series:N", sort=order),
            y=alt.Y("count:Q", title=labels["count"], axis=alt.Axis(**COUNT_AXIS)),
            color=alt.Color(
                "series:N",
                title=labels["series"],
                sort=order,
                scale=alt.Scale(domain=order, range=list(palette.CREATED_WON_LOST)),
            ),
            tooltip=[
                alt.Tooltip("week_label:O", title=labels["week"]),
                alt.Tooltip("series:N", title=labels["series"]),
                alt.Tooltip("count:Q", title=labels["count"]),
            ],
        )
        .properties(height=280)
    )


def build_waterfall_chart(steps: pd.DataFrame, labels: dict[str, str]) -> alt.Chart:
    """The pipeline waterfall from pipeline_waterfall's frame (step, kind, count, value, low, high).

    `labels` maps each step code and "step", "value", "count" to display text.
    """
    data = steps.assign(
        label=steps["step"].map(labels),
        colour=steps["kind"].where(
            steps["kind"].eq("total"), steps["value"].ge(0).map({True: "up", False: "down"})
        ),
    )
    order = data["label"].tolist()
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("label:N", sort=order, title=labels["step"], axis=alt.Axis(labelAngle=-30)),
            y=alt.Y("low:Q", title=labels["value"], axis=alt.Axis(**AMOUNT_AXIS)),
            y2="high:Q",
            color=alt.Color(
                "colour:N",
                legend=None,
                scale=alt.Scale(
                    domain=["total", "up", "down"],
                    range=[palette.PRIMARY, palette.RISE, palette.FALL],
                ),
            ),
            tooltip=[
                alt.Tooltip("label:N", title=labels["step"]),
                alt.Tooltip("count:Q", title=labels["count"]),
                alt.Tooltip("value:Q", title=labels["value"], format=AMOUNT_FORMAT),
            ],
        )
        .properties(height=300)
    )
