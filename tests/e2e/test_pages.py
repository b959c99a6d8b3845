"""Every registered page loads in both languages in a real browser, with no exception or console error."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from dealscope.i18n import LANGUAGES, t
from tests.e2e.conftest import wait_for_app
from ui.nav import PAGES


def registered_pages() -> list[tuple[str, str]]:
    """(url path, title key) of every page in ui.nav.PAGES."""
    # The default (first) page is served at the root URL, not at its url_path.
    return [("" if i == 0 else spec.url_path, spec.title_key) for i, spec in enumerate(PAGES)]


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize(("url_path", "title_key"), registered_pages())
def test_page_loads_cleanly(server_url, page, url_path, title_key, lang):
    page.goto(f"{server_url}/{url_path}?lang={lang}")
    wait_for_app(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    expect(page.locator('[data-testid="stSidebarNav"]')).to_contain_text(t(title_key, lang))
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar).to_contain_text(t("app.sidebar.dataset", lang))
    expect(sidebar).to_contain_text(t("app.sidebar.as_of", lang, as_of="")[:4])
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.console_log.real_errors() == []


def test_overview_shows_the_demo_kpis_and_the_chart(server_url, page, tmp_path):
    page.goto(f"{server_url}/?lang=en")
    wait_for_app(page)
    metrics = page.locator('[data-testid="stMetric"]')
    expect(metrics).to_have_count(10)
    expect(metrics.first).to_contain_text("6,000")
    page.wait_for_selector(
        '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg'
    )
    # Kept with the test's temporary files (pytest prints where), never in the source tree.
    page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)
    assert page.console_log.real_errors() == []


def test_filter_in_the_url_is_applied(server_url, page):
    page.goto(f"{server_url}/?lang=en&region=%E5%8D%8E%E4%B8%9C")
    wait_for_app(page)
    first = page.locator('[data-testid="stMetric"]').first
    expect(first).to_contain_text("Total opportunities")
    assert "6,000" not in first.inner_text()  # only 华东's deals
    assert "华东" in page.locator('[data-testid="stSidebar"]').inner_text()
