"""US holidays and shopping days, computed (no network, no data file): what a chart marks so that
a dip on Thanksgiving is not read as a campaign's failure.

Days are the calendar dates themselves (Independence Day is 4 July even when the federal
holiday is observed on Friday the 3rd): shoppers behave by the date.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

MONDAY, THURSDAY = 0, 3


@dataclass(frozen=True)
class Holiday:
    day: date
    name: str


def nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th (1-based) given weekday of the month; n = -1 for the last."""
    if n == -1:
        following = date(year + month // 12, month % 12 + 1, 1)
        last = following - timedelta(days=1)
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def holidays_of_year(year: int) -> list[Holiday]:
    thanksgiving = nth_weekday(year, 11, THURSDAY, 4)
    days = [
        (date(year, 1, 1), "New Year's Day"),
        (nth_weekday(year, 1, MONDAY, 3), "Martin Luther King Jr. Day"),
        (nth_weekday(year, 2, MONDAY, 3), "Presidents' Day"),
        (nth_weekday(year, 5, MONDAY, -1), "Memorial Day"),
        (date(year, 6, 19), "Juneteenth"),
        (date(year, 7, 4), "Independence Day"),
        (nth_weekday(year, 9, MONDAY, 1), "Labor Day"),
        (nth_weekday(year, 10, MONDAY, 2), "Columbus Day"),
        (date(year, 11, 11), "Veterans Day"),
        (thanksgiving, "Thanksgiving"),
        (thanksgiving + timedelta(days=1), "Black Friday"),
        (thanksgiving + timedelta(days=4), "Cyber Monday"),
        (date(year, 12, 25), "Christmas Day"),
    ]
    return [Holiday(day, name) for day, name in sorted(days)]


def holidays(first: date, last: date) -> list[Holiday]:
    """Every holiday from `first` to `last` (inclusive), in date order."""
    return [h for year in range(first.year, last.year + 1) for h in holidays_of_year(year) if first <= h.day <= last]
