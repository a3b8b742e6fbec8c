"""Recommendation cards built from one retrain's model outputs: change the send hour (per
member timing, push and e-mail only), swap the offer, add or drop a behavioural segment, pause a
campaign that loses money. Only changes the product can make are proposed (no budget card:
nothing turns a budget into sends).

Every card carries: what to change and why (the numbers behind it), confidence = the
probability that its impact is positive (capped at MAX_CONFIDENCE: shown as "> 99 %", never
100 %), implementation ease by a stated rule (EASE), expected impact in USD of profit per week
with a 90 % interval, the impact as a share of the campaign's current weekly revenue (with the
reason when it exceeds the campaign's revenue plus cost), an 8-week projection of the
campaign's ROI with and without the change (mean and 90 % band), and the segment it applies to.
Weekly volumes are the campaign's observed recent weekly sends (core.optimize.economics).

Selection is honest: offers are chosen by a model fitted on one half of the members and their
impact estimated by a model fitted on the other half (with its bootstrap refits); behavioural
segments are fitted on behaviour before a split and judged on outcomes after it. Every
candidate is a hypothesis: its p-value is the share of impact draws at or below zero, and the
cards shown pass Benjamini–Hochberg at FDR across all candidates of the run (`select`), which
also counts what was suppressed and why.
Impacts are Monte Carlo draws through every uncertain input, so the interval, the confidence
and the projection band agree with each other.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from core.optimize import offers as offer_model
from core.optimize.economics import counting_error, normal_draws
from core.optimize.inputs import CHANGE_DAYS
from core.optimize.shrinkage import shrink_normal
from core.optimize.send_time import DISTANCE, HOURS, SendTimeFit

DRAWS = 400
INTERVAL = (5, 95)
PROJECTION_WEEKS = 8
MIN_CONFIDENCE = 0.8          # propose only changes whose impact is positive with this probability
MIN_SUPPORTED_SHARE = 0.9     # an added segment's members the offer model knows on the campaign's offer
MAX_CONFIDENCE = 0.99         # 400 draws cannot support more: the screen shows "> 99 %"
FDR = 0.10                    # Benjamini–Hochberg false-discovery rate across all candidates of a run
MIN_IMPACT_PER_WEEK = 1.0     # USD
MIN_SEGMENT_MEMBERS = 30
MIN_RECENT_CONVERSIONS = 30   # what an open earns is read from the recent days when they hold this many
DEFAULT_HOLDOUT_SHARE = 0.10
LIVE = ("live",)

# The stated rule: a setting change is easy, a new offer medium, new creative hard.
EASE = {"send_time": "easy", "segment_add": "easy", "segment_drop": "easy", "pause": "easy",
        "offer": "medium", "creative": "hard"}
EASE_RULE = "A setting change (send hour, audience, status) is easy, a new offer medium, new creative hard."
KIND_LABELS = {"send_time": "Per-member send time", "offer": "Swap offer", "segment_add": "Add segment",
               "segment_drop": "Drop segment", "pause": "Pause campaign"}
# Why a card's impact may exceed what the campaign earns and spends now.
ABOVE_REVENUE_REASON = {
    "segment_add": "the added members are new sends on top of the campaign's current ones",
    "offer": "the new offer earns more per send than the current one, whose revenue is the comparison",
    "send_time": "more of the same sends are opened, and each open earns the campaign's margin",
    "segment_drop": "the dropped members cost more than they bring in",
    "pause": "the campaign loses more than it earns",
}


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
    offer_select: dict | None = None     # campaign_id -> (offer_ids, profit per send) of the selection half
    offer_estimate: dict | None = None   # campaign_id -> (offer_ids, draws × offers) of the estimation half
    segment_model: offer_model.OfferModel | None = None  # estimation half's offer model (segment additions)
    segment_select_model: offer_model.OfferModel | None = None
    send_time_refits: list | None = None  # member-clustered bootstrap refits of the send-time model
    segment_split: object = None         # behavioural segments: fitted before, judged from this time
    judged_days: int = 28


def summarise(draws: np.ndarray) -> tuple[float, float, float, float]:
    """mean, 5th and 95th percentile, P(> 0) of impact draws (capped at MAX_CONFIDENCE: a
    finite number of draws never shows certainty)."""
    draws = np.asarray(draws, float)
    mean = float(draws.mean())
    low, high = np.percentile(draws, INTERVAL)
    helps = (float((draws > 0).sum()) + 0.5) / (len(draws) + 1.0)
    return mean, min(float(low), mean), max(float(high), mean), min(helps, MAX_CONFIDENCE)


def p_value(draws: np.ndarray) -> float:
    """One-sided p-value of "the change does not help": the share of draws at or below zero, with
    the +1 that keeps a Monte Carlo p-value valid."""
    draws = np.asarray(draws, float)
    return (float((draws <= 0).sum()) + 1.0) / (len(draws) + 1.0)


def benjamini_hochberg(p_values, rate: float = FDR) -> np.ndarray:
    """Which hypotheses are discoveries at false-discovery rate `rate` (step-up procedure)."""
    p = np.asarray(p_values, float)
    if not len(p):
        return np.zeros(0, bool)
    order = np.argsort(p, kind="stable")
    passed = p[order] <= rate * np.arange(1, len(p) + 1) / len(p)
    cut = np.flatnonzero(passed).max() + 1 if passed.any() else 0
    out = np.zeros(len(p), bool)
    out[order[:cut]] = True
    return out


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
    """A candidate card (every candidate is kept for the false-discovery control in `select`)."""
    impact_draws = np.asarray(impact_draws, float)
    if not len(impact_draws) or not np.isfinite(impact_draws).all():
        return None
    mean, low, high, confidence = summarise(impact_draws)
    campaign_name = campaign["name"] if isinstance(campaign, pd.Series) else campaign.name
    revenue = float(getattr(economics_row, "campaign_revenue_per_week", np.nan)) if economics_row is not None else np.nan
    spend = float(getattr(economics_row, "campaign_cost_per_week", np.nan)) if economics_row is not None else np.nan
    share = mean / revenue if revenue > 0 else None
    above = bool(np.isfinite(revenue) and np.isfinite(spend) and mean > revenue + spend)
    weekly = float(getattr(economics_row, "weekly_sends", np.nan)) if economics_row is not None else np.nan
    evidence = {**evidence, "campaign_weekly_sends": weekly,
                "campaign_revenue_per_week": revenue, "campaign_cost_per_week": spend,
                "impact_share_of_weekly_revenue": share}
    if share is not None:
        why += f" That is {share:.0%} of the campaign's current weekly revenue ({usd(revenue)})."
    if above:
        why += (f" It exceeds the campaign's current weekly revenue plus cost ({usd(revenue + spend)}) because "
                f"{ABOVE_REVENUE_REASON[kind]}.")
    return {
        "campaign_id": int(campaign.campaign_id), "kind": kind, "segment": segment or campaign.segment,
        "title": title, "confidence": confidence, "ease": EASE[kind],
        "impact_mean": mean, "impact_low": low, "impact_high": high, "holdout_share": holdout_share,
        "p_value": p_value(impact_draws),
        "details": {"why": why, "evidence": evidence, "change": change, "unit": "USD profit per week",
                    "ease_rule": EASE_RULE, "projection": projection(impact_draws, economics_row, cost_change_per_week),
                    "campaign_name": campaign_name, "p_value": p_value(impact_draws),
                    "share_of_weekly_revenue": share, "above_revenue_plus_cost": above},
    }


def around_fit(estimate: float, refits: np.ndarray) -> np.ndarray:
    """Model uncertainty as draws: the bootstrap refits' spread around the full fit's estimate
    (the estimate itself when there are no refits). The refits' own mean is not the estimate: a
    rare category such as travel is missing from some campaign resamples and extreme in others,
    and the logistic turns that into gains above the fit's. Centred on the refits' mean, offer
    cards were overstated by about a third against the planted truth."""
    refits = np.asarray(refits, float)
    if not len(refits):
        return np.array([float(estimate)])
    return refits - refits.mean() + float(estimate)


def _economics(ctx: Context, campaign_id: int):
    rows = ctx.economics[ctx.economics.campaign_id == campaign_id]
    return rows.iloc[0] if len(rows) else None


def _per_open(row) -> tuple[float, float, float, list]:
    """What an open earns (revenue − reward cost), the reward it costs, the counting error of the
    first, and the devices whose conversions per open changed lately: over the recent days
    (core.optimize.inputs.RECENT_DAYS, per device with the changes of the last days,
    core.optimize.economics.open_value) when they hold MIN_RECENT_CONVERSIONS, since what an open
    earns moves (a test's winning variant, a broken app release) and next week's opens earn what
    opens earn now; else over the whole history."""
    recent = float(getattr(row, "open_conversions", 0.0) or 0.0)
    if recent >= MIN_RECENT_CONVERSIONS:
        changed = row.open_changed if isinstance(row.open_changed, list) else []
        return float(row.open_margin), float(row.open_reward), float(row.open_margin_se), changed
    opens = max(float(row.opens), 1.0)
    margin = float(row.revenue - row.reward_cost)
    conversions = float(row.conversions)
    se = abs(margin) / max(conversions, 1.0) * float(counting_error(np.array([conversions]))[0]) / opens
    return margin / opens, float(row.reward_cost) / opens, se, []


def _margin_per_open_draws(row, draws: int, rng) -> np.ndarray:
    """What one more open earns (_per_open) with the counting error of its conversions, widened by
    what the campaign's history says baskets and members add to it (margin_per_open_se_factor)."""
    per_open, _, se, _ = _per_open(row)
    factor = float(getattr(row, "margin_per_open_se_factor", 1.0) or 1.0)
    return per_open + factor * se * rng.standard_normal(draws)


def _refit_spread(ctx: Context, campaign_id: int, audience: np.ndarray, best: np.ndarray, h0: int) -> np.ndarray | float:
    """Model uncertainty of a send-time card: multipliers (DRAWS) spread like the expected extra
    opens that the member-clustered bootstrap refits (send_time.bootstrap_fits) predict for the
    same change, on the log scale, as wide at 90 % as a Student-t for their small number (1.0
    without refits). Log-normal with mean 1, so the full fit's estimate stays the expected
    impact: the exponential of a Student-t has no mean, and with it a card's "expected impact"
    was whatever its largest draw happened to be (above the interval's upper end at times)."""
    refits = ctx.send_time_refits or []
    gains = []
    for refit in refits:
        rows = pd.Index(refit.member_ids).get_indexer(audience)
        rows = rows[rows >= 0]
        if campaign_id not in refit.campaign_rate.index or not len(rows):
            continue
        q = float(refit.campaign_rate[campaign_id])
        lift = refit.lift[rows]
        gains.append(float((refit.responsiveness[rows] * q * (lift[np.arange(len(rows)), best[rows]] - lift[:, h0])).sum()))
    gains = np.array(gains)
    if len(gains) < 2 or (gains <= 0).any():
        return 1.0
    spread = float(np.std(np.log(gains), ddof=1))
    sigma = spread * float(scipy_stats.t.ppf(0.95, len(gains) - 1) / scipy_stats.norm.ppf(0.95))
    return np.exp(sigma * ctx.rng.standard_normal(DRAWS) - sigma * sigma / 2)


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
        if campaign.channel == "in_app":  # in-app messages show when the member opens the app: no send hour to move
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
        extra_opens = gain.sum(axis=1) * sends_per_member_week * _refit_spread(ctx, campaign.campaign_id, audience,
                                                                                 best, h0)
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
        margin_per_open, reward_per_open, _, changed = _per_open(row)
        why = (f"{moved.sum():,} of {len(rows):,} members open more at another local hour than {h0:02d}:00. "
               f"Sending each at their best hour lifts the expected open rate from {now_rate:.1%} to {new_rate:.1%} "
               f"(+{extra_opens.mean():,.0f} opens a week), and an open earns "
               f"{usd(margin_per_open, 2)} on this campaign now, after its reward.")
        for change in changed:  # a device whose opens convert differently lately is valued at its new rate
            why += (f" On {change['device']}, conversions per open went from {change['before']:.2%} to "
                    f"{change['after']:.2%} in the last {CHANGE_DAYS} days (p = {change['p_value']:.1g}): "
                    f"its opens are valued at the new rate.")
        if changed:
            evidence["conversions_per_open_changed"] = {
                c["device"]: {"before": c["before"], f"last_{CHANGE_DAYS}_days": c["after"], "p_value": c["p_value"]}
                for c in changed}
        extra_reward = float(extra_opens.mean()) * reward_per_open
        made = card("send_time", campaign, f"Send at each member's best local hour instead of {h0:02d}:00",
                    why, evidence, {"field": "member_send_hours", "before": h0, "after": "per member"}, impact, row,
                    cost_change_per_week=extra_reward)
        if made:
            cards.append(made)
    return cards


def offer_cards(ctx: Context) -> list[dict]:
    """The best other offer per live campaign, chosen on one half of the members (selection
    model) and its impact estimated on the other half (estimation model and its bootstrap
    refits), so picking the best of many candidates does not inflate the claim."""
    cards = []
    offers = ctx.offers.set_index("offer_id")
    effects = ctx.offer_model.reward_type_effect().set_index("segment")
    select = ctx.offer_select if ctx.offer_select is not None else {
        k: (ids, profit[0]) for k, (ids, profit) in ctx.offer_profit_draws.items()}
    estimate = ctx.offer_estimate if ctx.offer_estimate is not None else ctx.offer_profit_draws
    for campaign in ctx.campaigns[ctx.campaigns.status.isin(LIVE)].itertuples():
        row = _economics(ctx, campaign.campaign_id)
        chosen, measured = select.get(campaign.campaign_id), estimate.get(campaign.campaign_id)
        if row is None or chosen is None or measured is None or row.weekly_sends <= 0:
            continue
        offer_ids, selection_profit = chosen
        estimate_ids, profit = measured
        current = np.flatnonzero(offer_ids == campaign.offer_id)
        if not len(current):
            continue
        current = current[0]
        allowed = np.arange(len(offer_ids)) != current
        for model in (ctx.segment_select_model, ctx.segment_model):  # no extrapolation to unseen segment × category
            if model is not None:
                allowed &= model.supported(campaign.segment, offers.loc[offer_ids])
        if not allowed.any():
            continue
        candidate = int(np.argmax(np.where(allowed, selection_profit - selection_profit[current], -np.inf)))
        new_id = int(offer_ids[candidate])
        where = {int(o): i for i, o in enumerate(estimate_ids)}
        if new_id not in where or int(campaign.offer_id) not in where:
            continue
        new_col, old_col = where[new_id], where[int(campaign.offer_id)]
        gain = profit[:, new_col] - profit[:, old_col]
        per_send = around_fit(gain[0], gain[1:])
        impact = ctx.rng.choice(per_send, DRAWS) * float(row.weekly_sends)
        new = offers.loc[new_id]
        old = offers.loc[campaign.offer_id]
        effect = effects.loc[campaign.segment] if campaign.segment in effects.index else None
        evidence = {
            "current_offer": {"offer_id": int(campaign.offer_id), "name": old["name"], "reward_type": old.reward_type,
                              "reward_value": float(old.reward_value), "category": old.category,
                              "profit_per_send": float(profit[0, old_col])},
            "new_offer": {"offer_id": new_id, "name": new["name"], "reward_type": new.reward_type,
                          "reward_value": float(new.reward_value), "category": new.category,
                          "profit_per_send": float(profit[0, new_col])},
            "selection": "chosen on half of the members, estimated on the other half",
            "selection_half_gain_per_send": float(selection_profit[candidate] - selection_profit[current]),
            "weekly_sends": float(row.weekly_sends),
            "sends_last_7_days": _sends_last_week(ctx, campaign.campaign_id),
            "reward_type_odds_ratio_percent": None if effect is None else effect.to_dict(),
            "model_check": ctx.evaluations.get("offers", {}),
        }
        why = (f"For this campaign's audience over {campaign.channel.replace('_', '-')}, a model fitted on half of "
               f"the members picks {new['name']}; fitted on the other half it expects it to earn "
               f"{usd(profit[0, new_col], 3)} per send against {usd(profit[0, old_col], 3)} for {old['name']} "
               f"(after reward and send cost), on the campaign's {row.weekly_sends:,.0f} sends a week.")
        reward_change = float(row.weekly_sends) * (_reward_per_send(ctx, campaign, new) - _reward_per_send(ctx, campaign, old))
        made = card("offer", campaign, f"Swap the offer to {new['name']}", why, evidence,
                    {"field": "offer_id", "before": int(campaign.offer_id), "after": new_id}, impact, row,
                    cost_change_per_week=reward_change)
        if made:
            cards.append(made)
    return cards


def _sends_last_week(ctx: Context, campaign_id: int) -> float | None:
    found = ctx.economics.loc[ctx.economics.campaign_id == campaign_id, "sends_last_7_days"] \
        if "sends_last_7_days" in ctx.economics else []
    return float(found.iloc[0]) if len(found) else None


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
        if row is None or row.weekly_sends <= 0:
            continue  # every live campaign is a candidate; `select` shows only the confident ones
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


def shrunk_segment_profit(parts: pd.DataFrame) -> pd.DataFrame:
    """Each (campaign, segment)'s profit per week after empirical-Bayes shrinkage
    (shrinkage.shrink_normal) toward its campaign's profit per send over the same days (the
    sends-weighted mean of its segments, with that mean's error): the segments proposed for
    dropping are the ones that look worst, partly by chance. Segments differ in how they respond,
    so a campaign that earns more per send has segments further apart: the spread is learnt on
    each campaign's margin per send as the unit (relative), across every campaign's segments."""
    if parts.empty:
        return parts.assign(shrunk_profit_per_week=[], shrunk_profit_per_week_se=[])
    by = parts.groupby("campaign_id")
    sends = by.sends.transform("sum").to_numpy(float)
    share = parts.sends.to_numpy(float) / np.where(sends > 0, sends, np.nan)
    parent = (by.profit.transform("sum").to_numpy(float)) / np.where(sends > 0, sends, np.nan)
    parent_se = np.sqrt(pd.Series(share ** 2 * parts.profit_per_send_se.to_numpy(float) ** 2)
                        .groupby(parts.campaign_id.to_numpy()).transform("sum").to_numpy())
    margin = (by.revenue.transform("sum") - by.reward_cost.transform("sum")).to_numpy(float) / np.where(sends > 0, sends, np.nan)
    unit = np.where(np.isfinite(margin) & (margin > 0), margin, 1.0)
    mean, sd, _ = shrink_normal(parts.profit_per_send.to_numpy(float) / unit,
                                parts.profit_per_send_se.to_numpy(float) / unit, parent / unit, parent_se / unit,
                                groups=parts.campaign_id.to_numpy())
    weekly = parts.weekly_sends.to_numpy(float)
    return parts.assign(shrunk_profit_per_week=mean * unit * weekly, shrunk_profit_per_week_se=sd * unit * weekly)


def segment_drop_cards(ctx: Context) -> list[dict]:
    """Candidates to drop a behavioural segment from a live campaign's audience: segments that
    lost money in the campaign after the segments' split (ctx.segment_economics)."""
    cards = []
    parts_all = shrunk_segment_profit(ctx.segment_economics)
    for campaign in ctx.campaigns[ctx.campaigns.status.isin(LIVE)].itertuples():
        row = _economics(ctx, campaign.campaign_id)
        if row is None or row.weekly_sends <= 0:
            continue
        parts = parts_all[parts_all.campaign_id == campaign.campaign_id]
        for part in parts.itertuples():
            if part.members < MIN_SEGMENT_MEMBERS:
                continue  # every segment is a candidate (its p-value counts in the false-discovery control)
            impact = -normal_draws(part.shrunk_profit_per_week, part.shrunk_profit_per_week_se, DRAWS, ctx.rng)[:, 0]
            name = ctx.segment_names.get(part.segment_key, f"segment {part.segment_key}")
            evidence = {"segment_key": int(part.segment_key), "segment_name": name, "members": int(part.members),
                        "roi": float(part.roi), "roi_se": float(part.roi_se), "p_roi_negative": float(part.p_negative),
                        "profit_per_week": float(part.profit_per_week),
                        "profit_per_week_shrunk": float(part.shrunk_profit_per_week),
                        "shrinkage": "empirical Bayes toward the campaign's profit per send (core.optimize.shrinkage.shrink_normal)"}
            evidence["segments_fitted_before"] = str(ctx.segment_split) if ctx.segment_split is not None else None
            why = (f"Within this campaign, the {part.members:,} members of “{name}” (a segment found from behaviour "
                   f"before the last {ctx.judged_days} days) returned {part.roi:+.0%} on their cost in those days "
                   f"(P(ROI < 0) = {part.p_negative:.0%}), {usd(part.profit_per_week)} a week. Part of a worst "
                   f"segment's loss is chance, so its profit is pulled toward the rest of the campaign's: leaving "
                   f"them out saves about {usd(-part.shrunk_profit_per_week)} a week.")
            made = card("segment_drop", campaign, f"Drop “{name}” from the audience", why, evidence,
                        {"field": "audience", "action": "exclude", "segment_key": int(part.segment_key),
                         "segment_name": name, "before": "included", "after": "excluded"}, impact, row, segment=name,
                        cost_change_per_week=-float(part.cost_per_week))
            if made:
                cards.append(made)
    return cards


def segment_add_cards(ctx: Context) -> list[dict]:
    """Per live campaign, the best behavioural segment to add to its audience."""
    cards = []
    members = ctx.members.set_index("member_id")
    for campaign in ctx.campaigns[ctx.campaigns.status.isin(LIVE)].itertuples():
        row = _economics(ctx, campaign.campaign_id)
        if row is None or row.weekly_sends <= 0:
            continue
        add = _best_addition(ctx, campaign, row, members)
        if add:
            cards.append(add)
    return cards


def _addition_per_send(model: offer_model.OfferModel, people: pd.DataFrame, campaign, offer) -> tuple[np.ndarray, np.ndarray]:
    """Profit per send and P(conversion) of the campaign's offer for `people` (segment, device)
    under the model's fit (row 0) and its bootstrap refits."""
    cells = offer_model.audience_groups(people)
    grid = cells.assign(channel=campaign.channel, category=offer.category, reward_type=offer.reward_type,
                        reward_value=float(offer.reward_value))
    weights = grid.members.to_numpy(float)
    p = model.p_conversion_draws(grid) @ (weights / weights.sum())
    margin = model.margins(pd.DataFrame([{"category": offer.category, "reward_type": offer.reward_type,
                                          "reward_value": float(offer.reward_value)}]))[:, 0]
    return p * margin - float(campaign.cost_per_send), p


def _supported_share(people: pd.DataFrame, offer: pd.DataFrame, models) -> float:
    """Share of `people` whose (planted) segment every model has seen converting on the offer's
    category and reward type often enough (offers.OfferModel.supported)."""
    shares = people.segment.value_counts(normalize=True)
    return float(sum(share for segment, share in shares.items()
                     if all(model.supported(segment, offer)[0] for model in models)))


def _best_addition(ctx: Context, campaign, row, members: pd.DataFrame) -> dict | None:
    """The behavioural segment whose members outside the campaign's audience are expected to be
    most profitable for this campaign: chosen by the selection half's offer model, its impact
    estimated by the estimation half's (the full model when no halves were fitted)."""
    audience = set(ctx.outcomes.loc[ctx.outcomes.campaign_id == campaign.campaign_id, "member_id"])
    outside = ctx.segment_labels[~ctx.segment_labels.index.isin(audience)]
    if campaign.channel == "push" and "notifications_opt_in" in members:  # push reaches only those who opted in
        opted_in = members.notifications_opt_in.reindex(outside.index).fillna(False).astype(bool).to_numpy()
        outside = outside[opted_in]
    if outside.empty or not audience:
        return None
    offer = ctx.offers.set_index("offer_id").loc[campaign.offer_id]
    sends_per_member_week = float(row.weekly_sends) / len(audience)
    chooser = ctx.segment_select_model or ctx.offer_model
    estimator = ctx.segment_model or ctx.offer_model
    best = None
    offer_frame = pd.DataFrame([{"category": offer.category, "reward_type": offer.reward_type}])
    for key, group in outside.groupby(outside):
        if len(group) < MIN_SEGMENT_MEMBERS:
            continue
        people = members.reindex(group.index)[["segment", "device"]].reset_index()
        if _supported_share(people, offer_frame, (chooser, estimator)) < MIN_SUPPORTED_SHARE:
            continue  # for most of them the model would extrapolate from other segments' campaigns
        score = _addition_per_send(chooser, people, campaign, offer)[0][0] * len(group)
        if best is None or score > best[1]:
            best = (key, score, people)
    if best is None:
        return None
    key, _, people = best
    size = len(people)
    per_send, p = _addition_per_send(estimator, people, campaign, offer)
    per_week = around_fit(per_send[0], per_send[1:]) * sends_per_member_week * size
    impact = ctx.rng.choice(per_week, DRAWS)
    reward = offer_model.reward_per_conversion(estimator.margin_draws[offer.category][0], offer.reward_type,
                                               float(offer.reward_value))
    added_cost = sends_per_member_week * size * (float(p[0]) * reward + float(campaign.cost_per_send))
    name = ctx.segment_names.get(key, f"segment {key}")
    evidence = {"segment_key": int(key), "segment_name": name, "members_added": int(size),
                "p_conversion": float(p[0]), "profit_per_send": float(per_send[0]),
                "sends_per_member_week": sends_per_member_week,
                "selection": "chosen on half of the members, estimated on the other half"}
    why = (f"{size:,} members of “{name}” are outside this campaign's audience. For them the offer model expects "
           f"{float(p[0]):.2%} of sends to convert and {usd(float(per_send[0]), 3)} profit per send after reward and "
           f"send cost, at the campaign's {sends_per_member_week:.2f} sends per member a week.")
    return card("segment_add", campaign, f"Add “{name}” to the audience", why, evidence,
                {"field": "audience", "action": "include", "segment_key": int(key), "segment_name": name,
                 "before": "not targeted", "after": "included"}, impact, row, segment=name, cost_change_per_week=added_cost)


GENERATORS = (send_time_cards, offer_cards, segment_drop_cards, segment_add_cards, pause_cards)


def select(candidates: list[dict], rate: float = FDR) -> tuple[list[dict], dict]:
    """The cards to show: candidates that pass Benjamini–Hochberg at `rate` across all of them,
    have confidence ≥ MIN_CONFIDENCE and an expected impact ≥ MIN_IMPACT_PER_WEEK; best expected
    impact first. Also how many candidates were suppressed, for which reason (first failed)."""
    p = np.array([c["p_value"] for c in candidates], float)
    discovered = benjamini_hochberg(p, rate)
    shown, suppressed = [], {"not_positive_enough": 0, "false_discovery_control": 0, "too_small": 0}
    for candidate, passed in zip(candidates, discovered):
        if candidate["confidence"] < MIN_CONFIDENCE:
            suppressed["not_positive_enough"] += 1
        elif not passed:
            suppressed["false_discovery_control"] += 1
        elif candidate["impact_mean"] < MIN_IMPACT_PER_WEEK:
            suppressed["too_small"] += 1
        else:
            shown.append(candidate)
    summary = {"candidates": len(candidates), "shown": len(shown), "suppressed": suppressed,
               "false_discovery_rate": rate, "min_confidence": MIN_CONFIDENCE,
               "min_impact_per_week": MIN_IMPACT_PER_WEEK,
               "rule": (f"Every candidate change is tested (p-value = share of impact draws at or below zero); shown "
                        f"are those that pass Benjamini–Hochberg at {rate:.0%} false discoveries across all "
                        f"{len(candidates)} candidates, with confidence ≥ {MIN_CONFIDENCE:.0%} and at least "
                        f"{usd(MIN_IMPACT_PER_WEEK)} a week.")}
    return sorted(shown, key=lambda c: -c["impact_mean"]), summary


def generate(ctx: Context) -> tuple[list[dict], dict]:
    """Every card this retrain supports that survives `select`, best expected impact first, and
    the selection's summary."""
    candidates = [c for generator in GENERATORS for c in generator(ctx)]
    return select(candidates)
