"""The uploader reads every workbook type it offers: .xls and .xlsm load (issue 13)."""

from __future__ import annotations

from tests.unit.ingest_fixtures import xlsx_bytes
from tests.unit.test_ingest_excel_formats import ROWS, as_xlsm, xls_bytes

VIEW = "pages/data.py"


def _loaded(at) -> str:
    return {m.label: m.value for m in at.metric}["Loaded"]


def test_xls_with_two_sheets_offers_the_sheet_and_loads(open_app, empty_db_url):
    at = open_app(empty_db_url, VIEW, query={"lang": "en"})
    data = xls_bytes(ROWS, extra_sheets={"Notes": [["note"], ["x"]]})
    at.file_uploader(key="ingest_upload").set_value(
        [("deals.xls", data, "application/vnd.ms-excel")]
    ).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    sheet = next(s for s in at.selectbox if "deals.xls" in s.label)
    assert sheet.options == ["Deals", "Notes"]
    assert _loaded(at) == "3"


def test_xlsm_loads(open_app, empty_db_url):
    at = open_app(empty_db_url, VIEW, query={"lang": "en"})
    upload = [
        ("macro.xlsm", as_xlsm(xlsx_bytes(ROWS)), "application/vnd.ms-excel.sheet.macroEnabled.12")
    ]
    at.file_uploader(key="ingest_upload").set_value(upload).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert _loaded(at) == "3"
