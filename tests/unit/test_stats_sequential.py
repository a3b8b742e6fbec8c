"""Sequential testing: always-valid confidence sequences hold their error rate under daily peeking.

The A/A simulations are fully vectorised: every (simulated test, day) pair is
one comparison of a single analyze() call.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.experiments.stats import analyze

SIMULATIONS = 1000
DAYS = 30
ALPHA = 0.05


def daily_looks_frame(cumulative_n, cumulative_sum, cumulative_squares=None) -> pd.DataFrame:
    """Rows for every (simulation, day) look; inputs are shaped (simulations, days, 2 arms)."""
    simulations, days, _ = cumulative_n.shape
    look = np.arange(simulations * days)
    frame = pd.DataFrame(
        {
            "comparison": np.concatenate([look, look]),
            "variant": np.repeat(["control", "treatment"], simulations * days),
            "n": np.concatenate([cumulative_n[..., 0].ravel(), cumulative_n[..., 1].ravel()]),
            "sum": np.concatenate([cumulative_sum[..., 0].ravel(), cumulative_sum[..., 1].ravel()]),
        }
    )
    if cumulative_squares is not None:
        frame["sum_squares"] = np.concatenate([cumulative_squares[..., 0].ravel(), cumulative_squares[..., 1].ravel()])
    return frame


def false_positive_rate(result: pd.DataFrame, simulations: int, days: int) -> float:
    """Share of simulated tests stopped for 'significance' at any daily look."""
    ordered = result.sort_values("comparison")
    significant = (ordered["p_value"].to_numpy() < ALPHA).reshape(simulations, days)
    return float(significant.any(axis=1).mean())


@pytest.fixture(scope="module")
def aa_conversion_looks() -> pd.DataFrame:
    rng = np.random.default_rng(20240601)
    daily_users = rng.poisson(150, size=(SIMULATIONS, DAYS, 2))
    daily_conversions = rng.binomial(daily_users, 0.10)
    return daily_looks_frame(daily_users.cumsum(axis=1), daily_conversions.cumsum(axis=1))


@pytest.mark.parametrize("difference", ["absolute", "relative"])
def test_sequential_keeps_false_positives_below_alpha_under_daily_peeking(aa_conversion_looks, difference):
    sequential = analyze(aa_conversion_looks, method="sequential", difference=difference, sequential_tuning=5000)
    peeked_fixed = analyze(aa_conversion_looks, method="frequentist", difference=difference)
    sequential_rate = false_positive_rate(sequential, SIMULATIONS, DAYS)
    fixed_rate = false_positive_rate(peeked_fixed, SIMULATIONS, DAYS)
    # Monte Carlo standard error at 5 % over 1000 tests is ~0.7 points; allow 1.5.
    assert sequential_rate <= ALPHA + 0.015, sequential_rate
    # Peeking at a fixed-horizon test 30 times inflates its error rate several-fold.
    assert fixed_rate > 2 * ALPHA, fixed_rate


def test_sequential_holds_for_a_continuous_metric():
    rng = np.random.default_rng(77)
    users_per_day = 100
    # Per-day sums of skewed (log-normal) per-user values, then cumulated.
    values = rng.lognormal(1.0, 0.8, size=(SIMULATIONS, DAYS, 2, users_per_day))
    daily_n = np.full((SIMULATIONS, DAYS, 2), users_per_day)
    frame = daily_looks_frame(
        daily_n.cumsum(axis=1), values.sum(axis=3).cumsum(axis=1), (values**2).sum(axis=3).cumsum(axis=1)
    )
    sequential_rate = false_positive_rate(analyze(frame, metric="mean", method="sequential"), SIMULATIONS, DAYS)
    fixed_rate = false_positive_rate(analyze(frame, metric="mean"), SIMULATIONS, DAYS)
    assert sequential_rate <= ALPHA + 0.015, sequential_rate
    assert fixed_rate > 2 * ALPHA, fixed_rate


def test_sequential_still_detects_a_real_effect():
    rng = np.random.default_rng(5)
    simulations = 400
    daily_users = np.full((simulations, DAYS, 2), 300)
    daily_conversions = np.stack(
        [rng.binomial(300, 0.10, (simulations, DAYS)), rng.binomial(300, 0.12, (simulations, DAYS))], axis=2
    )
    frame = daily_looks_frame(daily_users.cumsum(axis=1), daily_conversions.cumsum(axis=1))
    detected = false_positive_rate(analyze(frame, method="sequential", difference="absolute"), simulations, DAYS)
    assert detected > 0.8  # a 20 % relative lift on ~9,000 users per arm is found


def test_confidence_sequence_matches_the_published_formula():
    frame = pd.DataFrame({"variant": ["control", "B"], "n": [4_000, 4_200], "sum": [400, 470]})
    alpha, tuning = 0.05, 5000
    result = analyze(frame, method="sequential", difference="absolute", alpha=alpha, sequential_tuning=tuning).iloc[0]
    fixed = analyze(frame, method="frequentist", difference="absolute").iloc[0]

    n = 8_200
    rho = np.sqrt((-2 * np.log(alpha) + np.log(-2 * np.log(alpha) + 1)) / tuning)
    half_width = fixed["se"] * np.sqrt(n) * np.sqrt(
        2 * (n * rho**2 + 1) / (n**2 * rho**2) * np.log(np.sqrt(n * rho**2 + 1) / alpha)
    )
    assert result["estimate"] == pytest.approx(fixed["estimate"])
    assert result["ci_low"] == pytest.approx(fixed["estimate"] - half_width)
    assert result["ci_high"] == pytest.approx(fixed["estimate"] + half_width)
    assert result["ci_low"] < fixed["ci_low"] and fixed["ci_high"] < result["ci_high"]  # wider than fixed


def test_sequential_p_value_does_not_depend_on_alpha_argument():
    frame = pd.DataFrame({"variant": ["control", "B"], "n": [10_000, 10_000], "sum": [1_000, 1_120]})
    p_values = [analyze(frame, method="sequential", alpha=a)["p_value"].iloc[0] for a in (0.01, 0.05, 0.2)]
    assert p_values[0] == pytest.approx(p_values[1], rel=1e-9) == pytest.approx(p_values[2], rel=1e-9)
    assert p_values[0] > analyze(frame, method="frequentist")["p_value"].iloc[0]


def test_tuning_makes_the_sequence_tightest_near_the_planned_sample():
    frame = pd.DataFrame({"variant": ["control", "B"], "n": [5_000, 5_000], "sum": [500, 540]})
    def width(tuning: float) -> float:
        row = analyze(frame, method="sequential", sequential_tuning=tuning).iloc[0]
        return row["ci_high"] - row["ci_low"]

    width = {tuning: width(tuning) for tuning in (1_000, 10_000, 100_000)}
    assert width[10_000] < width[1_000] and width[10_000] < width[100_000]
