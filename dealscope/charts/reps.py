"""Charts of the Reps page (aggregated frames only; labels arrive translated)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from dealscope.charts import palette
from dealscope.charts.locale import COUNT_AXIS


def build_win_rate_scatter(
    table: pd.DataFrame, by: str, common: float | None, labels: dict[str, str]
) -> alt.LayerChart:
    """Win rate (y) against closed deals (x, log scale) with Wilson 95% bars, one point per group.

    Takes compute_performance's frame (`by`, closed, won, win_rate, win_rate_ci_low/high,
    win_rate_shrunk, small_sample). Small samples are grey; a dashed rule marks the prior's
    common rate. `labels`: group, closed, won, win_rate, ci_low, ci_high, shrunk, sample, common,
    ranked, small.
    """
    data = table.loc[table["closed"] > 0].assign(
        sample=lambda f: f["small_sample"].map({True: labels["small"], False: labels["ranked"]})
    )
    data = data.loc[
        :,
        [by, "closed", "won", "win_rate", "win_rate_ci_low", "win_rate_ci_high"]
        + ["win_rate_shrunk", "sample"],
    ].rename(columns={by: "group"})
    x = alt.X("closed:Q", title=labels["closed"], scale=alt.Scale(type="log"))
    color = alt.Color(
        "sample:N",
        title=labels["sample"],
        scale=alt.Scale(
            domain=[labels["ranked"], labels["small"]],
            range=[palette.PRIMARY, palette.LOW_CONFIDENCE],
        ),
    )
    tooltip = [
        alt.Tooltip("group:N", title=labels["group"]),
        alt.Tooltip("won:Q", title=labels["won"]),
        alt.Tooltip("closed:Q", title=labels["closed"]),
        alt.Tooltip("win_rate:Q", title=labels["win_rate"], format=".1%"),
        alt.Tooltip("win_rate_ci_low:Q", title=labels["ci_low"], format=".1%"),
        alt.Tooltip("win_rate_ci_high:Q", title=labels["ci_high"], format=".1%"),
        alt.Tooltip("win_rate_shrunk:Q", title=labels["shrunk"], format=".1%"),
    ]
    base = alt.Chart(data)
    bars = base.mark_rule(opacity=0.6).encode(
        x=x,
        y=alt.Y("win_rate_ci_low:Q", title=labels["win_rate"], axis=alt.Axis(format="%")),
        y2="win_rate_ci_high:Q",
        color=color,
        tooltip=tooltip,
    )
    points = base.mark_circle(size=70, opacity=0.9).encode(
        x=x, y="win_rate:Q", color=color, tooltip=tooltip
    )
    layers = [bars, points]
    if common is not None:
        rule = alt.Chart(pd.DataFrame({"common": [common]})).mark_rule(strokeDash=[4, 4])
        layers.append(
            rule.encode(
                y="common:Q",
                tooltip=[alt.Tooltip("common:Q", title=labels["common"], format=".1%")],
            )
        )
    return alt.layer(*layers).properties(height=360)


def build_conversion_comparison_chart(
    comparison: pd.DataFrame, labels: dict[str, str]
) -> alt.Chart:
    """Grouped bars of stage conversion, owner beside team, from compare_owner_to_team's frame.

    `labels`: stage, conversion, series, owner, team.
    """
    long = comparison.melt(
        id_vars=["stage", "position"],
        value_vars=["owner_conversion", "team_conversion"],
        var_name="series",
        value_name="conversion",
    )
    long["series"] = long["series"].map(
        {"owner_conversion": labels["owner"], "team_conversion": labels["team"]}
    )
    order = comparison.sort_values("position")["stage"].tolist()
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("stage:N", title=labels["stage"], sort=order),
            xOffset=alt.XOffset("series:N", sort=[labels["owner"], labels["team"]]),
            y=alt.Y("conversion:Q", title=labels["conversion"], axis=alt.Axis(format="%")),
            color=alt.Color(
                "series:N",
                title=labels["series"],
                scale=alt.Scale(
                    domain=[labels["owner"], labels["team"]],
                    range=[palette.HIGHLIGHT, palette.PRIMARY],
                ),
            ),
            tooltip=[
                alt.Tooltip("stage:N", title=labels["stage"]),
                alt.Tooltip("series:N", title=labels["series"]),
                alt.Tooltip("conversion:Q", title=labels["conversion"], format=".1%"),
            ],
        )
        .properties(height=300)
    )


def build_monthly_outcome_chart(monthly: pd.DataFrame, labels: dict[str, str]) -> alt.Chart:
    """Stacked bars of won and lost deals per close month from monthly_outcomes' frame.

    `labels`: month, count, status, won, lost.
    """
    data = monthly.assign(
        status=monthly["status"].map({"won": labels["won"], "lost": labels["lost"]})
    )
    order = [labels["won"], labels["lost"]]
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("yearmonth(month):O", title=labels["month"]),
            y=alt.Y("count:Q", title=labels["count"], axis=alt.Axis(**COUNT_AXIS)),
            color=alt.Color(
                "status:N",
                title=labels["status"],
                sort=order,
                scale=alt.Scale(domain=order, range=[palette.WON, palette.LOST]),
            ),
            tooltip=[
                alt.Tooltip("yearmonth(month):O", title=labels["month"]),
                alt.Tooltip("status:N", title=labels["status"]),
                alt.Tooltip("count:Q", title=labels["count"]),
            ],
        )
        .properties(height=280)
    )
