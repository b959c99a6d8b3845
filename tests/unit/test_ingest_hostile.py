"""Issue 16 item 3: small hostile files are refused before allocation, within the per-upload
budget (peak RSS growth ≤ max(10 × the file size, 200 MB), measured in a fresh interpreter by
test_ingest_memory.measure), and formula cells are flagged whatever the sheet part is called."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest

from dealscope.ingest import limits
from dealscope.ingest.errors import LimitExceeded
from dealscope.ingest.read_csv import read_csv_bytes
from dealscope.ingest.read_xlsx import read_xlsx_bytes
from tests.unit.ingest_fixtures import csv_bytes, xlsx_bytes
from tests.unit.test_ingest_memory import measure

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/status").exists(), reason="RSS is read from Linux's /proc"
)


def budget_mb(path: Path) -> float:
    """docs/INGEST.md: a refused upload peaks at most max(10 × its size, 200 MB) above baseline."""
    return max(10 * path.stat().st_size, limits.REFUSAL_MAX_MEMORY_BYTES) / limits.MB


def _workbook(cells: dict[str, object]) -> bytes:
    workbook = openpyxl.Workbook()
    for ref, value in cells.items():
        workbook.active[ref] = value
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_one_cell_at_xfd1048576_is_refused_within_budget(tmp_path):
    path = tmp_path / "far.xlsx"
    path.write_bytes(_workbook({"A1": "id", "B1": "stage", "XFD1048576": "x"}))
    assert path.stat().st_size < 10_000  # the 5 KB file of the report
    figures = measure(path)
    assert figures.get("error") == "LimitExceeded", figures
    assert "column count is 16,384 columns" in figures["message"], figures
    print(path.name, figures)
    assert figures["growth_mb"] < budget_mb(path), figures


def test_one_cell_at_a1048576_is_refused_within_budget(tmp_path):
    path = tmp_path / "tall.xlsx"
    path.write_bytes(_workbook({"A1": "id", "B1": "stage", "A1048576": "x"}))
    figures = measure(path)
    assert figures.get("error") == "LimitExceeded", figures
    assert "1,048,576 rows × 2 columns but only 3 cells hold values" in figures["message"]
    print(path.name, figures)
    assert figures["growth_mb"] < budget_mb(path), figures


def test_a_merge_over_the_whole_sheet_costs_nothing_beyond_the_data(tmp_path):
    path = tmp_path / "merge.xlsx"
    # openpyxl's merge_cells would create every merged cell: write the <mergeCells> XML directly.
    data = xlsx_bytes([["id", "stage"], ["1", "Won"], ["2", "Lost"]], merges=("A2:B3",))
    path.write_bytes(_replace_in_sheet(data, b'ref="A2:B3"', b'ref="A2:XFD1048576"'))
    figures = measure(path)
    assert "error" in figures or figures.get("loaded") is not None, figures
    print(path.name, figures)
    assert figures["growth_mb"] < budget_mb(path), figures


def test_a_1_mb_header_name_is_refused_within_budget(tmp_path):
    path = tmp_path / "header.csv"
    path.write_bytes(csv_bytes([["id", "N" * 1_100_000], *[[str(i), "x"] for i in range(6000)]]))
    figures = measure(path)
    assert figures.get("error") == "LimitExceeded", figures
    assert figures["message"] == (
        "header.csv: column 2: The header name is 999,997 characters, above the limit of "
        f"{limits.MAX_HEADER_CHARS} characters. Shorten the column name in the header row and "
        "save again."
    )  # the header scan sees the first 1,000,000 characters of the text, "id," included
    print(path.name, figures)
    assert figures["growth_mb"] < budget_mb(path), figures


def test_a_150_kb_header_over_many_rows_is_refused_within_budget(tmp_path):
    path = tmp_path / "header2.csv"
    path.write_bytes(csv_bytes([["id", "H" * 150_000], *[[str(i), ""] for i in range(1500)]]))
    assert path.stat().st_size < 170_000
    figures = measure(path)
    assert figures.get("error") == "LimitExceeded", figures
    assert "header name is 150,000 characters" in figures["message"], figures
    print(path.name, figures)
    assert figures["growth_mb"] < budget_mb(path), figures


def test_header_name_at_the_cap_loads():
    name = "N" * limits.MAX_HEADER_CHARS
    table = read_csv_bytes(csv_bytes([["id", name], ["1", "x"]]), "ok.csv")
    assert table.headers == ["id", name]


def test_a_cell_above_the_cap_is_refused_with_its_column():
    data = csv_bytes([["id", "notes"], ["1", "x" * (limits.MAX_CELL_CHARS + 1)]])
    with pytest.raises(LimitExceeded, match=r"column 'notes': The longest cell is 2,000,001"):
        read_csv_bytes(data, "long.csv")


def test_headers_repeated_over_many_rows_are_refused():
    # 200-character names × 2 columns × 120,000 rows = 48M characters > max(40M, 16 × ~0.7 MB)
    rows = [["a" * 200, "b" * 200], *[["1", ""] for _ in range(120_000)]]
    data = csv_bytes(rows)
    with pytest.raises(LimitExceeded, match="header names repeated over every row"):
        read_csv_bytes(data, "wide_names.csv")


def _replace_in_sheet(data: bytes, old: bytes, new: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                assert old in content
                content = content.replace(old, new)
            archive.writestr(info.filename, content)
    return out.getvalue()


def _rename_sheet_part(data: bytes, new_name: str) -> bytes:
    """The same workbook with its sheet part stored as xl/worksheets/<new_name> (as LibreOffice
    and other writers may name it); the relationship follows."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for info in source.infolist():
            content = source.read(info.filename)
            name = info.filename
            if name == "xl/worksheets/sheet1.xml":
                name = f"xl/worksheets/{new_name}"
            content = content.replace(b"worksheets/sheet1.xml", f"worksheets/{new_name}".encode())
            archive.writestr(name, content)
    return out.getvalue()


def test_uncached_formula_flagged_when_the_sheet_part_has_another_name():
    data = _rename_sheet_part(
        xlsx_bytes([["id", "amount"], ["a", "=1+1"], ["b", "5"]]), "data_part.xml"
    )
    assert "xl/worksheets/sheet1.xml" not in zipfile.ZipFile(io.BytesIO(data)).namelist()
    table = read_xlsx_bytes(data, "renamed.xlsx")
    flags = table.cell_flags
    assert flags.to_dict("records") == [
        {"row": 0, "column": "amount", "code": "formula-not-evaluated", "value": "B2 =1+1"}
    ]
    assert table.data["amount"].tolist() == ["", "5"]


def test_a_row_of_thousands_of_cells_is_refused_as_its_cells_open():
    data = xlsx_bytes([["id", "stage"], ["1", "Won"]])
    wide_row = b'<row r="3">' + b"<c/>" * 5000 + b"</row></sheetData>"
    data = _replace_in_sheet(data, b"</sheetData>", wide_row)
    with pytest.raises(LimitExceeded, match="The column count is 2,001 columns"):
        read_xlsx_bytes(data, "wide.xlsx")
