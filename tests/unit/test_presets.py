"""Date presets in the viewer's zone, their comparison periods (weekday-aligned runs of days,
calendar units by the calendar) and changes said in the unit they need."""
from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone

import pytest

from core.analytics.periods import EARLIEST_DAY, Period
from core.analytics.presets import (CALENDAR_PRESETS, COMPARISONS, PRESETS, Change, comparison_for, preset_period,
                                    today_in, versus)
from ui import format as fmt

NY = "America/New_York"
TUESDAY = date(2026, 11, 17)


def days(preset: str, today: date = TUESDAY, week_start: int = 0) -> tuple[date, date]:
    period = preset_period(preset, NY, today, week_start)
    return period.first, period.last


def test_every_preset_on_a_known_day():
    assert days("today") == (TUESDAY, TUESDAY)
    assert days("yesterday") == (date(2026, 11, 16), date(2026, 11, 16))
    assert days("last_7_days") == (date(2026, 11, 11), TUESDAY)
    assert days("last_28_days") == (date(2026, 10, 21), TUESDAY)
    assert days("last_90_days") == (date(2026, 8, 20), TUESDAY)
    assert days("this_week") == (date(2026, 11, 16), TUESDAY)                    # ISO: from Monday
    assert days("last_week") == (date(2026, 11, 9), date(2026, 11, 15))
    assert days("this_week", week_start=6) == (date(2026, 11, 15), TUESDAY)      # from Sunday
    assert days("last_week", week_start=6) == (date(2026, 11, 8), date(2026, 11, 14))
    assert days("this_month") == (date(2026, 11, 1), TUESDAY)
    assert days("last_month") == (date(2026, 10, 1), date(2026, 10, 31))
    assert days("this_quarter") == (date(2026, 10, 1), TUESDAY)
    assert days("last_quarter") == (date(2026, 7, 1), date(2026, 9, 30))
    assert days("year_to_date") == (date(2026, 1, 1), TUESDAY)
    for preset in PRESETS:
        for today in (date(2026, 1, 1), date(2024, 2, 29), date(2026, 12, 31), date(2026, 3, 1)):
            period = preset_period(preset, NY, today)
            assert period.first <= period.last <= today
            assert period.days == {"last_7_days": 7, "last_28_days": 28, "last_90_days": 90}.get(preset, period.days)
    assert days("last_quarter", date(2026, 2, 10)) == (date(2025, 10, 1), date(2025, 12, 31))
    assert days("last_month", date(2026, 1, 5)) == (date(2025, 12, 1), date(2025, 12, 31))


def test_weeks_start_on_the_chosen_day():
    for offset in range(14):
        today = TUESDAY + timedelta(days=offset)
        for week_start in range(7):
            first, last = days("this_week", today, week_start)
            assert first.weekday() == week_start and 0 <= (today - first).days < 7 and last == today
            first, last = days("last_week", today, week_start)
            assert first.weekday() == week_start and (last - first).days == 6 and last < today


def test_today_is_the_viewers_day():
    now = datetime(2026, 11, 17, 3, 30, tzinfo=timezone.utc)      # 22:30 on the 16th in New York
    assert today_in(NY, now) == date(2026, 11, 16)
    assert today_in("Asia/Tokyo", now) == date(2026, 11, 17)


def test_runs_of_days_compare_weekday_for_weekday():
    for preset in set(PRESETS) - CALENDAR_PRESETS:
        period = preset_period(preset, NY, TUESDAY)
        for kind in ("previous", "last_month", "last_year"):
            other = comparison_for(period, kind, preset)
            assert other.days == period.days and other.first.weekday() == period.first.weekday(), (preset, kind)
            assert other.last < period.first or kind != "previous"
    week = preset_period("last_week", NY, TUESDAY)
    assert comparison_for(week, "previous", "last_week") == Period(date(2026, 11, 2), date(2026, 11, 8), NY)
    assert comparison_for(week, "last_month", "last_week").first == date(2026, 10, 12)    # four weeks back
    assert comparison_for(week, "last_year", "last_week").first == date(2025, 11, 10)     # 52 weeks back
    today = preset_period("today", NY, TUESDAY)
    assert comparison_for(today, "previous", "today").first == date(2026, 11, 10)         # last Tuesday


def test_calendar_units_compare_by_the_calendar():
    def compare(preset, kind, today=TUESDAY):
        other = comparison_for(preset_period(preset, NY, today), kind, preset)
        return other.first, other.last

    assert compare("this_month", "previous") == (date(2026, 10, 1), date(2026, 10, 17))    # same days of October
    assert compare("last_month", "previous") == (date(2026, 9, 1), date(2026, 9, 30))      # whole month, whole month
    assert compare("last_month", "last_year") == (date(2025, 10, 1), date(2025, 10, 31))
    assert compare("this_quarter", "previous") == (date(2026, 7, 1), date(2026, 8, 17))
    assert compare("last_quarter", "previous") == (date(2026, 4, 1), date(2026, 6, 30))
    assert compare("year_to_date", "previous") == (date(2025, 1, 1), date(2025, 11, 17))
    assert compare("this_quarter", "last_month") == (date(2026, 9, 1), date(2026, 10, 17))
    # month ends: 31 March to date against February's 28 days; whole February against whole January
    assert compare("this_month", "previous", date(2026, 3, 31)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert compare("this_month", "previous", date(2026, 3, 30)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert compare("last_month", "previous", date(2026, 3, 5)) == (date(2026, 1, 1), date(2026, 1, 31))
    assert compare("year_to_date", "last_year", date(2024, 2, 29)) == (date(2023, 1, 1), date(2023, 2, 28))


def test_no_comparison_and_nothing_before_the_earliest_day():
    period = preset_period("last_week", NY, TUESDAY)
    assert comparison_for(period, "none", "last_week") is None
    early = preset_period("this_month", NY, EARLIEST_DAY + timedelta(days=3))
    for kind in ("previous", "last_month", "last_year"):
        assert comparison_for(early, kind, "this_month") is None
        assert comparison_for(early, kind) is None
    with pytest.raises(ValueError, match="Unknown comparison"):
        comparison_for(period, "last_decade")
    with pytest.raises(ValueError, match="Unknown date preset"):
        preset_period("last_fortnight", NY, TUESDAY)
    assert set(COMPARISONS) == {"previous", "last_month", "last_year", "none"}


def test_the_comparison_in_words():
    week = preset_period("last_week", NY, TUESDAY)
    assert versus(week, comparison_for(week, "previous", "last_week")) == "the week before"
    month = preset_period("this_month", NY, date(2026, 11, 30))
    assert versus(month, comparison_for(month, "previous", "this_month")) == "in October 2026"
    today = preset_period("today", NY, TUESDAY)
    assert versus(today, comparison_for(today, "previous", "today")) == "on Tue 10 Nov 2026"
    ytd = preset_period("year_to_date", NY, TUESDAY)
    assert versus(ytd, comparison_for(ytd, "previous", "year_to_date")) == "in 1 Jan – 17 Nov 2025"
    assert versus(ytd, None) == ""


def test_rates_change_in_points_counts_and_money_in_percent_and_absolute():
    roi = Change("roi", 0.030, 3.663)                       # the ROI: +3.0 % against +366.3 %
    assert roi.in_points and roi.absolute == pytest.approx(0.030 - 3.663) and math.isnan(roi.relative)
    assert roi.text(fmt) == fmt.points(0.030 - 3.663) and roi.better is False
    rate = Change("conversion_rate", 0.042, 0.039)
    assert rate.text(fmt) == fmt.points(0.003) == "+0.3 pts"
    revenue = Change("revenue", 506_000.0, 486_000.0)
    assert revenue.relative == pytest.approx(20_000 / 486_000) and revenue.absolute == 20_000
    assert revenue.text(fmt) == f"{fmt.percent(20_000 / 486_000, 1, signed=True)} ({fmt.money(20_000, signed=True)})"
    conversions = Change("conversions", 87, 141)
    assert conversions.text(fmt) == f"{fmt.percent(-54 / 141, 1, signed=True)} (-54)" and conversions.better is False
    cost = Change("cost", 120.0, 100.0)
    assert cost.better is False and Change("cost", 80.0, 100.0).better is True
    new = Change("sends", 12, 0)
    assert math.isnan(new.relative) and new.text(fmt) == "+12 (from none)"


def test_cumulative_and_missing_values_are_not_compared():
    reach = Change("reach_conversion", 0.30, 0.20)
    assert not reach.compared and "campaign's start" in reach.reason and reach.text(fmt) == "not compared"
    assert math.isnan(reach.absolute) and reach.better is None
    assert Change("sends", 10, None).reason == "nothing to compare with"
    assert Change("roi", math.nan, 0.5).reason == "no value in this period"
    assert Change("sends", 10, 10).better is None
