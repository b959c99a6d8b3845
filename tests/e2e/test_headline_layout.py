"""Every page at 1280 px in both languages, as a manager sees it: a screenshot of each (kept under
pytest's tmp_path), no exception box, no KPI value cut off in its card, and the answer plus the
main figures within about two screens before the first expander."""

from __future__ import annotations

import pytest

from dealscope.i18n import LANGUAGES
from tests.e2e.conftest import APP_TIMEOUT_MS, wait_for_app
from tests.e2e.test_pages import registered_pages
from ui.headline import HEADLINE_KEY

WIDTH, HEIGHT = 1280, 800
MAX_SCREENS = 2  # "no page longer than about two screens before its expanders"
# The Risk page shows its sentence once the background training has stored the model.
TRAINING_TIMEOUT_MS = 5 * APP_TIMEOUT_MS
NO_HEADLINE = {"data"}  # the Data page loads files; it has no figures to lead with

# Each st.metric value whose text (the element or any child) is wider than its box: the card
# shows it cut off ("¥1,211.…"). One pixel of slack for sub-pixel rounding.
TRUNCATED_KPIS = """() => [...document.querySelectorAll('[data-testid="stMetricValue"]')]
    .filter(v => [v, ...v.querySelectorAll('*')].some(e => e.scrollWidth > e.clientWidth + 1))
    .map(v => {
        const card = v.closest('[data-testid="stMetric"]');
        const label = card?.querySelector('[data-testid="stMetricLabel"]')?.innerText ?? '';
        return `${label.trim()}: ${v.innerText.trim()}`;
    })"""
# How far below the top of the main area the first expander starts (both in viewport
# coordinates, so scrolling does not matter); the main area's height when there is none.
HEIGHT_BEFORE_EXPANDERS = """() => {
    const main = document.querySelector('[data-testid="stMain"]');
    const first = main.querySelector('[data-testid="stExpander"]');
    if (first === null) return main.scrollHeight;
    return first.getBoundingClientRect().top - main.getBoundingClientRect().top;
}"""


@pytest.fixture
def narrow_page(browser):
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    page = context.new_page()
    page.set_default_timeout(APP_TIMEOUT_MS)
    yield page
    context.close()


def page_name(url_path: str) -> str:
    return url_path or "overview"


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize(("url_path", "title_key"), registered_pages())
def test_page_at_1280_px(server_url, narrow_page, url_path, title_key, lang, tmp_path):
    page, name = narrow_page, page_name(url_path)
    page.goto(f"{server_url}/{url_path}?lang={lang}")
    wait_for_app(page)
    if name not in NO_HEADLINE:
        page.wait_for_selector(f".st-key-{HEADLINE_KEY}", timeout=TRAINING_TIMEOUT_MS)
        wait_for_app(page)
    page.screenshot(path=str(tmp_path / f"{name}-{lang}.png"), full_page=True)
    exceptions = page.locator('[data-testid="stException"]')
    assert exceptions.count() == 0, exceptions.all_inner_texts()
    assert page.evaluate(TRUNCATED_KPIS) == [], f"KPI values cut off on {name} ({lang})"
    if name not in NO_HEADLINE:
        height = page.evaluate(HEIGHT_BEFORE_EXPANDERS)
        print(f"{name} ({lang}): {height:.0f} px before the first expander")
        assert height <= MAX_SCREENS * HEIGHT, f"{name} ({lang}): {height:.0f} px"
