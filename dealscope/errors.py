"""The error types DealScope raises on purpose; anything else escaping is a bug.

Each error carries a catalog key (`errors.*`) and its parameters — values only: file names, line
numbers, column names, limits — so it can be read in either language. `str(exc)` is the English
text, rendered from the same catalog (one source per text); `error_text(exc, lang)` renders it in
`lang`. A parameter may be a `Text` (a translatable fragment such as "file [sheet]" or a fix) or a
list (joined with the language's list separator).
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from dealscope.i18n import catalog

# The language str(exc) is written in (logs, tracebacks, the English UI and CLI).
BASE_LANGUAGE = "en"
LIST_SEPARATORS = {"en": ", ", "zh-CN": "、"}
# An empty list said in words ("unknown fields: none"), not as nothing between brackets.
EMPTY_LISTS = {"en": "none", "zh-CN": "无"}


@dataclass(frozen=True)
class Text:
    """A translatable fragment used as an error parameter: a catalog key and its parameters."""

    key: str
    params: Mapping[str, object] = field(default_factory=dict)

    def render(self, lang: str, escape: Callable[[str], str] | None = None) -> str:
        return render(self.key, lang, self.params, escape)


def text(key: str, **params: object) -> Text:
    """Shorthand for a `Text` fragment: text("errors.label.sheet", file=name, sheet=title)."""
    return Text(key, params)


class _ErrorFormatter(string.Formatter):
    """str.format with fragments rendered in the same language, lists joined by its separator,
    and (with `escape`) every value escaped once — the template's own text never."""

    def __init__(self, lang: str, escape: Callable[[str], str] | None) -> None:
        self.lang = lang
        self.escape = escape or (lambda value: value)

    def convert_field(self, value: object, conversion: str | None) -> object:
        if conversion == "r" and isinstance(value, Text):
            return _Rendered(self.escape(repr(value.render(self.lang))))
        return super().convert_field(value, conversion)

    def format_field(self, value: object, format_spec: str) -> str:
        if isinstance(value, _Rendered):
            return format(str(value), format_spec)
        if isinstance(value, Text):  # its template is catalog text; its values are escaped inside
            return format(value.render(self.lang, self.escape), format_spec)
        if isinstance(value, list | tuple):
            parts = [self.format_field(item, "") for item in value]
            joined = LIST_SEPARATORS.get(self.lang, ", ").join(parts)
            return format(joined or EMPTY_LISTS.get(self.lang, ""), format_spec)
        return self.escape(format(value, format_spec))


class _Rendered(str):
    """Text already rendered and escaped (a fragment given with !r)."""


def render(
    key: str,
    lang: str,
    params: Mapping[str, object],
    escape: Callable[[str], str] | None = None,
) -> str:
    """The catalog text of `key` in `lang` with `params` filled in (a missing key: KeyError);
    `escape` (e.g. escape_markdown) is applied to each value, not to the catalog's text."""
    return _ErrorFormatter(lang, escape).vformat(catalog(lang)[key], (), params)


class DealScopeError(Exception):
    """Base class: the message is written for the person who has to act on it.

    Raise with a catalog key: `raise NoDataError(key="errors.ingest.empty_file", file=name)`.
    A plain message (`DealScopeError("...")`) is still accepted and then shown as-is in every
    language; a test keeps every raise site in dealscope/ on a key.
    """

    def __init__(self, message: str | None = None, *, key: str | None = None, **params: object):
        self.key = key
        self.params = params
        if key is not None:
            message = render(key, BASE_LANGUAGE, params)
        super().__init__(*(() if message is None else (message,)))


def error_text(exc: BaseException, lang: str, escape: Callable[[str], str] | None = None) -> str:
    """The error's text in `lang`: its catalog text when it has a key, else str(exc) (escaped as a
    whole with `escape`, being a value). `escape` is applied to the values only (file names,
    columns …): the catalog's texts hold no markup."""
    key = getattr(exc, "key", None)
    if key is None:
        return escape(str(exc)) if escape else str(exc)
    return render(key, lang, getattr(exc, "params", {}), escape)


class DatasetNotFound(DealScopeError):
    """No stored dataset has the requested name or id."""


class StoreUnavailable(DealScopeError):
    """The database cannot be reached, is locked or is read-only."""
