"""Time in stage, the win-rate penalty past the stall line and the weekly risk-alert trigger rate.

Built on metrics.stall: a stage *visit* is one row of compute_stage_intervals (entry → next entry).
A deal that returns to a stage has one visit per return (HubSpot's "latest time in" counts only the
last; we count each, and the stall line does the same, so the two stay comparable).
Quantiles are over *completed* visits (exited by the as-of date); visits still running are counted
beside them and enter the censoring-aware KM median, because completed-only quantiles understate
time in a stage for the same reason closed-only averages understate time to close.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dealscope.metrics.kpis import status_as_of
from dealscope.metrics.stall import DEFAULT_SILENCE_DAYS
from dealscope.metrics.stats import wilson_interval
from dealscope.metrics.survival import km_median_by_group
from dealscope.model import LOST, OPEN, WON

QUANTILES = {"median": 0.5, "p75": 0.75, "p90": 0.9}
TIME_IN_STAGE_COLUMNS = ("n_completed", "n_current", "median", "p75", "p90", "km_median")
NS_PER_DAY = 86_400 * 10**9


def time_in_stage(
    intervals: pd.DataFrame, stages: pd.DataFrame, by: pd.Series | None = None
) -> pd.DataFrame:
    """Per open stage (and group of `by`, aligned to intervals): n_completed, n_current, median,
    p75, p90 (completed visits) and km_median (all visits, running ones censored).

    Takes compute_stage_intervals' frame; returns stage, position, (group), *TIME_IN_STAGE_COLUMNS.
    """
    visits = intervals.loc[intervals["kind"].eq(OPEN)]
    keys = ["stage"]
    if by is not None:
        visits = visits.assign(group=by.loc[visits.index].to_numpy())
        visits = visits.loc[visits["group"].notna()]
        keys = ["group", "stage"]
    columns = ["stage", "position", *(["group"] if by is not None else []), *TIME_IN_STAGE_COLUMNS]
    if visits.empty:
        return pd.DataFrame(columns=columns)
    counts = pd.DataFrame(
        {
            "n_completed": (~visits["is_current"]).groupby([visits[k] for k in keys]).sum(),
            "n_current": visits["is_current"].groupby([visits[k] for k in keys]).sum(),
        }
    ).astype("int64")
    # One quantile at a time, aligned on the keys: stages with no completed visit get NaN.
    grouped = visits.loc[~visits["is_current"]].groupby(keys, observed=True)["days"]
    quantiles = counts.assign(**{name: grouped.quantile(q) for name, q in QUANTILES.items()})
    # One KM per (group, stage) in a single pass: the pair is joined into one text key.
    visit_key = _pair_key(visits, by is not None)
    km = km_median_by_group(
        visits["days"].reset_index(drop=True),
        (~visits["is_current"]).reset_index(drop=True),
        visit_key.reset_index(drop=True),
    )
    table = quantiles.reset_index()
    table["km_median"] = _pair_key(table, by is not None).map(km).to_numpy()
    positions = stages.loc[stages["kind"].eq(OPEN)].set_index("stage")["position"]
    table["position"] = table["stage"].map(positions)
    table = table.loc[table["position"].notna()]
    order = ["group", "position"] if by is not None else ["position"]
    return table.sort_values(order, kind="stable").loc[:, columns].reset_index(drop=True)


def _pair_key(frame: pd.DataFrame, grouped: bool) -> pd.Series:
    stage = frame["stage"].astype(str)
    return frame["group"].astype(str) + "\x1f" + stage if grouped else stage


def time_in_stage_trend(intervals: pd.DataFrame, freq: str = "M") -> pd.DataFrame:
    """Median days per open stage by month of *exit* (completed visits only).

    Takes compute_stage_intervals' frame; returns month (period start), stage, n, median.
    Months are those in which visits ended, so a month's figure never waits for slow deals.
    """
    done = intervals.loc[intervals["kind"].eq(OPEN) & ~intervals["is_current"]]
    month = done["exited_at"].dt.to_period(freq).dt.start_time
    return (
        done.assign(month=month)
        .groupby(["month", "stage"], observed=True)["days"]
        .agg(n="size", median="median")
        .reset_index()
    )


def stall_penalty(
    intervals: pd.DataFrame, stall_lines: pd.DataFrame, opportunities: pd.DataFrame, as_of
) -> pd.DataFrame:
    """Per open stage: win rate of closed deals whose longest completed visit to it exceeded the
    stall line vs. those that stayed within it, with Wilson 95% intervals.

    Takes compute_stage_intervals' frame, compute_stall_lines' frame and opportunities; returns
    stage, stall_days, n_past, won_past, rate_past, past_low, past_high, n_within, won_within,
    rate_within, within_low, within_high, penalty (rate_past − rate_within).
    """
    status = status_as_of(opportunities, as_of)
    outcome = pd.Series(status.to_numpy(), index=opportunities["opportunity_id"].to_numpy())
    visits = intervals.loc[intervals["kind"].eq(OPEN) & ~intervals["is_current"]]
    longest = visits.groupby(["opportunity_id", "stage"], observed=True)["days"].max().reset_index()
    longest["outcome"] = longest["opportunity_id"].map(outcome)
    longest = longest.loc[longest["outcome"].isin([WON, LOST])]
    longest["stall_days"] = longest["stage"].map(stall_lines.set_index("stage")["stall_days"])
    longest = longest.loc[longest["stall_days"].notna()]
    longest["past"] = longest["days"] > longest["stall_days"]
    longest["won"] = longest["outcome"].eq(WON)
    counts = (
        longest.groupby(["stage", "past"], observed=True)["won"]
        .agg(["size", "sum"])
        .unstack(fill_value=0)
    )
    out = stall_lines.loc[:, ["stage", "position", "stall_days"]].set_index("stage")
    for flag, name in ((True, "past"), (False, "within")):
        n = counts.get(("size", flag), pd.Series(dtype="int64")).reindex(out.index).fillna(0)
        won = counts.get(("sum", flag), pd.Series(dtype="int64")).reindex(out.index).fillna(0)
        out[f"n_{name}"] = n.astype("int64")
        out[f"won_{name}"] = won.astype("int64")
        out[f"rate_{name}"] = (won / n).where(n > 0)
        out[f"{name}_low"], out[f"{name}_high"] = wilson_interval(won, n)
    out["penalty"] = out["rate_past"] - out["rate_within"]
    out = out.loc[out["stall_days"].notna()].reset_index()
    return out.sort_values("position").drop(columns="position").reset_index(drop=True)


def week_ends(start: pd.Timestamp, end: pd.Timestamp, as_of: pd.Timestamp) -> pd.DataFrame:
    """The ISO weeks (Monday starts) overlapping [start, end) and the moment each is evaluated:
    the week's end, or `as_of` for the running week. Returns week, at."""
    first = start.normalize() - pd.Timedelta(days=start.weekday())
    stop = min(end, as_of)
    weeks = pd.date_range(first, stop, freq="7D")
    weeks = weeks[weeks < stop]  # a week counts when it starts before the stop
    at = pd.Series(weeks + pd.Timedelta(days=7)).clip(upper=as_of)
    return pd.DataFrame({"week": weeks, "at": at.to_numpy()})


def _covering(lower: np.ndarray, upper: np.ndarray, points: np.ndarray) -> np.ndarray:
    """For each point W, how many windows satisfy lower < W < upper (int64 nanoseconds)."""
    valid = lower < upper
    lower, upper = np.sort(lower[valid]), np.sort(upper[valid])
    return np.searchsorted(lower, points, "left") - np.searchsorted(upper, points, "right")


def alert_rate_by_week(
    opportunities: pd.DataFrame,
    intervals: pd.DataFrame,
    stall_lines: pd.DataFrame,
    weeks: pd.DataFrame,
    silence_days: float = DEFAULT_SILENCE_DAYS,
) -> pd.DataFrame:
    """Risk-alert trigger rate per week: open deals stalled or silent ÷ open deals, at each `at`.

    Takes opportunities, compute_stage_intervals' frame, compute_stall_lines' frame and
    week_ends' frame; returns week, at, open, stalled, silent, flagged, rate. Each deal and stage
    visit becomes a time window ("open", "stalled", "silent"); counting windows that cover each
    week's end is a sorted search, with no loop over deals or weeks. Silence at a past week is
    known only when the last activity lies before it (later activity hides earlier ones), so past
    silent counts are lower bounds. Stall lines are those of the as-of date.
    """
    points = weeks["at"].to_numpy("datetime64[ns]").astype("int64")
    far = np.iinfo("int64").max
    created = opportunities["created_at"].to_numpy("datetime64[ns]").astype("int64")
    closed_at = opportunities["closed_at"]
    has_close = closed_at.notna().to_numpy()
    is_open = opportunities["status"].eq(OPEN).to_numpy()
    close = closed_at.to_numpy("datetime64[ns]").astype("int64")
    # Open while created ≤ W < close; a closed deal without a close date is never counted open.
    close = np.where(has_close, close, np.where(is_open, far, np.iinfo("int64").min))
    dated = opportunities["created_at"].notna().to_numpy()
    open_low = np.where(dated, created - 1, far)  # W ≥ created  ⇔  W > created − 1 ns
    activity = opportunities["last_activity_at"]
    silent_from = (activity + pd.Timedelta(days=silence_days)).to_numpy("datetime64[ns]")
    silent_from = np.where(activity.notna(), silent_from.astype("int64"), far)

    visits = intervals.loc[intervals["kind"].eq(OPEN)].copy()
    visits["stall_days"] = visits["stage"].map(stall_lines.set_index("stage")["stall_days"])
    visits = visits.loc[visits["stall_days"].notna()]
    row = pd.Series(np.arange(len(opportunities)), index=opportunities["opportunity_id"].to_numpy())
    deal = visits["opportunity_id"].map(row)
    visits, deal = visits.loc[deal.notna()], deal.dropna().astype("int64").to_numpy()
    entered = visits["entered_at"].to_numpy("datetime64[ns]").astype("int64")
    stall_from = entered + (visits["stall_days"].to_numpy() * NS_PER_DAY).astype("int64")
    exited = visits["exited_at"].to_numpy("datetime64[ns]").astype("int64")
    exited = np.where(visits["exited_at"].notna().to_numpy(), exited, far)
    stall_low = np.maximum(stall_from, open_low[deal])
    stall_high = np.minimum(exited, close[deal])
    silent_low = np.maximum(silent_from, open_low)
    open_count = _covering(open_low, close, points)
    stalled = _covering(stall_low, stall_high, points)
    silent = _covering(silent_low, close, points)
    # A deal has one current visit at a time, so stalled ∩ silent windows never double count.
    both = _covering(np.maximum(stall_low, silent_low[deal]), stall_high, points)
    flagged = stalled + silent - both
    out = weeks.assign(open=open_count, stalled=stalled, silent=silent, flagged=flagged)
    out["rate"] = (out["flagged"] / out["open"]).where(out["open"] > 0)
    return out


def count_reopened(intervals: pd.DataFrame) -> int:
    """Deals that entered a won or lost stage and later another stage (METHODS §6.9).

    Takes compute_stage_intervals' frame. Their time to close still runs from creation to the
    final close (close_durations uses created_at and closed_at); the page reports how many there are.
    """
    left_closed = intervals["kind"].isin([WON, LOST]) & ~intervals["is_current"].astype(bool)
    return int(intervals.loc[left_closed, "opportunity_id"].nunique())


def history_limits(stage_events: pd.DataFrame) -> list[str]:
    """The figures that need stage history (names of i18n keys' suffixes) when there is none."""
    if not stage_events.empty:
        return []
    return ["time_in_stage", "stall_lines", "stalled", "stall_penalty", "alert_stalled"]
