"""Funnel comparisons: segments against the rest, this period against the previous, and cohorts.

The noise test (docs/METRICS.md "Funnel"): per stage, a two-sided two-proportion z-test (pooled)
of the group's stage conversion against the conversion of all other deals in the selection; the
p-values of every test on screen are Holm-adjusted together (family-wise error ≤ ALPHA), and a test
is run only when both sides have at least MIN_RESOLVED resolved deals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.stats import norm

from dealscope.metrics.funnel import (
    FUNNEL_COLUMNS,
    MIN_RESOLVED,
    PASS_THROUGH,
    compute_stage_funnel,
)
from dealscope.metrics.funnel_paths import in_period
from dealscope.metrics.stats import wilson_interval
from dealscope.model import LOST, OPEN, WON

ALPHA = 0.05
# Segments beyond the largest TOP_SEGMENTS (by deals) are pooled, so a 500-owner column stays legible.
TOP_SEGMENTS = 12
OTHER, MISSING = "(other)", "(missing)"
# A cohort is mature when this share of its deals is resolved and at least this many are
# (leak-finder's rule); immature cohorts are shown greyed, not compared.
MATURE_SHARE = 0.8
MATURE_MIN_RESOLVED = 20
COHORT_GRAINS = {"week": "W-SUN", "month": "M", "quarter": "Q"}


def two_proportion_test(k1: ArrayLike, n1: ArrayLike, k2: ArrayLike, n2: ArrayLike) -> np.ndarray:
    """Two-sided p-values of the pooled two-proportion z-test (vectorised); NaN where undefined."""
    k1, n1, k2, n2 = (np.asarray(x, dtype="float64") for x in (k1, n1, k2, n2))
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = (k1 + k2) / (n1 + n2)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        z = (k1 / n1 - k2 / n2) / se
    p = 2 * norm.sf(np.abs(z))
    return np.where(np.isfinite(z), p, np.where((n1 > 0) & (n2 > 0) & (se == 0), 1.0, np.nan))


def holm_adjust(p_values: ArrayLike) -> np.ndarray:
    """Holm step-down adjusted p-values (vectorised); NaN inputs stay NaN and are not counted."""
    p = np.asarray(p_values, dtype="float64")
    out = np.full(p.shape, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    if valid.size == 0:
        return out
    order = valid[np.argsort(p[valid], kind="stable")]
    m = order.size
    adjusted = np.maximum.accumulate(p[order] * (m - np.arange(m)))
    out[order] = np.minimum(adjusted, 1.0)
    return out


def _test_against(table: pd.DataFrame, group: str, reference: pd.DataFrame) -> pd.DataFrame:
    """Add rest_* columns (reference − group), p_value, p_adjusted and significant."""
    ref = reference.set_index("position")
    rest_adv = table["position"].map(ref["advanced"]) - table["advanced"]
    rest_res = table["position"].map(ref["resolved"]) - table["resolved"]
    table = table.assign(rest_advanced=rest_adv, rest_resolved=rest_res)
    table["rest_conversion"] = rest_adv / rest_res.replace(0, np.nan)
    testable = table["resolved"].ge(MIN_RESOLVED) & rest_res.ge(MIN_RESOLVED)
    p = two_proportion_test(table["advanced"], table["resolved"], rest_adv, rest_res)
    table["p_value"] = np.where(testable, p, np.nan)
    table["p_adjusted"] = holm_adjust(table["p_value"])
    table["significant"] = table["p_adjusted"].lt(ALPHA)
    return table


def segment_labels(paths: pd.DataFrame, column: str, top: int = TOP_SEGMENTS) -> pd.Series:
    """The segment of each deal in `column`: the `top` largest values, else OTHER; nulls MISSING."""
    values = paths[column].astype("string").fillna(MISSING)
    largest = values.value_counts().index[:top]
    return values.where(values.isin(largest), OTHER).astype(str)


def compare_segments(
    paths: pd.DataFrame, stage_names: list[str], column: str, rule: str = PASS_THROUGH
) -> pd.DataFrame:
    """Stage conversion per segment of `column` vs the rest of the selection, with the noise test.

    Takes build_deal_paths rows; returns compute_stage_funnel's columns with `segment`, plus
    rest_advanced, rest_resolved, rest_conversion, p_value, p_adjusted, significant.
    """
    labelled = paths.loc[:, list(FUNNEL_COLUMNS)].assign(segment=segment_labels(paths, column))
    table = compute_stage_funnel(labelled, stage_names, rule, by="segment")
    overall = compute_stage_funnel(paths, stage_names, rule)
    return _test_against(table, "segment", overall)


def compare_periods(
    paths: pd.DataFrame,
    stage_names: list[str],
    start: pd.Timestamp,
    end: pd.Timestamp,
    rule: str = PASS_THROUGH,
    previous_period: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> pd.DataFrame:
    """Stage conversion of deals created in [start, end) vs the previous period: `previous_period`
    ([start, end), the sidebar preset's, dealscope.periods) when given, else the one of equal
    length ending at `start`.

    Returns compute_stage_funnel's columns with `period` ∈ {current, previous}; the current rows
    carry the test against the previous ones (rest_* = previous).
    """
    previous_start, previous_end = previous_period or (start - (end - start), start)
    paths = paths.loc[:, [*FUNNEL_COLUMNS, "created_at"]]
    current = compute_stage_funnel(in_period(paths, start, end), stage_names, rule)
    before = compute_stage_funnel(in_period(paths, previous_start, previous_end), stage_names, rule)
    # Testing current against current+previous minus current = previous: reuse _test_against.
    both = current.set_index("position")[["advanced", "resolved"]]
    both = both + before.set_index("position")[["advanced", "resolved"]]
    tested = _test_against(current.assign(period="current"), "period", both.reset_index())
    return pd.concat([tested, before.assign(period="previous")], ignore_index=True)


def compute_cohorts(
    paths: pd.DataFrame, stage_names: list[str], grain: str = "month", rule: str = PASS_THROUGH
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Deals grouped by creation week/month/quarter and followed to the as-of date.

    Returns (summary, stages). summary: cohort, deals, won, lost, open, resolved, resolved_share,
    mature, win_rate, ci_low, ci_high. stages: compute_stage_funnel rows per `cohort` plus mature.
    """
    if grain not in COHORT_GRAINS:
        raise ValueError(f"grain must be one of {tuple(COHORT_GRAINS)}, got {grain!r}")
    dated = paths.loc[paths["created_at"].notna().to_numpy(), [*FUNNEL_COLUMNS, "created_at"]]
    cohort = dated["created_at"].dt.to_period(COHORT_GRAINS[grain]).dt.start_time
    status = dated["status"]
    summary = (
        pd.DataFrame(
            {
                "cohort": cohort.to_numpy(),
                "won": status.eq(WON).to_numpy(),
                "lost": status.eq(LOST).to_numpy(),
                "open": status.eq(OPEN).to_numpy(),
            }
        )
        .groupby("cohort")
        .agg(deals=("won", "size"), won=("won", "sum"), lost=("lost", "sum"), open=("open", "sum"))
        .reset_index()
    )
    summary["resolved"] = summary["won"] + summary["lost"]
    summary["resolved_share"] = summary["resolved"] / summary["deals"]
    summary["mature"] = summary["resolved_share"].ge(MATURE_SHARE) & summary["resolved"].ge(
        MATURE_MIN_RESOLVED
    )
    summary["win_rate"] = summary["won"] / summary["resolved"].replace(0, np.nan)
    summary["ci_low"], summary["ci_high"] = wilson_interval(summary["won"], summary["resolved"])
    stages = compute_stage_funnel(
        dated.assign(cohort=cohort.to_numpy()), stage_names, rule, by="cohort"
    )
    stages = stages.merge(summary[["cohort", "mature"]], on="cohort", how="left")
    return summary, stages
