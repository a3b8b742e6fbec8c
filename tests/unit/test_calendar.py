"""The shipped US holiday calendar against published dates, and its rules over many years."""
from __future__ import annotations

from datetime import date

from core.analytics.calendar import holidays, holidays_of_year, nth_weekday


def by_name(year: int) -> dict[str, date]:
    return {h.name: h.day for h in holidays_of_year(year)}


def test_published_dates():
    # from the US Office of Personnel Management's holiday tables (and the retail calendar)
    assert by_name(2025) == {
        "New Year's Day": date(2025, 1, 1), "Martin Luther King Jr. Day": date(2025, 1, 20),
        "Presidents' Day": date(2025, 2, 17), "Memorial Day": date(2025, 5, 26), "Juneteenth": date(2025, 6, 19),
        "Independence Day": date(2025, 7, 4), "Labor Day": date(2025, 9, 1), "Columbus Day": date(2025, 10, 13),
        "Veterans Day": date(2025, 11, 11), "Thanksgiving": date(2025, 11, 27), "Black Friday": date(2025, 11, 28),
        "Cyber Monday": date(2025, 12, 1), "Christmas Day": date(2025, 12, 25)}
    assert by_name(2026)["Thanksgiving"] == date(2026, 11, 26)
    assert by_name(2026)["Cyber Monday"] == date(2026, 11, 30)
    assert by_name(2026)["Martin Luther King Jr. Day"] == date(2026, 1, 19)
    assert by_name(2026)["Memorial Day"] == date(2026, 5, 25)
    assert by_name(2024)["Labor Day"] == date(2024, 9, 2)
    assert by_name(2024)["Columbus Day"] == date(2024, 10, 14)


def test_the_rules_hold_every_year():
    for year in range(2000, 2100):
        days = by_name(year)
        assert len(days) == 13 and [h.day for h in holidays_of_year(year)] == sorted(days.values())
        for name in ("Martin Luther King Jr. Day", "Presidents' Day", "Memorial Day", "Labor Day", "Columbus Day",
                     "Cyber Monday"):
            assert days[name].weekday() == 0, (year, name)
        assert days["Thanksgiving"].weekday() == 3 and 22 <= days["Thanksgiving"].day <= 28
        assert days["Black Friday"].weekday() == 4
        assert 15 <= days["Martin Luther King Jr. Day"].day <= 21 and days["Martin Luther King Jr. Day"].month == 1
        assert 25 <= days["Memorial Day"].day <= 31 and days["Memorial Day"].month == 5
        assert 1 <= days["Labor Day"].day <= 7 and 8 <= days["Columbus Day"].day <= 14


def test_nth_and_last_weekday():
    assert nth_weekday(2026, 12, 0, -1) == date(2026, 12, 28)   # December: the year's end wraps correctly
    assert nth_weekday(2026, 3, 6, 1) == date(2026, 3, 1)        # the 1st is itself a Sunday
    assert nth_weekday(2026, 3, 6, 5) == date(2026, 3, 29)


def test_holidays_in_a_range_span_years():
    found = holidays(date(2025, 12, 20), date(2026, 1, 20))
    assert [(h.day, h.name) for h in found] == [(date(2025, 12, 25), "Christmas Day"), (date(2026, 1, 1), "New Year's Day"),
                                               (date(2026, 1, 19), "Martin Luther King Jr. Day")]
    assert holidays(date(2026, 3, 1), date(2026, 3, 31)) == []
