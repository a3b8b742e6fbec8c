"""Reporting periods in the viewer's time zone, their UTC instants, and comparison periods
aligned by weekday."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

COMPARISONS = {"previous": "Previous period", "last_year": "Same period last year", "none": "No comparison"}
GRAINS = {"hour": "Hour", "day": "Day", "week": "Week"}


@dataclass(frozen=True)
class Period:
    """Local calendar days first..last (inclusive) in time zone tz."""
    first: date
    last: date
    tz: str

    def __post_init__(self):
        if self.last < self.first:
            raise ValueError(f"The period ends ({self.last}) before it starts ({self.first}); pick an end date on or after the start.")
        ZoneInfo(self.tz)  # raises for an unknown zone

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
    """The period to compare with, shifted by whole weeks so weekdays line up."""
    if kind == "none":
        return None
    if kind == "previous":
        shift = timedelta(days=7 * math.ceil(period.days / 7))
    elif kind == "last_year":
        shift = timedelta(days=364)  # 52 weeks: same weekdays, one year earlier
    else:
        raise ValueError(f"Unknown comparison {kind!r}; choose one of {', '.join(COMPARISONS)}")
    return Period(period.first - shift, period.last - shift, period.tz)


def last_days(days: int, tz: str, today: date | None = None) -> Period:
    today = today or datetime.now(ZoneInfo(tz)).date()
    return Period(today - timedelta(days=days - 1), today, tz)
