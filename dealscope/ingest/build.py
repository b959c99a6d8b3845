"""Turn the loaded rows of an opportunities table into canonical columns, noting every cell issue."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from dealscope.ingest.parse_amounts import parse_amounts
from dealscope.ingest.parse_dates import infer_day_first, parse_dates
from dealscope.ingest.parse_durations import parse_durations
from dealscope.ingest.parse_probability import parse_probabilities
from dealscope.ingest.rawtable import (
    RawTable,
    as_text,
    blank_to_null,
    contains_text,
    control_character_mask,
)
from dealscope.ingest.settings import IngestSettings
from dealscope.ingest.synonyms import DATE_TARGETS, OPPORTUNITY_TARGETS, STAGE_TIME, match_header
from dealscope.ingest.variants import VARIANT_TARGETS, to_simplified, variant_note
from dealscope.model import arrow_strings

ISSUE_COLUMNS = ("pos", "column", "value", "code")
# Names whose variants (spaces, full-width forms) should compare equal (I5).
TIDY_TEXT = ("owner", "team", "region", "industry", "source", "customer_type", "currency")
# Mapped columns whose values are reinterpreted (80% -> 0.8): their source text also stays in `extra`.
VERBATIM_TOO = ("probability", "stage_duration")


@dataclass
class Built:
    """Canonical columns of the loaded rows (index = row positions in the RawTable) and issues."""

    frame: pd.DataFrame
    issues: pd.DataFrame
    notes: list[str]


def _issue_rows(codes: pd.Series, raw_values: pd.Series, column: str) -> pd.DataFrame:
    hit = codes.notna()
    return pd.DataFrame(
        {"pos": codes.index[hit], "column": column, "value": raw_values[hit].astype(object).to_numpy(),
         "code": codes[hit].to_numpy()}
    )  # fmt: skip


def tidy_text(values: pd.Series, nfkc: bool) -> pd.Series:
    """Trimmed text ('' -> null); optionally NFKC with whitespace collapsed (distinct values only)."""
    text = as_text(values).str.strip()
    if nfkc and text.str.contains(r"[^\x00-\x7f]|\s\s", regex=True).any():
        # Normalise each distinct value once (Arrow dictionary), then take back to the rows.
        encoded = pc.dictionary_encode(arrow_strings(text))
        tidy = [
            " ".join(unicodedata.normalize("NFKC", v).split())
            for v in encoded.dictionary.to_pylist()
        ]
        tidied = pc.take(pa.array(tidy, type=pa.string()), encoded.indices)
        text = pd.Series(pd.arrays.ArrowStringArray(tidied), index=text.index, name=text.name)
    return blank_to_null(text)


def _spare_sources(mapping: dict[str, str | None], target: str, data: pd.DataFrame) -> list[str]:
    """Unmapped columns whose name also means `target` (a second date of the same kind)."""
    return [
        s for s, t in mapping.items() if t is None and s in data and match_header(s)[0] == target
    ]


def build_columns(
    raw: RawTable, mapping: dict[str, str | None], rows: pd.Index, settings: IngestSettings
) -> Built:
    """Canonical opportunity columns for `rows`; unmapped columns go verbatim into `extra` (JSON)."""
    # Usually every row is loaded: no copy of the whole table then.
    data = raw.data if rows.equals(raw.data.index) else raw.data.loc[rows]
    out = pd.DataFrame(index=rows)
    issues: list[pd.DataFrame] = []
    notes: list[str] = []
    by_target = {t: s for s, t in mapping.items() if t}
    day_first = settings.day_first
    if day_first is None:  # one export uses one date format: pool the evidence of its columns
        date_sources = [s for t, s in by_target.items() if t in DATE_TARGETS and s in data]
        day_first = infer_day_first([data[s] for s in date_sources])
    for target in OPPORTUNITY_TARGETS:
        source = by_target.get(target)
        if source is None or source not in data.columns:
            continue
        values = data[source]
        if raw.may_hold_nul and contains_text(values, "\x00"):
            nul = values.str.contains("\x00", regex=False).fillna(False).astype(bool)
            issues.append(
                _issue_rows(
                    pd.Series("nul-stripped", index=values.index).where(nul), values, source
                )
            )
            values = values.str.replace("\x00", "", regex=False)
        control = control_character_mask(values)
        if control is not None:  # kept as read (RELIABILITY I8); flagged once here, and every
            # export escapes them visibly (dealscope.export)
            flagged = pd.Series("control-character", index=values.index).where(control)
            issues.append(_issue_rows(flagged, values, source))
        if target in DATE_TARGETS:
            result = parse_dates(
                values, zone=settings.timezone, epoch=raw.date_epoch, day_first=day_first
            )
            out[target] = result.values
            for spare in _spare_sources(mapping, target, data):  # Won time + Lost time (Pipedrive)
                filled = parse_dates(data[spare], zone=settings.timezone, epoch=raw.date_epoch,
                                     day_first=day_first).values  # fmt: skip
                out[target] = out[target].fillna(filled)
                notes.append(f"{spare}: fills {target} where {source} is empty")
            issues.append(_issue_rows(result.issues, values, source))
            if result.note:
                notes.append(f"{source}: {result.note}")
        elif target == "amount":
            result = parse_amounts(values, decimal=settings.decimal)
            out["amount"] = result.values
            out["_amount_currency"] = result.currency
            issues.append(_issue_rows(result.issues, values, source))
            if result.decimal == ",":
                notes.append(f"{source}: decimal comma")
        elif target == "stage_duration":  # days in the current stage: dated by the pipeline
            unit = (
                (m.group("unit") or m.group("unit2")) if (m := STAGE_TIME.match(source)) else None
            )
            durations = parse_durations(values, unit)
            out["_stage_duration"] = durations
            blank = as_text(values).str.strip().fillna("").eq("")
            bad = pd.Series("bad-duration", index=values.index).where(durations.isna() & ~blank)
            issues.append(_issue_rows(bad, values, source))
        elif target == "probability":
            result = parse_probabilities(values)
            out["probability"] = result.values
            issues.append(_issue_rows(result.issues, values, source))
            if result.note:
                notes.append(f"{source}: {result.note}")
        else:
            out[target] = tidy_text(values, nfkc=target in TIDY_TEXT)
            if settings.traditional_to_simplified and target in VARIANT_TARGETS:  # I5, opt-in
                out[target], changed = to_simplified(out[target])
                notes += [variant_note(source, changed)] if changed else []
    if "currency" not in out and "_amount_currency" in out:
        out["currency"] = out["_amount_currency"]
    elif "_amount_currency" in out:
        out["currency"] = out["currency"].fillna(out["_amount_currency"])
    out = out.drop(columns=["_amount_currency"], errors="ignore")
    extra_columns = [
        s for s, t in mapping.items() if (not t or t in VERBATIM_TOO) and s in data.columns
    ]
    if extra_columns and len(rows):
        # One C-level JSON pass over the whole block, split per row: values kept verbatim.
        text = (
            data[extra_columns]
            .astype(object)
            .to_json(orient="records", lines=True, force_ascii=False)
        )
        out["extra"] = pd.Series(text.rstrip("\n").split("\n"), index=rows, dtype="string")
    issue_frame = (
        pd.concat(issues, ignore_index=True)
        if issues
        else pd.DataFrame(columns=list(ISSUE_COLUMNS))
    )
    return Built(out, issue_frame, notes)
