"""The numbers of every live tile of Screen 4, read in one snapshot.

Counts, rates, the per-minute sparkline and the change against the same minutes yesterday come
from the minute rollup up to its watermark (the running minute's bucket included) plus the raw
events it has not folded in yet, so they are exact and current however far the rollup lags
(windows: core.live.windows). Active members, the map and the device breakdown come the same way
from the live activity rollups (per minute: region × device counts, and who acted); the event stream reads the
newest raw events (the time range prunes to the newest partition, BRIN finds the block ranges). `snapshot` never raises for an
unreachable database: it returns a snapshot carrying the error, so the screen keeps running.
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
from core.live.windows import (ACTIVE_MINUTES, SPARKLINE_MINUTES, WINDOW_CHOICES, LiveWindow,
                               floor_minute, live_window, utc, yesterday_window)
from core.analytics.metrics import COUNT_COLUMNS, METRICS, add_metrics, relative_change

# No event for this long: the screen warns that data is stale. At the demo's realistic rate a
# quiet night minute can pass without an event; five quiet minutes mean the feed has stopped.
STALE_AFTER_SECONDS = 300
LATEST_EVENTS = 50
LATEST_LOOKBACK = timedelta(minutes=10)  # the event stream shows nothing older than this
LATEST_LOOKBACK_IDS = 5_000              # ...and only among the last this many event ids
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
    taken_at: datetime                    # UTC instant the numbers are for
    window_minutes: int
    tz: str
    error: str | None = None              # set when the database could not be read
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
    def is_stale(self) -> bool:
        """No event for STALE_AFTER_SECONDS (or none at all in the last LATEST_LOOKBACK)."""
        age = self.seconds_since_latest_event
        return age is None or age > STALE_AFTER_SECONDS


def _with_events(frame: pd.DataFrame) -> pd.DataFrame:
    frame = add_metrics(frame)
    frame["events"] = frame[COUNT_COLUMNS].sum(axis=1).astype("int64")
    return frame


def window_totals(db: Engine | Connection, window: LiveWindow) -> pd.Series:
    """Counts, revenue and every rate of all campaigns in the window, exact."""
    return _with_events(fetch_df(db, "live_window_totals", **window.bounds())).iloc[0]


def totals_since(per_minute: pd.DataFrame, start_at: datetime) -> pd.Series:
    """The window totals from the per-minute series when it covers the window (every window on
    offer ends at the same running minute as the series): the sum of its minutes from start_at."""
    minutes = per_minute.loc[per_minute.bucket >= pd.Timestamp(start_at), SUM_COLUMNS]
    return _with_events(minutes.sum().to_frame().T).iloc[0]


def minute_series(db: Engine | Connection, now: datetime, tz: str, minutes: int = SPARKLINE_MINUTES,
                  running_minute: str = "rollup") -> pd.DataFrame:
    """One row per minute of the last `minutes` whole minutes and the running one, with counts
    and rates; `minute` is the local time in tz, `incomplete` marks the running minute. Minutes
    without events are present with zero counts (and no rate)."""
    now = utc(now)
    window = live_window(now, minutes, running_minute)
    first = window.start_at
    frame = fetch_df(db, "live_minute_series", **window.bounds())
    grid = pd.DataFrame({"bucket": pd.date_range(first, floor_minute(now), freq="min", tz="UTC")})
    if len(frame):
        frame["bucket"] = pd.to_datetime(frame.bucket, utc=True)
    frame = grid.merge(frame, on="bucket", how="left").fillna({c: 0 for c in SUM_COLUMNS})
    frame = _with_events(frame)
    frame["minute"] = frame.bucket.dt.tz_convert(tz).dt.tz_localize(None)
    frame["incomplete"] = frame.bucket == pd.Timestamp(floor_minute(now))
    return frame


@dataclass
class Activity:
    active_members: int          # distinct members who acted in the stretch
    active_per_minute: pd.DataFrame  # bucket (UTC minute), members: distinct acting members in it
    regions: pd.DataFrame        # region_code, region_name, latitude, longitude, events, conversions
    devices: pd.DataFrame        # device, events, share


def activity(db: Engine | Connection, now: datetime, minutes: int = ACTIVE_MINUTES,
             running_minute: str = "rollup") -> Activity:
    """The last `minutes` whole minutes and the running one: events per region and device, and
    the members who acted (in all, and per minute), from the live activity rollups and the raw
    events they do not hold yet."""
    frame = fetch_df(db, "live_activity", **live_window(now, minutes, running_minute).bounds())
    cells = frame[frame.kind == "cell"]
    regions = (cells.groupby("region_code", as_index=False)
               .agg(region_name=("region_name", "first"), latitude=("latitude", "first"),
                    longitude=("longitude", "first"), events=("events", "sum"), conversions=("conversions", "sum"))
               .sort_values(["events", "region_code"], ascending=[False, True], ignore_index=True))
    regions["region_name"] = regions.region_name.fillna(regions.region_code)
    devices = (cells.groupby("device", as_index=False).agg(events=("events", "sum"))
               .sort_values(["events", "device"], ascending=[False, True], ignore_index=True))
    devices["share"] = devices.events / max(int(devices.events.sum()), 1)
    actors = frame[frame.kind == "active_members"]
    total = actors[actors.minute.isna()]
    per_minute = actors[actors.minute.notna()].rename(columns={"minute": "bucket", "events": "members"})
    per_minute = per_minute.assign(bucket=pd.to_datetime(per_minute.bucket, utc=True)).sort_values("bucket")
    return Activity(active_members=int(total.events.iloc[0]) if len(total) else 0,
                    active_per_minute=per_minute[["bucket", "members"]].reset_index(drop=True),
                    regions=regions, devices=devices[["device", "events", "share"]])


def latest_events(db: Engine | Connection, now: datetime, tz: str, limit: int = LATEST_EVENTS) -> pd.DataFrame:
    """The latest arrived events, newest first, with local time in tz and the event's name.
    full_name is personal data: mask it (core.access.pii.mask_frame) before showing it."""
    now = utc(now)
    frame = fetch_df(db, "live_latest_events", since=now - LATEST_LOOKBACK, now=now,
                     lookback_ids=LATEST_LOOKBACK_IDS, limit=limit)
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


def snapshot(db: Engine, window_minutes: int, tz: str, now: datetime | None = None,
             running_minute: str = "rollup") -> LiveSnapshot:
    """Every live tile's numbers for the last `window_minutes` minutes, compared with the same
    minutes yesterday on tz's wall clock. A database error comes back as `error`, not raised.
    `running_minute`: how the running minute is read (core.live.windows.RUNNING_MINUTE_READS;
    "raw" only for the benchmark's comparison)."""
    if window_minutes not in WINDOW_CHOICES:
        raise ValueError(f"The live window is {', '.join(map(str, WINDOW_CHOICES))} minutes; got {window_minutes}.")
    ZoneInfo(tz)  # an unknown zone is a programming error: raise it
    now = utc(now or datetime.now(timezone.utc))
    result = LiveSnapshot(taken_at=now, window_minutes=window_minutes, tz=tz,
                          window=live_window(now, window_minutes, running_minute),
                          yesterday_window=yesterday_window(now, window_minutes, tz))
    try:
        with db.connect() as conn:  # one transaction: SET LOCAL lasts until its end
            fetch_scalar(conn, "live_session_settings")
            result.per_minute = minute_series(conn, now, tz, running_minute=running_minute)  # covers today's window
            current = totals_since(result.per_minute, result.window.start_at)
            previous = window_totals(conn, result.yesterday_window)
            found = activity(conn, now, running_minute=running_minute)
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
