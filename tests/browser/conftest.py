"""A real `streamlit run` of the app on the demo database, and Debian's Chromium driven by
Playwright. Screenshots go to test-output/screenshots/."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(database_url: str, extra_env: dict | None = None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, **(extra_env or {})}
    (ROOT / "test-output").mkdir(exist_ok=True)  # a module run on its own starts here
    log = open(ROOT / "test-output" / f"streamlit-{port}.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.headless", "true", "--server.address", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(base + "/_stcore/health", timeout=2).read() == b"ok":
                return process, base
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise RuntimeError(f"streamlit did not start; see {log.name}")


def stop_process(process: subprocess.Popen) -> None:
    """Ask a started process to end; kill it if it has not within 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


BUSY_MACHINE_TIMEOUT_MS = 120_000


@pytest.fixture(scope="session")
def app_url(demo_db):
    (ROOT / "test-output").mkdir(exist_ok=True)
    process, base = start_app(demo_db.url_for_app)
    yield base
    stop_process(process)


@pytest.fixture(scope="session")
def chromium():
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is not installed: run `make chromium` (make test does it).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    # Sized for a busy 2-core machine (tests, the app and Chromium share it): a wait that gives
    # up after Playwright's default 30 s failed there while the page was still coming.
    context.set_default_timeout(BUSY_MACHINE_TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed browser test's report says where the page was: its URL, whether a script was
    running, the text of the page, and a screenshot in test-output/screenshots/ (CI keeps only
    the log, and a timeout alone does not say what the page showed instead)."""
    outcome = yield
    report = outcome.get_result()
    page = item.funcargs.get("page") if hasattr(item, "funcargs") else None
    if report.when != "call" or not report.failed or page is None:
        return
    try:
        state = page.evaluate("() => document.querySelector('[data-testid=\"stApp\"]')"
                              "?.getAttribute('data-test-script-state')")
        shown = page.get_by_test_id("stMain").inner_text(timeout=5_000)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shot = SCREENSHOTS / f"failed-{item.name[:80]}.png"
        page.screenshot(path=str(shot), full_page=True, timeout=10_000)
        report.sections.append(("page at failure", f"URL: {page.url}\nscript state: {state}\nscreenshot: {shot}\n"
                                                    f"text shown (first 3,000 characters):\n{shown[:3000]}"))
    except Exception as error:  # the report must not fail because the page is gone
        report.sections.append(("page at failure", f"not captured: {type(error).__name__}: {error}"))


def wait_for_app(page, timeout_ms: int = BUSY_MACHINE_TIMEOUT_MS) -> None:
    """Wait until the script run has finished (not merely started)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.wait_for_function(
        """() => { const app = document.querySelector('[data-testid="stApp"]');
                   return app && app.getAttribute('data-test-script-state') !== 'running'
                          && app.getAttribute('data-test-script-state') !== null; }""",
        timeout=timeout_ms)
    time.sleep(0.5)  # let charts paint


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def full_screenshot(page, name: str) -> Path:
    """Like screenshot(), but of everything on the page: Streamlit scrolls inside its main
    container, so full_page alone captures one viewport. The viewport is stretched to the
    content's height for the shot, then put back."""
    size = dict(page.viewport_size)
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": min(max(height + 40, size["height"]), 16_000)})
    time.sleep(1)  # charts re-lay out to the new size
    try:
        return screenshot(page, name)
    finally:
        page.set_viewport_size(size)


# --- reading and driving the app (shared by the screen tests) -----------------------------

def open_screen(page, app_url: str, title: str) -> None:
    """Open the app at its root (so app.py runs: sign-in gate, sidebar), then the screen with
    this navigation title, and wait for its run to finish."""
    if not page.url.startswith(app_url):
        page.goto(app_url + "/")
        wait_for_app(page)
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    page.get_by_role("heading", level=1).first.wait_for()
    wait_for_app(page)


def metric_value(page, label: str) -> str:
    """The value of the card labelled `label`: a KPI card (ui.kpi_cards) or an st.metric."""
    kpi = page.locator(".kpi-card").filter(has=page.locator(".kpi-label").get_by_text(label, exact=True))
    card = page.get_by_test_id("stMetric").filter(has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True))
    kpi.or_(card).first.wait_for()
    if kpi.count():
        return kpi.first.locator(".kpi-value").inner_text().strip()
    return card.get_by_test_id("stMetricValue").inner_text().strip()


def set_date_range(page, first, last) -> None:
    """Type a range into the sidebar's st.date_input (React Aria segments: year, month, day of
    the start, then of the end) and leave the field, which is when Streamlit takes the value."""
    field = page.get_by_test_id("stSidebar").get_by_test_id("stDateInput")
    for end, day in (("start", first), ("end", last)):
        field.get_by_role("spinbutton", name=f"year, Date range {end} date").click()
        page.keyboard.type(f"{day:%Y%m%d}", delay=20)
    page.get_by_test_id("stMain").get_by_role("heading", level=1).first.click()  # blur: the value is sent


def horizontal_overflow(page) -> dict:
    """How far the page and Streamlit's main block are wider than the window (px, > 0 = overflow)."""
    return page.evaluate("""() => {
        const main = document.querySelector('[data-testid="stMain"]');
        const block = document.querySelector('[data-testid="stMainBlockContainer"]');
        return {page: document.scrollingElement.scrollWidth - window.innerWidth,
                main: main.scrollWidth - main.clientWidth,
                block: block ? block.scrollWidth - block.clientWidth : 0};
    }""")
