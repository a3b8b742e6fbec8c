"""Held-out evaluation metrics shared by the models: stratified rate ratios, hit rate at k,
Qini curves and AUUC for uplift models, and gain/lift for targeting — each with an interval."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

Z95 = float(stats.norm.ppf(0.975))


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float

    def as_dict(self) -> dict:
        return {"estimate": self.estimate, "low": self.low, "high": self.high}


def wilson(successes: float, trials: float) -> Interval:
    """Proportion with its 95 % Wilson score interval."""
    if trials <= 0:
        return Interval(float("nan"), float("nan"), float("nan"))
    p = successes / trials
    denominator = 1 + Z95 ** 2 / trials
    centre = (p + Z95 ** 2 / (2 * trials)) / denominator
    half = Z95 * np.sqrt(p * (1 - p) / trials + Z95 ** 2 / (4 * trials ** 2)) / denominator
    return Interval(float(p), float(centre - half), float(centre + half))


def mantel_haenszel_rate_ratio(events_a, trials_a, events_b, trials_b) -> Interval:
    """Risk ratio of group a against group b pooled over strata (arrays, one entry per
    stratum), with the Greenland–Robins 95 % interval. Strata (e.g. campaigns) remove
    differences between them from the comparison."""
    a, n1, b, n0 = (np.asarray(x, float) for x in (events_a, trials_a, events_b, trials_b))
    keep = (n1 > 0) & (n0 > 0)
    a, n1, b, n0 = a[keep], n1[keep], b[keep], n0[keep]
    n = n1 + n0
    r = np.sum(a * n0 / n)
    s = np.sum(b * n1 / n)
    if r <= 0 or s <= 0:
        return Interval(float("nan"), float("nan"), float("nan"))
    ratio = r / s
    m = a + b
    variance = np.sum((n1 * n0 * m - a * b * n) / n ** 2) / (r * s)
    half = Z95 * np.sqrt(max(variance, 0.0))
    return Interval(float(ratio), float(np.exp(np.log(ratio) - half)), float(np.exp(np.log(ratio) + half)))


def hit_rate_at_k(scores: np.ndarray, relevant: np.ndarray, k: int = 3) -> Interval:
    """Share of rows (members with anything relevant) whose top-k columns by score contain a
    relevant column; ties broken by column order. Wilson interval."""
    scores = np.asarray(scores, float)
    relevant = np.asarray(relevant, bool)
    rows = relevant.any(axis=1)
    top = np.argsort(-scores[rows], axis=1, kind="stable")[:, :k]
    hits = np.take_along_axis(relevant[rows], top, axis=1).any(axis=1)
    return wilson(float(hits.sum()), float(rows.sum()))


def qini_curve(uplift, treatment, outcome) -> tuple[np.ndarray, np.ndarray]:
    """Qini curve of targeting in order of predicted uplift: at each number targeted k,
    Q(k) = Y_T(k) − Y_C(k)·N_T(k)/N_C(k) (incremental outcome among the first k).
    Returns (share targeted 0..1, Q) with N + 1 points."""
    order = np.argsort(-np.asarray(uplift, float), kind="stable")
    t = np.asarray(treatment, float)[order]
    y = np.asarray(outcome, float)[order]
    n_t, n_c = np.cumsum(t), np.cumsum(1 - t)
    y_t, y_c = np.cumsum(y * t), np.cumsum(y * (1 - t))
    q = y_t - y_c * np.where(n_c > 0, n_t / np.maximum(n_c, 1), 0.0)
    q = np.r_[0.0, q]
    return np.linspace(0, 1, len(q)), q


def _tied_qini_points(uplift, treatment, outcome) -> tuple[np.ndarray, np.ndarray]:
    """Qini curve with a point only at the end of each group of tied scores (x = number
    targeted), as scikit-uplift draws it: within a tie the curve is a straight line."""
    order = np.argsort(-np.asarray(uplift, float), kind="mergesort")
    u = np.asarray(uplift, float)[order]
    t = np.asarray(treatment, float)[order]
    y = np.asarray(outcome, float)[order]
    ends = np.r_[np.flatnonzero(np.diff(u)), len(u) - 1]
    n_t = np.cumsum(t)[ends]
    n_all = ends + 1.0
    n_c = n_all - n_t
    y_t, y_c = np.cumsum(y * t)[ends], np.cumsum(y * (1 - t))[ends]
    q = y_t - y_c * np.divide(n_t, n_c, out=np.zeros_like(n_t), where=n_c != 0)
    return np.r_[0.0, n_all], np.r_[0.0, q]


def qini_coefficient_sklift(uplift, treatment, outcome) -> float:
    """The Qini coefficient on scikit-uplift's scale (its qini_auc_score with negative effects
    allowed): (area of the model's curve − area of random targeting) / (area of the perfect curve
    − area of random targeting), random targeting being the straight line to the end point and
    the perfect curve the one that ranks treated responders first and control responders last
    (score y·t − y·(1 − t)). 1 = perfect ranking, 0 = random. Our own qini_coefficient divides the
    same excess area by |Q(N)| instead (and x runs 0..1), so the two differ by a data-dependent
    factor; both are reported."""
    uplift, treatment, outcome = (np.asarray(a, float) for a in (uplift, treatment, outcome))
    x, q = _tied_qini_points(uplift, treatment, outcome)
    px, pq = _tied_qini_points(outcome * treatment - outcome * (1 - treatment), treatment, outcome)
    random_area = px[-1] * pq[-1] / 2
    perfect = float(np.trapezoid(pq, px)) - random_area
    actual = float(np.trapezoid(q, x)) - random_area
    return actual / perfect if perfect != 0 else float("nan")


@dataclass(frozen=True)
class QiniResult:
    auuc: float            # area under the Qini curve, per member targeted (x from 0 to 1)
    auuc_random: float     # the same for random targeting: half the total increment
    qini_coefficient: float  # (auuc − auuc_random) / |total increment|; 0 = random
    low: float             # 95 % bootstrap interval of the Qini coefficient
    high: float
    total_increment: float
    curve_x: np.ndarray
    curve_q: np.ndarray
    sklift_coefficient: float = float("nan")  # the same ranking on scikit-uplift's scale


def _areas(x: np.ndarray, q: np.ndarray) -> tuple[float, float, float]:
    area = float(np.trapezoid(q, x))
    random_area = float(q[-1] / 2)
    coefficient = (area - random_area) / max(abs(float(q[-1])), 1e-12)
    return area, random_area, coefficient


def qini(uplift, treatment, outcome, bootstrap: int = 200, seed: int = 0, points: int = 101) -> QiniResult:
    """Qini evaluation on held-out units, with a bootstrap over units (model fixed)."""
    uplift = np.asarray(uplift, float)
    treatment = np.asarray(treatment, int)
    outcome = np.asarray(outcome, float)
    x, q = qini_curve(uplift, treatment, outcome)
    area, random_area, coefficient = _areas(x, q)
    rng = np.random.default_rng(seed)
    draws = []
    n = len(uplift)
    for _ in range(bootstrap):
        pick = rng.integers(0, n, n)
        bx, bq = qini_curve(uplift[pick], treatment[pick], outcome[pick])
        draws.append(_areas(bx, bq)[2])
    low, high = (np.percentile(draws, [2.5, 97.5]) if draws else (np.nan, np.nan))
    sample = np.linspace(0, len(q) - 1, min(points, len(q))).astype(int)
    return QiniResult(area, random_area, coefficient, float(low), float(high), float(q[-1]), x[sample], q[sample],
                      qini_coefficient_sklift(uplift, treatment, outcome))


@dataclass(frozen=True)
class GainResult:
    top_share: float          # share of units targeted (e.g. the top decile)
    top_rate: Interval        # outcome rate among them
    rest_rate: Interval       # outcome rate among the others
    lift: float               # top_rate / overall rate (random targeting has lift 1)
    captured: float           # share of all positive outcomes in the targeted units


def top_share_gain(score, outcome, top_share: float = 0.1) -> GainResult:
    """Targeting the highest-scored `top_share` of held-out units against random targeting."""
    score = np.asarray(score, float)
    outcome = np.asarray(outcome, float)
    order = np.argsort(-score, kind="stable")
    cut = max(1, int(round(top_share * len(score))))
    top, rest = outcome[order[:cut]], outcome[order[cut:]]
    overall = outcome.mean()
    return GainResult(top_share, wilson(top.sum(), len(top)), wilson(rest.sum(), len(rest)),
                      float(top.mean() / overall) if overall > 0 else float("nan"),
                      float(top.sum() / outcome.sum()) if outcome.sum() > 0 else float("nan"))
