"""What an open earns, as a send-time card values the opens it adds (core.optimize.economics):
the counting error of a few conversions keeps its promised coverage where sqrt(k) does not
(checked against exact Poisson probabilities), and a device whose conversions per open changed in
the last days (a planted broken release) is found and valued at its new rate, while devices
drawn with constant rates are not flagged, nor is a campaign that stopped sending."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from core.optimize.economics import counting_error, open_value

Z90 = stats.norm.ppf(0.95)
MARGIN_PER_CONVERSION = 40.0


def miss_rates(means, se) -> tuple[float, float]:
    """Over Poisson means spread evenly on a range, the share of counts k whose k + z·se(k) falls
    below the mean and whose k − z·se(k) falls above it, exactly (summing the probability mass)."""
    k = np.arange(0, int(max(means) * 5 + 60))
    error = se(k)
    above = [float(stats.poisson.pmf(k, m)[k + Z90 * error < m].sum()) for m in means]
    below = [float(stats.poisson.pmf(k, m)[k - Z90 * error > m].sum()) for m in means]
    return float(np.mean(above)), float(np.mean(below))


@pytest.mark.parametrize("low, high", [(0.5, 3.0), (0.5, 10.0), (3.0, 30.0)])
def test_the_counting_error_keeps_its_coverage_with_few_conversions(low, high):
    means = np.linspace(low, high, 200)
    missed_low, missed_high = miss_rates(means, counting_error)
    assert missed_low <= 0.055, f"k + 1.645·se falls below the mean {missed_low:.1%} of the time"
    assert 0.88 <= 1 - missed_low - missed_high <= 0.98
    # The floor it replaced, sqrt(k + 1/2), promised the same and fell below the mean twice as often.
    assert miss_rates(means, lambda k: np.sqrt(k + 0.5))[0] > 0.08


def device_rows(campaign_id: int, device: str, opens_per_day: float, rate_before: float, rate_last: float,
                rng, days_before: int = 21, days_last: int = 7, opens_last_per_day: float | None = None) -> list[dict]:
    opens_last_per_day = opens_per_day if opens_last_per_day is None else opens_last_per_day
    rows = []
    for last, days, rate, per_day in ((False, days_before, rate_before, opens_per_day),
                                      (True, days_last, rate_last, opens_last_per_day)):
        opens = int(rng.poisson(per_day * days))
        conversions = int(rng.poisson(rate * opens)) if opens else int(rng.poisson(rate * per_day * 2))
        rows.append({"campaign_id": campaign_id, "device": device, "last_days": last, "opens": opens,
                     "conversions": conversions, "revenue": conversions * (MARGIN_PER_CONVERSION + 5.0),
                     "reward_cost": conversions * 5.0})
    return rows


def test_a_broken_release_on_one_device_is_found_and_valued_at_its_new_rate():
    rng = np.random.default_rng(3)
    rows = (device_rows(6, "android", 600, 0.04, 0.01, rng) + device_rows(6, "ios", 700, 0.04, 0.04, rng)
            + device_rows(6, "web", 250, 0.04, 0.04, rng))
    frame = pd.DataFrame(rows)
    value = open_value(frame).set_index("campaign_id").loc[6]
    assert [c["device"] for c in value.open_changed] == ["android"]
    change = value.open_changed[0]
    assert change["after"] < 0.02 < 0.03 < change["before"] and change["p_value"] < 1e-6
    # The truth next week: android converts 1 % of its opens, the others 4 %, each device weighted by its opens.
    opens = frame.groupby("device").opens.sum()
    truth = MARGIN_PER_CONVERSION * float((opens * pd.Series({"android": 0.01, "ios": 0.04, "web": 0.04})).sum() / opens.sum())
    whole_window = float((frame.revenue - frame.reward_cost).sum() / frame.opens.sum())
    assert abs(value.open_margin - truth) <= Z90 * value.open_margin_se
    assert abs(whole_window - truth) > 3 * value.open_margin_se  # what the 28 days alone would have said


def test_devices_with_constant_rates_are_rarely_flagged():
    rng = np.random.default_rng(11)
    rows = []
    for campaign_id in range(300):
        rate = rng.uniform(0.005, 0.08)
        for device, share in (("android", 0.4), ("ios", 0.45), ("web", 0.15)):
            rows += device_rows(campaign_id, device, 800 * share, rate, rate, rng)
    flagged = sum(len(c) for c in open_value(pd.DataFrame(rows)).open_changed)
    assert flagged <= 4, f"{flagged} of 900 devices flagged at p < 0.001"  # 0.9 expected


def test_a_campaign_that_stopped_sending_is_not_a_change():
    rng = np.random.default_rng(5)
    # No opens in the last days, but conversions of the opens before them still arrive.
    rows = device_rows(21, "ios", 500, 0.04, 0.04, rng, opens_last_per_day=0.3)
    value = open_value(pd.DataFrame(rows)).set_index("campaign_id").loc[21]
    assert value.open_changed == []


def test_the_counting_error_of_one_device_is_its_conversions_counting_error():
    frame = pd.DataFrame([
        {"campaign_id": 1, "device": "ios", "last_days": False, "opens": 3_000, "conversions": 90, "revenue": 4_500.0, "reward_cost": 450.0},
        {"campaign_id": 1, "device": "ios", "last_days": True, "opens": 1_000, "conversions": 30, "revenue": 1_500.0, "reward_cost": 150.0},
    ])
    value = open_value(frame).set_index("campaign_id").loc[1]
    assert value.open_margin == pytest.approx((6_000 - 600) / 4_000)
    assert value.open_reward == pytest.approx(600 / 4_000)
    assert value.open_margin_se == pytest.approx(float(counting_error(np.array([120.0]))[0]) * 45.0 / 4_000)
    assert value.open_conversions == 120
