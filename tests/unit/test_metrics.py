"""Metric definitions against hand-computed numbers; periods, DST and comparison alignment."""
from datetime import date, datetime, timezone

import numpy as np
import pandas as pd
import pytest

from core.analytics.metrics import add_metrics, format_value, ratio, relative_change, totals
from core.analytics.periods import Period, comparison_period


def test_every_spec_metric_by_hand():
    frame = pd.DataFrame([{"sends": 1000, "delivered": 950, "opens": 190, "impressions": 400, "clicks": 40,
                           "conversions": 8, "revenue": 640.0, "reward_cost": 32.0, "send_cost": 1000 * 0.05,
                           "delivered_members": 500, "converting_members": 6}])
    row = add_metrics(frame).iloc[0]
    assert row.delivery_rate == pytest.approx(950 / 1000)
    assert row.open_rate == pytest.approx(190 / 950)
    assert row.ctr == pytest.approx(40 / 400)
    assert row.conversion_rate == pytest.approx(8 / 40)
    assert row.reach_conversion == pytest.approx(6 / 500)
    assert row.cost == pytest.approx(50 + 32)
    assert row.roi == pytest.approx((640 - 82) / 82)


def test_zero_denominators_give_nan_not_zero_or_inf():
    row = add_metrics(pd.DataFrame([{"sends": 0, "delivered": 0, "opens": 0, "impressions": 0, "clicks": 0,
                                     "conversions": 0, "revenue": 0.0, "reward_cost": 0.0, "send_cost": 0.0}])).iloc[0]
    for key in ["delivery_rate", "open_rate", "ctr", "conversion_rate", "roi"]:
        assert np.isnan(row[key]), key
    assert format_value("open_rate", row.open_rate) == "–"


def test_totals_are_ratios_of_sums_not_means_of_ratios():
    frame = pd.DataFrame({"sends": [100, 900], "delivered": [100, 450], "opens": [50, 45], "impressions": [1, 1],
                          "clicks": [1, 1], "conversions": [0, 0], "revenue": [0.0, 0.0], "reward_cost": [0.0, 0.0],
                          "send_cost": [1.0, 9.0]})
    total = totals(frame)
    assert total.open_rate == pytest.approx(95 / 550)          # not mean(0.5, 0.1)
    assert total.delivery_rate == pytest.approx(550 / 1000)


def test_relative_change_and_ratio_edge_cases():
    assert relative_change(110, 100) == pytest.approx(0.10)
    assert relative_change(-0.5, -1.0) == pytest.approx(0.5)   # ROI from -100 % to -50 % is an improvement
    assert np.isnan(relative_change(5, 0))
    assert np.isnan(ratio(1, 0))


def test_period_bounds_are_local_midnights_across_dst():
    # New York falls back on Sunday 1 November 2026: that local day lasts 25 hours.
    period = Period(date(2026, 11, 1), date(2026, 11, 1), "America/New_York")
    assert period.start_at == datetime(2026, 11, 1, 4, tzinfo=timezone.utc)
    assert period.end_at == datetime(2026, 11, 2, 5, tzinfo=timezone.utc)
    spring = Period(date(2026, 3, 8), date(2026, 3, 8), "America/New_York")
    assert (spring.end_at - spring.start_at).total_seconds() == 23 * 3600


def test_utc_whole_days_cover_only_complete_utc_days():
    period = Period(date(2026, 11, 1), date(2026, 11, 3), "America/New_York")   # 04:00Z 1 Nov .. 05:00Z 4 Nov
    assert period.utc_whole_days() == (date(2026, 11, 2), date(2026, 11, 4))
    utc = Period(date(2026, 11, 1), date(2026, 11, 3), "UTC")
    assert utc.utc_whole_days() == (date(2026, 11, 1), date(2026, 11, 4))
    short = Period(date(2026, 11, 1), date(2026, 11, 1), "Asia/Tokyo")           # 15:00Z 31 Oct .. 15:00Z 1 Nov
    first, last = short.utc_whole_days()
    assert last <= first                                                          # no whole UTC day inside


@pytest.mark.parametrize("days", [1, 6, 7, 10, 28, 31])
def test_previous_period_keeps_weekdays_and_length(days):
    period = Period(date(2026, 11, 27) - pd.Timedelta(days=days - 1), date(2026, 11, 27), "Europe/Berlin")
    other = comparison_period(period, "previous")
    assert other.days == period.days
    assert other.first.weekday() == period.first.weekday()
    assert other.last < period.first                                              # no overlap


def test_same_period_last_year_is_52_weeks_earlier():
    period = Period(date(2026, 11, 2), date(2026, 11, 8), "UTC")
    other = comparison_period(period, "last_year")
    assert (period.first - other.first).days == 364
    assert other.first.weekday() == period.first.weekday()
    assert comparison_period(period, "none") is None


def test_bad_periods_say_what_is_wrong():
    with pytest.raises(ValueError, match="ends .* before it starts"):
        Period(date(2026, 11, 2), date(2026, 11, 1), "UTC")
    with pytest.raises(Exception):
        Period(date(2026, 11, 1), date(2026, 11, 2), "Mars/Olympus")
