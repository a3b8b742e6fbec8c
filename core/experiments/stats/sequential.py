"""Sequential inference: always-valid confidence sequences and p-values.

Owns: the asymptotic normal-mixture confidence sequence in GrowthBook's
parametrisation and the always-valid p-value found by bisection on log(alpha);
see the package docstring (:mod:`core.experiments.stats`) for the formulas.
"""

from __future__ import annotations

import numpy as np

from core.experiments.stats.effects import _Effect
from core.experiments.stats.frequentist import _p_from_log


_BISECTION_STEPS = 64


def _confidence_sequence_multiplier(neg_log_alpha: np.ndarray, n: np.ndarray, tuning: float) -> np.ndarray:
    """Half-width of the asymptotic confidence sequence in units of se (GrowthBook's rho)."""
    rho_squared = (2 * neg_log_alpha + np.log1p(2 * neg_log_alpha)) / tuning
    u = n * rho_squared
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(2 * (u + 1) / u * (0.5 * np.log1p(u) + neg_log_alpha))


def _sequential(effect: _Effect, n_total: np.ndarray, alpha: float, tuning: float, alternative: str):
    est, se = effect.estimate, effect.se
    half_width = se * _confidence_sequence_multiplier(np.full(est.shape, -np.log(alpha)), n_total, tuning)
    low, high = est - half_width, est + half_width

    # Always-valid p-value: the alpha at which the half-width equals |estimate|.
    # The multiplier rises monotonically with -log(alpha) (nested sequences); at
    # -log(alpha) = z^2/2 it is at least |z|, which brackets the root.
    with np.errstate(divide="ignore", invalid="ignore"):
        abs_z = np.abs(est / se)
    defined = np.isfinite(abs_z)
    abs_z = np.where(defined, abs_z, 0.0)
    lower_bracket = np.zeros_like(abs_z)
    upper_bracket = abs_z**2 / 2
    for _ in range(_BISECTION_STEPS):
        middle = (lower_bracket + upper_bracket) / 2
        still_excludes_zero = _confidence_sequence_multiplier(middle, n_total, tuning) < abs_z
        lower_bracket = np.where(still_excludes_zero, middle, lower_bracket)
        upper_bracket = np.where(still_excludes_zero, upper_bracket, middle)
    neg_log_p = (lower_bracket + upper_bracket) / 2
    log_p = np.where(defined, -neg_log_p, np.nan)

    if alternative == "greater":
        log_p = np.where(est > 0, log_p, np.where(defined, 0.0, np.nan))
        high = np.where(np.isnan(est), np.nan, np.inf)
    elif alternative == "less":
        log_p = np.where(est < 0, log_p, np.where(defined, 0.0, np.nan))
        low = np.where(np.isnan(est), np.nan, -np.inf)
    p_value, p_log10 = _p_from_log(log_p)
    return dict(
        estimate=est, se=se, ci_low=low, ci_high=high,
        p_value=p_value, p_value_log10=p_log10, significant=p_value < alpha,
    )
