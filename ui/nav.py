"""The page table: the one place that knows which pages exist (app.py, the guard and tests use it).

Why a guard: with a folder named `pages/` beside `app.py`, Streamlit 1.67 decides before any script
runs whether to use its legacy multipage shim (`PagesManager.uses_pages_directory`). While it is on,
a deep link such as `/funnel` opened first on a freshly started server runs `pages/funnel.py`
directly, without `app.py`: no sidebar, no filters, no language, a stale view. AppTest builds a
fresh PagesManager on every run, so it re-arms the flag each time.

The guard that makes the shim harmless lives in `ui/frame.py` (`require_frame`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from ui.state import tr

ROOT = Path(__file__).resolve().parents[1]


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
