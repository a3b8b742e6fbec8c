"""The System screen in a real browser: healthy, reachable, row counts of the demo database, at
desktop and phone width; plus what a fresh `streamlit run` does on a first visit and whether it
logs deprecation warnings. Screenshots are in test-output/screenshots/."""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import (ROOT, full_screenshot, horizontal_overflow, metric_value, open_screen,
                                    start_app, stop_process, wait_for_app)

pytestmark = pytest.mark.browser


@pytest.fixture
def fresh_app(demo_db):
    """A `streamlit run` of its own that no browser has visited yet; yields (base URL, log path)."""
    process, base = start_app(demo_db.url_for_app)
    yield base, ROOT / "test-output" / f"streamlit-{base.rsplit(':', 1)[1]}.log"
    stop_process(process)


def grid_cells(page) -> list[str]:
    """Text of the data grids' cells (Glide draws on a canvas and mirrors cells in a hidden table)."""
    cells = page.get_by_test_id("stMain").locator('[data-testid="stDataFrame"] td[role="gridcell"]')
    cells.first.wait_for(state="attached")
    return [cell.strip() for cell in cells.all_text_contents()]


def test_system_screen_shows_a_healthy_database_and_row_counts(page, app_url, demo_data):
    open_screen(page, app_url, "System")
    main = page.get_by_test_id("stMain")
    assert "● healthy" in main.get_by_text(re.compile("^Status:")).inner_text()
    assert metric_value(page, "Database") == "reachable"
    assert metric_value(page, "Events waiting") == "0"
    cells = grid_cells(page)
    members = cells.index("members")
    assert int(cells[members + 1].replace(",", "")) == len(demo_data.members)
    campaigns = cells.index("campaigns")
    assert int(cells[campaigns + 1].replace(",", "")) == len(demo_data.campaigns)
    full_screenshot(page, "system-1400")

    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(1000)
    overflow = horizontal_overflow(page)
    assert max(overflow.values()) <= 2, f"System at 390 px overflows sideways: {overflow}"
    full_screenshot(page, "system-390")


def test_no_deprecation_warning_in_the_streamlit_log(page, fresh_app):
    base, log = fresh_app
    page.goto(base + "/")
    wait_for_app(page)
    page.get_by_role("tab", name="Campaign detail").click()
    page.wait_for_timeout(1000)
    open_screen(page, base, "System")
    warnings = [line for line in log.read_text().splitlines()
                if re.search(r"deprecat|will be removed|please replace", line, re.IGNORECASE)]
    assert not warnings, "\n".join(warnings)


# Streamlit 1.67 treats a folder named pages/ next to app.py as a v1 multipage app until
# st.navigation has run once in the process; the screens live in screens/ so that the first
# visit to a screen's own URL still runs app.py (sign-in gate, sidebar, wide layout).
def test_first_visit_straight_to_a_screen_still_goes_through_app_py(page, fresh_app):
    base, _ = fresh_app
    page.goto(base + "/system")
    wait_for_app(page)
    page.get_by_role("heading", level=1).first.wait_for()
    sidebar = page.get_by_test_id("stSidebarUserContent")
    sidebar.get_by_text("Time zone").first.wait_for(timeout=60_000)  # the sidebar can paint late on a busy machine
    assert sidebar.get_by_text("Time zone").count() == 1, "the sidebar of app.py is missing"
    nav = page.get_by_test_id("stSidebarNav").inner_text()
    assert "Campaign analytics" in nav
