"""The Cycle page on an export without stage history but with a days-in-stage column (Salesforce
Stage Duration): the open deals' time in their current stage is shown, per stage and in the silent
list. Expected values by hand from tests/unit/test_stage_duration.py's SALESFORCE rows: the export's
date is 2024-03-01; O1 (Prospecting) 10 days, O2 (Negotiation/Review) 45 days."""

from __future__ import annotations

import pytest

from dealscope.i18n import t
from tests.app.undated_fixtures import write_rows
from tests.unit.test_stage_duration import SALESFORCE


@pytest.fixture(scope="module")
def salesforce_url(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('ages') / 'ages.db'}"
    write_rows(url, "sf-stage-duration", SALESFORCE)
    return url


def test_cycle_page_shows_time_in_the_current_stage(open_app, salesforce_url):
    at = open_app(salesforce_url, "pages/cycle_time.py", {"lang": "en"})
    assert any(t("cycle_age.notice", "en") in c.value for c in at.caption)
    titles = [e.label for e in at.expander]
    assert t("cycle_age.title", "en") in titles
    ages = next(
        frame.value
        for frame in at.dataframe
        if t("cycle_age.col.median", "en") in frame.value.columns
    ).set_index(t("cycle_age.col.stage", "en"))
    assert ages.at["Prospecting", t("cycle_age.col.open_deals", "en")] == 3
    assert ages.at["Prospecting", t("cycle_age.col.known", "en")] == 1
    assert ages.at["Prospecting", t("cycle_age.col.median", "en")] == pytest.approx(10.0)
    assert ages.at["Negotiation/Review", t("cycle_age.col.median", "en")] == pytest.approx(45.0)
