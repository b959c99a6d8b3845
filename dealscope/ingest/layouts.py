"""Layout detection and the proposed column mapping, with the evidence for every choice."""

from __future__ import annotations

import re
from dataclasses import dataclass

from dealscope.ingest.synonyms import HUBSPOT_ENTERED, TARGETS, header_key, match_header

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
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class ColumnChoice:
    """One source column: the canonical target it maps to (None = kept in `extra`) and why."""

    source: str
    target: str | None
    evidence: str


def propose_mapping(headers: list[str]) -> list[ColumnChoice]:
    """A target for every header: known synonyms, HubSpot `Date entered "<stage> (<pipeline>)"`
    columns as stage entries; a target already taken stays with the first column."""
    taken: dict[str, str] = {}
    choices = []
    pipelines = {
        m.group("stage").rsplit("(", 1)[-1] for h in headers if (m := HUBSPOT_ENTERED.match(h))
    }
    for header in headers:
        entered = HUBSPOT_ENTERED.match(header)
        if entered:
            stage = entered.group("stage").strip()
            if len(pipelines) <= 1:
                stage = re.sub(r"\s*\([^()]*\)\s*$", "", stage) or stage
            choices.append(
                ColumnChoice(header, ENTERED_PREFIX + stage, "HubSpot stage-entry date column")
            )
            continue
        target, evidence = match_header(header)
        if target and target in taken:
            evidence = f"also a name for {target}, already taken by column {taken[target]!r}; kept in extra"
            target = None
        elif target:
            taken[target] = header
        else:
            evidence = "no known field has this name; kept verbatim in extra"
        choices.append(ColumnChoice(header, target, evidence))
    return choices


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
    if "opportunity_id" not in targets and "stage" not in targets and targets:
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
        {t for t in mapping.values() if t and t not in TARGETS and not t.startswith(ENTERED_PREFIX)}
    )
