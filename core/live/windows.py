"""Time windows of the live screen: "the last N minutes" as UTC instants, split into the whole
minutes the minute rollup can answer and the partial minutes at either end that only the raw
events can; and "the same minutes yesterday" on the viewer's wall clock (DST-correct)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

WINDOW_CHOICES = (5, 15, 60)       # minutes the screen offers
ACTIVE_MINUTES = 5                 # "active members" always means the last 5 minutes
SPARKLINE_MINUTES = 60             # the per-minute conversion-rate sparkline covers the last hour
MINUTE = timedelta(minutes=1)


def floor_minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def ceil_minute(at: datetime) -> datetime:
    floored = floor_minute(at)
    return floored if floored == at else floored + MINUTE


@dataclass(frozen=True)
class LiveWindow:
    """The instants [start_at, end_at) in UTC; [full_from, full_to) are the whole UTC minutes
    inside it (empty when full_to <= full_from)."""
    start_at: datetime
    end_at: datetime

    def __post_init__(self):
        for name in ("start_at", "end_at"):
            if getattr(self, name).tzinfo is None:
                raise ValueError(f"{name} must be an aware datetime (UTC), got a naive one")
        if self.end_at < self.start_at:
            raise ValueError(f"The window ends ({self.end_at}) before it starts ({self.start_at}).")

    @property
    def full_from(self) -> datetime:
        return min(ceil_minute(self.start_at), self.end_at)

    @property
    def full_to(self) -> datetime:
        return max(floor_minute(self.end_at), self.full_from)

    def bounds(self) -> dict:
        """Bind parameters of the live range queries."""
        return {"start_at": self.start_at, "full_from": self.full_from,
                "full_to": self.full_to, "end_at": self.end_at}


def utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("expected an aware datetime, got a naive one")
    return at.astimezone(timezone.utc)


def last_minutes(now: datetime, minutes: int) -> LiveWindow:
    """The `minutes` minutes that end at `now`."""
    if minutes <= 0:
        raise ValueError(f"A live window must be at least one minute long, not {minutes}.")
    now = utc(now)
    return LiveWindow(now - timedelta(minutes=minutes), now)


def same_time_yesterday(now: datetime, tz: str) -> datetime:
    """The instant whose wall-clock time in tz is now's, one calendar day earlier: 24 h ago
    on most days, 23 or 25 h ago on the day after a daylight-saving change."""
    zone = ZoneInfo(tz)
    local = utc(now).astimezone(zone)
    earlier = (local.replace(tzinfo=None) - timedelta(days=1)).replace(tzinfo=zone, fold=local.fold)
    return earlier.astimezone(timezone.utc)


def yesterday_window(now: datetime, minutes: int, tz: str) -> LiveWindow:
    """The same `minutes` minutes on the viewer's wall clock yesterday."""
    return last_minutes(same_time_yesterday(now, tz), minutes)
