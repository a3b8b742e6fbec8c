"""The A/B test tracker in a real browser: open it, switch the method, download the metrics CSV
and check its rows; screenshots at desktop and phone width; and one test's whole life — create
(a draft), start, pause, resume, declare a winner, read it in History — with screenshots in
docs/screenshots/ab_*.png."""
from __future__ import annotations

import shutil

import pandas as pd
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect
from sqlalchemy import text

from core.demo import generator as demo
from core.demo.demo_tests import conclude
from core.experiments import snapshots
from core.experiments.outcomes import OUTCOMES
from core.platform import db as core_db
from core.platform import rollup
from tests.browser.conftest import ROOT, SCREENSHOTS, full_screenshot, screenshot, start_app, stop_process, wait_for_app
from tests.conftest import PRIMARY_BACKEND

pytestmark = pytest.mark.browser
DOCS = ROOT / "docs" / "screenshots"


def open_tracker(page, app_url: str) -> None:
    page.goto(app_url)
    wait_for_app(page)
    page.locator('[data-testid="stSidebarNav"]').get_by_text("A/B tests").click()
    wait_for_app(page)
    page.get_by_text("Verdict:").first.wait_for(timeout=60_000)


def bayesian_metrics_download(page):
    """Switch the active test's view to Bayesian and download its metrics; the download is tried
    again in a new session (the page reloaded) if none starts within 60 s. In CI a cold server's
    first download sometimes never came back (the button kept its spinner; 3 of 6 full runs
    here): a Streamlit download made on click, not understood yet (see the closing note)."""
    for attempt in range(2):
        page.get_by_text("Bayesian", exact=True).first.click()    # the method switch of the active test
        wait_for_app(page)
        page.get_by_text("Lift per metric, treatment vs control · Bayesian").first.wait_for(timeout=60_000)
        # The title is drawn while the rerun goes on, above the download button: wait for the
        # run's end, or the click can land on the button of the run before.
        wait_for_app(page)
        try:
            with page.expect_download(timeout=60_000) as download:
                page.get_by_text("Download test metrics (CSV)").first.click()
            return download.value
        except PlaywrightTimeoutError:
            if attempt:
                raise
            page.reload()
            wait_for_app(page)
            page.get_by_text("Verdict:").first.wait_for(timeout=60_000)


def test_tracker_method_switch_and_metrics_download(page, app_url, tmp_path):
    open_tracker(page, app_url)
    assert page.get_by_text("Lift per metric, treatment vs control · Sequential").first.is_visible()
    screenshot(page, "ab_tests_sequential")

    download = bayesian_metrics_download(page)
    path = tmp_path / "metrics.csv"
    download.save_as(path)
    assert download.suggested_filename.endswith("_bayesian_relative.csv")
    metrics = pd.read_csv(path)
    assert set(metrics.method) == {"bayesian"}
    assert metrics.test_id.nunique() == 1 and metrics.role.iloc[0] == "primary"
    variants = set(metrics.variant)
    assert len(metrics) == len(variants) * metrics.metric.nunique()      # every variant of every metric
    assert set(metrics.metric) <= set(OUTCOMES) and (metrics.n > 0).all()
    treatments = metrics[~metrics.is_control]
    assert treatments.chance_to_win.between(0, 1).all()
    assert (treatments.lift_relative_ci_low <= treatments.lift_relative).all()
    screenshot(page, "ab_tests_bayesian")


def test_tracker_on_a_phone(page, app_url):
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(app_url)
    wait_for_app(page)
    page.get_by_text("Campaign analytics").first.wait_for()
    # On a phone the navigation sits in the collapsed sidebar.
    page.locator('[data-testid="stExpandSidebarButton"], [data-testid="stSidebarCollapsedControl"]').first.click()
    page.locator('[data-testid="stSidebarNav"]').get_by_text("A/B tests").click()
    wait_for_app(page)
    page.get_by_text("Verdict:").first.wait_for(timeout=60_000)
    # Close the sidebar to see the page. On a phone Streamlit may close it by itself after the
    # navigation, at a moment of its own: then the close button is off screen and a click on it
    # waits in vain (seen once in CI), so the click may fail, and the sidebar must end up closed.
    sidebar = page.get_by_test_id("stSidebar")
    try:
        page.locator('[data-testid="stSidebarCollapseButton"]').first.click(timeout=10_000)
    except PlaywrightTimeoutError:
        pass
    expect(sidebar).to_have_attribute("data-collapsed", "true", timeout=30_000)
    page.get_by_text("Predicted winner").first.wait_for(timeout=60_000)  # drawn after the verdict
    assert page.get_by_text("Predicted winner").first.is_visible()
    page.wait_for_timeout(800)  # the sidebar's closing slide: the screenshot shows the page, not the slide
    screenshot(page, "ab_tests_phone")


# --------------------------------------------------------------------------- a test's whole life


@pytest.fixture(scope="module")
def fresh_tracker(backends, demo_data):
    """(engine, app URL) of a fresh copy of the demo for this module: the walk below changes it."""
    backend = backends[PRIMARY_BACKEND]
    url = backend.url(backend.create_database(template=backend.template))
    engine = core_db.make_engine(url, pool_size=2)
    demo.load(engine, demo_data)
    rollup.refresh_all(engine)
    conclude(engine, demo_data.end)   # as `python -m core demo` does: History has the demo's ended tests
    snapshots.take_snapshots(engine)
    process, base = start_app(url)
    yield engine, base
    stop_process(process)
    engine.dispose()


def open_section(page, name: str) -> None:
    """Open a section of the screen (a segmented control, bound to the URL) and wait for its run."""
    page.get_by_test_id("stMain").get_by_role("radio", name=name, exact=True).click()
    wait_for_app(page)


def box_of_tests(page):
    """The select box of tests in the open section (its value is the test shown in it)."""
    return page.get_by_test_id("stMain").get_by_role("combobox", name="Test", exact=True)


def act(page, action: str, confirm_text: str, reason: str | None = None) -> None:
    """Pick a control of the test shown, confirm it and apply it (only the open section runs, so
    these are the controls of the active test picked, or of the ended one History shows)."""
    main = page.get_by_test_id("stMain")
    main.get_by_test_id("stRadio").filter(has_text="Action").get_by_text(action, exact=True).click()
    wait_for_app(page)
    if reason is not None:
        field = main.get_by_label("Reason (required)")
        field.fill(reason)
        field.press("Enter")
        wait_for_app(page)
    # the box names the action picked: wait for it, not for the box of the action before
    box = main.get_by_test_id("stCheckbox").filter(has_text=f"{confirm_text}: {action.lower()}").first
    box.wait_for(timeout=60_000)
    button = main.get_by_role("button", name=action, exact=True)
    # wait_for_app can return before a click's rerun has begun, and a tick given while a rerun is
    # in flight was seen lost once on a busy CI machine (the button stayed disabled for 120 s):
    # tick until the button the tick enables is enabled.
    for _ in range(4):
        if not box.locator("input").is_checked():  # the page may keep the last confirmation ticked
            box.get_by_text(confirm_text).click()
            wait_for_app(page)
        try:
            expect(button).to_be_enabled(timeout=20_000)
            break
        except AssertionError:
            wait_for_app(page)
    button.click()
    wait_for_app(page)
    page.get_by_text(f"{action}: done").first.wait_for(timeout=60_000)


def docs_screenshot(page, name: str) -> None:
    full_screenshot(page, name)
    DOCS.mkdir(parents=True, exist_ok=True)
    shutil.copy(SCREENSHOTS / f"{name}.png", DOCS / f"{name}.png")


def test_create_start_pause_resume_declare_and_history(page, fresh_tracker):
    engine, base = fresh_tracker
    open_tracker(page, base)
    open_section(page, "Create a test")
    main = page.get_by_test_id("stMain")
    name = main.get_by_label("Test name")
    name.fill("Walk through the lifecycle")
    name.press("Enter")
    wait_for_app(page)
    main.get_by_text("Start now (otherwise save as a draft)").click()     # a draft first
    wait_for_app(page)
    docs_screenshot(page, "ab_create")
    main.get_by_role("button", name="Create test").click()
    wait_for_app(page)
    page.get_by_text("“Walk through the lifecycle” created").first.wait_for(timeout=60_000)
    # the new test opens in "Active tests", picked (a user's next click must not take the page back:
    # with st.tabs, a section set by the script was lost on the next click, streamlit issue #15458)
    expect(main.get_by_role("radio", name="Active tests", exact=True)).to_be_checked(timeout=60_000)
    with engine.connect() as conn:
        test_id, status, planned = conn.execute(text(
            "SELECT test_id, status, planned_per_arm FROM ab_tests WHERE name = 'Walk through the lifecycle'")).one()
    assert status == "draft"
    # the new test is the one shown: its name heads the active tab's detail
    page.get_by_role("heading", name="Walk through the lifecycle").first.wait_for(timeout=60_000)
    # ...and the browser's box shows it too (a value the script set before the box's first draw
    # was shown as the box's default, and sent back with the next click)
    expect(box_of_tests(page)).to_have_value(f"Walk through the lifecycle (#{test_id})", timeout=60_000)
    if planned:
        assert page.get_by_text(f"{planned:,} members per arm").first.is_visible()

    steps = [("Start", "running"), ("Pause", "paused"), ("Resume", "running")]
    for action, expected in steps:
        act(page, action, "I confirm")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT status FROM ab_tests WHERE test_id = :t"), {"t": test_id}).scalar() == expected
        expect(main.get_by_role("radio", name="Active tests", exact=True)).to_be_checked(timeout=60_000)
    docs_screenshot(page, "ab_running")
    # Nobody has been reached yet: declaring a winner goes against the rule and needs a reason.
    act(page, "Declare a winner", "I confirm", reason="the brand team decided before launch")
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT verdict, against_rule FROM ab_decisions WHERE test_id = :t"),
                              {"t": test_id}).one()
    assert stored.against_rule

    # declaring a winner ends the test: History opens by itself, showing it
    expect(main.get_by_role("radio", name="History", exact=True)).to_be_checked(timeout=60_000)
    page.get_by_text("Verdict when decided:").first.wait_for(timeout=60_000)   # the box, not the list's header
    expect(box_of_tests(page)).to_have_value(f"Walk through the lifecycle (#{test_id})", timeout=60_000)
    page.get_by_text("Flagged: the winner was declared against the rule's verdict").first.wait_for(timeout=60_000)
    docs_screenshot(page, "ab_history")
