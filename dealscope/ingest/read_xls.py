"""Legacy Excel (.xls, BIFF in an OLE container) reader: one sheet's cells as the same grid the
XLSX reader builds, so read_xlsx lays out headers, merged cells and hidden rows for both.

xlrd parses the binary records only: it never runs macros or evaluates formulas (a formula cell
holds the result Excel cached when it saved the file). Cells become the Python values openpyxl
would give for the same workbook saved as .xlsx — text, int for whole numbers, float, datetime,
bool, the error text (#N/A) — column by column with numpy, not cell by cell.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xlrd
from openpyxl.worksheet.cell_range import CellRange

from dealscope.ingest.errors import FileTypeError, NoDataError, UploadError
from dealscope.ingest.limits import MAX_COLUMNS, MAX_ROWS, limit_error, sheet_label

# Excel's day 0 per date system (xlrd's datemode 0 = 1900, 1 = 1904). The 1900 system counts a
# 29 February 1900 that never was, so serials below 60 are one day later than this origin says.
_ORIGINS = {0: pd.Timestamp("1899-12-30"), 1: pd.Timestamp("1904-01-01")}
_FAKE_LEAP_DAY = 60


@dataclass
class XlsSheet:
    """One sheet of a .xls workbook: `grid` rows 1..last row with a value, each `width` long
    (None for an empty cell), `values` cells holding one; merged ranges; hidden sheet rows
    (1-based); the workbook's sheets."""

    title: str
    grid: list[list]
    width: int
    values: int
    merged: list[CellRange]
    hidden_rows: list[int]
    sheets: list[str]
    epoch: str


def _open(data: bytes, filename: str):
    """The workbook, loaded sheet by sheet on demand; formatting records too (hidden rows and
    merged ranges live there) when the file's BIFF version has them."""
    # xlrd prints its repairs of damaged files ("File is truncated …") to stdout by default,
    # which is the server's log: they go to a sink; the outcome (read or refused) is what counts.
    options = {"file_contents": data, "on_demand": True, "logfile": io.StringIO(), "verbosity": 0}
    try:
        try:
            return xlrd.open_workbook(formatting_info=True, **options)
        except NotImplementedError:  # BIFF before Excel 97: no formatting records to read
            return xlrd.open_workbook(**options)
    except Exception as exc:  # xlrd raises many types for broken or foreign OLE files
        if "encrypted" in str(exc).lower():
            raise FileTypeError(key="errors.ingest.encrypted_xls", file=filename) from exc
        raise FileTypeError(
            key="errors.ingest.xls_unreadable", file=filename, detail=f"{type(exc).__name__}: {exc}"
        ) from exc


def xls_sheet_names(data: bytes, filename: str) -> list[str]:
    """The sheet names of a .xls workbook (visible ones first), for the sheet picker."""
    book = _open(data, filename)
    try:
        names = book.sheet_names()
        hidden = [book.sheet_by_index(i).visibility != 0 for i in range(book.nsheets)]
    except UploadError:
        raise
    except Exception as exc:
        raise FileTypeError(
            key="errors.ingest.xls_workbook_unreadable", file=filename, detail=str(exc)
        ) from exc
    finally:
        book.release_resources()
    return [name for _, name in sorted(zip(hidden, names, strict=True), key=lambda p: p[0])]


def _column_values(sheet, column: int, datemode: int) -> np.ndarray:
    """One column's cells as Python values (object array), converted by cell type at once."""
    types = np.asarray(sheet.col_types(column), dtype="int64")
    raw = np.asarray(sheet.col_values(column), dtype=object)
    out = np.full(len(raw), None, dtype=object)
    text = types == xlrd.XL_CELL_TEXT
    out[text] = raw[text]
    number = types == xlrd.XL_CELL_NUMBER
    if number.any():
        values = raw[number].astype("float64")
        whole = np.isfinite(values) & (values == np.round(values)) & (np.abs(values) < 2**53)
        converted = values.astype(object)
        converted[whole] = values[whole].astype("int64").astype(object)
        out[number] = converted
    date = types == xlrd.XL_CELL_DATE
    if date.any():
        serial = raw[date].astype("float64")
        if datemode == 0:
            serial = serial + (serial < _FAKE_LEAP_DAY)
        stamps = _ORIGINS[datemode] + pd.to_timedelta(np.round(serial * 86_400_000), unit="ms")
        out[date] = np.asarray(stamps.to_pydatetime(), dtype=object)
    boolean = types == xlrd.XL_CELL_BOOLEAN
    out[boolean] = raw[boolean].astype(bool)
    error = types == xlrd.XL_CELL_ERROR
    if error.any():
        codes = pd.Series(raw[error].astype("int64"))
        out[error] = codes.map(xlrd.error_text_from_code).fillna("#ERROR").to_numpy(dtype=object)
    return out


def read_xls_sheet(data: bytes, filename: str, sheet: str | None = None) -> XlsSheet:
    """One sheet of a .xls workbook as a grid (the first visible sheet unless `sheet` names one)."""
    book = _open(data, filename)
    try:
        names = book.sheet_names()
        if sheet is None:
            visible = [i for i in range(book.nsheets) if book.sheet_by_index(i).visibility == 0]
            ws = book.sheet_by_index((visible or [0])[0])
        elif sheet in names:
            ws = book.sheet_by_name(sheet)
        else:
            raise UploadError(
                key="errors.ingest.no_such_sheet", file=filename, sheet=sheet, sheets=names
            )
        label = sheet_label(filename, ws.name)
        if ws.nrows > MAX_ROWS:
            raise limit_error(label, "row_count", ws.nrows, MAX_ROWS, "rows", "split_sheet")
        if ws.ncols > MAX_COLUMNS:
            raise limit_error(
                label, "column_count", ws.ncols, MAX_COLUMNS, "columns", "delete_right_columns"
            )
        columns = [_column_values(ws, c, book.datemode) for c in range(ws.ncols)]  # per column
        merged = [
            CellRange(min_col=c0 + 1, min_row=r0 + 1, max_col=c1, max_row=r1)
            for r0, r1, c0, c1 in ws.merged_cells
        ]
        hidden = sorted(r + 1 for r, info in ws.rowinfo_map.items() if info.hidden)
        epoch = "1904" if book.datemode == 1 else "1900"
        title = ws.name
    except UploadError:
        raise
    except Exception as exc:  # broken records inside an otherwise valid container
        raise FileTypeError(
            key="errors.ingest.xls_sheet_unreadable",
            file=filename,
            detail=f"{type(exc).__name__}: {exc}",
        ) from exc
    finally:
        book.release_resources()
    if not columns:
        raise NoDataError(key="errors.ingest.empty_sheet", label=sheet_label(filename, title))
    cells = np.column_stack(columns)
    frame = pd.DataFrame(cells, dtype=object)
    filled = (frame.notna() & frame.ne("")).to_numpy()
    used_rows = np.flatnonzero(filled.any(axis=1))
    used_cols = np.flatnonzero(filled.any(axis=0))
    if not len(used_rows):
        raise NoDataError(key="errors.ingest.empty_sheet", label=sheet_label(filename, title))
    last_row, width = int(used_rows[-1]) + 1, int(used_cols[-1]) + 1
    grid = cells[:last_row, :width].tolist()
    return XlsSheet(title, grid, width, int(filled.sum()), merged, hidden, names, epoch)
