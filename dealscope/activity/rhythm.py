"""Silence against a deal's own rhythm (客户突然沉默).

Definitions (docs: the Cycle page's definitions expander states the same rule):

- touch day: a calendar day with at least one customer-facing activity (call, meeting, email,
  message) on the deal; several touches on one day are one day of contact.
- gap: days between consecutive touch days of one deal.
- own rhythm: the median gap of the deal, when it has at least MIN_GAPS gaps; otherwise the
  typical gap of the stage it is in (median of all gaps that started in that stage); otherwise the
  median of all gaps.
- silence: days from the last touch day (or the creation, with no touch) to `as_of`.
- suddenly silent: silence > multiple × rhythm. The multiple is derived from the data: the
  MULTIPLE_QUANTILE quantile of gap / own-rhythm over every gap of deals that were won by `as_of`
  (winners rarely go that quiet relative to themselves), never below MIN_MULTIPLE. With fewer than
  MIN_WON_GAPS such gaps it is DEFAULT_MULTIPLE (reported as the source).
- without a log: the fixed rule, silent when the deal's last activity is more than
  DEFAULT_SILENCE_DAYS days before `as_of`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dealscope.activity.model import customer_touches
from dealscope.metrics.kpis import status_as_of
from dealscope.metrics.stall import DEFAULT_SILENCE_DAYS
from dealscope.model import OPEN, WON

MIN_GAPS = 3
MULTIPLE_QUANTILE = 0.95
MIN_MULTIPLE = 2.0
DEFAULT_MULTIPLE = 3.0
MIN_WON_GAPS = 30
DAY = np.timedelta64(1, "D")

OWN, STAGE, ALL, FIXED = "own", "stage", "all", "fixed"


@dataclass(frozen=True)
class SilenceMultiple:
    """The multiple of its own rhythm beyond which a deal counts as suddenly silent, and why."""

    value: float
    source: str  # "won-gaps" (derived) or "default"
    quantile: float
    won_gaps: int


@dataclass(frozen=True)
class SilenceResult:
    """Open deals at `as_of` with their silence against their rhythm (or the fixed rule)."""

    table: pd.DataFrame
    multiple: SilenceMultiple | None  # None: no log, the fixed DEFAULT_SILENCE_DAYS rule
    has_log: bool
    as_of: pd.Timestamp
    fixed_days: int = DEFAULT_SILENCE_DAYS


def touch_days(activities: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """(opportunity_id, day) of customer-facing touches on or before `as_of`, one row per day,
    sorted, with `gap` = days since the deal's previous touch day (NaN for its first)."""
    seen = activities.loc[(activities["occurred_at"] <= as_of).to_numpy(dtype=bool)]
    touches = customer_touches(seen)
    deal, ids = pd.factorize(touches["opportunity_id"], sort=True)
    day = touches["occurred_at"].to_numpy("datetime64[D]").astype(np.int64)
    order = np.lexsort((day, deal))
    if not (order == np.arange(len(order))).all():  # canonical logs are already in order
        deal, day = deal[order], day[order]
    fresh = np.r_[True, (deal[1:] != deal[:-1]) | (day[1:] != day[:-1])] if len(deal) else []
    deal, day = deal[fresh], day[fresh]
    same_deal = np.r_[False, deal[1:] == deal[:-1]] if len(deal) else np.array([], dtype=bool)
    gap = np.where(same_deal, np.diff(day, prepend=0), np.nan).astype(float)
    return pd.DataFrame(
        {
            "opportunity_id": pd.Series(np.asarray(ids, dtype=object)[deal], dtype="string"),
            "day": day.astype("datetime64[D]").astype("datetime64[ns]"),
            "gap": gap,
        }
    )


def own_rhythm(days: pd.DataFrame) -> pd.DataFrame:
    """Per deal: last touch day, gap count and median gap (index opportunity_id)."""
    grouped = days.groupby("opportunity_id", sort=False, observed=True)
    return pd.DataFrame(
        {
            "last_touch": grouped["day"].max(),
            "gaps": grouped["gap"].count(),
            "median_gap": grouped["gap"].median(),
        }
    )


def stage_of_gaps(days: pd.DataFrame, stage_events: pd.DataFrame, opps: pd.DataFrame) -> pd.Series:
    """The stage each gap started in (stage at the previous touch day), from stage history;
    without history, the deal's current stage."""
    start = days["day"] - pd.to_timedelta(days["gap"], unit="D")
    if stage_events.empty:
        stage = days["opportunity_id"].map(opps.set_index("opportunity_id")["stage"])
        return stage.where(days["gap"].notna())
    probe = pd.DataFrame(
        {
            "opportunity_id": days["opportunity_id"].astype(str),
            "at": start.astype("datetime64[ns]"),
            "row": days.index,
        }
    ).dropna(subset=["at"])
    events = pd.DataFrame(
        {
            "opportunity_id": stage_events["opportunity_id"].astype(str).to_numpy(),
            "at": stage_events["entered_at"].to_numpy("datetime64[ns]"),
            "stage": stage_events["stage"].to_numpy(),
        }
    ).sort_values("at", kind="stable")
    joined = pd.merge_asof(
        probe.sort_values("at", kind="stable"), events, on="at", by="opportunity_id"
    )
    return joined.set_index("row")["stage"].reindex(days.index)


def derive_multiple(days: pd.DataFrame, rhythm: pd.DataFrame, won_ids: pd.Index) -> SilenceMultiple:
    """MULTIPLE_QUANTILE of gap / own median gap over the gaps of won deals with a rhythm."""
    eligible = rhythm.index[(rhythm["gaps"] >= MIN_GAPS).to_numpy()].intersection(won_ids)
    gaps = days.loc[days["opportunity_id"].isin(eligible) & days["gap"].notna()]
    ratios = gaps["gap"].to_numpy() / gaps["opportunity_id"].map(rhythm["median_gap"]).to_numpy()
    if len(ratios) < MIN_WON_GAPS:
        return SilenceMultiple(DEFAULT_MULTIPLE, "default", MULTIPLE_QUANTILE, len(ratios))
    value = max(float(np.quantile(ratios, MULTIPLE_QUANTILE)), MIN_MULTIPLE)
    return SilenceMultiple(round(value, 2), "won-gaps", MULTIPLE_QUANTILE, len(ratios))


def current_stage(opps: pd.DataFrame, stage_events: pd.DataFrame, as_of: pd.Timestamp) -> pd.Series:
    """Each deal's stage at `as_of` (last entry on or before it; the stored stage without history)."""
    stage = opps.set_index("opportunity_id")["stage"].astype("string")
    if stage_events.empty:
        return stage
    seen = stage_events.loc[(stage_events["entered_at"] <= as_of).to_numpy(dtype=bool)]
    last = seen.groupby("opportunity_id", sort=False, observed=True)["stage"].last()
    return last.astype("string").reindex(stage.index).fillna(stage)


def silence_table(
    opportunities: pd.DataFrame,
    activities: pd.DataFrame | None,
    stage_events: pd.DataFrame,
    as_of: pd.Timestamp,
) -> SilenceResult:
    """Open deals at `as_of` with days silent, own / stage rhythm, ratio and the flag."""
    opps = opportunities.loc[(opportunities["created_at"] <= as_of).to_numpy(dtype=bool)]
    status = status_as_of(opps, as_of)
    open_deals = opps.loc[(status == OPEN).to_numpy()]
    base = pd.DataFrame(
        {
            "opportunity_id": open_deals["opportunity_id"].to_numpy(),
            "name": open_deals["name"].to_numpy(),
            "owner": open_deals["owner"].to_numpy(),
            "amount": open_deals["amount"].to_numpy(),
        }
    )
    base["stage"] = base["opportunity_id"].map(current_stage(opps, stage_events, as_of)).to_numpy()
    if activities is None or activities.empty:
        last = open_deals["last_activity_at"].fillna(open_deals["created_at"])
        base["last_touch"] = last.to_numpy()
        base["days_silent"] = (as_of - last).to_numpy() / DAY
        base["rhythm_gap"] = np.nan
        base["basis"] = FIXED
        base["ratio"] = np.nan
        base["suddenly_silent"] = base["days_silent"] > DEFAULT_SILENCE_DAYS
        return SilenceResult(_ordered(base), None, False, as_of)

    days = touch_days(activities, as_of)
    rhythm = own_rhythm(days)
    days["stage"] = stage_of_gaps(days, stage_events, opps)
    stage_gap = days.groupby("stage", observed=True)["gap"].median()
    all_gap = float(days["gap"].median()) if days["gap"].notna().any() else np.nan
    won = pd.Index(opps.loc[(status == WON).to_numpy(), "opportunity_id"])
    multiple = derive_multiple(days, rhythm, won)

    own = base["opportunity_id"].map(rhythm["median_gap"])
    gaps = base["opportunity_id"].map(rhythm["gaps"]).fillna(0)
    by_stage = base["stage"].map(stage_gap)
    use_own = (gaps >= MIN_GAPS).to_numpy()
    use_stage = ~use_own & by_stage.notna().to_numpy()
    base["own_median_gap"] = own.to_numpy()
    base["stage_gap"] = by_stage.to_numpy(dtype=float)
    base["rhythm_gap"] = np.where(use_own, own, np.where(use_stage, by_stage, all_gap))
    base["basis"] = np.where(use_own, OWN, np.where(use_stage, STAGE, ALL))
    last = base["opportunity_id"].map(rhythm["last_touch"])
    created = base["opportunity_id"].map(opps.set_index("opportunity_id")["created_at"])
    base["last_touch"] = last.fillna(created).to_numpy()
    base["days_silent"] = (as_of - pd.to_datetime(base["last_touch"])).to_numpy() / DAY
    base["ratio"] = base["days_silent"] / base["rhythm_gap"]
    base["suddenly_silent"] = (base["ratio"] > multiple.value).fillna(False).astype(bool)
    return SilenceResult(_ordered(base), multiple, True, as_of)


def _ordered(table: pd.DataFrame) -> pd.DataFrame:
    for column in ("own_median_gap", "stage_gap"):
        if column not in table:
            table[column] = np.nan
    columns = [
        "opportunity_id", "name", "owner", "stage", "amount", "last_touch", "days_silent",
        "own_median_gap", "stage_gap", "rhythm_gap", "basis", "ratio", "suddenly_silent",
    ]  # fmt: skip
    return (
        table[columns]
        .sort_values(["suddenly_silent", "ratio", "days_silent"], ascending=False, kind="stable")
        .reset_index(drop=True)
    )
