"""Campaign analytics answers questions (issue 13), run through AppTest on the demo database:
date presets in the sidebar, Δ columns and a totals row checked against sums counted straight
from the events table, the view carried by the URL (a fresh session with the same query
parameters shows the same view), holidays and notes drawn on the time series (as plain text), "why
did this change" on the detail, and CSV exports whose columns say their units and hold the
screen's numbers."""
from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import text

from core.analytics import decomposition
from core.analytics.calendar import holidays
from core.analytics.presets import COMPARISONS, PRESETS, comparison_for, preset_period, versus
from tests.app.conftest import (chart_specs, app_database, count, database_url_of, html_tables, kpi_cards, new_app, open_tab,
                                plain, screen_path, shown_period, table_with)
from tests.factories import events_frame, insert_events, seed_dimensions
from core.platform import rollup
from ui import format as fmt

CAMPAIGNS = screen_path("Campaign analytics")
DETAIL = "Campaign detail"  # the tabs are lazy: the KPI cards, series, "why" and breakdowns are drawn on this one
BREAKDOWNS = ["Segment", "Device", "Region", "Channel"]  # lazy too: one breakdown drawn at a time (breakdown_tab)
RAW = text("""
    SELECT e.campaign_id,
           count(*) FILTER (WHERE e.event_type = 1) AS sends,
           count(*) FILTER (WHERE e.event_type = 6) AS conversions,
           coalesce(sum(e.revenue) FILTER (WHERE e.event_type = 6), 0) AS revenue,
           coalesce(sum(e.reward_cost) FILTER (WHERE e.event_type = 6), 0)
             + count(*) FILTER (WHERE e.event_type = 1) * min(c.cost_per_send) AS cost
    FROM events e JOIN campaigns c USING (campaign_id)
    WHERE e.event_time >= :start_at AND e.event_time < :end_at
    GROUP BY e.campaign_id
""")


def raw_by_campaign(db, period) -> pd.DataFrame:
    """Independent of the rollups and of core's metrics: per campaign from raw events."""
    with db.connect() as conn:
        rows = conn.execute(RAW, {"start_at": period.start_at, "end_at": period.end_at}).mappings().all()
    return pd.DataFrame(rows, columns=["campaign_id", "sends", "conversions", "revenue", "cost"]) \
        .set_index("campaign_id").astype(float)


def opened(role="analyst", query=None, tab=None, **state):
    """The screen opened with this URL and session state, then on `tab` as a click opens it."""
    # Executives land on the overview: open the screen, unless the URL says it (view=campaigns).
    at = new_app(role, CAMPAIGNS if role == "exec" and "view" not in (query or {}) else None)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at if tab is None else open_tab(at, "tab", tab)


# A chart's key -> how its Vega-Lite description begins (a vega_lite_chart's element id is empty).
DESCRIBED = {"top_campaigns": "Top campaigns by revenue", "revenue_cost": "Revenue against cost",
             "series_chart": "Time series:", "why_waterfall": "Waterfall:", "breakdown_chart_": "Breakdown:"}


def chart(at, key: str) -> dict:
    specs = chart_specs(at)
    found = [spec for spec in specs if spec["description"].startswith(DESCRIBED[key])]
    assert len(found) == 1, [spec["description"] for spec in specs]
    return found[0]


def layer_named(spec: dict, name: str) -> dict | None:
    """A chart's layer by name, at any depth (None when it has none)."""
    for layer in spec.get("layer", []):
        if layer.get("name") == name:
            return layer
        if (found := layer_named(layer, name)) is not None:
            return found
    return None


def rows_of(spec: dict, name: str) -> list[dict]:
    return layer_named(spec, name)["data"]["values"]


def compared_in_caption(at) -> str:
    return next(c.value for c in at.caption if "compared with" in c.value or "no comparison" in c.value)


# --- presets --------------------------------------------------------------------------------------

@pytest.mark.parametrize("preset", ["last_7_days", "last_week", "this_month", "year_to_date"])
def test_a_preset_sets_the_period_and_its_comparison(app_env, preset):
    at = opened(period=preset, comparison="last_year")
    period = shown_period(at)
    assert period == preset_period(preset, period.tz)
    comparison = comparison_for(period, "last_year", preset)
    assert f"compared with {comparison.first:%d %b %Y} – {comparison.last:%d %b %Y}" in compared_in_caption(at)
    sidebar = {s.key: s for s in at.sidebar.selectbox}
    assert list(sidebar["period"].options[:len(PRESETS)]) == list(PRESETS.values())
    assert len(sidebar["comparison"].options) == len(COMPARISONS)
    assert not at.sidebar.date_input                                   # dates only for custom


def test_custom_dates_show_the_date_input(app_env):
    at = opened(period="custom", date_range=(date(2026, 11, 2), date(2026, 11, 8)))
    assert len(at.sidebar.date_input) == 1
    period = shown_period(at)
    assert (period.first, period.last) == (date(2026, 11, 2), date(2026, 11, 8))


def test_no_comparison_means_no_changes(app_env):
    at = opened(comparison="none")
    assert "no comparison" in compared_in_caption(at)
    assert "roi_change" not in table_with(at, "name", "channel").columns
    open_tab(at, "tab", DETAIL)
    assert kpi_cards(at) and not [c.delta for c in kpi_cards(at).values() if c.delta]


# --- portfolio: Δ columns and totals ---------------------------------------------------------------

def test_change_columns_and_totals_row_match_raw_events(app_env):
    at = opened(period="last_28_days", comparison="previous")
    period = shown_period(at)
    before_period = comparison_for(period, "previous", "last_28_days")
    now, before = raw_by_campaign(app_env, period), raw_by_campaign(app_env, before_period)
    names = pd.read_sql(text("SELECT campaign_id, name FROM campaigns"), app_env).set_index("name").campaign_id
    table = table_with(at, "name", "channel", "conversions_change").set_index("name")
    for name, row in table.iterrows():
        cid = names[name]
        conv_now, conv_before = now.conversions.get(cid, 0.0), before.conversions.get(cid, 0.0)
        assert row.conversions == conv_now, name
        assert row.conversions_change == conv_now - conv_before, name
        revenue_change = now.revenue.get(cid, 0.0) - before.revenue.get(cid, 0.0)
        assert row.revenue_change == pytest.approx(revenue_change, abs=0.01), name
        if now.cost.get(cid, 0) > 0 and before.cost.get(cid, 0) > 0:
            roi_now = (now.revenue[cid] - now.cost[cid]) / now.cost[cid]
            roi_before = (before.revenue[cid] - before.cost[cid]) / before.cost[cid]
            assert row.roi_change == pytest.approx((roi_now - roi_before) * 100, abs=0.01), name   # points
    totals = [d.value for d in at.dataframe if "conversions_change" in d.value and "channel" not in d.value][0].iloc[0]
    assert totals["name"].startswith("Total of")
    assert totals.sends == now.sends.sum() and totals.conversions == now.conversions.sum()
    assert totals.revenue == pytest.approx(now.revenue.sum(), abs=0.01)
    roi = (now.revenue.sum() - now.cost.sum()) / now.cost.sum()           # of the sums, not a mean of ROIs
    assert totals.roi == pytest.approx(roi * 100, abs=0.01)
    assert totals.roi != pytest.approx(table.roi.mean(), abs=0.01)
    assert totals.conversions_change == now.conversions.sum() - before.conversions.sum()


@pytest.mark.parametrize("sort", ["conversions_change", "roi_change"])
def test_the_portfolio_sorts_by_change_and_puts_it_beside_the_name(app_env, sort):
    at = opened(portfolio_sort=sort, portfolio_order="asc")
    table = [d for d in at.dataframe if "channel" in d.value.columns and "conversions_change" in d.value.columns][0]
    values = table.value[sort].dropna().tolist()
    assert values == sorted(values) and len(values) > 1
    assert list(table.proto.column_order[:2]) == ["name", sort]         # pinned name, the chosen metric beside


def test_the_roi_colour_scale_is_centred_on_zero_without_a_cap(app_env):
    at = opened()
    colour = layer_named(chart(at, "top_campaigns"), "bars")["encoding"]["color"]
    low, high = colour["scale"]["domain"]
    assert colour["field"] == "roi" and low == -high                         # centred on 0
    assert high != 3


# --- the URL holds the view -------------------------------------------------------------------------

def test_a_link_opens_the_same_view_in_a_fresh_session(app_env):
    chosen = pd.read_sql(text("SELECT campaign_id, name FROM campaigns ORDER BY campaign_id OFFSET 1 LIMIT 1"), app_env)
    name, campaign_id = chosen.name[0], int(chosen.campaign_id[0])
    query = {"view": "campaigns", "tab": "Campaign detail", "campaign_id": name, "grain": "Week",
             "tz": "Asia/Tokyo", "period": "Last week", "comparison": "Same period last year",
             "detail_view": "Breakdown", "breakdown_tab": "Region"}
    at = opened("exec", query)                        # the root URL, whose landing page is the overview
    assert [t.value for t in at.title] == ["Campaign analytics"]
    state = {key: at.session_state[key] for key in ("tab", "tz", "period", "comparison", "detail_view", "breakdown_tab")}
    assert state == {"tab": "Campaign detail", "tz": "Asia/Tokyo", "period": "last_week", "comparison": "last_year",
                     "detail_view": "Breakdown", "breakdown_tab": "Region"}
    assert layer_named(chart(at, "breakdown_chart_"), "bars")["encoding"]["x"]["title"] == "Region"   # the only one drawn
    assert at.session_state["demo_role"] == "exec"                      # the reader's own role
    period = shown_period(at)
    assert period == preset_period("last_week", "Asia/Tokyo")
    assert at.selectbox(key="campaign_id").value == campaign_id
    assert not at.get("download_button")                                 # an executive still exports nothing
    open_tab(at, "detail_view", "Over time")                             # the link's grain, once its section opens
    assert at.session_state["grain"] == "week"
    assert chart(at, "series_chart")["title"]["text"].startswith("Conversions per week · Asia/Tokyo")


def test_custom_dates_travel_in_the_url(app_env):
    at = opened(query={"period": "Custom dates", "date_range": ["2026-11-02", "2026-11-08"]})
    period = shown_period(at)
    assert (period.first, period.last) == (date(2026, 11, 2), date(2026, 11, 8))


# What a viewer changes reaches the URL in the browser (Streamlit's frontend writes it; AppTest
# has none): tests/browser/test_campaigns_browser.py checks that.


# --- annotations ------------------------------------------------------------------------------------

def test_holidays_are_drawn_on_the_series(app_env):
    at = opened(period="custom", date_range=(date(2026, 11, 20), date(2026, 11, 30)), tab=DETAIL)
    figure = chart(at, "series_chart")
    expected = holidays(date(2026, 11, 20), date(2026, 11, 30))
    assert expected, "Thanksgiving is in these days"
    marked = rows_of(figure, "holidays")                              # a dashed line and a triangle each
    assert sorted(pd.Timestamp(m["bucket"]).date() for m in marked) == sorted(h.day for h in expected)
    assert all(pd.Timestamp(m["bucket"]).tz_localize(None) == pd.Timestamp(m["bucket"]).normalize().tz_localize(None)
               for m in marked)                                       # at the start of the day (wall clock)
    assert sorted(m["text"] for m in marked) == sorted(h.name for h in expected)
    assert layer_named(figure, "notes") is None                       # nobody wrote one


@pytest.fixture
def noted_db(db):
    """Two weeks of events for one campaign, in a database of its own (notes are written)."""
    seed_dimensions(db)
    today = pd.Timestamp.now(tz="UTC").normalize() + pd.Timedelta(hours=12)
    rows = [((today - pd.Timedelta(days=d)).isoformat(), 1, 1 + d % 10, "send") for d in range(1, 14)]
    insert_events(db, events_frame(rows))
    rollup.refresh_all(db)
    return db


def test_a_note_added_on_the_detail_is_drawn_escaped(noted_db):
    payload = "<b>Outage</b> [here](http://evil.example)"
    with app_database(database_url_of(noted_db)):
        at = opened("analyst", tab=DETAIL, period="last_7_days")
        day = shown_period(at).last
        at.button(key="open_note_dialog").click().run()               # the note is written in a dialog
        at.date_input(key="note_day").set_value(day)
        at.text_area(key="note_text").input(payload)
        next(b for b in at.button if b.label.startswith("Save note")).click().run()
        assert not at.exception, [e.value for e in at.exception]
        assert not at.error, [e.value for e in at.error]
        figure = chart(at, "series_chart")
        notes = rows_of(figure, "notes")
        assert [n["text"] for n in notes] == [payload]                # Vega draws it as the characters it is
        assert pd.Timestamp(notes[0]["bucket"]).date() == day
        assert "analyst" in notes[0]["by"] and notes[0]["by"].endswith(" UTC")            # who wrote it, when
        (shown,) = html_tables(at, "notes")
        assert shown.Note.tolist() == [payload]                       # the HTML table shows it as text too
        assert "analyst" in shown.By.iloc[0]
        executive = opened("exec", tab=DETAIL, period="last_7_days")
        assert chart(executive, "series_chart")                                            # the detail, drawn
        assert not [b for b in executive.button if b.label.startswith("Save note")]         # read-only
        assert not [b for b in executive.button if b.key == "open_note_dialog"]


# --- why did this change ----------------------------------------------------------------------------

def test_the_detail_explains_a_change_with_the_overviews_waterfall(app_env):
    at = open_tab(opened(period="last_28_days", tab=DETAIL, why_kpi="conversions", why_by="segment"),
                  "detail_view", "Why did this change")
    period = shown_period(at)
    comparison = comparison_for(period, "previous", "last_28_days")
    result = decomposition.decompose(app_env, "conversions", period, comparison, None, "segment")
    bars = rows_of(chart(at, "why_waterfall"), "waterfall")
    assert [b["kind"] for b in bars][::len(bars) - 1] == ["before", "now"] and bars[0]["end"] == result.before
    assert sum(b["amount"] for b in bars[:-1]) == pytest.approx(result.after)
    assert bars[-1]["end"] == pytest.approx(result.after)
    assert plain(decomposition.summary(result, fmt, versus(period, comparison))) in [plain(m.value) for m in at.markdown]


# --- exports ----------------------------------------------------------------------------------------

UNIT_SUFFIXES = ("_rate", "_usd", "_change", "_rate_change")
COUNTS = {"sends", "conversions", "conversions_change"}
TEXT = {"campaign", "channel", "segment", "status", "device", "region", "time_zone", "day_start", "hour_start",
        "week_start", "complete"}


def test_exports_say_their_units_and_hold_the_screens_numbers(app_env, downloads):
    at = opened(period="last_28_days", comparison="previous")
    period = shown_period(at)
    screen = table_with(at, "name", "channel", "conversions_change").set_index("name")     # the Portfolio tab's
    open_tab(at, "tab", DETAIL)                                                           # and the detail's exports
    open_tab(at, "detail_view", "Breakdown")
    stem = f"{period.first:%Y-%m-%d}_to_{period.last:%Y-%m-%d}_{period.tz.replace('/', '-')}"
    for label in BREAKDOWNS[1:]:                                                          # and every breakdown's
        open_tab(at, "breakdown_tab", label)
    assert {f"portfolio_{stem}.csv", f"series_day_{stem}.csv"} | {
        f"breakdown_{label.lower()}_{stem}.csv" for label in BREAKDOWNS} <= set(downloads)
    for name, content in downloads.items():
        frame = pd.read_csv(io.BytesIO(content))
        for column in frame.columns:
            assert column in TEXT | COUNTS or column.endswith(UNIT_SUFFIXES), f"{name}: {column} has no unit"
        # Rates are fractions, not percents: below 1 at the median (a percent would be about 100
        # times the fraction; the portfolio's are compared with the screen's below). One rate of a
        # time bucket can pass 1: opens and clicks count in the bucket they happen in, deliveries
        # and impressions in theirs (just after midnight, today's opens of yesterday's messages
        # outnumber today's deliveries), as conversions per click can.
        for column in {"delivery_rate", "open_rate", "click_through_rate", "conversion_rate"} & set(frame.columns):
            assert frame[column].dropna().median() <= 1, f"{name}: {column} is not a fraction"
    portfolio = pd.read_csv(io.BytesIO(downloads[f"portfolio_{stem}.csv"]))
    exported = portfolio.dropna(subset=["channel"]).set_index("campaign")
    assert sorted(exported.index) == sorted(screen.index)
    for column, exported_column, scale in [("open_rate", "open_rate", 100), ("ctr", "click_through_rate", 100),
                                           ("roi", "roi_rate", 100), ("revenue", "revenue_usd", 1),
                                           ("roi_change", "roi_rate_change", 100), ("conversions", "conversions", 1)]:
        pd.testing.assert_series_equal((exported[exported_column] * scale).reindex(screen.index), screen[column].astype(float),
                                       check_names=False, atol=0.01)
    total = portfolio[portfolio.channel.isna()].iloc[0]
    assert total.campaign.startswith("Total of") and total.sends == screen.sends.sum()
    series = pd.read_csv(io.BytesIO(downloads[f"series_day_{stem}.csv"]))
    assert pd.to_datetime(series.day_start, format="%Y-%m-%d").dt.date.min() >= period.first
    assert (series.time_zone == period.tz).all()


def money_of(text: str) -> float:
    """'$1,234.56' -> 1234.56, '-$1.2M' -> -1200000.0 (as ui.format writes money)."""
    scale = {"M": 1e6, "B": 1e9}.get(text[-1], 1)
    number = float(text.rstrip("MB").replace("$", "").replace(",", ""))
    return number * scale


def test_breakdown_totals_equal_the_kpi_cards_in_a_non_utc_zone(app_env):
    at = open_tab(opened(tz="Asia/Kolkata", period="last_7_days", tab=DETAIL), "detail_view", "Breakdown")
    assert shown_period(at).tz == "Asia/Kolkata"
    cards = {label: card.value for label, card in kpi_cards(at).items()}
    for label in BREAKDOWNS:                                  # each tab in turn, as a click opens it
        dimension = label.lower()
        (table,) = html_tables(open_tab(at, "breakdown_tab", label), f"breakdown-{dimension}")
        assert f"{sum(count(v) for v in table.Sends):,}" == cards["Sends"], dimension
        assert f"{sum(count(v) for v in table.Conversions):,}" == cards["Conversions"], dimension
        # The table's cents against the card's dollars (or $1.2M): equal to the card's precision.
        revenue, card = sum(money_of(v) for v in table["Revenue"]), cards["Revenue"]
        precision = {"M": 0.05e6, "B": 0.05e9}.get(card[-1], 0.5)
        assert abs(revenue - money_of(card)) <= precision + 0.005 * len(table), (dimension, revenue, card)


def test_the_overview_keeps_its_own_period_and_the_sidebars_choice_survives_it(app_env):
    at = opened(period="last_week")
    at.switch_page(screen_path("Overview")).run()
    assert [s.key for s in at.sidebar.selectbox if s.key in ("period", "comparison")] == []   # one period control
    at.switch_page(CAMPAIGNS).run()
    assert not at.exception
    assert shown_period(at) == preset_period("last_week", shown_period(at).tz)
