"""The words a page shows, read from an AppTest run, and the catalog strings of one language that
must never appear in a page of the other (issue 13: one language at a time).

Visible text: every string field of every element and block proto (markdown, captions, alerts,
metric labels / values / deltas, widget labels, options and help, tab and expander labels), the
column headers of every table, and the titles (chart, axis, legend) of every Vega-Lite spec.
Table cells are left out: they are user data (formatted numbers are tested in test_formatting).
"""

from __future__ import annotations

import json
import re
import string

import pandas as pd
import pyarrow as pa
from google.protobuf.json_format import MessageToDict

from dealscope.i18n import catalog

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
# Proto fields that hold no words: ids, keys, data, specs (read separately), urls, icons …
SKIPPED_FIELDS = {
    "id",
    "formId",
    "spec",
    "data",
    "arrowData",
    "datasets",
    "url",
    "icon",
    "type",
    "widthConfig",
    "heightConfig",
    "deltaColor",
    "deltaArrow",
    "mimetype",
    "fileName",
    "pageScriptHash",
    "key",
    "vegaLiteTheme",
    "selectionMode",
    "uuid",
}


def _strings(value, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, list):
        for item in value:
            _strings(item, out)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in SKIPPED_FIELDS:
                _strings(item, out)


def _titles(spec, out: list[str]) -> None:
    """Every `title` (chart, axis, legend, tooltip) in a Vega-Lite spec, data left out."""
    if isinstance(spec, dict):
        for key, item in spec.items():
            if key in ("datasets", "data", "config"):
                continue
            if key == "title":
                _strings(item, out)
            else:
                _titles(item, out)
    elif isinstance(spec, list):
        for item in spec:
            _titles(item, out)


def visible_strings(at) -> list[str]:
    """The words shown by the app after a run (see the module docstring)."""
    out: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        kind = getattr(node, "type", None)
        if kind == "dataframe":
            out.extend(str(c) for c in node.value.columns)
        elif kind in ("vega_lite_chart", "arrow_vega_lite_chart"):
            _titles(json.loads(proto.spec), out)
        elif proto is not None and hasattr(proto, "DESCRIPTOR"):
            _strings(MessageToDict(proto), out)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return [s for s in out if s.strip()]


def chart_locales(at) -> list[dict]:
    """The config.locale of every chart the page drew."""
    locales = []

    def walk(node) -> None:
        if getattr(node, "type", None) in ("vega_lite_chart", "arrow_vega_lite_chart"):
            locales.append(json.loads(node.proto.spec).get("config", {}).get("locale"))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return locales


def _fragments(template: str) -> list[str]:
    """The literal pieces of a catalog template (placeholders cut out)."""
    return [literal for literal, *_ in string.Formatter().parse(template) if literal]


def _meaningful_english(fragment: str) -> bool:
    """Long enough to be a phrase of the English UI, not a name, unit or code (KM, AUC, P75)."""
    words = re.findall(r"[A-Za-z]{3,}", fragment)
    return len(fragment.strip()) >= 8 and (
        len(words) >= 2 or any(len(w) >= 6 and not w.isupper() for w in words)
    )


def english_only_fragments() -> set[str]:
    """Pieces of English catalog strings that the Chinese catalog never uses (the zh-CN text of
    the same key differs, and no Chinese string contains the piece): none may show in 中文."""
    en, zh = catalog("en"), catalog("zh-CN")
    zh_text = "\n".join(zh.values())
    found = set()
    for key, text in en.items():
        if text == zh[key]:
            continue  # the same in both languages: neutral (names, formats)
        for piece in _fragments(text):
            piece = piece.strip(" .,:;()[]·—-–/")
            if _meaningful_english(piece) and piece not in zh_text:
                found.add(piece)
    return found


def cjk_runs(texts) -> set[str]:
    """Every run of Chinese characters in `texts`."""
    return {run for text in texts for run in CJK.findall(str(text))}


def display_frame(element) -> pd.DataFrame:
    """A table as the browser shows it: the Styler's display text where the page formatted the
    cells (ui.render.show_table), else the raw values."""
    value = element.value
    styler = element.proto.arrow_data.styler
    if not styler.display_values:
        return value
    shown = pa.ipc.open_stream(styler.display_values).read_pandas()
    shown.columns = value.columns
    return shown.reset_index(drop=True)


# What a table cell must never read: missing is "—", yes / no are words of the language.
LITERALS = {"None", "nan", "NaN", "NaT", "<NA>", "True", "False"}


def literal_cells(at) -> list[str]:
    """Table cells that show a Python/pandas literal ("None", "nan", "True" …) instead of "—" or
    a word: in formatted tables their display text, in plain ones missing text cells."""
    found = []

    def walk(node) -> None:
        if getattr(node, "type", None) == "dataframe":
            styled = bool(node.proto.arrow_data.styler.display_values)
            shown = display_frame(node)
            for column in shown.columns:
                values = shown[column]
                if styled:
                    bad = values.astype(str).isin(LITERALS)
                elif values.dtype == object:
                    bad = values.isna() | values.astype(str).isin(LITERALS)
                else:
                    continue
                if bad.any():
                    found.append(f"{column}: {int(bad.sum())} cells")
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return found
