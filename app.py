"""DealScope entry point: the router and the frame (navigation, sidebar filters, language).

Run with `make run` (or `streamlit run app.py`). Pages live in views/ and are registered in PAGES.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dealscope.errors import StoreUnavailable
from ui.loaders import clear_caches, database_url
from ui.sidebar import init_language, render_sidebar
from ui.state import tr

ROOT = Path(__file__).parent

# (script, i18n title key, url path, icon). The first entry is the default page.
PAGES = (
    ("views/overview.py", "app.page.overview", "overview", ":material/dashboard:"),
    ("views/funnel.py", "funnel.title", "funnel", ":material/filter_alt:"),
    ("views/cycle_time.py", "cycle.page", "cycle_time", ":material/timer:"),
    ("views/reps.py", "reps.page_title", "reps", ":material/groups:"),
    ("views/risk.py", "risk.page_title", "risk", ":material/warning:"),
    ("views/weekly.py", "weekly.title", "weekly", ":material/event_note:"),
    ("views/data.py", "app.page.data", "data", ":material/database:"),
)


def main() -> None:
    st.set_page_config(page_title="DealScope", page_icon="📊", layout="wide")
    init_language()
    pages = [
        st.Page(ROOT / script, title=tr(title), url_path=path, icon=icon, default=i == 0)
        for i, (script, title, path, icon) in enumerate(PAGES)
    ]
    page = st.navigation(pages)
    st.sidebar.title(tr("app.title"))
    try:
        render_sidebar(database_url())
    except StoreUnavailable as exc:
        st.error(tr("app.db_unavailable", error=str(exc)))
        if st.button(tr("app.retry")):
            clear_caches()
            st.rerun()
        return
    page.run()


main()
