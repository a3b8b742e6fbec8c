"""Breakdowns in the viewer's time zone (their totals equal the KPI cards) and "why did this
change" on real rollups: a drop planted in a demo database is found and explained."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from core.analytics import campaigns as analytics
from core.analytics import decomposition
from core.analytics.periods import Period, comparison_period
from core.demo import generator as demo
from core.platform import rollup
from core.platform.db import execute
from core.platform.events import EVENT_CODES
from tests.conftest import DEMO_END
from tests.factories import events_frame, insert_events, seed_dimensions
from ui import format as fmt

NY = "America/New_York"
COUNTS = ["sends", "delivered", "opens", "impressions", "clicks", "conversions"]
MONEY = ["revenue", "reward_cost", "send_cost"]
DIMENSIONS = ["segment", "device", "region", "channel"]

def last_whole_week(tz: str, end: datetime) -> Period:
    """The last Monday-to-Sunday week in tz that ended before `end`."""
    today = end.astimezone(ZoneInfo(tz)).date()
    sunday = today - timedelta(days=today.isoweekday() % 7 or 7)
    return Period(sunday - timedelta(days=6), sunday, tz)


def assert_breakdown_adds_up_to_the_cards(db, period: Period, comparison: Period | None):
    table = analytics.breakdowns(db, period, None, comparison)
    summaries = analytics.period_summaries(db, period, None, comparison)
    for name, summary in summaries.items():
        for dimension in DIMENSIONS:
            part = table[(table.period == name) & (table.dimension == dimension)]
            for column in COUNTS:
                assert part[column].sum() == summary[column], (name, dimension, column)
            for column in MONEY:
                assert part[column].sum() == pytest.approx(float(summary[column]), abs=1e-6), (name, dimension, column)
    return table, summaries


@pytest.mark.parametrize("tz", [NY, "Asia/Kolkata"])
def test_breakdown_totals_equal_the_kpi_cards_in_the_viewers_zone(demo_db, tz):
    period = last_whole_week(tz, DEMO_END)
    comparison = comparison_period(period, "previous")
    table, summaries = assert_breakdown_adds_up_to_the_cards(demo_db, period, comparison)
    cards = {card.key: card for card in analytics.kpi_cards(demo_db, period, None, "previous")}
    current = table[(table.period == "current") & (table.dimension == "segment")]
    assert cards["sends"].value == current.sends.sum() and cards["sends"].previous == summaries["comparison"].sends
    assert cards["revenue"].value == pytest.approx(current.revenue.sum())
    assert cards["cost"].value == pytest.approx(current.reward_cost.sum() + current.send_cost.sum())
    # the ends of the local days hold events: whole UTC days alone (the old breakdown) would not agree
    utc_days = analytics.period_summary(demo_db, Period(period.first, period.last, "UTC"), None)
    assert utc_days.sends != summaries["current"].sends
    assert not table.value.eq("(not broken down)").any()
    # the single-period breakdown the Campaign analytics screen shows is the same rows
    single = analytics.breakdown(demo_db, period, None).set_index(["dimension", "value"]).sends.to_dict()
    assert single == table[table.period == "current"].set_index(["dimension", "value"]).sends.to_dict()


def test_ends_whose_raw_events_are_gone_stay_in_the_totals(db):
    """Raw events older than the retention are dropped (rollups kept): their hours show as
    '(not broken down)', and the totals still equal the cards."""
    seed_dimensions(db)
    insert_events(db, events_frame([
        ("2026-10-31T02:00:00Z", 1, 1, "send"),          # 30 Oct 22:00 EDT: outside
        ("2026-10-31T05:00:00Z", 1, 2, "send"),          # 31 Oct 01:00 EDT: start edge (UTC day 31 Oct)
        ("2026-10-31T23:59:00Z", 2, 12, "send"),         # start edge
        ("2026-11-01T12:00:00Z", 1, 3, "send"),          # whole UTC day 1 Nov
        ("2026-11-01T13:00:00Z", 1, 3, "conversion", 40.0, 4.0),
        ("2026-11-02T04:30:00Z", 1, 4, "send"),          # 1 Nov 23:30 EST: end edge (UTC day 2 Nov)
        ("2026-11-02T05:30:00Z", 1, 5, "send"),          # 2 Nov 00:30 EST: outside
    ]))
    rollup.refresh_all(db)
    period = Period(date(2026, 10, 31), date(2026, 11, 1), NY)
    table, summaries = assert_breakdown_adds_up_to_the_cards(db, period, None)
    assert summaries["current"].sends == 4
    segments = table[table.dimension == "segment"].set_index("value").sends.to_dict()
    assert segments == {"active": 3, "lapsed": 1}       # members 2, 3, 4 active; 12 lapsed
    with db.begin() as conn:  # what retention (core.platform.maintenance) does to a day past it
        conn.execute(text("SELECT drop_event_partition('events_p20261031')"))
        execute(conn, "rollup_all_campaigns_breakdown_prune", day=date(2026, 10, 31))
    table, _ = assert_breakdown_adds_up_to_the_cards(db, period, None)
    segments = table[table.dimension == "segment"].set_index("value").sends.to_dict()
    assert segments == {"active": 2, "(not broken down)": 2}
    channels = table[table.dimension == "channel"].set_index("value").sends.to_dict()
    assert channels == {"push": 3, "email": 1}          # channel comes from the campaign rollups


# --------------------------------------------------------------------------- a planted drop

PLANT_END = datetime(2026, 11, 2, 12, tzinfo=timezone.utc)


@pytest.fixture
def planted(db):
    """A small demo, then a drop for the campaign with the most conversions: the week before
    the last whole week gets as many extra conversions (from members of the campaign's own
    segment) as it had then, and the last week half as many extra sends as it had — so its
    conversions halve while its sends rise (the issue's ArcadeOne #2: 141 -> 87 on more sends)."""
    data = demo.generate(seed=5, members=8000, campaigns=6, days=35, end=PLANT_END)
    demo.load(db, data)
    rollup.refresh_all(db)
    period = last_whole_week(NY, PLANT_END)
    comparison = comparison_period(period, "previous")
    per_campaign = analytics.totals_by_campaign(db, period, None, comparison)
    before = per_campaign[per_campaign.period == "comparison"].set_index("campaign_id")
    after = per_campaign[per_campaign.period == "current"].set_index("campaign_id")
    victim = int(before.conversions.idxmax())
    segment = str(before.loc[victim, "segment"])
    rng = np.random.default_rng(3)
    members = data.members[data.members.segment == segment].member_id.to_numpy()

    def events(kind: str, count: int, within: Period) -> pd.DataFrame:
        seconds = rng.uniform(0, (within.end_at - within.start_at).total_seconds(), count)
        conversion = kind == "conversion"
        return pd.DataFrame({
            "event_time": pd.to_datetime(within.start_at) + pd.to_timedelta(seconds, unit="s"),
            "campaign_id": victim, "member_id": rng.choice(members, count), "variant": None,
            "event_type": np.int16(EVENT_CODES[kind]),
            "revenue": np.round(rng.uniform(20, 80, count), 2) if conversion else np.nan,
            "reward_cost": np.round(rng.uniform(1, 4, count), 2) if conversion else np.nan,
            "device": None, "region_code": None})

    extra = int(before.loc[victim, "conversions"])
    insert_events(db, pd.concat([events("conversion", extra, comparison),
                                 events("send", int(after.loc[victim, "sends"]) // 2, period)], ignore_index=True))
    rollup.refresh_all(db)
    return db, period, comparison, victim, segment, str(before.loc[victim, "name"])


def test_the_planted_drop_is_found_named_and_explained(planted):
    db, period, comparison, victim, segment, name = planted
    result = decomposition.decompose(db, "conversions", period, comparison, None, "campaign")
    summaries = analytics.period_summaries(db, period, None, comparison)
    assert (result.after, result.before) == (summaries["current"].conversions, summaries["comparison"].conversions)
    assert result.change < 0 and result.exceeds_noise
    assert result.groups.contribution.sum() == pytest.approx(result.change)
    main = result.main()
    assert main.name == victim and main.label == name and main.exceeds_noise
    assert main.share_of_change > 0.5
    text_ = decomposition.summary(result, fmt, "the week before")
    assert f"of the change from {name}" in text_
    assert text_.endswith(f"{name}, where conversions per send fell while sends rose.") or \
        text_.endswith(f"{name} (other campaigns moved the other way), where conversions per send fell while sends rose.")

    # the campaign's conversion rate fell: a rate effect, not a mix effect
    rate = decomposition.decompose(db, "conversion_rate", period, comparison, None, "campaign")
    assert rate.change < 0 and rate.main().name == victim and rate.driver(rate.main()) == "rate"
    assert rate.main().exceeds_noise

    # by segment: the drop is in the campaign's own segment
    by_segment = decomposition.decompose(db, "conversions", period, comparison, None, "segment")
    assert by_segment.main().name == segment
    assert by_segment.groups.contribution.sum() == pytest.approx(result.change)


def test_a_cumulative_kpi_or_a_missing_comparison_is_refused_clearly(db):
    period = Period(date(2026, 11, 2), date(2026, 11, 8), NY)
    with pytest.raises(ValueError, match="not decomposed"):
        decomposition.decompose(db, "reach_conversion", period, comparison_period(period, "previous"))
    with pytest.raises(ValueError, match="no comparison period"):
        decomposition.decompose(db, "conversions", period, None)
    with pytest.raises(ValueError, match="Unknown grouping"):
        decomposition.decompose(db, "conversions", period, comparison_period(period, "previous"), by="merchant")
