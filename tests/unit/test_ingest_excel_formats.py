"""Every workbook type the uploader offers is read (issue 13): .xlsx, .xlsm (the same format with
a VBA part that is never run) and legacy .xls (through xlrd). The reference for each is the XLSX
reader on the same cells; anything else gets one clear line."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import xlwt

from dealscope.ingest.errors import FileTypeError
from dealscope.ingest.read_xlsx import list_sheets, read_xlsx_bytes
from tests.unit.ingest_fixtures import conserved, csv_bytes, run, xlsx_bytes

ROWS = [
    ["商机编号", "商机名称", "负责人", "商机金额", "商机阶段", "创建时间", "结单日期", "是否重点"],
    ["001", "甲", "王伟", 125000, "赢单", dt.datetime(2024, 3, 5), dt.datetime(2024, 4, 1), True],
    ["002", "乙", "李娜", 8000.5, "输单", dt.datetime(2024, 3, 6), dt.datetime(2024, 3, 20), False],
    ["003", "丙", "李娜", 42, "方案提交", dt.datetime(2024, 3, 7, 9, 30), None, None],
]  # fmt: skip
ROOT = Path(__file__).resolve().parents[2]
DATE = xlwt.easyxf(num_format_str="YYYY-MM-DD HH:MM")


def xls_bytes(rows, *, sheet="Deals", hidden_rows=(), epoch_1904=False, extra_sheets=None) -> bytes:
    """A BIFF8 .xls written by xlwt (cells as given; datetimes with a date format)."""
    book = xlwt.Workbook()
    book.dates_1904 = epoch_1904
    for name, content in {sheet: rows, **(extra_sheets or {})}.items():
        ws = book.add_sheet(name)
        for r, row in enumerate(content):
            for c, value in enumerate(row):
                if value is None:
                    continue
                ws.write(
                    r,
                    c,
                    value,
                    DATE if isinstance(value, dt.datetime) else xlwt.Style.default_style,
                )
        for r in hidden_rows if name == sheet else ():
            ws.row(r - 1).hidden = True
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def as_xlsm(data: bytes) -> bytes:
    """The workbook as Excel saves a macro-enabled one: the macro content type and a VBA part."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "[Content_Types].xml":
                content = content.replace(
                    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                )
            archive.writestr(info.filename, content)
        archive.writestr("xl/vbaProject.bin", b'Attribute VB_Name = "Evil"\nShell "rm -rf /"')
    return buffer.getvalue()


def test_xls_reads_like_the_same_cells_in_xlsx():
    legacy = read_xlsx_bytes(xls_bytes(ROWS), "deals.xls")
    modern = read_xlsx_bytes(xlsx_bytes(ROWS), "deals.xlsx")
    pd.testing.assert_frame_equal(legacy.data, modern.data)
    assert legacy.lines.tolist() == modern.lines.tolist() == [2, 3, 4]
    assert legacy.headers == modern.headers and legacy.kind == "xls"
    # Whole numbers without ".0", dates as the XLSX reader writes them, booleans as words.
    assert legacy.data["商机金额"].tolist() == ["125000", "8000.5", "42"]
    assert legacy.data["创建时间"].tolist()[2] == "2024-03-07 09:30:00"
    assert legacy.data["是否重点"].tolist() == ["True", "False", ""]


def test_xls_and_xlsm_load_through_the_whole_pipeline():
    for name, data in (("d.xls", xls_bytes(ROWS)), ("d.xlsm", as_xlsm(xlsx_bytes(ROWS)))):
        result = run({name: data})
        assert conserved(result) and result.files[0].rows_loaded == 3, name
        opps = result.opportunities.set_index("opportunity_id")
        assert opps.loc["001", "amount"] == 125000 and opps.loc["001", "status"] == "won", name
        assert opps.loc["002", "closed_at"] == pd.Timestamp("2024-03-20"), name


def test_xls_sheets_hidden_rows_and_the_1904_date_system():
    other = [["x"], ["1"]]
    data = xls_bytes(ROWS, hidden_rows=(3,), epoch_1904=True, extra_sheets={"Notes": other})
    assert list_sheets(data, "d.xls") == ["Deals", "Notes"]
    raw = read_xlsx_bytes(data, "d.xls")
    assert raw.date_epoch == "1904" and raw.sheets == ["Deals", "Notes"]
    # The date is the same day whichever date system the workbook counts in.
    assert raw.data["创建时间"].tolist()[0] == "2024-03-05 00:00:00"
    flags = raw.cell_flags
    assert flags.loc[flags["code"].eq("hidden-row"), "row"].tolist() == [1]  # sheet row 3
    assert read_xlsx_bytes(data, "d.xls", sheet="Notes").data["x"].tolist() == ["1"]


def test_xlsm_macros_are_never_run_and_the_data_is_read():
    raw = read_xlsx_bytes(as_xlsm(xlsx_bytes(ROWS)), "macro.xlsm")
    assert raw.data["商机编号"].tolist() == ["001", "002", "003"]


@pytest.mark.parametrize(
    ("name", "data", "match"),
    [
        ("locked.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "password-protected"),
        ("broken.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "not a readable .xls"),
        ("page.xls", b"\xef\xbb\xbf<html><table><tr><td>1</td></tr></table></html>", "web page"),
        ("fake.xlsm", b"id,stage\n1,Won\n", "not an Excel workbook"),
    ],
)
def test_what_cannot_be_read_says_so_in_one_line(name, data, match):
    with pytest.raises(FileTypeError, match=match) as caught:
        run({name: data})
    assert "\n" not in str(caught.value) and name in str(caught.value)


def test_a_tab_separated_export_named_xls_reads_as_text():
    data = csv_bytes([["商机编号", "商机阶段"], ["001", "赢单"]], delimiter="\t")
    result = run({"crm-export.xls": data})
    assert result.opportunities["opportunity_id"].tolist() == ["001"]


def test_a_damaged_xls_is_refused_without_writing_to_the_server_log(tmp_path):
    """xlrd reports its repairs on stdout by default (the server's log), through the stdout it
    saw at import: a fresh interpreter shows what a server would print."""
    data = bytearray(xls_bytes(ROWS))
    data[0x4C:0x50] = b"\xff\xff\xff\x7f"  # the first FAT sector: far past the file's end
    path = tmp_path / "d.xls"
    path.write_bytes(bytes(data))
    script = (
        "import pathlib, sys\n"
        "from dealscope.ingest.errors import FileTypeError\n"
        "from dealscope.ingest.read_xlsx import read_xlsx_bytes\n"
        "try:\n"
        f"    read_xlsx_bytes(pathlib.Path({str(path)!r}).read_bytes(), 'd.xls')\n"
        "except FileTypeError as exc:\n"
        "    sys.stderr.write('refused: ' + str(exc))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout == ""
    assert done.stderr.startswith("refused: d.xls")
