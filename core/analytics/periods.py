"""Reporting periods in the viewer's time zone, their UTC instants, and comparison periods
aligned by weekday.

Every period lies within EARLIEST_DAY..LATEST_DAY: far from year 1 and 9999, where a local
midnight's UTC instant (or a comparison a year back) falls outside what datetime represents,
and still around every day this app can have data for. What a viewer picks goes through
Period.from_input, which always gives a valid period and says what it changed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

COMPARISONS = {"previous": "Previous period", "last_year": "Same period last year", "none": "No comparison"}
GRAINS = {"hour": "Hour", "day": "Day", "week": "Week"}
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2099, 12, 31)


def _day(value: date) -> str:
    return f"{value:%d %b %Y}"


@dataclass(frozen=True)
class Period:
    """Local calendar days first..last (inclusive) in time zone tz."""
    first: date
    last: date
    tz: str

    def __post_init__(self):
        if self.last < self.first:
            raise ValueError(f"The period ends ({self.last}) before it starts ({self.first}); pick an end date on or after the start.")
        if self.first < EARLIEST_DAY or self.last > LATEST_DAY:
            raise ValueError(f"The period {self.first} – {self.last} reaches outside {EARLIEST_DAY} – {LATEST_DAY}, "
                             f"the days this app can show; pick dates within them.")
        ZoneInfo(self.tz)  # raises for an unknown zone

    @classmethod
    def from_input(cls, first: date, last: date, tz: str) -> tuple["Period", str | None]:
        """The period a viewer meant by whatever two dates they picked, and a message saying what
        was changed and why (None when nothing was): an end before the start swaps them, days
        outside EARLIEST_DAY..LATEST_DAY move to the nearest limit."""
        notes = []
        if last < first:
            notes.append(f"The date range ended ({_day(last)}) before it started ({_day(first)}), so the two dates were swapped.")
            first, last = last, first
        clamped = (min(max(first, EARLIEST_DAY), LATEST_DAY), min(max(last, EARLIEST_DAY), LATEST_DAY))
        if clamped != (first, last):
            notes.append(f"Dates can be from {_day(EARLIEST_DAY)} to {_day(LATEST_DAY)}; "
                         f"{_day(first)} – {_day(last)} became {_day(clamped[0])} – {_day(clamped[1])}.")
        return cls(clamped[0], clamped[1], tz), " ".join(notes) or None

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def start_at(self) -> datetime:
        """The first instant, as an aware UTC datetime (local midnight, DST-correct)."""
        return datetime.combine(self.first, time(), ZoneInfo(self.tz)).astimezone(ZoneInfo("UTC"))

    @property
    def end_at(self) -> datetime:
        """The instant just after the period (exclusive bound)."""
        return datetime.combine(self.last + timedelta(days=1), time(), ZoneInfo(self.tz)).astimezone(ZoneInfo("UTC"))

    def utc_whole_days(self) -> tuple[date, date]:
        """UTC days [day_from, day_to) lying wholly inside the period; empty when day_to <= day_from."""
        start, end = self.start_at, self.end_at
        day_from = start.date() if start.timetz().replace(tzinfo=None) == time() else start.date() + timedelta(days=1)
        day_to = end.date()
        return day_from, max(day_to, day_from)

    def bounds(self) -> dict:
        """Bind parameters for the range queries."""
        day_from, day_to = self.utc_whole_days()
        return {"start_at": self.start_at, "end_at": self.end_at, "day_from": day_from, "day_to": day_to}

    def is_incomplete(self, now: datetime) -> bool:
        return self.end_at > now

    def label(self) -> str:
        return f"{self.first:%d %b %Y} – {self.last:%d %b %Y} ({self.tz})"


def comparison_period(period: Period, kind: str) -> Period | None:
    """The period to compare with, shifted by whole weeks so weekdays line up; None for no
    comparison, and when it would start before EARLIEST_DAY (there is nothing to compare with)."""
    if kind == "none":
        return None
    if kind == "previous":
        shift = timedelta(days=7 * math.ceil(period.days / 7))
    elif kind == "last_year":
        shift = timedelta(days=364)  # 52 weeks: same weekdays, one year earlier
    else:
        raise ValueError(f"Unknown comparison {kind!r}; choose one of {', '.join(COMPARISONS)}")
    if period.first - EARLIEST_DAY < shift:
        return None
    return Period(period.first - shift, period.last - shift, period.tz)


def last_days(days: int, tz: str, today: date | None = None) -> Period:
    today = today or datetime.now(ZoneInfo(tz)).date()
    return Period(today - timedelta(days=days - 1), today, tz)
