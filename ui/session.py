"""Who is using the app: sign-in with the identity provider when one is configured, else the
demo's role picker. Pages ask current_user(); core checks every action against its role."""
from __future__ import annotations

import streamlit as st

from core.access.auth import ROLE_LABELS, ROLES, User
from ui import data
from ui.errors import database_guard
from ui.format import escape_markdown

DEMO_ROLE_KEY = "demo_role"
DEFAULT_DEMO_ROLE = "manager"


def identity_provider_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def current_user() -> User | None:
    if identity_provider_configured():
        if not st.user.is_logged_in:
            return None
        email = str(st.user.get("email") or "").lower()
        with database_guard():
            return User(email, str(st.user.get("name") or email), data.role_for(email))
        st.stop()  # the guard has shown the outage message and retries by itself
    role = st.session_state.get(DEMO_ROLE_KEY, DEFAULT_DEMO_ROLE)
    return User(f"demo-{role}@swipesavvy.example", f"Demo {ROLE_LABELS[role].lower()}", role)


def sign_in_gate() -> User:
    """Stop the script with a sign-in screen unless somebody is signed in."""
    user = current_user()
    if user is None:
        st.title("SwipeSavvy Campaign Insights")
        st.write("Sign in with your company account to see campaign analytics.")
        if st.button("Sign in", type="primary"):
            st.login()
        st.stop()
    return user


def account_box(user: User) -> None:
    """Sidebar: who is signed in, and in the demo a role picker."""
    with st.sidebar:
        if identity_provider_configured():
            st.caption(f"Signed in as **{escape_markdown(user.name)}** · {ROLE_LABELS[user.role]}")
            if st.button("Sign out"):
                st.logout()
        else:
            # The widget's own default is the manager (index=), not a value put in the session
            # first: the browser did not always adopt that value, kept its own default (the first
            # role, Executive) and sent it back with the next click, so a manager's first click
            # could make them an executive (seen in CI: the Apply button vanished under the click).
            st.selectbox("Demo role", ROLES, index=ROLES.index(DEFAULT_DEMO_ROLE), key=DEMO_ROLE_KEY,
                         format_func=lambda r: ROLE_LABELS[r],
                         help="No identity provider is configured, so this demo lets you pick whom to be.")
