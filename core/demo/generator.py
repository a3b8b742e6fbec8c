"""Deterministic demo data: members, merchants, offers, campaigns, A/B tests and their events,
drawn from the planted truth in core.demo.truth. Same seed and end time, same data."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np
import pandas as pd

from core.demo import truth, world
from core.demo.demo_tests import make_ab_tests

FIRST_NAMES = ["Ava", "Liam", "Mia", "Noah", "Zoe", "Ethan", "Isla", "Lucas", "Maya", "Owen",
               "Nora", "Eli", "Ruby", "Leo", "Ivy", "Kai", "Sofia", "Jack", "Aria", "Finn"]
LAST_NAMES = ["Garcia", "Smith", "Nguyen", "Patel", "Johnson", "Kim", "Brown", "Lopez",
              "Chen", "Davis", "Wilson", "Martin", "Clark", "Lewis", "Young", "Walker"]
MERCHANTS = {
    "grocery": ["FreshCart", "GreenBasket", "DailyHarvest", "CornerMarket", "PantryPlus"],
    "dining": ["Bistro Blue", "Taco Town", "Noodle Bar", "Grill House", "Cafe Luna"],
    "travel": ["SkyJet", "RoadTrip Rentals", "StayWell Hotels", "TrainLine", "Voyage"],
    "fuel": ["QuickFuel", "GasGo", "PetroPoint", "EcoCharge", "FuelStop"],
    "fashion": ["Threadline", "UrbanFit", "Modo", "Sole Society", "Denim Co"],
    "electronics": ["VoltShop", "PixelHub", "GadgetBay", "SoundLab", "ByteMart"],
    "entertainment": ["CineMax", "PlayZone", "StreamFlix", "ArcadeOne", "LiveStage"],
    "health": ["WellPharm", "FitClub", "VitaLife", "CareDrug", "Zen Spa"],
}
SEND_HOURS = np.array([8, 9, 10, 12, 13, 17, 18, 19, 20])


@dataclass
class DemoData:
    regions: pd.DataFrame
    members: pd.DataFrame
    merchants: pd.DataFrame
    offers: pd.DataFrame
    campaigns: pd.DataFrame
    ab_tests: pd.DataFrame
    ab_variants: pd.DataFrame
    ab_assignments: pd.DataFrame
    events: pd.DataFrame
    seed: int
    end: datetime
    notes: dict = field(default_factory=dict)


def _weighted_choice(rng, options: dict, size: int) -> np.ndarray:
    names = np.array(list(options))
    p = np.array(list(options.values()), dtype=float)
    return rng.choice(names, size=size, p=p / p.sum())


def make_members(rng, seed: int, count: int, end: datetime) -> pd.DataFrame:
    regions = pd.DataFrame(truth.REGIONS, columns=["region_code", "name", "latitude", "longitude", "timezone", "share"])
    ids = np.arange(1, count + 1, dtype=np.int64)
    region_index = rng.choice(len(regions), size=count, p=regions.share / regions.share.sum())
    segment = _weighted_choice(rng, truth.SEGMENTS, count)
    days_ago = np.where(segment == "new", rng.integers(1, 45, count), rng.integers(45, 900, count))
    first = np.array(FIRST_NAMES)[rng.integers(0, len(FIRST_NAMES), count)]
    last = np.array(LAST_NAMES)[rng.integers(0, len(LAST_NAMES), count)]
    return pd.DataFrame({
        "member_id": ids,
        "signup_at": pd.Timestamp(end) - pd.to_timedelta(days_ago, unit="D") - pd.to_timedelta(rng.integers(0, 86400, count), unit="s"),
        "region_code": regions.region_code.values[region_index],
        "latitude": regions.latitude.values[region_index] + rng.normal(0, 0.15, count),
        "longitude": regions.longitude.values[region_index] + rng.normal(0, 0.15, count),
        "device": _weighted_choice(rng, truth.DEVICES, count),
        "timezone": regions.timezone.values[region_index],
        "segment": segment,
        "notifications_opt_in": rng.random(count) < 0.85,
        "full_name": np.char.add(np.char.add(first, " "), last),
        "email": [f"{f.lower()}.{l.lower()}{i}@example.com" for f, l, i in zip(first, last, ids)],
        "phone": [f"+1-555-{(i * 7919) % 900 + 100:03d}-{(i * 104729) % 10000:04d}" for i in ids],
    })


def make_offers(rng) -> tuple[pd.DataFrame, pd.DataFrame]:
    merchants, offers = [], []
    for category, names in MERCHANTS.items():
        for name in names:
            merchant_id = len(merchants) + 1
            merchants.append((merchant_id, name, category))
            pct = int(rng.choice([5, 8, 10, 12, 15]))
            fixed = float(rng.choice([2, 3, 5, 8, 10, 15, 25] if category in ("travel", "electronics") else [1, 2, 3, 5, 8]))
            offers.append((len(offers) + 1, merchant_id, f"{name}: {pct}% back", "percent", pct))
            offers.append((len(offers) + 1, merchant_id, f"{name}: ${fixed:g} back", "fixed", fixed))
    return (pd.DataFrame(merchants, columns=["merchant_id", "name", "category"]),
            pd.DataFrame(offers, columns=["offer_id", "merchant_id", "name", "reward_type", "reward_value"]))


def make_campaigns(rng, seed: int, count: int, days: int, end: datetime, offers: pd.DataFrame) -> pd.DataFrame:
    segments = list(truth.SEGMENTS)
    today = pd.Timestamp(end).tz_convert("UTC").tz_localize(None).normalize()
    rows = []
    for i in range(1, count + 1):
        offer = offers.iloc[int(rng.integers(0, len(offers)))]
        channel = truth.CHANNELS[i % 3]
        segment = segments[i % len(segments)]
        # A steady portfolio, as card-linked programmes run: most campaigns are always-on offers
        # that started before the demo's span and run past its end; every third is a flight of
        # 3 to 8 weeks starting within the span. So months and weeks compare like with like.
        if i % 3 == 0:
            start = today - pd.Timedelta(days=int(rng.integers(min(3, days - 1), days)))
            duration = int(rng.integers(21, 57))
        else:
            start = today - pd.Timedelta(days=days + int(rng.integers(0, 60)))
            duration = days + int(rng.integers(120, 240))
        status = "live"
        if i <= len(truth.AB_TESTS):  # the experiment campaigns run for the last weeks (6 by default)
            days_before = truth.AB_TESTS[i - 1].get("starts_days_before_end", 42)
            channel, segment, start, duration = ("push", ("active", "deal_seeker")[i % 2],
                                                 today - pd.Timedelta(days=days_before), 120)
        if i == truth.PLANTED_DROP["campaign_id"]:  # live through the demo's end, with weeks before the drop
            start, duration = today - pd.Timedelta(days=min(45, days - 1)), 120
        ends = start + pd.Timedelta(days=duration)
        if ends <= today:
            status = "ended"
        if i % 17 == 0:
            status = "paused"
        if i % 19 == 0:  # planned but not started
            start, ends, status = today + pd.Timedelta(days=3), today + pd.Timedelta(days=40), "scheduled"
        rows.append({
            "campaign_id": i,
            "name": f"{offer['name']} · {segment.replace('_', ' ')} · {channel.replace('_', '-')} #{i}",
            "channel": channel, "offer_id": int(offer.offer_id), "segment": segment,
            "starts_at": start.tz_localize("UTC"), "ends_at": ends.tz_localize("UTC"),
            "send_hour": int(rng.choice(SEND_HOURS)), "status": status,
            "budget": float(rng.choice([5_000, 10_000, 25_000, 50_000])),
            # Log-uniform so that some campaigns lose money and some earn a lot.
            "cost_per_send": round(float(np.exp(rng.uniform(np.log(0.01), np.log(0.5)))), 4),
            "cadence_days": int(truth.campaign_cadence(seed, np.array([i]))[0]),
            "audience_share": float(truth.campaign_audience_share(seed, np.array([i]), portfolio=count)[0]),
            "paused_days_ago": int(rng.integers(5, 15)) if status == "paused" else None,
        })
    return pd.DataFrame(rows)


def world_campaigns(seed: int, campaigns: pd.DataFrame, offers: pd.DataFrame, merchants: pd.DataFrame,
                    ab_tests: pd.DataFrame, ab_assignments: pd.DataFrame, end: datetime) -> list[world.Campaign]:
    """The campaigns as the sender of core.demo.world reads them, over the demo's history."""
    offer = offers.merge(merchants[["merchant_id", "category"]], on="merchant_id").set_index("offer_id")
    tests_by_campaign = {}
    for test in ab_tests.itertuples():
        mine = ab_assignments[ab_assignments.test_id == test.test_id]
        planted = world.planted_test(test.name)
        tests_by_campaign.setdefault(int(test.campaign_id), []).append(world.Test(
            int(test.test_id), pd.Timestamp(test.started_at), None, mine.set_index("member_id").variant,
            planted["click_multiplier"], planted["lost_share"]))
    out = []
    for c in campaigns.itertuples():
        if c.status == "scheduled":
            continue
        until = min(pd.Timestamp(c.ends_at), pd.Timestamp(end))
        if c.paused_days_ago == c.paused_days_ago and c.paused_days_ago:  # not NaN: paused that long ago
            until = min(until, pd.Timestamp(end) - pd.Timedelta(days=int(c.paused_days_ago)))
        o = offer.loc[int(c.offer_id)]
        out.append(world.Campaign(
            int(c.campaign_id), c.channel, c.segment, world.Offer(int(c.offer_id), o.category, o.reward_type, float(o.reward_value)),
            int(c.send_hour), float(c.cost_per_send), pd.Timestamp(c.starts_at), until,
            int(c.cadence_days), float(c.audience_share), tests=tests_by_campaign.get(int(c.campaign_id), [])))
    return out


def make_events(seed: int, campaigns: list[world.Campaign], members: pd.DataFrame, end: datetime,
                days: int) -> pd.DataFrame:
    """Every event of the history's `days` up to `end`, from the one model of core.demo.world."""
    population = world.Members.from_frame(members, seed)
    start = pd.Timestamp(end) - pd.Timedelta(days=days)
    frame = world.events_between(campaigns, population, start, end, drop=world.planted_drop(end))
    frame = frame[frame.event_ns <= world.to_ns(end)]
    return world.as_events(frame)


DEFAULT_MEMBERS, DEFAULT_CAMPAIGNS = 15_000, 36
EVENTS_AT_DEFAULT_SIZE = 4_700_000  # about this many events at the default size over 90 days


def population_for(events: int) -> tuple[int, int]:
    """Members and campaigns that give about `events` events over 90 days (both grow with the
    square root, so campaigns stay realistic in size)."""
    scale = max(events / EVENTS_AT_DEFAULT_SIZE, 0.05)
    return int(DEFAULT_MEMBERS * scale ** 0.5), int(DEFAULT_CAMPAIGNS * scale ** 0.5)


def generate(seed: int = 7, members: int = 20_000, campaigns: int = 36, days: int = 90,
             end: datetime | None = None) -> DemoData:
    """The whole demo data set for a seed, ending at `end` (default: now, to the minute)."""
    if days < 1:
        raise ValueError(f"days={days}: a demo spans at least 1 day")
    end = end or datetime.now(timezone.utc).replace(second=0, microsecond=0)
    if end.tzinfo is None:
        end = end.replace(tzinfo=timezone.utc)
    rng = np.random.default_rng(seed)
    member_frame = make_members(rng, seed, members, end)
    merchants, offers = make_offers(rng)
    campaign_frame = make_campaigns(rng, seed, campaigns, days, end, offers)
    ab_tests, ab_variants, ab_assignments = make_ab_tests(campaign_frame, member_frame, end)
    senders = world_campaigns(seed, campaign_frame, offers, merchants, ab_tests, ab_assignments, end)
    events = make_events(seed, senders, member_frame, end, days)
    regions = pd.DataFrame(truth.REGIONS, columns=["region_code", "name", "latitude", "longitude", "timezone", "share"]).drop(columns="share")
    return DemoData(regions, member_frame, merchants, offers,
                    campaign_frame.drop(columns=["cadence_days", "audience_share", "paused_days_ago"]),
                    ab_tests, ab_variants, ab_assignments, events, seed, end)


DIMENSION_TABLES = ["regions", "members", "merchants", "offers", "campaigns",
                    "ab_tests", "ab_variants", "ab_assignments"]


def load(engine, data: DemoData, progress=None) -> None:
    """Write the demo data set in one transaction (dimensions first, then events by COPY)."""
    from core.platform.db import execute
    from core.platform.ingest import after_bulk_load, copy_frame, write_events

    say = progress or (lambda message: None)
    with engine.begin() as conn:
        for table in DIMENSION_TABLES:
            frame = getattr(data, table)
            if table == "ab_tests":
                frame = frame.assign(guardrail_metrics=frame.guardrail_metrics.map(lambda g: "{" + ",".join(g) + "}"))
            say(f"writing {len(frame):,} {table}")
            copy_frame(conn, table, frame)
        say(f"writing {len(data.events):,} events")
        write_events(conn, data.events)
        conn.exec_driver_sql("SELECT setval('ab_tests_test_id_seq', (SELECT max(test_id) FROM ab_tests))")
        execute(conn, "demo_world_insert", seed=int(data.seed), ended_at=data.end)  # the simulator continues it
    say("summarizing indexes and statistics")
    after_bulk_load(engine, data.events.event_time)
