"""Issue 16 item 5 (app): a bad time zone or mapping file on the Data page is one clear error,
not the generic error page."""

from __future__ import annotations

import json

import pytest

from tests.unit.ingest_fixtures import csv_bytes

VIEW = "pages/data.py"
EXPORT = csv_bytes([["Opportunity ID", "Stage", "Amount", "Created Date"],
                    ["1", "Closed Won", "100", "2024-01-02"]])  # fmt: skip


def _uploaded(open_app, empty_db_url):
    at = open_app(empty_db_url, VIEW, query={"lang": "en"})
    at.file_uploader(key="ingest_upload").set_value([("deals.csv", EXPORT, "text/csv")]).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_unknown_time_zone_is_a_clear_error(open_app, empty_db_url):
    at = _uploaded(open_app, empty_db_url)
    at.text_input(key="ingest_tz").set_value("Mars/Olympus_Mons").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Unknown time zone 'Mars/Olympus\\_Mons'" in e.value for e in at.error), [
        e.value for e in at.error
    ]


@pytest.mark.parametrize(
    "document",
    [b"{not json", json.dumps({"files": {}, "settings": []}).encode(),
     json.dumps({"files": {"*": {"columns": ["id"]}}}).encode(),
     json.dumps({"settings": {"stages": "not a list"}}).encode()],
)  # fmt: skip
def test_malformed_mapping_file_is_a_clear_error(open_app, empty_db_url, document):
    at = _uploaded(open_app, empty_db_url)
    at.file_uploader(key="ingest_mapping_file").set_value(
        [("mapping.json", document, "application/json")]
    ).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.error, "the problem is shown"
