"""Data: bring in CRM exports (files or a database table) as a new dataset; the stored datasets."""

import streamlit as st

from ui.activity_upload import render_activity_upload
from ui.data import datasets_table, render_manage
from ui.frame import require_frame
from ui.ingest_mapping import mapping_needed, render_mapping_step
from ui.ingest_review import (
    render_counts,
    render_files,
    render_mapping,
    render_options,
    render_report,
    render_save,
    render_stages,
    run_checks,
)
from ui.ingest_source import choose_source
from ui.loaders import database_url, load_dataset_list
from ui.state import tr

require_frame()

st.header(tr("data.title"))
st.subheader(tr("ingest.title"))
source = choose_source()
if source is not None:
    settings = render_options(source)
    result = run_checks(source, settings)
    detail = mapping_needed(source) if result is None else None
    if detail is not None and render_mapping_step(source, settings, detail):
        st.rerun()
    if result is not None:
        render_counts(result.counts, len(result.opportunities), len(result.stage_events))
        render_files(result)
        render_report(result)
        if render_mapping(result, settings) | render_stages(result, settings):
            st.rerun()
        render_save(result, source, database_url())

st.subheader(tr("data.datasets"))
datasets = load_dataset_list(database_url())
if datasets.empty:
    st.info(tr("data.none"))
else:
    st.dataframe(datasets_table(datasets), hide_index=True)
    render_manage(datasets, database_url())
    render_activity_upload(database_url())
