"""KPI values never truncate from 1280 px on (issue 13): every st.metric value of every page, in
both languages, fits its box (no ellipsis: its text's scrollWidth within its clientWidth)."""

from __future__ import annotations

import pytest

from dealscope.i18n import LANGUAGES
from tests.e2e.conftest import APP_TIMEOUT_MS, wait_for_app
from ui.nav import PAGES

# Every element inside a metric value whose text is wider than its box (an ellipsis shows).
OVERFLOWING_VALUES = """() => Array.from(document.querySelectorAll('[data-testid="stMetricValue"]'))
  .flatMap(value => [value, ...value.querySelectorAll('*')]
    .filter(el => el.scrollWidth > el.clientWidth + 1)
    .map(el => `${value.innerText} (${el.scrollWidth} > ${el.clientWidth} px)`))"""


# Pages that always show KPI cards on the demo (Risk shows them once its model is trained in the
# background, Data has none).
PAGES_WITH_KPIS = {"overview", "funnel", "cycle_time", "reps", "weekly"}


@pytest.fixture
def narrow_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(APP_TIMEOUT_MS)
    yield page
    context.close()


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("index", range(len(PAGES)), ids=[p.url_path for p in PAGES])
def test_kpi_values_fit_at_1280_px(server_url, narrow_page, index, lang):
    path = "" if index == 0 else PAGES[index].url_path
    narrow_page.goto(f"{server_url}/{path}?lang={lang}")
    wait_for_app(narrow_page)
    # Cards inside expanders (the Reps drill-down, the Cycle watch lists) count too: open them all.
    for summary in narrow_page.locator('[data-testid="stExpander"] summary').all():
        summary.click()
    if PAGES[index].url_path in PAGES_WITH_KPIS:  # not a skeleton: the values are drawn
        narrow_page.locator('[data-testid="stMetricValue"]:visible').first.wait_for()
        wait_for_app(narrow_page)
    assert narrow_page.evaluate(OVERFLOWING_VALUES) == []
