"""Per-session language state and the translation shortcut pages use."""

from __future__ import annotations

import streamlit as st

from dealscope.errors import error_text
from dealscope.formatting import escape_markdown
from dealscope.i18n import DEFAULT_LANGUAGE, t

LANG_KEY = "lang"


def current_lang() -> str:
    """The session's UI language (set by the sidebar switch or ?lang=)."""
    return st.session_state.get(LANG_KEY, DEFAULT_LANGUAGE)


def tr(key: str, **kwargs: object) -> str:
    """Translate `key` into the session's language."""
    return t(key, current_lang(), **kwargs)


def error_message(exc: BaseException | str) -> str:
    """An error's text in the session's language, for Markdown elements (st.error, st.warning …):
    its values — file names, columns, sheet names — escaped once; the catalog text is not. A
    plain message (an error without a key, or a str) is escaped as a whole."""
    if isinstance(exc, str):
        return escape_markdown(exc)
    return error_text(exc, current_lang(), escape=escape_markdown)
