"""One generative model of the demo's members: who gets which campaign when, and what they do.

The demo's history (core.demo.generator) and the live simulator (core.demo.simulator) both call
`sends_between` and `funnel`, with the planted truth of core.demo.truth. Every random draw is a
hash of (seed, what is drawn, campaign, member, local day), not the state of a generator, so the
world is a pure function of the seed and the campaigns' settings: the simulator regenerating the
days around the history's end writes exactly the events the history would have written next,
and any slicing of time gives the same events. Settings the product changes (offers, send
hours per member, audience rules, holdouts of applied recommendations, A/B tests) are inputs, so
the world honours them the moment they are made.

Sending: each member of a campaign's audience gets it every `cadence` days on their own phase
(a rolling cadence), push and e-mail at the send hour in the member's time zone (the campaign's,
or the member's own from an applied send-time recommendation) plus up to SEND_SPREAD_MINUTES;
in-app messages when the member opens the app (truth.SESSION_HOUR_WEIGHT).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from scipy.special import ndtri

from core.demo import truth
from core.platform.events import EVENT_CODES

NS_PER_SECOND = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_SECOND
MAX_CONVERSION_DELAY_DAYS = 6.9  # inside the 7-day attribution window
FUNNEL_DAYS = 8  # a send's later stages happen within this many days

# What each hashed uniform draws (a salt per use, so draws are independent).
DRAWS = {"phase": 21, "in_audience": 22, "offset": 23, "session_hour": 24, "delivered": 31, "opened": 32,
         "impressed": 33, "clicked": 34, "converted": 35, "t_delivered": 41, "t_opened": 42,
         "t_impressed": 43, "t_clicked": 44, "t_converted": 45, "basket": 46, "lost": 51}
_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def uniforms(seed: int, draw: str, *keys) -> np.ndarray:
    """A uniform number in (0, 1) per element, a hash of (seed, draw, keys…): the same for the
    same inputs, independent across draws and keys."""
    with np.errstate(over="ignore"):
        x = np.uint64((seed * 1_000_003 + DRAWS[draw] * 7_919) & 0xFFFFFFFFFFFFFFFF)
        for k, key in enumerate(keys):
            key = np.asarray(key).astype(np.int64).astype(np.uint64)
            x = (x ^ (key + np.uint64(0x9E3779B97F4A7C15) + np.uint64(k * 0x632BE59BD9B4E019))) * np.uint64(0xBF58476D1CE4E5B9)
            x ^= x >> np.uint64(31)
        x = (x * np.uint64(0x94D049BB133111EB)) & _MASK
        x ^= x >> np.uint64(29)
        x = (x * np.uint64(0xFF51AFD7ED558CCD)) & _MASK
        x ^= x >> np.uint64(32)
    return ((x >> np.uint64(11)).astype(np.float64) + 0.5) / float(1 << 53)


@dataclass
class Members:
    """Everyone the demo may reach, one position per member, with their planted traits."""
    member_id: np.ndarray
    segment: np.ndarray
    region_code: np.ndarray
    device: np.ndarray
    timezone: np.ndarray
    opt_in: np.ndarray
    seed: int
    preferred_hour: np.ndarray = field(init=False)
    favourite_1: np.ndarray = field(init=False)
    favourite_2: np.ndarray = field(init=False)

    def __post_init__(self):
        self.preferred_hour = truth.preferred_hour(self.seed, self.member_id)
        self.favourite_1, self.favourite_2 = truth.favourite_categories(self.seed, self.member_id, self.segment)
        self._position = pd.Series(np.arange(len(self.member_id)), index=self.member_id)
        self.zone_names, self.zone_code = np.unique(np.asarray(self.timezone).astype(str), return_inverse=True)
        # found once, not once per campaign: every campaign's audience starts from its segment
        self._segment_positions = {s: np.flatnonzero(self.segment == s) for s in pd.unique(self.segment)}

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, seed: int) -> Members:
        return cls(frame.member_id.to_numpy(np.int64), frame.segment.to_numpy(object),
                   frame.region_code.to_numpy(object), frame.device.to_numpy(object),
                   frame.timezone.to_numpy(object), frame.notifications_opt_in.to_numpy(bool), seed)

    def in_segment(self, segment: str) -> np.ndarray:
        """Positions of the segment's members, in order."""
        return self._segment_positions.get(segment, np.empty(0, dtype=np.intp))

    def positions(self, member_ids) -> np.ndarray:
        """Positions of the given member ids (members not known are left out)."""
        found = self._position.reindex(np.asarray(member_ids, dtype=np.int64))
        return found.dropna().to_numpy(np.int64)

    def __len__(self) -> int:
        return len(self.member_id)


@dataclass(frozen=True)
class Offer:
    offer_id: int
    category: str
    reward_type: str
    reward_value: float


@dataclass
class Test:
    """An A/B test on a campaign: sends in [started_at, ended_at) carry the member's variant."""
    test_id: int
    started_at: pd.Timestamp
    ended_at: pd.Timestamp | None
    variant_of: pd.Series                       # member_id -> recorded variant
    click_multiplier: dict = field(default_factory=dict)  # planted, demo tests only
    lost_share: dict = field(default_factory=dict)        # planted share of lost events per variant


@dataclass
class Campaign:
    """A campaign's settings as the sender reads them."""
    campaign_id: int
    channel: str
    segment: str
    offer: Offer
    send_hour: int
    cost_per_send: float
    sends_from: pd.Timestamp                    # UTC
    sends_until: pd.Timestamp | None            # UTC, exclusive (None: open-ended)
    cadence_days: int
    audience_share: float
    member_send_hour: pd.Series | None = None   # member_id -> local hour (applied send-time cards)
    added: np.ndarray | None = None             # member ids an applied audience rule added
    removed: np.ndarray | None = None           # member ids an applied audience rule removed
    offer_of: dict = field(default_factory=dict)  # member_id -> Offer kept by a holdout
    tests: list[Test] = field(default_factory=list)

    def audience(self, members: Members) -> np.ndarray:
        """Positions of the members the campaign reaches (segment, opt-in for push, the planted
        audience share, then the applied audience rules)."""
        # The planted share is a draw per (campaign, member): only the segment's members need
        # one (drawing for everyone cost a pass over all members per campaign).
        inside = members.in_segment(self.segment)
        drawn = uniforms(members.seed, "in_audience", self.campaign_id, members.member_id[inside])
        inside = inside[drawn < self.audience_share]
        if self.removed is not None and len(self.removed):
            inside = inside[~np.isin(members.member_id[inside], self.removed)]
        if self.added is not None and len(self.added):
            inside = np.union1d(inside, members.positions(self.added))  # sorted, each member once
        if self.channel == "push":
            inside = inside[members.opt_in[inside]]
        return inside


def same_members(a: Members, b: Members) -> bool:
    """Whether two readings of the members give every campaign the same audience (as positions)
    and the same send times: the same ids in the same order, segments, opt-ins, time zones and seed."""
    return (a.seed == b.seed and np.array_equal(a.member_id, b.member_id) and np.array_equal(a.segment, b.segment)
            and np.array_equal(a.opt_in, b.opt_in) and np.array_equal(a.timezone, b.timezone))


def same_sends(a: Campaign, b: Campaign) -> bool:
    """Whether two readings of a campaign (over the same members) send to the same members at the
    same times: everything Campaign.audience and day_sends read. Its offer, holdouts' offers,
    tests, cost and dates may differ: they are applied to each send afterwards."""
    settings = lambda c: (c.campaign_id, c.channel, c.segment, c.audience_share, c.cadence_days, c.send_hour)
    return (settings(a) == settings(b) and _same_member_ids(a.added, b.added)
            and _same_member_ids(a.removed, b.removed) and _same_send_hours(a.member_send_hour, b.member_send_hour))


def _same_member_ids(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    """The same members (None is nobody; the order they were read in does not matter)."""
    as_sorted = lambda ids: np.sort(np.asarray([] if ids is None else ids, dtype=np.int64))
    return np.array_equal(as_sorted(a), as_sorted(b))


def _same_send_hours(a: pd.Series | None, b: pd.Series | None) -> bool:
    """The same member -> hour (None is none; the order they were read in does not matter)."""
    a = None if a is None or not len(a) else a.sort_index()
    b = None if b is None or not len(b) else b.sort_index()
    if a is None or b is None:
        return a is None and b is None
    return a.equals(b)


@lru_cache(maxsize=256)
def _utc_offsets(zone: str, first_day: int, days: int) -> np.ndarray:
    """The UTC offset (ns) at local noon of each day (days since 1970-01-01) in a time zone."""
    tz = ZoneInfo(zone)
    out = np.empty(days, dtype=np.int64)
    for i in range(days):
        local = datetime(1970, 1, 1, 12) + timedelta(days=first_day + i)
        out[i] = int(local.replace(tzinfo=tz).utcoffset().total_seconds()) * NS_PER_SECOND
    return out


def to_ns(at) -> int:
    """An instant (aware, or naive UTC) as int nanoseconds since 1970 UTC."""
    return int(pd.Timestamp(at).tz_convert("UTC").value) if pd.Timestamp(at).tzinfo else int(pd.Timestamp(at).value)


def day_sends(campaign: Campaign, members: Members, day: int, audience: np.ndarray) -> tuple[np.ndarray, ...]:
    """The campaign's sends of one local day (days since 1970-01-01): member positions, send
    times (int ns UTC) and local hours, before the campaign's own start and end are applied."""
    ids = members.member_id[audience]
    phase = (uniforms(members.seed, "phase", campaign.campaign_id, ids) * campaign.cadence_days).astype(np.int64)
    due = (day + phase) % campaign.cadence_days == 0
    who, member_ids = audience[due], ids[due]
    if campaign.channel == "in_app":
        session_cdf = np.cumsum(truth.SESSION_HOUR_WEIGHT / truth.SESSION_HOUR_WEIGHT.sum())
        u = uniforms(members.seed, "session_hour", campaign.campaign_id, member_ids, day)
        hour = np.minimum(np.searchsorted(session_cdf, u, side="right"), 23).astype(np.int64)
        spread = 3600.0
    else:
        hour = np.full(len(who), campaign.send_hour, dtype=np.int64)
        if campaign.member_send_hour is not None and len(campaign.member_send_hour):
            own = campaign.member_send_hour.reindex(member_ids)
            hour = np.where(own.notna(), own.fillna(0).to_numpy(np.int64), hour)
        spread = truth.SEND_SPREAD_MINUTES * 60
    offset = uniforms(members.seed, "offset", campaign.campaign_id, member_ids, day) * spread
    local_ns = day * NS_PER_DAY + hour * 3600 * NS_PER_SECOND + (offset * NS_PER_SECOND).astype(np.int64)
    day_offsets = np.array([_utc_offsets(zone, day, 1)[0] for zone in members.zone_names], dtype=np.int64)
    return who, local_ns - day_offsets[members.zone_code[who]], hour


def sends_between(campaign: Campaign, members: Members, start, end, audience: np.ndarray | None = None,
                  cache: dict | None = None) -> pd.DataFrame | None:
    """The campaign's sends with a send time in [start, end) (UTC): member position, send time
    (int ns UTC), the member's local day (days since 1970-01-01), local hour and weekday; None
    when there is none. `cache` (a dict the caller keeps per campaign) keeps each day's sends between calls."""
    start_ns = max(to_ns(start), to_ns(campaign.sends_from))
    end_ns = to_ns(end) if campaign.sends_until is None else min(to_ns(end), to_ns(campaign.sends_until))
    parts = []
    if end_ns > start_ns:
        audience = campaign.audience(members) if audience is None else audience
        for day in range(start_ns // NS_PER_DAY - 1, end_ns // NS_PER_DAY + 2) if len(audience) else ():
            if cache is not None and day in cache:
                who, send_ns, hour = cache[day]
            else:
                who, send_ns, hour = day_sends(campaign, members, day, audience)
                if cache is not None:
                    cache[day] = (who, send_ns, hour)
            keep = (send_ns >= start_ns) & (send_ns < end_ns)
            if keep.any():
                parts.append((who[keep], send_ns[keep], np.full(int(keep.sum()), day, dtype=np.int64), hour[keep]))
    if not parts:
        return None
    local_day = np.concatenate([p[2] for p in parts])
    return pd.DataFrame({"member": np.concatenate([p[0] for p in parts]), "send_ns": np.concatenate([p[1] for p in parts]),
                         "local_day": local_day, "local_hour": np.concatenate([p[3] for p in parts]),
                         "weekday": (local_day + 3) % 7})  # 1 January 1970 was a Thursday


def _variants(campaign: Campaign, members: Members, sends: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per send: the variant (None outside tests), the planted click multiplier, and whether the
    send's events are lost (the planted sample-ratio mismatch)."""
    n = len(sends)
    variant = np.full(n, None, dtype=object)
    multiplier = np.ones(n)
    lost = np.zeros(n, dtype=bool)
    ids = members.member_id[sends.member.to_numpy()]
    for test in campaign.tests:
        during = sends.send_ns.to_numpy() >= to_ns(test.started_at)
        if test.ended_at is not None and not pd.isna(test.ended_at):
            during &= sends.send_ns.to_numpy() < to_ns(test.ended_at)
        if not during.any():
            continue
        found = test.variant_of.reindex(ids[during]).to_numpy(object)
        variant[during] = np.where(pd.isna(found), None, found)
        for name, factor in test.click_multiplier.items():
            multiplier[during & (variant == name)] = factor
        for name, share in test.lost_share.items():
            chosen = during & (variant == name)
            lost |= chosen & (uniforms(members.seed, "lost", test.test_id, ids) < share)
    return variant, multiplier, lost


def funnel(campaign: Campaign, members: Members, sends: pd.DataFrame, drop: dict | None = None) -> pd.DataFrame:
    """Every event of the campaign's sends (EVENT_COLUMNS, event_time as int ns UTC in
    `event_ns`), later stages included whatever their time: the caller keeps what is due.
    `drop`: the planted drop as {"campaign_id", "device", "from_ns", "convert_factor"} (or None)."""
    return funnel_many([campaign], members, sends, np.zeros(len(sends), dtype=np.int64), drop)


def funnel_many(campaigns: list[Campaign], members: Members, sends: pd.DataFrame, which: np.ndarray,
                drop: dict | None = None) -> pd.DataFrame:
    """`funnel` of several campaigns' sends in one pass: `which` is each send's position in
    `campaigns`, ascending (the sends grouped by campaign). The rows are those of funnel for
    campaigns[0], then campaigns[1]…, the same values in the same order; one call per campaign
    was milliseconds of overhead each, hundreds of times a tick for the simulator's extra load."""
    seed = members.seed
    which = np.asarray(which, dtype=np.int64)
    variant, click_multiplier, lost = _variants_many(campaigns, members, sends, which)
    sends, which = sends[~lost], which[~lost]
    variant, click_multiplier = variant[~lost], click_multiplier[~lost]
    n = len(sends)
    first_send = np.searchsorted(which, np.arange(len(campaigns) + 1))  # campaign k's: first_send[k] up to [k + 1]
    per_send = lambda setting: np.array([setting(campaign) for campaign in campaigns])[which]  # a campaign setting per send
    campaign_id = per_send(lambda campaign: campaign.campaign_id).astype(np.int64)
    who = sends.member.to_numpy()
    ids = members.member_id[who]
    day = sends.local_day.to_numpy()
    key = sends.draw_key.to_numpy() if "draw_key" in sends else day  # synthetic load draws its own
    u = lambda draw: uniforms(seed, draw, campaign_id, ids, key)
    segment = members.segment[who].astype(str)
    segment_names, segment_code = np.unique(segment, return_inverse=True)
    response = lambda key: np.array([truth.SEGMENT_RESPONSE[s][key] for s in segment_names])[segment_code]
    category, reward_type, reward_value = _offers(campaigns, ids, which, first_send)
    local_days = day.astype("datetime64[D]")
    category_names, category_code = np.unique(category.astype(str), return_inverse=True)

    favourite = (category == members.favourite_1[who]) | (category == members.favourite_2[who])
    best_reward = np.array([truth.BEST_REWARD_TYPE[s] for s in segment_names], dtype=object)[segment_code] == reward_type
    delivered = u("delivered") < per_send(lambda campaign: truth.DELIVERY_RATE[campaign.channel])
    p_open = (response("open") * per_send(lambda campaign: truth.CHANNEL_OPEN_FACTOR[campaign.channel])
              * truth.WEEKDAY_FACTOR[sends.weekday.to_numpy()]
              * truth.open_multiplier(sends.local_hour.to_numpy(), members.preferred_hour[who])
              * truth.holiday_factors(local_days, "open"))
    opened = delivered & (u("opened") < np.minimum(p_open, 0.95))
    impressed = opened & (u("impressed") < per_send(lambda campaign: truth.IMPRESSION_GIVEN_OPEN[campaign.channel]))
    p_click = response("click") * np.where(favourite, truth.AFFINITY_LIFT["click"], 1.0) * click_multiplier
    clicked = impressed & (u("clicked") < np.minimum(p_click, 0.95))
    p_convert = (response("convert") * np.where(favourite, truth.AFFINITY_LIFT["convert"], 1.0)
                 * np.where(best_reward, truth.REWARD_TYPE_LIFT, 1.0) * (truth.basket_factor(category_names)[category_code] if n else 1.0)
                 * truth.holiday_factors(local_days, "convert"))
    send_ns = sends.send_ns.to_numpy()
    seconds = lambda x: (np.asarray(x) * NS_PER_SECOND).astype(np.int64)
    delivered_ns = send_ns + seconds(1 + 29 * u("t_delivered"))
    opened_ns = delivered_ns + seconds(-np.log(u("t_opened")) * truth.OPEN_DELAY_MINUTES * 60)
    impressed_ns = opened_ns + seconds(1 + 19 * u("t_impressed"))
    clicked_ns = impressed_ns + seconds(-np.log(u("t_clicked")) * truth.CLICK_DELAY_MINUTES * 60)
    converted_ns = clicked_ns + seconds(np.minimum(-np.log(u("t_converted")) * truth.CONVERSION_DELAY_HOURS * 3600,
                                                   MAX_CONVERSION_DELAY_DAYS * 86400))
    if drop:
        broken = ((campaign_id == drop["campaign_id"]) & (members.device[who] == drop["device"])
                  & (converted_ns >= drop["from_ns"]))
        p_convert = np.where(broken, p_convert * drop["convert_factor"], p_convert)
    converted = clicked & (u("converted") < np.minimum(p_convert, 0.95))

    basket = np.array([truth.CATEGORIES[x][0] for x in category_names])[category_code] if n else np.empty(0)
    sigma = truth.BASKET_SIGMA
    revenue = np.round(np.exp(np.log(np.maximum(basket, 1e-9)) - sigma ** 2 / 2 + sigma * ndtri(u("basket"))), 2)
    revenue = np.maximum(revenue, 0.01)
    reward = np.round(np.where(reward_type == "percent", revenue * reward_value / 100.0,
                               np.minimum(reward_value, revenue)), 2)

    stages = [("send", np.ones(n, bool), send_ns), ("delivered", delivered, delivered_ns),
              ("open", opened, opened_ns), ("impression", impressed, impressed_ns),
              ("click", clicked, clicked_ns), ("conversion", converted, converted_ns)]
    index = np.concatenate([np.flatnonzero(mask) for _, mask, _ in stages])
    code = np.repeat([EVENT_CODES[name] for name, _, _ in stages],
                     [int(mask.sum()) for _, mask, _ in stages]).astype(np.int16)
    event_ns = np.concatenate([when[mask] for _, mask, when in stages])
    if len(campaigns) > 1:  # campaign by campaign, each in stage order, as one call per campaign gives
        order = np.argsort(which[index], kind="stable")
        index, code, event_ns = index[order], code[order], event_ns[order]
    is_conversion = code == EVENT_CODES["conversion"]
    return pd.DataFrame({
        "event_ns": event_ns,
        "campaign_id": campaign_id[index],
        "member_id": ids[index], "variant": variant[index], "event_type": code,
        "revenue": np.where(is_conversion, revenue[index], np.nan),
        "reward_cost": np.where(is_conversion, reward[index], np.nan),
        "device": members.device[who][index], "region_code": members.region_code[who][index],
    })


def _variants_many(campaigns: list[Campaign], members: Members, sends: pd.DataFrame,
                   which: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """_variants of each send with its campaign's tests (`which` as in funnel_many)."""
    n = len(sends)
    variant = np.full(n, None, dtype=object)
    multiplier = np.ones(n)
    lost = np.zeros(n, dtype=bool)
    first_send = np.searchsorted(which, np.arange(len(campaigns) + 1))
    for k, campaign in enumerate(campaigns):
        if campaign.tests:
            mine = slice(first_send[k], first_send[k + 1])
            variant[mine], multiplier[mine], lost[mine] = _variants(campaign, members, sends.iloc[mine])
    return variant, multiplier, lost


def _offers(campaigns: list[Campaign], member_ids: np.ndarray, which: np.ndarray,
            first_send: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per send: the category, reward type and reward value of the offer the member gets (the
    campaign's, or the one a holdout keeps)."""
    category = np.array([c.offer.category for c in campaigns], dtype=object)[which]
    reward_type = np.array([c.offer.reward_type for c in campaigns], dtype=object)[which]
    reward_value = np.array([c.offer.reward_value for c in campaigns], dtype=float)[which]
    for k, campaign in enumerate(campaigns):
        for i in range(first_send[k], first_send[k + 1]) if campaign.offer_of else ():
            kept = campaign.offer_of.get(int(member_ids[i]))
            if kept is not None:
                category[i], reward_type[i], reward_value[i] = kept.category, kept.reward_type, kept.reward_value
    return category, reward_type, reward_value


def events_between(campaigns: list[Campaign], members: Members, start, end, drop: dict | None = None,
                   audiences: dict | None = None, caches: dict | None = None) -> pd.DataFrame:
    """Every event of the sends with a send time in [start, end), later stages included.
    `audiences` and `caches` (campaign_id -> …) keep work between calls (the simulator)."""
    frames = []
    for campaign in campaigns:
        audience = audiences.get(campaign.campaign_id) if audiences else None
        cache = caches.setdefault(campaign.campaign_id, {}) if caches is not None else None
        sends = sends_between(campaign, members, start, end, audience, cache)
        if sends is not None:
            frames.append(funnel(campaign, members, sends, drop))
    if not frames:
        return funnel_columns()
    return pd.concat(frames, ignore_index=True)


def funnel_columns() -> pd.DataFrame:
    return pd.DataFrame({"event_ns": np.empty(0, np.int64), "campaign_id": np.empty(0, np.int64),
                         "member_id": np.empty(0, np.int64), "variant": np.empty(0, object),
                         "event_type": np.empty(0, np.int16), "revenue": np.empty(0), "reward_cost": np.empty(0),
                         "device": np.empty(0, object), "region_code": np.empty(0, object)})


def as_events(frame: pd.DataFrame) -> pd.DataFrame:
    """Funnel rows as an events frame for core.platform.ingest.write_events (aware UTC times,
    oldest first)."""
    out = frame.sort_values("event_ns", kind="stable", ignore_index=True)
    out.insert(0, "event_time", pd.to_datetime(out.pop("event_ns"), unit="ns", utc=True))
    return out


def planted_drop(end) -> dict:
    """truth.PLANTED_DROP with its start as int ns (DAYS before the demo's end)."""
    spec = truth.PLANTED_DROP
    return {"campaign_id": spec["campaign_id"], "device": spec["device"], "convert_factor": spec["convert_factor"],
            "from_ns": to_ns(pd.Timestamp(end) - pd.Timedelta(days=spec["days"]))}


def planted_test(name: str) -> dict:
    """The planted click multipliers and lost shares of a demo test (empty for other tests)."""
    for spec in truth.AB_TESTS:
        if spec["name"] == name:
            return {"click_multiplier": {v: m for v, (_, m) in spec["variants"].items()},
                    "lost_share": dict(spec["lost_share"])}
    return {"click_multiplier": {}, "lost_share": {}}
