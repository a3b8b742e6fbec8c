"""The live event simulator: realistic events for the live campaigns, written every fraction of a
second at a steady rate, with a burst whenever a campaign "sends".

Each simulated send draws its whole funnel at once from the demo's planted truth
(core.demo.truth: delivery rate per channel, segment response, channel and weekday factors,
the planted A/B click multipliers, the best reward type per segment, basket sizes): delivered
1–30 s later, opened, seen, clicked, converted with revenue. The delays of the demo (minutes
to hours) are compressed (DELAY_COMPRESSION) so that someone watching the screen sees the whole
funnel within a minute or two. Future stages wait in a queue and are written when due, so no
event is ever in the future. The rate is held steady: each batch tops up the due events with
new sends until it reaches rate × elapsed seconds; a burst comes on top of that.

Members (id, segment, region, device, opt-in) are loaded once; campaigns and A/B assignments
are reloaded every minute, so a paused campaign stops and a new test's variants apply.
"""
from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from core.demo import truth
from core.platform.db import fetch_df
from core.platform.events import EVENT_CODES
from core.platform.ingest import EVENT_COLUMNS, write_events
from core.live.tiles import DATABASE_ERRORS

log = logging.getLogger("core.demo.simulator")

# Demo delays divided by these: an open 40 min after delivery in the demo comes 40 s after it
# here, a conversion 20 h after the click comes about a minute after it.
DELAY_COMPRESSION = {"open": 60.0, "click": 60.0, "conversion": 1200.0}
MAX_CONVERSION_DELAY_SECONDS = 600.0
DELIVERY_DELAY_SECONDS = (1.0, 30.0)       # as in the demo
IMPRESSION_DELAY_SECONDS = (1.0, 20.0)     # as in the demo
RELOAD_CAMPAIGNS_SECONDS = 60.0
RETRY_SECONDS = 2.0


@dataclass
class Population:
    """Who can be reached: columns of the members table as arrays, one position per member."""
    member_id: np.ndarray
    segment: np.ndarray
    region_code: np.ndarray
    device: np.ndarray
    opt_in: np.ndarray

    @classmethod
    def load(cls, db: Engine) -> Population:
        frame = fetch_df(db, "live_simulator_members")
        return cls(frame.member_id.to_numpy(np.int64), frame.segment.to_numpy(object),
                   frame.region_code.to_numpy(object), frame.device.to_numpy(object),
                   frame.notifications_opt_in.to_numpy(bool))

    def __len__(self) -> int:
        return len(self.member_id)


@dataclass
class LiveCampaign:
    campaign_id: int
    channel: str
    segment: str
    category: str
    reward_type: str
    reward_value: float
    audience: np.ndarray                  # positions in Population
    variant_of: pd.Series | None = None   # member_id -> variant, for a campaign under test
    click_multiplier: dict = field(default_factory=dict)  # variant -> planted click multiplier


def planted_click_multipliers(test_name: str) -> dict:
    """The planted click multiplier per variant of a demo test (none for other tests)."""
    for spec in truth.AB_TESTS:
        if spec["name"] == test_name:
            return {variant: multiplier for variant, (_, multiplier) in spec["variants"].items()}
    return {}


def load_campaigns(db: Engine, population: Population, now: datetime) -> list[LiveCampaign]:
    frame = fetch_df(db, "live_simulator_campaigns", now=now)
    if frame.empty:
        return []
    assignments = fetch_df(db, "live_simulator_assignments", campaign_ids=frame.campaign_id.astype(int).tolist())
    campaigns = []
    for row in frame.itertuples():
        audience = np.flatnonzero(population.segment == row.segment)
        if row.channel == "push":
            audience = audience[population.opt_in[audience]]
        if len(audience) == 0:
            continue
        mine = assignments[assignments.campaign_id == row.campaign_id]
        campaigns.append(LiveCampaign(
            int(row.campaign_id), row.channel, row.segment, row.category, row.reward_type,
            float(row.reward_value), audience,
            variant_of=mine.set_index("member_id").variant if len(mine) else None,
            click_multiplier=planted_click_multipliers(mine.test_name.iloc[0]) if len(mine) else {}))
    return campaigns


Events = dict  # column name (EVENT_COLUMNS) -> numpy array, event_time naive UTC datetime64[ns]


def no_events() -> Events:
    return {column: np.empty(0, dtype="datetime64[ns]" if column == "event_time" else object)
            for column in EVENT_COLUMNS}


def concat_events(parts: list[Events]) -> Events:
    parts = [p for p in parts if len(p["event_time"])]
    if not parts:
        return no_events()
    return {column: np.concatenate([p[column] for p in parts]) for column in EVENT_COLUMNS}


def select_events(events: Events, mask: np.ndarray) -> Events:
    return {column: values[mask] for column, values in events.items()}


def events_frame(events: Events) -> pd.DataFrame:
    """The arrays as a frame for core.platform.ingest.write_events, times aware (UTC), oldest first."""
    order = np.argsort(events["event_time"], kind="stable")
    frame = pd.DataFrame({column: events[column][order] for column in EVENT_COLUMNS})
    frame["event_time"] = frame.event_time.dt.tz_localize("UTC")
    for column in ("event_type", "campaign_id", "member_id"):
        frame[column] = frame[column].astype("int16" if column == "event_type" else "int64")
    for column in ("revenue", "reward_cost"):
        frame[column] = frame[column].astype(float)
    return frame


def _seconds(values: np.ndarray) -> np.ndarray:
    return (values * 1e9).astype("timedelta64[ns]")


def _weekday(times: np.ndarray) -> np.ndarray:
    """Monday = 0 of UTC datetime64 values (1 January 1970 was a Thursday)."""
    return (times.astype("datetime64[D]").astype(np.int64) + 3) % 7


def funnel_events(rng: np.random.Generator, campaigns: list[LiveCampaign], population: Population,
                  which: np.ndarray, members: np.ndarray, send_times: np.ndarray) -> Events:
    """Every event of a set of sends: send i is campaign campaigns[which[i]] to the member at
    position members[i] of the population, at send_times[i] (naive UTC datetime64[ns]) — the
    send and whichever later stages happen, with their (future) times."""
    n = len(members)
    if n == 0:
        return no_events()
    member_id = population.member_id[members]
    response = [truth.SEGMENT_RESPONSE[c.segment] for c in campaigns]
    per_campaign = lambda values: np.asarray(values)[which]
    variant = np.full(n, None, dtype=object)
    click_multiplier = np.ones(n)
    for k in np.unique(which):
        campaign = campaigns[k]
        if campaign.variant_of is None:
            continue
        chosen = which == k
        variant[chosen] = campaign.variant_of.reindex(member_id[chosen]).to_numpy(object)
        if campaign.click_multiplier:
            click_multiplier[chosen] = pd.Series(variant[chosen]).map(campaign.click_multiplier).fillna(1.0).to_numpy()

    channel = [c.channel for c in campaigns]
    delivered = rng.random(n) < per_campaign([truth.DELIVERY_RATE[ch] for ch in channel])
    p_open = (per_campaign([r["open"] * truth.CHANNEL_OPEN_FACTOR[ch] for r, ch in zip(response, channel)])
              * truth.WEEKDAY_FACTOR[_weekday(send_times)])
    opened = delivered & (rng.random(n) < np.minimum(p_open, 0.95))
    impressed = opened & (rng.random(n) < per_campaign([truth.IMPRESSION_GIVEN_OPEN[ch] for ch in channel]))
    clicked = impressed & (rng.random(n) < np.minimum(per_campaign([r["click"] for r in response]) * click_multiplier, 0.95))
    p_convert = per_campaign([r["convert"] * (truth.REWARD_TYPE_LIFT if truth.BEST_REWARD_TYPE[c.segment] == c.reward_type else 1.0)
                              for r, c in zip(response, campaigns)])
    converted = clicked & (rng.random(n) < np.minimum(p_convert, 0.95))

    delivered_at = send_times + _seconds(rng.uniform(*DELIVERY_DELAY_SECONDS, n))
    opened_at = delivered_at + _seconds(rng.exponential(truth.OPEN_DELAY_MINUTES * 60 / DELAY_COMPRESSION["open"], n))
    impressed_at = opened_at + _seconds(rng.uniform(*IMPRESSION_DELAY_SECONDS, n))
    clicked_at = impressed_at + _seconds(rng.exponential(truth.CLICK_DELAY_MINUTES * 60 / DELAY_COMPRESSION["click"], n))
    converted_at = clicked_at + _seconds(np.minimum(
        rng.exponential(truth.CONVERSION_DELAY_HOURS * 3600 / DELAY_COMPRESSION["conversion"], n),
        MAX_CONVERSION_DELAY_SECONDS))

    basket = per_campaign([truth.CATEGORIES[c.category][0] for c in campaigns])
    revenue = np.round(rng.lognormal(np.log(basket) - 0.125, 0.5), 2)
    reward_value = per_campaign([c.reward_value for c in campaigns])
    reward = np.round(np.where(per_campaign([c.reward_type == "percent" for c in campaigns]),
                               revenue * reward_value / 100.0, np.minimum(reward_value, revenue)), 2)

    stages = [(EVENT_CODES["send"], np.ones(n, bool), send_times),
              (EVENT_CODES["delivered"], delivered, delivered_at), (EVENT_CODES["open"], opened, opened_at),
              (EVENT_CODES["impression"], impressed, impressed_at), (EVENT_CODES["click"], clicked, clicked_at),
              (EVENT_CODES["conversion"], converted, converted_at)]
    index = np.concatenate([np.flatnonzero(mask) for _, mask, _ in stages])
    code = np.repeat([c for c, _, _ in stages], [int(mask.sum()) for _, mask, _ in stages]).astype(np.int16)
    is_conversion = code == EVENT_CODES["conversion"]
    return {
        "event_time": np.concatenate([when[mask] for _, mask, when in stages]),
        "campaign_id": per_campaign([c.campaign_id for c in campaigns])[index],
        "member_id": member_id[index], "variant": variant[index], "event_type": code,
        "revenue": np.where(is_conversion, revenue[index], np.nan),
        "reward_cost": np.where(is_conversion, reward[index], np.nan),
        "device": population.device[members][index], "region_code": population.region_code[members][index],
    }


@dataclass
class SimulationReport:
    events: int = 0
    sends: int = 0
    batches: int = 0
    bursts: int = 0
    seconds: float = 0.0
    by_type: dict = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


class Simulator:
    """Generates live events; `step(now)` returns the batch due at `now` (no database access),
    `run(...)` writes batches to the database until stopped."""

    def __init__(self, population: Population, campaigns: list[LiveCampaign], rate: float,
                 burst_every: float = 180.0, burst_share: float = 0.25, burst_max: int | None = None,
                 seed: int | None = None):
        if rate < 0:
            raise ValueError(f"--rate must be zero or more events per second, not {rate}.")
        self.population = population
        self.campaigns = campaigns
        self.rate = float(rate)
        self.burst_every = burst_every
        self.burst_share = burst_share
        self.burst_max = burst_max if burst_max is not None else max(500, int(20 * rate))
        self.rng = np.random.default_rng(seed)
        self.pending: Events = no_events()  # queued stages not due yet
        self.carry = 0.0
        self.last_step: datetime | None = None
        self.next_burst: float | None = None
        self.report = SimulationReport()

    def _send_times(self, count: int, start: np.datetime64, end: np.datetime64) -> np.ndarray:
        span = max(int((end - start) / np.timedelta64(1, "ns")), 1)
        return start + self.rng.integers(1, span + 1, count).astype("timedelta64[ns]")

    def _sends(self, count: int, start: np.datetime64, end: np.datetime64) -> Events:
        """`count` background sends spread over the campaigns by audience size."""
        if count <= 0 or not self.campaigns:
            return no_events()
        sizes = np.array([len(c.audience) for c in self.campaigns], dtype=float)
        which = self.rng.choice(len(self.campaigns), size=count, p=sizes / sizes.sum())
        members = np.empty(count, dtype=np.int64)
        for k in np.unique(which):
            chosen = which == k
            audience = self.campaigns[k].audience
            members[chosen] = audience[self.rng.integers(0, len(audience), int(chosen.sum()))]
        return funnel_events(self.rng, self.campaigns, self.population, which, members,
                             self._send_times(count, start, end))

    def burst(self, start: np.datetime64, end: np.datetime64) -> Events:
        """One live campaign sends to a slice of its audience at once."""
        if not self.campaigns:
            return no_events()
        k = int(self.rng.integers(0, len(self.campaigns)))
        audience = self.campaigns[k].audience
        size = min(max(int(len(audience) * self.burst_share), 1), self.burst_max, len(audience))
        members = self.rng.choice(audience, size=size, replace=False)
        log.info("burst: campaign %s sends to %s members", self.campaigns[k].campaign_id, f"{size:,}")
        self.report.bursts += 1
        return funnel_events(self.rng, self.campaigns, self.population, np.full(size, k), members,
                             self._send_times(size, start, end))

    def step(self, now: datetime, monotonic: float | None = None) -> pd.DataFrame:
        """The events due at `now` (UTC): queued stages that have come due, topped up with new
        sends to reach the rate, plus a burst when one is due. All at or before `now`."""
        monotonic = time.monotonic() if monotonic is None else monotonic
        end = np.datetime64(now.astimezone(timezone.utc).replace(tzinfo=None), "ns")
        if self.last_step is None:  # the first batch: sends of the last second
            start, elapsed = end - np.timedelta64(1, "s"), 1.0
            if self.burst_every:
                self.next_burst = monotonic + self.burst_every
        else:
            start = np.datetime64(self.last_step.astimezone(timezone.utc).replace(tzinfo=None), "ns")
            elapsed = max((end - start) / np.timedelta64(1, "s"), 0.0)
        self.last_step = now
        parts = [self.pending]
        if self.next_burst is not None and monotonic >= self.next_burst:
            self.next_burst = monotonic + self.burst_every
            parts.append(self.burst(start, end))
        due = int((self.pending["event_time"] <= end).sum())
        budget = self.rate * elapsed + self.carry
        sends = max(int(math.floor(budget - due)), 0)
        self.carry = min(max(budget - due - sends, 0.0), 1.0)
        parts.append(self._sends(sends, start, end))
        combined = concat_events(parts)
        is_due = combined["event_time"] <= end
        self.pending = select_events(combined, ~is_due)
        return events_frame(select_events(combined, is_due))

    def requeue(self, batch: pd.DataFrame) -> None:
        """Put back a batch that could not be written; it is written (late) with the next one."""
        if len(batch):
            back = {column: batch[column].to_numpy() for column in EVENT_COLUMNS}
            back["event_time"] = batch.event_time.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]")
            self.pending = concat_events([back, self.pending])

    def count(self, batch: pd.DataFrame) -> None:
        self.report.events += len(batch)
        self.report.batches += 1
        for code, n in batch.event_type.value_counts().items():
            self.report.by_type[int(code)] = self.report.by_type.get(int(code), 0) + int(n)
        self.report.sends = self.report.by_type.get(EVENT_CODES["send"], 0)


def write_batch(db: Engine, batch: pd.DataFrame) -> int:
    """One transaction per batch, by COPY (core.platform.ingest.write_events)."""
    if batch.empty:
        return 0
    with db.begin() as conn:
        return write_events(conn, batch)


def run(db: Engine, rate: float, seconds: float | None = None, burst_every: float = 180.0,
        tick_seconds: float = 0.5, seed: int | None = None, burst_share: float = 0.25,
        progress: Callable[[str], None] | None = None, should_stop: Callable[[], bool] = lambda: False) -> SimulationReport:
    """Write live events to the database at `rate` events per second (plus bursts every
    `burst_every` seconds; 0 for none) until `seconds` have passed or should_stop() says so.
    A database that goes away is waited for: the run keeps its queue and carries on."""
    say = progress or (lambda message: None)
    if not 0.05 <= tick_seconds <= 5:
        raise ValueError(f"tick_seconds must be between 0.05 and 5 seconds, not {tick_seconds}.")
    population, simulator = None, None
    started = time.monotonic()
    first_write = None  # the achieved rate counts from the first batch (not the loading before it)
    next_reload = next_report = started
    window_events, window_started = 0, started
    while not should_stop() and (seconds is None or time.monotonic() - started < seconds):
        tick_started = time.monotonic()
        batch = pd.DataFrame()
        try:
            if population is None:
                population = Population.load(db)
                if not len(population):
                    raise SimulatorIdle("there are no members: load the demo first (`python -m core demo`)")
            if simulator is None or tick_started >= next_reload:
                campaigns = load_campaigns(db, population, datetime.now(timezone.utc))
                if not campaigns:
                    raise SimulatorIdle("no campaign is live: nothing to simulate until one is")
                if simulator is None:
                    simulator = Simulator(population, campaigns, rate, burst_every, burst_share, seed=seed)
                    say(f"simulating {rate:g} events/s for {len(campaigns)} live campaigns and "
                        f"{len(population):,} members" + (f", a send burst every {burst_every:g} s" if burst_every else ""))
                simulator.campaigns = campaigns
                next_reload = tick_started + RELOAD_CAMPAIGNS_SECONDS
            batch = simulator.step(datetime.now(timezone.utc))
            write_batch(db, batch)
            first_write = tick_started if first_write is None else first_write
            simulator.count(batch)
            window_events += len(batch)
        except SimulatorIdle as idle:
            say(f"waiting: {idle}")
            time.sleep(min(RETRY_SECONDS * 5, 10))
            continue
        except DATABASE_ERRORS as error:  # the database went away: keep the queue, retry
            if simulator is not None:
                simulator.requeue(batch)
            say(f"database unreachable ({type(error).__name__}); retrying in {RETRY_SECONDS:g} s")
            time.sleep(RETRY_SECONDS)
            continue
        now = time.monotonic()
        if now >= next_report + 10:
            say(f"{window_events:,} events in the last {now - window_started:.0f} s "
                f"({window_events / (now - window_started):,.0f}/s), {len(simulator.pending['event_time']):,} queued")
            window_events, window_started, next_report = 0, now, now
        time.sleep(max(tick_seconds - (time.monotonic() - tick_started), 0))
    report = simulator.report if simulator else SimulationReport()
    report.seconds = time.monotonic() - first_write if first_write is not None else 0.0
    return report


class SimulatorIdle(RuntimeError):
    """Nothing to simulate yet (no members or no live campaign); the run waits."""
