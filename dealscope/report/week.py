"""The week of a weekly review: ISO week selection, the week's KPIs and its movement tables.

A week is an ISO week, Monday 00:00 to the next Monday 00:00 ([start, end)), in the dataset's own
time zone. Every figure of week w is computed *as of w's end*, so a past week reads the same as it
did on that Sunday night (the stall lines and flags included), not with hindsight. The one field we
cannot rewind is last_activity_at: a deal whose last recorded activity lies after a past week's end
cannot be judged silent at that end (flag_open_deals leaves it unflagged), so silence in past weeks
is a lower bound.
"""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd

from dealscope.errors import DealScopeError
from dealscope.metrics.cycle_stages import alert_rate_by_week, week_ends
from dealscope.metrics.kpis import infer_as_of, priced_amount, status_as_of
from dealscope.metrics.stall import (
    DEFAULT_SILENCE_DAYS,
    SECONDS_PER_DAY,
    compute_stage_intervals,
    compute_stall_lines,
    flag_open_deals,
)
from dealscope.model import LOST, OPEN, WON
from dealscope.periods import iso_week_label

WEEK = pd.Timedelta(days=7)
TRAILING_WEEKS = 8
_WEEK_RE = re.compile(r"^\s*(\d{4})-?W(\d{1,2})\s*$", re.IGNORECASE)

# Columns of compute_week_series (one row per week); the KPI table's rows, in display order.
# (column, kind): kind drives formatting and how the trailing average is taken.
KPI_ROWS = (
    ("new_count", "count"),
    ("new_value", "amount"),
    ("won_count", "count"),
    ("won_value", "amount"),
    ("lost_count", "count"),
    ("lost_value", "amount"),
    ("win_rate", "pct"),
    ("win_rate_value", "pct"),
    ("pipeline_count", "count"),
    ("pipeline_value", "amount"),
    ("advances", "count"),
    ("regressions", "count"),
    ("newly_stalled", "count"),
    ("newly_silent", "count"),
    ("trigger_rate", "pct"),
)


class WeekError(DealScopeError):
    """A week that is malformed or outside the data."""


def parse_iso_week(text: str) -> pd.Timestamp:
    """The Monday 00:00 starting ISO week `text` ('2026-W46'); WeekError when malformed."""
    match = _WEEK_RE.match(str(text))
    if not match:
        raise WeekError(key="errors.week.not_iso", week=str(text))
    year, week = int(match.group(1)), int(match.group(2))
    try:
        return pd.Timestamp(date.fromisocalendar(year, week, 1))
    except ValueError as exc:
        raise WeekError(
            key="errors.week.no_such_week", week=str(text), year=year, number=week
        ) from exc


def week_label(monday: pd.Timestamp) -> str:
    """'YYYY-Www' of the ISO week containing `monday` (dealscope.periods.iso_week_label, the
    one label of the app's charts and the report)."""
    return iso_week_label(monday)


def week_start(moment: pd.Timestamp) -> pd.Timestamp:
    """Monday 00:00 of the ISO week containing `moment`."""
    moment = pd.Timestamp(moment)
    return moment.normalize() - pd.Timedelta(days=moment.weekday())


def last_complete_week(as_of: pd.Timestamp) -> pd.Timestamp:
    """Monday of the last ISO week that ended at or before `as_of` (the default week)."""
    # The week containing as_of has not ended yet (it ends the following Monday 00:00), unless
    # as_of is exactly Monday 00:00 — then the week before ended at that very moment.
    return week_start(as_of) - WEEK


def available_weeks(opportunities: pd.DataFrame, as_of: pd.Timestamp) -> list[pd.Timestamp]:
    """Mondays of every complete ISO week from the first created_at to `as_of`, newest first."""
    first = opportunities["created_at"].min()
    if pd.isna(first):
        return []
    last = last_complete_week(as_of)
    start = week_start(first)
    if last < start:
        return []
    return list(pd.date_range(start, last, freq="7D"))[::-1]


def resolve_week(
    text: str | None, opportunities: pd.DataFrame, as_of: pd.Timestamp
) -> pd.Timestamp:
    """The Monday of week `text` (default: the last complete week); WeekError when outside the data."""
    weeks = available_weeks(opportunities, as_of)
    if not weeks:
        raise WeekError(key="errors.week.no_complete_week")
    if text is None:
        return weeks[0]
    monday = parse_iso_week(text)
    if monday not in set(weeks):
        raise WeekError(
            key="errors.week.outside_data",
            week=week_label(monday),
            first=week_label(weeks[-1]),
            last=week_label(weeks[0]),
        )
    return monday


def intervals_as_of(intervals: pd.DataFrame, moment: pd.Timestamp) -> pd.DataFrame:
    """compute_stage_intervals' frame as it was at `moment`, derived from one computed later.

    Equal to compute_stage_intervals(events, stages, moment) (tested) without re-sorting and
    re-mapping every event for each week: an entry after `moment` is dropped, and an exit after
    `moment` is not known yet, so that interval is current (no exit, next stage or move).
    """
    known = intervals.loc[intervals["entered_at"] <= moment]
    later = known["exited_at"].isna() | (known["exited_at"] > moment)
    end = known["exited_at"].where(~later, moment)
    return known.assign(
        exited_at=known["exited_at"].where(~later),
        next_stage=known["next_stage"].where(~later),
        days=(end - known["entered_at"]).dt.total_seconds() / SECONDS_PER_DAY,
        is_current=later,
        advanced=known["advanced"] & ~later,
        regressed=known["regressed"] & ~later,
    )


def flags_at(
    opportunities: pd.DataFrame,
    intervals: pd.DataFrame,
    stages: pd.DataFrame,
    moment: pd.Timestamp,
    silence_days: float = DEFAULT_SILENCE_DAYS,
) -> pd.DataFrame:
    """flag_open_deals as of `moment`, with stall lines learnt from the history known then.

    Takes opportunities and compute_stage_intervals' frame computed at or after `moment`.
    """
    known = intervals_as_of(intervals, moment)
    lines = compute_stall_lines(known, stages)
    return flag_open_deals(opportunities, known, lines, moment, silence_days)


def compute_week_series(
    opportunities: pd.DataFrame,
    stage_events: pd.DataFrame,
    stages: pd.DataFrame,
    weeks: list[pd.Timestamp],
    currency: str | None,
    silence_days: float = DEFAULT_SILENCE_DAYS,
    intervals: pd.DataFrame | None = None,
    as_of: pd.Timestamp | None = None,
    as_of_intervals: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per week (Monday) in `weeks`: the columns of KPI_ROWS plus week, open_at_end, flagged.

    Takes canonical opportunities, stage_events and stages. new = created in the week; won/lost =
    closed in it (count, value); win_rate = won / (won + lost); pipeline = open at the week's end;
    advances / regressions = stage moves out of a stage during the week (moves, not deals; NaN
    without stage history); newly stalled / silent = flagged at the week's end but not at the end
    of the week before; trigger_rate, open_at_end, flagged = cycle_trigger_rates (the Cycle-time
    page's figure, with the stall lines of `as_of`, default the data's latest timestamp).
    `intervals` (compute_stage_intervals at or after the last week's end) is computed when not
    given; so is `as_of_intervals` (compute_stage_intervals at exactly `as_of`, for the trigger
    rate's stall lines).
    """
    has_history = not stage_events.empty
    # Without any activity date nobody can be judged silent: unknown, not zero.
    has_activity = bool(opportunities["last_activity_at"].notna().any())
    amount = priced_amount(opportunities, currency).fillna(0.0)
    created, closed, status = (
        opportunities["created_at"],
        opportunities["closed_at"],
        opportunities["status"],
    )
    if intervals is None:
        intervals = compute_stage_intervals(stage_events, stages, _far_end(weeks))
    rows = []
    # Flags at the end of the week before the first one, so its "newly" figures have a baseline.
    ordered = sorted(weeks)
    ends = sorted(set(ordered) | {w + WEEK for w in ordered})
    flags_by_end = {
        end: flags_at(opportunities, intervals, stages, end, silence_days) for end in ends
    }
    for start in ordered:
        end = start + WEEK
        new = created.ge(start) & created.lt(end)
        closed_in = closed.ge(start) & closed.lt(end)
        won, lost = closed_in & status.eq(WON), closed_in & status.eq(LOST)
        open_at_end = created.lt(end) & status_as_of(opportunities, end).eq(OPEN)
        exits = intervals["exited_at"].ge(start) & intervals["exited_at"].lt(end)
        flags, previous_flags = flags_by_end[end], flags_by_end[start]
        won_value, lost_value = float(amount[won].sum()), float(amount[lost].sum())
        rows.append(
            {
                "week": start,
                "new_count": int(new.sum()),
                "new_value": float(amount[new].sum()),
                "won_count": int(won.sum()),
                "won_value": won_value,
                "lost_count": int(lost.sum()),
                "lost_value": lost_value,
                "win_rate": _ratio(won.sum(), won.sum() + lost.sum()),
                "win_rate_value": _ratio(won_value, won_value + lost_value),
                "pipeline_count": int(open_at_end.sum()),
                "pipeline_value": float(amount[open_at_end].sum()),
                "advances": int((exits & intervals["advanced"]).sum()) if has_history else np.nan,
                "regressions": int((exits & intervals["regressed"]).sum())
                if has_history
                else np.nan,
                "newly_stalled": _newly(flags, previous_flags, "stalled")
                if has_history
                else np.nan,
                "newly_silent": _newly(flags, previous_flags, "silent") if has_activity else np.nan,
            }
        )
    if as_of is None:  # undated data has no export date: the last week end stands in for it
        as_of = infer_as_of(opportunities, stage_events)
        as_of = as_of if as_of is not None else max(ends)
    rates = cycle_trigger_rates(
        opportunities, stage_events, stages, ordered, as_of, silence_days, as_of_intervals
    )
    series = pd.DataFrame(rows).merge(rates, on="week", how="left")
    if not (has_history or has_activity):
        # Neither signal can fire: a 0% trigger rate would claim a healthy pipeline.
        series["trigger_rate"] = np.nan
    return series


def _far_end(weeks: list[pd.Timestamp]) -> pd.Timestamp:
    return (max(weeks) + WEEK) if weeks else pd.Timestamp.max


def _ratio(numerator, denominator) -> float:
    return float(numerator) / float(denominator) if denominator else np.nan


def _newly(flags: pd.DataFrame, previous: pd.DataFrame, column: str) -> int:
    """Deals flagged `column` in `flags` and not in `previous` (absent there counts as not)."""
    before = set(previous.loc[previous[column], "opportunity_id"])
    now = flags.loc[flags[column], "opportunity_id"]
    return int((~now.isin(before)).sum())


def cycle_trigger_rates(
    opportunities: pd.DataFrame,
    stage_events: pd.DataFrame,
    stages: pd.DataFrame,
    weeks: list[pd.Timestamp],
    as_of: pd.Timestamp,
    silence_days: float = DEFAULT_SILENCE_DAYS,
    intervals: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per week: week, open_at_end, flagged, trigger_rate from the Cycle module's
    alert_rate_by_week — the Cycle-time page's weekly risk-alert trigger rate (open deals stalled
    or silent ÷ open deals at each week's end, with the stall lines of `as_of`). `intervals`:
    compute_stage_intervals at exactly `as_of`, computed when not given."""
    if not weeks:
        return pd.DataFrame(columns=["week", "open_at_end", "flagged", "trigger_rate"])
    if intervals is None:
        intervals = compute_stage_intervals(stage_events, stages, as_of)
    lines = compute_stall_lines(intervals, stages)
    frame = week_ends(min(weeks), max(weeks) + WEEK, as_of)
    rates = alert_rate_by_week(opportunities, intervals, lines, frame, silence_days)
    rates = rates.loc[rates["week"].isin(weeks)]
    return pd.DataFrame(
        {
            "week": rates["week"].to_numpy(),
            "open_at_end": rates["open"].astype("int64").to_numpy(),
            "flagged": rates["flagged"].astype("int64").to_numpy(),
            "trigger_rate": rates["rate"].astype("float64").to_numpy(),
        }
    )


# Figures that need close dates: unknown (NaN, shown as "—"), never 0, for an export with none.
CLOSE_METRICS = ("won_count", "won_value", "lost_count", "lost_value", "win_rate", "win_rate_value")


def compute_kpi_table(
    series: pd.DataFrame, week: pd.Timestamp, closes_dated: bool = True
) -> pd.DataFrame:
    """The KPI table of `week` from compute_week_series' frame.

    `closes_dated` False (closed deals, none with a close date): the CLOSE_METRICS rows are
    unknown (NaN), since no deal can be placed in the week it closed.

    Returns metric, kind, this_week, previous_week, trailing_avg, trailing_weeks. trailing_avg is
    over the TRAILING_WEEKS weeks before `week` that are in the series: the mean for counts and
    values, the pooled ratio for rates (sum won / sum closed), which weights weeks by their size.
    """
    indexed = series.set_index("week")
    this = indexed.loc[week] if week in indexed.index else None
    previous = indexed.loc[week - WEEK] if (week - WEEK) in indexed.index else None
    trailing = indexed.loc[(indexed.index < week) & (indexed.index >= week - TRAILING_WEEKS * WEEK)]
    pooled = {
        "win_rate": _ratio(
            trailing["won_count"].sum(), trailing[["won_count", "lost_count"]].sum().sum()
        ),
        "win_rate_value": _ratio(
            trailing["won_value"].sum(), trailing[["won_value", "lost_value"]].sum().sum()
        ),
        "trigger_rate": _ratio(trailing["flagged"].sum(), trailing["open_at_end"].sum()),
    }
    rows = []
    for metric, kind in KPI_ROWS:
        if metric in pooled:
            avg = pooled[metric] if not trailing.empty else np.nan
        else:
            avg = float(trailing[metric].mean()) if not trailing.empty else np.nan
        rows.append(
            {
                "metric": metric,
                "kind": kind,
                "this_week": np.nan if this is None else this[metric],
                "previous_week": np.nan if previous is None else previous[metric],
                "trailing_avg": avg,
                "trailing_weeks": len(trailing),
            }
        )
    table = pd.DataFrame(rows)
    for column in ("this_week", "previous_week", "trailing_avg"):
        table[column] = pd.to_numeric(table[column], errors="coerce").astype("float64")
    if not closes_dated:
        table.loc[
            table["metric"].isin(CLOSE_METRICS), ["this_week", "previous_week", "trailing_avg"]
        ] = np.nan
    return table
