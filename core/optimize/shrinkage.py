"""Empirical-Bayes shrinkage: rates of small groups pulled toward their parent group by an
amount the data chooses (the prior's strength is fitted by maximum marginal likelihood)."""
from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import betaln

MIN_CONCENTRATION = 0.5
MAX_CONCENTRATION = 1e5


def fit_beta_binomial_concentration(successes, trials, prior_mean) -> float:
    """Concentration c of Beta(c·p, c·(1−p)) priors around each group's parent rate p that
    maximises the beta-binomial marginal likelihood of the observed counts.

    Large c: the groups do not differ beyond binomial noise (shrink hard); small c: they do."""
    k = np.asarray(successes, float)
    n = np.asarray(trials, float)
    p = np.clip(np.asarray(prior_mean, float), 1e-6, 1 - 1e-6)
    keep = n > 0
    k, n, p = k[keep], n[keep], p[keep]
    if len(k) < 10:
        return MAX_CONCENTRATION

    def negative_log_likelihood(log_c: float) -> float:
        c = np.exp(log_c)
        a, b = c * p, c * (1 - p)
        return -float(np.sum(betaln(k + a, n - k + b) - betaln(a, b)))

    found = minimize_scalar(negative_log_likelihood, bounds=(np.log(MIN_CONCENTRATION), np.log(MAX_CONCENTRATION)),
                            method="bounded", options={"xatol": 1e-3})
    return float(np.exp(found.x))


def beta_binomial_mean(successes, trials, prior_mean, concentration: float) -> np.ndarray:
    """Posterior mean rate of each group: (k + c·p) / (n + c)."""
    k = np.asarray(successes, float)
    n = np.asarray(trials, float)
    p = np.asarray(prior_mean, float)
    return (k + concentration * p) / (n + concentration)


def group_rate(successes, trials, groups) -> np.ndarray:
    """Each row's group rate sum(k)/sum(n) (the parent rate shrinkage pulls toward)."""
    groups = np.asarray(groups)
    codes, inverse = np.unique(groups, return_inverse=True)
    k = np.bincount(inverse, np.asarray(successes, float), len(codes))
    n = np.bincount(inverse, np.asarray(trials, float), len(codes))
    overall = k.sum() / max(n.sum(), 1e-12)
    rate = np.where(n > 0, k / np.maximum(n, 1e-12), overall)
    return rate[inverse]


def shrink_rates(successes, trials, groups) -> tuple[np.ndarray, float]:
    """Rates shrunk toward their group's rate, with the fitted concentration."""
    parent = group_rate(successes, trials, groups)
    concentration = fit_beta_binomial_concentration(successes, trials, parent)
    return beta_binomial_mean(successes, trials, parent, concentration), concentration


def dirichlet_smooth(counts: np.ndarray, prior: np.ndarray, strength: float) -> np.ndarray:
    """(counts + strength·prior) / (sum(counts) + strength), row-wise for 2-D counts."""
    counts = np.asarray(counts, float)
    total = counts.sum(axis=-1, keepdims=True)
    return (counts + strength * prior) / (total + strength)
