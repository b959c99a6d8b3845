"""File-type signatures, text encoding and CSV delimiter detection (no guessing in silence)."""

from __future__ import annotations

import codecs
import csv
import io
import re

from charset_normalizer import from_bytes

from dealscope.ingest.errors import EncodingProblem, FileTypeError, NoDataError
from dealscope.ingest.limits import DELIMITER_SCAN_LINES

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls and encrypted .xlsx
GBK_FAMILY = {"gb2312", "gbk", "gb18030", "cp936", "hz", "ms936", "euc_cn", "big5"}
DELIMITERS = (",", ";", "\t", "|")  # priority order when counts tie (as Metabase)
_CJK = re.compile(r"[\u3400-\u9fff\U00020000-\U0002ffff]")


def detect_kind(data: bytes, filename: str) -> str:
    """'csv' or 'xlsx' from the bytes themselves (the extension is only a hint that must agree)."""
    name = filename.lower()
    if data.startswith(OLE_MAGIC):
        raise FileTypeError(
            f"{filename}: this is an old .xls workbook or a password-protected .xlsx, which "
            "DealScope cannot read. Remove the password and save it as .xlsx or .csv."
        )
    if data.startswith(ZIP_MAGIC):
        if name.endswith(".xlsm") or b"macroEnabled" in data[:4096]:
            raise FileTypeError(
                f"{filename}: macro-enabled workbooks (.xlsm) are not accepted. "
                "Save it as .xlsx (without macros) or .csv."
            )
        if not name.endswith(".xlsx"):
            raise FileTypeError(
                f"{filename}: file type mismatch — the content is a ZIP archive, not CSV text. "
                "Upload the .xlsx itself, or export the data as .csv."
            )
        return "xlsx"
    if name.endswith((".xlsx", ".xlsm")):
        raise FileTypeError(
            f"{filename}: file type mismatch — the name says Excel but the content is not an "
            "Excel workbook. Rename it to .csv if it is a CSV export, or re-save it from Excel."
        )
    if name.endswith(".xls"):
        raise FileTypeError(f"{filename}: .xls is not supported; save it as .xlsx or .csv.")
    return "csv"


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _undecodable(filename: str, data: bytes, exc: UnicodeDecodeError, encoding: str) -> str:
    offset = exc.start
    return (
        f"{filename}: byte {offset} (line {_line_of(data, offset)}) cannot be decoded as "
        f"{encoding} (bytes {data[offset : offset + 4]!r}). The file is damaged or mixes "
        "encodings; re-export it as UTF-8, or choose an encoding explicitly."
    )


def decode_bytes(data: bytes, filename: str, encoding: str | None = None) -> tuple[str, str, list]:
    """Decode CSV bytes: (text, encoding used, notes). Never replaces bytes silently.

    BOMs first (UTF-8, UTF-16), then strict UTF-8, then GB18030 (the superset of GB2312/GBK),
    then charset-normalizer's best guess. An explicit `encoding` is used as given (strict).
    """
    if not re.search(rb"[^\r\n\t \xef\xbb\xbf\xff\xfe\x00]", data):  # no copy, unlike strip
        raise NoDataError(f"{filename}: the file is empty — there are no data rows to load.")
    notes: list[str] = []
    if encoding:
        enc = "gb18030" if encoding.lower().replace("-", "") in {"gbk", "gb2312"} else encoding
        try:
            return codecs.decode(data, enc).lstrip("\ufeff"), enc, notes
        except (UnicodeDecodeError, LookupError) as exc:
            if isinstance(exc, LookupError):
                raise EncodingProblem(f"{filename}: unknown encoding {encoding!r}.") from exc
            raise EncodingProblem(_undecodable(filename, data, exc, enc)) from exc
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
            raise EncodingProblem(_undecodable(filename, data, exc, label)) from exc
    try:
        return data.decode("utf-8"), "utf-8", notes
    except UnicodeDecodeError as exc:
        # Valid multi-byte UTF-8 before the bad byte: a damaged UTF-8 file, not another encoding.
        if re.search(rb"[\xc2-\xf4][\x80-\xbf]", data[: exc.start]):
            raise EncodingProblem(_undecodable(filename, data, exc, "utf-8")) from exc
    try:
        text = data.decode("gb18030")
        if _CJK.search(text):
            notes.append("decoded-as-gb18030")
            return text, "gb18030", notes
    except UnicodeDecodeError as exc:
        prefix = data[: exc.start].decode("gb18030", errors="ignore")
        if _CJK.search(prefix):
            raise EncodingProblem(_undecodable(filename, data, exc, "gb18030")) from exc
    best = from_bytes(data[:200_000]).best()
    guess = (best.encoding if best else "") or ""
    enc = "gb18030" if guess.lower() in GBK_FAMILY else guess
    if not enc:
        raise EncodingProblem(
            f"{filename}: the text encoding cannot be recognised. Re-export the file as UTF-8."
        )
    try:
        text = data.decode(enc)
    except UnicodeDecodeError as exc:
        raise EncodingProblem(_undecodable(filename, data, exc, enc)) from exc
    notes.append(f"decoded-as-{enc}")
    return text, enc, notes


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
