"""The planted truth of the demo data set, in one documented place.

The demo generator (core.demo) draws every member, campaign and event from these
parameters, so tests can check that the metrics, statistics and models find them:

- Segments respond differently (SEGMENT_RESPONSE): opening, clicking, converting.
- Every member has a preferred local send hour (PREFERRED_HOUR_CHOICES, drawn per member by
  `preferred_hour`); sends that arrive within one hour of it are opened more often
  (PREFERRED_HOUR_LIFT).
- Every member has one or two favourite merchant categories (`favourite_categories`);
  offers in them are clicked and converted more often (AFFINITY_LIFT).
- Each segment responds best to one reward type (BEST_REWARD_TYPE): the best offer per
  segment is planted through REWARD_TYPE_LIFT.
- Opening follows the weekday (WEEKDAY_FACTOR, Monday first) and arrives after the send with
  an exponential delay; sends go out at each campaign's local send hour.
- A/B tests (AB_TESTS): a clear winner, a null, a sample-ratio mismatch and a three-variant
  test, each with its planted click-probability multipliers and, for the SRM test, the share
  of the treatment's members whose events are lost.
- Conversion falls with the basket (BASKET_ELASTICITY: a $310 flight is bought less readily
  than a $45 grocery run) and rises when the offer's category is one of the member's favourites
  (AFFINITY_LIFT). Favourites depend on the member's segment (FAVOURITES_BY_SEGMENT), so the
  best offer differs by audience as it does in real card-linked programmes.
- Public holidays move behaviour on their local date (HOLIDAY_EFFECT: Thanksgiving quiet, Black
  Friday and Cyber Monday busy), and one campaign has a planted drop in its last week
  (PLANTED_DROP: an Android release broke its checkout).
- Sends follow a per-member rolling cadence (every CADENCE days, each member on their own
  phase) at the campaign's local send hour; in-app messages show when the member opens the app
  (SESSION_HOUR_WEIGHT). core.demo.world turns all this into events, for the history and the
  live simulator alike.
"""
from __future__ import annotations

import numpy as np

REGIONS = [
    # code, name, latitude, longitude, time zone, share of members
    ("NYC", "New York", 40.71, -74.01, "America/New_York", 0.16),
    ("BOS", "Boston", 42.36, -71.06, "America/New_York", 0.06),
    ("MIA", "Miami", 25.76, -80.19, "America/New_York", 0.07),
    ("ATL", "Atlanta", 33.75, -84.39, "America/New_York", 0.07),
    ("CHI", "Chicago", 41.88, -87.63, "America/Chicago", 0.10),
    ("DAL", "Dallas", 32.78, -96.80, "America/Chicago", 0.08),
    ("HOU", "Houston", 29.76, -95.37, "America/Chicago", 0.07),
    ("DEN", "Denver", 39.74, -104.99, "America/Denver", 0.05),
    ("PHX", "Phoenix", 33.45, -112.07, "America/Phoenix", 0.06),
    ("LAX", "Los Angeles", 34.05, -118.24, "America/Los_Angeles", 0.13),
    ("SFO", "San Francisco", 37.77, -122.42, "America/Los_Angeles", 0.08),
    ("SEA", "Seattle", 47.61, -122.33, "America/Los_Angeles", 0.07),
]

DEVICES = {"ios": 0.45, "android": 0.40, "web": 0.15}

SEGMENTS = {  # share of members
    "new": 0.20, "active": 0.30, "lapsed": 0.15, "high_value": 0.12, "deal_seeker": 0.23,
}

# Per-send probabilities: open | delivered, click | impression, conversion | click.
SEGMENT_RESPONSE = {
    "new":         {"open": 0.22, "click": 0.10, "convert": 0.10},
    "active":      {"open": 0.32, "click": 0.13, "convert": 0.14},
    "lapsed":      {"open": 0.09, "click": 0.06, "convert": 0.06},
    "high_value":  {"open": 0.30, "click": 0.15, "convert": 0.22},
    "deal_seeker": {"open": 0.28, "click": 0.18, "convert": 0.10},
}

CHANNELS = ("push", "email", "in_app")
DELIVERY_RATE = {"push": 0.93, "email": 0.97, "in_app": 0.995}
CHANNEL_OPEN_FACTOR = {"push": 1.0, "email": 0.75, "in_app": 1.25}
IMPRESSION_GIVEN_OPEN = {"push": 0.85, "email": 0.90, "in_app": 0.97}

WEEKDAY_FACTOR = np.array([0.95, 1.0, 1.0, 1.0, 1.05, 1.2, 1.15])  # Monday .. Sunday

PREFERRED_HOUR_CHOICES = np.array([7, 8, 9, 12, 13, 17, 18, 19, 20, 21])
PREFERRED_HOUR_LIFT = {0: 2.2, 1: 1.5}  # |send hour - preferred hour| -> open multiplier

CATEGORIES = {  # mean basket in USD, popularity of the category among members' favourites (all segments)
    "grocery": (45.0, 0.22), "dining": (38.0, 0.20), "travel": (310.0, 0.08),
    "fuel": (42.0, 0.12), "fashion": (85.0, 0.12), "electronics": (240.0, 0.08),
    "entertainment": (32.0, 0.10), "health": (28.0, 0.08),
}
AFFINITY_LIFT = {"click": 1.6, "convert": 2.5}
# Favourite categories are drawn with these weights per segment (the shared popularity above,
# tilted): deal seekers shop groceries and fuel, high-value members travel and buy electronics.
FAVOURITES_BY_SEGMENT = {
    "new":         {"dining": 2.0, "entertainment": 2.0, "fashion": 1.5},
    "active":      {"dining": 1.8, "fashion": 1.6, "grocery": 1.3},
    "lapsed":      {"grocery": 1.8, "health": 1.8, "fuel": 1.5},
    "high_value":  {"travel": 3.5, "electronics": 2.5, "fashion": 1.5},
    "deal_seeker": {"grocery": 2.2, "fuel": 2.2, "entertainment": 1.2},
}
BASKET_REFERENCE_USD = 50.0
BASKET_ELASTICITY = 0.7  # conversion multiplier (BASKET_REFERENCE_USD / mean basket) ** elasticity

BEST_REWARD_TYPE = {
    "new": "fixed", "active": "percent", "lapsed": "fixed",
    "high_value": "percent", "deal_seeker": "percent",
}
REWARD_TYPE_LIFT = 1.5  # conversion multiplier of the segment's best reward type

# Public holidays (core.analytics.calendar's names) on the member's local date: multipliers.
HOLIDAY_EFFECT = {
    "Thanksgiving": {"open": 0.75, "convert": 0.55},
    "Black Friday": {"open": 1.10, "convert": 1.60},
    "Cyber Monday": {"open": 1.05, "convert": 1.40},
    "Christmas Day": {"open": 0.70, "convert": 0.50},
    "New Year's Day": {"open": 0.80, "convert": 0.70},
}

# A planted drop for "why did this change": from DAYS before the demo's end, this campaign's
# conversions on Android fall to this share (a broken app release), everything else unchanged.
PLANTED_DROP = {"campaign_id": 6, "device": "android", "days": 7, "convert_factor": 0.25,
                "story": "an Android app release broke the offer checkout"}

# Sending: each member of an audience gets the campaign every CADENCE days on their own phase,
# at the send hour (local) plus up to SEND_SPREAD_MINUTES as the sending queue drains. In-app
# messages show when the member opens the app: the local hour follows SESSION_HOUR_WEIGHT.
CADENCE_DAYS = (2, 3, 4, 5)
SEND_SPREAD_MINUTES = 30.0
SESSION_HOUR_WEIGHT = np.array([0.2, 0.1, 0.05, 0.05, 0.1, 0.3, 0.8, 1.4, 1.6, 1.2, 1.0, 1.1,
                                1.6, 1.4, 1.0, 0.9, 1.0, 1.3, 1.6, 1.9, 2.0, 1.7, 1.1, 0.5])

OPEN_DELAY_MINUTES = 40.0        # mean of the exponential delay from delivery to open
CLICK_DELAY_MINUTES = 4.0
CONVERSION_DELAY_HOURS = 20.0    # truncated to the attribution window

# Planted experiments: (weight, click-probability multiplier) per variant (control first). What
# screens show is the marketer's side — hypothesis, variant descriptions, MDE; "truth" stays in
# docs and tests. "conclude": the demo's history ends the test (core.demo.demo_tests.conclude) on
# the first day its pre-registered rule decided (or found a sample ratio mismatch); the others
# keep running to the demo's end. A test starts with its campaign (its outcomes are the members'
# firsts in the campaign), which starts "starts_days_before_end" days before the demo's end
# (default 42): the three-variant test starts late enough for its rule to reach its decision in
# the demo's last days (day 27 of its run at the default size), so an analyst finds a running
# test whose decision waits for them.
AB_TESTS = [
    {"key": "winner", "name": "Urgent subject line", "metric": "clicked",
     "variants": {"control": (0.5, 1.0), "treatment": (0.5, 1.35)},
     "descriptions": {"control": "“Your weekly cashback picks”", "treatment": "“Ends tonight: your cashback picks”"},
     "hypothesis": "A subject line with a deadline gets more members to tap through to the offer than our usual "
                   "friendly one.",
     "mde": 0.10, "conclude": True,
     "lost_share": {}, "truth": "treatment wins on clicked members"},
    {"key": "null", "name": "Blue vs green button", "metric": "clicked",
     "variants": {"control": (0.5, 1.0), "treatment": (0.5, 1.0)},
     "descriptions": {"control": "Blue “Activate offer” button", "treatment": "Green “Activate offer” button"},
     "hypothesis": "A green button stands out more on the offer card, so more members tap it.",
     "mde": 0.20, "conclude": True,
     "lost_share": {}, "truth": "no difference"},
    {"key": "srm", "name": "New deep link", "metric": "clicked",
     "variants": {"control": (0.5, 1.0), "treatment": (0.5, 1.1)},
     "descriptions": {"control": "Opens the app's home screen", "treatment": "Opens the offer itself"},
     "hypothesis": "Opening the offer itself instead of the home screen saves a step, so more members tap through.",
     "mde": 0.10, "conclude": True,
     "lost_share": {"treatment": 0.12}, "truth": "sample-ratio mismatch"},
    {"key": "three_way", "name": "Three reward framings", "metric": "clicked",
     "variants": {"control": (0.34, 1.0), "b": (0.33, 1.35), "c": (0.33, 0.8)},
     "descriptions": {"control": "“Earn 500 points”", "b": "“Get $5 back”", "c": "“5 % off your next shop”"},
     "hypothesis": "Members respond to money they can see: “$5 back” beats points, and a percentage off a "
                   "future shop does worse than both.",
     "mde": 0.10, "conclude": False, "starts_days_before_end": 30,
     "lost_share": {}, "truth": "b wins; c loses"},
]


def _member_rng(seed: int, member_ids: np.ndarray, salt: int) -> np.ndarray:
    """A uniform number in [0, 1) per member, stable for (seed, member, salt)."""
    x = (member_ids.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
         + np.uint64(seed * 1_000_003 + salt * 7919)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    x ^= x >> np.uint64(33)
    x = (x * np.uint64(0xFF51AFD7ED558CCD)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    x ^= x >> np.uint64(33)
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def preferred_hour(seed: int, member_ids: np.ndarray) -> np.ndarray:
    """Each member's planted preferred local send hour."""
    u = _member_rng(seed, np.asarray(member_ids), salt=1)
    return PREFERRED_HOUR_CHOICES[(u * len(PREFERRED_HOUR_CHOICES)).astype(int)]


def favourite_weights(segment: str) -> np.ndarray:
    """The probability of each category (CATEGORIES order) being a favourite of a member of
    the segment."""
    tilt = FAVOURITES_BY_SEGMENT.get(segment, {})
    weights = np.array([p * tilt.get(name, 1.0) for name, (_, p) in CATEGORIES.items()])
    return weights / weights.sum()


def favourite_categories(seed: int, member_ids: np.ndarray, segments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each member's planted first and second favourite category, drawn with their segment's
    weights (the second may repeat the first: such members have a single favourite)."""
    names = np.array(list(CATEGORIES))
    member_ids, segments = np.asarray(member_ids), np.asarray(segments)
    first = np.empty(len(member_ids), dtype=names.dtype)
    second = np.empty(len(member_ids), dtype=names.dtype)
    u1, u2 = _member_rng(seed, member_ids, salt=2), _member_rng(seed, member_ids, salt=3)
    for segment in np.unique(segments):
        mine = segments == segment
        cumulative = np.cumsum(favourite_weights(segment))
        first[mine] = names[np.minimum(np.searchsorted(cumulative, u1[mine], side="right"), len(names) - 1)]
        second[mine] = names[np.minimum(np.searchsorted(cumulative, u2[mine], side="right"), len(names) - 1)]
    single = _member_rng(seed, member_ids, salt=4) < 0.4
    second = np.where(single, first, second)
    return first, second


def basket_factor(category) -> np.ndarray:
    """Conversion multiplier of the offer's category from its mean basket (BASKET_ELASTICITY)."""
    basket = np.array([CATEGORIES[c][0] for c in np.atleast_1d(category)])
    return (BASKET_REFERENCE_USD / basket) ** BASKET_ELASTICITY


def holiday_factors(local_days: np.ndarray, stage: str) -> np.ndarray:
    """The planted holiday multiplier of `stage` ("open" or "convert") for local calendar days
    (numpy datetime64[D])."""
    from core.analytics.calendar import holidays

    days = np.asarray(local_days, dtype="datetime64[D]")
    out = np.ones(len(days))
    if not len(days):
        return out
    first, last = days.min().astype(object), days.max().astype(object)
    for holiday in holidays(first, last):
        effect = HOLIDAY_EFFECT.get(holiday.name, {}).get(stage)
        if effect:
            out[days == np.datetime64(holiday.day, "D")] = effect
    return out


def campaign_cadence(seed: int, campaign_ids: np.ndarray) -> np.ndarray:
    """Days between two sends of a campaign to the same member (a planted schedule)."""
    u = _member_rng(seed, np.asarray(campaign_ids), salt=11)
    return np.array(CADENCE_DAYS)[(u * len(CADENCE_DAYS)).astype(int)]


PORTFOLIO_REACH = 72  # campaigns beyond this many in a programme each reach fewer of their segment


def campaign_audience_share(seed: int, campaign_ids: np.ndarray, portfolio: int | None = None) -> np.ndarray:
    """The share of a campaign's segment in its audience (the experiments' campaigns: all).

    `portfolio`: how many campaigns the programme has. Beyond PORTFOLIO_REACH each campaign
    reaches proportionally fewer of its segment, so a member of a 1,500-campaign programme (the
    load tests') gets about as many offers a week as in a 72-campaign one, not twenty times more
    (which took 300 M events and 23 GB to generate 30 days of 1,500 campaigns)."""
    campaign_ids = np.asarray(campaign_ids)
    share = 0.5 + 0.5 * _member_rng(seed, campaign_ids, salt=12)
    if portfolio is not None and portfolio > PORTFOLIO_REACH:
        share = share * PORTFOLIO_REACH / portfolio
    return np.where(campaign_ids <= len(AB_TESTS), 1.0, share)


def expected_profit_per_send(seed: int, member_ids, segment, send_local_hour, weekday, channel, category,
                             reward_type, reward_value, cost_per_send) -> np.ndarray:
    """The planted expected profit (revenue − reward cost − cost per send, USD) of one send to each
    member (arrays or scalars broadcast; no holiday, drop or A/B effect): what a recommendation's
    true impact is computed from."""
    member_ids = np.asarray(member_ids)
    n = len(member_ids)
    full = lambda v: np.broadcast_to(np.asarray(v), (n,))
    segment, channel, category = full(segment), full(channel), full(category)
    reward_type, reward_value = full(reward_type), full(reward_value).astype(float)
    hour, weekday, cost = full(send_local_hour), full(weekday).astype(int), full(cost_per_send).astype(float)
    response = lambda key: np.array([SEGMENT_RESPONSE[s][key] for s in segment])
    fav1, fav2 = favourite_categories(seed, member_ids, segment)
    favourite = (category == fav1) | (category == fav2)
    best = np.array([BEST_REWARD_TYPE[s] for s in segment]) == reward_type
    p_open = np.minimum(response("open") * np.array([CHANNEL_OPEN_FACTOR[c] for c in channel])
                        * WEEKDAY_FACTOR[weekday] * open_multiplier(hour, preferred_hour(seed, member_ids)), 0.95)
    p_click = np.minimum(response("click") * np.where(favourite, AFFINITY_LIFT["click"], 1.0), 0.95)
    p_convert = np.minimum(response("convert") * np.where(favourite, AFFINITY_LIFT["convert"], 1.0)
                           * np.where(best, REWARD_TYPE_LIFT, 1.0) * basket_factor(category), 0.95)
    p = (np.array([DELIVERY_RATE[c] for c in channel]) * p_open
         * np.array([IMPRESSION_GIVEN_OPEN[c] for c in channel]) * p_click * p_convert)
    basket = np.array([CATEGORIES[c][0] for c in category])  # the lognormal's mean
    reward = np.where(reward_type == "percent", basket * reward_value / 100.0,
                      expected_min_fixed(basket, reward_value))
    return p * (basket - reward) - cost


def expected_min_fixed(basket_mean: np.ndarray, reward_value: np.ndarray) -> np.ndarray:
    """E[min(reward, revenue)] for the lognormal basket (sigma 0.5, mean basket_mean): a fixed
    reward is capped at the purchase."""
    from scipy.stats import norm

    sigma = BASKET_SIGMA
    mu = np.log(basket_mean) - sigma ** 2 / 2
    k = np.log(np.maximum(reward_value, 1e-9))
    # E[min(X, k)] = E[X; X < r] + r P(X >= r)
    below = np.exp(mu + sigma ** 2 / 2) * norm.cdf((k - mu - sigma ** 2) / sigma)
    return below + reward_value * norm.sf((k - mu) / sigma)


BASKET_SIGMA = 0.5  # of the lognormal purchase amount around the category's mean basket


def open_multiplier(send_local_hour: np.ndarray, preferred: np.ndarray) -> np.ndarray:
    distance = np.abs(send_local_hour - preferred)
    distance = np.minimum(distance, 24 - distance)
    out = np.ones(distance.shape)
    for d, lift in PREFERRED_HOUR_LIFT.items():
        out[distance == d] = lift
    return out
