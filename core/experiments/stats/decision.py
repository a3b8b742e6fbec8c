"""The plain-words verdict shown in the UI, from the primary metric's result rows."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd


def verdict(
    results: pd.DataFrame | pd.Series | Mapping[str, object],
    *,
    srm_detected: bool = False,
    guardrails_breached: bool | Iterable[str] = False,
    needed_per_arm: float | None = None,
    higher_is_better: bool = True,
) -> str:
    """Plain-words decision for the UI from the primary metric's result row(s) of one test.

    Checked in this order: sample-ratio mismatch, breached guardrails (a bool,
    or the name(s) of the breached guardrails, e.g. the ``breached`` rows of
    :func:`guardrail_check`), not enough units yet (fixed-horizon
    and Bayesian results must reach ``needed_per_arm``; sequential results may
    stop early once significant), a significant winner, a significant loser,
    otherwise no detectable difference.  Uses ``significant_adjusted`` when the
    results carry a correction.
    """
    if srm_detected:
        return "sample ratio mismatch — do not trust the results"
    if isinstance(guardrails_breached, (bool, np.bool_)):
        breached_names: list[str] = []
        any_breached = bool(guardrails_breached)
    elif isinstance(guardrails_breached, str):
        breached_names = [guardrails_breached]
        any_breached = True
    else:
        breached_names = [str(name) for name in guardrails_breached]
        any_breached = bool(breached_names)
    if any_breached:
        return "guardrail breached" + (f": {', '.join(breached_names)}" if breached_names else "")

    rows = _as_frame(results)
    significant = rows["significant_adjusted"] if "significant_adjusted" in rows else rows["significant"]
    significant = significant.fillna(False).astype(bool).to_numpy()
    estimate = rows["estimate"].to_numpy(dtype=float)
    direction = 1.0 if higher_is_better else -1.0
    wins = significant & (direction * estimate > 0)
    losses = significant & (direction * estimate < 0)
    may_stop_early = bool((rows["method"] == "sequential").all()) if "method" in rows else False

    if needed_per_arm is not None:
        smallest_arm = float(np.minimum(rows["n_control"], rows["n_treatment"]).min())
        missing = math.ceil(needed_per_arm - smallest_arm)
        # A sequential test may stop early on a conclusion: a winner, or every treatment worse.
        # One arm significantly worse while the others are undecided is not one (it would read
        # as "no detectable difference" before the sample is there).
        concluded = wins.any() or (losses.any() and losses.sum() == len(rows))
        if missing > 0 and not (may_stop_early and concluded):
            return f"keep running — {missing:,} more members per arm needed"
    if wins.any():
        best = int(np.argmax(np.where(wins, direction * estimate, -np.inf)))
        return f"treatment {rows['variant'].iloc[best]} wins"
    if losses.any() and losses.sum() == len(rows):
        return "control wins — treatment is worse"
    return "no detectable difference"


def _as_frame(results) -> pd.DataFrame:
    if isinstance(results, pd.DataFrame):
        frame = results
    elif isinstance(results, pd.Series):
        frame = results.to_frame().T
    elif isinstance(results, Mapping):
        frame = pd.DataFrame([dict(results)])
    else:
        raise ValueError("verdict needs result row(s) from analyze(): a DataFrame, a Series or a dict.")
    if frame.empty:
        raise ValueError("verdict needs at least one result row.")
    return frame.reset_index(drop=True)
