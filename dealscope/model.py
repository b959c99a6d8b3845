"""The canonical tables every source is normalised to (DESIGN.md §3) and the stage configuration."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

OPEN, WON, LOST = "open", "won", "lost"
STATUSES = (OPEN, WON, LOST)

TEXT_COLUMNS = (
    "opportunity_id",
    "name",
    "account",
    "owner",
    "team",
    "region",
    "industry",
    "source",
    "customer_type",
    "currency",
    "stage",
    "status",
    "lost_reason",
    "next_step",
    "extra",
    "flags",
)
DATE_COLUMNS = (
    "created_at",
    "closed_at",
    "expected_close_at",
    "last_activity_at",
    "stage_entered_at",
)
NUMBER_COLUMNS = ("amount", "probability")

# Column order of the canonical opportunities frame. `probability` is the source's win probability
# as 0–1 (optional; out-of-range values kept as read and flagged; never a model feature). `extra`
# holds unmapped source columns as a JSON object string; `flags` holds comma-separated data-quality
# flags of the row (e.g. "close-before-create,negative-amount"); all three may be null.
# `stage_entered_at` is when the deal entered its current stage as far as the export says without
# a stage history: the export's date minus a "days in the current stage" column (Salesforce Stage
# Duration, 停留时长), flagged stage-entry-derived; null otherwise. It is a fact at the export's
# date only, so it is never a risk-model feature (the model's snapshots lie before it).
OPPORTUNITY_COLUMNS = (
    "opportunity_id",
    "name",
    "account",
    "owner",
    "team",
    "region",
    "industry",
    "source",
    "customer_type",
    "amount",
    "currency",
    "probability",
    "stage",
    "status",
    "created_at",
    "closed_at",
    "expected_close_at",
    "last_activity_at",
    "stage_entered_at",
    "lost_reason",
    "next_step",
    "extra",
    "flags",
)
STAGE_EVENT_COLUMNS = ("opportunity_id", "stage", "entered_at")
STAGE_COLUMNS = ("stage", "position", "kind")

# The segment columns users can filter and compare by.
SEGMENT_COLUMNS = ("region", "industry", "source", "customer_type", "owner", "team")

# Text columns with a handful of distinct values. Normalising makes equal values share one string
# object: comparisons and hash lookups over a million rows then touch a few cached objects, not a
# million scattered ones (3-5x faster on a shuffled frame), and the column shrinks to pointers.
SHARED_TEXT_COLUMNS = (*SEGMENT_COLUMNS, "currency", "stage", "status", "lost_reason")

# The demo pipeline's stages, in order (open stages first, then the two closed ones).
DEMO_OPEN_STAGES = ("线索", "需求确认", "方案提交", "技术交流", "价格谈判")
DEMO_WON_STAGE = "赢单"
DEMO_LOST_STAGE = "输单"


# Row flag of a closed deal whose close date lies after the export's date (see settle_late_closes).
CLOSE_AFTER_AS_OF = "close-after-as-of"
# The moments that say when an export was taken. A close date is not one of them: CRMs keep a
# planned close date on deals marked lost or won early, so one such date would move the whole
# analysis months into the future (empty weeks, every open deal "silent").
AS_OF_COLUMNS = ("created_at", "last_activity_at")


def infer_as_of(
    opportunities: pd.DataFrame, stage_events: pd.DataFrame | None = None
) -> pd.Timestamp | None:
    """The export's date: the latest created, activity or stage-entry moment in the data.

    Close dates count only when the data has no other moment (a file of close dates alone);
    None when the data has no dates at all. Close dates after the result are flagged per row by
    settle_late_closes, they never move it.
    """
    latest = [opportunities[c].max() for c in AS_OF_COLUMNS if c in opportunities]
    if stage_events is not None and not stage_events.empty:
        latest.append(stage_events["entered_at"].max())
    latest = [ts for ts in latest if pd.notna(ts)]
    if not latest and "closed_at" in opportunities:
        latest = [ts for ts in [opportunities["closed_at"].max()] if pd.notna(ts)]
    return max(latest) if latest else None


def late_close_mask(opportunities: pd.DataFrame, as_of: pd.Timestamp | None) -> pd.Series:
    """Closed (won/lost) deals whose close date is after `as_of`."""
    if as_of is None:
        return pd.Series(False, index=opportunities.index)
    closed = opportunities["status"].isin([WON, LOST]).fillna(False).astype(bool)
    return closed & opportunities["closed_at"].gt(as_of).to_numpy()


def settle_late_closes(opportunities: pd.DataFrame, as_of: pd.Timestamp | None) -> pd.DataFrame:
    """The export's status is the truth at the export date: a deal marked won or lost whose close
    date lies after `as_of` stays won / lost, its close moment unknown (closed_at unset) and the
    row flagged CLOSE_AFTER_AS_OF. Returns `opportunities` itself when no row is affected."""
    late = late_close_mask(opportunities, as_of)
    if not late.any():
        return opportunities
    out = opportunities.copy()
    out.loc[late, "closed_at"] = pd.NaT
    flags = out.loc[late, "flags"].fillna("")
    out.loc[late, "flags"] = flags.where(flags.eq(""), flags + ",") + CLOSE_AFTER_AS_OF
    return out


@dataclass(frozen=True)
class Dataset:
    """One stored dataset: the canonical tables plus what is known about where it came from."""

    id: int
    name: str
    opportunities: pd.DataFrame
    stage_events: pd.DataFrame
    stages: pd.DataFrame
    meta: dict
    # An analysis date the user chose (sidebar, ?as_of=, --as-of); None = the export's date.
    chosen_as_of: pd.Timestamp | None = None

    @property
    def has_history(self) -> bool:
        return not self.stage_events.empty

    @cached_property
    def data_as_of(self) -> pd.Timestamp | None:
        """The export's date inferred from the data (infer_as_of); None for data without dates."""
        return infer_as_of(self.opportunities, self.stage_events)

    @cached_property
    def as_of(self) -> pd.Timestamp:
        """The analysis date, computed once: the one chosen (at()), else the export's date, else
        (no dates at all) the time the dataset was stored, else now."""
        if self.chosen_as_of is not None:
            return self.chosen_as_of
        if self.data_as_of is not None:
            return self.data_as_of
        stored = pd.to_datetime(self.meta.get("created_at"), errors="coerce")
        if pd.notna(stored):
            return pd.Timestamp(stored).tz_localize(None) if stored.tzinfo else pd.Timestamp(stored)
        return pd.Timestamp.now().floor("s")

    @property
    def has_dates(self) -> bool:
        """Whether any deal has a created date (period, weekly and duration figures need one)."""
        return bool(self.opportunities["created_at"].notna().any())

    def settled(self) -> Dataset:
        """This dataset ready for analysis: late close dates settled (settle_late_closes) against
        its export date. Every analysis (app, CLI) works on this; the stored rows are unchanged."""
        late = int(late_close_mask(self.opportunities, self.data_as_of).sum())
        if not late:
            return self
        settled = settle_late_closes(self.opportunities, self.data_as_of)
        return replace(self, opportunities=settled, meta={**self.meta, "late_closes": late})

    @property
    def late_closes(self) -> int:
        """How many closed deals settled() found with a close date after the export's date."""
        return int(self.meta.get("late_closes", 0))

    def at(self, as_of: pd.Timestamp | None) -> Dataset:
        """This dataset analysed as of `as_of` (None: its own date)."""
        if as_of is None or as_of == self.chosen_as_of:
            return self
        return replace(self, chosen_as_of=pd.Timestamp(as_of))


def empty_opportunities() -> pd.DataFrame:
    """An empty opportunities frame with the canonical columns and dtypes."""
    return normalise_opportunities(pd.DataFrame(columns=list(OPPORTUNITY_COLUMNS)))


def normalise_opportunities(frame: pd.DataFrame) -> pd.DataFrame:
    """Return `frame` with exactly the canonical opportunity columns, in order, with canonical dtypes.

    Missing optional columns are added as nulls. Text is pandas' nullable string dtype, dates are
    naive datetime64 (already in the dataset's declared time zone), amount and probability float64.
    """
    rows = len(frame)
    columns = {}
    for column in OPPORTUNITY_COLUMNS:
        if column not in frame.columns:  # absent: typed nulls, without converting anything
            columns[column] = null_column(column, rows)
        elif column in DATE_COLUMNS:
            values = pd.to_datetime(frame[column], errors="raise", format="ISO8601")
            columns[column] = values.astype("datetime64[ns]").array
        elif column in NUMBER_COLUMNS:
            columns[column] = pd.to_numeric(frame[column], errors="raise").astype("float64").array
        elif column in SHARED_TEXT_COLUMNS:
            columns[column] = shared_strings(frame[column]).array
        else:
            columns[column] = frame[column].astype("string").array
    # One construction from column arrays (astype copies them): per-column inserts cost more than
    # the conversions on small frames, and reset_index would copy a million rows again.
    return pd.DataFrame(columns, index=pd.RangeIndex(rows), copy=False)


def null_column(column: str, rows: int):
    """`rows` nulls typed as canonical opportunity column `column` (NaT, NaN or string NA)."""
    if column in DATE_COLUMNS:
        return np.full(rows, np.datetime64("NaT"), dtype="datetime64[ns]")
    if column in NUMBER_COLUMNS:
        return np.full(rows, np.nan)
    return pd.array(np.full(rows, pd.NA, dtype=object), dtype="string")


def is_canonical_opportunities(frame: pd.DataFrame) -> bool:
    """Whether `frame` already is what normalise_opportunities returns (columns, dtypes, index)."""
    if tuple(frame.columns) != OPPORTUNITY_COLUMNS or not isinstance(frame.index, pd.RangeIndex):
        return False
    expected = {c: "datetime64[ns]" for c in DATE_COLUMNS} | {c: "float64" for c in NUMBER_COLUMNS}
    return all(str(frame[c].dtype) == expected.get(c, "string") for c in OPPORTUNITY_COLUMNS)


def arrow_strings(values: pd.Series) -> pa.Array:
    """An Arrow-backed text column as one contiguous Arrow array (no copy when it has one chunk)."""
    array = pa.array(values.array)
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def text_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes (-1 = missing) and distinct values of a text column, in order of first appearance.

    One hash pass over the column's object array: at a million rows it is several times faster
    than pandas' string-dtype isna / == / value_counts, each of which reads every string again.
    """
    return pd.factorize(np.asarray(values.array, dtype=object))


def _arrow_backed(text: pd.Series) -> bool:
    return isinstance(text.dtype, pd.StringDtype) and text.dtype.storage == "pyarrow"


def shared_strings(values: pd.Series) -> pd.Series:
    """`values` as pandas' string dtype, equal values sharing one str object (see SHARED_TEXT_COLUMNS)."""
    if _arrow_backed(values):
        # Dictionary-encode in Arrow and make one str per distinct value: cheaper than making
        # a str per row and then hashing them.
        encoded = pc.dictionary_encode(arrow_strings(values))
        uniques = np.asarray(encoded.dictionary.to_pylist() + [pd.NA], dtype=object)
        codes = encoded.indices.fill_null(len(uniques) - 1).to_numpy(zero_copy_only=False)
        shared = uniques.take(codes)
    else:
        text = values.astype("string")
        if not isinstance(text.array, pd.arrays.StringArray):
            return text
        codes, uniques = text_codes(text)
        if len(uniques) in (0, len(text)):  # all missing, or nothing repeats: nothing to share
            return text
        shared = uniques.take(codes)
        shared[codes < 0] = pd.NA
    return pd.Series(pd.arrays.StringArray(shared), index=values.index, name=values.name)


def normalise_stage_events(frame: pd.DataFrame) -> pd.DataFrame:
    """Return stage events with columns opportunity_id, stage (string), entered_at (datetime64)."""
    if frame.empty:  # most uploads have no history: skip the conversions and the sort
        return pd.DataFrame(
            {
                "opportunity_id": pd.array([], dtype="string"),
                "stage": pd.array([], dtype="string"),
                "entered_at": np.array([], dtype="datetime64[ns]"),
            }
        )
    out = pd.DataFrame(
        {
            "opportunity_id": frame.get("opportunity_id", pd.Series(dtype="string")).astype(
                "string"
            ),
            "stage": shared_strings(frame.get("stage", pd.Series(dtype="string"))),
            "entered_at": pd.to_datetime(
                frame.get("entered_at", pd.Series(dtype="datetime64[ns]")), format="ISO8601"
            ).astype("datetime64[ns]"),
        }
    )
    return out.iloc[stage_event_order(out)].reset_index(drop=True)


def stage_event_order(events: pd.DataFrame) -> np.ndarray | slice:
    """Row order by (opportunity_id, entered_at), stable; missing ids and times sort last.

    Exports usually arrive sorted, and the store hands back what it was given: an O(n) check
    skips the sort then. Otherwise the ids are sorted once as distinct values and the rows by
    integer codes, which is an order of magnitude faster than a string sort of every row.
    """
    ids = events["opportunity_id"]
    when = events["entered_at"].to_numpy(dtype="datetime64[ns]").view("int64")
    missing = ids.isna().to_numpy() | events["entered_at"].isna().to_numpy()
    if not missing.any():
        later, same = _compare_neighbours(ids)
        if (later | (same & (when[1:] >= when[:-1]))).all():
            return slice(None)
    codes, uniques = pd.factorize(ids, sort=True)
    codes = np.where(codes < 0, len(uniques), codes)
    when = np.where(events["entered_at"].isna().to_numpy(), np.iinfo("int64").max, when)
    return np.lexsort((when, codes))


def normalise_stages(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the stage table with columns stage, position (int), kind (open/won/lost), by position."""
    out = pd.DataFrame(
        {
            "stage": frame["stage"].astype("string"),
            "position": frame["position"].astype("int64"),
            "kind": frame["kind"].astype("string"),
        }
    )
    unknown = set(out["kind"].dropna()) - set(STATUSES)
    if unknown:
        raise ValueError(f"stage kind must be one of {STATUSES}, got {sorted(unknown)}")
    return out.sort_values("position", kind="stable").reset_index(drop=True)


def demo_stage_table() -> pd.DataFrame:
    """The demo pipeline's stage table (线索 … 价格谈判, then 赢单 / 输单)."""
    rows = [(stage, i, OPEN) for i, stage in enumerate(DEMO_OPEN_STAGES)]
    rows += [(DEMO_WON_STAGE, len(rows), WON), (DEMO_LOST_STAGE, len(rows) + 1, LOST)]
    return normalise_stages(pd.DataFrame(rows, columns=list(STAGE_COLUMNS)))


def open_stage_order(stages: pd.DataFrame) -> list[str]:
    """The open stages in pipeline order."""
    return stages.loc[stages["kind"] == OPEN, "stage"].tolist()


def _compare_neighbours(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(text[i+1] > text[i], text[i+1] == text[i]) for a column without missing values; in Arrow
    for Arrow-backed text, which saves making a Python str per row."""
    if _arrow_backed(text):
        values = arrow_strings(text)
        after, before = values[1:], values[:-1]
        later, same = pc.greater(after, before), pc.equal(after, before)
        return later.to_numpy(zero_copy_only=False), same.to_numpy(zero_copy_only=False)
    values = np.asarray(text.array, dtype=object)
    return values[1:] > values[:-1], values[1:] == values[:-1]
