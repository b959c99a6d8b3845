"""Data: the stored datasets with their source files, row counts and import time."""

import streamlit as st

from ui.data import datasets_table
from ui.loaders import database_url, load_dataset_list
from ui.state import tr

st.header(tr("data.title"))
st.subheader(tr("data.datasets"))
datasets = load_dataset_list(database_url())
if datasets.empty:
    st.info(tr("data.none"))
else:
    st.dataframe(datasets_table(datasets), hide_index=True)
