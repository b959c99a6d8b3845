"""Deals in another currency than the main one are left out of value figures, and the Overview
and the Weekly review both say how many (one warning, one text)."""

from __future__ import annotations

import pytest

from dealscope.i18n import t
from tests.app.undated_fixtures import write_rows

# Three deals in CNY (the main currency), one in USD: 1 left out of the value figures.
ROWS = [
    ["Opportunity ID", "Owner", "Amount", "Currency", "Stage", "Created Date", "Close Date"],
    ["M1", "Ann", "100", "CNY", "Closed Won", "2024-01-02", "2024-02-01"],
    ["M2", "Ann", "200", "CNY", "Closed Lost", "2024-01-10", "2024-03-01"],
    ["M3", "Bob", "300", "CNY", "Prospecting", "2024-02-05", ""],
    ["M4", "Bob", "400", "USD", "Closed Won", "2024-02-10", "2024-03-05"],
]


@pytest.fixture(scope="module")
def mixed_url(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('currency') / 'm.db'}"
    write_rows(url, "mixed", ROWS)
    return url


@pytest.mark.parametrize("page", [None, "pages/weekly.py"])
def test_deals_in_another_currency_are_counted_in_a_warning(open_app, mixed_url, page):
    at = open_app(mixed_url, page, {"lang": "en"})
    expected = t("app.other_currency", "en", count=1, currency="CNY")
    assert expected in [w.value for w in at.warning], [w.value for w in at.warning]
