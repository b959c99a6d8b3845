"""The CLI's text output (without --json): one "label: value" line per figure, labels and values
in the chosen language through the same formatters as the app (dealscope.formatting)."""

from __future__ import annotations

from collections.abc import Mapping

from dealscope.formatting import format_days, format_value
from dealscope.i18n import catalog


def figure_lines(
    figures: Mapping[str, object],
    labels: Mapping[str, str],
    kinds: Mapping[str, str],
    currency: str | None,
    lang: str,
) -> list[str]:
    """`label: value` per scalar figure, labels right-aligned; keys without a label print as is."""
    rows = [
        (labels.get(key, key), _text(value, kinds.get(key, "text"), currency, lang))
        for key, value in figures.items()
        if not isinstance(value, (list, dict))
    ]
    width = max((_width(label) for label, _ in rows), default=0)
    return [f"{' ' * (width - _width(label))}{label}: {value}" for label, value in rows]


def catalog_labels(prefix: str, keys, lang: str) -> dict[str, str]:
    """Labels of `keys` from the catalog entries `prefix + key` that exist."""
    entries = catalog(lang)
    return {key: entries[prefix + key] for key in keys if prefix + key in entries}


def _text(value, kind: str, currency: str | None, lang: str) -> str:
    if kind == "days":  # a line of its own: the unit in full ("63.6 days", not "63.6 d")
        return format_days(value, lang)
    return format_value(value, kind, currency, lang)


def _width(text: str) -> int:
    """Terminal columns: a Chinese character takes two."""
    return sum(2 if "\u2e80" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" else 1 for ch in text)
