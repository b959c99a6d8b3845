"""CSV reader: bytes -> RawTable with the physical line of every record (RFC 4180 quoting)."""

from __future__ import annotations

import csv
import io
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from dealscope.ingest.errors import CsvStructureError, NoDataError
from dealscope.ingest.limits import (
    HEADER_SCAN_ROWS,
    MAX_COLUMNS,
    MAX_ROWS,
    check_cell_lengths,
    check_header_lengths,
    limit_error,
)
from dealscope.ingest.markers import is_footer_text
from dealscope.ingest.rawtable import (
    EXCLUDED,
    REJECTED,
    RawTable,
    find_header_row,
    normalise_headers,
    settled_frame,
)
from dealscope.ingest.sniff import MIXED_NOTE, decode_bytes, detect_delimiter, split_sep_line

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # 1 MB notes are data, not an error (X13)
STRING = pd.StringDtype("pyarrow")
MAX_REPORTED_CHARS = 1_000


def _head_records(text: str, delimiter: str) -> list[tuple[int, int, list[str]]]:
    """(first line, last line, cells) of the first records, for header detection."""
    reader = csv.reader(io.StringIO(text[:1_000_000]), delimiter=delimiter)
    out, previous_end = [], 0
    try:
        for cells in reader:
            out.append((previous_end + 1, reader.line_num, cells))
            previous_end = reader.line_num
            if len(out) >= HEADER_SCAN_ROWS:
                break
    except csv.Error:
        pass
    return out


def _quote_opening_line(text: str, delimiter: str, line_offset: int) -> int:
    """The physical line where the record holding an unclosed quote starts."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=False)
    start, previous_end = 1, 0
    for _ in reader:
        start = previous_end + 1
        previous_end = reader.line_num
    return start + line_offset


def _arrow_read(payload: bytes, names: list[str], delimiter: str, on_invalid, invalid: list):
    """pyarrow's reader, all cells as text.

    Without any quote character no value can hold a newline, and pyarrow's multi-threaded reader
    is fast (with quoted newlines possible it is slower than the single-threaded one). When a
    record is malformed the file is read again single-threaded: only that reader knows each
    malformed record's number.
    """
    quoted = b'"' in payload
    table = _arrow_read_with(payload, names, delimiter, on_invalid, invalid, fast=not quoted)
    if not invalid or quoted:
        return table
    invalid.clear()
    return _arrow_read_with(payload, names, delimiter, on_invalid, invalid, fast=False)


def _arrow_read_with(payload, names, delimiter, on_invalid, invalid: list, *, fast: bool):
    block = 1 << 24
    while True:
        try:
            return pacsv.read_csv(
                io.BytesIO(payload),
                read_options=pacsv.ReadOptions(
                    column_names=names, use_threads=fast, skip_rows=1, block_size=block
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=delimiter,
                    newlines_in_values=not fast,
                    ignore_empty_lines=False,
                    invalid_row_handler=on_invalid,
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.string()),
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except pa.ArrowInvalid as exc:
            # A record longer than a block (multi-MB notes): retry with one block for the file.
            if "straddl" not in str(exc) or block > len(payload):
                raise
            block = len(payload) + 1
            invalid.clear()


def _mixed_encoding_flags(lines: np.ndarray, mixed_lines: list[int], headers: list[str]):
    """Rows read from UTF-8 lines inside a GB18030 file: flagged mixed-encoding (first column)."""
    if not mixed_lines:
        return None
    rows = np.flatnonzero(np.isin(lines, mixed_lines))
    return pd.DataFrame({"row": rows, "column": headers[0], "value": None,
                         "code": "mixed-encoding"})  # fmt: skip


def read_csv_bytes(data: bytes, filename: str, encoding: str | None = None) -> RawTable:
    """Read one CSV export: encoding and delimiter detected, header found below title rows,
    malformed records (too many / too few fields) and blank lines settled with their line."""
    text, used_encoding, notes = decode_bytes(data, filename, encoding)
    mixed = [n for n in notes if n.startswith(MIXED_NOTE)]
    notes = [n for n in notes if not n.startswith(MIXED_NOTE)] + [n.split("|", 1)[1] for n in mixed]
    mixed_lines = [int(x) for n in mixed for x in n[len(MIXED_NOTE) :].split("|")[0].split(",")]
    if "\r" in text and "\n" not in text:  # classic Mac line ends: one line per CR
        text = text.replace("\r", "\n")
        notes.append("line ends are CR only (classic Mac): read as line breaks")
    sep, text = split_sep_line(text)
    line_offset = 1 if sep else 0
    delimiter = sep or detect_delimiter(text)
    if text.count("\n") > MAX_ROWS + HEADER_SCAN_ROWS:
        raise limit_error(
            filename, "line_count", text.count("\n"), MAX_ROWS, "lines", "split_export"
        )
    head = _head_records(text, delimiter)
    if not head:
        raise NoDataError(key="errors.ingest.empty_file", file=filename)
    header_index = find_header_row([cells for _, _, cells in head])
    header_first, header_last, header_cells = head[header_index]
    check_header_lengths(filename, header_cells)
    width = len(header_cells)
    if width > MAX_COLUMNS:
        raise limit_error(filename, "column_count", width, MAX_COLUMNS, "columns", "remove_columns")
    settled = [
        (
            first + line_offset,
            EXCLUDED,
            "title-row" if any(c.strip() for c in cells) else "blank-row",
            None,
            delimiter.join(cells)[:MAX_REPORTED_CHARS],
        )
        for first, _, cells in head[:header_index]
    ]
    # Hand pyarrow the text from the header line on, as UTF-8.
    start = 0
    for _ in range(header_first - 1):
        start = text.index("\n", start) + 1
    body = text[start:]
    line_offset += header_first - 1
    payload = body.encode("utf-8") if used_encoding != "utf-8" or start or sep else data
    invalid: list[tuple[int, int, int, str]] = []

    def on_invalid(row) -> str:
        invalid.append((row.number, row.expected_columns, row.actual_columns, row.text))
        return "skip"

    names = [f"c{i}" for i in range(width)]
    try:
        table = _arrow_read(payload, names, delimiter, on_invalid, invalid)
    except pa.ArrowInvalid as exc:
        line = _quote_opening_line(body, delimiter, line_offset)
        raise CsvStructureError(
            key="errors.ingest.unclosed_quote_detail", file=filename, line=line, detail=str(exc)
        ) from exc
    if payload.count(b'"') % 2 == 1:
        line = _quote_opening_line(body, delimiter, line_offset)
        raise CsvStructureError(key="errors.ingest.unclosed_quote", file=filename, line=line)
    # Physical lines: record k (1 = header) spans 1 + (newlines inside its quoted fields) lines.
    n_valid = table.num_rows
    total = n_valid + len(invalid) + 1
    spans = np.ones(total + 1, dtype=np.int64)
    spans[0] = 0
    spans[1] = header_last - header_first + 1
    invalid_numbers = np.array([number for number, *_ in invalid], dtype=np.int64)
    valid_numbers = np.setdiff1d(np.arange(2, total + 1), invalid_numbers, assume_unique=True)
    terminators = total - (0 if payload.endswith((b"\n", b"\r")) else 1)
    in_cells = payload.count(b"\n") - (header_last - header_first) - terminators
    in_cells -= sum(row_text.count("\n") for *_, row_text in invalid)
    if n_valid and in_cells:  # else no cell holds a newline: every record is one line
        newline_counts = np.zeros(n_valid, dtype=np.int64)
        for column in table.columns:
            newline_counts += pc.count_substring(column, "\n").to_numpy(zero_copy_only=False)
        spans[valid_numbers] += newline_counts
    for number, _, _, row_text in invalid:
        spans[number] += row_text.count("\n")
    first_line = np.cumsum(spans) - spans + 1 + line_offset  # first line of every record
    # A report's footer block (Salesforce: Grand Totals, Copyright, Confidential, Generated By and
    # then the company's name) follows the last data row: its unrecognised lines are footer too.
    last_data = int(valid_numbers.max()) if n_valid else 0
    footer_from = min(
        (
            number
            for number, _, _, row_text in invalid
            if number > last_data
            and (is_footer_text(row_text.split(delimiter)[0]) or is_footer_text(row_text))
        ),
        default=None,
    )
    for number, expected, actual, row_text in invalid:
        line = int(first_line[number])
        if footer_from is not None and number > footer_from and actual < expected:
            settled.append((line, EXCLUDED, "total-row", None, row_text[:MAX_REPORTED_CHARS]))
            continue
        if row_text.count('"') % 2 == 1:
            raise CsvStructureError(
                key="errors.ingest.unclosed_quote_row", file=filename, line=line
            )
        value = row_text[:MAX_REPORTED_CHARS]
        if not row_text.replace(delimiter, "").strip():
            settled.append((line, EXCLUDED, "blank-row", None, value))
        elif is_footer_text(row_text.split(delimiter)[0]) or is_footer_text(row_text):
            settled.append((line, EXCLUDED, "total-row", None, value))
        elif actual > expected:
            settled.append((line, REJECTED, "extra-cell", None, value))
        else:
            settled.append((line, REJECTED, "missing-cell", None, value))
    headers, header_notes = normalise_headers(header_cells)
    frame = table.rename_columns(headers).to_pandas(types_mapper={pa.string(): STRING}.get)
    check_cell_lengths(filename, frame, len(data))
    if frame.empty and not invalid and not settled:
        raise NoDataError(key="errors.ingest.header_only", file=filename)
    lines = first_line[valid_numbers] if n_valid else np.zeros(0, dtype=np.int64)
    return RawTable(
        file=filename,
        kind="csv",
        data=frame,
        lines=lines,
        cell_flags=_mixed_encoding_flags(lines, mixed_lines, headers),
        settled=settled_frame(settled),
        rows_in=n_valid + len(invalid) + header_index,
        headers=headers,
        encoding=used_encoding,
        delimiter=delimiter,
        notes=notes + header_notes,
        may_hold_nul=b"\x00" in payload,
    )
