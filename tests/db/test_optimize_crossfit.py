"""Honest cards on synthetic data whose truth is known (no database needed):

- a planted null segment is never proposed for dropping: when every member has the same true
  profit, segments fitted on an earlier window and judged on a later one yield no drop card,
  while fitting and judging on the same outcomes (what the app used to do) does propose drops —
  so the test can fail;
- the false-discovery control suppresses candidates whose impacts are pure noise;
- calibration: the 90 % intervals of segment profit per week cover the planted truth within the
  binomial error of 90 % over many synthetic segments;
- a planted winner offer is chosen on one half of the members and its reported effect, estimated
  on the other half, holds the planted effect within its 90 % interval.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from core.optimize import economics, offers, recommendations, segments

CATEGORIES = ["dining", "grocery", "travel"]
CHANNELS = ["email", "push"]


def _world(rng, members: int, p_convert: float, sends: int = 8):
    """Members who all have the same true conversion rate: outcomes of one campaign in an
    earlier and a later window (independent draws), and their behaviour in other campaigns."""
    ids = np.arange(1, members + 1)
    revenue_per_conversion = 40.0

    def window(campaign_id: int) -> pd.DataFrame:
        conversions = rng.binomial(sends, p_convert, members)
        opens = np.maximum(conversions, rng.binomial(sends, 0.3, members))
        clicks = np.maximum(conversions, rng.binomial(opens, 0.3))
        revenue = conversions * revenue_per_conversion
        return pd.DataFrame({"campaign_id": campaign_id, "member_id": ids, "sends": sends, "opens": opens,
                             "clicks": clicks, "conversions": conversions, "revenue": revenue.astype(float),
                             "reward_cost": 0.1 * revenue,
                             "last_engaged_at": pd.Timestamp("2026-10-01", tz="UTC")
                             - pd.to_timedelta(rng.integers(0, 60, members), unit="D")})
    return window(1), window(1)


def _activity(outcomes: pd.DataFrame, rng) -> pd.DataFrame:
    """Behaviour per member, channel and category (what segments are fitted on)."""
    return outcomes.assign(channel=rng.choice(CHANNELS, len(outcomes)), category=rng.choice(CATEGORIES, len(outcomes)))


def _drop_candidates(features_from: pd.DataFrame, judged_on: pd.DataFrame, rng) -> tuple[list[dict], dict]:
    campaigns = pd.DataFrame({"campaign_id": [1], "cost_per_send": [0.5], "status": ["live"], "name": ["Synthetic"],
                              "segment": ["active"], "channel": ["email"]})
    recent = pd.DataFrame({"campaign_id": [1], "sends": [judged_on.sends.sum()], "weeks_observed": [4.0],
                           "revenue": [judged_on.revenue.sum()], "reward_cost": [judged_on.reward_cost.sum()]})
    ids = judged_on.member_id.unique()
    features = segments.member_features(_activity(features_from, rng), ids, pd.Timestamp("2026-10-01", tz="UTC"), 90)
    fitted = segments.fit(features, seed=1)
    money = economics.campaign_economics(judged_on, campaigns, recent, 28)
    by_segment = economics.campaign_economics(judged_on, campaigns, recent, 28, by="segment_key", labels=fitted.labels)
    ctx = recommendations.Context(campaigns, pd.DataFrame(), pd.DataFrame({"member_id": ids}), judged_on, money,
                                  by_segment, None, None, {}, {}, fitted.labels,
                                  dict(zip(fitted.profiles.segment_key, fitted.profiles.name)), {}, rng)
    return recommendations.select(recommendations.segment_drop_cards(ctx) + recommendations.pause_cards(ctx))


def test_a_null_segment_is_never_proposed_for_dropping():
    """Every member converts at 2 % per send: a send earns 0.02 × $36 = $0.72 against $0.50 of
    cost (ROI about +30 %). No segment truly loses money, so no drop card may be shown (3 seeds)."""
    for seed in range(3):
        rng = np.random.default_rng(seed)
        earlier, later = _world(rng, 2000, 0.02)
        shown, summary = _drop_candidates(earlier, later, rng)
        assert [c for c in shown if c["kind"] == "segment_drop"] == [], (seed, summary)
        assert summary["candidates"] >= 3  # segments were weighed, just not proposed


def test_judging_segments_on_their_own_outcomes_would_propose_drops():
    """The same pipeline fed with one window for both fitting and judging (the old selection on
    the outcome) finds "members who did not convert" and proposes dropping them."""
    rng = np.random.default_rng(0)
    earlier, _ = _world(rng, 2000, 0.02)
    shown, _ = _drop_candidates(earlier, earlier, rng)
    assert any(c["kind"] == "segment_drop" for c in shown)


def test_benjamini_hochberg_suppresses_noise_and_keeps_strong_effects():
    rng = np.random.default_rng(3)
    p_null = rng.uniform(size=200)
    p_strong = np.full(10, 1e-4)
    found = recommendations.benjamini_hochberg(np.r_[p_null, p_strong], 0.1)
    assert found[200:].all()
    assert found[:200].sum() <= 5
    # Against an independent implementation (statsmodels' is not a dependency: the step-up rule).
    p = np.r_[p_null, p_strong]
    order = np.sort(p)
    k = np.max(np.flatnonzero(order <= 0.1 * np.arange(1, len(p) + 1) / len(p))) + 1
    assert found.sum() == k


def test_confidence_is_never_certainty():
    mean, low, high, confidence = recommendations.summarise(np.full(400, 5.0))
    assert confidence == recommendations.MAX_CONFIDENCE < 1
    assert recommendations.p_value(np.full(400, 5.0)) == 1 / 401


def test_segment_profit_intervals_cover_the_planted_truth_at_their_level():
    """Calibration: many synthetic campaign × segment groups, each with its own planted
    conversion rate; the share of 90 % intervals (normal draws of profit per week, as the cards
    use) that contain the planted profit per week is within binomial error of 90 %."""
    rng = np.random.default_rng(11)
    groups, members, sends = 300, 150, 6
    p_true = rng.uniform(0.005, 0.05, groups)
    cost_per_send, basket = 0.3, 30.0
    rows = []
    for g in range(groups):
        conversions = rng.binomial(sends, p_true[g], members)
        revenue = np.array([rng.lognormal(np.log(basket) - 0.125, 0.5, k).sum() for k in conversions])
        rows.append(pd.DataFrame({"campaign_id": 1, "member_id": g * members + np.arange(members), "sends": sends,
                                  "opens": conversions, "clicks": conversions, "conversions": conversions,
                                  "revenue": revenue, "reward_cost": 0.0, "group": g}))
    outcomes = pd.concat(rows, ignore_index=True)
    campaigns = pd.DataFrame({"campaign_id": [1], "cost_per_send": [cost_per_send]})
    weekly_sends = float(outcomes.sends.sum()) / 4
    recent = pd.DataFrame({"campaign_id": [1], "sends": [outcomes.sends.sum()], "weeks_observed": [4.0],
                           "revenue": [outcomes.revenue.sum()], "reward_cost": [0.0]})
    labels = outcomes.drop_duplicates("member_id").set_index("member_id").group
    money = economics.campaign_economics(outcomes.drop(columns="group"), campaigns, recent, 28, by="segment_key",
                                         labels=labels)
    share = money.sends / money.sends.sum()
    truth = (p_true[money.segment_key.astype(int)] * basket - cost_per_send) * share * weekly_sends
    draws = economics.normal_draws(money.profit_per_week, money.profit_per_week_se, 2000, rng)
    low, high = np.percentile(draws, recommendations.INTERVAL, axis=0)
    covered = ((truth.to_numpy() >= low) & (truth.to_numpy() <= high)).mean()
    error = 2.6 * np.sqrt(0.9 * 0.1 / groups)  # 99 % binomial band around 90 %
    assert abs(covered - 0.9) <= error, covered


def _offer_world(rng, per_cell: int = 400):
    """Campaigns (one offer each) over two segments; the planted truth: P(conversion | send) =
    base(segment) × 2 for the 'percent' reward in segment 'active' (its best type), and travel
    baskets earn the most. Returns the cells per member half and the planted P(conversion)."""
    base = {"active": 0.02, "lapsed": 0.01}
    offer_rows = []
    for i, (category, reward_type, value) in enumerate(
            [(c, t, v) for c in CATEGORIES for t, v in (("percent", 5.0), ("fixed", 3.0))], start=1):
        offer_rows.append({"offer_id": i, "name": f"{category} {reward_type}", "category": category,
                           "reward_type": reward_type, "reward_value": value})
    offer_frame = pd.DataFrame(offer_rows)

    def p_convert(segment: str, reward_type: str) -> float:
        return base[segment] * (2.0 if (segment == "active" and reward_type == "percent") else 1.0)

    rows = []
    campaign_id = 0
    for offer in offer_frame.itertuples():
        for repeat in range(3):
            campaign_id += 1
            for segment in base:
                for device in ("ios", "android"):
                    for half in (0, 1):
                        n = per_cell
                        p = p_convert(segment, offer.reward_type)
                        clicks = rng.binomial(n, 0.2)
                        conversions = rng.binomial(clicks, min(p / 0.2, 1.0))
                        rows.append({"campaign_id": campaign_id, "segment": segment, "device": device,
                                     "channel": "email", "category": offer.category,
                                     "reward_type": offer.reward_type, "reward_value": offer.reward_value,
                                     "offer_id": offer.offer_id, "sends": n, "clicks": clicks,
                                     "conversions": conversions, "half": half})
    return offer_frame, pd.DataFrame(rows), p_convert


def test_a_planted_winner_offer_is_chosen_and_its_effect_is_within_its_interval():
    rng = np.random.default_rng(5)
    offer_frame, cells, p_convert = _offer_world(rng)
    values = pd.DataFrame({"category": np.repeat(CATEGORIES, 200),
                           "revenue": np.r_[rng.lognormal(np.log(40) - 0.125, 0.5, 200),
                                            rng.lognormal(np.log(40) - 0.125, 0.5, 200),
                                            rng.lognormal(np.log(40) - 0.125, 0.5, 200)]})
    space = (["active", "lapsed"], ["email"], CATEGORIES, ["android", "ios"])
    keys = ["campaign_id", "segment", "device", "channel", "category", "reward_type", "reward_value"]
    select = offers.fit(cells[cells.half == 0].groupby(keys, as_index=False)[["sends", "clicks", "conversions"]].sum(),
                        values, *space, bootstrap=0)
    estimate = offers.fit(cells[cells.half == 1].groupby(keys, as_index=False)[["sends", "clicks", "conversions"]].sum(),
                          values, *space, bootstrap=30, seed=1)
    current = offer_frame[(offer_frame.category == "dining") & (offer_frame.reward_type == "fixed")].iloc[0]
    campaign = pd.Series({"campaign_id": 99, "channel": "email", "offer_id": int(current.offer_id),
                          "cost_per_send": 0.05, "segment": "active"})
    audience = pd.DataFrame({"segment": "active", "device": ["ios", "android"], "members": [500, 500]})
    chosen, chosen_profit = offers.score_offers(select, campaign, offer_frame, audience)
    ids = chosen.offer_id.to_numpy()
    mask = ids == int(current.offer_id)
    pick = int(ids[np.argmax(np.where(mask, -np.inf, chosen_profit[0]))])
    assert offer_frame.set_index("offer_id").loc[pick, "reward_type"] == "percent"  # the planted winner type
    measured, profit = offers.score_offers(estimate, campaign, offer_frame, audience)
    where = {int(o): i for i, o in enumerate(measured.offer_id)}
    gain = profit[1:, where[pick]] - profit[1:, where[int(current.offer_id)]]
    low, high = np.percentile(gain, recommendations.INTERVAL)
    new = offer_frame.set_index("offer_id").loc[pick]
    margin_new = 40.0 * (1 - new.reward_value / 100)
    margin_old = 40.0 - float(np.mean(np.minimum(current.reward_value, rng.lognormal(np.log(40) - 0.125, 0.5, 100_000))))
    planted = p_convert("active", "percent") * margin_new - p_convert("active", "fixed") * margin_old
    assert low <= planted <= high, (low, planted, high)
