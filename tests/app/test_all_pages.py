"""Every screen in app.py renders for every role, and the sign-in gate of an identity provider:
signed out shows only the sign-in screen; signed in, the role comes from user_roles."""
from __future__ import annotations

import pytest

from core.access.auth import ROLE_LABELS, ROLES, User, grant_role
from tests.app.conftest import (AUTH_SECRETS, UNREACHABLE_URL, app_database, database_url_of, kpi_cards, new_app,
                                open_tab, screens)

ADMIN = User("admin@swipesavvy.example", "Admin", "admin")
# Campaign analytics draws only its open tab: its other tab is opened too, as a click would
# (tab key, label, the key of a select box drawn on that tab).
OTHER_TABS = {"Campaign analytics": ("tab", "Campaign detail", "campaign_id")}


def open_other_tab(at, title: str) -> None:
    key, label, widget = OTHER_TABS[title]
    open_tab(at, key, label)  # fails on an exception
    assert widget in [s.key for s in at.selectbox], f"{title}: {label} was not drawn"


def test_app_lists_screens_that_exist():
    titles = [title for _, title in screens()]
    assert "Campaign analytics" in titles and "System" in titles


@pytest.mark.parametrize("role", ROLES)
def test_every_screen_renders_for_every_role(app_env, role):
    for path, title in screens():
        at = new_app(role, path).run()
        assert not at.exception, f"{path} as {role}: {[e.value for e in at.exception]}"
        assert at.title, f"{path} as {role} showed no title"
        assert not [e.value for e in at.error], f"{path} as {role} showed errors"
        if title in OTHER_TABS:
            open_other_tab(at, title)
            assert not [e.value for e in at.error], f"{path} ({OTHER_TABS[title][1]}) as {role} showed errors"


def test_signed_out_visitor_sees_only_the_sign_in_screen(app_env):
    at = new_app()
    at.secrets = AUTH_SECRETS
    at.user = {"is_logged_in": False}
    at.run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert "Sign in with your company account" in " ".join(m.value for m in at.markdown)
    # Nothing of the app: no numbers, no sidebar filters, no demo role picker.
    assert not at.metric and not kpi_cards(at) and not at.tabs and not at.selectbox and not at.date_input


@pytest.mark.parametrize("granted", ["analyst", None])
def test_signed_in_person_gets_the_role_an_admin_granted(db, granted):
    email = "ana.lyst@swipesavvy.example"
    if granted:
        grant_role(db, ADMIN, email, granted)
    with app_database(database_url_of(db)):
        at = new_app()
        at.secrets = AUTH_SECRETS
        at.user = {"is_logged_in": True, "email": "Ana.Lyst@SwipeSavvy.example", "name": "Ana Lyst"}
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    expected = ROLE_LABELS[granted or "exec"]  # nobody mapped: read-only executive
    assert f"Signed in as **Ana Lyst** · {expected}" in [c.value for c in at.sidebar.caption]
    assert [b.label for b in at.sidebar.button] == ["Sign out"]
    assert "demo_role" not in [s.key for s in at.selectbox]


def test_every_screen_renders_on_an_empty_database(db):
    """A fresh install before any data arrives: explanations, not exceptions."""
    with app_database(database_url_of(db)):
        for path, title in screens():
            at = new_app("admin", path).run()
            assert not at.exception, f"{path}: {[e.value for e in at.exception]}"
            if title in OTHER_TABS:
                open_other_tab(at, title)


# Streamlit 1.67 runs a folder named pages/ beside app.py as a v1 multipage app: from the
# second AppTest run on (and on a fresh server's first visit to a screen URL) the page would run
# without app.py — no sign-in gate, no sidebar. The screens therefore live in screens/.
def test_app_py_runs_on_every_rerun(app_env):
    at = new_app("analyst").run()
    assert "tz" in [s.key for s in at.selectbox]  # first run: app.py's sidebar is there
    at.run()
    assert "tz" in [s.key for s in at.selectbox], "second run skipped app.py (sidebar and sign-in gate)"


def test_signed_in_person_sees_the_outage_message_when_the_database_is_down():
    with app_database(UNREACHABLE_URL):
        at = new_app()
        at.secrets = AUTH_SECRETS
        at.user = {"is_logged_in": True, "email": "ana@swipesavvy.example", "name": "Ana"}
        at.run()
    assert not at.exception
    assert any("cannot be reached" in e.value for e in at.error)
