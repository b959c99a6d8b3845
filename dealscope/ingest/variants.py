"""Optional script-variant mapping (RELIABILITY I5): traditional → simplified Chinese in name and
category columns, so 張偉 and 张伟 count as one owner and 華東 and 华东 as one region.

Off by default (`IngestSettings.traditional_to_simplified`, the Data page's checkbox, the CLI's
`--traditional-to-simplified`) and recorded with the dataset's settings. The conversion is OpenCC's
`t2s` (character and phrase tables, PyPI `opencc`), applied to the distinct values only; every
changed value is counted in a file note with examples.
"""

from __future__ import annotations

import pandas as pd

from dealscope.ingest.rawtable import as_text

# Canonical columns whose values are names or categories people group by.
VARIANT_TARGETS = ("account", "owner", "team", "region", "industry", "source", "customer_type")
OPENCC_CONFIG = "t2s"
# Han ideographs (CJK Extension A, Unified, Compatibility): only these values can change.
_HAN = "[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
NOTE_EXAMPLES = 3


def to_simplified(values: pd.Series) -> tuple[pd.Series, dict[str, str]]:
    """`values` (text) with traditional characters made simplified, and {before: after} of the
    distinct values that changed. Values without Han characters are returned untouched."""
    text = as_text(values)
    han = text.str.contains(_HAN, regex=True).fillna(False).astype(bool)
    if not han.any():
        return values, {}
    import opencc  # imported on use: most uploads never need it

    # A converter per call: cheap (~3 ms) and never shared between concurrent sessions.
    convert = opencc.OpenCC(OPENCC_CONFIG).convert
    changed = {v: s for v in text[han].unique() if (s := convert(v)) != v}
    if not changed:
        return values, {}
    hit = text.isin(list(changed)).fillna(False).astype(bool)
    return as_text(text.mask(hit, text.map(changed))), changed


def variant_note(column: str, changed: dict[str, str]) -> str:
    """File note: how many distinct values of `column` were mapped, with a few examples."""
    examples = ", ".join(f"{a} → {b}" for a, b in list(changed.items())[:NOTE_EXAMPLES])
    more = ", …" if len(changed) > NOTE_EXAMPLES else ""
    return f"{column}: {len(changed)} values mapped to simplified script ({examples}{more})"
