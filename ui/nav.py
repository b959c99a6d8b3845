"""The page table and the frame guard: the one place that knows which pages exist.

Why a guard: with a folder named `pages/` beside `app.py`, Streamlit 1.67 decides before any script
runs whether to use its legacy multipage shim (`PagesManager.uses_pages_directory`). While it is on,
a deep link such as `/funnel` opened first on a freshly started server runs `pages/funnel.py`
directly, without `app.py`: no sidebar, no filters, no language, a stale view. AppTest builds a
fresh PagesManager on every run, so it re-arms the flag each time.

`app.py` sets a session flag around `page.run()`. Every page script calls `require_frame()` first;
when the flag is missing the page is running outside the frame, so the guard calls
`st.navigation(..., position="hidden")` (which turns the shim off for the whole process) and
`st.rerun()`, which runs the same page again, this time through `app.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from ui.state import tr

ROOT = Path(__file__).resolve().parents[1]
_IN_FRAME_KEY = "_dealscope_in_frame"


@dataclass(frozen=True)
class PageSpec:
    """One page: its script (relative to the project root), i18n title key, URL path and icon."""

    script: str
    title_key: str
    url_path: str
    icon: str


# The first entry is the default page.
PAGES: tuple[PageSpec, ...] = (
    PageSpec("pages/overview.py", "app.page.overview", "overview", ":material/dashboard:"),
    PageSpec("pages/funnel.py", "funnel.title", "funnel", ":material/filter_alt:"),
    PageSpec("pages/cycle_time.py", "cycle.page", "cycle_time", ":material/timer:"),
    PageSpec("pages/reps.py", "reps.page_title", "reps", ":material/groups:"),
    PageSpec("pages/risk.py", "risk.page_title", "risk", ":material/warning:"),
    PageSpec("pages/weekly.py", "weekly.title", "weekly", ":material/event_note:"),
    PageSpec("pages/data.py", "app.page.data", "data", ":material/database:"),
)


def build_pages() -> list[st.Page]:
    """The st.Page objects for st.navigation, titles in the session's language."""
    return [
        st.Page(
            ROOT / spec.script,
            title=tr(spec.title_key),
            url_path=spec.url_path,
            icon=spec.icon,
            default=index == 0,
        )
        for index, spec in enumerate(PAGES)
    ]


def run_in_frame(page: st.Page) -> None:
    """Run the selected page with the frame flag set (app.py's only way to run a page)."""
    st.session_state[_IN_FRAME_KEY] = True
    try:
        page.run()
    finally:
        st.session_state[_IN_FRAME_KEY] = False


def require_frame() -> None:
    """First call of every page script: rerun through app.py when the legacy shim ran us directly."""
    if st.session_state.get(_IN_FRAME_KEY):
        return
    st.navigation(build_pages(), position="hidden")
    st.rerun()
