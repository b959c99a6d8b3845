"""Fixture files for the ingest tests, generated in code (no binary blobs in git)."""

from __future__ import annotations

import codecs
import csv
import io

import openpyxl

from dealscope.ingest.pipeline import SourceFile, ingest_files
from dealscope.ingest.settings import IngestSettings

# Each encoding a CSV export arrives in, with the bytes that mark it.
ENCODINGS = ("utf-8", "utf-8-sig", "gb18030", "utf-16")
NOW = "2026-11-26T00:00:00"


def csv_text(rows: list[list[object]], delimiter: str = ",") -> str:
    """RFC 4180 text of `rows` (quotes only where needed)."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def encode(text: str, encoding: str) -> bytes:
    """Bytes of `text` as an export in `encoding` (utf-16 gets a BOM, as Excel writes it)."""
    if encoding == "utf-16":
        return codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    return text.encode(encoding)


def csv_bytes(rows, encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    return encode(csv_text(rows, delimiter), encoding)


def xlsx_bytes(
    rows: list[list[object]],
    *,
    merges: tuple[str, ...] = (),
    hidden_rows: tuple[int, ...] = (),
    epoch_1904: bool = False,
    sheet: str = "Sheet1",
    extra_sheets: dict[str, list[list[object]]] | None = None,
) -> bytes:
    """A workbook with `rows` on `sheet` (cells as given; strings starting '=' become formulas)."""
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = sheet
    if epoch_1904:
        workbook.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    for row in rows:
        ws.append(row)
    for merged in merges:
        ws.merge_cells(merged)
    for row in hidden_rows:
        ws.row_dimensions[row].hidden = True
    for name, sheet_rows in (extra_sheets or {}).items():
        other = workbook.create_sheet(name)
        for row in sheet_rows:
            other.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def run(files: dict[str, bytes], **settings):
    """Ingest `files` ({name: bytes}) with a fixed clock."""
    options = IngestSettings(now=NOW, **settings)
    return ingest_files([SourceFile(name, data) for name, data in files.items()], options)


def conserved(result) -> bool:
    return all(f.rows_in == f.rows_loaded + f.rows_rejected + f.rows_excluded for f in result.files)


def reasons(result, outcome: str | None = None) -> list[tuple[int, str]]:
    """(line, reason) pairs of the report, optionally for one outcome."""
    report = result.report
    if outcome:
        report = report[report["outcome"] == outcome]
    return [
        (int(line), str(reason))
        for line, reason in zip(report["line"], report["reason"], strict=True)
    ]


def maven_dir():
    """The Maven CRM folder (tests.conftest.MAVEN_DIR)."""
    from tests.conftest import MAVEN_DIR

    return MAVEN_DIR
