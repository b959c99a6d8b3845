"""Data page: attach a follow-up log (跟进记录 / activity export) to the dataset selected in the
sidebar — upload, the detected mapping (every role can be changed; a required role detection
could not fill is marked with a direct pick, never a dead end), the link rate, every row
accounted for (loaded / rejected with reasons / excluded, the rows not loaded downloadable), and
Save, which replaces the dataset's log after a confirmation.

Everything is computed by dealscope.activity, exactly as `python -m dealscope ingest-activities`
does (ingest_activity_files, dataset_timezone, source_files, write_activities). The pages'
activity loaders are keyed by the log's token (its content hash), so a saved log renews them;
the risk model is retrained with it in the background.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from dealscope.activity.ingest import (
    REQUIRED_ROLES,
    ActivityIngestResult,
    dataset_timezone,
    ingest_activity_files,
    missing_roles,
    read_activity_file,
    source_files,
)
from dealscope.activity.layouts import ROLES, map_headers
from dealscope.activity.store import activity_count, read_log_record, write_activities
from dealscope.errors import DealScopeError
from dealscope.formatting import escape_markdown, format_count, format_pct
from dealscope.i18n import LANGUAGES, catalog
from dealscope.ingest.limits import MAX_UPLOAD_BYTES
from dealscope.ingest.rawtable import RawTable
from dealscope.ingest.read_xlsx import list_sheets
from dealscope.ingest.sniff import ZIP_MAGIC
from dealscope.model import Dataset
from ui.auth import audit, current_user
from ui.context import current_view
from ui.ingest_mapping import column_samples
from ui.ingest_worker import run_in_worker
from ui.loaders import get_engine
from ui.render import Kpi, render_downloads, render_kpi_row
from ui.state import current_lang, error_message, tr
from ui.training import start_training, training_registry

# .xls (BIFF) is not read by the importer; the deal uploader refuses it with a message instead.
ACTIVITY_UPLOAD_TYPES = ["csv", "tsv", "txt", "xlsx", "xlsm"]
UPLOAD_KEY = "activity_upload"
CONFIRM_KEY = "activity_upload_confirm"
REPORT_ROWS_SHOWN = 2_000
# Roles shown in the detected-mapping summary (the link, time, type, contact, owner first).
SUMMARY_ROLES = ("opportunity_id", "deal_name", "occurred_at", "activity_type", "contact", "owner")
_RAWS = "_activity_upload_raws"
_RESULT = "_activity_upload_result"
_SAVED = "_activity_upload_saved"
_SHEETS = "_activity_upload_sheets"


@dataclass(frozen=True)
class ActivitySource:
    """The uploaded files for one dataset; `key` identifies them (dataset id + content hashes)."""

    dataset_id: int
    files: tuple[tuple[str, bytes], ...]
    sheets: tuple[str | None, ...]  # per file: the workbook sheet chosen (None: the first)

    @property
    def key(self) -> str:
        hashes = "|".join(
            f"{n}:{hashlib.sha256(d).hexdigest()[:16]}:{s}"
            for (n, d), s in zip(self.files, self.sheets, strict=True)
        )
        return f"{self.dataset_id}|{hashes}"


@dataclass(frozen=True)
class CurrentLog:
    """What the dataset holds now: the row count and, when recorded, who saved it and when."""

    rows: int
    saved_at: str | None
    saved_by: str | None
    files: str

    @property
    def exists(self) -> bool:
        return self.rows > 0 or self.saved_at is not None


def render_activity_upload(db_url: str) -> None:
    """The whole follow-up-log section of the Data page."""
    st.subheader(tr("activity_upload.title"))
    view = current_view()
    if view is None:
        st.info(tr("activity_upload.no_dataset"))
        return
    dataset = view.dataset
    st.caption(tr("activity_upload.intro"))
    st.markdown(
        tr(
            "activity_upload.target",
            name=escape_markdown(dataset.name),
            dataset_id=dataset.id,
            deals=format_count(len(dataset.opportunities)),
        )
    )
    current = _current_log(db_url, dataset.id)
    _render_current(current)
    uploads = st.file_uploader(
        tr("activity_upload.upload.label"),
        type=ACTIVITY_UPLOAD_TYPES,
        accept_multiple_files=True,
        help=tr("activity_upload.upload.help"),
        key=UPLOAD_KEY,
        max_upload_size=MAX_UPLOAD_BYTES // 2**20,
    )
    if not uploads:
        return
    files = tuple((u.name, u.getvalue()) for u in uploads)
    source = ActivitySource(dataset.id, files, tuple(_sheet(name, data) for name, data in files))
    saved = st.session_state.get(_SAVED)
    if saved and saved["key"] == source.key:
        st.success(tr("activity_upload.saved", rows=saved["rows"], name=saved["name"]))
        return
    try:
        raws = _raw_tables(source)
    except DealScopeError as exc:
        st.error(tr("activity_upload.error", detail=error_message(exc)))
        return
    mappings, unfilled = {}, False
    for index, raw in enumerate(raws):
        chosen = _render_mapping(raw, index)
        mappings[raw.file] = chosen
        unfilled |= bool(missing_roles(chosen))
    if unfilled:
        return  # the missing roles are marked above, each with its pick
    try:
        result = _ingest(source, raws, dataset, mappings)
    except DealScopeError as exc:
        st.error(tr("activity_upload.error", detail=error_message(exc)))
        return
    render_accounting(result)
    render_rows_not_loaded(result)
    _render_save(result, source, dataset, current, db_url)


def _current_log(db_url: str, dataset_id: int) -> CurrentLog:
    engine = get_engine(db_url)
    record = read_log_record(engine, dataset_id)
    if record is None:
        return CurrentLog(activity_count(engine, dataset_id), None, None, "")
    return CurrentLog(
        record.rows,
        record.saved_at.strftime("%Y-%m-%d %H:%M UTC"),
        record.saved_by,
        ", ".join(str(f.get("name", "")) for f in record.source_files),
    )


def _render_current(current: CurrentLog) -> None:
    if not current.exists:
        st.caption(tr("activity_upload.current.none"))
    elif current.saved_at is None:
        st.caption(tr("activity_upload.current.log", rows=format_count(current.rows)))
    else:
        st.caption(
            tr(
                "activity_upload.current.record",
                rows=format_count(current.rows),
                saved_at=current.saved_at,
                saved_by=escape_markdown(current.saved_by or "—"),
                files=escape_markdown(current.files or "—"),
            )
        )


def _sheet(name: str, data: bytes) -> str | None:
    """For a workbook with several sheets, the sheet picked (the first visible one is read
    otherwise); None for other files."""
    if not data.startswith(ZIP_MAGIC):
        return None
    cache = st.session_state.setdefault(_SHEETS, {})
    digest = hashlib.sha256(data).hexdigest()
    if digest not in cache:
        try:
            cache[digest] = list_sheets(data, name)
        except DealScopeError:
            cache[digest] = []  # reading the file reports the problem
    sheets = cache[digest]
    if len(sheets) < 2:
        return None
    return st.selectbox(
        tr("activity_upload.sheet", file=name), sheets, key=f"activity_upload_sheet_{digest[:16]}"
    )


def _raw_tables(source: ActivitySource) -> list[RawTable]:
    """The files read once per upload (widget changes rerun the page)."""
    cached = st.session_state.get(_RAWS)
    if cached and cached[0] == source.key:
        return cached[1]
    tables = [
        run_in_worker(read_activity_file, data, name, sheet=sheet)
        for (name, data), sheet in zip(source.files, source.sheets, strict=True)
    ]
    st.session_state[_RAWS] = (source.key, tables)
    return tables


def role_labels() -> dict[str, str]:
    """role -> its label in the session's language."""
    return {role: tr(f"activity_upload.role.{role}") for role in ROLES}


def _label_roles() -> dict[str, str]:
    """label (in any language) -> role: an edited cell keeps its label across a language switch."""
    return {
        catalog(lang)[f"activity_upload.role.{role}"]: role for lang in LANGUAGES for role in ROLES
    }


def roles_from_assignments(assignments: list[tuple[str, str | None]]) -> dict[str, str | None]:
    """role -> column for every role, from (column, role) pairs in column order: the first column
    given a role plays it (as map_headers decides between two synonyms); unassigned roles None."""
    chosen: dict[str, str | None] = dict.fromkeys(ROLES)
    for header, role in assignments:
        if role in chosen and chosen[role] is None:
            chosen[role] = header
    return chosen


def _render_mapping(raw: RawTable, index: int) -> dict[str, str | None]:
    """The detected mapping of one file, editable; role -> column as the user leaves it."""
    detected = map_headers(raw.headers)
    st.text(tr("activity_upload.mapping.title", file=raw.file))
    st.caption(
        tr(
            "activity_upload.mapping.layout",
            layout=_label("activity_upload.layout", detected.layout),
            evidence=escape_markdown(detected.evidence),
            encoding=raw.encoding or "—",
        )
    )
    labels = role_labels()
    by_header = {header: role for role, header in detected.columns.items() if header}
    sample = column_samples(raw)
    table = pd.DataFrame(
        {
            "source": raw.headers,
            "samples": [sample[h] for h in raw.headers],
            "role": [labels[by_header[h]] if h in by_header else "" for h in raw.headers],
        }
    )
    edited = st.data_editor(
        table, hide_index=True, disabled=["source", "samples"], key=f"activity_upload_roles_{index}",
        column_config={
            "source": st.column_config.TextColumn(tr("activity_upload.mapping.col.source")),
            "samples": st.column_config.TextColumn(tr("activity_upload.mapping.col.samples")),
            "role": st.column_config.SelectboxColumn(
                tr("activity_upload.mapping.col.assigned"), options=["", *labels.values()],
                help=tr("activity_upload.mapping.help"),
            ),
        },
    )  # fmt: skip
    to_role = _label_roles()
    assignments = [
        (str(h), to_role.get(str(r)) if pd.notna(r) else None)
        for h, r in zip(edited["source"], edited["role"], strict=True)
    ]
    chosen = roles_from_assignments(assignments)
    for role in ROLES:  # one column plays a role: say which when several were given it
        given = [h for h, r in assignments if r == role]
        if len(given) > 1:
            st.warning(
                tr(
                    "activity_upload.mapping.duplicate",
                    role=labels[role],
                    columns=escape_markdown(", ".join(given)),
                    used=escape_markdown(given[0]),
                )
            )
    # Formatted with text fixed now: a test harness formats options outside the script run.
    unset = tr("activity_upload.pick.none")
    for group in missing_roles(chosen):  # marked until picked, each with a direct pick
        pick_key = f"activity_upload_pick_{group}_{index}"
        if not st.session_state.get(pick_key):
            st.error(tr(f"activity_upload.missing.{group}"))
        header = st.selectbox(
            tr(f"activity_upload.pick.{group}"), ["", *raw.headers], key=pick_key,
            format_func=lambda h: f"{h} — {sample[h]}" if h else unset,
        )  # fmt: skip
        if header:
            chosen[REQUIRED_ROLES[group][0]] = header
    summary = pd.DataFrame(
        {
            tr("activity_upload.mapping.col.role"): [labels[r] for r in SUMMARY_ROLES],
            tr("activity_upload.mapping.col.column"): [
                chosen[r] or tr("activity_upload.mapping.unset") for r in SUMMARY_ROLES
            ],
        }
    )
    st.caption(tr("activity_upload.mapping.detected"))
    st.dataframe(summary, hide_index=True)
    return chosen


def _ingest(
    source: ActivitySource,
    raws: list[RawTable],
    dataset: Dataset,
    mappings: dict[str, dict[str, str | None]],
) -> ActivityIngestResult:
    """The CLI's ingest on the read files with the user's mapping (kept per upload + mapping)."""
    key = (source.key, json.dumps(mappings, sort_keys=True, ensure_ascii=False))
    cached = st.session_state.get(_RESULT)
    if cached and cached[0] == key:
        return cached[1]
    result = ingest_activity_files(
        list(source.files),
        dataset.opportunities,
        timezone=dataset_timezone(dataset.meta.get("settings")),
        mappings=mappings,
        raws=raws,
    )
    st.session_state[_RESULT] = (key, result)
    return result


def _label(prefix: str, code: object) -> str:
    """Translated label of a stable code; the code itself when the catalog has none."""
    if pd.isna(code):
        return ""
    return catalog(current_lang()).get(f"{prefix}.{code}", str(code))


def _reason_label(code: object) -> str:
    """Activity reasons first, then the deal importer's (blank and title rows the reader settled)."""
    if pd.isna(code):
        return ""
    texts = catalog(current_lang())
    return texts.get(f"activity_upload.reason.{code}", texts.get(f"ingest.reason.{code}", code))


def render_accounting(result: ActivityIngestResult) -> None:
    """Rows in = loaded + rejected + excluded, and how the rows were linked to deals."""
    counts = result.counts
    render_kpi_row(
        [Kpi(tr(f"activity_upload.counts.{k}"), format_count(v)) for k, v in counts.items()],
        per_row=4,
    )
    link = result.link_counts
    lookups = link["name_lookups"]
    rate = link["linked_by_name"] / lookups if lookups else None
    render_kpi_row(
        [
            Kpi(tr("activity_upload.link.by_id"), format_count(link["linked_by_id"])),
            Kpi(tr("activity_upload.link.by_name"), format_count(link["linked_by_name"])),
            Kpi(
                tr("activity_upload.link.name_rate"),
                "—" if rate is None else format_pct(rate),
                help=tr("activity_upload.link.name_rate.help"),
            ),
        ],
        per_row=3,
    )
    st.caption(
        tr(
            "activity_upload.link.summary",
            by_id=format_count(link["linked_by_id"]),
            by_name=format_count(link["linked_by_name"]),
            lookups=format_count(lookups),
        )
    )
    for report in result.files:
        if report.unknown_types:
            st.caption(
                tr(
                    "activity_upload.unknown_types",
                    types=escape_markdown(", ".join(report.unknown_types)),
                )
            )
        if report.notes:
            st.caption(
                tr(
                    "activity_upload.notes",
                    file=escape_markdown(report.file),
                    notes=escape_markdown("; ".join(report.notes)),
                )
            )


def render_rows_not_loaded(result: ActivityIngestResult) -> None:
    """Every row not loaded with its outcome and reason; all of them downloadable (safe exports)."""
    st.text(tr("activity_upload.report.title"))
    rows = result.rows
    if rows.empty:
        st.info(tr("activity_upload.report.none"))
        return
    head = rows.head(REPORT_ROWS_SHOWN)
    shown = head.assign(
        outcome=head["outcome"].map(lambda c: _label("ingest.outcome", c)),
        reason=head["reason"].map(_reason_label),
    ).rename(columns={c: tr(f"activity_upload.report.col.{c}") for c in rows.columns})
    if len(rows) > REPORT_ROWS_SHOWN:
        st.caption(tr("activity_upload.report.shown", shown=REPORT_ROWS_SHOWN, total=len(rows)))
    st.dataframe(shown, hide_index=True)
    render_downloads(rows, stem="dealscope-activity-rows-not-loaded", key="activity_upload_report")


def _render_save(
    result: ActivityIngestResult,
    source: ActivitySource,
    dataset: Dataset,
    current: CurrentLog,
    db_url: str,
) -> None:
    """Save (replacing the current log only after the confirmation), audited, then retrain."""
    loaded = result.counts["rows_loaded"]
    if loaded == 0:
        st.error(tr("activity_upload.nothing"))
        return
    confirmed = True
    if current.exists:
        st.warning(
            tr(
                "activity_upload.replace.warning",
                rows=format_count(current.rows),
                loaded=format_count(loaded),
            )
        )
        confirmed = st.checkbox(tr("activity_upload.replace.confirm"), key=CONFIRM_KEY)
    if not st.button(
        tr("activity_upload.save"),
        type="primary",
        key="activity_upload_save",
        disabled=not confirmed,
    ):
        return
    with st.status(tr("activity_upload.saving")) as status:
        try:
            stored = write_activities(
                get_engine(db_url),
                dataset.id,
                result.activities,
                saved_by=current_user(),
                source_files=source_files(list(source.files), result),
            )
        except DealScopeError as exc:
            status.update(state="error")
            st.error(tr("activity_upload.save_error", detail=error_message(exc)))
            return
        status.update(state="complete")
    audit(
        "save activity log",
        dataset_id=dataset.id,
        name=dataset.name,
        rows=stored,
        replaced_rows=current.rows,
        files=[name for name, _ in source.files],
    )
    # The model's data hash covers the log: retrain now rather than on the next Risk page visit.
    training_registry().forget(db_url, dataset.id)
    start_training(db_url, dataset.id)
    for kept in (CONFIRM_KEY, _RAWS, _RESULT, _SHEETS):  # the read files are not needed any more
        st.session_state.pop(kept, None)
    st.session_state[_SAVED] = {
        "key": source.key,
        "rows": format_count(stored),
        "name": escape_markdown(dataset.name),
    }
    st.rerun()
