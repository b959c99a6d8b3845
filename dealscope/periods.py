"""Periods people use (this week, last quarter to date, the last 90 days …) and ISO weeks.

Every preset is computed relative to the analysis date (`Dataset.as_of`, or the sidebar's as-of),
never today's clock, and clamped to the data's date range. Each preset carries its *previous
comparable period*, the one its "change vs previous period" is measured against (docs/METRICS.md,
"Periods"):

- this week / this month / this quarter: the calendar unit containing the analysis date, up to
  it; compared with the whole previous unit (progress against last week's / month's / quarter's
  total);
- quarter to date: the same days as this quarter, compared like for like with the first as many
  days of the previous quarter;
- last week: the last complete ISO week (Monday to Sunday) before the analysis date's week,
  compared with the week before it;
- last 90 days: the 90 days ending on the analysis date, compared with the 90 days before;
- all: the whole data, with no previous period.

Weeks are ISO weeks (Monday to Sunday, labelled like "2026-W46"); every weekly series is built on
a complete index of them, so a week without events is a zero rather than a gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

THIS_WEEK = "this_week"
LAST_WEEK = "last_week"
THIS_MONTH = "this_month"
THIS_QUARTER = "this_quarter"
QUARTER_TO_DATE = "quarter_to_date"
LAST_90_DAYS = "last_90d"
ALL = "all"
CUSTOM = "custom"

# The sidebar's order; CUSTOM (the date range picker) is not a preset: it has no rule of its own.
PRESETS = (THIS_WEEK, LAST_WEEK, THIS_MONTH, THIS_QUARTER, QUARTER_TO_DATE, LAST_90_DAYS, ALL)
# Tried in order for the default period: the first whose previous period lies wholly inside the
# data, so the Overview's "change vs previous period" has something to compare; else ALL.
DEFAULT_CANDIDATES = (LAST_90_DAYS, LAST_WEEK)
ROLLING_DAYS = 90


@dataclass(frozen=True)
class DateRange:
    """Whole days [start, end], both included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class PresetPeriod:
    """A preset resolved against an analysis date and the data's date range.

    `start` / `end` (inclusive) are clamped to the data's range when the preset overlaps it;
    `previous` is the previous comparable period, clamped the same way, or None when it lies
    wholly before the data (or for ALL). `clamped`: the preset reaches before the data's first
    day and was cut; `previous_partial`: the previous period was cut (it then covers fewer days
    than the preset's rule says); `in_data`: False when the preset lies wholly before the data
    (last week of an export that starts this week): start/end are then the preset's own dates
    and every figure is empty.
    """

    preset: str
    start: date
    end: date
    previous: DateRange | None
    clamped: bool = False
    previous_partial: bool = False
    in_data: bool = True


def week_monday(day: date) -> date:
    """Monday of the ISO week containing `day`."""
    return day - timedelta(days=day.weekday())


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _months_before(first_of_month: date, months: int) -> date:
    index = first_of_month.year * 12 + first_of_month.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def _unclamped(preset: str, as_of: date) -> tuple[DateRange, DateRange | None]:
    """The preset's own [start, end] and previous period, before clamping to the data."""
    if preset == THIS_WEEK:
        monday = week_monday(as_of)
        return DateRange(monday, as_of), DateRange(
            monday - timedelta(days=7), monday - timedelta(days=1)
        )
    if preset == LAST_WEEK:
        monday = week_monday(as_of) - timedelta(days=7)
        return DateRange(monday, monday + timedelta(days=6)), DateRange(
            monday - timedelta(days=7), monday - timedelta(days=1)
        )
    if preset == THIS_MONTH:
        first = as_of.replace(day=1)
        return DateRange(first, as_of), DateRange(
            _months_before(first, 1), first - timedelta(days=1)
        )
    if preset in (THIS_QUARTER, QUARTER_TO_DATE):
        first = quarter_start(as_of)
        previous_first = _months_before(first, 3)
        previous_last = first - timedelta(days=1)
        if preset == QUARTER_TO_DATE:  # like for like: as many days into the previous quarter
            previous_last = min(previous_first + (as_of - first), previous_last)
        return DateRange(first, as_of), DateRange(previous_first, previous_last)
    if preset == LAST_90_DAYS:
        start = as_of - timedelta(days=ROLLING_DAYS - 1)
        return DateRange(start, as_of), DateRange(
            start - timedelta(days=ROLLING_DAYS), start - timedelta(days=1)
        )
    raise ValueError(f"unknown period preset {preset!r}; choose one of {PRESETS}")


def resolve_preset(preset: str, as_of: date, first: date, last: date) -> PresetPeriod:
    """`preset` relative to the analysis date `as_of`, clamped to the data's days [first, last].

    ValueError for a name outside PRESETS (the sidebar validates URL values before calling).
    """
    if preset == ALL:
        return PresetPeriod(ALL, first, last, None)
    current, previous = _unclamped(preset, as_of)
    if current.end < first or current.start > last:
        return PresetPeriod(preset, current.start, current.end, None, in_data=False)
    start, end = max(current.start, first), min(current.end, last)
    clamped = start != current.start
    if previous is None or previous.end < first:
        return PresetPeriod(preset, start, end, None, clamped=clamped)
    kept = DateRange(max(previous.start, first), min(previous.end, last))
    return PresetPeriod(
        preset, start, end, kept, clamped=clamped, previous_partial=kept != previous
    )


def previous_of_range(start: date, end: date, first: date) -> DateRange | None:
    """The previous period of a custom range [start, end]: as many days, ending the day before
    `start`, clamped to the data's first day; None when it lies wholly before the data."""
    length = (end - start).days + 1
    previous = DateRange(start - timedelta(days=length), start - timedelta(days=1))
    if previous.end < first:
        return None
    return DateRange(max(previous.start, first), previous.end)


def default_preset(as_of: date, first: date, last: date) -> str:
    """The first DEFAULT_CANDIDATES preset whose whole previous period lies in the data, so the
    default view shows the change against it; ALL when the data is too short for any."""
    for preset in DEFAULT_CANDIDATES:
        period = resolve_preset(preset, as_of, first, last)
        if period.in_data and period.previous is not None and not period.previous_partial:
            return preset
    return ALL


# --- ISO weeks ----------------------------------------------------------------------------------


def iso_week_label(moment) -> str:
    """'YYYY-Www' of the ISO week containing `moment` (2021-01-03 → '2020-W53')."""
    iso = pd.Timestamp(moment).isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def iso_week_labels(moments: pd.Series | pd.DatetimeIndex) -> pd.Series:
    """iso_week_label of every value, vectorised (NaT → missing); a Series on the input's index."""
    values = pd.Series(moments) if isinstance(moments, pd.DatetimeIndex) else moments
    iso = values.dt.isocalendar()
    labels = iso["year"].astype("string") + "-W" + iso["week"].astype("string").str.zfill(2)
    return labels.astype("string")


def iso_week_starts(moments: pd.Series) -> pd.Series:
    """Monday 00:00 of the ISO week containing each moment, vectorised (NaT stays NaT)."""
    days = pd.to_timedelta(moments.dt.weekday, unit="D")
    return moments.dt.normalize() - days


def complete_weeks(start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    """Mondays of every ISO week overlapping [start, end) (end exclusive), oldest first."""
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    if end <= start:
        return pd.DatetimeIndex([], name="week")
    first = start.normalize() - pd.Timedelta(days=start.weekday())
    last_moment = end - pd.Timedelta(microseconds=1)
    last = last_moment.normalize() - pd.Timedelta(days=last_moment.weekday())
    return pd.date_range(first, last, freq="7D", name="week")


def weekly_counts(
    moments: pd.Series, start: pd.Timestamp, end: pd.Timestamp, name: str = "count"
) -> pd.Series:
    """How many `moments` fall in each ISO week overlapping [start, end): one int64 per week of
    complete_weeks(start, end), a week without any moment counted 0 (never left out)."""
    weeks = complete_weeks(start, end)
    inside = moments[(moments >= start) & (moments < end)]
    if not len(weeks):
        return pd.Series([], index=weeks, dtype="int64", name=name)
    monday_ns = weeks.to_numpy("datetime64[ns]").astype("int64")
    week_ns = np.int64(7 * 86_400 * 10**9)
    positions = (inside.to_numpy("datetime64[ns]").astype("int64") - monday_ns[0]) // week_ns
    counts = np.bincount(positions, minlength=len(weeks))[: len(weeks)]
    return pd.Series(counts.astype("int64"), index=weeks, name=name)
