"""Time windows of the live screen as UTC instants, and how far the rollups reach.

The screen shows what the rollups hold (core.live.tiles): every event the roller has folded in,
up to the instant `held_until` gives — now when nothing is written beyond the watermark, else
when the roller last moved (a few seconds ago while it keeps up). Reading the events above the
watermark too made every refresh read up to 70,000 raw rows at 20,000 events/s (issue 15).

"The last N minutes" is the N whole minutes before the running minute plus the running minute
up to the window's end: [floor(end) − N min, end), end on a whole second, so that the live
seconds rollup answers it exactly. "The same minutes yesterday" is the same stretch on the
viewer's wall clock one calendar day earlier (23 or 25 hours earlier across a daylight-saving
change). The map, the devices and the active members are per whole minute: the last few and
the running one, as the rollups hold it.
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


def floor_second(at: datetime) -> datetime:
    return at.replace(microsecond=0)


def held_until(now: datetime, last_event_id: int, last_assigned_id: int, rolled_at: datetime | None) -> datetime:
    """The instant up to which the rollups hold every event written: now when no event id has
    been handed out beyond the watermark, else when the roller last moved (never after now)."""
    now = utc(now)
    if last_assigned_id <= last_event_id or rolled_at is None:
        return now
    return min(now, utc(rolled_at))


@dataclass(frozen=True)
class LiveWindow:
    """The instants [start_at, end_at) in UTC: start_at on a whole minute, end_at on a whole
    second. `running_minute` is the minute end_at falls in; the per-minute tiles read the whole
    minutes [start_at, until)."""
    start_at: datetime
    end_at: datetime

    def __post_init__(self):
        for name in ("start_at", "end_at"):
            if getattr(self, name).tzinfo is None:
                raise ValueError(f"{name} must be an aware datetime (UTC), got a naive one")
        if floor_minute(self.start_at) != self.start_at:
            raise ValueError(f"A live window starts on a whole minute, not at {self.start_at}.")
        if floor_second(self.end_at) != self.end_at:
            raise ValueError(f"A live window ends on a whole second, not at {self.end_at}.")
        if not self.start_at <= self.end_at:
            raise ValueError(f"Inconsistent live window {self.start_at} .. {self.end_at}.")

    @property
    def seconds(self) -> float:
        return (self.end_at - self.start_at).total_seconds()

    @property
    def running_minute(self) -> datetime:
        return floor_minute(self.end_at)

    @property
    def until(self) -> datetime:
        """The end of the running minute: the per-minute tiles read [start_at, until)."""
        return self.running_minute + MINUTE

    def bounds(self) -> dict:
        """Bind parameters of the per-second queries."""
        return {"start_at": self.start_at, "end_at": self.end_at}

    def minute_bounds(self) -> dict:
        """Bind parameters of the per-minute queries (the running minute whole, as held)."""
        return {"start_at": self.start_at, "until": self.until}


def _check_minutes(minutes: int) -> None:
    if minutes <= 0:
        raise ValueError(f"A live window must be at least one minute long, not {minutes}.")


def live_window(until: datetime, minutes: int) -> LiveWindow:
    """The last `minutes` whole minutes and the running minute, up to the whole second at or
    before `until` (what the rollups hold: held_until)."""
    _check_minutes(minutes)
    end = floor_second(utc(until))
    return LiveWindow(floor_minute(end) - minutes * MINUTE, end)


def same_time_yesterday(now: datetime, tz: str) -> datetime:
    """The instant whose wall-clock time in tz is now's, one calendar day earlier: 24 h ago
    on most days, 23 or 25 h ago on the day after a daylight-saving change."""
    zone = ZoneInfo(tz)
    local = utc(now).astimezone(zone)
    earlier = (local.replace(tzinfo=None) - timedelta(days=1)).replace(tzinfo=zone, fold=local.fold)
    return earlier.astimezone(timezone.utc)


def yesterday_window(until: datetime, minutes: int, tz: str) -> LiveWindow:
    """The same stretch as live_window(until, minutes), on tz's wall clock yesterday."""
    _check_minutes(minutes)
    end = same_time_yesterday(floor_second(utc(until)), tz)
    return LiveWindow(floor_minute(end) - minutes * MINUTE, floor_second(end))
