"""Screen 3 — Recommendations, through AppTest: without a model run it says how to train; with
one, cards come sorted by expected impact with their evidence and projection, the filters
narrow them, only managers get Apply and Dismiss, the member explorer masks personal data for
everyone but admins, and dismissing on the screen updates the database."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from sqlalchemy import text

from core.optimize import store
from core.optimize.recommendations import KIND_LABELS
from screens.optimization.cards import PAGE_SIZE
from screens.optimization.history import projected_against_realised
from screens.optimization.offers import reward_type_chart
from tests.app.conftest import (chart_specs as specs_on_page, all_kpi_cards, app_database, clear_streamlit_caches, database_url_of, formula_cells,
                                html_tables, new_app, open_tab, plain, screen_path)
from tests.db.test_optimize_training import shared_trained
from ui.format import money

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


def chart_specs(at) -> list[dict]:
    """The Vega-Lite specs on screen; every chart's data is inline in its layers, and no value
    there is missing (a missing value would read "null" or "NaN" on the chart)."""
    specs = specs_on_page(at)
    for spec in specs:
        assert spec.get("description"), spec
        for layer in spec.get("layer", []):
            for row in layer.get("data", {}).get("values", []):
                assert all(v is not None and v == v for v in row.values()), (spec["description"], row)
    assert not at.get("plotly_chart")
    return specs


def chart_titles(at) -> list[str]:
    """What names each chart: its description (how the tests find a chart) and its title."""
    titles = []
    for spec in chart_specs(at):
        title = spec.get("title", "")
        titles.append(spec["description"] + " | " + (str(title.get("text", "")) if isinstance(title, dict) else str(title)))
    return titles


def chart(at, description: str) -> dict:
    """The one chart whose description starts with `description`."""
    found = [s for s in chart_specs(at) if s["description"].startswith(description)]
    assert len(found) == 1, [s["description"] for s in chart_specs(at)]
    return found[0]


def layer_values(spec: dict, mark: str) -> list[dict]:
    """The data of the chart's first layer drawn with `mark`."""
    for layer in spec["layer"]:
        kind = layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]
        if kind == mark:
            return layer["data"]["values"]
    raise AssertionError(f"no {mark} layer in {spec['description']}")


@pytest.mark.parametrize("role", ["exec", "manager"])
def test_without_a_model_run_the_screen_says_how_to_train(app_env, role):
    at = open_page(role)
    assert any("No model results yet" in i.value and "python -m core train" in i.value for i in at.info)


def test_cards_come_best_first_with_evidence_and_projection(trained_app):
    at = open_page("manager")
    cards = store.recommendations(trained_app)
    shown = card_titles(at)
    assert shown == cards.title.tolist()[:len(shown)] and len(shown) == min(PAGE_SIZE, len(cards))
    assert sum("ROI projection" in t for t in chart_titles(at)) >= len(shown)
    for card in cards.head(len(shown)).itertuples():  # each card's projection, as stored with the card
        p = (json.loads(card.details) if isinstance(card.details, str) else card.details)["projection"]
        spec = chart(at, f"ROI projection of card #{card.recommendation_id}:")
        lines = layer_values(spec, "line")
        for name, key in (("As is", "current"), ("With the change", "with_change")):
            drawn = [r for r in lines if r["scenario"] == name]
            assert [r["week"] for r in drawn] == p["weeks"]
            assert [r["profit"] for r in drawn] == pytest.approx(p[f"{key}_profit"])
            assert [r["low"] for r in drawn] == pytest.approx(p[f"{key}_profit_low"])
            assert [r["high"] for r in drawn] == pytest.approx(p[f"{key}_profit_high"])
        assert layer_values(spec, "area") == lines  # the 90 % bands around the same numbers
    evidence = html_tables(at, "evidence")  # each card's evidence, in words
    assert len(evidence) == len(shown)
    for table in evidence:
        assert list(table.columns) == ["What", "Value"] and len(table) > 0
        assert not table.What.str.contains("_").any() and table.What.str[0].str.isupper().all()
        assert (table.Value != "").all() and "None" not in table.Value.tolist()
    kpis = all_kpi_cards(at)
    assert {"Expected impact / week", "Confidence", "Implementation", "Open recommendations"} <= {c.label for c in kpis}
    impacts = [c for c in kpis if c.label == "Expected impact / week"]
    assert len(impacts) == len(shown)                                   # one card block per recommendation
    for card, row in zip(impacts, cards.head(len(shown)).itertuples()):  # its value and 90 % interval, in order
        assert card.value == money(row.impact_mean)
        assert card.note == f"90 %: {money(row.impact_low)} to {money(row.impact_high)}"
    assert [t.label for t in at.tabs] == ["Recommendations", "Offers", "Send time", "Affinity", "Segments", "History"]
    assert not any("Best hours of" in t for t in chart_titles(at))      # the other tabs do not run
    hours = chart(open_tab(at, "opt_tab", "Send time"), "Best send hours")
    members = int(store.send_time_distribution(trained_app).members.sum())
    assert sum(r["members"] for r in layer_values(hours, "bar")) == members
    assert hours["title"]["text"] == f"Best hours of {members:,} members"
    assert any("Weekday effect" in t for t in chart_titles(at)) and any("Open probability by local hour" in t
                                                                         for t in chart_titles(at))
    offers = chart(open_tab(at, "opt_tab", "Offers"), "Best offers by profit per send")
    scores = store.offer_scores(trained_app, int(at.selectbox(key="opt_offer_campaign").value))
    expected = pd.concat([scores.head(15), scores[scores.is_current]]).drop_duplicates("offer_id")
    bars = layer_values(offers, "bar")
    assert sorted(r["profit_per_send"] for r in bars) == pytest.approx(sorted(expected.profit_per_send))
    assert {r["offer"] for r in bars if r["is_current"]} == set(scores[scores.is_current].offer)
    assert any("Segment affinity" in t for t in chart_titles(open_tab(at, "opt_tab", "Affinity")))
    profiles = chart(open_tab(at, "opt_tab", "Segments"), "Segment profiles")
    segments = store.segments(trained_app)
    assert sorted((r["key"], r["members"]) for r in layer_values(profiles, "circle")) == sorted(
        (f"#{k}", int(m)) for k, m in zip(segments.segment_key, segments.members))
    assert not card_titles(at)


def test_the_screen_says_what_was_suppressed_and_never_claims_certainty(trained_app):
    """The run's selection (candidates weighed, shown, suppressed and why) is on the screen, the
    count agrees with the stored cards, and no confidence reads 100 %."""
    at = open_page("manager")
    selection = store.current_run(trained_app)["metrics"]["recommendations"]
    said = [c.value for c in at.caption if "candidate changes" in c.value]
    assert said and f"shows {selection['shown']}" in said[0]
    assert selection["shown"] <= len(store.recommendations(trained_app))  # other tests add copies of cards
    confidences = [c for c in all_kpi_cards(at) if c.label == "Confidence"]
    assert confidences and not any(c.value.startswith("100") for c in confidences)
    assert all(c.value == "> 99 %" or float(c.value.split()[0]) < 99.0 for c in confidences)
    assert any("of the campaign's current weekly revenue" in c.note for c in confidences)


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


def test_history_chart_draws_realised_impact_only_where_measured():
    """Projected impact for every applied card; realised (a diamond a little below) only for the
    cards with enough data, with the numbers measured."""
    applied = pd.DataFrame({
        "recommendation_id": [3, 7], "title": ["Send at each member's best local hour", "Pause the campaign"],
        "impact_mean": [3676.0, 120.0], "impact_low": [2907.0, -40.0], "impact_high": [4441.0, 300.0],
        "enough_data": [None, True], "realised_mean": [None, -20.0], "realised_low": [None, -150.0],
        "realised_high": [None, 95.0]})
    spec = projected_against_realised(applied)
    points = [(row, layer["encoding"].get("shape")) for layer in spec["layer"] if layer["mark"]["type"] == "point"
              for row in layer["data"]["values"]]
    assert [(r["card"], r["series"], r["mean"], r["low"], r["high"]) for r, _ in points] == [
        ("#3 Send at each member's best local hour", "Projected", 3676.0, 2907.0, 4441.0),
        ("#7 Pause the campaign", "Projected", 120.0, -40.0, 300.0),
        ("#7 Pause the campaign", "Realised (treated vs holdout)", -20.0, -150.0, 95.0)]
    assert points[0][1]["scale"]["range"] == ["circle", "diamond"]
    for layer in spec["layer"]:
        assert all(v is not None and v == v for row in layer["data"]["values"] for v in row.values())


def test_the_reward_type_chart_draws_no_interval_where_the_model_claims_none():
    """A segment whose campaigns do not identify its reward-type preference (NaN interval,
    core.optimize.offers.reward_type_effect) keeps its dot, draws no interval and says why in
    its tooltip; an identified one draws its interval around its dot."""
    effects = pd.DataFrame({"segment": ["deal_seeker", "new_high"], "odds_ratio_percent": [0.93, 1.6],
                            "low": [0.81, float("nan")], "high": [1.07, float("nan")]})
    spec = reward_type_chart(effects)
    rule, dot = spec["layer"][1:]
    assert [(r["segment"], r["ratio"], r["interval"]) for r in dot["data"]["values"]] == [
        ("deal seeker", 0.93, "0.81 – 1.07"), ("new high", 1.6, "none: too few campaigns of one reward type")]
    assert [(r["segment"], r["low"], r["high"]) for r in rule["data"]["values"]] == [("deal seeker", 0.81, 1.07)]
    assert (rule["encoding"]["x"]["field"], rule["encoding"]["x2"]["field"]) == ("low", "high")
    low, high = dot["encoding"]["x"]["scale"]["domain"]
    assert low < 0.81 and high > 1.6                                          # every dot and interval in view
