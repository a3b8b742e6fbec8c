"""The analysts' summary-statistics calculator: variant rows pasted as text (counts and sums per
variant) analysed exactly as the tracker analyses a test — same engine, same verdict, same
predicted-winner probability, same sample-ratio check."""
from __future__ import annotations

from dataclasses import dataclass
from io import StringIO

import numpy as np
import pandas as pd

from core.experiments import stats, verdicts
from core.experiments.results import DEFAULT_METHOD, best_arm_probability

CALCULATOR_COLUMNS = ["variant", "n", "sum"]


def parse_pasted(text: str) -> pd.DataFrame:
    """Variant rows pasted as CSV (or tab-separated from a spreadsheet): variant, n, sum and
    optionally sum_squares and weight; the first row is the control."""
    text = (text or "").strip()
    if not text:
        raise ValueError("Paste one line per variant: variant, n, sum[, sum_squares][, weight] — header first.")
    separator = "\t" if "\t" in text.splitlines()[0] else ","
    try:
        frame = pd.read_csv(StringIO(text), sep=separator, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise ValueError(f"The pasted text is not a table: {error}") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in CALCULATOR_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"Missing column(s) {', '.join(missing)}; the header must name variant, n, sum "
                         f"(and optionally sum_squares, weight). Found: {', '.join(frame.columns)}.")
    unknown = [c for c in frame.columns if c not in CALCULATOR_COLUMNS + ["sum_squares", "weight"]]
    if unknown:
        raise ValueError(f"Unknown column(s) {', '.join(unknown)}; use variant, n, sum, sum_squares, weight.")
    if len(frame) < 2:
        raise ValueError("Give at least two variants: the control (first line) and a treatment.")
    frame["variant"] = frame.variant.astype(str).str.strip()
    for column in [c for c in frame.columns if c != "variant"]:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = frame.variant[values.isna()].tolist()
        if bad:
            raise ValueError(f"Column {column} is not a number for variant(s) {', '.join(bad)}.")
        frame[column] = values.astype(float)
    return frame


@dataclass
class CalculatorResult:
    analysis: pd.DataFrame
    srm_p_value: float
    srm_detected: bool
    best_probability: pd.Series
    verdict: str


def calculate(frame: pd.DataFrame, metric: str = "binomial", method: str = DEFAULT_METHOD,
              difference: str = "relative", alpha: float = 0.05,
              needed_per_arm: int | None = None) -> CalculatorResult:
    """The tracker's analysis of pasted summary statistics (first row = control)."""
    if metric not in ("binomial", "mean"):
        raise ValueError("metric must be 'binomial' (0/1 per unit) or 'mean'.")
    if metric == "mean" and "sum_squares" not in frame:
        raise ValueError("A mean metric needs a sum_squares column (the sum over units of the squared value).")
    control = str(frame.variant.iloc[0])
    weights = frame["weight"].to_numpy(float) if "weight" in frame else np.ones(len(frame))
    srm = stats.srm_check(frame.n.to_numpy(float), weights)
    analysis = stats.analyze(frame.drop(columns="weight", errors="ignore"), metric=metric, control=control,
                             method=method, difference=difference, alpha=alpha,
                             correction=None if method == "bayesian" or len(frame) < 3 else "holm")
    best = best_arm_probability(frame, metric, True)
    decision = verdicts.from_engine(stats.verdict(analysis, srm_detected=srm.srm_detected, needed_per_arm=needed_per_arm))
    if "reason" in analysis:  # the engine leaves it empty where there is a number
        analysis = analysis.assign(reason=analysis.reason.where(analysis.reason.notna(), ""))
    if srm.srm_detected:
        best = best.iloc[0:0]  # with a broken split no arm's chance means anything
    return CalculatorResult(analysis, srm.p_value, srm.srm_detected, best, decision.text)
