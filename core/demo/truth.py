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

CATEGORIES = {  # mean basket in USD, popularity of the category among members' favourites
    "grocery": (45.0, 0.22), "dining": (38.0, 0.20), "travel": (310.0, 0.08),
    "fuel": (42.0, 0.12), "fashion": (85.0, 0.12), "electronics": (240.0, 0.08),
    "entertainment": (32.0, 0.10), "health": (28.0, 0.08),
}
AFFINITY_LIFT = {"click": 1.6, "convert": 2.0}

BEST_REWARD_TYPE = {
    "new": "fixed", "active": "percent", "lapsed": "fixed",
    "high_value": "percent", "deal_seeker": "percent",
}
REWARD_TYPE_LIFT = 1.5  # conversion multiplier of the segment's best reward type

OPEN_DELAY_MINUTES = 40.0        # mean of the exponential delay from delivery to open
CLICK_DELAY_MINUTES = 4.0
CONVERSION_DELAY_HOURS = 20.0    # truncated to the attribution window

# Planted experiments: click-probability multipliers per variant (control first).
AB_TESTS = [
    {"key": "winner", "name": "Urgent subject line", "metric": "clicked",
     "variants": {"control": (0.5, 1.0), "treatment": (0.5, 1.35)},
     "lost_share": {}, "truth": "treatment wins on clicked members"},
    {"key": "null", "name": "Blue vs green button", "metric": "clicked",
     "variants": {"control": (0.5, 1.0), "treatment": (0.5, 1.0)},
     "lost_share": {}, "truth": "no difference"},
    {"key": "srm", "name": "New deep link", "metric": "clicked",
     "variants": {"control": (0.5, 1.0), "treatment": (0.5, 1.1)},
     "lost_share": {"treatment": 0.12}, "truth": "sample-ratio mismatch"},
    {"key": "three_way", "name": "Three reward framings", "metric": "clicked",
     "variants": {"control": (0.34, 1.0), "b": (0.33, 1.3), "c": (0.33, 0.8)},
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


def favourite_categories(seed: int, member_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each member's planted first and second favourite category (second may repeat first:
    such members have a single favourite)."""
    names = np.array(list(CATEGORIES))
    popularity = np.array([p for _, p in CATEGORIES.values()])
    cumulative = np.cumsum(popularity / popularity.sum())
    member_ids = np.asarray(member_ids)
    first = names[np.searchsorted(cumulative, _member_rng(seed, member_ids, salt=2), side="right")]
    second = names[np.searchsorted(cumulative, _member_rng(seed, member_ids, salt=3), side="right")]
    single = _member_rng(seed, member_ids, salt=4) < 0.4
    second = np.where(single, first, second)
    return first, second


def open_multiplier(send_local_hour: np.ndarray, preferred: np.ndarray) -> np.ndarray:
    distance = np.abs(send_local_hour - preferred)
    distance = np.minimum(distance, 24 - distance)
    out = np.ones(distance.shape)
    for d, lift in PREFERRED_HOUR_LIFT.items():
        out[distance == d] = lift
    return out
