"""Bilingual text: zh-CN (default) and en catalogs, and t(key, lang, **kwargs).

Catalogs live in locales/<lang>/<area>.json, one file per area so each view owns its strings.
Keys are namespaced by area ("overview.kpi.won"). Both languages must have the same keys; a test
enforces it. Pure module: the caller passes the language (Streamlit code reads it from the session).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
LANGUAGE_LABELS = {"zh-CN": "中文", "en": "English"}
_LOCALES = Path(__file__).parent / "locales"


class DuplicateKeyError(ValueError):
    """Two catalog files of one language define the same key."""


@cache
def catalog(lang: str) -> dict[str, str]:
    """All strings of one language, merged from its area files."""
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}; choose one of {LANGUAGES}")
    merged: dict[str, str] = {}
    for path in sorted((_LOCALES / lang).glob("*.json")):
        entries = json.loads(path.read_text(encoding="utf-8"))
        clash = merged.keys() & entries.keys()
        if clash:
            raise DuplicateKeyError(f"{path.name} redefines {sorted(clash)}")
        merged.update(entries)
    return merged


def normalise_language(value: str | None) -> str:
    """A supported language code for a user-supplied value (e.g. ?lang=en), else the default."""
    if not value:
        return DEFAULT_LANGUAGE
    lowered = value.strip().lower()
    if lowered.startswith("en"):
        return "en"
    if lowered.startswith("zh"):
        return "zh-CN"
    return DEFAULT_LANGUAGE


def t(key: str, lang: str = DEFAULT_LANGUAGE, **kwargs: object) -> str:
    """The text for `key` in `lang`, formatted with `kwargs`; a missing key raises KeyError."""
    text = catalog(lang)[key]
    return text.format(**kwargs) if kwargs else text
