"""Screen 3 — Recommendations, through AppTest: without a model run it says how to train; with
one, cards come sorted by expected impact with their evidence and projection, the filters
narrow them, only managers get Apply and Dismiss, the member explorer masks personal data for
everyone but admins, and dismissing on the screen updates the database."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from core.optimize import store
from core.optimize.recommendations import KIND_LABELS
from tests.app.conftest import (app_database, clear_streamlit_caches, database_url_of, formula_cells, new_app,
                                open_tab, plain, screen_path)
from tests.db.test_optimize_training import shared_trained

PAGE = screen_path("Recommendations")


@pytest.fixture(scope="module")
def trained_app(backends):
    """The session's trained small demo (shared: tests here add rows but change none)."""
    engine, _ = shared_trained(backends)
    with app_database(database_url_of(engine)):
        yield engine


def open_page(role: str, tab: str | None = None):
    """The screen as `role` sees it, on `tab` (only the open tab runs)."""
    at = new_app(role, PAGE)
    if tab:
        at.session_state["opt_tab"] = tab
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value.replace("\u00ad", "") for t in at.title] == ["Recommendations"]
    return at


def card_titles(at) -> list[str]:
    return [plain(m.value[5:]) for m in at.markdown if m.value.startswith("#### ")]


def chart_titles(at) -> list[str]:
    titles = []
    for chart in at.get("plotly_chart"):
        title = json.loads(chart.proto.spec)["layout"].get("title", {})
        titles.append(title.get("text", "") if isinstance(title, dict) else str(title))
    return titles


@pytest.mark.parametrize("role", ["exec", "manager"])
def test_without_a_model_run_the_screen_says_how_to_train(app_env, role):
    at = open_page(role)
    assert any("No model results yet" in i.value and "python -m core train" in i.value for i in at.info)


def test_cards_come_best_first_with_evidence_and_projection(trained_app):
    at = open_page("manager")
    cards = store.recommendations(trained_app)
    shown = card_titles(at)
    assert shown == cards.title.tolist()[:len(shown)] and len(shown) == min(8, len(cards))
    assert sum("ROI projection" in t for t in chart_titles(at)) >= len(shown)
    metrics = {m.label for m in at.metric}
    assert {"Expected impact / week", "Confidence", "Implementation", "Open recommendations"} <= metrics
    assert [t.label for t in at.tabs] == ["Recommendations", "Offers", "Send time", "Affinity", "Segments", "History"]
    assert not any("Best hours of" in t for t in chart_titles(at))      # the other tabs do not run
    assert any("Best hours of" in t for t in chart_titles(open_tab(at, "opt_tab", "Send time")))
    assert any("Best offers by profit per send" in t for t in chart_titles(open_tab(at, "opt_tab", "Offers")))
    assert any("Segment affinity" in t for t in chart_titles(open_tab(at, "opt_tab", "Affinity")))
    assert any("Segment profiles" in t for t in chart_titles(open_tab(at, "opt_tab", "Segments")))
    assert not card_titles(at)


def test_the_screen_says_what_was_suppressed_and_never_claims_certainty(trained_app):
    """The run's selection (candidates weighed, shown, suppressed and why) is on the screen, the
    count agrees with the stored cards, and no confidence reads 100 %."""
    at = open_page("manager")
    selection = store.current_run(trained_app)["metrics"]["recommendations"]
    said = [c.value for c in at.caption if "candidate changes" in c.value]
    assert said and f"shows {selection['shown']}" in said[0]
    assert selection["shown"] <= len(store.recommendations(trained_app))  # other tests add copies of cards
    confidences = [m.value for m in at.metric if m.label == "Confidence"]
    assert confidences and not any(v.startswith("100") for v in confidences)
    assert all(v == "> 99 %" or float(v.split()[0]) < 99.0 for v in confidences)
    assert any("of the campaign's current weekly revenue" in c.value for c in at.caption)


def test_filters_narrow_the_cards(trained_app):
    at = open_page("analyst")
    kinds = store.recommendations(trained_app).kind
    kind = kinds.value_counts().index[-1]
    at.selectbox(key="opt_kind").set_value(kind).run()
    assert not at.exception
    expected = store.recommendations(trained_app, kind=kind)
    assert card_titles(at) == expected.title.tolist()[:8]
    captions = [c.value for c in at.caption if "· campaign **" in c.value]
    assert captions and all(c.startswith(KIND_LABELS[kind]) for c in captions)


def test_only_managers_can_apply(trained_app):
    manager = open_page("manager")
    analyst = open_page("analyst")
    assert any(b.key and b.key.startswith("apply_") for b in manager.button)
    assert not any(b.key and b.key.startswith(("apply_", "dismiss_")) for b in analyst.button)
    assert any("Only marketing managers" in c.value for c in analyst.caption)


@pytest.mark.parametrize("role,masked", [("analyst", True), ("manager", True), ("admin", False)])
def test_member_explorer_masks_personal_data(trained_app, role, masked):
    at = open_page(role, "Affinity")
    member = at.selectbox(key="opt_member").value
    with trained_app.connect() as conn:
        name, email = conn.execute(text("SELECT full_name, email FROM members WHERE member_id = :m"), {"m": member}).one()
    shown = " ".join(plain(m.value) for m in at.markdown)
    assert (email in shown) is not masked and (name in shown) is not masked
    if masked:
        assert f"{email[0]}•••@" in shown


def test_dismiss_on_the_screen(trained_app):
    with trained_app.begin() as conn:  # a copy of the best card, on top of the list, to dismiss
        new_id = conn.execute(text("""
            INSERT INTO recommendations (campaign_id, kind, segment, title, details, confidence, ease, impact_mean,
                                         impact_low, impact_high, status, run_id, expires_at, holdout_share)
            SELECT campaign_id, kind, segment, 'Copy to dismiss: ' || title, details, confidence, ease,
                   impact_mean + 1, impact_low, impact_high + 1, 'proposed', run_id, expires_at, holdout_share
            FROM recommendations WHERE status = 'proposed' ORDER BY impact_mean DESC LIMIT 1
            RETURNING recommendation_id""")).scalar()
    clear_streamlit_caches()  # the screen caches its reads for 30 s
    at = open_page("manager")
    first = store.recommendations(trained_app).iloc[0]
    assert first.recommendation_id == new_id
    at.button(key=f"dismiss_{first.recommendation_id}").click().run()
    assert not at.exception
    with trained_app.connect() as conn:
        status = conn.execute(text("SELECT status FROM recommendations WHERE recommendation_id = :i"),
                              {"i": int(first.recommendation_id)}).scalar()
        audited = conn.execute(text("SELECT count(*) FROM audit_log WHERE target = :t"),
                               {"t": f"recommendation:{new_id}"}).scalar()
    assert status == "dismissed" and audited == 1
    assert f"dismiss_{first.recommendation_id}" not in [b.key for b in at.button]
    assert any(f"Dismissed #{first.recommendation_id}" in s.value for s in at.success)


def test_recommendations_export_is_formula_safe(trained_app, downloads):
    formula = "=cmd|' /C calc'!A0"
    with trained_app.begin() as conn:  # a card whose title is a spreadsheet formula, last in the list
        card = conn.execute(text("""
            INSERT INTO recommendations (campaign_id, kind, segment, title, details, confidence, ease, impact_mean,
                                         impact_low, impact_high, status, run_id, expires_at, holdout_share)
            SELECT campaign_id, kind, segment, :title, details, confidence, ease, impact_mean - 1e6,
                   impact_low - 1e6, impact_high - 1e6, 'proposed', run_id, expires_at, holdout_share
            FROM recommendations WHERE status = 'proposed' ORDER BY impact_mean DESC LIMIT 1
            RETURNING recommendation_id"""), {"title": formula}).scalar()
    clear_streamlit_caches()
    try:
        open_page("analyst")
    finally:  # the session's shared database keeps only the rows other tests expect
        with trained_app.begin() as conn:
            conn.execute(text("DELETE FROM recommendations WHERE recommendation_id = :i"), {"i": card})
        clear_streamlit_caches()
    exported = downloads["recommendations.csv"]
    assert formula_cells(exported) == []
    assert f"'{formula}".encode() in exported
