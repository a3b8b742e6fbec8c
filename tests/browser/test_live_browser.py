"""Screen 4 in Debian's Chromium against a running app, with the live simulator writing into a
fresh copy of the demo database: the numbers move without a page reload, the map (no tile
service) and the charts render, and no personal data reaches the page."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import text

from core.demo import generator as demo
from core.platform import rollup
from core.platform.db import make_engine
from tests.browser.conftest import BUSY_MACHINE_TIMEOUT_MS, ROOT, screenshot, start_app, stop_process, wait_for_app
from tests.conftest import PRIMARY_BACKEND

pytestmark = pytest.mark.browser
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
PHONE = re.compile(r"\+?1?-?555-\d{3}-\d{4}")


@pytest.fixture(scope="module")
def live_app(backends, demo_data):
    """A fresh database with the small demo, the simulator writing 100 events/s into it (a send
    burst every 15 s), the rollups folding them every 2 s (the worker's job: the screen shows what
    they hold) and the app on it. Yields (base URL, engine)."""
    backend = backends[PRIMARY_BACKEND]
    url = backend.url(backend.create_database(template=backend.template))
    engine = make_engine(url, pool_size=2)
    demo.load(engine, demo_data)
    rollup.refresh_all(engine)
    (ROOT / "test-output").mkdir(exist_ok=True)
    log = open(ROOT / "test-output" / "live-simulator.log", "w")
    simulator = subprocess.Popen([sys.executable, "-m", "core", "simulate", "--rate", "100"],
                                 cwd=ROOT, env={**os.environ, "DATABASE_URL": url}, stdout=log, stderr=subprocess.STDOUT)
    stop = threading.Event()

    def roll() -> None:
        while not stop.wait(2):
            rollup.refresh(engine)
    roller = threading.Thread(target=roll, daemon=True)
    roller.start()
    app, base = start_app(url)
    try:
        yield base, engine
    finally:
        stop_process(app)
        stop_process(simulator)
        stop.set()
        roller.join(timeout=60)
        engine.dispose()


def metrics(page) -> dict[str, str]:
    cards = page.locator('[data-testid="stMetric"]')
    return {cards.nth(i).locator('[data-testid="stMetricLabel"]').inner_text().strip():
            cards.nth(i).locator('[data-testid="stMetricValue"]').inner_text().strip()
            for i in range(cards.count())}


def test_live_screen_moves_without_reload_and_shows_no_personal_data(live_app, page):
    base, engine = live_app
    page.goto(f"{base}/live")  # a deep link, as a wall display opens it
    wait_for_app(page)
    page.wait_for_function(  # app.py's sidebar is there: the page runs inside the app
        """() => (document.querySelector('[data-testid="stSidebar"]') || {innerText: ''}).innerText.includes('Time zone')""",
        timeout=BUSY_MACHINE_TIMEOUT_MS)
    page.wait_for_selector('[data-testid="stMetric"]', timeout=BUSY_MACHINE_TIMEOUT_MS)
    page.wait_for_function("() => document.body.innerText.includes('Last updated')", timeout=BUSY_MACHINE_TIMEOUT_MS)
    page.wait_for_function(  # every KPI card has painted (on a busy machine they arrive one by one)
        "() => document.querySelectorAll('[data-testid=\"stMetric\"]').length >= 5", timeout=BUSY_MACHINE_TIMEOUT_MS)
    page.evaluate("window.__sameDocument = 'still here'")
    first = metrics(page)
    assert {"Active members", "Events", "Deliveries", "Conversions", "Revenue"} <= set(first)
    time.sleep(5)
    second = metrics(page)
    assert page.evaluate("window.__sameDocument") == "still here"  # no page reload happened
    assert first["Events"] != second["Events"], (first, second)

    # every chart is Vega-Lite, drawn as SVG (no tile service, no WebGL, no Plotly): the gauge,
    # the device breakdown and the map (the country and a circle per region with events)
    page.wait_for_function(  # the country's outline and at least 3 regions' circles
        """() => document.querySelectorAll('.st-key-live_map_frame [data-testid="stVegaLiteChart"] svg path').length >= 4""",
        timeout=BUSY_MACHINE_TIMEOUT_MS)
    assert page.locator('[data-testid="stVegaLiteChart"] svg').count() >= 3
    assert page.locator('[data-testid="stDeckGlJsonChart"], [data-testid="stPlotlyChart"]').count() == 0
    assert page.locator('[data-testid="stMetric"] svg, [data-testid="stMetric"] canvas').count() >= 5
    body = page.inner_text("body")
    assert "Where events happen" in body and "Live event stream" in body
    stream_rows = page.locator('table.live-stream tbody tr').count()
    assert stream_rows == 50

    # no personal data: no e-mail address, no phone number, no member's full name
    assert not EMAIL.findall(body), EMAIL.findall(body)[:3]
    assert not PHONE.findall(body), PHONE.findall(body)[:3]
    with engine.connect() as conn:
        names = [row[0] for row in conn.execute(text(
            "SELECT DISTINCT m.full_name FROM events e JOIN members m USING (member_id) "
            "WHERE e.event_id > (SELECT max(event_id) - 2000 FROM events)"))]
    assert names and not [name for name in names if name in body]
    assert re.search(r"#\d+ [A-Z]\. [A-Z]\.", body)  # masked names are there instead
    screenshot(page, "live_1400")
    page.set_viewport_size({"width": 390, "height": 1000})
    time.sleep(3)
    screenshot(page, "live_390")
