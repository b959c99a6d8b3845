"""What the model may use, and why: the feature choice per dataset and the availability table.

A feature is allowed only if it is known at prediction time. The amount is checked on the data
itself (filled only on closed deals, or zeroed on lost ones, means it is set at the close); fields
that look like probabilities / forecasts / scores are listed and never used; final-state fields
are never read at all (features.py does not touch them). Rows carry reason codes; a presenter
renders them in words (risk.avail.<code>).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dealscope.activity.model import customer_touches
from dealscope.metrics.kpis import status_as_of
from dealscope.model import LOST, OPEN, WON
from dealscope.risk.features import DATED, HISTORY, SEGMENT_FEATURES, UNDATED, FeatureSpec

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
    """The feature set this dataset supports: with stage history, dated without it, or undated
    (no creation or close dates to place deals in time)."""
    created = opportunities.get("created_at", pd.Series(pd.NaT, index=opportunities.index))
    closed = opportunities.get("closed_at", pd.Series(pd.NaT, index=opportunities.index))
    dated = bool(len(created)) and created.notna().mean() >= 0.5 and closed.notna().any()
    mode = (HISTORY if not stage_events.empty else DATED) if dated else UNDATED
    segments = tuple(
        c for c in SEGMENT_FEATURES if c in opportunities.columns and opportunities[c].notna().any()
    )
    return FeatureSpec(mode, segments, amount_availability(opportunities, as_of)[0])


@dataclass(frozen=True)
class AvailabilityRow:
    """One line of the model card's feature-availability table; `code` names the reason."""

    feature: str
    used: bool
    code: str


def activity_usable(activities: pd.DataFrame | None) -> bool:
    """Whether a follow-up log can feed the model: it holds customer-facing touches."""
    return activities is not None and len(customer_touches(activities)) > 0


def availability_table(
    spec: FeatureSpec, amount_reason: str, excluded: list[str], has_log: bool = False
) -> tuple[AvailabilityRow, ...]:
    """For every candidate feature and excluded field: used?, and the code of why it is (not)
    known at prediction time (rendered as risk.avail.<code>). `has_log`: the dataset has a
    follow-up log with customer-facing touches."""
    rows = [AvailabilityRow(name, True, name) for name in spec.columns if name != "log_amount"]
    if not spec.activity:
        code = "activity_undated" if has_log else "activity_no_log"
        rows.append(AvailabilityRow("activity_log", False, code))
    rows.append(AvailabilityRow("amount", spec.use_amount, amount_reason))
    if spec.mode != HISTORY:
        rows.append(AvailabilityRow("stage", False, "stage_no_history"))
        rows.append(AvailabilityRow("days_in_stage", False, "days_in_stage_no_history"))
    rows.append(AvailabilityRow("last_activity_at", False, "silence"))
    rows.append(AvailabilityRow("decision_maker", False, "decision_maker"))
    for name in ("closed_at", "lost_reason", "expected_close_at", "next_step", "extra"):
        rows.append(AvailabilityRow(name, False, "final_state"))
    rows.append(AvailabilityRow("probability", False, "probability"))
    rows += [AvailabilityRow(n, False, "leaky_name") for n in excluded if n != "probability"]
    return tuple(rows)
