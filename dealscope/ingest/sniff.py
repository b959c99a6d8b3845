"""File-type signatures, text encoding and CSV delimiter detection (no guessing in silence)."""

from __future__ import annotations

import codecs
import csv
import io
import re

import numpy as np

from dealscope.ingest.errors import EncodingProblem, FileTypeError, NoDataError
from dealscope.ingest.limits import DELIMITER_SCAN_LINES

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls and encrypted .xlsx
GBK_FAMILY = {"gb2312", "gbk", "gb18030", "cp936", "hz", "ms936", "euc_cn", "big5"}
DELIMITERS = (",", ";", "\t", "|")  # priority order when counts tie (as Metabase)
_CJK = re.compile(r"[\u3400-\u9fff\U00020000-\U0002ffff]")


def detect_kind(data: bytes, filename: str) -> str:
    """'csv' or 'xlsx' (any Excel workbook: .xlsx, .xlsm, legacy .xls — the Excel reader tells
    them apart by their bytes) from the bytes themselves; the extension is only a hint that must
    agree."""
    name = filename.lower()
    if data.startswith(OLE_MAGIC):
        if name.endswith((".xlsx", ".xlsm")):
            raise FileTypeError(key="errors.ingest.encrypted_xlsx", file=filename)
        return "xlsx"  # a legacy .xls: the Excel reader reads it with xlrd
    if data.startswith(ZIP_MAGIC):
        if not name.endswith((".xlsx", ".xlsm", ".xls")):
            raise FileTypeError(key="errors.ingest.zip_not_csv", file=filename)
        return "xlsx"  # .xlsm is the same format; macros are never run
    if name.endswith((".xlsx", ".xlsm")):
        raise FileTypeError(key="errors.ingest.not_excel", file=filename)
    if name.endswith(".xls") and re.match(rb"\A(\xef\xbb\xbf)?\s*<", data[:1024]):
        raise FileTypeError(key="errors.ingest.xls_is_html", file=filename)
    return "csv"  # a text export saved under an .xls name (tab-separated, say) reads as text


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _undecodable(
    filename: str, data: bytes, exc: UnicodeDecodeError, encoding: str
) -> EncodingProblem:
    offset = exc.start
    return EncodingProblem(
        key="errors.ingest.undecodable",
        file=filename,
        offset=offset,
        line=_line_of(data, offset),
        encoding=encoding,
        bytes=repr(data[offset : offset + 4]),
    )


def decode_bytes(data: bytes, filename: str, encoding: str | None = None) -> tuple[str, str, list]:
    """Decode CSV bytes: (text, encoding used, notes). Never replaces bytes silently.

    BOMs first (UTF-8, UTF-16), then strict UTF-8, then GB18030 (the superset of GB2312/GBK),
    then charset-normalizer's best guess. An explicit `encoding` is used as given (strict).
    """
    if not re.search(rb"[^\r\n\t \xef\xbb\xbf\xff\xfe\x00]", data):  # no copy, unlike strip
        raise NoDataError(key="errors.ingest.empty_file", file=filename)
    notes: list[str] = []
    if encoding:
        enc = "gb18030" if encoding.lower().replace("-", "") in {"gbk", "gb2312"} else encoding
        try:
            return codecs.decode(data, enc).lstrip("\ufeff"), enc, notes
        except (UnicodeDecodeError, LookupError) as exc:
            if isinstance(exc, LookupError):
                raise EncodingProblem(
                    key="errors.ingest.unknown_encoding", file=filename, encoding=encoding
                ) from exc
            raise _undecodable(filename, data, exc, enc) from exc
    if data.startswith(codecs.BOM_UTF8):
        candidates = [("utf-8-sig", "utf-8 (BOM)")]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = [("utf-16", "utf-16")]
    else:
        candidates = []
    for codec, label in candidates:
        try:
            return data.decode(codec), label, notes
        except UnicodeDecodeError as exc:
            raise _undecodable(filename, data, exc, label) from exc
    utf16 = _utf16_without_bom(data)
    if utf16:
        try:
            text = data.decode(utf16)
            notes.append(f"decoded-as-{utf16}")
            return text, utf16, notes
        except UnicodeDecodeError:
            pass
    utf8_lines: list[int] = []
    try:
        return data.decode("utf-8"), "utf-8", notes
    except UnicodeDecodeError as exc:
        # Most lines with non-ASCII text are valid UTF-8: a damaged UTF-8 file, not another
        # encoding (a GBK file with one UTF-8 line is read below, and that line flagged).
        utf8_lines = _mixed_lines(data)
        if utf8_lines and len(utf8_lines) >= _lines_with_high_bytes(data) - len(utf8_lines):
            raise _undecodable(filename, data, exc, "utf-8") from exc
    try:
        chinese = _as_chinese(data, utf8_lines)
    except UnicodeDecodeError as exc:
        raise _undecodable(filename, data, exc, "gb18030") from exc
    if chinese is not None:
        notes.append("decoded-as-gb18030")
        if utf8_lines:
            shown = ", ".join(str(n) for n in utf8_lines[:10]) + (
                " …" if len(utf8_lines) > 10 else ""
            )
            notes.append(
                f"{MIXED_NOTE}{','.join(str(n) for n in utf8_lines)}|lines {shown} are UTF-8 "
                "inside a GB18030/GBK file: read as UTF-8 and flagged mixed-encoding; re-export "
                "the file in one encoding"
            )
        return chinese, "gb18030", notes
    enc = _western_codec(data)
    try:
        text = data.decode(enc)
    except UnicodeDecodeError:
        try:
            enc, text = "cp1252", data.decode("cp1252")
        except UnicodeDecodeError:
            enc, text = "latin-1", data.decode("latin-1")  # every byte is a character
    notes.append(f"decoded-as-{enc}")
    return text, enc, notes


def _western_codec(data: bytes) -> str:
    """cp1251 or cp1252 for an 8-bit file that is neither UTF-8 nor Chinese. Cyrillic words are
    runs of bytes ≥ 0xC0 (most high bytes sit next to another); Western accents (é, ü, ç) are
    mostly single high bytes between ASCII letters. cp1252 is the Windows default of Western
    Europe and the Americas (cp1250 would turn è into č, so it is never guessed)."""
    raw = np.frombuffer(data[:400_000], dtype=np.uint8)
    high = raw >= 0x80
    if not high.any():
        return "cp1252"
    paired = high[:-1] & high[1:]
    share = (paired.sum() * 2) / high.sum()
    letters = (raw >= 0xC0).sum() / high.sum()
    return "cp1251" if share > 0.6 and letters > 0.8 else "cp1252"


MIXED_NOTE = "mixed-encoding-lines:"
# A line holding a 3-byte UTF-8 sequence (Chinese in UTF-8); GBK text rarely forms one.
_UTF8_SEQUENCE = re.compile(rb"[\xe0-\xef][\x80-\xbf]{2}")


def _utf16_without_bom(data: bytes) -> str | None:
    """utf-16-le / utf-16-be when the bytes look like UTF-16 text without a BOM: ASCII text in
    UTF-16 has a zero in every other byte (CSV headers, digits and separators are ASCII)."""
    head = data[:4000]
    if len(head) < 8:
        return None
    even, odd = head[0::2], head[1::2]
    zero_even, zero_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if zero_odd > 0.3 and zero_even < 0.05:
        return "utf-16-le"
    if zero_even > 0.3 and zero_odd < 0.05:
        return "utf-16-be"
    return None


def _mixed_spans(data: bytes) -> list[tuple[int, int, int]]:
    """(1-based line, start, end) of the lines that are valid UTF-8 with a 3-byte sequence: the
    sequences are found by one regex pass, mapped to lines with numpy; only those candidate lines
    are test-decoded."""
    hits = [m.start() for m in _UTF8_SEQUENCE.finditer(data)]
    if not hits:
        return []
    newlines = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    lines = np.unique(np.searchsorted(newlines, hits))  # 0-based line of each sequence
    found = []
    for line in lines.tolist():  # candidate lines only (a GBK file rarely has any)
        start = int(newlines[line - 1]) + 1 if line > 0 else 0
        end = int(newlines[line]) if line < len(newlines) else len(data)
        try:
            data[start:end].decode("utf-8")
        except UnicodeDecodeError:
            continue
        found.append((line + 1, start, end))
    return found


def _lines_with_high_bytes(data: bytes) -> int:
    """How many lines hold a byte ≥ 0x80 (numpy over the bytes, no per-line work)."""
    raw = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(raw == 10)
    return int(np.unique(np.searchsorted(newlines, np.flatnonzero(raw >= 0x80))).size)


def _mixed_lines(data: bytes) -> list[int]:
    return [line for line, _, _ in _mixed_spans(data)]


def _as_chinese(data: bytes, utf8_lines: list[int]) -> str | None:
    """The text when the bytes are GB18030/GBK Chinese, else None.

    Western 8-bit text (cp1252 `é` = 0xE9) often decodes as GB18030 too, into rare characters:
    there an accented letter is followed by an ASCII letter (a "trail byte" below 0xA1), while
    Chinese text is mostly GB2312 characters (trail 0xA1-0xFE). Cyrillic cp1251 words are runs
    of bytes ≥ 0xC0, which Chinese text rarely is throughout. The file counts as Chinese only when
    most byte pairs look like GB2312 and not like Cyrillic. Lines that are valid UTF-8 (a GBK file edited in a UTF-8 tool) are
    decoded as UTF-8 and reported, never turned into mojibake in silence."""
    pairs = re.findall(rb"[\x81-\xfe][\x40-\xfe]", data[:400_000])
    if not pairs:
        return None
    lead, trail = np.frombuffer(b"".join(pairs), dtype=np.uint8).reshape(-1, 2).T
    han = (trail >= 0xA1).mean()  # GB2312 characters; a Western `é` is followed by a letter
    cyrillic = ((lead >= 0xC0) & (trail >= 0xC0)).mean()  # cp1251 words: runs of bytes ≥ 0xC0
    if han < 0.5 or cyrillic >= 0.8:
        return None
    return _decode_around(data, utf8_lines)  # a bad byte in Chinese text: the caller says where


def _decode_around(data: bytes, utf8_lines: list[int]) -> str:
    """GB18030 text with the given 1-based lines decoded as UTF-8 (slices between them at once)."""
    if not utf8_lines:
        return data.decode("gb18030")
    wanted = set(utf8_lines)
    parts, position = [], 0
    for line, begin, end in _mixed_spans(data):  # a handful of lines, not the records
        if line in wanted:
            parts += [data[position:begin].decode("gb18030"), data[begin:end].decode("utf-8")]
            position = end
    parts.append(data[position:].decode("gb18030"))
    return "".join(parts)


def split_sep_line(text: str) -> tuple[str | None, str]:
    """Excel's `sep=;` hint line: (delimiter or None, text without that line)."""
    match = re.match(r"\A\ufeff?sep=(.)\r?\n", text)
    if match:
        return match.group(1), text[match.end() :]
    return None, text


def detect_delimiter(text: str) -> str:
    """The delimiter giving the same non-zero field count on most of the first lines."""
    sample = "\n".join(text[:200_000].splitlines()[:DELIMITER_SCAN_LINES])
    best, best_score = ",", (-1, 0)
    for delimiter in DELIMITERS:
        try:
            rows = list(csv.reader(io.StringIO(sample), delimiter=delimiter))
        except csv.Error:
            continue
        widths = [len(r) for r in rows if any(cell.strip() for cell in r)]
        if not widths:
            continue
        modal = max(set(widths), key=widths.count)
        if modal < 2:
            continue
        score = (widths.count(modal), modal)
        if score > best_score:
            best, best_score = delimiter, score
    return best
