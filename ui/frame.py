"""The frame every page runs in (navigation, sidebar filters, language) and its guard.

`render_frame()` is all `app.py` does. It runs the selected page with a session flag set around
`page.run()`. Every page script's first statement is `require_frame()`: when the flag is missing,
Streamlit's legacy `pages/` shim ran the page directly (see ui/nav.py), so the guard draws the frame
itself, which calls `st.navigation` (turning the shim off for the whole process) and runs the same
page inside it, then stops the outer, frameless run. No rerun is involved, so the widget event that
started this run (a button click, an upload) reaches the page exactly once.
"""

from __future__ import annotations

import streamlit as st

from dealscope.errors import StoreUnavailable
from ui.auth import sign_in_gate
from ui.loaders import clear_caches, database_url
from ui.nav import build_pages
from ui.sidebar import init_language, render_sidebar
from ui.state import error_message, tr

_IN_FRAME_KEY = "_dealscope_in_frame"


def render_frame() -> None:
    """Page config, language, navigation and sidebar; then the selected page inside the frame."""
    st.set_page_config(page_title="DealScope", page_icon="📊", layout="wide")
    init_language()
    admitted = sign_in_gate()  # before anything that shows data (ui/auth.py)
    page = st.navigation(build_pages(), position="sidebar" if admitted else "hidden")
    if not admitted:
        return
    st.sidebar.title(tr("app.title"))
    try:
        render_sidebar(database_url())
    except StoreUnavailable as exc:
        st.error(tr("app.db_unavailable", error=error_message(exc)))
        if st.button(tr("app.retry")):
            clear_caches()
            st.rerun()
        return
    st.session_state[_IN_FRAME_KEY] = True
    try:
        page.run()
    finally:
        st.session_state[_IN_FRAME_KEY] = False


def require_frame() -> None:
    """First call of every page script: when the legacy shim ran the page alone, frame it."""
    if st.session_state.get(_IN_FRAME_KEY):
        return
    render_frame()
    st.stop()
