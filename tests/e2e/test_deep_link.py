"""A deep link that is the first request a fresh server sees still runs inside app.py's frame.

With a `pages/` folder beside app.py, Streamlit's legacy shim would run `pages/funnel.py` alone
(no sidebar, no filters, no language) until some session opened `/`; ui.nav.require_frame()
reruns such a page through app.py.
"""

from __future__ import annotations

from playwright.sync_api import expect

from dealscope.i18n import t
from tests.e2e.conftest import running_server, wait_for_app


def test_first_request_is_a_deep_link_and_gets_the_frame(demo_db_file_url, tmp_path, page):
    with running_server(demo_db_file_url, tmp_path) as base:
        page.goto(f"{base}/funnel?lang=en")
        wait_for_app(page)
        sidebar = page.locator('[data-testid="stSidebar"]')
        expect(sidebar).to_contain_text(t("app.sidebar.dataset", "en"))
        expect(page.locator('[data-testid="stSidebarNav"]')).to_contain_text(
            t("funnel.title", "en")
        )
        expect(page.locator('[data-testid="stMain"] h2').first).to_contain_text(
            t("funnel.title", "en")
        )
        assert page.locator('[data-testid="stException"]').count() == 0
        # A second fresh session opened on another deep link is framed too.
        other = page.context.new_page()
        other.goto(f"{base}/reps?lang=en")
        wait_for_app(other)
        expect(other.locator('[data-testid="stSidebar"]')).to_contain_text(
            t("app.sidebar.dataset", "en")
        )
