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


def counting_error(conversions, level: float = 0.90) -> np.ndarray:
    """The standard error of a count k of conversions: the distance from k to the mid-p exact
    Poisson upper bound at `level` (two-sided), divided by z, so that k + z·se reaches it. About
    sqrt(k) + 0.6 for large counts, but 1.4 at k = 0 and 1.9 at k = 1, where sqrt(k + 1/2) (the
    Jeffreys floor it replaced) gave 0.7 and 1.2: a normal interval on that missed a mean of 1.5–2
    conversions whenever none was observed, 13–22 % of the time (a segment with no conversion in
    the window was "losing money for sure" while its one expected conversion a month, a $300 trip,
    paid for it). Mid-p, not Garwood's exact bound: Garwood's guarantee costs 95 % coverage on
    ordinary counts, where the cards promise 90 % (tests/db/test_optimize_crossfit.py)."""
    k = np.atleast_1d(np.asarray(conversions, float))
    tail = (1.0 - level) / 2
    z = stats.norm.ppf(1.0 - tail)
    ok = np.isfinite(k) & (k >= 0)
    kk = np.where(ok, np.floor(k), 0.0)
    # P(X < k) + P(X = k) / 2 falls as the mean grows: bisect for the mean where it equals `tail`.
    low, high = kk.copy(), kk + 10.0 * np.sqrt(kk + 1.0) + 10.0
    for _ in range(60):
        middle = (low + high) / 2
        above = stats.poisson.cdf(kk - 1, middle) + 0.5 * stats.poisson.pmf(kk, middle) > tail
        low, high = np.where(above, middle, low), np.where(above, high, middle)
    return np.where(ok, ((low + high) / 2 - kk) / z, np.nan)


def member_money(outcomes: pd.DataFrame, campaigns: pd.DataFrame) -> pd.DataFrame:
    """Per (campaign, member): sends, revenue, reward cost, send cost, cost and profit."""
    frame = outcomes.merge(campaigns[["campaign_id", "cost_per_send"]], on="campaign_id")
    frame = frame.assign(send_cost=frame.sends * frame.cost_per_send)
    frame["cost"] = frame.reward_cost + frame.send_cost
    frame["profit"] = frame.revenue - frame.cost
    frame["margin"] = frame.revenue - frame.reward_cost  # before send cost: what an open/conversion earns
    return frame


def campaign_economics(outcomes: pd.DataFrame, campaigns: pd.DataFrame, recent: pd.DataFrame,
                       recent_days: int, by: str | None = None, labels: pd.Series | None = None,
                       margin_per_conversion: pd.Series | None = None) -> pd.DataFrame:
    """Per campaign (and per `by` label of members, e.g. behavioural segment): weekly sends,
    profit per send and per week, ROI, their standard errors and P(ROI < 0).

    `margin_per_conversion` (per campaign_id): what one conversion earns, for the counting floor of
    the standard errors (counting_error); by default read from these outcomes, but a short window
    may hold no conversion of a campaign whose conversions are worth ten times the average (a
    travel offer): pass the campaign's whole history then."""
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
    # What an open earns is uncertain beyond the count of its conversions: baskets differ (a
    # conversion's margin varies by about half its mean) and one member's conversions go together.
    # The member-clustered error of the history's margin per open, as a multiple of its counting
    # error 1/sqrt(conversions), widens the counting error of the recent days' margin per open
    # (core.optimize.recommendations._margin_per_open_draws).
    per_open = ratio_estimates(money, "margin", "opens", keys)
    relative = (per_open.se / per_open.estimate.abs().where(per_open.estimate != 0)) \
        * np.sqrt(totals.conversions.where(totals.conversions > 0))
    out = out.join(relative.rename("margin_per_open_se_factor"))
    out = out.reset_index()
    out["margin_per_open_se_factor"] = out.margin_per_open_se_factor.fillna(1.0).clip(lower=1.0)
    # With few conversions the member-level spread understates the uncertainty (none at all with
    # zero conversions): floor each standard error at the counting error of the conversions
    # (counting_error) × the campaign's margin per conversion.
    by_campaign = money.groupby("campaign_id")[["margin", "conversions"]].sum()
    everyone = by_campaign.margin.sum() / max(by_campaign.conversions.sum(), 1)
    margin = by_campaign.margin / by_campaign.conversions.where(by_campaign.conversions > 0)
    if margin_per_conversion is not None:
        margin = margin_per_conversion.reindex(margin.index).where(lambda m: m.notna(), margin)
    margin = margin.fillna(everyone)
    counting = counting_error(out.conversions.to_numpy(float)) * margin.reindex(out.campaign_id).to_numpy().clip(min=0)
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


CHANGE_P_VALUE = 0.001  # a device's conversions per open "changed" below this (exact binomial, two-sided)


def open_value(devices: pd.DataFrame, last_days_share: float = 7 / 28,
               change_p_value: float = CHANGE_P_VALUE) -> pd.DataFrame:
    """Per campaign: what an open earns now, from its recent days per device
    (opt_campaign_recent_devices: opens, conversions, revenue, reward_cost per campaign, device and
    last_days).

    Each device's conversions per open over the last days are tested against the days before
    (exact binomial test of the last days' share of the conversions against their share of the
    opens), when the last days (`last_days_share` of the recent days) hold at least half their share
    of the opens: conversions come about a day after the opens, so a campaign that stops sending
    converts for a while without opens, which is no change in what an open earns. A device that
    changed (p < change_p_value, a broken app release) is valued at its last
    days' rates, which is what its opens will earn next week; the others at the whole recent
    days'. The campaign's value per open weights each device by its share of the recent opens.

    Columns: campaign_id, open_margin (revenue − reward cost per open), open_reward (reward cost
    per open), open_margin_se (counting error: each device's counting_error of its conversions ×
    its margin per conversion / its opens, summed in quadrature), open_conversions (the
    conversions behind it) and open_changed (a list of {device, before, after, p_value}: the
    conversions per open of each device that changed)."""
    columns = ["campaign_id", "open_margin", "open_reward", "open_margin_se", "open_conversions", "open_changed"]
    if devices is None or devices.empty:
        return pd.DataFrame(columns=columns)
    frame = devices.assign(last_days=devices.last_days.astype(bool))
    keys = ["campaign_id", "device"]
    last = frame[frame.last_days].groupby(keys)[["opens", "conversions", "revenue", "reward_cost"]].sum()
    before = frame[~frame.last_days].groupby(keys)[["opens", "conversions", "revenue", "reward_cost"]].sum()
    both = before.add_suffix("_before").join(last.add_suffix("_last"), how="outer").fillna(0.0)
    total = pd.DataFrame({c: both[f"{c}_before"] + both[f"{c}_last"] for c in ("opens", "conversions", "revenue", "reward_cost")})
    conversions = total.conversions.to_numpy()
    share_of_opens = (both.opens_last / total.opens.where(total.opens > 0)).fillna(0.0).to_numpy()
    p_values = np.ones(len(both))
    testable = (conversions > 0) & (share_of_opens >= last_days_share / 2) & (share_of_opens < 1)
    for i in np.flatnonzero(testable):
        p_values[i] = stats.binomtest(int(both.conversions_last.iloc[i]), int(conversions[i]), float(share_of_opens[i])).pvalue
    changed = p_values < change_p_value
    used = pd.DataFrame({c: np.where(changed, both[f"{c}_last"], total[c]) for c in ("opens", "conversions", "revenue", "reward_cost")},
                        index=both.index)
    margin = total.revenue - total.reward_cost  # a device without conversions: its campaign's margin per conversion
    campaign_margin_per_conversion = margin.groupby("campaign_id").transform("sum") \
        / total.conversions.groupby("campaign_id").transform("sum").where(lambda k: k > 0)
    margin_per_conversion = (margin / total.conversions.where(total.conversions > 0)) \
        .fillna(campaign_margin_per_conversion).fillna(0.0)
    opens = used.opens.where(used.opens > 0)
    weight = total.opens / total.opens.groupby("campaign_id").transform("sum").where(lambda o: o > 0)
    device_margin = ((used.revenue - used.reward_cost) / opens).fillna(0.0)
    device_reward = (used.reward_cost / opens).fillna(0.0)
    device_se = (counting_error(used.conversions.to_numpy()) * margin_per_conversion.clip(lower=0) / opens).fillna(0.0)
    out = pd.DataFrame({
        "open_margin": (weight * device_margin).groupby("campaign_id").sum(),
        "open_reward": (weight * device_reward).groupby("campaign_id").sum(),
        "open_margin_se": np.sqrt((weight ** 2 * device_se ** 2).groupby("campaign_id").sum()),
        "open_conversions": used.conversions.groupby("campaign_id").sum(),
    })
    rate = lambda k, o: float(k / o) if o > 0 else float("nan")
    notes = {}
    for i in np.flatnonzero(changed):
        campaign_id, device = both.index[i]
        row = both.iloc[i]
        notes.setdefault(campaign_id, []).append({
            "device": str(device), "before": rate(row.conversions_before, row.opens_before),
            "after": rate(row.conversions_last, row.opens_last), "p_value": float(p_values[i])})
    out["open_changed"] = [notes.get(c, []) for c in out.index]
    return out.reset_index()[columns]
