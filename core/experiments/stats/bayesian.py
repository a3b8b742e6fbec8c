"""Bayesian inference: Gaussian posterior of the effect, chance to win and risk.

Owns: the normal prior on the relative lift (:class:`NormalPrior`) and its
parsing, the posterior with a flat or normal prior, the credible interval,
``chance_to_win`` and the expected losses ``risk_control``/``risk_treatment``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import stats

from core.experiments.stats.effects import _Effect


@dataclass(frozen=True)
class NormalPrior:
    """Normal prior on the relative lift, e.g. ``NormalPrior(mean=0.0, variance=0.3**2)``."""

    mean: float = 0.0
    variance: float = 0.3**2


def _parse_prior(prior, method: str) -> NormalPrior | None:
    if prior is None:
        return None
    if method != "bayesian":
        raise ValueError(f"prior is only used by method='bayesian' (got method={method!r}); drop the prior.")
    if isinstance(prior, Mapping):
        unknown = set(prior) - {"mean", "variance"}
        if unknown or "variance" not in prior:
            raise ValueError(f"prior must be {{'mean': m, 'variance': v}} on the relative lift, got {dict(prior)}.")
        prior = NormalPrior(mean=float(prior.get("mean", 0.0)), variance=float(prior["variance"]))
    if not isinstance(prior, NormalPrior) or not prior.variance > 0 or not np.isfinite(prior.mean):
        raise ValueError(f"prior needs a finite mean and a positive variance, got {prior!r}.")
    return prior


def _expected_shortfall(x: np.ndarray) -> np.ndarray:
    """E[max(0, -Z - x)] for Z ~ N(0, 1) = phi(x) - x * (1 - Phi(x)); never negative."""
    return np.maximum(stats.norm.pdf(x) - x * stats.norm.sf(x), 0.0)


def _bayesian(effect: _Effect, alpha: float, alternative: str, prior: NormalPrior | None):
    mean, sd = effect.estimate, effect.se
    if prior is not None:
        # The prior is on the relative lift; rescale it to absolute units when needed.
        prior_mean = prior.mean * effect.relative_to_effect_units
        prior_variance = prior.variance * effect.relative_to_effect_units**2
        precision = 1 / sd**2 + 1 / prior_variance
        mean = (mean / sd**2 + prior_mean / prior_variance) / precision
        sd = np.sqrt(1 / precision)
    z = stats.norm.isf(alpha if alternative != "two-sided" else alpha / 2)
    low, high = mean - z * sd, mean + z * sd
    if alternative == "greater":
        high = np.where(np.isnan(mean), np.nan, np.inf)
    elif alternative == "less":
        low = np.where(np.isnan(mean), np.nan, -np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        standardized = mean / sd
    return dict(
        estimate=mean, se=sd, ci_low=low, ci_high=high,
        significant=(low > 0) | (high < 0),
        chance_to_win=stats.norm.cdf(standardized),
        risk_control=sd * _expected_shortfall(-standardized),
        risk_treatment=sd * _expected_shortfall(standardized),
    )
