"""Why did a KPI change: its change between two periods split over the groups of one dimension
(campaigns, segments, channels, regions, devices), each group's contribution summing exactly
to the total change, with a noise band from the counts.

Sums (sends, conversions, revenue, cost, …): a group's contribution is its own change.

Ratios (delivery, open and conversion rate, CTR, ROI): the KPI is sum(shares × rates), a
group's share being its part of the denominator (sends, clicks, cost, …). Its change per group
is split into
- rate: the group's rate moved, at the group's average share,
      (r1 − r0) · (s0 + s1) / 2
- mix:  the group's share moved, valued at how far its average rate lies from the KPI's average,
      (s1 − s0) · ((r0 + r1) / 2 − (R0 + R1) / 2)
This is the symmetric (Shapley) split of the two factors, so no residual is left; the shares
sum to 1 in both periods, so centring the mix term on the KPI's average changes no total, but it
means that a group gaining share at the average rate explains nothing, as it should. A group
with no denominator in one period has no rate there; its rate from the other period stands in,
so all of its contribution is mix (it came or went).

Noise, as a 95 % interval around each contribution (it "exceeds noise" when the interval
excludes 0):
- counts: Poisson, var(count) = count in each period;
- money: Poisson in the number of events, each at the group's mean value (revenue and reward
  cost per conversion, cost per send); value spread is not in the rollups, so this band is a
  lower bound;
- rates: the delta method, each group's rate binomial given its denominator as observed
  (variance r̃(1 − r̃)/d with r̃ = (n + ½)/(d + 1), so that a rate of 0 or 1 is not certain);
- ROI: the delta method on revenue / cost, both Poisson in conversions at the group's mean
  values (send cost given the sends).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from core.analytics import campaigns
from core.analytics.metrics import ADDITIVE_COLUMNS, METRICS, add_metrics
from core.analytics.periods import Period

Z95 = 1.959963984540054
GROUPINGS = {"campaign": "Campaign", "segment": "Segment", "channel": "Channel", "region": "Region",
             "device": "Device"}
CUMULATIVE = {"reach_conversion"}  # since each campaign's start: not a change between two periods
DECOMPOSABLE = [key for key in METRICS if key not in CUMULATIVE]
SUM_BASE = "sends"                 # a sum's yield per send describes how a group's sum moved

NOISE = {
    "count": "Poisson counts",
    "USD": "Poisson in the number of events at each group's mean value (value spread not counted)",
    "%": "delta method, rates binomial given their denominators",
    "ratio": "delta method, revenue and reward cost Poisson in conversions at each group's mean values",
}


@dataclass(frozen=True)
class Shape:
    """How a KPI is built from the additive columns."""
    key: str
    kind: str                      # "sum" or "ratio"
    numerator: str
    denominator: str | None = None
    offset: float = 0.0            # ROI = revenue / cost − 1


def shape(kpi: str) -> Shape:
    if kpi in CUMULATIVE:
        raise ValueError(f"{METRICS[kpi].label} counts members from each campaign's start to the period's end, "
                         "so its change between two periods is mostly the passing of time; it is not decomposed. "
                         "Pick a rate of the period instead (e.g. conversion rate).")
    if kpi not in METRICS:
        raise ValueError(f"Unknown KPI {kpi!r}; choose one of {', '.join(DECOMPOSABLE)}.")
    if kpi == "roi":
        return Shape(kpi, "ratio", "revenue", "cost", offset=-1.0)
    metric = METRICS[kpi]
    if metric.numerator:
        return Shape(kpi, "ratio", metric.numerator, metric.denominator)
    return Shape(kpi, "sum", kpi)


@dataclass
class Decomposition:
    kpi: str
    by: str
    before: float                  # the KPI over all groups, comparison period
    after: float                   # and current period
    change_low: float              # 95 % interval of the total change
    change_high: float
    noise: str                     # how the intervals were made
    groups: pd.DataFrame = field(repr=False)
    """One row per group, largest |contribution| first: label, before, after (the group's own
    KPI), volume_before, volume_after (its denominator, or sends for a sum), share_before,
    share_after, mix, rate (NaN for sums), contribution, low, high, exceeds_noise,
    share_of_change (contribution / total change)."""

    @property
    def change(self) -> float:
        return self.after - self.before

    @property
    def exceeds_noise(self) -> bool:
        return bool(self.change_low > 0 or self.change_high < 0)

    @property
    def kind(self) -> str:
        return shape(self.kpi).kind

    def main(self) -> pd.Series | None:
        """The group that moved the KPI most in the direction it moved (None without a change)."""
        if not len(self.groups) or self.change == 0 or not np.isfinite(self.change):
            return None
        signed = self.groups.contribution * np.sign(self.change)
        return self.groups.loc[signed.idxmax()]

    def driver(self, group: pd.Series) -> str | None:
        """For a ratio, which factor moved the group's contribution most: "rate" or "mix"."""
        if self.kind != "ratio":
            return None
        return "rate" if abs(group["rate"]) >= abs(group["mix"]) else "mix"


def _aligned(before: pd.DataFrame, after: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both periods over the union of their groups (a group absent from one has zeros there),
    with every metric derived from the additive columns."""
    groups = before.index.union(after.index)
    columns = [c for c in ADDITIVE_COLUMNS if c in before.columns or c in after.columns]

    def complete(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.reindex(index=groups, columns=columns)
        return add_metrics(frame.astype(float).fillna(0.0))

    return complete(before), complete(after)


def _binomial_variance(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    smoothed = (numerator + 0.5) / (denominator + 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        variance = np.where(smoothed <= 1, smoothed * (1 - smoothed), smoothed) / denominator
    return np.where(denominator > 0, variance, 0.0)


def _per_event(total: np.ndarray, events: np.ndarray) -> np.ndarray:
    """var(total) for a Poisson number of events each at the mean value total / events."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(events > 0, total ** 2 / np.where(events > 0, events, 1), 0.0)


def _sum_variance(frame: pd.DataFrame, kpi: str) -> np.ndarray:
    if kpi == "revenue":
        return _per_event(frame.revenue.to_numpy(), frame.conversions.to_numpy())
    if kpi == "cost":
        return (_per_event(frame.send_cost.to_numpy(), frame.sends.to_numpy())
                + _per_event(frame.reward_cost.to_numpy(), frame.conversions.to_numpy()))
    return frame[kpi].to_numpy(dtype=float)


def _rate_variance(frame: pd.DataFrame, spec: Shape) -> np.ndarray:
    if spec.key == "roi":
        # q = revenue / cost with revenue and reward cost both carried by the conversions:
        # var(q) = q² (send_cost / cost)² / conversions (delta method, see the module's notes)
        cost = frame.cost.to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.where(cost > 0, frame.revenue.to_numpy() / np.where(cost > 0, cost, 1), 0.0)
            part = np.where(cost > 0, frame.send_cost.to_numpy() / np.where(cost > 0, cost, 1), 0.0)
        return _per_event(q * part, frame.conversions.to_numpy())
    return _binomial_variance(frame[spec.numerator].to_numpy(dtype=float), frame[spec.denominator].to_numpy(dtype=float))


def decompose_frames(before: pd.DataFrame, after: pd.DataFrame, kpi: str, by: str = "group",
                     labels: dict | None = None) -> Decomposition:
    """Decompose the KPI's change from `before` to `after`: frames indexed by group with the
    additive columns (core.analytics.metrics.ADDITIVE_COLUMNS) the KPI needs."""
    spec = shape(kpi)
    old, new = _aligned(before, after)
    index = old.index
    label = pd.Series([str((labels or {}).get(g, g)) for g in index], index=index)
    if spec.kind == "sum":
        value0, value1 = old[kpi].to_numpy(), new[kpi].to_numpy()
        contribution = value1 - value0
        variance = _sum_variance(old, kpi) + _sum_variance(new, kpi)
        total_before, total_after = value0.sum(), value1.sum()
        total_variance = variance.sum()
        volume0, volume1 = old[SUM_BASE].to_numpy(), new[SUM_BASE].to_numpy()
        share0 = volume0 / volume0.sum() if volume0.sum() else np.zeros(len(index))
        share1 = volume1 / volume1.sum() if volume1.sum() else np.zeros(len(index))
        mix = rate = np.full(len(index), np.nan)
        group_before, group_after = value0, value1
    else:
        n0, n1 = old[spec.numerator].to_numpy(float), new[spec.numerator].to_numpy(float)
        volume0, volume1 = old[spec.denominator].to_numpy(float), new[spec.denominator].to_numpy(float)
        d0, d1 = volume0.sum(), volume1.sum()
        share0 = volume0 / d0 if d0 else np.zeros(len(index))
        share1 = volume1 / d1 if d1 else np.zeros(len(index))
        with np.errstate(divide="ignore", invalid="ignore"):
            rate0 = np.where(volume0 > 0, n0 / np.where(volume0 > 0, volume0, 1), np.nan)
            rate1 = np.where(volume1 > 0, n1 / np.where(volume1 > 0, volume1, 1), np.nan)
        # a group missing from one period: the other period's rate stands in (all of it is mix)
        rate0, rate1 = np.where(np.isnan(rate0), rate1, rate0), np.where(np.isnan(rate1), rate0, rate1)
        rate0, rate1 = np.nan_to_num(rate0), np.nan_to_num(rate1)
        kpi0, kpi1 = float(share0 @ rate0), float(share1 @ rate1)
        average = (kpi0 + kpi1) / 2
        mix = (share1 - share0) * ((rate0 + rate1) / 2 - average)
        rate = (rate1 - rate0) * (share0 + share1) / 2
        contribution = mix + rate
        # delta method: the derivative of each group's contribution by every group's rate
        v0, v1 = _rate_variance(old, spec), _rate_variance(new, spec)
        w0, w1 = float(share0 ** 2 @ v0), float(share1 ** 2 @ v1)   # var of the KPI in each period
        moved = (share1 - share0) / 2
        own1 = share1 - moved * share1
        own0 = -share0 - moved * share0
        variance = (own1 ** 2 * v1 + own0 ** 2 * v0
                    + moved ** 2 * (w1 - share1 ** 2 * v1 + w0 - share0 ** 2 * v0))
        total_before = kpi0 + spec.offset if d0 else np.nan
        total_after = kpi1 + spec.offset if d1 else np.nan
        total_variance = w0 + w1
        group_before = np.where(volume0 > 0, rate0 + spec.offset, np.nan)
        group_after = np.where(volume1 > 0, rate1 + spec.offset, np.nan)
    spread = Z95 * np.sqrt(np.maximum(variance, 0))
    change = total_after - total_before
    groups = pd.DataFrame({
        "label": label, "before": group_before, "after": group_after,
        "volume_before": volume0, "volume_after": volume1, "share_before": share0, "share_after": share1,
        "mix": mix, "rate": rate, "contribution": contribution,
        "low": contribution - spread, "high": contribution + spread,
        "exceeds_noise": (spread > 0) & (np.abs(contribution) > spread),
        "share_of_change": contribution / change if change and np.isfinite(change) else np.nan,
    }, index=index)
    groups.index.name = by
    groups = groups.iloc[np.argsort(-np.abs(groups.contribution.to_numpy()), kind="stable")]
    total_spread = Z95 * np.sqrt(max(total_variance, 0.0))
    return Decomposition(kpi, by, float(total_before), float(total_after), float(change - total_spread),
                         float(change + total_spread), NOISE[METRICS[kpi].unit], groups)


def grouped_totals(db: Engine, period: Period, comparison: Period, campaign_ids, by: str
                   ) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The additive columns per group of `by` for the comparison period and the period (each
    indexed by group), and the groups' labels — from the same rollups as the KPI cards."""
    if by not in GROUPINGS:
        raise ValueError(f"Unknown grouping {by!r}; choose one of {', '.join(GROUPINGS)}.")
    if by == "campaign":
        frame = campaigns.totals_by_campaign(db, period, campaign_ids, comparison)
        labels = dict(zip(frame.campaign_id, frame.name))
        frame = frame.rename(columns={"campaign_id": "group"})
    else:
        frame = campaigns.breakdowns(db, period, campaign_ids, comparison)
        frame = frame[frame.dimension == by].rename(columns={"value": "group"})
        labels = {}
    columns = [c for c in ADDITIVE_COLUMNS if c in frame]
    parts = {name: frame[frame.period == name].set_index("group")[columns] for name in ("comparison", "current")}
    return parts["comparison"], parts["current"], labels


def decompose(db: Engine, kpi: str, period: Period, comparison: Period, campaign_ids=None,
              by: str = "campaign") -> Decomposition:
    """Why the KPI of the chosen campaigns changed from `comparison` to `period`, by `by`."""
    shape(kpi)  # refuse a KPI that cannot be decomposed before reading anything
    if comparison is None:
        raise ValueError("There is no comparison period to explain a change against; pick one.")
    before, after, labels = grouped_totals(db, period, comparison, campaign_ids, by)
    return decompose_frames(before, after, kpi, by, labels)


# --- in plain words ----------------------------------------------------------------------------
# The words are built here, the numbers written by the formatter the caller passes (the app's
# ui.format: core never imports ui). The sentence is plain text, not Markdown: it carries
# campaign and segment names, so whoever shows it escapes it as a whole.

def _moved(after: float, before: float, rose: str = "rose", fell: str = "fell") -> str:
    if not (np.isfinite(after) and np.isfinite(before)) or np.isclose(after, before, rtol=1e-9, atol=1e-12):
        return "held steady"
    return rose if after > before else fell


def _change_text(result: Decomposition, fmt) -> tuple[str, str]:
    """The change as the KPI's unit wants it: rates in percentage points; counts and money in %
    (first) and absolute (second, in brackets after the comparison)."""
    unit = METRICS[result.kpi].unit
    if unit in ("%", "ratio"):
        return fmt.points(result.change), ""
    absolute = fmt.money(result.change, signed=True) if unit == "USD" else fmt.decimal(result.change, 0, signed=True)
    if not result.before:
        return absolute, ""
    return fmt.percent(result.change / abs(result.before), 1, signed=True), f" ({absolute})"


def _why(result: Decomposition, group: pd.Series) -> str:
    spec = shape(result.kpi)
    if spec.kind == "sum":
        base = METRICS[SUM_BASE].label.lower()
        if spec.key == SUM_BASE:
            return ""
        if not group.volume_before or not group.volume_after:
            return f", which had no {base} {'before' if not group.volume_before else 'this period'}"
        per = f"{METRICS[spec.key].label.lower()} per send"
        yield_moved = _moved(group.after / group.volume_after, group.before / group.volume_before)
        return f", where {per} {yield_moved} while {base} {_moved(group.volume_after, group.volume_before)}"
    denominator = "cost" if spec.key == "roi" else METRICS[spec.denominator].label.lower()
    if not group.volume_before or not group.volume_after:
        return f", which had no {denominator} {'before' if not group.volume_before else 'this period'}"
    rate_word = "ROI" if spec.key == "roi" else "the rate"
    return (f", where {rate_word} {_moved(group.after, group.before)} while its share of {denominator} "
            f"{_moved(group.share_after, group.share_before)}")


def summary(result: Decomposition, fmt, versus: str = "the comparison period") -> str:
    """One plain sentence: "Conversions 87, -38.3% vs 141 the week before (-54); 80% of the
    change from ArcadeOne #2, where conversions per send fell while sends rose." `fmt` writes the
    numbers (ui.format or anything with its functions)."""
    label = METRICS[result.kpi].label
    now, before = fmt.metric_value(result.kpi, result.after), fmt.metric_value(result.kpi, result.before)
    if not np.isfinite(result.change):
        return f"{label} {now}; nothing to compare with in {versus} ({before})."
    if result.change == 0:
        return f"{label} {now}, unchanged from {versus}."
    relative, absolute = _change_text(result, fmt)
    sentence = f"{label} {now}, {relative} vs {before} {versus}{absolute}"
    if not result.exceeds_noise:
        sentence += ", within the noise of the counts"
    main = result.main()
    if main is None or main.contribution * result.change <= 0:
        return sentence + "."
    name = _group_name(result.by, main.label, fmt)
    if main.share_of_change > 1:
        part = f"more than all of the change from {name} (other {result.by}s moved the other way)"
    else:
        part = f"{fmt.percent(main.share_of_change, 0)} of the change from {name}"
    noise = "" if main.exceeds_noise else " (within noise)"
    return f"{sentence}; {part}{_why(result, main)}{noise}."


def _group_name(by: str, label: str, fmt) -> str:
    """Segment and channel keys as words (deal_seeker -> deal seeker) when the formatter can."""
    writer = {"segment": "segment_label", "channel": "channel_label"}.get(by)
    return getattr(fmt, writer)(label) if writer and hasattr(fmt, writer) else label
