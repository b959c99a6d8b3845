"""Exports neutralise spreadsheet formulas in text cells and leave numbers alone (OWASP S1)."""

import io

import openpyxl
import pandas as pd

from dealscope.export import neutralise_formulas, to_safe_csv, to_safe_xlsx

DANGEROUS = ['=HYPERLINK("http://x","click")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def frame() -> pd.DataFrame:
    return pd.DataFrame({"name": DANGEROUS + ["正常文本"], "amount": [-1.5] * 6 + [2.0]})


def test_text_cells_are_prefixed_numbers_untouched():
    out = neutralise_formulas(frame())
    assert all(v.startswith("'") for v in out["name"][:6])
    assert out["name"].iloc[6] == "正常文本"
    assert out["amount"].tolist() == frame()["amount"].tolist()


def test_csv_cells_never_start_a_formula():
    text = to_safe_csv(frame()).decode("utf-8-sig")
    parsed = pd.read_csv(io.StringIO(text), keep_default_na=False)
    assert len(parsed) == len(frame())  # a CR inside a cell must not split the row
    assert not parsed["name"].str.match(r"^[=+\-@\t\r]").any()
    assert parsed["amount"].iloc[0] == -1.5


def test_xlsx_has_no_formula_cells():
    book = openpyxl.load_workbook(io.BytesIO(to_safe_xlsx(frame())))
    cells = [c for row in book.active.iter_rows() for c in row]
    assert not any(c.data_type == "f" for c in cells)
    assert book.active["A2"].value == "'" + DANGEROUS[0]


def test_escape_markdown_neutralises_links_images_html_and_breaks():
    from dealscope.formatting import escape_markdown

    text = escape_markdown("![img](http://t/) [a](b) *b* _i_ `c` <script>x</script> # h\nnext")
    assert "![" not in text and "](" not in text.replace("\\](", "")
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "\n" not in text
    assert escape_markdown("王伟 · 华东一组") == "王伟 · 华东一组"  # ordinary text unchanged
