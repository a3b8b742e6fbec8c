"""Deterministic assignment of members to experiment variants.

A member's bucket is a hash of (test, member) mapped into [0, 1); variants own consecutive
slices of [0, 1) in their declared order, sized by weight. The same member always gets the
same variant; changing one variant's weight moves only the members on the slice borders
that move.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import numpy as np


def bucket(test_id: int, member_id: int) -> float:
    digest = hashlib.sha256(f"{int(test_id)}:{int(member_id)}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def _boundaries(weights: Mapping[str, float]) -> tuple[list[str], np.ndarray]:
    names = list(weights)
    values = np.array([float(weights[n]) for n in names])
    if len(names) < 2:
        raise ValueError("A test needs at least two variants.")
    if (values <= 0).any():
        raise ValueError("Every variant weight must be positive.")
    return names, np.cumsum(values / values.sum())


def assign(test_id: int, member_id: int, weights: Mapping[str, float]) -> str:
    """The variant of member_id in test_id, for variant weights {name: weight}."""
    names, edges = _boundaries(weights)
    index = int(np.searchsorted(edges, bucket(test_id, member_id), side="right"))
    return names[min(index, len(names) - 1)]


def assign_many(test_id: int, member_ids: Sequence[int], weights: Mapping[str, float]) -> np.ndarray:
    names, edges = _boundaries(weights)
    buckets = np.fromiter((bucket(test_id, m) for m in member_ids), dtype=float, count=len(member_ids))
    index = np.minimum(np.searchsorted(edges, buckets, side="right"), len(names) - 1)
    return np.asarray(names, dtype=object)[index]
