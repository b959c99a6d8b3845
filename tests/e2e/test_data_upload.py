"""An upload through the real file widget: the counts and the reject report appear (not saved, so
the shared server database stays as the other browser tests expect)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import wait_for_app
from tests.unit.ingest_fixtures import csv_bytes

ROWS = [
    ["商机编号", "商机阶段", "商机金额"],
    ["001", "赢单", "¥12.5万"],
    ["002", "输单", "1", "多余"],
    ["合计", "", "1"],
]


def test_upload_through_the_file_widget(server_url, page):
    page.goto(f"{server_url}/data?lang=en")
    wait_for_app(page)
    uploader = page.locator('[data-testid="stFileUploader"] input[type="file"]').first
    uploader.set_input_files(
        files=[{"name": "商机.csv", "mimeType": "text/csv", "buffer": csv_bytes(ROWS, "gb18030")}]
    )
    metrics = page.locator('[data-testid="stMetric"]')
    expect(metrics.first).to_contain_text("Rows in")
    expect(metrics.first).to_contain_text("3")
    expect(page.get_by_text("Reject report")).to_be_visible()
    expect(page.locator('[data-testid="stDownloadButton"]').first).to_be_visible()
    wait_for_app(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.console_log.real_errors() == []
