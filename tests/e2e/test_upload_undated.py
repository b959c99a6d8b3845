"""A file with no id column and no dates, uploaded through the real Data page: it is mapped where
needed, saved, and the Overview and Reps pages show a real (non-zero) win rate, no exception.

The server runs on its own empty database, so the shared demo server stays as the others expect.
"""

from __future__ import annotations

import re

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from dealscope.i18n import t
from tests.e2e.conftest import running_server, wait_for_app
from tests.unit.ingest_fixtures import csv_bytes

# No id, no dates. By hand: 3 won, 1 lost → win rate 75.0%; Ann 1 / 2, Bob 2 / 2.
ROWS = [
    ["Opportunity Name", "Seller", "Opportunity Result", "Opportunity Amount USD"],
    ["Alpha renewal", "Ann", "Won", "1200"],
    ["Beta expansion", "Ann", "Loss", "800"],
    ["Gamma pilot", "Bob", "Won", "300"],
    ["Delta rollout", "Bob", "Won", "500"],
]
TIMEOUT_MS = 60_000


def choose(widget, option) -> None:
    """Open a select widget and click `option`. A rerun that lands while the list opens closes
    it again, so the widget is opened until the option shows (a few tries, each on a condition)."""
    for _ in range(3):
        widget.click()
        try:
            option.wait_for(state="visible", timeout=5_000)
            break
        except PlaywrightTimeout:
            continue
    # The option list re-renders while it opens; a forced click does not wait for it to settle.
    option.click(force=True)


def map_outcome_if_asked(page) -> None:
    """Today's detection may not know the outcome column: then the mapping step is open and the
    column and its "Loss" value are chosen there (with better detection the step never shows)."""
    if page.get_by_role("heading", name="Map the columns").count() == 0:
        return
    picker = page.locator('[data-testid="stSelectbox"]').filter(has_text="won / lost / open")
    choose(picker, page.get_by_role("option").filter(has_text="Opportunity Result"))
    wait_for_app(page)
    lost = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Values that mean lost")
    if "Loss" not in lost.inner_text():
        choose(lost, page.get_by_role("option", name="Loss", exact=True))
        wait_for_app(page)
        page.keyboard.press("Escape")  # close the list, which covers the button below
        expect(lost).to_contain_text("Loss")
    page.get_by_role("button", name="Check with this mapping").click()
    wait_for_app(page)


def test_upload_without_id_and_dates_then_win_rate_on_overview_and_reps(page, tmp_path):
    db_url = f"sqlite:///{tmp_path / 'undated.db'}"
    with running_server(db_url, tmp_path) as base:
        page.goto(f"{base}/data?lang=en")
        wait_for_app(page)
        uploader = page.locator('[data-testid="stFileUploader"] input[type="file"]').first
        uploader.set_input_files(
            files=[{"name": "deals.csv", "mimeType": "text/csv", "buffer": csv_bytes(ROWS)}]
        )
        save = page.get_by_role("button", name="Save as a new dataset version")
        step = page.get_by_role("heading", name="Map the columns")
        expect(step.or_(save).first).to_be_visible(timeout=TIMEOUT_MS)
        wait_for_app(page)
        map_outcome_if_asked(page)
        expect(page.get_by_role("button", name="Save as a new dataset version")).to_be_visible(
            timeout=TIMEOUT_MS
        )
        page.get_by_role("button", name="Save as a new dataset version").click()
        expect(page.get_by_text("Saved dataset deals")).to_be_visible(timeout=TIMEOUT_MS)
        wait_for_app(page)
        assert "dataset=1" in page.url  # the app switched to the new dataset

        page.goto(f"{base}/?lang=en&dataset=1")  # the Overview is the default page
        wait_for_app(page)
        win_rate = page.locator('[data-testid="stMetric"]').filter(has_text="Win rate (count)")
        expect(win_rate).to_contain_text("75.0%", timeout=TIMEOUT_MS)
        total = page.locator('[data-testid="stMetric"]').filter(has_text="Total opportunities")
        expect(total).to_contain_text("4")
        assert page.locator('[data-testid="stException"]').count() == 0

        page.goto(f"{base}/reps?lang=en&dataset=1")
        wait_for_app(page)
        expect(page.get_by_text("Leaderboard")).to_be_visible(timeout=TIMEOUT_MS)
        page.get_by_text(t("headline.expander.drill_owner", "en")).click()  # the owner's cards
        owner_rate = page.locator('[data-testid="stMetric"]').filter(has_text="Win rate").first
        expect(owner_rate).to_contain_text("%", timeout=TIMEOUT_MS)
        shown = re.search(r"(\d+(?:\.\d)?)%", owner_rate.inner_text())
        # By hand: the team 75.0%, Ann 50.0%, Bob 100.0% (never 0.0% or "—").
        assert shown is not None and shown.group(1) in {"75.0", "50.0", "100.0"}, shown
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.console_log.real_errors() == []
