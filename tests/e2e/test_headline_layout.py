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


# The main area's full height: the scroll height of stMain or of whichever ancestor scrolls it
# (never of a table's own scroller inside it).
CONTENT_HEIGHT = """() => {
    let node = document.querySelector('[data-testid="stMain"]'), tallest = 0;
    for (; node !== null; node = node.parentElement) tallest = Math.max(tallest, node.scrollHeight);
    return tallest;
}"""
# Charts and tables outside the expanders have drawn (Vega and the data grid draw after the run)
# and no element is still a loading placeholder.
DRAWN = """() => {
    const shown = [...document.querySelectorAll(
        '[data-testid="stVegaLiteChart"], [data-testid="stDataFrame"]')]
        .filter(e => e.closest('[data-testid="stExpander"]') === null);
    const loading = document.querySelector(
        '[data-testid="stSkeleton"], [data-testid="stSkeletonElement"], [data-testid="stAppSkeleton"]');
    return loading === null && shown.every(e => e.querySelector('canvas, svg') !== null);
}"""


@pytest.fixture
def narrow_page(browser):
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    page = context.new_page()
    page.set_default_timeout(APP_TIMEOUT_MS)
    yield page
    context.close()


def screenshot(page, path) -> None:
    """The whole page: Streamlit scrolls inside its own container, not the document, so the
    window is made as tall as the content for the picture (the width stays 1280 px)."""
    full = page.evaluate(CONTENT_HEIGHT)
    page.set_viewport_size({"width": WIDTH, "height": max(HEIGHT, int(full) + 100)})
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})


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
    page.wait_for_function(DRAWN)
    exceptions = page.locator('[data-testid="stException"]').all_inner_texts()
    truncated = page.evaluate(TRUNCATED_KPIS)
    height = None if name in NO_HEADLINE else page.evaluate(HEIGHT_BEFORE_EXPANDERS)
    screenshot(page, tmp_path / f"{name}-{lang}.png")
    assert exceptions == [], exceptions
    # Printed for the record (pytest -s), whichever assertion fails first.
    print(f"{name} ({lang}): {height} px before the first expander; cut off: {truncated}")
    assert truncated == [], f"KPI values cut off on {name} ({lang}): {'; '.join(truncated)}"
    if height is not None:
        assert height <= MAX_SCREENS * HEIGHT, f"{name} ({lang}): {height:.0f} px"
