"""Data page, the mapping step: when detection cannot fill a required role, every column is shown
with sample values and the role it was given; the missing roles are named; every role can be set
or cleared, and the outcome column's values assigned to won / lost / open, before checking again.

It works through the ingest package's own API: propose_mapping for the proposal, the user's choice
as IngestSettings.mapping overrides, and the value kinds as IngestSettings.stages.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dealscope.formatting import escape_markdown
from dealscope.ingest.errors import MappingError, UploadError
from dealscope.ingest.layouts import propose_mapping
from dealscope.ingest.pipeline import read_source
from dealscope.ingest.rawtable import RawTable
from dealscope.ingest.read_sql import read_database_table
from dealscope.ingest.settings import IngestSettings
from dealscope.ingest.stages import stage_kind, status_from_text
from dealscope.ingest.synonyms import TARGETS
from dealscope.model import LOST, OPEN, STATUSES, WON
from ui.ingest_source import PendingSource
from ui.ingest_worker import run_in_worker
from ui.state import error_message, tr

_NEEDED = "_ingest_mapping_needed"
_TABLES = "_ingest_mapping_tables"
SAMPLES_SHOWN = 3
# An outcome column has a handful of values; past this many the list is cut (and says so).
MAX_OUTCOME_VALUES = 50
# Role groups a main deals file needs; one role of each group is enough.
REQUIRED_ROLES = {"outcome": ("stage", "status"), "id": ("opportunity_id", "name")}


def mark_mapping_needed(source: PendingSource, detail: MappingError | str) -> None:
    """Remember that `source` stopped at a missing role (the next runs open the mapping step);
    the error itself is kept, so it is shown in the language of the run that shows it."""
    st.session_state[_NEEDED] = (source.key, detail)


def clear_mapping_needed() -> None:
    st.session_state.pop(_NEEDED, None)


def mapping_needed(source: PendingSource) -> MappingError | str | None:
    """The pipeline's message when `source` needs the mapping step, else None."""
    needed = st.session_state.get(_NEEDED)
    return needed[1] if needed and needed[0] == source.key else None


def _raw_tables(source: PendingSource, settings: IngestSettings) -> list[RawTable]:
    """The source read as raw text tables (kept per source: widget changes rerun the page)."""
    cached = st.session_state.get(_TABLES)
    if cached and cached[0] == source.key:
        return cached[1]
    if source.kind == "files":
        tables = [run_in_worker(read_source, file, settings) for file in source.files]
    else:
        tables = [read_database_table(source.url, source.table)]
    st.session_state[_TABLES] = (source.key, tables)
    return tables


def samples(values: pd.Series) -> str:
    """The first few distinct non-empty values of a raw column, joined for display."""
    text = values.astype("string").str.strip()
    shown = text[text.fillna("").ne("")].drop_duplicates().head(SAMPLES_SHOWN)
    return " · ".join(shown.tolist())


def column_samples(raw: RawTable) -> dict[str, str]:
    """{header: its sample values} for every column of `raw` (computed once per render: the
    role table and the column picks show the same samples)."""
    return {h: samples(raw.data[h]) if h in raw.data else "" for h in raw.headers}


def proposed_roles(raw: RawTable, settings: IngestSettings) -> dict[str, str | None]:
    """{header: role}: the ingest package's proposal with the user's choices over it."""
    user = settings.mapping_for(raw.file)
    return {
        c.source: user.get(c.source, c.target) if c.source in user else c.target
        for c in propose_mapping(raw.headers, raw.data)
    }


# Words of the pipeline's message that name each role group (ingest.pipeline._require).
COMPLAINT_WORDS = {"outcome": "stage", "id": "opportunity id"}


def missing_roles(roles: dict[str, str | None]) -> list[str]:
    """The required role groups no column fills (keys of REQUIRED_ROLES)."""
    chosen = set(roles.values())
    return [group for group, options in REQUIRED_ROLES.items() if not chosen & set(options)]


def complained_roles(file: str, roles: dict[str, str | None], detail: str) -> list[str]:
    """The missing role groups the pipeline's message names for `file`. The pipeline is the judge
    of what a file needs (a stage-history or lookup file needs neither; a file without an id may
    get generated ids), so only what it refused is marked and required here."""
    said = detail.casefold().split("the file's columns are")[0]  # not the headers it lists
    if not said.startswith(file.casefold()):
        return []
    return [g for g in missing_roles(roles) if COMPLAINT_WORDS[g] in said]


def value_kinds(values: pd.Series, role: str) -> pd.DataFrame:
    """Distinct values of the outcome column with their count and the kind detection gives
    (status words for a status column, stage names for a stage column; '' when unknown)."""
    text = values.astype("string").str.strip()
    counts = text[text.fillna("").ne("")].value_counts(sort=True).head(MAX_OUTCOME_VALUES)
    names = counts.index.to_series(index=range(len(counts)))
    if role == "status":
        kinds = status_from_text(names).fillna("")
    else:
        kinds = names.map(lambda name: stage_kind(str(name)))
    return pd.DataFrame(
        {"value": names.tolist(), "rows": counts.to_numpy(), "kind": kinds.astype(str).tolist()}
    )


def _stage_rows(kinds: pd.DataFrame) -> list[dict]:
    """Stage rows for IngestSettings.stages: open values first (as listed), then won, then lost."""
    rank = {OPEN: 0, WON: 1, LOST: 2}
    ordered = kinds.assign(
        kind=kinds["kind"].where(kinds["kind"].isin(STATUSES), OPEN),
        _rank=kinds["kind"].map(rank).fillna(0),
    ).sort_values("_rank", kind="stable")
    return [
        {"stage": str(v), "position": i, "kind": str(k)}
        for i, (v, k) in enumerate(zip(ordered["value"], ordered["kind"], strict=True))
    ]


def render_mapping_step(
    source: PendingSource, settings: IngestSettings, detail: MappingError | str
) -> bool:
    """The mapping step for every file of `source`; True when the user applied a new mapping."""
    st.subheader(tr("ingest.step.title"))
    st.warning(tr("ingest.step.why", detail=error_message(detail)))
    try:
        tables = _raw_tables(source, settings)
    except UploadError as exc:
        st.error(tr("ingest.error", detail=error_message(exc)))
        return False
    chosen_by_file, outcome, unfilled = {}, None, []
    for index, raw in enumerate(tables):
        roles = proposed_roles(raw, settings)
        st.text(tr("ingest.mapping.title", file=raw.file))
        sample = column_samples(raw)
        edited = _role_editor(raw, roles, sample, index)
        chosen = {s: (t or None) for s, t in zip(edited["source"], edited["role"], strict=True)}
        required = complained_roles(raw.file, roles, str(detail))  # the English text
        for group in required:  # marked, with a direct pick of the column
            st.error(tr(f"ingest.step.missing.{group}"))
            _pick_column(raw, chosen, group, sample, index)
        chosen_by_file[raw.file] = chosen
        unfilled += [g for g in missing_roles(chosen) if g in required]
        if outcome is None and "outcome" not in missing_roles(chosen):
            outcome = _outcome_column(raw, chosen)
    kinds = None
    if outcome is not None:
        raw, header, role = outcome
        st.markdown(tr("ingest.step.values", column=escape_markdown(header)))
        kinds = _kind_pickers(value_kinds(raw.data[header], role), header)
    if not st.button(
        tr("ingest.step.apply"), type="primary", key="ingest_map_apply", disabled=bool(unfilled)
    ):
        return False
    _apply(settings, chosen_by_file, outcome, kinds)
    clear_mapping_needed()
    return True


def _role_editor(
    raw: RawTable, roles: dict[str, str | None], sample: dict[str, str], index: int
) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "source": raw.headers,
            "samples": [sample[h] for h in raw.headers],
            "role": [roles.get(h) or "" for h in raw.headers],
        }
    )
    edited = st.data_editor(
        table, hide_index=True, disabled=["source", "samples"], key=f"ingest_step_roles_{index}",
        column_config={
            "source": st.column_config.TextColumn(tr("ingest.mapping.col.source")),
            "samples": st.column_config.TextColumn(tr("ingest.step.col.samples")),
            "role": st.column_config.SelectboxColumn(
                tr("ingest.mapping.col.target"), options=["", *TARGETS], help=tr("ingest.mapping.help")
            ),
        },
    )  # fmt: skip
    return edited.assign(role=edited["role"].fillna(""))


def _pick_column(
    raw: RawTable, chosen: dict[str, str | None], group: str, sample: dict[str, str], index: int
) -> None:
    """A select box naming the column that fills required role `group`; sets it in `chosen`."""
    options = ["", *raw.headers]
    unset = tr("ingest.step.pick.none")  # resolved in the run, not when the options are formatted
    header = st.selectbox(
        tr(f"ingest.step.pick.{group}"), options, key=f"ingest_step_pick_{group}_{index}",
        format_func=lambda h: f"{h} — {sample[h]}" if h else unset,
    )  # fmt: skip
    if header:
        chosen[header] = REQUIRED_ROLES[group][0] if group == "id" else _outcome_role(raw, header)


def _outcome_role(raw: RawTable, header: str) -> str:
    """status when the column's values are outcome words (Won / Lost …), else stage."""
    values = raw.data[header].astype("string").str.strip()
    known = status_from_text(values[values.fillna("").ne("")].drop_duplicates().head(20))
    return "status" if known.notna().any() else "stage"


def _outcome_column(raw: RawTable, chosen: dict[str, str | None]):
    """(raw, header, role) of the column that says won / lost / open: the stage, else the status."""
    for role in ("stage", "status"):
        header = next((s for s, t in chosen.items() if t == role), None)
        if header is not None and header in raw.data:
            return raw, header, role
    return None


def _kind_pickers(kinds: pd.DataFrame, header: str) -> pd.DataFrame:
    """Which values mean won and which lost (the rest are open); `kinds` with the choice."""
    if len(kinds) == MAX_OUTCOME_VALUES:
        st.caption(tr("ingest.step.values_cut", count=MAX_OUTCOME_VALUES))
    values = kinds["value"].tolist()
    st.caption(
        "; ".join(
            tr("ingest.step.value_rows", value=v, rows=int(n))
            for v, n in zip(kinds["value"], kinds["rows"], strict=True)
        )
    )
    picked = {}
    for kind in (WON, LOST):
        key = f"ingest_step_{kind}_{header}"
        if key not in st.session_state:  # detected values first; the user's picks stay after
            st.session_state[key] = kinds.loc[kinds["kind"].eq(kind), "value"].tolist()
        picked[kind] = st.multiselect(tr(f"ingest.step.values.{kind}"), values, key=key)
    kind = pd.Series(OPEN, index=kinds.index)
    kind[kinds["value"].isin(picked[LOST])] = LOST
    kind[kinds["value"].isin(picked[WON])] = WON  # a value picked twice counts as won
    unassigned = ~kinds["value"].isin(picked[WON] + picked[LOST])
    if unassigned.any():
        st.caption(tr("ingest.step.unassigned", count=int(unassigned.sum())))
    return kinds.assign(kind=kind)


def _apply(settings: IngestSettings, chosen_by_file: dict, outcome, kinds) -> None:
    """Write the choices into the settings the next check runs with."""
    for file, chosen in chosen_by_file.items():
        settings.mapping[file] = dict(chosen)
    if outcome is None or kinds is None:
        return
    raw, header, role = outcome
    detected = value_kinds(raw.data[header], role)["kind"].replace("", OPEN)
    if role == "status" and not kinds["kind"].equals(detected):
        # A status column's words are read by a fixed vocabulary; values the user assigned are
        # read as stages of that kind instead (no stage column exists to conflict with).
        settings.mapping[raw.file][header] = "stage"
        role = "stage"
    if role == "stage":
        settings.stages = _stage_rows(kinds)
