"""RELIABILITY.md §5.1 (E1–E12) and §5.2 (X1–X13): file- and structure-level bad inputs."""

from __future__ import annotations

import codecs
import io
import time
import zipfile

import pandas as pd
import pytest

from dealscope.ingest import limits
from dealscope.ingest.errors import (
    CsvStructureError,
    EncodingProblem,
    FileTypeError,
    LimitExceeded,
    MappingError,
    NoDataError,
)
from dealscope.ingest.read_xlsx import list_sheets
from tests.unit.ingest_fixtures import conserved, csv_bytes, reasons, run, xlsx_bytes

BASIC = [
    ["商机编号", "商机名称", "金额", "阶段"],
    ["001", "甲", "100", "赢单"],
    ["002", "乙", "200", "输单"],
]


def test_e1_gbk_csv_is_decoded_as_gb18030_with_a_note():
    result = run({"gbk.csv": csv_bytes(BASIC, "gbk")})
    file = result.files[0]
    assert file.encoding == "gb18030" and "decoded-as-gb18030" in file.notes
    assert [c.source for c in file.columns] == ["商机编号", "商机名称", "金额", "阶段"]


def test_e2_gb18030_characters_outside_gbk_decode():
    rows = [["商机编号", "商机名称", "阶段"], ["001", "𠀀伟项目", "赢单"]]
    data = csv_bytes(rows, "gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("gbk")  # why gb18030 is always used for the GBK family
    assert run({"x.csv": data}).opportunities["name"].tolist() == ["𠀀伟项目"]


def test_e3_utf8_bom_is_stripped_from_the_first_header():
    file = run({"bom.csv": csv_bytes(BASIC, "utf-8-sig")}).files[0]
    assert file.columns[0].source == "商机编号" and file.columns[0].target == "opportunity_id"


def test_e4_utf16_tab_export_detected_by_bom():
    data = codecs.BOM_UTF16_LE + "商机编号\t阶段\r\n001\t赢单\r\n".encode("utf-16-le")
    file = run({"u16.csv": data}).files[0]
    assert (file.encoding, file.delimiter, file.rows_loaded) == ("utf-16", "\t", 1)


def test_e5_truncated_utf8_is_refused_with_byte_offset_and_line():
    data = "商机编号,阶段\n001,赢单\n002,输".encode()[:-1]
    with pytest.raises(EncodingProblem, match=r"byte \d+ \(line 3\)"):
        run({"cut.csv": data})


def test_e5_latin1_byte_in_gbk_file_is_refused_then_loads_with_explicit_encoding():
    data = (
        csv_bytes(BASIC, "gbk")
        + "003,caf\xe9,1,赢单\r\n".encode("latin-1", errors="ignore")[:-12]
        + b"\xe9\r\n"
    )
    with pytest.raises(EncodingProblem, match="gb18030"):
        run({"mixed.csv": data})
    plain = "id,name,stage\r\n1,caf\xe9,Won\r\n".encode("latin-1")
    loaded = run({"l1.csv": plain}, encodings={"l1.csv": "latin-1"})
    assert loaded.opportunities["name"].tolist() == ["café"]


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_e6_delimiters_inferred(delimiter):
    rows = [["id", "name", "amount", "stage"], ["1", "a", "1,5", "Won"], ["2", "b", "2,5", "Lost"]]
    file = run({"d.csv": csv_bytes(rows, delimiter=delimiter)}).files[0]
    assert file.delimiter == delimiter and file.rows_loaded == 2


def test_e6_excel_sep_line_is_consumed():
    result = run({"sep.csv": b"sep=;\r\nid;stage\r\n1;Won\r\n2;Lost\r\n"})
    assert result.files[0].delimiter == ";" and result.files[0].rows_in == 2
    assert result.opportunities["opportunity_id"].tolist() == ["1", "2"]


def test_e7_rfc4180_quotes_newlines_and_physical_lines():
    data = b'id,name,stage\r\n1,"two\r\nline ""quoted"" name",Won\r\n2,b,Lost,extra\r\n'
    result = run({"q.csv": data})
    assert result.opportunities["name"].tolist() == ['two\r\nline "quoted" name']
    assert reasons(result, "rejected") == [
        (4, "extra-cell")
    ]  # physical line, after the 2-line record


@pytest.mark.parametrize("end", ["", "\n"])
def test_e7_physical_lines_with_and_without_a_final_newline(end):
    text = 'id,name,stage\n1,a,Won\n2,"x\ny\nz",Won\n3,c\n4,d,Won\n5,e,Lost,more' + end
    result = run({"q.csv": text.encode()})
    assert reasons(result, "rejected") == [(6, "missing-cell"), (8, "extra-cell")]
    plain = "id,name,stage\n1,a,Won\n2,b\n3,c,Won" + end  # no cell spans lines
    assert reasons(run({"p.csv": plain.encode()}), "rejected") == [(3, "missing-cell")]


def test_e7_unbalanced_quote_points_at_the_line_where_it_opened():
    data = b'id,name,stage\n1,a,Won\n2,"b,Lost\n3,c,Won\n4,d,Won\n'
    with pytest.raises(CsvStructureError, match="line 3"):
        run({"bad.csv": data})


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"id,name,stage\r\n"])
def test_e8_empty_and_header_only_files(data):
    with pytest.raises(NoDataError, match="no data rows"):
        run({"empty.csv": data})


def test_e9_signature_mismatch():
    with pytest.raises(FileTypeError, match="mismatch"):
        run({"fake.xlsx": b"id,stage\n1,Won\n"})
    with pytest.raises(FileTypeError, match="mismatch"):
        run({"fake.csv": xlsx_bytes([["id", "stage"], ["1", "Won"]])})


def test_e10_upload_size_and_row_limits(monkeypatch):
    monkeypatch.setattr("dealscope.ingest.pipeline.MAX_UPLOAD_BYTES", 100)
    with pytest.raises(LimitExceeded, match="file size"):
        run({"big.csv": csv_bytes([["id", "stage"]] + [[str(i), "Won"] for i in range(50)])})
    monkeypatch.undo()
    monkeypatch.setattr("dealscope.ingest.read_csv.MAX_ROWS", 10)
    with pytest.raises(LimitExceeded, match="limit of 10 lines"):
        run({"rows.csv": csv_bytes([["id", "stage"]] + [[str(i), "Won"] for i in range(50)])})


def test_e11_zip_bomb_refused_quickly_before_parsing():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (50 * limits.MB))
    started = time.perf_counter()
    with pytest.raises(LimitExceeded, match="compression ratio"):
        run({"bomb.xlsx": buffer.getvalue()})
    assert time.perf_counter() - started < 2


def test_e11_billion_laughs_in_workbook_xml_refused():
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes([["id", "stage"], ["a", "Won"]])))
    doctype = (
        '<!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                head, _, body = data.decode().partition("?>")
                data = (head + "?>" + doctype + body).encode()
            archive.writestr(info.filename, data)
    with pytest.raises(FileTypeError, match="cannot be read"):
        run({"laughs.xlsx": buffer.getvalue()})


@pytest.mark.parametrize(
    ("name", "data", "match"),
    [
        ("locked.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "password"),
        # An OLE container that is no .xls workbook (real .xls and .xlsm files are read since
        # issue 13: tests/unit/test_ingest_excel_formats.py).
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "xls"),
    ],
)
def test_e12_unsupported_workbooks(name, data, match):
    data = data if data is not None else xlsx_bytes([["id", "stage"], ["1", "Won"]])
    with pytest.raises(FileTypeError, match=match):
        run({name: data})


def test_x1_title_rows_above_the_header_are_excluded():
    rows = [["商机导出 2024年3月"], [], *BASIC]
    result = run({"t.csv": csv_bytes(rows)})
    assert reasons(result, "excluded") == [(1, "title-row"), (2, "blank-row")]
    assert result.files[0].rows_in == 4 and conserved(result)


@pytest.mark.parametrize("label", ["合计", "总计", "小计", "Total", "Grand Totals", "Subtotal"])
def test_x3_total_rows_excluded_not_double_counted(label):
    rows = [*BASIC, [label, "", "300", ""]]
    result = run({"t.csv": csv_bytes(rows)})
    assert reasons(result, "excluded") == [(4, "total-row")]
    assert result.opportunities["amount"].sum() == 300


def test_x4_blank_rows_excluded():
    data = "商机编号,阶段\r\n001,赢单\r\n\r\n   \r\n,\r\n002,输单\r\n\r\n".encode()
    result = run({"b.csv": data})
    assert reasons(result, "excluded") == [
        (3, "blank-row"),
        (4, "blank-row"),
        (5, "blank-row"),
        (7, "blank-row"),
    ]
    assert result.files[0].rows_loaded == 2 and conserved(result)


def test_x5_x6_extra_and_missing_cells_rejected_with_lines():
    data = "商机编号,名称,阶段\r\n001,a,赢单\r\n002,b,赢单,多余\r\n003,c\r\n004,d,输单\r\n".encode()
    result = run({"w.csv": data})
    assert reasons(result, "rejected") == [(3, "extra-cell"), (4, "missing-cell")]
    assert result.opportunities["opportunity_id"].tolist() == ["001", "004"]  # never NaN-padded


def test_x7_header_names_made_unique_and_tidy():
    data = "商机编号,金额,金额,,Ｓｔａｇｅ\r\n001,1,2,x,Won\r\n".encode()
    file = run({"h.csv": data}).files[0]
    assert [c.source for c in file.columns] == ["商机编号", "金额", "金额_2", "unnamed_4", "Stage"]
    assert any("金额_2" in note for note in file.notes) and any(
        "unnamed_4" in n for n in file.notes
    )


def test_x8_missing_required_columns_listed_together_and_synonyms():
    with pytest.raises(MappingError) as error:
        run({"m.csv": csv_bytes([["客户名称", "金额"], ["甲", "1"]])})
    # Issue 12: an id is no longer required (ids are generated); a stage or outcome is, and the
    # message names what was found.
    assert "stage or outcome" in str(error.value) and "金额 = amount" in str(error.value)
    rows = [["商机编号", "阶段", "预计签单日期"], ["1", "需求确认", "2024-05-01"]]
    assert run({"s.csv": csv_bytes(rows)}).opportunities["expected_close_at"].iloc[
        0
    ] == pd.Timestamp("2024-05-01")


def test_x9_formula_without_cached_value_is_flagged_not_zero():
    rows = [["商机编号", "金额", "阶段"], ["001", "=SUM(1,2)", "赢单"], ["002", 5, "输单"]]
    result = run({"f.xlsx": xlsx_bytes(rows)})
    assert pd.isna(result.opportunities["amount"].iloc[0])
    flagged = result.report[result.report["reason"] == "formula-not-evaluated"]
    assert (
        flagged["value"].tolist() == ["B2 =SUM(1,2)"]
        and "formula-not-evaluated" in result.opportunities["flags"].iloc[0]
    )


def test_x10_sheet_picker_hidden_rows_flagged():
    data = xlsx_bytes(
        BASIC, hidden_rows=(3,), extra_sheets={"第二页": [["商机编号", "阶段"], ["009", "赢单"]]}
    )
    assert list_sheets(data, "w.xlsx") == ["Sheet1", "第二页"]
    second = run({"w.xlsx": data}, sheets={"w.xlsx": "第二页"})
    assert second.opportunities["opportunity_id"].tolist() == ["009"]
    first = run({"w.xlsx": data})
    assert (3, "hidden-row") in reasons(first, "flagged") and first.files[0].rows_loaded == 2


def test_x11_numbers_stored_as_text_and_real_numbers_both_parse():
    rows = [
        ["商机编号", "金额", "阶段"],
        ["1", 1234.5, "赢单"],
        ["2", "1,234.50", "赢单"],
        ["3", "abc", "赢单"],
    ]
    result = run({"n.xlsx": xlsx_bytes(rows)})
    assert result.opportunities["amount"].tolist()[:2] == [1234.5, 1234.5]
    assert [r for r in reasons(result, "flagged") if r[1] == "bad-amount"] == [(4, "bad-amount")]


def test_x12_many_rows_complete_and_row_cap_is_polite(monkeypatch):
    rows = [["id", "stage", "amount"]] + [[f"{i:06d}", "Won", str(i)] for i in range(100_000)]
    started = time.perf_counter()
    result = run({"big.csv": csv_bytes(rows)})
    assert result.files[0].rows_loaded == 100_000 and time.perf_counter() - started < 20
    monkeypatch.setattr("dealscope.ingest.read_xlsx.MAX_ROWS", 2)
    with pytest.raises(LimitExceeded, match="Split the sheet"):
        run({"cap.xlsx": xlsx_bytes(BASIC)})


def test_x13_wide_file_and_megabyte_cell():
    header = ["id", "stage"] + [f"c{i}" for i in range(600)]
    note = "注" * 1_000_000
    row = ["1", "Won", note] + ["x"] * 599
    result = run({"wide.csv": csv_bytes([header, row])})
    extra = result.opportunities["extra"].iloc[0]
    assert len(extra) > 1_000_000 and '"c599":"x"' in extra
