"""Recommendation cards built from one retrain's model outputs: change the send hour (per
member timing), swap the offer, add or drop a behavioural segment, pause a campaign that loses
money, shift budget between campaigns.

Every card carries: what to change and why (the numbers behind it), confidence = the
probability that its impact is positive, implementation ease by a stated rule (EASE), expected
impact in USD of profit per week with a 90 % interval, an 8-week projection of the campaign's
ROI with and without the change (mean and 90 % band), and the segment it applies to.
Impacts are Monte Carlo draws through every uncertain input, so the interval, the confidence
and the projection band agree with each other.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.optimize import offers as offer_model
from core.optimize.economics import normal_draws
from core.optimize.send_time import DISTANCE, HOURS, SendTimeFit

DRAWS = 400
INTERVAL = (5, 95)
PROJECTION_WEEKS = 8
MIN_CONFIDENCE = 0.8          # propose only changes whose impact is positive with this probability
MIN_IMPACT_PER_WEEK = 1.0     # USD
PAUSE_CONFIDENCE = 0.95       # a pause needs P(ROI < 0) at least this high
BUDGET_SHIFT_SHARE = 0.25     # share of the weaker campaign's weekly spend moved
MIN_SEGMENT_MEMBERS = 30
DEFAULT_HOLDOUT_SHARE = 0.10
LIVE = ("live",)

# The stated rule: a setting change is easy, a new offer medium, new creative hard.
EASE = {"send_time": "easy", "segment_add": "easy", "segment_drop": "easy", "pause": "easy",
        "budget": "easy", "offer": "medium", "creative": "hard"}
EASE_RULE = "A setting change (send hour, audience, status, budget) is easy, a new offer medium, new creative hard."
KIND_LABELS = {"send_time": "Per-member send time", "offer": "Swap offer", "segment_add": "Add segment",
               "segment_drop": "Drop segment", "pause": "Pause campaign", "budget": "Shift budget"}


@dataclass
class Context:
    """What the generators need from one retrain."""
    campaigns: pd.DataFrame          # opt_campaigns
    offers: pd.DataFrame             # opt_offers
    members: pd.DataFrame
    outcomes: pd.DataFrame
    economics: pd.DataFrame          # core.optimize.economics.campaign_economics per campaign
    segment_economics: pd.DataFrame  # the same per campaign × behavioural segment
    send_time: SendTimeFit
    offer_model: offer_model.OfferModel
    offer_profit_draws: dict         # campaign_id -> (offer_ids, draws × offers profit per send)
    offer_scores_by_campaign: dict   # campaign_id -> offers.score_offers frame
    segment_labels: pd.Series        # segment_key by member_id
    segment_names: dict              # segment_key -> name
    evaluations: dict                # model checks, for the evidence
    rng: np.random.Generator


def summarise(draws: np.ndarray) -> tuple[float, float, float, float]:
    """mean, 5th and 95th percentile, P(> 0) of impact draws."""
    draws = np.asarray(draws, float)
    mean = float(draws.mean())
    low, high = np.percentile(draws, INTERVAL)
    return mean, min(float(low), mean), max(float(high), mean), float((draws > 0).mean())


def usd(value: float, digits: int = 0) -> str:
    return f"{'-' if value < 0 else ''}${abs(value):,.{digits}f}"


def projection(impact_draws: np.ndarray, economics_row, cost_change_per_week: float = 0.0) -> dict:
    """The next PROJECTION_WEEKS weeks of the campaign, as it is and with the change: cumulative
    profit (mean and 90 % band) and ROI = profit / cost (the change's effect on cost included)."""
    weeks = np.arange(1, PROJECTION_WEEKS + 1)
    profit = float(economics_row.profit_per_week) if economics_row is not None else 0.0
    profit_se = float(economics_row.profit_per_week_se) if economics_row is not None else 0.0
    profit_se = profit_se if np.isfinite(profit_se) else 0.0
    cost = float(economics_row.cost_per_week) if economics_row is not None else 0.0
    rng = np.random.default_rng(0)
    base = profit + profit_se * rng.standard_normal(len(impact_draws))
    with_change = base + np.asarray(impact_draws, float)
    out = {"weeks": weeks.tolist(), "cost_per_week": cost, "cost_per_week_with_change": cost + cost_change_per_week}
    for name, values, spend in (("current", base, cost), ("with_change", with_change, cost + cost_change_per_week)):
        cumulative = values[:, None] * weeks[None, :]
        out[f"{name}_profit"] = cumulative.mean(axis=0).round(2).tolist()
        out[f"{name}_profit_low"] = np.percentile(cumulative, INTERVAL[0], axis=0).round(2).tolist()
        out[f"{name}_profit_high"] = np.percentile(cumulative, INTERVAL[1], axis=0).round(2).tolist()
        if spend > 1e-9:  # ROI is undefined for a campaign that spends nothing (e.g. paused)
            roi = values / spend
            out[f"{name}_roi"] = float(roi.mean())
            out[f"{name}_roi_low"], out[f"{name}_roi_high"] = (float(v) for v in np.percentile(roi, INTERVAL))
    return out


def card(kind: str, campaign, title: str, why: str, evidence: dict, change: dict, impact_draws: np.ndarray,
         economics_row, segment: str | None = None, holdout_share: float = DEFAULT_HOLDOUT_SHARE,
         cost_change_per_week: float = 0.0) -> dict | None:
    mean, low, high, confidence = summarise(impact_draws)
    if confidence < MIN_CONFIDENCE or mean < MIN_IMPACT_PER_WEEK:
        return None
    campaign_name = campaign["name"] if isinstance(campaign, pd.Series) else campaign.name
    return {
        "campaign_id": int(campaign.campaign_id), "kind": kind, "segment": segment or campaign.segment,
        "title": title, "confidence": confidence, "ease": EASE[kind],
        "impact_mean": mean, "impact_low": low, "impact_high": high, "holdout_share": holdout_share,
        "details": {"why": why, "evidence": evidence, "change": change, "unit": "USD profit per week",
                    "ease_rule": EASE_RULE, "projection": projection(impact_draws, economics_row, cost_change_per_week),
                    "campaign_name": campaign_name},
    }


def _economics(ctx: Context, campaign_id: int):
    rows = ctx.economics[ctx.economics.campaign_id == campaign_id]
    return rows.iloc[0] if len(rows) else None


def _margin_per_open_draws(row, draws: int, rng) -> np.ndarray:
    """What one more open earns (revenue − reward cost per open), with member-level noise."""
    opens = max(float(row.opens), 1.0)
    per_open = float(row.revenue - row.reward_cost) / opens
    se = abs(per_open) / np.sqrt(max(float(row.conversions), 1.0))
    return per_open + se * rng.standard_normal(draws)


def send_time_cards(ctx: Context) -> list[dict]:
    fit = ctx.send_time
    index = pd.Index(fit.member_ids)
    best = fit.best_hour()
    cdf = np.cumsum(fit.posterior, axis=1)
    cards = []
    for campaign in ctx.campaigns[ctx.campaigns.status.isin(LIVE)].itertuples():
        row = _economics(ctx, campaign.campaign_id)
        if row is None or row.weekly_sends <= 0 or campaign.campaign_id not in fit.campaign_rate.index:
            continue
        audience = ctx.outcomes.loc[ctx.outcomes.campaign_id == campaign.campaign_id, "member_id"].to_numpy()
        rows = index.get_indexer(audience)
        rows = rows[rows >= 0]
        if len(rows) < MIN_SEGMENT_MEMBERS:
            continue
        h0 = int(campaign.send_hour)
        q = float(fit.campaign_rate[campaign.campaign_id])
        u = fit.responsiveness[rows]
        peak = (ctx.rng.random((DRAWS, len(rows), 1)) > cdf[rows][None]).sum(axis=2).clip(max=HOURS - 1)
        kernel = fit.kernel
        gain = u[None] * q * (kernel[DISTANCE[best[rows][None], peak]] - kernel[DISTANCE[h0, peak]])
        sends_per_member_week = float(row.weekly_sends) / len(rows)
        extra_opens = gain.sum(axis=1) * sends_per_member_week
        impact = extra_opens * _margin_per_open_draws(row, DRAWS, ctx.rng)
        moved = best[rows] != h0
        now_rate = float(np.mean(u * q * fit.lift[rows, h0]))
        new_rate = float(np.mean(u * q * fit.lift[rows, best[rows]]))
        hours = pd.Series(best[rows]).value_counts().sort_index()
        evidence = {
            "current_send_hour": h0, "members": int(len(rows)), "members_moved": int(moved.sum()),
            "personal_estimates": int(fit.personal[rows].sum()),
            "open_rate_now": now_rate, "open_rate_with_timing": new_rate,
            "extra_opens_per_week": float(extra_opens.mean()), "weekly_sends": float(row.weekly_sends),
            "best_hour_counts": {int(h): int(c) for h, c in hours.items()},
            "held_out_check": ctx.evaluations.get("send_time", {}),
        }
        why = (f"{moved.sum():,} of {len(rows):,} members open more at another local hour than {h0:02d}:00. "
               f"Sending each at their best hour lifts the expected open rate from {now_rate:.1%} to {new_rate:.1%} "
               f"(+{extra_opens.mean():,.0f} opens a week), and an open earns "
               f"{usd((row.revenue - row.reward_cost) / max(row.opens, 1), 2)} on this campaign after its reward.")
        extra_reward = float(extra_opens.mean()) * float(row.reward_cost) / max(float(row.opens), 1.0)
        made = card("send_time", campaign, f"Send at each member's best local hour instead of {h0:02d}:00",
                    why, evidence, {"field": "member_send_hours", "before": h0, "after": "per member"}, impact, row,
                    cost_change_per_week=extra_reward)
        if made:
            cards.append(made)
    return cards


def offer_cards(ctx: Context) -> list[dict]:
    cards = []
    offers = ctx.offers.set_index("offer_id")
    effects = ctx.offer_model.reward_type_effect().set_index("segment")
    for campaign in ctx.campaigns[ctx.campaigns.status.isin(LIVE)].itertuples():
        row = _economics(ctx, campaign.campaign_id)
        found = ctx.offer_profit_draws.get(campaign.campaign_id)
        if row is None or found is None or row.weekly_sends <= 0:
            continue
        offer_ids, profit = found
        current = np.flatnonzero(offer_ids == campaign.offer_id)
        if not len(current):
            continue
        current = current[0]
        difference = profit[1:] - profit[1:, current][:, None]
        candidate = int(np.argmax(profit[0] - profit[0, current] - 1e9 * (np.arange(len(offer_ids)) == current)))
        if candidate == current:
            continue
        impact = difference[:, candidate] * float(row.weekly_sends)
        new = offers.loc[offer_ids[candidate]]
        old = offers.loc[campaign.offer_id]
        effect = effects.loc[campaign.segment] if campaign.segment in effects.index else None
        evidence = {
            "current_offer": {"offer_id": int(campaign.offer_id), "name": old["name"], "reward_type": old.reward_type,
                              "reward_value": float(old.reward_value), "category": old.category,
                              "profit_per_send": float(profit[0, current])},
            "new_offer": {"offer_id": int(offer_ids[candidate]), "name": new["name"], "reward_type": new.reward_type,
                          "reward_value": float(new.reward_value), "category": new.category,
                          "profit_per_send": float(profit[0, candidate])},
            "weekly_sends": float(row.weekly_sends),
            "reward_type_odds_ratio_percent": None if effect is None else effect.to_dict(),
            "model_check": ctx.evaluations.get("offers", {}),
        }
        why = (f"For the {campaign.segment.replace('_', ' ')} segment over {campaign.channel.replace('_', '-')}, "
               f"the model expects {new['name']} to earn {usd(profit[0, candidate], 3)} per send against "
               f"{usd(profit[0, current], 3)} for {old['name']} (after reward and send cost), on "
               f"{row.weekly_sends:,.0f} sends a week.")
        reward_change = float(row.weekly_sends) * (_reward_per_send(ctx, campaign, new) - _reward_per_send(ctx, campaign, old))
        made = card("offer", campaign, f"Swap the offer to {new['name']}", why, evidence,
                    {"field": "offer_id", "before": int(campaign.offer_id), "after": int(offer_ids[candidate])}, impact, row,
                    cost_change_per_week=reward_change)
        if made:
            cards.append(made)
    return cards


def _reward_per_send(ctx: Context, campaign, offer) -> float:
    """Expected reward cost per send of `offer` in this campaign (conversions × reward)."""
    scores = ctx.offer_scores_by_campaign.get(int(campaign.campaign_id))
    if scores is None:
        return 0.0
    found = scores[scores.offer_id == int(offer.name)]
    if found.empty:
        return 0.0
    samples = ctx.offer_model.margin_draws[offer.category][0]
    return float(found.p_conversion.iloc[0]) * offer_model.reward_per_conversion(samples, offer.reward_type,
                                                                               float(offer.reward_value))


def pause_cards(ctx: Context) -> list[dict]:
    cards = []
    for campaign in ctx.campaigns[ctx.campaigns.status.isin(LIVE)].itertuples():
        row = _economics(ctx, campaign.campaign_id)
        if row is None or row.weekly_sends <= 0 or row.p_negative < PAUSE_CONFIDENCE:
            continue
        impact = -normal_draws(row.profit_per_week, row.profit_per_week_se, DRAWS, ctx.rng)[:, 0]
        evidence = {"roi": float(row.roi), "roi_se": float(row.roi_se), "p_roi_negative": float(row.p_negative),
                    "profit_per_week": float(row.profit_per_week), "cost_per_week": float(row.cost_per_week),
                    "members": int(row.members), "weekly_sends": float(row.weekly_sends)}
        why = (f"The campaign returns {row.roi:+.0%} on its cost (probability {row.p_negative:.0%} that ROI is "
               f"below zero): it loses about {usd(-row.profit_per_week)} a week.")
        made = card("pause", campaign, "Pause the campaign", why, evidence,
                    {"field": "status", "before": campaign.status, "after": "paused"}, impact, row,
                    cost_change_per_week=-float(row.cost_per_week))
        if made:
            cards.append(made)
    return cards


def budget_cards(ctx: Context) -> list[dict]:
    live = ctx.economics.merge(ctx.campaigns[["campaign_id", "status", "budget", "name", "segment"]], on="campaign_id")
    live = live[live.status.isin(LIVE) & (live.weekly_sends > 0) & (live.cost_per_week > 0) & (live.roi > 0)]
    if len(live) < 2:
        return []
    source = live.loc[live.roi.idxmin()]
    target = live.loc[live.roi.idxmax()]
    if source.campaign_id == target.campaign_id:
        return []
    shift = BUDGET_SHIFT_SHARE * float(source.cost_per_week)
    roi_source = normal_draws(source.roi, source.roi_se, DRAWS, ctx.rng)[:, 0]
    roi_target = normal_draws(target.roi, target.roi_se, DRAWS, ctx.rng)[:, 0]
    impact = shift * (roi_target - roi_source)
    amount = round(BUDGET_SHIFT_SHARE * float(source.budget), 2)
    campaign = ctx.campaigns.set_index("campaign_id").loc[source.campaign_id]
    campaign = pd.Series({**campaign.to_dict(), "campaign_id": int(source.campaign_id)})
    evidence = {"from": {"campaign_id": int(source.campaign_id), "name": source["name"], "roi": float(source.roi),
                         "roi_se": float(source.roi_se), "budget": float(source.budget)},
                "to": {"campaign_id": int(target.campaign_id), "name": target["name"], "roi": float(target.roi),
                       "roi_se": float(target.roi_se), "budget": float(target.budget)},
                "weekly_spend_moved": shift, "budget_moved": amount,
                "assumption": "returns per dollar stay constant over the amount moved"}
    why = (f"{target['name']} returns {target.roi:+.0%} on cost, {source['name']} {source.roi:+.0%}. Moving "
           f"{BUDGET_SHIFT_SHARE:.0%} of the weaker campaign's budget (${amount:,.0f}, about ${shift:,.0f} of weekly "
           "spend) earns the difference, if returns per dollar hold at that scale.")
    both = pd.Series({"profit_per_week": float(source.profit_per_week + target.profit_per_week),
                      "profit_per_week_se": float(np.hypot(source.profit_per_week_se, target.profit_per_week_se)),
                      "cost_per_week": float(source.cost_per_week + target.cost_per_week)})
    made = card("budget", campaign, f"Shift ${amount:,.0f} of budget to {target['name']}", why, evidence,
                {"field": "budget", "from_campaign_id": int(source.campaign_id), "to_campaign_id": int(target.campaign_id),
                 "amount": amount, "before": {"from": float(source.budget), "to": float(target.budget)},
                 "after": {"from": float(source.budget) - amount, "to": float(target.budget) + amount}},
                impact, both, holdout_share=0.0)
    return [made] if made else []


def segment_cards(ctx: Context) -> list[dict]:
    cards = []
    members = ctx.members.set_index("member_id")
    for campaign in ctx.campaigns[ctx.campaigns.status.isin(LIVE)].itertuples():
        row = _economics(ctx, campaign.campaign_id)
        if row is None or row.weekly_sends <= 0:
            continue
        parts = ctx.segment_economics[ctx.segment_economics.campaign_id == campaign.campaign_id]
        for part in parts.itertuples():
            if part.members < MIN_SEGMENT_MEMBERS or part.p_negative < MIN_CONFIDENCE:
                continue
            impact = -normal_draws(part.profit_per_week, part.profit_per_week_se, DRAWS, ctx.rng)[:, 0]
            name = ctx.segment_names.get(part.segment_key, f"segment {part.segment_key}")
            evidence = {"segment_key": int(part.segment_key), "segment_name": name, "members": int(part.members),
                        "roi": float(part.roi), "roi_se": float(part.roi_se), "p_roi_negative": float(part.p_negative),
                        "profit_per_week": float(part.profit_per_week)}
            why = (f"Within this campaign, the {part.members:,} members of “{name}” return {part.roi:+.0%} on their "
                   f"cost (P(ROI < 0) = {part.p_negative:.0%}): leaving them out saves about "
                   f"{usd(-part.profit_per_week)} a week.")
            made = card("segment_drop", campaign, f"Drop “{name}” from the audience", why, evidence,
                        {"field": "audience", "action": "exclude", "segment_key": int(part.segment_key),
                         "segment_name": name, "before": "included", "after": "excluded"}, impact, row, segment=name,
                        cost_change_per_week=-float(part.cost_per_week))
            if made:
                cards.append(made)
        add = _best_addition(ctx, campaign, row, members)
        if add:
            cards.append(add)
    return cards


def _best_addition(ctx: Context, campaign, row, members: pd.DataFrame) -> dict | None:
    """The behavioural segment whose members outside the campaign's audience the offer model
    expects to be most profitable for this campaign."""
    audience = set(ctx.outcomes.loc[ctx.outcomes.campaign_id == campaign.campaign_id, "member_id"])
    outside = ctx.segment_labels[~ctx.segment_labels.index.isin(audience)]
    if outside.empty or not audience:
        return None
    offer = ctx.offers.set_index("offer_id").loc[campaign.offer_id]
    sends_per_member_week = float(row.weekly_sends) / len(audience)
    best = None
    draws_count = len(ctx.offer_model.boot_click)
    for key, group in outside.groupby(outside):
        if len(group) < MIN_SEGMENT_MEMBERS:
            continue
        people = members.reindex(group.index)[["segment", "device"]].reset_index()
        cells = offer_model.audience_groups(people)
        grid = cells.assign(channel=campaign.channel, category=offer.category, reward_type=offer.reward_type,
                            reward_value=float(offer.reward_value))
        weights = grid.members.to_numpy(float)
        p = ctx.offer_model.p_conversion_draws(grid) @ (weights / weights.sum())
        samples = ctx.offer_model.margin_draws[offer.category]
        margin = np.array([offer_model.margin_per_conversion(samples[min(b, len(samples) - 1)], offer.reward_type,
                                                             float(offer.reward_value)) for b in range(draws_count + 1)])
        per_send = p * margin - float(campaign.cost_per_send)
        per_week = per_send[1:] * sends_per_member_week * len(group) if draws_count else per_send * 0
        resampled = ctx.rng.choice(per_week, DRAWS) if len(per_week) else np.zeros(DRAWS)
        if best is None or resampled.mean() > best[1].mean():
            reward = offer_model.reward_per_conversion(samples[0], offer.reward_type, float(offer.reward_value))
            added_cost = sends_per_member_week * len(group) * (float(p[0]) * reward + float(campaign.cost_per_send))
            best = (key, resampled, len(group), float(per_send[0]), float(p[0]), added_cost)
    if best is None:
        return None
    key, impact, size, per_send, p, added_cost = best
    name = ctx.segment_names.get(key, f"segment {key}")
    evidence = {"segment_key": int(key), "segment_name": name, "members_added": int(size),
                "p_conversion": p, "profit_per_send": per_send, "sends_per_member_week": sends_per_member_week}
    why = (f"{size:,} members of “{name}” are outside this campaign's audience. For them the offer model expects "
           f"{p:.2%} of sends to convert and {usd(per_send, 3)} profit per send after reward and send cost.")
    return card("segment_add", campaign, f"Add “{name}” to the audience", why, evidence,
                {"field": "audience", "action": "include", "segment_key": int(key), "segment_name": name,
                 "before": "not targeted", "after": "included"}, impact, row, segment=name, cost_change_per_week=added_cost)


GENERATORS = (send_time_cards, offer_cards, segment_cards, pause_cards, budget_cards)


def generate(ctx: Context) -> list[dict]:
    """Every card this retrain supports, best expected impact first."""
    cards = [c for generator in GENERATORS for c in generator(ctx)]
    return sorted(cards, key=lambda c: -c["impact_mean"])
