"""Data page, step 1: choose what to bring in — uploaded files (with a sheet per workbook) or a
table from a database (picked from the database's own list; never SQL text).

Databases come from the server's configuration only: the named `[connections.<name>]` tables of
`.streamlit/secrets.toml` that have a `url` (as st.connection reads them). A typed URL is offered
only when the server sets `[dealscope] allow_database_url = true`; SQLite files open only from
data/ either way (dealscope.ingest.read_sql). With neither, the database source is not offered.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

import streamlit as st

from dealscope.ingest.errors import UploadError
from dealscope.ingest.limits import MAX_UPLOAD_BYTES
from dealscope.ingest.pipeline import SourceFile
from dealscope.ingest.read_sql import list_source_tables
from dealscope.ingest.read_xlsx import list_sheets
from dealscope.ingest.sniff import OLE_MAGIC, ZIP_MAGIC
from ui.auth import secret_section
from ui.state import error_message, tr

# Every type offered is read: .xlsm as .xlsx (macros never run), .xls through xlrd; anything
# else that arrives anyway gets one clear line from the reader.
UPLOAD_TYPES = ["csv", "tsv", "txt", "xlsx", "xlsm", "xls"]
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
_SHEETS = "_ingest_sheets"
_TABLES = "_ingest_db_tables"
_DB_CHOICE = "_ingest_db_choice"


@dataclass
class PendingSource:
    """What the user chose; `key` identifies it (content hashes, or URL + table)."""

    kind: str
    files: list[SourceFile] = field(default_factory=list)
    url: str | None = None
    table: str | None = None

    @property
    def key(self) -> str:
        if self.kind == "files":
            return "|".join(f"{f.name}:{f.sha256[:16]}:{f.sheet}" for f in self.files)
        return f"db:{hashlib.sha256(str(self.url).encode()).hexdigest()[:16]}:{self.table}"

    @property
    def default_name(self) -> str:
        first = self.files[0].name if self.files else str(self.table)
        return first.rsplit(".", 1)[0]


def choose_source() -> PendingSource | None:
    """Render the source chooser; the chosen files or table, or None while nothing is chosen."""
    # Options are the translated labels themselves (a session-dependent format_func cannot be
    # evaluated outside a script run, e.g. by AppTest).
    kinds = ("files", "database") if database_choices() or typed_url_allowed() else ("files",)
    labels = {tr(f"ingest.source.{k}"): k for k in kinds}
    kind = labels.get(
        st.radio(tr("ingest.source.kind"), list(labels), horizontal=True, key="ingest_source_kind"),
        "files",
    )
    return _choose_files() if kind == "files" else _choose_table()


def _sheet_names(source: SourceFile) -> list[str]:
    cache = st.session_state.setdefault(_SHEETS, {})
    if source.sha256 not in cache:
        try:
            cache[source.sha256] = list_sheets(source.data, source.name)
        except UploadError:
            cache[source.sha256] = []  # the ingest itself reports the problem
    return cache[source.sha256]


def _choose_files() -> PendingSource | None:
    uploads = st.file_uploader(
        tr("ingest.upload.label"),
        type=UPLOAD_TYPES,
        accept_multiple_files=True,
        help=tr("ingest.upload.help"),
        key="ingest_upload",
        max_upload_size=MAX_UPLOAD_BYTES // 2**20,
    )
    if not uploads:
        return None
    files = []
    for upload in uploads:
        source = SourceFile(upload.name, upload.getvalue())
        workbook = source.data.startswith((ZIP_MAGIC, OLE_MAGIC))
        if workbook and upload.name.lower().endswith(WORKBOOK_SUFFIXES):
            sheets = _sheet_names(source)
            if len(sheets) > 1:
                source.sheet = st.selectbox(
                    tr("ingest.sheet", file=upload.name),
                    sheets,
                    key=f"ingest_sheet_{source.sha256[:16]}",
                )
        files.append(source)
    return PendingSource("files", files=files)


def database_choices() -> dict[str, str]:
    """Connection name -> URL for every `[connections.<name>]` with a `url` in the secrets."""
    connections = secret_section("connections")
    return {
        str(name): str(settings["url"])
        for name, settings in connections.items()
        if isinstance(settings, Mapping) and settings.get("url")
    }


def typed_url_allowed() -> bool:
    """Whether the server lets visitors type a database URL (off unless configured)."""
    return secret_section("dealscope").get("allow_database_url") is True


def _chosen_url() -> str | None:
    """The URL of the configured connection picked by name (the URL itself is never shown), or a
    typed one when the server allows it."""
    choices = database_choices()
    typed_label = tr("auth.db.typed_url")
    options = list(choices) + ([typed_label] if typed_url_allowed() else [])
    picked = st.selectbox(tr("auth.db.connection"), options, key="ingest_db_connection")
    if picked in choices:
        return choices[picked]
    return st.text_input(tr("ingest.db.url"), key="ingest_db_url", help=tr("ingest.db.url_help"))


def _choose_table() -> PendingSource | None:
    url = _chosen_url()
    if st.button(tr("ingest.db.list"), key="ingest_db_list", disabled=not url):
        try:
            st.session_state[_TABLES] = (url, list_source_tables(url))
        except UploadError as exc:
            st.session_state.pop(_TABLES, None)
            st.error(tr("ingest.error", detail=error_message(exc)))
    listed_url, tables = st.session_state.get(_TABLES, (None, []))
    if listed_url != url or not tables:
        return None
    table = st.selectbox(tr("ingest.db.table"), tables, key="ingest_db_table")
    if st.button(tr("ingest.db.read"), key="ingest_db_read"):
        st.session_state[_DB_CHOICE] = (url, table)
    if st.session_state.get(_DB_CHOICE) != (url, table):
        return None
    return PendingSource("database", url=url, table=table)
