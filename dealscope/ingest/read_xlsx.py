"""Excel reader: safety checks before parsing, sheet choice, header below title rows, merged
two-row headers flattened, hidden rows and formulas without cached values flagged.

.xlsx and .xlsm are one format (a .xlsm also carries a VBA part, which openpyxl leaves unread:
macros are never run); legacy .xls (an OLE container) is read by read_xls into the same grid.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

import numpy as np
import openpyxl
import openpyxl.xml
import pandas as pd
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import CALENDAR_MAC_1904
from openpyxl.worksheet import _reader as sheet_reader
from openpyxl.worksheet._reader import FORMULA_TAG, WorkSheetParser
from openpyxl.worksheet.cell_range import CellRange

from dealscope.errors import Text
from dealscope.ingest.errors import FileTypeError, LimitExceeded, NoDataError, UploadError
from dealscope.ingest.limits import (
    HEADER_SCAN_ROWS,
    MAX_COLUMNS,
    MAX_ROWS,
    MAX_XLSX_COMPRESSION_RATIO,
    MAX_XLSX_ENTRIES,
    MAX_XLSX_GRID_CELLS,
    MAX_XLSX_UNCOMPRESSED_BYTES,
    XLSX_MAX_CELLS_PER_VALUE,
    XLSX_SPARSE_FLOOR_CELLS,
    check_cell_lengths,
    check_header_lengths,
    limit_error,
    sheet_label,
)
from dealscope.ingest.rawtable import (
    EXCLUDED,
    RawTable,
    find_header_row,
    normalise_headers,
    settled_frame,
)
from dealscope.ingest.read_xls import read_xls_sheet, xls_sheet_names
from dealscope.ingest.sniff import OLE_MAGIC

STRING = pd.StringDtype("pyarrow")
FLAG_COLUMNS = ("row", "column", "code", "value")


def check_xlsx_archive(data: bytes, filename: str) -> None:
    """Refuse zip bombs and non-workbooks before any XML is parsed (RELIABILITY E11, S4)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileTypeError(key="errors.ingest.bad_zip", file=filename, detail=str(exc)) from exc
    fix = "resave_workbook"
    if len(infos) > MAX_XLSX_ENTRIES:
        raise limit_error(filename, "entry_count", len(infos), MAX_XLSX_ENTRIES, "entries", fix)
    total = sum(info.file_size for info in infos)
    if total > MAX_XLSX_UNCOMPRESSED_BYTES:
        raise limit_error(
            filename,
            "uncompressed_size",
            total / 2**20,
            MAX_XLSX_UNCOMPRESSED_BYTES / 2**20,
            "mb",
            fix,
        )
    ratio = total / max(len(data), 1)
    if ratio > MAX_XLSX_COMPRESSION_RATIO:
        raise limit_error(
            filename, "compression_ratio", ratio, MAX_XLSX_COMPRESSION_RATIO, "ratio", fix
        )
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise FileTypeError(key="errors.ingest.zip_not_workbook", file=filename)
    if not openpyxl.xml.DEFUSEDXML:
        raise UploadError(key="errors.ingest.no_defusedxml")


def _load(data: bytes, filename: str, **options):
    try:
        return openpyxl.load_workbook(io.BytesIO(data), **options)
    except UploadError:
        raise
    except Exception as exc:  # openpyxl/defusedxml raise many types for hostile or broken files
        raise FileTypeError(
            key="errors.ingest.workbook_unreadable",
            file=filename,
            detail=f"{type(exc).__name__}: {exc}",
        ) from exc


def list_sheets(data: bytes, filename: str) -> list[str]:
    """The sheet names of a workbook (visible ones first), for the sheet picker."""
    if data.startswith(OLE_MAGIC):
        return xls_sheet_names(data, filename)
    check_xlsx_archive(data, filename)
    workbook = _load(data, filename, read_only=True)
    sheets = [(ws.sheet_state != "visible", ws.title) for ws in workbook.worksheets]
    workbook.close()
    return [title for _, title in sorted(sheets, key=lambda item: item[0])]


def _text(values: pd.Series) -> pd.Series:
    """Cell objects -> text: numbers, dates (ISO) and booleans as Python writes them; None -> ''."""
    return values.astype(str).where(values.notna(), "").astype(STRING)


@dataclass
class _SheetRows:
    """One sheet as streamed: sheet rows 1..last row with a value, each padded to `width`."""

    grid: list[list]
    width: int
    merged: list[CellRange]
    hidden_rows: list[int]
    uncached_formulas: list[tuple[int, int, str]]  # (sheet row, column, formula)


class _GuardedParser(WorkSheetParser):
    """openpyxl's streaming sheet parser, refusing a cell past the column cap or a row with more
    cells than the cap as each cell is parsed (before a row list or grid is built), and noting
    formulas without a cached value (whatever the sheet part is called)."""

    def __init__(self, *args, label: Text, **kwargs):
        super().__init__(*args, **kwargs)
        self.label = label
        self.cells_in_row = 0
        self.current_row = -1
        self.uncached_formulas: list[tuple[int, int, str]] = []

    def parse(self):
        """openpyxl's WorkSheetParser.parse (3.1.5), with start events: the cells of a row are
        counted as their tags open, so a row of millions of <c/> is refused before its element
        tree is built (the end-event parser only sees a row once all its children exist)."""
        r = sheet_reader
        dispatcher = {
            r.COL_TAG: self.parse_column_dimensions, r.PROT_TAG: self.parse_sheet_protection,
            r.EXT_TAG: self.parse_extensions, r.CF_TAG: self.parse_formatting,
            r.LEGACY_TAG: self.parse_legacy, r.ROW_BREAK_TAG: self.parse_row_breaks,
            r.COL_BREAK_TAG: self.parse_col_breaks, r.CUSTOM_VIEWS_TAG: self.parse_custom_views,
        }  # fmt: skip
        properties = {
            r.PRINT_TAG: ("print_options", r.PrintOptions),
            r.MARGINS_TAG: ("page_margins", r.PageMargins),
            r.PAGE_TAG: ("page_setup", r.PrintPageSetup),
            r.HEADER_TAG: ("HeaderFooter", r.HeaderFooter),
            r.FILTER_TAG: ("auto_filter", r.AutoFilter),
            r.VALIDATION_TAG: ("data_validations", r.DataValidationList),
            r.PROPERTIES_TAG: ("sheet_properties", r.WorksheetProperties),
            r.VIEWS_TAG: ("views", r.SheetViewList),
            r.FORMAT_TAG: ("sheet_format", r.SheetFormatProperties),
            r.SCENARIOS_TAG: ("scenarios", r.ScenarioList),
            r.TABLE_TAG: ("tables", r.TablePartList),
            r.HYPERLINK_TAG: ("hyperlinks", r.HyperlinkList),
            r.MERGE_TAG: ("merged_cells", r.MergeCells),
        }
        opened = 0
        for event, element in r.iterparse(self.source, events=("start", "end")):
            tag = element.tag
            if event == "start":
                if tag == r.CELL_TAG:
                    opened += 1
                    if opened > MAX_COLUMNS:
                        self._too_wide(opened)
                elif tag == r.ROW_TAG:
                    opened = 0
                continue
            if tag in dispatcher:
                dispatcher[tag](element)
                element.clear()
            elif tag in properties:
                name, kind = properties[tag]
                setattr(self, name, kind.from_tree(element))
                element.clear()
            elif tag == r.ROW_TAG:
                row = self.parse_row(element)
                element.clear()
                yield row

    def _too_wide(self, columns: int):
        raise limit_error(
            self.label, "column_count", columns, MAX_COLUMNS, "columns", "delete_right_columns"
        )

    def parse_cell(self, element):
        cell = super().parse_cell(element)
        if cell["row"] != self.current_row:
            self.current_row, self.cells_in_row = cell["row"], 0
        self.cells_in_row += 1
        if cell["column"] > MAX_COLUMNS or self.cells_in_row > MAX_COLUMNS:
            self._too_wide(max(cell["column"], self.cells_in_row))
        if cell["value"] is None and (formula := element.find(FORMULA_TAG)) is not None:
            text = formula.text or ("(shared formula)" if formula.get("t") == "shared" else "")
            self.uncached_formulas.append((cell["row"], cell["column"], f"={text}"))
        return cell


def _sparse_limit(rows: int, width: int, values: int, label: Text) -> None:
    """Refuse a used range far larger than its values before its grid is built: a single cell at
    A1048576 would otherwise become a million-row frame (RELIABILITY E10)."""
    area = rows * width
    if area > MAX_XLSX_GRID_CELLS or (
        area > XLSX_SPARSE_FLOOR_CELLS and area > XLSX_MAX_CELLS_PER_VALUE * values
    ):
        raise LimitExceeded(
            key="errors.ingest.sparse_range",
            label=label,
            rows=rows,
            width=width,
            values=values,
            per_value=XLSX_MAX_CELLS_PER_VALUE,
            floor=XLSX_SPARSE_FLOOR_CELLS,
            grid=MAX_XLSX_GRID_CELLS,
        )


def _stream_sheet(workbook, ws, filename: str) -> _SheetRows:
    """Stream the sheet's rows (read-only workbook), checking rows, columns and cell counts as
    they arrive; only then lay the values out as a grid."""
    label = sheet_label(filename, ws.title)
    rows: list[tuple[int, list[tuple[int, object]]]] = []
    last_row = width = values = 0
    with ws._get_source() as source:  # openpyxl's own read-only worksheet stream
        parser = _GuardedParser(
            source, ws._shared_strings, data_only=True, epoch=workbook.epoch,
            date_formats=workbook._date_formats, timedelta_formats=workbook._timedelta_formats,
            label=label,
        )  # fmt: skip
        try:
            for index, cells in parser.parse():
                filled = [(c["column"], c["value"]) for c in cells if c["value"] not in (None, "")]
                if not filled:
                    continue
                if index > MAX_ROWS:
                    raise limit_error(label, "row_count", index, MAX_ROWS, "rows", "split_sheet")
                last_row = max(last_row, index)
                width = max(width, max(column for column, _ in filled))
                values += len(filled)
                _sparse_limit(last_row, width, values, label)
                rows.append((index, filled))
        except UploadError:
            raise
        except Exception as exc:  # hostile or broken XML raises many types
            raise FileTypeError(
                key="errors.ingest.sheet_unreadable",
                file=filename,
                sheet=ws.title,
                detail=f"{type(exc).__name__}: {exc}",
            ) from exc
    grid = [[None] * width for _ in range(last_row)]
    for index, filled in rows:
        target = grid[index - 1]
        for column, value in filled:
            target[column - 1] = value
    merged = [CellRange(cell.ref) for cell in (parser.merged_cells.mergeCell
                                                 if parser.merged_cells else [])]  # fmt: skip
    hidden = sorted(
        int(row) for row, attrs in parser.row_dimensions.items()
        if str(attrs.get("hidden", "")).lower() in ("1", "true")
    )  # fmt: skip
    return _SheetRows(grid, width, merged, hidden, parser.uncached_formulas)


def _merged_fill(merged: list[CellRange], grid: list[list], top: int, bottom: int) -> None:
    """Copy each merged range's top-left value into its other cells, within rows top..bottom
    (clamped to the grid: a hostile A1:XFD1048576 merge costs nothing beyond it)."""
    width = len(grid[0]) if grid else 0
    for rng in merged:
        if rng.min_row - 1 >= len(grid) or rng.min_col - 1 >= width:
            continue
        value = grid[rng.min_row - 1][rng.min_col - 1]
        last_col = min(rng.max_col, width)
        for row in range(max(rng.min_row, top), min(rng.max_row, bottom, len(grid)) + 1):
            grid[row - 1][rng.min_col - 1 : last_col] = [value] * (last_col - rng.min_col + 1)


def _flatten_two_row_header(merged: list[CellRange], grid, header_index: int) -> tuple[list, bool]:
    """group/field names when the row above the header is a merged group row (X2)."""
    if header_index == 0:
        return list(grid[0]), False
    above = header_index  # 1-based sheet row of the row above the header
    spans = [m for m in merged if m.min_row <= above <= m.max_row]
    horizontal = [m for m in spans if m.max_col > m.min_col and m.max_row == above]
    vertical = [m for m in spans if m.max_row >= above + 1]
    filled_above = [c for c in grid[header_index - 1] if c not in (None, "")]
    if not horizontal or not (vertical or len(filled_above) >= 2):
        return list(grid[header_index]), False
    _merged_fill(merged, grid, above, above + 1)
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
    """Read one sheet of a workbook (.xlsx, .xlsm or legacy .xls) into a RawTable (rows numbered
    as in Excel)."""
    if data.startswith(OLE_MAGIC):
        legacy = read_xls_sheet(data, filename, sheet)
        label = sheet_label(filename, legacy.title)
        _sparse_limit(len(legacy.grid), legacy.width, legacy.values, label)
        streamed = _SheetRows(legacy.grid, legacy.width, legacy.merged, legacy.hidden_rows, [])
        return _sheet_table(
            streamed, data, filename, legacy.title, legacy.sheets, legacy.epoch, kind="xls"
        )
    check_xlsx_archive(data, filename)
    workbook = _load(data, filename, read_only=True, data_only=True)
    try:
        sheets = [ws.title for ws in workbook.worksheets]
        if sheet is None:
            visible = [ws for ws in workbook.worksheets if ws.sheet_state == "visible"]
            ws = (visible or workbook.worksheets)[0]
        elif sheet in sheets:
            ws = workbook[sheet]
        else:
            raise UploadError(
                key="errors.ingest.no_such_sheet", file=filename, sheet=sheet, sheets=sheets
            )
        streamed = _stream_sheet(workbook, ws, filename)
        epoch = "1904" if workbook.epoch == CALENDAR_MAC_1904 else "1900"
    finally:
        workbook.close()
    return _sheet_table(streamed, data, filename, ws.title, sheets, epoch, kind="xlsx")


def _sheet_table(
    streamed: _SheetRows,
    data: bytes,
    filename: str,
    title: str,
    sheets: list[str],
    epoch: str,
    kind: str,
) -> RawTable:
    """A sheet's grid laid out as a RawTable: header row found below title rows, a merged
    two-row header flattened, merged cells filled down, hidden rows and formulas flagged."""
    grid, width, merged = streamed.grid, streamed.width, streamed.merged
    if not grid:
        raise NoDataError(key="errors.ingest.empty_sheet", label=sheet_label(filename, title))
    header_index = find_header_row(grid[:HEADER_SCAN_ROWS])
    raw_headers, two_rows = _flatten_two_row_header(merged, grid, header_index)
    check_header_lengths(sheet_label(filename, title), raw_headers)
    title_rows = header_index - (1 if two_rows else 0)
    settled = [
        (r + 1, EXCLUDED, "title-row" if any(v not in (None, "") for v in grid[r]) else "blank-row",
         None, " ".join(str(v) for v in grid[r] if v not in (None, "")))
        for r in range(title_rows)
    ]  # fmt: skip
    first_data = header_index + 1
    _merged_fill(merged, grid, first_data + 1, len(grid))
    headers, notes = normalise_headers(raw_headers)
    if two_rows:
        notes.append(
            f"two-row header (rows {header_index}-{header_index + 1}) flattened to group/field"
        )
    body = pd.DataFrame(grid[first_data:], columns=range(width), dtype=object)
    frame = pd.DataFrame({name: _text(body[i]) for i, name in enumerate(headers)})
    check_cell_lengths(sheet_label(filename, title), frame, len(data))
    lines = np.arange(first_data + 1, len(grid) + 1, dtype=np.int64)
    flags = _cell_flags(streamed, body, headers, first_data)
    if frame.empty and not settled:
        raise NoDataError(key="errors.ingest.sheet_header_only", label=sheet_label(filename, title))
    return RawTable(
        file=filename,
        kind=kind,
        data=frame,
        lines=lines,
        settled=settled_frame(settled),
        rows_in=len(frame) + title_rows,
        headers=headers,
        sheet=title,
        notes=notes,
        cell_flags=flags,
        date_epoch=epoch,
        sheets=sheets,
    )


def _cell_flags(streamed: _SheetRows, body: pd.DataFrame, headers, first_data) -> pd.DataFrame:
    """Hidden (filtered) rows and formula cells that have no cached value (X9, X10)."""
    rows: list[tuple] = [
        (r - first_data - 1, None, "hidden-row", None)
        for r in streamed.hidden_rows
        if r > first_data and r - first_data - 1 < len(body)
    ]
    for sheet_row, column, formula in streamed.uncached_formulas:
        offset = sheet_row - first_data - 1
        if 0 <= offset < len(body) and column <= len(headers):
            ref = f"{get_column_letter(column)}{sheet_row}"
            rows.append((offset, headers[column - 1], "formula-not-evaluated", f"{ref} {formula}"))
    return pd.DataFrame(rows, columns=list(FLAG_COLUMNS))
