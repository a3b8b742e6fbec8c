"""Screen 1 — Campaign analytics, run through AppTest on the demo database: the portfolio lists
every campaign, KPI cards show core.analytics' numbers and agree with sends counted straight
from the events table, the campaign picker, grain and time zone change what is shown, exports
follow the role, and a database that is down gives a message, never a traceback."""
from __future__ import annotations


import pytest
from sqlalchemy import text

from core.analytics import campaigns as analytics
from core.analytics.metrics import METRICS
from core.analytics.periods import Period
from core.analytics.presets import Change, comparison_for
from screens.campaigns.detail import CARDS
from tests.app.conftest import (chart_specs, UNREACHABLE_URL, app_database, count, delta_without_arrow, html_tables, kpi_cards,
                                new_app, open_tab, screen_path, shown_metrics, shown_period, table_with)
from ui import format as fmt
from ui.format import metric_value

# The campaigns screen is app.py's default page, so it is opened without switch_page. Sidebar
# choices are set in session state before the first run and the period is read from the
# screen's caption. Its tabs are lazy (only the open one runs): the KPI cards, series and
# breakdowns are on "Campaign detail", opened as a click would (open_tab); so are the breakdown's
# own tabs (one dimension drawn at a time).
DETAIL = "Campaign detail"
BREAKDOWNS = ["Segment", "Device", "Region", "Channel"]
RAW_SENDS = text("""
    SELECT count(*) FROM events
    WHERE event_type = 1 AND event_time >= :start_at AND event_time < :end_at
      AND campaign_id = ANY(:campaign_ids)
""")


def sends_from_events(db, period: Period, campaign_ids: list[int]) -> int:
    """Independent of the rollups: sends counted from raw events over the period's UTC bounds."""
    with db.connect() as conn:
        return int(conn.execute(RAW_SENDS, {"start_at": period.start_at, "end_at": period.end_at,
                                            "campaign_ids": campaign_ids}).scalar())


def all_ids(demo_data) -> list[int]:
    return demo_data.campaigns.campaign_id.astype(int).tolist()


# Each chart's Vega-Lite description begins with its kind (a vega_lite_chart's element id is empty).
CHART_KINDS = {"Top campaigns by revenue": "top_campaigns", "Revenue against cost": "revenue_cost",
               "Time series:": "series_chart", "Waterfall:": "why_waterfall", "Breakdown:": "breakdown_chart_"}


def specs(at) -> list[dict]:
    return chart_specs(at)


def kind_of(spec: dict) -> str | None:
    return next((kind for start, kind in CHART_KINDS.items() if spec["description"].startswith(start)), None)


def layer_named(spec: dict, name: str) -> dict:
    """A chart's layer by name, at any depth."""
    for layer in spec.get("layer", []):
        if layer.get("name") == name:
            return layer
        try:
            return layer_named(layer, name)
        except LookupError:
            pass
    raise LookupError(name)


def x_title(spec: dict, layer: str) -> str:
    found = layer_named(spec, layer)
    return (found.get("encoding") or found["layer"][0]["encoding"])["x"]["title"]


def chart_titles(at) -> list[str]:
    return [spec["title"]["text"] for spec in specs(at)]


@pytest.fixture
def open_campaigns(open_app):
    def open_(role: str, tab: str = "Portfolio"):
        at = open_app(role, None if role != "exec" else screen_path("Campaign analytics"))  # executives land on the overview
        assert [t.value for t in at.title] == ["Campaign analytics"], "campaigns.py is no longer the default page"
        return at if tab == "Portfolio" else open_tab(at, "tab", tab)
    return open_


def test_portfolio_has_one_row_per_campaign(open_campaigns, demo_data):
    at = open_campaigns("analyst")
    portfolio = table_with(at, "name", "channel", "sends", "roi")
    assert len(portfolio) == len(demo_data.campaigns)
    assert sorted(portfolio.name) == sorted(demo_data.campaigns.name)


def drawn_charts(at) -> set[str]:
    """The kinds of the charts on screen (named as their keys), every chart being one of them."""
    kinds = [kind_of(spec) for spec in specs(at)]
    assert None not in kinds, [spec["description"] for spec in specs(at)]
    assert len(kinds) == len(set(kinds)), kinds
    return set(kinds)


def test_only_the_open_tab_is_drawn_and_the_chosen_campaign_survives_a_visit_to_the_other(open_campaigns, demo_data):
    """Drawing both tabs on every run cost seconds in the browser (issue 15)."""
    at = open_campaigns("analyst")
    assert drawn_charts(at) == {"top_campaigns", "revenue_cost"} and not kpi_cards(at)
    assert "campaign_id" not in [s.key for s in at.selectbox]
    open_tab(at, "tab", DETAIL)
    assert drawn_charts(at) == {"series_chart"} and kpi_cards(at)       # the KPI cards and the open section
    assert not [d for d in at.dataframe if {"name", "channel"} <= set(d.value.columns)]   # no portfolio table
    assert drawn_charts(open_tab(at, "detail_view", "Why did this change")) == {"why_waterfall"}
    assert drawn_charts(open_tab(at, "detail_view", "Breakdown")) == {"breakdown_chart_"}
    open_tab(at, "detail_view", "Over time")
    chosen = all_ids(demo_data)[1]
    at.selectbox(key="campaign_id").set_value(chosen).run()
    open_tab(at, "tab", "Portfolio")
    assert drawn_charts(at) == {"top_campaigns", "revenue_cost"} and not kpi_cards(at)
    open_tab(at, "tab", DETAIL)
    assert at.selectbox(key="campaign_id").value == chosen


def drawn_breakdowns(at) -> set[tuple[str, str]]:
    """(what, dimension) of each breakdown on screen: its chart, its table, its export."""
    dimensions = [label.lower() for label in BREAKDOWNS]
    return ({("chart", d) for spec in specs(at) for d in dimensions
             if kind_of(spec) == "breakdown_chart_" and spec["description"].endswith(f" by {d}")}
            | {("table", d) for d in dimensions if html_tables(at, f"breakdown-{d}")}
            | {("export", b.key.removeprefix("dl_breakdown_")) for b in at.get("download_button")
               if b.key and b.key.startswith("dl_breakdown_")})


def test_only_the_open_breakdown_tab_is_drawn(open_campaigns):
    """Each breakdown is a chart, a table and an export: drawing the three hidden ones on every
    run cost the browser time (issue 15). A click on another tab draws that one instead."""
    at = open_tab(open_campaigns("analyst", DETAIL), "detail_view", "Breakdown")
    assert drawn_breakdowns(at) == {("chart", "segment"), ("table", "segment"), ("export", "segment")}
    for label in BREAKDOWNS[1:] + BREAKDOWNS[:1]:
        open_tab(at, "breakdown_tab", label)
        dimension = label.lower()
        assert drawn_breakdowns(at) == {("chart", dimension), ("table", dimension), ("export", dimension)}, label
        chart = next(spec for spec in specs(at) if kind_of(spec) == "breakdown_chart_")
        assert x_title(chart, "bars") == label                                 # that dimension's chart
        (table,) = html_tables(at, f"breakdown-{dimension}")
        assert [bar["value"] for bar in layer_named(chart, "bars")["data"]["values"]] == table[label].tolist()
        assert at.session_state["breakdown_tab"] == label


def test_kpi_cards_show_core_numbers_and_sends_match_raw_events(open_campaigns, app_env, demo_data):
    at = open_campaigns("analyst", DETAIL)
    period = shown_period(at)
    shown = shown_metrics(at)
    current = analytics.period_summaries(app_env, period, None)["current"]
    assert list(shown) == [METRICS[key].label for key in CARDS]
    assert list(shown)[:2] == ["Conversions", "Revenue"]  # the most important first (two a row)
    for key in CARDS:
        assert shown[METRICS[key].label] == metric_value(key, current[key]), key
    sends = sends_from_events(app_env, period, all_ids(demo_data))
    assert sends > 0
    assert count(shown["Sends"]) == sends


def test_the_comparison_period_is_shown_as_change(open_campaigns, app_env):
    """Counts and money in % and absolute, rates and ROI in points, reach conversion not at all."""
    at = open_campaigns("analyst", DETAIL)
    period = shown_period(at)
    comparison = comparison_for(period, "previous", "last_28_days")
    summaries = analytics.period_summaries(app_env, period, None, comparison)
    cards = kpi_cards(at)
    for key in CARDS:
        change = Change(key, float(summaries["current"][key]), float(summaries["comparison"][key]))
        card = cards[METRICS[key].label]
        if key == "reach_conversion":
            assert not card.delta and "not compared" in card.help.lower()
        else:
            assert delta_without_arrow(card) == change.text(fmt), key
            # green for good news, red for bad, whichever way the number moved (cost up is red)
            assert card.tone == {True: "good", False: "bad", None: "same"}[change.better], key
            assert card.delta.startswith("↑" if change.absolute > 0 else "↓" if change.absolute < 0 else "+"), key
    assert cards["ROI"].delta.endswith(" pts") and cards["Open rate"].delta.endswith(" pts")
    assert "(" in cards["Revenue"].delta and "$" in cards["Revenue"].delta    # +4.1% (+$20,103)


def test_choosing_a_campaign_changes_the_kpis(open_campaigns, app_env, demo_data):
    at = open_campaigns("analyst", DETAIL)
    before = shown_metrics(at)
    period = shown_period(at)
    per_campaign = analytics.portfolio(app_env, period).sort_values("sends")
    chosen = int(per_campaign[per_campaign.sends > 0].iloc[-1].campaign_id)

    at.selectbox(key="campaign_id").set_value(chosen).run()
    assert not at.exception
    after = shown_metrics(at)
    assert after != before
    assert count(after["Sends"]) == sends_from_events(app_env, period, [chosen]) > 0
    assert count(after["Sends"]) < count(before["Sends"])
    status = demo_data.campaigns.set_index("campaign_id").status[chosen]
    assert any(f"status **{status}**" in c.value for c in at.caption)


@pytest.mark.parametrize("grain,axis", [("hour", "Hour"), ("week", "Week"), ("day", "Day")])
def test_grain_switch_redraws_the_series(open_campaigns, grain, axis):
    at = open_campaigns("analyst", DETAIL)
    tz = shown_period(at).tz
    next(b for b in at.get("button_group") if b.key == "grain").set_value(grain).run()
    assert not at.exception
    assert at.session_state["grain"] == grain
    series = next(spec for spec in specs(at) if kind_of(spec) == "series_chart")
    assert series["title"]["text"] == f"Conversions per {grain} · {tz}"
    assert x_title(series, "values") == f"{axis} ({tz})"
    trend_shown = any(c.value.startswith("Trend:") for c in at.caption)
    assert trend_shown == (grain == "day")  # the trend is fitted on complete days only


def test_time_zone_choice_reaches_every_number(app_env):
    at = new_app("analyst")
    at.session_state["tz"] = "Asia/Tokyo"
    open_tab(at, "tab", DETAIL)
    period = shown_period(at)
    assert period.tz == "Asia/Tokyo"
    new_york = Period(period.first, period.last, "America/New_York")
    tokyo_revenue = analytics.period_summary(app_env, period, None).revenue
    new_york_revenue = analytics.period_summary(app_env, new_york, None).revenue
    assert tokyo_revenue != new_york_revenue  # the same dates are other instants in another zone
    assert shown_metrics(at)["Revenue"] == metric_value("revenue", tokyo_revenue)
    titles = [t for t in chart_titles(at) if " per " in t]
    assert titles and all(t.endswith("· Asia/Tokyo") for t in titles)


@pytest.mark.parametrize("role,exports", [("exec", False), ("analyst", True), ("manager", True), ("admin", True)])
def test_downloads_follow_the_role(open_campaigns, role, exports):
    at = open_campaigns(role)
    assert len(table_with(at, "name", "channel", "sends", "roi"))           # the portfolio is drawn
    keys = {button.key for button in at.get("download_button")}
    open_tab(at, "tab", DETAIL)
    assert kpi_cards(at) and at.get("vega_lite_chart")                     # and the detail too
    keys |= {button.key for button in at.get("download_button")}
    keys |= {button.key for button in open_tab(at, "detail_view", "Breakdown").get("download_button")}
    for label in BREAKDOWNS[1:]:                                            # one breakdown drawn at a time
        keys |= {button.key for button in open_tab(at, "breakdown_tab", label).get("download_button")}
    if exports:
        assert {"dl_portfolio", "dl_series", "dl_breakdown_segment", "dl_breakdown_device",
                "dl_breakdown_region", "dl_breakdown_channel"} <= keys
    else:
        assert keys == set(), "executives are read-only: no exports"


@pytest.mark.parametrize("tab", ["Portfolio", DETAIL])
def test_database_down_shows_a_message_not_a_traceback(tab):
    with app_database(UNREACHABLE_URL):
        at = new_app("analyst").run()
        if tab != "Portfolio":
            open_tab(at, "tab", tab)
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "cannot be reached" in errors[0]
    assert not at.metric and not kpi_cards(at) and not at.dataframe

