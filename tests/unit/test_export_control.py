"""Issue 16 item 4: control characters never reach an export raw (openpyxl raised
IllegalCharacterError on them and the Data page could not save); tab and newline are kept."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd

from dealscope.export import escape_control_characters, to_safe_csv, to_safe_xlsx

CONTROLS = "".join(chr(c) for c in range(32) if c not in (9, 10, 13))


def test_every_c0_control_becomes_its_control_picture_in_xlsx():
    frame = pd.DataFrame({"text": [f"a{CONTROLS}b", "tab\tnew\nline", None], "n": [1, 2, 3]})
    book = openpyxl.load_workbook(io.BytesIO(to_safe_xlsx(frame)))
    values = [row[0] for row in book.active.iter_rows(min_row=2, values_only=True)]
    pictures = "".join(chr(0x2400 + ord(c)) for c in CONTROLS)  # U+2400 '␀' … U+241F '␟'
    assert values == [f"a{pictures}b", "tab\tnew\nline", None]


def test_csv_has_no_raw_control_characters_and_counts_the_cells():
    frame = pd.DataFrame({"owner\x01": ["=cmd\x00", "ok"], "stage": ["\x1bWon", "Lost"]})
    clean, changed = escape_control_characters(frame)
    assert changed == 3  # two cells and one header
    text = to_safe_csv(frame).decode("utf-8-sig")
    assert not any(c in text for c in CONTROLS)
    assert "owner\u2401" in text and "'=cmd\u2400" in text and "\u241bWon" in text
    assert clean["stage"].tolist() == ["\u241bWon", "Lost"]
