"""Score open deals: calibrated probability of ending lost, tier, expected lost value, reason
codes and rule signals. Numbers and codes only; presenters render words (one scoring serves
both languages)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dealscope.metrics.kpis import status_as_of
from dealscope.metrics.stall import (
    DEFAULT_SILENCE_DAYS,
    compute_stage_intervals,
    compute_stall_lines,
    flag_open_deals,
)
from dealscope.model import OPEN
from dealscope.risk import estimator as E
from dealscope.risk import features as F
from dealscope.risk.card import ModelCard
from dealscope.risk.explain import contributions, reason_frame

TIERS = ("high", "medium", "low")
# Keys of `extra` (or columns) that record a change of the customer's decision maker.
DECISION_MAKER_KEY = r"(?:decision[ _-]?maker|决策人)[^\"]*(?:chang|变更|更换|变化)"
TRUTHY_PATTERN = r'\s*:\s*(?:true|1|"(?:true|yes|y|1|是|已变更)")'
SCORE_COLUMNS = (
    "opportunity_id",
    "name",
    "owner",
    "stage",
    "amount",
    "p_lost",
    "expected_lost_value",
    "tier",
    "stalled",
    "days_in_stage",
    "stall_days",
    "silent",
    "days_silent",
    "decision_maker_changed",
)
ORDERS = ("p_lost", "expected_lost_value")


@dataclass(frozen=True)
class RiskScores:
    """deals: SCORE_COLUMNS per open deal, by p_lost (highest first). reasons: explain's long
    frame plus `segment_lost_rate` / `segment_closed` (the segment's lost share and closed
    deals before the scoring moment) and `level` (the deal's segment value or stage)."""

    deals: pd.DataFrame
    reasons: pd.DataFrame
    moment: pd.Timestamp


def assign_tier(p_lost: pd.Series, high: float, low: float) -> pd.Series:
    """high when p ≥ high, low when p < low, else medium."""
    return pd.Series(
        np.where(p_lost >= high, "high", np.where(p_lost < low, "low", "medium")),
        index=p_lost.index,
    )


def decision_maker_changed(opportunities: pd.DataFrame) -> pd.Series | None:
    """Per deal: True when a decision-maker-changed column / extra key says so; None when the
    data has no such field at all (then the signal is not shown). Only its value at the export
    is known, so it is a rule signal, never a model feature."""
    names = pd.Index(opportunities.columns.astype(str))
    columns = names[names.str.contains("(?i)" + DECISION_MAKER_KEY, regex=True)]
    if len(columns):
        value = opportunities[columns[0]].astype("string").str.strip().str.lower()
        return value.isin(["true", "1", "yes", "y", "是", "已变更"]).fillna(False).astype(bool)
    if "extra" not in opportunities.columns:
        return None
    extra = opportunities["extra"].astype("string")
    has_key = extra.str.contains("(?i)" + DECISION_MAKER_KEY, regex=True).fillna(False)
    if not has_key.any():
        return None
    pattern = r'"[^"]*' + DECISION_MAKER_KEY + r'[^"]*"' + TRUTHY_PATTERN
    return extra.str.contains("(?i)" + pattern, regex=True).fillna(False).astype(bool)


def open_points(opportunities: pd.DataFrame, as_of: pd.Timestamp, undated: bool) -> pd.DataFrame:
    """Every deal open at `as_of` (created by then, or undated): opportunity_id, snapshot_at."""
    is_open = status_as_of(opportunities, as_of).eq(OPEN) & ~opportunities["created_at"].gt(as_of)
    ids = opportunities.loc[is_open, "opportunity_id"]
    return pd.DataFrame(
        {"opportunity_id": ids.to_numpy(), "snapshot_at": pd.NaT if undated else as_of}
    )


def _segment_history(
    opportunities: pd.DataFrame, reasons: pd.DataFrame, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Add level, segment_lost_rate and segment_closed to segment / stage reasons (raw shares of
    deals closed by `as_of`, unshrunk: what the user can check against the data)."""
    status = status_as_of(opportunities, as_of)
    closed = status.isin(["won", "lost"])
    lost = status.eq("lost")
    by_id = opportunities.set_index("opportunity_id")
    reasons = reasons.assign(level=pd.NA, segment_lost_rate=np.nan, segment_closed=np.nan)
    for feature in reasons["feature"].unique():
        if not str(feature).startswith("te_"):
            continue
        segment = str(feature)[3:]
        keys = F.segment_key(opportunities[segment])
        table = pd.DataFrame({"k": keys[closed], "lost": lost[closed]}).groupby("k")["lost"]
        mask = reasons["feature"].eq(feature)
        level = F.segment_key(by_id[segment].reindex(reasons.loc[mask, "opportunity_id"]))
        reasons.loc[mask, "level"] = level.where(level.ne(F.MISSING_LEVEL), pd.NA).to_numpy()
        reasons.loc[mask, "segment_lost_rate"] = level.map(table.mean()).to_numpy()
        reasons.loc[mask, "segment_closed"] = level.map(table.size()).fillna(0).to_numpy()
    return reasons


def score_open_deals(
    estimator,
    card: ModelCard,
    opportunities: pd.DataFrame,
    stage_events: pd.DataFrame,
    stages: pd.DataFrame,
    as_of: pd.Timestamp,
    silence_days: float = DEFAULT_SILENCE_DAYS,
    activities: pd.DataFrame | None = None,
) -> RiskScores:
    """Score every deal open at `as_of` with the model (features as known at `as_of`).
    `activities`: the dataset's follow-up log; required when the model uses it (card.spec.activity)."""
    spec = card.spec
    opportunities = opportunities.reset_index(drop=True)
    points = open_points(opportunities, as_of, spec.mode == F.UNDATED)
    norms = F.Norms(
        {str(k): float(v) for k, v in card.norms.get("stage_days", {}).items()},
        card.norms.get("cycle_days"),
    )
    if spec.mode != F.UNDATED:
        norms = F.compute_norms(opportunities, stage_events, stages, as_of)
    log = None
    if spec.activity:
        if activities is None:
            raise ValueError("this model uses the follow-up log: pass the dataset's activities")
        log = F.ActivityFeatures(activities, points["opportunity_id"])
    raw = F.features_at(points, opportunities, stage_events, stages, spec, norms, as_of, log)
    X = F.model_matrix(raw, spec)
    p = E.predict(estimator, card.calibration, X) if len(X) else np.empty(0)
    base = opportunities.drop_duplicates("opportunity_id").set_index("opportunity_id")
    base = base.reindex(points["opportunity_id"])
    amount = base["amount"].to_numpy(dtype="float64")
    out = pd.DataFrame(
        {
            "opportunity_id": points["opportunity_id"].to_numpy(),
            "name": base["name"].to_numpy(),
            "owner": base["owner"].to_numpy(),
            "stage": base["stage"].to_numpy(),
            "amount": amount,
            "p_lost": p,
            "expected_lost_value": p * amount,  # NaN when the amount is missing
        }
    )
    out["tier"] = assign_tier(out["p_lost"], card.thresholds.high, card.thresholds.low)
    out = out.merge(
        _rule_signals(opportunities, stage_events, stages, as_of, silence_days),
        on="opportunity_id",
        how="left",
    )
    out["stalled"] = out["stalled"].eq(True)
    out["silent"] = out["silent"].eq(True)
    dm = decision_maker_changed(opportunities)
    out["decision_maker_changed"] = (
        pd.Series(pd.NA, index=out.index, dtype="boolean")
        if dm is None
        else out["opportunity_id"]
        .map(pd.Series(dm.to_numpy(), index=opportunities["opportunity_id"]))
        .astype("boolean")
    )
    effects = contributions(estimator, card, X) if len(X) else np.zeros((0, len(spec.columns)))
    value_columns = [raw[c].to_numpy(dtype=object) for c in spec.columns]
    values = (
        np.column_stack(value_columns)
        if len(X) and value_columns
        else np.zeros((len(X), len(spec.columns)), dtype=object)
    )
    reasons = reason_frame(points["opportunity_id"].to_numpy(), effects, values, card)
    reasons = _segment_history(opportunities, reasons, as_of)
    deals = (
        out.loc[:, list(SCORE_COLUMNS)]
        .sort_values("p_lost", ascending=False, kind="stable")
        .reset_index(drop=True)
    )
    return RiskScores(deals, reasons, pd.Timestamp(as_of))


def order_deals(deals: pd.DataFrame, by: str) -> pd.DataFrame:
    """Deals ordered by p_lost or by expected_lost_value (missing amounts last), highest first."""
    if by not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}")
    return deals.sort_values(
        [by, "p_lost"], ascending=False, na_position="last", kind="stable"
    ).reset_index(drop=True)


def _rule_signals(opportunities, stage_events, stages, as_of, silence_days) -> pd.DataFrame:
    intervals = compute_stage_intervals(stage_events, stages, as_of)
    lines = compute_stall_lines(intervals, stages)
    flags = flag_open_deals(opportunities, intervals, lines, as_of, silence_days)
    return flags.loc[
        :, ["opportunity_id", "stalled", "days_in_stage", "stall_days", "silent", "days_silent"]
    ]


def tier_counts(deals: pd.DataFrame) -> pd.DataFrame:
    """Open deals per tier: tier, count, amount (summed as given), in TIERS order."""
    grouped = deals.groupby("tier")
    return (
        pd.DataFrame({"count": grouped.size(), "amount": grouped["amount"].sum()})
        .reindex(list(TIERS), fill_value=0)
        .rename_axis("tier")
        .reset_index()
    )
