"""Score every open deal: calibrated probability of ending lost, tier, reasons and rule signals."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin

from dealscope.i18n import t
from dealscope.metrics.kpis import status_as_of
from dealscope.metrics.stall import (
    DEFAULT_SILENCE_DAYS,
    compute_stage_intervals,
    compute_stall_lines,
    flag_open_deals,
)
from dealscope.model import OPEN
from dealscope.risk import features as F
from dealscope.risk.explain import explain

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
    "tier",
    "tag",
    "risk_up",
    "risk_down",
    "reasons",
    "stalled",
    "days_in_stage",
    "stall_days",
    "silent",
    "days_silent",
    "decision_maker_changed",
    "signals",
)


def assign_tier(p_lost: pd.Series, thresholds: dict) -> pd.Series:
    """high when p ≥ thresholds['high'], low when p < thresholds['low'], else medium."""
    return pd.Series(
        np.where(
            p_lost >= thresholds["high"],
            "high",
            np.where(p_lost < thresholds["low"], "low", "medium"),
        ),
        index=p_lost.index,
    )


def decision_maker_changed(opportunities: pd.DataFrame) -> pd.Series | None:
    """Per deal: True when a decision-maker-changed column / extra key says so; None when the
    data has no such field at all (then the signal is not shown)."""
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


def open_points(opportunities: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Every deal open at `as_of` (created by then, or undated) as a point: opportunity_id,
    snapshot_at = as_of."""
    is_open = status_as_of(opportunities, as_of).eq(OPEN) & ~opportunities["created_at"].gt(as_of)
    ids = opportunities.loc[is_open, "opportunity_id"]
    return pd.DataFrame({"opportunity_id": ids.to_numpy(), "snapshot_at": as_of})


def _signals_text(frame: pd.DataFrame, lang: str) -> pd.Series:
    """Evidence of each rule signal in words, e.g. "stalled: 40 days in stage (line 21)"."""

    def part(mask: pd.Series, key: str, **columns: pd.Series) -> pd.Series:
        # "a {days} b {line}" -> ["a ", "days", " b ", "line", ""]: literals and column names.
        pieces = re.split(r"\{(\w+)\}", t(key, lang))
        text = pd.Series("", index=frame.index, dtype="string")
        for i, piece in enumerate(pieces):
            text = text + (columns[piece] if i % 2 else piece)
        return text.where(mask, "")

    days = frame["days_in_stage"].round().astype("Int64").astype("string").fillna("—")
    line = frame["stall_days"].round().astype("Int64").astype("string").fillna("—")
    silent = frame["days_silent"].round().astype("Int64").astype("string").fillna("—")
    parts = [
        part(frame["stalled"], "risk.signal.stalled_text", days=days, line=line),
        part(frame["silent"], "risk.signal.silent_text", days=silent),
        part(frame["decision_maker_changed"].fillna(False).astype(bool), "risk.signal.dm_text"),
    ]
    sep = t("risk.reason.sep", lang)
    out = parts[0]
    for p in parts[1:]:
        out = out.where(p.eq(""), out.where(out.eq(""), out + sep) + p)
    return out


def score_open_deals(
    estimator: ClassifierMixin,
    card: dict,
    opportunities: pd.DataFrame,
    stage_events: pd.DataFrame,
    stages: pd.DataFrame,
    as_of: pd.Timestamp,
    lang: str,
    silence_days: float = DEFAULT_SILENCE_DAYS,
) -> pd.DataFrame:
    """One row per open deal with SCORE_COLUMNS: p_lost, tier (high/medium/low), tag (易流失 /
    需跟进 / 高意向 or English), reasons up/down, and the stalled / silent / decision-maker
    signals with their evidence; sorted by p_lost, highest first."""
    spec = F.FeatureSpec.from_json(card["spec"])
    points = open_points(opportunities, as_of)
    raw = F.features_at(points, opportunities, stage_events, stages, as_of, spec)
    X = F.model_matrix(raw, spec)
    p = pd.Series(estimator.predict_proba(X)[:, 1] if len(X) else [], index=X.index, dtype=float)
    reasons = explain(estimator, X, spec, card["typical"], lang)
    base = opportunities.drop_duplicates("opportunity_id").set_index("opportunity_id")
    base = base.reindex(points["opportunity_id"])
    out = pd.DataFrame(
        {
            "opportunity_id": points["opportunity_id"].to_numpy(),
            "name": base["name"].to_numpy(),
            "owner": base["owner"].to_numpy(),
            "stage": base["stage"].to_numpy(),
            "amount": base["amount"].to_numpy(),
            "p_lost": p.to_numpy(),
        }
    )
    out["tier"] = assign_tier(out["p_lost"], card["thresholds"])
    out["tag"] = out["tier"].map({tier: t(f"risk.tier.{tier}", lang) for tier in TIERS})
    out["risk_up"] = reasons["risk_up"].to_numpy()
    out["risk_down"] = reasons["risk_down"].to_numpy()
    up_label, down_label = t("risk.reason.up", lang), t("risk.reason.down", lang)
    out["reasons"] = np.where(out["risk_up"] != "", up_label + out["risk_up"], "")
    out["reasons"] = np.where(
        out["risk_down"] != "",
        np.where(out["reasons"] != "", out["reasons"] + " | ", "") + down_label + out["risk_down"],
        out["reasons"],
    )
    out = out.merge(
        _rule_signals(opportunities, stage_events, stages, as_of, silence_days),
        on="opportunity_id",
        how="left",
    )
    # Deals without a created date are not in flag_open_deals: no evidence, so no flag.
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
    out["signals"] = _signals_text(out, lang)
    return (
        out.loc[:, list(SCORE_COLUMNS)]
        .sort_values("p_lost", ascending=False, kind="stable")
        .reset_index(drop=True)
    )


def _rule_signals(opportunities, stage_events, stages, as_of, silence_days) -> pd.DataFrame:
    intervals = compute_stage_intervals(stage_events, stages, as_of)
    lines = compute_stall_lines(intervals, stages)
    flags = flag_open_deals(opportunities, intervals, lines, as_of, silence_days)
    return flags.loc[
        :, ["opportunity_id", "stalled", "days_in_stage", "stall_days", "silent", "days_silent"]
    ]


def tier_counts(scores: pd.DataFrame) -> pd.DataFrame:
    """Open deals per tier: tier, count, amount (summed as given), in TIERS order."""
    grouped = scores.groupby("tier")
    return (
        pd.DataFrame({"count": grouped.size(), "amount": grouped["amount"].sum()})
        .reindex(list(TIERS), fill_value=0)
        .rename_axis("tier")
        .reset_index()
    )
