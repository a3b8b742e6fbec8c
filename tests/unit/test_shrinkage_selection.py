"""Empirical-Bayes shrinkage against the winner's curse (core.optimize.shrinkage.shrink_normal),
on synthetic groups with known true values: the spread of the true values is recovered, the 90 %
posterior intervals cover the truth 90 % of the time, and they still do for the groups chosen
because they look worst (what a drop-segment card is), where the raw estimates' intervals do not."""
from __future__ import annotations

import numpy as np
from scipy import stats

from core.optimize.shrinkage import shrink_normal

Z90 = stats.norm.ppf(0.95)


def planted(seed: int, groups: int = 20_000, tau: float = 0.05):
    """True values around per-campaign parents, and noisy estimates of them with known errors."""
    rng = np.random.default_rng(seed)
    parent = rng.choice([0.10, 0.25, 0.40], groups)
    truth = parent + tau * rng.standard_normal(groups)
    se = rng.uniform(0.02, 0.12, groups)
    return parent, truth, truth + se * rng.standard_normal(groups), se


def covered(truth, mean, sd) -> np.ndarray:
    return np.abs(truth - mean) <= Z90 * sd


def test_the_spread_of_the_true_values_is_recovered():
    parent, truth, estimate, se = planted(1)
    _, _, tau = shrink_normal(estimate, se, parent)
    assert abs(tau - 0.05) < 0.005


def test_posterior_intervals_cover_the_truth_even_for_the_worst_looking_groups():
    parent, truth, estimate, se = planted(2)
    mean, sd, _ = shrink_normal(estimate, se, parent)
    binomial = lambda n: 2.5 * np.sqrt(0.9 * 0.1 / n)
    overall = covered(truth, mean, sd)
    assert abs(overall.mean() - 0.9) < binomial(len(truth))
    worst = np.argsort(estimate - parent)[: len(truth) // 20]  # the 5 % that look worst: the ones proposed
    shrunk, raw = covered(truth, mean, sd)[worst].mean(), covered(truth, estimate, se)[worst].mean()
    assert abs(shrunk - 0.9) < binomial(len(worst)), shrunk
    assert raw < 0.75, raw  # without shrinkage the chosen groups' intervals miss their truth
    # and their claimed loss is overstated on average, the shrunk one not
    assert (estimate - truth)[worst].mean() < -0.03 < (mean - truth)[worst].mean()


def test_without_spread_every_group_is_its_parent():
    rng = np.random.default_rng(3)
    parent = np.full(2_000, 0.2)
    se = np.full(2_000, 0.05)
    mean, sd, tau = shrink_normal(parent + se * rng.standard_normal(2_000), se, parent)
    assert tau < 0.01 and np.abs(mean - 0.2).max() < 0.01 and sd.max() < 0.01


def test_too_few_groups_are_left_as_they_are():
    mean, sd, tau = shrink_normal([1.0, -1.0], [0.5, 0.5], [0.0, 0.0])
    assert mean.tolist() == [1.0, -1.0] and sd.tolist() == [0.5, 0.5] and np.isnan(tau)


def test_with_estimated_parents_the_chosen_groups_are_still_covered():
    """As the drop-segment cards use it: five segments per campaign, the campaign's own value
    estimated from its segments (with its error), τ learnt within campaigns."""
    rng = np.random.default_rng(4)
    campaigns, per = 4_000, 5
    group = np.repeat(np.arange(campaigns), per)
    truth = rng.uniform(0.0, 0.5, campaigns)[group] + 0.05 * rng.standard_normal(campaigns * per)
    se = rng.uniform(0.02, 0.12, campaigns * per)
    estimate = truth + se * rng.standard_normal(campaigns * per)
    parent = np.bincount(group, estimate)[group] / per
    parent_se = (np.sqrt(np.bincount(group, se ** 2)) / per)[group]
    mean, sd, tau = shrink_normal(estimate, se, parent, parent_se, groups=group)
    assert abs(tau - 0.05) < 0.005
    worst = np.argsort(estimate - parent)[: len(truth) // 20]
    shrunk = covered(truth, mean, sd)[worst].mean()
    assert abs(shrunk - 0.9) < 2.5 * np.sqrt(0.9 * 0.1 / len(worst)), shrunk
    assert covered(truth, estimate, se)[worst].mean() < 0.75
