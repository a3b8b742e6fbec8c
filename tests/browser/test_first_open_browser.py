"""The first open (issue 14, "ready when the browser opens"): right after the demo is loaded as
`make run` loads it (events, rollups, the A/B tests' first snapshot, the first model training)
and the app, the worker and the live simulator are up and healthy, every screen opened by its
link in a fresh browser finds its content — KPI cards, tables, charts, recommendation cards, the
test list, live tiles — and no empty state. A failure names the screen and what was missing."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from core.access.auth import SYSTEM
from core.demo import generator as demo
from core.experiments import snapshots
from core.optimize.training import train_now
from core.platform import health, rollup
from core.platform.db import make_engine
from tests.browser.conftest import (BUSY_MACHINE_TIMEOUT_MS, ROOT, full_screenshot, start_app,
                                    stop_process, wait_for_app)
from tests.conftest import PRIMARY_BACKEND

pytestmark = pytest.mark.browser

# What a screen says when it has nothing to show: none of it may appear on a first open.
EMPTY_STATES = ["No campaign sent anything", "No activity in", "No active test", "No open recommendation",
                "No model results yet", "No job has run yet", "no event in the last", "No new event for",
                "cannot be reached", "No events in the last"]
CONTENT_TIMEOUT_MS = 60_000  # after the script's run: charts load their library and draw


def started(args: list[str], url: str, log_name: str) -> subprocess.Popen:
    log = open(ROOT / "test-output" / log_name, "w")
    return subprocess.Popen([sys.executable, "-m", "core", *args], cwd=ROOT, env={**os.environ, "DATABASE_URL": url},
                            stdout=log, stderr=subprocess.STDOUT)


@pytest.fixture(scope="module")
def just_started(backends, demo_data):
    """A new database loaded as `python -m core demo` loads it (the session's demo data), then the
    worker, the simulator (at `make run`'s rate) and the app, as `make run` starts them; yields
    the app's URL once the app answers and the database's health is ok."""
    backend = backends[PRIMARY_BACKEND]
    url = backend.url(backend.create_database(template=backend.template))
    engine = make_engine(url, pool_size=2)
    demo.load(engine, demo_data)
    rollup.refresh_all(engine)
    snapshots.take_snapshots(engine)
    trained = train_now(engine, SYSTEM, trained_by="demo load")
    assert not trained.skipped, trained.detail
    (ROOT / "test-output").mkdir(exist_ok=True)
    processes = [started(["worker"], url, "first-open-worker.log"),
                 started(["simulate", "--rate", "50"], url, "first-open-simulator.log")]
    app, base = start_app(url)
    processes.append(app)
    try:
        deadline = time.monotonic() + 300  # a busy 2-core machine: the worker starts, the simulator catches up
        while (report := health.check(engine)).status != "ok":
            assert time.monotonic() < deadline, f"the app's database is not healthy: {report}"
            time.sleep(1)
        yield base
    finally:
        for process in reversed(processes):
            stop_process(process)
        engine.dispose()


def alerts(page) -> list[str]:
    return [text.strip() for text in page.get_by_test_id("stMain").get_by_test_id("stAlert").all_inner_texts()]


def expect(page, screen: str, what: str, selector: str, at_least: int = 1) -> None:
    """At least `at_least` elements matching the CSS `selector` inside the main area, or fail
    naming the screen, what is missing and what the screen says instead. Counted in the page
    (not with a locator's nth): a fragment that reruns every 2 s replaces its elements."""
    count = f"document.querySelectorAll('[data-testid=\"stMain\"] {selector}').length"
    try:
        page.wait_for_function(f"() => {count} >= {at_least}", timeout=CONTENT_TIMEOUT_MS)
    except PlaywrightTimeout:
        pytest.fail(f"{screen}: {what} missing on first open (found {page.evaluate(count)}, expected at least "
                    f"{at_least}); the screen's messages: {alerts(page)}")


def by_testid(name: str) -> str:
    return f'[data-testid="{name}"]'


CHART_DRAWN = by_testid("stVegaLiteChart") + " svg"  # every chart is Vega-Lite, drawn as SVG


def no_empty_state(page, screen: str) -> None:
    shown = page.get_by_test_id("stMain").inner_text()
    found = [phrase for phrase in EMPTY_STATES if phrase.lower() in shown.lower()]
    assert not found, f"{screen}: an empty state on first open ({found}); the screen's messages: {alerts(page)}"
    assert page.get_by_test_id("stException").count() == 0, f"{screen}: an exception on first open"
    assert page.get_by_text("Page not found").count() == 0, f"{screen}: 'Page not found' on first open"


def metric_labels(page) -> list[str]:
    """The labels of the number cards in the main area: st.metric's and the KPI cards' (ui.kpi_cards)."""
    main = page.get_by_test_id("stMain")
    return [t.strip() for t in main.get_by_test_id("stMetricLabel").all_inner_texts()
            + main.locator(".kpi-label").all_inner_texts()]


def open_fresh(browser, base: str, path: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(BUSY_MACHINE_TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{base}/{path}")
    wait_for_app(page)
    page.get_by_role("heading", level=1).first.wait_for()
    return context, page


def check_overview(page) -> None:
    expect(page, "Overview", "KPI cards", ".kpi-card", 6)
    expect(page, "Overview", "the movers tables", by_testid("stDataFrame"), 2)
    expect(page, "Overview", "the waterfall chart, drawn", CHART_DRAWN)
    assert {"Revenue", "Cost", "ROI", "Conversions", "Sends", "Members reached"} <= set(metric_labels(page)), \
        f"Overview: KPI cards missing, found {metric_labels(page)}"


def check_campaigns(page) -> None:
    expect(page, "Campaign analytics (Portfolio)", "the portfolio charts, drawn", CHART_DRAWN, 2)
    expect(page, "Campaign analytics (Portfolio)", "the portfolio and totals tables", by_testid("stDataFrame"), 2)
    page.get_by_role("tab", name="Campaign detail").click()
    wait_for_app(page)
    expect(page, "Campaign analytics (Campaign detail)", "KPI cards", ".kpi-card", 10)
    # the open section's chart, the series (only the open tab is drawn: the portfolio's two are
    # gone, and so are the other sections')
    expect(page, "Campaign analytics (Campaign detail)", "the series chart, drawn", CHART_DRAWN, 1)
    page.get_by_role("tab", name="Why did this change").click()
    wait_for_app(page)
    expect(page, "Campaign analytics (Why did this change)", "the waterfall chart, drawn", CHART_DRAWN, 1)
    page.get_by_role("tab", name="Breakdown").click()
    wait_for_app(page)
    expect(page, "Campaign analytics (Breakdown)", "the open breakdown's chart, drawn", CHART_DRAWN, 1)
    expect(page, "Campaign analytics (Breakdown)", "the open breakdown's table", "table.breakdown-segment tbody tr")


def check_ab_tests(page) -> None:
    expect(page, "A/B tests", "the list of active tests", "table.active-tests tbody tr")
    expect(page, "A/B tests", "the chosen test's variant table", "table.variants tbody tr", 2)


def check_recommendations(page) -> None:
    expect(page, "Recommendations", "recommendation cards", ".kpi-card", 4)
    assert "Expected impact / week" in metric_labels(page), \
        f"Recommendations: no recommendation card, cards found: {metric_labels(page)}"


def check_live(page) -> None:
    expect(page, "Real-time", "live KPI tiles", by_testid("stMetric"), 4)
    expect(page, "Real-time", "the activity map, drawn", ".st-key-live_map_frame " + CHART_DRAWN)
    expect(page, "Real-time", "the live event stream's rows", "table.live-stream tbody tr")
    assert "Active members" in metric_labels(page), f"Real-time: no active-members tile, found {metric_labels(page)}"


def check_system(page) -> None:
    expect(page, "System", "status cards", by_testid("stMetric"), 4)
    expect(page, "System", "row counts, jobs and roles tables", by_testid("stDataFrame"), 3)
    assert "healthy" in page.get_by_test_id("stMain").inner_text(), \
        f"System: not healthy on first open; the screen's messages: {alerts(page)}"


# (screen, its heading, its URL path, what it must show)
SCREENS = [("Overview", "Overview", "overview", check_overview),
           ("Campaign analytics", "Campaign analytics", "", check_campaigns),  # the landing page: the root URL
           ("A/B tests", "A/B tests", "ab_tests", check_ab_tests),
           ("Recommendations", "Recommendations", "optimization", check_recommendations),
           ("Real-time", "Real-time performance", "live", check_live),
           ("System", "System", "system", check_system)]


@pytest.mark.parametrize("title,heading,path,check", SCREENS, ids=[s[2] or "campaigns" for s in SCREENS])
def test_every_screen_has_its_content_on_first_open(just_started, chromium, title, heading, path, check):
    # the session's browser (one Playwright per thread: a second one inside it fails), each
    # screen in a new context: no cookies, no session
    context, page = open_fresh(chromium, just_started, path)
    try:
        headings = [h.replace("\u00ad", "").strip() for h in page.get_by_role("heading", level=1).all_inner_texts()]
        assert heading in headings, f"{title}: the link /{path} opened {headings}"
        check(page)
        no_empty_state(page, title)
        full_screenshot(page, f"first-open-{path or 'campaigns'}-1400")
    finally:
        context.close()
