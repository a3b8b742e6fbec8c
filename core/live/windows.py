"""Time windows of the live screen as UTC instants.

"The last N minutes" is the N whole minutes before the running minute plus the running minute
up to now: [floor(now) − N min, now). Starting on a minute boundary lets the minute rollups
answer the whole minutes up to their watermark, the raw events only what they have not folded
in yet. The running minute is read from its bucket too: the bucket holds the minute's events up
to the watermark, so only the few seconds of events above it are read raw, and the events the
bucket holds that are stamped after now (normally none) are taken off. At 20,000 events/s the
running minute holds up to 1.2 M events; reading it raw made every refresh read them (issue 15).
"The same minutes yesterday" is the same stretch on the viewer's wall clock one calendar day
earlier (23 or 25 hours earlier across a daylight-saving change), counted the same way; its
last minute is cut at the instant, so it is read from whichever side of the instant is shorter:
the raw events before it, or its bucket less the raw events after it.
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


def ceil_minute(at: datetime) -> datetime:
    floored = floor_minute(at)
    return floored if floored == at else floored + MINUTE


@dataclass(frozen=True)
class LiveWindow:
    """The instants [start_at, end_at) in UTC. The minute rollups answer the whole buckets
    [start_at, rollup_to) up to their watermark, and the raw events the rest: the events above
    the watermark in [start_at, min(end_at, rollup_to)); the stretch [rollup_to, end_at) when
    the last bucket ends before end_at; and, taken off, the events the rollups hold that are
    stamped in [end_at, rollup_to) when the last bucket ends after end_at (the running minute's
    bucket holds what arrived up to the watermark, events stamped after now included)."""
    start_at: datetime
    end_at: datetime
    rollup_to: datetime

    def __post_init__(self):
        for name in ("start_at", "end_at", "rollup_to"):
            if getattr(self, name).tzinfo is None:
                raise ValueError(f"{name} must be an aware datetime (UTC), got a naive one")
        if floor_minute(self.start_at) != self.start_at:
            raise ValueError(f"A live window starts on a whole minute, not at {self.start_at}.")
        if floor_minute(self.rollup_to) != self.rollup_to:
            raise ValueError(f"A live window's buckets end on a whole minute, not at {self.rollup_to}.")
        if not self.start_at <= self.rollup_to <= ceil_minute(self.end_at):
            raise ValueError(f"Inconsistent live window {self.start_at} .. {self.rollup_to} .. {self.end_at}.")

    @property
    def seconds(self) -> float:
        return (self.end_at - self.start_at).total_seconds()

    def bounds(self) -> dict:
        """Bind parameters of the live range queries (raw_to: where the raw events above the
        watermark stop being needed)."""
        return {"start_at": self.start_at, "rollup_to": self.rollup_to, "end_at": self.end_at,
                "raw_to": min(self.end_at, self.rollup_to)}


def _check_minutes(minutes: int) -> None:
    if minutes <= 0:
        raise ValueError(f"A live window must be at least one minute long, not {minutes}.")


# How the running minute is read: "rollup" (its bucket, the events above the watermark, less
# those stamped after now) or "raw" (all its events from the raw table, as before issue 15;
# bench/bench_live.py measures both side by side).
RUNNING_MINUTE_READS = ("rollup", "raw")


def live_window(now: datetime, minutes: int, running_minute: str = "rollup") -> LiveWindow:
    """The last `minutes` whole minutes and the running minute up to now."""
    _check_minutes(minutes)
    if running_minute not in RUNNING_MINUTE_READS:
        raise ValueError(f"running_minute is one of {RUNNING_MINUTE_READS}, not {running_minute!r}")
    now = utc(now)
    last = ceil_minute(now) if running_minute == "rollup" else floor_minute(now)
    return LiveWindow(floor_minute(now) - minutes * MINUTE, now, rollup_to=last)


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
    # the last minute from its shorter side: raw before the instant, or the bucket less raw after it
    last = ceil_minute(end) if end - floor_minute(end) >= MINUTE / 2 else floor_minute(end)
    return LiveWindow(floor_minute(end) - minutes * MINUTE, end, rollup_to=last)
