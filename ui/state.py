"""Per-session language state and the translation shortcut pages use."""

from __future__ import annotations

import streamlit as st

from dealscope.i18n import DEFAULT_LANGUAGE, t

LANG_KEY = "lang"


def current_lang() -> str:
    """The session's UI language (set by the sidebar switch or ?lang=)."""
    return st.session_state.get(LANG_KEY, DEFAULT_LANGUAGE)


def tr(key: str, **kwargs: object) -> str:
    """Translate `key` into the session's language."""
    return t(key, current_lang(), **kwargs)
