"""Screen 1 in a real browser against `streamlit run` on the demo database: every screen opens,
the sidebar's date range moves the KPI numbers to what raw events say, the CSV downloads hold
exactly the rows and sums of the period, and a phone-sized window does not scroll sideways.
Screenshots are in test-output/screenshots/."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from sqlalchemy import text

from core.analytics.periods import Period
from tests.app.conftest import screens
from tests.browser.conftest import (full_screenshot, horizontal_overflow, metric_value, open_screen,
                                    set_date_range, wait_for_app)

pytestmark = pytest.mark.browser

TZ = "America/New_York"  # the sidebar's default time zone
RAW_TOTALS = text("""
    SELECT count(*) FILTER (WHERE event_type = 1) AS sends,
           coalesce(sum(revenue) FILTER (WHERE event_type = 6), 0) AS revenue,
           count(DISTINCT (event_time AT TIME ZONE :tz)::date) AS active_days
    FROM events
    WHERE event_time >= :start_at AND event_time < :end_at
""")


def raw_totals(db, period: Period) -> dict:
    """Straight from the events table, not the rollups: sends, revenue and days with activity."""
    with db.connect() as conn:
        row = conn.execute(RAW_TOTALS, {"tz": period.tz, "start_at": period.start_at, "end_at": period.end_at})
        return dict(row.mappings().one())


def default_period() -> Period:
    today = datetime.now(ZoneInfo(TZ)).date()
    return Period(today - timedelta(days=27), today, TZ)


def main_caption(page):
    return page.get_by_test_id("stMain").get_by_test_id("stCaptionContainer").first


def download(page, label: str) -> tuple[str, pd.DataFrame]:
    with page.expect_download() as info:
        page.get_by_role("button", name=label).click()
    file = info.value
    return file.suggested_filename, pd.read_csv(Path(file.path()))


def test_every_screen_opens_without_an_error(page, app_url):
    page.goto(app_url + "/")
    wait_for_app(page)
    for path, title in screens():
        open_screen(page, app_url, title)
        assert page.get_by_test_id("stException").count() == 0, f"{title} shows an exception"
        assert "Traceback" not in page.get_by_test_id("stMain").inner_text()
        full_screenshot(page, f"screen-{Path(path).stem}-1400")


def test_date_range_moves_the_kpis_to_what_raw_events_say(page, app_url, demo_db):
    page.goto(app_url + "/")
    wait_for_app(page)
    page.get_by_role("tab", name="Campaign detail").click()
    before = metric_value(page, "Sends")
    assert int(before.replace(",", "")) == raw_totals(demo_db, default_period())["sends"]

    last = datetime.now(ZoneInfo(TZ)).date() - timedelta(days=3)
    chosen = Period(last - timedelta(days=6), last, TZ)
    set_date_range(page, chosen.first, chosen.last)
    page.get_by_text(chosen.label()).first.wait_for()
    wait_for_app(page)
    page.get_by_role("tab", name="Campaign detail").click()

    after = metric_value(page, "Sends")
    assert after != before
    assert int(after.replace(",", "")) == raw_totals(demo_db, chosen)["sends"]
    assert f"{chosen.first:%d %b %Y} – {chosen.last:%d %b %Y} ({TZ})" in main_caption(page).inner_text()
    full_screenshot(page, "campaigns-detail-7-days-1400")


def test_csv_downloads_hold_the_period_shown(page, app_url, demo_db, demo_data):
    page.goto(app_url + "/")
    wait_for_app(page)
    period = default_period()
    raw = raw_totals(demo_db, period)

    name, portfolio = download(page, "Download portfolio (CSV)")
    assert name == f"portfolio_{period.first}_{period.last}_America-New_York.csv"
    assert len(portfolio) == len(demo_data.campaigns)
    assert sorted(portfolio.name) == sorted(demo_data.campaigns.name)
    assert portfolio.sends.sum() == raw["sends"] > 0
    assert portfolio.revenue.sum() == pytest.approx(float(raw["revenue"]), abs=0.01 * len(portfolio))

    page.get_by_role("tab", name="Campaign detail").click()
    name, series = download(page, "Download series (CSV)")
    assert name == f"series_day_{period.first}_{period.last}.csv"
    day_column = f"day_start_{TZ}"
    assert list(series.columns[:1]) == [day_column]
    assert len(series) == raw["active_days"]
    assert series.sends.sum() == raw["sends"]
    days = pd.to_datetime(series[day_column]).dt.date
    assert days.min() >= period.first and days.max() <= period.last
    assert series.revenue.sum() == pytest.approx(float(raw["revenue"]), abs=0.01 * len(series))


def test_phone_width_does_not_scroll_sideways(page, app_url):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(app_url + "/")
    wait_for_app(page)
    for tab in ("Portfolio", "Campaign detail"):
        page.get_by_role("tab", name=tab).click()
        page.wait_for_timeout(1500)  # charts lay out
        overflow = horizontal_overflow(page)
        assert max(overflow.values()) <= 2, f"{tab} at 390 px overflows sideways: {overflow}"
        full_screenshot(page, f"campaigns-{tab.lower().replace(' ', '-')}-390")
