"""Empirical-Bayes shrinkage: rates of small groups pulled toward their parent group by an
amount the data chooses (the prior's strength is fitted by maximum marginal likelihood)."""
from __future__ import annotations

import numpy as np
import pandas as pd
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


def shrink_normal(estimates, standard_errors, parent, parent_se=None, groups=None) -> tuple[np.ndarray, np.ndarray, float]:
    """Normal–normal empirical Bayes: each estimate x_i (standard error s_i) pulled toward its
    parent value μ_i (standard error `parent_se`, 0 if not given) by s_i² / (s_i² + τ²). τ², the
    spread of the true values around their parents, is DerSimonian and Laird's moment estimate
    with inverse-variance weights w = 1/s², within `groups` (the estimates sharing a parent; each
    group's weighted mean is fitted, so the degrees of freedom are k − groups): τ² = max(0,
    (Q − df) / (Σw − Σ_g Σ_g w² / Σ_g w)), Q = Σ w (x − x̄_g)². Without groups the parents are taken
    as known (df = k, denominator Σw). Returns the posterior means, their standard deviations
    sqrt(w_i s_i² + (1 − w_i)² parent_se_i²) with w_i = τ² / (τ² + s_i²), and τ.

    Why: a change chosen because its estimate looks best (or worst) among many is partly chosen
    for its noise (the winner's curse); the posterior is what the group really is, on average over
    the groups, and its interval keeps its coverage after the selection (Efron, "Tweedie's
    formula and selection bias", 2011)."""
    x = np.asarray(estimates, float)
    s = np.asarray(standard_errors, float)
    mu = np.asarray(parent, float)
    mu_se = np.zeros(len(x)) if parent_se is None else np.nan_to_num(np.asarray(parent_se, float))
    keep = np.isfinite(x) & np.isfinite(s) & (s > 0) & np.isfinite(mu)
    if keep.sum() < 3:  # too few groups to learn the spread from: leave them as they are
        return x.copy(), s.copy(), float("nan")
    w = 1.0 / s[keep] ** 2
    if groups is None:
        q, df, denominator = float(np.sum(w * (x[keep] - mu[keep]) ** 2)), int(keep.sum()), float(w.sum())
    else:
        frame = pd.DataFrame({"g": np.asarray(groups)[keep], "w": w, "wx": w * x[keep], "w2": w ** 2})
        sums = frame.groupby("g")[["w", "wx", "w2"]].sum()
        centre = (sums.wx / sums.w).reindex(frame.g).to_numpy()
        q = float(np.sum(w * (x[keep] - centre) ** 2))
        df = int(keep.sum()) - len(sums)
        denominator = float(sums.w.sum() - (sums.w2 / sums.w).sum())
    tau2 = max((q - df) / denominator, 0.0) if denominator > 0 else 0.0
    weight = np.where(s > 0, tau2 / (tau2 + s ** 2), 1.0)
    mean = mu + weight * (x - mu)
    sd = np.sqrt(weight * s ** 2 + (1 - weight) ** 2 * mu_se ** 2)
    return np.where(keep, mean, x), np.where(keep, sd, s), float(np.sqrt(tau2))
