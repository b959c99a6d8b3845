"""A follow-up log (Salesforce Activity History, XLSX) uploaded through the real Data page: the
link rate and the row accounting appear, it saves, and the Reps page shows rep activity, with no
exception and no console error.

The server runs on its own database (one small dataset, no log yet), so the shared demo server
stays as the other browser tests expect.
"""

from __future__ import annotations

from playwright.sync_api import expect

from dealscope import store
from dealscope.demo import generate_demo
from tests.e2e.conftest import running_server, wait_for_app
from tests.unit.ingest_fixtures import xlsx_bytes

TIMEOUT_MS = 120_000
HEADERS = ["Related To", "Assigned", "Date", "Task Subtype", "Name", "Subject"]


def _dataset(db_url: str) -> list[str]:
    """Store a small dataset; the names of three deals whose name is unique."""
    engine = store.get_engine(db_url)
    opps, events, stages = generate_demo(n=300)
    store.write_dataset(engine, "small", opps, events, stages)
    engine.dispose()
    counts = opps["name"].value_counts()
    return opps.loc[opps["name"].map(counts).eq(1), "name"].head(3).tolist()


def test_activity_xlsx_upload_through_the_data_page(page, tmp_path):
    db_url = f"sqlite:///{tmp_path / 'activity.db'}"
    names = _dataset(db_url)
    rows = [
        HEADERS,
        [names[0], "王伟", "2026-01-05", "Call", "张总", "first call"],
        [names[0], "王伟", "2026-01-08", "Email", "张总", "proposal"],
        [names[1], "李娜", "2026-01-06", "Meeting", "赵总", "on site"],
        [names[2], "李娜", "2026-01-07", "Call", "钱总", "follow-up"],
        ["No such deal", "李娜", "2026-01-07", "Call", "孙总", "lost row"],
    ]
    # By hand: 5 rows in, 4 linked by name and loaded, 1 rejected; name match rate 4 / 5.
    with running_server(db_url, tmp_path) as base:
        page.goto(f"{base}/data?lang=en")
        wait_for_app(page)
        expect(page.get_by_text("Follow-up records (activity log)")).to_be_visible()
        uploader = page.locator('[data-testid="stFileUploader"]').filter(
            has_text="Activity export (CSV or XLSX)"
        )
        uploader.locator('input[type="file"]').set_input_files(
            files=[
                {
                    "name": "activities.xlsx",
                    "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    "buffer": xlsx_bytes(rows),
                }
            ]
        )
        rate = page.locator('[data-testid="stMetric"]').filter(has_text="Name match rate")
        expect(rate).to_contain_text("80.0%", timeout=TIMEOUT_MS)
        loaded = page.locator('[data-testid="stMetric"]').filter(has_text="Loaded")
        expect(loaded).to_contain_text("4")
        rejected = page.locator('[data-testid="stMetric"]').filter(has_text="Rejected")
        expect(rejected).to_contain_text("1")
        wait_for_app(page)
        page.get_by_role("button", name="Save follow-up log").click()
        expect(page.get_by_text("Saved 4 activities")).to_be_visible(timeout=TIMEOUT_MS)
        wait_for_app(page)
        assert page.locator('[data-testid="stException"]').count() == 0

        page.goto(f"{base}/reps?lang=en")
        wait_for_app(page)
        # The section sits in the page's "Follow-up activity per rep" expander: open it.
        page.get_by_text("Follow-up activity per rep").click()
        expect(page.get_by_text("Follow-up activity", exact=True)).to_be_visible(timeout=TIMEOUT_MS)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.console_log.real_errors() == []
