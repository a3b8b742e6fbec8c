"""Sample-ratio mismatch (SRM) check.

Owns one question: did the experiment assign units to its arms in the ratio it
was designed for?  A mismatch (for example 50.8 % / 49.2 % on a 50/50 split
with a million users) means assignment or logging is broken, and every effect
estimate from that experiment is suspect.

The test is Pearson's chi-square goodness of fit of the observed counts
against the design weights, with k - 1 degrees of freedom.  The conventional
alarm threshold is p < 0.001: SRM checks run on every experiment and on every
look, so a strict threshold keeps false alarms rare.

Pure functions only: no I/O, no database, no UI.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

SRM_P_VALUE_THRESHOLD = 0.001


@dataclass(frozen=True)
class SrmResult:
    """Outcome of :func:`srm_check`.

    For a single experiment (1-D counts) the fields are scalars / 1-D arrays;
    for many experiments at once (2-D counts, one row per experiment) each
    field has one entry per experiment.
    """

    p_value: float | np.ndarray
    chi2: float | np.ndarray
    dof: int
    expected: np.ndarray
    srm_detected: bool | np.ndarray


def srm_check(
    observed_counts: Sequence[float] | Mapping[str, float] | np.ndarray,
    weights: Sequence[float] | Mapping[str, float] | np.ndarray | None = None,
    threshold: float = SRM_P_VALUE_THRESHOLD,
) -> SrmResult:
    """Pearson chi-square test of observed arm sizes against design weights.

    Parameters
    ----------
    observed_counts:
        Units per arm.  A sequence, a mapping ``{variant: count}``, or a 2-D
        array with one experiment per row (vectorised over experiments).
    weights:
        Design traffic split, any positive scale (``[1, 1]`` == ``[0.5, 0.5]``).
        A mapping must have the same keys as ``observed_counts``.  Defaults to
        an equal split.  For 2-D counts, either one weight vector for all rows
        or one row of weights per experiment.
    threshold:
        ``srm_detected`` is ``p_value < threshold`` (default 0.001).

    Raises
    ------
    ValueError
        Negative or non-finite counts, no units at all, fewer than two arms,
        non-positive weights, or weights that do not match the arms.
    """
    counts, design = _as_arrays(observed_counts, weights)
    totals = counts.sum(axis=-1, keepdims=True)
    if np.any(totals <= 0):
        raise ValueError(
            "srm_check: an experiment has no units in any arm; there is nothing to "
            "check yet. Run the check once traffic has arrived."
        )
    shares = design / design.sum(axis=-1, keepdims=True)
    expected = totals * shares
    chi2 = ((counts - expected) ** 2 / expected).sum(axis=-1)
    dof = counts.shape[-1] - 1
    p_value = stats.chi2.sf(chi2, dof)
    detected = p_value < threshold
    if counts.ndim == 1:
        return SrmResult(
            p_value=float(p_value), chi2=float(chi2), dof=dof,
            expected=expected, srm_detected=bool(detected),
        )
    return SrmResult(p_value=p_value, chi2=chi2, dof=dof, expected=expected, srm_detected=detected)


def _as_arrays(observed_counts, weights) -> tuple[np.ndarray, np.ndarray]:
    """Validate inputs and return (counts, weights) as float arrays of matching shape."""
    if isinstance(observed_counts, Mapping):
        arm_names = list(observed_counts)
        counts = np.asarray([observed_counts[name] for name in arm_names], dtype=float)
        if isinstance(weights, Mapping):
            missing = set(arm_names) ^ set(weights)
            if missing:
                raise ValueError(
                    f"srm_check: weights and observed counts name different arms "
                    f"({sorted(map(str, missing))}); give one weight per observed arm."
                )
            weights = [weights[name] for name in arm_names]
    else:
        counts = np.asarray(observed_counts, dtype=float)
        if isinstance(weights, Mapping):
            raise ValueError(
                "srm_check: weights is a mapping but observed_counts is not; pass both "
                "as mappings keyed by variant, or both as sequences in the same order."
            )
    if counts.ndim not in (1, 2) or counts.shape[-1] < 2:
        raise ValueError(
            f"srm_check: need counts for at least two arms (got shape {counts.shape}); "
            "pass one count per arm, or a 2-D array with one experiment per row."
        )
    if not np.all(np.isfinite(counts)) or np.any(counts < 0):
        raise ValueError(
            "srm_check: observed counts must be finite and non-negative "
            f"(got {counts.tolist()}); check the query that counts units per arm."
        )
    design = np.ones(counts.shape[-1]) if weights is None else np.asarray(weights, dtype=float)
    if design.shape[-1] != counts.shape[-1] or design.ndim > counts.ndim:
        raise ValueError(
            f"srm_check: {design.shape[-1]} weights for {counts.shape[-1]} arms; "
            "give exactly one design weight per arm."
        )
    if not np.all(np.isfinite(design)) or np.any(design <= 0):
        raise ValueError(
            f"srm_check: design weights must be positive (got {design.tolist()}); an arm "
            "with zero planned traffic should not be in the check."
        )
    return counts, np.broadcast_to(design, counts.shape)
