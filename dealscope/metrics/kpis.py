"""Headline KPIs (Overview page and `metrics --json`), all computed as of a date.

Definitions (docs/METRICS.md): win rate = won / (won + lost), open deals never in the denominator;
by value = won amount / (won + lost amount); median days to win = median of closed_at − created_at
over won deals (won-only, and labelled so). Amounts are summed only within one currency.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dealscope.metrics.stats import safe_ratio
from dealscope.model import LOST, OPEN, WON, text_codes
from dealscope.model import infer_as_of as infer_as_of  # re-exported; it lives with Dataset.as_of
from dealscope.periods import iso_week_labels, weekly_counts

DATE_FIELDS = ("created_at", "closed_at", "expected_close_at", "last_activity_at")


def main_currency(opportunities: pd.DataFrame) -> str | None:
    """The most common currency (the first seen on a tie); value figures are computed in it alone."""
    return _most_common(*text_codes(opportunities["currency"]))


def priced_amount(opportunities: pd.DataFrame, currency: str | None) -> pd.Series:
    """Amounts in `currency` (rows without a currency count as it); other currencies → NaN."""
    return _priced(opportunities["amount"], *text_codes(opportunities["currency"]), currency)


def main_priced_amount(opportunities: pd.DataFrame) -> pd.Series:
    """priced_amount in main_currency, reading the currency column once instead of twice."""
    codes, currencies = text_codes(opportunities["currency"])
    return _priced(opportunities["amount"], codes, currencies, _most_common(codes, currencies))


def _most_common(codes: np.ndarray, values: np.ndarray) -> str | None:
    return str(values[np.bincount(codes[codes >= 0]).argmax()]) if len(values) else None


def _priced(
    amount: pd.Series, codes: np.ndarray, currencies: np.ndarray, currency: str | None
) -> pd.Series:
    if currency is None:
        return amount.copy()
    same = (codes < 0) | np.isin(codes, np.flatnonzero(currencies == currency))
    return amount.where(same)


def status_as_of(opportunities: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """Each deal's status at `as_of`: a deal closed after `as_of` was still open then.

    A closed deal without a close date counts as closed (its closing time is unknown).
    """
    closed_later = opportunities["closed_at"].notna() & (opportunities["closed_at"] > as_of)
    return opportunities["status"].where(~closed_later, OPEN)


@dataclass(frozen=True)
class PeriodOutcomes:
    """Row masks of one period: deals that existed by its end, and the won / lost / open ones."""

    existed: pd.Series
    won: pd.Series
    lost: pd.Series
    open: pd.Series


def period_outcomes(
    opportunities: pd.DataFrame, start: pd.Timestamp | None, end: pd.Timestamp
) -> PeriodOutcomes:
    """Which deals count as won, lost and open for the period [start, end).

    With a start: won / lost = closed in the period; open = created before `end`, open at `end`.
    start None = all time up to `end`: every deal created before `end` or undated is exactly one
    of won, lost or open (status_as_of at `end`), so won + lost + open = existed; a closed deal
    whose close date is missing or before its creation still counts (it is flagged at ingest).
    """
    created = opportunities["created_at"]
    status_at_end = status_as_of(opportunities, end)
    if start is None:
        existed = created.lt(end) | created.isna()
        won = existed & status_at_end.eq(WON)
        lost = existed & status_at_end.eq(LOST)
    else:
        existed = created.lt(end)
        closed_in = opportunities["closed_at"].ge(start) & opportunities["closed_at"].lt(end)
        won = closed_in & opportunities["status"].eq(WON)
        lost = closed_in & opportunities["status"].eq(LOST)
    return PeriodOutcomes(existed, won, lost, existed & status_at_end.eq(OPEN))


@dataclass(frozen=True)
class PeriodKpis:
    """The Overview's KPI row for one period (None: not computable, e.g. no dates)."""

    total: int
    new: int | None
    open_count: int
    open_value: float
    won_count: int
    won_value: float
    lost_count: int
    lost_value: float
    win_rate_count: float | None
    win_rate_value: float | None
    median_days_to_win: float | None
    avg_won_value: float | None
    undated: int  # opportunities without created_at (counted in all-time figures only)


def compute_period_kpis(
    opportunities: pd.DataFrame,
    start: pd.Timestamp | None,
    end: pd.Timestamp,
    currency: str | None,
) -> PeriodKpis:
    """KPIs for the period [start, end): new = created in it; won/lost = closed in it;
    open = open at its end; total = created before its end.

    start None means all time up to `end`: every deal created before `end` or undated counts, each
    exactly once as won, lost or open (won + lost + open = total), whatever its close date says —
    a close date before the creation, or none, does not drop a closed deal.
    """
    created = opportunities["created_at"]
    closed = opportunities["closed_at"]
    amount = priced_amount(opportunities, currency)
    outcomes = period_outcomes(opportunities, start, end)
    existed, won, lost, open_at_end = outcomes.existed, outcomes.won, outcomes.lost, outcomes.open
    if start is None:
        new = int((existed & created.notna()).sum()) if created.notna().any() else None
    else:
        new = int((existed & created.ge(start)).sum())
    won_value, lost_value = float(amount[won].sum()), float(amount[lost].sum())
    days_to_win = (closed[won] - created[won]).dt.total_seconds() / 86_400
    # A close before the creation is a data error (flagged at ingest), not a negative duration.
    days_to_win = days_to_win[days_to_win >= 0]
    median = float(np.median(days_to_win)) if len(days_to_win) else None
    return PeriodKpis(
        total=int(existed.sum()),
        new=new,
        open_count=int(open_at_end.sum()),
        open_value=float(amount[open_at_end].sum()),
        won_count=int(won.sum()),
        won_value=won_value,
        lost_count=int(lost.sum()),
        lost_value=lost_value,
        win_rate_count=safe_ratio(won.sum(), won.sum() + lost.sum()),
        win_rate_value=safe_ratio(won_value, won_value + lost_value),
        median_days_to_win=median,
        avg_won_value=safe_ratio(won_value, won.sum()),
        undated=int(created.isna().sum()),
    )


@dataclass(frozen=True)
class Overview:
    """The Overview page's figures: the period's KPIs beside the previous period's."""

    currency: str | None  # the main currency; value KPIs count only amounts in it
    current: PeriodKpis  # [start, end)
    previous: PeriodKpis | None  # the period of equal length before start; None for all time
    other_currency_count: int  # deals in another currency, left out of the value KPIs


def compute_overview(
    opportunities: pd.DataFrame,
    start: pd.Timestamp | None,
    end: pd.Timestamp,
    previous_period: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> Overview:
    """KPIs of [start, end) and of the previous period, with the currency used.

    The previous period is `previous_period` ([start, end), e.g. the whole previous quarter of
    "this quarter", dealscope.periods) when given, else the one of equal length ending at
    `start`. start None: all time up to `end` (compute_period_kpis), with no previous period."""
    currency = main_currency(opportunities)
    previous = None
    if start is not None:
        before = previous_period or (start - (end - start), start)
        previous = compute_period_kpis(opportunities, before[0], before[1], currency)
    return Overview(
        currency=currency,
        current=compute_period_kpis(opportunities, start, end, currency),
        previous=previous,
        other_currency_count=int(
            (opportunities["currency"].notna() & (opportunities["currency"] != currency)).sum()
        ),
    )


def compute_summary(opportunities: pd.DataFrame, as_of: pd.Timestamp) -> dict[str, object]:
    """The all-time KPIs as of `as_of` (the CLI's `metrics` fields): won + lost + open =
    opportunities (created by `as_of` or undated)."""
    currency = main_currency(opportunities)
    kpis = compute_period_kpis(opportunities, None, as_of + pd.Timedelta(microseconds=1), currency)
    return {
        "as_of": as_of.isoformat(),
        "currency": currency,
        "opportunities": kpis.total,
        "open": kpis.open_count,
        "won": kpis.won_count,
        "lost": kpis.lost_count,
        "won_amount": kpis.won_value,
        "open_amount": kpis.open_value,
        "win_rate_count": kpis.win_rate_count,
        "win_rate_value": kpis.win_rate_value,
        "median_days_to_win": kpis.median_days_to_win,
        "avg_won_amount": kpis.avg_won_value,
        "undated": kpis.undated,
    }


def weekly_flow(
    opportunities: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp
) -> pd.DataFrame:
    """Per ISO week overlapping [start, end): deals created, won and lost in it (only moments
    inside [start, end) count) — columns week (Monday), week_label ('2026-W46'), days (of the
    week inside [start, end), 7 for a whole week), series, count.

    Every week of the range has a row per series, a week without any event counted 0, so a line
    chart drops to zero instead of drawing straight across the gap.
    """
    status = opportunities["status"]
    closed = opportunities["closed_at"]
    counts = [
        weekly_counts(opportunities["created_at"], start, end).rename("created"),
        weekly_counts(closed[status.eq(WON)], start, end).rename("won"),
        weekly_counts(closed[status.eq(LOST)], start, end).rename("lost"),
    ]
    wide = pd.concat(counts, axis=1)
    flow = wide.rename_axis(index="week", columns="series").stack().rename("count").reset_index()
    flow["series"] = flow["series"].astype(str)
    flow["count"] = flow["count"].astype("int64")
    flow.insert(1, "week_label", iso_week_labels(flow["week"]))
    # Days of each week inside [start, end): 7 but for a period that starts or ends mid-week.
    week_end = flow["week"] + pd.Timedelta(days=7)
    inside = week_end.clip(upper=end) - flow["week"].clip(lower=start)
    flow.insert(2, "days", (inside / pd.Timedelta(days=1)).round(2))
    return flow.sort_values(["week", "series"], kind="stable").reset_index(drop=True)
