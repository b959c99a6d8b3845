"""Charts of the Risk page (aggregated frames only: ≤ 10 reliability bins, 3 tiers)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from dealscope.charts import palette
from dealscope.charts.locale import COUNT_AXIS


def reliability_frame(card: dict, labels: dict[str, str]) -> pd.DataFrame:
    """The card's reliability bins of the model and the baseline as one long frame:
    series, mean_predicted, observed, weight."""
    frames = []
    for key in ("metrics", "baseline"):
        bins = pd.DataFrame(card[key].get("reliability", []))
        if not bins.empty:
            frames.append(bins.assign(series=labels[key]))
    if not frames:
        return pd.DataFrame(columns=["series", "mean_predicted", "observed", "weight"])
    return pd.concat(frames, ignore_index=True)


def build_reliability_chart(frame: pd.DataFrame, labels: dict[str, str]) -> alt.LayerChart:
    """Observed loss rate against mean predicted probability per bin, with the diagonal.

    Takes reliability_frame's (series, mean_predicted, observed, weight); `labels` names the axes
    ("predicted", "observed", "series", "weight").
    """
    diagonal = (
        alt.Chart(pd.DataFrame({"x": [0.0, 1.0], "y": [0.0, 1.0]}))
        .mark_line(strokeDash=[4, 4], color=palette.REFERENCE)
        .encode(x="x:Q", y="y:Q")
    )
    points = (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("mean_predicted:Q", title=labels["predicted"], scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("observed:Q", title=labels["observed"], scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("series:N", title=labels["series"]),
            tooltip=[
                alt.Tooltip("series:N", title=labels["series"]),
                alt.Tooltip("mean_predicted:Q", title=labels["predicted"], format=".2f"),
                alt.Tooltip("observed:Q", title=labels["observed"], format=".2f"),
                alt.Tooltip("weight:Q", title=labels["weight"], format=",.0f"),
            ],
        )
    )
    return alt.layer(diagonal, points).properties(height=320)


def build_tier_chart(counts: pd.DataFrame, labels: dict[str, str]) -> alt.Chart:
    """Bars of open deals per tier from tier_counts' (tier, count, amount); `labels` maps the
    tier codes and the axis names ("tier", "count") to display text."""
    data = counts.assign(label=counts["tier"].map(labels))
    order = [labels[t] for t in ("high", "medium", "low")]
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("label:N", title=labels["tier"], sort=order, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("count:Q", title=labels["count"], axis=alt.Axis(**COUNT_AXIS)),
            color=alt.Color(
                "label:N",
                sort=order,
                legend=None,
                scale=alt.Scale(domain=order, range=list(palette.HIGH_MEDIUM_LOW_RISK)),
            ),
            tooltip=[
                alt.Tooltip("label:N", title=labels["tier"]),
                alt.Tooltip("count:Q", title=labels["count"]),
            ],
        )
        .properties(height=240)
    )
