"""Member–category affinity: how much more (or less) a member clicks and converts on offers of a
category than members of their segment do, from time-decayed engagement.

For each member m and category c (counts decayed with a half-life, see core.optimize.inputs):

    click-through    ctr_mc = (clicks + a·ctr_sc) / (impressions + a)
    conversion rate  cvr_mc = (conversions + b·cvr_sc) / (clicks + b)
    affinity         score_mc = (ctr_mc / ctr_sc) · (cvr_mc / cvr_sc)

where ctr_sc, cvr_sc are the rates of the member's segment in that category — dividing by them
normalises for category popularity (a category everyone likes scores 1 for an average member)
— and a, b are beta-binomial prior strengths fitted to the raw counts by maximum marginal
likelihood (empirical Bayes: members with little history stay near 1).
Expected engagement = decayed impressions · ctr_mc · (1 + cvr_mc): what the member will
probably engage with next, given what they are being shown — used for hit rate at 3.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.optimize.evaluation import Interval, hit_rate_at_k, wilson
from core.optimize.shrinkage import fit_beta_binomial_concentration

TOP_K = 3


@dataclass
class AffinityFit:
    scores: pd.DataFrame        # member_id, category, score, expected_engagement, impressions, clicks, conversions, rank
    categories: list[str]
    click_strength: float
    conversion_strength: float
    segment_rates: pd.DataFrame  # segment, category, engagement per impression relative to everyone's

    def matrix(self, column: str = "score", fill: float = 1.0) -> pd.DataFrame:
        return self.scores.pivot(index="member_id", columns="category", values=column).reindex(
            columns=self.categories).fillna(fill)

    def top(self, k: int = TOP_K) -> pd.DataFrame:
        return self.scores[self.scores["rank"] <= k]

    def segment_frame(self, members: pd.DataFrame) -> pd.DataFrame:
        """Per segment and category: the segment's engagement per impression relative to all
        members' in that category (1 = like everyone; popularity-normalised like the member
        scores), and the share of the segment's members with the category in their top 3."""
        frame = self.scores.merge(members[["member_id", "segment"]], on="member_id")
        size = members.groupby("segment").member_id.count()
        top = frame[(frame["rank"] <= TOP_K) & (frame.impressions > 0)].groupby(["segment", "category"]).member_id.count()
        out = self.segment_rates.set_index(["segment", "category"]).join(top.rename("in_top3"), how="left")
        out = out.fillna({"in_top3": 0}).reset_index()
        out["members"] = out.segment.map(size).fillna(0).astype(int)
        out["top3_share"] = out.in_top3 / out.members.clip(lower=1)
        return out[["segment", "category", "mean_score", "top3_share", "members"]]


def _columns(which: str) -> dict[str, str]:
    if which == "fit":
        return {"imp_w": "fit_impressions", "clk_w": "fit_clicks", "conv_w": "fit_conversions",
                "imp": "impressions", "clk": "clicks", "conv": "conversions"}
    if which == "train":
        return {"imp_w": "train_impressions", "clk_w": "train_clicks", "conv_w": "train_conversions",
                "imp": "train_raw_impressions", "clk": "train_raw_clicks", "conv": "train_raw_conversions"}
    raise ValueError(f"which must be 'fit' or 'train', not {which!r}")


def fit(engagement: pd.DataFrame, members: pd.DataFrame, categories: list[str], which: str = "fit") -> AffinityFit:
    """Affinity of every member for every category (1 where the member saw nothing of it)."""
    names = _columns(which)
    frame = engagement.rename(columns={v: k for k, v in names.items()})[["member_id", "category", *names]]
    frame = frame.merge(members[["member_id", "segment"]], on="member_id", how="inner")
    for column in names:
        frame[column] = frame[column].astype(float)
    group = frame.groupby(["segment", "category"])
    sums = group[["imp_w", "clk_w", "conv_w"]].transform("sum")
    ctr = (sums.clk_w / sums.imp_w.where(sums.imp_w > 0)).fillna(0).clip(1e-6, 1 - 1e-6)
    cvr = (sums.conv_w / sums.clk_w.where(sums.clk_w > 0)).fillna(0).clip(1e-6, 1 - 1e-6)
    a = fit_beta_binomial_concentration(np.minimum(frame.clk, frame.imp), frame.imp, ctr)
    b = fit_beta_binomial_concentration(np.minimum(frame.conv, frame.clk), frame.clk, cvr)
    member_ctr = (frame.clk_w + a * ctr) / (frame.imp_w + a)
    member_cvr = (frame.conv_w + b * cvr) / (frame.clk_w + b)
    frame["score"] = (member_ctr / ctr) * (member_cvr / cvr)
    frame["expected_engagement"] = frame.imp_w * member_ctr * (1 + member_cvr)

    grid = pd.MultiIndex.from_product([members.member_id.to_numpy(), categories], names=["member_id", "category"])
    scores = frame.set_index(["member_id", "category"])[["score", "expected_engagement", "imp", "clk", "conv"]]
    scores = scores.reindex(grid).reset_index()
    scores = scores.fillna({"score": 1.0, "expected_engagement": 0.0, "imp": 0, "clk": 0, "conv": 0})
    scores = scores.rename(columns={"imp": "impressions", "clk": "clicks", "conv": "conversions"})
    for column in ("impressions", "clicks", "conversions"):
        scores[column] = scores[column].astype(int)
    engaged = frame.assign(engaged=frame.clk_w + frame.conv_w)
    by_segment = engaged.groupby(["segment", "category"])[["engaged", "imp_w"]].sum()
    everyone = engaged.groupby("category")[["engaged", "imp_w"]].sum()
    relative = (by_segment.engaged / by_segment.imp_w.where(by_segment.imp_w > 0)) / \
        (everyone.engaged / everyone.imp_w.where(everyone.imp_w > 0)).reindex(by_segment.index, level="category")
    segment_rates = relative.rename("mean_score").reset_index().dropna()
    order = {c: i for i, c in enumerate(categories)}
    scores["_order"] = scores.category.map(order)
    scores = scores.sort_values(["member_id", "score", "_order"], ascending=[True, False, True])
    scores["rank"] = scores.groupby("member_id").cumcount().astype(np.int16) + 1
    return AffinityFit(scores.drop(columns="_order").reset_index(drop=True), categories, float(a), float(b),
                       segment_rates)


@dataclass(frozen=True)
class AffinityCheck:
    """Hit rate at 3 on the held-out weeks: the share of members who engaged then whose
    engagement fell in their top 3 categories, for the model and the baselines."""
    members: int
    model: Interval                # ranked by expected engagement (decayed exposure × affinity)
    popularity: Interval           # everyone gets the 3 most engaged-with categories
    exposure_only: Interval        # decayed exposure × segment rates, no personal affinity
    own_history: Interval          # the member's own raw click + conversion counts
    # Exposure-neutral check: held-out clicks per held-out impression in the member's top 3
    # categories by each ranking (what the member prefers among what they are shown).
    click_rate_model: Interval | None = None
    click_rate_popularity: Interval | None = None      # the segment's top 3 categories by engagement rate
    click_rate_exposure_only: Interval | None = None   # the categories the member was shown most
    click_rate_all: Interval | None = None

    @property
    def better_baseline(self) -> str:
        return "exposure_only" if self.exposure_only.estimate >= self.popularity.estimate else "popularity"

    def lift_over_better_baseline(self) -> float:
        """Hit rate at 3 over the better of popularity and exposure-only (1 = no better)."""
        best = max(self.popularity.estimate, self.exposure_only.estimate)
        return self.model.estimate / best if best > 0 else float("nan")

    def click_lift_over_better_baseline(self) -> float | None:
        if self.click_rate_model is None:
            return None
        best = max(self.click_rate_popularity.estimate, self.click_rate_exposure_only.estimate)
        return self.click_rate_model.estimate / best if best > 0 else None

    def as_dict(self) -> dict:
        out = {"members": self.members, "model": self.model.as_dict(), "popularity": self.popularity.as_dict(),
               "exposure_only": self.exposure_only.as_dict(), "own_history": self.own_history.as_dict(),
               "better_baseline": self.better_baseline, "lift_over_better_baseline": self.lift_over_better_baseline()}
        if self.click_rate_model is not None:
            out["per_impression"] = {
                "model": self.click_rate_model.as_dict(), "popularity": self.click_rate_popularity.as_dict(),
                "exposure_only": self.click_rate_exposure_only.as_dict(), "all": self.click_rate_all.as_dict(),
                "lift_over_better_baseline": self.click_lift_over_better_baseline()}
        return out


def _top_k_click_rate(ranking: pd.DataFrame, clicks: pd.DataFrame, impressions: pd.DataFrame) -> Interval:
    """Held-out clicks per impression in each member's top TOP_K categories of `ranking`."""
    order = np.argsort(-ranking.to_numpy(float), axis=1, kind="stable")[:, :TOP_K]
    top = np.zeros(ranking.shape, bool)
    np.put_along_axis(top, order, True, axis=1)
    return wilson(float(clicks.to_numpy()[top].sum()), float(impressions.to_numpy()[top].sum()))


def evaluate_held_out(engagement: pd.DataFrame, members: pd.DataFrame, categories: list[str]) -> AffinityCheck:
    """Fit on the weeks before the split, score hit rate at 3 on the held-out weeks."""
    trained = fit(engagement, members, categories, which="train")
    relevant = engagement.pivot_table(index="member_id", columns="category", values="held_out_engagements",
                                      aggfunc="sum").reindex(index=members.member_id, columns=categories).fillna(0) > 0
    index = relevant.index
    expected = trained.matrix("expected_engagement", 0.0).reindex(index).fillna(0.0)
    frame = engagement.merge(members[["member_id", "segment"]], on="member_id")
    raw = frame.assign(engaged=frame.train_raw_clicks + frame.train_raw_conversions)
    popularity = raw.groupby("category").engaged.sum().reindex(categories).fillna(0).to_numpy(float)
    # A tiny popularity term breaks ties (members with no history) the same way for every ranking.
    tie = 1e-9 * popularity / max(popularity.max(), 1.0)
    rate = frame.groupby(["segment", "category"]).apply(
        lambda g: (g.train_clicks.sum() + g.train_conversions.sum()) / max(g.train_impressions.sum(), 1e-9),
        include_groups=False).rename("rate")
    exposure = frame.join(rate, on=["segment", "category"]).assign(value=lambda f: f.train_impressions * f.rate)
    exposure_only = exposure.pivot_table(index="member_id", columns="category", values="value", aggfunc="sum") \
        .reindex(index=index, columns=categories).fillna(0.0)
    own = raw.pivot_table(index="member_id", columns="category", values="engaged", aggfunc="sum") \
        .reindex(index=index, columns=categories).fillna(0.0)
    hits = relevant.to_numpy()
    per_impression = {}
    if "held_out_impressions" in engagement:
        shown = engagement.pivot_table(index="member_id", columns="category", values="held_out_impressions",
                                       aggfunc="sum").reindex(index=index, columns=categories).fillna(0)
        clicked = engagement.pivot_table(index="member_id", columns="category", values="held_out_clicks",
                                         aggfunc="sum").reindex(index=index, columns=categories).fillna(0)
        score = trained.matrix("score", 1.0).reindex(index).fillna(1.0)
        segment_of = members.set_index("member_id").segment.reindex(index)
        segment_rate = rate.unstack("category").reindex(index=segment_of.to_numpy(), columns=categories).fillna(0.0)
        segment_rate.index = index
        per_impression = dict(
            click_rate_model=_top_k_click_rate(score + tie, clicked, shown),
            click_rate_popularity=_top_k_click_rate(segment_rate + tie, clicked, shown),
            click_rate_exposure_only=_top_k_click_rate(exposure_only + tie, clicked, shown),
            click_rate_all=wilson(float(clicked.to_numpy().sum()), float(shown.to_numpy().sum())))
    return AffinityCheck(
        int(hits.any(axis=1).sum()),
        hit_rate_at_k(expected.to_numpy() + tie, hits, TOP_K),
        hit_rate_at_k(np.tile(popularity, (len(index), 1)), hits, TOP_K),
        hit_rate_at_k(exposure_only.to_numpy() + tie, hits, TOP_K),
        hit_rate_at_k(own.to_numpy() + tie, hits, TOP_K), **per_impression)
