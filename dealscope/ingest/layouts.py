"""Layout detection and the proposed column mapping, with the evidence for every choice."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from dealscope.ingest import detect
from dealscope.ingest.synonyms import (
    HUBSPOT_ENTERED,
    STAGE_TIME,
    TARGETS,
    header_key,
    match_header,
)
from dealscope.ingest.vocab import keyword_role

# Layouts, and which of them carry stage history rows rather than one row per opportunity.
LAYOUTS = (
    "salesforce_report",
    "salesforce_history",
    "salesforce_field_history",
    "hubspot_deals",
    "pipedrive_deals",
    "zoho_deals",
    "zoho_stage_history",
    "stage_log",
    "chinese_crm",
    "lookup",
    "generic",
)
HISTORY_LAYOUTS = (
    "salesforce_history",
    "salesforce_field_history",
    "zoho_stage_history",
    "stage_log",
)
ENTERED_PREFIX = "entered:"
TIME_PREFIX = "time_in:"  # a per-stage duration column (HubSpot `Cumulative time in "X"`)
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class ColumnChoice:
    """One source column: the canonical target it maps to (None = kept in `extra`) and why."""

    source: str
    target: str | None
    evidence: str


def propose_mapping(headers: list[str], data: pd.DataFrame | None = None) -> list[ColumnChoice]:
    """A target for every header, in passes: known names (exact, also run together, without an
    entity prefix or a currency suffix); HubSpot `Date entered "<stage>"` columns as stage entries
    and `Cumulative time in "<stage>"` columns as stage durations; then keywords in many languages
    for roles still free (dates and amounts only when their values parse); then, with `data`,
    roles found by values (an outcome column by its words, amounts by currency marks). A target
    already taken stays with the first column."""
    history = salesforce_api_history(headers)
    if history is not None:
        return history
    taken: dict[str, str] = {}
    targets: dict[str, str | None] = {}
    evidence: dict[str, str] = {}
    pipelines = {
        m.group("stage").rsplit("(", 1)[-1] for h in headers if (m := HUBSPOT_ENTERED.match(h))
    }
    pipelines |= {
        m.group("stage").rsplit("(", 1)[-1]
        for h in headers
        if (m := STAGE_TIME.match(h)) and m.group("stage")
    }

    def stage_of(text: str) -> str:
        text = text.strip()
        if len(pipelines) <= 1:
            text = re.sub(r"\s*\([^()]*\)\s*$", "", text) or text
        return text

    def take(header: str, target: str | None, why: str) -> None:
        targets[header], evidence[header] = target, why
        if target and not target.startswith((ENTERED_PREFIX, TIME_PREFIX)):
            taken[target] = header

    # Names that are a field only when no stronger name is present: Salesforce's Expected
    # Revenue is the weighted amount (Odoo's is the amount), "Total" / "Value" are vague.
    weak = [h for h in headers if header_key(h).replace(" ", "") in WEAK_NAMES]
    for header in [h for h in headers if h not in weak] + weak:
        entered = HUBSPOT_ENTERED.match(header)
        timed = STAGE_TIME.match(header)
        if entered:
            take(header, ENTERED_PREFIX + stage_of(entered.group("stage")),
                 "HubSpot stage-entry date column")  # fmt: skip
            continue
        target, why = match_header(header)
        if header_key(header) in BY_VALUES_HEADERS and data is not None and header in data:
            numeric = detect.amount_share(data[header])[0] >= detect.MIN_SHARE
            target, why = BY_VALUES_HEADERS[header_key(header)][0 if numeric else 1]
        if target and target in taken:
            targets[header] = None
            evidence[header] = (
                f"also a name for {target}, already taken by column {taken[target]!r}; kept in extra"
            )
        elif target:
            take(header, target, why)
        elif timed:
            stage = timed.group("stage") or timed.group("stage2")
            if header_key(stage) in GENERIC_STAGE_WORDS:
                take(header, "stage_duration", "time in the current stage")
            else:
                take(header, TIME_PREFIX + stage_of(stage), "time spent in one stage (duration)")
        else:
            targets[header], evidence[header] = None, ""
    for header in headers:  # keywords, for roles no exact name filled
        if targets[header] is not None or evidence[header]:
            continue
        role = keyword_role(header_key(header))
        if role is None or role in taken:
            continue
        if (
            role == "closed_at"
            and data is not None
            and header in data
            and "is_closed" not in taken
            and detect.looks_like_flag(data[header])
        ):  # "Closed" / "Сделка закрыта" holding yes/no: the deal is closed, not a date
            take(header, "is_closed", f"header {header!r} says closed and holds yes/no values")
            continue
        if data is not None and header in data and not _values_fit(role, data[header]):
            evidence[header] = f"the name suggests {role}, but its values do not fit; kept in extra"
            continue
        take(header, role, f"header {header!r} contains a word for this field")
    if data is not None:
        _by_values(headers, data, targets, taken, take)
    return [
        ColumnChoice(
            h,
            targets[h],
            evidence[h] or "no known field has this name or these values; kept verbatim in extra",
        )
        for h in headers
    ]


SF_HISTORY_KEYS = {"opportunityid", "stagename", "createddate"}
SF_HISTORY_ROLES = {
    "opportunityid": "opportunity_id",
    "stagename": "stage",
    "createddate": "changed_at",
}


def salesforce_api_history(headers: list[str]) -> list[ColumnChoice] | None:
    """Salesforce data export `OpportunityHistory.csv` (Id, OpportunityId, StageName, CreatedDate,
    Amount, CloseDate, Probability …): one row per stage entry of a deal. Its `Id` is the history
    row's, `OpportunityId` the deal's. None when the headers are not that."""
    compact = {header_key(h).replace(" ", ""): h for h in headers}
    if not set(compact) >= SF_HISTORY_KEYS or "name" in compact or "accountid" in compact:
        return None
    return [
        ColumnChoice(
            h,
            SF_HISTORY_ROLES.get(header_key(h).replace(" ", "")),
            "Salesforce OpportunityHistory export (API names)",
        )  # fmt: skip
        for h in headers
    ]


# Headers that mean different fields in different CRMs, told apart by their values: Bitrix24's
# OPPORTUNITY is the amount, Odoo's "Opportunity" the deal's title.
BY_VALUES_HEADERS = {
    "opportunity": (("amount", "numbers under OPPORTUNITY: the amount (Bitrix24)"),
                    ("name", "text under Opportunity: the deal's title (Odoo)")),
}  # fmt: skip
WEAK_NAMES = {"expectedrevenue", "estrevenue", "est.revenue", "total", "value", "revenue", "closed",
              "won", "active", "customer", "partner", "opportunity"}  # fmt: skip
DATE_ROLES = ("created_at", "closed_at", "expected_close_at", "last_activity_at")
GENERIC_STAGE_WORDS = {"stage", "current stage", "this stage", "deal stage", "phase", "etapa", "fase",
                       "阶段", "当前阶段", "стадии", "этапе"}  # fmt: skip


def _values_fit(role: str, values: pd.Series) -> bool:
    if role in DATE_ROLES:
        return detect.date_share(values) >= 0.5
    if role == "amount":
        return detect.amount_share(values)[0] >= detect.MIN_SHARE
    if role in ("stage", "status", "owner", "name", "account"):  # words, not counts or amounts
        return detect.numeric_share(values) < 0.5
    return True


def _by_values(headers, data, targets, taken, take) -> None:
    """Roles still missing, found by what the free columns hold."""
    free = [h for h in headers if targets.get(h) is None and h in data]
    for flag in ("is_won", "is_closed", "is_active"):  # a column named IsWon must hold true/false
        header = taken.get(flag)
        if header and header in data and not detect.looks_like_flag(data[header]):
            targets[header] = None
            taken.pop(flag)
    if "status" not in taken:
        for header in free:
            if detect.looks_like_status(data[header]):
                take(header, "status", "its values are deal outcomes (won / lost / open words)")
                free.remove(header)
                break
    if "stage" not in taken and "status" not in taken:
        for header in free:
            if detect.looks_like_stage(data[header]):
                take(header, "stage", "its values include closed stages (won / lost words)")
                free.remove(header)
                break
    if "amount" not in taken:
        for header in free:
            parsed, marked = detect.amount_share(data[header])
            if marked >= 0.5 and parsed >= detect.MIN_SHARE:
                take(header, "amount", "its values are amounts with currency marks")
                free.remove(header)
                break


def detect_layout(headers: list[str], mapping: dict[str, str | None]) -> tuple[str, str]:
    """(layout, evidence) from the header names and the mapped targets."""
    keys = {header_key(h) for h in headers}
    targets = {t for t in mapping.values() if t}
    raw = " | ".join(headers[:6])
    if {"field_event", "old_value", "new_value"} <= targets:
        return "salesforce_field_history", "Field / Event, Old Value and New Value columns"
    if {"from_stage", "to_stage"} <= targets:
        return "salesforce_history", "From Stage and To Stage columns"
    if (
        any(t.startswith(ENTERED_PREFIX) for t in targets)
        or {"record id", "deal name", "deal stage"} <= keys
    ):
        return "hubspot_deals", 'Record ID / Deal Stage or Date entered "…" columns'
    if sum(h.startswith("Deal - ") for h in headers) >= 2:
        return "pipedrive_deals", 'columns prefixed "Deal - "'
    if (
        "stage" in targets
        and "changed_at" in targets
        and ("stage duration calendar days" in keys or "moved to" in keys)
    ):
        return "zoho_stage_history", "Stage, Modified Time and Stage Duration / Moved To columns"
    if "deal name" in keys and "stage" in keys and ({"closing date", "record id"} & keys):
        return "zoho_deals", "Deal Name, Stage and Closing Date / Record Id columns"
    if "opportunity name" in keys or "opportunity owner" in keys:
        return "salesforce_report", "Opportunity Name / Opportunity Owner columns"
    if {"stage", "changed_at"} <= targets and targets <= {
        "opportunity_id",
        "name",
        "stage",
        "changed_at",
    }:
        return "stage_log", "only id, stage and date columns: one row per stage entry"
    if not targets & {"opportunity_id", "stage", "status", "is_won", "is_closed"} and targets:
        return "lookup", "no id or stage column: attributes joined by " + ", ".join(sorted(targets))
    if sum(bool(_CJK.search(h)) for h in headers) * 2 > len(headers):
        return "chinese_crm", f"Chinese headers ({raw})"
    return "generic", f"headers {raw}"


def mapping_dict(choices: list[ColumnChoice]) -> dict[str, str | None]:
    """{source header: target} from a list of choices."""
    return {c.source: c.target for c in choices}


def validate_targets(mapping: dict[str, str | None]) -> list[str]:
    """Targets in a user-edited mapping that are not canonical fields (empty when all are fine)."""
    return sorted(
        {
            t
            for t in mapping.values()
            if t and t not in TARGETS and not t.startswith((ENTERED_PREFIX, TIME_PREFIX))
        }
    )
