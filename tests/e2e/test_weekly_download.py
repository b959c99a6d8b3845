"""The Weekly review in a real browser: the page loads and its HTML report downloads and opens."""

from __future__ import annotations

from playwright.sync_api import expect

from dealscope.i18n import t
from tests.e2e.conftest import wait_for_app


def test_weekly_page_downloads_a_self_contained_html_report(server_url, page, browser, tmp_path):
    page.goto(f"{server_url}/weekly?lang=en")
    wait_for_app(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    expect(page.locator('[data-testid="stMetric"]').first).to_contain_text(
        t("weekly.kpi.new_count", "en")
    )
    page.get_by_text(t("headline.expander.downloads", "en")).click()  # the report's expander
    button = page.get_by_role("button", name=t("weekly.download.html", "en"))
    with page.expect_download() as info:
        button.click()
    download = info.value
    assert download.suggested_filename.endswith("2026-W46.html")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    html = saved.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html and "2026-W46" in html

    # The file opens offline: no request leaves the file:// origin while it renders.
    context = browser.new_context()
    requests: list[str] = []
    report = context.new_page()
    report.on("request", lambda r: requests.append(r.url))
    report.goto(saved.as_uri())
    expect(report.locator("h1")).to_contain_text("Weekly review")
    context.close()
    assert [u for u in requests if not u.startswith("file:")] == []
    assert page.console_log.real_errors() == []
