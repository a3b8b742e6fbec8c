"""Why a KPI changed (core.analytics.decomposition) on synthetic data: contributions add up to
the change exactly, a pure-mix and a pure-rate change are attributed as such, and the noise
intervals agree with a simulation of the counts."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.analytics import decomposition
from core.analytics.decomposition import DECOMPOSABLE, Z95, decompose_frames
from core.analytics.metrics import METRICS, add_metrics
from ui import format as fmt

RATIOS = [key for key in DECOMPOSABLE if decomposition.shape(key).kind == "ratio"]
SUMS = [key for key in DECOMPOSABLE if decomposition.shape(key).kind == "sum"]


def funnel(rng: np.random.Generator, groups: list, scale: float = 1.0) -> pd.DataFrame:
    """Random but coherent counts and money per group."""
    sends = np.floor(rng.integers(200, 5000, len(groups)) * scale)
    delivered = np.floor(sends * rng.uniform(0.8, 0.99, len(groups)))
    opens = np.floor(delivered * rng.uniform(0.1, 0.4, len(groups)))
    impressions = np.floor(delivered * rng.uniform(0.3, 0.6, len(groups)))
    clicks = np.floor(impressions * rng.uniform(0.05, 0.3, len(groups)))
    conversions = np.floor(clicks * rng.uniform(0.05, 0.5, len(groups)))
    return pd.DataFrame({
        "sends": sends, "delivered": delivered, "opens": opens, "impressions": impressions, "clicks": clicks,
        "conversions": conversions, "revenue": np.round(conversions * rng.uniform(20, 90, len(groups)), 2),
        "reward_cost": np.round(conversions * rng.uniform(1, 6, len(groups)), 2),
        "send_cost": np.round(sends * rng.choice([0.01, 0.02, 0.05], len(groups)), 2),
    }, index=pd.Index(groups, name="group"))


@pytest.mark.parametrize("kpi", DECOMPOSABLE)
def test_contributions_sum_exactly_to_the_change(kpi):
    rng = np.random.default_rng(sum(map(ord, kpi)))
    for trial in range(20):
        before = funnel(rng, ["a", "b", "c", "d", "e"])
        after = funnel(rng, ["b", "c", "d", "e", "f"], scale=rng.uniform(0.5, 2))  # "a" went, "f" came
        result = decompose_frames(before, after, kpi)
        expected_before = add_metrics(before.sum().to_frame().T).iloc[0][kpi]
        expected_after = add_metrics(after.sum().to_frame().T).iloc[0][kpi]
        assert result.before == pytest.approx(expected_before, rel=1e-12)
        assert result.after == pytest.approx(expected_after, rel=1e-12)
        assert result.groups.contribution.sum() == pytest.approx(result.change, rel=1e-12, abs=1e-12)
        assert set(result.groups.index) == set("abcdef")
        if result.kind == "ratio":
            both = result.groups.mix + result.groups.rate
            assert np.allclose(both, result.groups.contribution, rtol=0, atol=1e-15)
            # a group present in one period only has no rate of its own to move: all of it is mix
            assert result.groups.loc[["a", "f"], "rate"].abs().max() == 0
        else:
            own_change = (add_metrics(after)[kpi].reindex(result.groups.index, fill_value=0)
                          - add_metrics(before)[kpi].reindex(result.groups.index, fill_value=0))
            assert np.allclose(result.groups.contribution, own_change, rtol=0, atol=1e-9)


@pytest.mark.parametrize("kpi", RATIOS)
def test_a_pure_mix_change_is_all_mix(kpi):
    """Every group keeps its rate; the denominators shift towards the best group."""
    spec = decomposition.shape(kpi)
    before = pd.DataFrame({"revenue": [300.0, 120.0, 50.0], "reward_cost": [10.0, 4.0, 2.0],
                           "send_cost": [90.0, 76.0, 48.0], "conversions": [30.0, 12.0, 5.0]},
                          index=pd.Index(["x", "y", "z"], name="group"))
    rates = np.array([0.4, 0.2, 0.1])
    if kpi != "roi":
        before = pd.DataFrame({spec.denominator: [1000.0, 2000.0, 3000.0]}, index=before.index)
        before[spec.numerator] = before[spec.denominator] * rates
    after = before * np.array([[3.0], [1.0], [0.5]])  # same rates, volumes moved to x
    result = decompose_frames(before, after, kpi)
    assert result.change > 0
    assert np.allclose(result.groups.rate, 0, atol=1e-15)
    assert result.groups.mix.sum() == pytest.approx(result.change, rel=1e-12)
    assert result.main().name == "x" and result.driver(result.main()) == "mix"


@pytest.mark.parametrize("kpi", RATIOS)
def test_a_pure_rate_change_is_all_rate(kpi):
    """The shares stay; one group's rate falls."""
    spec = decomposition.shape(kpi)
    before = pd.DataFrame({"revenue": [300.0, 120.0, 50.0], "reward_cost": [10.0, 4.0, 2.0],
                           "send_cost": [90.0, 76.0, 48.0], "conversions": [30.0, 12.0, 5.0]},
                          index=pd.Index(["x", "y", "z"], name="group"))
    if kpi != "roi":
        before = pd.DataFrame({spec.denominator: [1000.0, 2000.0, 3000.0]}, index=before.index)
        before[spec.numerator] = before[spec.denominator] * np.array([0.4, 0.2, 0.1])
    after = before * 2.0                                  # volumes double: shares unchanged
    after.loc["y", spec.numerator] = before.loc["y", spec.numerator]  # y's rate halves
    result = decompose_frames(before, after, kpi)
    assert result.change < 0
    assert np.allclose(result.groups.mix, 0, atol=1e-15)
    assert result.groups.loc["y", "rate"] == pytest.approx(result.change, rel=1e-12)
    assert np.allclose(result.groups.drop(index="y").contribution, 0, atol=1e-15)
    assert result.main().name == "y" and result.driver(result.main()) == "rate"


def _simulated(kpi: str, draw, rng, runs: int = 1500) -> pd.DataFrame:
    """Contributions of `runs` draws of the counts, one row per draw."""
    return pd.DataFrame([decompose_frames(*draw(rng), kpi).groups.contribution for _ in range(runs)])


def test_rate_intervals_agree_with_a_binomial_simulation():
    """Clicks as given, conversions binomial: the delta-method spread of every group's
    contribution matches the simulated spread, and its 95 % interval covers the contribution at
    the true rates about 95 % of the time."""
    rng = np.random.default_rng(13)
    index = pd.Index(["a", "b", "c", "d"], name="group")
    clicks0, clicks1 = np.array([800, 1500, 400, 2500]), np.array([1400, 1200, 300, 2600])
    true0, true1 = np.array([0.20, 0.10, 0.30, 0.05]), np.array([0.12, 0.10, 0.33, 0.06])

    def frames(conversions0, conversions1):
        return (pd.DataFrame({"clicks": clicks0, "conversions": conversions0}, index=index),
                pd.DataFrame({"clicks": clicks1, "conversions": conversions1}, index=index))

    truth = decompose_frames(*frames(clicks0 * true0, clicks1 * true1), "conversion_rate").groups.contribution
    draws, covered, spreads = [], [], []
    for _ in range(1500):
        result = decompose_frames(*frames(rng.binomial(clicks0, true0), rng.binomial(clicks1, true1)),
                                  "conversion_rate").groups
        draws.append(result.contribution)
        spreads.append((result.high - result.low) / (2 * Z95))
        covered.append((result.low <= truth[result.index]) & (truth[result.index] <= result.high))
    simulated_sd = pd.DataFrame(draws).std()
    delta_sd = pd.DataFrame(spreads).mean()
    assert np.allclose(delta_sd[index], simulated_sd[index], rtol=0.1), (delta_sd, simulated_sd)
    coverage = pd.DataFrame(covered).mean()
    assert coverage.between(0.92, 0.975).all(), coverage


def test_count_intervals_agree_with_a_poisson_simulation():
    rng = np.random.default_rng(5)
    index = pd.Index(["a", "b", "c"], name="group")
    mean0, mean1 = np.array([140.0, 60.0, 900.0]), np.array([85.0, 70.0, 880.0])

    def draw(rng):
        return (pd.DataFrame({"conversions": rng.poisson(mean0), "sends": 10_000}, index=index),
                pd.DataFrame({"conversions": rng.poisson(mean1), "sends": 10_000}, index=index))

    draws = _simulated("conversions", draw, rng)
    one = decompose_frames(*draw(rng), "conversions").groups
    expected_sd = np.sqrt(mean0 + mean1)
    assert np.allclose(draws[index].std(), expected_sd, rtol=0.1)
    estimated_sd = ((one.high - one.low) / (2 * Z95))[index]
    assert np.allclose(estimated_sd, expected_sd, rtol=0.2)
    # a: 140 -> about 85 clears its noise (±~30); b (60 -> 70) and c (900 -> 880) do not
    clear = decompose_frames(pd.DataFrame({"conversions": mean0, "sends": 1.0}, index=index),
                             pd.DataFrame({"conversions": mean1, "sends": 1.0}, index=index), "conversions").groups
    assert clear.exceeds_noise.to_dict() == {"a": True, "b": False, "c": False}


def test_roi_intervals_agree_with_a_simulation_of_conversions():
    """ROI: conversions Poisson, each at the group's mean revenue and reward; sends as given."""
    rng = np.random.default_rng(21)
    index = pd.Index(["a", "b"], name="group")
    conv0, conv1 = np.array([120.0, 300.0]), np.array([90.0, 320.0])
    value, reward, send_cost = np.array([60.0, 25.0]), np.array([5.0, 2.0]), np.array([900.0, 2000.0])

    def frame(conversions):
        return pd.DataFrame({"conversions": conversions, "revenue": conversions * value,
                             "reward_cost": conversions * reward, "send_cost": send_cost}, index=index)

    draws = _simulated("roi", lambda rng: (frame(rng.poisson(conv0)), frame(rng.poisson(conv1))), rng)
    at_means = decompose_frames(frame(conv0), frame(conv1), "roi").groups
    assert np.allclose(((at_means.high - at_means.low) / (2 * Z95))[index], draws[index].std(), rtol=0.12)


def test_cumulative_reach_conversion_is_not_decomposed():
    frame = pd.DataFrame({"delivered_members": [10.0], "converting_members": [2.0]}, index=["a"])
    with pytest.raises(ValueError, match="from each campaign's start"):
        decompose_frames(frame, frame, "reach_conversion")
    assert "reach_conversion" not in DECOMPOSABLE and set(DECOMPOSABLE) < set(METRICS)


def test_summary_in_plain_words():
    """The issue's example: conversions 141 -> 87 while the culprit's sends rose."""
    index = pd.Index([2, 5, 7], name="campaign")
    labels = {2: "ArcadeOne #2", 5: "CafeLuna #5", 7: "Zen [Spa](http://x) #7"}
    before = pd.DataFrame({"sends": [11_655, 4000, 3000], "conversions": [90, 30, 21]}, index=index)
    after = pd.DataFrame({"sends": [15_540, 4000, 3000], "conversions": [44, 24, 19]}, index=index)
    result = decompose_frames(before, after, "conversions", "campaign", labels)
    text = decomposition.summary(result, fmt, "the week before")
    change = 87 - 141
    assert text.startswith(f"Conversions 87, {fmt.percent(change / 141, 1, signed=True)} vs 141 the week before "
                           f"({change:+d}); ")
    assert f"{fmt.percent((44 - 90) / change, 0)} of the change from ArcadeOne #2" in text
    assert text.endswith("where conversions per send fell while sends rose.")
    assert result.main().name == 2 and result.main().exceeds_noise


def test_summary_of_a_rate_speaks_in_points_and_says_when_it_is_noise():
    index = pd.Index(["deal_seeker", "new"], name="segment")
    before = pd.DataFrame({"clicks": [1000, 1000], "conversions": [100, 100]}, index=index)
    after = pd.DataFrame({"clicks": [1000, 1000], "conversions": [96, 100]}, index=index)
    result = decompose_frames(before, after, "conversion_rate", "segment")
    text = decomposition.summary(result, fmt, "last month")
    assert text.startswith(f"Conversion rate {fmt.percent(0.098, 2)}, {fmt.points(-0.002)} vs {fmt.percent(0.1, 2)} last month, "
                           "within the noise of the counts; 100% of the change from deal seeker, where the rate fell")
    assert text.endswith("(within noise).")
