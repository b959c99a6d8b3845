"""DealScope entry point: the router and the frame (navigation, sidebar filters, language).

Run with `make run` (or `streamlit run app.py`). Pages live in pages/ and are listed in ui/nav.py,
whose guard keeps Streamlit's legacy `pages/` shim from running a page without this frame.
"""

from __future__ import annotations

import streamlit as st

from dealscope.errors import StoreUnavailable
from ui.loaders import clear_caches, database_url
from ui.nav import build_pages, run_in_frame
from ui.sidebar import init_language, render_sidebar
from ui.state import tr


def main() -> None:
    st.set_page_config(page_title="DealScope", page_icon="📊", layout="wide")
    init_language()
    page = st.navigation(build_pages())
    st.sidebar.title(tr("app.title"))
    try:
        render_sidebar(database_url())
    except StoreUnavailable as exc:
        st.error(tr("app.db_unavailable", error=str(exc)))
        if st.button(tr("app.retry")):
            clear_caches()
            st.rerun()
        return
    run_in_frame(page)


main()
