"""Best send time per member: open probability by member-local hour (and weekday), estimated
from sends and the opens that followed them.

Model (a latent-class binomial model fitted by EM):

    P(open | send s to member m in campaign c at local hour h, weekday d)
        = u_m · q_c · w_{segment(m), d} · K(dist(h, h*_m))

- h*_m ∈ 0..23 is the member's unknown peak hour; K(0), K(1), K(2) are the learned open
  multipliers at the peak, one hour off and two hours off (K(≥3) = 1), dist on a 24-h circle;
- q_c is each campaign's open rate away from peak hours (it absorbs channel, creative and
  audience), w the segment's weekday factor, u_m the member's overall responsiveness, shrunk
  toward 1 with a Gamma prior whose strength is estimated from the spread between members;
- the prior over h*_m is the member's segment's distribution of peak hours, itself shrunk
  toward everyone's (Dirichlet, LAMBDA members' worth).

Because every send enters with the hour it was sent at, a member who was only ever sent at
08:00 is not "an 08:00 person": hours never tried keep the segment prior, and the peak can fall
on an hour adjacent to the tried ones (K(1) > 1 makes the neighbours informative).
Members with fewer than MIN_PERSONAL_SENDS sends, or whose posterior puts less than
PERSONAL_CONFIDENCE within an hour of their own best hour, fall back to their segment's best hour. Confidence = posterior probability that the best hour is the
member's peak hour.

Strictly it is an EM-like fit, not a pure EM: the E-step is the exact binomial posterior over
the peak hour, but the M-steps are closed-form ratio updates (opens / expected opens, exact for
a Poisson likelihood, close to it for rates of a few per cent), the Gamma strength is re-estimated
by moments each iteration and K is rescaled so that K(3) = 1. So the log-likelihood it reports
need not rise at every iteration (on the demo it was seen to peak after about three and then
fall); the loop stops when it changes by less than TOLERANCE of itself, and the fit is
judged by its held-out comparisons (docs/optimization.md), not by that number.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from core.optimize.evaluation import Interval, mantel_haenszel_rate_ratio, wilson
from core.optimize.shrinkage import shrink_rates

HOURS = 24
MAX_DISTANCE = 3              # K(d) is learned for d = 0, 1, 2; 1 beyond
LAMBDA = 50.0                 # members' worth of everyone's peak-hour distribution in each segment's prior
MIN_PERSONAL_SENDS = 10
PERSONAL_CONFIDENCE = 0.6     # posterior mass within an hour of the member's own best hour needed to trust it
MAX_ITERATIONS = 60
TOLERANCE = 2e-6              # relative change of the log-likelihood that ends EM
MAX_PROBABILITY = 0.99


def _distance_matrix() -> np.ndarray:
    hours = np.arange(HOURS)
    d = np.abs(hours[:, None] - hours[None, :])
    return np.minimum(np.minimum(d, HOURS - d), MAX_DISTANCE)  # [send hour, peak hour]


DISTANCE = _distance_matrix()


@dataclass
class SendTimeFit:
    member_ids: np.ndarray
    segments: np.ndarray                 # segment per member
    segment_names: np.ndarray
    posterior: np.ndarray                # members × 24: P(peak hour = h)
    lift: np.ndarray                     # members × 24: expected open multiplier when sent at h
    responsiveness: np.ndarray           # u_m
    kernel: np.ndarray                   # K(0..MAX_DISTANCE)
    campaign_rate: pd.Series             # q_c by campaign_id
    weekday_factor: np.ndarray           # segments × 7 (Monday first), mean 1
    segment_prior: np.ndarray            # segments × 24
    sends: np.ndarray
    opens: np.ndarray
    clicks: np.ndarray
    hours_tried: np.ndarray
    click_per_open: np.ndarray
    iterations: int
    log_likelihood: float
    gamma_strength: float
    segment_rate: np.ndarray = field(default=None)  # sends-weighted q_c of each segment's campaigns

    @property
    def personal(self) -> np.ndarray:
        """Members whose own history pins their peak hour down to within an hour (else: the
        segment's hour)."""
        own = self.lift.argmax(axis=1)
        rows = np.arange(len(own))
        near = sum(self.posterior[rows, (own + step) % HOURS] for step in (-1, 0, 1))
        return (self.sends >= MIN_PERSONAL_SENDS) & (near >= PERSONAL_CONFIDENCE)

    @property
    def segment_index(self) -> np.ndarray:
        return np.searchsorted(self.segment_names, self.segments)

    def segment_lift(self) -> np.ndarray:
        """segments × 24: mean expected open multiplier of the segment's members."""
        index = self.segment_index
        out = np.zeros((len(self.segment_names), HOURS))
        np.add.at(out, index, self.lift)
        return out / np.maximum(np.bincount(index, minlength=len(self.segment_names)), 1)[:, None]

    def segment_best_hour(self) -> np.ndarray:
        return self.segment_lift().argmax(axis=1)

    def best_hour(self) -> np.ndarray:
        """The member's own best hour where the estimate is personal, else the segment's."""
        own = self.lift.argmax(axis=1)
        return np.where(self.personal, own, self.segment_best_hour()[self.segment_index])

    def confidence(self) -> np.ndarray:
        best = self.best_hour()
        return self.posterior[np.arange(len(best)), best]

    def open_by_hour(self) -> np.ndarray:
        """members × 24: open probability per send at each local hour, for a typical campaign of
        the member's segment on an average weekday."""
        base = self.segment_rate[self.segment_index] * self.responsiveness
        return np.minimum(base[:, None] * self.lift, MAX_PROBABILITY)

    def member_frame(self) -> pd.DataFrame:
        best = self.best_hour()
        by_hour = self.open_by_hour()
        return pd.DataFrame({
            "member_id": self.member_ids, "segment": self.segments, "best_hour": best.astype(np.int16),
            "confidence": self.confidence().astype(np.float32), "personal": self.personal,
            "sends": self.sends.astype(int), "opens": self.opens.astype(int),
            "open_by_hour": [row.astype(np.float32).round(5).tolist() for row in by_hour],
            "click_per_open": self.click_per_open.astype(np.float32),
        })

    def segment_frame(self) -> pd.DataFrame:
        index = self.segment_index
        lift = self.segment_lift()
        personal = np.bincount(index, weights=self.personal.astype(float), minlength=len(self.segment_names))
        members = np.bincount(index, minlength=len(self.segment_names))
        return pd.DataFrame({
            "segment": self.segment_names, "best_hour": lift.argmax(axis=1).astype(np.int16),
            "members": members.astype(int), "personal_members": personal.astype(int),
            "hour_prior": [row.astype(np.float32).round(5).tolist() for row in self.segment_prior],
            "open_by_hour": [np.minimum(self.segment_rate[i] * lift[i], MAX_PROBABILITY).round(5).tolist()
                             for i in range(len(self.segment_names))],
            "weekday_factor": [row.round(4).tolist() for row in self.weekday_factor],
        })


def fit(cells: pd.DataFrame, members: pd.DataFrame, progress=None, start: SendTimeFit | None = None,
        max_iterations: int = MAX_ITERATIONS) -> SendTimeFit:
    """Fit the model on send cells (member_id, campaign_id, local_hour, local_weekday, sends,
    opens, clicks) for every member in `members` (member_id, segment). `start`: an earlier fit
    (e.g. on fewer weeks) whose kernel, rates and priors EM starts from."""
    say = progress or (lambda fraction, message: None)
    member_ids = members.member_id.to_numpy(np.int64)
    segments = members.segment.astype(str).to_numpy()
    segment_names, seg_of_member = np.unique(segments, return_inverse=True)
    n_members, n_segments = len(member_ids), len(segment_names)

    cells = cells[cells.sends > 0]
    m = pd.Index(member_ids).get_indexer(cells.member_id.to_numpy())
    known = m >= 0
    cells, m = cells[known], m[known]
    campaign_ids, c = np.unique(cells.campaign_id.to_numpy(), return_inverse=True)
    h = cells.local_hour.to_numpy(int)
    d = cells.local_weekday.to_numpy(int)
    n = cells.sends.to_numpy(float)
    k = cells.opens.to_numpy(float)
    s = seg_of_member[m]
    flat = m * HOURS + h
    opens_mh = np.bincount(flat, k, n_members * HOURS).reshape(n_members, HOURS)
    sends_mh = np.bincount(flat, n, n_members * HOURS).reshape(n_members, HOURS)
    member_opens = opens_mh.sum(axis=1)
    member_sends = sends_mh.sum(axis=1)

    kernel = np.array([1.5, 1.2, 1.05, 1.0])[: MAX_DISTANCE + 1]
    rate = np.full(len(campaign_ids), k.sum() / max(n.sum(), 1.0))
    weekday = np.ones((n_segments, 7))
    prior = np.full((n_segments, HOURS), 1.0 / HOURS)
    responsiveness = np.ones(n_members)
    if start is not None and list(start.segment_names) == list(segment_names):
        kernel = start.kernel.copy()
        weekday = start.weekday_factor.copy()
        prior = start.segment_prior.copy()
        rate = start.campaign_rate.reindex(campaign_ids).fillna(float(rate[0]) if len(rate) else 0.0).to_numpy()
        if len(start.member_ids) == n_members and np.array_equal(start.member_ids, member_ids):
            responsiveness = start.responsiveness.copy()
    strength = 1e4
    previous = -np.inf
    log_likelihood = -np.inf
    iteration = 0
    segment_day = s * 7 + d                                     # flat index into weekday
    campaign_opens = np.bincount(c, k, len(campaign_ids))
    segment_day_opens = np.bincount(segment_day, k, n_segments * 7).reshape(n_segments, 7)
    members_per_segment = np.bincount(seg_of_member, minlength=n_segments)
    for iteration in range(1, max_iterations + 1):
        day_factor = weekday.ravel()[segment_day]
        base = n * rate[c] * day_factor                         # expected opens per cell at K = 1, u = 1
        expected_mh = np.bincount(flat, base, n_members * HOURS).reshape(n_members, HOURS)
        mean_p = np.where(sends_mh > 0, expected_mh / np.maximum(sends_mh, 1e-12), 0.0)
        posterior, log_likelihood = _e_step(opens_mh, sends_mh, mean_p * responsiveness[:, None], kernel,
                                            np.log(prior[seg_of_member]))
        lift = posterior @ kernel[DISTANCE].T                  # members × send hour
        expected = (expected_mh * lift).sum(axis=1)
        strength = _gamma_strength(member_opens, expected, n, (base / n) * lift.ravel()[flat], m, n_members)
        responsiveness = (strength + member_opens) / (strength + expected)
        kernel = _kernel_update(opens_mh, expected_mh * responsiveness[:, None], posterior)
        lift = posterior @ kernel[DISTANCE].T
        multiplier = (responsiveness[:, None] * lift).ravel()[flat]
        rate = campaign_opens / np.maximum(np.bincount(c, n * day_factor * multiplier, len(campaign_ids)), 1e-12)
        den = np.bincount(segment_day, n * rate[c] * multiplier, n_segments * 7).reshape(n_segments, 7)
        weekday = np.where(den > 0, segment_day_opens / np.maximum(den, 1e-12), 1.0)
        weekday = weekday / weekday.mean(axis=1, keepdims=True)
        everyone = posterior.mean(axis=0) + 1e-4
        everyone /= everyone.sum()
        by_segment = np.zeros((n_segments, HOURS))
        np.add.at(by_segment, seg_of_member, posterior)
        prior = (by_segment + LAMBDA * everyone) / (members_per_segment[:, None] + LAMBDA)
        say(min(iteration / 30, 1.0), f"send time: EM iteration {iteration}, log-likelihood {log_likelihood:,.0f}")
        if np.isfinite(previous) and abs(log_likelihood - previous) < TOLERANCE * abs(previous):
            break
        previous = log_likelihood

    lift = posterior @ kernel[DISTANCE].T
    weights = np.bincount(s, n, n_segments)
    segment_rate = np.bincount(s, n * rate[c], n_segments)
    segment_rate = np.where(weights > 0, segment_rate / np.maximum(weights, 1e-12), rate.mean() if len(rate) else 0.0)
    member_clicks = np.bincount(m, cells.clicks.to_numpy(float), n_members)
    click_per_open, _ = shrink_rates(member_clicks, member_opens, seg_of_member)
    hours_tried = (sends_mh > 0).sum(axis=1)
    return SendTimeFit(member_ids, segments, segment_names, posterior, lift, responsiveness, kernel,
                       pd.Series(rate, index=campaign_ids), weekday, prior, member_sends, member_opens,
                       member_clicks, hours_tried, np.nan_to_num(click_per_open), iteration, float(log_likelihood),
                       float(strength), segment_rate)


BOOTSTRAP_REFITS = 4          # member-clustered refits for the cards' model uncertainty (few: EM is the slow part)
BOOTSTRAP_ITERATIONS = 6      # EM iterations of a refit, warm-started from the full fit


def bootstrap_fits(cells: pd.DataFrame, members: pd.DataFrame, start: SendTimeFit, refits: int = BOOTSTRAP_REFITS,
                   iterations: int = BOOTSTRAP_ITERATIONS, seed: int = 0, progress=None) -> list[SendTimeFit]:
    """Refits on resamples clustered by member (each member's sends and opens weighted by a
    Poisson(1) count, the bootstrap's number of copies), warm-started from `start`: the spread of
    what they predict is the model's uncertainty (campaign rates, hour lifts, responsiveness and
    peak hours re-estimated together)."""
    say = progress or (lambda fraction, message: None)
    rng = np.random.default_rng(seed)
    member_ids = members.member_id.to_numpy(np.int64)
    out = []
    for b in range(refits):
        weight = pd.Series(rng.poisson(1.0, len(member_ids)).astype(float), index=member_ids)
        w = weight.reindex(cells.member_id).fillna(0.0).to_numpy()
        resampled = cells.assign(sends=cells.sends * w, opens=cells.opens * w, clicks=cells.clicks * w)
        out.append(fit(resampled[w > 0], members, start=start, max_iterations=iterations))
        say((b + 1) / refits, f"send time: bootstrap refit {b + 1} of {refits}")
    return out


def _e_step(opens_mh, sends_mh, base_p, kernel, log_prior) -> tuple[np.ndarray, float]:
    """Posterior over peak hours per member (binomial likelihood per member and send hour).

    Only the (member, hour) pairs with sends contribute, so the work is pairs × 24 rather than
    members × 24 × 24; a sparse member-by-pair matrix sums the pairs per member."""
    n_members = len(opens_mh)
    member, hour = np.nonzero(sends_mh)
    k = opens_mh[member, hour][:, None]
    misses = (sends_mh[member, hour] - opens_mh[member, hour])[:, None]
    p = np.clip(base_p[member, hour][:, None] * kernel[DISTANCE[hour]], 1e-9, MAX_PROBABILITY)  # pairs × peak hour
    pair_log_lik = k * np.log(p) + misses * np.log1p(-p)
    by_member = sparse.csr_matrix((np.ones(len(member)), (member, np.arange(len(member)))),
                                  shape=(n_members, len(member)))
    log_lik = np.asarray(by_member @ pair_log_lik) + log_prior
    top = log_lik.max(axis=1, keepdims=True)
    weights = np.exp(log_lik - top)
    norm = weights.sum(axis=1, keepdims=True)
    return weights / norm, float((top[:, 0] + np.log(norm[:, 0])).sum())


def _kernel_update(opens_mh, expected_mh, posterior) -> np.ndarray:
    """K(j) = opens / expected opens over (member, send hour, peak hour) at distance j."""
    kernel = np.ones(MAX_DISTANCE + 1)
    num = np.empty(MAX_DISTANCE + 1)
    den = np.empty(MAX_DISTANCE + 1)
    for j in range(MAX_DISTANCE + 1):
        weight = posterior @ (DISTANCE == j).T.astype(float)   # members × send hour
        num[j] = (opens_mh * weight).sum()
        den[j] = (expected_mh * weight).sum()
    kernel = np.where(den > 0, num / np.maximum(den, 1e-12), 1.0)
    return kernel / kernel[MAX_DISTANCE]


def _gamma_strength(member_opens, member_expected, sends, p_cell, m, n_members) -> float:
    """Method-of-moments strength A of the Gamma(A, A) prior on responsiveness: the spread of
    observed/expected opens between members beyond the binomial noise."""
    variance = np.bincount(m, sends * np.clip(p_cell, 0, 1) * (1 - np.clip(p_cell, 0, 1)), n_members)
    keep = member_expected > 5
    if keep.sum() < 30:
        return 1e4
    ratio = member_opens[keep] / member_expected[keep]
    excess = np.mean((ratio - 1) ** 2 - variance[keep] / member_expected[keep] ** 2)
    return float(np.clip(1.0 / excess, 1.0, 1e4)) if excess > 0 else 1e4


@dataclass(frozen=True)
class HeldOutCheck:
    """Open rate of held-out sends that went out at the member's recommended hour, against the
    other held-out sends; the ratio is pooled within campaigns (Mantel–Haenszel)."""
    sends_at_best: int
    sends_other: int
    open_rate_at_best: Interval
    open_rate_other: Interval
    rate_ratio: Interval
    personal_only_ratio: Interval

    def as_dict(self) -> dict:
        return {"sends_at_best": self.sends_at_best, "sends_other": self.sends_other,
                "open_rate_at_best": self.open_rate_at_best.as_dict(), "open_rate_other": self.open_rate_other.as_dict(),
                "rate_ratio": self.rate_ratio.as_dict(), "personal_only_ratio": self.personal_only_ratio.as_dict()}


def evaluate_held_out(fitted: SendTimeFit, held_out_cells: pd.DataFrame) -> HeldOutCheck:
    best = pd.Series(fitted.best_hour(), index=fitted.member_ids)
    personal = pd.Series(fitted.personal, index=fitted.member_ids)
    cells = held_out_cells[held_out_cells.member_id.isin(best.index)]
    at_best = cells.local_hour.to_numpy() == best.reindex(cells.member_id).to_numpy()
    is_personal = personal.reindex(cells.member_id).to_numpy()

    def pooled(mask) -> Interval:
        frame = cells[mask].assign(at_best=at_best[mask])
        table = frame.groupby(["campaign_id", "at_best"])[["sends", "opens"]].sum().unstack("at_best", fill_value=0)
        if (True not in table.columns.get_level_values(1)) or (False not in table.columns.get_level_values(1)):
            return Interval(float("nan"), float("nan"), float("nan"))
        return mantel_haenszel_rate_ratio(table[("opens", True)], table[("sends", True)],
                                          table[("opens", False)], table[("sends", False)])

    everyone = np.ones(len(cells), bool)
    return HeldOutCheck(
        int(cells.sends[at_best].sum()), int(cells.sends[~at_best].sum()),
        wilson(cells.opens[at_best].sum(), cells.sends[at_best].sum()),
        wilson(cells.opens[~at_best].sum(), cells.sends[~at_best].sum()),
        pooled(everyone), pooled(is_personal.astype(bool)))
