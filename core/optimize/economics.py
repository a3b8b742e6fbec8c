"""Money per campaign (and per campaign × behavioural segment): profit per send, profit per week
and ROI, each with a standard error that treats the member as the unit (sends of one member are
not independent), by the delta method for ratio estimators.

profit = revenue − reward cost − sends × cost per send; ROI = profit / (reward cost + send cost)
(core.analytics.metrics' definition: (revenue − cost) / cost). Weekly volumes come from the last
RECENT_DAYS whole days of the daily rollup, divided by the calendar weeks the campaign was sending
in them (from its first send day there, at least one week), not by its days with sends (a campaign
sending every few days would look several times bigger); rates per send come from the outcomes
passed in (each member's whole history in the campaign, or for behavioural segments only the
outcomes after the segments' split).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def ratio_estimates(frame: pd.DataFrame, numerator: str, denominator: str, by: list[str]) -> pd.DataFrame:
    """Per group: sum(numerator) / sum(denominator) and its delta-method standard error with
    rows (members) as the independent units."""
    sums = frame.groupby(by)[[numerator, denominator]].sum()
    ratio = sums[numerator] / sums[denominator].where(sums[denominator] != 0)
    residual = frame[numerator] - ratio.reindex(pd.MultiIndex.from_frame(frame[by]) if len(by) > 1
                                                else frame[by[0]]).to_numpy() * frame[denominator]
    squares = frame.assign(_r2=residual ** 2).groupby(by)._r2.sum()
    counts = frame.groupby(by).size()
    correction = counts / (counts - 1).clip(lower=1)
    se = np.sqrt(squares * correction) / sums[denominator].abs().where(sums[denominator] != 0)
    return pd.DataFrame({"estimate": ratio, "se": se, "units": counts})


def member_money(outcomes: pd.DataFrame, campaigns: pd.DataFrame) -> pd.DataFrame:
    """Per (campaign, member): sends, revenue, reward cost, send cost, cost and profit."""
    frame = outcomes.merge(campaigns[["campaign_id", "cost_per_send"]], on="campaign_id")
    frame = frame.assign(send_cost=frame.sends * frame.cost_per_send)
    frame["cost"] = frame.reward_cost + frame.send_cost
    frame["profit"] = frame.revenue - frame.cost
    frame["margin"] = frame.revenue - frame.reward_cost  # before send cost: what an open/conversion earns
    return frame


def campaign_economics(outcomes: pd.DataFrame, campaigns: pd.DataFrame, recent: pd.DataFrame,
                       recent_days: int, by: str | None = None, labels: pd.Series | None = None) -> pd.DataFrame:
    """Per campaign (and per `by` label of members, e.g. behavioural segment): weekly sends,
    profit per send and per week, ROI, their standard errors and P(ROI < 0)."""
    money = member_money(outcomes, campaigns)
    keys = ["campaign_id"]
    if by is not None:
        money[by] = labels.reindex(money.member_id).to_numpy()
        money = money.dropna(subset=[by])
        keys.append(by)
    per_send = ratio_estimates(money, "profit", "sends", keys)
    roi = ratio_estimates(money, "profit", "cost", keys)
    totals = money.groupby(keys)[["sends", "revenue", "reward_cost", "send_cost", "cost", "profit", "opens", "conversions"]].sum()
    out = totals.join(per_send.rename(columns={"estimate": "profit_per_send", "se": "profit_per_send_se", "units": "members"}))
    out = out.join(roi[["estimate", "se"]].rename(columns={"estimate": "roi", "se": "roi_se"}))
    out = out.reset_index()
    # With few conversions the member-level spread understates the uncertainty (none at all with
    # zero conversions): floor each standard error at the counting error of the conversions,
    # sqrt(conversions + 1/2) × the campaign's margin per conversion (Jeffreys-style).
    by_campaign = money.groupby("campaign_id")[["margin", "conversions"]].sum()
    everyone = by_campaign.margin.sum() / max(by_campaign.conversions.sum(), 1)
    margin = (by_campaign.margin / by_campaign.conversions.where(by_campaign.conversions > 0)).fillna(everyone)
    counting = np.sqrt(out.conversions + 0.5) * margin.reindex(out.campaign_id).to_numpy().clip(min=0)
    out["profit_per_send_se"] = np.fmax(out.profit_per_send_se.fillna(0), counting / out.sends.where(out.sends > 0))
    out["roi_se"] = np.fmax(out.roi_se.fillna(0), counting / out.cost.where(out.cost > 0))
    weekly = recent.set_index("campaign_id")
    weeks = weekly.weeks_observed if "weeks_observed" in weekly else recent_days / 7.0
    campaign_weekly_sends = (weekly.sends / weeks).reindex(out.campaign_id).fillna(0.0).to_numpy()
    # The campaign's current weekly revenue and cost (observed, whole campaign): what a card's
    # impact is compared with.
    campaign_cost_per_send = campaigns.set_index("campaign_id").cost_per_send
    observed_revenue = (weekly.revenue / weeks).reindex(out.campaign_id).fillna(0.0).to_numpy()
    observed_cost = ((weekly.reward_cost + weekly.sends * campaign_cost_per_send.reindex(weekly.index)) / weeks) \
        .reindex(out.campaign_id).fillna(0.0).to_numpy()
    out["campaign_revenue_per_week"] = observed_revenue
    out["campaign_cost_per_week"] = observed_cost
    # What an open earns now (the recent days' margin per open and the conversions behind it):
    # a running test or a broken release changes it, and the whole history would hide that.
    for column in ("opens", "conversions", "revenue", "reward_cost"):
        out[f"recent_{column}"] = weekly[column].reindex(out.campaign_id).fillna(0.0).to_numpy() \
            if column in weekly else np.zeros(len(out))
    if by is None:
        out["weekly_sends"] = campaign_weekly_sends
    else:  # the campaign's weekly sends split by each group's share of its sends
        share = out.sends / out.groupby("campaign_id").sends.transform("sum")
        out["weekly_sends"] = campaign_weekly_sends * share.to_numpy()
    out["profit_per_week"] = out.profit_per_send * out.weekly_sends
    out["profit_per_week_se"] = out.profit_per_send_se * out.weekly_sends
    out["cost_per_week"] = (out.cost / out.sends.where(out.sends > 0)).fillna(0) * out.weekly_sends
    with np.errstate(divide="ignore", invalid="ignore"):
        out["p_negative"] = stats.norm.cdf(-out.roi / out.roi_se.where(out.roi_se > 0))
    out["p_negative"] = out.p_negative.fillna((out.roi < 0).astype(float))
    return out


def normal_draws(mean, se, draws: int, rng) -> np.ndarray:
    """draws × len(mean) normal samples (se NaN or 0: the mean itself)."""
    mean = np.atleast_1d(np.asarray(mean, float))
    se = np.nan_to_num(np.atleast_1d(np.asarray(se, float)))
    return mean[None, :] + se[None, :] * rng.standard_normal((draws, len(mean)))
