"""Screen 1 numbers against hand counts: local-day bucketing across DST, exact totals for any
time zone's days, comparison periods, breakdowns."""
from datetime import date

import pandas as pd
import pytest

from core.analytics import campaigns as analytics
from core.platform import rollup
from core.analytics.periods import Period
from tests.factories import events_frame, insert_events, seed_dimensions

NY = "America/New_York"


@pytest.fixture
def dst_events(db):
    """Sends around New York's fall-back night (1 Nov 2026, 02:00 EDT -> 01:00 EST)."""
    seed_dimensions(db)
    rows = [
        ("2026-10-31T03:30:00Z", 1, 1, "send"),   # 30 Oct 23:30 EDT
        ("2026-10-31T04:00:00Z", 1, 2, "send"),   # 31 Oct 00:00 EDT
        ("2026-11-01T03:59:00Z", 1, 3, "send"),   # 31 Oct 23:59 EDT
        ("2026-11-01T04:00:00Z", 1, 4, "send"),   #  1 Nov 00:00 EDT
        ("2026-11-01T05:30:00Z", 1, 5, "send"),   #  1 Nov 01:30 EDT (first 01:30)
        ("2026-11-01T06:30:00Z", 1, 6, "send"),   #  1 Nov 01:30 EST (second 01:30)
        ("2026-11-02T04:59:00Z", 1, 7, "send"),   #  1 Nov 23:59 EST
        ("2026-11-02T05:00:00Z", 1, 8, "send"),   #  2 Nov 00:00 EST
        ("2026-11-02T05:00:00Z", 2, 8, "send"),
        ("2026-11-02T06:00:00Z", 1, 8, "delivered"),
        ("2026-11-02T07:00:00Z", 1, 8, "open"),
        ("2026-11-02T07:00:30Z", 1, 8, "impression"),
        ("2026-11-02T07:01:00Z", 1, 8, "click"),
        ("2026-11-03T07:01:00Z", 1, 8, "conversion", 50.0, 2.5),
    ]
    insert_events(db, events_frame(rows))
    rollup.refresh_all(db)
    return db


def test_local_days_across_fall_back(dst_events):
    period = Period(date(2026, 10, 30), date(2026, 11, 3), NY)
    daily = analytics.series(dst_events, period, [1], "day").set_index("bucket")
    sends = {d.date(): int(v) for d, v in daily.sends.items() if v}
    assert sends == {date(2026, 10, 30): 1, date(2026, 10, 31): 2, date(2026, 11, 1): 4, date(2026, 11, 2): 1}
    assert daily.loc[pd.Timestamp("2026-11-03"), "conversions"] == 1


def test_totals_of_local_days_equal_hand_count_in_any_zone(dst_events):
    # 31 Oct .. 1 Nov in New York: 04:00Z 31 Oct .. 05:00Z 2 Nov -> sends of members 2..7
    period = Period(date(2026, 10, 31), date(2026, 11, 1), NY)
    row = analytics.campaign_totals(dst_events, period, [1]).iloc[0]
    assert row.sends == 6
    # The same calendar days in Tokyo (UTC+9) hold a different set of events.
    tokyo = Period(date(2026, 10, 31), date(2026, 11, 1), "Asia/Tokyo")      # 15:00Z 30 Oct .. 15:00Z 1 Nov
    assert analytics.campaign_totals(dst_events, tokyo, [1]).iloc[0].sends == 6  # members 1..6
    utc = Period(date(2026, 11, 2), date(2026, 11, 3), "UTC")
    row = analytics.campaign_totals(dst_events, utc, [1]).iloc[0]
    assert (row.sends, row.delivered, row.opens, row.clicks, row.conversions) == (2, 1, 1, 1, 1)
    assert row.revenue == 50.0 and row.reward_cost == 2.5
    assert row.send_cost == pytest.approx(2 * 0.01)
    assert row.roi == pytest.approx((50 - (0.02 + 2.5)) / (0.02 + 2.5))


def test_hour_grain_keeps_both_one_thirty_hours_apart_in_utc(dst_events):
    period = Period(date(2026, 11, 1), date(2026, 11, 1), NY)
    hourly = analytics.series(dst_events, period, [1], "hour")
    assert int(hourly.sends.sum()) == 4
    # Local clock times: the repeated 01:00 hour holds both 01:30 sends.
    assert int(hourly.set_index("bucket").loc[pd.Timestamp("2026-11-01 01:00"), "sends"]) == 2


def test_kpi_cards_compare_with_the_aligned_previous_period(dst_events):
    period = Period(date(2026, 11, 2), date(2026, 11, 2), NY)          # a Monday
    cards = {c.key: c for c in analytics.kpi_cards(dst_events, period, [1], "previous")}
    # previous period = Monday 26 Oct: no sends -> change undefined, not a fake number
    assert cards["sends"].value == 1 and cards["sends"].previous == 0
    assert pd.isna(cards["sends"].change)
    week = Period(date(2026, 11, 1), date(2026, 11, 7), NY)
    sends = {c.key: c for c in analytics.kpi_cards(dst_events, week, [1], "previous")}["sends"]
    assert sends.value == 4 + 1 and sends.previous == 2 + 1   # 1-7 Nov vs 25-31 Oct (local)
    assert sends.change == pytest.approx((5 - 3) / 3)


def test_reach_is_exact_distinct_members(dst_events):
    period = Period(date(2026, 11, 1), date(2026, 11, 5), NY)
    summary = analytics.period_summary(dst_events, period, [1])
    assert summary.delivered_members == 1 and summary.converting_members == 1
    assert summary.reach_conversion == 1.0


def test_breakdown_sums_to_the_totals_of_the_same_utc_days(dst_events):
    period = Period(date(2026, 10, 30), date(2026, 11, 4), "UTC")
    table = analytics.breakdown(dst_events, period, None)
    total = analytics.campaign_totals(dst_events, period, None)
    for dimension in ["segment", "device", "region", "channel"]:
        part = table[table.dimension == dimension]
        assert part.sends.sum() == total.sends.sum(), dimension
        assert part.revenue.sum() == pytest.approx(total.revenue.sum())
    channels = table[table.dimension == "channel"].set_index("value").sends.to_dict()
    assert channels == {"push": 8, "email": 1}
