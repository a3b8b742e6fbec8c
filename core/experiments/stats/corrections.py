"""Multiple comparisons: Holm and Benjamini-Hochberg adjusted p-values, within families."""

from __future__ import annotations

import numpy as np
import pandas as pd


def adjust_p_values(p_values, method: str = "holm", groups=None) -> np.ndarray:
    """Holm (family-wise error) or Benjamini-Hochberg (false discovery rate) adjusted p-values.

    ``p_values`` is any 1-D array-like; NaN entries stay NaN and are not
    counted in the family.  ``groups`` (same length, any hashable values)
    splits the p-values into independent families; default one family.
    Put every variant x metric decision of an experiment in the family and
    leave guardrails out.
    """
    if method not in ("holm", "bh"):
        raise ValueError(f"method must be 'holm' or 'bh', got {method!r}.")
    p = np.asarray(p_values, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"p_values must be 1-D, got shape {p.shape}.")
    if np.any((p < 0) | (p > 1)):
        raise ValueError("p-values must lie in [0, 1].")
    adjusted = np.full(p.shape, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    if valid.size == 0:
        return adjusted
    if groups is None:
        family = np.zeros(valid.size, dtype=np.int64)
    else:
        groups = np.asarray(groups, dtype=object)
        if groups.shape != p.shape:
            raise ValueError(f"groups must have one entry per p-value ({p.size}), got {groups.shape}.")
        family = pd.factorize(groups[valid], use_na_sentinel=False)[0]

    # Sort by family, then by p; rank is the 0-based position within the family.
    order = np.lexsort((p[valid], family))
    sorted_p = p[valid][order]
    sorted_family = family[order]
    family_size = np.bincount(sorted_family)
    family_start = np.concatenate(([0], np.cumsum(family_size)[:-1]))
    rank = np.arange(sorted_p.size) - family_start[sorted_family]
    size = family_size[sorted_family]
    by_family = pd.Series(sorted_family)

    if method == "holm":
        # (m - rank) * p, made monotone from the smallest p upwards.
        stepped = pd.Series(np.minimum(1.0, (size - rank) * sorted_p))
        monotone = stepped.groupby(by_family).cummax().to_numpy()
    else:
        # m / (rank + 1) * p, made monotone from the largest p downwards.
        stepped = pd.Series(np.minimum(1.0, size / (rank + 1) * sorted_p))
        reverse = slice(None, None, -1)
        monotone = stepped[reverse].groupby(by_family[reverse]).cummin().to_numpy()[reverse]
    adjusted[valid[order]] = monotone
    return adjusted
