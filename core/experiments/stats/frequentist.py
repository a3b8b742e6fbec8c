"""Fixed-horizon inference: Welch t intervals and p-values that stay exact far into the tail.

Owns: the two- and one-sided Welch t interval and p-value of an effect, the log
survival function of Student's t (with its tail expansion where scipy
underflows), and turning a log p-value into the reported ``p_value`` (floored
at :data:`SMALLEST_REPORTED_P_VALUE`) and ``p_value_log10``.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from core.experiments.stats.effects import _Effect


# p-values are floored here instead of underflowing to 0; p_value_log10 keeps the real size.
SMALLEST_REPORTED_P_VALUE = np.finfo(float).tiny
# Below this, scipy's t.logsf loses accuracy and then returns -inf; switch to the tail expansion.
_LOG_SF_ASYMPTOTIC_BELOW = -690.0
# Beyond this many degrees of freedom the t distribution is the normal one to double precision.
_DF_TREATED_AS_NORMAL = 1e12


def _log_t_sf(x: np.ndarray, df: np.ndarray) -> np.ndarray:
    """log P(T > x) for Student's t, accurate far into the tail (no -inf for finite x).

    scipy's t.logsf underflows to -inf once the survival function drops below
    ~1e-308.  There we use the two-term Laplace expansion of the tail integral,
        sf(x) ~ pdf(x) * [(df + x^2)/((df + 1) x) + (x^2 - df)(df + x^2)/((df + 1)^2 x^3)],
    whose relative error is O(x^-4) - far below 1e-6 at such x.
    """
    x, df = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(df, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_sf = np.where(df > _DF_TREATED_AS_NORMAL, stats.norm.logsf(x), stats.t.logsf(x, df))
        deep_tail = (log_sf < _LOG_SF_ASYMPTOTIC_BELOW) & (x > 0) & np.isfinite(x)
        if deep_tail.any():
            xt, nu = x[deep_tail], df[deep_tail]
            normal = nu > _DF_TREATED_AS_NORMAL
            log_sf = log_sf.copy()
            log_sf[deep_tail] = np.where(normal, stats.norm.logsf(xt), _log_t_sf_tail(xt, np.where(normal, 1.0, nu)))
    return log_sf


def _log_t_sf_tail(x: np.ndarray, df: np.ndarray) -> np.ndarray:
    """Two-term Laplace expansion of log P(T > x) for large positive x (see :func:`_log_t_sf`)."""
    spread = df + x * x
    tail_factor = spread / ((df + 1) * x) + (x * x - df) * spread / ((df + 1) ** 2 * x**3)
    return stats.t.logpdf(x, df) + np.log(tail_factor)


def _p_from_log(log_p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(p, log10 p) from natural-log p; p is floored at the smallest normal double."""
    log_p = np.minimum(log_p, 0.0) + 0.0  # + 0.0 turns -0.0 into 0.0
    p = np.maximum(np.exp(log_p), SMALLEST_REPORTED_P_VALUE)
    return np.where(np.isnan(log_p), np.nan, p), log_p / np.log(10)


def _frequentist(effect: _Effect, alpha: float, alternative: str) -> dict[str, np.ndarray]:
    est, se, df = effect.estimate, effect.se, effect.df
    with np.errstate(divide="ignore", invalid="ignore"):
        t_stat = est / se
    one_sided = alternative != "two-sided"
    quantile = stats.t.isf(alpha if one_sided else alpha / 2, df)
    low, high = est - quantile * se, est + quantile * se
    if alternative == "two-sided":
        log_p = np.log(2.0) + _log_t_sf(np.abs(t_stat), df)
    elif alternative == "greater":
        log_p = _log_t_sf(t_stat, df)
        high = np.where(np.isnan(est), np.nan, np.inf)
    else:
        log_p = _log_t_sf(-t_stat, df)
        low = np.where(np.isnan(est), np.nan, -np.inf)
    p_value, p_log10 = _p_from_log(log_p)
    return dict(
        estimate=est, se=se, ci_low=low, ci_high=high, df=df,
        p_value=p_value, p_value_log10=p_log10, significant=p_value < alpha,
    )
