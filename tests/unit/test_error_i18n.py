"""Issue 13 (one language at a time): DealScope's own error messages in the reader's language.

Every deliberate error carries an `errors.*` catalog key and its values; `str(exc)` stays the
English line the tests and logs know, `error_text(exc, "zh-CN")` is the Chinese one.
"""

from __future__ import annotations

import ast
import importlib
import io
import json
import pickle
import pkgutil
import re
import string
import zipfile
from pathlib import Path

import pytest

import dealscope
from dealscope import store
from dealscope.errors import DatasetNotFound, DealScopeError, error_text, text
from dealscope.formatting import escape_markdown
from dealscope.ingest import limits
from dealscope.ingest.errors import CsvStructureError, LimitExceeded, SettingsError, UploadError
from tests.unit.ingest_fixtures import csv_bytes, run

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ROOT / "dealscope" / "i18n" / "locales"
SCANNED = ("dealscope", "ui", "pages")
CJK = re.compile(r"[\u4e00-\u9fff]")
# Three Latin words in a row: an English phrase (file names and codes are one word each).
ENGLISH_PHRASE = re.compile(r"[A-Za-z]{2,}(?:[ ,]+[A-Za-z]{2,}){2,}")


def _catalog(lang: str) -> dict[str, str]:
    return json.loads((LOCALES / lang / "errors.json").read_text(encoding="utf-8"))


def _fields(template: str) -> set[str]:
    """The placeholder names of a str.format template (conversions and specs aside)."""
    return {
        re.split(r"[.\[]", name)[0]
        for _, name, _, _ in string.Formatter().parse(template)
        if name is not None
    }


def test_every_error_key_exists_in_both_languages_with_the_same_placeholders():
    english, chinese = _catalog("en"), _catalog("zh-CN")
    assert english.keys() == chinese.keys()
    assert all(key.startswith("errors.") for key in english)
    different = {
        key: (_fields(english[key]), _fields(chinese[key]))
        for key in english
        if _fields(english[key]) != _fields(chinese[key])
    }
    assert not different


def test_the_chinese_error_texts_are_chinese():
    english, chinese = _catalog("en"), _catalog("zh-CN")
    # Fragments that are the same in both languages: a unit symbol, a "file [sheet]" pattern.
    same = {"errors.limit.unit.mb", "errors.limit.unit.ratio", "errors.cli.prefix"}
    for key, value in chinese.items():
        if key in same:
            continue
        assert CJK.search(value), (key, value)
        assert value != english[key], key


def _error_classes() -> set[str]:
    """Names of DealScopeError and every subclass defined anywhere in dealscope/ or ui/."""
    for package in (dealscope,):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not module.name.endswith("__main__"):  # running it would start the CLI
                importlib.import_module(module.name)
    for module in ("ui.ingest_worker",):
        importlib.import_module(module)
    found, todo = set(), [DealScopeError]
    while todo:
        cls = todo.pop()
        found.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return found


def error_calls_without_key(source: str, classes: set[str]) -> list[int]:
    """Line numbers where `source` constructs one of `classes` without key=…"""
    missing = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name in classes and not any(k.arg == "key" for k in node.keywords):
            missing.append(node.lineno)
    return missing


def _sources() -> list[Path]:
    return sorted(p for folder in SCANNED for p in (ROOT / folder).rglob("*.py"))


def test_the_scan_finds_an_error_without_a_key():
    classes = {"UploadError", "LimitExceeded"}
    code = 'raise UploadError("x")\nraise LimitExceeded(key="errors.a")\nerrors.UploadError("y")\n'
    assert error_calls_without_key(code, classes) == [1, 3]


def test_every_deliberate_error_is_raised_with_a_catalog_key():
    classes = _error_classes()
    assert {"UploadError", "StoreUnavailable", "ModelUnavailable", "WeekError"} <= classes
    missing = {
        str(path.relative_to(ROOT)): lines
        for path in _sources()
        if (lines := error_calls_without_key(path.read_text(encoding="utf-8"), classes))
    }
    assert not missing


def test_every_errors_key_named_in_the_code_exists():
    english = _catalog("en")
    named = set()
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and re.fullmatch(
                r"errors(\.[a-z_]+)+", str(node.value)
            ):
                named.add(node.value)
            # limit_error(label, what, actual, limit, unit, fix): the names of its fragments
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "limit_error":
                for index, kind in ((1, "what"), (4, "unit"), (5, "fix")):
                    arg = node.args[index] if len(node.args) > index else None
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        named.add(f"errors.limit.{kind}.{arg.value}")
    assert len(named) > 100
    assert sorted(named - english.keys()) == []


# --- real failures: English as before, Chinese with the file and the place ----------------------


def _raised(call) -> DealScopeError:
    with pytest.raises(DealScopeError) as caught:
        call()
    return caught.value


def _chinese_without_english(message: str) -> bool:
    prose = re.sub(r"`[^`]*`", "", message)  # a command to type stays as it is
    return bool(CJK.search(prose)) and not ENGLISH_PHRASE.search(prose)


def test_a_stray_quote():
    data = b'id,stage,amount\n1,open,5\n2,"won,7\n3,lost,9\n'
    exc = _raised(lambda: run({"deals.csv": data}))
    assert isinstance(exc, CsvStructureError)
    assert str(exc) == (
        "deals.csv: line 3: a quoted field is never closed (a stray '\"'), so the rest of the "
        "file cannot be split into rows. Fix or remove that quote."
    )
    chinese = error_text(exc, "zh-CN")
    assert chinese.startswith("deals.csv：第 3 行：") and _chinese_without_english(chinese)


def test_too_many_rows(monkeypatch):
    monkeypatch.setattr("dealscope.ingest.read_csv.MAX_ROWS", 10)
    data = csv_bytes([["id", "stage"]] + [[str(i), "Won"] for i in range(50)])
    exc = _raised(lambda: run({"rows.csv": data}))
    assert isinstance(exc, LimitExceeded)
    lines = data.count(b"\n")
    assert str(exc) == (
        f"rows.csv: The line count is {lines} lines, above the limit of 10 lines. "
        "Split the export by date range."
    )
    chinese = error_text(exc, "zh-CN")
    assert chinese == f"rows.csv：行数为 {lines} 行，超过上限 10 行。请按日期范围分几次导出。"


def test_an_xlsx_bomb():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (20 * limits.MB))
    data = buffer.getvalue()
    ratio = (len("<Types/>") + len("<workbook/>") + 20 * limits.MB) / len(data)
    exc = _raised(lambda: run({"bomb.xlsx": data}))
    assert isinstance(exc, LimitExceeded)
    assert str(exc) == (
        f"bomb.xlsx: The compression ratio is {ratio:,.0f} : 1, above the limit of 100 : 1. "
        "Re-save the workbook in Excel with only the sheet you need, or export it as .csv."
    )
    chinese = error_text(exc, "zh-CN")
    assert chinese.startswith(f"bomb.xlsx：压缩比为 {ratio:,.0f} : 1，超过上限 100 : 1。")
    assert _chinese_without_english(chinese)


def test_an_unknown_dataset(empty_db_url):
    engine = store.get_engine(empty_db_url)
    exc = _raised(lambda: store.resolve_dataset_id(engine, "nope"))
    assert isinstance(exc, DatasetNotFound)
    assert str(exc) == (
        "No dataset named 'nope'. List them with `python -m dealscope datasets`, or create the "
        "demo with `python -m dealscope demo`."
    )
    chinese = error_text(exc, "zh-CN")
    assert "“nope”" in chinese and _chinese_without_english(chinese)


def test_an_invalid_time_zone():
    data = csv_bytes([["Opportunity ID", "Stage"], ["1", "Closed Won"]])
    exc = _raised(lambda: run({"deals.csv": data}, timezone="Mars/Olympus_Mons"))
    assert isinstance(exc, SettingsError)
    assert str(exc) == (
        "Unknown time zone 'Mars/Olympus_Mons': use an IANA name such as Asia/Shanghai or UTC."
    )
    chinese = error_text(exc, "zh-CN")
    assert (
        chinese == "未知的时区“Mars/Olympus_Mons”：请使用 IANA 时区名，例如 Asia/Shanghai 或 UTC。"
    )


def test_a_sheet_label_and_a_list_follow_the_language():
    exc = UploadError(
        key="errors.ingest.no_such_sheet", file="a.xlsx", sheet="X", sheets=["S1", "S2"]
    )
    assert str(exc) == "a.xlsx: no sheet named 'X'; the sheets are ['S1', 'S2']."
    assert error_text(exc, "zh-CN") == "a.xlsx：没有名为“X”的工作表；现有工作表：S1、S2。"
    label = text("errors.label.sheet", file="a.xlsx", sheet="S1")
    limit = limits.limit_error(label, "row_count", 12, 10, "rows", "split_sheet")
    assert str(limit) == (
        "a.xlsx [S1]: The row count is 12 rows, above the limit of 10 rows. "
        "Split the sheet by date range."
    )
    assert error_text(limit, "zh-CN") == (
        "a.xlsx 的工作表“S1”：数据行数为 12 行，超过上限 10 行。请按日期范围把工作表拆开。"
    )


def test_values_are_escaped_for_markdown_and_the_catalog_text_is_not():
    exc = DatasetNotFound(key="errors.store.no_dataset_named", name="a_*b*")
    shown = error_text(exc, "en", escape=escape_markdown)
    assert "'a\\_\\*b\\*'" in shown  # the user's name: no emphasis
    assert "`python -m dealscope datasets`" in shown  # the catalog's own markup, once
    label = text("errors.label.sheet", file="x_1.xlsx", sheet="S")
    nested = LimitExceeded(key="errors.limit.exceeded_in", label=label, what=text(
        "errors.limit.what.row_count"), actual=2, limit=1, unit=text("errors.limit.unit.rows"),
        fix=text("errors.limit.fix.split_sheet"))  # fmt: skip
    assert error_text(nested, "zh-CN", escape=escape_markdown).startswith("x\\_1.xlsx 的工作表")


def test_an_error_without_a_key_is_shown_as_it_is():
    exc = DealScopeError("plain text")
    assert exc.key is None and error_text(exc, "zh-CN") == "plain text"
    assert error_text(ValueError("v"), "en") == "v"


def test_the_key_and_values_survive_the_ingest_worker_process_boundary():
    exc = UploadError(key="errors.ingest.empty_file", file="a.csv")
    copy = pickle.loads(pickle.dumps(exc))
    assert (copy.key, copy.params, str(copy)) == (exc.key, exc.params, str(exc))
    assert error_text(copy, "zh-CN").startswith("a.csv：文件是空的")


def test_an_empty_list_is_said_in_words():
    exc = UploadError(
        key="errors.mapping.unknown_columns", file="a.csv", unknown=["Nope"], fields=[],
        columns=["Opportunity ID", "Stage"],
    )  # fmt: skip
    assert str(exc) == (
        "a.csv: the mapping names columns the file does not have ['Nope'] or unknown fields []. "
        "The file's columns are ['Opportunity ID', 'Stage']."
    )
    assert "未知的字段（无）" in error_text(exc, "zh-CN")
    assert "文件中的列为：Opportunity ID、Stage。" in error_text(exc, "zh-CN")


def test_every_keyed_call_gives_exactly_the_values_its_texts_use():
    """A raise site whose values do not match its text would fail with KeyError when it fires:
    checked for every call with a literal key (errors and text fragments), not only the ones
    the other tests trigger."""
    english, chinese = _catalog("en"), _catalog("zh-CN")
    checked, wrong = 0, {}
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or any(k.arg is None for k in node.keywords):
                continue  # **params: the callee's own literal call is checked instead
            given = {k.arg for k in node.keywords if k.arg != "key"}
            key = next((k.value for k in node.keywords if k.arg == "key"), None)
            if key is None and getattr(node.func, "id", None) == "text" and node.args:
                key = node.args[0]
            if not (isinstance(key, ast.Constant) and str(key.value).startswith("errors.")):
                continue
            checked += 1
            used = _fields(english[key.value]) | _fields(chinese[key.value])
            if used != given:
                wrong[f"{path.relative_to(ROOT)}:{node.lineno}"] = (key.value, used, given)
    assert checked > 100
    assert not wrong
