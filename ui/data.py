"""Data page helpers: the stored-datasets table in the session's language; rename and delete."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dealscope import store
from dealscope.errors import DealScopeError
from dealscope.formatting import escape_markdown
from ui.auth import audit
from ui.loaders import clear_caches, get_engine
from ui.state import error_message, tr

_MANAGED = "_data_managed"

DATASET_COLUMNS = (
    "id",
    "name",
    "version",
    "created_at",
    "source_files",
    "rows_in",
    "rows_loaded",
    "rows_rejected",
    "rows_excluded",
    "opportunity_count",
    "stage_event_count",
)


def datasets_table(datasets: pd.DataFrame) -> pd.DataFrame:
    """The datasets listing with source file names joined and translated headers."""
    table = datasets.loc[:, list(DATASET_COLUMNS)].copy()
    # Saved at: to the minute, as every other date and time on the pages.
    table["created_at"] = pd.to_datetime(table["created_at"]).dt.strftime("%Y-%m-%d %H:%M")
    table["source_files"] = table["source_files"].map(
        lambda files: ", ".join(str(f.get("name", "")) for f in files)
    )
    return table.rename(columns={c: tr(f"data.col.{c}") for c in DATASET_COLUMNS})


def render_manage(datasets: pd.DataFrame, db_url: str) -> None:
    """Rename or delete a stored dataset (every version), each behind a confirmation."""
    names = list(dict.fromkeys(datasets["name"].astype(str)))
    with st.expander(tr("data.manage.title")):
        name = st.selectbox(tr("data.manage.dataset"), names, key="data_manage_dataset")
        versions = int((datasets["name"].astype(str) == name).sum())
        left, right = st.columns(2)
        new_name = left.text_input(tr("data.manage.new_name"), key="data_rename_to")
        if left.button(tr("data.manage.rename"), key="data_rename", disabled=not new_name.strip()):
            audit("rename dataset", name=name, new_name=new_name.strip())
            _run(lambda engine: store.rename_dataset(engine, name, new_name), db_url,
                 tr("data.manage.renamed", name=escape_markdown(name), new_name=escape_markdown(new_name.strip()), versions=versions))  # fmt: skip
        confirm = right.checkbox(
            tr("data.manage.confirm_delete", name=escape_markdown(name), versions=versions),
            key="data_delete_confirm",
        )
        if right.button(
            tr("data.manage.delete"), key="data_delete", type="primary", disabled=not confirm
        ):
            audit("delete dataset", name=name, versions=versions)
            _run(lambda engine: store.delete_dataset(engine, name), db_url,
                 tr("data.manage.deleted", name=escape_markdown(name), versions=versions))  # fmt: skip
    done = st.session_state.pop(_MANAGED, None)
    if done:
        st.success(done)


def _run(action, db_url: str, message: str) -> None:
    """Run a store change; on success clear the caches and rerun with the message kept."""
    try:
        action(get_engine(db_url))
    except DealScopeError as exc:
        st.error(tr("data.manage.error", detail=error_message(exc)))
        return
    clear_caches()
    st.session_state.pop("data_delete_confirm", None)
    st.session_state[_MANAGED] = message
    st.rerun()
