"""The live event simulator: the demo's history, continued.

It draws from the same generative model as the history (core.demo.world with the planted truth
of core.demo.truth): every live campaign sends on its rolling cadence at its send hour (in-app
messages when members open the app), every running A/B test gets members through the
deterministic assignment (a test created on the screen a minute ago included), and the settings
applied recommendations changed (offers, per-member send hours, audience rules, holdouts) are
read back every RELOAD_SECONDS, so what is applied changes what happens, as the truth says.

Time: the simulated clock starts where the data end (the latest event) and never passes the
wall clock (no event is ever in the future). By default it first catches up with the wall clock
as fast as it can (a demo loaded yesterday is continued, not left with a gap; at most
MAX_CATCH_UP_DAYS), then runs at the wall clock's pace: a live minute looks like the same
minute of the previous week. `speed` plays a history that ended in the past at that many times
real time instead (`python -m core demo --end …` then `simulate --speed 60`). Because every draw
is a hash of (seed, campaign, member, day), the events the simulator writes after the end are
exactly those the history would have had: the funnels of sends made before the end (opens,
clicks and conversions up to 7 days later) continue too.

`rate` (events per second) adds synthetic load on top, for benchmarks: random sends of the live
campaigns through the same funnel.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from core.demo import truth, world
from core.experiments import tests_repo
from core.live.tiles import DATABASE_ERRORS
from core.platform.db import fetch_df, fetch_scalar
from core.platform.events import EVENT_CODES
from core.platform.ingest import write_events

log = logging.getLogger("core.demo.simulator")

RELOAD_SECONDS = 10.0          # wall seconds between two reads of the campaigns' settings
RETRY_SECONDS = 2.0
MAX_CATCH_UP_DAYS = 14         # a longer gap is left empty (said in the log)
CATCH_UP_CHUNK = timedelta(hours=1)
DEFAULT_SEED = 7               # `python -m core demo`'s default, for data without a demo_world row
EVENTS_PER_LOAD_SEND = 2.9     # a send brings this many events on average (send, delivered, opens…)


@dataclass
class WorldState:
    """What the sender reads from the database."""
    members: world.Members
    campaigns: list[world.Campaign]
    seed: int
    demo_end: pd.Timestamp | None


def _as_utc(value) -> pd.Timestamp | None:
    if value is None or pd.isna(value):
        return None
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def demo_identity(db: Engine) -> tuple[int, pd.Timestamp | None]:
    found = fetch_df(db, "demo_world_read")
    if found.empty:
        return DEFAULT_SEED, None
    return int(found.seed.iloc[0]), _as_utc(found.ended_at.iloc[0])


def load_members(db: Engine, seed: int) -> world.Members:
    # one row of arrays, a column per array (NULL when there are no members)
    arrays = fetch_df(db, "live_simulator_members").iloc[0]
    frame = pd.DataFrame({column: [] if values is None else values for column, values in arrays.items()})
    return world.Members.from_frame(frame, seed)


def load_campaigns(db: Engine, seed: int, now: datetime) -> list[world.Campaign]:
    """The live campaigns at `now` with everything that changes who gets what."""
    frame = fetch_df(db, "live_simulator_campaigns", now=now)
    if frame.empty:
        return []
    ids = frame.campaign_id.astype(int).tolist()
    offers = {int(o.offer_id): world.Offer(int(o.offer_id), o.category, o.reward_type, float(o.reward_value))
              for o in fetch_df(db, "live_simulator_offers").itertuples()}
    cadence = truth.campaign_cadence(seed, np.array(ids))
    share = truth.campaign_audience_share(seed, np.array(ids), portfolio=int(frame.portfolio.iloc[0]))
    # Each per-member table is split by campaign once (only the campaigns with rows get an
    # entry), not filtered once per campaign: that was O(campaigns × rows) and took seconds
    # every reload at 1,500 live campaigns.
    tests_of = _tests_by_campaign(fetch_df(db, "live_simulator_assignments", campaign_ids=ids))
    changes = fetch_df(db, "live_simulator_applied_changes", campaign_ids=ids)
    added_of, removed_of, held_offer_of = _applied_changes_by_campaign(changes, offers)
    send_hours_of = {int(row.campaign_id): _by_member(row.member_ids, row.send_hours, "send_hour")
                     for row in fetch_df(db, "live_simulator_send_hours", campaign_ids=ids).itertuples()}
    out = []
    for k, row in enumerate(frame.itertuples()):
        c = int(row.campaign_id)
        out.append(world.Campaign(
            c, row.channel, row.segment,
            world.Offer(int(row.offer_id), row.category, row.reward_type, float(row.reward_value)),
            int(row.send_hour), float(row.cost_per_send), _as_utc(row.starts_at), _as_utc(row.ends_at),
            int(cadence[k]), float(share[k]),
            member_send_hour=send_hours_of.get(c),
            added=added_of.get(c, np.empty(0, np.int64)),
            removed=removed_of.get(c, np.empty(0, np.int64)),
            offer_of=held_offer_of.get(c, {}),
            tests=tests_of.get(c, [])))
    return out


def _tests_by_campaign(assignments: pd.DataFrame) -> dict[int, list[world.Test]]:
    """campaign_id -> its running tests (by test id) with their recorded variants."""
    out: dict[int, list[world.Test]] = {}
    for test in assignments.itertuples():  # a row per test, its members and variants as arrays
        planted = world.planted_test(test.test_name)
        out.setdefault(int(test.campaign_id), []).append(world.Test(
            int(test.test_id), _as_utc(test.started_at), None, _by_member(test.member_ids, test.variants, "variant"),
            planted["click_multiplier"], planted["lost_share"]))
    return out


def _by_member(member_ids: list, values: list, name: str) -> pd.Series:
    """member_id -> value, from two arrays of a row in the same order."""
    return pd.Series(values, index=pd.Index(member_ids, dtype=np.int64, name="member_id"), name=name)


def _applied_changes_by_campaign(changes: pd.DataFrame, offers: dict[int, world.Offer]) -> tuple[dict, dict, dict]:
    """campaign_id -> the member ids audience rules added, those they (or a pause) removed, and
    the offer each member of an offer card's holdout keeps (member_id -> Offer). A holdout of an
    audience rule or a pause is left as it was (it keeps receiving the campaign as before).
    `changes` has a row per campaign, kind and replaced offer, with its members as an array."""
    added: dict[int, list] = {}
    removed: dict[int, list] = {}
    kept_offer: dict[int, dict[int, world.Offer]] = {}
    for row in changes.itertuples():
        c = int(row.campaign_id)
        if row.kind == "offer":
            # a card that names no replaced offer (NULL) leaves its holdout on the campaign's offer
            if bool(row.in_holdout) and pd.notna(row.before_offer_id) and int(row.before_offer_id) in offers:
                kept = offers[int(row.before_offer_id)]
                kept_offer.setdefault(c, {}).update((int(m), kept) for m in row.member_ids)
        elif not bool(row.in_holdout):
            (added if row.kind == "segment_add" else removed).setdefault(c, []).append(row.member_ids)
    as_ids = lambda lists: {c: np.unique(np.concatenate([np.asarray(m, np.int64) for m in ms])) for c, ms in lists.items()}
    return as_ids(added), as_ids(removed), kept_offer


def assign_running_tests(db: Engine, members: world.Members, campaigns: list[world.Campaign]) -> int:
    """Assign every running test's campaign audience (the deterministic hash of
    core.experiments.assignment, recorded once): a test created a minute ago gets its members.
    Returns how many new assignments were recorded."""
    by_id = {c.campaign_id: c for c in campaigns}
    running = fetch_df(db, "live_simulator_running_tests", campaign_ids=list(by_id))
    new = 0
    for test in running.itertuples():
        campaign = by_id[int(test.campaign_id)]
        audience = members.member_id[campaign.audience(members)]
        recorded = [t.variant_of.index for t in campaign.tests if t.test_id == int(test.test_id)]
        missing = audience[~np.isin(audience, recorded[0])] if recorded else audience
        if len(missing):
            try:
                new += int(tests_repo.assign_members(db, int(test.test_id), missing.tolist()).new.sum())
            except ValueError:  # the test stopped in between
                continue
    return new


def load_world(db: Engine, now: datetime, assign: bool = True) -> WorldState:
    seed, demo_end = demo_identity(db)
    members = load_members(db, seed)
    campaigns = load_campaigns(db, seed, now)
    if assign and campaigns and assign_running_tests(db, members, campaigns):
        campaigns = load_campaigns(db, seed, now)  # with the new assignments
    return WorldState(members, campaigns, seed, demo_end)


def conversion_factor(state: WorldState, at) -> Callable[[int, np.ndarray], np.ndarray]:
    """What the world does to each member's conversion probability in a campaign from `at` on,
    beyond truth.expected_profit_per_send (which leaves them out): the planted click multiplier
    of the member's variant in a test still running at `at`, and the planted drop (it never
    ends). For checking a recommendation against what would really happen next week
    (core.optimize.truth_check)."""
    at = _as_utc(at)
    by_id = {c.campaign_id: c for c in state.campaigns}
    drop = world.planted_drop(state.demo_end) if state.demo_end is not None else None
    device_of = pd.Series(state.members.device, index=state.members.member_id)

    def factor(campaign_id: int, member_ids) -> np.ndarray:
        member_ids = np.asarray(member_ids, dtype=np.int64)
        out = np.ones(len(member_ids))
        campaign = by_id.get(int(campaign_id))
        for test in campaign.tests if campaign else []:
            if test.started_at <= at and (test.ended_at is None or test.ended_at > at):
                variant = test.variant_of.reindex(member_ids).to_numpy(object)
                for name, multiplier in test.click_multiplier.items():
                    out[variant == name] *= multiplier
        if drop and drop["campaign_id"] == int(campaign_id):
            device = device_of.reindex(member_ids).to_numpy(object)
            out[device == drop["device"]] *= drop["convert_factor"]
        return out

    return factor


@dataclass
class SimulationReport:
    events: int = 0
    sends: int = 0
    batches: int = 0
    seconds: float = 0.0
    simulated_seconds: float = 0.0
    by_type: dict = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


class Simulator:
    """Continues the world from `resume_at`: `step(now)` returns the events in (last step, now]
    (no database access); `reload(state)` takes new settings."""

    def __init__(self, state: WorldState, resume_at: datetime, rate: float = 0.0, load_seed: int | None = None):
        if rate < 0:
            raise ValueError(f"--rate must be zero or more events per second, not {rate}.")
        self.state = state
        self.rate = float(rate)
        self.rng = np.random.default_rng(load_seed)
        self.clock = pd.Timestamp(resume_at).tz_convert("UTC") if pd.Timestamp(resume_at).tzinfo else pd.Timestamp(resume_at, tz="UTC")
        self.drop = world.planted_drop(state.demo_end) if state.demo_end is not None else None
        self.carry = 0.0
        self.report = SimulationReport()
        self._audiences: dict[int, np.ndarray] = {}
        self._day_sends: dict[int, dict] = {}  # campaign_id -> local day -> its sends (world.sends_between)
        # the later stages of sends made before the resume point (up to FUNNEL_DAYS back)
        earlier = self._events(self.clock - timedelta(days=world.FUNNEL_DAYS), self.clock)
        # the database keeps microseconds: an event within 1 µs of the resume point was written
        self.pending = earlier[earlier.event_ns >= world.to_ns(self.clock) + 1_000]

    def reload(self, state: WorldState) -> None:
        """Take the settings read again. A campaign keeps its audience and its days' sends when
        neither the members nor its settings that decide them changed: recomputing them for every
        campaign stalled the tick after each reload (seconds at 1,500 live campaigns)."""
        before = {c.campaign_id: c for c in self.state.campaigns}
        unchanged = set()
        if world.same_members(self.state.members, state.members):
            unchanged = {c.campaign_id for c in state.campaigns
                         if c.campaign_id in before and world.same_sends(before[c.campaign_id], c)}
        # sends_between asks for days from the day before its start on, and the clock only moves
        # on: older days are never asked for again
        first_day = world.to_ns(self.clock) // world.NS_PER_DAY - 1
        self._audiences = {c: audience for c, audience in self._audiences.items() if c in unchanged}
        self._day_sends = {c: {day: sends for day, sends in days.items() if day >= first_day}
                           for c, days in self._day_sends.items() if c in unchanged}
        self.state = state
        if state.demo_end is not None:
            self.drop = world.planted_drop(state.demo_end)

    def _audience(self, campaign: world.Campaign) -> np.ndarray:
        if campaign.campaign_id not in self._audiences:
            self._audiences[campaign.campaign_id] = campaign.audience(self.state.members)
        return self._audiences[campaign.campaign_id]

    def _events(self, start, end) -> pd.DataFrame:
        audiences = {c.campaign_id: self._audience(c) for c in self.state.campaigns}
        return world.events_between(self.state.campaigns, self.state.members, start, end, self.drop, audiences,
                                    self._day_sends)

    def _load_sends(self, start: pd.Timestamp, end: pd.Timestamp, seconds: float) -> pd.DataFrame:
        """Synthetic load: random sends of the live campaigns through the same funnel."""
        budget = self.rate * seconds / EVENTS_PER_LOAD_SEND + self.carry
        count = int(budget)
        self.carry = budget - count
        campaigns = [c for c in self.state.campaigns if len(self._audience(c))]
        if count <= 0 or not campaigns:
            return world.funnel_columns()
        sizes = np.array([len(self._audience(c)) for c in campaigns], dtype=float)
        which = self.rng.choice(len(campaigns), size=count, p=sizes / sizes.sum())
        span = max(world.to_ns(end) - world.to_ns(start), 1)
        chosen, counts = np.unique(which, return_counts=True)
        positions, send_ns, hours, draw_keys = [], [], [], []
        for k, n in zip(chosen, counts):  # the random draws in their order, so a --seed gives the same load
            audience = self._audience(campaigns[k])
            send_ns.append(world.to_ns(start) + self.rng.integers(0, span, n))
            positions.append(audience[self.rng.integers(0, len(audience), n)])
            draw_keys.append(self.rng.integers(1 << 40, 1 << 62, n))
            hours.append(np.full(n, campaigns[k].send_hour))
        local_day = np.concatenate(send_ns) // world.NS_PER_DAY
        sends = pd.DataFrame({"member": np.concatenate(positions), "send_ns": np.concatenate(send_ns),
                              "local_day": local_day, "local_hour": np.concatenate(hours), "weekday": (local_day + 3) % 7,
                              "draw_key": np.concatenate(draw_keys)})
        # one funnel for every chosen campaign: a call per campaign was most of a tick at 1,500 campaigns
        return world.funnel_many([campaigns[k] for k in chosen], self.state.members, sends,
                                 np.repeat(np.arange(len(chosen)), counts), self.drop)

    def step(self, now: datetime, load_seconds: float | None = None) -> pd.DataFrame:
        """The events due in (the last step, now]: new sends of that stretch and the later
        stages of earlier ones, oldest first (core.platform.ingest.write_events' frame).
        `load_seconds`: the wall seconds the extra load (`rate`) covers (default: the step's)."""
        now = pd.Timestamp(now).tz_convert("UTC")
        if now <= self.clock:
            return world.as_events(world.funnel_columns())
        start, self.clock = self.clock, now
        # sends in [start, now) and, at the boundary, at `now` itself in the next step
        fresh = self._events(start, now)
        parts = [self.pending, fresh]
        if self.rate:
            seconds = (now - start).total_seconds() if load_seconds is None else load_seconds
            parts.append(self._load_sends(start, now, seconds))
        combined = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) \
            else world.funnel_columns()
        due = combined.event_ns <= world.to_ns(now)
        self.pending = combined[~due].reset_index(drop=True)
        self.report.simulated_seconds += (now - start).total_seconds()
        return world.as_events(combined[due])

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


def resume_point(db: Engine, wall_now: datetime, say: Callable[[str], None]) -> pd.Timestamp:
    """Where the simulated clock starts: the latest event (or the demo's end), at most
    MAX_CATCH_UP_DAYS before now and never after it."""
    latest = _as_utc(fetch_scalar(db, "opt_latest_event_time"))
    _, demo_end = demo_identity(db)
    resume = latest or demo_end or pd.Timestamp(wall_now)
    floor = pd.Timestamp(wall_now) - timedelta(days=MAX_CATCH_UP_DAYS)
    if resume < floor:
        say(f"the data end {resume:%Y-%m-%d %H:%M} UTC, more than {MAX_CATCH_UP_DAYS} days ago: "
            f"continuing from {floor:%Y-%m-%d %H:%M} UTC (the days between stay empty)")
        resume = floor
    return min(resume, pd.Timestamp(wall_now))


def run(db: Engine, seconds: float | None = None, speed: float | None = None, rate: float = 0.0,
        tick_seconds: float = 0.5, seed: int | None = None, progress: Callable[[str], None] | None = None,
        should_stop: Callable[[], bool] = lambda: False, wall_clock: Callable[[], datetime] | None = None) -> SimulationReport:
    """Continue the world in the database until `seconds` (wall) have passed or should_stop()
    says so. speed None: catch up with the wall clock at once, then real time; a number: the
    simulated clock runs that many times faster than the wall clock (never past it). A database
    that goes away is waited for: the run keeps its queue and carries on."""
    say = progress or (lambda message: None)
    wall = wall_clock or (lambda: datetime.now(timezone.utc))
    if not 0.05 <= tick_seconds <= 5:
        raise ValueError(f"tick_seconds must be between 0.05 and 5 seconds, not {tick_seconds}.")
    if speed is not None and speed <= 0:
        raise ValueError(f"--speed must be more than 0, not {speed}.")
    simulator: Simulator | None = None
    started = time.monotonic()
    first_write = None
    next_reload = next_report = started
    anchor_wall = anchor_sim = None
    last_tick = started
    window_events, window_started = 0, started
    while not should_stop() and (seconds is None or time.monotonic() - started < seconds):
        tick_started = time.monotonic()
        batch = pd.DataFrame()
        try:
            if simulator is None:
                resume = resume_point(db, wall(), say)
                state = load_world(db, resume.to_pydatetime())
                if not len(state.members):
                    raise SimulatorIdle("there are no members: load the demo first (`python -m core demo`)")
                simulator = Simulator(state, resume, rate=rate, load_seed=seed)
                anchor_wall, anchor_sim = tick_started, resume
                behind = (pd.Timestamp(wall()) - resume).total_seconds()
                say(f"continuing the demo world (seed {state.seed}) from {resume:%Y-%m-%d %H:%M:%S} UTC for "
                    f"{len(state.campaigns)} live campaigns and {len(state.members):,} members"
                    + (f"; {behind / 3600:.1f} h behind the wall clock, catching up" if behind > 60 else "")
                    + (f"; {rate:g} events/s of extra load" if rate else ""))
                next_reload = tick_started + RELOAD_SECONDS
                last_tick = tick_started
            elif tick_started >= next_reload:
                simulator.reload(load_world(db, simulator.clock.to_pydatetime()))
                next_reload = tick_started + RELOAD_SECONDS
            now_wall = pd.Timestamp(wall())
            if speed is None:
                target = now_wall
            else:
                target = min(now_wall, anchor_sim + timedelta(seconds=(tick_started - anchor_wall) * speed))
            target = min(target, simulator.clock + CATCH_UP_CHUNK)  # catch up an hour per batch
            batch = simulator.step(target.to_pydatetime(), load_seconds=tick_started - last_tick)
            write_batch(db, batch)
            first_write = tick_started if first_write is None else first_write
            simulator.count(batch)
            window_events += len(batch)
            last_tick = tick_started
        except SimulatorIdle as idle:
            say(f"waiting: {idle}")
            time.sleep(min(RETRY_SECONDS * 5, 10))
            continue
        except DATABASE_ERRORS as error:  # the database went away: keep the queue, retry
            if simulator is not None and len(batch):
                back = batch.assign(event_ns=batch.event_time.dt.tz_convert("UTC").dt.tz_localize(None).astype("int64"))
                simulator.pending = pd.concat([back.drop(columns="event_time"), simulator.pending], ignore_index=True)
            say(f"database unreachable ({type(error).__name__}); retrying in {RETRY_SECONDS:g} s")
            time.sleep(RETRY_SECONDS)
            continue
        now = time.monotonic()
        if now >= next_report + 10:
            say(f"{window_events:,} events in the last {now - window_started:.0f} s; simulated clock "
                f"{simulator.clock:%Y-%m-%d %H:%M:%S} UTC, {len(simulator.pending):,} later stages queued")
            window_events, window_started, next_report = 0, now, now
        behind = (pd.Timestamp(wall()) - simulator.clock).total_seconds()
        if speed is None and behind > tick_seconds * 2:
            continue  # catching up: no pause
        time.sleep(max(tick_seconds - (time.monotonic() - tick_started), 0))
    report = simulator.report if simulator else SimulationReport()
    report.seconds = time.monotonic() - first_write if first_write is not None else 0.0
    return report


class SimulatorIdle(RuntimeError):
    """Nothing to simulate yet (no members); the run waits."""
