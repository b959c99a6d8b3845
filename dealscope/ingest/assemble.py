"""Combine the per-file pieces into canonical frames: link events to deals, derive deals from a
history alone, join lookup tables, set status from the stage configuration and flag rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from dealscope.ingest.build import tidy_text
from dealscope.ingest.rawtable import arrow_text, as_text
from dealscope.ingest.stages import stage_kind, status_from_text
from dealscope.ingest.vocab import truth_of
from dealscope.model import LOST, OPEN, WON, arrow_strings, infer_as_of

# Row flags computed from the canonical values (RELIABILITY I4, DESIGN §3).
FUTURE_TOLERANCE = pd.Timedelta(days=1)
LOOKUP_KEYS = ("owner", "account", "team", "region")


def member(values: pd.Series, pool) -> pd.Series:
    """values.isin(pool) for text, as one Arrow hash lookup (a missing value matches a missing one)."""
    hit = pc.is_in(arrow_text(values), value_set=arrow_strings(as_text(pd.Series(pool))))
    return pd.Series(hit.to_numpy(zero_copy_only=False), index=values.index, dtype=bool)


def derive_opportunities(events: pd.DataFrame) -> pd.DataFrame:
    """Deals seen only in a stage history: stage = latest entry, created = first entry,
    closed = the entry into a won/lost stage when that is the latest."""
    ordered = events.dropna(subset=["entered_at"]).sort_values(
        ["opportunity_id", "entered_at"], kind="stable"
    )
    group = ordered.groupby("opportunity_id", sort=True)
    deals = pd.DataFrame({"created_at": group["entered_at"].min(), "stage": group["stage"].last(),
                          "_last": group["entered_at"].max()})  # fmt: skip
    closed = deals["stage"].map({s: stage_kind(s) for s in deals["stage"].unique()}) != OPEN
    deals["closed_at"] = deals["_last"].where(closed)
    return deals.drop(columns="_last").rename_axis("opportunity_id").reset_index()


def link_event_ids(events: pd.DataFrame, opps: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """Map history ids that are deal *names* onto deal ids when names match better than ids."""
    if events.empty or opps.empty or "name" not in opps:
        return events, None
    by_id = member(events["opportunity_id"], opps["opportunity_id"].dropna()).mean()
    names = (
        opps.dropna(subset=["name"])
        .drop_duplicates("name", keep=False)
        .set_index("name")["opportunity_id"]
    )
    by_name = member(events["opportunity_id"], names.index.to_series()).mean()
    if by_name > by_id:
        linked = events["opportunity_id"].map(names).fillna(events["opportunity_id"])
        return events.assign(
            opportunity_id=linked.astype("string")
        ), "history linked to deals by name"
    return events, None


def join_lookup(opps: pd.DataFrame, lookup: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """Fill empty attributes from a lookup table keyed by owner/account (e.g. Maven sales_teams)."""
    key = next(
        (k for k in LOOKUP_KEYS if k in lookup and k in opps and opps[k].notna().any()), None
    )
    if key is None:
        return opps, None
    table = lookup.dropna(subset=[key]).drop_duplicates(key).set_index(key)
    filled = []
    for column in table.columns:
        if column.startswith("_") or column == "extra":
            continue
        values = opps[key].map(table[column])
        current = (
            opps[column]
            if column in opps
            else pd.Series(pd.NA, index=opps.index, dtype=values.dtype)
        )
        opps[column] = current.where(current.notna(), values)
        filled.append(column)
    return opps, f"joined {', '.join(filled)} by {key}" if filled else None


def _truth(opps: pd.DataFrame, column: str) -> pd.Series:
    """True / False / NA per row from a flag column (IsWon, IsClosed); NA when absent."""
    if column not in opps:
        return pd.Series(pd.NA, index=opps.index, dtype="boolean")
    codes, words = pd.factorize(opps[column])
    truth = np.array([truth_of(str(w)) for w in words] + [None], dtype=object)
    return pd.Series(truth[codes], index=opps.index, dtype="boolean")


def assign_status(
    opps: pd.DataFrame, kinds: dict[str, str], assigned: dict[str, str] | None = None
) -> tuple[pd.Series, pd.Series]:
    """(status, unknown-status mask). Every row ends in exactly one of open / won / lost: a status
    column's words win, then IsWon / IsClosed flags, then the stage's kind; a status word that
    is none of those is flagged unknown-status and the row takes its stage's kind (open when it
    has none)."""
    stage = opps["stage"] if "stage" in opps else pd.Series(pd.NA, index=opps.index)
    from_stage = stage.map(kinds).fillna(OPEN).astype("string")
    won, closed = _truth(opps, "is_won"), _truth(opps, "is_closed")
    by_flags = pd.Series(pd.NA, index=opps.index, dtype="string")
    by_flags = by_flags.mask(closed.eq(False).fillna(False), OPEN)
    by_flags = by_flags.mask((closed.eq(True) & won.eq(False)).fillna(False), LOST)
    by_flags = by_flags.mask(won.eq(True).fillna(False), WON)
    active = _truth(opps, "is_active")  # Odoo: a lost deal is archived (Active = false)
    by_flags = by_flags.mask(
        (active.eq(False) & by_flags.isna()).fillna(False) & from_stage.ne(WON), LOST
    )
    if closed.isna().all():  # IsWon alone: false says only "not won" (lost or open: the stage)
        by_flags = by_flags.mask(won.eq(False).fillna(False) & from_stage.eq(WON), LOST)
    base = by_flags.fillna(from_stage).astype("string")
    if "status" not in opps or opps["status"].isna().all():
        return base, pd.Series(False, index=opps.index)
    words = status_from_text(opps["status"], assigned)
    unknown = opps["status"].notna() & words.isna()
    return words.fillna(base).astype("string"), unknown.astype(bool)


def row_flags(
    opps: pd.DataFrame, now: pd.Timestamp, unknown_stages: list[str]
) -> dict[str, pd.Series]:
    """Domain flags per row: {code: mask}. Rows stay loaded; each flag is reported."""
    created, closed = opps["created_at"], opps["closed_at"]
    amount = opps["amount"] if "amount" in opps else pd.Series(np.nan, index=opps.index)
    future = pd.Series(False, index=opps.index)
    for column in ("created_at", "closed_at", "last_activity_at"):
        future |= (opps[column] > now + FUTURE_TOLERANCE).fillna(False)
    return {
        "missing-created": created.isna(),
        "close-before-create": (closed < created).fillna(False),
        "negative-amount": (amount < 0).fillna(False),
        "won-zero-amount": ((opps["status"] == WON) & (amount == 0)).fillna(False),
        "missing-close-date": (opps["status"].isin([WON, LOST]) & closed.isna()).fillna(False),
        "future-date": future,
        "unknown-stage": opps["stage"].isin(unknown_stages).fillna(False),
    }


def flags_column(index: pd.Index, masks: dict[str, pd.Series]) -> pd.Series:
    """Comma-joined flag codes per row (null when none): each distinct combination of flags is
    joined once, then spread to its rows."""
    codes = list(masks)
    if not codes:
        return pd.Series(pd.NA, index=index, dtype="string")
    hits = np.column_stack(
        [masks[c].reindex(index, fill_value=False).astype(bool).to_numpy() for c in codes]
    )
    if len(codes) < 63:  # one int64 per row: a hash pass, not a row-wise sort of the matrix
        bits = hits.astype(np.int64) @ (np.int64(1) << np.arange(len(codes), dtype=np.int64))
        row_combo, distinct = pd.factorize(bits)
        combos = (distinct[:, None] >> np.arange(len(codes))) & 1
    else:
        combos, row_combo = np.unique(hits, axis=0, return_inverse=True)
    labels = np.array(
        [
            ",".join(c for c, hit in zip(codes, combo, strict=True) if hit) or None
            for combo in combos
        ]
        + [None],  # keeps the array 1-D even for one combination
        dtype=object,
    )
    return pd.Series(labels[row_combo.reshape(-1)], index=index, dtype="string")


def current_stage_entries(opps: pd.DataFrame, events: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(stage_entered_at, dated mask): for open deals without stage history that carry a "days in
    the current stage" value (`_stage_duration`, Salesforce Stage Duration / 停留时长), the export's
    date (infer_as_of, as the app infers it) minus that duration. The value is a fact of the export
    date: it says when the deal entered the stage it is in now, nothing about earlier stages, so it
    feeds time in the current stage and never the funnel (that stays on the snapshot basis)."""
    entered = pd.Series(pd.NaT, index=opps.index, dtype="datetime64[ns]")
    duration = opps.get("_stage_duration")
    export_date = infer_as_of(opps, events)
    if duration is None or export_date is None:
        return entered, pd.Series(False, index=opps.index)
    dated = duration.notna().to_numpy() & opps["status"].eq(OPEN).fillna(False).to_numpy(bool)
    if len(events):
        dated &= ~member(opps["opportunity_id"], events["opportunity_id"]).to_numpy()
    dated = pd.Series(dated, index=opps.index)
    entered[dated] = export_date - pd.to_timedelta(duration[dated])
    return entered, dated


def move_open_close_dates(opps: pd.DataFrame) -> int:
    """A close date on an open deal is its expected close date (Salesforce/HubSpot semantics)."""
    misplaced = (opps["status"] == OPEN) & opps["closed_at"].notna()
    if "expected_close_at" not in opps:
        opps["expected_close_at"] = pd.Series(pd.NaT, index=opps.index, dtype="datetime64[ns]")
    if not misplaced.any():
        return 0
    opps.loc[misplaced, "expected_close_at"] = opps.loc[misplaced, "expected_close_at"].fillna(
        opps.loc[misplaced, "closed_at"]
    )
    opps.loc[misplaced, "closed_at"] = pd.NaT
    return int(misplaced.sum())


def text_ids(values: pd.Series) -> pd.Series:
    return tidy_text(values, nfkc=False)
