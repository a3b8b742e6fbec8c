"""Time windows of the live screen as UTC instants.

"The last N minutes" is the N whole minutes before the running minute plus the running minute
up to now: [floor(now) − N min, now). Starting on a minute boundary lets the minute rollup
answer the whole minutes (up to its watermark; the raw events after it), and only the running
minute is read from the raw events. "The same minutes yesterday" is the same stretch on the
viewer's wall clock one calendar day earlier (23 or 25 hours earlier across a daylight-saving
change), counted the same way.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

WINDOW_CHOICES = (5, 15, 60)       # minutes the screen offers
ACTIVE_MINUTES = 5                 # "active members", the map and devices: the last 5 minutes
SPARKLINE_MINUTES = 60             # the per-minute conversion-rate sparkline covers the last hour
# tiles.snapshot sums the sparkline's minutes for the window's totals: they must cover every window
assert max(WINDOW_CHOICES) <= SPARKLINE_MINUTES
MINUTE = timedelta(minutes=1)


def utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("expected an aware datetime, got a naive one")
    return at.astimezone(timezone.utc)


def floor_minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


@dataclass(frozen=True)
class LiveWindow:
    """The instants [start_at, end_at) in UTC. The minute rollup answers [start_at, rollup_to)
    (whole buckets); the raw events answer [rollup_to, end_at), the partial minute a bucket
    cannot be cut at."""
    start_at: datetime
    end_at: datetime
    rollup_to: datetime

    def __post_init__(self):
        for name in ("start_at", "end_at", "rollup_to"):
            if getattr(self, name).tzinfo is None:
                raise ValueError(f"{name} must be an aware datetime (UTC), got a naive one")
        if floor_minute(self.start_at) != self.start_at:
            raise ValueError(f"A live window starts on a whole minute, not at {self.start_at}.")
        if not self.start_at <= self.rollup_to <= self.end_at:
            raise ValueError(f"Inconsistent live window {self.start_at} .. {self.rollup_to} .. {self.end_at}.")

    @property
    def seconds(self) -> float:
        return (self.end_at - self.start_at).total_seconds()

    def bounds(self) -> dict:
        """Bind parameters of the live range queries."""
        return {"start_at": self.start_at, "rollup_to": self.rollup_to, "end_at": self.end_at}


def _check_minutes(minutes: int) -> None:
    if minutes <= 0:
        raise ValueError(f"A live window must be at least one minute long, not {minutes}.")


def live_window(now: datetime, minutes: int) -> LiveWindow:
    """The last `minutes` whole minutes and the running minute up to now."""
    _check_minutes(minutes)
    now = utc(now)
    return LiveWindow(floor_minute(now) - minutes * MINUTE, now, rollup_to=floor_minute(now))


def same_time_yesterday(now: datetime, tz: str) -> datetime:
    """The instant whose wall-clock time in tz is now's, one calendar day earlier: 24 h ago
    on most days, 23 or 25 h ago on the day after a daylight-saving change."""
    zone = ZoneInfo(tz)
    local = utc(now).astimezone(zone)
    earlier = (local.replace(tzinfo=None) - timedelta(days=1)).replace(tzinfo=zone, fold=local.fold)
    return earlier.astimezone(timezone.utc)


def yesterday_window(now: datetime, minutes: int, tz: str) -> LiveWindow:
    """The same stretch as live_window(now, minutes), on tz's wall clock yesterday."""
    _check_minutes(minutes)
    end = same_time_yesterday(now, tz)
    return LiveWindow(floor_minute(end) - minutes * MINUTE, end, rollup_to=floor_minute(end))
