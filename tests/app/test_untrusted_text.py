"""Text is text: names, hypotheses, notes and other strings from people or data show as the
characters they are (no image, link, colour, formula, HTML or bold made from them), and no CSV
export carries a cell a spreadsheet would run as a formula.

A/B tests are created through core as the screen creates them (tests_repo.create_test), on the
demo data with one region code and one campaign name replaced by spreadsheet formulas."""
from __future__ import annotations

import dataclasses
import re

import pytest

from core.access.auth import User
from core.demo import generator as demo
from core.experiments import snapshots, tests_repo
from core.platform import rollup
from tests.app.conftest import (app_database, database_url_of, formula_cells, html_tables, new_app, open_tab, plain,
                                screen_path)

MARKDOWN_PAYLOADS = ["![px](http://127.0.0.1:9/track.png)", "[click](http://127.0.0.1:9/)", ":red[FAKE VERDICT]",
                     "$$\\frac{a}{b}$$", "<img src=x onerror=alert(1)>", "**bold**"]
VARIANT = "treatment _em_"  # variant names allow letters, digits, spaces, _ . - : enough for emphasis
FORMULA_REGION = "=cmd|' /C calc'!A0"
FORMULA_CAMPAIGN = "@SUM(1+1)*cmd|' /C calc'!A0"
FORMULA_TEST = "=HYPERLINK(\"http://127.0.0.1:9/\",\"open\")"
MANAGER = User("payload.manager@swipesavvy.example", "Payload Manager", "manager")
AB_PAGE = screen_path("A/B tests")


def with_formulas(data: demo.DemoData) -> demo.DemoData:
    """The demo data with formulas for its busiest region code, its last campaign's name and its
    first A/B test's name."""
    region = data.events.region_code.value_counts().index[0]
    swap = {region: FORMULA_REGION}
    last = data.campaigns.campaign_id.max()
    first_test = data.ab_tests.test_id.min()
    return dataclasses.replace(
        data,
        ab_tests=data.ab_tests.assign(name=data.ab_tests.name.where(data.ab_tests.test_id != first_test, FORMULA_TEST)),
        regions=data.regions.assign(region_code=data.regions.region_code.replace(swap)),
        members=data.members.assign(region_code=data.members.region_code.replace(swap)),
        events=data.events.assign(region_code=data.events.region_code.replace(swap)),
        campaigns=data.campaigns.assign(name=data.campaigns.name.where(data.campaigns.campaign_id != last,
                                                                         FORMULA_CAMPAIGN)))


@pytest.fixture
def payload_db(db, demo_data):
    """Demo data with formulas in it, and A/B tests named, hypothesised and decided with payloads:
    one per payload on a free campaign, one of them ended with a winner and a payload note."""
    demo.load(db, with_formulas(demo_data))
    rollup.refresh_all(db)
    busy = set(tests_repo.list_tests(db).campaign_id)
    free = [c for c in demo_data.campaigns.campaign_id if c not in busy]
    names = MARKDOWN_PAYLOADS
    created = []
    for index, name in enumerate(names):
        created.append(tests_repo.create_test(
            db, MANAGER, campaign_id=int(free[index]), name=name, primary_metric="clicked",
            hypothesis=names[(index + 1) % len(names)], variants={"control": 50, VARIANT: 50}))
    tests_repo.control(db, MANAGER, created[0], "declare_winner", winner=VARIANT, note=MARKDOWN_PAYLOADS[2])
    snapshots.take_snapshots(db)
    db.payload_tests = dict(zip(names, created))
    return db


def formula_test(db) -> int:
    tests = tests_repo.list_tests(db)
    return int(tests.loc[tests.name == FORMULA_TEST, "test_id"].iloc[0])


def markdown_texts(at) -> list[str]:
    """Every string the screen hands to Streamlit's Markdown: bodies of markdown, captions,
    headings and alerts, every label (widgets, tabs, expanders, metrics), metric values and
    deltas, radio and segmented-control options. Not select-box options, typed inputs or table
    cells of st.dataframe: those are shown as plain text."""
    texts = []

    def walk(node) -> None:
        kind = getattr(node, "type", "")
        if kind in ("markdown", "caption", "title", "header", "subheader", "success", "info", "warning", "error"):
            texts.append(node.value)
        elif kind == "metric":
            texts.extend([node.label, node.value, node.delta or ""])
        elif kind in ("radio", "button_group"):
            texts.extend(str(option) for option in node.options)
        label = getattr(node, "label", None)
        if isinstance(label, str):
            texts.append(label)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at.main)
    walk(at.sidebar)
    return texts


def html_blocks(at) -> list[str]:
    """Every HTML block on screen (ui.html_table's tables): markup of our own, text escaped."""
    return [block.proto.body for block in at.get("html")]


def unescaped(text: str) -> str:
    """The Markdown syntax left in a text: what remains after dropping backslash escapes."""
    return re.sub(r"\\.", "", text)


def assert_shown_as_text(texts: list[str], payloads: list[str]) -> None:
    for text in texts:
        syntax = unescaped(text)
        assert "![" not in syntax and "](http" not in syntax and ":red[FAKE" not in syntax, text  # :red[ is ours too
        assert "$$" not in syntax and "<img" not in syntax and "**bold**" not in text and "_em_" not in syntax, text
    readable = "\n".join(plain(text) for text in texts)
    for payload in payloads:  # shown, as itself, not dropped
        assert payload in readable, payload


def test_ab_screen_shows_names_hypotheses_and_notes_as_text(payload_db):
    tests = payload_db.payload_tests
    with app_database(database_url_of(payload_db)):
        at = new_app("manager", AB_PAGE).run()
        texts = markdown_texts(at)
        blocks, variants = html_blocks(at), []
        for name in MARKDOWN_PAYLOADS[1:]:            # every active payload test in full
            at.selectbox(key="ab_active_test").set_value(tests[name]).run()
            assert not at.exception, [e.value for e in at.exception]
            texts += markdown_texts(at)
            blocks += html_blocks(at)
            variants += [v for table in html_tables(at, "variants") for v in table.Variant]
        at.selectbox(key="ab_active_test").set_value(formula_test(payload_db)).run()   # a test with members:
        variants += [v for table in html_tables(at, "variants") for v in table.Variant]
        at.radio(key="active_action").set_value("declare_winner").run()               # its controls
        texts += markdown_texts(at)
        open_tab(at, "ab_tab", "History")
        at.selectbox(key="ab_history_test").set_value(tests[MARKDOWN_PAYLOADS[0]]).run()
        texts += markdown_texts(at)
        # The flash after creating a test on the screen names it.
        open_tab(at, "ab_tab", "Create a test")
        at.text_input(key="new_name").input(MARKDOWN_PAYLOADS[3]).run()
        at.button(key="new_create").click().run()
        assert not at.exception, [e.value for e in at.exception]
        flashes = [s.value for s in at.success]
        texts += markdown_texts(at)
    assert_shown_as_text(texts, MARKDOWN_PAYLOADS)
    assert blocks and not [b for b in blocks if "<img" in b or "<a " in b]   # HTML tables: names escaped
    assert "control (control)" in variants                                   # the variant table was read
    assert any("created" in flash and MARKDOWN_PAYLOADS[3] in plain(flash) for flash in flashes), flashes
    assert any(VARIANT in plain(t) and "winner" in t for t in texts)  # the winner and the decision note


def test_every_export_is_formula_safe(payload_db, downloads):
    with app_database(database_url_of(payload_db)):
        campaigns = new_app("analyst").run()                       # the portfolio
        offered = {b.key for b in campaigns.get("download_button")}
        open_tab(campaigns, "tab", "Campaign detail")              # the series and breakdowns (lazy tabs)
        offered |= {b.key for b in campaigns.get("download_button")}
        open_tab(campaigns, "detail_view", "Breakdown")
        for breakdown in ("Device", "Region", "Channel"):         # one breakdown drawn at a time: each
            open_tab(campaigns, "breakdown_tab", breakdown)
            offered |= {b.key for b in campaigns.get("download_button")}
        tracker = new_app("analyst", AB_PAGE).run()
        test_id = formula_test(payload_db)
        tracker.selectbox(key="ab_active_test").set_value(test_id).run()
    for at in (campaigns, tracker):
        assert not at.exception, [e.value for e in at.exception]
    assert {"dl_portfolio", "dl_series", "dl_breakdown_region", "active_download"} <= offered | {
        b.key for b in tracker.get("download_button")}
    assert len(downloads) >= 7
    for file_name, data in downloads.items():
        assert formula_cells(data) == [], file_name
    region = next(data for name, data in downloads.items() if name.startswith("breakdown_region"))
    portfolio = next(data for name, data in downloads.items() if name.startswith("portfolio"))
    metrics = next(data for name, data in downloads.items() if name.startswith("ab_test_"))
    # The formulas are in the files, as text a spreadsheet shows rather than runs.
    assert f"'{FORMULA_REGION}".encode() in region
    assert f"'{FORMULA_CAMPAIGN}".encode() in portfolio
    assert "'=HYPERLINK(".encode() in metrics
