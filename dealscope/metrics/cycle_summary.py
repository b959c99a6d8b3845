"""The `cycle` block of `metrics --json`: time to close, time in stage, stalled and silent counts."""

from __future__ import annotations

import math

import pandas as pd

from dealscope.metrics.cycle import close_outcomes, km_summary
from dealscope.metrics.cycle_stages import count_reopened, history_limits
from dealscope.metrics.stage_times import time_in_stage_summary
from dealscope.metrics.stall import (
    DEFAULT_SILENCE_DAYS,
    compute_stage_intervals,
    compute_stall_lines,
    current_stage_ages,
    flag_open_deals,
)
from dealscope.model import Dataset

WON_ONLY_BASIS = (
    "won deals only: median of closed_at - created_at over won deals; open and lost deals are "
    "left out, so it understates how long deals take (see km_median_days_to_close)"
)


def _number(value) -> float | None:
    """A JSON-safe float: None for missing or NaN."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else round(value, 3)


def compute_cycle_document(
    dataset: Dataset, as_of: pd.Timestamp, silence_days: float = DEFAULT_SILENCE_DAYS
) -> dict:
    """The cycle-time CLI fields of a dataset as of `as_of` (opportunities, stage_events, stages)."""
    opps, events, stages = dataset.opportunities, dataset.stage_events, dataset.stages
    km = km_summary(close_outcomes(opps, as_of))
    document = {
        "deals": km["n"],
        "censored_open": km["censored"],
        "km_median_days_to_close": _number(km["median"]),
        "km_median_ci95": [_number(km["median_low"]), _number(km["median_high"])],
        "km_restricted_mean_days": _number(km["rmst"]),
        "km_restricted_mean_ci95": [_number(km["rmst_low"]), _number(km["rmst_high"])],
        "restricted_mean_horizon_days": _number(km["horizon"]),
        "closed_only_mean_days_biased": _number(km["closed_only_mean"]),
        "median_days_created_to_won": _number(km["won_only_median"]),
        "median_days_created_to_won_basis": WON_ONLY_BASIS,
        "silence_days": silence_days,
        "unavailable_without_stage_history": history_limits(events),
    }
    intervals = compute_stage_intervals(events, stages, as_of)
    lines = compute_stall_lines(intervals, stages)
    flags = flag_open_deals(opps, intervals, lines, as_of, silence_days)
    summary = time_in_stage_summary(events, stages, as_of)
    named = summary.rename(
        columns={"n_completed": "completed_visits", "n_current": "current_visits"}
    )
    figures = ["median", "p75", "p90", "km_median", "completed_visits", "current_visits"]
    document["time_in_stage"] = {
        str(stage): {k: (int(v) if k.endswith("visits") else _number(v)) for k, v in row.items()}
        for stage, row in named.set_index("stage")[figures].to_dict("index").items()
    }
    document["stall_line_days"] = {
        str(stage): _number(days)
        for stage, days in zip(lines["stage"], lines["stall_days"], strict=True)
    }
    ages = current_stage_ages(flags, stages)
    document["days_in_current_stage"] = {
        str(row["stage"]): {
            "open_deals": int(row["open_deals"]),
            "known": int(row["known"]),
            "median": _number(row["median"]),
            "p75": _number(row["p75"]),
        }
        for row in ages.to_dict("records")
    }
    document["reopened"] = count_reopened(intervals)
    document["open"] = len(flags)
    document["stalled"] = int(flags["stalled"].sum()) if not events.empty else None
    document["silent"] = int(flags["silent"].sum())
    return document
