"""Charts of the Funnel page: all take aggregated frames (one row per stage / segment / cohort)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from dealscope.charts import palette
from dealscope.charts.locale import AMOUNT_AXIS, AMOUNT_FORMAT, COUNT_AXIS

OUTCOME_COLORS = {
    "advanced": palette.PRIMARY,
    "lost": palette.LOST,
    "open": palette.STILL_OPEN,
    "skipped_on": palette.SKIPPED,
}


def build_funnel_chart(funnel: pd.DataFrame, labels: dict[str, str]) -> alt.Chart:
    """Stacked horizontal bars per stage from compute_stage_funnel: advanced / lost / open /
    left-by-skipping (the won stage shows its reached count as advanced).

    `labels` maps stage, deals, outcome and each outcome code to display text.
    """
    stages = funnel["stage"].tolist()
    is_won = funnel["position"].eq(funnel["position"].max())
    data = funnel.assign(advanced=funnel["advanced"].where(~is_won, funnel["reached"]))
    long = data.melt(
        id_vars=["stage"], value_vars=list(OUTCOME_COLORS), var_name="code", value_name="deals"
    )
    long["outcome"] = long["code"].map(labels)
    domain = [labels[c] for c in OUTCOME_COLORS]
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("stage:N", sort=stages, title=labels["stage"]),
            x=alt.X("deals:Q", title=labels["deals"], stack="zero", axis=alt.Axis(**COUNT_AXIS)),
            color=alt.Color(
                "outcome:N",
                title=labels["outcome"],
                scale=alt.Scale(domain=domain, range=list(OUTCOME_COLORS.values())),
                sort=domain,
            ),
            order=alt.Order("code:N"),
            tooltip=[
                alt.Tooltip("stage:N", title=labels["stage"]),
                alt.Tooltip("outcome:N", title=labels["outcome"]),
                alt.Tooltip("deals:Q", title=labels["deals"], format=","),
            ],
        )
        .properties(height=40 * len(stages) + 40)
    )


def build_conversion_chart(
    table: pd.DataFrame, labels: dict[str, str], group: str | None = None
) -> alt.LayerChart:
    """Stage conversion with its Wilson 95% interval per stage (and per `group` as colour).

    Takes compute_stage_funnel rows (stage, conversion, ci_low, ci_high, enough[, group,
    significant]); stages with too few resolved deals are drawn faint.
    """
    data = table.loc[table["resolved"].gt(0)].copy()
    data["sample"] = data["enough"].map({True: labels["enough"], False: labels["few"]})
    stages = table["stage"].drop_duplicates().tolist()
    offset = {"yOffset": alt.YOffset(f"{group}:N", title=labels["group"])} if group else {}
    color = {"color": alt.Color(f"{group}:N", title=labels["group"])} if group else {}
    base = alt.Chart(data).encode(
        y=alt.Y("stage:N", sort=stages, title=labels["stage"]), **offset, **color
    )
    tooltip = [
        alt.Tooltip("stage:N", title=labels["stage"]),
        alt.Tooltip("conversion:Q", title=labels["conversion"], format=".1%"),
        alt.Tooltip("ci_low:Q", title=labels["ci_low"], format=".1%"),
        alt.Tooltip("ci_high:Q", title=labels["ci_high"], format=".1%"),
        alt.Tooltip("resolved:Q", title=labels["resolved"], format=","),
    ]
    if group:
        tooltip.insert(0, alt.Tooltip(f"{group}:N", title=labels["group"]))
    rules = base.mark_rule().encode(
        x=alt.X("ci_low:Q", title=labels["conversion"], axis=alt.Axis(format="%")),
        x2="ci_high:Q",
        opacity=alt.Opacity("sample:N", legend=None, scale=alt.Scale(range=[1.0, 0.25])),
    )
    points = base.mark_point(filled=True, size=60).encode(
        x="conversion:Q",
        opacity=alt.Opacity("sample:N", title=labels["sample"], scale=alt.Scale(range=[1.0, 0.25])),
        tooltip=tooltip,
    )
    height = 40 * len(stages) * (max(data[group].nunique(), 1) if group else 1) ** 0.5
    return alt.layer(rules, points).properties(height=int(height) + 40)


def build_segment_heatmap(table: pd.DataFrame, labels: dict[str, str]) -> alt.LayerChart:
    """Segment × stage heatmap of conversion from compare_segments; '*' marks a difference from
    the rest larger than noise (Holm-adjusted p < 0.05); faint cells have too few deals."""
    data = table.loc[table["resolved"].gt(0)].copy()
    data["marker"] = data["significant"].map({True: "*", False: ""})
    data["sample"] = data["enough"].map({True: labels["enough"], False: labels["few"]})
    stages = table["stage"].drop_duplicates().tolist()
    base = alt.Chart(data).encode(
        x=alt.X("stage:N", sort=stages, title=labels["stage"]),
        y=alt.Y("segment:N", title=labels["group"]),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("conversion:Q", title=labels["conversion"], legend=alt.Legend(format="%")),
        opacity=alt.Opacity("sample:N", title=labels["sample"], scale=alt.Scale(range=[1.0, 0.3])),
        tooltip=[
            alt.Tooltip("segment:N", title=labels["group"]),
            alt.Tooltip("stage:N", title=labels["stage"]),
            alt.Tooltip("conversion:Q", title=labels["conversion"], format=".1%"),
            alt.Tooltip("rest_conversion:Q", title=labels["rest"], format=".1%"),
            alt.Tooltip("resolved:Q", title=labels["resolved"], format=","),
            alt.Tooltip("p_adjusted:Q", title=labels["p_adjusted"], format=".3f"),
        ],
    )
    marks = base.mark_text(fontSize=18, color="black").encode(text="marker:N")
    return alt.layer(cells, marks).properties(height=28 * data["segment"].nunique() + 60)


def build_transition_heatmap(transitions: pd.DataFrame, labels: dict[str, str]) -> alt.LayerChart:
    """From-stage × to-stage counts of moves from transition_matrix (backward moves included)."""
    order = (
        transitions.sort_values("from_code")["from_stage"].drop_duplicates().tolist()
        + transitions.sort_values("to_code")["to_stage"].drop_duplicates().tolist()
    )
    order = list(dict.fromkeys(order))
    data = transitions.assign(kind_label=transitions["kind"].map(labels))
    base = alt.Chart(data).encode(
        x=alt.X("to_stage:N", sort=order, title=labels["to"]),
        y=alt.Y("from_stage:N", sort=order, title=labels["from"]),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("moves:Q", title=labels["moves"], scale=alt.Scale(type="log")),
        tooltip=[
            alt.Tooltip("from_stage:N", title=labels["from"]),
            alt.Tooltip("to_stage:N", title=labels["to"]),
            alt.Tooltip("kind_label:N", title=labels["kind"]),
            alt.Tooltip("moves:Q", title=labels["moves"], format=","),
        ],
    )
    text = base.mark_text(color="black").encode(text=alt.Text("moves:Q", format=","))
    return alt.layer(cells, text).properties(height=40 * len(order) + 40)


def build_lost_chart(lost: pd.DataFrame, labels: dict[str, str], measure: str) -> alt.Chart:
    """Lost deals per stage stacked by reason from lost_by_stage; `measure` is deals or value."""
    stages = lost.sort_values("position")["stage"].drop_duplicates().tolist()
    fmt = "," if measure == "deals" else AMOUNT_FORMAT
    return (
        alt.Chart(lost)
        .mark_bar()
        .encode(
            y=alt.Y("stage:N", sort=stages, title=labels["stage"]),
            x=alt.X(
                f"{measure}:Q",
                title=labels[measure],
                axis=alt.Axis(**(COUNT_AXIS if measure == "deals" else AMOUNT_AXIS)),
            ),
            color=alt.Color("lost_reason:N", title=labels["reason"]),
            tooltip=[
                alt.Tooltip("stage:N", title=labels["stage"]),
                alt.Tooltip("lost_reason:N", title=labels["reason"]),
                alt.Tooltip(f"{measure}:Q", title=labels[measure], format=fmt),
            ],
        )
        .properties(height=40 * len(stages) + 40)
    )


def build_cohort_chart(summary: pd.DataFrame, labels: dict[str, str]) -> alt.LayerChart:
    """Win rate per creation cohort with its Wilson interval from compute_cohorts' summary;
    immature cohorts (too few resolved yet) are drawn grey."""
    data = summary.loc[summary["resolved"].gt(0)].assign(
        maturity=lambda d: d["mature"].map({True: labels["mature"], False: labels["immature"]})
    )
    color = alt.Color(
        "maturity:N",
        title=labels["maturity"],
        scale=alt.Scale(
            domain=[labels["mature"], labels["immature"]],
            range=[palette.PRIMARY, palette.LOW_CONFIDENCE],
        ),
    )
    base = alt.Chart(data).encode(x=alt.X("cohort:T", title=labels["cohort"]), color=color)
    rules = base.mark_rule().encode(
        y=alt.Y("ci_low:Q", title=labels["win_rate"], axis=alt.Axis(format="%")), y2="ci_high:Q"
    )
    points = base.mark_point(filled=True, size=60).encode(
        y="win_rate:Q",
        tooltip=[
            alt.Tooltip("cohort:T", title=labels["cohort"]),
            alt.Tooltip("win_rate:Q", title=labels["win_rate"], format=".1%"),
            alt.Tooltip("resolved:Q", title=labels["resolved"], format=","),
            alt.Tooltip("deals:Q", title=labels["deals"], format=","),
        ],
    )
    return alt.layer(rules, points).properties(height=320)
