"""The Overview, run through AppTest: executives land on it (the others on campaign analytics),
its KPI cards and plain lines are core's numbers and words for the shown period and comparison,
the waterfall (Vega-Lite) adds up from before to now, it is read-only, names from data are shown
as text (Markdown escaped, chart labels as they are: Vega draws no markup), and an empty database gets an explanation."""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from sqlalchemy import text

from core.analytics import campaigns as analytics
from core.analytics import decomposition
from core.analytics.presets import Change, comparison_for, preset_period, versus
from core.platform import rollup
from tests.app.conftest import (chart_specs, app_database, database_url_of, delta_without_arrow, kpi_cards, new_app, plain,
                                screen_path, shown_period)
from tests.factories import events_frame, insert_events, seed_dimensions
from ui import format as fmt

PAGE = screen_path("Overview")
CARD_LABELS = ["Revenue", "Cost", "ROI", "Conversions", "Sends", "Members reached"]


def opened(role: str = "exec", page: str | None = None, **state):
    at = new_app(role, page)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def markdown_lines(at) -> list[str]:
    return [line[2:] for m in at.markdown for line in m.value.split("\n") if line.startswith("- ")]


def waterfall_of(at) -> dict:
    """The waterfall's Vega-Lite spec (found by its description)."""
    charts = chart_specs(at)
    found = [c for c in charts if c["description"].startswith("Waterfall:")]
    assert len(found) == 1, [c["description"] for c in charts]
    return found[0]


def bars_of(chart: dict) -> list[dict]:
    """The waterfall's rows as drawn (ui.why_chart.waterfall_rows): one per bar, in order."""
    layer = next(layer for layer in chart["layer"] if layer.get("name") == "waterfall")
    return layer["data"]["values"]


def test_executives_land_on_the_overview_and_the_others_on_campaign_analytics(app_env):
    assert [t.value for t in opened("exec").title] == ["Overview"]
    for role in ("analyst", "manager", "admin"):
        assert [t.value for t in opened(role).title] == ["Campaign analytics"], role
    assert [t.value for t in opened("manager", PAGE).title] == ["Overview"]   # everyone may open it


def test_cards_and_plain_lines_are_cores_numbers_for_the_shown_period(app_env):
    at = opened(overview_preset="last_28_days", overview_comparison="previous")
    period = shown_period(at)
    assert period == preset_period("last_28_days", period.tz)
    comparison = comparison_for(period, "previous", "last_28_days")
    summaries = analytics.period_summaries(app_env, period, None, comparison)
    now, before = summaries["current"], summaries["comparison"]
    cards = kpi_cards(at)
    assert list(cards) == CARD_LABELS
    for key, label in zip(["revenue", "cost", "roi", "conversions", "sends"], CARD_LABELS):
        assert cards[label].value == fmt.metric_value(key, now[key]), label
        assert delta_without_arrow(cards[label]) == Change(key, float(now[key]), float(before[key])).text(fmt), label
    assert cards["ROI"].delta.endswith(" pts")                       # a ratio changes in points
    assert cards["Members reached"].value == fmt.count(now.delivered_members) and not cards["Members reached"].delta
    lines = [plain(line) for line in markdown_lines(at)]
    for kpi in ["revenue", "cost", "roi", "conversions", "sends"]:
        expected = decomposition.summary(decomposition.decompose(app_env, kpi, period, comparison, None, "campaign"),
                                         fmt, versus(period, comparison))
        assert expected in lines, kpi
    assert any(line.startswith("Members reached") and "not compared" in line for line in lines)


def test_the_waterfall_adds_up_and_its_summary_is_above_it(app_env):
    at = opened(overview_preset="last_28_days", overview_kpi="conversions", overview_by="segment")
    period = shown_period(at)
    result = decomposition.decompose(app_env, "conversions", period, comparison_for(period, "previous", "last_28_days"),
                                     None, "segment")
    chart = waterfall_of(at)
    bars = bars_of(chart)
    assert [b["kind"] for b in bars][::len(bars) - 1] == ["before", "now"]
    assert bars[0]["amount"] == bars[0]["end"] == result.before and bars[0]["start"] == 0
    assert sum(b["amount"] for b in bars[:-1]) == pytest.approx(result.after)   # before + every contribution = now
    assert bars[-1]["amount"] == bars[-1]["end"] == pytest.approx(result.after)
    assert all(b["start"] == a["end"] for a, b in zip(bars, bars[1:-1]))         # each step starts where the last ended
    assert all(b["end"] - b["start"] == pytest.approx(b["amount"]) for b in bars[1:-1])
    assert len({b["label"] for b in bars}) == len(bars)                          # one category per bar
    assert chart["title"]["text"] == f"Conversions by segment · {period.tz}"
    assert plain(decomposition.summary(result, fmt, versus(period, comparison_for(period, "previous", "last_28_days")))) \
        in [plain(m.value) for m in at.markdown]
    rate = opened(overview_preset="last_28_days", overview_kpi="conversion_rate", overview_by="campaign")
    movers = [d.value for d in rate.dataframe]
    assert len(movers) == 2 and {"from mix", "from rate", "Beyond noise"} <= set(movers[0].columns)
    assert list(movers[0].columns[:1]) == ["Campaign"] and list(movers[1].columns[:1]) == ["Segment"]


def test_the_overview_is_read_only_but_executives_may_export_its_figures(app_env, downloads):
    at = opened("exec", overview_preset="last_28_days", overview_comparison="previous")
    assert not at.main.button and not at.main.text_input
    assert not at.main.text_area and not at.main.date_input
    assert [b.key for b in at.get("download_button")] == ["dl_overview"]
    period = shown_period(at)
    comparison = comparison_for(period, "previous", "last_28_days")
    name = f"overview_{period.first:%Y-%m-%d}_to_{period.last:%Y-%m-%d}_{period.tz.replace('/', '-')}.csv"
    figures = pd.read_csv(io.BytesIO(downloads[name])).set_index("metric")
    summaries = analytics.period_summaries(app_env, period, None, comparison)
    cards = kpi_cards(at)
    for key, label in zip(["revenue", "cost", "roi", "conversions", "sends"], CARD_LABELS):
        row = figures.loc[key]
        assert row.value_now == pytest.approx(float(summaries["current"][key]), abs=1e-6), key
        assert cards[label].value == fmt.metric_value(key, row.value_now), key            # the screen's numbers
        change = Change(key, float(summaries["current"][key]), float(summaries["comparison"][key]))
        assert row.change == pytest.approx(change.absolute, abs=1e-6), key
    assert figures.loc["roi", "unit"] == "fraction" and pd.isna(figures.loc["roi", "change_rate"])   # points, not %
    assert figures.loc["revenue", "unit"] == "usd" and figures.loc["sends", "unit"] == "count"
    assert pd.isna(figures.loc["delivered_members", "change"])                           # reach is not compared
    assert set(figures.period_first) == {f"{period.first:%Y-%m-%d}"} and set(figures.time_zone) == {period.tz}


@pytest.fixture
def named_db(db):
    """Two weeks of events for a campaign whose name is a Markdown and HTML payload."""
    seed_dimensions(db)
    with db.begin() as conn:
        conn.execute(text("UPDATE campaigns SET name = :name WHERE campaign_id = 1"),
                     {"name": "<b>Bold</b> [click](http://evil.example) *Deals*"})
    today = datetime.now(timezone.utc).replace(hour=12, minute=0, second=0, microsecond=0)
    rows = []
    for day in range(1, 14):
        when = (today - timedelta(days=day)).isoformat()
        rows += [(when, 1, 1 + day % 10, "send"), (when, 1, 1 + day % 10, "click"), (when, 2, 11, "send")]
        if day <= 6:
            rows.append((when, 1, 1 + day % 10, "conversion", 40.0, 2.0))
    insert_events(db, events_frame(rows))
    rollup.refresh_all(db)
    return db


def test_names_from_data_are_shown_as_text(named_db):
    with app_database(database_url_of(named_db)):
        at = opened("exec", overview_preset="last_7_days", overview_kpi="conversions", overview_by="campaign")
    name = "<b>Bold</b> [click](http://evil.example) *Deals*"
    texts = [m.value for m in at.markdown]
    shown = [t for t in texts if name in plain(t)]
    assert shown, texts
    assert all("[click](" not in t and "<b>" not in t for t in shown)        # escaped, not Markdown
    bars = bars_of(waterfall_of(at))                                          # Vega draws plain text: not escaped
    assert name in [b["name"] for b in bars], bars
    assert any(b["label"].startswith("<b>Bold</b>") for b in bars) and not any("&lt;" in b["label"] for b in bars)
    movers = at.dataframe[0].value
    assert name in movers.Campaign.tolist()                                  # a table cell is text already


def test_an_empty_database_gets_an_explanation(db):
    with app_database(database_url_of(db)):
        at = opened("exec")
    assert list(kpi_cards(at)) == CARD_LABELS
    assert any("No campaign sent anything" in i.value for i in at.info)
