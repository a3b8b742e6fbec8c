"""A retrain keeps the number of behavioural segments (and so their keys and names) unless
another number separates the members clearly better (core.optimize.segments.K_SWITCH_MARGIN)."""
import numpy as np
import pandas as pd

from core.optimize import segments

COLUMNS = ["recency_days", "frequency", "monetary", "open_rate"]


def blobs(centres: np.ndarray, per_blob: int, spread: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    points = np.vstack([c + rng.normal(0, spread, (per_blob, len(c))) for c in centres])
    return pd.DataFrame(points, columns=COLUMNS, index=pd.RangeIndex(len(points), name="member_id"))


def test_a_retrain_on_shapeless_data_keeps_the_previous_count():
    # one cloud: every count separates it about equally badly, so the count is noise
    cloud = blobs(np.zeros((1, 4)), 1500, 1.0, seed=1)
    first = segments.fit(cloud, seed=0)
    for seed in range(1, 4):
        again = segments.fit(cloud.sample(frac=0.9, random_state=seed), previous=first.profiles, seed=seed)
        best = max(again.silhouette, key=again.silhouette.get)
        assert again.k == first.k, (first.silhouette, again.silhouette)
        assert again.silhouette[best] - again.silhouette[again.k] < segments.K_SWITCH_MARGIN
        assert again.matched == first.k


def test_a_clearly_better_count_replaces_the_previous_one():
    centres = np.array([[0, 0, 0, 0], [8, 0, 0, 0], [0, 8, 0, 0], [0, 0, 8, 0], [0, 0, 0, 8]], dtype=float)
    five = blobs(centres, 500, 0.5, seed=2)
    first = segments.fit(five, seed=0)
    assert first.k == 5
    three = first.profiles.iloc[:3]                     # a previous run that found only three
    again = segments.fit(five, previous=three, seed=1)
    assert again.k == 5 and again.silhouette[5] - again.silhouette[3] >= segments.K_SWITCH_MARGIN
    assert again.matched == 3                          # the three it knew keep their keys
    assert set(three.segment_key) <= set(again.profiles.segment_key)


def test_a_segment_too_small_to_target_is_not_chosen():
    # four groups of 600 and a far-off handful of 20 (under MIN_SEGMENT_SHARE): k-means gives the
    # handful a cluster of its own from k = 4 on, but a segment of 20 members is nothing to target,
    # so the handful joins its nearest segment
    centres = np.array([[0, 0, 0, 0], [6, 0, 0, 0], [0, 6, 0, 0], [0, 0, 6, 0]], dtype=float)
    big = blobs(centres, 600, 0.6, seed=3)
    handful = blobs(np.array([[0, 0, 0, 20.0]]), 20, 0.3, seed=4)
    members = pd.concat([big, handful], ignore_index=True).rename_axis("member_id")
    fitted = segments.fit(members, seed=0)
    # (without the rule the best silhouette gives the handful a segment of its own)
    assert fitted.profiles.members.min() >= segments.MIN_SEGMENT_SHARE * len(members), fitted.profiles.members
    assert 3 <= fitted.k <= 4
