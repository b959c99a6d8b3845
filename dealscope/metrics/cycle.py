"""Time to close (DESIGN §4, METHODS §6.3): Kaplan–Meier with intervals, restricted mean, curves
by segment with a log-rank test, and time to win vs time to loss as cumulative incidence.

Every deal created by the as-of date is a subject; closed deals are events at their close date,
open deals are right-censored at the as-of date. Averages over closed deals only are reported next
to the KM figures, labelled as biased, because that is the number managers usually quote.
Per-group work runs on all groups at once (groupby / cumsum), never in a Python loop over groups.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dealscope.metrics.logrank import logrank_test
from dealscope.metrics.stats import Z_95
from dealscope.metrics.survival import SECONDS_PER_DAY, kaplan_meier_table
from dealscope.model import LOST, OPEN, WON

# Restricted mean horizon: "of the first year, how many days is a deal open on average". Clipped
# to the longest follow-up, because the KM curve is unknown beyond it.
DEFAULT_HORIZON_DAYS = 365.0
# The segments the page compares, and how many of the largest groups get their own curve.
SEGMENT_CHOICES = ("region", "industry", "source", "customer_type", "owner")
MAX_CURVE_GROUPS = 12
MIN_GROUP_DEALS = 20
NAT = np.iinfo("int64").min  # NaT viewed as int64
CIF_MARKS = (30, 60, 90, 180)


def created_between(
    opportunities: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp
) -> pd.DataFrame:
    """The opportunities created in [start, end) (a cohort, followed to the as-of date)."""
    created = opportunities["created_at"]
    return opportunities.loc[created.ge(start) & created.lt(end)]


def close_outcomes(
    opportunities: pd.DataFrame, as_of: pd.Timestamp, columns: tuple[str, ...] = ()
) -> pd.DataFrame:
    """close_durations plus outcome (won / lost / open = censored) and the requested columns.

    Takes opportunities; returns opportunity_id, days, closed, outcome, *columns: the same rows and
    values as close_durations (a test checks), computed on numpy arrays because pandas' text
    comparisons dominate at a million deals. A missing status counts as open (censored).
    """
    created = opportunities["created_at"].to_numpy("datetime64[ns]").view("int64")
    closed_at = opportunities["closed_at"].to_numpy("datetime64[ns]").view("int64")
    status = opportunities["status"].to_numpy(dtype=object, na_value=OPEN)
    has_close = closed_at != NAT
    # status_as_of: a deal closed after as_of was still open then.
    outcome = np.where(has_close & (closed_at > as_of.value), OPEN, status)
    closed = outcome != OPEN
    end = np.where(closed, closed_at, as_of.value)
    # close_durations' rows: dated, created by as_of, and a close date when closed.
    keep = (created != NAT) & (created <= as_of.value) & (~closed | has_close)
    seconds = (end[keep] - created[keep]) / 1e9  # as Series.dt.total_seconds() computes it
    durations = pd.DataFrame(
        {
            "opportunity_id": opportunities["opportunity_id"].array[keep],
            "days": np.clip(seconds / SECONDS_PER_DAY, 0.0, None),
            "closed": closed[keep],
            "outcome": outcome[keep],
        }
    )
    for column in columns:
        durations[column] = opportunities[column].array[keep]
    return durations


def km_with_intervals(
    days: pd.Series, observed: pd.Series, group: pd.Series | None = None, z: float = Z_95
) -> pd.DataFrame:
    """kaplan_meier_table plus pointwise 95% bounds (exponential Greenwood, as lifelines).

    Returns (group), time, at_risk, events, survival, greenwood, ci_low, ci_high.
    """
    table = (
        kaplan_meier_table(days, observed, group) if group is not None else _km_one(days, observed)
    )
    keys = table["group"] if group is not None else None
    n = table["at_risk"].to_numpy(dtype="float64")
    d = table["events"].to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(n > d, d / (n * (n - d)), 0.0)  # lifelines sets the n == d term to 0
        table["greenwood"] = (
            pd.Series(term, index=table.index).groupby(keys).cumsum()
            if group is not None
            else np.cumsum(term)
        )
        log_s = np.log(table["survival"].to_numpy())
        spread = z * np.sqrt(table["greenwood"].to_numpy()) / log_s
        low = np.exp(-np.exp(np.log(-log_s) - spread))
        high = np.exp(-np.exp(np.log(-log_s) + spread))
    # Where S = 1 (no event yet) or S = 0 the transform is undefined; lifelines reports 1.0.
    table["ci_low"] = np.where(np.isnan(low), 1.0, low)
    table["ci_high"] = np.where(np.isnan(high), 1.0, high)
    return table


def _km_one(days: pd.Series, observed: pd.Series) -> pd.DataFrame:
    """kaplan_meier_table(days, observed) for one sample from two plain sorts and binary
    searches instead of a two-key groupby (several times faster at 1M deals; a test checks the
    tables are equal)."""
    values = np.asarray(days, dtype="float64")
    every = np.sort(values)
    closes = np.sort(values[np.asarray(observed, dtype=bool)])
    distinct = np.ones(every.size, dtype=bool)
    distinct[1:] = every[1:] != every[:-1]
    times = every[distinct]
    at_risk = every.size - np.flatnonzero(distinct)  # deals with days ≥ t
    events = np.searchsorted(closes, times, "right") - np.searchsorted(closes, times, "left")
    survival = np.cumprod(1.0 - events / at_risk)
    return pd.DataFrame({"time": times, "at_risk": at_risk, "events": events, "survival": survival})


def _first_time_at_or_below(time: pd.Series, curve: pd.Series, level: float) -> float | None:
    reached = time[curve <= level]
    return float(reached.iloc[0]) if not reached.empty else None


def restricted_mean(table: pd.DataFrame, horizon: float) -> tuple[float, float]:
    """Area under one KM step curve from 0 to `horizon`, and its variance.

    Takes km_with_intervals' table (one group). Variance: Σ_{t_i ≤ τ} A_i² d_i / (n_i (n_i − d_i)),
    A_i = area under S from t_i to τ (Klein & Moeschberger §4.5).
    """
    inside = table.loc[table["time"] <= horizon]
    times = np.concatenate([[0.0], inside["time"].to_numpy(), [horizon]])
    levels = np.concatenate([[1.0], inside["survival"].to_numpy()])
    pieces = np.diff(times) * levels  # S is constant between consecutive times
    area = float(pieces.sum())
    tail_area = np.cumsum(pieces[::-1])[::-1][1:]  # A_i: area after each event time
    n = inside["at_risk"].to_numpy(dtype="float64")
    d = inside["events"].to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(n > d, d / (n * (n - d)), 0.0)
    return area, float(np.sum(tail_area**2 * term))


def km_summary(durations: pd.DataFrame, horizon: float = DEFAULT_HORIZON_DAYS) -> dict:
    """Median and restricted mean time to close with 95% intervals, and the biased closed-only mean.

    Takes close_outcomes' frame (days, closed, outcome). Values are days or None when undefined.
    """
    n = len(durations)
    closed = durations["closed"].astype(bool)
    summary = {
        "n": n,
        "closed": int(closed.sum()),
        "censored": int(n - closed.sum()),
        "median": None,
        "median_low": None,
        "median_high": None,
        "horizon": None,
        "rmst": None,
        "rmst_low": None,
        "rmst_high": None,
        "closed_only_mean": float(durations.loc[closed, "days"].mean()) if closed.any() else None,
        "won_only_median": None,
    }
    won_days = durations.loc[durations["outcome"].eq(WON), "days"]
    if not won_days.empty:
        summary["won_only_median"] = float(won_days.median())
    if n == 0 or not closed.any():
        return summary
    table = km_with_intervals(durations["days"], closed)
    summary["median"] = _first_time_at_or_below(table["time"], table["survival"], 0.5)
    summary["median_low"] = _first_time_at_or_below(table["time"], table["ci_low"], 0.5)
    summary["median_high"] = _first_time_at_or_below(table["time"], table["ci_high"], 0.5)
    tau = float(min(horizon, durations["days"].max()))
    area, variance = restricted_mean(table, tau)
    half = Z_95 * np.sqrt(variance)
    summary.update(horizon=tau, rmst=area, rmst_low=area - half, rmst_high=area + half)
    return summary


def curve_points(table: pd.DataFrame, columns: tuple[str, ...] = ("survival",)) -> pd.DataFrame:
    """Thin a step curve to at most one point per whole day (per group), for charts.

    Takes a table with (group), time and `columns`; returns (group), day, *columns, starting at
    day 0 with the curve's initial value, so a chart ships hundreds of points, not deal rows.
    """
    by = ["group"] if "group" in table.columns else []
    thin = table.assign(day=np.ceil(table["time"]).astype("int64"))
    thin = thin.drop_duplicates([*by, "day"], keep="last").loc[:, [*by, "day", *columns]]
    start_values = {c: (1.0 if c in ("survival", "ci_low", "ci_high") else 0.0) for c in columns}
    starts = (
        thin.drop_duplicates(by).loc[:, by].assign(day=0, **start_values)
        if by
        else pd.DataFrame([{"day": 0, **start_values}])
    )
    thin = thin.loc[thin["day"] > 0]
    return pd.concat([starts, thin], ignore_index=True).sort_values([*by, "day"], kind="stable")


def top_groups(values: pd.Series, limit: int = MAX_CURVE_GROUPS) -> list:
    """The `limit` most frequent non-null values having at least MIN_GROUP_DEALS rows."""
    counts = values.value_counts()
    return counts[counts >= MIN_GROUP_DEALS].index[:limit].tolist()


def segment_survival(durations: pd.DataFrame, column: str) -> dict:
    """KM curves, per-group medians and a log-rank test across the largest groups of `column`.

    Takes close_outcomes' frame with `column`; returns {"curves": group, day, survival, ci_low,
    ci_high; "groups": group, n, closed, median; "test": statistic, p_value, df or None;
    "left_out": deals in groups too small or beyond MAX_CURVE_GROUPS}.
    """
    groups = top_groups(durations[column].dropna())
    chosen = durations.loc[durations[column].isin(groups)]
    result = {"left_out": int(len(durations) - len(chosen)), "test": None}
    if chosen.empty:
        result["curves"] = pd.DataFrame(columns=["group", "day", "survival", "ci_low", "ci_high"])
        result["groups"] = pd.DataFrame(columns=["group", "n", "closed", "median"])
        return result
    group = chosen[column].astype(str).reset_index(drop=True)
    table = km_with_intervals(
        chosen["days"].reset_index(drop=True), chosen["closed"].reset_index(drop=True), group
    )
    result["curves"] = curve_points(table, ("survival", "ci_low", "ci_high"))
    medians = table.loc[table["survival"] <= 0.5].groupby("group")["time"].first()
    stats = chosen.assign(group=group.to_numpy()).groupby("group")["closed"].agg(["size", "sum"])
    result["groups"] = (
        stats.rename(columns={"size": "n", "sum": "closed"})
        .assign(median=medians.reindex(stats.index))
        .reset_index()
        .sort_values("n", ascending=False, kind="stable")
        .reset_index(drop=True)
    )
    if len(groups) >= 2 and chosen["closed"].any():
        test = logrank_test(chosen["days"], chosen[column], chosen["closed"])
        result["test"] = {
            "statistic": test.statistic,
            "p_value": test.p_value,
            "df": test.degrees_of_freedom,
        }
    return result


def cumulative_incidence(durations: pd.DataFrame) -> pd.DataFrame:
    """Aalen–Johansen cumulative incidence of won and of lost (competing risks), open censored.

    Takes close_outcomes' frame; returns time, at_risk, won, lost, cif_won, cif_lost, survival.
    CIF_k(t) = Σ_{t_i ≤ t} S(t_i−) d_k(t_i) / n(t_i): "win rate as a curve" — the share of deals
    won by day t, never inflated by pretending open deals cannot still be won or lost.
    """
    frame = pd.DataFrame(
        {
            "time": durations["days"].to_numpy(dtype="float64"),
            "won": (durations["outcome"].eq(WON) & durations["closed"]).to_numpy(dtype="int64"),
            "lost": (durations["outcome"].eq(LOST) & durations["closed"]).to_numpy(dtype="int64"),
        }
    )
    table = (
        frame.groupby("time", sort=True)
        .agg(count=("won", "size"), won=("won", "sum"), lost=("lost", "sum"))
        .reset_index()
    )
    table["at_risk"] = len(frame) - (table["count"].cumsum() - table["count"])
    events = table["won"] + table["lost"]
    table["survival"] = (1.0 - events / table["at_risk"]).cumprod()
    before = table["survival"].shift(1, fill_value=1.0)  # S just before each time
    table["cif_won"] = (before * table["won"] / table["at_risk"]).cumsum()
    table["cif_lost"] = (before * table["lost"] / table["at_risk"]).cumsum()
    return table.loc[:, ["time", "at_risk", "won", "lost", "cif_won", "cif_lost", "survival"]]


def cif_at(cif: pd.DataFrame, marks: tuple[int, ...] = CIF_MARKS) -> pd.DataFrame:
    """Cumulative incidence of won / lost read at the given days (step curve, last value ≤ day).

    Takes cumulative_incidence' frame; returns day, cif_won, cif_lost, still_open (= S(day)).
    """
    if cif.empty:
        return pd.DataFrame(columns=["day", "cif_won", "cif_lost", "still_open"])
    index = np.searchsorted(cif["time"].to_numpy(), np.asarray(marks, dtype="float64"), "right")
    rows = np.clip(index - 1, 0, None)
    picked = cif.iloc[rows].loc[:, ["cif_won", "cif_lost", "survival"]].to_numpy()
    picked[index == 0] = [0.0, 0.0, 1.0]  # before the first close nobody has closed
    out = pd.DataFrame(picked, columns=["cif_won", "cif_lost", "still_open"])
    out.insert(0, "day", list(marks))
    return out
