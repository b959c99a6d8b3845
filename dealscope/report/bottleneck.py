"""The bottleneck stage of a week: the largest drop in stage conversion against its trailing average.

Weekly stage conversion of S = deals that advanced from S during the week / deals that advanced
from S or were lost at S during the week — the Funnel page's stage conversion (its own counts,
pass-through rule) applied to one week's flow. Deals still sitting in S are not failures (DESIGN
§4: resolved at S only). The trailing rate pools the TRAILING_WEEKS weeks before: sum advanced / sum
resolved, so busy weeks weigh more than quiet ones. The week's rate carries a Wilson 95% interval.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dealscope.metrics.funnel import PASS_THROUGH, compute_stage_funnel
from dealscope.metrics.funnel_paths import build_deal_paths, funnel_stages
from dealscope.metrics.stats import wilson_interval
from dealscope.model import OPEN
from dealscope.report.week import TRAILING_WEEKS, WEEK

# Below these a weekly rate is noise: a stage needs this many resolved deals in the week and in
# the trailing window to be named the bottleneck.
MIN_RESOLVED_WEEK = 5
MIN_RESOLVED_TRAILING = 20


def funnel_stage_conversion_by_week(
    opportunities: pd.DataFrame,
    stage_events: pd.DataFrame,
    stages: pd.DataFrame,
    weeks: list[pd.Timestamp],
) -> pd.DataFrame:
    """Per week × open stage: advanced, resolved, as weekly changes of the Funnel's own counts.

    Takes the canonical frames. The Funnel module (pass-through rule) counts, as of a date, the
    deals that advanced from each stage and those lost at it; the difference between a week's end
    and its start is the deals that advanced from / were lost at the stage during that week — the
    Funnel page's stage conversion, applied to one week's flow. A reopened deal can undo an earlier
    loss; such negative changes are floored at zero. Returns week, stage, position, advanced,
    resolved — every (week, open stage) pair, zeros included.
    """
    names = funnel_stages(stages)
    open_stages = stages.loc[stages["kind"].eq(OPEN), ["stage", "position"]]
    boundaries = sorted(set(weeks) | {w + WEEK for w in weeks})
    counts = {}
    for moment in boundaries:  # ≤ 10 week boundaries, each one vectorised funnel
        paths, _ = build_deal_paths(opportunities, stage_events, stages, moment)
        table = compute_stage_funnel(paths, names, PASS_THROUGH).set_index("stage")
        counts[moment] = table.loc[open_stages["stage"], ["advanced", "lost"]]
    frames = []
    for week in sorted(weeks):
        change = (counts[week + WEEK] - counts[week]).clip(lower=0)
        frames.append(
            pd.DataFrame(
                {
                    "week": week,
                    "stage": change.index,
                    "advanced": change["advanced"].to_numpy(),
                    "resolved": (change["advanced"] + change["lost"]).to_numpy(),
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    out["position"] = out["stage"].map(open_stages.set_index("stage")["position"])
    out[["advanced", "resolved"]] = out[["advanced", "resolved"]].astype("int64")
    return out.loc[:, ["week", "stage", "position", "advanced", "resolved"]]


def compare_stage_conversion(conversion: pd.DataFrame, week: pd.Timestamp) -> pd.DataFrame:
    """Per open stage: the week's conversion vs its trailing pooled rate.

    Takes funnel_stage_conversion_by_week's frame. Returns stage, position, advanced, resolved, rate,
    ci_low, ci_high, trailing_advanced, trailing_resolved, trailing_rate, change (rate −
    trailing_rate), eligible (enough resolved deals on both sides to be named a bottleneck).
    """
    this = conversion.loc[conversion["week"].eq(week)].set_index("stage")
    window = conversion["week"].lt(week) & conversion["week"].ge(week - TRAILING_WEEKS * WEEK)
    trailing = conversion.loc[window].groupby("stage")[["advanced", "resolved"]].sum()
    out = this.loc[:, ["position", "advanced", "resolved"]].join(
        trailing.rename(columns=lambda c: f"trailing_{c}")
    )
    out[["trailing_advanced", "trailing_resolved"]] = (
        out[["trailing_advanced", "trailing_resolved"]].fillna(0).astype("int64")
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        out["rate"] = out["advanced"] / out["resolved"].where(out["resolved"] > 0)
        out["trailing_rate"] = out["trailing_advanced"] / out["trailing_resolved"].where(
            out["trailing_resolved"] > 0
        )
    low, high = wilson_interval(out["advanced"], out["resolved"])
    out["ci_low"], out["ci_high"] = low, high
    out["change"] = out["rate"] - out["trailing_rate"]
    out["eligible"] = out["resolved"].ge(MIN_RESOLVED_WEEK) & out["trailing_resolved"].ge(
        MIN_RESOLVED_TRAILING
    )
    columns = [
        "position",
        "advanced",
        "resolved",
        "rate",
        "ci_low",
        "ci_high",
        "trailing_advanced",
        "trailing_resolved",
        "trailing_rate",
        "change",
        "eligible",
    ]
    return out.loc[:, columns].reset_index().sort_values("position").reset_index(drop=True)


def find_bottleneck(comparison: pd.DataFrame) -> dict | None:
    """The eligible stage whose conversion fell most below its trailing rate, or None.

    Takes compare_stage_conversion's frame; None when no eligible stage converted worse than its
    trailing rate (then there is no bottleneck to report this week).
    """
    candidates = comparison.loc[comparison["eligible"] & comparison["change"].lt(0)]
    if candidates.empty:
        return None
    row = candidates.sort_values(["change", "position"], kind="stable").iloc[0]
    # Whether the trailing rate lies outside the week's interval: a drop larger than noise.
    significant = bool(row["trailing_rate"] > row["ci_high"])
    return {
        "stage": str(row["stage"]),
        "advanced": int(row["advanced"]),
        "resolved": int(row["resolved"]),
        "rate": float(row["rate"]),
        "ci_low": float(row["ci_low"]),
        "ci_high": float(row["ci_high"]),
        "trailing_rate": float(row["trailing_rate"]),
        "trailing_resolved": int(row["trailing_resolved"]),
        "change": float(row["change"]),
        "outside_interval": significant,
    }
