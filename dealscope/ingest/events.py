"""Stage events from history layouts (Salesforce Opportunity/Field History, Zoho Stage History,
a generic id/stage/date log) and from HubSpot `Date entered "<stage>"` columns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dealscope.ingest.build import ISSUE_COLUMNS, _issue_rows, tidy_text
from dealscope.ingest.layouts import ENTERED_PREFIX, TIME_PREFIX
from dealscope.ingest.parse_dates import parse_dates
from dealscope.ingest.parse_durations import parse_durations
from dealscope.ingest.rawtable import EXCLUDED, REJECTED, RawTable
from dealscope.ingest.settings import IngestSettings
from dealscope.ingest.synonyms import STAGE_TIME, header_key
from dealscope.ingest.validate import LOADED, classify_rows

EVENT_COLUMNS = ("opportunity_id", "stage", "entered_at")
STAGE_FIELDS = {"stage", "stage name", "opportunity stage", "阶段", "商机阶段"}
CREATED_EVENTS = {"created.", "created", "创建", "已创建"}


@dataclass
class HistoryResult:
    """Events (with `_pos`), per-row outcomes, cell issues, creation times by id, notes."""

    events: pd.DataFrame
    outcomes: pd.DataFrame
    issues: pd.DataFrame
    created: pd.Series
    notes: list[str]


def entered_events(raw: RawTable, mapping: dict, ids: pd.Series, settings: IngestSettings):
    """(events, issues) from HubSpot stage-entry columns for the rows in `ids` (index = pos)."""
    frames, issues = [], []
    for source, target in mapping.items():
        if not target or not target.startswith(ENTERED_PREFIX) or source not in raw.data:
            continue
        values = raw.data.loc[ids.index, source]
        result = parse_dates(
            values, zone=settings.timezone, epoch=raw.date_epoch, day_first=settings.day_first
        )
        issues.append(_issue_rows(result.issues, values, source))
        hit = result.values.notna()
        frames.append(
            pd.DataFrame(
                {
                    "opportunity_id": ids[hit],
                    "stage": target[len(ENTERED_PREFIX) :],
                    "entered_at": result.values[hit],
                    "_pos": ids.index[hit],
                }
            )  # fmt: skip
        )
    events = pd.concat(frames, ignore_index=True) if frames else empty_events()
    issue_frame = (
        pd.concat(issues, ignore_index=True)
        if issues
        else pd.DataFrame(columns=list(ISSUE_COLUMNS))
    )
    return events, issue_frame


def empty_events() -> pd.DataFrame:
    return pd.DataFrame({"opportunity_id": pd.Series(dtype="string"), "stage": pd.Series(dtype="string"),
                         "entered_at": pd.Series(dtype="datetime64[ns]"), "_pos": pd.Series(dtype="int64")})  # fmt: skip


def history_events(
    raw: RawTable, layout: str, mapping: dict, settings: IngestSettings
) -> HistoryResult:
    """Events from one history table; rows that are not stage moves are excluded with a reason."""
    by_target = {t: s for s, t in mapping.items() if t}
    notes: list[str] = []
    id_column = by_target.get("opportunity_id") or by_target.get("name")
    if "opportunity_id" not in by_target and id_column:
        notes.append(f"no id column: deals are identified by {id_column!r}")
    if layout == "salesforce_field_history":
        stage_column = by_target.get("new_value")
    elif layout == "salesforce_history":
        stage_column = by_target.get("to_stage")
    else:  # Zoho Stage History / stage log: the row's stage, entered at its time
        stage_column = by_target.get("stage") or by_target.get("to_stage")
    date_column = by_target.get("changed_at")
    labels = [c for c in (id_column, by_target.get("name")) if c]
    outcomes = classify_rows(raw, id_column, [(date_column, "date")] if date_column else [],
                             label_columns=labels, check_duplicates=False)  # fmt: skip
    data = raw.data
    live = outcomes["outcome"].eq(LOADED)
    created = pd.Series(dtype="datetime64[ns]")
    if id_column is None or stage_column is None or date_column is None:
        return HistoryResult(
            empty_events(), outcomes, pd.DataFrame(columns=list(ISSUE_COLUMNS)), created, notes
        )
    rows = live[live].index
    ids = tidy_text(data.loc[rows, id_column], nfkc=False)
    stage = tidy_text(data.loc[rows, stage_column], nfkc=False)
    dates = parse_dates(data.loc[rows, date_column], zone=settings.timezone, epoch=raw.date_epoch,
                        day_first=settings.day_first)  # fmt: skip
    issues = _issue_rows(dates.issues, data.loc[rows, date_column], date_column)
    is_move = stage.notna()
    if layout == "salesforce_field_history":
        field = data.loc[rows, by_target["field_event"]].fillna("").str.strip().str.lower()
        creation = field.isin(CREATED_EVENTS)
        created = (
            pd.Series(dates.values[creation].to_numpy(), index=ids[creation].to_numpy())
            .groupby(level=0)
            .min()
        )
        is_move = field.map(header_key).isin(STAGE_FIELDS) & stage.notna()
        old_column = by_target.get("old_value")
        first = _first_stage_rows(
            ids, is_move, dates.values, data.loc[rows, old_column] if old_column else None
        )
        not_move = ~is_move & ~creation
    elif layout == "salesforce_history" and "from_stage" in by_target:
        before = tidy_text(data.loc[rows, by_target["from_stage"]], nfkc=False)
        not_move = (before == stage).fillna(False).astype(bool) | stage.isna()
        is_move = ~not_move
        first = None
    else:
        not_move = stage.isna()
        first = None
    bad_date = is_move & dates.values.isna()
    outcomes.loc[not_move[not_move].index, ["outcome", "reason", "column"]] = [
        EXCLUDED,
        "not-a-stage-change",
        stage_column,
    ]
    outcomes.loc[bad_date[bad_date].index, ["outcome", "reason", "column"]] = [
        REJECTED,
        "bad-date",
        date_column,
    ]
    outcomes.loc[bad_date[bad_date].index, "value"] = data.loc[
        bad_date[bad_date].index, date_column
    ].astype(object)
    keep = is_move & ~bad_date
    events = pd.DataFrame({"opportunity_id": ids[keep], "stage": stage[keep], "entered_at": dates.values[keep],
                           "_pos": keep[keep].index})  # fmt: skip
    if first is not None and not first.empty:
        first = first[first["opportunity_id"].isin(created.index)]
        first["entered_at"] = first["opportunity_id"].map(created)
        events = pd.concat([first, events], ignore_index=True)
    return HistoryResult(events, outcomes, issues, created, notes)


def _first_stage_rows(ids, is_move, when, old_values) -> pd.DataFrame | None:
    """Field History: the first stage is the Old Value of each deal's earliest stage change."""
    if old_values is None or not is_move.any():
        return None
    moves = pd.DataFrame(
        {"opportunity_id": ids[is_move], "when": when[is_move], "old": old_values[is_move]}
    )
    earliest = moves.sort_values("when", kind="stable").drop_duplicates("opportunity_id")
    earliest = earliest[earliest["old"].fillna("").str.strip() != ""]
    return pd.DataFrame({"opportunity_id": earliest["opportunity_id"], "stage": earliest["old"].str.strip(),
                         "entered_at": pd.NaT, "_pos": earliest.index})  # fmt: skip


def duration_events(raw: RawTable, mapping: dict, frame: pd.DataFrame) -> pd.DataFrame:
    """Stage entries derived from per-stage duration columns when a file has no stage dates:
    the first stage with a duration is entered at creation, each next one when the time spent in
    the stages before it (in column order) has passed, and the deal's current stage (when it
    has no duration of its own) after all of them. Rows whose creation time is unknown get none.
    Events carry `_pos`; the deals are flagged `stage-time-derived` by the pipeline."""
    columns = [(s, t[len(TIME_PREFIX) :]) for s, t in mapping.items() if t and t.startswith(TIME_PREFIX) and s in raw.data]  # fmt: skip
    if not columns or "created_at" not in frame or frame["created_at"].isna().all():
        return empty_events()
    rows = frame.index
    units = {s: (m.group("unit") or m.group("unit2")) if (m := STAGE_TIME.match(s)) else None
             for s, _ in columns}  # fmt: skip
    nanos = np.column_stack(  # seconds spent per (deal, stage column); NaN = no value
        [parse_durations(raw.data.loc[rows, s], units[s]).dt.total_seconds() for s, _ in columns]
    ).astype("float64")
    before = np.cumsum(np.nan_to_num(nanos), axis=1) - np.nan_to_num(nanos)
    created = frame["created_at"].to_numpy(dtype="datetime64[ns]")
    entered = created[:, None] + (before * 1e9).astype("timedelta64[ns]")
    has = ~np.isnan(nanos) & ~np.isnat(created)[:, None]
    stages = np.array([stage for _, stage in columns], dtype=object)
    r, c = np.nonzero(has)
    events = pd.DataFrame({"opportunity_id": frame["opportunity_id"].to_numpy()[r], "stage": stages[c],
                           "entered_at": entered[r, c], "_pos": rows.to_numpy()[r]})  # fmt: skip
    if "stage" in frame:  # the current stage, when it has no duration column value
        current = frame["stage"].astype("string")
        timed_stage = pd.DataFrame(has, columns=stages).T.groupby(level=0).any().T
        own = np.zeros(len(frame), dtype=bool)
        for stage in timed_stage.columns:  # one pass per stage column, not per row
            own |= (current == stage).fillna(False).to_numpy() & timed_stage[stage].to_numpy()
        last = ~own & current.notna().to_numpy() & has.any(axis=1)
        total = np.nansum(nanos, axis=1)
        events = pd.concat([events, pd.DataFrame({
            "opportunity_id": frame["opportunity_id"].to_numpy()[last],
            "stage": current.to_numpy()[last],
            "entered_at": created[last] + (total[last] * 1e9).astype("timedelta64[ns]"),
            "_pos": rows.to_numpy()[last]})], ignore_index=True)  # fmt: skip
    return events.sort_values(["_pos", "entered_at"], kind="stable").reset_index(drop=True)
