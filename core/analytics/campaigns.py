"""Campaign analytics (Screen 1): portfolio, KPI cards with comparison, time series,
breakdowns and trend — every number from the rollups, every metric from core.analytics.metrics."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from scipy import stats
from sqlalchemy import Engine

from core.platform.db import fetch_df
from core.analytics.metrics import METRICS, add_metrics, relative_change, totals
from core.analytics.periods import Period, comparison_period

KPI_KEYS = ["sends", "delivery_rate", "open_rate", "ctr", "conversion_rate", "reach_conversion",
            "revenue", "cost", "roi"]
PORTFOLIO_COLUMNS = ["campaign_id", "name", "channel", "segment", "status", "sends", "delivery_rate",
                     "open_rate", "ctr", "conversion_rate", "conversions", "revenue", "cost", "roi"]


def list_campaigns(db: Engine) -> pd.DataFrame:
    return fetch_df(db, "campaigns_list")


def _ids(db: Engine, campaign_ids) -> list[int]:
    if campaign_ids is None:
        return list_campaigns(db).campaign_id.astype(int).tolist()
    return [int(i) for i in campaign_ids]


def _comparison_bounds(comparison: Period | None) -> dict:
    """The comparison period's bind parameters (cmp_start_at, …), all None without one."""
    other = comparison.bounds() if comparison else dict.fromkeys(["start_at", "end_at", "day_from", "day_to"])
    return {f"cmp_{key}": value for key, value in other.items()}


def _totals_frame(db: Engine, period: Period, campaign_ids, comparison: Period | None = None,
                  with_reach: bool = False) -> pd.DataFrame:
    """Per campaign and period ('current', and 'comparison' when given): counts, money, metrics."""
    frame = fetch_df(db, "campaign_totals", campaign_ids=_ids(db, campaign_ids), with_reach=with_reach,
                     **period.bounds(), **_comparison_bounds(comparison))
    if not with_reach:
        frame = frame.drop(columns=["delivered_members", "converting_members"])
    return frame


def totals_by_campaign(db: Engine, period: Period, campaign_ids, comparison: Period | None = None) -> pd.DataFrame:
    """Counts and money per campaign (with name, channel, segment, status) for the period and,
    when given, the comparison period (column `period`: "current", "comparison"): the rows the
    KPI cards add up."""
    return _totals_frame(db, period, campaign_ids, comparison)


def campaign_totals(db: Engine, period: Period, campaign_ids=None) -> pd.DataFrame:
    """One row per campaign with counts, money and every metric, for the period."""
    return add_metrics(_totals_frame(db, period, campaign_ids).drop(columns="period"))


def portfolio(db: Engine, period: Period) -> pd.DataFrame:
    return campaign_totals(db, period)[PORTFOLIO_COLUMNS]


def top_campaigns(portfolio_frame: pd.DataFrame, by: str = "revenue", n: int = 5) -> pd.DataFrame:
    return portfolio_frame.sort_values(by, ascending=False, na_position="last").head(n)


def period_summaries(db: Engine, period: Period, campaign_ids, comparison: Period | None = None) -> dict[str, pd.Series]:
    """Totals of the chosen campaigns with reach and every metric, for the period and the
    comparison period, from one query: {"current": …, "comparison": …}. All campaigns (None)
    read the all-campaigns rollups: the same sums, without one row per campaign."""
    if campaign_ids is None:
        frame = fetch_df(db, "all_campaigns_totals", start_at=period.start_at, end_at=period.end_at,
                         cmp_start_at=comparison.start_at if comparison else None,
                         cmp_end_at=comparison.end_at if comparison else None)
    else:
        frame = _totals_frame(db, period, campaign_ids, comparison, with_reach=True)
    summed = totals(frame, by="period", groups=["current"] + (["comparison"] if comparison else []))
    return {name: summed.loc[name] for name in summed.index}


def period_summary(db: Engine, period: Period, campaign_ids) -> pd.Series:
    return period_summaries(db, period, campaign_ids)["current"]


@dataclass
class KpiCard:
    key: str
    label: str
    unit: str
    value: float
    previous: float | None
    change: float | None
    higher_is_better: bool


def kpi_cards(db: Engine, period: Period, campaign_ids, comparison: str = "previous") -> list[KpiCard]:
    other = comparison_period(period, comparison)
    summaries = period_summaries(db, period, campaign_ids, other)
    current, previous = summaries["current"], summaries.get("comparison")
    cards = []
    for key in KPI_KEYS:
        metric = METRICS[key]
        before = float(previous[key]) if previous is not None else None
        cards.append(KpiCard(key, metric.label, metric.unit, float(current[key]), before,
                             relative_change(float(current[key]), before) if before is not None else None,
                             metric.higher_is_better))
    return cards


def series(db: Engine, period: Period, campaign_ids, grain: str = "day", now: datetime | None = None) -> pd.DataFrame:
    """Metrics per local hour/day/week; `bucket` is local time in period.tz, `incomplete` marks
    the bucket that has not ended yet."""
    if grain not in ("hour", "day", "week"):
        raise ValueError(f"Unknown grain {grain!r}; choose hour, day or week.")
    if campaign_ids is None:  # all campaigns: the all-campaigns rollup, the same sums
        frame = fetch_df(db, "all_campaigns_series", grain=grain, tz=period.tz, start_at=period.start_at,
                         end_at=period.end_at)
    else:
        frame = fetch_df(db, "campaign_series", campaign_ids=_ids(db, campaign_ids), grain=grain, tz=period.tz,
                         start_at=period.start_at, end_at=period.end_at)
    frame = add_metrics(frame)
    now_local = (now or datetime.now(timezone.utc)).astimezone(ZoneInfo(period.tz)).replace(tzinfo=None)
    step = {"hour": pd.Timedelta(hours=1), "day": pd.Timedelta(days=1), "week": pd.Timedelta(weeks=1)}[grain]
    if len(frame):
        frame["bucket"] = pd.to_datetime(frame.bucket)
        frame["incomplete"] = frame.bucket + step > pd.Timestamp(now_local)
    else:
        frame["incomplete"] = pd.Series(dtype=bool)
    return frame


def breakdowns(db: Engine, period: Period, campaign_ids, comparison: Period | None = None) -> pd.DataFrame:
    """Metrics by segment, device, region and channel for the period and, when given, the
    comparison period (column `period`: "current", "comparison"), over the viewer's local days:
    each dimension's rows add up to the KPI cards of the same period (see the query)."""
    if campaign_ids is None:  # all campaigns: the all-campaigns rollups, the same rows
        frame = fetch_df(db, "all_campaigns_breakdown", **period.bounds(), **_comparison_bounds(comparison))
    else:
        frame = fetch_df(db, "campaign_breakdown", campaign_ids=_ids(db, campaign_ids), **period.bounds(),
                         **_comparison_bounds(comparison))
    return add_metrics(frame)


def breakdown(db: Engine, period: Period, campaign_ids) -> pd.DataFrame:
    """Metrics by segment, device, region and channel over the period's local days."""
    frame = breakdowns(db, period, campaign_ids)
    return frame.drop(columns="period").reset_index(drop=True)


@dataclass
class Trend:
    metric: str
    slope_per_week: float     # relative change per week of the fitted line, e.g. 0.03 = +3 %/week
    p_value: float
    direction: str            # "up", "down", "flat"


def trend(daily: pd.DataFrame, metric: str = "conversions", alpha: float = 0.05) -> Trend | None:
    """Least-squares trend of a daily metric over complete days: slope, and whether it is
    distinguishable from flat."""
    complete = daily[~daily.incomplete] if "incomplete" in daily else daily
    values = complete[metric].astype(float).to_numpy()
    keep = np.isfinite(values)
    if keep.sum() < 7:
        return None
    x = np.arange(len(values))[keep]
    fit = stats.linregress(x, values[keep])
    level = np.nanmean(values[keep])
    slope = 7 * fit.slope / level if level else float("nan")
    direction = "flat" if not (fit.pvalue < alpha) else ("up" if fit.slope > 0 else "down")
    return Trend(metric, float(slope), float(fit.pvalue), direction)


# Δ columns of the portfolio: counts and money change in absolute terms and relative to
# before (a fraction); ROI changes as a difference of fractions (0.108 = +10.8 points).
CHANGE_COLUMNS = ["conversions_change", "conversions_change_rel", "revenue_change", "revenue_change_rel",
                  "roi_change"]


@dataclass
class PortfolioComparison:
    campaigns: pd.DataFrame      # PORTFOLIO_COLUMNS, then CHANGE_COLUMNS (NaN without a comparison)
    totals: pd.Series            # every metric of all campaigns together, ratios of the sums
    previous_totals: pd.Series | None


def portfolio_comparison(db: Engine, period: Period, comparison: Period | None) -> PortfolioComparison:
    """The portfolio with its change against `comparison` per campaign, and the totals of both
    periods — sums of the rollups' counts and money, every ratio derived from the sums
    (core.analytics.metrics.totals), never a mean of the campaigns' ratios. One query."""
    frame = _totals_frame(db, period, None, comparison)
    current = add_metrics(frame[frame.period == "current"].drop(columns="period")).set_index("campaign_id")
    out = current.reset_index()[PORTFOLIO_COLUMNS].copy()
    summed = totals(frame, by="period", groups=["current"] + (["comparison"] if comparison else []))
    previous_totals = None
    if comparison is not None:
        before = add_metrics(frame[frame.period == "comparison"].drop(columns="period")).set_index("campaign_id")
        before = before.reindex(out.campaign_id)
        for key in ("conversions", "revenue"):
            now, then = out[key].to_numpy(dtype=float), before[key].to_numpy(dtype=float)
            out[f"{key}_change"] = now - then
            with np.errstate(divide="ignore", invalid="ignore"):
                out[f"{key}_change_rel"] = np.where(then > 0, (now - then) / np.where(then > 0, then, 1), np.nan)
        out["roi_change"] = out.roi.to_numpy(dtype=float) - before.roi.to_numpy(dtype=float)
        previous_totals = summed.loc["comparison"]
    else:
        for column in CHANGE_COLUMNS:
            out[column] = np.nan
    return PortfolioComparison(out, summed.loc["current"], previous_totals)
