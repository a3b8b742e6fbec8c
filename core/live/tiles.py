"""The numbers of every live tile of Screen 4, read in one snapshot.

Every tile shows what the rollups hold, every campaign summed (migration 0016): the events the
roller has folded in, up to the instant core.live.windows.held_until gives (now while the roller
keeps up with the writers, a few seconds back at 20,000 events/s); the screen says which.
Counts, rates, the per-minute sparkline and the change against the same minutes yesterday come
from the live seconds rollup, exact to the second; active members, the map and the device
breakdown from the live minute rollups (region × device counts, each minute's actors and each
actor's latest minute); the event stream from the 50 newest events folded in. No tile reads the
raw events, so a refresh costs the same at 20 or 20,000 events/s (issue 15). `snapshot` never
raises for an unreachable database: it returns a snapshot carrying the error, so the screen
keeps running.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError, TimeoutError as PoolTimeout

from core.platform.db import fetch_df, fetch_scalar
from core.platform.events import EVENT_NAMES
from core.live.windows import (ACTIVE_MINUTES, SPARKLINE_MINUTES, WINDOW_CHOICES, LiveWindow, held_until,
                               live_window, utc, yesterday_window)
from core.analytics.metrics import COUNT_COLUMNS, METRICS, add_metrics, relative_change

# No event for this long: the screen warns that data is stale. At the demo's realistic rate a
# quiet night minute can pass without an event; five quiet minutes mean the feed has stopped.
STALE_AFTER_SECONDS = 300
LATEST_EVENTS = 50
LATEST_LOOKBACK = timedelta(minutes=10)  # the event stream shows nothing older than this
SUM_COLUMNS = COUNT_COLUMNS + ["revenue", "reward_cost"]
DATABASE_ERRORS = (OperationalError, DBAPIError, PoolTimeout, ConnectionError, OSError)


@dataclass(frozen=True)
class LiveKpi:
    key: str
    label: str
    unit: str
    value: float
    previous: float | None
    change: float | None        # relative change against `previous`; NaN when undefined
    help: str
    higher_is_better: bool = True


# Live KPI cards in screen order: "events" is every event of any type.
KPI_SPECS = [
    ("events", "Events", "count", "every event of any type: sends, deliveries, opens, impressions, clicks, conversions"),
    ("delivered", "Deliveries", "count", METRICS["delivered"].help or "messages delivered"),
    ("conversions", "Conversions", "count", METRICS["conversions"].help or "conversions"),
    ("revenue", "Revenue", "USD", METRICS["revenue"].help),
    ("delivery_rate", "Delivery rate", "%", METRICS["delivery_rate"].help),
    ("conversion_rate", "Conversion rate", "%", METRICS["conversion_rate"].help),
]


@dataclass
class LiveSnapshot:
    taken_at: datetime                    # UTC instant the snapshot was taken
    window_minutes: int
    tz: str
    error: str | None = None              # set when the database could not be read
    held_until: datetime | None = None    # the rollups hold every event up to this instant (UTC)
    window: LiveWindow | None = None      # the window of the counts, and the same one yesterday
    yesterday_window: LiveWindow | None = None
    totals: pd.Series | None = None       # counts, money and metrics of the window
    yesterday: pd.Series | None = None    # the same minutes yesterday (viewer's wall clock)
    kpis: list[LiveKpi] = field(default_factory=list)
    active_members: int = 0               # distinct members acting in the last ACTIVE_MINUTES
    active_per_minute: pd.DataFrame = field(default_factory=pd.DataFrame)  # minute (local), members
    per_minute: pd.DataFrame = field(default_factory=pd.DataFrame)  # the sparkline's last hour
    regions: pd.DataFrame = field(default_factory=pd.DataFrame)     # events of the last ACTIVE_MINUTES
    devices: pd.DataFrame = field(default_factory=pd.DataFrame)     # events of the last ACTIVE_MINUTES
    latest: pd.DataFrame = field(default_factory=pd.DataFrame)      # the latest LATEST_EVENTS
    latest_event_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def seconds_since_latest_event(self) -> float | None:
        if self.latest_event_at is None:
            return None
        return max((self.taken_at - self.latest_event_at).total_seconds(), 0.0)

    @property
    def seconds_behind(self) -> float | None:
        """How far behind now the numbers are: the rollups' reach."""
        if self.held_until is None:
            return None
        return max((self.taken_at - self.held_until).total_seconds(), 0.0)

    @property
    def is_stale(self) -> bool:
        """No event for STALE_AFTER_SECONDS (or none at all in the last LATEST_LOOKBACK)."""
        age = self.seconds_since_latest_event
        return age is None or age > STALE_AFTER_SECONDS


def _with_events(frame: pd.DataFrame) -> pd.DataFrame:
    frame = add_metrics(frame)
    frame["events"] = frame[COUNT_COLUMNS].sum(axis=1).astype("int64")
    return frame


def window_totals(db: Engine | Connection, window: LiveWindow) -> pd.Series:
    """Counts, revenue and every rate of all campaigns in the window, as the rollups hold them."""
    return _with_events(fetch_df(db, "live_window_totals", **window.bounds())).iloc[0]


def totals_since(per_minute: pd.DataFrame, start_at: datetime) -> pd.Series:
    """The window totals from the per-minute series when it covers the window (every window on
    offer ends at the same running minute as the series): the sum of its minutes from start_at."""
    minutes = per_minute.loc[per_minute.bucket >= pd.Timestamp(start_at), SUM_COLUMNS]
    return _with_events(minutes.sum().to_frame().T).iloc[0]


def minute_series(db: Engine | Connection, until: datetime, tz: str, minutes: int = SPARKLINE_MINUTES) -> pd.DataFrame:
    """One row per minute of the last `minutes` whole minutes and the running one, up to `until`
    (live_window), with counts and rates; `minute` is the local time in tz, `incomplete` marks
    the running minute. Minutes without events are present with zero counts (and no rate)."""
    window = live_window(until, minutes)
    frame = _with_events(fetch_df(db, "live_minute_series", tz=tz, **window.bounds()))
    frame["bucket"] = pd.to_datetime(frame.bucket, utc=True)
    frame["minute"] = pd.to_datetime(frame.minute)
    frame["incomplete"] = frame.bucket == pd.Timestamp(window.running_minute)
    return frame


@dataclass
class Activity:
    active_members: int          # distinct members who acted in the stretch
    active_per_minute: pd.DataFrame  # bucket (UTC minute), members: distinct acting members in it
    regions: pd.DataFrame        # region_code, region_name, latitude, longitude, events, conversions
    devices: pd.DataFrame        # device, events, share


def activity(db: Engine | Connection, until: datetime, minutes: int = ACTIVE_MINUTES) -> Activity:
    """The last `minutes` whole minutes and the running one (the minute `until` is in, as the
    rollups hold it): events per region and device, busiest first, and the members who acted (in
    all, and per minute)."""
    frame = fetch_df(db, "live_activity", **live_window(until, minutes).minute_bounds())
    regions = frame[frame.kind == "region"][["region_code", "region_name", "latitude", "longitude", "events",
                                              "conversions"]].reset_index(drop=True)
    devices = frame[frame.kind == "device"][["device", "events"]].reset_index(drop=True)
    devices["share"] = devices.events / max(int(devices.events.sum()), 1)
    actors = frame[frame.kind == "active_members"]
    total = actors[actors.minute.isna()]
    per_minute = actors[actors.minute.notna()]
    per_minute = pd.DataFrame({"bucket": pd.to_datetime(per_minute.minute, utc=True).reset_index(drop=True),
                               "members": per_minute.events.reset_index(drop=True)})
    return Activity(active_members=int(total.events.iloc[0]) if len(total) else 0,
                    active_per_minute=per_minute, regions=regions, devices=devices)


def latest_events(db: Engine | Connection, now: datetime, tz: str, limit: int = LATEST_EVENTS) -> pd.DataFrame:
    """The newest events the rollups hold, stamped in the LATEST_LOOKBACK before now, newest first,
    with local time in tz and the event's name. Device and region fall back to the member's own,
    as on the map. full_name is personal data: mask it (core.access.pii.mask_frame) before
    showing it."""
    now = utc(now)
    frame = fetch_df(db, "live_latest_events", since=now - LATEST_LOOKBACK, now=now, limit=limit)
    frame["event_time"] = pd.to_datetime(frame.event_time, utc=True)
    frame["local_time"] = frame.event_time.dt.tz_convert(tz).dt.tz_localize(None)
    frame["event"] = frame.event_type.map(EVENT_NAMES)
    frame["revenue"] = pd.to_numeric(frame.revenue).astype(float)
    return frame


# A change against yesterday is shown only when both stretches have at least this many of what
# the KPI counts (for a rate: of its denominator). At the demo's realistic rate a 5-minute window
# holds one or two conversions: "+100 %" from 1 to 2 is noise, not news.
MIN_TO_COMPARE = 20
RATE_DENOMINATOR = {"delivery_rate": "sends", "conversion_rate": "clicks"}


def kpis(current: pd.Series, previous: pd.Series, min_to_compare: int = MIN_TO_COMPARE) -> list[LiveKpi]:
    cards = []
    for key, label, unit, help_text in KPI_SPECS:
        value, before = float(current[key]), float(previous[key])
        if key in RATE_DENOMINATOR:
            basis = min(float(current[RATE_DENOMINATOR[key]]), float(previous[RATE_DENOMINATOR[key]]))
        elif key == "revenue":
            basis = min(float(current["conversions"]), float(previous["conversions"]))
        else:
            basis = min(value, before)
        change = relative_change(value, before) if basis >= min_to_compare else float("nan")
        cards.append(LiveKpi(key, label, unit, value, before, change, help_text))
    return cards


def snapshot(db: Engine, window_minutes: int, tz: str, now: datetime | None = None) -> LiveSnapshot:
    """Every live tile's numbers for the last `window_minutes` minutes up to what the rollups
    hold, compared with the same minutes yesterday on tz's wall clock. A database error comes
    back as `error`, not raised."""
    if window_minutes not in WINDOW_CHOICES:
        raise ValueError(f"The live window is {', '.join(map(str, WINDOW_CHOICES))} minutes; got {window_minutes}.")
    ZoneInfo(tz)  # an unknown zone is a programming error: raise it
    now = utc(now or datetime.now(timezone.utc))
    result = LiveSnapshot(taken_at=now, window_minutes=window_minutes, tz=tz)
    try:
        # one transaction (SET LOCAL lasts until its end), repeatable read: every tile from
        # the same state of the rollups, the one whose reach is read first
        with db.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
            fetch_scalar(conn, "live_session_settings")
            reach = fetch_df(conn, "live_rollup_state").iloc[0]
            until = held_until(now, int(reach.last_event_id), int(reach.last_assigned_id),
                               pd.Timestamp(reach.updated_at).to_pydatetime())
            result.held_until = until
            result.window = live_window(until, window_minutes)
            result.yesterday_window = yesterday_window(until, window_minutes, tz)
            result.per_minute = minute_series(conn, until, tz)  # covers today's window
            current = totals_since(result.per_minute, result.window.start_at)
            previous = window_totals(conn, result.yesterday_window)
            found = activity(conn, until)
            result.latest = latest_events(conn, now, tz)
    except DATABASE_ERRORS as error:
        result.error = f"{type(error).__name__}: {str(getattr(error, 'orig', None) or error).strip()[:300]}"
        return result
    result.totals, result.yesterday = current, previous
    result.kpis = kpis(current, previous)
    result.active_members = found.active_members
    result.active_per_minute = found.active_per_minute.assign(
        minute=found.active_per_minute.bucket.dt.tz_convert(tz).dt.tz_localize(None))
    result.regions, result.devices = found.regions, found.devices
    if len(result.latest):
        result.latest_event_at = result.latest.event_time.max().to_pydatetime()
    return result
