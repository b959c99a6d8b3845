"""What the model may use, and why: the feature choice per dataset and the availability table.

A feature is allowed only if it is known at prediction time. The amount is checked on the data
itself (filled only on closed deals, or zeroed on lost ones, means it is set at the close); fields
that look like probabilities / forecasts / scores are listed and never used; final-state fields
are never read at all (features.py does not touch them).
"""

from __future__ import annotations

import pandas as pd

from dealscope.i18n import LANGUAGES, t
from dealscope.metrics.kpis import status_as_of
from dealscope.model import LOST, OPEN, WON
from dealscope.risk.features import (
    FALLBACK,
    FALLBACK_NUMERIC,
    HISTORY,
    HISTORY_NUMERIC,
    OWNER_PRIOR_STRENGTH,
    SEGMENT_FEATURES,
    FeatureSpec,
)

# Canonical fields that describe the final state of a deal: never features.
FINAL_STATE_FIELDS = (
    "stage",
    "status",
    "closed_at",
    "lost_reason",
    "next_step",
    "expected_close_at",
    "last_activity_at",
    "extra",
    "flags",
    "name",
    "probability",
)
LEAKY_NAME_PATTERN = r"(?i)prob|forecast|score|likel|weighted|predict|概率|预测|赢率|评分|成交可能"


def amount_availability(opportunities: pd.DataFrame, as_of: pd.Timestamp) -> tuple[bool, str]:
    """Whether `amount` looks known before the close (takes amount, status, closed_at).

    Returns (usable, reason code). Amounts filled only on closed deals, or zeroed on lost ones
    (Maven's close_value), are set at the close and would leak the outcome.
    """
    status = status_as_of(opportunities, as_of)
    amount = opportunities["amount"]
    closed = status.isin([WON, LOST])
    if not amount[closed].notna().any():
        return False, "amount_absent"
    open_deals = status.eq(OPEN)
    if open_deals.any() and amount[open_deals].notna().mean() < 0.5 * amount[closed].notna().mean():
        return False, "amount_closed_only"
    zero = amount.eq(0)
    zero_lost, zero_won = zero[status.eq(LOST)].mean(), zero[status.eq(WON)].mean()
    if zero_lost > 0.5 and zero_lost > 5 * zero_won + 0.05:
        return False, "amount_zero_on_loss"
    return True, "amount_ok"


def excluded_fields(opportunities: pd.DataFrame) -> list[str]:
    """Names of columns and `extra` keys that look like probabilities/forecasts/scores (never used)."""
    names = [c for c in opportunities.columns if c not in ("extra",)]
    if "extra" in opportunities.columns:
        keys = opportunities["extra"].dropna().astype(str).str.findall(r'"((?:[^"\\]|\\.)*)"\s*:')
        names += keys.explode().dropna().unique().tolist()
    found = pd.Series(names, dtype="string")
    return sorted(set(found[found.str.contains(LEAKY_NAME_PATTERN, regex=True)].tolist()))


def choose_spec(
    opportunities: pd.DataFrame, stage_events: pd.DataFrame, as_of: pd.Timestamp
) -> FeatureSpec:
    """The feature set this dataset supports: with stage history, or the creation-time fallback."""
    has_history = not stage_events.empty
    segments = tuple(
        c for c in SEGMENT_FEATURES if c in opportunities.columns and opportunities[c].notna().any()
    )
    numeric = HISTORY_NUMERIC if has_history else FALLBACK_NUMERIC
    if amount_availability(opportunities, as_of)[0]:
        numeric = (*numeric, "log_amount")
    categorical = (("stage",) if has_history else ()) + segments
    return FeatureSpec(HISTORY if has_history else FALLBACK, categorical, numeric)


def availability_table(
    spec: FeatureSpec, amount_reason: str, excluded: list[str]
) -> list[dict[str, object]]:
    """For every candidate feature and excluded field: used?, and why it is (not) known at
    prediction time, in both languages (the model card's feature-availability table)."""
    rows = []

    def add(name: str, used: bool, code: str, **kw: object) -> None:
        kw = {"prior": int(OWNER_PRIOR_STRENGTH), **kw}
        why = {lang: t(f"risk.avail.{code}", lang, **kw) for lang in LANGUAGES}
        rows.append({"feature": name, "used": used, "why": why})

    for name in spec.columns:
        if name != "log_amount":
            add(name, True, name if name not in SEGMENT_FEATURES else "segment")
    add("amount", "log_amount" in spec.numeric, amount_reason)
    if spec.mode == FALLBACK:
        add("stage", False, "stage_no_history")
        add("days_in_stage", False, "days_in_stage_no_history")
    add("last_activity_at", False, "silence")
    for name in ("closed_at", "lost_reason", "expected_close_at", "next_step", "extra"):
        add(name, False, "final_state")
    add("probability", False, "probability")  # the canonical 0–1 column (ingest A8)
    for name in excluded:
        if name != "probability":
            add(name, False, "leaky_name")
    return rows
