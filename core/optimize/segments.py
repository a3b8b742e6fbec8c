"""Behavioural segments: k-means on each member's recency, frequency and monetary value, open
rate, and channel and category mix; the number of clusters chosen by the silhouette score;
each segment named after what sets it apart, and kept (key and name) across retrains by
matching the new centroids to the previous run's.

Features (standardised; the channel and category blocks are down-weighted by √(block size) so
each block weighs about as much as one RFM feature):
- recency: days since the member last engaged (opened, clicked or converted), capped;
- frequency: log(1 + clicks and conversions); monetary: log(1 + revenue); open rate;
- channel mix: share of the member's opens per channel (sends where there were no opens);
- category mix: share of clicks and conversions per category, smoothed toward everyone's.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

K_RANGE = range(3, 9)
SILHOUETTE_SAMPLE = 3000
MATCH_DISTANCE = 1.5          # in standardised units: farther than this is a new segment
# A retrain keeps the previous number of segments unless another count separates the members
# clearly better: silhouettes within this margin are noise of the sample (0.20-0.23 on the demo),
# and a count that flips on noise renames segments under the managers who use them.
K_SWITCH_MARGIN = 0.02
# A count whose smallest segment holds less than this share of the members is not chosen: a
# segment of a few dozen members is nothing a manager can target, and its silhouette is noise.
MIN_SEGMENT_SHARE = 0.02
CATEGORY_SMOOTHING = 1.0      # pseudo-engagements spread like everyone's
RFM = ["recency_days", "frequency", "monetary", "open_rate"]


@dataclass
class SegmentFit:
    labels: pd.Series             # segment_key by member_id
    profiles: pd.DataFrame        # segment_key, name, members, profile (dict), centroid (raw units)
    feature_names: list[str]
    k: int
    silhouette: dict              # k -> silhouette score
    matched: int                  # segments that kept their key from the previous run


def member_features(activity: pd.DataFrame, member_ids: np.ndarray, as_of, cap_days: float) -> pd.DataFrame:
    """One row per member with the features above (members with no activity are included)."""
    frame = activity.copy()
    engaged = frame.groupby("member_id").agg(last=("last_engaged_at", "max"), sends=("sends", "sum"),
                                             opens=("opens", "sum"), clicks=("clicks", "sum"),
                                             conversions=("conversions", "sum"), revenue=("revenue", "sum"))
    engaged = engaged.reindex(member_ids)
    out = pd.DataFrame(index=pd.Index(member_ids, name="member_id"))
    last = pd.to_datetime(engaged["last"], utc=True)
    out["recency_days"] = ((pd.Timestamp(as_of) - last).dt.total_seconds() / 86400).clip(lower=0, upper=cap_days).fillna(cap_days)
    out["frequency"] = np.log1p((engaged.clicks.fillna(0) + engaged.conversions.fillna(0)).astype(float))
    out["monetary"] = np.log1p(engaged.revenue.fillna(0).astype(float))
    out["open_rate"] = (engaged.opens.fillna(0) / engaged.sends.where(engaged.sends > 0)).fillna(0).astype(float)
    channels = sorted(frame.channel.dropna().unique())
    opens = frame.pivot_table(index="member_id", columns="channel", values="opens", aggfunc="sum") \
        .reindex(index=member_ids, columns=channels).fillna(0)
    sends = frame.pivot_table(index="member_id", columns="channel", values="sends", aggfunc="sum") \
        .reindex(index=member_ids, columns=channels).fillna(0)
    mix = opens.where(np.repeat(opens.sum(axis=1).to_numpy()[:, None] > 0, len(channels), axis=1), sends)
    mix = mix.div(mix.sum(axis=1).where(mix.sum(axis=1) > 0), axis=0).fillna(0)
    for channel in channels:
        out[f"channel:{channel}"] = mix[channel].to_numpy()
    categories = sorted(frame.category.dropna().unique())
    engagement = frame.assign(e=frame.clicks + frame.conversions).pivot_table(
        index="member_id", columns="category", values="e", aggfunc="sum").reindex(member_ids).fillna(0)
    overall = engagement.sum(axis=0)
    overall = overall / max(overall.sum(), 1.0)
    smoothed = (engagement + CATEGORY_SMOOTHING * overall).div(engagement.sum(axis=1) + CATEGORY_SMOOTHING, axis=0)
    for category in categories:
        out[f"category:{category}"] = smoothed[category].to_numpy() if category in smoothed else 0.0
    return out


def _weights(names: list[str]) -> np.ndarray:
    blocks = {"channel": sum(n.startswith("channel:") for n in names),
              "category": sum(n.startswith("category:") for n in names)}
    return np.array([1 / np.sqrt(blocks[n.split(":")[0]]) if ":" in n else 1.0 for n in names])


def fit(features: pd.DataFrame, previous: pd.DataFrame | None = None, seed: int = 0, progress=None) -> SegmentFit:
    """Cluster members; `previous`: the last run's profiles (segment_key, name, centroid, and
    profile['features'] naming the centroid's columns) to keep keys and names stable."""
    say = progress or (lambda fraction, message: None)
    names = list(features.columns)
    raw = features.to_numpy(float)
    mean, std = raw.mean(axis=0), raw.std(axis=0)
    std[std == 0] = 1.0
    weights = _weights(names)
    z = (raw - mean) / std * weights
    rng = np.random.default_rng(seed)
    sample = rng.choice(len(z), min(SILHOUETTE_SAMPLE, len(z)), replace=False)
    previous_z = _previous_centroids(previous, names, mean, std, weights)
    scores, too_small = {}, {}
    for i, k in enumerate(K_RANGE):
        if k >= len(sample):
            break
        # the previous run's count is judged by its own segments (started from its centroids):
        # the question is whether the old structure still fits, not a fresh random start's luck.
        # If on this sample the old structure leaves a segment too small to target (the full fit
        # can keep a small cluster of outliers that the sample barely holds), the count is judged
        # from a fresh start, as in a first run: else the count the last run chose would be ruled
        # out on the same data, and every key after it renumbered.
        starts = ([previous_z] if previous_z is not None and len(previous_z) == k else []) + ["k-means++"]
        for start in starts:
            labels = KMeans(n_clusters=k, n_init=1 if isinstance(start, np.ndarray) else 2, init=start,
                            random_state=seed).fit_predict(z[sample])
            score = float(silhouette_score(z[sample], labels))
            if np.bincount(labels, minlength=k).min() >= MIN_SEGMENT_SHARE * len(sample):
                scores[k] = score
                break
            too_small[k] = max(score, too_small.get(k, score))  # a segment too small to target
        say((i + 1) / (len(K_RANGE) + 1), f"segments: k = {k}, silhouette {score:.3f}")
    scores = scores or too_small
    k = max(scores, key=scores.get)
    if previous_z is not None and len(previous_z) in scores and scores[k] - scores[len(previous_z)] < K_SWITCH_MARGIN:
        k = len(previous_z)
    init = previous_z if previous_z is not None and len(previous_z) == k else "k-means++"
    model = KMeans(n_clusters=k, n_init=1 if isinstance(init, np.ndarray) else 4, init=init, random_state=seed).fit(z)
    keys, names_by_cluster, matched = _stable_keys(model.cluster_centers_, previous, previous_z)
    centroids_raw = model.cluster_centers_ / weights * std + mean
    labels = pd.Series(np.array(keys)[model.labels_], index=features.index, name="segment_key")
    # Profiles describe the members themselves (means in natural units), not the centroids.
    natural = features.assign(frequency=np.expm1(features.frequency), monetary=np.expm1(features.monetary))
    overall = natural.mean(axis=0)
    spread = natural.std(axis=0).replace(0, 1.0)
    means = natural.groupby(model.labels_).mean()
    rows = []
    for cluster, key in enumerate(keys):
        centre = pd.Series(centroids_raw[cluster], index=names)
        profile = _profile(means.loc[cluster], overall, spread)
        rows.append({"segment_key": int(key), "name": names_by_cluster[cluster] or _name(profile),
                     "members": int((model.labels_ == cluster).sum()), "profile": profile,
                     "centroid": centre.round(6).tolist()})
    profiles = pd.DataFrame(rows).sort_values("segment_key").reset_index(drop=True)
    profiles["name"] = _unique(profiles.name.tolist())
    say(1.0, f"segments: {k} behavioural segments")
    return SegmentFit(labels, profiles, names, k, scores, matched)


def _previous_centroids(previous, names, mean, std, weights):
    if previous is None or previous.empty:
        return None
    rows = []
    for row in previous.itertuples():
        old_names = row.profile.get("features", [])
        centre = pd.Series(row.centroid, index=old_names).reindex(names)
        if centre.isna().any():
            return None  # the features changed (e.g. a new channel): start afresh
        rows.append(((centre.to_numpy(float) - mean) / std) * weights)
    return np.array(rows)


def _stable_keys(centres, previous, previous_z):
    """Match new clusters to the previous run's (Hungarian, on centroid distance)."""
    k = len(centres)
    keys, names = [None] * k, [None] * k
    matched = 0
    if previous_z is not None:
        distance = np.linalg.norm(centres[:, None, :] - previous_z[None, :, :], axis=2)
        rows, cols = linear_sum_assignment(distance)
        for r, c in zip(rows, cols):
            if distance[r, c] <= MATCH_DISTANCE:
                keys[r] = int(previous.segment_key.iloc[c])
                names[r] = str(previous.name.iloc[c])
                matched += 1
    next_key = (int(previous.segment_key.max()) + 1) if previous is not None and not previous.empty else 1
    for i in range(k):
        if keys[i] is None:
            keys[i] = next_key
            next_key += 1
    return keys, names, matched


def _profile(mean: pd.Series, overall: pd.Series, spread: pd.Series) -> dict:
    """A segment's members on average (recency in days, clicks + conversions, revenue in USD,
    open rate, channel and category shares) and how far each is from everyone (z)."""
    z = (mean - overall) / spread
    channels = {n.split(":", 1)[1]: float(mean[n]) for n in mean.index if n.startswith("channel:")}
    categories = {n.split(":", 1)[1]: float(mean[n]) for n in mean.index if n.startswith("category:")}
    lift = lambda key: {k: (v / overall[f"{key}:{k}"] if overall[f"{key}:{k}"] > 0 else 1.0)
                        for k, v in (channels if key == "channel" else categories).items()}
    return {
        "recency_days": float(mean.recency_days), "frequency": float(mean.frequency),
        "monetary": float(mean.monetary), "open_rate": float(mean.open_rate),
        "z": {k: float(z[k]) for k in RFM}, "channels": channels, "categories": categories,
        "channel_lift": lift("channel"), "category_lift": lift("category"), "features": list(mean.index),
    }


def _name(profile: dict) -> str:
    """Named by what sets the segment apart: activity, then value or engagement, then the
    channel and category it leans to most (relative to everyone)."""
    z = profile["z"]
    activity = "Dormant" if z["recency_days"] > 1.0 else ("Recent" if z["recency_days"] < -0.2 else "Lapsing")
    if z["monetary"] > 0.4:
        value = "big spenders"
    elif z["frequency"] > 0.3 or z["open_rate"] > 0.3:
        value = "engaged browsers"
    elif z["open_rate"] < -0.5:
        value = "non-openers"
    else:
        value = "occasional buyers"
    channel = max(profile["channel_lift"], key=profile["channel_lift"].get) if profile["channel_lift"] else ""
    category = max(profile["category_lift"], key=profile["category_lift"].get) if profile["category_lift"] else ""
    parts = [f"{activity} {value}"]
    if channel:
        parts.append(f"{channel.replace('_', '-')}-leaning")
    if category:
        parts.append(category)
    return " · ".join(parts)


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out
