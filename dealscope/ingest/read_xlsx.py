"""XLSX reader: safety checks before parsing, sheet choice, header below title rows, merged
two-row headers flattened, hidden rows and formulas without cached values flagged."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import openpyxl
import openpyxl.xml
import pandas as pd
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from dealscope.ingest.errors import FileTypeError, LimitExceeded, NoDataError, UploadError
from dealscope.ingest.limits import (
    HEADER_SCAN_ROWS,
    MAX_COLUMNS,
    MAX_ROWS,
    MAX_XLSX_COMPRESSION_RATIO,
    MAX_XLSX_ENTRIES,
    MAX_XLSX_UNCOMPRESSED_BYTES,
    limit_message,
)
from dealscope.ingest.rawtable import (
    EXCLUDED,
    RawTable,
    find_header_row,
    normalise_headers,
    settled_frame,
)

STRING = pd.StringDtype("pyarrow")
FLAG_COLUMNS = ("row", "column", "code", "value")


def check_xlsx_archive(data: bytes, filename: str) -> None:
    """Refuse zip bombs and non-workbooks before any XML is parsed (RELIABILITY E11, S4)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileTypeError(f"{filename}: not a valid .xlsx (damaged ZIP: {exc}).") from exc
    fix = "Re-save the workbook in Excel with only the sheet you need, or export it as .csv."
    if len(infos) > MAX_XLSX_ENTRIES:
        raise LimitExceeded(
            f"{filename}: "
            + limit_message("The entry count", len(infos), MAX_XLSX_ENTRIES, "entries", fix)
        )
    total = sum(info.file_size for info in infos)
    if total > MAX_XLSX_UNCOMPRESSED_BYTES:
        raise LimitExceeded(
            f"{filename}: "
            + limit_message(
                "The uncompressed size",
                total / 2**20,
                MAX_XLSX_UNCOMPRESSED_BYTES / 2**20,
                "MB",
                fix,
            )
        )
    ratio = total / max(len(data), 1)
    if ratio > MAX_XLSX_COMPRESSION_RATIO:
        raise LimitExceeded(
            f"{filename}: "
            + limit_message("The compression ratio", ratio, MAX_XLSX_COMPRESSION_RATIO, ": 1", fix)
        )
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise FileTypeError(
            f"{filename}: file type mismatch — a ZIP archive but not an Excel workbook."
        )
    if not openpyxl.xml.DEFUSEDXML:
        raise UploadError("defusedxml is not installed; XLSX uploads are disabled for safety.")


def _load(data: bytes, filename: str, **options):
    try:
        return openpyxl.load_workbook(io.BytesIO(data), **options)
    except UploadError:
        raise
    except Exception as exc:  # openpyxl/defusedxml raise many types for hostile or broken files
        raise FileTypeError(
            f"{filename}: the workbook cannot be read ({type(exc).__name__}: {exc}). "
            "Open it in Excel and save it again as .xlsx, or export a .csv."
        ) from exc


def list_sheets(data: bytes, filename: str) -> list[str]:
    """The sheet names of a workbook (visible ones first), for the sheet picker."""
    check_xlsx_archive(data, filename)
    workbook = _load(data, filename, read_only=True)
    sheets = [(ws.sheet_state != "visible", ws.title) for ws in workbook.worksheets]
    workbook.close()
    return [title for _, title in sorted(sheets, key=lambda item: item[0])]


def _text(values: pd.Series) -> pd.Series:
    """Cell objects -> text: numbers, dates (ISO) and booleans as Python writes them; None -> ''."""
    return values.astype(str).where(values.notna(), "").astype(STRING)


def _merged_fill(ws, grid: list[list], top: int, bottom: int) -> None:
    """Copy each merged range's top-left value into its other cells, within rows top..bottom."""
    for merged in ws.merged_cells.ranges:
        value = (
            grid[merged.min_row - 1][merged.min_col - 1] if merged.min_row - 1 < len(grid) else None
        )
        for row in range(max(merged.min_row, top), min(merged.max_row, bottom) + 1):
            for col in range(merged.min_col, merged.max_col + 1):
                if row - 1 < len(grid) and col - 1 < len(grid[row - 1]):
                    grid[row - 1][col - 1] = value


def _flatten_two_row_header(ws, grid, header_index: int) -> tuple[list, bool]:
    """group/field names when the row above the header is a merged group row (X2)."""
    if header_index == 0:
        return list(grid[0]), False
    above = header_index  # 1-based sheet row of the row above the header
    spans = [m for m in ws.merged_cells.ranges if m.min_row <= above <= m.max_row]
    horizontal = [m for m in spans if m.max_col > m.min_col and m.max_row == above]
    vertical = [m for m in spans if m.max_row >= above + 1]
    filled_above = [c for c in grid[header_index - 1] if c not in (None, "")]
    if not horizontal or not (vertical or len(filled_above) >= 2):
        return list(grid[header_index]), False
    _merged_fill(ws, grid, above, above + 1)
    names = []
    for group, leaf in zip(grid[header_index - 1], grid[header_index], strict=False):
        group_text = "" if group is None else str(group).strip()
        leaf_text = "" if leaf is None else str(leaf).strip()
        if group_text and leaf_text and group_text != leaf_text:
            names.append(f"{group_text}/{leaf_text}")
        else:
            names.append(leaf_text or group_text)
    return names, True


def read_xlsx_bytes(data: bytes, filename: str, sheet: str | None = None) -> RawTable:
    """Read one sheet of a workbook into a RawTable (rows numbered as in Excel)."""
    check_xlsx_archive(data, filename)
    workbook = _load(data, filename, data_only=True)
    sheets = [ws.title for ws in workbook.worksheets]
    if sheet is None:
        visible = [ws for ws in workbook.worksheets if ws.sheet_state == "visible"]
        ws = (visible or workbook.worksheets)[0]
    elif sheet in sheets:
        ws = workbook[sheet]
    else:
        raise UploadError(f"{filename}: no sheet named {sheet!r}; the sheets are {sheets}.")
    if ws.max_row > MAX_ROWS:
        raise LimitExceeded(
            f"{filename} [{ws.title}]: "
            + limit_message(
                "The row count", ws.max_row, MAX_ROWS, "rows", "Split the sheet by date range."
            )
        )
    grid = [list(row) for row in ws.iter_rows(min_row=1, values_only=True)]
    if not grid or not any(v not in (None, "") for row in grid for v in row):
        raise NoDataError(f"{filename} [{ws.title}]: the sheet is empty — there are no data rows.")
    width = max(len(row) for row in grid)
    if width > MAX_COLUMNS:
        raise LimitExceeded(
            f"{filename}: "
            + limit_message(
                "The column count", width, MAX_COLUMNS, "columns", "Remove unused columns."
            )
        )
    grid = [row + [None] * (width - len(row)) for row in grid]
    header_index = find_header_row(grid[:HEADER_SCAN_ROWS])
    raw_headers, two_rows = _flatten_two_row_header(ws, grid, header_index)
    title_rows = header_index - (1 if two_rows else 0)
    settled = [
        (r + 1, EXCLUDED, "title-row" if any(v not in (None, "") for v in grid[r]) else "blank-row",
         None, " ".join(str(v) for v in grid[r] if v not in (None, "")))
        for r in range(title_rows)
    ]  # fmt: skip
    first_data = header_index + 1
    _merged_fill(ws, grid, first_data + 1, len(grid))
    headers, notes = normalise_headers(raw_headers)
    if two_rows:
        notes.append(
            f"two-row header (rows {header_index}-{header_index + 1}) flattened to group/field"
        )
    body = pd.DataFrame(grid[first_data:], columns=range(width), dtype=object)
    frame = pd.DataFrame({name: _text(body[i]) for i, name in enumerate(headers)})
    lines = np.arange(first_data + 1, len(grid) + 1, dtype=np.int64)
    flags = _cell_flags(data, filename, ws, body, headers, first_data)
    epoch = "1904" if workbook.epoch == CALENDAR_MAC_1904 else "1900"
    if frame.empty and not settled:
        raise NoDataError(f"{filename} [{ws.title}]: the sheet has a header but no data rows.")
    return RawTable(
        file=filename,
        kind="xlsx",
        data=frame,
        lines=lines,
        settled=settled_frame(settled),
        rows_in=len(frame) + title_rows,
        headers=headers,
        sheet=ws.title,
        notes=notes,
        cell_flags=flags,
        date_epoch=epoch,
        sheets=sheets,
    )


def _cell_flags(data, filename, ws, body: pd.DataFrame, headers, first_data) -> pd.DataFrame:
    """Hidden (filtered) rows and formula cells that have no cached value (X9, X10)."""
    rows: list[tuple] = []
    hidden = [r for r, dim in ws.row_dimensions.items() if dim.hidden and r > first_data]
    rows += [
        (r - first_data - 1, None, "hidden-row", None)
        for r in hidden
        if r - first_data - 1 < len(body)
    ]
    sheet_xml = f"xl/worksheets/sheet{ws.parent.worksheets.index(ws) + 1}.xml"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        # The part is usually sheetN.xml, but writers may name it otherwise: then any worksheet
        # part with a formula sends us to the (slower) formula check, never to silence.
        parts = [sheet_xml] if sheet_xml in names else [
            n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml")
        ]  # fmt: skip
        has_formula = any(b"<f" in archive.read(part) for part in parts)
    if has_formula:
        formulas = _load(data, filename, read_only=True, data_only=False)[ws.title]
        grid = list(formulas.iter_rows(min_row=first_data + 1, values_only=True))
        for offset, row in enumerate(grid[: len(body)]):
            for col, value in enumerate(row[: len(headers)]):
                if (
                    isinstance(value, str)
                    and value.startswith("=")
                    and body.iat[offset, col] is None
                ):
                    ref = f"{openpyxl.utils.get_column_letter(col + 1)}{first_data + offset + 1}"
                    rows.append((offset, headers[col], "formula-not-evaluated", f"{ref} {value}"))
    return pd.DataFrame(rows, columns=list(FLAG_COLUMNS))
