"""Sample-size planning for A/B tests: how many units per arm, what power, how many days.

Owns the design-time questions asked before and during an experiment:

* :func:`required_sample_size` - units per arm needed to detect a minimum
  detectable effect (MDE) with a given power;
* :func:`achieved_power` - the power a given number of units per arm buys;
* :func:`expected_days` - how long until the needed sample is reached.

Closed form for a two-sided z-test of the absolute difference of two means
(the large-sample form of the fixed-horizon test in :mod:`core.experiments.stats.frequentist`)::

    n_per_arm = (z[1 - alpha'/2] + z[power])**2 * (var_control + var_treatment) / delta**2

* binomial: var = p * (1 - p) in each arm, with p_treatment = baseline * (1 + mde)
  (``relative=True``) or baseline + mde (``relative=False``) - the unpooled form,
  which matches the variance the analysis uses;
* mean: var = sd**2 in both arms (``sd`` required), delta = baseline * mde or mde;
* ``variants`` counts all arms including control.  With more than two arms the
  family of ``variants - 1`` treatment-vs-control comparisons is protected by
  Bonferroni, alpha' = alpha / (variants - 1), the worst case of the Holm
  correction the analysis may apply.  Without more than two arms alpha' = alpha.

Relative MDEs are planned on the absolute scale (delta = baseline * mde); the
relative analysis (delta method) has nearly the same power for small lifts.

All functions accept scalars or numpy arrays (broadcast); scalars in, scalars out.
Pure functions only: no I/O, no database, no UI.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

POWER_METRICS = ("binomial", "mean")


def required_sample_size(
    baseline,
    mde,
    alpha: float = 0.05,
    power: float = 0.8,
    metric: str = "binomial",
    relative: bool = True,
    sd=None,
    variants: int = 2,
):
    """Units needed **per arm** to detect ``mde`` with probability ``power``.

    ``baseline`` is the control conversion rate (binomial) or control mean
    (mean metric); ``mde`` is the minimum detectable effect, a fraction of the
    baseline when ``relative`` (0.05 = +5 %) or in metric units otherwise.
    Returns an int (or an int array), rounded up.  See the module docstring
    for the formula.
    """
    delta, total_variance = _effect_and_variance(baseline, mde, metric, relative, sd)
    z_total = _z_alpha(alpha, variants) + _z_power(power)
    needed = np.ceil(z_total**2 * total_variance / delta**2)
    return _scalar_or_array(needed.astype(np.int64))


def achieved_power(
    n_per_arm,
    baseline,
    mde,
    alpha: float = 0.05,
    metric: str = "binomial",
    relative: bool = True,
    sd=None,
    variants: int = 2,
):
    """Probability that a two-sided test with ``n_per_arm`` units per arm detects ``mde``.

    Same model and arguments as :func:`required_sample_size`.  Both rejection
    tails are counted (the wrong-sign tail is negligible for real effects).
    """
    n_per_arm = np.asarray(n_per_arm, dtype=float)
    if np.any(n_per_arm <= 0):
        raise ValueError("achieved_power: n_per_arm must be positive.")
    delta, total_variance = _effect_and_variance(baseline, mde, metric, relative, sd)
    standardized_effect = np.abs(delta) / np.sqrt(total_variance / n_per_arm)
    z_alpha = _z_alpha(alpha, variants)
    power = stats.norm.cdf(standardized_effect - z_alpha) + stats.norm.cdf(-standardized_effect - z_alpha)
    return _scalar_or_array(power)


def expected_days(needed_per_arm, current_per_arm, daily_per_arm):
    """Whole days until every arm reaches ``needed_per_arm`` units.

    0 when already reached; ``inf`` when more units are needed but no traffic
    arrives (``daily_per_arm == 0``).  Returned as float so that ``inf`` fits.
    """
    needed = np.asarray(needed_per_arm, dtype=float)
    current = np.asarray(current_per_arm, dtype=float)
    daily = np.asarray(daily_per_arm, dtype=float)
    if np.any(needed < 0) or np.any(current < 0) or np.any(daily < 0):
        raise ValueError("expected_days: needed, current and daily units must be non-negative.")
    remaining = np.maximum(needed - current, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        days = np.where(remaining == 0, 0.0, np.ceil(remaining / daily))
    return _scalar_or_array(days)


def _effect_and_variance(baseline, mde, metric, relative, sd):
    """Return (absolute effect, var_control + var_treatment) for the design."""
    if metric not in POWER_METRICS:
        raise ValueError(f"metric must be one of {POWER_METRICS}, got {metric!r}.")
    baseline = np.asarray(baseline, dtype=float)
    mde = np.asarray(mde, dtype=float)
    if np.any(mde == 0) or not np.all(np.isfinite(mde)):
        raise ValueError("mde must be a finite, non-zero effect; a zero effect needs infinite samples.")
    delta = baseline * mde if relative else mde + 0.0 * baseline
    if metric == "binomial":
        treatment_rate = baseline + delta
        if np.any((baseline <= 0) | (baseline >= 1)):
            raise ValueError(f"binomial baseline must be a rate strictly between 0 and 1, got {baseline}.")
        if np.any((treatment_rate <= 0) | (treatment_rate >= 1)):
            raise ValueError(
                f"baseline {baseline} with mde {mde} implies a treatment rate of {treatment_rate}, "
                "outside (0, 1); choose a smaller mde."
            )
        return delta, baseline * (1 - baseline) + treatment_rate * (1 - treatment_rate)
    if sd is None:
        raise ValueError("metric='mean' needs sd, the per-unit standard deviation of the metric.")
    sd = np.asarray(sd, dtype=float)
    if np.any(sd <= 0):
        raise ValueError(f"sd must be positive, got {sd}.")
    if relative and np.any(baseline == 0):
        raise ValueError("a relative mde needs a non-zero baseline; use relative=False for an absolute mde.")
    return delta, 2 * sd**2


def _z_alpha(alpha, variants) -> np.ndarray:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}.")
    if int(variants) != variants or variants < 2:
        raise ValueError(f"variants counts all arms including control and must be an integer >= 2, got {variants}.")
    comparisons = variants - 1
    return stats.norm.isf(alpha / comparisons / 2)


def _z_power(power) -> np.ndarray:
    if not 0 < power < 1:
        raise ValueError(f"power must be in (0, 1), got {power}.")
    return stats.norm.ppf(power)


def _scalar_or_array(values: np.ndarray):
    values = np.asarray(values)
    return values.item() if values.ndim == 0 else values
