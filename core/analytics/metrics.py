"""The one definition of every campaign metric (SPEC "Metric definitions").

SQL sums the counts from the rollups; the ratios are computed here, once, from those sums, so
the portfolio, the KPI cards, the time series, the breakdowns and the exports agree.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

COUNT_COLUMNS = ["sends", "delivered", "opens", "impressions", "clicks", "conversions"]
MONEY_COLUMNS = ["revenue", "reward_cost", "send_cost"]


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str            # "%", "USD", "count", "ratio"
    numerator: str | None = None
    denominator: str | None = None
    higher_is_better: bool = True
    help: str = ""


METRICS: dict[str, Metric] = {m.key: m for m in [
    Metric("sends", "Sends", "count", help="Messages sent"),
    Metric("delivered", "Delivered", "count"),
    Metric("opens", "Opens", "count"),
    Metric("impressions", "Impressions", "count"),
    Metric("clicks", "Clicks", "count"),
    Metric("conversions", "Conversions", "count"),
    Metric("delivery_rate", "Delivery rate", "%", "delivered", "sends", help="delivered / sends"),
    Metric("open_rate", "Open rate", "%", "opens", "delivered", help="opens / delivered"),
    Metric("ctr", "CTR", "%", "clicks", "impressions", help="clicks / impressions"),
    Metric("conversion_rate", "Conversion rate", "%", "conversions", "clicks", help="conversions / clicks"),
    Metric("reach_conversion", "Reach conversion", "%", "converting_members", "delivered_members",
           help="members converted / members reached, cumulative from the campaign's start to the period's end"),
    Metric("revenue", "Revenue", "USD", help="sum of conversion revenue"),
    Metric("cost", "Cost", "USD", higher_is_better=False, help="sends × cost per send + reward cost"),
    Metric("roi", "ROI", "ratio", help="(revenue − cost) / cost"),
]}
RATE_METRICS = [m for m in METRICS.values() if m.numerator]


def ratio(numerator, denominator):
    """numerator / denominator, NaN (not inf, not 0) where the denominator is 0."""
    numerator = np.asarray(numerator, dtype=float)
    denominator = np.asarray(denominator, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan)


ADDITIVE_COLUMNS = COUNT_COLUMNS + MONEY_COLUMNS + ["converting_members", "delivered_members"]


def add_metrics(frame: pd.DataFrame) -> pd.DataFrame:
    """Add cost, ROI and every rate whose inputs the frame has. Returns a new frame."""
    # Built as one dict of numpy arrays and one DataFrame: per-column astype/insert on a frame
    # costs more than the SQL behind a KPI card.
    columns = {name: frame[name].to_numpy() for name in frame.columns}
    for name in ADDITIVE_COLUMNS:
        if name in columns:
            columns[name] = np.asarray(columns[name], dtype=float if name in MONEY_COLUMNS else np.int64)
    if {"send_cost", "reward_cost"} <= columns.keys():
        columns["cost"] = columns["send_cost"] + columns["reward_cost"]
    if "revenue" in columns and "cost" in columns:
        columns["roi"] = ratio(columns["revenue"] - columns["cost"], columns["cost"])
    for metric in RATE_METRICS:
        if metric.numerator in columns and metric.denominator in columns:
            columns[metric.key] = ratio(columns[metric.numerator], columns[metric.denominator])
    return pd.DataFrame(columns, index=frame.index)


def totals(frame: pd.DataFrame, by: str | None = None, groups: list | None = None) -> pd.Series | pd.DataFrame:
    """Sum the additive columns of frame (per `by` group when given, with a zero row for each
    of `groups` that has no rows) and derive the metrics of the sums — ratios of sums, never
    means of ratios."""
    additive = [c for c in ADDITIVE_COLUMNS if c in frame]
    # missing values count as zero, as in a SQL sum over no rows
    values = np.nan_to_num(np.column_stack([np.asarray(frame[c].to_numpy(), dtype=float) for c in additive])) \
        if len(frame) else np.zeros((0, len(additive)))
    if by is None:
        return add_metrics(pd.DataFrame([values.sum(axis=0)], columns=additive)).iloc[0]
    keys = frame[by].to_numpy()
    names = list(groups) if groups is not None else sorted(set(keys))
    summed = np.array([values[keys == name].sum(axis=0) for name in names]).reshape(len(names), len(additive))
    return add_metrics(pd.DataFrame(summed, columns=additive, index=pd.Index(names, name=by)))


def relative_change(current: float, previous: float) -> float:
    if previous is None or not np.isfinite(previous) or previous == 0 or not np.isfinite(current):
        return float("nan")
    return (current - previous) / abs(previous)


def format_value(key: str, value: float) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    unit = METRICS[key].unit if key in METRICS else "count"
    if unit == "%":
        return f"{value:.2%}"
    if unit == "USD":
        return f"${value:,.0f}" if abs(value) >= 1000 else f"${value:,.2f}"
    if unit == "ratio":
        return f"{value:+.1%}"
    return f"{value:,.0f}"
