"""The System screen through AppTest: health, freshness and row counts of the demo database,
roles managed by admins only (audited), and a database that is down."""
from __future__ import annotations

import pandas as pd
import pytest

from core.access import audit
from core.access import auth
from tests.app.conftest import (UNREACHABLE_URL, app_database, database_url_of, new_app, plain, screen_path,
                                shown_metrics, table_with)

PAGE = screen_path("System")


def test_system_shows_a_healthy_reachable_database(open_app):
    at = open_app("exec", PAGE)
    status = next(m.value for m in at.markdown if m.value.startswith("Status:"))
    assert "● healthy" in status  # everything rolled up, no failed job
    metrics = shown_metrics(at)
    assert metrics["Database"] == "reachable"
    assert metrics["Events waiting"] == "0"
    assert metrics["Rollup lag"] == "0 s"
    assert metrics["Latest event"].endswith(" ago")


def test_row_counts_match_the_demo_data(open_app, demo_data):
    at = open_app("exec", PAGE)
    counts = table_with(at, "table", "rows").set_index("table")["rows"]
    assert counts["members"] == len(demo_data.members)
    assert counts["campaigns"] == len(demo_data.campaigns)
    assert counts["A/B tests"] == len(demo_data.ab_tests)
    assert counts["event partitions"] > 0


@pytest.mark.parametrize("role", ["exec", "analyst", "manager"])
def test_only_admins_are_offered_role_management(open_app, role):
    at = open_app(role, PAGE)
    assert not at.text_input
    assert "Only admins can change roles." in [c.value for c in at.caption]


def test_admin_grants_a_role_through_the_form_and_it_is_audited(db):
    with app_database(database_url_of(db)):
        at = new_app("admin", PAGE).run()
        assert not at.exception
        at.text_input[0].input("New.Analyst@SwipeSavvy.example")
        next(s for s in at.selectbox if s.label == "Role").set_value("analyst")
        next(b for b in at.button if b.label == "Save role").click().run()
        assert not at.exception, [e.value for e in at.exception]
        assert [plain(s.value) for s in at.success] == ["new.analyst@swipesavvy.example is now Analyst."]
    assert auth.role_for(db, "new.analyst@swipesavvy.example") == "analyst"
    log = audit.recent(db, limit=5)
    assert (log.action == "grant_role").sum() == 1
    assert log.iloc[0].actor == "demo-admin@swipesavvy.example"


def test_admin_gets_a_clear_message_for_a_bad_email(db):
    with app_database(database_url_of(db)):
        at = new_app("admin", PAGE).run()
        at.text_input[0].input("not-an-email")
        next(b for b in at.button if b.label == "Save role").click().run()
    assert not at.exception
    assert any("not an e-mail address" in plain(e.value) for e in at.error)
    assert auth.list_roles(db).empty


def test_database_down_shows_a_message_not_a_traceback():
    with app_database(UNREACHABLE_URL):
        at = new_app("admin", PAGE).run()
    assert not at.exception
    shown = " ".join(e.value for e in at.error)
    assert "cannot be reached" in shown or "Database unreachable" in shown
    assert not any(isinstance(d.value, pd.DataFrame) and len(d.value) for d in at.dataframe)
