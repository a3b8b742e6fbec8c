"""Deterministic demo data: members, merchants, offers, campaigns, A/B tests and their events,
drawn from the planted truth in core.demo.truth. Same seed and end time, same data."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd

from core.demo import truth
from core.platform.events import EVENT_CODES
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


def make_campaigns(rng, count: int, days: int, end: datetime, offers: pd.DataFrame) -> pd.DataFrame:
    segments = list(truth.SEGMENTS)
    today = pd.Timestamp(end).tz_convert("UTC").tz_localize(None).normalize()
    rows = []
    for i in range(1, count + 1):
        offer = offers.iloc[int(rng.integers(0, len(offers)))]
        channel = truth.CHANNELS[i % 3]
        segment = segments[i % len(segments)]
        # Started 14 or more days ago when the demo spans more than that, else within its span
        # (the draw is the same as before for longer demos, so seeds keep their data).
        start = today - pd.Timedelta(days=int(rng.integers(min(14, days - 1), days)))
        duration = int(rng.integers(21, 90))
        status = "live"
        if i <= len(truth.AB_TESTS):  # the experiment campaigns run for the last 6 weeks
            channel, segment, start, duration = "push", ("active", "deal_seeker")[i % 2], today - pd.Timedelta(days=42), 120
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
            "cadence_days": int(rng.integers(2, 6)),
            "audience_share": 1.0 if i <= len(truth.AB_TESTS) else float(rng.uniform(0.5, 1.0)),
            "paused_after_days": int(rng.integers(5, 15)) if status == "paused" else None,
        })
    return pd.DataFrame(rows)


def _local_to_utc(local_naive: np.ndarray, zones: np.ndarray) -> np.ndarray:
    out = np.empty(len(local_naive), dtype="datetime64[ns]")
    for zone in np.unique(zones):
        mask = zones == zone
        idx = pd.DatetimeIndex(local_naive[mask]).tz_localize(
            zone, ambiguous=np.zeros(mask.sum(), dtype=bool), nonexistent="shift_forward")
        out[mask] = idx.tz_convert("UTC").tz_localize(None).values
    return out


def make_sends(rng, campaigns: pd.DataFrame, members: pd.DataFrame, assignments: pd.DataFrame,
               end: datetime) -> pd.DataFrame:
    """One row per send: when each campaign's waves reached which members."""
    end_naive = pd.Timestamp(end).tz_convert("UTC").tz_localize(None)
    by_segment = {s: g for s, g in members.groupby("segment")}
    lost = []
    for test_id, spec in enumerate(truth.AB_TESTS, start=1):
        for variant, share in spec["lost_share"].items():
            chosen = assignments[(assignments.test_id == test_id) & (assignments.variant == variant)].member_id.to_numpy()
            lost.append((test_id, set(chosen[rng.random(len(chosen)) < share].tolist())))
    parts = []
    for c in campaigns.itertuples():
        if c.status == "scheduled":
            continue
        audience = by_segment[c.segment]
        if c.channel == "push":
            audience = audience[audience.notifications_opt_in]
        start_day = c.starts_at.tz_localize(None).normalize()
        last_day = min(c.ends_at.tz_localize(None), end_naive).normalize()
        if c.paused_after_days == c.paused_after_days and c.paused_after_days:  # not NaN
            last_day = min(last_day, start_day + pd.Timedelta(days=c.paused_after_days))
        wave_days = pd.date_range(start_day, last_day, freq=f"{c.cadence_days}D")
        for day in wave_days:
            reached = audience[rng.random(len(audience)) < c.audience_share]
            local = (day + pd.Timedelta(hours=int(c.send_hour))).to_datetime64() + \
                rng.integers(0, 600, len(reached)).astype("timedelta64[s]")
            parts.append(pd.DataFrame({
                "campaign_id": c.campaign_id, "member_id": reached.member_id.to_numpy(),
                "send_time": _local_to_utc(np.full(len(reached), local[0]) if len(reached) == 0 else local,
                                           reached.timezone.to_numpy()),
                "local_hour": int(c.send_hour),
                "local_weekday": day.weekday(),
            }))
    sends = pd.concat(parts, ignore_index=True)
    sends = sends[sends.send_time <= end_naive]
    variant = pd.Series(pd.NA, index=sends.index, dtype="object")
    lost_mask = np.zeros(len(sends), dtype=bool)
    test_by_campaign = assignments.groupby("campaign_id")
    for campaign_id, group in test_by_campaign:
        rows = sends.campaign_id == campaign_id
        lookup = group.set_index("member_id").variant
        variant[rows] = sends.loc[rows, "member_id"].map(lookup).values
        test_id = int(group.test_id.iloc[0])
        for lost_test, lost_members in lost:
            if lost_test == test_id:
                lost_mask |= rows.to_numpy() & sends.member_id.isin(lost_members).to_numpy()
    sends["variant"] = variant
    return sends[~lost_mask].reset_index(drop=True)


def make_events(rng, seed: int, sends: pd.DataFrame, campaigns: pd.DataFrame, members: pd.DataFrame,
                offers: pd.DataFrame, merchants: pd.DataFrame, end: datetime) -> pd.DataFrame:
    end_naive = pd.Timestamp(end).tz_convert("UTC").tz_localize(None)
    n = len(sends)
    camp = campaigns.set_index("campaign_id")
    offer = offers.merge(merchants[["merchant_id", "category"]], on="merchant_id").set_index("offer_id")
    member = members.set_index("member_id")
    channel = camp.channel.reindex(sends.campaign_id).to_numpy()
    segment = member.segment.reindex(sends.member_id).to_numpy()
    offer_id = camp.offer_id.reindex(sends.campaign_id).to_numpy()
    category = offer.category.reindex(offer_id).to_numpy()
    reward_type = offer.reward_type.reindex(offer_id).to_numpy()
    reward_value = offer.reward_value.reindex(offer_id).to_numpy().astype(float)

    response = pd.DataFrame(truth.SEGMENT_RESPONSE).T
    p_open_base = response.open.reindex(segment).to_numpy()
    p_click_base = response.click.reindex(segment).to_numpy()
    p_convert_base = response.convert.reindex(segment).to_numpy()

    preferred = truth.preferred_hour(seed, sends.member_id.to_numpy())
    fav1, fav2 = truth.favourite_categories(seed, sends.member_id.to_numpy())
    favourite = (category == fav1) | (category == fav2)
    best_reward = pd.Series(truth.BEST_REWARD_TYPE).reindex(segment).to_numpy() == reward_type

    variant_mult = np.ones(n)
    for test_id, spec in enumerate(truth.AB_TESTS, start=1):
        test_campaign = test_id  # experiment i runs on campaign i
        in_test = (sends.campaign_id == test_campaign).to_numpy()
        for name, (_, multiplier) in spec["variants"].items():
            variant_mult[in_test & (sends.variant == name).fillna(False).to_numpy()] = multiplier

    delivered = rng.random(n) < pd.Series(truth.DELIVERY_RATE).reindex(channel).to_numpy()
    p_open = (p_open_base * pd.Series(truth.CHANNEL_OPEN_FACTOR).reindex(channel).to_numpy()
              * truth.WEEKDAY_FACTOR[sends.local_weekday.to_numpy()]
              * truth.open_multiplier(sends.local_hour.to_numpy(), preferred))
    opened = delivered & (rng.random(n) < np.minimum(p_open, 0.95))
    impressed = opened & (rng.random(n) < pd.Series(truth.IMPRESSION_GIVEN_OPEN).reindex(channel).to_numpy())
    p_click = p_click_base * np.where(favourite, truth.AFFINITY_LIFT["click"], 1.0) * variant_mult
    clicked = impressed & (rng.random(n) < np.minimum(p_click, 0.95))
    p_convert = (p_convert_base * np.where(favourite, truth.AFFINITY_LIFT["convert"], 1.0)
                 * np.where(best_reward, truth.REWARD_TYPE_LIFT, 1.0))
    converted = clicked & (rng.random(n) < np.minimum(p_convert, 0.95))

    send_time = sends.send_time.to_numpy()
    seconds = lambda x: (x * 1e9).astype("timedelta64[ns]")
    delivered_time = send_time + seconds(rng.uniform(1, 30, n))
    open_time = delivered_time + seconds(rng.exponential(truth.OPEN_DELAY_MINUTES * 60, n))
    impression_time = open_time + seconds(rng.uniform(1, 20, n))
    click_time = impression_time + seconds(rng.exponential(truth.CLICK_DELAY_MINUTES * 60, n))
    conversion_time = click_time + seconds(np.minimum(rng.exponential(truth.CONVERSION_DELAY_HOURS * 3600, n), 6.9 * 86400))

    basket_mean = np.array([truth.CATEGORIES[c][0] for c in category])
    revenue = np.round(rng.lognormal(np.log(basket_mean) - 0.125, 0.5), 2)
    reward_cost = np.round(np.where(reward_type == "percent", revenue * reward_value / 100.0,
                                    np.minimum(reward_value, revenue)), 2)

    device = member.device.reindex(sends.member_id).to_numpy()
    region = member.region_code.reindex(sends.member_id).to_numpy()
    stages = [("send", np.ones(n, bool), send_time), ("delivered", delivered, delivered_time),
              ("open", opened, open_time), ("impression", impressed, impression_time),
              ("click", clicked, click_time), ("conversion", converted, conversion_time)]
    frames = []
    for name, mask, when in stages:
        mask = mask & (when <= end_naive)
        is_conversion = name == "conversion"
        frames.append(pd.DataFrame({
            "event_time": when[mask], "campaign_id": sends.campaign_id.to_numpy()[mask],
            "member_id": sends.member_id.to_numpy()[mask], "variant": sends.variant.to_numpy()[mask],
            "event_type": np.int16(EVENT_CODES[name]),
            "revenue": revenue[mask] if is_conversion else np.nan,
            "reward_cost": reward_cost[mask] if is_conversion else np.nan,
            "device": device[mask], "region_code": region[mask],
        }))
    events = pd.concat(frames, ignore_index=True).sort_values("event_time", kind="stable", ignore_index=True)
    events["event_time"] = events.event_time.dt.tz_localize("UTC")
    return events


DEFAULT_MEMBERS, DEFAULT_CAMPAIGNS = 15_000, 36
EVENTS_AT_DEFAULT_SIZE = 3_150_000  # about this many events at the default size over 90 days


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
    campaign_frame = make_campaigns(rng, campaigns, days, end, offers)
    ab_tests, ab_variants, ab_assignments = make_ab_tests(campaign_frame, member_frame, end)
    sends = make_sends(rng, campaign_frame, member_frame, ab_assignments, end)
    events = make_events(rng, seed, sends, campaign_frame, member_frame, offers, merchants, end)
    regions = pd.DataFrame(truth.REGIONS, columns=["region_code", "name", "latitude", "longitude", "timezone", "share"]).drop(columns="share")
    return DemoData(regions, member_frame, merchants, offers,
                    campaign_frame.drop(columns=["cadence_days", "audience_share", "paused_after_days"]),
                    ab_tests, ab_variants, ab_assignments, events, seed, end)


DIMENSION_TABLES = ["regions", "members", "merchants", "offers", "campaigns",
                    "ab_tests", "ab_variants", "ab_assignments"]


def load(engine, data: DemoData, progress=None) -> None:
    """Write the demo data set in one transaction (dimensions first, then events by COPY)."""
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
    say("summarizing indexes and statistics")
    after_bulk_load(engine, data.events.event_time)
