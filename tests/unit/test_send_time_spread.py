"""A send-time card's model uncertainty (core.optimize.recommendations._refit_spread): as wide at
90 % as a Student-t over the few bootstrap refits, with mean 1 so the full fit's estimate stays
the card's expected impact (the exponential of a Student-t has no mean)."""
from types import SimpleNamespace

import numpy as np
import pandas as pd
from scipy import stats

from core.optimize import recommendations


def refit(gain_scale: float) -> SimpleNamespace:
    """A refit in which the change gains `gain_scale` opens per member (one member, hour 0 -> 1)."""
    return SimpleNamespace(member_ids=np.array([1]), campaign_rate=pd.Series({7: 1.0}),
                           responsiveness=np.array([1.0]), lift=np.array([[1.0, 1.0 + gain_scale]]))


def test_the_multipliers_have_mean_one_and_the_students_width(monkeypatch):
    monkeypatch.setattr(recommendations, "DRAWS", 400_000)  # the distribution, not a card's 400 draws
    gains = [0.5, 1.0, 2.0, 4.0]  # a wide spread of four refits
    ctx = SimpleNamespace(send_time_refits=[refit(g) for g in gains], rng=np.random.default_rng(0))
    draws = recommendations._refit_spread(ctx, 7, np.array([1]), best=np.array([1]), h0=0)
    assert abs(np.mean(draws) - 1) < 0.02
    low, high = np.percentile(np.log(draws), [5, 95])
    expected_half_width = np.std(np.log(gains), ddof=1) * stats.t.ppf(0.95, len(gains) - 1)
    assert abs((high - low) / 2 - expected_half_width) < 0.02 * expected_half_width
    assert np.percentile(draws, 95) > np.mean(draws)   # the expected impact lies inside its interval


def test_without_two_positive_refits_there_is_no_spread():
    ctx = SimpleNamespace(send_time_refits=[refit(1.0)], rng=np.random.default_rng(0))
    assert recommendations._refit_spread(ctx, 7, np.array([1]), best=np.array([1]), h0=0) == 1.0
