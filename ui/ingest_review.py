"""Data page, step 2: run the checks with progress, show the counts, the files, the mapping with
its evidence (editable), the stage order and kinds (editable), the reject report, and save."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from dealscope.errors import DealScopeError
from dealscope.export import to_safe_csv
from dealscope.formatting import escape_markdown, format_count
from dealscope.i18n import catalog
from dealscope.ingest.errors import MappingError, UploadError
from dealscope.ingest.persist import (
    mapping_document,
    parse_mapping_upload,
    save_result,
    settings_from_mapping,
)
from dealscope.ingest.pipeline import IngestResult, ingest_files, ingest_tables
from dealscope.ingest.read_sql import read_database_table
from dealscope.ingest.report import summarise_report
from dealscope.ingest.settings import IngestSettings
from dealscope.ingest.synonyms import TARGETS
from dealscope.ingest.validate import DUPLICATE_POLICIES
from dealscope.model import STATUSES
from ui.auth import audit, current_user
from ui.ingest_mapping import clear_mapping_needed, mark_mapping_needed
from ui.ingest_source import PendingSource
from ui.ingest_worker import run_in_worker
from ui.loaders import clear_caches, get_engine
from ui.render import render_downloads
from ui.sidebar import switch_to_dataset
from ui.state import current_lang, error_message, tr
from ui.training import start_training

_SETTINGS = "_ingest_settings"
_RESULT = "_ingest_result"
_SAVED = "_ingest_saved"
COUNT_KEYS = ("rows_in", "rows_loaded", "rows_rejected", "rows_excluded")
REPORT_ROWS_SHOWN = 2_000
REPORT_XLSX_MAX_ROWS = 5_000
_REPORT_CSV = "_ingest_report_csv"
DAY_ORDERS = {"auto": None, "day_first": True, "month_first": False}


def _label(prefix: str, code: object) -> str:
    """Translated label of a stable code (reason, layout, outcome); the code when unknown."""
    key = f"{prefix}.{code}"
    return catalog(current_lang()).get(key, str(code)) if pd.notna(code) else ""


def _settings(source: PendingSource) -> IngestSettings:
    store = st.session_state.setdefault(_SETTINGS, {})
    return store.setdefault(source.key, IngestSettings())


def render_options(source: PendingSource) -> IngestSettings:
    """Day/month order, duplicate policy, time zone, script variants and a saved mapping file."""
    settings = _settings(source)
    with st.expander(tr("ingest.options")):
        orders = {tr(f"ingest.option.day_order.{k}"): v for k, v in DAY_ORDERS.items()}
        order = st.radio(tr("ingest.option.day_order"), list(orders), key="ingest_day_order")
        settings.day_first = orders.get(order)
        policies = {tr(f"ingest.option.duplicates.{k}"): k for k in DUPLICATE_POLICIES}
        policy = st.selectbox(
            tr("ingest.option.duplicates"), list(policies), key="ingest_duplicates"
        )
        settings.duplicate_policy = policies.get(policy, DUPLICATE_POLICIES[0])
        settings.timezone = st.text_input(
            tr("ingest.option.timezone"), settings.timezone, key="ingest_tz"
        )
        settings.traditional_to_simplified = st.checkbox(
            tr("ingest.option.simplified"), settings.traditional_to_simplified,
            key="ingest_simplified", help=tr("ingest.option.simplified_help"),
        )  # fmt: skip
        mapping_file = st.file_uploader(
            tr("ingest.option.mapping_file"), type=["json"], key="ingest_mapping_file"
        )
        if mapping_file is not None:
            try:
                document = parse_mapping_upload(mapping_file.getvalue(), mapping_file.name)
                loaded = settings_from_mapping(document, settings)
            except UploadError as exc:
                st.error(tr("ingest.error", detail=error_message(exc)))
            else:
                settings.mapping, settings.layouts = loaded.mapping, loaded.layouts
                settings.stages = loaded.stages or settings.stages
    return settings


def run_checks(source: PendingSource, settings: IngestSettings) -> IngestResult | None:
    """The ingest result for this source and settings (kept per session), with progress shown."""
    key = (source.key, json.dumps(settings.to_dict(), sort_keys=True, default=str))
    cached = st.session_state.get(_RESULT)
    if cached and cached[0] == key:
        return cached[1]  # None: the mapping step is open for this source and settings
    with st.status(tr("ingest.progress.title"), expanded=False) as status:

        def progress(step: str) -> None:
            stage, _, file = step.partition(":")
            status.write(
                tr(f"ingest.progress.{stage}", file=file)
                if file
                else tr(f"ingest.progress.{stage}")
            )

        try:
            if source.kind == "files":
                result = run_in_worker(ingest_files, source.files, settings, progress=progress)
            else:
                result = ingest_tables(
                    [read_database_table(source.url, source.table)], settings, progress
                )
        except MappingError as exc:
            # Not a dead end: the page opens the mapping step (ui/ingest_mapping.py).
            status.update(label=tr("ingest.step.title"), state="error", expanded=False)
            mark_mapping_needed(source, exc)
            st.session_state[_RESULT] = (key, None)
            return None
        except UploadError as exc:
            status.update(
                label=tr("ingest.error", detail=error_message(exc)), state="error", expanded=True
            )
            st.error(tr("ingest.error", detail=error_message(exc)))
            return None
        status.update(label=tr("ingest.progress.done"), state="complete")
    clear_mapping_needed()
    st.session_state[_RESULT] = (key, result)
    return result


def render_counts(counts: dict, opportunities: int, events: int) -> None:
    """rows in / loaded / rejected / excluded, then opportunities and stage events."""
    st.subheader(tr("ingest.counts.title"), help=tr("ingest.counts.help"))
    columns = st.columns(6)
    values = [counts[k] for k in COUNT_KEYS] + [opportunities, events]
    keys = [*COUNT_KEYS, "opportunities", "stage_events"]
    for column, key, value in zip(columns, keys, values, strict=True):
        column.metric(tr(f"ingest.counts.{key}"), f"{value:,}", border=True)


def render_files(result: IngestResult) -> None:
    rows = [
        {
            tr("ingest.files.col.file"): f.file, tr("ingest.files.col.sheet"): f.sheet or "",
            tr("ingest.files.col.layout"): _label("ingest.layout", f.layout),
            tr("ingest.files.col.evidence"): f.layout_evidence, tr("ingest.files.col.encoding"): f.encoding or "",
            **{tr(f"ingest.counts.{k}"): getattr(f, k) for k in COUNT_KEYS},
            tr("ingest.files.col.notes"): "; ".join(f.notes),
        }
        for f in result.files
    ]  # fmt: skip
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    if result.notes:
        st.text(tr("ingest.notes", notes="; ".join(result.notes)))


def render_mapping(result: IngestResult, settings: IngestSettings) -> bool:
    """One editable mapping table per file; True when the user changed a target."""
    changed = False
    for index, file in enumerate(result.files):
        st.text(tr("ingest.mapping.title", file=file.file))
        table = pd.DataFrame(
            {
                "source": [c.source for c in file.columns],
                "target": [c.target or "" for c in file.columns],
                "evidence": [c.evidence for c in file.columns],
            }
        )
        edited = st.data_editor(
            table, hide_index=True, disabled=["source", "evidence"], key=f"ingest_map_{index}",
            column_config={
                "source": st.column_config.TextColumn(tr("ingest.mapping.col.source")),
                "target": st.column_config.SelectboxColumn(tr("ingest.mapping.col.target"), options=["", *TARGETS],
                                                           help=tr("ingest.mapping.help")),
                "evidence": st.column_config.TextColumn(tr("ingest.mapping.col.evidence")),
            },
        )  # fmt: skip
        chosen = {
            s: (t or None)
            for s, t in zip(edited["source"], edited["target"].fillna(""), strict=True)
        }
        if chosen != {c.source: c.target for c in file.columns}:
            settings.mapping[file.file] = chosen
            del st.session_state[f"ingest_map_{index}"]  # the next run shows the new proposal
            changed = True
    st.download_button(
        tr("ingest.mapping.download"), json.dumps(mapping_document(result), ensure_ascii=False, indent=2),
        file_name="dealscope-mapping.json", mime="application/json", key="ingest_mapping_json", on_click="ignore",
    )  # fmt: skip
    return changed


def render_stages(result: IngestResult, settings: IngestSettings) -> bool:
    """Editable stage order and kind; True when the user changed them."""
    st.subheader(tr("ingest.stages.title"), help=tr("ingest.stages.help"))
    if result.unknown_stages:
        st.warning(
            tr("ingest.stages.unknown", stages=escape_markdown(", ".join(result.unknown_stages)))
        )
    edited = st.data_editor(
        result.stages, hide_index=True, disabled=["stage"], key="ingest_stages",
        column_config={
            "stage": st.column_config.TextColumn(tr("ingest.stages.col.stage")),
            "position": st.column_config.NumberColumn(tr("ingest.stages.col.position"), min_value=0, step=1),
            "kind": st.column_config.SelectboxColumn(tr("ingest.stages.col.kind"), options=list(STATUSES)),
        },
    )  # fmt: skip
    records = edited.astype({"position": "int64"}).to_dict("records")
    if records != result.stages.astype({"position": "int64"}).to_dict("records"):
        settings.stages = [
            {k: (int(v) if k == "position" else str(v)) for k, v in r.items()} for r in records
        ]
        return True
    return False


def render_report(result: IngestResult) -> None:
    """The reject report: one line per distinct (outcome, reason, column, value) with its count and
    example lines on screen (translated), every row in the downloads."""
    st.subheader(tr("ingest.report.title"))
    report = result.report
    if report.empty:
        st.info(tr("ingest.report.none"))
        return
    summary = summarise_report(report)
    head = summary.head(REPORT_ROWS_SHOWN)
    shown = head.assign(
        outcome=head["outcome"].map(
            {c: _label("ingest.outcome", c) for c in head["outcome"].dropna().unique()}
        ),
        reason=head["reason"].map(
            {c: _label("ingest.reason", c) for c in head["reason"].dropna().unique()}
        ),
    ).rename(columns=_summary_headers())
    st.caption(
        tr("fixes.report.grouped", lines=format_count(len(summary)), rows=format_count(len(report)))
    )
    if len(summary) > REPORT_ROWS_SHOWN:
        st.caption(tr("ingest.report.shown", shown=REPORT_ROWS_SHOWN, total=len(summary)))
    st.dataframe(shown, hide_index=True)
    report = _download_frame(report)
    if len(report) <= REPORT_XLSX_MAX_ROWS:
        render_downloads(report, stem="dealscope-reject-report", key="ingest_report")
        return
    # Big reports: CSV only, built once per result (an XLSX of 1M rows takes minutes to write).
    cached = st.session_state.get(_REPORT_CSV)
    if not cached or cached[0] is not result:
        cached = (result, to_safe_csv(report))
        st.session_state[_REPORT_CSV] = cached
    st.download_button(
        tr("app.download_csv"), cached[1], file_name="dealscope-reject-report.csv", mime="text/csv",
        key="ingest_report_csv", on_click="ignore",
    )  # fmt: skip


def _download_frame(report: pd.DataFrame) -> pd.DataFrame:
    """Every row of the report, with outcomes, reasons and headers in the page's language."""
    labelled = report.assign(
        outcome=report["outcome"].map(
            {c: _label("ingest.outcome", c) for c in report["outcome"].dropna().unique()}
        ),
        reason=report["reason"].map(
            {c: _label("ingest.reason", c) for c in report["reason"].dropna().unique()}
        ),
    )
    headers = {c: tr(f"ingest.report.col.{c}") for c in labelled.columns if c != "record"}
    return labelled.rename(columns=headers | {"record": tr("fixes.report.col.record")})


def _summary_headers() -> dict[str, str]:
    existing = {c: tr(f"ingest.report.col.{c}") for c in ("outcome", "reason", "column", "value")}
    return existing | {c: tr(f"fixes.report.col.{c}") for c in ("count", "examples")}


def render_save(result: IngestResult, source: PendingSource, db_url: str) -> None:
    """Dataset name and the Save button (one transaction; caches cleared afterwards)."""
    if result.opportunities.empty:
        st.error(tr("ingest.nothing"))
        return
    name = st.text_input(tr("ingest.name"), source.default_name, key="ingest_name")
    if st.button(tr("ingest.save"), type="primary", key="ingest_save", disabled=not name.strip()):
        with st.status(tr("ingest.progress.saving")) as status:
            try:
                dataset_id = save_result(get_engine(db_url), name.strip(), result, current_user())
            except DealScopeError as exc:
                status.update(state="error")
                st.error(tr("ingest.error", detail=error_message(exc)))
                return
            status.update(label=tr("ingest.progress.saved"), state="complete")
        audit("save dataset", name=name.strip(), dataset_id=dataset_id)
        clear_caches()
        st.session_state[_SAVED] = {"name": name.strip(), "id": dataset_id, **result.counts}
        start_training(db_url, dataset_id)
        switch_to_dataset(dataset_id)
        st.rerun()  # the sidebar (drawn before this page) now shows the new dataset
    saved = st.session_state.get(_SAVED)
    if saved:
        st.success(tr("ingest.saved", **saved))
