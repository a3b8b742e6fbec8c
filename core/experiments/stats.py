"""A/B test statistics engine: pure, vectorised functions over per-variant summary statistics.

Owns: turning per-variant sums into effect estimates, intervals, p-values,
Bayesian chance-to-win and risk; multiple-comparison adjustment; one-sided
guardrail checks; and the plain-words verdict shown in the UI.
Does not own: the sample-ratio mismatch test (:mod:`core.experiments.srm`) or
sample-size planning (:mod:`core.experiments.power`); both are re-exported here
so that callers need a single import.  No I/O, no database, no UI code.

Input
-----
A DataFrame with one row per variant (and per comparison, see below)::

    variant, n, sum, sum_squares                 # every metric (sum_squares optional for binomial)
    den_sum, den_sum_squares, sum_product        # metric="ratio": denominator sums, sum(num * den)
    pre_sum, pre_sum_squares, pre_sum_product    # cuped=True: pre-period sums, sum(metric * pre)
    comparison                                   # optional: many comparisons in one call
    (any other column, e.g. a test id named by ``correction_by``)

Everything is computed on numpy arrays over all treatment rows at once; a
``comparison`` column (any hashable key, e.g. ``"test42/revenue"``) lets a
single call analyse thousands of experiments: the control is looked up inside
each comparison group.

Conventions (as GrowthBook's gbstats)
-------------------------------------
* binomial variance p(1 - p); mean metrics use the sample variance (n - 1);
* frequentist: Welch's t with Welch-Satterthwaite degrees of freedom;
* relative lift (mean_t - mean_c) / |mean_c| with the delta-method variance
  var_t/(n_t mean_c^2) + mean_t^2 var_c/(n_c mean_c^4) (dividing by |mean_c|
  keeps the sign of the lift equal to the sign of the difference when a metric
  such as profit has a negative control mean);
* ratio metrics: delta-method variance of sum/den_sum per arm;
* CUPED: theta = cov(metric, pre) / var(pre) from the pooled sums of both arms;
  each arm's mean is adjusted to mean - theta (pre_mean - pooled_pre_mean) and
  its variance to var + theta^2 var_pre - 2 theta cov, after which absolute and
  relative differences follow the same formulas as without CUPED;
* every p-value is computed with the same variance and distribution as its
  interval, so ``p_value < alpha`` exactly when the interval excludes 0 - for
  relative and absolute differences, two- and one-sided, and all methods.

Where this engine does better than the usual ones
-------------------------------------------------
* p-values come from log survival functions, so a huge effect reports a tiny
  positive p (floored at the smallest normal double, 2.2e-308) and
  ``p_value_log10`` keeps the exact order of magnitude beyond that;
* a binomial arm with 0 % or 100 % conversion has zero plug-in variance, which
  would give a zero-width interval.  For such an arm (and only for its
  variance) we use the Agresti-Coull-style pseudo-counts p~ = (sum + 1)/(n + 2),
  so the absolute difference still gets an honest, non-degenerate interval;
  the point estimate stays the raw rate;
* a relative lift with a zero control mean is NaN with an explanation in the
  ``reason`` column instead of a crash or an infinite lift;
* one-sided guardrail bounds are placed on the harmful side (see
  :func:`guardrail_check`);
* impossible input raises ``ValueError`` naming the variant, the problem and
  the fix.

Sequential testing
------------------
Asymptotic confidence sequences (Waudby-Smith et al. 2021; Howard et al. 2021,
normal mixture) in GrowthBook's parametrisation, with N = ``sequential_tuning``::

    rho(alpha)   = sqrt((-2 log alpha + log(-2 log alpha + 1)) / N)
    half_width   = se * sqrt(n) * sqrt(2 (n rho^2 + 1) / (n^2 rho^2) * log(sqrt(n rho^2 + 1) / alpha))
    n            = n_control + n_treatment

The half-width shrinks monotonically as alpha grows, so the sequences are
nested and the always-valid p-value - the smallest alpha whose sequence
excludes 0 - is found by a vectorised bisection on log(alpha).  It does not
depend on the ``alpha`` argument and ``p_value < alpha`` iff the reported
sequence excludes 0.  The mixture boundary is two-sided; one-sided sequential
bounds reuse the two-sided sequence at the same alpha (conservative).

Bayesian
--------
Gaussian model of the effect (estimate, se) with a flat prior by default, or a
normal prior on the **relative** lift: ``prior={"mean": 0.0, "variance": 0.3**2}``
(or a :class:`NormalPrior`).  For ``difference="absolute"`` the prior is scaled
by the control mean (mean * |mean_c|, variance * mean_c^2).  Reported:
``chance_to_win`` = P(effect > 0); ``risk_treatment`` = E[max(0, -effect)], the
expected loss of shipping the treatment; ``risk_control`` = E[max(0, effect)],
the expected loss of keeping the control; ``ci_low``/``ci_high`` the
equal-tailed credible interval.  Losses are in the units of ``difference``.

Multiple comparisons
--------------------
``analyze(correction="holm"|"bh")`` adjusts p-values within the family of all
treatment rows of the call (or within groups of the input column named by
``correction_by``).  Only ``adjusted_p_value`` and ``significant_adjusted``
change; intervals, ``p_value`` and ``significant`` stay unadjusted.  Leave
guardrail metrics out of the family (call :func:`guardrail_check` for them).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from core.experiments.power import achieved_power, expected_days, required_sample_size
from core.experiments.srm import SrmResult, srm_check

__all__ = [
    "NormalPrior",
    "analyze",
    "guardrail_check",
    "adjust_p_values",
    "verdict",
    "srm_check",
    "SrmResult",
    "required_sample_size",
    "achieved_power",
    "expected_days",
]

METRICS = ("binomial", "mean", "ratio")
METHODS = ("frequentist", "sequential", "bayesian")
DIFFERENCES = ("relative", "absolute")
ALTERNATIVES = ("two-sided", "greater", "less")
CORRECTIONS = (None, "holm", "bh")

# p-values are floored here instead of underflowing to 0; p_value_log10 keeps the real size.
SMALLEST_REPORTED_P_VALUE = np.finfo(float).tiny
# Below this, scipy's t.logsf loses accuracy and then returns -inf; switch to the tail expansion.
_LOG_SF_ASYMPTOTIC_BELOW = -690.0
# Beyond this many degrees of freedom the t distribution is the normal one to double precision.
_DF_TREATED_AS_NORMAL = 1e12
_BISECTION_STEPS = 64

_BASE_COLUMNS = ("variant", "n", "sum")
_RATIO_COLUMNS = ("den_sum", "den_sum_squares", "sum_product")
_CUPED_COLUMNS = ("pre_sum", "pre_sum_squares", "pre_sum_product")


@dataclass(frozen=True)
class NormalPrior:
    """Normal prior on the relative lift, e.g. ``NormalPrior(mean=0.0, variance=0.3**2)``."""

    mean: float = 0.0
    variance: float = 0.3**2


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def analyze(
    variants: pd.DataFrame,
    metric: str = "binomial",
    control: object = "control",
    method: str = "frequentist",
    difference: str = "relative",
    alpha: float = 0.05,
    cuped: bool = False,
    sequential_tuning: float = 5000,
    prior: Mapping[str, float] | NormalPrior | None = None,
    correction: str | None = None,
    *,
    alternative: str = "two-sided",
    correction_by: str | None = None,
) -> pd.DataFrame:
    """Compare every treatment variant with its control; one result row per treatment.

    Parameters
    ----------
    variants:
        Summary statistics, one row per variant (see the module docstring).
    metric:
        ``"binomial"`` (0/1 conversions), ``"mean"`` (any per-unit value) or
        ``"ratio"`` (sum / den_sum, e.g. revenue per click).
    control:
        Value of the ``variant`` column that marks the control arm (within each
        ``comparison`` group when that column is present).
    method:
        ``"frequentist"`` (fixed horizon, Welch t), ``"sequential"`` (always-valid
        confidence sequences) or ``"bayesian"`` (Gaussian posterior).
    difference:
        ``"relative"`` lift or ``"absolute"`` difference, treatment minus control.
    alpha:
        Error rate; intervals have coverage 1 - alpha.
    cuped:
        Regression-adjust with the pre-period columns (binomial and mean metrics).
    sequential_tuning:
        N, the total sample size at which the confidence sequence is tightest.
    prior:
        Bayesian only: ``None`` (flat) or a normal prior on the relative lift,
        ``{"mean": m, "variance": v}`` or :class:`NormalPrior`.
    correction:
        ``None``, ``"holm"`` or ``"bh"`` (Benjamini-Hochberg); adds
        ``adjusted_p_value`` and ``significant_adjusted``.
    alternative:
        ``"two-sided"``, ``"greater"`` (H1: effect > 0, interval ``[ci_low, inf)``)
        or ``"less"`` (H1: effect < 0, interval ``(-inf, ci_high]``).
    correction_by:
        Optional input column whose values define separate correction families
        (e.g. a test id); default: all rows of the call form one family.

    Returns
    -------
    DataFrame with, per treatment row: ``[comparison,] variant, method,
    difference, n_control, n_treatment, control_mean, treatment_mean, estimate,
    se, ci_low, ci_high, significant, reason`` plus
    ``df, p_value, p_value_log10`` (frequentist), ``p_value, p_value_log10``
    (sequential), ``chance_to_win, risk_control, risk_treatment`` (bayesian),
    ``adjusted_p_value, significant_adjusted`` (with a correction) and
    ``cuped_theta`` (with CUPED).  ``reason`` is missing (NaN) when the row
    could be analysed and otherwise says why its numbers are NaN.
    ``control_mean``/``treatment_mean`` are CUPED-adjusted when ``cuped``.

    Raises
    ------
    ValueError
        For unknown options, missing columns, a comparison without a control
        row, and impossible statistics (n <= 0, sum > n for a binomial,
        negative variance, ...).  The message names the variant and the fix.
    """
    _check_options(metric, method, difference, alpha, cuped, sequential_tuning, correction, alternative)
    prior = _parse_prior(prior, method)
    table = _VariantTable.from_frame(variants, metric, cuped, correction_by)
    control_rows, treatment_rows = _pair_with_control(table, control)

    arms = _arm_moments(table, metric)
    control_arm = arms.take(control_rows)
    treatment_arm = arms.take(treatment_rows)
    theta = None
    if cuped:
        control_arm, treatment_arm, theta = _cuped_adjust(table, control_arm, treatment_arm, control_rows, treatment_rows)

    effect = _effect(control_arm, treatment_arm, difference)

    result: dict[str, object] = {}
    if table.comparison is not None:
        result["comparison"] = table.comparison[treatment_rows]
    result.update(
        variant=table.variant[treatment_rows],
        method=method,
        difference=difference,
        n_control=_as_counts(control_arm.n),
        n_treatment=_as_counts(treatment_arm.n),
        control_mean=control_arm.mean,
        treatment_mean=treatment_arm.mean,
    )
    if method == "frequentist":
        result.update(_frequentist(effect, alpha, alternative))
    elif method == "sequential":
        result.update(_sequential(effect, control_arm.n + treatment_arm.n, alpha, sequential_tuning, alternative))
    else:
        result.update(_bayesian(effect, alpha, alternative, prior))

    if correction is not None:
        family = None if correction_by is None else table.extra[correction_by][treatment_rows]
        adjusted = adjust_p_values(result["p_value"], method=correction, groups=family)
        result["adjusted_p_value"] = adjusted
        result["significant_adjusted"] = adjusted < alpha
    if theta is not None:
        result["cuped_theta"] = theta
    result["reason"] = pd.array(effect.reason, dtype="str")  # NaN where the row is fine
    return pd.DataFrame(result)


def guardrail_check(
    variants: pd.DataFrame,
    metric: str = "binomial",
    control: object = "control",
    margin: float = 0.0,
    higher_is_better: bool = True,
    method: str = "frequentist",
    difference: str = "relative",
    alpha: float = 0.05,
    **analyze_options,
) -> pd.DataFrame:
    """One-sided guardrail test: "the metric must not get worse by more than ``margin``".

    ``margin`` (>= 0) is in the units of ``difference`` (0.02 = a 2 % relative
    drop).  "Worse" is a drop when ``higher_is_better`` and a rise otherwise.
    Two one-sided (1 - alpha) bounds are reported:

    * ``harm_bound`` - the bound on the harmful side (lower bound of the change
      when higher is better, upper bound otherwise): the worst change still
      compatible with the data;
    * ``best_case_bound`` - the bound on the other side: the mildest change
      still compatible with the data.

    ``guardrail_status`` is ``"safe"`` when even the worst case is within the
    margin (non-inferiority shown), ``"breached"`` when even the best case is
    worse than the margin (harm beyond the margin shown), otherwise
    ``"inconclusive"``.  ``breached`` / ``non_inferior`` are the booleans.
    Extra keyword arguments (``cuped``, ``prior``, ``sequential_tuning``) are
    passed to :func:`analyze`.
    """
    if not margin >= 0:
        raise ValueError(
            f"guardrail margin must be >= 0 (the tolerated worsening, in units of the {difference} "
            f"difference), got {margin}."
        )
    if "alternative" in analyze_options or "correction" in analyze_options:
        raise ValueError("guardrail_check sets the one-sided alternative itself and does not correct p-values.")
    common = dict(metric=metric, control=control, method=method, difference=difference, alpha=alpha, **analyze_options)
    upper_open = analyze(variants, alternative="greater", **common)  # [ci_low, inf)
    lower_open = analyze(variants, alternative="less", **common)  # (-inf, ci_high]

    result = upper_open.drop(columns=["ci_low", "ci_high", "p_value", "p_value_log10", "df", "significant"], errors="ignore")
    lower_bound = upper_open["ci_low"].to_numpy()
    upper_bound = lower_open["ci_high"].to_numpy()
    if higher_is_better:
        harm_bound, best_case_bound = lower_bound, upper_bound
        non_inferior = harm_bound > -margin
        breached = best_case_bound < -margin
    else:
        harm_bound, best_case_bound = upper_bound, lower_bound
        non_inferior = harm_bound < margin
        breached = best_case_bound > margin
    result["harm_bound"] = harm_bound
    result["best_case_bound"] = best_case_bound
    result["margin"] = margin
    result["higher_is_better"] = higher_is_better
    result["guardrail_status"] = np.select(
        [np.isnan(harm_bound), breached, non_inferior], ["inconclusive", "breached", "safe"], "inconclusive"
    )
    result["breached"] = breached
    result["non_inferior"] = non_inferior
    return result


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
        if missing > 0 and not (may_stop_early and significant.any()):
            return f"keep running — {missing:,} more members per arm needed"
    if wins.any():
        best = int(np.argmax(np.where(wins, direction * estimate, -np.inf)))
        return f"treatment {rows['variant'].iloc[best]} wins"
    if losses.any() and losses.sum() == len(rows):
        return "control wins — treatment is worse"
    return "no detectable difference"


# --------------------------------------------------------------------------------------
# Input: validation and pairing
# --------------------------------------------------------------------------------------


@dataclass
class _VariantTable:
    """The input frame as float arrays, validated, plus labels for error messages."""

    variant: np.ndarray
    comparison: np.ndarray | None
    columns: dict[str, np.ndarray]
    extra: dict[str, np.ndarray]

    def label(self, row: int) -> str:
        name = f"variant {self.variant[row]!r}"
        if self.comparison is not None:
            name += f" (comparison {self.comparison[row]!r})"
        return name

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, metric: str, cuped: bool, correction_by: str | None) -> _VariantTable:
        if not isinstance(frame, pd.DataFrame):
            raise ValueError(f"variants must be a pandas DataFrame with one row per variant, got {type(frame).__name__}.")
        required = list(_BASE_COLUMNS)
        if metric != "binomial":
            required.append("sum_squares")
        if metric == "ratio":
            required += _RATIO_COLUMNS
        if cuped:
            required += _CUPED_COLUMNS
        if correction_by is not None:
            required.append(correction_by)
        missing = [column for column in required if column not in frame.columns]
        if missing:
            raise ValueError(
                f"variants is missing column(s) {missing} needed for metric={metric!r}"
                f"{' with cuped=True' if cuped else ''}; it has {list(frame.columns)}."
            )
        if len(frame) == 0:
            raise ValueError("variants is empty: need at least a control row and a treatment row.")

        numeric = [c for c in required if c not in ("variant", correction_by)]
        if "sum_squares" in frame.columns and "sum_squares" not in numeric:
            numeric.append("sum_squares")  # optional for binomial, but checked when given
        table = cls(
            variant=frame["variant"].to_numpy(dtype=object),
            comparison=frame["comparison"].to_numpy(dtype=object) if "comparison" in frame.columns else None,
            columns={},
            extra={correction_by: frame[correction_by].to_numpy(dtype=object)} if correction_by else {},
        )
        for column in numeric:
            try:
                values = pd.to_numeric(frame[column], errors="raise").to_numpy(dtype=float, na_value=np.nan)
            except (TypeError, ValueError) as error:
                raise ValueError(f"column {column!r} must be numeric: {error}") from None
            table._fail_where(
                ~np.isfinite(values),
                f"{column} is missing or not finite",
                lambda r, c=column, v=values: f"{c}={v[r]}",
                "fill in the summary statistic (0 is a valid value for a sum).",
            )
            table.columns[column] = values
        table._validate(metric, cuped)
        return table

    def _fail_where(self, bad: np.ndarray, problem: str, describe, fix: str) -> None:
        """Raise one ValueError listing (up to five of) the rows where ``bad`` holds."""
        if not bad.any():
            return
        rows = np.flatnonzero(bad)
        listed = "; ".join(f"{self.label(r)}: {describe(r)}" for r in rows[:5])
        more = f"; and {rows.size - 5} more row(s)" if rows.size > 5 else ""
        raise ValueError(f"{problem} — {listed}{more}. Fix: {fix}")

    def _validate(self, metric: str, cuped: bool) -> None:
        n, total = self.columns["n"], self.columns["sum"]
        self._fail_where(
            n <= 0, "n must be positive", lambda r: f"n={n[r]:g}",
            "a variant with no units cannot be analysed; drop the row or wait until it has traffic.",
        )
        if metric == "binomial":
            self._fail_where(
                (total < 0) | (total > n), "binomial sum must be between 0 and n",
                lambda r: f"sum={total[r]:g}, n={n[r]:g}",
                "sum counts converting units (each unit 0 or 1); for other values use metric='mean'.",
            )
            if "sum_squares" in self.columns:
                squares = self.columns["sum_squares"]
                self._fail_where(
                    ~np.isclose(squares, total, rtol=1e-9, atol=1e-9),
                    "binomial sum_squares must equal sum (0/1 values square to themselves)",
                    lambda r: f"sum={total[r]:g}, sum_squares={squares[r]:g}",
                    "for non-0/1 values use metric='mean'.",
                )
        else:
            self._check_second_moment("sum", "sum_squares")
        if metric == "ratio":
            self._check_second_moment("den_sum", "den_sum_squares")
            self._check_cross_moment("sum", "sum_squares", "den_sum", "den_sum_squares", "sum_product")
        if cuped:
            squares = "sum_squares" if "sum_squares" in self.columns else "sum"  # binomial: x^2 = x
            self._check_second_moment("pre_sum", "pre_sum_squares")
            self._check_cross_moment("sum", squares, "pre_sum", "pre_sum_squares", "pre_sum_product")

    def _centered(self, sum_x: str, sum_y: str, sum_xy: str) -> np.ndarray:
        """n * sum(xy) - sum(x) sum(y): n (n - 1) times the sample covariance."""
        n = self.columns["n"]
        return n * self.columns[sum_xy] - self.columns[sum_x] * self.columns[sum_y]

    def _check_second_moment(self, sum_column: str, squares_column: str) -> None:
        n, total, squares = self.columns["n"], self.columns[sum_column], self.columns[squares_column]
        spread = self._centered(sum_column, sum_column, squares_column)
        # Rounding in the database can make a zero variance slightly negative; allow for it.
        tolerance = 1e-9 * np.maximum(n * np.abs(squares), total**2) + 1e-12
        self._fail_where(
            (squares < 0) | (spread < -tolerance),
            f"{squares_column} is too small for {sum_column}: it implies a negative variance",
            lambda r: f"n={n[r]:g}, {sum_column}={total[r]:g}, {squares_column}={squares[r]:g} "
            f"(need {squares_column} >= {sum_column}^2/n = {total[r] ** 2 / n[r]:g})",
            f"{squares_column} must be the sum over units of the squared value, not the square of the sum.",
        )

    def _check_cross_moment(self, sum_x: str, squares_x: str, sum_y: str, squares_y: str, product: str) -> None:
        """Cauchy-Schwarz: a covariance can be no larger than the two standard deviations allow."""
        covariance = self._centered(sum_x, sum_y, product)
        spread_x = np.maximum(self._centered(sum_x, sum_x, squares_x), 0)
        spread_y = np.maximum(self._centered(sum_y, sum_y, squares_y), 0)
        scale = self.columns["n"] * np.abs(self.columns[product]) + np.abs(self.columns[sum_x] * self.columns[sum_y])
        tolerance = 1e-9 * scale**2 + 1e-12
        self._fail_where(
            covariance**2 > spread_x * spread_y + tolerance,
            f"{product} is inconsistent with {squares_x} and {squares_y}: it implies a correlation beyond ±1",
            lambda r: f"{product}={self.columns[product][r]:g}",
            f"{product} must be the sum over units of the per-unit product of the values behind "
            f"{sum_x} and {sum_y}, over the same units.",
        )


def _pair_with_control(table: _VariantTable, control: object) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of (control, treatment) for every treatment row, matched within comparisons."""
    if table.comparison is None:
        group = np.zeros(table.variant.size, dtype=np.int64)
        group_names = np.array([None], dtype=object)
    else:
        group, group_names = pd.factorize(table.comparison, use_na_sentinel=False)
    is_control = table.variant == control
    if not isinstance(is_control, np.ndarray):  # comparing with an unhashable / odd object
        is_control = np.array([v == control for v in table.variant], dtype=bool)
    is_control = is_control.astype(bool)

    keys = pd.DataFrame({"group": group, "variant": table.variant})
    duplicated = keys.duplicated(keep=False).to_numpy()
    table._fail_where(
        duplicated, "each variant may appear once per comparison", lambda r: "duplicate row",
        "aggregate the rows first, or add a 'comparison' column that tells the analyses apart.",
    )

    controls_per_group = np.bincount(group[is_control], minlength=len(group_names))
    lacking = np.flatnonzero(controls_per_group == 0)
    if lacking.size:
        where = "" if table.comparison is None else f" in comparison {group_names[lacking[0]]!r}"
        present = sorted(map(str, pd.unique(table.variant[group == lacking[0]])))
        more = f" (and {lacking.size - 1} more comparison(s))" if lacking.size > 1 else ""
        raise ValueError(
            f"no control row{where}{more}: expected a variant named {control!r}, found {present}. "
            "Fix: pass control=<the name of your control variant>."
        )
    control_row_of_group = np.empty(len(group_names), dtype=np.int64)
    control_row_of_group[group[is_control]] = np.flatnonzero(is_control)
    treatment_rows = np.flatnonzero(~is_control)
    if treatment_rows.size == 0:
        raise ValueError(f"only control rows ({control!r}) were given: need at least one treatment variant to compare.")
    return control_row_of_group[group[treatment_rows]], treatment_rows


# --------------------------------------------------------------------------------------
# Per-arm moments, CUPED, effect size
# --------------------------------------------------------------------------------------


@dataclass
class _Arms:
    """Per-arm sample size, mean and per-unit variance (so var(mean) = variance / n)."""

    n: np.ndarray
    mean: np.ndarray
    variance: np.ndarray
    reason: np.ndarray  # object array: None or why this arm cannot be analysed

    def take(self, rows: np.ndarray) -> _Arms:
        return _Arms(self.n[rows], self.mean[rows], self.variance[rows], self.reason[rows])


def _sample_variance(n: np.ndarray, total: np.ndarray, squares: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.maximum((squares - total * total / n) / (n - 1), 0.0)


def _sample_covariance(n: np.ndarray, sum_x: np.ndarray, sum_y: np.ndarray, sum_xy: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return (sum_xy - sum_x * sum_y / n) / (n - 1)


def _arm_moments(table: _VariantTable, metric: str) -> _Arms:
    columns = table.columns
    n, total = columns["n"], columns["sum"]
    reason = np.full(n.size, None, dtype=object)
    reason[n < 2] = "fewer than 2 units in an arm: the variance cannot be estimated"

    if metric == "binomial":
        rate = total / n
        variance = rate * (1 - rate)
        # 0 % or 100 % conversion: plug-in variance is 0, which would claim certainty.
        # Use add-one-success-one-failure pseudo-counts for the variance only.
        degenerate = (total == 0) | (total == n)
        smoothed = (total + 1) / (n + 2)
        variance = np.where(degenerate, smoothed * (1 - smoothed), variance)
        return _Arms(n, rate, variance, reason)

    if metric == "mean":
        return _Arms(n, total / n, _sample_variance(n, total, columns["sum_squares"]), reason)

    # Ratio metric sum / den_sum: delta-method variance of the ratio of two means.
    numerator_mean = total / n
    denominator_mean = columns["den_sum"] / n
    var_numerator = _sample_variance(n, total, columns["sum_squares"])
    var_denominator = _sample_variance(n, columns["den_sum"], columns["den_sum_squares"])
    covariance = _sample_covariance(n, total, columns["den_sum"], columns["sum_product"])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = numerator_mean / denominator_mean
        variance = (var_numerator - 2 * ratio * covariance + ratio**2 * var_denominator) / denominator_mean**2
    zero_denominator = denominator_mean == 0
    reason[zero_denominator & (reason == None)] = "denominator sum is zero: the ratio is undefined"  # noqa: E711
    return _Arms(n, np.where(zero_denominator, np.nan, ratio), np.maximum(variance, 0.0), reason)


def _cuped_adjust(table, control_arm, treatment_arm, control_rows, treatment_rows):
    """Regression-adjust both arms of every pair with theta pooled over the pair."""
    columns = table.columns

    def pooled(values: np.ndarray) -> np.ndarray:
        return values[control_rows] + values[treatment_rows]

    n_pair = pooled(columns["n"])
    pre_variance = _sample_variance(n_pair, pooled(columns["pre_sum"]), pooled(columns["pre_sum_squares"]))
    covariance = _sample_covariance(n_pair, pooled(columns["sum"]), pooled(columns["pre_sum"]), pooled(columns["pre_sum_product"]))
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = np.where(pre_variance > 0, covariance / pre_variance, 0.0)
    pooled_pre_mean = pooled(columns["pre_sum"]) / n_pair

    def adjust(arm: _Arms, rows: np.ndarray) -> _Arms:
        n = columns["n"][rows]
        pre_mean = columns["pre_sum"][rows] / n
        arm_pre_variance = _sample_variance(n, columns["pre_sum"][rows], columns["pre_sum_squares"][rows])
        arm_covariance = _sample_covariance(n, columns["sum"][rows], columns["pre_sum"][rows], columns["pre_sum_product"][rows])
        variance = arm.variance + theta**2 * arm_pre_variance - 2 * theta * arm_covariance
        mean = arm.mean - theta * (pre_mean - pooled_pre_mean)
        return _Arms(arm.n, mean, np.maximum(variance, 0.0), arm.reason)

    return adjust(control_arm, control_rows), adjust(treatment_arm, treatment_rows), theta


@dataclass
class _Effect:
    estimate: np.ndarray
    se: np.ndarray
    df: np.ndarray
    relative_to_effect_units: np.ndarray  # 1 for relative differences, |control mean| for absolute
    reason: np.ndarray


def _effect(control: _Arms, treatment: _Arms, difference: str) -> _Effect:
    """Point estimate, standard error and Welch degrees of freedom of the difference."""
    with np.errstate(divide="ignore", invalid="ignore"):
        var_control_mean = control.variance / control.n
        var_treatment_mean = treatment.variance / treatment.n
        var_sum = var_control_mean + var_treatment_mean
        df = var_sum**2 / (var_treatment_mean**2 / (treatment.n - 1) + var_control_mean**2 / (control.n - 1))
        if difference == "absolute":
            estimate = treatment.mean - control.mean
            variance = var_sum
        else:
            estimate = (treatment.mean - control.mean) / np.abs(control.mean)
            variance = var_treatment_mean / control.mean**2 + treatment.mean**2 * var_control_mean / control.mean**4
    se = np.sqrt(variance)

    reason = np.where(control.reason == None, treatment.reason, control.reason)  # noqa: E711
    open_rows = reason == None  # noqa: E711
    if difference == "relative":
        zero_control = open_rows & (control.mean == 0)
        reason[zero_control] = "control mean is zero: relative lift is undefined; use difference='absolute'"
        open_rows &= ~zero_control
    no_variation = open_rows & ~(se > 0)
    reason[no_variation] = "no variation in either arm: the standard error is zero"

    undefined = reason != None  # noqa: E711
    nan_where_undefined = lambda values: np.where(undefined, np.nan, values)  # noqa: E731
    return _Effect(
        estimate=nan_where_undefined(estimate),
        se=nan_where_undefined(se),
        df=nan_where_undefined(df),
        relative_to_effect_units=np.ones_like(estimate) if difference == "relative" else np.abs(control.mean),
        reason=reason,
    )


# --------------------------------------------------------------------------------------
# Inference: frequentist, sequential, Bayesian
# --------------------------------------------------------------------------------------


def _log_t_sf(x: np.ndarray, df: np.ndarray) -> np.ndarray:
    """log P(T > x) for Student's t, accurate far into the tail (no -inf for finite x).

    scipy's t.logsf underflows to -inf once the survival function drops below
    ~1e-308.  There we use the two-term Laplace expansion of the tail integral,
        sf(x) ~ pdf(x) * [(df + x^2)/((df + 1) x) + (x^2 - df)(df + x^2)/((df + 1)^2 x^3)],
    whose relative error is O(x^-4) - far below 1e-6 at such x.
    """
    x, df = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(df, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_sf = np.where(df > _DF_TREATED_AS_NORMAL, stats.norm.logsf(x), stats.t.logsf(x, df))
        deep_tail = (log_sf < _LOG_SF_ASYMPTOTIC_BELOW) & (x > 0) & np.isfinite(x)
        if deep_tail.any():
            xt, nu = x[deep_tail], df[deep_tail]
            normal = nu > _DF_TREATED_AS_NORMAL
            log_sf = log_sf.copy()
            log_sf[deep_tail] = np.where(normal, stats.norm.logsf(xt), _log_t_sf_tail(xt, np.where(normal, 1.0, nu)))
    return log_sf


def _log_t_sf_tail(x: np.ndarray, df: np.ndarray) -> np.ndarray:
    """Two-term Laplace expansion of log P(T > x) for large positive x (see :func:`_log_t_sf`)."""
    spread = df + x * x
    tail_factor = spread / ((df + 1) * x) + (x * x - df) * spread / ((df + 1) ** 2 * x**3)
    return stats.t.logpdf(x, df) + np.log(tail_factor)


def _p_from_log(log_p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(p, log10 p) from natural-log p; p is floored at the smallest normal double."""
    log_p = np.minimum(log_p, 0.0) + 0.0  # + 0.0 turns -0.0 into 0.0
    p = np.maximum(np.exp(log_p), SMALLEST_REPORTED_P_VALUE)
    return np.where(np.isnan(log_p), np.nan, p), log_p / np.log(10)


def _frequentist(effect: _Effect, alpha: float, alternative: str) -> dict[str, np.ndarray]:
    est, se, df = effect.estimate, effect.se, effect.df
    with np.errstate(divide="ignore", invalid="ignore"):
        t_stat = est / se
    one_sided = alternative != "two-sided"
    quantile = stats.t.isf(alpha if one_sided else alpha / 2, df)
    low, high = est - quantile * se, est + quantile * se
    if alternative == "two-sided":
        log_p = np.log(2.0) + _log_t_sf(np.abs(t_stat), df)
    elif alternative == "greater":
        log_p = _log_t_sf(t_stat, df)
        high = np.where(np.isnan(est), np.nan, np.inf)
    else:
        log_p = _log_t_sf(-t_stat, df)
        low = np.where(np.isnan(est), np.nan, -np.inf)
    p_value, p_log10 = _p_from_log(log_p)
    return dict(
        estimate=est, se=se, ci_low=low, ci_high=high, df=df,
        p_value=p_value, p_value_log10=p_log10, significant=p_value < alpha,
    )


def _confidence_sequence_multiplier(neg_log_alpha: np.ndarray, n: np.ndarray, tuning: float) -> np.ndarray:
    """Half-width of the asymptotic confidence sequence in units of se (GrowthBook's rho)."""
    rho_squared = (2 * neg_log_alpha + np.log1p(2 * neg_log_alpha)) / tuning
    u = n * rho_squared
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(2 * (u + 1) / u * (0.5 * np.log1p(u) + neg_log_alpha))


def _sequential(effect: _Effect, n_total: np.ndarray, alpha: float, tuning: float, alternative: str):
    est, se = effect.estimate, effect.se
    half_width = se * _confidence_sequence_multiplier(np.full(est.shape, -np.log(alpha)), n_total, tuning)
    low, high = est - half_width, est + half_width

    # Always-valid p-value: the alpha at which the half-width equals |estimate|.
    # The multiplier rises monotonically with -log(alpha) (nested sequences); at
    # -log(alpha) = z^2/2 it is at least |z|, which brackets the root.
    with np.errstate(divide="ignore", invalid="ignore"):
        abs_z = np.abs(est / se)
    defined = np.isfinite(abs_z)
    abs_z = np.where(defined, abs_z, 0.0)
    lower_bracket = np.zeros_like(abs_z)
    upper_bracket = abs_z**2 / 2
    for _ in range(_BISECTION_STEPS):
        middle = (lower_bracket + upper_bracket) / 2
        still_excludes_zero = _confidence_sequence_multiplier(middle, n_total, tuning) < abs_z
        lower_bracket = np.where(still_excludes_zero, middle, lower_bracket)
        upper_bracket = np.where(still_excludes_zero, upper_bracket, middle)
    neg_log_p = (lower_bracket + upper_bracket) / 2
    log_p = np.where(defined, -neg_log_p, np.nan)

    if alternative == "greater":
        log_p = np.where(est > 0, log_p, np.where(defined, 0.0, np.nan))
        high = np.where(np.isnan(est), np.nan, np.inf)
    elif alternative == "less":
        log_p = np.where(est < 0, log_p, np.where(defined, 0.0, np.nan))
        low = np.where(np.isnan(est), np.nan, -np.inf)
    p_value, p_log10 = _p_from_log(log_p)
    return dict(
        estimate=est, se=se, ci_low=low, ci_high=high,
        p_value=p_value, p_value_log10=p_log10, significant=p_value < alpha,
    )


def _expected_shortfall(x: np.ndarray) -> np.ndarray:
    """E[max(0, -Z - x)] for Z ~ N(0, 1) = phi(x) - x * (1 - Phi(x)); never negative."""
    return np.maximum(stats.norm.pdf(x) - x * stats.norm.sf(x), 0.0)


def _bayesian(effect: _Effect, alpha: float, alternative: str, prior: NormalPrior | None):
    mean, sd = effect.estimate, effect.se
    if prior is not None:
        # The prior is on the relative lift; rescale it to absolute units when needed.
        prior_mean = prior.mean * effect.relative_to_effect_units
        prior_variance = prior.variance * effect.relative_to_effect_units**2
        precision = 1 / sd**2 + 1 / prior_variance
        mean = (mean / sd**2 + prior_mean / prior_variance) / precision
        sd = np.sqrt(1 / precision)
    z = stats.norm.isf(alpha if alternative != "two-sided" else alpha / 2)
    low, high = mean - z * sd, mean + z * sd
    if alternative == "greater":
        high = np.where(np.isnan(mean), np.nan, np.inf)
    elif alternative == "less":
        low = np.where(np.isnan(mean), np.nan, -np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        standardized = mean / sd
    return dict(
        estimate=mean, se=sd, ci_low=low, ci_high=high,
        significant=(low > 0) | (high < 0),
        chance_to_win=stats.norm.cdf(standardized),
        risk_control=sd * _expected_shortfall(-standardized),
        risk_treatment=sd * _expected_shortfall(standardized),
    )


# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------


def _check_options(metric, method, difference, alpha, cuped, sequential_tuning, correction, alternative) -> None:
    for name, value, allowed in (
        ("metric", metric, METRICS),
        ("method", method, METHODS),
        ("difference", difference, DIFFERENCES),
        ("correction", correction, CORRECTIONS),
        ("alternative", alternative, ALTERNATIVES),
    ):
        if value not in allowed:
            raise ValueError(f"{name} must be one of {allowed}, got {value!r}.")
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise ValueError(f"alpha must be a number in (0, 1), got {alpha!r}.")
    if cuped and metric == "ratio":
        raise ValueError("cuped=True supports binomial and mean metrics; ratio metrics are analysed without CUPED.")
    if not sequential_tuning > 0:
        raise ValueError(f"sequential_tuning (expected total sample size N) must be positive, got {sequential_tuning!r}.")
    if correction is not None and method == "bayesian":
        raise ValueError("correction adjusts p-values; method='bayesian' has none. Use a frequentist or sequential method.")


def _parse_prior(prior, method: str) -> NormalPrior | None:
    if prior is None:
        return None
    if method != "bayesian":
        raise ValueError(f"prior is only used by method='bayesian' (got method={method!r}); drop the prior.")
    if isinstance(prior, Mapping):
        unknown = set(prior) - {"mean", "variance"}
        if unknown or "variance" not in prior:
            raise ValueError(f"prior must be {{'mean': m, 'variance': v}} on the relative lift, got {dict(prior)}.")
        prior = NormalPrior(mean=float(prior.get("mean", 0.0)), variance=float(prior["variance"]))
    if not isinstance(prior, NormalPrior) or not prior.variance > 0 or not np.isfinite(prior.mean):
        raise ValueError(f"prior needs a finite mean and a positive variance, got {prior!r}.")
    return prior


def _as_counts(n: np.ndarray) -> np.ndarray:
    """Unit counts as integers when they are whole numbers (they nearly always are)."""
    return n.astype(np.int64) if np.all(n == np.round(n)) else n


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
