"""Per-arm moments and the effect size every inference method starts from.

Owns: per-arm sample size, mean and per-unit variance for binomial, mean and
ratio metrics (with the 0 %/100 % pseudo-count variance); the absolute or
relative difference with its delta-method standard error and Welch degrees of
freedom, and the ``reason`` a row cannot be analysed; unit counts for the
output frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.experiments.stats.inputs import _VariantTable


@dataclass
class _Arms:
    """Per-arm sample size, mean and per-unit variance (so var(mean) = variance / n)."""

    n: np.ndarray
    mean: np.ndarray
    variance: np.ndarray
    reason: np.ndarray  # object array: None or why this arm cannot be analysed

    def take(self, rows: np.ndarray) -> _Arms:
        return _Arms(self.n[rows], self.mean[rows], self.variance[rows], self.reason[rows])


def _sample_variance(n: np.ndarray, total: np.ndarray, squares: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.maximum((squares - total * total / n) / (n - 1), 0.0)


def _sample_covariance(n: np.ndarray, sum_x: np.ndarray, sum_y: np.ndarray, sum_xy: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return (sum_xy - sum_x * sum_y / n) / (n - 1)


def _arm_moments(table: _VariantTable, metric: str) -> _Arms:
    columns = table.columns
    n, total = columns["n"], columns["sum"]
    reason = np.full(n.size, None, dtype=object)
    reason[n < 2] = "fewer than 2 units in an arm: the variance cannot be estimated"

    if metric == "binomial":
        rate = total / n
        variance = rate * (1 - rate)
        # 0 % or 100 % conversion: plug-in variance is 0, which would claim certainty.
        # Use add-one-success-one-failure pseudo-counts for the variance only.
        degenerate = (total == 0) | (total == n)
        smoothed = (total + 1) / (n + 2)
        variance = np.where(degenerate, smoothed * (1 - smoothed), variance)
        return _Arms(n, rate, variance, reason)

    if metric == "mean":
        return _Arms(n, total / n, _sample_variance(n, total, columns["sum_squares"]), reason)

    # Ratio metric sum / den_sum: delta-method variance of the ratio of two means.
    numerator_mean = total / n
    denominator_mean = columns["den_sum"] / n
    var_numerator = _sample_variance(n, total, columns["sum_squares"])
    var_denominator = _sample_variance(n, columns["den_sum"], columns["den_sum_squares"])
    covariance = _sample_covariance(n, total, columns["den_sum"], columns["sum_product"])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = numerator_mean / denominator_mean
        variance = (var_numerator - 2 * ratio * covariance + ratio**2 * var_denominator) / denominator_mean**2
    zero_denominator = denominator_mean == 0
    reason[zero_denominator & (reason == None)] = "denominator sum is zero: the ratio is undefined"  # noqa: E711
    return _Arms(n, np.where(zero_denominator, np.nan, ratio), np.maximum(variance, 0.0), reason)


@dataclass
class _Effect:
    estimate: np.ndarray
    se: np.ndarray
    df: np.ndarray
    relative_to_effect_units: np.ndarray  # 1 for relative differences, |control mean| for absolute
    reason: np.ndarray


def _effect(control: _Arms, treatment: _Arms, difference: str) -> _Effect:
    """Point estimate, standard error and Welch degrees of freedom of the difference."""
    with np.errstate(divide="ignore", invalid="ignore"):
        var_control_mean = control.variance / control.n
        var_treatment_mean = treatment.variance / treatment.n
        var_sum = var_control_mean + var_treatment_mean
        df = var_sum**2 / (var_treatment_mean**2 / (treatment.n - 1) + var_control_mean**2 / (control.n - 1))
        if difference == "absolute":
            estimate = treatment.mean - control.mean
            variance = var_sum
        else:
            estimate = (treatment.mean - control.mean) / np.abs(control.mean)
            variance = var_treatment_mean / control.mean**2 + treatment.mean**2 * var_control_mean / control.mean**4
    se = np.sqrt(variance)

    reason = np.where(control.reason == None, treatment.reason, control.reason)  # noqa: E711
    open_rows = reason == None  # noqa: E711
    if difference == "relative":
        zero_control = open_rows & (control.mean == 0)
        reason[zero_control] = "control mean is zero: relative lift is undefined; use difference='absolute'"
        open_rows &= ~zero_control
    no_variation = open_rows & ~(se > 0)
    reason[no_variation] = "no variation in either arm: the standard error is zero"

    undefined = reason != None  # noqa: E711
    nan_where_undefined = lambda values: np.where(undefined, np.nan, values)  # noqa: E731
    return _Effect(
        estimate=nan_where_undefined(estimate),
        se=nan_where_undefined(se),
        df=nan_where_undefined(df),
        relative_to_effect_units=np.ones_like(estimate) if difference == "relative" else np.abs(control.mean),
        reason=reason,
    )


def _as_counts(n: np.ndarray) -> np.ndarray:
    """Unit counts as integers when they are whole numbers (they nearly always are)."""
    return n.astype(np.int64) if np.all(n == np.round(n)) else n
