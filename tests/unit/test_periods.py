"""Periods from whatever a viewer picks: a range that ends before it starts, year 1 or year 9999
give a valid period and a message saying what changed, never an exception deeper down."""
from __future__ import annotations

from datetime import date

import pytest

from core.analytics.periods import EARLIEST_DAY, LATEST_DAY, Period, comparison_period

ZONES = ["Asia/Tokyo", "Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC", "America/New_York"]


def test_a_sensible_range_is_kept_as_it_is():
    period, problem = Period.from_input(date(2026, 11, 1), date(2026, 11, 7), "UTC")
    assert (period.first, period.last, problem) == (date(2026, 11, 1), date(2026, 11, 7), None)


def test_a_range_that_ends_before_it_starts_is_swapped_and_said():
    period, problem = Period.from_input(date(2026, 11, 10), date(2026, 11, 1), "Europe/Berlin")
    assert (period.first, period.last) == (date(2026, 11, 1), date(2026, 11, 10))
    assert "ended (01 Nov 2026) before it started (10 Nov 2026)" in problem and "swapped" in problem


@pytest.mark.parametrize("tz", ZONES)
@pytest.mark.parametrize("first, last", [(date(1, 1, 1), date(1, 1, 5)), (date(1, 1, 1), date(2026, 11, 1)),
                                         (date(9999, 12, 31), date(9999, 12, 31)), (date(1, 1, 1), date(9999, 12, 31)),
                                         (date(9999, 12, 31), date(1, 1, 1))])
def test_dates_at_the_ends_of_the_calendar_are_clamped_and_usable(first, last, tz):
    period, problem = Period.from_input(first, last, tz)
    assert EARLIEST_DAY <= period.first <= period.last <= LATEST_DAY
    assert problem and f"Dates can be from {EARLIEST_DAY:%d %b %Y} to {LATEST_DAY:%d %b %Y}" in problem
    # everything the screens do with a period works: UTC instants, bounds, label, comparisons
    assert period.start_at < period.end_at
    assert period.bounds()["day_from"] <= period.bounds()["day_to"]
    assert period.label()
    for kind in ("previous", "last_year", "none"):
        other = comparison_period(period, kind)
        assert other is None or (EARLIEST_DAY <= other.first and other.last < period.first)


def test_a_comparison_before_the_earliest_day_is_no_comparison():
    period = Period(EARLIEST_DAY, date(2000, 1, 20), "UTC")
    assert comparison_period(period, "previous") is None and comparison_period(period, "last_year") is None
    later = Period(date(2001, 1, 1), date(2001, 1, 7), "UTC")
    assert comparison_period(later, "previous") == Period(date(2000, 12, 25), date(2000, 12, 31), "UTC")


def test_a_period_outside_the_limits_is_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="reaches outside 2000-01-01 – 2099-12-31"):
        Period(date(1, 1, 1), date(1, 1, 2), "UTC")
    with pytest.raises(ValueError, match="ends .* before it starts"):
        Period(date(2026, 11, 2), date(2026, 11, 1), "UTC")
