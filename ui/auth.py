"""Optional sign-in and the server's own settings from `.streamlit/secrets.toml`.

With an `[auth]` section (Streamlit's built-in OIDC login) every page asks for sign-in first and
admits only the e-mails or domains listed under `[dealscope]` (`allowed_emails`,
`allowed_domains`; both empty admits every signed-in user). Without `[auth]` the sidebar says the
app is open to anyone who can reach the server. Visitors can never change any of this: it is read
from the server's secrets only. See docs/DEPLOY.md.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import streamlit as st

from dealscope.formatting import escape_markdown
from ui.state import tr

AUDIT = logging.getLogger("dealscope.audit")
ANONYMOUS = "anonymous"


def secret_section(name: str) -> Mapping:
    """One top-level table of the server's secrets ({} when there is none or no secrets file)."""
    try:
        section = st.secrets.get(name)
    except FileNotFoundError:  # no secrets.toml at all (StreamlitSecretNotFoundError)
        return {}
    return section if isinstance(section, Mapping) else {}


@dataclass(frozen=True)
class AccessPolicy:
    """Who may use the app: whether sign-in is on, and the allow-list (lower-cased)."""

    sign_in: bool
    emails: frozenset[str]
    domains: frozenset[str]

    def admits(self, email: str | None) -> bool:
        if not self.sign_in:
            return True
        if not email:
            return False
        email = email.strip().lower()
        if not self.emails and not self.domains:
            return True  # the identity provider decides who can sign in
        return email in self.emails or email.rsplit("@", 1)[-1] in self.domains


def access_policy() -> AccessPolicy:
    settings = secret_section("dealscope")

    def lowered(key: str) -> frozenset[str]:
        values = settings.get(key) or []
        values = [values] if isinstance(values, str) else values
        return frozenset(str(v).strip().lower().lstrip("@") for v in values if str(v).strip())

    return AccessPolicy(bool(secret_section("auth")), lowered("allowed_emails"),
                        lowered("allowed_domains"))  # fmt: skip


def _signed_in() -> bool:
    return bool(st.user.get("is_logged_in"))


def current_user() -> str:
    """Who is using this session: the signed-in e-mail, else 'anonymous' (for records and logs)."""
    if not access_policy().sign_in or not _signed_in():
        return ANONYMOUS
    return str(st.user.get("email") or st.user.get("name") or ANONYMOUS)


def sign_in_gate() -> bool:
    """Draw the sign-in screen or the open-server notice; True when the pages may be shown."""
    policy = access_policy()
    if not policy.sign_in:
        # A caption, not a warning box: pages own the sidebar warnings (filters from links).
        st.sidebar.caption(f"⚠️ {tr('auth.open_notice')}")
        return True
    if not _signed_in():
        st.title(tr("app.title"))
        st.info(tr("auth.sign_in_needed"))
        st.button(tr("auth.sign_in"), on_click=st.login, key="auth_sign_in", type="primary")
        return False
    email = st.user.get("email")
    # An address the provider says is unverified proves nothing about the allow-list.
    verified = st.user.get("email_verified") is not False
    if not verified or not policy.admits(email if isinstance(email, str) else None):
        AUDIT.warning("access refused for %s (not on the allow-list)", email)
        st.error(tr("auth.not_allowed"))
        st.button(tr("auth.sign_out"), on_click=st.logout, key="auth_sign_out_refused")
        return False
    st.sidebar.caption(tr("auth.signed_in_as", user=escape_markdown(current_user())))
    st.sidebar.button(tr("auth.sign_out"), on_click=st.logout, key="auth_sign_out")
    return True


def audit(action: str, **details: object) -> None:
    """Log a consequential action (training, deleting, saving) with the session's user."""
    described = " ".join(f"{key}={value!r}" for key, value in details.items())
    AUDIT.info("%s by %s %s", action, current_user(), described)
