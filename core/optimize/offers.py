"""Offer optimization per campaign and segment: for every candidate offer, the probability that
a send converts and the expected profit per send (revenue − reward cost − send cost), with a
90 % interval from a bootstrap over campaigns.

Model: two scikit-learn logistic regressions on member and offer features,

    P(click | send)        — how the offer and channel draw members in,
    P(conversion | click)  — how the reward converts them,

and P(conversion | send) is their product. Features: segment, segment × reward type (so each
segment can prefer percent or fixed cashback), channel, category, log reward value per reward
type, device, segment × category (members' favourite categories differ by segment, so the best
offer differs by audience). (Member–category affinity is not a feature: it is estimated from the same
conversions, so it would leak the outcome into the prediction.)
Rows are members' counts per campaign aggregated to feature cells (binomial weights), so the
fit is exact and fast. Offers are confounded with campaigns (one offer each), so intervals come
from refitting on campaigns resampled with replacement (the honest unit of replication).
Margins per offer use the revenue of real conversions in its category: percent rewards cost
value% of revenue, fixed ones min(value, revenue).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

BOOTSTRAP = 30
INTERVAL = (5, 95)
REGULARISATION_C = 1.0
MIN_IDENTIFIED_SHARE = 0.8  # a reward-type interval needs this share of the refits to identify it
MIN_SUPPORT_CONVERSIONS = 30  # an offer card needs this many conversions of its category and type in the segment
CELL_KEYS = ["campaign_id", "segment", "device"]


@dataclass
class FeatureSpace:
    segments: list[str]
    channels: list[str]
    categories: list[str]
    devices: list[str]

    def names(self) -> list[str]:
        return ([f"segment={s}" for s in self.segments] + [f"segment={s}×percent" for s in self.segments]
                + [f"channel={c}" for c in self.channels[1:]] + [f"category={c}" for c in self.categories[1:]]
                + [f"device={d}" for d in self.devices[1:]]
                + ["log percent value", "log fixed value"]
                + [f"segment={s}×category={c}" for s in self.segments for c in self.categories[1:]])

    def design(self, frame: pd.DataFrame) -> np.ndarray:
        """frame: segment, channel, category, reward_type, reward_value, device."""
        n = len(frame)
        segment = frame.segment.to_numpy()
        percent = (frame.reward_type.to_numpy() == "percent")
        value = np.log(np.maximum(frame.reward_value.to_numpy(float), 1e-6))
        columns = [(segment == s) for s in self.segments]
        columns += [(segment == s) & percent for s in self.segments]
        columns += [(frame.channel.to_numpy() == c) for c in self.channels[1:]]
        columns += [(frame.category.to_numpy() == c) for c in self.categories[1:]]
        columns += [(frame.device.to_numpy() == d) for d in self.devices[1:]]
        columns += [np.where(percent, value, 0.0), np.where(~percent, value, 0.0)]
        category = frame.category.to_numpy()
        columns += [(segment == s) & (category == c) for s in self.segments for c in self.categories[1:]]
        return np.column_stack([np.asarray(c, float) for c in columns]) if n else np.zeros((0, len(self.names())))


def _fit_binomial(x: np.ndarray, successes: np.ndarray, trials: np.ndarray, weights: np.ndarray | None = None):
    keep = trials > 0
    if weights is not None:
        keep &= weights > 0
    x, k, n = x[keep], successes[keep], trials[keep]
    w = np.ones(len(k)) if weights is None else weights[keep]
    k = np.minimum(k, n)
    # Weights rescaled to mean 1 with C scaled alike: the same objective, better conditioned.
    weight = np.r_[k * w, (n - k) * w]
    scale = max(weight.mean(), 1e-12)
    model = LogisticRegression(C=REGULARISATION_C * scale, solver="newton-cholesky", max_iter=200, tol=1e-8)
    model.fit(np.vstack([x, x]), np.r_[np.ones(len(k)), np.zeros(len(k))], sample_weight=weight / scale)
    return model


@dataclass
class OfferModel:
    space: FeatureSpace
    click: LogisticRegression
    convert: LogisticRegression
    boot_click: list
    boot_convert: list
    margin_draws: dict           # category -> revenue samples per draw (list of arrays), [0] = all data
    cells: pd.DataFrame
    # draws × segments: whether the draw's campaigns gave the segment clicks under both reward
    # types (otherwise its segment × percent coefficient is the penalty's 0, not an estimate)
    boot_identified: np.ndarray | None = None
    _margins: dict = field(default_factory=dict)  # (category, reward type, value) -> margin per draw

    def margins(self, offers: pd.DataFrame) -> np.ndarray:
        """(draws + 1) × offers: margin per conversion of each offer (category, reward_type,
        reward_value) in each draw, computed once per distinct offer terms."""
        out = []
        for row in offers[["category", "reward_type", "reward_value"]].itertuples(index=False):
            key = (row.category, row.reward_type, float(row.reward_value))
            if key not in self._margins:
                samples = self.margin_draws[row.category]
                self._margins[key] = np.array([margin_per_conversion(samples[min(b, len(samples) - 1)], row.reward_type,
                                                                     float(row.reward_value))
                                               for b in range(len(self.boot_click) + 1)])
            out.append(self._margins[key])
        return np.column_stack(out) if out else np.zeros((len(self.boot_click) + 1, 0))

    def supported(self, segment: str, offers: pd.DataFrame) -> np.ndarray:
        """Offers (category, reward_type) whose category and reward type this model has each
        seen converting in `segment` at least MIN_SUPPORT_CONVERSIONS times: for any other offer
        the prediction for the segment's audience would be an extrapolation from other segments'
        campaigns (whose members favour other categories), which the bootstrap cannot see."""
        mine = self.cells[self.cells.segment == segment]
        by_category = mine.groupby("category").conversions.sum()
        by_type = mine.groupby("reward_type").conversions.sum()
        return ((offers.category.map(by_category).fillna(0).to_numpy() >= MIN_SUPPORT_CONVERSIONS)
                & (offers.reward_type.map(by_type).fillna(0).to_numpy() >= MIN_SUPPORT_CONVERSIONS))

    def p_conversion(self, frame: pd.DataFrame, draw: int | None = None) -> np.ndarray:
        x = self.space.design(frame)
        click = self.click if draw is None else self.boot_click[draw]
        convert = self.convert if draw is None else self.boot_convert[draw]
        return click.predict_proba(x)[:, 1] * convert.predict_proba(x)[:, 1]

    def p_conversion_draws(self, frame: pd.DataFrame) -> np.ndarray:
        """(draws + 1) × rows: P(conversion | send) under the fit on all data (row 0) and under
        every bootstrap fit — one matrix product per stage instead of a call per model."""
        x = self.space.design(frame)
        clicks = [self.click] + self.boot_click
        converts = [self.convert] + self.boot_convert

        def probabilities(models) -> np.ndarray:
            weights = np.stack([m.coef_[0] for m in models])
            intercepts = np.array([m.intercept_[0] for m in models])
            return 1.0 / (1.0 + np.exp(-(weights @ x.T + intercepts[:, None])))

        return probabilities(clicks) * probabilities(converts)

    def coefficients(self) -> pd.DataFrame:
        """The fit's coefficients per feature, and each conversion coefficient's 90 % interval
        from the bootstrap refits' spread around it (_centred_interval: the refits of a
        regularised fit sit off the full fit, and a percentile interval could leave out its own
        estimate). A segment × percent coefficient is read only from refits whose campaigns gave
        that segment clicks under both reward types; with fewer than MIN_IDENTIFIED_SHARE of
        them its interval is missing (NaN): no claim."""
        names = self.space.names()
        out = pd.DataFrame({"feature": names, "click": self.click.coef_[0], "convert": self.convert.coef_[0]})
        boots = np.array([m.coef_[0] for m in self.boot_convert])
        if not len(boots):
            out["convert_low"], out["convert_high"] = np.nan, np.nan
            return out
        draws = np.vstack([self.convert.coef_[0], boots])
        if self.boot_identified is not None:
            for j, segment in enumerate(self.space.segments):
                column = names.index(f"segment={segment}×percent")
                identified = self.boot_identified[:, j]
                counted = identified if identified.mean() >= MIN_IDENTIFIED_SHARE else np.zeros_like(identified)
                draws[1:, column] = np.where(counted, draws[1:, column], np.nan)
        out["convert_low"], out["convert_high"] = _centred_interval(draws)
        return out

    def reward_type_effect(self) -> pd.DataFrame:
        """Per segment: the conversion odds ratio of percent over fixed cashback, with its 90 %
        interval (> 1: the segment prefers percent); low and high are NaN where the campaigns do
        not identify it (too few refits with clicks under both reward types): no claim."""
        coef = self.coefficients().set_index("feature")
        rows = []
        for s in self.space.segments:
            key = f"segment={s}×percent"
            rows.append({"segment": s, "odds_ratio_percent": float(np.exp(coef.loc[key, "convert"])),
                         "low": float(np.exp(coef.loc[key, "convert_low"])),
                         "high": float(np.exp(coef.loc[key, "convert_high"]))})
        return pd.DataFrame(rows)


def member_half(member_ids) -> np.ndarray:
    """0 or 1 per member, a fixed hash of the id (the cards' selection and estimation halves)."""
    x = (np.asarray(member_ids).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    return ((x >> np.uint64(61)) & np.uint64(1)).astype(int)


def training_cells(outcomes: pd.DataFrame, members: pd.DataFrame, campaigns: pd.DataFrame,
                   offers: pd.DataFrame) -> pd.DataFrame:
    """Sends, clicks and conversions per campaign × feature cell, each outcome with the offer it
    was earned under (outcomes.offer_id: core.optimize.inputs.offer_received)."""
    frame = outcomes.merge(members[["member_id", "segment", "device"]], on="member_id")
    frame = frame.merge(campaigns[["campaign_id", "channel"]], on="campaign_id")
    frame = frame.merge(offers[["offer_id", "category", "reward_type", "reward_value"]], on="offer_id")
    cells = frame.groupby(CELL_KEYS + ["channel", "category", "reward_type", "reward_value"], as_index=False)[
        ["sends", "clicks", "conversions"]].sum()
    cells["clicks"] = np.minimum(cells.clicks, cells.sends)
    cells["conversions"] = np.minimum(cells.conversions, cells.clicks)
    return cells


def fit(cells: pd.DataFrame, conversion_values: pd.DataFrame, segments, channels, categories, devices,
        bootstrap: int = BOOTSTRAP, seed: int = 0, progress=None) -> OfferModel:
    say = progress or (lambda fraction, message: None)
    space = FeatureSpace(sorted(segments), sorted(channels), sorted(categories), sorted(devices))
    x = space.design(cells)
    sends, clicks, conversions = (cells[c].to_numpy(float) for c in ("sends", "clicks", "conversions"))
    click = _fit_binomial(x, clicks, sends)
    convert = _fit_binomial(x, conversions, clicks)
    rng = np.random.default_rng(seed)
    campaign_ids = cells.campaign_id.unique()
    segment, percent = cells.segment.to_numpy(), cells.reward_type.to_numpy() == "percent"
    boot_click, boot_convert, identified = [], [], []
    for b in range(bootstrap):
        picked = pd.Series(rng.choice(campaign_ids, len(campaign_ids))).value_counts()
        weight = cells.campaign_id.map(picked).fillna(0).to_numpy(float)
        boot_click.append(_fit_binomial(x, clicks, sends, weight))
        boot_convert.append(_fit_binomial(x, conversions, clicks, weight))
        clicked = (weight > 0) & (clicks > 0)
        identified.append([(clicked & (segment == s) & percent).any() and (clicked & (segment == s) & ~percent).any()
                           for s in space.segments])
        say((b + 1) / bootstrap, f"offers: bootstrap fit {b + 1} of {bootstrap}")
    margin_draws = _revenue_draws(conversion_values, space.categories, bootstrap, rng)
    return OfferModel(space, click, convert, boot_click, boot_convert, margin_draws, cells,
                      boot_identified=np.array(identified, bool).reshape(len(identified), len(space.segments)))


def _revenue_draws(values: pd.DataFrame, categories, bootstrap: int, rng) -> dict:
    everything = values.revenue.to_numpy(float)
    out = {}
    for category in categories:
        own = values.loc[values.category == category, "revenue"].to_numpy(float)
        sample = own if len(own) >= 20 else everything
        if len(sample) == 0:
            sample = np.array([0.0])
        out[category] = [sample] + [rng.choice(sample, len(sample)) for _ in range(bootstrap)]
    return out


def reward_per_conversion(revenue_sample: np.ndarray, reward_type: str, reward_value: float) -> float:
    """Expected reward cost of one conversion: value % of revenue, or min(value, revenue)."""
    if reward_type == "percent":
        return float(np.mean(revenue_sample) * reward_value / 100.0)
    return float(np.mean(np.minimum(reward_value, revenue_sample)))


def margin_per_conversion(revenue_sample: np.ndarray, reward_type: str, reward_value: float) -> float:
    """Expected revenue − reward cost of one conversion of this offer."""
    return float(np.mean(revenue_sample)) - reward_per_conversion(revenue_sample, reward_type, reward_value)


def audience_groups(audience: pd.DataFrame) -> pd.DataFrame:
    """An audience (member_id, device, segment) counted by feature cell."""
    return audience.groupby(["segment", "device"], as_index=False).member_id.count().rename(columns={"member_id": "members"})


def _centred_interval(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 90 % interval of row 0 (the fit on all data) from the spread of the bootstrap refits
    (rows 1…) around their median: the refits of a regularised fit sit a little off the full
    fit, and a plain percentile interval could then leave out the estimate it is for. Refits
    left out (NaN) do not count; a column with none left has no interval (NaN)."""
    if len(values) < 2:
        return values[0], values[0]
    refits = values[1:]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column: no interval
        low, middle, high = np.nanpercentile(refits, [INTERVAL[0], 50, INTERVAL[1]], axis=0)
    return values[0] + (low - middle), values[0] + (high - middle)


def score_offers(model: OfferModel, campaign, offers: pd.DataFrame, groups: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Every candidate offer for one campaign's channel and audience (groups, see
    audience_groups): P(conversion | send) and
    profit per send with 90 % intervals, and the probability it beats the current offer.
    Also returns the profit per send of each offer in each draw (draws + 1 × offers; row 0 is
    the fit on all data), for the recommendation's impact interval."""
    grid = offers.merge(groups, how="cross").assign(channel=campaign.channel)
    draws = len(model.boot_click)
    p = model.p_conversion_draws(grid)
    weights = grid.members.to_numpy(float)
    offer_index, offer_ids = pd.factorize(grid.offer_id)
    total = np.bincount(offer_index, weights, len(offer_ids))
    p_offer = np.stack([np.bincount(offer_index, weights * row, len(offer_ids)) for row in p]) / np.maximum(total, 1)
    frame = offers.set_index("offer_id").loc[offer_ids]
    margins = model.margins(frame)
    profit = p_offer * margins - float(campaign.cost_per_send)
    current = np.flatnonzero(offer_ids == int(campaign.offer_id))
    if len(current):
        better = (profit[1:] > profit[1:, current[0]][:, None]).mean(axis=0) if draws else np.zeros(len(offer_ids))
    else:
        better = np.full(len(offer_ids), np.nan)
    low_p, high_p = _centred_interval(p_offer)
    low, high = _centred_interval(profit)
    return pd.DataFrame({
        "campaign_id": int(campaign.campaign_id), "offer_id": offer_ids.astype(int), "segment": campaign.segment,
        "is_current": offer_ids == int(campaign.offer_id),
        "p_conversion": p_offer[0], "p_low": low_p, "p_high": high_p,
        "profit_per_send": profit[0], "profit_low": low, "profit_high": high, "prob_better": better,
    }), profit


@dataclass(frozen=True)
class OfferCheck:
    """Leave-campaigns-out check: conversions per send predicted for campaigns the model never
    saw, against the baseline of the segment's average rate in the other campaigns."""
    folds: int
    cells: int
    model_error: float           # sends-weighted mean absolute error of conversions per send
    baseline_error: float
    model_log_loss: float
    baseline_log_loss: float

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def evaluate_held_out_campaigns(cells: pd.DataFrame, segments, channels, categories, devices, folds: int = 5) -> OfferCheck:
    space = FeatureSpace(sorted(segments), sorted(channels), sorted(categories), sorted(devices))
    by_campaign = cells.groupby(["campaign_id", "segment"], as_index=False)[["sends", "clicks", "conversions"]].sum()
    campaign_ids = cells.campaign_id.unique()
    folds = max(2, min(folds, len(campaign_ids)))
    predicted = pd.Series(np.nan, index=cells.index)
    baseline = pd.Series(np.nan, index=cells.index)
    for train_idx, test_idx in GroupKFold(n_splits=folds).split(cells, groups=cells.campaign_id):
        train, test = cells.iloc[train_idx], cells.iloc[test_idx]
        x = space.design(train)
        click = _fit_binomial(x, train.clicks.to_numpy(float), train.sends.to_numpy(float))
        convert = _fit_binomial(x, train.conversions.to_numpy(float), train.clicks.to_numpy(float))
        xt = space.design(test)
        predicted.iloc[test_idx] = click.predict_proba(xt)[:, 1] * convert.predict_proba(xt)[:, 1]
        rates = train.groupby("segment")[["conversions", "sends"]].sum()
        overall = train.conversions.sum() / max(train.sends.sum(), 1)
        segment_rate = (rates.conversions / rates.sends).reindex(test.segment).fillna(overall).to_numpy()
        baseline.iloc[test_idx] = segment_rate
    frame = cells.assign(predicted=predicted, baseline=baseline)
    grouped = frame.assign(pk=frame.predicted * frame.sends, bk=frame.baseline * frame.sends) \
        .groupby(["campaign_id", "segment"])[["sends", "conversions", "pk", "bk"]].sum()
    actual = grouped.conversions / grouped.sends
    weights = grouped.sends / grouped.sends.sum()

    def log_loss(p):
        p = np.clip(p.to_numpy(float), 1e-9, 1 - 1e-9)
        k, n = frame.conversions.to_numpy(float), frame.sends.to_numpy(float)
        return float(-(k * np.log(p) + (n - k) * np.log1p(-p)).sum() / n.sum())

    return OfferCheck(folds, len(by_campaign),
                      float((weights * (grouped.pk / grouped.sends - actual).abs()).sum()),
                      float((weights * (grouped.bk / grouped.sends - actual).abs()).sum()),
                      log_loss(frame.predicted), log_loss(frame.baseline))
