"""Issue 13 (one language at a time): an upload error on the Data page in the page's language."""

from __future__ import annotations

import re

from dealscope.errors import error_text
from dealscope.formatting import escape_markdown
from dealscope.ingest.pipeline import SourceFile, ingest_files

VIEW = "pages/data.py"
STRAY_QUOTE = b'id,stage,amount\n1,open,5\n2,"won,7\n3,lost,9\n'
CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_PHRASE = re.compile(r"[A-Za-z]{2,}(?:[ ,]+[A-Za-z]{2,}){2,}")


def _upload_error(open_app, db_url, lang):
    at = open_app(db_url, VIEW, query={"lang": lang})
    at.file_uploader(key="ingest_upload").set_value([("deals.csv", STRAY_QUOTE, "text/csv")]).run()
    assert not at.exception, [e.value for e in at.exception]
    return [e.value for e in at.error]


def _the_error():
    try:
        ingest_files([SourceFile("deals.csv", STRAY_QUOTE)])
    except Exception as exc:  # the pipeline's own refusal, rendered below in each language
        return exc
    raise AssertionError("the stray quote was not refused")


def test_an_upload_error_in_chinese_is_chinese(open_app, empty_db_url):
    shown = _upload_error(open_app, empty_db_url, "zh-CN")
    assert shown, "the problem is shown"
    expected = error_text(_the_error(), "zh-CN", escape=escape_markdown)
    assert any(expected in value for value in shown), shown
    assert "第 3 行" in expected and "deals.csv" in expected
    for value in shown:
        assert CJK.search(value) and not ENGLISH_PHRASE.search(value), value


def test_the_same_upload_error_in_english_is_todays_text(open_app, empty_db_url):
    shown = _upload_error(open_app, empty_db_url, "en")
    assert any(
        "deals.csv: line 3: a quoted field is never closed (a stray '\"'), so the rest of the "
        "file cannot be split into rows. Fix or remove that quote." in value
        for value in shown
    ), shown
